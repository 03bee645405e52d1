//! Available land: hand-made zones whose pieces are known exactly, the additivity check on the demo, every
//! filter, sorting by distance, no tenant data, and a cache that never serves a stale answer.

use std::collections::HashMap;

use geo::{LineString, MultiPolygon, Polygon};
use landbank::collections::{self, Collection};
use landbank::ingest::{parse_feature_collection, zone_provinces};
use landbank::spatial::area_ha;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app, spawn_empty_app};

/// Near Bắc Ninh: offsets in degrees from (106.0, 21.0) for zone Z-1, (106.5, 21.0) for Z-2.
fn ring(x0: f64, corners: &[(f64, f64)]) -> Vec<Vec<f64>> {
    let mut ring: Vec<Vec<f64>> = corners.iter().map(|(x, y)| vec![x0 + x, 21.0 + y]).collect();
    ring.push(ring[0].clone());
    ring
}

fn rect(x0: f64, a: f64, b: f64, c: f64, d: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [ring(x0, &[(a, b), (c, b), (c, d), (a, d)])]})
}

fn polygon(x0: f64, corners: &[(f64, f64)]) -> MultiPolygon {
    let coords: Vec<(f64, f64)> = corners.iter().map(|(x, y)| (x0 + x, 21.0 + y)).collect();
    MultiPolygon(vec![Polygon::new(LineString::from(coords), vec![])])
}

fn feature(id: &str, properties: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "id": id, "properties": properties, "geometry": geometry})
}

