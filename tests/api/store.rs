//! The SQLite store: one transaction per write, clear ingest errors, data that survives a restart.

use std::collections::HashMap;
use std::sync::Arc;

use landbank::collections;
use landbank::ingest::parse_feature_collection;
use landbank::store::history::{self, Op, Write};
use landbank::store::{self, ItemsQuery, NewFeature, Store, StoreError};
use serde_json::json;

use crate::helpers::{Backend, TestApp, scratch_database, spawn_empty_app};

fn zone_feature(code: &str, status: &str, lon: f64) -> serde_json::Value {
    json!({
        "type": "Feature", "id": code,
        "properties": { "code": code, "name": format!("Zone {code}"), "kind": "industrial_park", "province_code": "VN-56", "status": status },
        "geometry": { "type": "Polygon", "coordinates": [[[lon, 21.0], [lon + 0.01, 21.0], [lon + 0.01, 21.01], [lon, 21.01], [lon, 21.0]]] }
    })
}

async fn a_failing_write_leaves_the_store_unchanged(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    let fc = json!({"type": "FeatureCollection", "features": [zone_feature("A-1", "operating", 106.0), zone_feature("A-2", "planned", 106.1)]});
    let zones =
        parse_feature_collection(&collections::ZONES, "zones.geojson", &fc.to_string(), &HashMap::new())
            .unwrap();
    let before = app.store.data_version().await.unwrap();
    app.store.insert(&[(&collections::ZONES, zones.clone())]).await.unwrap();
    assert_eq!(app.store.count(&collections::ZONES).await.unwrap(), 2);
    assert!(app.store.data_version().await.unwrap() > before, "writes bump the data version");

    // A batch whose last record repeats a code: nothing of it is written.
    let fc = json!({"type": "FeatureCollection", "features": [zone_feature("B-1", "operating", 106.2), zone_feature("A-1", "operating", 106.3)]});
    let mut again =
        parse_feature_collection(&collections::ZONES, "zones.geojson", &fc.to_string(), &HashMap::new())
            .unwrap();
    again[1].id = "A-1-bis".into();
    let err = app.store.insert(&[(&collections::ZONES, again)]).await.unwrap_err();
    // SQLite names the column, PostgreSQL the constraint; the user reads what it means, never either.
    let StoreError::Constraint { constraint, .. } = &err else { panic!("{err}") };
    assert!(constraint.contains("zones.code") || constraint == "zones_code_unique", "{constraint}");
    let text = err.to_string();
    assert!(text.starts_with("a zone with this code already exists"), "{text}");
    assert!(!text.contains("UNIQUE") && !text.contains("constraint"), "{text}");
    assert_eq!(app.store.count(&collections::ZONES).await.unwrap(), 2);
    assert!(app.store.item(&collections::ZONES, "B-1").await.unwrap().is_none());

    // A lease of a zone that does not exist is refused before anything is written.
    let fc = json!({"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "L-1",
        "properties": {"zone_code": "NOPE", "status": "active"},
        "geometry": {"type": "Polygon", "coordinates": [[[106.0, 21.0], [106.001, 21.0], [106.001, 21.001], [106.0, 21.0]]]}
    }]});
    let err =
        parse_feature_collection(&collections::LEASES, "leases.geojson", &fc.to_string(), &HashMap::new())
            .unwrap_err();
    assert!(err.to_string().contains("zone_code 'NOPE'"), "{err}");
}

