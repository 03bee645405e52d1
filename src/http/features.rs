//! OGC API - Features Part 1: landing page, conformance, collections, items and single features.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::{ApiError, AppState, Params, base_url};
use crate::collections::{self, Collection};
use crate::store::{Condition, FeatureRow, ItemsQuery};
use crate::{demo, spatial};

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: u64 = 10;
/// Largest page; larger `limit` values are clamped to it (OGC API - Features, /req/core/query-param-limit).
pub const MAX_LIMIT: u64 = 10_000;
/// Decimals of served coordinates (RFC 7946: about 1 cm).
pub const COORDINATE_DECIMALS: u32 = 7;

pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];

const GEOJSON: &str = "application/geo+json";

pub(crate) fn link(href: String, rel: &str, media_type: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": media_type, "title": title })
}

pub(crate) fn geojson_response(body: Value) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    response
}

fn find(collection_id: &str) -> Result<&'static Collection, ApiError> {
    collections::published(collection_id).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no collection '{collection_id}'; collections are: {}",
            collections::published_ids().join(", ")
        ))
    })
}

pub async fn landing(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    Params::parse(&uri).only(&["f"])?;
    let base = base_url(&state, &headers);
    Ok(Json(json!({
        "title": "landbank",
        "description": format!(
            "Land inside industrial zones: boundaries, land-use plans, plots, leases, site clearance and occupancy. {}",
            demo::NOTICE
        ),
        "links": [
            link(format!("{base}/"), "self", "application/json", "This document"),
            link(format!("{base}/api"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API definition (OpenAPI 3.0)"),
            link(format!("{base}/conformance"), "conformance", "application/json", "Conformance classes"),
            link(format!("{base}/collections"), "data", "application/json", "Collections"),
            link(format!("{base}/occupancy"), "http://landbank.dev/rel/occupancy", "application/json", "Occupancy per province and zone"),
            link(format!("{base}/available"), "http://landbank.dev/rel/available", "application/geo+json", "Available land for investors"),
            link(format!("{base}/maps/"), "http://landbank.dev/rel/map", "text/html", "The map: occupancy, plots, clearance"),
            link(format!("{base}/tiles/zones.json"), "http://landbank.dev/rel/tilejson", "application/json", "Vector tiles of zones (TileJSON)"),
            link(format!("{base}/readyz"), "status", "application/json", "Readiness"),
        ]
    })))
}

pub async fn conformance(uri: Uri) -> Result<Json<Value>, ApiError> {
    Params::parse(&uri).only(&["f"])?;
    Ok(Json(json!({ "conformsTo": CONFORMANCE })))
}

async fn collection_json(state: &AppState, base: &str, c: &'static Collection) -> Result<Value, ApiError> {
    // Available land lies inside the zones.
    let extent_of = if c.computed { &collections::ZONES } else { c };
    let bbox = state.store.extent(extent_of).await?.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    Ok(json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "extent": { "spatial": { "bbox": [bbox], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84" } },
        "links": [
            link(format!("{base}/collections/{}", c.id), "self", "application/json", c.title),
            link(format!("{base}/collections/{}/items", c.id), "items", GEOJSON, "Features"),
            link(format!("{base}/collections/{}/queryables", c.id), "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json", "Queryable properties"),
        ]
    }))
}

pub async fn collections(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    Params::parse(&uri).only(&["f"])?;
    let base = base_url(&state, &headers);
    let mut list = Vec::new();
    for c in collections::ALL.iter().filter(|c| c.published) {
        list.push(collection_json(&state, &base, c).await?);
    }
    Ok(Json(json!({
        "links": [link(format!("{base}/collections"), "self", "application/json", "Collections")],
        "collections": list,
    })))
}

pub async fn collection(
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    Params::parse(&uri).only(&["f"])?;
    let c = find(&collection_id)?;
    Ok(Json(collection_json(&state, &base_url(&state, &headers), c).await?))
}

pub async fn queryables(
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    Params::parse(&uri).only(&["f"])?;
    let c = find(&collection_id)?;
    let base = base_url(&state, &headers);
    let properties: Map<String, Value> = c
        .queryables()
        .map(|f| (f.name.to_string(), json!({ "type": f.kind.json_type(), "description": f.description })))
        .collect();
    let mut response = Json(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{base}/collections/{}/queryables", c.id),
        "type": "object",
        "title": c.title,
        "properties": properties,
        "additionalProperties": false,
    }))
    .into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/schema+json"));
    Ok(response)
}

/// Parses `bbox=minLon,minLat,maxLon,maxLat` (a 6-number 3-D box is accepted and flattened).
pub fn parse_bbox(text: &str) -> Result<[f64; 4], ApiError> {
    let fail = |why: &str| {
        ApiError::parameter(
            "bbox",
            format!("bbox={text}: {why}; send bbox=minLon,minLat,maxLon,maxLat in WGS 84 degrees"),
        )
    };
    let numbers: Vec<f64> = text
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| fail("every value must be a number"))?;
    let b = match numbers.as_slice() {
        [a, b, c, d] => [*a, *b, *c, *d],
        [a, b, _, d, e, _] => [*a, *b, *d, *e],
        _ => return Err(fail(&format!("expected 4 numbers, got {}", numbers.len()))),
    };
    if b.iter().any(|v| !v.is_finite()) {
        return Err(fail("values must be finite"));
    }
    if !(-180.0..=180.0).contains(&b[0])
        || !(-180.0..=180.0).contains(&b[2])
        || !(-90.0..=90.0).contains(&b[1])
        || !(-90.0..=90.0).contains(&b[3])
    {
        return Err(fail("longitudes must lie in [-180, 180] and latitudes in [-90, 90]"));
    }
    if b[1] > b[3] {
        return Err(fail("minLat is greater than maxLat"));
    }
    if b[0] > b[2] {
        return Err(fail("boxes crossing the antimeridian are not supported (minLon > maxLon)"));
    }
    Ok(b)
}

