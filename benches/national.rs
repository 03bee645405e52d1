//! `cargo bench --bench national`: occupancy and available land at national scale, and the memory they
//! take, on the shifted-copies dataset of `../shared/peers/gen1m.sql` generated here: ten copies of a
//! province of 484 zones and about 104,000 plots (`landbank::synthetic`, shaped like the peers' data),
//! copy k shifted by (0.4 × (k mod 5), 0.3 × ⌊k / 5⌋) degrees, codes suffixed `-Ck`: about 1,040,000
//! plots, 4,840 zones and 730,000 held leases in one province.
//!
//! `-- --copies N` loads N copies (default 10); `-- --postgis` measures a scratch PostGIS database
//! (`LANDBANK_TEST_POSTGRES`) instead of a SQLite file. Prints a Markdown table for docs/benchmarks.md:
//! the load, then each request with its time, the resident memory after it and the peak so far.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use landbank::http::{AppState, router};
use landbank::store::{self, Store};
use landbank::synthetic::{Spec, generate};
use tower::ServiceExt;

/// (resident, peak) memory of this process, MB.
fn memory_mb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn get(app: &axum::Router, uri: &str) -> (f64, usize) {
    let started = Instant::now();
    let request = Request::get(uri).header("host", "bench").body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert!(response.status().is_success(), "{uri}: {}", response.status());
    let bytes = response.into_body().collect().await.unwrap().to_bytes().len();
    (started.elapsed().as_secs_f64(), bytes)
}

async fn open(postgis: bool, dir: &std::path::Path) -> (Arc<dyn Store>, String) {
    let url = if postgis {
        let admin = std::env::var("LANDBANK_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let db = format!("landbank_bench_national_{}", std::process::id());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.unwrap();
        sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{db}"));
        url.to_string()
    } else {
        dir.join("national.db").to_str().unwrap().to_string()
    };
    let store = store::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    (store, url)
}

const ANOTHER_DATE_EACH_TIME: &str = "occupancy of the province, another day each time, same leases";
const TWICE_AT_ONCE_OCCUPANCY: &str = "occupancy of the province, a date before every lease, two at once";
const TWICE_AT_ONCE_AVAILABLE: &str =
    "available land of the province, a date before every lease, two at once";

fn main() {
    // As `landbank` itself starts: malloc arenas capped before any thread allocates.
    landbank::cache::limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run());
}

