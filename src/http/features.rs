//! OGC API - Features Part 1: landing page, conformance, collections, items and single features.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::access::public_only;
use super::params::Bbox;
use super::{ApiError, AppState, Params, base_url};
use crate::auth::Principal;
use crate::collections::{self, Collection};
use crate::crs::{CRS84_URI, Reprojector, ServedCrs};
use crate::export::{ExportFormat, ExportOptions};
use crate::store::filter::{self, Filter};
use crate::store::{Condition, FeatureRow, ItemsQuery, SortKey};
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
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
];

const GEOJSON: &str = "application/geo+json";

pub(crate) fn link(href: String, rel: &str, media_type: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": media_type, "title": title })
}

/// GeoJSON with its `Content-Crs` header (OGC API - Features Part 2: the CRS of its coordinates).
pub(crate) fn geojson_response(body: Value, crs: ServedCrs) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    response.headers_mut().insert("content-crs", content_crs(crs));
    response
}

/// The `Content-Crs` header value of coordinates in `crs`.
fn content_crs(crs: ServedCrs) -> HeaderValue {
    HeaderValue::from_str(&format!("<{}>", crs.uri())).expect("CRS URIs are ASCII")
}

/// The `crs=` of a request (default CRS84).
pub(crate) fn requested_crs(params: &Params) -> Result<ServedCrs, ApiError> {
    match params.get("crs") {
        None | Some("") => Ok(ServedCrs::Crs84),
        Some(text) => ServedCrs::parse(text).map_err(|e| ApiError::parameter("crs", format!("crs: {e}"))),
    }
}

/// The transformation from storage to `crs` (`None` for CRS84). Not `Send`: make it after the awaits.
pub(crate) fn reprojector(crs: ServedCrs) -> Result<Option<Reprojector>, ApiError> {
    match crs {
        ServedCrs::Crs84 => Ok(None),
        other => Reprojector::from_crs84(other).map(Some).map_err(ApiError::Internal),
    }
}

/// The `bbox=` of a request in CRS84: as sent, or converted from the CRS `bbox-crs=` names (in that
/// CRS's axis order, e.g. easting, northing for VN-2000 / TM-3; latitude first for EPSG:4326).
pub(crate) fn requested_bbox(params: &Params) -> Result<Option<[f64; 4]>, ApiError> {
    let Some(text) = params.get("bbox") else {
        return Ok(None);
    };
    let crs = match params.get("bbox-crs") {
        None | Some("") => ServedCrs::Crs84,
        Some(c) => {
            ServedCrs::parse(c).map_err(|e| ApiError::parameter("bbox-crs", format!("bbox-crs: {e}")))?
        }
    };
    if crs == ServedCrs::Crs84 {
        return Ok(params.value::<Bbox>("bbox")?.map(|b| b.0));
    }
    let sent = crate::spatial::parse_box(text).map_err(|why| {
        ApiError::parameter("bbox", format!("bbox={text}: {why}, in the axis order of {}", crs.uri()))
    })?;
    let converted = Reprojector::to_crs84(crs)
        .and_then(|r| r.bbox(sent))
        .map_err(|e| ApiError::parameter("bbox", format!("bbox={text} in {}: {e}", crs.uri())))?;
    Ok(Some(converted))
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
    params: Params,
) -> Result<Response, ApiError> {
    let html = params.json_or_html(&headers)?;
    let base = base_url(&state, &headers);
    let notice = demo::notice(&state.store).await?.map(|n| format!(" {n}")).unwrap_or_default();
    let doc = json!({
        "title": "landbank",
        "description": format!(
            "Land inside industrial zones: boundaries, land-use plans, plots, leases, site clearance and occupancy.{notice}"
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
    });
    match html {
        Some(lang) => super::html::page(
            super::html::Page {
                template: "landing.html",
                title: "landbank",
                doc: &doc,
                map: None,
                extra: json!({}),
            },
            &base,
            &params,
            lang,
        ),
        None => Ok(Json(doc).into_response()),
    }
}

pub async fn conformance(params: Params) -> Result<Json<Value>, ApiError> {
    params.only_json()?;
    Ok(Json(json!({ "conformsTo": CONFORMANCE })))
}

async fn collection_json(state: &AppState, base: &str, c: &'static Collection) -> Result<Value, ApiError> {
    // Available land lies inside the zones.
    let extent_of = if c.computed { &collections::ZONES } else { c };
    let bbox = state.store.extent(extent_of).await?.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    let crs = if c.spatial { ServedCrs::all_uris() } else { vec![CRS84_URI.to_string()] };
    Ok(json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": crs,
        "storageCrs": CRS84_URI,
        "extent": { "spatial": { "bbox": [bbox], "crs": CRS84_URI } },
        "links": [
            link(format!("{base}/collections/{}", c.id), "self", "application/json", c.title),
            link(format!("{base}/collections/{}/items", c.id), "items", GEOJSON, "Features"),
            link(format!("{base}/collections/{}/items?f=csv", c.id), "items", "text/csv; charset=utf-8", "Features as CSV (download)"),
            link(format!("{base}/collections/{}/items?f=gpkg", c.id), "items", "application/geopackage+sqlite3", "Features as GeoPackage (download)"),
            link(format!("{base}/collections/{}/queryables", c.id), "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json", "Queryable properties"),
        ]
    }))
}