async fn load(app: &TestApp, batches: Vec<(&'static Collection, Vec<Value>)>) {
    let mut parsed = Vec::new();
    let mut zones = HashMap::new();
    for (collection, features) in batches {
        let fc = json!({"type": "FeatureCollection", "features": features}).to_string();
        let features = parse_feature_collection(collection, "fixture", &fc, &zones).unwrap();
        if collection.id == "zones" {
            zones = zone_provinces(&features);
        }
        parsed.push((collection, features));
    }
    app.store.insert(&parsed).await.unwrap();
}

const Z1: f64 = 106.0;
const Z2: f64 = 106.5;

/// Z-1: industrial land [0, 0.02] × [0, 0.01] split by two overlapping active leases, a reserved lease in its
/// south-east corner, a lease crossing its east edge, and a lease that ended in 2020.
/// Z-2 (wastewater plant working): a lease that leaves a 0.02 ha sliver, and a free, ready block.
async fn hand_made(backend: Backend) -> TestApp {
    let app = spawn_empty_app(backend).await;
    let lease = |id: &str, zone: &str, status: &str, start: &str, end: Option<&str>, g: Value| {
        feature(
            id,
            json!({"zone_code": zone, "status": status, "signed_on": start, "start_on": if status == "reserved" { Value::Null } else { json!(start) }, "end_on": end}),
            g,
        )
    };
    load(
        &app,
        vec![
            (
                &collections::ZONES,
                vec![
                    feature("Z-1", json!({"code": "Z-1", "name": "Một", "kind": "industrial_park", "province_code": "VN-56", "status": "operating", "wwtp_operating": false}), rect(Z1, 0.0, 0.0, 0.03, 0.01)),
                    feature("Z-2", json!({"code": "Z-2", "name": "Hai", "kind": "industrial_park", "province_code": "VN-56", "status": "operating", "wwtp_operating": true, "wwtp_capacity_m3d": 5000}), rect(Z2, 0.0, 0.0, 0.02, 0.01)),
                ],
            ),
            (
                &collections::LAND_USE,
                vec![
                    feature("Z-1-I", json!({"zone_code": "Z-1", "category": "industrial"}), rect(Z1, 0.0, 0.0, 0.02, 0.01)),
                    feature("Z-1-G", json!({"zone_code": "Z-1", "category": "green"}), rect(Z1, 0.02, 0.0, 0.03, 0.01)),
                    feature("Z-2-I", json!({"zone_code": "Z-2", "category": "industrial"}), rect(Z2, 0.0, 0.0, 0.02, 0.01)),
                ],
            ),
            (
                &collections::PLOTS,
                vec![
                    feature("Z-1-P1", json!({"zone_code": "Z-1", "code": "P1", "infra_ready_on": "2015-01-01"}), rect(Z1, 0.0, 0.0, 0.005, 0.01)),
                    feature("Z-1-P2", json!({"zone_code": "Z-1", "code": "P2"}), rect(Z1, 0.005, 0.0, 0.02, 0.01)),
                    feature("Z-2-P1", json!({"zone_code": "Z-2", "code": "P1", "infra_ready_on": "2015-01-01"}), rect(Z2, 0.0, 0.0, 0.02, 0.01)),
                ],
            ),
            (
                &collections::LEASES,
                vec![
                    lease("A", "Z-1", "active", "2016-01-01", None, rect(Z1, 0.005, 0.0, 0.007, 0.01)),
                    lease("D", "Z-1", "active", "2016-06-01", None, rect(Z1, 0.006, 0.0, 0.008, 0.01)),
                    lease("B", "Z-1", "reserved", "2021-01-01", None, rect(Z1, 0.015, 0.0, 0.02, 0.005)),
                    lease("E", "Z-1", "active", "2017-01-01", None, rect(Z1, 0.019, 0.005, 0.025, 0.01)),
                    lease("C", "Z-1", "terminated", "2010-01-01", Some("2020-01-01"), rect(Z1, 0.0, 0.0, 0.002, 0.01)),
                    lease("S", "Z-2", "active", "2016-01-01", None, rect(Z2, 0.000002, 0.0, 0.01, 0.01)),
                ],
            ),
            (
                &collections::CLEARANCE_PARCELS,
                vec![
                    feature("Z-1-T1", json!({"zone_code": "Z-1", "sheet_no": "1", "parcel_no": "1", "status": "handed_over", "handed_over_on": "2014-01-01"}), rect(Z1, 0.0, 0.0, 0.01, 0.01)),
                    feature("Z-1-T2", json!({"zone_code": "Z-1", "sheet_no": "1", "parcel_no": "2", "status": "compensated"}), rect(Z1, 0.01, 0.0, 0.03, 0.01)),
                    feature("Z-2-T1", json!({"zone_code": "Z-2", "sheet_no": "1", "parcel_no": "1", "status": "handed_over"}), rect(Z2, 0.0, 0.0, 0.02, 0.01)),
                ],
            ),
        ],
    )
    .await;
    app
}

fn pieces(body: &Value) -> Vec<&Value> {
    body["features"].as_array().unwrap_or_else(|| panic!("not a FeatureCollection: {body}")).iter().collect()
}

fn ha(f: &Value, key: &str) -> f64 {
    f["properties"][key].as_f64().unwrap()
}

/// A search by box finds land of the zones that meet it, and of a zone without a boundary (whose land is
/// wherever its land use is), and not of the zones away from it.
async fn a_search_by_box_finds_zones_without_a_boundary(backend: Backend) {
    let app = hand_made(backend).await;
    load(
        &app,
        vec![
            (
                &collections::ZONES,
                vec![json!({"type": "Feature", "id": "Z-3", "geometry": null, "properties": {"code": "Z-3",
                    "name": "Ba", "kind": "industrial_park", "province_code": "VN-56", "status": "operating"}})],
            ),
            (
                &collections::LAND_USE,
                vec![feature("Z-3-I", json!({"zone_code": "Z-3", "category": "industrial"}), rect(Z1, 0.1, 0.0, 0.11, 0.01))],
            ),
        ],
    )
    .await;
    let zones = |uri: &str| {
        let app = &app;
        let uri = uri.to_string();
        async move {
            let body = app.get(&uri).await.json();
            let mut zones: Vec<String> = pieces(&body)
                .iter()
                .map(|p| p["properties"]["zone_code"].as_str().unwrap().to_string())
                .collect();
            zones.dedup();
            zones
        }
    };
    // Around Z-3's land (106.10–106.11): Z-3 only; around Z-1: Z-1 only.
    assert_eq!(zones("/available?bbox=106.095,20.99,106.115,21.02&at=2022-01-01").await, ["Z-3"]);
    assert_eq!(zones("/available?bbox=105.99,20.99,106.01,21.02&at=2022-01-01").await, ["Z-1"]);
    let everything = zones("/available?at=2022-01-01").await;
    assert!(
        everything.contains(&"Z-3".to_string()) && everything.contains(&"Z-2".to_string()),
        "{everything:?}"
    );
}

async fn pieces_of_hand_made_zones_are_exact(backend: Backend) {
    let app = hand_made(backend).await;
    let body = app.get("/available?zone_code=Z-1&at=2024-01-01").await.json();
    let got = pieces(&body);
    assert_eq!(got.len(), 2, "{body}");
    let west = area_ha(&polygon(Z1, &[(0.0, 0.0), (0.005, 0.0), (0.005, 0.01), (0.0, 0.01)]));
    // East of the overlapping leases A and D, minus reserved B and the inside part of E.
    let east = area_ha(&polygon(
        Z1,
        &[(0.008, 0.0), (0.015, 0.0), (0.015, 0.005), (0.019, 0.005), (0.019, 0.01), (0.008, 0.01)],
    ));
    assert!((ha(got[0], "area_ha") - west).abs() < 1e-3, "{} vs {west}", ha(got[0], "area_ha"));
    assert!((ha(got[1], "area_ha") - east).abs() < 1e-3, "{} vs {east}", ha(got[1], "area_ha"));
    // The west piece is on handed-over land with infrastructure: ready. The east one is cleared up to 0.01°.
    assert_eq!(got[0]["properties"]["ready"], true);
    assert_eq!(got[1]["properties"]["ready"], false);
    let east_cleared = area_ha(&polygon(Z1, &[(0.008, 0.0), (0.01, 0.0), (0.01, 0.01), (0.008, 0.01)]));
    assert!((ha(got[1], "cleared_ha") - east_cleared).abs() < 1e-3);
    assert_eq!(ha(got[1], "infra_ready_ha"), 0.0);
    assert_eq!(got[0]["properties"]["plot_codes"], "P1");
    assert_eq!(got[1]["properties"]["plot_codes"], "P2");

    // Before lease C ended (2020), its strip was taken; before reservation B (2021), that corner was free.
    let body = app.get("/available?zone_code=Z-1&at=2019-06-01").await.json();
    let got = pieces(&body);
    let west_2019 = area_ha(&polygon(Z1, &[(0.002, 0.0), (0.005, 0.0), (0.005, 0.01), (0.002, 0.01)]));
    assert!((ha(got[0], "area_ha") - west_2019).abs() < 1e-3);
    let east_2019 = area_ha(&polygon(
        Z1,
        &[(0.008, 0.0), (0.02, 0.0), (0.02, 0.005), (0.019, 0.005), (0.019, 0.01), (0.008, 0.01)],
    ));
    assert!((ha(got[1], "area_ha") - east_2019).abs() < 1e-3);

    // The sliver Z-2's lease leaves is dropped and counted.
    let body = app.get("/available?zone_code=Z-2&at=2024-01-01").await.json();
    assert_eq!(pieces(&body).len(), 1);
    let sliver = body["dropped_ha"].as_f64().unwrap();
    assert!(sliver > 0.01 && sliver < 0.05, "{sliver}");
    assert_eq!(body["dropped_pieces"], 1);
    let kept = app.get("/available?zone_code=Z-2&at=2024-01-01&min_piece_ha=0.001").await.json();
    assert_eq!(pieces(&kept).len(), 2, "a lower minimum keeps the sliver");
}

async fn filters_and_sorting(backend: Backend) {
    let app = hand_made(backend).await;
    let all = app.get("/available?at=2024-01-01").await.json();
    assert_eq!(all["numberMatched"], 3);
    let ids =
        |body: &Value| pieces(body).iter().map(|f| f["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();

    let big = app.get("/available?at=2024-01-01&min_ha=100").await.json();
    assert!(pieces(&big).iter().all(|f| ha(f, "area_ha") >= 100.0) && !pieces(&big).is_empty());
    let small = app.get("/available?at=2024-01-01&max_ha=100").await.json();
    assert!(pieces(&small).iter().all(|f| ha(f, "area_ha") <= 100.0) && !pieces(&small).is_empty());
    assert_eq!(big["numberMatched"].as_u64().unwrap() + small["numberMatched"].as_u64().unwrap(), 3);

    let ready = app.get("/available?at=2024-01-01&ready=true").await.json();
    assert_eq!(ids(&ready), ["Z-1-A1", "Z-2-A1"]);
    let cleared = app.get("/available?at=2024-01-01&cleared=false").await.json();
    assert_eq!(ids(&cleared), ["Z-1-A2"]);
    let wwtp = app.get("/available?at=2024-01-01&wwtp=true").await.json();
    assert_eq!(ids(&wwtp), ["Z-2-A1"]);
    let bbox = app.get("/available?at=2024-01-01&bbox=106.49,20.99,106.6,21.1").await.json();
    assert_eq!(ids(&bbox), ["Z-2-A1"]);

    // Near Z-2's east edge: Z-2 first, then Z-1 about 50 km west.
    let near = app.get("/available?at=2024-01-01&near=106.53,21.005&sortby=distance_km").await.json();
    assert_eq!(ids(&near), ["Z-2-A1", "Z-1-A2", "Z-1-A1"]);
    let d: Vec<f64> = pieces(&near).iter().map(|f| ha(f, "distance_km")).collect();
    assert!((d[0] - 1.04).abs() < 0.05, "{d:?}"); // 0.01° of longitude at 21° N ≈ 1.04 km
    assert!(d[1] > 45.0 && d[1] < d[2], "{d:?}");
    let within = app.get("/available?at=2024-01-01&near=106.53,21.005&within_km=10").await.json();
    assert_eq!(ids(&within), ["Z-2-A1"]);
    let by_area = app.get("/available?at=2024-01-01&sortby=-area_ha").await.json();
    let areas: Vec<f64> = pieces(&by_area).iter().map(|f| ha(f, "area_ha")).collect();
    assert!(areas.windows(2).all(|w| w[0] >= w[1]), "{areas:?}");

    for (bad, parameter) in [
        ("within_km=5", "within_km"),
        ("sortby=distance_km", "sortby"),
        ("near=106", "near"),
        ("min_ha=-1", "min_ha"),
        ("ready=yes", "ready"),
        ("colour=red", "colour"),
    ] {
        let reply = app.get(&format!("/available?{bad}")).await;
        reply.problem(400);
        assert_eq!(reply.json()["parameter"], parameter, "{bad}");
    }
    app.get("/available?zone_code=NOPE").await.problem(404);

    // The same pieces as an OGC collection, one by id.
    let items = app.get("/collections/available_land/items?at=2024-01-01&ready=true").await.json();
    assert_eq!(ids(&items), ["Z-1-A1", "Z-2-A1"]);
    let one = app.get("/collections/available_land/items/Z-2-A1").await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["properties"]["zone_code"], "Z-2");
    app.get("/collections/available_land/items/Z-2-A9").await.problem(404);
}

/// An investor's search downloads as CSV, GeoPackage and KML: every match, the same ids and areas as the
/// GeoJSON answer, opened by GDAL.
async fn a_search_downloads_as_csv_geopackage_and_kml(backend: Backend) {
    let app = hand_made(backend).await;
    let search = "/available?at=2024-01-01&sortby=-area_ha&limit=1";
    let json = app.get(search).await.json();
    assert_eq!(json["numberMatched"], 3, "three pieces, one per page");
    let all = app.get("/available?at=2024-01-01&sortby=-area_ha").await.json();
    let expected: Vec<(String, f64)> =
        pieces(&all).iter().map(|f| (f["id"].as_str().unwrap().to_string(), ha(f, "area_ha"))).collect();

    // CSV: every match (the limit of a page does not cut a download unless sent), largest first.
    let csv = app.get("/available?at=2024-01-01&sortby=-area_ha&f=csv").await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert!(csv.content_type().starts_with("text/csv"), "{}", csv.content_type());
    assert!(csv.headers["content-disposition"].to_str().unwrap().contains("available_land.csv"));
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    let header = reader.headers().unwrap().clone();
    let column =
        |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name}: {header:?}"));
    let (id, area) = (column("id"), column("area_ha"));
    assert!(header.iter().any(|h| h == "zone_status") && header.iter().any(|h| h == "WKT"), "{header:?}");
    let rows: Vec<(String, f64)> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[id].to_string(), r[area].parse::<f64>().unwrap()))
        .collect();
    assert_eq!(rows.len(), expected.len());
    for ((i, a), (ei, ea)) in rows.iter().zip(&expected) {
        assert_eq!(i, ei);
        assert!((a - ea).abs() < 1e-3, "{i}: {a} ha in the file, {ea} ha served");
    }
    // A search from a point carries each piece's distance, as the map's list shows it.
    let near = app.get("/available?at=2024-01-01&near=106.53,21.005&sortby=distance_km&f=csv").await;
    let mut reader = csv::Reader::from_reader(near.body.as_slice());
    let column =
        reader.headers().unwrap().iter().position(|h| h == "distance_km").expect("distance_km column");
    let km: Vec<f64> = reader.records().map(|r| r.unwrap()[column].parse().unwrap()).collect();
    assert_eq!(km.len(), 3);
    assert!(km.windows(2).all(|w| w[0] <= w[1]) && (km[0] - 1.04).abs() < 0.05, "{km:?}");
    // With filters: only what the search finds.
    let ready = app.get("/available?at=2024-01-01&ready=true&f=csv").await;
    assert_eq!(csv::Reader::from_reader(ready.body.as_slice()).records().count(), 2);

    // GeoPackage and KML: GDAL opens each and finds every piece.
    let dir = tempfile::tempdir().unwrap();
    for (f, media) in
        [("gpkg", "application/geopackage+sqlite3"), ("kml", "application/vnd.google-earth.kml+xml")]
    {
        let reply = app.get(&format!("/available?at=2024-01-01&f={f}")).await;
        assert_eq!(reply.status, 200, "{f}: {}", reply.text());
        assert_eq!(reply.content_type(), media);
        let path = dir.path().join(format!("available.{f}"));
        std::fs::write(&path, &reply.body).unwrap();
        let info =
            std::process::Command::new("ogrinfo").args(["-ro", "-al", "-so"]).arg(&path).output().unwrap();
        let info = String::from_utf8_lossy(&info.stdout).into_owned();
        assert!(info.contains("Feature Count: 3"), "{f}: {info}");
    }
    app.get("/available?f=xlsx").await.problem(400);
}

