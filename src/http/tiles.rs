//! Vector tiles over HTTP: `/tiles/{collection}/{z}/{x}/{y}.mvt`, TileJSON 3.0 at `/tiles/{collection}.json`,
//! and the OGC API - Tiles path `/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}`.
//!
//! Every tile carries an `ETag` made of the data version and the date, and `Cache-Control: public, no-cache`:
//! any HTTP cache may keep it but must revalidate, which costs a `304` and no work, so no cache ever serves
//! a tile older than the data.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{ApiError, AppState, Params, base_url};
use crate::collections;
use crate::tiles::{self, EXTENT, MAX_ZOOM, TileError, TileId};

const MVT: &str = "application/vnd.mapbox-vector-tile";

impl From<TileError> for ApiError {
    fn from(e: TileError) -> Self {
        match e {
            TileError::OutOfRange { .. } => ApiError::BadRequest { parameter: None, detail: e.to_string() },
            TileError::NotTiled(_) => ApiError::NotFound(e.to_string()),
            TileError::Store(s) => s.into(),
            TileError::Occupancy(o) => o.into(),
            TileError::Encode(m) => ApiError::Internal(m),
        }
    }
}

fn tiled(collection: &str) -> Result<&'static collections::Collection, ApiError> {
    tiles::tiled(collection).ok_or_else(|| {
        let ids: Vec<&str> =
            collections::ALL.iter().filter(|c| c.published && c.tiles.is_some()).map(|c| c.id).collect();
        ApiError::NotFound(format!("no tiles for '{collection}'; tiled collections are: {}", ids.join(", ")))
    })
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_| ApiError::BadRequest {
        parameter: None,
        detail: format!("tile {what} '{text}' is not a whole number ≥ 0"),
    })
}

async fn tile_response(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    collection: &str,
    (z, x, y): (&str, &str, &str),
) -> Result<Response, ApiError> {
    let collection = tiled(collection)?;
    let params = Params::parse(uri);
    params.only(&["at"])?;
    let at = params.at()?;
    let tile = TileId::new(number(z, "zoom")?, number(x, "column")?, number(y, "row")?)?;
    // The data version (the tile's bytes, its ETag) and the collection's (its drawing), in one trip.
    let versions = state.store.data_versions(collection).await?;
    let version = versions.data;
    let etag = format!("\"v{version}-{at}\"");
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| ApiError::Internal(e.to_string()))?;
    let with_headers = |status: StatusCode, body: Body| {
        let mut r = (status, body).into_response();
        let h = r.headers_mut();
        h.insert(header::ETAG, etag_value.clone());
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, no-cache"));
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        if status == StatusCode::OK {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
        }
        r
    };
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok(with_headers(StatusCode::NOT_MODIFIED, Body::empty()));
    }
    let key = (collection.id, tile, at);
    let bytes = match state.tiles.tiles.get(&key, version) {
        Some(cached) => cached,
        None => {
            let built =
                tiles::build(&state.store, &state.tiles, &state.available, collection, tile, at, versions)
                    .await?;
            let built = built.map(Arc::new);
            state.tiles.tiles.put(key, version, built.clone());
            built
        }
    };
    Ok(match bytes {
        Some(b) => with_headers(StatusCode::OK, Body::from(b.as_ref().clone())),
        None => with_headers(StatusCode::NO_CONTENT, Body::empty()),
    })
}

/// `/tiles/{collection}/{z}/{x}/{y}.mvt`
pub async fn xyz(
    State(state): State<AppState>,
    Path((collection, z, x, file)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let y = file.strip_suffix(".mvt").or_else(|| file.strip_suffix(".pbf")).ok_or_else(|| {
        ApiError::NotFound(format!("tiles end in .mvt: /tiles/{collection}/{z}/{x}/{file}.mvt"))
    })?;
    tile_response(&state, &headers, &uri, &collection, (&z, &x, y)).await
}

/// `/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}` (OGC API - Tiles order: row before column).
pub async fn ogc(
    State(state): State<AppState>,
    Path((collection, matrix_set, z, y, x)): Path<(String, String, String, String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    if matrix_set != "WebMercatorQuad" {
        return Err(ApiError::NotFound(format!(
            "tile matrix set '{matrix_set}' is not offered; use WebMercatorQuad"
        )));
    }
    tile_response(&state, &headers, &uri, &collection, (&z, &x, &y)).await
}

/// `/tiles/{collection}.json`: TileJSON 3.0.
pub async fn tilejson(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&[])?;
    let name =
        file.strip_suffix(".json").ok_or_else(|| ApiError::NotFound(format!("no resource /tiles/{file}")))?;
    let c = tiled(name)?;
    let extent_of = if c.computed { &collections::ZONES } else { c };
    let bounds = state.store.extent(extent_of).await?.unwrap_or([-180.0, -85.0511, 180.0, 85.0511]);
    let fields: Map<String, Value> =
        crate::tiles::tile_fields(c).iter().map(|(name, about)| (name.to_string(), json!(about))).collect();
    let min_zoom = c.tiles.map_or(0, |t| t.min_zoom);
    let base = base_url(&state, &headers);
    Ok(Json(json!({
        "tilejson": "3.0.0",
        "name": c.id,
        "description": c.description,
        "tiles": [format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt", c.id)],
        "minzoom": min_zoom,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0, 10],
        "vector_layers": [{ "id": c.id, "description": c.title, "minzoom": min_zoom, "maxzoom": MAX_ZOOM, "fields": fields }],
        "extent": EXTENT,
    }))
    .into_response())
}
