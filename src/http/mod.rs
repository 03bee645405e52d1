//! HTTP: OGC API - Features Part 1 (Core, GeoJSON, OpenAPI 3.0) and the board's occupancy figures.
//!
//! Handlers are thin: they parse parameters, call the library and shape the response. [`router`] is the
//! one seam the binary and the tests use.

mod access;
mod available;
mod edit;
mod error;
mod features;
mod geojson;
mod guard;
mod health;
mod html;
pub mod metrics;
mod occupancy;
mod openapi;
pub mod params;
mod projects;
mod reports;
mod tiles;

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, Uri, header};
use axum::routing::{delete, get};

pub use error::ApiError;
pub use params::MAX_OFFSET;
pub(crate) use params::{Format, Params, negotiate};

use crate::store::Store;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Base URL for links (e.g. `https://landbank.example.org`); taken from the request's Host otherwise.
    pub public_url: Option<String>,
    /// Available land per zone, valid while the zone's data version holds.
    pub available: Arc<crate::available::Cache>,
    /// Encoded tiles and the zone figures they carry, valid while the data version holds.
    pub tiles: Arc<crate::tiles::TileState>,
    /// Per-zone occupancy figures, valid while each zone's data version holds (shared with tiles).
    pub figures: Arc<crate::occupancy::FiguresCache>,
    /// The map page's directory (`maps/` with its node_modules), served at `/maps/`; `None` serves the
    /// page built into the binary.
    pub maps_dir: Option<std::path::PathBuf>,
    /// Raster basemap tile URL for the map page (`https://…/{z}/{x}/{y}.png`), if any.
    pub basemap: Option<String>,
    /// Who the basemap's tiles are from, as its terms require the map to say (e.g. "© OpenStreetMap
    /// contributors"); without it the page names the tile host.
    pub basemap_attribution: Option<String>,
    /// Thresholds of the reports' regulatory checks.
    pub rules: crate::report::Rules,
    /// Origins whose browsers may call the API (CORS); empty: same origin only; `*`: any.
    pub cors_origins: Vec<String>,
    /// Largest request body accepted, bytes (413 above).
    pub max_body_bytes: usize,
    /// What `/metrics` reports.
    pub metrics: Arc<metrics::Metrics>,
}

/// Default of [`AppState::max_body_bytes`]: 8 MiB, a zone boundary with tens of thousands of vertices.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

impl AppState {
    /// State over `store`, links from the request's Host.
    pub fn new(store: Arc<dyn Store>) -> Self {
        let figures: Arc<crate::occupancy::FiguresCache> = Default::default();
        AppState {
            store,
            public_url: None,
            available: Default::default(),
            tiles: Arc::new(crate::tiles::TileState {
                tiles: Default::default(),
                figures: figures.clone(),
                plot_states: Default::default(),
                drawn: Default::default(),
            }),
            figures,
            maps_dir: None,
            basemap: None,
            basemap_attribution: None,
            rules: Default::default(),
            cors_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            metrics: Default::default(),
        }
    }
}

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(maps_router(&state))
        .route("/", get(features::landing))
        .route("/conformance", get(features::conformance))
        .route("/api", get(openapi::document))
        .route("/collections", get(features::collections))
        .route("/collections/{collection_id}", get(features::collection))
        .route("/collections/{collection_id}/queryables", get(features::queryables))
        .route("/collections/{collection_id}/items", get(features::items).post(edit::create))
        .route(
            "/collections/{collection_id}/items/{feature_id}",
            get(features::item).put(edit::replace).patch(edit::update).delete(edit::delete),
        )
        .route("/collections/{collection_id}/items/{feature_id}/history", get(edit::history))
        .route("/audit", get(access::audit))
        .route("/tokens", get(access::tokens).post(access::create_token))
        .route("/tokens/{token_id}", delete(access::revoke_token))
        .route("/occupancy", get(occupancy::occupancy))
        .route("/available", get(available::available))
        .route("/projects/behind", get(projects::behind))
        .route("/projects/{id}/timeline", get(projects::timeline))
        .route("/tiles/{file}", get(tiles::tilejson))
        .route("/tiles/{collection}/{z}/{x}/{file}", get(tiles::xyz))
        .route("/collections/{collection_id}/tiles/{matrix_set}/{z}/{y}/{x}", get(tiles::ogc))
        .route("/zones/{code}/occupancy", get(occupancy::zone_occupancy))
        .route("/reports/national", get(reports::national))
        .route("/reports/national/charts/{file}", get(reports::national_chart))
        .route("/reports/provinces/{province_code}", get(reports::province))
        .route("/reports/provinces/{province_code}/charts/{file}", get(reports::province_chart))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(state.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), access::authenticate))
        .layer(axum::middleware::from_fn(guard::check_request))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::problem_json))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count))
        .layer(cors(&state.cors_origins))
        // gzip or brotli when the client asks (Accept-Encoding): JSON, GeoJSON, CSV, MVT, downloads.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// CORS for the configured origins: browsers on those pages may read and (with a token) write.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::Method;
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| o.parse().ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH, header::ACCEPT])
        .expose_headers([header::ETAG, header::LOCATION, header::HeaderName::from_static("content-crs")])
}

