//! Editing (OGC API - Features Part 4), optimistic locking, history and as-of reads, the audit log, and
//! who may see and do what: on both stores, through the in-process router.

use landbank::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp, spawn_app, spawn_empty_app};

fn square(lon: f64, lat: f64, side: f64) -> Value {
    json!({ "type": "Polygon", "coordinates": [[
        [lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]
    ]] })
}

/// A plot in Quế Võ's service area, where no plot lies.
fn new_plot(code: &str, n: f64) -> Value {
    json!({ "type": "Feature", "geometry": square(106.1275 + 0.0006 * n, 21.1652, 0.0005),
            "properties": { "zone_code": "BN-QV1", "code": code } })
}

fn etag(reply: &Reply) -> String {
    reply.headers.get("etag").expect("an ETag").to_str().unwrap().to_string()
}

async fn leased_ha(app: &TestApp, at: &str, datetime: Option<&str>) -> (f64, f64) {
    let dt = datetime.map(|d| format!("&datetime={}", urlencode(d))).unwrap_or_default();
    let body = app.get(&format!("/occupancy?province_code=VN-56&at={at}{dt}")).await.json();
    (body["leased_ha"].as_f64().unwrap(), body["occupancy_pct"].as_f64().unwrap())
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn every_role_sees_and_does_what_it_may(backend: Backend) {
    let app = spawn_app(backend).await;
    let viewer = app.bearer(Role::Viewer, "investor desk").await;
    let planner = app.bearer(Role::Planner, "phong quy hoach").await;
    let admin = app.bearer(Role::Admin, "admin").await;
    let roles: [(&str, Option<&str>); 4] = [
        ("anonymous", None),
        ("viewer", Some(&viewer)),
        ("planner", Some(&planner)),
        ("admin", Some(&admin)),
    ];
    let auth = |token: Option<&str>| -> Vec<(&str, String)> {
        token.map(|t| vec![("authorization", t.to_string())]).unwrap_or_default()
    };
    let send = |method: &'static str,
                uri: String,
                token: Option<&str>,
                body: Option<Value>,
                extra: Vec<(&'static str, String)>| {
        let mut headers = auth(token);
        headers.extend(extra);
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.send(method, &uri, &headers, body.as_ref()).await
        }
    };

    // Reads: everyone; private fields only for planners and admins, absent (not null) for the others.
    let private = [
        ("clearance_parcels", "owner_name"),
        ("clearance_parcels", "compensation_vnd"),
        ("projects", "contact_phone"),
        ("projects", "contact_email"),
    ];
    for (role, token) in roles {
        let sees = matches!(role, "planner" | "admin");
        for (collection, field) in private {
            let r = send(
                "GET",
                format!("/collections/{collection}/items?zone_code=BN-QV1&limit=3"),
                token,
                None,
                vec![],
            )
            .await;
            assert_eq!(r.status, 200, "{role} {collection}: {}", r.text());
            for f in r.json()["features"].as_array().unwrap() {
                assert_eq!(
                    f["properties"].as_object().unwrap().contains_key(field),
                    sees,
                    "{role}: {collection}.{field}"
                );
            }
            let one = send(
                "GET",
                format!("/collections/{collection}/items?zone_code=BN-QV1&limit=1&f=csv"),
                token,
                None,
                vec![],
            )
            .await;
            assert_eq!(
                one.text().lines().next().unwrap().contains(field),
                sees,
                "{role}: CSV {collection}.{field}"
            );
        }
        let history = send(
            "GET",
            "/collections/clearance_parcels/items/BN-QV1-T10-100/history".into(),
            token,
            None,
            vec![],
        )
        .await;
        assert_eq!(history.status, 200, "{}", history.text());
        assert_eq!(
            history.json()["versions"][0]["properties"].as_object().unwrap().contains_key("owner_name"),
            sees,
            "{role} history"
        );
        for uri in [
            "/collections",
            "/occupancy?province_code=VN-56",
            "/available?limit=1",
            "/tiles/zones/10/813/451.mvt",
        ] {
            let r = send("GET", uri.into(), token, None, vec![]).await;
            assert!(r.status == 200 || r.status == 204, "{role} {uri}: {}", r.status);
        }
    }

    // Every GET route of the API document, every role: public routes answer everyone; the admin's
    // answer 401 without a token and 403 below admin.
    let doc = app.get("/api").await.json();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue; // writes only: below
        }
        let uri = crate::helpers::sample_uri(path);
        let admin_only = item["get"]["x-required-role"] == "admin";
        for (role, token) in roles {
            let r = send("GET", uri.clone(), token, None, vec![]).await;
            let expected = match (admin_only, role) {
                (false, _) | (true, "admin") => 200,
                (true, "anonymous") => 401,
                (true, _) => 403,
            };
            assert_eq!(r.status.as_u16(), expected, "{role} GET {uri}: {}", r.text());
        }
    }

    // Writes: planners and admins; 401 without a token, 403 for viewers, as problem+json.
    let expect = |role: &str, allowed: u16| match role {
        "anonymous" => 401,
        "viewer" => 403,
        _ => allowed,
    };
    for (n, (role, token)) in roles.iter().enumerate() {
        let code = format!("SV-{n}");
        let created =
            send("POST", "/collections/plots/items".into(), *token, Some(new_plot(&code, n as f64)), vec![])
                .await;
        assert_eq!(created.status.as_u16(), expect(role, 201), "{role} POST: {}", created.text());
        if created.status == 201 {
            assert_eq!(
                created.headers["location"],
                format!("http://landbank.test/collections/plots/items/BN-QV1-{code}")
            );
        } else {
            assert_eq!(created.content_type(), "application/problem+json");
        }
        let current = app.get("/collections/zones/items/BN-QV1").await;
        let patch = json!({ "properties": { "developer": format!("Developer set by {role}") } });
        let patched = send(
            "PATCH",
            "/collections/zones/items/BN-QV1".into(),
            *token,
            Some(patch),
            vec![("if-match", etag(&current))],
        )
        .await;
        assert_eq!(patched.status.as_u16(), expect(role, 200), "{role} PATCH: {}", patched.text());
        let plot = app.get("/collections/plots/items/BN-QV1-SV-2").await;
        if plot.status == 200 && matches!(*role, "anonymous" | "viewer" | "admin") {
            let deleted = send(
                "DELETE",
                "/collections/plots/items/BN-QV1-SV-2".into(),
                *token,
                None,
                vec![("if-match", etag(&plot))],
            )
            .await;
            assert_eq!(deleted.status.as_u16(), expect(role, 204), "{role} DELETE: {}", deleted.text());
        }
        for (method, uri) in [("GET", "/audit"), ("GET", "/tokens")] {
            let r = send(method, uri.into(), *token, None, vec![]).await;
            assert_eq!(
                r.status.as_u16(),
                if *role == "admin" { 200 } else { expect(role, 403) },
                "{role} {uri}"
            );
        }
        let minted = send(
            "POST",
            "/tokens".into(),
            *token,
            Some(json!({ "name": format!("by {role}"), "role": "viewer" })),
            vec![],
        )
        .await;
        assert_eq!(
            minted.status.as_u16(),
            if *role == "admin" { 201 } else { expect(role, 403) },
            "{role} POST /tokens"
        );
        if minted.status == 201 {
            // The minted token works, and stops working once the admin revokes it over HTTP.
            let body = minted.json();
            let bearer = format!("Bearer {}", body["token"].as_str().unwrap());
            assert_eq!(app.get_with("/collections", &[("authorization", bearer.as_str())]).await.status, 200);
            let uri = format!("/tokens/{}", body["token_id"].as_str().unwrap());
            let listed = send("GET", "/tokens".into(), *token, None, vec![]).await.text();
            assert!(listed.contains("by admin") && !listed.contains(body["token"].as_str().unwrap()));
            assert_eq!(send("DELETE", uri.clone(), *token, None, vec![]).await.status, 204);
            assert_eq!(send("DELETE", uri, *token, None, vec![]).await.status, 404, "already revoked");
            app.get_with("/collections", &[("authorization", bearer.as_str())]).await.problem(401);
        }
    }
    assert_eq!(
        app.get("/collections/zones/items/BN-QV1").await.json()["properties"]["developer"],
        "Developer set by admin"
    );
    assert_eq!(app.get("/collections/plots/items/BN-QV1-SV-2").await.status, 404, "the admin deleted it");

    // A token that is unknown, malformed or revoked is refused on every route.
    for bad in ["Bearer lb_00000000_nope", "Basic dXNlcjpwdw=="] {
        let r = app.get_with("/collections", &[("authorization", bad)]).await;
        assert!(r.problem(401).contains("token") || r.problem(401).contains("Bearer"));
        assert!(r.headers.contains_key("www-authenticate"));
    }
    assert!(app.store.revoke_token("investor desk").await.unwrap());
    let revoked = app.get_with("/collections", &[("authorization", viewer.as_str())]).await;
    assert!(revoked.problem(401).contains("revoked"));

    // The API document says which role each write needs.
    let doc = app.get("/api").await.json();
    let post = &doc["paths"]["/collections/plots/items"]["post"];
    assert_eq!(post["x-required-role"], "planner");
    assert!(post["security"].is_array());
    assert_eq!(doc["paths"]["/audit"]["get"]["x-required-role"], "admin");
}

