//! Turning incoming GeoJSON features into validated records: properties parse into the collection's domain
//! type (closed vocabularies, ISO dates), geometries must be valid WGS 84 polygons. Errors name the source,
//! the feature and the field, and say how to fix it. Nothing here writes; the caller stores the batch in
//! one transaction.

use std::collections::HashMap;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::collections::{self, Collection, FieldKind, PropertyError};
use crate::domain::parse_date;
use crate::spatial;
use crate::store::NewFeature;

/// Why a feature was refused.
#[derive(Debug, Error)]
pub enum IngestError {
    #[error("{source_name}: not a GeoJSON FeatureCollection: {reason}")]
    NotFeatureCollection { source_name: String, reason: String },
    #[error("{source_name}: feature {index} ({id}): {reason}")]
    Feature { source_name: String, index: usize, id: String, reason: String },
}

/// Validates one feature's properties against `collection`'s domain type.
pub fn canonical_properties(
    collection: &Collection,
    mut properties: Map<String, Value>,
) -> Result<Map<String, Value>, PropertyError> {
    for (name, value) in properties.iter_mut() {
        if let Value::String(text) = value {
            *text = crate::rules::clean_text(name, text).map_err(|e| {
                let prefix = format!("{name}: ");
                PropertyError::field(name, e.strip_prefix(&prefix).unwrap_or(&e))
            })?;
        }
    }
    for field in collection.fields.iter().filter(|f| f.kind == FieldKind::Date) {
        if let Some(Value::String(text)) = properties.get(field.name) {
            parse_date(text).map_err(|e| PropertyError::field(field.name, e))?;
        }
    }
    (collection.canonical)(properties)
}

/// The id of a record: the feature's `id`, or the one its own codes give it (a zone's `code`).
fn feature_id(
    collection: &Collection,
    feature: &geojson::Feature,
    properties: &Map<String, Value>,
) -> Option<String> {
    match &feature.id {
        Some(geojson::feature::Id::String(s)) => Some(s.clone()),
        Some(geojson::feature::Id::Number(n)) => Some(n.to_string()),
        None => (collection.natural_id)(properties),
    }
}

/// Parses a GeoJSON FeatureCollection of `collection` (WGS 84) into validated records.
///
/// `zone_provinces` maps zone codes to province codes, to fill `province_code` of records inside zones.
pub fn parse_feature_collection(
    collection: &'static Collection,
    source_name: &str,
    text: &str,
    zone_provinces: &HashMap<String, String>,
) -> Result<Vec<NewFeature>, IngestError> {
    let fc: geojson::FeatureCollection = text.parse().map_err(|e: geojson::Error| {
        IngestError::NotFeatureCollection { source_name: source_name.into(), reason: e.to_string() }
    })?;
    let mut out = Vec::with_capacity(fc.features.len());
    for (index, feature) in fc.features.iter().enumerate() {
        let mut properties = feature.properties.clone().unwrap_or_default();
        let id = feature_id(collection, feature, &properties);
        let fail = |reason: String| IngestError::Feature {
            source_name: source_name.into(),
            index,
            id: id.clone().unwrap_or_else(|| "no id".into()),
            reason,
        };
        let Some(id) = id.clone() else {
            return Err(fail("has no id: give each feature an \"id\"".into()));
        };
        let has_province = properties.get("province_code").is_some_and(|v| !v.is_null());
        let needs_province = collection.province_from_zone() && !has_province;
        if let (true, Some(zone)) = (needs_province, properties.get("zone_code").and_then(Value::as_str)) {
            let Some(province) = zone_provinces.get(zone) else {
                return Err(fail(format!(
                    "zone_code '{zone}' names no known zone: load or create that zone first"
                )));
            };
            properties.insert("province_code".into(), Value::String(province.clone()));
        }
        let properties =
            canonical_properties(collection, properties).map_err(|e| fail(format!("properties: {e}")))?;
        let geometry = match (&feature.geometry, collection.spatial) {
            (Some(g), true) => Some(spatial::parse_polygonal(g).map_err(|e| fail(format!("geometry: {e}")))?),
            (None, true) if collection.requires_geometry() => {
                return Err(fail("geometry is missing".into()));
            }
            _ => None,
        };
        out.push(NewFeature { id, properties, geometry, source_crs: "EPSG:4326".into() });
    }
    Ok(out)
}

