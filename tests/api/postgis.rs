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
