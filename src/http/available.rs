//! `/available` and the `available_land` collection: where the free hectares are, for investors.
//! Tenants' data never appears here: a piece carries its zone, its areas and its readiness only.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use geo::Point;
use serde_json::{Value, json};

use super::geojson::{
    FeatureWriter, Paging, geojson_response, geojson_text_response, output_geometry, paging_links,
    reprojector, requested_bbox, requested_crs,
};
use super::{ApiError, AppState, Params, base_url};
use crate::available::{self, DEFAULT_MIN_PIECE_HA, Piece, PieceFilter, Sort};
use crate::collections;
use crate::crs::Reprojector;
use crate::spatial;
use crate::store::FeatureRow;

const PARAMS: &[&str] = &[
    "min_ha",
    "max_ha",
    "province_code",
    "zone_code",
    "ready",
    "cleared",
    "wwtp",
    "wwtp_operating",
    "near",
    "within_km",
    "bbox",
    "bbox-crs",
    "crs",
    "at",
    "sortby",
    "limit",
    "offset",
    "min_piece_ha",
    "zone_status",
    "filter",
    "filter-lang",
    "filter-crs",
    "q",
    "f",
];

fn number(params: &Params, name: &str) -> Result<Option<f64>, ApiError> {
    params
        .get(name)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| ApiError::parameter(name, format!("{name}={v}: expected a number ≥ 0")))
        })
        .transpose()
}

fn flag(params: &Params, name: &str) -> Result<Option<bool>, ApiError> {
    params
        .get(name)
        .map(|v| match v {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(ApiError::parameter(name, format!("{name}={v}: expected true or false"))),
        })
        .transpose()
}

fn parse_filter(params: &Params) -> Result<PieceFilter, ApiError> {
    let near = params
        .get("near")
        .map(|v| {
            let fail =
                || ApiError::parameter("near", format!("near={v}: send near=LON,LAT in WGS 84 degrees"));
            let parts: Vec<f64> = v
                .split(',')
                .map(|s| s.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| fail())?;
            match parts.as_slice() {
                [lon, lat] if (-180.0..=180.0).contains(lon) && (-90.0..=90.0).contains(lat) => {
                    Ok(Point::new(*lon, *lat))
                }
                _ => Err(fail()),
            }
        })
        .transpose()?;
    let within_km = number(params, "within_km")?;
    if within_km.is_some() && near.is_none() {
        return Err(ApiError::parameter("within_km", "within_km needs near=LON,LAT to measure from"));
    }
    let sort = match params.get("sortby") {
        None | Some("") => available::Sort::Zone,
        Some("area_ha" | "+area_ha") => Sort::AreaAscending,
        Some("-area_ha") => Sort::AreaDescending,
        Some("distance_km" | "+distance_km") if near.is_some() => Sort::Distance,
        Some("distance_km" | "+distance_km") => {
            return Err(ApiError::parameter("sortby", "sortby=distance_km needs near=LON,LAT"));
        }
        Some(other) => {
            return Err(ApiError::parameter(
                "sortby",
                format!("sortby={other}: use area_ha, -area_ha or distance_km"),
            ));
        }
    };
    Ok(PieceFilter {
        min_ha: number(params, "min_ha")?,
        max_ha: number(params, "max_ha")?,
        ready: flag(params, "ready")?,
        cleared: flag(params, "cleared")?,
        wwtp: flag(params, "wwtp")?.or(flag(params, "wwtp_operating")?),
        near,
        within_km,
        bbox: requested_bbox(params)?,
        zone_statuses: params.zone_statuses("zone_status")?,
        sort,
    })
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f + 0.0
}

fn piece_json(piece: &Piece, distance_km: Option<f64>, crs: Option<&Reprojector>) -> Result<Value, ApiError> {
    let mut geometry =
        serde_json::to_value(spatial::to_geojson(&geo::MultiPolygon(vec![piece.geometry.clone()])))
            .unwrap_or(Value::Null);
    output_geometry(&mut geometry, crs)?;
    let properties = piece_properties(piece, distance_km);
    Ok(json!({ "type": "Feature", "id": piece.id, "geometry": geometry, "properties": properties }))
}

/// What a piece says of itself, and its distance from `near=` when asked.
fn piece_properties(piece: &Piece, distance_km: Option<f64>) -> Value {
    let mut properties = json!({
        "zone_code": piece.zone_code,
        "zone_name": piece.zone_name,
        "province_code": piece.province_code,
        "area_ha": round(piece.area_ha, 4),
        "area_source": "measured",
        "cleared_ha": round(piece.cleared_ha, 4),
        "infra_ready_ha": round(piece.infra_ready_ha, 4),
        "ready": piece.ready,
        "cleared": piece.cleared,
        "zone_status": piece.zone_status,
        "wwtp_operating": piece.wwtp_operating,
        "wwtp_capacity_m3d": piece.wwtp_capacity_m3d,
        "plot_codes": piece.plot_codes.join(","),
        "recovered_from": (!piece.recovered_from.is_empty()).then(|| piece.recovered_from.join(",")),
        "recovered_on": piece.recovered_on,
    });
    if let Some(d) = distance_km {
        properties["distance_km"] = json!(round(d, 3));
    }
    properties
}

/// A piece as a row of the `available_land` collection: what filters are decided on and downloads hold.
fn piece_row(piece: &Piece, distance_km: Option<f64>) -> Result<FeatureRow, ApiError> {
    let feature = piece_json(piece, distance_km, None)?;
    Ok(FeatureRow {
        id: piece.id.clone(),
        properties: feature["properties"].as_object().cloned().unwrap_or_default(),
        geometry: Some(spatial::to_geojson(&geo::MultiPolygon(vec![piece.geometry.clone()])).to_string()),
        area_ha: Some(piece.area_ha),
        source_crs: None,
    })
}

