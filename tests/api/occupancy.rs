//! Occupancy over HTTP: the demo's published figures, as-of dates, CSV, errors.

use crate::helpers::{Backend, spawn_app};

async fn the_demo_reproduces_bac_ninh_17_11_2023(backend: Backend) {
    let app = spawn_app(backend).await;
    for at in ["2023-11-17", ""] {
        let reply = app.get(&format!("/occupancy?province_code=VN-56&at={at}")).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let body = reply.json();
        assert_eq!(body["province_code"], "VN-56");
        assert_eq!(body["zones_total"], 16);
        assert_eq!(body["zones_established"], 15);
        assert_eq!(body["zones_operating"], 12);
        assert_eq!(body["planned_area_ha"], 6397.68);
        assert_eq!(body["established_area_ha"], 5946.99);
        assert_eq!(body["leasable_ha"], 4133.19);
        assert_eq!(body["leased_ha"], 2481.57);
        assert_eq!(body["occupancy_pct"], 60.04);
        assert_eq!(body["source"], "measured");
        assert_eq!(body["zones"].as_array().unwrap().len(), 16);
    }
}

async fn figures_follow_the_date(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = app.get("/occupancy?province_code=VN-56&at=1995-01-01").await.json();
    assert_eq!(before["leased_ha"], 0.0);
    assert_eq!(before["zones_established"], 0);
    let during = app.get("/occupancy?province_code=VN-56&at=2012-01-01").await.json();
    let leased = during["leased_ha"].as_f64().unwrap();
    assert!(leased > 0.0 && leased < 2481.57, "{leased}");
    assert!(during["zones_established"].as_u64().unwrap() < 15);
}

async fn zones_add_up_to_their_province_and_provinces_to_the_total(backend: Backend) {
    let app = spawn_app(backend).await;
    // The last day of the 63 provinces: the demo's six, under their own codes.
    let all = app.get("/occupancy?at=2025-06-30").await.json();
    let provinces = all["provinces"].as_array().unwrap();
    assert_eq!(provinces.len(), 6);
    let sum: f64 = provinces.iter().map(|p| p["leased_ha"].as_f64().unwrap()).sum();
    assert!((sum - all["leased_ha"].as_f64().unwrap()).abs() < 0.05);
    for zone in all["zones"].as_array().unwrap() {
        let parts = ["leased_ha", "reserved_ha", "available_ha"]
            .iter()
            .map(|k| zone[k].as_f64().unwrap())
            .sum::<f64>();
        assert!((parts - zone["leasable_ha"].as_f64().unwrap()).abs() <= 0.02, "{zone}");
    }
    // A zone with no land-use plan falls back to its declared industrial land, and says so.
    let declared =
        all["zones"].as_array().unwrap().iter().find(|z| z["source"] == "declared").expect("a declared zone");
    assert!(declared["leasable_ha"].as_f64().unwrap() > 0.0);
    let binh_thuan = provinces.iter().find(|p| p["province_code"] == "VN-40").unwrap();
    assert_eq!(binh_thuan["source"], "mixed");
}

async fn status_scope_changes_what_is_summed(backend: Backend) {
    let app = spawn_app(backend).await;
    let operating = app.get("/occupancy?province_code=VN-56&status=operating").await.json();
    assert!(operating["leasable_ha"].as_f64().unwrap() < 4133.19);
    assert_eq!(operating["zones_in_scope"], 12);
    let detail = app.get("/occupancy?status=open").await.problem(400);
    assert!(detail.contains("operating"), "{detail}");
}

async fn occupancy_as_csv(backend: Backend) {
    let app = spawn_app(backend).await;
    for (uri, headers) in [
        ("/occupancy?province_code=VN-56&f=csv", vec![]),
        ("/occupancy?province_code=VN-56", vec![("accept", "text/csv")]),
    ] {
        let reply = app.get_with(uri, &headers).await;
        assert_eq!(reply.status, 200);
        assert!(reply.content_type().starts_with("text/csv"));
        let mut reader = csv::Reader::from_reader(reply.body.as_slice());
        let header = reader.headers().unwrap().clone();
        for column in [
            "province_code",
            "zones_total",
            "zones_established",
            "zones_operating",
            "planned_area_ha",
            "established_area_ha",
            "leasable_ha",
            "leased_ha",
            "occupancy_pct",
            "source",
            "reserved_ha",
            "available_ha",
        ] {
            assert!(header.iter().any(|h| h == column), "{column} missing");
        }
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 17, "16 zones and the province");
        let province = rows.iter().find(|r| &r[0] == "province").unwrap();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(&province[col("leased_ha")], "2481.57");
        assert_eq!(&province[col("occupancy_pct")], "60.04");
        assert_eq!(&province[col("zones_total")], "16");
    }
    let detail = app.get("/occupancy?f=xml").await.problem(400);
    assert!(detail.contains("json, csv"));
}

