//! HTTP: OGC API - Features Part 1 (Core, GeoJSON, OpenAPI 3.0) and the board's occupancy figures.
//!
//! Handlers are thin: they parse parameters, call the library and shape the response. [`router`] is the
//! one seam the binary and the tests use.

mod access;
mod available;
mod edit;
mod error;
mod features;
mod guard;
mod health;
mod html;
pub mod metrics;
mod occupancy;
mod openapi;
mod reports;
mod tiles;

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, Uri, header};
use axum::routing::{delete, get};
use chrono::FixedOffset;

pub use error::ApiError;

use crate::domain::{Date, parse_date};
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
            tiles: Arc::new(crate::tiles::TileState { tiles: Default::default(), figures: figures.clone() }),
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

/// Largest `offset=` accepted: far beyond any collection, and within every database's 64-bit integers.
pub const MAX_OFFSET: u64 = 1_000_000_000_000;

/// Query parameters in order, decoded.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(uri: &Uri) -> Self {
        let pairs = uri
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Params(pairs)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Refuses parameters the route does not know (OGC API: 400 for unknown parameters).
    pub(crate) fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        for (k, _) in &self.0 {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::parameter(
                    k,
                    format!("unknown query parameter '{k}'; this resource accepts: {}", allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// `limit=`: a whole number in 1..=`max` (larger ones are clamped to `max`, as OGC API allows);
    /// `default` when absent.
    pub(crate) fn limit(&self, default: u64, max: u64) -> Result<u64, ApiError> {
        let wrong = |v: &str| {
            ApiError::parameter("limit", format!("limit={v}: send a whole number between 1 and {max}"))
        };
        match self.get("limit") {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(0) => Err(wrong(v)),
                Ok(n) => Ok(n.min(max)),
                // Digits beyond 64 bits: a very large limit, clamped like any other.
                Err(_) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Ok(max),
                Err(_) => Err(wrong(v)),
            },
        }
    }

    /// `offset=`: a whole number in 0..=[`MAX_OFFSET`]; 0 when absent.
    pub(crate) fn offset(&self) -> Result<u64, ApiError> {
        match self.get("offset") {
            None => Ok(0),
            Some(v) => v.parse::<u64>().ok().filter(|n| *n <= MAX_OFFSET).ok_or_else(|| {
                ApiError::parameter(
                    "offset",
                    format!("offset={v}: send a whole number between 0 and {MAX_OFFSET}"),
                )
            }),
        }
    }

    /// For resources that are JSON only: `f` is the one parameter, and it may only say `json`.
    /// For resources offered as JSON and as HTML (`f=json|html`, `lang=vi|en`; a browser's `Accept`
    /// without `f`): the page's language when HTML is wanted, `None` for JSON.
    pub(crate) fn json_or_html(&self, headers: &HeaderMap) -> Result<Option<html::Lang>, ApiError> {
        self.only(&["f", "lang"])?;
        self.html_or_json(headers)
    }

    /// As [`Params::json_or_html`], for routes that take other parameters too.
    pub(crate) fn html_or_json(&self, headers: &HeaderMap) -> Result<Option<html::Lang>, ApiError> {
        match self.get("f") {
            None | Some("json" | "geojson" | "html") => {}
            Some(f) => {
                return Err(ApiError::parameter(
                    "f",
                    format!("f={f} is not offered here; use f=json or f=html"),
                ));
            }
        }
        if html::wanted(self, headers) { html::lang(self, headers).map(Some) } else { Ok(None) }
    }

    pub(crate) fn only_json(&self) -> Result<(), ApiError> {
        self.only(&["f"])?;
        match self.get("f") {
            None | Some("json") => Ok(()),
            Some(f) => Err(ApiError::parameter("f", format!("f={f} is not offered here; use f=json"))),
        }
    }

    /// Zone statuses, comma separated, or `all`; default established and operating (as boards report).
    pub(crate) fn zone_statuses(&self, name: &str) -> Result<Vec<crate::domain::ZoneStatus>, ApiError> {
        use crate::domain::ZoneStatus;
        match self.get(name) {
            None | Some("") => Ok(crate::occupancy::DEFAULT_SCOPE.to_vec()),
            Some("all") => Ok(ZoneStatus::ALL.to_vec()),
            Some(text) => text
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse::<ZoneStatus>()
                        .map_err(|e| ApiError::parameter(name, format!("{name}: {e}")))
                })
                .collect(),
        }
    }

    /// An RFC 3339 instant parameter as µs since 1970 (UTC); `None` when absent.
    pub(crate) fn instant(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .filter(|t| !t.is_empty())
            .map(|t| {
                chrono::DateTime::parse_from_rfc3339(t).map(|d| d.timestamp_micros()).map_err(|_| {
                    ApiError::parameter(
                        name,
                        format!("{name}={t}: send an instant such as 2026-11-22T08:30:00Z"),
                    )
                })
            })
            .transpose()
    }

    /// `datetime=`: the instant whose stored records to read (history), as µs since 1970 (UTC). An
    /// RFC 3339 instant, or a date meaning the end of that day in Vietnam (UTC+7).
    pub(crate) fn recorded_at(&self) -> Result<Option<i64>, ApiError> {
        if let Some(date) = self.get("datetime").and_then(|t| parse_date(t).ok()) {
            let vietnam = FixedOffset::east_opt(7 * 3600).expect("valid offset");
            let end =
                date.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)?.and_local_timezone(vietnam).single());
            return Ok(end.map(|e| e.timestamp_micros() - 1));
        }
        self.instant("datetime")
    }

    /// The `at` date (default: today in Vietnam).
    pub(crate) fn at(&self) -> Result<Date, ApiError> {
        match self.get("at") {
            None | Some("") => Ok(today()),
            Some(text) => parse_date(text).map_err(|e| ApiError::parameter("at", format!("at: {e}"))),
        }
    }
}

/// Response formats a resource can offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
    Markdown,
    Html,
    /// Word, Excel and PDF: the board's report as files to send.
    Docx,
    Xlsx,
    Pdf,
}

impl Format {
    /// The `f=` value.
    fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
        }
    }

    /// The media type in `Accept` and `Content-Type`.
    pub(crate) fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
        }
    }
}

/// Picks one of the `offered` formats (the first is the default) from `f=` (wins) or the `Accept`
/// header. `f=geojson` is JSON. An `Accept` that also names JSON keeps JSON (except for HTML, which
/// browsers ask for beside everything else).
pub(crate) fn negotiate(
    params: &Params,
    headers: &HeaderMap,
    offered: &[Format],
) -> Result<Format, ApiError> {
    if let Some(f) = params.get("f") {
        let wanted = if f == "geojson" { "json" } else { f };
        return offered.iter().copied().find(|o| o.name() == wanted).ok_or_else(|| {
            let names: Vec<&str> = offered.iter().map(|o| o.name()).collect();
            ApiError::parameter("f", format!("f={f} is not offered here; use one of: {}", names.join(", ")))
        });
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let accepts = |f: Format| {
        let essence = f.media_type().split(';').next().unwrap_or_default();
        accept.contains(essence) && (f == Format::Html || !accept.contains("json"))
    };
    Ok(offered.iter().copied().skip(1).find(|f| accepts(*f)).unwrap_or(offered[0]))
}

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
