//! OGC API - Features routes through the in-process router.

use std::collections::{HashMap, HashSet};

use landbank::collections;
use serde_json::json;

use serde_json::Value;

use crate::helpers::{Backend, path_of, spawn_app, spawn_empty_app};

async fn landing_page_links_the_api_conformance_and_collections(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app.get("/").await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    let rels: Vec<&str> =
        body["links"].as_array().unwrap().iter().map(|l| l["rel"].as_str().unwrap()).collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "missing {rel} in {rels:?}");
    }
    assert!(
        body["description"].as_str().unwrap().contains("synthetic geometry"),
        "the demo says it is synthetic"
    );

    let conformance = app.get("/conformance").await.json();
    let classes: Vec<&str> =
        conformance["conformsTo"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for class in ["conf/core", "conf/geojson", "conf/oas30"] {
        assert!(classes.iter().any(|c| c.ends_with(class)), "{class} not declared");
    }
}

async fn the_openapi_document_matches_the_real_routes(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app.get("/api").await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type().starts_with("application/vnd.oai.openapi+json"));
    let doc = reply.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() > 20);
    for (path, item) in paths {
        if item.get("get").is_none() {
            continue; // writes only (DELETE /tokens/{token_id}): the role matrix tests them
        }
        let uri = crate::helpers::sample_uri(path);
        let reply = app.get(&uri).await;
        if item["get"]["security"].is_array() {
            // Routes that need a token say so and answer 401 without one.
            assert_eq!(reply.status, 401, "{path}");
            continue;
        }
        assert_eq!(reply.status, 200, "{path} → {uri}: {}", reply.text());
        // Every documented query parameter is accepted.
        for p in item["get"]["parameters"].as_array().unwrap().iter().filter(|p| p["in"] == "query") {
            let name = p["name"].as_str().unwrap();
            let sample = match name {
                "bbox" => "105,20,107,22",
                "crs" | "bbox-crs" => "http://www.opengis.net/def/crs/EPSG/0/9209",
                "datetime" => "2030-01-01T00:00:00Z",
                "limit" => "5",
                "offset" => "0",
                "f" => "json",
                "at" => "2023-11-17",
                "status" | "zone_status" => "operating",
                "wwtp_operating" | "wwtp" | "ready" | "cleared" => "true",
                "min_ha" | "max_ha" | "min_piece_ha" => "1",
                "within_km" => "1&near=106.1,21.1",
                "near" => "106.1,21.1",
                "sortby" if uri.starts_with("/collections/") => "-id",
                "sortby" => "-area_ha",
                "properties" => "area_ha",
                "filter" => "id%20%3C%3E%20'x'",
                "filter-lang" => "cql2-text&filter=id%20%3C%3E%20'x'",
                "filter-crs" => "http://www.opengis.net/def/crs/OGC/1.3/CRS84&filter=id%20%3C%3E%20'x'",
                "year" => "2022",
                "lang" => "en",
                "province_code" => "VN-56",
                "zone_code" => "BN-QV1",
                // Any other filter: a value its schema allows.
                _ => {
                    match (&p["schema"]["enum"], p["schema"]["type"].as_str(), p["schema"]["format"].as_str())
                    {
                        (Value::Array(values), _, _) => values[0].as_str().unwrap(),
                        (_, _, Some("date")) => "2023-11-17",
                        (_, Some("number" | "integer"), _) => "1",
                        (_, Some("boolean"), _) => "true",
                        _ => "x",
                    }
                }
            };
            let reply = app.get(&format!("{uri}?{name}={sample}")).await;
            assert_eq!(reply.status, 200, "{uri}?{name}={sample}: {}", reply.text());
        }
    }
}