async fn one_zone_as_json_and_csv(backend: Backend) {
    let app = spawn_app(backend).await;
    let zone = app.get("/zones/BN-QV1/occupancy?at=2023-11-17").await;
    assert_eq!(zone.status, 200);
    let body = zone.json();
    assert_eq!(body["zone_code"], "BN-QV1");
    for key in ["leasable_ha", "leased_ha", "reserved_ha", "available_ha", "occupancy_pct", "source"] {
        assert!(!body[key].is_null(), "{key} missing: {body}");
    }
    let csv = app.get("/zones/BN-QV1/occupancy?f=csv").await;
    assert_eq!(csv.text().lines().count(), 2);
    assert!(app.get("/zones/NOPE/occupancy").await.problem(404).contains("NOPE"));
}

async fn bad_dates_and_parameters_are_400_never_500(backend: Backend) {
    let app = spawn_app(backend).await;
    for bad in ["/occupancy?at=17/11/2023", "/occupancy?at=2023-02-30", "/zones/BN-QV1/occupancy?at=tomorrow"]
    {
        let reply = app.get(bad).await;
        assert!(reply.problem(400).contains("YYYY-MM-DD"), "{bad}");
        assert_eq!(reply.json()["parameter"], "at");
    }
    let reply = app.get("/occupancy?province=VN-56").await;
    assert!(reply.problem(400).contains("province_code"));
}

/// Province figures follow the geography of the date: 63 provinces until 30/06/2025, 34 from 01/07/2025.
async fn provinces_follow_the_2025_mergers(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    // The published figure of old Bắc Ninh stands.
    let old = app.get("/occupancy?province_code=VN-56&at=2023-11-17").await.json();
    assert_eq!(old["occupancy_pct"], 60.04);
    assert!(old.get("successor_code").is_none() && old.get("notice").is_none());

    // A zone of old Bắc Giang with declared land only, established in 2010 (the demo has two with plans).
    let planner = app.bearer(landbank::auth::Role::Planner, "desk").await;
    let zone = serde_json::json!({ "type": "Feature", "geometry": null, "properties": {
        "code": "BG-DH", "name": "Đình Trám", "kind": "industrial_park", "province_code": "VN-54",
        "status": "operating", "established_on": "2010-05-01", "operating_since": "2011-01-01",
        "declared_area_ha": 127.0, "declared_industrial_ha": 90.0 } });
    let r = app
        .send("POST", "/collections/zones/items", &[("authorization", planner.as_str())], Some(&zone))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());

    // Nationally, 2026 groups the zones under the 34 units: the demo's five provinces became five new units.
    let now = app.get("/occupancy?at=2026-01-01").await.json();
    let mut codes: Vec<&str> =
        now["provinces"].as_array().unwrap().iter().map(|p| p["province_code"].as_str().unwrap()).collect();
    codes.sort();
    assert_eq!(codes, ["VN2025-19", "VN2025-24", "VN2025-25", "VN2025-33", "VN2025-68"]);
    let before = app.get("/occupancy?at=2025-06-30").await.json();
    assert_eq!(before["provinces"].as_array().unwrap().len(), 6, "Bắc Giang beside the five");

    // The new Bắc Ninh is old Bắc Ninh plus Bắc Giang.
    let new_bn = app.get("/occupancy?province_code=VN2025-24&at=2026-01-01").await.json();
    let old_bn = app.get("/occupancy?province_code=VN-56&at=2026-01-01").await.json();
    let old_bg = app.get("/occupancy?province_code=VN-54&at=2026-01-01").await.json();
    assert_eq!(new_bn["province_name"], "Bắc Ninh");
    assert_eq!(
        new_bn["zones_total"],
        old_bn["zones_total"].as_u64().unwrap() + 3,
        "two demo zones and BG-DH"
    );
    for k in ["leasable_ha", "leased_ha", "planned_area_ha"] {
        assert!((f(&new_bn, k) - f(&old_bn, k) - f(&old_bg, k)).abs() < 0.02, "{k}");
    }
    assert_eq!(new_bn["source"], "mixed");
    // A province that ended answers with its figures and names what holds it now.
    assert_eq!(old_bn["successor_code"], "VN2025-24");
    assert!(old_bn["notice"].as_str().unwrap().contains("01/07/2025"), "{}", old_bn["notice"]);
    assert_eq!(
        old_bn["leased_ha"],
        app.get("/occupancy?province_code=VN-56&at=2025-06-30").await.json()["leased_ha"]
    );
    // Asked before it existed, a new unit covers its predecessors' territory, and says so.
    let early = app.get("/occupancy?province_code=VN2025-24&at=2023-11-17").await.json();
    assert!(
        (f(&early, "leased_ha")
            - 2481.57
            - f(&app.get("/occupancy?province_code=VN-54&at=2023-11-17").await.json(), "leased_ha"))
        .abs()
            < 0.01
    );
    assert!(early["notice"].as_str().unwrap().contains("formed on 01/07/2025"));
    // An unknown province is a 404 naming the ones there are.
    let unknown = app.get("/occupancy?province_code=VN-99&at=2026-01-01").await.problem(404);
    assert!(unknown.contains("VN2025-24 Bắc Ninh"), "{unknown}");
    let unknown = app.get("/occupancy?province_code=VN-99&at=2023-11-17").await.problem(404);
    assert!(unknown.contains("provinces on 17/11/2023") && unknown.contains("VN-54 Bắc Giang"), "{unknown}");

    // The reference geography: 86 units, 63 on 30/06/2025, 34 on 01/07/2025.
    let units = app.get("/collections/provinces/items?limit=200").await.json();
    assert_eq!(units["numberMatched"], 86);
    let on = |at: &str| {
        let app = &app;
        let at = at.to_string();
        async move { app.get(&format!("/reports/national?at={at}")).await.json()["provinces_on_date"].clone() }
    };
    assert_eq!(on("2025-06-30").await, 63);
    assert_eq!(on("2025-07-01").await, 34);
    let report = app.get("/reports/provinces/VN2025-24?at=2026-01-01").await.json();
    assert_eq!(report["province_name"], "Bắc Ninh");
    assert_eq!(report["land"]["zones_total"], new_bn["zones_total"]);
    // Available land of the new unit holds the old province's pieces, labelled with the new unit.
    let available = app.get("/available?province_code=VN2025-24&limit=1").await.json();
    assert_eq!(available["features"][0]["properties"]["province_code"], "VN2025-24");
    // A zone approved after its province ended is refused, naming the unit to use.
    let late = serde_json::json!({ "type": "Feature", "geometry": null, "properties": {
        "code": "BN-NEW", "name": "Mới", "kind": "industrial_park", "province_code": "VN-56",
        "status": "policy_approved", "policy_approved_on": "2026-02-01" } });
    let r = app
        .send("POST", "/collections/zones/items", &[("authorization", planner.as_str())], Some(&late))
        .await;
    assert!(r.problem(422).contains("VN2025-24"), "{}", r.text());
}