#[test]
fn ingest_errors_name_the_file_feature_and_field() {
    let fc = json!({"type": "FeatureCollection", "features": [zone_feature("A-1", "operating", 106.0), zone_feature("A-2", "open", 106.1)]});
    let err =
        parse_feature_collection(&collections::ZONES, "zones.geojson", &fc.to_string(), &HashMap::new())
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("zones.geojson") && err.contains("feature 1 (A-2)") && err.contains("open"),
        "{err}"
    );

    let mut bowtie = zone_feature("A-3", "operating", 106.0);
    bowtie["geometry"]["coordinates"] =
        json!([[[106.0, 21.0], [106.01, 21.01], [106.01, 21.0], [106.0, 21.01], [106.0, 21.0]]]);
    let fc = json!({"type": "FeatureCollection", "features": [bowtie]});
    let err = parse_feature_collection(&collections::ZONES, "z.geojson", &fc.to_string(), &HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("A-3") && err.contains("geometry") && err.contains("intersect"), "{err}");

    let mut bad_date = zone_feature("A-4", "operating", 106.0);
    bad_date["properties"]["established_on"] = json!("15/03/2005");
    let fc = json!({"type": "FeatureCollection", "features": [bad_date]});
    let err = parse_feature_collection(&collections::ZONES, "z.geojson", &fc.to_string(), &HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("A-4") && err.contains("15/03/2005"), "{err}");

    let err = parse_feature_collection(&collections::ZONES, "z.geojson", "{not json", &HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("z.geojson"), "{err}");
}

async fn data_survives_a_restart(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = scratch_database(backend, false, &dir).await;
    {
        let store = store::open(&db).await.unwrap();
        store.migrate().await.unwrap();
        let fc = json!({"type": "FeatureCollection", "features": [zone_feature("K-1", "operating", 106.0)]});
        let zones =
            parse_feature_collection(&collections::ZONES, "z", &fc.to_string(), &HashMap::new()).unwrap();
        store.insert(&[(&collections::ZONES, zones)]).await.unwrap();
        if backend == Backend::Sqlite {
            assert!(std::path::Path::new(&format!("{db}-wal")).exists(), "WAL journal in use");
        }
        store.close().await;
    }
    let store = store::open(&db).await.unwrap();
    store.migrate().await.unwrap(); // idempotent
    let zone = store.item(&collections::ZONES, "K-1").await.unwrap().unwrap();
    // A 0.01° square at 21° N: about 115 ha on the ellipsoid.
    assert!((zone.area_ha.unwrap() - 115.05).abs() < 0.1, "{:?}", zone.area_ha);
    assert_eq!(zone.properties["status"], "operating");
    assert_eq!(store.count(&collections::ZONES).await.unwrap(), 1);
}

async fn an_empty_store_serves_empty_figures(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    let body = app.get("/occupancy").await.json();
    assert_eq!(body["zones_total"], 0);
    assert_eq!(body["leased_ha"], 0.0);
    assert!(body["occupancy_pct"].is_null());
    let items = app.get("/collections/zones/items").await.json();
    assert_eq!(items["numberMatched"], 0);
    // What tiles, plot pages and the warmer read: nothing, and no error.
    let world = [-180.0, -85.0, 180.0, 85.0];
    let rows = app
        .store
        .json_rows(&collections::PLOTS, store::Within::Box(world), store::Columns::ALL)
        .await
        .unwrap();
    assert!(rows.rows().unwrap().is_empty());
    let none: Vec<String> = vec!["NOPE".into()];
    let leases = app.store.json_rows(
        &collections::LEASES,
        store::Within::FieldIn("zone_code", &none),
        store::Columns::FIELDS,
    );
    assert!(leases.await.unwrap().fields::<landbank::domain::Lease>().unwrap().is_empty());
    assert_eq!(app.get("/tiles/plots/14/13021/7206.mvt").await.status, 204);
    let plots = app.get("/collections/plots/items?at=2024-01-01").await.json();
    assert_eq!(plots["numberMatched"], 0);
    assert_eq!(plots["features"], serde_json::json!([]));
    let state = landbank::http::AppState::new(app.store.clone());
    let zones =
        landbank::warm::warm_once(&app.store, &state.figures, &state.available, landbank::domain::today());
    assert_eq!(zones.await.unwrap(), 0);
}

/// An empty store with one zone, A-1 (0.01° square at 106.0, 21.0, in VN-56), for plots.
async fn store_with_zone(backend: Backend) -> TestApp {
    let app = spawn_empty_app(backend).await;
    let fc = json!({"type": "FeatureCollection", "features": [zone_feature("A-1", "operating", 106.0)]});
    let zones =
        parse_feature_collection(&collections::ZONES, "zones.geojson", &fc.to_string(), &HashMap::new())
            .unwrap();
    app.store.insert(&[(&collections::ZONES, zones)]).await.unwrap();
    app
}

