//! `/occupancy` and `/zones/{code}/occupancy`, as JSON or CSV.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::{ApiError, AppState, Format, Params, base_url, csv_response, negotiate};
use crate::demo;
use crate::domain::{Date, Source, ZoneStatus};
use crate::occupancy::{self, OccupancyQuery, Summary, ZoneFigures};

const NOTE: &str = "Hectares are geodesic areas on the WGS 84 ellipsoid computed from geometry (source: measured), \
    or declared figures from legal documents where a zone has no land-use geometry (source: declared). \
    occupancy_pct = 100 × leased_ha / leasable_ha, hectares summed over the zones in scope before dividing.";

fn parse_scope(params: &Params) -> Result<Vec<ZoneStatus>, ApiError> {
    params.zone_statuses("status")
}

/// One CSV line: a zone, a province or the total.
#[derive(Serialize)]
struct CsvRow<'a> {
    level: &'a str,
    at: Date,
    province_code: Option<&'a str>,
    zone_code: Option<&'a str>,
    zone_name: Option<&'a str>,
    status: Option<ZoneStatus>,
    zones_total: Option<u64>,
    zones_established: Option<u64>,
    zones_operating: Option<u64>,
    planned_area_ha: String,
    established_area_ha: Option<String>,
    leasable_ha: String,
    leased_ha: String,
    reserved_ha: String,
    available_ha: String,
    occupancy_pct: Option<String>,
    source: Source,
}

fn ha(v: f64) -> String {
    format!("{v:.2}")
}

fn summary_row<'a>(level: &'a str, at: Date, s: &'a Summary) -> CsvRow<'a> {
    CsvRow {
        level,
        at,
        province_code: s.province_code.as_deref(),
        zone_code: None,
        zone_name: None,
        status: None,
        zones_total: Some(s.zones_total),
        zones_established: Some(s.zones_established),
        zones_operating: Some(s.zones_operating),
        planned_area_ha: ha(s.planned_area_ha),
        established_area_ha: Some(ha(s.established_area_ha)),
        leasable_ha: ha(s.leasable_ha),
        leased_ha: ha(s.leased_ha),
        reserved_ha: ha(s.reserved_ha),
        available_ha: ha(s.available_ha),
        occupancy_pct: s.occupancy_pct.map(ha),
        source: s.source,
    }
}

fn zone_row(at: Date, z: &ZoneFigures) -> CsvRow<'_> {
    CsvRow {
        level: "zone",
        at,
        province_code: Some(&z.province_code),
        zone_code: Some(&z.zone_code),
        zone_name: Some(&z.zone_name),
        status: Some(z.status),
        zones_total: None,
        zones_established: None,
        zones_operating: None,
        planned_area_ha: ha(z.planned_area_ha),
        established_area_ha: None,
        leasable_ha: ha(z.leasable_ha),
        leased_ha: ha(z.leased_ha),
        reserved_ha: ha(z.reserved_ha),
        available_ha: ha(z.available_ha),
        occupancy_pct: z.occupancy_pct.map(ha),
        source: z.source,
    }
}

/// The formats of the occupancy figures (the first is the default).
pub(super) const FORMATS: &[Format] = &[Format::Json, Format::Csv];

pub async fn occupancy(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
    uri: Uri,
) -> Result<Response, ApiError> {
    params.only(&["province_code", "zone_code", "at", "status", "f", "datetime"])?;
    let format = negotiate(&params, &headers, FORMATS)?;
    let query = OccupancyQuery {
        province_code: params.get("province_code").filter(|s| !s.is_empty()).map(str::to_string),
        zone_code: params.get("zone_code").filter(|s| !s.is_empty()).map(str::to_string),
        at: params.at()?,
        scope: parse_scope(&params)?,
        recorded_at_us: params.recorded_at()?,
    };
    let report = occupancy::compute_with(&state.store, Some(&state.figures), &query).await?;
    if format == Format::Csv {
        let mut rows: Vec<CsvRow<'_>> = report.zones.iter().map(|z| zone_row(report.at, z)).collect();
        rows.extend(report.provinces.iter().map(|p| summary_row("province", report.at, p)));
        if report.provinces.len() != 1 {
            rows.push(summary_row("total", report.at, &report.total));
        }
        return csv_response(rows);
    }
    let base = base_url(&state, &headers);
    // Written straight from the (kept) answer, without a tree of values: 4,840 zones are 1.3 MB.
    Ok(Json(Body {
        report: &report,
        note: NOTE,
        demo_notice: demo::notice(&state.store).await?,
        links: json!([
            { "href": format!("{base}{uri}"), "rel": "self", "type": "application/json" },
            { "href": format!("{base}/occupancy?{}", with_f(&uri, "csv")), "rel": "alternate", "type": "text/csv" },
        ]),
    })
    .into_response())
}

/// The JSON answer: the figures, then what they mean and where they are.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(flatten)]
    report: &'a occupancy::OccupancyReport,
    note: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    demo_notice: Option<&'static str>,
    links: serde_json::Value,
}

fn with_f(uri: &Uri, f: &str) -> String {
    let params = Params::parse(uri);
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.iter().filter(|(k, _)| *k != "f") {
        q.append_pair(k, v);
    }
    q.append_pair("f", f);
    q.finish()
}

pub async fn zone_occupancy(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    params: Params,
    uri: Uri,
) -> Result<Response, ApiError> {
    params.only(&["at", "status", "f", "datetime"])?;
    let format = negotiate(&params, &headers, FORMATS)?;
    let query = OccupancyQuery {
        province_code: None,
        zone_code: Some(code),
        at: params.at()?,
        scope: parse_scope(&params)?,
        recorded_at_us: params.recorded_at()?,
    };
    let report = occupancy::compute_with(&state.store, Some(&state.figures), &query).await?;
    let zone = report.zones.first().ok_or_else(|| ApiError::Internal("zone figures missing".into()))?;
    if format == Format::Csv {
        return csv_response(vec![zone_row(report.at, zone)]);
    }
    let mut body = serde_json::to_value(zone).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["at"] = json!(report.at);
    body["note"] = json!(NOTE);
    let base = base_url(&state, &headers);
    body["links"] = json!([
        { "href": format!("{base}{uri}"), "rel": "self", "type": "application/json" },
        { "href": format!("{base}/collections/zones/items/{}", zone.zone_code), "rel": "describedby", "type": "application/geo+json" },
    ]);
    Ok(Json(body).into_response())
}
