//! `cargo bench --bench edit [-- --versions N]`: editing on both stores.
//!
//! 1. Lease creation with every check (zone, project, on leasable land, no other active or reserved lease
//!    over it) and its version in history, one transaction each, into a zone that fills up as it goes:
//!    writes per second.
//! 2. An as-of read (`datetime=`, a page of 10 plots of one zone) against a history of N versions
//!    (default 100,000: N − 1,000 plots loaded, then 1,000 of them edited one by one): median and p99.
//!
//! Prints Markdown tables for README.

use std::sync::Arc;
use std::time::Instant;

use geo::{MultiPolygon, Rect, coord};
use landbank::collections::{self, FilterValue};
use landbank::edit;
use landbank::store::{self, Condition, ItemsQuery, NewFeature, Store};
use serde_json::json;

fn postgres_url() -> String {
    std::env::var("LANDBANK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn admin(statement: String) {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_url()).await.unwrap();
    sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(statement)).await.unwrap();
}

async fn scratch(backend: &str, dir: &std::path::Path, name: &str) -> (Arc<dyn Store>, Option<String>) {
    if backend == "sqlite" {
        let store = store::open(dir.join(format!("{name}.db")).to_str().unwrap()).await.unwrap();
        store.migrate().await.unwrap();
        return (store, None);
    }
    let db = format!("landbank_bench_{name}_{}", std::process::id());
    admin(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
    admin(format!("CREATE DATABASE {db}")).await;
    let mut url = url::Url::parse(&postgres_url()).unwrap();
    url.set_path(&format!("/{db}"));
    let store = store::open(url.as_str()).await.unwrap();
    store.migrate().await.unwrap();
    (store, Some(db))
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon {
    MultiPolygon(vec![Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 }).to_polygon()])
}

fn feature(id: &str, properties: serde_json::Value, geometry: Option<MultiPolygon>) -> NewFeature {
    NewFeature {
        id: id.into(),
        properties: properties.as_object().unwrap().clone(),
        geometry,
        source_crs: "EPSG:4326".into(),
    }
}

/// A province, one zone `side` degrees wide, all of it industrial land, and one project.
async fn zone(store: &Arc<dyn Store>, side: f64) {
    store
        .insert(&[
            (
                &collections::ZONES,
                vec![feature(
                    "BENCH",
                    json!({"code": "BENCH", "name": "KCN Đo tải", "kind": "industrial_park", "province_code": "VN-56", "status": "operating"}),
                    Some(rect(106.0, 21.0, 106.0 + side, 21.0 + side)),
                )],
            ),
            (
                &collections::LAND_USE,
                vec![feature(
                    "BENCH-LU",
                    json!({"zone_code": "BENCH", "province_code": "VN-56", "category": "industrial"}),
                    Some(rect(106.0, 21.0, 106.0 + side, 21.0 + side)),
                )],
            ),
            (
                &collections::PROJECTS,
                vec![feature("BENCH-P1", json!({"tenant_name": "Công ty Đo tải", "origin": "fdi", "zone_code": "BENCH", "province_code": "VN-56"}), None)],
            ),
        ])
        .await
        .unwrap();
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let versions = arg("--versions", 100_000);
    let leases = arg("--leases", 500);
    let dir = tempfile::tempdir().unwrap();

    println!("| store | case | data | result |");
    println!("|---|---|---|---|");
    for backend in ["sqlite", "postgis"] {
        // 1. Lease creation with validation.
        let (store, db) = scratch(backend, dir.path(), "edit_leases").await;
        zone(&store, 0.05).await;
        let started = Instant::now();
        for n in 0..leases {
            let (i, j) = ((n % 25) as f64, (n / 25) as f64);
            let (x, y) = (106.0005 + i * 0.0019, 21.0005 + j * 0.0019);
            let body = json!({ "type": "Feature", "geometry": { "type": "Polygon", "coordinates": [[[x, y], [x + 0.0015, y], [x + 0.0015, y + 0.0015], [x, y + 0.0015], [x, y]]] },
                "properties": { "zone_code": "BENCH", "project_id": "BENCH-P1", "status": "active", "signed_on": "2026-01-01", "start_on": "2026-02-01" } });
            edit::create(&store, &collections::LEASES, &body, "bench")
                .await
                .unwrap_or_else(|e| panic!("lease {n}: {e}"));
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "| {backend} | lease creation, validated, one transaction each | 0 → {leases} leases in one zone | {:.0} writes/s ({:.2} ms each) |",
            leases as f64 / seconds,
            1000.0 * seconds / leases as f64
        );
        store.close().await;
        if let Some(db) = db {
            admin(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
        }

        // 2. As-of read against a long history.
        let (store, db) = scratch(backend, dir.path(), "edit_history").await;
        zone(&store, 0.5).await;
        let edited = 1_000.min(versions / 2);
        let plots = versions.saturating_sub(edited + 3);
        let side = (plots as f64).sqrt().ceil() as usize;
        let mut batch = Vec::with_capacity(plots);
        for k in 0..plots {
            let (i, j) = ((k % side) as f64, (k / side) as f64);
            let (x, y) = (106.0001 + i * 0.0011, 21.0001 + j * 0.0011);
            let zone_code = "BENCH";
            batch.push(feature(
                &format!("BENCH-{k}"),
                json!({"zone_code": zone_code, "province_code": "VN-56", "code": format!("{k}"), "infra_ready_on": null}),
                Some(rect(x, y, x + 0.001, y + 0.001)),
            ));
        }
        for chunk in batch.chunks(20_000) {
            store.insert(&[(&collections::PLOTS, chunk.to_vec())]).await.unwrap();
        }
        let loaded_at = landbank::store::history::now_us();
        for k in 0..edited {
            let id = format!("BENCH-{k}");
            let current = store.current_version(&collections::PLOTS, &id).await.unwrap().unwrap();
            let patch = json!({ "properties": { "infra_ready_on": "2026-06-30" } });
            edit::update(&store, &collections::PLOTS, &id, &patch, current, "bench").await.unwrap();
        }
        let query = ItemsQuery {
            conditions: vec![Condition::In {
                field: "code".into(),
                values: vec![FilterValue::Text("7".into())],
            }],
            limit: Some(10),
            recorded_at_us: Some(loaded_at),
            ..Default::default()
        };
        let mut times = Vec::new();
        for _ in 0..10 {
            let started = Instant::now();
            let page = store.items(&collections::PLOTS, &query).await.unwrap();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(page.rows.len(), 1);
            assert_eq!(
                page.rows[0].properties["infra_ready_on"],
                serde_json::Value::Null,
                "as it was before the edits"
            );
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {backend} | as-of items (datetime=, one plot by code) | {} versions ({plots} plots, {edited} edits) | median {:.1} ms, p99 {:.1} ms (10 runs) |",
            plots + edited + 3,
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
        store.close().await;
        if let Some(db) = db {
            admin(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
        }
    }
}
