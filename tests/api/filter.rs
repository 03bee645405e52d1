//! OGC API - Features Part 3: CQL2 filters (text and JSON) answered by the store, checked against the
//! same condition evaluated here on every feature of the collection; bad filters answered with what is
//! wrong and where; GDAL's OAPIF driver sending its `-where` to the server.

use std::collections::BTreeSet;

use geo::{BoundingRect, Contains, Intersects, MultiPolygon};
use serde_json::Value;

use crate::helpers::{Backend, TestApp, spawn_app};

/// Every feature of `collection` (one page holds them all on the demo).
async fn all(app: &TestApp, collection: &str) -> Vec<Value> {
    let body = app.get(&format!("/collections/{collection}/items?limit=10000")).await.json();
    let features = body["features"].as_array().unwrap().clone();
    assert_eq!(features.len() as u64, body["numberMatched"].as_u64().unwrap(), "{collection}: one page");
    assert!(!features.is_empty(), "{collection}: the demo has some");
    features
}

fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The ids the server returns for `filter` (in `lang`), every page of them.
async fn ids_for(app: &TestApp, collection: &str, filter: &str, lang: &str) -> BTreeSet<String> {
    let reply = app
        .get(&format!(
            "/collections/{collection}/items?limit=10000&filter-lang={lang}&filter={}",
            enc(filter)
        ))
        .await;
    assert_eq!(reply.status, 200, "{filter}: {}", reply.text());
    let body = reply.json();
    let ids: BTreeSet<String> =
        body["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len() as u64, body["numberMatched"].as_u64().unwrap(), "{filter}: numberMatched");
    ids
}

fn ids_where(features: &[Value], keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    features.iter().filter(|f| keep(f)).map(|f| f["id"].as_str().unwrap().to_string()).collect()
}

fn geometry(f: &Value) -> MultiPolygon {
    let g: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).unwrap();
    match geo::Geometry::<f64>::try_from(g).unwrap() {
        geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
        geo::Geometry::MultiPolygon(m) => m,
        other => panic!("not polygonal: {other:?}"),
    }
}

fn fold(text: &str) -> String {
    deunicode::deunicode(text).to_lowercase()
}

