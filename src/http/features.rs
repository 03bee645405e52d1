//! OGC API - Features Part 1: landing page, conformance, collections, items and single features.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::access::public_only;
use super::geojson::{
    FeatureWriter, GEOJSON, Paging, download_format, download_response, etag, feature_json, geojson_response,
    geojson_text_response, link, paging_links, reprojector, requested_bbox, requested_crs, requested_filter,
    text_search,
};
use super::params::{DEFAULT_LIMIT, MAX_LIMIT};
use super::{ApiError, AppState, Params, base_url};
use crate::auth::Principal;
use crate::collections::{self, Collection};
use crate::crs::{CRS84_URI, ServedCrs};
use crate::demo;
use crate::store::filter::Filter;
use crate::store::{Condition, ItemsQuery, SortKey};

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
    let states = crate::occupancy::plot_lease_states(
        &state.store,
        &state.tiles.plot_states,
        page.rows.iter().map(|r| &r.properties),
        at,
    )
    .await?;
    for row in &mut page.rows {
        let status = states.status(&row.properties);
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

    // Paging links keep every other parameter as sent.
    let base = base_url(&state, &headers);
    let path = format!("/collections/{}/items", c.id);
    let links = |returned: u64, matched: u64| {
        let mut links = paging_links(&base, &path, &params, Paging { limit, offset, returned, matched });
        links.push(link(format!("{base}/collections/{}", c.id), "collection", "application/json", c.title));
        links
    };
    let time_stamp = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    if html.is_none() && crs == ServedCrs::Crs84 && computed.is_empty() {
        // The common case, written straight from the rows' text as the store wrote it.
        let page = state.store.items_json(c, &query).await?;
        let rows = page.parsed()?;
        // A plot's lease status on the date, from its zone's lease states.
        let lease_states = if c.is_computed(collections::LEASE_STATUS.name) {
            let plots: Vec<_> = rows.iter().map(|r| (r.text("zone_code"), r.text("code"))).collect();
            let zones = plots.iter().filter_map(|(zone, _)| zone.as_deref().map(str::to_string)).collect();
            let states = crate::occupancy::zone_lease_states(
                &state.store,
                &state.tiles.plot_states,
                zones,
                at,
                page.read_at,
            );
            Some((states.await?, plots))
        } else {
            None
        };
        let private = c.fields.iter().filter(|f| f.private && !who.sees_private()).map(|f| f.name);
        let hidden: Vec<&str> = private.collect();
        let keep = |k: &str| !hidden.contains(&k) && wanted.as_ref().is_none_or(|w| w.contains(&k));
        let mut writer = FeatureWriter::new();
        for (n, row) in rows.iter().enumerate() {
            let status = lease_states.as_ref().map(|(states, plots)| {
                let (zone, code) = &plots[n];
                states.status_of(zone.as_deref().unwrap_or_default(), code.as_deref().unwrap_or_default())
            });
            writer.feature(c, row, keep, status)?;
        }
        let returned = rows.len() as u64;
        let body = writer.finish(&[
            ("numberMatched", json!(page.number_matched)),
            ("numberReturned", json!(returned)),
            ("timeStamp", json!(time_stamp)),
            ("links", json!(links(returned, page.number_matched))),
        ])?;
        return Ok(geojson_text_response(body, crs));
    }
    let page = rows_with_computed(&state, c, &query, &computed, at).await?;
    let returned = page.rows.len() as u64;
    let links = links(returned, page.number_matched);
    let reprojector = reprojector(crs)?;
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

    let doc = json!({
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": page.number_matched,
        "numberReturned": returned,
        "timeStamp": time_stamp,
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
        None => state.store.item_versioned(c, &feature_id).await?.ok_or_else(not_found)?,
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
        response.headers_mut().insert(header::ETAG, etag(v));
    }
    Ok(response)
}