/// Each question asked through the cache and from scratch (`datetime=`) gives the same figures.
async fn same(app: &crate::helpers::TestApp, questions: &[&str], step: &str) {
    for q in questions {
        let kept = app.get(q).await.json();
        let fresh = app.get(&format!("{q}&datetime=2100-01-01T00:00:00Z")).await.json();
        for key in ["leasable_ha", "leased_ha", "reserved_ha", "available_ha", "occupancy_pct", "zones"] {
            assert_eq!(kept[key], fresh[key], "{step}: {q}: {key}");
        }
    }
}

/// Figures kept between requests are never stale: after each kind of write, every figure read through the
/// cache equals the same figure computed from scratch (`datetime=` reads the records afresh, uncached).
async fn kept_figures_equal_fresh_ones_after_every_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(landbank::auth::Role::Planner, "desk").await;
    let auth = [("authorization", planner.as_str())];
    let questions = [
        "/occupancy?province_code=VN-56&at=2026-12-01",
        "/occupancy?at=2026-12-01",
        "/occupancy?province_code=VN2025-24&at=2023-11-17",
        "/zones/BN-QV3/occupancy?at=2026-12-01",
    ];
    same(&app, &questions, "cold").await;
    same(&app, &questions, "warm").await;
    let before = app.get(questions[3]).await.json()["leased_ha"].as_f64().unwrap();

    // A new lease on free land of BN-QV3.
    let piece =
        app.get("/available?zone_code=BN-QV3&sortby=-area_ha&limit=1").await.json()["features"][0].clone();
    let lease = serde_json::json!({ "type": "Feature", "geometry": piece["geometry"], "properties": {
        "zone_code": "BN-QV3", "status": "active", "signed_on": "2026-10-01", "start_on": "2026-11-01" } });
    let created = app.send("POST", "/collections/leases/items", &auth, Some(&lease)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    same(&app, &questions, "after a new lease").await;
    let after = app.get(questions[3]).await.json()["leased_ha"].as_f64().unwrap();
    assert!(after > before + 0.5, "the new lease counts at once: {before} → {after}");

    // It ends; then it is deleted.
    let id = created.json()["id"].as_str().unwrap().to_string();
    let uri = format!("/collections/leases/items/{id}");
    let patch = serde_json::json!({ "properties": { "status": "terminated", "end_on": "2026-11-20" } });
    let r = app.send("PATCH", &uri, &[auth[0], ("if-match", "\"v1\"")], Some(&patch)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    same(&app, &questions, "after it ended").await;
    let r = app.send("DELETE", &uri, &[auth[0], ("if-match", "\"v2\"")], None).await;
    assert_eq!(r.status, 204, "{}", r.text());
    same(&app, &questions, "after it was deleted").await;
    assert_eq!(app.get(questions[3]).await.json()["leased_ha"].as_f64().unwrap(), before);
}

crate::contract!(
    kept_figures_equal_fresh_ones_after_every_write,
    provinces_follow_the_2025_mergers,
    the_demo_reproduces_bac_ninh_17_11_2023,
    figures_follow_the_date,
    zones_add_up_to_their_province_and_provinces_to_the_total,
    status_scope_changes_what_is_summed,
    occupancy_as_csv,
    one_zone_as_json_and_csv,
    bad_dates_and_parameters_are_400_never_500
);