pub async fn collections(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let html = params.json_or_html(&headers)?;
    let base = base_url(&state, &headers);
    let mut list = Vec::new();
    for c in collections::ALL.iter().filter(|c| c.published) {
        list.push(collection_json(&state, &base, c).await?);
    }
    let doc = json!({
        "links": [link(format!("{base}/collections"), "self", "application/json", "Collections")],
        "collections": list,
    });
    match html {
        Some(lang) => super::html::page(
            super::html::Page {
                template: "collections.html",
                title: "Collections",
                doc: &doc,
                map: None,
                extra: json!({}),
            },
            &base,
            &params,
            lang,
        ),
        None => Ok(Json(doc).into_response()),
    }
}

pub async fn collection(
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let html = params.json_or_html(&headers)?;
    let c = find(&collection_id)?;
    let base = base_url(&state, &headers);
    let doc = collection_json(&state, &base, c).await?;
    match html {
        Some(lang) => super::html::page(
            super::html::Page {
                template: "collection.html",
                title: c.title,
                doc: &doc,
                map: None,
                extra: json!({}),
            },
            &base,
            &params,
            lang,
        ),
        None => Ok(Json(doc).into_response()),
    }
}

pub async fn queryables(
    State(state): State<AppState>,
    Path(collection_id): Path<String>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    params.only_json()?;
    let c = find(&collection_id)?;
    let base = base_url(&state, &headers);
    let properties: Map<String, Value> =
        c.queryables().map(|f| (f.name.to_string(), c.schema_of(f))).collect();
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

/// A stored row as a GeoJSON feature: id, geometry (CRS84 to 7 decimals, or transformed by `crs` from
/// full precision), the collection's fields, `area_ha`.
pub fn feature_json(c: &Collection, row: FeatureRow, crs: Option<&Reprojector>) -> Result<Value, ApiError> {
    let geometry = match &row.geometry {
        Some(text) => {
            let mut g: Value = serde_json::from_str(text).map_err(|e| {
                ApiError::Internal(format!("stored geometry of {} '{}' is unreadable: {e}", c.id, row.id))
            })?;
            output_geometry(&mut g, crs)?;
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

/// A full-precision CRS84 geometry as served: transformed by `crs`, or rounded to 7 decimals.
pub(crate) fn output_geometry(g: &mut Value, crs: Option<&Reprojector>) -> Result<(), ApiError> {
    match crs {
        Some(r) => r.geometry(g).map_err(ApiError::Internal),
        None => {
            spatial::round_coordinates(g, COORDINATE_DECIMALS);
            Ok(())
        }
    }
}

/// `sortby=-area_ha,code` (OGC API - Features Part 3): fields anyone may read, `id` and `area_ha`, each
/// ascending or with `-` descending (`+` is ascending too).
fn sort_keys(c: &Collection, text: Option<&str>) -> Result<Vec<SortKey>, ApiError> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(Vec::new()) };
    let mut keys = Vec::new();
    for part in text.split(',').map(str::trim) {
        let (descending, name) = match part.as_bytes().first() {
            Some(b'-') => (true, &part[1..]),
            Some(b'+') => (false, &part[1..]),
            _ => (false, part),
        };
        let sortable = || c.filter_fields().map(|f| f.name).filter(|f| !c.is_computed(f));
        let field = sortable().find(|f| *f == name).ok_or_else(|| {
            let names: Vec<&str> = sortable().collect();
            ApiError::parameter(
                "sortby",
                format!("sortby: {} cannot be sorted on '{name}'; use {}", c.id, names.join(", ")),
            )
        })?;
        keys.push(SortKey { field, descending });
    }
    Ok(keys)
}

/// `properties=code,zone_code`: the properties each feature carries (Part 3); `None`: all of them.
fn requested_properties(c: &Collection, text: Option<&str>) -> Result<Option<Vec<&'static str>>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let computed: &[&'static str] = &["area_ha", "area_source", "source_crs", collections::LEASE_STATUS.name];
    let mut names = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let known = c.fields.iter().map(|f| f.name).chain(computed.iter().copied()).find(|f| *f == name);
        names.push(known.ok_or_else(|| {
            ApiError::parameter("properties", format!("properties: {} has no property '{name}'", c.id))
        })?);
    }
    Ok(Some(names))
}

