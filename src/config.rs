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
}