async fn a_write_is_seen_at_once_and_recomputes_only_its_zone(backend: Backend) {
    let app = hand_made(backend).await;
    let before = app.get("/available?at=2024-01-01").await.json();
    let versions = app.store.zone_versions(&["Z-1".into(), "Z-2".into()]).await.unwrap();
    // A new lease on Z-2's free block.
    load(
        &app,
        vec![(
            &collections::LEASES,
            vec![feature(
                "N",
                json!({"zone_code": "Z-2", "province_code": "VN-56", "status": "active", "start_on": "2023-01-01"}),
                rect(Z2, 0.01, 0.0, 0.02, 0.01),
            )],
        )],
    )
    .await;
    let after = app.get("/available?at=2024-01-01").await.json();
    assert_eq!(before["numberMatched"], 3);
    assert_eq!(after["numberMatched"], 2, "the leased block is no longer available: {after}");
    let now = app.store.zone_versions(&["Z-1".into(), "Z-2".into()]).await.unwrap();
    assert_eq!(now.of("Z-1"), versions.of("Z-1"), "Z-1 was not touched");
    assert!(now.of("Z-2") > versions.of("Z-2"));
    assert!(now.read_at > versions.read_at, "read at the version after the write");
}

async fn the_numbers_add_up_on_the_demo_and_no_tenant_data_shows(backend: Backend) {
    let app = spawn_app(backend).await;
    // Investors are offered land of zones that exist: Yên Phong II-B is only policy-approved.
    let yp2b = app.get("/available?zone_code=BN-YP2B&at=2023-11-17").await.json();
    assert_eq!(yp2b["numberMatched"], 0, "{yp2b}");
    let all = app.get("/available?zone_code=BN-YP2B&at=2023-11-17&zone_status=all").await.json();
    assert!(all["numberMatched"].as_u64().unwrap() > 0);
    assert_eq!(all["features"][0]["properties"]["zone_status"], "policy_approved");
    let open = app.get("/available?at=2023-11-17&limit=10000").await.json();
    for piece in pieces(&open) {
        let status = piece["properties"]["zone_status"].as_str().unwrap();
        assert!(matches!(status, "established" | "operating"), "{status}");
    }
    let occupancy = app.get("/occupancy?at=2023-11-17").await.json();
    for zone in occupancy["zones"].as_array().unwrap().iter().filter(|z| z["source"] == "measured") {
        let code = zone["zone_code"].as_str().unwrap();
        let reply =
            app.get(&format!("/available?zone_code={code}&at=2023-11-17&limit=10000&zone_status=all")).await;
        let body = reply.json();
        let pieces_ha: f64 = pieces(&body).iter().map(|f| ha(f, "area_ha")).sum::<f64>()
            + body["dropped_ha"].as_f64().unwrap();
        let sum =
            ["leased_ha", "reserved_ha"].iter().map(|k| zone[k].as_f64().unwrap()).sum::<f64>() + pieces_ha;
        let leasable = zone["leasable_ha"].as_f64().unwrap();
        assert!(
            (sum - leasable).abs() <= 0.01,
            "{code}: leased + reserved + available = {sum}, leasable {leasable}"
        );
        assert!(
            (pieces_ha - zone["available_ha"].as_f64().unwrap()).abs() <= 0.01,
            "{code}: /available and /occupancy agree"
        );
        let text = reply.text();
        for private in ["tenant_name", "project_id", "owner_name", "capital_", "certificate_no"] {
            assert!(!text.contains(private), "{private} must not reach investors");
        }
    }
}

