//! What only the PostGIS store must show: real geometry columns for QGIS, the same numbers as SQLite,
//! and a service that survives losing its database.

use std::time::Duration;

use serde_json::Value;
use sqlx::{Connection, PgConnection, Row};

use crate::helpers::{Backend, admin, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_have_real_geometry_columns_with_gist_indexes() {
    let app = spawn_app(Backend::Postgis).await;
    let mut conn = PgConnection::connect(&app.database).await.unwrap();
    let columns = sqlx::query("SELECT f_table_name, type, srid FROM geometry_columns ORDER BY f_table_name")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    for table in ["zones", "land_use", "plots", "leases", "clearance_parcels"] {
        let row = columns.iter().find(|r| r.get::<String, _>("f_table_name") == table).expect(table);
        assert_eq!(row.get::<String, _>("type"), "MULTIPOLYGON");
        assert_eq!(row.get::<i32, _>("srid"), 4326);
        let gist: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%USING gist (geom)%'",
        )
        .bind(table)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(gist, 1, "{table} has a GiST index on geom");
    }
    // PostGIS itself agrees with the areas landbank computed (geodesic on WGS 84).
    let worst: f64 =
        sqlx::query_scalar("SELECT max(abs(ST_Area(geom::geography) / 10000 - area_ha)) FROM plots")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(worst < 1e-6, "area_ha differs from ST_Area(geography) by {worst} ha");
    // Kept figures are compressed with lz4 (this server has it), not pglz: a third of the database's time
    // went to pglz while a province's figures were kept.
    let compression: String = sqlx::query_scalar(
        "SELECT attcompression::text FROM pg_attribute WHERE attrelid = 'kept_figures'::regclass AND attname = 'pieces'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(compression, "l", "kept_figures.pieces compression");
}

/// Drops fields that differ by nature between two responses (time, host).
fn comparable(mut v: Value) -> Value {
    if let Some(map) = v.as_object_mut() {
        map.remove("timeStamp");
        map.remove("links");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_stores_serve_the_same_features_and_numbers() {
    let sqlite = spawn_app(Backend::Sqlite).await;
    let postgis = spawn_app(Backend::Postgis).await;
    for uri in [
        "/occupancy?at=2023-11-17",
        "/occupancy?at=2012-06-30&status=operating",
        "/occupancy?province_code=VN-40",
        "/zones/BN-QV1/occupancy?at=2020-01-01",
        "/collections/zones/items?limit=100",
        "/collections/plots/items?bbox=106.10,21.14,106.14,21.19&limit=1000",
        "/collections/leases/items?zone_code=BN-TS&status=active&limit=1000",
        "/collections/clearance_parcels/items?offset=300&limit=50",
        "/collections/projects/items?origin=fdi&limit=20",
        "/collections/land_use/items/BN-QV1-LU01",
        "/collections",
        "/available?at=2023-11-17&limit=1000",
        "/available?province_code=VN-56&near=106.05,21.1&sortby=distance_km&ready=true",
        "/collections/available_land/items?limit=5&offset=5",
    ] {
        let a = sqlite.get(uri).await;
        let b = postgis.get(uri).await;
        assert_eq!(a.status, 200, "{uri}: {}", a.text());
        assert_eq!(b.status, 200, "{uri}: {}", b.text());
        assert_eq!(comparable(a.json()), comparable(b.json()), "{uri} differs between stores");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_database_gives_503_and_the_service_recovers_by_itself() {
    let app = spawn_app(Backend::Postgis).await;
    assert_eq!(app.get("/readyz").await.status, 200);
    let name = url::Url::parse(&app.database).unwrap().path().trim_start_matches('/').to_string();

    // The database goes away: no new connections, existing ones killed.
    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    admin(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()")).await;

    let ready = app.get("/readyz").await;
    assert!(ready.problem(503).contains("unavailable"), "{}", ready.text());
    let items = app.get("/collections/zones/items").await;
    items.problem(503);
    app.get("/occupancy?province_code=VN-56").await.problem(503);

    // It comes back: the pool reconnects without a restart.
    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    let mut recovered = false;
    for _ in 0..50 {
        if app.get("/readyz").await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "the service did not recover");
    let body = app.get("/occupancy?province_code=VN-56&at=2023-11-17").await.json();
    assert_eq!(body["leased_ha"], 2481.57);
}

/// A database restarted while the service sat idle: the pool's connections died with it, and the next
/// request is still answered, each dead connection found by a ping before use and replaced (without
/// a ping on every use, which costs a round trip per statement under load).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_died_while_idle_are_replaced_before_use() {
    let app = spawn_app(Backend::Postgis).await;
    // Two requests at once, so that the pool holds more than one connection.
    let (a, b) = tokio::join!(app.get("/collections/plots/items?limit=5"), app.get("/occupancy"));
    assert_eq!((a.status.as_u16(), b.status.as_u16()), (200, 200));
    let name = url::Url::parse(&app.database).unwrap().path().trim_start_matches('/').to_string();
    admin(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()")).await;
    tokio::time::sleep(landbank::store::PING_AFTER_IDLE + Duration::from_millis(200)).await;

    let items = app.get("/collections/plots/items?limit=5").await;
    assert_eq!(items.status, 200, "{}", items.text());
    assert_eq!(items.json()["features"].as_array().unwrap().len(), 5);
    let body = app.get("/occupancy?province_code=VN-56&at=2023-11-17").await.json();
    assert_eq!(body["leased_ha"], 2481.57);
}

/// Each zone's leasable and leased hectares on the date `$1`, computed by PostGIS alone from the stored
/// tables (`ST_Union`, `ST_Intersection`, `ST_Area(geography)`): the formulas of docs/api.md in SQL.
const ORACLE: &str = "WITH plan AS (
          SELECT z.code, ST_Intersection(ST_Union(lu.geom), z.geom) AS land
          FROM zones z JOIN land_use lu ON lu.zone_code = z.code
          WHERE z.geom IS NOT NULL AND lu.category IN ('industrial', 'warehouse')
            AND (lu.valid_from IS NULL OR lu.valid_from <= $1::date) AND (lu.valid_to IS NULL OR lu.valid_to > $1::date)
          GROUP BY z.code, z.geom),
        held AS (
          SELECT l.zone_code AS code, ST_Union(l.geom) AS g FROM leases l
          WHERE l.status IN ('active', 'terminated', 'revoked')
            AND NOT (l.status IN ('terminated', 'revoked') AND l.end_on IS NULL)
            AND (l.end_on IS NULL OR l.end_on > $1::date) AND (l.start_on IS NULL OR l.start_on <= $1::date)
          GROUP BY l.zone_code)
        SELECT p.code, ST_Area(p.land::geography) / 10000 AS leasable,
               COALESCE(ST_Area(ST_Intersection(h.g, p.land)::geography) / 10000, 0) AS leased
        FROM plan p LEFT JOIN held h ON h.code = p.code";

/// PostGIS as an independent oracle: each zone's leasable and leased hectares, computed in SQL with
/// `ST_Union`, `ST_Intersection` and `ST_Area(geography)` from the same tables, equal landbank's
/// (geo in Rust) to 0.01 ha, on two dates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zone_figures_equal_postgis_own_geometry_functions() {
    let app = spawn_app(Backend::Postgis).await;
    let mut conn = PgConnection::connect(&app.database).await.unwrap();
    let oracle = ORACLE;
    for at in ["2023-11-17", "2010-06-30"] {
        let rows = sqlx::query(oracle).bind(at).fetch_all(&mut conn).await.unwrap();
        assert!(rows.len() > 20, "{} zones with a plan on {at}", rows.len());
        let ours = app.get(&format!("/occupancy?at={at}&status=all")).await.json();
        let zones = ours["zones"].as_array().unwrap();
        for row in rows {
            let code: String = row.get("code");
            let zone = zones.iter().find(|z| z["zone_code"] == code.as_str()).unwrap();
            for (key, column) in [("leasable_ha", "leasable"), ("leased_ha", "leased")] {
                let (theirs, mine): (f64, f64) = (row.get(column), zone[key].as_f64().unwrap());
                assert!((theirs - mine).abs() <= 0.011, "{code} on {at}: {key} {mine}, PostGIS {theirs}");
            }
        }
    }
}

/// The same oracle on generated zones: random overlapping land use (some of it ending), leases active,
/// reserved, ended, on a 100 m grid where edges coincide and boolean operations leave slivers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_zones_agree_with_postgis() {
    use landbank::collections;
    use landbank::store::NewFeature;
    use serde_json::json;
    let app = crate::helpers::spawn_empty_app(Backend::Postgis).await;
    // A small deterministic generator (xorshift), so that a failure is reproduced by running again.
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let rect = |x0: f64, y0: f64, w: f64, h: f64| {
        geo::MultiPolygon(vec![geo::Rect::new((x0, y0), (x0 + w, y0 + h)).to_polygon()])
    };
    let feature = |id: String, properties: Value, geometry| NewFeature {
        id,
        properties: properties.as_object().unwrap().clone(),
        geometry: Some(geometry),
        source_crs: "EPSG:4326".into(),
    };
    let (mut zones, mut plans, mut leases) = (vec![], vec![], vec![]);
    for z in 0..40u64 {
        let (x, y) = (103.0 + (z % 8) as f64 * 0.05, 22.0 + (z / 8) as f64 * 0.05);
        let code = format!("R{z:02}");
        zones.push(feature(
            code.clone(),
            json!({ "code": code, "name": code, "kind": "industrial_park",
            "province_code": "VN-01", "status": "operating", "established_on": "2000-01-01" }),
            rect(x, y, 0.03, 0.02),
        ));
        for p in 0..(1 + next(4)) {
            let g = rect(
                x + next(20) as f64 * 0.001,
                y + next(14) as f64 * 0.001,
                (1 + next(12)) as f64 * 0.001,
                (1 + next(8)) as f64 * 0.001,
            );
            let until = (next(3) == 0).then(|| format!("{}-06-01", 2012 + next(14)));
            plans.push(feature(
                format!("{code}-LU{p}"),
                json!({ "zone_code": code, "province_code": "VN-01",
                "category": if next(4) == 0 { "warehouse" } else { "industrial" }, "valid_to": until }),
                g,
            ));
        }
        for l in 0..next(8) {
            let g = rect(
                x + next(24) as f64 * 0.001,
                y + next(16) as f64 * 0.001,
                (1 + next(8)) as f64 * 0.001,
                (1 + next(6)) as f64 * 0.001,
            );
            let start = 2000 + next(30);
            let status = ["active", "reserved", "terminated", "active"][next(4) as usize];
            let end =
                (status == "terminated" || next(3) == 0).then(|| format!("{}-06-01", start + 1 + next(10)));
            leases.push(feature(format!("{code}-L{l}"), json!({ "zone_code": code, "province_code": "VN-01", "status": status,
                "signed_on": format!("{}-01-01", start), "start_on": format!("{start}-06-01"), "end_on": end }), g));
        }
    }
    app.store
        .insert(&[
            (&collections::ZONES, zones),
            (&collections::LAND_USE, plans),
            (&collections::LEASES, leases),
        ])
        .await
        .unwrap();
    let mut conn = PgConnection::connect(&app.database).await.unwrap();
    let oracle = ORACLE;
    let mut compared = 0;
    for at in ["2005-01-01", "2015-01-01", "2025-01-01", "2035-01-01"] {
        let ours = app.get(&format!("/occupancy?at={at}&status=all")).await.json();
        let zones = ours["zones"].as_array().unwrap();
        for row in sqlx::query(oracle).bind(at).fetch_all(&mut conn).await.unwrap() {
            let code: String = row.get("code");
            let zone = zones.iter().find(|z| z["zone_code"] == code.as_str()).unwrap();
            for (key, column) in [("leasable_ha", "leasable"), ("leased_ha", "leased")] {
                let (theirs, mine): (f64, f64) = (row.get(column), zone[key].as_f64().unwrap());
                assert!((theirs - mine).abs() <= 0.011, "{code} on {at}: {key} {mine}, PostGIS {theirs}");
            }
            compared += 1;
        }
    }
    assert!(compared > 100, "{compared} zone-dates compared");
}

/// A server started before its database waits for it, saying so in its log, and serves once it exists
/// (containers and reboots start them in any order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_waits_for_a_database_that_is_not_there_yet() {
    use std::process::{Command, Stdio};
    let name = crate::helpers::unique_name("late");
    let url = crate::helpers::database_url(&name);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_landbank"))
        .args(["--database", &url, "serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ready = format!("http://127.0.0.1:{port}/readyz");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(server.try_wait().unwrap().is_none(), "serve exited instead of waiting");
    assert!(reqwest::get(&ready).await.is_err(), "nothing listens before the database exists");
    admin(&format!("CREATE DATABASE {name}")).await;
    let mut up = false;
    for _ in 0..150 {
        if reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = server.kill();
    let out = server.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(up, "the server never became ready: {log}");
    assert!(log.contains("waiting for the database"), "{log}");
}

/// A read-only database (a streaming replica, see docs/deployment.md) answers every figure as the
/// primary does; the figures it computes are kept in memory only, without an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_answers_figures_and_keeps_them_in_memory_only() {
    use landbank::occupancy::KEPT_KIND;
    let primary = spawn_app(Backend::Postgis).await;
    let questions = [
        "/occupancy?province_code=VN-56&at=2023-11-17",
        "/available?zone_code=BN-QV3&at=2026-12-01&limit=100",
    ];
    let name = primary.database.rsplit('/').next().unwrap().to_string();
    admin(&format!("ALTER DATABASE {name} SET default_transaction_read_only = on")).await;
    // A new store opens new connections, which are read-only now.
    let store = landbank::store::open(&primary.database).await.unwrap();
    let replica = crate::helpers::TestApp::from_parts(
        store.clone(),
        landbank::http::router(landbank::http::AppState::new(store.clone())),
        primary.database.clone(),
        tempfile::tempdir().unwrap(),
    );
    // What is computed, not when the answer was written.
    let figures = |body: Value| body.get("features").cloned().unwrap_or(body);
    for q in questions {
        let first = replica.get(q).await;
        assert_eq!(first.status, 200, "{q}: {}", first.text());
        assert_eq!(figures(replica.get(q).await.json()), figures(first.json()), "{q}: kept in memory");
    }
    assert!(store.kept(KEPT_KIND, &["BN-QV3".to_string()]).await.unwrap().is_empty(), "nothing written");
    assert!(!store.keep(KEPT_KIND, &[("BN-QV3".into(), 1, "[]".into())]).await.unwrap());
    admin(&format!("ALTER DATABASE {name} RESET default_transaction_read_only")).await;
    for q in questions {
        let (p, r) = (figures(primary.get(q).await.json()), figures(replica.get(q).await.json()));
        assert_eq!(p, r, "{q}: the same as the primary");
    }
}

/// A bulk write (an import, a first load) leaves PostgreSQL's planner counting the rows it wrote, before
/// the first question after it: with the counts of an empty table, the reads of a zone's leases after a
/// national import were planned as parallel scans, two to three times slower.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_write_leaves_the_planner_counting_its_rows() {
    use landbank::synthetic::{Spec, generate};
    let app = crate::helpers::spawn_empty_app(Backend::Postgis).await;
    let data = generate(&Spec::province(16));
    let (plots, leases) = (data.plots.len(), data.leases.len());
    assert!(plots >= 1_000 && leases >= 1_000, "{plots} plots, {leases} leases: too few to count");
    app.store.insert(&data.batches()).await.unwrap();
    let mut conn = PgConnection::connect(&app.database).await.unwrap();
    for (table, rows) in [("plots", plots), ("leases", leases)] {
        let counted: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = $1::regclass")
            .bind(table)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(
            (counted - rows as f32).abs() <= 0.01 * rows as f32,
            "{table}: planner counts {counted} of {rows}"
        );
    }
}
