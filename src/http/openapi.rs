//! The OpenAPI 3.0 document at `/api`, generated from the same collection descriptions the routes use.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::params::{self, At, AuditLimit, Bbox, Instant, ItemsLimit, Offset, RecordedAt, Statuses};
use super::{ApiError, AppState, Format, Params, base_url};
use crate::collections;

fn ok(description: &str, media_type: &str, schema: Value) -> Value {
    json!({
        "200": { "description": description, "content": { media_type: { "schema": schema } } },
        "400": { "$ref": "#/components/responses/Problem" },
        "503": { "$ref": "#/components/responses/Problem" },
    })
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema, "style": "form", "explode": false })
}

fn get(summary: &str, operation_id: &str, parameters: Vec<Value>, responses: Value) -> Value {
    json!({ "get": { "summary": summary, "operationId": operation_id, "parameters": parameters, "responses": responses } })
}

/// The parameters and schemas many paths share.
struct Shared {
    f_json: Value,
    f_html: Value,
    lang: Value,
    f_csv: Value,
    at: Value,
    status: Value,
    object: Value,
    crs: Value,
    bbox_crs: Value,
    f_download: Value,
}

impl Shared {
    fn new() -> Self {
        let f_json = query_param("f", "Response format", json!({ "type": "string", "enum": ["json"] }));
        // Resources also offered as HTML pages (or by a browser's Accept), in Vietnamese or English.
        let f_html = query_param(
            "f",
            "Response format: json, or html (a page with a map; also by a browser's Accept)",
            json!({ "type": "string", "enum": ["json", "html"] }),
        );
        let lang = query_param(
            "lang",
            "Language of the HTML page: vi (default) or en",
            json!({ "type": "string", "enum": ["vi", "en"] }),
        );
        let f_csv = Format::openapi(super::occupancy::FORMATS, "Response format (or Accept: text/csv)");
        let at = params::openapi::<At>("at");
        let status = params::openapi::<Statuses>("status");
        let object = json!({ "type": "object" });
        let crs_enum =
            json!({ "type": "string", "format": "uri", "enum": crate::crs::ServedCrs::all_uris() });
        let crs = query_param(
            "crs",
            "CRS of the coordinates in the response (OGC API - Features Part 2), e.g. \
             http://www.opengis.net/def/crs/EPSG/0/9209 for VN-2000 / TM-3 105°30′; default CRS84",
            crs_enum.clone(),
        );
        let bbox_crs =
            query_param("bbox-crs", "CRS of bbox, in that CRS's axis order (default CRS84)", crs_enum);
        let f_download = query_param(
            "f",
            "Response format: json (GeoJSON, paged), html (a page with a map), or a download of every match written by GDAL: csv (WKT), \
             gpkg (GeoPackage), fgb (FlatGeobuf), kml; also by Accept",
            json!({ "type": "string", "enum": ["json", "html", "csv", "gpkg", "fgb", "kml"] }),
        );
        Shared { f_json, f_html, lang, f_csv, at, status, object, crs, bbox_crs, f_download }
    }
}

/// Builds the document for a server at `base`.
pub fn build(base: &str) -> Value {
    let s = Shared::new();
    let mut paths = Map::new();
    landing_paths(&s, &mut paths);
    collection_paths(&s, &mut paths);
    occupancy_paths(&s, &mut paths);
    available_path(&s, &mut paths);
    admin_paths(&s, &mut paths);
    report_paths(&mut paths);
    health_paths(&mut paths);
    register_paths(&s, &mut paths);
    tile_paths(&s, &mut paths);
    // Every operation may meet a server-side failure (answered with an error id) or a lost database.
    for item in paths.values_mut() {
        for operation in item.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
            let responses = &mut operation["responses"];
            for status in ["500", "503"] {
                if responses.get(status).is_none() {
                    responses[status] = json!({ "$ref": "#/components/responses/Problem" });
                }
            }
        }
    }
    json!({
        "openapi": "3.0.3",
        "security": [{}, { "bearer": [] }],
        "info": {
            "title": "landbank",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Land inside industrial zones: OGC API - Features collections and occupancy figures.",
        },
        "servers": [{ "url": base }],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "landbank token create --role viewer|planner|admin" },
            },
            "responses": {
                "Problem": { "description": "What was wrong and where", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
            },
        },
    })
}