async fn run() {
    let args: Vec<String> = std::env::args().collect();
    let postgis = args.iter().any(|a| a == "--postgis");
    // Leases signed and started on dates of their own, as a board's are (hundreds of dates a zone).
    let dated_leases = args.iter().any(|a| a == "--dated-leases");
    let copies: u32 =
        args.iter().position(|a| a == "--copies").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(10);
    let backend = if postgis { "postgis" } else { "sqlite" };
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = open(postgis, dir.path()).await;

    println!("| store | step | data | seconds | response | RSS after | peak RSS |");
    println!("|---|---|---|---|---|---|---|");
    let started = Instant::now();
    let (mut plots, mut leases, mut zones) = (0, 0, 0);
    for k in 0..copies {
        // One copy per transaction: memory holds one copy's records, not ten.
        let spec = Spec {
            origin: (105.9 + 0.4 * f64::from(k % 5), 21.0 + 0.3 * f64::from(k / 5)),
            prefix: if k == 0 { "SZ".into() } else { format!("SZ-C{k}") },
            dated_leases,
            ..Spec::province(484)
        };
        let data = generate(&spec);
        (plots, leases, zones) =
            (plots + data.plots.len(), leases + data.leases.len(), zones + data.zones.len());
        store.insert(&data.batches()).await.unwrap();
    }
    let (rss, peak) = memory_mb();
    let data = format!("{zones} zones, {plots} plots, {leases} leases");
    println!(
        "| {backend} | load (generate and insert) | {data} | {:.1} | | {rss} MB | {peak} MB |",
        started.elapsed().as_secs_f64()
    );

    // What `landbank import` does once its transaction has committed: today's figures of every zone it
    // changed, measured and kept in the store, for the first question to a service started after it.
    let started = Instant::now();
    let readied = landbank::warm::ready_after_write(&store, landbank::domain::today()).await.unwrap();
    let (rss, peak) = memory_mb();
    println!(
        "| {backend} | today's figures made ready, as `landbank import` does after writing ({} zones measured) | {data} | {:.1} | | {rss} MB | {peak} MB |",
        readied.occupancy_measured,
        started.elapsed().as_secs_f64()
    );

    let mut app = router(AppState::new(store.clone()));
    // A zone of the last copy loaded.
    let last = if copies > 1 { format!("SZ-C{}", copies - 1) } else { "SZ".into() };
    let one_zone = format!("/zones/{last}-010010/occupancy?at=2023-01-01");
    // "Restarted" steps ask a new router over the same store, as a restarted process would: nothing in
    // memory, the figures the store kept.
    let occupancy = "/occupancy?province_code=VN-56&at=2023-11-17";
    // The tile holding the bbox case's corner, among the first copy's plots.
    let t = landbank::tiles::TileId::containing(106.102, 21.102, 14);
    let tile_available = format!("/tiles/available_land/14/{}/{}.mvt?at=2023-11-17", t.x, t.y);
    let tile_plots = format!("/tiles/plots/14/{}/{}.mvt?at=2023-11-17", t.x, t.y);
    let available = "/available?province_code=VN-56&at=2023-11-17&limit=100";
    let kept_asks: usize =
        std::env::var("LANDBANK_BENCH_ASKS").ok().and_then(|n| n.parse().ok()).unwrap_or(21).max(1);
    let steps = [
        // A service started after the import: nothing in memory, today's figures kept by the import.
        (
            "occupancy of the province today, first question after the import",
            "/occupancy?province_code=VN-56",
            true,
        ),
        (
            "available land of the province today, first question after the import",
            "/available?province_code=VN-56&limit=100",
            true,
        ),
        // A date other than today (before the last lease was signed). The import's pass measured each
        // zone's occupancy on every date that is a sum of areas ([`landbank::occupancy::Ledger`]), so
        // occupancy is read from kept figures; available land is measured for every zone.
        ("occupancy of the province, first time", occupancy, false),
        ("occupancy of the province, kept", occupancy, false),
        (
            "occupancy of the province, another date, same leases",
            "/occupancy?province_code=VN-56&at=2024-06-30",
            false,
        ),
        (ANOTHER_DATE_EACH_TIME, "/occupancy?province_code=VN-56", false),
        (
            "occupancy of the province, a date after leases began",
            "/occupancy?province_code=VN-56&at=2025-08-01",
            false,
        ),
        ("occupancy of one zone, first time", one_zone.as_str(), false),
        ("available-land tile z14, first time", tile_available.as_str(), false),
        ("plots tile z14, first time", tile_plots.as_str(), false),
        ("available land of the province, first time", available, false),
        ("available land of the province, kept", available, false),
        ("occupancy of the province, restarted", occupancy, true),
        ("available land of the province, restarted", available, true),
        (
            "plots, bbox of ~100",
            "/collections/plots/items?bbox=106.10,21.10,106.104,21.104&limit=1000",
            false,
        ),
        // A date before any lease was signed, two questions asked at the same moment (the slower one's
        // time): available land measured for every zone, occupancy read from what the pass kept.
        (TWICE_AT_ONCE_OCCUPANCY, "/occupancy?province_code=VN-56&at=2019-01-01", false),
        (TWICE_AT_ONCE_AVAILABLE, "/available?province_code=VN-56&at=2019-01-01&limit=100", false),
    ];
    for (step, uri, restart) in steps {
        if restart {
            app = router(AppState::new(store.clone()));
        }
        let (seconds, bytes) = if step == TWICE_AT_ONCE_OCCUPANCY || step == TWICE_AT_ONCE_AVAILABLE {
            let (a, b) = tokio::join!(get(&app, uri), get(&app, uri));
            (a.0.max(b.0), a.1)
        } else if step == ANOTHER_DATE_EACH_TIME {
            // A map or a chart stepping through the days between the same lease dates: each day's answer
            // is summed from the zones' kept figures (the median of `LANDBANK_BENCH_ASKS` days).
            let mut asks = Vec::new();
            for day in 0..kept_asks {
                let at =
                    chrono::NaiveDate::from_ymd_opt(2023, 12, 1).unwrap() + chrono::Days::new(day as u64);
                asks.push(get(&app, &format!("{uri}&at={at}")).await);
            }
            asks.sort_by(|a, b| a.0.total_cmp(&b.0));
            asks[kept_asks / 2]
        } else if step.ends_with(", kept") {
            // Asked again with nothing written since: the median of `LANDBANK_BENCH_ASKS` asks (21).
            let mut asks = Vec::new();
            for _ in 0..kept_asks {
                asks.push(get(&app, uri).await);
            }
            asks.sort_by(|a, b| a.0.total_cmp(&b.0));
            asks[kept_asks / 2]
        } else {
            get(&app, uri).await
        };
        let (rss, peak) = memory_mb();
        println!(
            "| {backend} | {step} | {data} | {seconds:.3} | {} kB | {rss} MB | {peak} MB |",
            bytes / 1000
        );
    }
    store.close().await;
    if postgis {
        let admin = std::env::var("LANDBANK_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let db = url.rsplit('/').next().unwrap_or_default().to_string();
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.unwrap();
        let _ = sqlx::Executor::execute(
            &mut conn,
            sqlx::AssertSqlSafe(format!("DROP DATABASE {db} WITH (FORCE)")),
        )
        .await;
    }
}
