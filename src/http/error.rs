//! The HTTP layer's error type and its one mapping to `application/problem+json` (RFC 9457).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::occupancy::OccupancyError;
use crate::store::StoreError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter (or path part) was wrong; `parameter` names it.
    #[error("{detail}")]
    BadRequest { parameter: Option<String>, detail: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("{0}")]
    Conflict(String),
    /// No (valid) token where one is needed.
    #[error("{0}")]
    Unauthorized(String),
    /// A token whose role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A write without `If-Match`.
    #[error("{0}")]
    PreconditionRequired(String),
    /// A write whose `If-Match` is not the current version.
    #[error("{0}")]
    PreconditionFailed(String),
    /// A body that cannot be stored; `field` names what is wrong.
    #[error("{detail}")]
    Unprocessable { field: Option<String>, detail: String },
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
    /// Any other status, from a layer below the handlers (405, 413, 414, …).
    #[error("{detail}")]
    Status { status: StatusCode, detail: String },
}

impl ApiError {
    /// A 400 about one query parameter.
    pub fn parameter(name: &str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest { parameter: Some(name.to_string()), detail: detail.into() }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Status { status, .. } => *status,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => ApiError::Unavailable(e.to_string()),
            StoreError::Constraint { .. } | StoreError::Exists { .. } => ApiError::Conflict(e.to_string()),
            StoreError::Stale { .. } => ApiError::PreconditionFailed(e.to_string()),
            StoreError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<OccupancyError> for ApiError {
    fn from(e: OccupancyError) -> Self {
        match e {
            OccupancyError::Store(s) => s.into(),
            OccupancyError::UnknownZone(_) | OccupancyError::UnknownProvince(_) => {
                ApiError::NotFound(e.to_string())
            }
        }
    }
}

impl From<crate::report::ReportError> for ApiError {
    fn from(e: crate::report::ReportError) -> Self {
        use crate::report::ReportError;
        match e {
            ReportError::Store(s) => s.into(),
            ReportError::UnknownProvince(_) => ApiError::NotFound(e.to_string()),
            ReportError::Render(_) => ApiError::Internal(e.to_string()),
            ReportError::Unavailable(_) => ApiError::NotAcceptable(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // Server-side failures are logged whole under an id; the client gets the id, never the text
        // (which may hold driver messages, paths or SQL).
        let detail = match &self {
            ApiError::Unavailable(_) | ApiError::Internal(_) => {
                let id = error_id();
                tracing::error!(%status, error_id = %id, error = %self, "request failed");
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    format!("the database is unavailable; try again shortly (error {id} in the server's log)")
                } else {
                    format!("internal error {id}: the server's log has the details under this id")
                }
            }
            other => other.to_string(),
        };
        let mut body = json!({
            "type": "about:blank",
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": detail,
        });
        if let ApiError::BadRequest { parameter: Some(p), .. } = &self {
            body["parameter"] = json!(p);
        }
        if let ApiError::Unprocessable { field: Some(f), .. } = &self {
            body["field"] = json!(f);
        }
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"landbank\""));
        }
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

/// A short random id that ties an error answer to its log line.
fn error_id() -> String {
    let mut bytes = [0u8; 6];
    let _ = getrandom::fill(&mut bytes);
    faster_hex::hex_string(&bytes)
}