/// The landing page, conformance, the document itself and the collections' list.
fn landing_paths(s: &Shared, paths: &mut Map<String, Value>) {
    paths.insert(
        "/".into(),
        get(
            "Landing page",
            "getLandingPage",
            vec![s.f_html.clone(), s.lang.clone()],
            ok("Links to the API", "application/json", s.object.clone()),
        ),
    );
    paths.insert(
        "/conformance".into(),
        get(
            "Conformance classes",
            "getConformance",
            vec![s.f_json.clone()],
            ok("Conformance classes", "application/json", s.object.clone()),
        ),
    );
    paths.insert(
        "/api".into(),
        get(
            "This API definition",
            "getApi",
            vec![],
            ok("OpenAPI 3.0", "application/vnd.oai.openapi+json;version=3.0", s.object.clone()),
        ),
    );
    paths.insert(
        "/collections".into(),
        get(
            "Collections",
            "getCollections",
            vec![s.f_html.clone(), s.lang.clone()],
            ok("The collections", "application/json", s.object.clone()),
        ),
    );
}

/// Each published collection: its description, queryables, items (with writes where editable), one item and its history.
fn collection_paths(s: &Shared, paths: &mut Map<String, Value>) {
    for c in collections::ALL.iter().filter(|c| c.published) {
        let f_items = if c.computed { s.f_json.clone() } else { s.f_download.clone() };
        let datetime = params::openapi::<RecordedAt>("datetime");
        let mut params = vec![
            params::openapi::<Bbox>("bbox"),
            s.bbox_crs.clone(),
            s.crs.clone(),
            params::openapi::<ItemsLimit>("limit"),
            params::openapi::<Offset>("offset"),
            f_items,
        ];
        if !c.computed {
            params.push(datetime);
            params.push(query_param(
                "sortby",
                "Order of the features (OGC API - Features Part 3): fields, id or area_ha, comma separated, - for descending",
                json!({ "type": "array", "items": { "type": "string" } }),
            ));
            params.push(query_param(
                "properties",
                "The properties each feature carries, comma separated (default all)",
                json!({ "type": "array", "items": { "type": "string" } }),
            ));
            params.push(s.lang.clone());
            if c.is_computed(collections::LEASE_STATUS.name) {
                params.push(query_param(
                    "at",
                    "The date of the computed lease_status (default today)",
                    json!({ "type": "string", "format": "date" }),
                ));
            }
        }
        params.push(query_param(
            "q",
            "Words every matching record holds in its text fields (code, name, …), ignoring case and Vietnamese tones",
            json!({ "type": "string" }),
        ));
        {
            params.push(query_param(
                "filter",
                "A CQL2 filter on the queryables and the geometry (OGC API - Features Part 3), e.g. status = 'active' AND area_ha > 5",
                json!({ "type": "string" }),
            ));
            // `cql-text` is the draft's name, which GDAL's OAPIF driver looks for before sending filters.
            params.push(query_param(
                "filter-lang",
                "The language of filter: cql2-text (default) or cql2-json",
                json!({ "type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text" }),
            ));
            params.push(query_param(
                "filter-crs",
                "The CRS of geometries in filter: CRS84 (default) or EPSG:4326 (latitude first)",
                json!({ "type": "string", "format": "uri", "default": crate::crs::CRS84_URI }),
            ));
        }
        params
            .extend(c.equality_filters().map(|f| {
                query_param(f.name, &format!("Equality filter: {}", f.description), c.schema_of(f))
            }));
        let id = c.id;
        paths.insert(
            format!("/collections/{id}"),
            get(
                &format!("Metadata of {id}"),
                &format!("describe_{id}"),
                vec![s.f_html.clone(), s.lang.clone()],
                ok(c.title, "application/json", s.object.clone()),
            ),
        );
        paths.insert(
            format!("/collections/{id}/queryables"),
            get(
                &format!("Queryable properties of {id}"),
                &format!("queryables_{id}"),
                vec![s.f_json.clone()],
                ok("JSON Schema", "application/schema+json", s.object.clone()),
            ),
        );
        paths.insert(
            format!("/collections/{id}/items"),
            get(
                &format!("Features of {id}"),
                &format!("items_{id}"),
                params,
                ok(
                    c.description,
                    "application/geo+json",
                    json!({ "$ref": "#/components/schemas/FeatureCollection" }),
                ),
            ),
        );
        let mut one = get(
            &format!("One feature of {id}"),
            &format!("item_{id}"),
            vec![
                if c.computed { s.f_json.clone() } else { s.f_html.clone() },
                s.crs.clone(),
                json!({ "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" } }),
            ],
            ok("The feature", "application/geo+json", s.object.clone()),
        );
        one["get"]["responses"]["404"] = json!({ "$ref": "#/components/responses/Problem" });
        if !c.computed {
            one["get"]["parameters"].as_array_mut().expect("a list").push(s.lang.clone());
        }
        if crate::edit::editable(id).is_some() {
            let write = |summary: &str, op: &str, status: &str, body: bool| {
                let mut o = json!({
                    "summary": format!("{summary} (planner or admin token)"),
                    "operationId": format!("{op}_{id}"),
                    "security": [{ "bearer": [] }],
                    "x-required-role": "planner",
                    "responses": {
                        status: { "description": "Done; ETag is the new version" },
                        "401": { "$ref": "#/components/responses/Problem" },
                        "403": { "$ref": "#/components/responses/Problem" },
                        "404": { "$ref": "#/components/responses/Problem" },
                        "409": { "$ref": "#/components/responses/Problem" },
                        "413": { "$ref": "#/components/responses/Problem" },
                        "422": { "$ref": "#/components/responses/Problem" },
                    },
                });
                if op != "create" {
                    o["responses"]["412"] = json!({ "$ref": "#/components/responses/Problem" });
                    o["responses"]["428"] = json!({ "$ref": "#/components/responses/Problem" });
                }
                if op != "create" {
                    o["parameters"] = json!([
                        { "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" } },
                        { "name": "If-Match", "in": "header", "required": true, "description": "The ETag read (428 without it, 412 when stale)", "schema": { "type": "string" } },
                    ]);
                }
                if body {
                    let media =
                        if op == "update" { "application/merge-patch+json" } else { "application/geo+json" };
                    o["requestBody"] =
                        json!({ "required": true, "content": { media: { "schema": { "type": "object" } } } });
                }
                o
            };
            paths.get_mut(&format!("/collections/{id}/items")).expect("inserted above")["post"] =
                write("Create a feature", "create", "201", true);
            one["put"] = write("Replace a feature", "replace", "200", true);
            one["patch"] = write("Update a feature with a JSON merge patch", "update", "200", true);
            one["delete"] = write("Delete a feature (it stays in its history)", "delete", "204", false);
            paths.insert(
                format!("/collections/{id}/items/{{featureId}}/history"),
                get(
                    &format!("Versions of one feature of {id}: who, when, what changed"),
                    &format!("history_{id}"),
                    vec![json!({ "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" } }), s.f_json.clone()],
                    ok("The versions", "application/json", s.object.clone()),
                ),
            );
        }
        paths.insert(format!("/collections/{id}/items/{{featureId}}"), one);
    }
}

