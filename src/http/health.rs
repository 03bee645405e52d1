//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{ApiError, AppState};

/// The process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The store answers too; 503 (problem+json) when it does not.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store.ping().await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let version = state.store.data_version().await?;
    Ok(Json(json!({ "status": "ready", "store": state.store.backend(), "data_version": version })))
}
