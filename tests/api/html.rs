//! HTML views for people in a browser: the landing page, collections, items and one item, in
//! Vietnamese and English, chosen by `f=html` or a browser's `Accept`, never for GIS clients.

use landbank::auth::Role;
use serde_json::json;

use crate::helpers::{Backend, spawn_app};

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

async fn browsers_get_pages_and_clients_get_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let zone = app.get("/collections/zones/items/BN-QV1").await.json();
    let name = zone["properties"]["name"].as_str().unwrap().to_string();
    let pages = [
        ("/", "landbank"),
        ("/collections", "Lớp dữ liệu"),
        ("/collections/zones", "queryables"),
        ("/collections/zones/items?limit=50", name.as_str()),
        ("/collections/zones/items/BN-QV1", name.as_str()),
        ("/collections/plots/items?filter=zone_code%20%3D%20'BN-QV1'&limit=5", "BN-QV1-CN-"),
    ];
    for (uri, expected) in pages {
        for (headers, how) in [(vec![("accept", BROWSER)], "Accept"), (vec![], "f=html")] {
            let target = if how == "f=html" {
                format!("{uri}{}f=html", if uri.contains('?') { '&' } else { '?' })
            } else {
                uri.to_string()
            };
            let reply = app.get_with(&target, &headers).await;
            assert_eq!(reply.status, 200, "{target} ({how}): {}", reply.text());
            assert!(
                reply.content_type().starts_with("text/html"),
                "{target} ({how}): {}",
                reply.content_type()
            );
            let page = reply.text();
            assert!(page.starts_with("<!doctype html>"), "{target}");
            assert!(page.contains(expected), "{target} ({how}) should show {expected}");
            assert!(page.contains("lang=\"vi\""), "Vietnamese unless asked otherwise: {target}");
        }
        // GDAL, QGIS and scripts ask for JSON and get it.
        for accept in ["application/geo+json, application/json", "application/json", "*/*"] {
            let reply = app.get_with(uri, &[("accept", accept)]).await;
            assert_eq!(reply.status, 200, "{uri} ({accept})");
            assert!(reply.content_type().contains("json"), "{uri} ({accept}): {}", reply.content_type());
        }
    }
    // Items and an item carry a map of their features; the table pages through next links.
    let items = app.get("/collections/plots/items?f=html&limit=10").await.text();
    assert!(items.contains("maplibre-gl.js") && items.contains("id=\"map\""));
    assert!(items.contains("offset=10"), "a next link");
    assert!(
        items.contains("BN-QV1-CN-01") || items.contains("/collections/plots/items/"),
        "rows link the items"
    );

    let english = app
        .get_with("/collections/zones/items?limit=5", &[("accept", BROWSER), ("accept-language", "en-US,en")])
        .await;
    assert!(english.text().contains("lang=\"en\"") && english.text().contains("of"), "{}", english.text());
    let asked = app.get("/collections?f=html&lang=en").await.text();
    assert!(asked.contains("Collections") && asked.contains("Tiếng Việt"), "a link back to Vietnamese");
    app.get("/collections?f=html&lang=fr").await.problem(400);
    app.get("/collections?f=xml").await.problem(400);
}

/// Whatever a record holds is shown as text, in the table and in the map's data.
async fn record_text_cannot_become_markup(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "planner").await;
    let uri = "/collections/zones/items/BN-QV1";
    let before = app.get(uri).await;
    let etag = before.headers["etag"].to_str().unwrap().to_string();
    let hostile = "<script>alert(1)</script></script><img src=x onerror=alert(2)>";
    let patched = app
        .send(
            "PATCH",
            uri,
            &[("authorization", planner.as_str()), ("if-match", etag.as_str())],
            Some(&json!({ "properties": { "developer": hostile } })),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    for page in [
        app.get(&format!("{uri}?f=html")).await.text(),
        app.get("/collections/zones/items?f=html&limit=100").await.text(),
    ] {
        assert!(!page.contains("<script>alert"), "the script tag is escaped");
        assert!(!page.contains("<img src=x"), "the img tag is escaped");
        assert!(page.contains("&lt;script&gt;") || page.contains("\\u003cscript"), "and still shown");
    }
}

crate::contract!(browsers_get_pages_and_clients_get_json, record_text_cannot_become_markup);