async fn cql2_filters_select_what_they_say(backend: Backend) {
    let app = spawn_app(backend).await;
    let leases = all(&app, "leases").await;
    let plots = all(&app, "plots").await;
    let zones = all(&app, "zones").await;
    let p = |f: &Value, name: &str| f["properties"][name].clone();
    let text = |f: &Value, name: &str| f["properties"][name].as_str().map(str::to_string);
    let area = |f: &Value| f["properties"]["area_ha"].as_f64();

    // Each case: the filter as cql2-text, the same as cql2-json, and the rows it must select.
    type Case = (&'static str, String, &'static str, BTreeSet<String>);
    let mut cases: Vec<Case> = vec![
        (
            "leases",
            "status = 'active' AND area_ha > 5".into(),
            r#"{"op":"and","args":[{"op":"=","args":[{"property":"status"},"active"]},{"op":">","args":[{"property":"area_ha"},5]}]}"#,
            ids_where(&leases, |f| p(f, "status") == "active" && area(f).is_some_and(|a| a > 5.0)),
        ),
        (
            "leases",
            "NOT (status = 'active') OR signed_on < DATE('2015-01-01')".into(),
            r#"{"op":"or","args":[{"op":"not","args":[{"op":"=","args":[{"property":"status"},"active"]}]},{"op":"<","args":[{"property":"signed_on"},{"date":"2015-01-01"}]}]}"#,
            ids_where(&leases, |f| {
                text(f, "status").is_some_and(|s| s != "active")
                    || text(f, "signed_on").is_some_and(|d| d.as_str() < "2015-01-01")
            }),
        ),
        (
            "leases",
            "T_AFTER(signed_on, DATE('2020-01-01')) AND end_on IS NULL".into(),
            r#"{"op":"and","args":[{"op":"t_after","args":[{"property":"signed_on"},{"date":"2020-01-01"}]},{"op":"isNull","args":[{"property":"end_on"}]}]}"#,
            ids_where(&leases, |f| {
                text(f, "signed_on").is_some_and(|d| d.as_str() > "2020-01-01") && p(f, "end_on").is_null()
            }),
        ),
        (
            "leases",
            "T_INTERSECTS(start_on, INTERVAL('2018-01-01', '..'))".into(),
            r#"{"op":"t_intersects","args":[{"property":"start_on"},{"interval":["2018-01-01",".."]}]}"#,
            ids_where(&leases, |f| text(f, "start_on").is_some_and(|d| d.as_str() >= "2018-01-01")),
        ),
        (
            "plots",
            "area_ha BETWEEN 1 AND 3 AND zone_code IN ('BN-TS', 'BN-YP2A', 'HP-DV')".into(),
            r#"{"op":"and","args":[{"op":"between","args":[{"property":"area_ha"},1,3]},{"op":"in","args":[{"property":"zone_code"},["BN-TS","BN-YP2A","HP-DV"]]}]}"#,
            ids_where(&plots, |f| {
                area(f).is_some_and(|a| (1.0..=3.0).contains(&a))
                    && text(f, "zone_code")
                        .is_some_and(|z| ["BN-TS", "BN-YP2A", "HP-DV"].contains(&z.as_str()))
            }),
        ),
        (
            "plots",
            "code LIKE '%-1_'".into(),
            r#"{"op":"like","args":[{"property":"code"},"%-1_"]}"#,
            ids_where(&plots, |f| {
                let c: Vec<char> = text(f, "code").unwrap_or_default().chars().collect();
                c.len() >= 3 && c[c.len() - 3] == '-' && c[c.len() - 2] == '1'
            }),
        ),
    ];
    // Vietnamese names found without tones or case, as a person types them.
    let name = zones.iter().filter_map(|z| text(z, "name")).find(|n| n != &deunicode::deunicode(n)).unwrap();
    let word = fold(name.split_whitespace().last().unwrap());
    cases.push((
        "zones",
        format!("ACCENTI(CASEI(name)) LIKE ACCENTI(CASEI('%{}%'))", word.to_uppercase()),
        "",
        ids_where(&zones, |z| text(z, "name").is_some_and(|n| fold(&n).contains(&word))),
    ));
    // A point inside a plot finds that plot; a box finds the plots within it.
    let plot = &plots[plots.len() / 2];
    let g = geometry(plot);
    let inner = geo::InteriorPoint::interior_point(&g).unwrap();
    cases.push((
        "plots",
        format!("S_INTERSECTS(geometry, POINT({} {}))", inner.x(), inner.y()),
        "",
        ids_where(&plots, |f| geometry(f).intersects(&inner)),
    ));
    let zone = zones.iter().find(|z| z["geometry"].is_object()).unwrap();
    let r = geometry(zone).bounding_rect().unwrap();
    // A metre around the zone: served coordinates are rounded to 7 decimals, stored ones are not.
    let (x0, y0, x1, y1) = (r.min().x - 1e-5, r.min().y - 1e-5, r.max().x + 1e-5, r.max().y + 1e-5);
    let box_polygon = geo::Rect::new((x0, y0), (x1, y1)).to_polygon();
    cases.push((
        "plots",
        format!("S_WITHIN(geometry, POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0})))"),
        "",
        ids_where(&plots, |f| box_polygon.contains(&geometry(f))),
    ));
    // A spatial part inside OR and NOT: the SQL widens, Rust decides.
    cases.push((
        "plots",
        format!("NOT S_DISJOINT(geometry, BBOX({x0}, {y0}, {x1}, {y1})) AND NOT (area_ha < 2)"),
        "",
        ids_where(&plots, |f| {
            geometry(f).intersects(&geo::Rect::new((x0, y0), (x1, y1))) && area(f).is_some_and(|a| a >= 2.0)
        }),
    ));

    let mut nonempty = 0;
    for (collection, text_filter, json_filter, expected) in &cases {
        let got = ids_for(&app, collection, text_filter, "cql2-text").await;
        assert_eq!(&got, expected, "{collection}: {text_filter}");
        if !json_filter.is_empty() {
            let got = ids_for(&app, collection, json_filter, "cql2-json").await;
            assert_eq!(&got, expected, "{collection}: {json_filter}");
        }
        if !expected.is_empty() {
            nonempty += 1;
        }
        // Every filter and its negation split the rows that have the values (the rest are unknown).
        let negated = ids_for(&app, collection, &format!("NOT ({text_filter})"), "cql2-text").await;
        assert!(negated.is_disjoint(expected), "{collection}: NOT ({text_filter}) overlaps it");
    }
    assert!(nonempty >= cases.len() - 1, "the cases must select something on the demo");
}