/// A square plot of zone A-1, `side` degrees wide, its south-west corner at (`x`, `y`).
fn square_plot(code: &str, x: f64, y: f64, side: f64) -> serde_json::Value {
    json!({"type": "Feature", "id": code, "properties": {"code": code, "zone_code": "A-1"},
        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]]}})
}

/// Plots as a write takes them (zone A-1's province filled in).
fn plot_batch(features: Vec<serde_json::Value>) -> Vec<NewFeature> {
    let provinces = HashMap::from([("A-1".to_string(), "VN-56".to_string())]);
    let fc = json!({"type": "FeatureCollection", "features": features});
    parse_feature_collection(&collections::PLOTS, "plots.geojson", &fc.to_string(), &provinces).unwrap()
}

/// The deletion of a plot of zone A-1 at its first version.
fn deletion(feature: NewFeature) -> Write {
    Write {
        collection: &collections::PLOTS,
        op: Op::Delete,
        expected_version: Some(1),
        feature,
        actor: "test".into(),
        changed: vec![],
        zones: vec!["A-1".into()],
    }
}

/// The ids of the plots in `bbox`, sorted.
async fn plots_in(store: &Arc<dyn Store>, bbox: [f64; 4]) -> Vec<String> {
    let query = ItemsQuery { bbox: Some(bbox), ..Default::default() };
    let mut ids: Vec<String> =
        store.items(&collections::PLOTS, &query).await.unwrap().rows.into_iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

/// A batch large enough to be copied in (PostgreSQL's `COPY`, for its rows and their first versions)
/// keeps a first version of each record as an edit would, and a record deleted and written again in such
/// a batch continues its numbering.
async fn a_large_batch_keeps_a_first_version_of_every_record(backend: Backend) {
    let app = store_with_zone(backend).await;
    // Plots 0.0008° wide on a 10 × 10 grid, 0.0009° apart.
    let plots = |codes: std::ops::Range<usize>| {
        plot_batch(
            codes
                .map(|k| {
                    let (x, y) =
                        (106.0001 + (k % 10) as f64 * 0.0009, 21.0001 + (k / 10 % 10) as f64 * 0.0009);
                    square_plot(&format!("P-{k:04}"), x, y, 0.0008)
                })
                .collect(),
        )
    };
    let first = plots(0..100);
    let written_42 = first[42].clone();
    // With an empty batch beside it (a file's collection with nothing in it).
    app.store.insert(&[(&collections::PLOTS, first), (&collections::LEASES, vec![])]).await.unwrap();
    let stored = app.store.item(&collections::PLOTS, "P-0042").await.unwrap().expect("stored");
    let versions = app.store.versions(&collections::PLOTS, "P-0042").await.unwrap();
    assert_eq!(versions.len(), 1, "{versions:?}");
    let v = &versions[0];
    assert_eq!((v.version, v.op.as_str(), v.recorded_to_us), (1, "create", None));
    assert_eq!(v.properties.get("code"), Some(&json!("P-0042")));
    assert_eq!(v.properties.get("zone_code"), Some(&json!("A-1")));
    assert_eq!(v.properties.get("province_code"), Some(&json!("VN-56")));
    let (area, stored_area) = (v.area_ha.expect("an area"), stored.area_ha.expect("an area"));
    assert!((area - stored_area).abs() < 1e-9 && area > 0.5, "{area} ha kept, {stored_area} ha stored");
    let kept = v.clone().into_row().multipolygon("plots").unwrap().expect("a geometry");
    assert_eq!(Some(&kept), written_42.geometry.as_ref(), "the version keeps the geometry written");
    // As of now, every record reads back from history.
    let as_of = app.store.rows_as_of(&collections::PLOTS, history::now_us(), &[]).await.unwrap();
    assert_eq!(as_of.len(), 100);

    // Deleted, then written again in another large batch: version 3 after the create and the deletion.
    app.store.write(&deletion(written_42)).await.unwrap();
    let mut again = plots(100..199);
    again.extend(plots(42..43));
    app.store.insert(&[(&collections::PLOTS, again)]).await.unwrap();
    let versions = app.store.versions(&collections::PLOTS, "P-0042").await.unwrap();
    let summary: Vec<(i64, &str, bool)> =
        versions.iter().map(|v| (v.version, v.op.as_str(), v.recorded_to_us.is_none())).collect();
    assert_eq!(summary, [(1, "create", false), (2, "delete", false), (3, "create", true)]);
    assert_eq!(app.store.current_version(&collections::PLOTS, "P-0042").await.unwrap(), Some(3));
    assert_eq!(app.store.versions(&collections::PLOTS, "P-0150").await.unwrap().len(), 1);
}

/// A first import into an empty SQLite store packs the plots' spatial index whole instead of inserting
/// box by box: SQLite's own `rtreecheck` finds it sound, a box finds exactly the plots in it, edits after
/// it (new plots, a deletion) go into the packed index as into any other, and a larger batch packs it
/// whole again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_import_packs_the_spatial_index_soundly() {
    use sqlx::Connection;
    let app = store_with_zone(Backend::Sqlite).await;
    // Plots 0.00015° wide on a grid 50 columns wide, 0.00018° apart, from `lat`.
    let plot = |code: String, i: usize, j: usize, lat: f64| {
        square_plot(&code, 106.0001 + i as f64 * 0.00018, lat + j as f64 * 0.00018, 0.00015)
    };
    let grid = plot_batch((0..2500).map(|k| plot(format!("G-{k:04}"), k % 50, k / 50, 21.0001)).collect());
    app.store.insert(&[(&collections::PLOTS, grid)]).await.unwrap();

    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", app.database)).await.unwrap();
    async fn check(db: &mut sqlx::SqliteConnection) -> String {
        sqlx::query_scalar("SELECT rtreecheck('plots_rtree')").fetch_one(db).await.unwrap()
    }
    async fn nodes(db: &mut sqlx::SqliteConnection) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM plots_rtree_node").fetch_one(db).await.unwrap()
    }
    assert_eq!(check(&mut db).await, "ok");
    // Packed full: 50 leaves of 50 boxes and the root, where SQLite's inserts leave leaves part empty.
    assert_eq!(nodes(&mut db).await, 51);
    // Columns 10–19 and rows 5–7 of the grid, found through the index.
    let (west, south) = (106.0001 + 10.0 * 0.00018 + 0.00001, 21.0001 + 5.0 * 0.00018 + 0.00001);
    let middle = [west, south, 106.0001 + 19.0 * 0.00018 + 0.0001, 21.0001 + 7.0 * 0.00018 + 0.0001];
    let expected: Vec<String> =
        (5..8).flat_map(|j| (10..20).map(move |i| format!("G-{:04}", j * 50 + i))).collect();
    assert_eq!(plots_in(&app.store, middle).await, expected);

    // Afterwards, SQLite's own inserts and deletions keep the packed index sound.
    let more = plot_batch(vec![plot("N-1".into(), 12, 6, 21.0001), plot("N-2".into(), 40, 40, 21.0001)]);
    app.store.insert(&[(&collections::PLOTS, more)]).await.unwrap();
    let gone = app.store.item(&collections::PLOTS, "G-0310").await.unwrap().unwrap();
    let geometry = gone.multipolygon("plots").unwrap();
    let gone =
        NewFeature { id: gone.id, properties: gone.properties, geometry, source_crs: "EPSG:4326".into() };
    app.store.write(&deletion(gone)).await.unwrap();
    assert_eq!(check(&mut db).await, "ok");
    let mut expected: Vec<String> = expected.into_iter().filter(|id| id != "G-0310").collect();
    expected.push("N-1".into());
    expected.sort();
    assert_eq!(plots_in(&app.store, middle).await, expected);

    // A batch larger than the tree (a second province's import) packs it whole again, old boxes and new.
    let north = plot_batch((0..2600).map(|k| plot(format!("H-{k:04}"), k % 50, k / 50, 21.0201)).collect());
    app.store.insert(&[(&collections::PLOTS, north)]).await.unwrap();
    assert_eq!(check(&mut db).await, "ok");
    // 5,101 boxes: 101 leaves, 2 nodes above them, the root.
    assert_eq!(nodes(&mut db).await, 104);
    assert_eq!(plots_in(&app.store, middle).await, expected);
    let north_corner = [106.0, 21.0201, 106.0004, 21.0203];
    assert_eq!(plots_in(&app.store, north_corner).await, ["H-0000", "H-0001", "H-0050", "H-0051"]);
}