async fn collections_describe_themselves(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = app.get("/collections").await.json();
    let ids: Vec<&str> =
        body["collections"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    for id in ["zones", "land_use", "plots", "leases", "clearance_parcels"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let zones = app.get("/collections/zones").await.json();
    let bbox = zones["extent"]["spatial"]["bbox"][0].as_array().unwrap();
    let lon_min = bbox[0].as_f64().unwrap();
    assert!((102.0..110.0).contains(&lon_min), "zones lie in Viet Nam: {bbox:?}");
    let items = zones["links"].as_array().unwrap().iter().find(|l| l["rel"] == "items").unwrap();
    assert_eq!(items["type"], "application/geo+json");
}

async fn items_page_through_every_feature_with_next_links(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.get("/collections/plots/items").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.content_type(), "application/geo+json");
    let body = first.json();
    assert_eq!(body["numberReturned"], 10, "default limit is 10");
    assert!(body["timeStamp"].as_str().unwrap().ends_with('Z'));
    let matched = body["numberMatched"].as_u64().unwrap();
    assert!(matched > 1000, "demo has many plots: {matched}");

    let mut seen = HashSet::new();
    let mut uri = "/collections/plots/items?limit=400".to_string();
    let mut pages = 0;
    loop {
        let page = app.get(&uri).await.json();
        for f in page["features"].as_array().unwrap() {
            assert!(seen.insert(f["id"].as_str().unwrap().to_string()), "feature {} twice", f["id"]);
            assert!(f["properties"]["area_ha"].as_f64().unwrap() > 0.0);
            assert_eq!(f["geometry"]["type"], "Polygon");
        }
        pages += 1;
        let links = page["links"].as_array().unwrap();
        if pages > 1 {
            assert!(links.iter().any(|l| l["rel"] == "prev"), "page {pages} links back");
        }
        match links.iter().find(|l| l["rel"] == "next") {
            Some(next) => uri = path_of(next["href"].as_str().unwrap()).to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, matched);
    assert_eq!(pages, matched.div_ceil(400));
}

async fn a_limit_over_the_maximum_is_clamped_and_bad_paging_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = app.get("/collections/plots/items?limit=50000").await.json();
    let self_link = body["links"].as_array().unwrap().iter().find(|l| l["rel"] == "self").unwrap();
    assert!(self_link["href"].as_str().unwrap().contains("limit=10000"), "{self_link}");
    assert_eq!(body["numberReturned"], body["numberMatched"], "all demo plots fit in one clamped page");

    for bad in ["limit=0", "limit=-3", "limit=ten", "offset=-1"] {
        let reply = app.get(&format!("/collections/plots/items?{bad}")).await;
        let detail = reply.problem(400);
        let name = bad.split('=').next().unwrap();
        assert_eq!(reply.json()["parameter"], name, "{detail}");
    }
}

async fn features_carry_id_geometry_and_properties_with_rfc7946_coordinates(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app.get("/collections/zones/items/BN-QV1").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "application/geo+json");
    let zone = reply.json();
    assert_eq!(zone["id"], "BN-QV1");
    assert_eq!(zone["properties"]["name"], "Quế Võ");
    assert_eq!(zone["properties"]["province_code"], "VN-56");
    assert_eq!(zone["properties"]["area_source"], "measured");
    let area = zone["properties"]["area_ha"].as_f64().unwrap();
    assert!((area - 422.37).abs() < 0.005, "{area}");
    let ring = zone["geometry"]["coordinates"][0].as_array().unwrap();
    for position in ring {
        for v in position.as_array().unwrap() {
            let text = v.to_string();
            let decimals = text.split('.').nth(1).map(str::len).unwrap_or(0);
            assert!(decimals <= 7, "{text} has more than 7 decimals");
        }
    }
    // Exterior ring counter-clockwise (right-hand rule): positive shoelace sum.
    let pts: Vec<(f64, f64)> =
        ring.iter().map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())).collect();
    let twice_area: f64 = pts.windows(2).map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1).sum();
    assert!(twice_area > 0.0);
}

async fn bbox_returns_what_intersects_it(backend: Backend) {
    let app = spawn_app(backend).await;
    // Around Quế Võ only.
    let zone = app.get("/collections/zones/items/BN-QV1").await.json();
    let ring = zone["geometry"]["coordinates"][0].as_array().unwrap();
    let (lon, lat) = (ring[0][0].as_f64().unwrap(), ring[0][1].as_f64().unwrap());
    let body = app
        .get(&format!(
            "/collections/zones/items?bbox={},{},{},{}",
            lon - 0.001,
            lat - 0.001,
            lon + 0.001,
            lat + 0.001
        ))
        .await
        .json();
    let ids: Vec<&str> =
        body["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["BN-QV1"]);

    let body = app.get("/collections/plots/items?bbox=105.9,20.9,106.3,21.3&limit=10000").await.json();
    let all = app.get("/collections/plots/items?limit=10000").await.json();
    let n = body["numberMatched"].as_u64().unwrap();
    assert!(n > 0 && n < all["numberMatched"].as_u64().unwrap());
    for f in body["features"].as_array().unwrap() {
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        assert!(ring.iter().any(|p| {
            let (x, y) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
            (105.9..=106.3).contains(&x) && (20.9..=21.3).contains(&y)
        }));
    }
    // Nothing at sea.
    let empty = app.get("/collections/plots/items?bbox=110,5,111,6").await.json();
    assert_eq!(empty["numberMatched"], 0);
}

async fn bad_bboxes_are_refused_with_the_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    for (bbox, why) in [
        ("1,2,3", "expected 4 numbers"),
        ("a,b,c,d", "number"),
        ("106,22,107,21", "minLat is greater than maxLat"),
        ("106,21,200,22", "[-180, 180]"),
    ] {
        let reply = app.get(&format!("/collections/zones/items?bbox={bbox}")).await;
        let detail = reply.problem(400);
        assert!(detail.contains(why), "{bbox}: {detail}");
        assert_eq!(reply.json()["parameter"], "bbox");
    }
    // The same parser in another CRS: no value skipped, none out of order.
    let crs = "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/9209";
    for (bbox, why) in
        [("603000,2330000,x,604000,2331000", "number"), ("604000,2330000,603000,2331000", "minimum")]
    {
        let reply = app.get(&format!("/collections/zones/items?bbox={bbox}&{crs}")).await;
        let detail = reply.problem(400);
        assert!(detail.contains(why) && detail.contains("9209"), "{bbox}: {detail}");
    }
}

