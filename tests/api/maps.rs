//! The map page as the service serves it: only the page's own files under `/maps/`, built into the
//! binary (the default) or from a `--maps-dir`.

use std::sync::Arc;

use axum::http::StatusCode;
use landbank::http::{AppState, router};

use crate::helpers::{Backend, TestApp, scratch_database};

/// An app serving the built-in page, or the one in `maps/` when `from_dir`.
async fn app_with_page(basemap: Option<&str>, from_dir: bool) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let database = scratch_database(Backend::Sqlite, false, &dir).await;
    let store = landbank::store::open(&database).await.unwrap();
    store.migrate().await.unwrap();
    let mut state = AppState::new(Arc::clone(&store));
    if from_dir {
        state.maps_dir = Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("maps"));
    }
    state.basemap = basemap.map(str::to_string);
    state.basemap_attribution = basemap.map(|_| "© Example Tiles, CC BY 4.0".to_string());
    TestApp::from_parts(store, router(state), database, dir)
}

#[tokio::test]
async fn the_page_is_served_at_maps_with_its_configuration() {
    for from_dir in [false, true] {
        the_page_is_served(from_dir).await;
    }
}

async fn the_page_is_served(from_dir: bool) {
    let app = app_with_page(Some("https://tiles.example.org/{z}/{x}/{y}.png"), from_dir).await;

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
    let maplibre = app.get("/maps/vendor/maplibre-gl/maplibre-gl.js").await;
    assert_eq!(maplibre.status, StatusCode::OK, "MapLibre is served (from_dir: {from_dir})");
    assert!(maplibre.body.len() > 100_000, "the whole library: {} bytes", maplibre.body.len());
    assert_eq!(app.get("/maps/vendor/maplibre-gl/maplibre-gl.css").await.status, StatusCode::OK);

    let config = app.get("/maps/config.json").await.json();
    assert_eq!(config["basemap"], "https://tiles.example.org/{z}/{x}/{y}.png");
    assert_eq!(config["basemap_attribution"], "© Example Tiles, CC BY 4.0");

    // The landing page links the map.
    let landing = app.get("/").await.json();
    let links = landing["links"].as_array().unwrap();
    assert!(links.iter().any(|l| l["href"] == "http://landbank.test/maps/"), "{landing}");
}

#[tokio::test]
async fn package_files_and_tests_are_not_served() {
    for from_dir in [false, true] {
        let app = app_with_page(None, from_dir).await;
        for path in [
            "/maps/package.json",
            "/maps/package-lock.json",
            "/maps/test/map.test.mjs",
            "/maps/README.md",
            "/maps/node_modules/maplibre-gl/package.json",
            "/maps/vendor/maplibre-gl/../../package.json",
            "/maps/demo/zones.geojson",
        ] {
            let reply = app.get(path).await;
            assert_eq!(reply.status, 404, "{path} (from_dir: {from_dir})");
        }
        assert_eq!(app.get("/maps/config.json").await.json()["basemap"], serde_json::Value::Null);
    }
}

/// `landbank serve` run from any folder (as after `cargo install`) serves the map page it carries.
#[tokio::test]
async fn the_binary_serves_its_map_page_from_any_folder() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("elsewhere.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_landbank"))
        .current_dir(dir.path())
        .args(["--database", database.to_str().unwrap(), "serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut page = None;
    for _ in 0..100 {
        if let Ok(reply) = client.get(format!("{base}/maps/")).send().await {
            page = Some(reply);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let page = page.expect("the server answers");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("maplibre-gl.js"));
    let maplibre = client.get(format!("{base}/maps/vendor/maplibre-gl/maplibre-gl.js")).send().await.unwrap();
    assert_eq!(maplibre.status(), 200);
    assert!(maplibre.bytes().await.unwrap().len() > 100_000);
    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::test]
async fn a_page_directory_without_the_page_is_a_404_problem() {
    let dir = tempfile::tempdir().unwrap();
    let database = scratch_database(Backend::Sqlite, false, &dir).await;
    let store = landbank::store::open(&database).await.unwrap();
    store.migrate().await.unwrap();
    let mut state = AppState::new(store.clone());
    state.maps_dir = Some(dir.path().join("no-such-folder"));
    let app = TestApp::from_parts(store, router(state), database, dir);
    app.get("/maps/").await.problem(404);
}
