//! `cargo bench --bench import [-- --plots N]`: `landbank import` of N plots (default 100,000) from a
//! GeoPackage in VN-2000 / TM-3 105°30′ (EPSG:9209), beside `ogr2ogr` loading the same file into the same
//! database (reprojected to WGS 84 the same way), on SQLite and on PostGIS.
//!
//! landbank reads through GDAL, reprojects with PROJ, validates every feature (fields, geometry, inside
//! its zone, no overlap with another plot, not already stored), measures geodesic areas and writes in one
//! transaction; ogr2ogr only copies. Prints a Markdown table for README.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use geo::{MultiPolygon, Rect, coord};
use landbank::collections;
use landbank::import::{ImportOptions, run};
use landbank::store::{self, NewFeature, Store};
use serde_json::json;

fn postgres_url() -> String {
    std::env::var("LANDBANK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn admin(statement: String) {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_url()).await.unwrap();
    sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(statement)).await.unwrap();
}

/// The zone the plots go into (its province ships with the schema).
async fn zone(store: &Arc<dyn Store>, side_deg: f64) {
    let f = |id: &str, properties: serde_json::Value, geometry: Option<MultiPolygon>| NewFeature {
        id: id.into(),
        properties: properties.as_object().unwrap().clone(),
        geometry,
        source_crs: "EPSG:4326".into(),
    };
    let boundary = MultiPolygon(vec![
        Rect::new(coord! { x: 106.0, y: 21.0 }, coord! { x: 106.0 + side_deg, y: 21.0 + side_deg })
            .to_polygon(),
    ]);
    store
        .insert(&[
            (
                &collections::ZONES,
                vec![f(
                    "BENCH",
                    json!({"code": "BENCH", "name": "KCN Đo tải", "kind": "industrial_park", "province_code": "VN-56", "status": "operating"}),
                    Some(boundary),
                )],
            ),
        ])
        .await
        .unwrap();
}

/// A GeoPackage of `n` plots (a grid of 40 m squares with 5 m roads between) in EPSG:9209, made by
/// ogr2ogr from GeoJSON. Returns its path and the zone's side in degrees.
fn plots_file(dir: &std::path::Path, n: usize) -> (std::path::PathBuf, f64) {
    let side = (n as f64).sqrt().ceil() as usize;
    let step = 0.00045; // ≈ 47–50 m
    let size = 0.0004;
    let mut features = Vec::with_capacity(n);
    for k in 0..n {
        let (i, j) = (k % side, k / side);
        let (x, y) = (106.0005 + i as f64 * step, 21.0005 + j as f64 * step);
        features.push(json!({ "type": "Feature", "properties": { "SO_HIEU": format!("L{j:04}-{i:04}"), "MA_KCN": "BENCH" },
            "geometry": { "type": "Polygon", "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]] } }));
    }
    let geojson = dir.join("plots.geojson");
    std::fs::write(&geojson, json!({ "type": "FeatureCollection", "features": features }).to_string())
        .unwrap();
    let gpkg = dir.join("LO_DAT.gpkg");
    let out = Command::new("ogr2ogr")
        .args(["-f", "GPKG", "-t_srs", "EPSG:9209", "-nln", "lo_dat"])
        .arg(&gpkg)
        .arg(&geojson)
        .output()
        .expect("ogr2ogr (gdal-bin)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (gpkg, side as f64 * step + 0.001)
}

/// Seconds ogr2ogr takes to load `file` into `destination` (a new table, reprojected to WGS 84).
fn ogr2ogr_seconds(destination: &[&str], file: &std::path::Path) -> f64 {
    let started = Instant::now();
    let out = Command::new("ogr2ogr")
        .args(destination)
        .args(["-t_srs", "EPSG:4326", "-nln", "ogr_plots", "-nlt", "MULTIPOLYGON"])
        .arg(file)
        .output()
        .expect("ogr2ogr (gdal-bin)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    started.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // LANDBANK_LOG=landbank=debug shows where the time goes (read, checks, write).
    if let Ok(filter) = std::env::var("LANDBANK_LOG") {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--plots")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let (file, side) = plots_file(dir.path(), n);
    println!("| store | loader | plots | seconds | features/s | landbank ÷ ogr2ogr |");
    println!("|---|---|---|---|---|---|");
    for backend in ["sqlite", "postgis"] {
        let db_name = format!("landbank_bench_import_{}", std::process::id());
        let url = if backend == "sqlite" {
            dir.path().join("import.db").to_str().unwrap().to_string()
        } else {
            admin(format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")).await;
            admin(format!("CREATE DATABASE {db_name}")).await;
            let mut url = url::Url::parse(&postgres_url()).unwrap();
            url.set_path(&format!("/{db_name}"));
            url.to_string()
        };
        let store = store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        zone(&store, side).await;
        let options = ImportOptions {
            path: file.clone(),
            collection: &collections::PLOTS,
            layer: None,
            srs: None,
            map: vec![("code".into(), "SO_HIEU".into())],
            set: vec![],
            encoding: None,
            dry_run: false,
            fix: false,
            update: false,
        };
        let started = Instant::now();
        let report = run(&store, options).await.unwrap_or_else(|e| panic!("{e}"));
        let landbank_s = started.elapsed().as_secs_f64();
        assert_eq!(report.written as usize, n);
        assert_eq!(store.count(&collections::PLOTS).await.unwrap() as usize, n);
        store.close().await;

        let pg = {
            let u = url::Url::parse(&postgres_url()).unwrap();
            format!(
                "PG:host={} port={} user={} dbname={db_name}",
                u.host_str().unwrap_or("127.0.0.1"),
                u.port().unwrap_or(5432),
                u.username()
            )
        };
        let ogr_s = if backend == "sqlite" {
            ogr2ogr_seconds(&["-f", "SQLite", "-update", url.as_str()], &file)
        } else {
            ogr2ogr_seconds(&["-f", "PostgreSQL", pg.as_str()], &file)
        };
        let rate = |s: f64| format!("{:.0}", n as f64 / s);
        println!(
            "| {backend} | landbank import (validated) | {n} | {landbank_s:.2} | {} | {:.2} |",
            rate(landbank_s),
            ogr_s / landbank_s
        );
        println!("| {backend} | ogr2ogr (copy only) | {n} | {ogr_s:.2} | {} | |", rate(ogr_s));
        if backend == "postgis" {
            admin(format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")).await;
        }
    }
}