/// A plot's geometry reads back exactly as written, as the same text on both stores, on every read path:
/// one record, a page, a page as text, a box (whose exact test sees the hole), and rows read together
/// for figures and tiles. PostGIS hands geometry over as WKB, written as text or parsed by landbank.
async fn geometry_reads_back_exactly_on_every_path(backend: Backend) {
    let app = store_with_zone(backend).await;
    // A plot with a hole, and one of two parts, with coordinates of every length.
    let (x, y) = (106.00123456789012, 21.00198765432101);
    let with_hole = json!({"type": "Feature", "id": "H", "properties": {"code": "H", "zone_code": "A-1"},
    "geometry": {"type": "Polygon", "coordinates": [
        [[x, y], [x + 0.003, y], [x + 0.003, y + 0.003], [x, y + 0.003], [x, y]],
        [[x + 0.001, y + 0.001], [x + 0.001, y + 0.002], [x + 0.002, y + 0.002], [x + 0.002, y + 0.001], [x + 0.001, y + 0.001]]
    ]}});
    let two_parts = json!({"type": "Feature", "id": "M", "properties": {"code": "M", "zone_code": "A-1"},
    "geometry": {"type": "MultiPolygon", "coordinates": [
        [[[106.006, 21.006], [106.007, 21.006], [106.007, 21.007], [106.006, 21.006]]],
        [[[106.008, 21.008], [106.0095, 21.008], [106.0095, 21.0095], [106.008, 21.0095], [106.008, 21.008]]]
    ]}});
    let written = plot_batch(vec![with_hole, two_parts]);
    let shapes: HashMap<String, geo::MultiPolygon> =
        written.iter().map(|f| (f.id.clone(), f.geometry.clone().expect("a geometry"))).collect();
    let texts: HashMap<String, String> =
        shapes.iter().map(|(id, g)| (id.clone(), landbank::spatial::to_geojson(g).to_string())).collect();
    app.store.insert(&[(&collections::PLOTS, written)]).await.unwrap();

    for id in ["H", "M"] {
        let row = app.store.item(&collections::PLOTS, id).await.unwrap().expect("stored");
        assert_eq!(row.geometry.as_ref(), Some(&texts[id]), "one record, {id}");
    }
    let page = app.store.items(&collections::PLOTS, &ItemsQuery::default()).await.unwrap();
    for row in &page.rows {
        assert_eq!(row.geometry.as_ref(), Some(&texts[&row.id]), "a page, {}", row.id);
    }
    let page = app.store.items_json(&collections::PLOTS, &ItemsQuery::default()).await.unwrap();
    for row in page.parsed().unwrap() {
        let id: String = serde_json::from_str(row.id.get()).unwrap();
        let text = row.geometry.map(|g| g.text().unwrap().into_owned());
        assert_eq!(text.as_ref(), Some(&texts[&id]), "a page as text, {id}");
    }
    // A box inside the hole meets the plot's box but not the plot; one over the second part meets it.
    let in_hole = [x + 0.0012, y + 0.0012, x + 0.0018, y + 0.0018];
    assert_eq!(plots_in(&app.store, in_hole).await, Vec::<String>::new(), "the hole is not the plot");
    assert_eq!(plots_in(&app.store, [106.009, 21.009, 106.0091, 21.0091]).await, ["M"]);
    assert_eq!(plots_in(&app.store, [x + 0.0005, y + 0.0012, x + 0.0015, y + 0.0018]).await, ["H"]);
    // Rows read together, as text and as shapes.
    let everywhere = store::Within::Box([105.9, 20.9, 106.1, 21.1]);
    let rows = app.store.json_rows(&collections::PLOTS, everywhere, store::Columns::ALL).await.unwrap();
    for row in rows.rows().unwrap() {
        assert_eq!(row.geometry.as_ref(), Some(&texts[&row.id]), "rows read together, {}", row.id);
    }
    for (row, shape) in rows.rows_with_shapes().unwrap() {
        assert_eq!(shape.as_ref(), Some(&shapes[&row.id]), "shapes read together, {}", row.id);
    }
}

