//! OGC API - Features Part 4: POST, PUT, PATCH (JSON merge patch) and DELETE on every stored collection,
//! with `ETag` / `If-Match` optimistic locking, and each item's history.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::access::{instant, public_changed, public_only, require};
use super::geojson::{etag, feature_json, geojson_response, link};
use super::{ApiError, AppState, Params, base_url};
use crate::auth::{Principal, Role};
use crate::collections::{self, Collection};
use crate::crs::ServedCrs;
use crate::edit::{self, EditError};

impl From<EditError> for ApiError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::Invalid { field, detail } => ApiError::Unprocessable { field, detail },
            EditError::Conflict { detail, .. } => ApiError::Conflict(detail),
            EditError::Store(s) => s.into(),
        }
    }
}

fn editable(collection_id: &str) -> Result<&'static Collection, ApiError> {
    edit::editable(collection_id).ok_or_else(|| match collections::published(collection_id) {
        Some(c) => ApiError::BadRequest {
            parameter: None,
            detail: format!("{} is computed from other collections; edit those", c.id),
        },
        None => ApiError::NotFound(format!(
            "no collection '{collection_id}'; editable: {}",
            editable_ids().join(", ")
        )),
    })
}

fn editable_ids() -> Vec<&'static str> {
    collections::ALL.iter().filter(|c| edit::editable(c.id).is_some()).map(|c| c.id).collect()
}

/// The version `If-Match` names: `"v3"`, `W/"v3"` or `"3"`. `*` ("whatever is current") is refused:
/// it would overwrite changes the writer has not seen, which is what `If-Match` is here to prevent.
async fn if_match(
    state: &AppState,
    headers: &HeaderMap,
    c: &'static Collection,
    id: &str,
) -> Result<i64, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Err(ApiError::PreconditionRequired(format!(
            "send If-Match with the ETag of {} '{id}' as you read it (GET it first), so that no one else's change is overwritten",
            c.id
        )));
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        let current = state.store.current_version(c, id).await?;
        return Err(match current {
            None => ApiError::NotFound(format!("no feature '{id}' in {}", c.id)),
            Some(v) => ApiError::PreconditionRequired(format!(
                "If-Match: * would overwrite changes you have not seen; send the ETag you read (now \"v{v}\")"
            )),
        });
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.trim_start_matches('v').parse().map_err(|_| {
        ApiError::PreconditionFailed(format!(
            "If-Match {text} is not an ETag of this service (they look like \"v3\")"
        ))
    })
}

fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest {
        parameter: None,
        detail: format!("the body is not JSON ({e}); send a GeoJSON Feature (or a merge patch for PATCH)"),
    })
}

/// The record as GET shows it, with its `ETag` (and `Location` when created).
async fn written(
    state: &AppState,
    headers: &HeaderMap,
    who: &Principal,
    c: &'static Collection,
    id: &str,
    version: i64,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let mut row = state
        .store
        .item(c, id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("{} '{id}' vanished after writing", c.id)))?;
    public_only(c, who, &mut row.properties);
    let base = base_url(state, headers);
    let href = format!("{base}/collections/{}/items/{id}", c.id);
    let mut feature = feature_json(c, row, None)?;
    feature["links"] = json!([link(href.clone(), "self", "application/geo+json", "This feature")]);
    let mut response = geojson_response(feature, ServedCrs::Crs84);
    *response.status_mut() = status;
    response.headers_mut().insert(header::ETAG, etag(version));
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&href)
    {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `POST /collections/{id}/items`: 201 with `Location` and `ETag`.
pub async fn create(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    Path(collection_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require(&who, Role::Planner)?;
    let c = editable(&collection_id)?;
    let (id, version) = edit::create(&state.store, c, &json_body(&body)?, &who.name).await?;
    written(&state, &headers, &who, c, &id, version, StatusCode::CREATED).await
}

/// `PUT /collections/{id}/items/{featureId}` with `If-Match`.
pub async fn replace(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    Path((collection_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require(&who, Role::Planner)?;
    let c = editable(&collection_id)?;
    let expected = if_match(&state, &headers, c, &id).await?;
    let version = edit::replace(&state.store, c, &id, &json_body(&body)?, expected, &who.name).await?;
    written(&state, &headers, &who, c, &id, version, StatusCode::OK).await
}

/// `PATCH /collections/{id}/items/{featureId}` (JSON merge patch) with `If-Match`.
pub async fn update(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    Path((collection_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require(&who, Role::Planner)?;
    let c = editable(&collection_id)?;
    let expected = if_match(&state, &headers, c, &id).await?;
    let version = edit::update(&state.store, c, &id, &json_body(&body)?, expected, &who.name).await?;
    written(&state, &headers, &who, c, &id, version, StatusCode::OK).await
}

/// `DELETE /collections/{id}/items/{featureId}` with `If-Match`: 204; the feature stays in its history.
pub async fn delete(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    Path((collection_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require(&who, Role::Planner)?;
    let c = editable(&collection_id)?;
    let expected = if_match(&state, &headers, c, &id).await?;
    edit::delete(&state.store, c, &id, expected, &who.name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /collections/{id}/items/{featureId}/history`: every version, oldest first, with who, when and
/// what changed (private fields for planners only).
pub async fn history(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    Path((collection_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    params.only_json()?;
    let c = editable(&collection_id)?;
    let versions = state.store.versions(c, &id).await?;
    if versions.is_empty() {
        return Err(ApiError::NotFound(format!("no feature '{id}' in {}, now or ever", c.id)));
    }
    let base = base_url(&state, &headers);
    let mut list = Vec::with_capacity(versions.len());
    for v in versions {
        let mut properties = v.properties.clone();
        public_only(c, &who, &mut properties);
        let mut geometry: Value =
            v.geometry.as_deref().and_then(|g| serde_json::from_str(g).ok()).unwrap_or(Value::Null);
        super::geojson::output_geometry(&mut geometry, None)?;
        list.push(json!({
            "version": v.version,
            "op": v.op,
            "actor": v.actor,
            "recorded_at": instant(v.recorded_from_us),
            "replaced_at": v.recorded_to_us.map(instant),
            "changed": public_changed(c, &who, &v.changed),
            "properties": properties,
            "geometry": geometry,
            "area_ha": v.area_ha.map(|a| (a * 1e6).round() / 1e6),
        }));
    }
    Ok(Json(json!({
        "collection": c.id,
        "id": id,
        "versions": list,
        "links": [
            link(format!("{base}/collections/{}/items/{id}/history", c.id), "self", "application/json", "Versions"),
            link(format!("{base}/collections/{}/items/{id}", c.id), "item", "application/geo+json", "The feature now"),
        ],
    }))
    .into_response())
}
