//! `/reports/provinces/{code}` and `/reports/national`: the board's report as JSON, CSV, Markdown or HTML,
//! and its charts as SVG at stable URLs.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState, Format, Params, base_url, negotiate, typed};
use crate::report::{self, Lang, ReportQuery, charts};

fn lang_of(params: &Params) -> Result<Lang, ApiError> {
    match params.get("lang") {
        None | Some("") => Ok(Lang::Vi),
        Some(text) => text.parse().map_err(|e: String| ApiError::parameter("lang", e)),
    }
}

/// The formats of a report (the first is the default).
pub(super) const FORMATS: &[Format] =
    &[Format::Json, Format::Csv, Format::Markdown, Format::Html, Format::Docx, Format::Xlsx, Format::Pdf];

async fn respond(
    state: AppState,
    headers: HeaderMap,
    params: Params,
    uri: Uri,
    province_code: Option<String>,
) -> Result<Response, ApiError> {
    params.only(&["at", "f", "lang"])?;
    let format = negotiate(&params, &headers, FORMATS)?;
    let lang = lang_of(&params)?;
    let query = ReportQuery {
        province_code: province_code.clone(),
        at: params.at()?,
        rules: state.rules,
        with_series: true,
    };
    let report = report::compute_with(&state.store, Some(&state.figures), &query).await?;
    let base = base_url(&state, &headers);
    let path = match &province_code {
        Some(code) => format!("/reports/provinces/{code}"),
        None => "/reports/national".into(),
    };
    Ok(match format {
        Format::Json => {
            let mut body = serde_json::to_value(&report).map_err(|e| ApiError::Internal(e.to_string()))?;
            let at = report.at;
            let mut links = vec![
                serde_json::json!({ "href": format!("{base}{uri}"), "rel": "self", "type": "application/json" }),
            ];
            for f in [Format::Csv, Format::Markdown, Format::Html, Format::Docx, Format::Xlsx, Format::Pdf] {
                let (f, media) = (f.name(), f.media_type().split(';').next().unwrap_or_default());
                links.push(serde_json::json!({ "href": format!("{base}{path}?at={at}&f={f}"), "rel": "alternate", "type": media }));
            }
            for name in charts::NAMES {
                links.push(serde_json::json!({
                    "href": format!("{base}{path}/charts/{name}.svg?at={at}"),
                    "rel": "chart",
                    "type": "image/svg+xml",
                    "title": name,
                }));
            }
            body["links"] = serde_json::Value::Array(links);
            axum::Json(body).into_response()
        }
        Format::Csv => typed(report::to_csv(&report)?, format.media_type()),
        Format::Markdown => typed(report::render_markdown(&report, lang), format.media_type()),
        Format::Html => {
            typed(report::render_html(&report, lang, &format!("{base}{path}/charts"))?, format.media_type())
        }
        Format::Docx | Format::Xlsx | Format::Pdf => {
            // Files to send: named after the place and date, written off the async threads (PDF runs
            // Chromium for a second or two).
            let name = format!(
                "{}-{}-{}.{}",
                lang.pick("bao-cao", "report"),
                province_code.as_deref().unwrap_or(lang.pick("toan-quoc", "national")),
                report.at,
                format.name()
            );
            let bytes = tokio::task::spawn_blocking(move || match format {
                Format::Docx => report::render_docx(&report, lang),
                Format::Xlsx => report::render_xlsx(&report, lang),
                _ => report::render_pdf(&report, lang),
            })
            .await
            .map_err(|e| ApiError::Internal(format!("report writer stopped: {e}")))??;
            super::attachment(bytes, format.media_type(), &name)
        }
    })
}

pub async fn province(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    params: Params,
    uri: Uri,
) -> Result<Response, ApiError> {
    respond(state, headers, params, uri, Some(code)).await
}

pub async fn national(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
    uri: Uri,
) -> Result<Response, ApiError> {
    respond(state, headers, params, uri, None).await
}

async fn chart(
    state: AppState,
    params: Params,
    province_code: Option<String>,
    file: String,
) -> Result<Response, ApiError> {
    params.only(&["at", "lang"])?;
    let lang = lang_of(&params)?;
    let Some(name) = file.strip_suffix(".svg").filter(|n| charts::NAMES.contains(n)) else {
        return Err(ApiError::NotFound(format!(
            "no chart '{file}'; the charts are: {}",
            charts::NAMES.iter().map(|n| format!("{n}.svg")).collect::<Vec<_>>().join(", ")
        )));
    };
    let query = ReportQuery {
        province_code,
        at: params.at()?,
        rules: state.rules,
        with_series: name == "occupancy-over-time",
    };
    let report = report::compute_with(&state.store, Some(&state.figures), &query).await?;
    let svg = charts::render(&report, name, lang)?.unwrap_or_default();
    Ok(typed(svg, "image/svg+xml"))
}

pub async fn province_chart(
    State(state): State<AppState>,
    Path((code, file)): Path<(String, String)>,
    params: Params,
) -> Result<Response, ApiError> {
    chart(state, params, Some(code), file).await
}

pub async fn national_chart(
    State(state): State<AppState>,
    Path(file): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    chart(state, params, None, file).await
}