async fn two_writers_racing_one_wins_and_nothing_is_lost(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.bearer(Role::Planner, "planner A").await;
    let b = app.bearer(Role::Planner, "planner B").await;
    let read = app.get("/collections/leases/items/BN-QV1-L037").await;
    let tag = etag(&read);
    assert_eq!(tag, "\"v1\"");
    let patch_a = json!({ "properties": { "signed_on": "2026-01-05" } });
    let patch_b = json!({ "properties": { "signed_on": "2026-02-07" } });
    let uri = "/collections/leases/items/BN-QV1-L037";
    let headers_a = [("authorization", a.as_str()), ("if-match", tag.as_str())];
    let headers_b = [("authorization", b.as_str()), ("if-match", tag.as_str())];
    let (ra, rb) = tokio::join!(
        app.send("PATCH", uri, &headers_a, Some(&patch_a)),
        app.send("PATCH", uri, &headers_b, Some(&patch_b)),
    );
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "A: {} B: {}", ra.text(), rb.text());
    let (winner, date) =
        if ra.status == 200 { ("planner A", "2026-01-05") } else { ("planner B", "2026-02-07") };
    let loser = if ra.status == 200 { &rb } else { &ra };
    assert!(loser.problem(412).contains("version 2"), "{}", loser.text());
    let now = app.get(uri).await;
    assert_eq!(now.json()["properties"]["signed_on"], date);
    assert_eq!(etag(&now), "\"v2\"");
    let history = app.get(&format!("{uri}/history")).await.json();
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "one change, not two");
    assert_eq!(versions[1]["actor"], winner);
    assert_eq!(versions[1]["changed"], json!(["signed_on"]));

    // The loser reads again and re-applies: nothing lost.
    let again = app
        .send(
            "PATCH",
            uri,
            &[("authorization", b.as_str()), ("if-match", etag(&now).as_str())],
            Some(&json!({ "properties": { "handed_over_on": "2026-03-01" } })),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text());
    let body = again.json();
    assert_eq!(body["properties"]["signed_on"], date);
    assert_eq!(body["properties"]["handed_over_on"], "2026-03-01");
    // Without If-Match: 428; with a made-up one: 412.
    let none = app.send("PATCH", uri, &[("authorization", b.as_str())], Some(&patch_b)).await;
    assert!(none.problem(428).contains("If-Match"));
    let stale = app.send("DELETE", uri, &[("authorization", b.as_str()), ("if-match", "\"v1\"")], None).await;
    stale.problem(412);
}

