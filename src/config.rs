//! Settings from flags and `LANDBANK_*` environment variables (flags win).
//!
//! The doc comments of the flags are the command line's `--help` text, written for a terminal
//! (`vn2000:<province>`, bare URLs), not for rustdoc.
#![allow(rustdoc::invalid_html_tags, rustdoc::bare_urls)]

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

/// landbank — land inside industrial zones: inventory, occupancy, OGC API - Features.
///
/// Start the demo:   landbank serve --demo        then open http://127.0.0.1:8080/
/// Occupancy:        curl 'http://127.0.0.1:8080/occupancy?province_code=VN-56'
#[derive(Debug, Parser)]
#[command(name = "landbank", version, about, long_about, verbatim_doc_comment)]
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
    /// Examples (docx, xlsx and pdf are files: the format may come from --out's extension):
    ///   landbank report --province VN-56 --at 2023-11-17 --format md
    ///   landbank report --province VN-66 --at 2022-03-31 --format html --out hung-yen-2022q1.html
    ///   landbank report --format csv --lang en            (every province, today)
    ///   landbank report --province VN-56 --at 2023-11-17 --out bac-ninh-2023.docx
    #[command(verbatim_doc_comment)]
    Report(ReportArgs),
    /// Import a file (Shapefile, GeoPackage, KML/KMZ, GeoJSON, DXF, DGN, FlatGeobuf, CSV…) through GDAL.
    ///
    /// Every feature is checked first; with problems nothing is written (see --dry-run, --fix).
    /// Examples:
    ///   landbank import zones.gpkg --collection zones
    ///   landbank import LO_DAT.shp --collection plots --srs vn2000:bac-ninh --map code=SO_HIEU --set zone_code=BN-QV1
    ///   landbank import thua.shp --collection clearance_parcels --encoding CP1258 --dry-run
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),
    /// Export a collection to a file through GDAL: GeoPackage, Shapefile, KML, GeoJSON, FlatGeobuf, CSV, DXF.
    ///
    /// Vietnamese text is kept (Shapefiles in UTF-8 with a .cpg); the file appears only when complete.
    /// Examples:
    ///   landbank export --collection plots --format gpkg --out plots.gpkg
    ///   landbank export --collection plots --format shp --out LO_DAT.shp --srs vn2000:bac-ninh --filter zone_code=BN-QV1
    ///   landbank export --collection leases --format csv --out thue_2020.csv --at 2020-12-31 --filter province_code=VN-56
    #[command(verbatim_doc_comment)]
    Export(ExportArgs),
    /// API tokens: `landbank token create --role planner --name "Phòng Quy hoạch"` prints the new token
    /// on its last line (only its SHA-256 is stored); `token list`; `token revoke ID|NAME`.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Coordinate systems: `landbank crs list` shows every province's VN-2000 TM-3 preset.
    Crs {
        #[command(subcommand)]
        command: CrsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token; it is printed once, on the last line. Roles: viewer (public fields), planner (every
    /// field, writes), admin (also tokens and the audit log).
    Create {
        #[arg(long, value_enum)]
        role: crate::auth::Role,
        /// Who holds it (shown as the actor in history and the audit log), e.g. an office or a person.
        #[arg(long)]
        name: String,
    },
    /// List tokens: id, name, role, created, revoked (never the secret).
    List,
    /// Revoke a token by its id (from `token list`) or name; it stops working at once.
    Revoke { id_or_name: String },
}

#[derive(Debug, Subcommand)]
pub enum CrsCommand {
    /// List the vn2000:<province> presets with their central meridian and EPSG code.
    List,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("'{text}' is not NAME=VALUE"))
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file (any vector format GDAL reads; a .shp with its .dbf/.shx/.prj/.cpg beside it).
    pub file: std::path::PathBuf,
    /// Target collection: zones, land_use, plots, projects, leases, project_events, project_results,
    /// clearance_parcels or targets.
    #[arg(long)]
    pub collection: String,
    /// Layer to read when the file has several (GeoPackage, DXF, KML folders).
    #[arg(long)]
    pub layer: Option<String>,
    /// CRS of the coordinates when the file does not say, or to override it: EPSG:9209, 9209 or
    /// vn2000:<province> (see `landbank crs list`).
    #[arg(long)]
    pub srs: Option<String>,
    /// Field mapping TARGET=SOURCE (repeatable), e.g. --map code=SO_HIEU. Common names match by themselves.
    #[arg(long = "map", value_parser = key_value)]
    pub map: Vec<(String, String)>,
    /// A constant FIELD=VALUE for every feature (repeatable), e.g. --set zone_code=BN-QV1.
    #[arg(long = "set", value_parser = key_value)]
    pub set: Vec<(String, String)>,
    /// Attribute encoding of a Shapefile without a .cpg, e.g. CP1258 (Windows-1258) or UTF-8.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Check and report only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Repair invalid geometry with GDAL's MakeValid (each repair is listed).
    #[arg(long)]
    pub fix: bool,
    /// A corrected file: records already stored (same id or code) are replaced, each as a new version in
    /// their history; new ones are added; unchanged ones are left alone.
    #[arg(long)]
    pub update: bool,
    /// Do not measure today's occupancy and available land of the zones the file changed once it is
    /// written. By default they are measured and kept in the database, so that the first question
    /// after the import is answered at once (by a service already running or started later); without
    /// them, that first question measures every zone changed (seconds at a million plots).
    #[arg(long)]
    pub skip_figures: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Collection: zones, land_use, plots, projects, leases, project_events, project_results,
    /// clearance_parcels or targets.
    #[arg(long)]
    pub collection: String,
    /// File format (default: from the --out extension).
    #[arg(long, value_enum)]
    pub format: Option<crate::export::ExportFormat>,
    /// The file to write (a .shp gets its .shx, .dbf, .prj and .cpg beside it).
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// CRS to write coordinates in: EPSG:9209, 9209 or vn2000:<province> (default WGS 84 lon/lat).
    #[arg(long)]
    pub srs: Option<String>,
    /// Records as their dates say they stood on this day, YYYY-MM-DD: land use valid then, leases
    /// holding land then, statuses of that day. Default: every record, as stored.
    #[arg(long, value_parser = at_date)]
    pub at: Option<crate::domain::Date>,
    /// Equality filter FIELD=VALUE on a queryable field (repeatable), e.g. --filter zone_code=BN-QV1.
    #[arg(long = "filter", value_parser = key_value)]
    pub filter: Vec<(String, String)>,
    /// Only features intersecting minLon,minLat,maxLon,maxLat (WGS 84; the API's bbox= parser).
    #[arg(long, allow_hyphen_values = true)]
    pub bbox: Option<crate::http::params::Bbox>,
    /// Replace --out when it exists.
    #[arg(long)]
    pub overwrite: bool,
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
    /// Word, Excel and PDF: files to send (need --out). PDF is printed by Chromium.
    Docx,
    Xlsx,
    Pdf,
}

