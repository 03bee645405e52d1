//! Vector tiles: decoded with an independent decoder (mvt-reader), checked for layer names, features,
//! properties, coordinates inside the extent, dates, caching headers and invalidation after a write.

use geo::{CoordsIter, Geometry};
use landbank::collections;
use landbank::ingest::parse_feature_collection;
use landbank::store::{Columns, Within};
use landbank::tiles::TileId;
use mvt_reader::Reader;
use mvt_reader::feature::Value as MvtValue;
use serde_json::json;

use crate::helpers::{Backend, TestApp, spawn_app};

/// Quế Võ's centre.
const QV: (f64, f64) = (106.12, 21.165);

fn tile_uri(collection: &str, z: u8, at: &str) -> String {
    let t = TileId::containing(QV.0, QV.1, z);
    format!("/tiles/{collection}/{z}/{}/{}.mvt?at={at}", t.x, t.y)
}

struct Decoded {
    layers: Vec<String>,
    features: Vec<(std::collections::HashMap<String, MvtValue>, Geometry<f32>)>,
}

async fn decode(app: &TestApp, uri: &str) -> Decoded {
    let reply = app.get(uri).await;
    assert_eq!(reply.status, 200, "{uri}: {}", reply.text());
    assert_eq!(reply.content_type(), "application/vnd.mapbox-vector-tile");
    let reader = Reader::new(reply.body.clone()).expect("a valid MVT");
    let layers = reader.get_layer_names().unwrap();
    let features = reader
        .get_features(0)
        .unwrap()
        .into_iter()
        .map(|f| (f.properties.clone().unwrap_or_default(), f.geometry))
        .collect();
    Decoded { layers, features }
}