async fn equality_filters_on_queryables(backend: Backend) {
    let app = spawn_app(backend).await;
    let body =
        app.get("/collections/zones/items?province_code=VN-56&status=operating&limit=100").await.json();
    assert_eq!(body["numberMatched"], 12);
    assert!(body["features"].as_array().unwrap().iter().all(|f| f["properties"]["status"] == "operating"));
    let next_self = body["links"].as_array().unwrap().iter().find(|l| l["rel"] == "self").unwrap();
    assert!(next_self["href"].as_str().unwrap().contains("province_code=VN-56"), "links keep the filters");

    let leases = app.get("/collections/leases/items?zone_code=BN-QV1&status=active&limit=1000").await.json();
    assert!(leases["numberMatched"].as_u64().unwrap() > 5);
    let wwtp = app.get("/collections/zones/items?wwtp_operating=true&limit=1000").await.json();
    let with_plant = wwtp["features"].as_array().unwrap();
    assert!(!with_plant.is_empty(), "the demo has zones with a working plant");
    assert!(with_plant.iter().all(|f| f["properties"]["wwtp_operating"] == Value::Bool(true)));

    let queryables = app.get("/collections/zones/queryables").await;
    assert_eq!(queryables.content_type(), "application/schema+json");
    assert!(queryables.json()["properties"]["province_code"].is_object());

    let reply = app.get("/collections/zones/items?colour=red").await;
    assert!(reply.problem(400).contains("province_code"), "the error lists the queryables");
    assert_eq!(reply.json()["parameter"], "colour");
    let reply = app.get("/collections/zones/items?wwtp_operating=maybe").await;
    assert!(reply.problem(400).contains("true or false"));
}

async fn unknown_collections_and_features_are_404_problems(backend: Backend) {
    let app = spawn_app(backend).await;
    let detail = app.get("/collections/parcels/items").await.problem(404);
    assert!(detail.contains("zones, land_use, plots"), "{detail}");
    app.get("/collections/parcels").await.problem(404);
    let detail = app.get("/collections/zones/items/NO-SUCH").await.problem(404);
    assert!(detail.contains("NO-SUCH"));
    app.get("/nothing/here").await.problem(404);
}

async fn health_and_readiness(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get("/healthz").await.status, 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200);
    let expected = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgis => "postgis",
    };
    assert_eq!(ready.json()["store"], expected);
}

/// A board's own install says nothing about demo data; the demo always does.
async fn the_demo_notice_appears_only_with_the_demo(backend: Backend) {
    let empty = crate::helpers::spawn_empty_app(backend).await;
    let landing = empty.get("/").await.json();
    assert!(!landing["description"].as_str().unwrap().contains("synthetic"), "{landing}");
    let occupancy = empty.get("/occupancy").await.json();
    assert!(occupancy.get("demo_notice").is_none(), "{occupancy}");
    let report = empty.get("/reports/national?f=md").await.text();
    assert!(!report.contains("synthetic"), "{report}");
    assert_eq!(
        empty.get("/maps/config.json").await.json()["demo"],
        false,
        "the map page hides its demo note"
    );
    let demo = spawn_app(backend).await;
    assert_eq!(demo.get("/maps/config.json").await.json()["demo"], true);
    assert!(demo.get("/occupancy").await.json()["demo_notice"].as_str().unwrap().contains("synthetic"));
    assert!(demo.get("/reports/national?f=md").await.text().contains("synthetic"));
}

/// Every route `router()` serves, with each of its methods, is in the OpenAPI document (read from the
/// router's own source, so that the two cannot drift apart), and every operation of the document lists
/// the problem answers every route can give.
async fn every_route_of_the_router_is_in_the_api_document(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = app.get("/api").await.json();
    let paths = doc["paths"].as_object().unwrap();
    let source = include_str!("../../src/http/mod.rs");
    let router = &source[source.find("pub fn router(").unwrap()..];
    let router = &router[..router.find(".fallback(").unwrap()];
    let mut routes = 0;
    for chunk in router.split(".route(").skip(1) {
        let path = chunk.split('"').nth(1).unwrap();
        // A router segment `{x}` matches any documented segment; a documented `{…}` matches any.
        let segments = |p: &str| p.split('/').map(str::to_string).collect::<Vec<_>>();
        let matches = |documented: &str| {
            let (a, b) = (segments(path), segments(documented));
            a.len() == b.len()
                && a.iter().zip(&b).all(|(r, d)| r.starts_with('{') || d.contains('{') || r == d)
        };
        let documented: Vec<(&String, &Value)> = paths.iter().filter(|(d, _)| matches(d)).collect();
        assert!(!documented.is_empty(), "{path} is served but not in /api");
        for method in ["get", "post", "put", "patch", "delete"] {
            if chunk.contains(&format!("{method}(")) || chunk.contains(&format!(".{method}(")) {
                assert!(
                    documented.iter().any(|(_, item)| item.get(method).is_some()),
                    "{} {path} is served but not in /api",
                    method.to_uppercase()
                );
            }
        }
        routes += 1;
    }
    assert!(routes > 20, "read {routes} routes from the router");
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            for status in ["500", "503"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{method} {path} does not list {status}"
                );
            }
        }
    }
    // Writes say what a write can answer.
    let patch = &paths["/collections/plots/items/{featureId}"]["patch"]["responses"];
    for status in ["404", "409", "412", "413", "422", "428"] {
        assert!(patch.get(status).is_some(), "PATCH does not list {status}");
    }
    // Clients page by the document's limits (GDAL asks for the maximum it may).
    let limit = paths["/collections/plots/items"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()
        .clone();
    assert_eq!(limit["schema"]["maximum"], 10_000);
}