/// Zone → province map of the zones in `features` (a batch of the zones collection).
pub fn zone_provinces(features: &[NewFeature]) -> HashMap<String, String> {
    features
        .iter()
        .filter_map(|f| {
            let code = f.properties.get("code")?.as_str()?;
            let province = f.properties.get("province_code")?.as_str()?;
            Some((code.to_string(), province.to_string()))
        })
        .collect()
}

/// Sorts zones so that a phase comes after the zone it extends (stable otherwise).
pub fn parents_first(zones: &mut [NewFeature]) {
    let has_parent = |f: &NewFeature| f.properties.get("parent_code").is_some_and(|v| !v.is_null());
    zones.sort_by_key(has_parent);
}

/// Checks that the collection list is what [`collections::ALL`] holds (used by loaders).
pub fn load_order() -> &'static [&'static Collection] {
    collections::ALL
}

/// "Đang hoạt động" → "dang hoat dong": no tones, no đ, lower case, single spaces.
fn fold_label(text: &str) -> String {
    deunicode::deunicode(&text.replace(['đ', 'Đ'], "d"))
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A day-first date as boards write it (30/06/2023, 30.06.2023, 30-06-2023, 1/7/2025) as ISO
/// `YYYY-MM-DD`; `None` for anything else (an ISO date is left as it is).
pub fn day_first_date(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.trim().split(['/', '.', '-']).map(str::trim).collect();
    let [d, m, y] = parts.as_slice() else { return None };
    if y.len() != 4 || d.is_empty() || d.len() > 2 || m.is_empty() || m.len() > 2 {
        return None;
    }
    let (d, m, y): (u32, u32, i32) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
    chrono::NaiveDate::from_ymd_opt(y, m, d).map(|date| date.format("%Y-%m-%d").to_string())
}

/// A board's file in landbank's words, before validation: day-first dates as ISO, and the Vietnamese
/// labels (or codes in another case) of closed vocabularies as their codes. What matches nothing is
/// left as it is, for validation to explain with the values it accepts.
pub fn file_conventions(collection: &Collection, properties: &mut Map<String, Value>) {
    for field in collection.fields {
        let Some(Value::String(text)) = properties.get_mut(field.name) else { continue };
        if field.kind == FieldKind::Date {
            if let Some(iso) = day_first_date(text) {
                *text = iso;
            }
            continue;
        }
        let Some(codes) = field.values else { continue };
        let folded = fold_label(text);
        if let Some(code) = codes.iter().find(|c| folded.replace(' ', "_") == **c) {
            *text = code.to_string();
        } else if let Some((code, _)) =
            field.labels.iter().find(|(_, labels)| labels.contains(&folded.as_str()))
        {
            *text = code.to_string();
        }
    }
}

#[cfg(test)]
mod conventions {
    use super::*;

    #[test]
    fn day_first_dates_and_vietnamese_labels_become_landbank_values() {
        assert_eq!(day_first_date("30/06/2023").as_deref(), Some("2023-06-30"));
        assert_eq!(day_first_date("1.7.2025").as_deref(), Some("2025-07-01"));
        assert_eq!(day_first_date("2023-06-30"), None, "ISO stays as it is");
        assert_eq!(day_first_date("31/02/2023"), None, "no such day: validation explains");
        assert_eq!(day_first_date("06/30/2023"), None, "month first is not a board's date");
        let mut p = serde_json::json!({ "status": "Đã cho thuê", "start_on": "15/03/2021", "signed_on": "2021-01-02" })
            .as_object()
            .cloned()
            .unwrap();
        file_conventions(&crate::collections::LEASES, &mut p);
        assert_eq!(p["status"], "active");
        assert_eq!(p["start_on"], "2021-03-15");
        assert_eq!(p["signed_on"], "2021-01-02");
        let mut z =
            serde_json::json!({ "status": "ĐANG HOẠT ĐỘNG", "kind": "KCN" }).as_object().cloned().unwrap();
        file_conventions(&crate::collections::ZONES, &mut z);
        assert_eq!((z["status"].as_str(), z["kind"].as_str()), (Some("operating"), Some("industrial_park")));
        let mut odd = serde_json::json!({ "status": "Policy Approved" }).as_object().cloned().unwrap();
        file_conventions(&crate::collections::ZONES, &mut odd);
        assert_eq!(odd["status"], "policy_approved");
        let mut unknown = serde_json::json!({ "status": "sắp có" }).as_object().cloned().unwrap();
        file_conventions(&crate::collections::ZONES, &mut unknown);
        assert_eq!(unknown["status"], "sắp có", "left for validation to explain");
    }
}
