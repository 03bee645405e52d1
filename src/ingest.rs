//! Turning incoming GeoJSON features into validated records: properties parse into the collection's domain
//! type (closed vocabularies, ISO dates), geometries must be valid WGS 84 polygons. Errors name the source,
//! the feature and the field, and say how to fix it. Nothing here writes; the caller stores the batch in
//! one transaction.

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::collections::{self, Collection, FieldKind};
use crate::domain::{ClearanceParcel, LandUse, Lease, Plot, Project, Province, Target, Zone, parse_date};
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

/// Parses properties into the collection's domain type and back into a map of its fields, so that
/// defaults and canonical spellings (dates, enums) are what gets stored.
fn canonical<T: DeserializeOwned + Serialize>(
    properties: Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    let parsed: T = serde_path_to_error::deserialize(Value::Object(properties)).map_err(|e| {
        let path = e.path().to_string();
        if path == "." { e.inner().to_string() } else { format!("field {path}: {}", e.inner()) }
    })?;
    match serde_json::to_value(parsed).map_err(|e| e.to_string())? {
        Value::Object(map) => Ok(map),
        _ => Err("properties are not an object".into()),
    }
}

/// Validates one feature's properties against `collection`'s domain type.
pub fn canonical_properties(
    collection: &Collection,
    mut properties: Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    for (name, value) in properties.iter_mut() {
        if let Value::String(text) = value {
            *text = crate::rules::clean_text(name, text).map_err(|e| format!("field {e}"))?;
        }
    }
    for field in collection.fields.iter().filter(|f| f.kind == FieldKind::Date) {
        if let Some(Value::String(text)) = properties.get(field.name) {
            parse_date(text).map_err(|e| format!("field {}: {e}", field.name))?;
        }
    }
    match collection.id {
        "provinces" => canonical::<Province>(properties),
        "zones" => {
            let map = canonical::<Zone>(properties)?;
            let zone: Zone = serde_json::from_value(Value::Object(map.clone())).map_err(|e| e.to_string())?;
            crate::rules::zone_province(&zone).map_err(|e| format!("field province_code: {e}"))?;
            Ok(map)
        }
        "land_use" => canonical::<LandUse>(properties),
        "plots" => canonical::<Plot>(properties),
        "projects" => canonical::<Project>(properties),
        "leases" => canonical::<Lease>(properties),
        "clearance_parcels" => canonical::<ClearanceParcel>(properties),
        "targets" => canonical::<Target>(properties),
        other => Err(format!("unknown collection {other}")),
    }
}

/// The id of a record: the feature's `id`, or for zones their `code`.
fn feature_id(
    collection: &Collection,
    feature: &geojson::Feature,
    properties: &Map<String, Value>,
) -> Option<String> {
    match &feature.id {
        Some(geojson::feature::Id::String(s)) => Some(s.clone()),
        Some(geojson::feature::Id::Number(n)) => Some(n.to_string()),
        None => match collection.id {
            "zones" => properties.get("code").and_then(Value::as_str).map(str::to_string),
            "provinces" => properties.get("province_code").and_then(Value::as_str).map(str::to_string),
            _ => None,
        },
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
        let needs_province =
            collection.id != "zones" && collection.field("province_code").is_some() && !has_province;
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
            (None, true) if collection.id != "zones" => {
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