async fn edits_are_validated_like_imports(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "planner").await;
    let h = [("authorization", planner.as_str())];
    let post = |collection: &'static str, body: Value| {
        let app = &app;
        async move { app.send("POST", &format!("/collections/{collection}/items"), &h, Some(&body)).await }
    };
    let plot39 = app.get("/collections/plots/items/BN-QV1-CN-39").await.json();
    let plot39_ha = plot39["properties"]["area_ha"].as_f64().unwrap();
    let plot39 = plot39["geometry"].clone();
    let plot01 = app.get("/collections/plots/items/BN-QV1-CN-01").await.json()["geometry"].clone();
    let lease = |geometry: &Value, status: &str| {
        json!({ "type": "Feature", "geometry": geometry, "properties": {
            "zone_code": "BN-QV1", "project_id": "BN-QV1-P001", "status": status, "signed_on": "2026-11-01", "start_on": "2026-11-15" } })
    };

    // A new lease on the free plot CN-39: created, and it counts at once.
    let before = app.get("/zones/BN-QV1/occupancy?at=2026-12-01").await.json()["leased_ha"].as_f64().unwrap();
    let created = post("leases", lease(&plot39, "active")).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let after = app.get("/zones/BN-QV1/occupancy?at=2026-12-01").await.json()["leased_ha"].as_f64().unwrap();
    assert!((after - before - plot39_ha).abs() < 0.01, "{before} → {after}, plot {plot39_ha} ha");

    // Over CN-01's active lease: 409 naming it.
    let conflict = post("leases", lease(&plot01, "reserved")).await;
    assert!(conflict.problem(409).contains("BN-QV1-L001"), "{}", conflict.text());
    // On the road, not on leasable land: 422 naming the geometry.
    let road = post("leases", lease(&square(106.115, 21.15695, 0.0005), "reserved")).await;
    assert!(road.problem(422).contains("not leasable land"));
    assert_eq!(road.json()["field"], "geometry");
    // References must exist; vocabularies hold; geometry is valid and inside the zone.
    let mut unknown = lease(&plot39, "reserved");
    unknown["properties"]["project_id"] = json!("NO-SUCH");
    assert_eq!(post("leases", unknown).await.json()["field"], "project_id");
    // A required field left out is named as the field at fault, not just "properties".
    let mut no_code = new_plot("X-2", 0.0);
    no_code["properties"].as_object_mut().unwrap().remove("code");
    let r = post("plots", no_code).await;
    assert!(r.problem(422).contains("missing field `code`"), "{}", r.text());
    assert_eq!(r.json()["field"], "code");
    let mut bad_zone = new_plot("X-1", 0.0);
    bad_zone["properties"]["zone_code"] = json!("BN-NOPE");
    let r = post("plots", bad_zone).await;
    assert_eq!((r.status.as_u16(), r.json()["field"].clone()), (422, json!("zone_code")));
    let outside = json!({ "type": "Feature", "geometry": square(106.20, 21.20, 0.001), "properties": { "zone_code": "BN-QV1", "code": "FAR" } });
    assert!(post("plots", outside).await.problem(422).contains("outside zone BN-QV1"));
    let bowtie = json!({ "type": "Feature", "properties": { "zone_code": "BN-QV1", "code": "BT" }, "geometry": { "type": "Polygon",
        "coordinates": [[[106.1275, 21.166], [106.128, 21.1665], [106.128, 21.166], [106.1275, 21.1665], [106.1275, 21.166]]] } });
    assert_eq!(post("plots", bowtie).await.json()["field"], "geometry");
    let mut bad_status = lease(&plot39, "lost");
    bad_status["properties"]["status"] = json!("lost");
    assert!(post("leases", bad_status).await.problem(422).contains("status"));
    let overlapping_plot = json!({ "type": "Feature", "geometry": plot01, "properties": { "zone_code": "BN-QV1", "code": "DUP" } });
    assert!(post("plots", overlapping_plot).await.problem(409).contains("BN-QV1-CN-01"));
    assert!(
        post(
            "plots",
            json!({ "type": "Feature", "id": "BN-QV1-CN-01", "geometry": square(106.1275, 21.1652, 0.0005),
        "properties": { "zone_code": "BN-QV1", "code": "CN-01" } })
        )
        .await
        .problem(409)
        .contains("already exists")
    );
    // Status moves forward only.
    let active = app.get("/collections/leases/items/BN-QV1-L002").await;
    let back = app
        .send(
            "PATCH",
            "/collections/leases/items/BN-QV1-L002",
            &[h[0], ("if-match", etag(&active).as_str())],
            Some(&json!({ "properties": { "status": "reserved" } })),
        )
        .await;
    assert!(back.problem(422).contains("cannot become reserved"));
    let no_end = app
        .send(
            "PATCH",
            "/collections/leases/items/BN-QV1-L002",
            &[h[0], ("if-match", etag(&active).as_str())],
            Some(&json!({ "properties": { "status": "terminated", "end_on": null } })),
        )
        .await;
    assert_eq!(no_end.json()["field"], "end_on");
    let computed = app.send("POST", "/collections/available_land/items", &h, Some(&json!({}))).await;
    computed.problem(400);
}