/// Each write moves the version of the collections it wrote, and only theirs: a lease signed leaves the
/// plots' version (which their tiles' drawings key on) where it was; a plot deleted moves it.
async fn each_write_moves_the_versions_of_what_it_wrote(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    let versions = || async {
        let mut v = Vec::new();
        for c in [&collections::ZONES, &collections::PLOTS, &collections::LEASES] {
            v.push(app.store.data_versions(c).await.unwrap().collection);
        }
        v
    };
    assert_eq!(versions().await, [0, 0, 0], "nothing written yet");
    let zones = ["A-1".to_string(), "B-2".to_string()];
    let never = app.store.zone_versions(&zones).await.unwrap();
    assert_eq!(never.read_at, Some(app.store.data_version().await.unwrap()), "read at, even with no zone");
    assert!(never.zones.is_empty());
    let load = |collection: &'static collections::Collection, features: serde_json::Value| {
        let fc = json!({"type": "FeatureCollection", "features": features}).to_string();
        let zones = [("A-1".to_string(), "VN-56".to_string())].into_iter().collect();
        (collection, parse_feature_collection(collection, "t", &fc, &zones).unwrap())
    };
    let square = json!({"type": "Polygon", "coordinates": [[[106.001, 21.001], [106.003, 21.001], [106.003, 21.003], [106.001, 21.003], [106.001, 21.001]]]});
    let zone = load(&collections::ZONES, json!([zone_feature("A-1", "operating", 106.0)]));
    let plot = load(
        &collections::PLOTS,
        json!([{"type": "Feature", "id": "A-1-P1", "geometry": square, "properties": {"zone_code": "A-1", "code": "P1"}}]),
    );
    app.store.insert(&[zone, plot]).await.unwrap();
    let first = app.store.data_version().await.unwrap();
    assert_eq!(app.store.data_versions(&collections::LEASES).await.unwrap().data, first);
    assert_eq!(versions().await, [first, first, 0]);
    let lease = load(
        &collections::LEASES,
        json!([{"type": "Feature", "id": "L1", "geometry": square,
            "properties": {"zone_code": "A-1", "plot_codes": "P1", "status": "active", "start_on": "2024-01-01"}}]),
    );
    app.store.insert(&[lease]).await.unwrap();
    let second = app.store.data_version().await.unwrap();
    assert!(second > first);
    assert_eq!(versions().await, [first, first, second], "a lease leaves zones and plots as they were");
    let zone_versions = app.store.zone_versions(&zones).await.unwrap();
    assert_eq!(zone_versions.read_at, Some(second), "read at the version of the last write");
    assert_eq!((zone_versions.of("A-1"), zone_versions.of("B-2")), (second, 0), "B-2 was never written");
    let stored = app.store.item(&collections::PLOTS, "A-1-P1").await.unwrap().unwrap();
    let feature = NewFeature {
        id: stored.id.clone(),
        properties: stored.properties.clone(),
        geometry: stored.multipolygon("plots").unwrap(),
        source_crs: "EPSG:4326".into(),
    };
    app.store.write(&deletion(feature)).await.unwrap();
    let third = app.store.data_version().await.unwrap();
    assert!(third > second);
    assert_eq!(versions().await, [first, third, second], "a plot deleted moves the plots' version");
}

crate::contract!(
    each_write_moves_the_versions_of_what_it_wrote,
    geometry_reads_back_exactly_on_every_path,
    a_large_batch_keeps_a_first_version_of_every_record,
    a_failing_write_leaves_the_store_unchanged,
    data_survives_a_restart,
    an_empty_store_serves_empty_figures
);