/// The occupancy figures: per zone, per province and in total, and one zone's.
fn occupancy_paths(s: &Shared, paths: &mut Map<String, Value>) {
    paths.insert(
        "/occupancy".into(),
        get(
            "Occupancy per zone, per province and in total",
            "getOccupancy",
            vec![
                query_param("province_code", "ISO 3166-2:VN province code, e.g. VN-56", json!({ "type": "string" })),
                query_param("zone_code", "Zone code", json!({ "type": "string" })),
                s.at.clone(),
                s.status.clone(),
                params::openapi::<RecordedAt>("datetime"),
                s.f_csv.clone(),
            ],
            json!({
                "200": { "description": "Figures; hectares summed before dividing", "content": { "application/json": { "schema": with_links("OccupancyReport") }, "text/csv": { "schema": { "type": "string" } } } },
                "400": { "$ref": "#/components/responses/Problem" },
                "503": { "$ref": "#/components/responses/Problem" },
            }),
        ),
    );
    // One zone's figures carry the date they are for.
    let mut zone_figures = with_links("ZoneFigures");
    zone_figures["allOf"][1]["required"] = json!(["links", "at"]);
    zone_figures["allOf"][1]["properties"]["at"] =
        json!({ "type": "string", "format": "date", "description": "The date of the figures" });
    let mut zone = get(
        "Occupancy of one zone",
        "getZoneOccupancy",
        vec![
            json!({ "name": "code", "in": "path", "required": true, "schema": { "type": "string" } }),
            s.at.clone(),
            s.status.clone(),
            params::openapi::<RecordedAt>("datetime"),
            s.f_csv.clone(),
        ],
        json!({
            "200": { "description": "Figures of the zone", "content": { "application/json": { "schema": zone_figures }, "text/csv": { "schema": { "type": "string" } } } },
            "400": { "$ref": "#/components/responses/Problem" },
            "404": { "$ref": "#/components/responses/Problem" },
        }),
    );
    zone["get"]["tags"] = json!(["occupancy"]);
    paths.insert("/zones/{code}/occupancy".into(), zone);
}

