//! The investment register: decisions on projects through the API and from a board's file, the checks
//! they must pass, the land a revocation takes back (on its date, never before), the watch list of
//! projects behind their commitments, and decisions counted in the board's report.

use landbank::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app, spawn_empty_app};
use crate::import::{landbank, text, write_geojson};

async fn post_event(app: &TestApp, token: &str, properties: Value) -> crate::helpers::Reply {
    let body = json!({ "type": "Feature", "geometry": null, "properties": properties });
    app.send("POST", "/collections/project_events/items", &[("authorization", token)], Some(&body)).await
}

async fn count(app: &TestApp, collection: &str) -> u64 {
    app.get(&format!("/collections/{collection}/items?limit=1")).await.json()["numberMatched"]
        .as_u64()
        .unwrap()
}

async fn zone_leased_ha(app: &TestApp, zone: &str, at: &str) -> f64 {
    app.get(&format!("/zones/{zone}/occupancy?at={at}")).await.json()["leased_ha"].as_f64().unwrap()
}

async fn bad_decisions_are_refused_naming_the_field_and_nothing_is_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "phong dau tu").await;
    let before = count(&app, "project_events").await;
    let cases = [
        (
            json!({ "project_id": "NO-SUCH", "kind": "adjusted", "decided_on": "2024-01-10", "capital_usd_change": 1e6 }),
            "project_id",
        ),
        // BN-QV1-P003 was certified on 2020-04-18.
        (
            json!({ "project_id": "BN-QV1-P003", "kind": "adjusted", "decided_on": "2019-01-10", "capital_usd_change": 1e6 }),
            "decided_on",
        ),
        // It holds USD 80 million, and 20 million more from 12/06/2023.
        (
            json!({ "project_id": "BN-QV1-P003", "kind": "adjusted", "decided_on": "2024-01-10", "capital_usd_change": -100_000_001.0 }),
            "capital_usd_change",
        ),
        (
            json!({ "project_id": "BN-QV1-P003", "kind": "adjusted", "decided_on": "2024-01-10", "capital_usd_change": "lots" }),
            "capital_usd_change",
        ),
        (json!({ "project_id": "BN-QV1-P003", "kind": "cancelled", "decided_on": "2024-01-10" }), "kind"),
        (json!({ "project_id": "BN-QV1-P003", "kind": "adjusted" }), "decided_on"),
    ];
    for (properties, field) in cases {
        let reply = post_event(&app, &planner, properties.clone()).await;
        assert_eq!(reply.status, 422, "{properties}: {}", reply.text());
        assert_eq!(reply.json()["field"], field, "{properties}: {}", reply.text());
    }
    // A revocation of a project that holds no land: nothing to take back.
    let landless = app.get("/collections/projects/items?limit=1000").await.json();
    let leases = app.get("/collections/leases/items?limit=10000").await.json();
    let with_land: std::collections::HashSet<&str> = leases["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["properties"]["project_id"].as_str())
        .collect();
    let project = landless["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| !with_land.contains(p["id"].as_str().unwrap()))
        .expect("a demo project without leases");
    let revoke = json!({ "project_id": project["id"], "kind": "revoked", "decided_on": "2026-01-10", "reason": "Không triển khai" });
    let reply = post_event(&app, &planner, revoke).await;
    assert!(reply.problem(422).contains("no land to take back"), "{}", reply.text());
    assert_eq!(count(&app, "project_events").await, before, "nothing written");
    // Viewers may read the register, not write it.
    let viewer = app.bearer(Role::Viewer, "investor desk").await;
    let ok = json!({ "project_id": "BN-QV1-P003", "kind": "adjusted", "decided_on": "2024-01-10", "sector": "Điện tử" });
    assert_eq!(post_event(&app, &viewer, ok.clone()).await.status, 403);
    let created = post_event(&app, &planner, ok).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.headers["location"].to_str().unwrap().rsplit('/').next().unwrap().to_string();
    let stored = app.get(&format!("/collections/project_events/items/{id}")).await.json();
    assert_eq!(stored["properties"]["zone_code"], "BN-QV1", "the zone follows the project");
    assert_eq!(stored["properties"]["province_code"], "VN-56", "the province follows the zone");
}

async fn a_revocation_takes_the_land_back_on_its_date_never_before(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "phong dau tu").await;
    let lease = app.get("/collections/leases/items/BN-QV1-L002").await.json();
    assert_eq!(lease["properties"]["status"], "active");
    let original_end = lease["properties"]["end_on"].clone();
    let lease_ha = lease["properties"]["area_ha"].as_f64().unwrap();
    let (day_before, day) = ("2026-11-30", "2026-12-01");
    let held_before = zone_leased_ha(&app, "BN-QV1", day_before).await;
    let held_on = zone_leased_ha(&app, "BN-QV1", day).await;
    let available_before = app.get(&format!("/available?zone_code=BN-QV1&at={day}")).await.json();
    let valid = |r: Value| r["projects"]["valid"].as_u64().unwrap();
    let valid_before = valid(app.get(&format!("/reports/provinces/VN2025-24?at={day}")).await.json());

    let revoke = json!({ "project_id": "BN-QV1-P002", "kind": "revoked", "decided_on": day,
        "decision_no": "1502/QĐ-BQL", "reason": "Chậm triển khai dự án quá 24 tháng" });
    let created = post_event(&app, &planner, revoke).await;
    assert_eq!(created.status, 201, "{}", created.text());

    // The lease ended on the decision's date, with a version of its own in history.
    let lease = app.get("/collections/leases/items/BN-QV1-L002").await.json();
    assert_eq!(
        (&lease["properties"]["status"], &lease["properties"]["end_on"]),
        (&json!("revoked"), &json!(day))
    );
    let history = app.get("/collections/leases/items/BN-QV1-L002/history").await.json();
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{history}");
    // Occupancy falls on that date, never before.
    assert!((zone_leased_ha(&app, "BN-QV1", day_before).await - held_before).abs() < 0.005);
    let after = zone_leased_ha(&app, "BN-QV1", day).await;
    assert!(
        (held_on - after - lease_ha).abs() < 0.01,
        "{held_on} - {after} should be the lease's {lease_ha} ha"
    );
    // The land is available again that day.
    let available_after = app.get(&format!("/available?zone_code=BN-QV1&at={day}")).await.json();
    let total = |b: &Value| {
        b["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["area_ha"].as_f64().unwrap())
            .sum::<f64>()
    };
    assert!(
        total(&available_after) > total(&available_before) + lease_ha * 0.9,
        "the lease's land is available"
    );
    // …marked as land taken back, with the project and the date, which investors can ask for (CQL2
    // filter) and download; not before the decision.
    let recovered: Vec<&Value> = available_after["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["recovered_from"].as_str().is_some_and(|p| p.contains("BN-QV1-P002")))
        .collect();
    assert!(!recovered.is_empty(), "{available_after}");
    assert!(recovered.iter().all(|f| f["properties"]["recovered_on"] == day));
    let before = available_before["features"].as_array().unwrap();
    assert!(!before.is_empty() && before.iter().all(|f| f["properties"]["recovered_from"].is_null()));
    let filter = "recovered_from%20LIKE%20'%25BN-QV1-P002%25'";
    let found = app.get(&format!("/available?zone_code=BN-QV1&at={day}&filter={filter}")).await.json();
    assert_eq!(found["features"].as_array().unwrap().len(), recovered.len(), "{found}");
    let csv = app.get(&format!("/available?zone_code=BN-QV1&at={day}&f=csv")).await.text();
    assert!(csv.lines().next().unwrap().contains("recovered_from") && csv.contains("BN-QV1-P002"), "{csv}");
    // The project is no longer valid from that day in the board's report.
    assert_eq!(
        valid(app.get(&format!("/reports/provinces/VN2025-24?at={day}")).await.json()),
        valid_before - 1
    );
    assert_eq!(
        valid(app.get(&format!("/reports/provinces/VN2025-24?at={day_before}")).await.json()),
        valid_before
    );
    // Correcting the revocation (its reason) is no new taking: accepted, the lease left as it is.
    let location = created.headers["location"].to_str().unwrap().to_string();
    let uri = crate::helpers::path_of(&location).to_string();
    let current = app.get(&uri).await;
    let etag = current.headers["etag"].to_str().unwrap().to_string();
    let patch = json!({ "properties": { "reason": "Không triển khai dự án sau 24 tháng" } });
    let corrected = app
        .send(
            "PATCH",
            &uri,
            &[("authorization", planner.as_str()), ("if-match", etag.as_str())],
            Some(&patch),
        )
        .await;
    assert_eq!(corrected.status, 200, "{}", corrected.text());
    let history = app.get("/collections/leases/items/BN-QV1-L002/history").await.json();
    assert_eq!(history["versions"].as_array().unwrap().len(), 2, "the lease was not written again");
    // Nothing follows a revocation.
    let late = json!({ "project_id": "BN-QV1-P002", "kind": "adjusted", "decided_on": "2027-01-05", "capital_usd_change": 1e6 });
    assert_eq!(post_event(&app, &planner, late).await.json()["field"], "kind");
    // Correcting its date moves the lease's end with it: held again until the new date.
    let etag = |reply: &crate::helpers::Reply| reply.headers["etag"].to_str().unwrap().to_string();
    let tag = etag(&app.get(&uri).await);
    let later = json!({ "properties": { "decided_on": "2026-12-15" } });
    let h = [("authorization", planner.as_str()), ("if-match", tag.as_str())];
    let moved = app.send("PATCH", &uri, &h, Some(&later)).await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    let lease = app.get("/collections/leases/items/BN-QV1-L002").await.json();
    assert_eq!(
        (&lease["properties"]["status"], &lease["properties"]["end_on"]),
        (&json!("revoked"), &json!("2026-12-15"))
    );
    assert!((zone_leased_ha(&app, "BN-QV1", day).await - held_on).abs() < 0.005, "held on {day} again");
    // Deleting the revocation gives the land back: the lease as it was, occupancy as before.
    let tag = etag(&app.get(&uri).await);
    let h = [("authorization", planner.as_str()), ("if-match", tag.as_str())];
    let deleted = app.send("DELETE", &uri, &h, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    let lease = app.get("/collections/leases/items/BN-QV1-L002").await.json();
    assert_eq!(
        (&lease["properties"]["status"], &lease["properties"]["end_on"]),
        (&json!("active"), &original_end)
    );
    assert!((zone_leased_ha(&app, "BN-QV1", "2026-12-20").await - held_on).abs() < 0.005);
    assert_eq!(valid(app.get(&format!("/reports/provinces/VN2025-24?at={day}")).await.json()), valid_before);
}

async fn the_watch_list_names_projects_behind_their_commitments(backend: Backend) {
    let app = spawn_app(backend).await;
    // The demo's BN-QV1-P038 committed to take its land by 30/06/2023 and operate by 31/12/2024.
    let body = app.get("/projects/behind?at=2025-06-30&province_code=VN-56").await.json();
    let late: Vec<&Value> =
        body["behind"].as_array().unwrap().iter().filter(|b| b["project_id"] == "BN-QV1-P038").collect();
    let milestones: Vec<&str> = late.iter().map(|b| b["milestone"].as_str().unwrap()).collect();
    assert_eq!(milestones, ["land_handover", "construction", "operation"], "{body}");
    assert_eq!(late[0]["days_late"], 731, "30/06/2023 to 30/06/2025");
    assert!(late[0]["leased_ha"].as_f64().unwrap() > 0.0, "its reserved land is at stake");
    // Before the first date nothing is late; a province without the project does not list it.
    let early = app.get("/projects/behind?at=2023-06-01&province_code=VN-56").await.json();
    assert!(early["behind"].as_array().unwrap().iter().all(|b| b["project_id"] != "BN-QV1-P038"));
    let other = app.get("/projects/behind?at=2025-06-30&province_code=VN-66").await.json();
    assert!(other["behind"].as_array().unwrap().iter().all(|b| b["province_code"] != "VN-56"));
    let csv = app.get("/projects/behind?at=2025-06-30&f=csv").await;
    assert!(csv.text().lines().next().unwrap().contains("days_late") && csv.text().contains("BN-QV1-P038"));
    assert_eq!(app.get("/projects/behind?province_code=VN-99").await.status, 400);
    // The board's report lists them too, in every format.
    let report = app.get("/reports/provinces/VN-56?at=2025-06-30").await.json();
    assert!(report["behind"].as_array().unwrap().iter().any(|b| b["project_id"] == "BN-QV1-P038"));
    let md = app.get("/reports/provinces/VN-56?at=2025-06-30&f=md").await.text();
    assert!(md.contains("Dự án chậm tiến độ") && md.contains("Nhận bàn giao đất"), "{md}");
}

/// The demo tells Bắc Ninh's 2023 as its board reported it (01/01–17/11/2023): 108 new FDI projects with
/// USD 927.89 million; 530 FDI adjustments, 106 of them changing capital by USD 555.22 million (97 up by
/// 577.12 million, 9 down by 21.9 million); 20 new DDI projects with VND 3,494.78 billion; 69 DDI
/// adjustments, 15 of them raising capital by VND 1,101.9 billion; about 35 projects into operation.
async fn the_report_counts_decisions_in_the_period_fdi_and_ddi_apart(backend: Backend) {
    let app = spawn_app(backend).await;
    let report = app.get("/reports/provinces/VN-56?at=2023-11-17").await.json();
    let period = &report["period"];
    let close = |v: &Value, expected: f64| (v.as_f64().unwrap() - expected).abs() < 0.5;
    assert_eq!((period["new_fdi"].as_u64(), period["new_ddi"].as_u64()), (Some(108), Some(20)), "{period}");
    assert!(close(&period["new_capital_usd"], 927.89e6), "{period}");
    assert!(close(&period["new_capital_vnd"], 3_494.78e9), "{period}");
    assert_eq!(period["into_operation"], 35, "{period}");
    let fdi = &period["fdi_decisions"];
    assert_eq!(
        (fdi["adjustments"].as_u64(), fdi["capital_changes"].as_u64()),
        (Some(530), Some(106)),
        "{fdi}"
    );
    assert_eq!((fdi["increases"].as_u64(), fdi["decreases"].as_u64()), (Some(97), Some(9)), "{fdi}");
    assert!(close(&fdi["increase_usd"], 577.12e6) && close(&fdi["decrease_usd"], 21.9e6), "{fdi}");
    let added = fdi["increase_usd"].as_f64().unwrap() - fdi["decrease_usd"].as_f64().unwrap();
    assert!((added - 555.22e6).abs() < 0.5, "net {added}");
    let ddi = &period["ddi_decisions"];
    assert_eq!((ddi["adjustments"].as_u64(), ddi["increases"].as_u64()), (Some(69), Some(15)), "{ddi}");
    assert!(close(&ddi["increase_vnd"], 1_101.9e9), "{ddi}");
    // A year without decisions counts none.
    let before = app.get("/reports/provinces/VN-56?at=2022-12-31").await.json();
    assert_eq!(before["period"]["fdi_decisions"]["adjustments"], 0);
    let html = app.get("/reports/provinces/VN-56?at=2023-11-17&f=html").await.text();
    assert!(html.contains("Lượt điều chỉnh (FDI)") && html.contains("530"), "the HTML report shows them");
}

/// Vĩnh Phúc on 30/09/2023, as its board reported: Khai Quang, Bình Xuyên, Bá Thiện II and Tam Dương II-A
/// were still clearing land (all of it cleared by the end of 2024).
async fn vinh_phuc_2023_still_clearing_four_zones(backend: Backend) {
    let app = spawn_app(backend).await;
    let progress = |report: &Value, zone: &str| {
        let line = report["zone_lines"].as_array().unwrap().iter().find(|l| l["zone_code"] == zone).cloned();
        line.unwrap_or_else(|| panic!("{zone} not in the report"))["clearance"]["progress_pct"]
            .as_f64()
            .unwrap()
    };
    let then = app.get("/reports/provinces/VN-70?at=2023-09-30").await.json();
    let later = app.get("/reports/provinces/VN-70?at=2024-12-31").await.json();
    for zone in ["VP-KQ", "VP-BX", "VP-BT2", "VP-TD2A"] {
        assert!(progress(&then, zone) < 100.0, "{zone} was still clearing on 30/09/2023");
        assert_eq!(progress(&later, zone), 100.0, "{zone} cleared by the end of 2024");
    }
}

/// Thái Nguyên on 30/11/2020, as its board reported: 236 valid projects (119 FDI, 117 DDI) with USD 8,438
/// million and VND 15,611 billion registered, and more than 98,000 workers.
async fn thai_nguyen_2020_as_its_board_reported(backend: Backend) {
    let app = spawn_app(backend).await;
    let report = app.get("/reports/provinces/VN-69?at=2020-11-30").await.json();
    let p = &report["projects"];
    assert_eq!(
        (p["valid"].as_u64(), p["valid_fdi"].as_u64(), p["valid_ddi"].as_u64()),
        (Some(236), Some(119), Some(117)),
        "{p}"
    );
    assert!((p["capital_usd"].as_f64().unwrap() - 8_438e6).abs() < 0.5, "{p}");
    assert!((p["capital_vnd"].as_f64().unwrap() - 15_611e9).abs() < 0.5, "{p}");
    let workers = p["employees"].as_i64().unwrap();
    assert!((98_000..99_000).contains(&workers), "more than 98,000 workers: {workers}");
}

/// Hưng Yên on 31/03/2022, as its board reported: 420 operating projects (240 FDI, 180 DDI), 86.4 % of
/// the valid ones, about 74,000 workers.
async fn hung_yen_2022_as_its_board_reported(backend: Backend) {
    let app = spawn_app(backend).await;
    let report = app.get("/reports/provinces/VN-66?at=2022-03-31").await.json();
    let p = &report["projects"];
    let operating = (p["operating"].as_u64(), p["operating_fdi"].as_u64(), p["operating_ddi"].as_u64());
    assert_eq!(operating, (Some(420), Some(240), Some(180)), "{p}");
    assert_eq!((p["operating_pct"].as_f64().unwrap() * 10.0).round() / 10.0, 86.4, "{p}");
    let workers = p["employees"].as_i64().unwrap();
    assert!((73_500..=74_500).contains(&workers), "about 74,000 workers: {workers}");
}

/// On an empty store, through the API only: a board's own zone, plan, projects and lease. Two decisions
/// sent at the same moment that are each fine alone but not together never both pass: two revocations of
/// one project, two decreases of a project outside any zone that would take its capital below zero.
async fn decisions_at_the_same_moment_on_a_store_of_its_own(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    let planner = app.bearer(Role::Planner, "ban quan ly").await;
    let h = [("authorization", planner.as_str())];
    let square = |lon: f64, lat: f64, side: f64| {
        json!({ "type": "Polygon", "coordinates": [[
        [lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]] })
    };
    let post = |collection: &'static str, id: &'static str, properties: Value, geometry: Value| {
        let body = json!({ "type": "Feature", "id": id, "properties": properties, "geometry": geometry });
        let app = &app;
        async move {
            let reply = app.send("POST", &format!("/collections/{collection}/items"), &h, Some(&body)).await;
            assert_eq!(reply.status, 201, "{collection} {id}: {}", reply.text());
        }
    };
    post("zones", "TS-1", json!({ "code": "TS-1", "name": "KCN Thử", "kind": "industrial_park", "province_code": "VN-56", "status": "operating", "established_on": "2010-01-01", "operating_since": "2012-01-01" }), square(106.30, 21.30, 0.02)).await;
    post(
        "land_use",
        "TS-1-CN",
        json!({ "zone_code": "TS-1", "category": "industrial" }),
        square(106.30, 21.30, 0.02),
    )
    .await;
    post("projects", "TS-1-P1", json!({ "tenant_name": "Công ty TNHH Thử", "origin": "fdi", "certificate_on": "2015-01-01", "capital_usd": 30e6, "zone_code": "TS-1" }), Value::Null).await;
    post("leases", "TS-1-L1", json!({ "project_id": "TS-1-P1", "zone_code": "TS-1", "status": "active", "signed_on": "2015-02-01", "start_on": "2015-03-01" }), square(106.301, 21.301, 0.005)).await;
    post("projects", "NO-ZONE-P", json!({ "tenant_name": "Công ty CP Ngoài KCN", "origin": "ddi", "certificate_on": "2018-01-01", "capital_vnd": 100e9, "province_code": "VN-56" }), Value::Null).await;
    assert!(zone_leased_ha(&app, "TS-1", "2024-12-31").await > 0.0);

    let revoke = |on: &str| json!({ "type": "Feature", "geometry": null, "properties": { "project_id": "TS-1-P1", "kind": "revoked", "decided_on": on } });
    let replies = app
        .race(
            "POST",
            "/collections/project_events/items",
            &h,
            vec![revoke("2025-01-01"), revoke("2025-01-02")],
        )
        .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "one revocation takes the land: {statuses:?}"
    );
    assert!(statuses.contains(&422), "{statuses:?}");
    assert_eq!(zone_leased_ha(&app, "TS-1", "2025-01-03").await, 0.0);
    let history = app.get("/collections/leases/items/TS-1-L1/history").await.json();
    assert_eq!(history["versions"].as_array().unwrap().len(), 2, "the lease was ended once: {history}");

    let decrease = json!({ "type": "Feature", "geometry": null, "properties": { "project_id": "NO-ZONE-P", "kind": "adjusted", "decided_on": "2024-05-01", "capital_vnd_change": -60e9 } });
    let replies =
        app.race("POST", "/collections/project_events/items", &h, vec![decrease.clone(), decrease]).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "capital never below zero: {statuses:?}");
    let refused = replies.iter().find(|r| r.status == 422).unwrap();
    assert_eq!(refused.json()["field"], "capital_vnd_change");
    // The watch list and the report work on this store as on the demo.
    assert_eq!(app.get("/projects/behind?at=2025-06-30").await.json()["behind"], json!([]));
    let report = app.get("/reports/provinces/VN-56?at=2025-06-30").await.json();
    assert_eq!(
        report["projects"]["valid"], 1,
        "the revoked project is no longer valid: {}",
        report["projects"]
    );
    assert_eq!(report["period"]["fdi_decisions"]["revocations"], 1);
}
crate::contract!(
    decisions_at_the_same_moment_on_a_store_of_its_own,
    hung_yen_2022_as_its_board_reported,
    thai_nguyen_2020_as_its_board_reported,
    vinh_phuc_2023_still_clearing_four_zones,
    bad_decisions_are_refused_naming_the_field_and_nothing_is_written,
    a_revocation_takes_the_land_back_on_its_date_never_before,
    the_watch_list_names_projects_behind_their_commitments,
    the_report_counts_decisions_in_the_period_fdi_and_ddi_apart,
);

/// A board's register file (one row per decision, Vietnamese words, day-first dates) goes in with the
/// same checks; a revocation in it ends the project's lease in the same transaction; a file with a bad
/// row writes nothing.
#[tokio::test]
async fn a_register_file_goes_in_with_the_same_checks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    assert!(landbank(&db, &["demo"]).status.success());
    // The board's register as a spreadsheet saved as CSV: its own column names, Vietnamese words,
    // day-first dates, no id column (rows are numbered).
    let file = dir.path().join("so-dang-ky.csv");
    std::fs::write(
        &file,
        "MA_DU_AN,LOAI,NGAY_QD,SO_QD,VON_USD,LY_DO\n\
         BN-QV1-P004,Điều chỉnh,15/01/2024,88/QĐ-BQL,12000000,\n\
         BN-QV1-P005,Thu hồi,01/03/2024,91/QĐ-BQL,,Vi phạm tiến độ\n",
    )
    .unwrap();
    let row = |id: &str, p: Value| json!({ "type": "Feature", "id": id, "geometry": null, "properties": p });
    let bad = dir.path().join("sai.geojson");
    write_geojson(
        &bad,
        vec![
            row(
                "DC-2",
                json!({ "project_id": "BN-QV1-P004", "kind": "Điều chỉnh", "decided_on": "15/02/2024", "capital_usd_change": 1000000.0 }),
            ),
            row(
                "DC-3",
                json!({ "project_id": "BN-QV1-P004", "kind": "Điều chỉnh", "decided_on": "15/01/2001", "capital_usd_change": 1000000.0 }),
            ),
        ],
    );
    let refused = landbank(&db, &["import", bad.to_str().unwrap(), "--collection", "project_events"]);
    assert!(!refused.status.success());
    let message = text(&refused);
    assert!(
        message.contains("DC-3") && message.contains("decided_on") && message.contains("certificate"),
        "{message}"
    );
    let stored = landbank::store::open(db.to_str().unwrap()).await.unwrap();
    assert!(
        stored.item(&landbank::collections::PROJECT_EVENTS, "DC-2").await.unwrap().is_none(),
        "nothing written"
    );
    stored.close().await;

    let imported = landbank(&db, &["import", file.to_str().unwrap(), "--collection", "project_events"]);
    assert!(imported.status.success(), "{}", text(&imported));
    let stored = landbank::store::open(db.to_str().unwrap()).await.unwrap();
    let event = stored.item(&landbank::collections::PROJECT_EVENTS, "so-dang-ky-2").await.unwrap().unwrap();
    let p = &event.properties;
    assert_eq!((&p["kind"], &p["decided_on"]), (&json!("revoked"), &json!("2024-03-01")));
    assert_eq!((&p["zone_code"], &p["decision_no"]), (&json!("BN-QV1"), &json!("91/QĐ-BQL")));
    let raise = stored.item(&landbank::collections::PROJECT_EVENTS, "so-dang-ky-1").await.unwrap().unwrap();
    let p = &raise.properties;
    assert_eq!((&p["kind"], &p["capital_usd_change"]), (&json!("adjusted"), &json!(12000000.0)));
    assert!(text(&imported).contains("1 lease ended by"), "{}", text(&imported));
    let lease = stored.item(&landbank::collections::LEASES, "BN-QV1-L005").await.unwrap().unwrap();
    assert_eq!(
        (&lease.properties["status"], &lease.properties["end_on"]),
        (&json!("revoked"), &json!("2024-03-01"))
    );
    stored.close().await;
    // The board corrects the revocation's date in its file and imports it again with --update: the
    // lease ends on the corrected date, not the first one.
    std::fs::write(
        &file,
        "MA_DU_AN,LOAI,NGAY_QD,SO_QD,VON_USD,LY_DO\n\
         BN-QV1-P004,Điều chỉnh,15/01/2024,88/QĐ-BQL,12000000,\n\
         BN-QV1-P005,Thu hồi,01/04/2024,91/QĐ-BQL,,Vi phạm tiến độ\n",
    )
    .unwrap();
    let corrected =
        landbank(&db, &["import", file.to_str().unwrap(), "--collection", "project_events", "--update"]);
    assert!(corrected.status.success(), "{}", text(&corrected));
    let stored = landbank::store::open(db.to_str().unwrap()).await.unwrap();
    let lease = stored.item(&landbank::collections::LEASES, "BN-QV1-L005").await.unwrap().unwrap();
    assert_eq!(
        (&lease.properties["status"], &lease.properties["end_on"]),
        (&json!("revoked"), &json!("2024-04-01"))
    );
    stored.close().await;
}

/// A project's timeline: what it is on a date (capital, land area, standing) and every decision up to
/// then with what it left; the same as CSV; an unknown project is a 404 problem.
#[tokio::test]
async fn a_project_timeline_follows_its_decisions() {
    let app = spawn_app(Backend::Sqlite).await;
    let planner = app.bearer(Role::Planner, "phong dau tu").await;
    // BN-QV1-P003: certified on 2020-04-18 with USD 80 million, 20 million more from 12/06/2023.
    let before = app.get("/projects/BN-QV1-P003/timeline?at=2023-01-01").await.json();
    assert_eq!(before["state"]["capital_usd"], 80e6, "{before}");
    assert!(
        before["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["decided_on"].as_str() <= Some("2023-01-01"))
    );
    let area = json!({ "project_id": "BN-QV1-P003", "kind": "adjusted", "decided_on": "2024-02-01", "decision_no": "77/QĐ-BQL", "land_ha": 12.5 });
    assert_eq!(post_event(&app, &planner, area).await.status, 201);
    let after = app.get("/projects/BN-QV1-P003/timeline?at=2024-06-30").await.json();
    assert_eq!(
        (&after["state"]["capital_usd"], &after["state"]["land_ha"]),
        (&json!(100e6), &json!(12.5)),
        "{after}"
    );
    let decisions = after["decisions"].as_array().unwrap();
    let raise = decisions.iter().find(|d| d["decision_no"] == "2136/QĐ-BQL").expect("the 2023 increase");
    assert_eq!((&raise["capital_usd_change"], &raise["after"]["capital_usd"]), (&json!(20e6), &json!(100e6)));
    assert!(after["leased_ha"].as_f64().unwrap() > 0.0, "{after}");
    let csv = app.get("/projects/BN-QV1-P003/timeline?at=2024-06-30&f=csv").await.text();
    assert!(
        csv.starts_with("decided_on,kind,decision_no")
            && csv.contains("2023-06-12,adjusted,2136/QĐ-BQL,20000000.0,,,,operating,100000000.0"),
        "{csv}"
    );
    assert!(app.get("/projects/NO-SUCH/timeline").await.problem(404).contains("NO-SUCH"));
    let bad = json!({ "project_id": "BN-QV1-P003", "kind": "adjusted", "decided_on": "2024-03-01", "land_ha": -3.0 });
    assert_eq!(post_event(&app, &planner, bad).await.json()["field"], "land_ha");
}