/// One page of `query`, with the computed properties of `c` (a plot's `lease_status` on `at`) and the
/// `computed` conditions on them applied: those read every match, then page.
async fn rows_with_computed(
    state: &AppState,
    c: &'static Collection,
    query: &ItemsQuery,
    computed: &[Filter],
    at: crate::domain::Date,
) -> Result<crate::store::Page, ApiError> {
    if !c.is_computed(collections::LEASE_STATUS.name) {
        return Ok(state.store.items(c, query).await?);
    }
    let mut page = if computed.is_empty() {
        state.store.items(c, query).await?
    } else {
        state.store.items(c, &ItemsQuery { limit: None, offset: 0, ..query.clone() }).await?
    };
    let zones: std::collections::BTreeSet<String> = page
        .rows
        .iter()
        .filter_map(|r| r.properties.get("zone_code").and_then(Value::as_str).map(str::to_string))
        .collect();
    let states = crate::occupancy::plot_lease_states(&state.store, zones.into_iter().collect(), at).await?;
    for row in &mut page.rows {
        let text = |k: &str| row.properties.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let status = states.get(&(text("zone_code"), text("code"))).copied().unwrap_or("free");
        row.properties.insert(collections::LEASE_STATUS.name.into(), status.into());
    }
    if computed.is_empty() {
        return Ok(page);
    }
    page.rows.retain(|r| computed.iter().all(|f| f.eval(r, c.id) == Some(true)));
    let number_matched = page.rows.len() as u64;
    let limit = query.limit.map(|l| l as usize).unwrap_or(usize::MAX);
    page.rows = page.rows.into_iter().skip(query.offset as usize).take(limit).collect();
    Ok(crate::store::Page { rows: page.rows, number_matched })
}

/// `q=yen phong`: records whose text fields (code, name, developer, …) hold every word, whatever the
/// case and the Vietnamese tones (`Yên Phong`, `YEN PHONG`); `None` for no words.
pub(crate) fn text_search(c: &Collection, q: &str) -> Option<Filter> {
    use crate::store::filter::Fold;
    let fields: Vec<&'static collections::Field> = c
        .filter_fields()
        .filter(|f| f.kind == collections::FieldKind::Text && !c.is_computed(f.name))
        .collect();
    let words: Vec<Filter> = q
        .split_whitespace()
        .map(|word| {
            let escaped: String = word
                .chars()
                .flat_map(|ch| if matches!(ch, '%' | '_' | '\\') { vec!['\\', ch] } else { vec![ch] })
                .collect();
            Filter::Or(
                fields
                    .iter()
                    .map(|field| Filter::Like {
                        field,
                        pattern: format!("%{escaped}%"),
                        fold: Fold { case: true, accent: true },
                    })
                    .collect(),
            )
        })
        .collect();
    (!words.is_empty()).then_some(Filter::And(words))
}

