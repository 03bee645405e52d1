//! What every request passes before a handler, and what every error answer becomes.
//!
//! Before: the URI fits [`MAX_URI_BYTES`]; the path and every query parameter decode to text without
//! control characters (NUL included); no parameter is sent twice or longer than
//! [`MAX_PARAMETER_CHARS`]. Handlers and the stores below them therefore never see such text.
//!
//! After: an error from any layer — a handler, axum's extractors (body over the limit, malformed JSON),
//! the router (method not allowed) — is `application/problem+json` saying what was wrong.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};

/// Longest request URI accepted, bytes (414 above).
pub const MAX_URI_BYTES: usize = 8192;
/// Longest query parameter value accepted, characters.
pub const MAX_PARAMETER_CHARS: usize = 2048;

/// Refuses URIs that are too long, hold control characters or repeat a parameter.
pub async fn check_request(request: Request, next: Next) -> Response {
    match check(request.uri()) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

fn check(uri: &axum::http::Uri) -> Result<(), ApiError> {
    let length = uri.path_and_query().map(|p| p.as_str().len()).unwrap_or_default();
    if length > MAX_URI_BYTES {
        return Err(ApiError::Status {
            status: StatusCode::URI_TOO_LONG,
            detail: format!(
                "the request's URI is {length} bytes; at most {MAX_URI_BYTES} are read: send fewer or shorter parameters"
            ),
        });
    }
    let path = percent_encoding::percent_decode_str(uri.path()).decode_utf8().map_err(|_| {
        ApiError::BadRequest { parameter: None, detail: "the path is not UTF-8 once decoded".into() }
    })?;
    if let Some(c) = path.chars().find(|c| c.is_control()) {
        return Err(ApiError::BadRequest {
            parameter: None,
            detail: format!(
                "the path holds the control character U+{:04X}; ids and codes never do",
                c as u32
            ),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for (name, value) in url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        if let Some(c) = name.chars().chain(value.chars()).find(|c| c.is_control()) {
            return Err(ApiError::parameter(
                &name.replace(|c: char| c.is_control(), "?"),
                format!("{name}: holds the control character U+{:04X}; send plain text", c as u32),
            ));
        }
        if value.chars().count() > MAX_PARAMETER_CHARS {
            return Err(ApiError::parameter(
                &name,
                format!("{name}: longer than {MAX_PARAMETER_CHARS} characters"),
            ));
        }
        if !seen.insert(name.to_string()) {
            return Err(ApiError::parameter(
                &name,
                format!("{name} is sent more than once; send it once (lists are comma-separated)"),
            ));
        }
    }
    Ok(())
}

/// Turns every error answer that is not already problem+json into one, keeping its status and headers
/// (`Allow`, `WWW-Authenticate`, …).
pub async fn problem_json(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => format!(
            "{method} is not allowed on {path}; allowed: {}",
            allow.as_ref().and_then(|a| a.to_str().ok()).unwrap_or("see /api")
        ),
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the body is larger than {} bytes; send one feature at a time, simplify its geometry, or raise the server's --max-body-mb",
            state.max_body_bytes
        ),
        StatusCode::NOT_FOUND => format!("no resource at {path}; start at / for the links"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "send the body as JSON (Content-Type: application/geo+json or application/json)".into()
        }
        _ if status.is_server_error() => status.canonical_reason().unwrap_or("server error").into(),
        _ => {
            // Extractor rejections say what was wrong in plain text; pass it on.
            let bytes = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes).trim().to_string();
            if text.is_empty() { status.canonical_reason().unwrap_or("error").into() } else { text }
        }
    };
    let mut answer = ApiError::Status { status, detail }.into_response();
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::check;

    fn uri(text: &str) -> axum::http::Uri {
        text.parse().unwrap()
    }

    #[test]
    fn control_characters_repeats_and_long_values_are_refused() {
        assert!(check(&uri("/collections/plots/items?zone_code=BN-QV1&limit=5")).is_ok());
        assert!(check(&uri("/collections/plots/items/BN%00X")).is_err());
        assert!(check(&uri("/occupancy?province_code=VN%0056")).is_err());
        assert!(check(&uri("/occupancy?limit=1&limit=abc")).is_err());
        let long = format!("/occupancy?province_code={}", "A".repeat(3000));
        assert!(check(&uri(&long)).is_err());
        assert!(check(&uri("/collections/zones/items?name=Qu%E1%BA%BF%20V%C3%B5")).is_ok());
    }
}
