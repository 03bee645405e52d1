//! Who is asking (bearer tokens), what they may see, the audit log and token management.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{ApiError, AppState, Params, base_url};
use crate::auth::{self, AuthError, Principal, Role};
use crate::collections::Collection;
use crate::store::history::{AuditQuery, Version};

/// Middleware: resolves the `Authorization` header into a [`Principal`] for the handlers (anonymous
/// without one); an unknown, revoked or malformed token is a 401 whatever the route.
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let header =
        request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    match auth::authenticate(&state.store, header.as_deref()).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(AuthError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => ApiError::Unauthorized(e.to_string()).into_response(),
    }
}

/// Refuses principals below `role`: 401 without a token, 403 with one that may not.
pub(crate) fn require(who: &Principal, role: Role) -> Result<(), ApiError> {
    match who.role {
        None => Err(ApiError::Unauthorized(format!(
            "this needs a {} token: send Authorization: Bearer <token> (landbank token create --role {})",
            role.as_str(),
            role.as_str()
        ))),
        Some(r) if r < role => Err(ApiError::Forbidden(format!(
            "the token '{}' is a {} token; this needs {}",
            who.name,
            r.as_str(),
            role.as_str()
        ))),
        Some(_) => Ok(()),
    }
}

/// Removes the private fields (owners, contacts, compensation) unless the principal may see them: the
/// fields are absent, not null.
pub(crate) fn public_only(c: &Collection, who: &Principal, properties: &mut Map<String, Value>) {
    if !who.sees_private() {
        for f in c.fields.iter().filter(|f| f.private) {
            properties.remove(f.name);
        }
    }
}

/// The names of changed fields `who` may know of: private ones are left out for anonymous callers and
/// viewers (that a compensation changed is itself private).
pub(crate) fn public_changed(c: &Collection, who: &Principal, changed: &[String]) -> Vec<String> {
    changed
        .iter()
        .filter(|name| who.sees_private() || !c.fields.iter().any(|f| f.private && f.name == name.as_str()))
        .cloned()
        .collect()
}

/// RFC 3339 (UTC) of µs since 1970.
pub(crate) fn instant(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_default()
}

/// One change of the audit log (no record contents: those are in the item's history).
fn entry(v: &Version) -> Value {
    json!({
        "collection": v.collection,
        "id": v.id,
        "version": v.version,
        "op": v.op,
        "actor": v.actor,
        "recorded_at": instant(v.recorded_from_us),
        "changed": v.changed,
    })
}

/// `/audit`: every change, newest first; `actor`, `collection`, `from`, `to` (RFC 3339), `limit`, `offset`.
pub async fn audit(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    require(&who, Role::Admin)?;
    params.only(&["actor", "collection", "from", "to", "limit", "offset", "f"])?;
    let query = AuditQuery {
        actor: params.get("actor").map(str::to_string),
        collection: params.get("collection").map(str::to_string),
        from_us: params.instant("from")?,
        to_us: params.instant("to")?,
        limit: params.or_default::<super::params::AuditLimit>("limit")?.0,
        offset: params.offset()?,
    };
    let (versions, matched) = state.store.audit(&query).await?;
    let base = base_url(&state, &headers);
    let paging = super::geojson::Paging {
        limit: query.limit,
        offset: query.offset,
        returned: versions.len() as u64,
        matched,
    };
    let links = super::geojson::paging_links(&base, "/audit", &params, paging);
    Ok(Json(json!({
        "changes": versions.iter().map(entry).collect::<Vec<_>>(),
        "numberMatched": matched,
        "numberReturned": versions.len(),
        "links": links,
    }))
    .into_response())
}

/// `GET /tokens`: every token (never the secret).
pub async fn tokens(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
) -> Result<Response, ApiError> {
    require(&who, Role::Admin)?;
    let tokens = state.store.tokens().await?;
    let list: Vec<Value> = tokens
        .iter()
        .map(|t| {
            json!({ "token_id": t.token_id, "name": t.name, "role": t.role, "created_at": instant(t.created_us),
                    "revoked_at": t.revoked_us.map(instant) })
        })
        .collect();
    Ok(Json(json!({ "tokens": list })).into_response())
}

/// `POST /tokens` with `{"name": …, "role": "viewer|planner|admin"}`: the new token, shown once.
pub async fn create_token(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    body: Bytes,
) -> Result<Response, ApiError> {
    require(&who, Role::Admin)?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Unprocessable { field: None, detail: format!("the body is not JSON: {e}") })?;
    let name = body["name"].as_str().unwrap_or_default();
    let role = body["role"].as_str().and_then(Role::parse).ok_or_else(|| ApiError::Unprocessable {
        field: Some("role".into()),
        detail: "role must be viewer, planner or admin".into(),
    })?;
    let (token, secret) = auth::create(&state.store, role, name).await.map_err(|e| match e {
        AuthError::Store(s) => s.into(),
        other => ApiError::Unprocessable { field: Some("name".into()), detail: other.to_string() },
    })?;
    let body = json!({ "token": secret, "token_id": token.token_id, "name": token.name, "role": token.role,
                       "note": "store the token now: landbank keeps only its SHA-256" });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /tokens/{token_id}`: revokes it at once.
pub async fn revoke_token(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    Path(token_id): Path<String>,
) -> Result<Response, ApiError> {
    require(&who, Role::Admin)?;
    if state.store.revoke_token(&token_id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound(format!("no active token '{token_id}'")))
    }
}