fn text(props: &std::collections::HashMap<String, MvtValue>, key: &str) -> Option<String> {
    match props.get(key) {
        Some(MvtValue::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn number(props: &std::collections::HashMap<String, MvtValue>, key: &str) -> Option<f64> {
    match props.get(key) {
        Some(MvtValue::Double(d)) => Some(*d),
        Some(MvtValue::Float(f)) => Some(f64::from(*f)),
        _ => None,
    }
}

async fn zone_tiles_carry_occupancy_as_of_the_date(backend: Backend) {
    let app = spawn_app(backend).await;
    for at in ["2023-11-17", "2010-06-30", "2026-01-01"] {
        let tile = decode(&app, &tile_uri("zones", 12, at)).await;
        assert_eq!(tile.layers, ["zones"]);
        let (props, geometry) = tile
            .features
            .iter()
            .find(|(p, _)| text(p, "code").as_deref() == Some("BN-QV1"))
            .expect("Quế Võ in its tile");
        assert_eq!(text(props, "name").as_deref(), Some("Quế Võ"));
        // The unit holding the zone on the date: old Bắc Ninh, then the new one.
        let province = if at < "2025-07-01" { "VN-56" } else { "VN2025-24" };
        assert_eq!(text(props, "province_code").as_deref(), Some(province), "{at}");
        assert_eq!(text(props, "status").as_deref(), Some("operating"));
        let api = app.get(&format!("/zones/BN-QV1/occupancy?at={at}")).await.json();
        assert_eq!(number(props, "occupancy_pct"), api["occupancy_pct"].as_f64(), "{at}");
        for c in geometry.coords_iter() {
            assert!(
                (-64.0..=4160.0).contains(&c.x) && (-64.0..=4160.0).contains(&c.y),
                "{c:?} outside the buffered extent"
            );
        }
    }
}

async fn plot_tiles_colour_by_lease_and_follow_writes(backend: Backend) {
    let app = spawn_app(backend).await;
    let uri = tile_uri("plots", 14, "2024-01-01");
    let first = app.get(&uri).await;
    let etag = first.headers.get("etag").unwrap().to_str().unwrap().to_string();
    assert_eq!(first.headers.get("cache-control").unwrap(), "public, no-cache");
    let not_modified = app.get_with(&uri, &[("if-none-match", &etag)]).await;
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());

    let tile = decode(&app, &uri).await;
    assert_eq!(tile.layers, ["plots"]);
    let statuses: std::collections::BTreeSet<String> =
        tile.features.iter().filter_map(|(p, _)| text(p, "lease_status")).collect();
    assert!(statuses.iter().all(|s| ["active", "reserved", "free"].contains(&s.as_str())), "{statuses:?}");
    assert!(statuses.contains("active"));
    // Every plot the bbox query finds in the tile's area is in the tile.
    let b = TileId::containing(QV.0, QV.1, 14).buffered_lonlat_bbox();
    let items = app
        .get(&format!("/collections/plots/items?bbox={},{},{},{}&limit=10000", b[0], b[1], b[2], b[3]))
        .await
        .json();
    assert_eq!(tile.features.len() as u64, items["numberMatched"].as_u64().unwrap());

    // A free plot in the tile gets a lease: the next request shows it, with a new ETag (no stale tile).
    let free = tile.features.iter().find(|(p, _)| text(p, "lease_status").as_deref() == Some("free"));
    if let Some((props, _)) = free {
        let (zone, code) = (text(props, "zone_code").unwrap(), text(props, "code").unwrap());
        let plot = app.get(&format!("/collections/plots/items/{zone}-{code}")).await.json();
        let page = |at: &str| format!("/collections/plots/items?zone_code={zone}&code={code}&at={at}");
        let mut earlier = Vec::new();
        for at in ["2023-05-31", "2023-01-01"] {
            let items = app.get(&page(at)).await.json();
            earlier.push(items["features"][0]["properties"]["lease_status"].as_str().unwrap().to_string());
        }
        let fc = json!({"type": "FeatureCollection", "features": [{
            "type": "Feature", "id": "NEW-LEASE",
            "properties": {"zone_code": zone, "province_code": "VN-56", "plot_codes": code, "status": "active", "start_on": "2023-06-01"},
            "geometry": plot["geometry"],
        }]});
        let leases =
            parse_feature_collection(&collections::LEASES, "t", &fc.to_string(), &Default::default())
                .unwrap();
        app.store.insert(&[(&collections::LEASES, leases)]).await.unwrap();
        let after = app.get(&uri).await;
        assert_ne!(after.headers.get("etag").unwrap().to_str().unwrap(), etag);
        assert_eq!(
            app.get_with(&uri, &[("if-none-match", &etag)]).await.status,
            200,
            "the old ETag no longer matches"
        );
        let tile = decode(&app, &uri).await;
        let now = tile
            .features
            .iter()
            .find(|(p, _)| {
                text(p, "code") == Some(code.clone()) && text(p, "zone_code") == Some(zone.clone())
            })
            .unwrap();
        assert_eq!(text(&now.0, "lease_status").as_deref(), Some("active"));
        // Before the lease starts the plot is as it was, in the tile and on its page, and after it
        // active: each date falls in its own span of the zone's plot states, kept side by side.
        for (at, expected) in [
            ("2023-05-31", earlier[0].as_str()),
            ("2024-01-01", "active"),
            ("2023-01-01", earlier[1].as_str()),
        ] {
            let tile = decode(&app, &tile_uri("plots", 14, at)).await;
            let (props, _) = tile
                .features
                .iter()
                .find(|(p, _)| {
                    text(p, "code") == Some(code.clone()) && text(p, "zone_code") == Some(zone.clone())
                })
                .unwrap();
            assert_eq!(text(props, "lease_status").as_deref(), Some(expected), "tile on {at}");
            let items = app.get(&page(at)).await.json();
            assert_eq!(items["features"][0]["properties"]["lease_status"], expected, "page on {at}");
        }
    } else {
        panic!("expected a free plot near Quế Võ");
    }
}

async fn every_collection_has_tiles_and_tilejson(backend: Backend) {
    let app = spawn_app(backend).await;
    for collection in ["zones", "land_use", "plots", "leases", "clearance_parcels", "available_land"] {
        let tile = decode(&app, &tile_uri(collection, 13, "2023-11-17")).await;
        assert_eq!(tile.layers, [collection]);
        assert!(!tile.features.is_empty(), "{collection}");
        let tilejson = app.get(&format!("/tiles/{collection}.json")).await.json();
        assert_eq!(tilejson["tilejson"], "3.0.0");
        assert_eq!(tilejson["vector_layers"][0]["id"], collection);
        assert!(
            tilejson["tiles"][0]
                .as_str()
                .unwrap()
                .ends_with(&format!("/tiles/{collection}/{{z}}/{{x}}/{{y}}.mvt"))
        );
        assert_eq!(tilejson["bounds"].as_array().unwrap().len(), 4);
    }
    let parcels = decode(&app, &tile_uri("clearance_parcels", 13, "2023-11-17")).await;
    assert!(!parcels.features.is_empty(), "the tile holds parcels");
    assert!(
        parcels.features.iter().all(|(p, _)| text(p, "status").is_some() && !p.contains_key("owner_name"))
    );
    // Every property a tile carries is one its TileJSON names (and nothing private is named).
    let named = app.get("/tiles/clearance_parcels.json").await.json()["vector_layers"][0]["fields"].clone();
    for (properties, _) in &parcels.features {
        for key in properties.keys() {
            assert!(named.get(key).is_some(), "the tile carries {key}, which its TileJSON does not name");
        }
    }
    // The OGC API - Tiles path serves the same bytes (row before column).
    let t = TileId::containing(QV.0, QV.1, 13);
    let xyz = app.get(&format!("/tiles/zones/13/{}/{}.mvt?at=2023-11-17", t.x, t.y)).await;
    let ogc =
        app.get(&format!("/collections/zones/tiles/WebMercatorQuad/13/{}/{}?at=2023-11-17", t.y, t.x)).await;
    assert_eq!(xyz.body, ogc.body);
}

async fn empty_and_bad_tiles(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get("/tiles/plots/14/0/0.mvt").await.status, 204, "empty tiles are 204");
    app.get("/tiles/plots/3/8/0.mvt").await.problem(400);
    app.get("/tiles/plots/23/0/0.mvt").await.problem(400);
    app.get("/tiles/plots/a/0/0.mvt").await.problem(400);
    app.get("/tiles/projects/3/0/0.mvt").await.problem(404);
    app.get("/tiles/nothing.json").await.problem(404);
    app.get("/tiles/plots/3/0/0.mvt?at=yesterday").await.problem(400);
    // Plots start at z12, where they are visible: the z11 tile over Quế Võ is empty, the z12 one is not,
    // and TileJSON says where they start.
    for (z, status) in [(11, 204), (12, 200)] {
        let t = TileId::containing(QV.0, QV.1, z);
        let reply = app.get(&format!("/tiles/plots/{z}/{}/{}.mvt?at=2023-11-17", t.x, t.y)).await;
        assert_eq!(reply.status, status, "plots at z{z}");
    }
    assert_eq!(app.get("/tiles/plots.json").await.json()["minzoom"], 12);
    assert_eq!(app.get("/tiles/zones.json").await.json()["minzoom"], 0);
}

/// Every feature of every tile has geometry (the MVT specification allows no other), decoded by an
/// independent reader: every layer, from the overview where plots are a unit or two wide down to the
/// street, over the demo's Bắc Ninh.
async fn no_tile_feature_without_geometry(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut features = 0;
    for collection in ["zones", "plots", "land_use", "leases", "clearance_parcels", "available_land"] {
        for z in [9u8, 11, 12, 13, 15] {
            let centre = TileId::containing(106.12, 21.165, z);
            for (dx, dy) in [(0i64, 0i64), (1, 0), (0, 1), (-1, -1)] {
                let (x, y) = (i64::from(centre.x) + dx, i64::from(centre.y) + dy);
                let uri = format!("/tiles/{collection}/{z}/{x}/{y}.mvt?at=2023-11-17");
                let reply = app.get(&uri).await;
                if reply.status == 204 {
                    continue;
                }
                let tile = decode(&app, &uri).await;
                for (properties, geometry) in &tile.features {
                    features += 1;
                    assert!(
                        geometry.coords_count() >= 3,
                        "{uri}: a feature without geometry: {properties:?}"
                    );
                }
            }
        }
    }
    assert!(features > 1000, "{features} features decoded");
}

/// What tiles read (one statement per layer: every row whose box meets the tile's) is what a bbox page
/// reads: the same records, with the same fields (dates, booleans, numbers, text) and the same geometry,
/// in every tiled collection; and nothing for a box without records.
async fn rows_in_a_box_are_the_rows_a_page_reads(backend: Backend) {
    let app = spawn_app(backend).await;
    let bbox = TileId::containing(QV.0, QV.1, 12).buffered_lonlat_bbox();
    let same = |a: &serde_json::Value, b: &serde_json::Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    };
    let mut compared = 0;
    for collection in collections::ALL.iter().copied().filter(|c| c.tiles.is_some() && !c.computed) {
        let query = landbank::store::ItemsQuery { bbox: Some(bbox), ..Default::default() };
        let page = app.store.items(collection, &query).await.unwrap().rows;
        let rows =
            app.store.json_rows(collection, Within::Box(bbox), Columns::ALL).await.unwrap().rows().unwrap();
        let by_id: std::collections::HashMap<&str, &landbank::store::FeatureRow> =
            rows.iter().map(|r| (r.id.as_str(), r)).collect();
        assert_eq!(by_id.len(), rows.len(), "{}: a row read twice", collection.id);
        for expected in &page {
            let got = by_id
                .get(expected.id.as_str())
                .unwrap_or_else(|| panic!("{} {}", collection.id, expected.id));
            assert_eq!(got.properties.len(), expected.properties.len(), "{} {}", collection.id, expected.id);
            for (k, v) in &expected.properties {
                assert!(
                    same(&got.properties[k], v),
                    "{} {} {k}: {} vs {v}",
                    collection.id,
                    expected.id,
                    got.properties[k]
                );
            }
            assert_eq!(
                got.multipolygon(collection.id).unwrap(),
                expected.multipolygon(collection.id).unwrap(),
                "{} {}",
                collection.id,
                expected.id
            );
            compared += 1;
        }
        // Without geometry, the fields alone.
        let fields = app
            .store
            .json_rows(collection, Within::Box(bbox), Columns::FIELDS)
            .await
            .unwrap()
            .rows()
            .unwrap();
        assert_eq!(fields.len(), rows.len());
        assert!(fields.iter().all(|r| r.geometry.is_none()));
        // Only some fields, with the geometry: those fields as stored, no area, and a name the
        // collection lacks (here one that would be SQL) read as nothing.
        let asked = ["code", "zone_code", "id; DROP TABLE plots"];
        let some = app
            .store
            .json_rows(collection, Within::Box(bbox), Columns::only(&asked, true))
            .await
            .unwrap()
            .rows()
            .unwrap();
        assert_eq!(some.len(), rows.len(), "{}", collection.id);
        for (got, whole) in some.iter().zip(&rows) {
            assert_eq!(got.id, whole.id);
            let expected: Vec<&String> =
                whole.properties.keys().filter(|k| asked.contains(&k.as_str())).collect();
            assert_eq!(got.properties.keys().collect::<Vec<_>>(), expected, "{} {}", collection.id, got.id);
            assert!(got.properties.iter().all(|(k, v)| same(v, &whole.properties[k])));
            assert_eq!(got.area_ha, None, "{} {}", collection.id, got.id);
            assert_eq!(got.multipolygon(collection.id).unwrap(), whole.multipolygon(collection.id).unwrap());
        }
        let nowhere =
            app.store.json_rows(collection, Within::Box([0.0, 0.0, 0.1, 0.1]), Columns::ALL).await.unwrap();
        assert!(nowhere.rows().unwrap().is_empty(), "{}", collection.id);
    }
    assert!(compared > 100, "{compared} rows compared");
    // Typed: the leases as the domain reads them.
    let leases = app.store.json_rows(&collections::LEASES, Within::Box(bbox), Columns::FIELDS).await.unwrap();
    let typed: Vec<landbank::domain::Lease> = leases.fields().unwrap();
    assert_eq!(typed.len(), leases.rows().unwrap().len());
    assert!(typed.iter().any(|l| l.start_on.is_some()));
}