async fn zone_figures(app: &TestApp, at: &str) -> Value {
    app.get(&format!("/zones/BN-QV1/occupancy?at={at}")).await.json()
}

async fn available_pieces(app: &TestApp) -> f64 {
    let body = app.get("/available?zone_code=BN-QV1&limit=1000").await.json();
    body["features"].as_array().unwrap().iter().map(|f| f["properties"]["area_ha"].as_f64().unwrap()).sum()
}

async fn a_revoked_lease_returns_its_land_to_available(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "planner").await;
    let today = landbank::http::today().to_string();
    let before = zone_figures(&app, &today).await;
    let pieces_before = available_pieces(&app).await;
    let lease = app.get("/collections/leases/items/BN-QV1-L005").await;
    let area = lease.json()["properties"]["area_ha"].as_f64().unwrap();
    let revoked = app
        .send(
            "PATCH",
            "/collections/leases/items/BN-QV1-L005",
            &[("authorization", planner.as_str()), ("if-match", etag(&lease).as_str())],
            Some(&json!({ "properties": { "status": "revoked", "end_on": today } })),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    let after = zone_figures(&app, &today).await;
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap();
    assert!((f(&before, "leased_ha") - f(&after, "leased_ha") - area).abs() < 0.01, "{before} → {after}");
    assert!((f(&after, "available_ha") - f(&before, "available_ha") - area).abs() < 0.01);
    let pieces_after = available_pieces(&app).await;
    assert!(
        (pieces_after - pieces_before - area).abs() < 0.05,
        "available land grows by the lease: {pieces_before} → {pieces_after}"
    );
    // The day before, it still held the land.
    let yesterday = (landbank::http::today() - chrono::Duration::days(1)).to_string();
    let then = app.get(&format!("/zones/BN-QV1/occupancy?at={yesterday}")).await.json();
    assert!((f(&then, "leased_ha") - f(&before, "leased_ha")).abs() < 0.01);
}