/// Available land for investors.
fn available_path(s: &Shared, paths: &mut Map<String, Value>) {
    let number = |name: &str, description: &str| {
        query_param(name, description, json!({ "type": "number", "minimum": 0 }))
    };
    let boolean =
        |name: &str, description: &str| query_param(name, description, json!({ "type": "boolean" }));
    paths.insert(
        "/available".into(),
        get(
            "Available land: leasable land minus active and reserved leases, in contiguous pieces",
            "getAvailable",
            vec![
                number("min_ha", "Smallest piece wanted, hectares"),
                number("max_ha", "Largest piece wanted, hectares"),
                query_param("province_code", "ISO 3166-2:VN province code", json!({ "type": "string" })),
                query_param("zone_code", "Zone code", json!({ "type": "string" })),
                boolean("ready", "Only pieces wholly cleared and with infrastructure ready"),
                boolean("cleared", "Only pieces wholly on handed-over clearance parcels"),
                boolean("wwtp", "Only zones whose central wastewater plant operates"),
                query_param(
                    "q",
                    "Words the piece's zone name or code holds, ignoring case and Vietnamese tones",
                    json!({ "type": "string" }),
                ),
                query_param(
                    "filter",
                    "A CQL2 filter on the pieces' properties and geometry (as on /collections/available_land/items)",
                    json!({ "type": "string" }),
                ),
                query_param(
                    "filter-lang",
                    "The language of filter: cql2-text (default) or cql2-json",
                    json!({ "type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text" }),
                ),
                query_param(
                    "near",
                    "LON,LAT: adds distance_km (geodesic) to each piece",
                    json!({ "type": "string" }),
                ),
                number("within_km", "With near: only pieces at most this far"),
                params::openapi::<Bbox>("bbox"),
                s.bbox_crs.clone(),
                s.crs.clone(),
                s.at.clone(),
                query_param(
                    "sortby",
                    "area_ha, -area_ha or distance_km (needs near)",
                    json!({ "type": "string", "enum": ["area_ha", "-area_ha", "distance_km"] }),
                ),
                params::openapi::<ItemsLimit>("limit"),
                params::openapi::<Offset>("offset"),
                query_param(
                    "zone_status",
                    "Zone statuses (on the date) whose land is offered, comma separated, or all; default established,operating",
                    json!({ "type": "array", "items": { "type": "string", "enum": ["planned", "policy_approved", "established", "operating", "suspended", "cancelled", "all"] } }),
                ),
                number(
                    "min_piece_ha",
                    "Pieces smaller than this are dropped and counted in dropped_ha (default 0.05)",
                ),
                s.f_json.clone(),
            ],
            ok(
                "Pieces as GeoJSON features, with dropped_ha",
                "application/geo+json",
                json!({ "$ref": "#/components/schemas/FeatureCollection" }),
            ),
        ),
    );
}

