//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{ApiError, AppState};

/// The process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// How long `/readyz` waits for the store: under the one or two seconds load balancers give a health
/// check, so that they see a 503, not a timeout.
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(900);

/// The store answers too, within [`READY_TIMEOUT`]; 503 (problem+json) when it does not.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let version = tokio::time::timeout(READY_TIMEOUT, async {
        state.store.ping().await?;
        state.store.data_version().await
    })
    .await
    .map_err(|_| ApiError::Unavailable(format!("the store did not answer within {READY_TIMEOUT:?}")))?
    .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(json!({ "status": "ready", "store": state.store.backend(), "data_version": version })))
}