/// `filter=` (with `filter-lang=` and `filter-crs=`) compiled against the collection's queryables.
pub(crate) fn requested_filter(c: &Collection, params: &Params) -> Result<Option<Filter>, ApiError> {
    let Some(text) = params.get("filter") else {
        for name in ["filter-lang", "filter-crs"] {
            if params.get(name).is_some() {
                return Err(ApiError::parameter(
                    name,
                    format!("{name} says how to read filter=, which is missing"),
                ));
            }
        }
        return Ok(None);
    };
    let lat_lon = match params.get("filter-crs") {
        None | Some("") => false,
        Some(text) => match ServedCrs::parse(text) {
            Ok(ServedCrs::Crs84) => false,
            Ok(ServedCrs::Epsg(4326)) => true,
            _ => {
                return Err(ApiError::parameter(
                    "filter-crs",
                    format!(
                        "filter-crs={text}: geometries in filters are read in {CRS84_URI} (the default) or http://www.opengis.net/def/crs/EPSG/0/4326"
                    ),
                ));
            }
        },
    };
    let lang = params.get("filter-lang").unwrap_or("cql2-text");
    filter::parse(c, text, lang, lat_lon).map(Some).map_err(|e| {
        let name = if e.0.starts_with("filter-lang") { "filter-lang" } else { "filter" };
        ApiError::parameter(name, e.0)
    })
}