/// The audit trail and the tokens (admin).
fn admin_paths(s: &Shared, paths: &mut Map<String, Value>) {
    for (path, summary) in [
        ("/audit", "Every change, newest first (admin token)"),
        ("/tokens", "API tokens, never their secrets (admin token)"),
    ] {
        let mut params = vec![s.f_json.clone()];
        if path == "/audit" {
            for (name, what) in [("actor", "Who changed"), ("collection", "Which collection")] {
                params.push(query_param(name, what, json!({ "type": "string" })));
            }
            params.push(params::openapi::<Instant>("from"));
            params.push(params::openapi::<Instant>("to"));
            params.push(params::openapi::<AuditLimit>("limit"));
            params.push(params::openapi::<Offset>("offset"));
        }
        let mut item = get(summary, &path[1..], params, ok(summary, "application/json", s.object.clone()));
        item["get"]["security"] = json!([{ "bearer": [] }]);
        item["get"]["x-required-role"] = json!("admin");
        paths.insert(path.into(), item);
    }
    // Tokens: created and revoked by admins.
    let admin_only = |mut o: Value| {
        o["security"] = json!([{ "bearer": [] }]);
        o["x-required-role"] = json!("admin");
        o["responses"]["401"] = json!({ "$ref": "#/components/responses/Problem" });
        o["responses"]["403"] = json!({ "$ref": "#/components/responses/Problem" });
        o
    };
    paths.get_mut("/tokens").expect("inserted above")["post"] = admin_only(json!({
        "summary": "Create a token; its secret is in the answer, once (admin token)",
        "operationId": "createToken",
        "requestBody": { "required": true, "content": { "application/json": { "schema": {
            "type": "object", "required": ["name", "role"],
            "properties": { "name": { "type": "string" }, "role": { "type": "string", "enum": ["viewer", "planner", "admin"] } } } } } },
        "responses": {
            "201": { "description": "The token and its secret", "content": { "application/json": { "schema": { "type": "object" } } } },
            "400": { "$ref": "#/components/responses/Problem" },
            "422": { "$ref": "#/components/responses/Problem" },
        },
    }));
    paths.insert(
        "/tokens/{token_id}".into(),
        json!({ "delete": admin_only(json!({
            "summary": "Revoke a token by id or name (admin token)",
            "operationId": "revokeToken",
            "parameters": [{ "name": "token_id", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": {
                "204": { "description": "Revoked" },
                "404": { "$ref": "#/components/responses/Problem" },
            },
        })) }),
    );
}

/// The board's reports and their charts.
fn report_paths(paths: &mut Map<String, Value>) {
    let report_params = |extra: Vec<Value>| {
        let mut params = extra;
        params.push(query_param(
            "at",
            "Report date, YYYY-MM-DD (default today in Viet Nam); targets are those of its year",
            json!({ "type": "string", "format": "date" }),
        ));
        params.push(Format::openapi(
            super::reports::FORMATS,
            "Format (or send Accept: text/csv, text/markdown, text/html); docx, xlsx and pdf are files to \
             download (PDF needs Chromium on the server)",
        ));
        params.push(query_param(
            "lang",
            "Language of Markdown, HTML and charts",
            json!({ "type": "string", "enum": ["vi", "en"] }),
        ));
        params
    };
    let report_responses = json!({
        "200": { "description": "The report: zones by stage, land, clearance, projects, WWTP, occupancy by quarter, targets, regulatory checks", "content": {
            "application/json": { "schema": with_links("Report") },
            "text/csv": { "schema": { "type": "string" } },
            "text/markdown": { "schema": { "type": "string" } },
            "text/html": { "schema": { "type": "string" } },
        } },
        "400": { "$ref": "#/components/responses/Problem" },
        "404": { "$ref": "#/components/responses/Problem" },
    });
    let province_code = json!({ "name": "province_code", "in": "path", "required": true, "schema": { "type": "string" }, "description": "ISO 3166-2:VN, e.g. VN-66" });
    paths.insert(
        "/reports/provinces/{province_code}".into(),
        get(
            "The board's report for a province",
            "getProvinceReport",
            report_params(vec![province_code.clone()]),
            report_responses.clone(),
        ),
    );
    paths.insert(
        "/reports/national".into(),
        get(
            "The report summed over every province",
            "getNationalReport",
            report_params(vec![]),
            report_responses,
        ),
    );
    let chart = json!({ "name": "chart", "in": "path", "required": true, "schema": { "type": "string", "enum": ["occupancy-by-zone.svg", "occupancy-over-time.svg", "targets.svg"] } });
    let chart_params = |extra: Vec<Value>| {
        let mut params = extra;
        params.push(params::openapi::<At>("at"));
        params.push(query_param("lang", "Language", json!({ "type": "string", "enum": ["vi", "en"] })));
        params
    };
    let chart_ok = ok("The chart", "image/svg+xml", json!({ "type": "string" }));
    paths.insert(
        "/reports/provinces/{province_code}/charts/{chart}".into(),
        get(
            "A chart of the province's report (SVG)",
            "getProvinceReportChart",
            chart_params(vec![province_code, chart.clone()]),
            chart_ok.clone(),
        ),
    );
    paths.insert(
        "/reports/national/charts/{chart}".into(),
        get(
            "A chart of the national report (SVG)",
            "getNationalReportChart",
            chart_params(vec![chart]),
            chart_ok,
        ),
    );
}

/// The investment register's watch list.
fn register_paths(s: &Shared, paths: &mut Map<String, Value>) {
    paths.insert(
        "/projects/behind".into(),
        get(
            "Projects behind the commitments of their certificates (land handover, construction, operation), with the land their leases hold",
            "getProjectsBehind",
            vec![
                s.at.clone(),
                query_param("province_code", "ISO 3166-2:VN province code (its territory on any date)", json!({ "type": "string" })),
                query_param("zone_code", "Zone code", json!({ "type": "string" })),
                Format::openapi(super::projects::FORMATS, "Response format (or Accept: text/csv)"),
            ],
            ok("The watch list, latest first", "application/json", json!({ "type": "object", "properties": {
                "behind": { "type": "array", "items": { "$ref": "#/components/schemas/Behind" } },
                "leased_ha": { "type": "number", "description": "Hectares held by the projects behind (source: measured)" },
            } })),
        ),
    );
    paths.insert(
        "/projects/{id}/timeline".into(),
        get(
            "A project's register on a date: what it is then (standing, capital, land area, commitments), every decision up to then with what it left the project, and its leases",
            "getProjectTimeline",
            vec![
                json!({ "name": "id", "in": "path", "required": true, "description": "The project's id", "schema": { "type": "string" } }),
                s.at.clone(),
                Format::openapi(super::projects::FORMATS, "Response format (or Accept: text/csv: one line per decision)"),
            ],
            ok("The timeline", "application/json", json!({ "allOf": [{ "$ref": "#/components/schemas/Timeline" }] })),
        ),
    );
}

/// Liveness and readiness.
fn health_paths(paths: &mut Map<String, Value>) {
    paths.insert(
        "/healthz".into(),
        get("Liveness", "getHealth", vec![], ok("Alive", "application/json", json!({ "type": "object" }))),
    );
    paths.insert(
        "/readyz".into(),
        get(
            "Readiness: the store answers",
            "getReady",
            vec![],
            ok("Ready", "application/json", json!({ "type": "object" })),
        ),
    );
}

/// Vector tiles, TileJSON and the map page's settings.
fn tile_paths(s: &Shared, paths: &mut Map<String, Value>) {
    // Vector tiles.
    let tiled: Vec<&str> =
        collections::ALL.iter().filter(|c| c.published && c.spatial).map(|c| c.id).collect();
    let path_param =
        |name: &str, schema: Value| json!({ "name": name, "in": "path", "required": true, "schema": schema });
    let collection_param = |name: &str| path_param(name, json!({ "type": "string", "enum": tiled }));
    let int = json!({ "type": "integer", "minimum": 0 });
    let mvt = |summary: &str, id: &str, parameters: Vec<Value>| {
        let mut o = get(
            summary,
            id,
            parameters,
            json!({
                "200": { "description": "A Mapbox Vector Tile (spec 2.1), ETag of the data version and date", "content": { "application/vnd.mapbox-vector-tile": { "schema": { "type": "string", "format": "binary" } } } },
                "204": { "description": "No feature in the tile" },
                "304": { "description": "Not modified (If-None-Match)" },
                "400": { "$ref": "#/components/responses/Problem" },
                "404": { "$ref": "#/components/responses/Problem" },
                "503": { "$ref": "#/components/responses/Problem" },
            }),
        );
        o["get"]["tags"] = json!(["tiles"]);
        o
    };
    paths.insert(
        "/tiles/{collection}/{z}/{x}/{y}.mvt".into(),
        mvt(
            "A vector tile of a collection as of a date",
            "getTile",
            vec![
                collection_param("collection"),
                path_param("z", int.clone()),
                path_param("x", int.clone()),
                path_param("y", int.clone()),
                s.at.clone(),
            ],
        ),
    );
    paths.insert(
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}".into(),
        mvt(
            "A vector tile (OGC API - Tiles path, WebMercatorQuad)",
            "getCollectionTile",
            vec![
                collection_param("collectionId"),
                path_param("tileMatrixSetId", json!({ "type": "string", "enum": ["WebMercatorQuad"] })),
                path_param("tileMatrix", int.clone()),
                path_param("tileRow", int.clone()),
                path_param("tileCol", int.clone()),
                s.at.clone(),
            ],
        ),
    );
    paths.insert(
        "/tiles/{collection}.json".into(),
        get(
            "TileJSON 3.0 of a collection's tiles: URL, bounds, zooms, the fields tiles carry",
            "getTileJson",
            vec![collection_param("collection")],
            ok("TileJSON", "application/json", s.object.clone()),
        ),
    );
    paths.insert(
        "/maps/config.json".into(),
        get(
            "The map page's settings: basemap, and whether the store holds the demo",
            "getMapConfig",
            vec![],
            ok("Settings", "application/json", s.object.clone()),
        ),
    );
    paths.insert(
        "/metrics".into(),
        json!({ "get": {
            "summary": "Prometheus metrics: requests by route and status, latency, cache bytes, database pool",
            "operationId": "getMetrics",
            "parameters": [],
            "responses": { "200": { "description": "Prometheus text format 0.0.4", "content": { "text/plain": { "schema": { "type": "string" } } } } },
        } }),
    );
}

