//! `cargo bench --bench api`: latency of the foundation's three cases on the embedded SQLite store, through
//! the in-process router (no network), on synthetic data generated here:
//!
//! 1. items: one page of 1,000 plots out of 10,000;
//! 2. bbox: about 100 plots out of 100,000 (R*Tree candidates, exact test in Rust), and a page of 1,000 of
//!    them (its count of matches kept per data version);
//! 3. occupancy of a province with 10,000 plots and 10,000 active leases (unions and clipping per zone).
//!
//! Prints median and p99 of each case, as a Markdown table for README.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use geo::{MultiPolygon, Rect, coord};
use http_body_util::BodyExt;
use landbank::collections::{self, Collection};
use landbank::http::{AppState, router};
use landbank::store::{self, NewFeature, Store};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

fn props(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon {
    MultiPolygon(vec![Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 }).to_polygon()])
}

fn feature(id: String, properties: Value, geometry: Option<MultiPolygon>) -> NewFeature {
    NewFeature { id, properties: props(properties), geometry, source_crs: "EPSG:4326".into() }
}

/// Zones `rows` × `0..zones_side` of a synthetic province, each 0.01° square with 10 × 10 plots and (with
/// `with_leases`) an active lease on 85 % of them, in Lai Châu (VN-01, a province that ships with the schema).
async fn synthetic(
    store: &Arc<dyn Store>,
    zones_side: usize,
    rows: std::ops::Range<usize>,
    with_leases: bool,
) {
    let mut batches: Vec<(&'static Collection, Vec<NewFeature>)> = Vec::new();
    let (mut zones, mut land_use, mut plots, mut leases) = (vec![], vec![], vec![], vec![]);
    for i in rows {
        for j in 0..zones_side {
            let (x0, y0) = (104.0 + i as f64 * 0.012, 19.0 + j as f64 * 0.012);
            let code = format!("Z{i:03}-{j:03}");
            zones.push(feature(
                code.clone(),
                json!({"code": code, "name": code, "kind": "industrial_park", "province_code": "VN-01", "status": "operating", "established_on": "2000-01-01"}),
                Some(rect(x0, y0, x0 + 0.01, y0 + 0.01)),
            ));
            land_use.push(feature(
                format!("{code}-LU"),
                json!({"zone_code": code, "province_code": "VN-01", "category": "industrial"}),
                Some(rect(x0, y0, x0 + 0.01, y0 + 0.01)),
            ));
            for a in 0..10 {
                for b in 0..10 {
                    let g = rect(
                        x0 + a as f64 * 0.001,
                        y0 + b as f64 * 0.001,
                        x0 + (a + 1) as f64 * 0.001,
                        y0 + (b + 1) as f64 * 0.001,
                    );
                    let plot = format!("P{a}{b}");
                    plots.push(feature(
                        format!("{code}-{plot}"),
                        json!({"zone_code": code, "province_code": "VN-01", "code": plot}),
                        Some(g.clone()),
                    ));
                    if with_leases && (a + b) % 7 != 0 {
                        leases.push(feature(
                            format!("{code}-L{a}{b}"),
                            json!({"zone_code": code, "province_code": "VN-01", "status": "active", "start_on": "2010-01-01", "plot_codes": plot}),
                            Some(g),
                        ));
                    }
                }
            }
        }
    }
    batches.push((&collections::ZONES, zones));
    batches.push((&collections::LAND_USE, land_use));
    batches.push((&collections::PLOTS, plots));
    batches.push((&collections::LEASES, leases));
    store.insert(&batches).await.unwrap();
}

/// Sends `iterations` requests for `uri` from `clients` concurrent clients (after a warm-up);
/// returns the median and p99 latency and the response size.
async fn measure(
    app: &axum::Router,
    uri: &str,
    iterations: usize,
    clients: usize,
) -> (Duration, Duration, usize) {
    let one = |app: axum::Router, uri: String| async move {
        let started = Instant::now();
        let request = Request::get(&uri).header("host", "bench").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert!(response.status().is_success(), "{uri}: {}", response.status());
        let bytes = response.into_body().collect().await.unwrap().to_bytes().len();
        (started.elapsed(), bytes)
    };
    if iterations > 1 {
        for _ in 0..3 {
            one(app.clone(), uri.to_string()).await;
        }
    }
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (app, uri) = (app.clone(), uri.to_string());
            tokio::spawn(async move {
                let mut out = Vec::new();
                for _ in 0..iterations / clients {
                    out.push(one(app.clone(), uri.clone()).await);
                }
                out
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut bytes = 0;
    for t in tasks {
        for (d, b) in t.await.unwrap() {
            times.push(d);
            bytes = b;
        }
    }
    times.sort();
    let p99 = times[((times.len() as f64 * 0.99).ceil() as usize).saturating_sub(1)];
    (times[times.len() / 2], p99, bytes)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A scratch database for `backend`: a file in `dir`, or a new PostgreSQL database; and its URL.
async fn scratch(backend: &str, dir: &std::path::Path, name: &str) -> (Arc<dyn Store>, String) {
    let url = if backend == "sqlite" {
        dir.join(format!("{name}.db")).to_str().unwrap().to_string()
    } else {
        let admin = postgres_url();
        let db = format!("landbank_bench_{name}_{}", std::process::id());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.unwrap();
        sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{db}"));
        url.to_string()
    };
    let store = store::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    (store, url)
}

/// Deletes the figures the store kept (`kept_figures`), so that the next question measures afresh.
async fn forget_kept(url: &str) {
    let statement = sqlx::AssertSqlSafe("DELETE FROM kept_figures");
    if url.starts_with("postgres") {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await.unwrap();
        sqlx::Executor::execute(&mut conn, statement).await.unwrap();
    } else {
        let mut conn =
            <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{url}")).await.unwrap();
        sqlx::Executor::execute(&mut conn, statement).await.unwrap();
    }
}

fn postgres_url() -> String {
    std::env::var("LANDBANK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn drop_bench_databases() {
    let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_url()).await else {
        return;
    };
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'landbank\\_bench\\_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    for name in names {
        let _ = sqlx::Executor::execute(
            &mut conn,
            sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")),
        )
        .await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // As `landbank` does at start-up.
    assert!(landbank::store::sqlite::configure_library(), "SQLite was initialised before main");
    // LANDBANK_LOG=landbank=debug shows the stores' steps.
    if let Ok(filter) = std::env::var("LANDBANK_LOG") {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    let dir = tempfile::tempdir().unwrap();
    let million = std::env::args().any(|a| a == "--million");
    // `-- --tiles-only`: only the tile cases (e.g. under `perf record`); `LANDBANK_BENCH_COLD=N` cold
    // tiles each instead of 10.
    let tiles_only = std::env::args().any(|a| a == "--tiles-only");
    // `-- --items-only`: only the page of 1,000 plots, `LANDBANK_BENCH_ITEMS` times (default 60).
    let items_only = std::env::args().any(|a| a == "--items-only");
    // `-- --bbox-only`: only the bbox page, `LANDBANK_BENCH_BBOX` times (default 200).
    let bbox_only = std::env::args().any(|a| a == "--bbox-only");
    // `-- --figures-only`: only available land and occupancy of a province, cold and restarted,
    // `LANDBANK_BENCH_FIGURES` times each (default 5), e.g. to compare two builds of their computation.
    let figures_only = std::env::args().any(|a| a == "--figures-only");
    let figure_runs: usize =
        std::env::var("LANDBANK_BENCH_FIGURES").ok().and_then(|n| n.parse().ok()).unwrap_or(5).max(5);
    let cold_runs: usize =
        std::env::var("LANDBANK_BENCH_COLD").ok().and_then(|n| n.parse().ok()).unwrap_or(10).max(10);
    drop_bench_databases().await;
    println!("| store | case | data | median | p99 | response |");
    println!("|---|---|---|---|---|---|");
    // `LANDBANK_BENCH_STORES=sqlite` (or `postgis`): one store only, e.g. under `perf record`.
    let stores = std::env::var("LANDBANK_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgis".into());
    for backend in ["sqlite", "postgis"].into_iter().filter(|b| stores.split(',').any(|s| s == *b)) {
        if tiles_only || bbox_only {
            large(backend, dir.path(), cold_runs, if tiles_only { Only::Tiles } else { Only::Bbox }).await;
            continue;
        }
        let (small, small_url) = scratch(backend, dir.path(), "10k").await;
        let started = Instant::now();
        synthetic(&small, 10, 0..10, true).await;
        eprintln!(
            "{backend}: loaded 10,000 plots and 8,500 leases in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let app = router(AppState::new(small.clone()));
        let pages = std::env::var("LANDBANK_BENCH_ITEMS").ok().and_then(|n| n.parse().ok()).unwrap_or(60);
        if !figures_only {
            let (median, p99, bytes) = measure(&app, "/collections/plots/items?limit=1000", pages, 2).await;
            println!(
                "| {backend} | items, 1,000 plots per page | 10,000 plots | {} | {} | {} kB |",
                ms(median),
                ms(p99),
                bytes / 1000
            );
        }
        if items_only {
            small.close().await;
            continue;
        }
        let available = "/available?province_code=VN-01&at=2020-01-01&limit=100";
        let (mut cold, mut restarted) = (Vec::new(), Vec::new());
        for _ in 0..figure_runs {
            forget_kept(&small_url).await;
            let fresh = router(AppState::new(small.clone())); // nothing kept anywhere
            cold.push(measure(&fresh, available, 1, 1).await.0);
            let fresh = router(AppState::new(small.clone())); // what the store kept, nothing in memory
            restarted.push(measure(&fresh, available, 1, 1).await.0);
        }
        cold.sort();
        restarted.sort();
        println!(
            "| {backend} | available land, cold | 100 zones, 10,000 plots, 8,500 leases | {} | {} (max of {figure_runs}) | |",
            ms(cold[figure_runs / 2]),
            ms(cold[figure_runs - 1])
        );
        println!(
            "| {backend} | available land, restarted | 100 zones, 10,000 plots, 8,500 leases | {} | {} (max of {figure_runs}) | |",
            ms(restarted[figure_runs / 2]),
            ms(restarted[figure_runs - 1])
        );
        let (median, p99, bytes) = measure(&app, available, 100, 2).await;
        println!(
            "| {backend} | available land, cached | 100 zones, 10,000 plots, 8,500 leases | {} | {} | {} kB |",
            ms(median),
            ms(p99),
            bytes / 1000
        );
        let mut after_write = Vec::new();
        for n in 0..10 {
            // A new lease in one zone: only that zone is recomputed.
            let lease = feature(
                format!("NEW-{n}"),
                json!({"zone_code": "Z005-005", "province_code": "VN-01", "status": "active", "start_on": "2015-01-01"}),
                Some(rect(104.06, 19.06, 104.0605, 19.0605)),
            );
            small.insert(&[(&collections::LEASES, vec![lease])]).await.unwrap();
            after_write.push(measure(&app, available, 1, 1).await.0);
        }
        after_write.sort();
        println!(
            "| {backend} | available land, one lease changed | 100 zones, 10,000 plots, 8,500 leases | {} | {} (max of 10) | |",
            ms(after_write[5]),
            ms(after_write[9])
        );
        let occupancy = "/occupancy?province_code=VN-01&at=2020-01-01";
        let (mut cold, mut restarted) = (Vec::new(), Vec::new());
        for _ in 0..figure_runs {
            forget_kept(&small_url).await;
            let fresh = router(AppState::new(small.clone())); // no zone's figures kept yet
            cold.push(measure(&fresh, occupancy, 1, 1).await.0);
            let fresh = router(AppState::new(small.clone())); // what the store kept, nothing in memory
            restarted.push(measure(&fresh, occupancy, 1, 1).await.0);
        }
        cold.sort();
        restarted.sort();
        println!(
            "| {backend} | occupancy of a province, cold | 100 zones, 10,000 plots, 8,500 leases | {} | {} (max of {figure_runs}) | |",
            ms(cold[figure_runs / 2]),
            ms(cold[figure_runs - 1])
        );
        println!(
            "| {backend} | occupancy of a province, restarted | 100 zones, 10,000 plots, 8,500 leases | {} | {} (max of {figure_runs}) | |",
            ms(restarted[figure_runs / 2]),
            ms(restarted[figure_runs - 1])
        );
        if figures_only {
            small.close().await;
            continue;
        }
        let (median, p99, bytes) = measure(&app, occupancy, 10, 2).await;
        println!(
            "| {backend} | occupancy of a province, kept | 100 zones, 10,000 plots, 8,500 leases | {} | {} | {} kB |",
            ms(median),
            ms(p99),
            bytes / 1000
        );
        let mut after_write = Vec::new();
        for n in 0..10 {
            let lease = feature(
                format!("NEW-OCC-{n}"),
                json!({"zone_code": "Z006-006", "province_code": "VN-01", "status": "active", "start_on": "2015-01-01"}),
                Some(rect(104.072, 19.072, 104.0725, 19.0725)),
            );
            small.insert(&[(&collections::LEASES, vec![lease])]).await.unwrap();
            after_write.push(measure(&app, occupancy, 1, 1).await.0);
        }
        after_write.sort();
        println!(
            "| {backend} | occupancy of a province, one lease changed | 100 zones, 10,000 plots, 8,500 leases | {} | {} (max of 10) | |",
            ms(after_write[5]),
            ms(after_write[9])
        );
        small.close().await;

        large(backend, dir.path(), cold_runs, Only::All).await;
    }
    if million {
        let (huge, _) = scratch("postgis", dir.path(), "1m").await;
        let started = Instant::now();
        // 10,000 zones of 100 plots, loaded 100 zones per transaction to bound memory.
        for row in 0..100 {
            synthetic(&huge, 100, row..row + 1, false).await;
        }
        eprintln!("postgis: loaded 1,000,000 plots in {:.0} s", started.elapsed().as_secs_f64());
        let app = router(AppState::new(huge.clone()));
        let (median, p99, bytes) = measure(&app, BBOX_100, 200, 2).await;
        println!(
            "| postgis | bbox, ~100 plots | 1,000,000 plots | {} | {} | {} kB |",
            ms(median),
            ms(p99),
            bytes / 1000
        );
        huge.close().await;
    }
    drop_bench_databases().await;
}

/// Which of the cases on 102,400 plots run.
#[derive(PartialEq)]
enum Only {
    All,
    Tiles,
    Bbox,
}

/// The cases on 102,400 plots (32 × 32 zones of 100): bbox, tiles at three zooms (cold `cold_runs`
/// times), one plot; or `only` the tiles or the bbox page.
async fn large(backend: &str, dir: &std::path::Path, cold_runs: usize, only: Only) {
    let (large, _) = scratch(backend, dir, "100k").await;
    let started = Instant::now();
    // With leases on 6 plots of 7, so that tiles colour plots by real lease states.
    synthetic(&large, 32, 0..32, true).await;
    eprintln!(
        "{backend}: loaded 102,400 plots and 87,800 leases in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let app = router(AppState::new(large.clone()));
    // 0.0095° × 0.0095° inside one zone's corner: about 100 plots.
    if only != Only::Tiles {
        let times = std::env::var("LANDBANK_BENCH_BBOX").ok().and_then(|n| n.parse().ok()).unwrap_or(200);
        let (median, p99, bytes) = measure(&app, BBOX_100, times, 2).await;
        println!(
            "| {backend} | bbox, ~100 plots | 102,400 plots | {} | {} | {} kB |",
            ms(median),
            ms(p99),
            bytes / 1000
        );
        // A page of a large collection: its count of matches is kept per data version.
        let (median, p99, bytes) =
            measure(&app, "/collections/plots/items?limit=1000&offset=5000", times, 2).await;
        println!(
            "| {backend} | items, 1,000 plots per page | 102,400 plots | {} | {} | {} kB |",
            ms(median),
            ms(p99),
            bytes / 1000
        );
        let (median, p99, bytes) = measure(&app, BBOX_1000, times, 2).await;
        println!(
            "| {backend} | bbox, ~1,000 plots, 100 a page | 102,400 plots | {} | {} | {} kB |",
            ms(median),
            ms(p99),
            bytes / 1000
        );
    }
    if only == Only::Bbox {
        large.close().await;
        return;
    }
    for z in [12u8, 14, 16] {
        // A tile in the middle of the plots.
        let t = landbank::tiles::TileId::containing(104.1905, 19.1905, z);
        let uri = format!("/tiles/plots/{z}/{}/{}.mvt", t.x, t.y);
        let mut cold = Vec::new();
        let mut size = 0;
        for _ in 0..cold_runs {
            let fresh = router(AppState::new(large.clone())); // empty tile cache
            let (d, _, b) = measure(&fresh, &uri, 1, 1).await;
            cold.push(d);
            size = b;
        }
        cold.sort();
        println!(
            "| {backend} | plots tile z{z}, cold | 102,400 plots | {} | {} (max of {cold_runs}) | {size} B |",
            ms(cold[cold_runs / 2]),
            ms(cold[cold_runs - 1])
        );
        // Another date each time on a warm service: the tile is built again, its drawing is kept.
        let mut dated = Vec::new();
        for n in 0..cold_runs {
            let uri = format!("{uri}?at={}-01-01", 2000 + n % 200);
            dated.push(measure(&app, &uri, 1, 1).await.0);
        }
        dated.sort();
        println!(
            "| {backend} | plots tile z{z}, another date each time | 102,400 plots | {} | {} (max of {cold_runs}) | {size} B |",
            ms(dated[cold_runs / 2]),
            ms(dated[cold_runs - 1])
        );
        let (median, p99, _) = measure(&app, &uri, 200, 2).await;
        println!(
            "| {backend} | plots tile z{z}, cached | 102,400 plots | {} | {} | {size} B |",
            ms(median),
            ms(p99)
        );
    }
    // Every z14 tile over the plots in turn, each by a fresh service (nothing kept: no drawing, no
    // lease states), as a map opened right after a write would ask them.
    let (first, last) = (
        landbank::tiles::TileId::containing(104.0, 19.384, 14),
        landbank::tiles::TileId::containing(104.384, 19.0, 14),
    );
    let tiles: Vec<String> = (first.x..=last.x)
        .flat_map(|x| (first.y..=last.y).map(move |y| format!("/tiles/plots/14/{x}/{y}.mvt")))
        .collect();
    // `LANDBANK_BENCH_TURNS=N`: go over them N times (e.g. under `perf record`).
    let turns = std::env::var("LANDBANK_BENCH_TURNS").ok().and_then(|n| n.parse().ok()).unwrap_or(1);
    let (mut each, mut bytes) = (Vec::new(), 0);
    for _ in 0..turns {
        for uri in &tiles {
            let fresh = router(AppState::new(large.clone()));
            let (d, _, b) = measure(&fresh, uri, 1, 1).await;
            each.push(d);
            bytes += b;
        }
    }
    let size = format!("{} B each", bytes / each.len());
    print_in_turn(backend, "every tile in turn, nothing kept", each, &size);
    // Every z14 tile in turn on a warm service right after a lease was signed in one zone: the data
    // version moved, so every tile is built again, from the plots' kept drawings (the plots did not
    // change) and the lease states of their zones.
    let mut each = Vec::new();
    for turn in 0..turns {
        for uri in &tiles {
            measure(&app, uri, 1, 1).await;
        }
        let (x0, y0) = (104.0 + 5.0 * 0.012, 19.0 + 5.0 * 0.012);
        let lease = feature(
            format!("Z005-005-LNEW{turn}"),
            json!({"zone_code": "Z005-005", "province_code": "VN-01", "status": "active", "start_on": "2020-01-01", "plot_codes": "P00"}),
            Some(rect(x0, y0, x0 + 0.001, y0 + 0.001)),
        );
        large.insert(&[(&collections::LEASES, vec![lease])]).await.unwrap();
        for uri in &tiles {
            each.push(measure(&app, uri, 1, 1).await.0);
        }
    }
    print_in_turn(backend, "every tile in turn after a lease was written", each, "");
    if only == Only::All {
        let (median, p99, bytes) = measure(&app, "/collections/plots/items/Z010-010-P55", 200, 2).await;
        println!(
            "| {backend} | one plot by id | 102,400 plots | {} | {} | {} kB |",
            ms(median),
            ms(p99),
            bytes / 1000
        );
    }
    large.close().await;
}

/// Prints the row of a z14 case whose tiles were each asked once per turn (`each`: their times).
fn print_in_turn(backend: &str, case: &str, mut each: Vec<Duration>, response: &str) {
    let total: Duration = each.iter().sum();
    each.sort();
    println!(
        "| {backend} | plots tile z14, {case} | 102,400 plots | {} | {} (of {} tiles, {:.0} tiles/s) | {response} |",
        ms(each[each.len() / 2]),
        ms(each[each.len() * 99 / 100]),
        each.len(),
        each.len() as f64 / total.as_secs_f64(),
    );
}

const BBOX_100: &str = "/collections/plots/items?bbox=104.1205,19.1205,104.1300,19.1300&limit=1000";
/// A box about three times wider (about 1,000 plots), 100 a page: more candidates than one statement reads.
const BBOX_1000: &str = "/collections/plots/items?bbox=104.1205,19.1205,104.1505,19.1505&limit=100";