pub async fn items(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    Path(collection_id): Path<String>,
    headers: HeaderMap,
    params: Params,
    uri: Uri,
) -> Result<Response, ApiError> {
    let c = find(&collection_id)?;
    if c.computed {
        return super::available::search(&state, &headers, &uri, &format!("/collections/{}/items", c.id))
            .await;
    }
    let mut query = ItemsQuery::default();
    // Conditions on computed properties (a plot's lease_status), decided once they are computed.
    let mut computed: Vec<Filter> = Vec::new();
    for (name, value) in params.iter() {
        match name {
            "limit" | "offset" | "bbox" | "bbox-crs" | "crs" | "f" | "datetime" | "sortby" | "properties"
            | "filter" | "filter-lang" | "filter-crs" | "lang" | "q" => {}
            "at" if c.is_computed(collections::LEASE_STATUS.name) => {}
            _ => {
                let Some(field) = c.queryables().find(|f| f.name == name) else {
                    let names: Vec<_> = c.queryables().map(|f| f.name).collect();
                    return Err(ApiError::parameter(
                        name,
                        format!(
                            "unknown query parameter '{name}' for {}; use bbox, bbox-crs, crs, datetime, limit, offset, sortby, properties, filter, filter-lang, filter-crs, q, f or a queryable: {}",
                            c.id,
                            names.join(", ")
                        ),
                    ));
                };
                let value = field.parse_filter(value).map_err(|e| ApiError::parameter(name, e))?;
                if c.is_computed(field.name) {
                    computed.push(Filter::In { field, values: vec![value] });
                } else {
                    query
                        .conditions
                        .push(Condition::In { field: field.name.to_string(), values: vec![value] });
                }
            }
        }
    }
    if let Some(filter) = requested_filter(c, &params)? {
        if c.is_computed(collections::LEASE_STATUS.name) && filter.mentions(collections::LEASE_STATUS.name) {
            computed.push(filter);
        } else {
            query.conditions.push(Condition::Filter(filter));
        }
    }
    if let Some(search) = params.get("q").and_then(|q| text_search(c, q)) {
        query.conditions.push(Condition::Filter(search));
    }
    let html = if super::html::wanted(&params, &headers) {
        Some(super::html::lang(&params, &headers)?)
    } else {
        None
    };
    let download = if html.is_some() { None } else { download_format(&params, &headers)? };
    let limit = params.limit(DEFAULT_LIMIT, if download.is_some() { u64::MAX } else { MAX_LIMIT })?;
    let offset = params.offset()?;
    // A download holds every match unless a limit is sent.
    query.limit = if download.is_some() && params.get("limit").is_none() { None } else { Some(limit) };
    query.offset = offset;
    query.bbox = requested_bbox(&params)?;
    query.recorded_at_us = params.recorded_at()?;
    query.sort = sort_keys(c, params.get("sortby"))?;
    let wanted = requested_properties(c, params.get("properties"))?;
    let crs = requested_crs(&params)?;
    let at = params.at()?;
    if let Some(format) = download {
        // The file leaves out the private columns for those who may not see them.
        let rows = rows_with_computed(&state, c, &query, &computed, at).await?.rows;
        return download_response(c, rows, format, crs, !who.sees_private()).await;
    }

    let page = rows_with_computed(&state, c, &query, &computed, at).await?;
    let reprojector = reprojector(crs)?;
    let returned = page.rows.len() as u64;
    let features = page
        .rows
        .into_iter()
        .map(|mut r| {
            public_only(c, &who, &mut r.properties);
            let mut feature = feature_json(c, r, reprojector.as_ref())?;
            if let (Some(wanted), Some(properties)) = (&wanted, feature["properties"].as_object_mut()) {
                properties.retain(|k, _| wanted.contains(&k.as_str()));
            }
            Ok::<_, ApiError>(feature)
        })
        .collect::<Result<Vec<_>, _>>()?;

    // Paging links keep every other parameter as sent.
    let base = base_url(&state, &headers);
    let path = format!("/collections/{}/items", c.id);
    let mut links =
        paging_links(&base, &path, &params, Paging { limit, offset, returned, matched: page.number_matched });
    links.push(link(format!("{base}/collections/{}", c.id), "collection", "application/json", c.title));
    let doc = json!({
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": page.number_matched,
        "numberReturned": returned,
        "timeStamp": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "links": links,
    });
    if let Some(lang) = html {
        // The table's columns: the properties the features carry, in the collection's order.
        let columns: Vec<&str> = c
            .fields
            .iter()
            .map(|f| f.name)
            .chain(["area_ha", collections::LEASE_STATUS.name])
            .filter(|name| {
                doc["features"]
                    .as_array()
                    .is_some_and(|fs| fs.iter().any(|f| f["properties"].get(*name).is_some()))
            })
            .collect();
        let map = (crs == ServedCrs::Crs84)
            .then(|| json!({ "type": "FeatureCollection", "features": doc["features"] }));
        let extra = json!({ "columns": columns, "collection": c.id });
        return super::html::page(
            super::html::Page { template: "items.html", title: c.title, doc: &doc, map, extra },
            &base,
            &params,
            lang,
        );
    }
    Ok(geojson_response(doc, crs))
}