/// The map page at `/maps/`: the page's own files (index.html, app.js, style.css), MapLibre GL JS from
/// `maps/node_modules/maplibre-gl/dist` at `/maps/vendor/maplibre-gl/`, and the page's configuration. Only
/// these are served, never package files, tests or the rest of `node_modules`. `/maps` redirects to `/maps/`.
fn maps_router(state: &AppState) -> Router<AppState> {
    use tower_http::services::{ServeDir, ServeFile};
    let basemap = state.basemap.clone();
    let attribution = state.basemap_attribution.clone();
    // `demo`: whether the page shows its "synthetic geometry" note (only over the demo dataset).
    let config = move |axum::extract::State(state): axum::extract::State<AppState>| {
        let (basemap, attribution) = (basemap.clone(), attribution.clone());
        async move {
            let demo = crate::demo::is_loaded(&state.store).await?;
            Ok::<_, ApiError>(axum::Json(serde_json::json!({
                "basemap": basemap, "basemap_attribution": attribution, "demo": demo
            })))
        }
    };
    let router = Router::new()
        .route("/maps", get(|| async { axum::response::Redirect::permanent("maps/") }))
        .route("/maps/config.json", get(config));
    match &state.maps_dir {
        Some(dir) => {
            let index = ServeFile::new(dir.join("index.html"));
            router
                .route_service("/maps/", index.clone())
                .route_service("/maps/index.html", index)
                .route_service("/maps/app.js", ServeFile::new(dir.join("app.js")))
                .route_service("/maps/style.css", ServeFile::new(dir.join("style.css")))
                .nest_service(
                    "/maps/vendor/maplibre-gl",
                    ServeDir::new(dir.join("node_modules/maplibre-gl/dist")),
                )
        }
        None => router
            .route("/maps/", get(|| embedded("index.html")))
            .route("/maps/{*path}", get(|Path(path): Path<String>| embedded_path(path))),
    }
}

/// The map page built into the binary (`maps/` when it was compiled, MapLibre from its node_modules).
#[derive(rust_embed::RustEmbed)]
#[folder = "maps/"]
#[include = "index.html"]
#[include = "app.js"]
#[include = "style.css"]
#[include = "node_modules/maplibre-gl/dist/maplibre-gl.js"]
#[include = "node_modules/maplibre-gl/dist/maplibre-gl.css"]
#[include = "node_modules/maplibre-gl/LICENSE.txt"]
struct MapPage;

/// Whether the binary carries the map page with MapLibre (see `build.rs`).
pub fn map_page_embedded() -> bool {
    MapPage::get("index.html").is_some()
        && MapPage::get("node_modules/maplibre-gl/dist/maplibre-gl.js").is_some()
}

async fn embedded_path(path: String) -> axum::response::Response {
    let file = match path.strip_prefix("vendor/maplibre-gl/") {
        Some("LICENSE.txt") => "node_modules/maplibre-gl/LICENSE.txt".to_string(),
        Some(rest) => format!("node_modules/maplibre-gl/dist/{rest}"),
        None => path,
    };
    embedded(&file).await
}

async fn embedded(file: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some(content) = MapPage::get(file) else {
        let hint = if file.contains("maplibre") {
            "; this binary was built without MapLibre (npm was missing): serve with --maps-dir pointing at a maps/ folder after `npm ci --prefix maps`"
        } else {
            ""
        };
        return ApiError::NotFound(format!("no file {file} in the map page{hint}")).into_response();
    };
    let mime = match file.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    ([(header::CONTENT_TYPE, mime)], content.data).into_response()
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no resource at {}; start at / for the links", uri.path()))
}

pub use crate::domain::today;

/// `bytes` as a file download called `name` (`Content-Type` and `Content-Disposition: attachment`).
pub(crate) fn attachment(bytes: Vec<u8>, content_type: &'static str, name: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    if let Ok(v) = header::HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// `body` with a `Content-Type`.
/// Rows as a CSV answer (a header from the row type's field names).
pub(crate) fn csv_response<T: serde::Serialize>(
    rows: impl IntoIterator<Item = T>,
) -> Result<axum::response::Response, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row).map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    let bytes = writer.into_inner().map_err(|e| ApiError::Internal(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(typed(text, Format::Csv.media_type()))
}

pub(crate) fn typed(body: String, content_type: &'static str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    response
}

/// Base URL for links: the configured public URL, else `http://` + the request's Host.
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}
