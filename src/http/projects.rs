//! The investment register over HTTP: the watch list of projects behind the commitments of their
//! certificates, and one project's timeline.

use axum::Json;
use axum::extract::{Path, State};
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
        return super::csv_response(&late);
    }
    // The land at stake, each project's once however many milestones it is behind.
    let per_project: std::collections::BTreeMap<&str, f64> =
        late.iter().map(|b| (b.project_id.as_str(), b.leased_ha)).collect();
    let leased_ha: f64 = per_project.values().sum();
    let base = base_url(&state, &headers);
    Ok(Json(json!({
        "at": at,
        "projects_behind": per_project.len(),
        "leased_ha": (leased_ha * 100.0).round() / 100.0 + 0.0,
        "behind": late,
        "links": [{ "href": format!("{base}/projects/behind?at={at}&f=csv"), "rel": "alternate", "type": "text/csv" }],
    }))
    .into_response())
}

/// `GET /projects/{id}/timeline?at=`: the project on the date (standing, capital, land area, sector,
/// commitments), every decision up to then with what it left the project, and its leases.
pub async fn timeline(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&["at", "f"])?;
    let format = negotiate(&params, &headers, FORMATS)?;
    let at = params.at()?;
    let timeline = register::timeline(&state.store, &id, at).await?.ok_or_else(|| {
        ApiError::NotFound(format!("no project '{id}'; /collections/projects/items lists them"))
    })?;
    if format == Format::Csv {
        // One line per decision, with the capital and land area it left.
        return super::csv_response(timeline.decisions.iter().map(|entry| {
            let (d, after) = (&entry.decision, entry.after.as_ref());
            TimelineCsvRow {
                decided_on: d.decided_on,
                kind: d.kind,
                decision_no: d.decision_no.as_deref(),
                capital_usd_change: d.capital_usd_change,
                capital_vnd_change: d.capital_vnd_change,
                land_ha: d.land_ha,
                reason: d.reason.as_deref(),
                standing_after: after.map(|a| a.standing),
                capital_usd_after: after.and_then(|a| a.capital_usd),
                capital_vnd_after: after.and_then(|a| a.capital_vnd),
                land_ha_after: after.and_then(|a| a.land_ha),
            }
        }));
    }
    let base = base_url(&state, &headers);
    let mut body = serde_json::to_value(&timeline).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["links"] = json!([
        { "href": format!("{base}/projects/{id}/timeline?at={at}&f=csv"), "rel": "alternate", "type": "text/csv" },
        { "href": format!("{base}/collections/projects/items/{id}"), "rel": "describedby", "type": "application/geo+json" },
    ]);
    Ok(Json(body).into_response())
}

/// A line of the timeline's CSV: a decision and what it left the project.
#[derive(serde::Serialize)]
struct TimelineCsvRow<'a> {
    decided_on: crate::domain::Date,
    kind: crate::domain::ProjectEventKind,
    decision_no: Option<&'a str>,
    capital_usd_change: Option<f64>,
    capital_vnd_change: Option<f64>,
    land_ha: Option<f64>,
    reason: Option<&'a str>,
    standing_after: Option<register::Standing>,
    capital_usd_after: Option<f64>,
    capital_vnd_after: Option<f64>,
    land_ha_after: Option<f64>,
}
