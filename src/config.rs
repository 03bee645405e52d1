//! Settings from flags and `LANDBANK_*` environment variables (flags win).

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

/// landbank — land inside industrial zones: inventory, occupancy, OGC API - Features.
///
/// Start the demo:   landbank serve --demo        then open http://127.0.0.1:8080/
/// Occupancy:        curl 'http://127.0.0.1:8080/occupancy?province_code=VN-56'
#[derive(Debug, Parser)]
#[command(name = "landbank", version, about, long_about)]
pub struct Cli {
    /// Database: a SQLite file path (created if missing), sqlite://PATH, or postgres://USER@HOST:PORT/DB
    /// for PostgreSQL/PostGIS (pool size from LANDBANK_DB_POOL, default 16).
    #[arg(long, global = true, env = "LANDBANK_DATABASE", default_value = "landbank.db")]
    pub database: String,

    /// Do not apply migrations at start-up (read-only replicas; run `landbank migrate` on the primary).
    #[arg(long, global = true, env = "LANDBANK_SKIP_MIGRATIONS")]
    pub skip_migrations: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (migrations are applied first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo dataset (five provinces) into an empty database and exit.
    Demo,
    /// Write the board's report for a province (or, without --province, the national view).
    ///
    /// Examples:
    ///   landbank report --province VN-56 --at 2023-11-17 --format md
    ///   landbank report --province VN-66 --at 2022-03-31 --format html --out hung-yen-2022q1.html
    ///   landbank report --format csv --lang en            (every province, today)
    Report(ReportArgs),
}

/// Thresholds of the reports' regulatory checks (defaults: the 60 % rule boards apply).
#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// A province may add a new zone when its established zones' occupancy reaches this, %.
    #[arg(long, env = "LANDBANK_RULE_NEW_ZONE_PCT", default_value_t = 60.0)]
    pub rule_new_zone_pct: f64,
    /// A zone may expand when its own occupancy reaches this, %.
    #[arg(long, env = "LANDBANK_RULE_EXPANSION_PCT", default_value_t = 60.0)]
    pub rule_expansion_pct: f64,
    /// Whether an expansion also needs the zone's central wastewater plant to operate.
    #[arg(long, env = "LANDBANK_RULE_EXPANSION_NEEDS_WWTP", default_value_t = true, action = clap::ArgAction::Set)]
    pub rule_expansion_needs_wwtp: bool,
}

impl RuleArgs {
    pub fn rules(&self) -> crate::report::Rules {
        crate::report::Rules {
            new_zone_min_occupancy_pct: self.rule_new_zone_pct,
            expansion_min_occupancy_pct: self.rule_expansion_pct,
            expansion_requires_wwtp: self.rule_expansion_needs_wwtp,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Json,
    Csv,
    Md,
    Html,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Province code (ISO 3166-2:VN, e.g. VN-56 for Bắc Ninh); omit for the national view.
    #[arg(long)]
    pub province: Option<String>,
    /// Report date, YYYY-MM-DD (default: today in Vietnam). Targets are those of its year.
    #[arg(long, value_parser = crate::domain::parse_date)]
    pub at: Option<crate::domain::Date>,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// Language of Markdown, HTML and charts: vi or en.
    #[arg(long, default_value = "vi")]
    pub lang: crate::report::Lang,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "LANDBANK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Load the demo dataset first when the database holds no zones.
    #[arg(long, env = "LANDBANK_DEMO")]
    pub demo: bool,
    /// Directory of the map page, served at /maps/ (its node_modules hold MapLibre: npm ci --prefix maps).
    #[arg(long, env = "LANDBANK_MAPS_DIR", default_value = "maps")]
    pub maps_dir: std::path::PathBuf,
    /// Raster basemap for the map page, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (none: plain).
    #[arg(long, env = "LANDBANK_BASEMAP")]
    pub basemap: Option<String>,
    /// Public base URL used in links (behind a proxy), e.g. https://landbank.example.org.
    #[arg(long, env = "LANDBANK_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub rules: RuleArgs,
}