/// Every stored field anyone may read is a queryable, typed (dates, vocabularies, units), and filters;
/// private fields are neither listed nor accepted.
async fn every_public_field_is_a_typed_queryable(backend: Backend) {
    let app = spawn_app(backend).await;
    let zones = app.get("/collections/zones/queryables").await.json();
    let properties = zones["properties"].as_object().unwrap();
    assert!(properties.len() >= 12, "{properties:?}");
    assert_eq!(properties["status"]["enum"].as_array().unwrap().len(), 6);
    assert_eq!(properties["established_on"]["format"], "date");
    assert_eq!(properties["declared_area_ha"]["x-ogc-unit"], "ha");
    let parcels = app.get("/collections/clearance_parcels/queryables").await.json();
    assert!(parcels["properties"].get("owner_name").is_none(), "private fields are no filters");
    assert!(
        app.get("/collections/clearance_parcels/items?owner_name=x")
            .await
            .problem(400)
            .contains("owner_name")
    );
    // Fields that were not filters before now are: dates, numbers, booleans.
    let established = app.get("/collections/zones/items?established_on=2002-12-30&limit=100").await.json();
    assert_eq!(established["numberMatched"], 1, "Quế Võ was established on 30/12/2002");
    assert_eq!(established["features"][0]["id"], "BN-QV1");
    let doc = app.get("/api").await.json();
    let params = doc["paths"]["/collections/zones/items"]["get"]["parameters"].as_array().unwrap().clone();
    let status = params.iter().find(|p| p["name"] == "status").unwrap();
    assert!(status["schema"]["enum"].is_array(), "the OpenAPI document lists the vocabulary: {status}");
}

/// Responses are compressed when the client asks: gzip and brotli, for GeoJSON and vector tiles alike.
async fn responses_are_compressed_on_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let uri = "/collections/plots/items?limit=1000";
    let plain = app.get(uri).await;
    assert!(plain.headers.get("content-encoding").is_none());
    for encoding in ["gzip", "br"] {
        let packed = app.get_with(uri, &[("accept-encoding", encoding)]).await;
        assert_eq!(packed.status, 200);
        assert_eq!(packed.headers["content-encoding"], encoding);
        assert!(
            packed.body.len() * 4 < plain.body.len(),
            "{encoding}: {} of {} bytes",
            packed.body.len(),
            plain.body.len()
        );
    }
    let tile =
        app.get_with("/tiles/plots/14/13213/7121.mvt?at=2023-11-17", &[("accept-encoding", "gzip")]).await;
    if tile.status == 200 {
        assert_eq!(tile.headers["content-encoding"], "gzip");
    }
}

