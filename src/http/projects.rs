//! The investment register's watch list: projects behind the commitments of their certificates.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ApiError, AppState, Format, Params, base_url, negotiate};
use crate::register::{self, RegisterError};

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::UnknownProvince(m) => ApiError::parameter("province_code", m),
            RegisterError::Store(s) => s.into(),
        }
    }
}

/// The formats of the watch list (the first is the default).
pub(super) const FORMATS: &[Format] = &[Format::Json, Format::Csv];

/// `GET /projects/behind?at=&province_code=&zone_code=`: projects past a committed milestone (land
/// handed over, construction started, operating) they have not reached, the latest first, with the
/// hectares their leases hold: the land at stake.
pub async fn behind(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&["at", "province_code", "zone_code", "f"])?;
    let format = negotiate(&params, &headers, FORMATS)?;
    let at = params.at()?;
    let province = params.get("province_code").filter(|s| !s.is_empty());
    let zone = params.get("zone_code").filter(|s| !s.is_empty());
    let late = register::behind_at(&state.store, province, zone, at).await?;
    if format == Format::Csv {
        let mut out = csv::Writer::from_writer(Vec::new());
        for b in &late {
            out.serialize(b).map_err(|e| ApiError::Internal(e.to_string()))?;
        }
        let bytes = out.into_inner().map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(super::typed(String::from_utf8_lossy(&bytes).into_owned(), Format::Csv.media_type()));
    }
    // The land at stake, each project's once however many milestones it is behind.
    let per_project: std::collections::BTreeMap<&str, f64> =
        late.iter().map(|b| (b.project_id.as_str(), b.leased_ha)).collect();
    let leased_ha: f64 = per_project.values().sum();
    let base = base_url(&state, &headers);
    Ok(Json(json!({
        "at": at,
        "projects_behind": per_project.len(),
        "leased_ha": (leased_ha * 100.0).round() / 100.0,
        "behind": late,
        "links": [{ "href": format!("{base}/projects/behind?at={at}&f=csv"), "rel": "alternate", "type": "text/csv" }],
    }))
    .into_response())
}