async fn filters_page_and_sort_like_any_other_query(backend: Backend) {
    let app = spawn_app(backend).await;
    let filter = enc("CASEI(status) = 'ACTIVE' OR area_ha > 1000");
    let all_pages =
        app.get(&format!("/collections/leases/items?limit=10000&filter={filter}&sortby=-area_ha")).await;
    assert_eq!(all_pages.status, 200, "{}", all_pages.text());
    let all_pages = all_pages.json();
    let matched = all_pages["numberMatched"].as_u64().unwrap();
    assert!(matched > 3);
    let areas: Vec<f64> = all_pages["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["area_ha"].as_f64().unwrap())
        .collect();
    assert!(areas.windows(2).all(|w| w[0] >= w[1]), "sorted by area, largest first: {areas:?}");
    let page = app
        .get(&format!("/collections/leases/items?limit=2&offset=2&filter={filter}&sortby=-area_ha"))
        .await
        .json();
    assert_eq!(page["numberMatched"].as_u64().unwrap(), matched);
    let page_ids: Vec<&str> =
        page["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> =
        all_pages["features"].as_array().unwrap()[2..4].iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(page_ids, expected);
    let next = page["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next").unwrap();
    assert!(next["href"].as_str().unwrap().contains("filter="), "the next page keeps the filter");
}

async fn bad_filters_say_what_is_wrong_and_where(backend: Backend) {
    let app = spawn_app(backend).await;
    let problem = |uri: String| {
        let app = &app;
        async move {
            let reply = app.get(&uri).await;
            assert_eq!(reply.status, 400, "{uri}: {}", reply.text());
            assert!(reply.content_type().starts_with("application/problem+json"), "{uri}");
            reply.json()["detail"].as_str().unwrap().to_string()
        }
    };
    let detail = problem(format!("/collections/plots/items?filter={}", enc("area_ha >> 5"))).await;
    assert!(detail.contains("column") && detail.contains("expected"), "{detail}");
    let detail = problem(format!("/collections/plots/items?filter={}", enc("height > 5"))).await;
    assert!(
        detail.contains("'height'") && detail.contains("zone_code") && detail.contains("area_ha"),
        "{detail}"
    );
    let detail = problem(format!("/collections/plots/items?filter={}", enc("area_ha > 'big'"))).await;
    assert!(detail.contains("area_ha"), "{detail}");
    let detail =
        problem(format!("/collections/leases/items?filter={}", enc("signed_on > '2020-13-45'"))).await;
    assert!(detail.contains("signed_on"), "{detail}");
    let detail = problem(format!("/collections/plots/items?filter={}&filter-lang=sql", enc("1=1"))).await;
    assert!(detail.contains("cql2-text"), "{detail}");
    let detail =
        problem(format!("/collections/plots/items?filter={}&filter-lang=cql2-json", enc("{\"op\":"))).await;
    assert!(detail.contains("CQL2 JSON"), "{detail}");
    let detail =
        problem(format!("/collections/plots/items?filter={}", enc("S_INTERSECTS(geometry, POINT(500 21))")))
            .await;
    assert!(detail.contains("out of range"), "{detail}");
    let detail = problem(format!(
        "/collections/plots/items?filter={}&filter-crs=EPSG:9209",
        enc("S_INTERSECTS(geometry, POINT(106 21))")
    ))
    .await;
    assert!(detail.contains("filter-crs"), "{detail}");
    let detail = problem(format!("/collections/plots/items?filter={}", enc("area_ha + 1 > 5"))).await;
    assert!(detail.contains("arithmetic"), "{detail}");
    problem("/collections/plots/items?filter-lang=cql2-text".into()).await;
}

/// GDAL 3.6 sends a `-where` as a `cql-text` filter when the OpenAPI offers it and lists the
/// properties: a handful of requests, not a walk through every page of leases.
async fn gdal_sends_its_where_to_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let leases = all(&app, "leases").await;
    let expected = leases
        .iter()
        .filter(|f| {
            f["properties"]["status"] == "active" && f["properties"]["area_ha"].as_f64().unwrap_or(0.0) > 5.0
        })
        .count();
    assert!(expected > 0 && expected < leases.len());
    let requests = |metrics: &str| -> u64 {
        metrics
            .lines()
            .filter(|l| {
                l.starts_with("landbank_http_requests_total")
                    && l.contains("route=\"/collections/{collection_id}/items\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    };
    let before = requests(&app.get("/metrics").await.text());
    let base = app.serve().await;
    let source = format!("OAPIF:{base}");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("ogrinfo")
            .args([
                "-ro",
                "-al",
                "-q",
                "-oo",
                "PAGE_SIZE=2",
                &source,
                "leases",
                "-where",
                "status = 'active' AND area_ha > 5",
            ])
            .output()
            .expect("ogrinfo (gdal-bin) is installed by scripts/test")
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let read = stdout.lines().filter(|l| l.starts_with("OGRFeature(leases)")).count();
    assert_eq!(read, expected, "GDAL read the matching leases");
    let sent = requests(&app.get("/metrics").await.text()) - before;
    // Pages of 2 over the matches only (plus GDAL's first probes), never the whole collection.
    assert!(
        (sent as usize) <= expected.div_ceil(2) + 3,
        "GDAL made {sent} items requests for {expected} matches of {} leases",
        leases.len()
    );
}

/// Available land is computed, and filters the same way: on each piece as served.
async fn available_land_takes_filters_on_its_computed_properties(backend: Backend) {
    let app = spawn_app(backend).await;
    let all = app.get("/collections/available_land/items?limit=10000").await.json();
    let pieces = all["features"].as_array().unwrap().clone();
    assert!(pieces.len() > 3);
    let expected = ids_where(&pieces, |f| {
        f["properties"]["area_ha"].as_f64().unwrap() > 10.0 && f["properties"]["cleared"] == false
    });
    assert!(!expected.is_empty() && expected.len() < pieces.len());
    let filter = "area_ha > 10 AND cleared = false";
    assert_eq!(ids_for(&app, "available_land", filter, "cql2-text").await, expected);
    let reply = app.get(&format!("/available?limit=10000&filter={}", enc(filter))).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    let got: BTreeSet<String> =
        body["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, expected, "/available and the collection agree");
    let queryables = app.get("/collections/available_land/queryables").await.json();
    for name in ["area_ha", "cleared_ha", "zone_status", "zone_name"] {
        assert!(queryables["properties"].get(name).is_some(), "{name} is queryable");
    }
}

/// `q=` finds records by words in their text, as people type them: any case, with or without tones.
async fn q_finds_names_without_tones(backend: Backend) {
    let app = spawn_app(backend).await;
    let zones = all(&app, "zones").await;
    let name = zones
        .iter()
        .filter_map(|z| z["properties"]["name"].as_str())
        .find(|n| n.split_whitespace().count() >= 2 && *n != deunicode::deunicode(n))
        .unwrap()
        .to_string();
    let typed = fold(&name).to_uppercase();
    let words: Vec<String> = fold(&name).split_whitespace().map(str::to_string).collect();
    let expected = ids_where(&zones, |z| {
        let texts: Vec<String> =
            ["code", "name", "developer", "kind", "status", "province_code", "parent_code"]
                .iter()
                .filter_map(|k| z["properties"][*k].as_str().map(fold))
                .chain([fold(z["id"].as_str().unwrap())])
                .collect();
        words.iter().all(|w| texts.iter().any(|t| t.contains(w.as_str())))
    });
    assert!(!expected.is_empty());
    let reply = app.get(&format!("/collections/zones/items?limit=1000&q={}", enc(&typed))).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let got: BTreeSet<String> = reply.json()["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, expected, "q={typed} (for {name})");
    // Investors search available land the same way.
    let word = fold(name.split_whitespace().last().unwrap());
    let pieces =
        app.get(&format!("/available?limit=10000&zone_status=all&q={}", enc(&word.to_uppercase()))).await;
    assert_eq!(pieces.status, 200, "{}", pieces.text());
    for piece in pieces.json()["features"].as_array().unwrap() {
        let p = &piece["properties"];
        let hay =
            format!("{} {}", fold(p["zone_name"].as_str().unwrap()), fold(p["zone_code"].as_str().unwrap()));
        assert!(hay.contains(&word) || fold(&p.to_string()).contains(&word), "{p}");
    }
    // Wildcards in q are plain characters.
    let none = app.get("/collections/zones/items?q=%25%25").await.json();
    assert_eq!(none["numberMatched"], 0);
}

/// Plots carry their lease status over OGC API - Features, and clients filter on it like on any field.
async fn plots_carry_and_filter_on_their_lease_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let plots = all(&app, "plots").await;
    let status = |f: &Value| f["properties"]["lease_status"].as_str().unwrap().to_string();
    let mut seen = BTreeSet::new();
    for p in &plots {
        assert!(["active", "reserved", "free"].contains(&status(p).as_str()), "{p}");
        seen.insert(status(p));
    }
    assert!(seen.contains("active") && seen.contains("free"), "{seen:?}");
    // A plot of a running lease is active.
    let leases = all(&app, "leases").await;
    let running = leases
        .iter()
        .find(|l| {
            let p = &l["properties"];
            p["status"] == "active"
                && p["start_on"].as_str().is_some_and(|d| d < "2020-01-01")
                && p["end_on"].as_str().is_none_or(|d| d > "2040-01-01")
        })
        .unwrap();
    let zone = running["properties"]["zone_code"].as_str().unwrap();
    let code = running["properties"]["plot_codes"].as_str().unwrap().split(',').next().unwrap().trim();
    let plot = plots
        .iter()
        .find(|p| p["properties"]["zone_code"] == zone && p["properties"]["code"] == code)
        .unwrap();
    assert_eq!(status(plot), "active", "{plot}");
    let mut total = 0;
    for s in ["active", "reserved", "free"] {
        let reply = app.get(&format!("/collections/plots/items?limit=10000&lease_status={s}")).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let got: BTreeSet<String> = reply.json()["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, ids_where(&plots, |p| status(p) == s), "lease_status={s}");
        total += got.len();
    }
    assert_eq!(total, plots.len());
    let expected =
        ids_where(&plots, |p| status(p) == "free" && p["properties"]["area_ha"].as_f64().unwrap() > 5.0);
    assert!(!expected.is_empty());
    assert_eq!(ids_for(&app, "plots", "lease_status = 'free' AND area_ha > 5", "cql2-text").await, expected);
    // Paging over a computed condition keeps numberMatched.
    let page = app.get("/collections/plots/items?limit=5&offset=5&lease_status=free").await.json();
    assert_eq!(page["numberReturned"], 5);
    assert_eq!(
        page["numberMatched"].as_u64().unwrap() as usize,
        ids_where(&plots, |p| status(p) == "free").len()
    );
    // Before any lease, every plot was free.
    let then = app.get("/collections/plots/items?limit=1&at=1990-01-01&lease_status=free").await.json();
    assert_eq!(then["numberMatched"].as_u64().unwrap() as usize, plots.len());
    let queryables = app.get("/collections/plots/queryables").await.json();
    assert_eq!(
        queryables["properties"]["lease_status"]["enum"],
        serde_json::json!(["active", "reserved", "free"])
    );
}

crate::contract!(
    plots_carry_and_filter_on_their_lease_status,
    q_finds_names_without_tones,
    available_land_takes_filters_on_its_computed_properties,
    cql2_filters_select_what_they_say,
    filters_page_and_sort_like_any_other_query,
    bad_filters_say_what_is_wrong_and_where,
    gdal_sends_its_where_to_the_server,
);