/// The plots of a tile, by zone and code, with their geometry in tile units.
fn plots_of(tile: &Decoded) -> std::collections::BTreeMap<(String, String), String> {
    tile.features
        .iter()
        .map(|(p, g)| ((text(p, "zone_code").unwrap(), text(p, "code").unwrap()), format!("{g:?}")))
        .collect()
}

async fn a_tile_drawn_once_serves_every_date_until_a_plot_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let uri = |at: &str| tile_uri("plots", 14, at);
    // Other dates: the same plots, drawn the same (only the colours may differ).
    let first = decode(&app, &uri("2024-01-01")).await;
    let drawn = plots_of(&first);
    assert!(drawn.len() > 10, "{} plots", drawn.len());
    for at in ["2020-01-01", "2010-06-30", "2026-01-01"] {
        assert_eq!(plots_of(&decode(&app, &uri(at)).await), drawn, "{at}");
    }
    // The drawing is kept and weighed, and /metrics says how much it holds.
    let metrics = app.get("/metrics").await.text();
    let drawn_bytes: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix(r#"landbank_cache_bytes{cache="drawn"} "#)?.parse().ok())
        .unwrap_or_else(|| panic!("no drawn bytes in {metrics}"));
    assert!(drawn_bytes > 100 * drawn.len() as u64, "{drawn_bytes} bytes for {} plots", drawn.len());
    // A planner deletes a free plot of the tile: every date's tile loses it at once, dates already
    // asked for and new ones alike.
    let (zone, code) = first
        .features
        .iter()
        .find(|(p, _)| text(p, "lease_status").as_deref() == Some("free"))
        .map(|(p, _)| (text(p, "zone_code").unwrap(), text(p, "code").unwrap()))
        .expect("a free plot near Quế Võ");
    let item = format!("/collections/plots/items/{zone}-{code}");
    let plot = app.get(&item).await;
    assert_eq!(plot.status, 200, "{item}");
    let planner = app.bearer(landbank::auth::Role::Planner, "phong quy hoach").await;
    let etag = plot.headers.get("etag").unwrap().to_str().unwrap().to_string();
    let deleted = app.send("DELETE", &item, &[("authorization", &planner), ("if-match", &etag)], None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    let mut expected = drawn.clone();
    expected.remove(&(zone.clone(), code.clone()));
    for at in ["2024-01-01", "2020-01-01", "2023-03-03"] {
        assert_eq!(plots_of(&decode(&app, &uri(at)).await), expected, "{at}: {zone}-{code} is gone");
    }
}

/// Hits and misses of the tiles' kept drawings, from `/metrics`.
/// A lease signed through the API re-colours the plots' kept drawing (no plot changed) and the tile
/// shows it at once; a plot deleted through the API has its tiles drawn anew.
async fn a_lease_written_through_the_api_keeps_the_plots_drawing(backend: Backend) {
    let app = spawn_app(backend).await;
    let uri = tile_uri("plots", 14, "2024-01-01");
    let first = decode(&app, &uri).await;
    let free: Vec<(String, String)> = first
        .features
        .iter()
        .filter(|(p, _)| text(p, "lease_status").as_deref() == Some("free"))
        .map(|(p, _)| (text(p, "zone_code").unwrap(), text(p, "code").unwrap()))
        .collect();
    assert!(free.len() >= 2, "two free plots near Quế Võ: {free:?}");
    let (hits, misses) = app.cache_lookups("drawn").await;
    assert_eq!((hits, misses), (0, 1), "the first tile drew its plots");

    let planner = app.bearer(landbank::auth::Role::Planner, "phong quy hoach").await;
    let (zone, code) = &free[0];
    let plot = app.get(&format!("/collections/plots/items/{zone}-{code}")).await.json();
    let lease = json!({"type": "Feature", "geometry": plot["geometry"], "properties": {
        "zone_code": zone, "plot_codes": code, "status": "active", "start_on": "2023-06-01"}});
    let created =
        app.send("POST", "/collections/leases/items", &[("authorization", &planner)], Some(&lease)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let after = decode(&app, &uri).await;
    assert_eq!(plots_of(&after), plots_of(&first), "the same plots, drawn the same");
    let status = |tile: &Decoded, zone: &str, code: &str| {
        tile.features
            .iter()
            .find(|(p, _)| {
                text(p, "zone_code").as_deref() == Some(zone) && text(p, "code").as_deref() == Some(code)
            })
            .and_then(|(p, _)| text(p, "lease_status"))
    };
    assert_eq!(status(&after, zone, code).as_deref(), Some("active"), "{zone}-{code} leased");
    assert_eq!(app.cache_lookups("drawn").await, (hits + 1, misses), "the drawing was kept across the lease");

    // A plot deleted: its collection changed, so the tile is drawn anew, without it.
    let (zone, code) = &free[1];
    let item = format!("/collections/plots/items/{zone}-{code}");
    let etag = app.get(&item).await.headers.get("etag").unwrap().to_str().unwrap().to_string();
    let deleted = app.send("DELETE", &item, &[("authorization", &planner), ("if-match", &etag)], None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    let last = decode(&app, &uri).await;
    assert_eq!(status(&last, zone, code), None, "{zone}-{code} is gone");
    assert_eq!(app.cache_lookups("drawn").await, (hits + 1, misses + 1), "a plot deleted redraws the tile");
}

/// Not the demo: an empty install gets a zone and plots of its own after its map asked for the tile.
async fn an_empty_tile_is_drawn_again_once_plots_arrive(backend: Backend) {
    let app = crate::helpers::spawn_empty_app(backend).await;
    let t = TileId::containing(107.005, 21.005, 14);
    let uri = |at: &str| format!("/tiles/plots/14/{}/{}.mvt?at={at}", t.x, t.y);
    for at in ["2020-01-01", "2024-06-30"] {
        assert_eq!(app.get(&uri(at)).await.status, 204, "nothing there yet on {at}");
    }
    let square = |x0: f64, y0: f64, side: f64| json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side], [x0, y0]]]});
    let load = |collection: &'static landbank::collections::Collection, features: serde_json::Value| {
        let fc = json!({"type": "FeatureCollection", "features": features}).to_string();
        let zones = [("Z-9".to_string(), "VN-56".to_string())].into_iter().collect();
        (collection, parse_feature_collection(collection, "t", &fc, &zones).unwrap())
    };
    let zone = load(
        &collections::ZONES,
        json!([{"type": "Feature", "id": "Z-9", "geometry": square(107.0, 21.0, 0.01),
            "properties": {"code": "Z-9", "name": "Chín", "kind": "industrial_park", "province_code": "VN-56", "status": "operating"}}]),
    );
    let plot = |code: &str, x0: f64| {
        json!({"type": "Feature", "id": format!("Z-9-{code}"), "geometry": square(x0, 21.004, 0.002),
            "properties": {"zone_code": "Z-9", "code": code}})
    };
    let plots = load(&collections::PLOTS, json!([plot("P1", 107.001), plot("P2", 107.004)]));
    app.store.insert(&[zone, plots]).await.unwrap();
    let codes = |tile: &Decoded| -> Vec<String> {
        let mut codes: Vec<String> = tile.features.iter().filter_map(|(p, _)| text(p, "code")).collect();
        codes.sort();
        codes
    };
    for at in ["2020-01-01", "2024-06-30", "2025-01-01"] {
        assert_eq!(codes(&decode(&app, &uri(at)).await), ["P1", "P2"], "{at}");
    }
    let more = load(&collections::PLOTS, json!([plot("P3", 107.007)]));
    app.store.insert(&[more]).await.unwrap();
    for at in ["2020-01-01", "2025-01-01"] {
        let tile = decode(&app, &uri(at)).await;
        assert_eq!(codes(&tile), ["P1", "P2", "P3"], "{at}");
        assert!(tile.features.iter().all(|(p, _)| text(p, "lease_status").as_deref() == Some("free")));
    }
}

crate::contract!(
    no_tile_feature_without_geometry,
    zone_tiles_carry_occupancy_as_of_the_date,
    plot_tiles_colour_by_lease_and_follow_writes,
    a_tile_drawn_once_serves_every_date_until_a_plot_changes,
    a_lease_written_through_the_api_keeps_the_plots_drawing,
    an_empty_tile_is_drawn_again_once_plots_arrive,
    every_collection_has_tiles_and_tilejson,
    empty_and_bad_tiles,
    rows_in_a_box_are_the_rows_a_page_reads,
);