/// Pieces of available land are served as valid polygons, as GIS checks and landbank itself judge them:
/// rounding a computed outline to the 7 decimals served used to fold thin parts of it over itself (most
/// pieces of this data). Each is what was measured, and a lease drawn on one is accepted: the piece is
/// gone and occupancy rises by its area. On an empty install with zones of its own.
async fn pieces_are_served_valid_and_can_be_leased_back(backend: Backend) {
    use geo::Validation;
    use landbank::synthetic::{Spec, generate};
    let app = spawn_empty_app(backend).await;
    app.store.insert(&generate(&Spec::province(16)).batches()).await.unwrap();
    let uri = "/available?province_code=VN-56&at=2026-01-01&limit=10000";
    let body = app.get(uri).await.json();
    let pieces = body["features"].as_array().unwrap();
    assert!(pieces.len() > 10, "{}", pieces.len());
    for piece in pieces {
        let geometry: geojson::Geometry = serde_json::from_value(piece["geometry"].clone()).unwrap();
        let geometry: geo::Geometry = geometry.try_into().unwrap();
        assert!(geometry.is_valid(), "{}: {:?}", piece["id"], geometry.check_validation());
        // What is served is what was measured: its area, from the served coordinates.
        let served = match geometry {
            geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
            other => panic!("{}: a piece is one polygon, not {other:?}", piece["id"]),
        };
        let area = piece["properties"]["area_ha"].as_f64().unwrap();
        assert!((area_ha(&served) - area).abs() < 1e-4, "{}: {area} ha served", piece["id"]);
    }
    let largest = pieces
        .iter()
        .max_by(|a, b| {
            a["properties"]["area_ha"].as_f64().partial_cmp(&b["properties"]["area_ha"].as_f64()).unwrap()
        })
        .unwrap();
    let zone = largest["properties"]["zone_code"].as_str().unwrap();
    let occupancy_uri = format!("/zones/{zone}/occupancy?at=2026-01-01");
    let before = app.get(&occupancy_uri).await.json()["leased_ha"].as_f64().unwrap();
    let planner = app.bearer(landbank::auth::Role::Planner, "desk").await;
    let lease = json!({ "type": "Feature", "geometry": largest["geometry"], "properties": {
        "zone_code": zone, "status": "active", "signed_on": "2025-10-01", "start_on": "2025-11-01" } });
    let r = app
        .send("POST", "/collections/leases/items", &[("authorization", planner.as_str())], Some(&lease))
        .await;
    assert_eq!(r.status, 201, "a lease on piece {}: {}", largest["id"], r.text());
    let leased = largest["properties"]["area_ha"].as_f64().unwrap();
    let after = app.get(&occupancy_uri).await.json()["leased_ha"].as_f64().unwrap();
    assert!((after - before - leased).abs() < 0.01, "{before} + {leased} → {after}");
    let left = app.get(uri).await.json();
    assert_eq!(left["numberMatched"].as_u64().unwrap(), body["numberMatched"].as_u64().unwrap() - 1);
}

crate::contract!(
    pieces_are_served_valid_and_can_be_leased_back,
    a_search_by_box_finds_zones_without_a_boundary,
    a_search_downloads_as_csv_geopackage_and_kml,
    pieces_of_hand_made_zones_are_exact,
    filters_and_sorting,
    a_write_is_seen_at_once_and_recomputes_only_its_zone,
    the_numbers_add_up_on_the_demo_and_no_tenant_data_shows,
);