/// `#/components/schemas/{name}` with the `links` (and notes) every JSON answer adds.
fn with_links(name: &str) -> Value {
    json!({ "allOf": [
        { "$ref": format!("#/components/schemas/{name}") },
        { "type": "object", "required": ["links"], "properties": {
            "links": { "type": "array", "items": { "$ref": "#/components/schemas/Link" } },
            "note": { "type": "string", "description": "How the figures are computed" },
            "demo_notice": { "type": "string", "description": "Present over the demo dataset: its geometry is synthetic" },
        } },
    ] })
}

/// The schemas of the document: the GeoJSON and problem shapes, and the figures' own types (their
/// fields, units and descriptions come from the Rust types the handlers serialise, through schemars in
/// its OpenAPI 3.0 mode, as those types are serialised).
fn schemas() -> Value {
    use schemars::generate::{Contract, SchemaSettings};
    let mut settings = SchemaSettings::openapi3();
    settings.contract = Contract::Serialize;
    let mut generator = settings.into_generator();
    generator.subschema_for::<crate::occupancy::OccupancyReport>();
    generator.subschema_for::<crate::occupancy::ZoneFigures>();
    generator.subschema_for::<crate::report::Report>();
    generator.subschema_for::<crate::register::Behind>();
    generator.subschema_for::<crate::register::Timeline>();
    let mut schemas = generator.take_definitions(true);
    let fixed = json!({
                "FeatureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": { "type": "string", "enum": ["FeatureCollection"] },
                        "features": { "type": "array", "items": { "type": "object" } },
                        "numberMatched": { "type": "integer" },
                        "numberReturned": { "type": "integer" },
                        "timeStamp": { "type": "string", "format": "date-time" },
                        "links": { "type": "array", "items": { "type": "object" } },
                    },
                },
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                        "detail": { "type": "string" }, "parameter": { "type": "string" },
                    },
                },
                "Link": {
                    "type": "object",
                    "required": ["href", "rel"],
                    "properties": {
                        "href": { "type": "string", "format": "uri" }, "rel": { "type": "string" },
                        "type": { "type": "string" }, "title": { "type": "string" },
                    },
                },
    });
    if let Value::Object(fixed) = fixed {
        schemas.extend(fixed);
    }
    Value::Object(schemas)
}

pub async fn document(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    params.only_json()?;
    let mut response = Json(build(&base_url(&state, &headers))).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.oai.openapi+json;version=3.0"),
    );
    Ok(response)
}