/// Formats `items` also offers as a file download (`f=` or `Accept`); `None` is GeoJSON.
pub(super) fn download_format(
    params: &Params,
    headers: &HeaderMap,
) -> Result<Option<ExportFormat>, ApiError> {
    const OFFERED: &[ExportFormat] =
        &[ExportFormat::Csv, ExportFormat::Gpkg, ExportFormat::Fgb, ExportFormat::Kml];
    if let Some(f) = params.get("f") {
        if matches!(f, "json" | "geojson") {
            return Ok(None);
        }
        return OFFERED.iter().copied().find(|o| o.extension() == f).map(Some).ok_or_else(|| {
            ApiError::parameter(
                "f",
                format!("f={f} is not offered; use f=json (GeoJSON), csv, gpkg, fgb or kml"),
            )
        });
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("json") {
        return Ok(None);
    }
    Ok(OFFERED
        .iter()
        .copied()
        .find(|o| accept.contains(o.media_type().split(';').next().unwrap_or_default())))
}

/// `rows` as a file written by GDAL (the same writer as `landbank export`), in `crs`.
pub(super) async fn download_response(
    c: &'static Collection,
    rows: Vec<FeatureRow>,
    format: ExportFormat,
    crs: ServedCrs,
    public_only: bool,
) -> Result<Response, ApiError> {
    if let Some(reason) = crate::export::unfit(c, format, crs != ServedCrs::Crs84) {
        return Err(ApiError::parameter("f", reason));
    }
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = dir.path().join(format!("{}.{}", c.id, format.extension()));
        let options = ExportOptions {
            collection: c,
            format,
            out: out.clone(),
            srs: match crs {
                ServedCrs::Crs84 => None,
                ServedCrs::Epsg(code) => Some(format!("EPSG:{code}")),
            },
            at: None,
            query: ItemsQuery::default(),
            overwrite: false,
            public_only,
        };
        crate::export::write(c, &rows, &options).map_err(|e| e.to_string())?;
        std::fs::read(&out).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("download writer stopped: {e}")))?
    .map_err(ApiError::Internal)?;
    let mut response =
        super::attachment(bytes, format.media_type(), &format!("{}.{}", c.id, format.extension()));
    response.headers_mut().insert("content-crs", content_crs(crs));
    Ok(response)
}

pub async fn item(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    Path((collection_id, feature_id)): Path<(String, String)>,
    headers: HeaderMap,
    params: Params,
    uri: Uri,
) -> Result<Response, ApiError> {
    let c = find(&collection_id)?;
    if c.computed {
        return super::available::piece(&state, &feature_id, &uri).await;
    }
    params.only(&["f", "crs", "datetime", "lang"])?;
    let html = params.html_or_json(&headers)?;
    let crs = requested_crs(&params)?;
    let recorded_at = params.recorded_at()?;
    let not_found = || match recorded_at {
        Some(_) => ApiError::NotFound(format!("no feature '{feature_id}' in {} at that datetime", c.id)),
        None => ApiError::NotFound(format!("no feature '{feature_id}' in {}", c.id)),
    };
    let (mut row, version) = match recorded_at {
        Some(at) => {
            let query = ItemsQuery {
                conditions: vec![Condition::In {
                    field: "id".into(),
                    values: vec![collections::FilterValue::Text(feature_id.clone())],
                }],
                recorded_at_us: Some(at),
                ..Default::default()
            };
            (state.store.items(c, &query).await?.rows.into_iter().next().ok_or_else(not_found)?, None)
        }
        None => {
            let row = state.store.item(c, &feature_id).await?.ok_or_else(not_found)?;
            (row, state.store.current_version(c, &feature_id).await?)
        }
    };
    public_only(c, &who, &mut row.properties);
    let base = base_url(&state, &headers);
    let mut feature = feature_json(c, row, reprojector(crs)?.as_ref())?;
    feature["links"] = json!([
        link(format!("{base}/collections/{}/items/{feature_id}", c.id), "self", GEOJSON, "This feature"),
        link(format!("{base}/collections/{}", c.id), "collection", "application/json", c.title),
        link(
            format!("{base}/collections/{}/items/{feature_id}/history", c.id),
            "version-history",
            "application/json",
            "Versions"
        ),
    ]);
    if let Some(lang) = html {
        let map =
            (crs == ServedCrs::Crs84).then(|| json!({ "type": "FeatureCollection", "features": [feature] }));
        let title = format!("{} {feature_id}", c.title);
        let extra = json!({ "collection": c.id });
        return super::html::page(
            super::html::Page { template: "item.html", title: &title, doc: &feature, map, extra },
            &base,
            &params,
            lang,
        );
    }
    let mut response = geojson_response(feature, crs);
    if let Some(v) = version {
        response.headers_mut().insert(header::ETAG, super::edit::etag(v));
    }
    Ok(response)
}