/// `/metrics` counts requests by route template and status, and reports cache bytes and the pool.
async fn metrics_count_requests_by_route(backend: Backend) {
    let app = spawn_app(backend).await;
    for _ in 0..3 {
        assert_eq!(app.get("/collections/zones/items/BN-QV1").await.status, 200);
    }
    app.get("/collections/zones/items/NOPE").await.problem(404);
    assert_eq!(app.get("/occupancy?province_code=VN-56").await.status, 200);
    // The same question again is answered from memory, whole.
    assert_eq!(app.get("/occupancy?province_code=VN-56").await.status, 200);
    let reply = app.get("/metrics").await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type().starts_with("text/plain"));
    let text = reply.text();
    let line =
        |needle: &str| text.lines().find(|l| l.contains(needle) && !l.starts_with('#')).map(str::to_string);
    let ok = line(r#"landbank_http_requests_total{method="GET",route="/collections/{collection_id}/items/{feature_id}",status="200"}"#)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(ok.ends_with(" 3"), "{ok}");
    assert!(line(r#"status="404""#).is_some(), "{text}");
    assert!(line("landbank_http_request_duration_seconds_bucket").is_some());
    let figures = line(r#"landbank_cache_bytes{cache="figures"}"#).unwrap();
    assert!(!figures.ends_with(" 0"), "the occupancy question kept figures: {figures}");
    assert!(line(r#"landbank_db_pool_connections{state="open"}"#).is_some());
    let count = |needle: &str| -> u64 {
        line(needle)
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("{needle}: {text}"))
    };
    let misses = count(r#"landbank_cache_lookups_total{cache="figures",result="miss"}"#);
    assert!(misses > 0, "the first question measured its zones");
    let answers = |result: &str| {
        count(&format!(r#"landbank_cache_lookups_total{{cache="figures_answers",result="{result}"}}"#))
    };
    assert_eq!(
        (answers("hit"), answers("miss")),
        (1, 1),
        "the second question got the answer the first kept"
    );
    assert!(line(r#"landbank_cache_bytes{cache="figures_answers"}"#).is_some_and(|l| !l.ends_with(" 0")));
}

/// `sortby` orders features the same way on both stores, with and without a bounding box and as of an
/// instant; `properties` keeps only the properties asked for.
async fn sortby_and_properties(backend: Backend) {
    let app = spawn_app(backend).await;
    let areas = |body: &Value| -> Vec<f64> {
        body["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["area_ha"].as_f64().unwrap())
            .collect()
    };
    let desc = app.get("/collections/plots/items?zone_code=BN-QV1&sortby=-area_ha&limit=500").await.json();
    let a = areas(&desc);
    assert!(a.len() > 20 && a.windows(2).all(|w| w[0] >= w[1]), "{a:?}");
    let boxed = app
        .get("/collections/plots/items?bbox=106.10,21.14,106.14,21.19&sortby=area_ha&limit=500")
        .await
        .json();
    let b = areas(&boxed);
    assert!(b.len() > 20 && b.windows(2).all(|w| w[0] <= w[1]), "{b:?}");
    let then = app
        .get("/collections/plots/items?zone_code=BN-QV1&sortby=-area_ha&limit=500&datetime=2100-01-01T00:00:00Z")
        .await
        .json();
    assert_eq!(areas(&then), a, "as of an instant, the same order");
    let zones = app
        .get("/collections/zones/items?sortby=-established_on,code&limit=100&properties=code,established_on")
        .await
        .json();
    let first = &zones["features"][0]["properties"];
    assert_eq!(first.as_object().unwrap().len(), 2, "{first}");
    let dates: Vec<&str> = zones["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["properties"]["established_on"].as_str())
        .collect();
    assert!(dates.len() > 10 && dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    assert!(app.get("/collections/zones/items?sortby=owner").await.problem(400).contains("cannot be sorted"));
    assert!(app.get("/collections/zones/items?properties=nope").await.problem(400).contains("nope"));
}

/// The OpenAPI 3.0 schema `name` of `doc` as a JSON Schema a validator reads: `nullable` becomes a type
/// that admits null, references point into the document's components.
fn json_schema_of(doc: &Value, name: &str) -> Value {
    fn nullable_to_types(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if o.remove("nullable") == Some(Value::Bool(true)) {
                    match o.get("type").cloned() {
                        Some(Value::String(t)) => {
                            o.insert("type".into(), serde_json::json!([t, "null"]));
                        }
                        _ => {
                            let inner = Value::Object(std::mem::take(o));
                            o.insert("anyOf".into(), serde_json::json!([inner, { "type": "null" }]));
                        }
                    }
                }
                o.values_mut().for_each(nullable_to_types);
            }
            Value::Array(a) => a.iter_mut().for_each(nullable_to_types),
            _ => {}
        }
    }
    let mut components = doc["components"].clone();
    nullable_to_types(&mut components);
    serde_json::json!({ "$ref": format!("#/components/schemas/{name}"), "components": components })
}

async fn the_figures_answer_in_the_shapes_the_openapi_document_gives_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = app.get("/api").await.json();
    for (path, uri) in [
        ("/occupancy", "/occupancy?at=2024-06-30"),
        ("/zones/{code}/occupancy", "/zones/BN-QV1/occupancy?at=2024-06-30"),
        ("/reports/national", "/reports/national?at=2024-06-30"),
        ("/projects/{id}/timeline", "/projects/BN-QV1-P003/timeline?at=2024-06-30"),
    ] {
        let schema = &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        let name = schema["allOf"][0]["$ref"].as_str().unwrap_or_else(|| panic!("{path}: {schema}"));
        let name = name.rsplit('/').next().unwrap();
        let properties = doc["components"]["schemas"][name]["properties"].as_object();
        assert!(properties.is_some_and(|p| p.len() > 3), "{path}: {name} has no properties in /api");
        let validator = jsonschema::validator_for(&json_schema_of(&doc, name))
            .unwrap_or_else(|e| panic!("{path}: the schema {name} does not compile: {e}"));
        let body = app.get(uri).await.json();
        let errors: Vec<String> =
            validator.iter_errors(&body).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "{uri} does not match {name}: {errors:#?}");
        // The schema holds the answer to its word: a figure of the wrong type, or a missing one, fails.
        let required = doc["components"]["schemas"][name]["required"].as_array().expect("required fields");
        assert!(required.len() > 3, "{name}: {required:?}");
        for field in required.iter().map(|f| f.as_str().unwrap()) {
            let mut wrong = body.clone();
            wrong[field] = serde_json::json!({ "not": "a figure" });
            assert!(!validator.is_valid(&wrong), "{name} accepts an object for {field}");
            wrong.as_object_mut().unwrap().remove(field);
            assert!(!validator.is_valid(&wrong), "{name} accepts an answer without {field}");
        }
    }
    // The schemas say what a user reads in the figures: units in names, and their descriptions.
    let figures = &doc["components"]["schemas"]["ZoneFigures"]["properties"];
    assert_eq!(figures["leased_ha"]["type"], "number");
    assert_eq!(figures["occupancy_pct"]["nullable"], true, "{}", figures["occupancy_pct"]);
    assert!(figures["planned_area_ha"]["description"].as_str().is_some_and(|d| d.contains("declared area")));
}

/// A page is written straight from the stored text; one feature through the JSON tree: every feature
/// of every collection reads the same both ways (id, geometry to the last digit, every property), and
/// `properties=` keeps only what it names.
async fn a_page_carries_each_feature_as_its_own_url_does(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut compared = 0;
    for c in landbank::collections::ALL.iter().filter(|c| c.published && !c.computed) {
        let page = app.get(&format!("/collections/{}/items?limit=40", c.id)).await;
        assert_eq!(page.status, 200, "{}", c.id);
        assert_eq!(page.content_type(), "application/geo+json");
        let page = page.json();
        assert_eq!(page["type"], "FeatureCollection");
        assert_eq!(
            page["numberReturned"].as_u64().unwrap() as usize,
            page["features"].as_array().unwrap().len()
        );
        for feature in page["features"].as_array().unwrap() {
            let id = feature["id"].as_str().unwrap();
            let one = app
                .get(&format!(
                    "/collections/{}/items/{}",
                    c.id,
                    url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
                ))
                .await
                .json();
            assert_eq!(feature["geometry"], one["geometry"], "{} {id}", c.id);
            // A plot's page also says its lease status on the date, which the plot's own URL does not.
            let mut properties = feature["properties"].as_object().unwrap().clone();
            properties.remove("lease_status");
            assert_eq!(Value::Object(properties), one["properties"], "{} {id}", c.id);
            compared += 1;
        }
    }
    assert!(compared > 100, "{compared} features compared");
    let some = app.get("/collections/plots/items?limit=5&properties=code,zone_code").await.json();
    for feature in some["features"].as_array().unwrap() {
        let keys: Vec<&String> = feature["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["zone_code", "code"], "{feature}");
    }
}

/// Boxes with a few candidates, hundreds, and every plot give the pages and counts that testing every
/// plot's shape against the box gives, in the collection's order, on an install with plots of its own.
/// The plots are diamonds, so each box's corners meet plots' boxes and miss their shapes.
async fn small_and_large_boxes_page_alike(backend: Backend) {
    use geo::{BoundingRect, Intersects};
    let app = spawn_empty_app(backend).await;
    let square = |x: f64, y: f64, side: f64| {
        json!([[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]])
    };
    let zones = json!({ "type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "Z-GRID",
        "properties": { "code": "Z-GRID", "name": "KCN Lưới", "kind": "industrial_park", "province_code": "VN-56", "status": "operating" },
        "geometry": { "type": "Polygon", "coordinates": square(105.999, 20.999, 0.05) }
    }]});
    let zones = landbank::ingest::parse_feature_collection(
        &collections::ZONES,
        "zones.geojson",
        &zones.to_string(),
        &HashMap::new(),
    )
    .unwrap();
    app.store.insert(&[(&collections::ZONES, zones)]).await.unwrap();
    let mut plots = Vec::new();
    let mut shapes = HashMap::new();
    for i in 0..40 {
        for j in 0..40 {
            let (cx, cy) = (106.0005 + i as f64 * 0.001, 21.0005 + j as f64 * 0.001);
            let ring = vec![
                (cx, cy - 0.0004),
                (cx + 0.0004, cy),
                (cx, cy + 0.0004),
                (cx - 0.0004, cy),
                (cx, cy - 0.0004),
            ];
            let code = format!("D{i:02}-{j:02}");
            shapes.insert(
                format!("Z-GRID-{code}"),
                geo::Polygon::new(geo::LineString::from(ring.clone()), vec![]),
            );
            let coordinates: Vec<[f64; 2]> = ring.iter().map(|&(x, y)| [x, y]).collect();
            plots.push(json!({ "type": "Feature", "id": format!("Z-GRID-{code}"),
                "properties": { "code": code, "zone_code": "Z-GRID", "province_code": "VN-56" },
                "geometry": { "type": "Polygon", "coordinates": [coordinates] } }));
        }
    }
    let plots = json!({ "type": "FeatureCollection", "features": plots });
    let zone_provinces = HashMap::from([("Z-GRID".to_string(), "VN-56".to_string())]);
    let plots = landbank::ingest::parse_feature_collection(
        &collections::PLOTS,
        "plots.geojson",
        &plots.to_string(),
        &zone_provinces,
    )
    .unwrap();
    app.store.insert(&[(&collections::PLOTS, plots)]).await.unwrap();
    let all = app.get("/collections/plots/items?limit=10000").await.json();
    let order: Vec<String> =
        all["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(order.len(), 1600);
    // 16 candidates, 484, 600, every plot.
    for (w, s, e, n) in [
        (106.00275, 21.00275, 106.00525, 21.00525),
        (106.00475, 21.00475, 106.02525, 21.02525),
        (106.00475, 21.00475, 106.02825, 21.02725),
        (105.99, 20.99, 106.05, 21.05),
    ] {
        let rect = geo::Rect::new((w, s), (e, n));
        let expected: Vec<&String> = order.iter().filter(|id| shapes[*id].intersects(&rect)).collect();
        let candidates = order
            .iter()
            .filter(|id| shapes[*id].bounding_rect().is_some_and(|b| b.intersects(&rect)))
            .count();
        assert!(expected.len() < candidates || candidates == 1600, "{candidates} candidates");
        let mut paged = Vec::new();
        let mut matched = None;
        for offset in (0..expected.len() + 37).step_by(37) {
            let page = app
                .get(&format!("/collections/plots/items?bbox={w},{s},{e},{n}&limit=37&offset={offset}"))
                .await
                .json();
            matched = page["numberMatched"].as_u64();
            paged.extend(
                page["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()),
            );
        }
        assert_eq!(matched, Some(expected.len() as u64), "box {w},{s},{e},{n}");
        assert_eq!(paged.iter().collect::<Vec<_>>(), expected, "box {w},{s},{e},{n}");
    }
}

/// Text holding control characters, quotes and the characters a page's rows are joined with inside
/// the store (SQLite reads a page as one text) comes back as it was stored, in a page, a box and on the
/// record's own URL. Imports and edits refuse control characters; the store keeps what it is given.
async fn a_page_returns_any_text_as_written(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    let odd = ["KCN \u{1e}Một\u{1f}", "tab\tnew\nline \"quoted\" \\ end", "\u{1}\u{7f} é 工业区 🏭"];
    let zones = odd
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (x, y) = (106.0 + i as f64 * 0.01, 21.0);
            let square = geo::Rect::new((x, y), (x + 0.005, y + 0.005)).to_polygon();
            let properties = json!({ "code": format!("Z-ODD-{i}"), "name": name, "kind": "industrial_park",
                "province_code": "VN-56", "status": "operating" });
            landbank::store::NewFeature {
                id: format!("Z-ODD-{i}"),
                properties: properties.as_object().unwrap().clone(),
                geometry: Some(geo::MultiPolygon(vec![square])),
                source_crs: "EPSG:4326".into(),
            }
        })
        .collect();
    app.store.insert(&[(&collections::ZONES, zones)]).await.unwrap();
    for url in
        ["/collections/zones/items?limit=10", "/collections/zones/items?bbox=105.9,20.9,106.1,21.1&limit=10"]
    {
        let page = app.get(url).await;
        assert_eq!(page.status, 200, "{url}");
        let page = page.json();
        let names: Vec<&str> = page["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, odd, "{url}");
        for feature in page["features"].as_array().unwrap() {
            let one = app.get(&format!("/collections/zones/items/{}", feature["id"].as_str().unwrap())).await;
            let one = one.json();
            assert_eq!(
                (&feature["properties"], &feature["geometry"]),
                (&one["properties"], &one["geometry"])
            );
        }
    }
}

/// The box around a GeoJSON geometry's coordinates: `minx,miny,maxx,maxy`.
fn bbox_of(geometry: &Value) -> String {
    fn points(v: &Value, out: &mut Vec<(f64, f64)>) {
        match v.as_array() {
            Some(a) if a.len() >= 2 && a[0].is_number() => {
                out.push((a[0].as_f64().unwrap(), a[1].as_f64().unwrap()))
            }
            Some(a) => a.iter().for_each(|v| points(v, out)),
            None => {}
        }
    }
    let mut xy = Vec::new();
    points(&geometry["coordinates"], &mut xy);
    let (xs, ys): (Vec<f64>, Vec<f64>) = xy.into_iter().unzip();
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{},{},{},{}", min(&xs), min(&ys), max(&xs), max(&ys))
}

/// A box of plots coloured by their leases: read again while nothing changed, the page knows its
/// zones' versions without asking the store for them; a lease signed through the API shows at once.
async fn a_box_of_plots_shows_a_lease_signed_through_the_api_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get("/collections/plots/items?limit=500&at=2024-01-01").await.json();
    let free =
        page["features"].as_array().unwrap().iter().find(|f| f["properties"]["lease_status"] == "free");
    let free = free.expect("a free plot on 2024-01-01").clone();
    let id = free["id"].as_str().unwrap().to_string();
    let uri = format!("/collections/plots/items?bbox={}&at=2024-01-01", bbox_of(&free["geometry"]));
    let status = |page: &Value| {
        let features = page["features"].as_array().unwrap();
        let plot = features.iter().find(|f| f["id"] == id.as_str());
        plot.unwrap_or_else(|| panic!("{id} in its own box: {page}"))["properties"]["lease_status"].clone()
    };
    assert_eq!(status(&app.get(&uri).await.json()), "free");
    let (hits, misses) = app.cache_lookups("zone_versions").await;
    assert_eq!(status(&app.get(&uri).await.json()), "free");
    assert_eq!(app.cache_lookups("zone_versions").await, (hits + 1, misses), "nothing changed: known");

    let planner = app.bearer(landbank::auth::Role::Planner, "phong quy hoach").await;
    let lease = json!({"type": "Feature", "geometry": free["geometry"], "properties": {
        "zone_code": free["properties"]["zone_code"], "plot_codes": free["properties"]["code"],
        "status": "active", "start_on": "2023-06-01"}});
    let created =
        app.send("POST", "/collections/leases/items", &[("authorization", &planner)], Some(&lease)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(status(&app.get(&uri).await.json()), "active", "{id} leased since 2023-06-01");
    assert_eq!(app.cache_lookups("zone_versions").await, (hits + 1, misses + 1), "a write: read again");
}

/// Not the demo: an empty install gets a zone and plots of its own, and a lease written by another
/// process (straight into the store, as `landbank import` beside the server writes) shows in the next
/// page of a box of plots, though the page had known its zones' versions without reading them.
async fn a_box_of_plots_follows_a_lease_written_by_another_process(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    let square = |x0: f64, side: f64| json!({"type": "Polygon", "coordinates": [[[x0, 21.004], [x0 + side, 21.004], [x0 + side, 21.004 + side], [x0, 21.004 + side], [x0, 21.004]]]});
    let load = |collection: &'static collections::Collection, features: Value| {
        let fc = json!({"type": "FeatureCollection", "features": features}).to_string();
        let zones = [("Z-9".to_string(), "VN-56".to_string())].into_iter().collect();
        (collection, landbank::ingest::parse_feature_collection(collection, "t", &fc, &zones).unwrap())
    };
    let zone = load(
        &collections::ZONES,
        json!([{"type": "Feature", "id": "Z-9", "geometry": {"type": "Polygon", "coordinates": [[[107.0, 21.0], [107.01, 21.0], [107.01, 21.01], [107.0, 21.01], [107.0, 21.0]]]},
            "properties": {"code": "Z-9", "name": "Chín", "kind": "industrial_park", "province_code": "VN-56", "status": "operating"}}]),
    );
    let plot = |code: &str, x0: f64| {
        json!({"type": "Feature", "id": format!("Z-9-{code}"), "geometry": square(x0, 0.002),
            "properties": {"zone_code": "Z-9", "code": code}})
    };
    let plots = load(&collections::PLOTS, json!([plot("P1", 107.001), plot("P2", 107.004)]));
    app.store.insert(&[zone, plots]).await.unwrap();

    let uri = "/collections/plots/items?bbox=107.0,21.0,107.01,21.01&at=2024-06-30";
    let statuses = |page: Value| -> Vec<(String, String)> {
        let features = page["features"].as_array().unwrap().iter();
        let status = |f: &Value| f["properties"]["lease_status"].as_str().unwrap().to_string();
        features.map(|f| (f["id"].as_str().unwrap().to_string(), status(f))).collect()
    };
    let free = [("Z-9-P1".to_string(), "free".to_string()), ("Z-9-P2".to_string(), "free".to_string())];
    assert_eq!(statuses(app.get(uri).await.json()), free);
    let (hits, misses) = app.cache_lookups("zone_versions").await;
    assert_eq!(statuses(app.get(uri).await.json()), free);
    assert_eq!(app.cache_lookups("zone_versions").await, (hits + 1, misses), "nothing changed: known");

    let lease = load(
        &collections::LEASES,
        json!([{"type": "Feature", "id": "L-1", "geometry": square(107.001, 0.002),
            "properties": {"zone_code": "Z-9", "plot_codes": "P1", "status": "active", "start_on": "2024-01-01"}}]),
    );
    app.store.insert(&[lease]).await.unwrap();
    let after = statuses(app.get(uri).await.json());
    assert_eq!(after, [("Z-9-P1".to_string(), "active".to_string()), free[1].clone()]);
}

crate::contract!(
    a_box_of_plots_follows_a_lease_written_by_another_process,
    a_box_of_plots_shows_a_lease_signed_through_the_api_at_once,
    a_page_returns_any_text_as_written,
    the_figures_answer_in_the_shapes_the_openapi_document_gives_them,
    sortby_and_properties,
    metrics_count_requests_by_route,
    every_public_field_is_a_typed_queryable,
    responses_are_compressed_on_request,
    every_route_of_the_router_is_in_the_api_document,
    the_demo_notice_appears_only_with_the_demo,
    landing_page_links_the_api_conformance_and_collections,
    the_openapi_document_matches_the_real_routes,
    collections_describe_themselves,
    items_page_through_every_feature_with_next_links,
    a_limit_over_the_maximum_is_clamped_and_bad_paging_is_refused,
    features_carry_id_geometry_and_properties_with_rfc7946_coordinates,
    bbox_returns_what_intersects_it,
    small_and_large_boxes_page_alike,
    bad_bboxes_are_refused_with_the_reason,
    equality_filters_on_queryables,
    unknown_collections_and_features_are_404_problems,
    health_and_readiness,
    a_page_carries_each_feature_as_its_own_url_does,
);