fn parse_count(params: &Params, name: &str) -> Result<Option<u64>, ApiError> {
    params
        .get(name)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::parameter(name, format!("{name}={v}: expected a whole number ≥ 0")))
        })
        .transpose()
}

/// Where a page stands: its size, start, length and the total matched.
pub(crate) struct Paging {
    pub limit: u64,
    pub offset: u64,
    pub returned: u64,
    pub matched: u64,
}

/// `self`, `next` and `prev` links of a page at `base` + `path`, keeping every other parameter as sent.
pub(crate) fn paging_links(base: &str, path: &str, params: &Params, paging: Paging) -> Vec<Value> {
    let Paging { limit, offset, returned, matched } = paging;
    let page_link = |offset: u64, rel: &str, title: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params.iter().filter(|(k, _)| *k != "offset" && *k != "limit") {
            q.append_pair(k, v);
        }
        q.append_pair("limit", &limit.to_string());
        q.append_pair("offset", &offset.to_string());
        link(format!("{base}{path}?{}", q.finish()), rel, GEOJSON, title)
    };
    let mut links = vec![page_link(offset, "self", "This page")];
    if offset + returned < matched {
        links.push(page_link(offset + returned, "next", "Next page"));
    }
    if offset > 0 {
        links.push(page_link(offset.saturating_sub(limit), "prev", "Previous page"));
    }
    links
}

/// A stored row as a GeoJSON feature: id, geometry (7 decimals), the collection's fields, `area_ha`.
pub fn feature_json(c: &Collection, row: FeatureRow) -> Result<Value, ApiError> {
    let geometry = match &row.geometry {
        Some(text) => {
            let mut g: Value = serde_json::from_str(text).map_err(|e| {
                ApiError::Internal(format!("stored geometry of {} '{}' is unreadable: {e}", c.id, row.id))
            })?;
            spatial::round_coordinates(&mut g, COORDINATE_DECIMALS);
            g
        }
        None => Value::Null,
    };
    let mut properties = row.properties;
    if c.spatial {
        properties.insert(
            "area_ha".into(),
            row.area_ha.map(|a| json!((a * 1e6).round() / 1e6)).unwrap_or(Value::Null),
        );
        properties.insert("area_source".into(), json!("measured"));
        properties.insert("source_crs".into(), json!(row.source_crs));
    }
    Ok(json!({ "type": "Feature", "id": row.id, "geometry": geometry, "properties": properties }))
}

pub async fn items(
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let c = find(&collection_id)?;
    if c.computed {
        return super::available::search(&state, &headers, &uri, &format!("/collections/{}/items", c.id))
            .await;
    }
    let params = Params::parse(&uri);
    let mut query = ItemsQuery::default();
    for (name, value) in params.iter() {
        match name {
            "f" => {
                if !matches!(value, "json" | "geojson") {
                    return Err(ApiError::parameter("f", format!("f={value} is not offered; use f=json")));
                }
            }
            "limit" | "offset" => {}
            "bbox" => query.bbox = Some(parse_bbox(value)?),
            "bbox-crs" if value.ends_with("CRS84") || value.ends_with("4326") => {}
            _ => {
                let Some(field) = c.field(name).filter(|f| f.queryable) else {
                    let names: Vec<_> = c.queryables().map(|f| f.name).collect();
                    return Err(ApiError::parameter(
                        name,
                        format!(
                            "unknown query parameter '{name}' for {}; use bbox, limit, offset, f or a queryable: {}",
                            c.id,
                            names.join(", ")
                        ),
                    ));
                };
                let value = field.parse_filter(value).map_err(|e| ApiError::parameter(name, e))?;
                query.conditions.push(Condition::In { field: field.name.to_string(), values: vec![value] });
            }
        }
    }
    let limit = match parse_count(&params, "limit")? {
        Some(0) => {
            return Err(ApiError::parameter("limit", "limit=0: send a limit between 1 and 10000"));
        }
        Some(n) => n.min(MAX_LIMIT),
        None => DEFAULT_LIMIT,
    };
    let offset = parse_count(&params, "offset")?.unwrap_or(0);
    query.limit = Some(limit);
    query.offset = offset;

    let page = state.store.items(c, &query).await?;
    let returned = page.rows.len() as u64;
    let features = page.rows.into_iter().map(|r| feature_json(c, r)).collect::<Result<Vec<_>, _>>()?;

    // Paging links keep every other parameter as sent.
    let base = base_url(&state, &headers);
    let path = format!("/collections/{}/items", c.id);
    let mut links =
        paging_links(&base, &path, &params, Paging { limit, offset, returned, matched: page.number_matched });
    links.push(link(format!("{base}/collections/{}", c.id), "collection", "application/json", c.title));
    Ok(geojson_response(json!({
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": page.number_matched,
        "numberReturned": returned,
        "timeStamp": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "links": links,
    })))
}

pub async fn item(
    State(state): State<AppState>,
    Path((collection_id, feature_id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let c = find(&collection_id)?;
    if c.computed {
        return super::available::piece(&state, &feature_id, &uri).await;
    }
    Params::parse(&uri).only(&["f"])?;
    let row = state
        .store
        .item(c, &feature_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no feature '{feature_id}' in {}", c.id)))?;
    let base = base_url(&state, &headers);
    let mut feature = feature_json(c, row)?;
    feature["links"] = json!([
        link(format!("{base}/collections/{}/items/{feature_id}", c.id), "self", GEOJSON, "This feature"),
        link(format!("{base}/collections/{}", c.id), "collection", "application/json", c.title),
    ]);
    Ok(geojson_response(feature))
}