/// `/available` and `/collections/available_land/items`: the same query, the same answer.
pub async fn search(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    path: &str,
) -> Result<Response, ApiError> {
    let params = Params::parse(uri);
    params.only(PARAMS)?;
    // GeoJSON, or the same pieces as a file (CSV, GeoPackage, FlatGeobuf, KML) to download.
    let download = super::geojson::download_format(&params, headers)?;
    let filter = parse_filter(&params)?;
    let crs = requested_crs(&params)?;
    let at = params.at()?;
    let min_piece_ha = number(&params, "min_piece_ha")?.unwrap_or(DEFAULT_MIN_PIECE_HA);
    let limit = params.or_default::<super::params::ItemsLimit>("limit")?.0;
    let offset = params.offset()?;
    let place = available::Place {
        province_code: params.get("province_code").filter(|s| !s.is_empty()),
        zone_code: params.get("zone_code").filter(|s| !s.is_empty()),
        // Only the zones that meet the box asked for are computed.
        bbox: filter.bbox,
    };
    let zones = available::compute(&state.store, &state.available, &place, at, min_piece_ha).await?;
    let mut selected = available::select(&zones, &filter);
    let c = &collections::AVAILABLE_LAND;
    let filters: Vec<_> = super::geojson::requested_filter(c, &params)?
        .into_iter()
        .chain(params.get("q").and_then(|q| super::geojson::text_search(c, q)))
        .collect();
    if !filters.is_empty() {
        // Pieces are computed, so the filter is decided in Rust on each piece as served.
        let mut kept = Vec::with_capacity(selected.len());
        for (piece, distance) in selected {
            let row = piece_row(piece, distance)?;
            if filters.iter().all(|f| f.eval(&row, c.id) == Some(true)) {
                kept.push((piece, distance));
            }
        }
        selected = kept;
    }
    if let Some(format) = download {
        // A download holds every match unless `limit` is sent (as items downloads do).
        let take = if params.get("limit").is_some() { limit as usize } else { usize::MAX };
        let rows = selected
            .iter()
            .skip(offset as usize)
            .take(take)
            .map(|(p, d)| piece_row(p, *d))
            .collect::<Result<Vec<_>, _>>()?;
        return super::geojson::download_response(c, rows, format, crs, true).await;
    }
    let reprojector = reprojector(crs)?;
    let matched = selected.len() as u64;
    let page = selected.iter().skip(offset as usize).take(limit as usize);
    let returned = page.len() as u64;
    let dropped_ha: f64 = zones.iter().map(|z| z.dropped_ha).sum();
    let dropped_pieces: usize = zones.iter().map(|z| z.dropped_pieces).sum();
    let base = base_url(state, headers);
    let links = paging_links(&base, path, &params, Paging { limit, offset, returned, matched });
    let members = [
        ("numberMatched", json!(matched)),
        ("numberReturned", json!(returned)),
        ("timeStamp", json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
        ("at", json!(at)),
        ("min_piece_ha", json!(min_piece_ha)),
        ("dropped_ha", json!(round(dropped_ha, 4))),
        ("dropped_pieces", json!(dropped_pieces)),
        ("links", json!(links)),
    ];
    if reprojector.is_none() {
        // WGS 84: each piece's polygon written straight from its coordinates, without a tree of values.
        let mut writer = FeatureWriter::new();
        for (piece, distance) in page {
            writer.computed(&piece.id, &piece.geometry, &piece_properties(piece, *distance))?;
        }
        return Ok(geojson_text_response(writer.finish(&members)?, crs));
    }
    let features: Vec<Value> =
        page.map(|(p, d)| piece_json(p, *d, reprojector.as_ref())).collect::<Result<_, _>>()?;
    let mut body = serde_json::Map::from_iter([
        ("type".to_string(), json!("FeatureCollection")),
        ("features".to_string(), Value::Array(features)),
    ]);
    body.extend(members.into_iter().map(|(k, v)| (k.to_string(), v)));
    Ok(geojson_response(Value::Object(body), crs))
}

pub async fn available(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    search(&state, &headers, &uri, "/available").await
}

/// One piece by id (`{zone_code}-A{n}`), today (or `at=`).
pub async fn piece(state: &AppState, id: &str, uri: &Uri) -> Result<Response, ApiError> {
    let params = Params::parse(uri);
    params.only(&["at", "f", "min_piece_ha", "crs"])?;
    let crs = requested_crs(&params)?;
    let not_found =
        || ApiError::NotFound(format!("no available-land piece '{id}' (ids look like BN-QV1-A1)"));
    let zone_code = id.rsplit_once("-A").map(|(z, _)| z).ok_or_else(not_found)?;
    let min_piece_ha = number(&params, "min_piece_ha")?.unwrap_or(DEFAULT_MIN_PIECE_HA);
    let place = available::Place { zone_code: Some(zone_code), ..Default::default() };
    let zones =
        match available::compute(&state.store, &state.available, &place, params.at()?, min_piece_ha).await {
            Err(crate::occupancy::OccupancyError::UnknownZone(_)) => return Err(not_found()),
            other => other?,
        };
    let piece = zones.iter().flat_map(|z| z.pieces.iter()).find(|p| p.id == id).ok_or_else(not_found)?;
    Ok(geojson_response(piece_json(piece, None, reprojector(crs)?.as_ref())?, crs))
}