async fn history_and_as_of_reads_reconstruct_bac_ninh_after_edits(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "planner").await;
    let admin = app.bearer(Role::Admin, "admin").await;
    let (leased, pct) = leased_ha(&app, "2023-11-17", None).await;
    assert_eq!((leased, pct), (2481.57, 60.04));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let published = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    // Corrections after publication: a lease found to have ended in 2022, another deleted as a mistake.
    let l1 = app.get("/collections/leases/items/BN-QV1-L003").await;
    let r = app
        .send(
            "PATCH",
            "/collections/leases/items/BN-QV1-L003",
            &[("authorization", planner.as_str()), ("if-match", etag(&l1).as_str())],
            Some(&json!({ "properties": { "status": "terminated", "end_on": "2022-06-30" } })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let l2 = app.get("/collections/leases/items/BN-QV1-L004").await;
    let r = app
        .send(
            "DELETE",
            "/collections/leases/items/BN-QV1-L004",
            &[("authorization", planner.as_str()), ("if-match", etag(&l2).as_str())],
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let (now_leased, now_pct) = leased_ha(&app, "2023-11-17", None).await;
    assert!(
        now_leased < leased - 10.0 && now_pct < pct,
        "the corrections change 2023's figure: {now_leased}"
    );

    // As stored when the figure was published, 2023's occupancy is the published one again.
    assert_eq!(leased_ha(&app, "2023-11-17", Some(&published)).await, (2481.57, 60.04));
    // Items as of then hold the deleted lease, with its old status; the item itself too.
    let then = app
        .get(&format!(
            "/collections/leases/items?zone_code=BN-QV1&limit=100&datetime={}",
            urlencode(&published)
        ))
        .await
        .json();
    let ids: Vec<&str> =
        then["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"BN-QV1-L004") && ids.len() == 38, "{}", ids.len());
    let old = app
        .get(&format!("/collections/leases/items/BN-QV1-L003?datetime={}", urlencode(&published)))
        .await
        .json();
    assert_eq!(old["properties"]["status"], "active");
    let gone = app.get("/collections/leases/items/BN-QV1-L004").await;
    assert_eq!(gone.status, 404);
    let before_demo = app.get("/collections/leases/items?datetime=2000-01-01T00:00:00Z").await.json();
    assert_eq!(before_demo["numberMatched"], 0, "nothing was stored before the demo was loaded");

    // The deleted lease stays in history; the audit log has one entry per write, by actor and collection.
    let history = app.get("/collections/leases/items/BN-QV1-L004/history").await.json();
    let ops: Vec<&str> =
        history["versions"].as_array().unwrap().iter().map(|v| v["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["create", "delete"]);
    assert_eq!(history["versions"][0]["actor"], "demo");
    let audit = app.get_with("/audit?actor=planner", &[("authorization", admin.as_str())]).await.json();
    let changes: Vec<(String, String)> = audit["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["op"].as_str().unwrap().to_string(), c["id"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        changes,
        [("delete".to_string(), "BN-QV1-L004".to_string()), ("update".into(), "BN-QV1-L003".into())]
    );
    let by_collection =
        app.get_with("/audit?collection=zones&limit=5", &[("authorization", admin.as_str())]).await.json();
    let zone_changes = by_collection["changes"].as_array().unwrap();
    assert!(!zone_changes.is_empty(), "the demo's zones are in the audit log");
    assert!(zone_changes.iter().all(|c| c["collection"] == "zones"));
    let since = app
        .get_with(&format!("/audit?from={}", urlencode(&published)), &[("authorization", admin.as_str())])
        .await
        .json();
    assert_eq!(since["numberMatched"], 2);
}

/// `numberMatched` follows every write at once, for the whole collection and for a filter: counts
/// are kept per data version, never served after the data changed.
async fn the_count_of_matches_follows_every_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "planner").await;
    let h = [("authorization", planner.as_str())];
    // The third page is past the end: no rows to read the data version with, read on its own.
    let pages = [
        "/collections/plots/items?limit=1",
        "/collections/plots/items?zone_code=BN-QV1&limit=1",
        "/collections/plots/items?limit=1&offset=1000000",
    ];
    let matched = || async {
        let mut counts = Vec::new();
        for page in pages {
            // Twice: the second answer is the kept count.
            let first = app.get(page).await.json()["numberMatched"].as_u64().unwrap();
            let again = app.get(page).await.json()["numberMatched"].as_u64().unwrap();
            assert_eq!(first, again, "{page}");
            counts.push(first);
        }
        counts
    };
    let before = matched().await;
    assert!(before[0] > before[1] && before[1] > 0 && before[2] == before[0], "{before:?}");
    let created = app.send("POST", "/collections/plots/items", &h, Some(&new_plot("COUNT-1", 0.0))).await;
    assert_eq!(created.status, 201, "{}", created.text());
    // Past the end first, before any other page has read the new version.
    let past_end = app.get(pages[2]).await.json()["numberMatched"].as_u64();
    assert_eq!(past_end, Some(before[0] + 1), "past the end, after a plot was added");
    assert_eq!(matched().await, vec![before[0] + 1, before[1] + 1, before[0] + 1], "after a plot was added");
    let uri = "/collections/plots/items/BN-QV1-COUNT-1";
    let plot = app.get(uri).await;
    let deleted = app.send("DELETE", uri, &[h[0], ("if-match", etag(&plot).as_str())], None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    assert_eq!(matched().await, before, "after it was deleted");

    // On an empty install: nothing, then the first zone.
    let app = spawn_empty_app(backend).await;
    let planner = app.bearer(Role::Planner, "planner").await;
    let zones =
        || async { app.get("/collections/zones/items").await.json()["numberMatched"].as_u64().unwrap() };
    assert_eq!((zones().await, zones().await), (0, 0));
    let zone = json!({ "type": "Feature", "geometry": square(105.5, 21.0, 0.01), "properties": {
        "code": "Z-1", "name": "Z-1", "kind": "industrial_park", "province_code": "VN-56", "status": "operating" } });
    let created = app
        .send("POST", "/collections/zones/items", &[("authorization", planner.as_str())], Some(&zone))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!((zones().await, zones().await), (1, 1), "after the first zone");
}

/// The audit log's filters, alone and together, on an install with records of its own (not the demo):
/// each answer lists exactly the changes that match, newest first, counted and paged alike.
async fn the_audit_log_filters_by_actor_collection_and_time_alone_and_together(backend: Backend) {
    use landbank::collections::{self, Collection};
    use landbank::store::NewFeature;
    let app = spawn_empty_app(backend).await;
    let admin = app.bearer(Role::Admin, "admin").await;
    let zone = |code: &str, x: f64| {
        let square = json!([[[x, 21.0], [x + 0.01, 21.0], [x + 0.01, 21.01], [x, 21.01], [x, 21.0]]]);
        let text = json!({ "type": "FeatureCollection", "features": [{
            "type": "Feature", "id": code,
            "properties": { "code": code, "name": code, "kind": "industrial_park", "province_code": "VN-56", "status": "operating" },
            "geometry": { "type": "Polygon", "coordinates": square } }]});
        landbank::ingest::parse_feature_collection(
            &collections::ZONES,
            "zones.geojson",
            &text.to_string(),
            &std::collections::HashMap::new(),
        )
        .unwrap()
    };
    let write = |batch: Vec<(&'static Collection, Vec<NewFeature>)>, actor: &'static str| {
        let store = app.store.clone();
        async move { store.insert_by(&batch, actor).await.unwrap() }
    };
    // Two actors, two collections, two moments; the install's own history (the provinces that ship
    // with the schema) comes before `start`.
    let start = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    write(vec![(&collections::ZONES, zone("Z-A", 106.0))], "ban-ql").await;
    let land_use = json!({ "type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "Z-A-LU",
        "properties": { "zone_code": "Z-A", "province_code": "VN-56", "category": "industrial" },
        "geometry": { "type": "Polygon", "coordinates": [[[106.0, 21.0], [106.01, 21.0], [106.01, 21.01], [106.0, 21.01], [106.0, 21.0]]] } }]});
    let land_use = landbank::ingest::parse_feature_collection(
        &collections::LAND_USE,
        "land_use.geojson",
        &land_use.to_string(),
        &std::collections::HashMap::from([("Z-A".to_string(), "VN-56".to_string())]),
    )
    .unwrap();
    write(vec![(&collections::LAND_USE, land_use)], "import quy_hoach.shp").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let between = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    write(
        vec![(&collections::ZONES, zone("Z-B", 106.1)), (&collections::ZONES, zone("Z-C", 106.2))],
        "ban-ql",
    )
    .await;

    let audit = |query: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let reply = app.get_with(&format!("/audit?{query}"), &[("authorization", admin.as_str())]).await;
            assert_eq!(reply.status, 200, "{query}: {}", reply.text());
            let body = reply.json();
            let ids: Vec<String> = body["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect();
            (ids, body["numberMatched"].as_u64().unwrap())
        }
    };
    let encode = |t: &str| url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>();
    let (start, between) = (encode(&start), encode(&between));
    let cases: Vec<(String, Vec<&str>)> = vec![
        (format!("from={start}"), vec!["Z-C", "Z-B", "Z-A-LU", "Z-A"]),
        ("actor=ban-ql".into(), vec!["Z-C", "Z-B", "Z-A"]),
        ("collection=land_use".into(), vec!["Z-A-LU"]),
        ("actor=ban-ql&collection=land_use".into(), vec![]),
        (format!("from={start}&to={between}"), vec!["Z-A-LU", "Z-A"]),
        (format!("from={between}"), vec!["Z-C", "Z-B"]),
        (format!("actor=ban-ql&collection=zones&to={between}"), vec!["Z-A"]),
        ("actor=nobody".into(), vec![]),
    ];
    for (query, expected) in cases {
        let (ids, matched) = audit(query.clone()).await;
        assert_eq!(ids, expected, "{query}");
        assert_eq!(matched, expected.len() as u64, "{query}");
    }
    // Pages of one keep the count and walk the same order.
    let mut walked = Vec::new();
    for offset in 0..4 {
        let (ids, matched) = audit(format!("from={start}&limit=1&offset={offset}")).await;
        assert_eq!(matched, 4);
        walked.extend(ids);
    }
    assert_eq!(walked, ["Z-C", "Z-B", "Z-A-LU", "Z-A"]);
}

crate::contract!(
    every_role_sees_and_does_what_it_may,
    two_writers_racing_one_wins_and_nothing_is_lost,
    edits_are_validated_like_imports,
    the_count_of_matches_follows_every_write,
    a_revoked_lease_returns_its_land_to_available,
    history_and_as_of_reads_reconstruct_bac_ninh_after_edits,
    the_audit_log_filters_by_actor_collection_and_time_alone_and_together,
);

#[test]
fn tokens_are_never_stored_in_clear() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tokens.db");
    let bin = env!("CARGO_BIN_EXE_landbank");
    let out = Command::new(bin)
        .arg("--database")
        .arg(&db)
        .args(["token", "create", "--role", "planner", "--name", "Phòng Quy hoạch"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("lb_") && token.len() > 60, "{token}");
    // Neither the token nor its secret part is anywhere in the database files; its SHA-256 is.
    let secret = token.rsplit('_').next().unwrap();
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(token.as_bytes()) && !contains(secret.as_bytes()));
    assert!(contains(landbank::auth::hash(&token).as_bytes()));
    let list = Command::new(bin).arg("--database").arg(&db).args(["token", "list"]).output().unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(list.contains("planner") && list.contains("Phòng Quy hoạch") && !list.contains(secret), "{list}");
    let revoke = Command::new(bin)
        .arg("--database")
        .arg(&db)
        .args(["token", "revoke", "Phòng Quy hoạch"])
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let list = Command::new(bin).arg("--database").arg(&db).args(["token", "list"]).output().unwrap();
    assert!(!String::from_utf8(list.stdout).unwrap().contains(" - "), "revoked tokens show when");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_lets_configured_origins_read_and_write() {
    let app = spawn_app(Backend::Sqlite).await;
    let state = landbank::http::AppState {
        cors_origins: vec!["https://gis.bqlkcn.example.vn".into()],
        ..landbank::http::AppState::new(app.store.clone())
    };
    let dir = tempfile::tempdir().unwrap();
    let app =
        TestApp::from_parts(app.store.clone(), landbank::http::router(state), app.database.clone(), dir);
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.send(
                "OPTIONS",
                "/collections/leases/items/BN-QV1-L001",
                &[
                    ("origin", origin),
                    ("access-control-request-method", "PATCH"),
                    ("access-control-request-headers", "authorization,if-match"),
                ],
                None,
            )
            .await
        }
    };
    let allowed = preflight("https://gis.bqlkcn.example.vn").await;
    assert_eq!(allowed.headers["access-control-allow-origin"], "https://gis.bqlkcn.example.vn");
    let methods = allowed.headers["access-control-allow-methods"].to_str().unwrap().to_string();
    assert!(methods.contains("PATCH") && methods.contains("DELETE"), "{methods}");
    let headers = allowed.headers["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    assert!(headers.contains("if-match") && headers.contains("authorization"), "{headers}");
    let other = preflight("https://elsewhere.example.com").await;
    assert!(!other.headers.contains_key("access-control-allow-origin"));
    let read =
        app.get_with("/collections/zones/items/BN-QV1", &[("origin", "https://gis.bqlkcn.example.vn")]).await;
    let exposed = read.headers["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    assert!(exposed.contains("etag"), "{exposed}");
}