impl ReportArgs {
    /// `--format`, else what `--out`'s extension names, else Markdown.
    pub fn format(&self) -> ReportFormat {
        use clap::ValueEnum;
        self.format
            .or_else(|| {
                let ext = self.out.as_ref()?.extension()?.to_str()?.to_ascii_lowercase();
                ReportFormat::from_str(&ext, true).ok()
            })
            .unwrap_or(ReportFormat::Md)
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Province code (ISO 3166-2:VN, e.g. VN-56 for Bắc Ninh); omit for the national view.
    #[arg(long)]
    pub province: Option<String>,
    /// Report date, YYYY-MM-DD (default: today in Vietnam). Targets are those of its year.
    #[arg(long, value_parser = at_date)]
    pub at: Option<crate::domain::Date>,
    /// md, html, json, csv, or the files docx, xlsx, pdf [default: from --out's extension, else md]
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
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
    /// Serve the map page at /maps/ from this directory (with MapLibre in its node_modules: npm ci
    /// --prefix maps) instead of the page built into the binary, e.g. while editing maps/.
    #[arg(long, env = "LANDBANK_MAPS_DIR")]
    pub maps_dir: Option<std::path::PathBuf>,
    /// Raster basemap for the map page, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (none: plain).
    #[arg(long, env = "LANDBANK_BASEMAP")]
    pub basemap: Option<String>,
    /// Attribution the basemap's terms ask for, shown on the map, e.g. "© OpenStreetMap contributors"
    /// (default: the tile host's name).
    #[arg(long, env = "LANDBANK_BASEMAP_ATTRIBUTION")]
    pub basemap_attribution: Option<String>,
    /// Public base URL used in links (behind a proxy), e.g. https://landbank.example.org.
    #[arg(long, env = "LANDBANK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Origins whose web pages may call the API from a browser (CORS), comma separated, e.g.
    /// https://gis.bqlkcn.gov.vn; `*` for any. Default: none (same origin only).
    #[arg(long = "cors-origin", env = "LANDBANK_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Largest request body accepted, in MiB (a bigger POST/PUT/PATCH gets 413 problem+json).
    #[arg(long, env = "LANDBANK_MAX_BODY_MB", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_body_mb: u32,
    /// Keep today's occupancy and available land ready: every this many seconds, look whether the data
    /// changed and measure the zones it touched in the background, so that the first question after an
    /// import or a restart is answered from kept figures. 0: measure only when asked.
    #[arg(long, env = "LANDBANK_WARM_SECONDS", default_value_t = 30)]
    pub warm_seconds: u64,
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// A date given on the command line (`--at`): the API's `at=` parser.
fn at_date(text: &str) -> Result<crate::domain::Date, String> {
    use crate::http::params::{At, Param};
    At::parse(text).map(|at| at.0)
}
