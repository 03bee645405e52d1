//! The map page as the service serves it: only the page's own files, from `maps/`, under `/maps/`.

use std::sync::Arc;

use axum::http::StatusCode;
use landbank::http::{AppState, router};

use crate::helpers::{Backend, TestApp, scratch_database};

async fn app_with_page(basemap: Option<&str>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let database = scratch_database(Backend::Sqlite, false, &dir).await;
    let store = landbank::store::open(&database).await.unwrap();
    store.migrate().await.unwrap();
    let mut state = AppState::new(Arc::clone(&store));
    state.maps_dir = Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("maps"));
    state.basemap = basemap.map(str::to_string);
    TestApp::from_parts(store, router(state), database, dir)
}

#[tokio::test]
async fn the_page_is_served_at_maps_with_its_configuration() {
    let app = app_with_page(Some("https://tiles.example.org/{z}/{x}/{y}.png")).await;

    let bare = app.get("/maps").await;
    assert_eq!(bare.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.headers["location"], "maps/");

    let page = app.get("/maps/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.text().contains("vendor/maplibre-gl/maplibre-gl.js"), "the page loads MapLibre locally");

    let script = app.get("/maps/app.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.content_type().contains("javascript"), "{}", script.content_type());
    assert_eq!(app.get("/maps/style.css").await.status, StatusCode::OK);

    let config = app.get("/maps/config.json").await.json();
    assert_eq!(config["basemap"], "https://tiles.example.org/{z}/{x}/{y}.png");

    // The landing page links the map.
    let landing = app.get("/").await.json();
    let links = landing["links"].as_array().unwrap();
    assert!(links.iter().any(|l| l["href"] == "http://landbank.test/maps/"), "{landing}");
}

#[tokio::test]
async fn package_files_and_tests_are_not_served() {
    let app = app_with_page(None).await;
    for path in
        ["/maps/package.json", "/maps/package-lock.json", "/maps/test/map.test.mjs", "/maps/README.md"]
    {
        let reply = app.get(path).await;
        reply.problem(404);
    }
    assert_eq!(app.get("/maps/config.json").await.json()["basemap"], serde_json::Value::Null);
}

#[tokio::test]
async fn without_a_page_directory_maps_is_a_404_problem() {
    let dir = tempfile::tempdir().unwrap();
    let database = scratch_database(Backend::Sqlite, false, &dir).await;
    let store = landbank::store::open(&database).await.unwrap();
    store.migrate().await.unwrap();
    let app = TestApp::from_parts(store.clone(), router(AppState::new(store)), database, dir);
    app.get("/maps/").await.problem(404);
}
