//! Makes sure the map page's MapLibre is there to embed: the binary carries `maps/` (its page and
//! `node_modules/maplibre-gl/dist`) so that `landbank serve` serves the map from any folder.
//!
//! When MapLibre is missing this runs `npm ci --omit=dev` in `maps/` (the versions of its
//! `package-lock.json`). Without npm, or with `LANDBANK_SKIP_NPM=1`, the binary is built without
//! MapLibre and says so: the map page then needs `--maps-dir` pointing at a `maps/` with node_modules.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=maps/package-lock.json");
    println!("cargo:rerun-if-changed=maps/node_modules/maplibre-gl/package.json");
    println!("cargo:rerun-if-env-changed=LANDBANK_SKIP_NPM");
    let maplibre = Path::new("maps/node_modules/maplibre-gl/dist/maplibre-gl.js");
    if maplibre.exists() || std::env::var_os("LANDBANK_SKIP_NPM").is_some_and(|v| v == "1") {
        return;
    }
    let installed = Command::new("npm")
        .args(["ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir("maps")
        .status();
    match installed {
        Ok(status) if status.success() && maplibre.exists() => {}
        Ok(status) => println!(
            "cargo:warning=npm ci in maps/ failed ({status}); the binary's map page has no MapLibre: run `npm ci --prefix maps` and build again"
        ),
        Err(e) => println!(
            "cargo:warning=npm not found ({e}); the binary's map page has no MapLibre: install Node.js and npm, run `npm ci --prefix maps`, and build again"
        ),
    }
}
