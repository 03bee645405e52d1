//! Plan targets for a year, a quarter or several years, ranges, FDI or DDI alone, capital converted at
//! the plan's rate; the enterprises' results (capital realised, revenue, exports, budget); both in the
//! board's report, on the demo (the seeds' figures) and on a store of their own, through the API and
//! from a board's file.

use landbank::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_app, spawn_empty_app};
use crate::import::{landbank, text};

/// The lines of a report's targets with this metric (and origin, and period, when given).
fn lines<'a>(report: &'a Value, metric: &str) -> Vec<&'a Value> {
    report["targets"]["lines"].as_array().unwrap().iter().filter(|l| l["metric"] == metric).collect()
}

fn line<'a>(report: &'a Value, metric: &str, origin: Option<&str>) -> &'a Value {
    lines(report, metric)
        .into_iter()
        .find(|l| l["origin"].as_str() == origin)
        .unwrap_or_else(|| panic!("no target line {metric} {origin:?}: {}", report["targets"]))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Hưng Yên's first quarter of 2022 as its board counted it: 3 new domestic projects with VND 345
/// billion, 12 capital increases adding USD 112 million and VND 410 billion; "about USD 145 million" new
/// and added, 32 % of the year's USD 450 million. The VND is converted at the plan's rate (23,000).
async fn hung_yen_q1_2022_capital_as_its_board_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let report = app.get("/reports/provinces/VN-66?at=2022-03-31").await.json();
    let period = &report["period"];
    assert_eq!((period["new_fdi"].as_u64(), period["new_ddi"].as_u64()), (Some(0), Some(3)), "{period}");
    assert_eq!(f(&period["new_capital_vnd"]), 345e9, "{period}");
    let (fdi, ddi) = (&period["fdi_decisions"], &period["ddi_decisions"]);
    assert_eq!(fdi["increases"].as_u64().unwrap() + ddi["increases"].as_u64().unwrap(), 12, "{period}");
    assert_eq!(f(&fdi["increase_usd"]) + f(&ddi["increase_usd"]), 112e6);
    assert_eq!(f(&fdi["increase_vnd"]) + f(&ddi["increase_vnd"]), 410e9);
    let capital = line(&report, "capital_attracted_usd", None);
    assert_eq!((f(&capital["target"]), f(&capital["vnd_per_usd"])), (450e6, 23_000.0), "{capital}");
    let expected = 112e6 + (345e9 + 410e9) / 23_000.0;
    assert!((f(&capital["actual"]) - expected).abs() < 0.01, "{capital}");
    assert!((f(&capital["actual"]) - 145e6).abs() < 0.5e6, "about USD 145 million: {capital}");
    assert_eq!(f(&capital["pct"]).round(), 32.0, "{capital}");
    assert_eq!(capital["status"], "below");
    let md = app.get("/reports/provinces/VN-66?at=2022-03-31&f=md").await.text();
    assert!(md.contains("quy đổi 23.000 VND/USD") && md.contains("144,83 triệu USD"), "{md}");
}

/// Thái Nguyên on 30/11/2020: "Doanh thu của các doanh nghiệp trong KCN hàng năm đạt gần 31 tỷ USD và
/// gần 8.900 tỷ đồng" — the last full year's (2019) declared revenue.
async fn thai_nguyen_revenue_as_its_board_reported(backend: Backend) {
    let app = spawn_app(backend).await;
    let report = app.get("/reports/provinces/VN-69?at=2020-11-30").await.json();
    let last_year = &report["results"][0];
    assert_eq!((&last_year["label"], &last_year["from"]), (&json!("2019"), &json!("2019-01-01")));
    let all = &last_year["all"];
    assert!((30.5e9..31e9).contains(&f(&all["revenue_usd"])), "nearly USD 31 billion: {all}");
    assert!((8_800e9..8_900e9).contains(&f(&all["revenue_vnd"])), "nearly VND 8,900 billion: {all}");
    assert_eq!(
        f(&last_year["fdi"]["revenue_usd"]),
        f(&all["revenue_usd"]),
        "USD revenue is the FDI projects'"
    );
    assert!(all["projects_reporting"].as_u64().unwrap() > 50, "{all}");
    // Figures exist once their year is over: the year so far has none yet.
    assert_eq!(report["results"][1]["all"]["projects_reporting"], 0);
    let html = app.get("/reports/provinces/VN-69?at=2020-11-30&f=html").await.text();
    assert!(html.contains("Kết quả sản xuất kinh doanh") && html.contains("30.900 triệu USD"), "{html}");
    let csv = app.get("/reports/provinces/VN-69?at=2020-11-30&f=csv").await.text();
    assert!(csv.contains("results,VN-69,,20190101_all_revenue_usd,30900000000.00,USD"), "{csv}");
}

/// Vĩnh Phúc's plan for the last quarter of 2023 (ranges, FDI and DDI apart) and Bắc Ninh's goals for
/// 2025 (levels read on the report date); a target whose period has not begun is not in the report.
async fn targets_for_a_quarter_several_years_and_ranges(backend: Backend) {
    let app = spawn_app(backend).await;
    let september = app.get("/reports/provinces/VN-70?at=2023-09-30").await.json();
    assert!(lines(&september, "projects_attracted").is_empty(), "the fourth quarter had not begun");
    let report = app.get("/reports/provinces/VN-70?at=2023-12-31").await.json();
    let fdi = line(&report, "projects_attracted", Some("fdi"));
    assert_eq!(
        (&fdi["period"], &fdi["from"], &fdi["to"]),
        (&json!("2023-Q4"), &json!("2023-10-01"), &json!("2023-12-31"))
    );
    assert_eq!((f(&fdi["target"]), f(&fdi["target_max"])), (2.0, 3.0));
    let actual = f(&fdi["actual"]);
    let status = if actual < 2.0 {
        "below"
    } else if actual > 3.0 {
        "above"
    } else {
        "within"
    };
    assert_eq!(fdi["status"], status, "{fdi}");
    let vnd = line(&report, "capital_attracted_vnd", Some("ddi"));
    assert_eq!((f(&vnd["target"]), f(&vnd["target_max"]), &vnd["unit"]), (100e9, 200e9, &json!("VND")));
    // The demo makes the plan happen within its ranges: two FDI increases of USD 45 million, one new
    // domestic project of VND 150 billion, USD 60 million and VND 450 billion realised.
    assert_eq!(actual, 2.0, "{fdi}");
    assert_eq!((f(&vnd["actual"]), &vnd["status"]), (150e9, &json!("within")), "{vnd}");
    assert_eq!(f(&line(&report, "capital_attracted_usd", Some("fdi"))["actual"]), 45e6);
    let realised = line(&report, "realised_capital_usd", Some("fdi"));
    assert_eq!((f(&realised["actual"]), &realised["status"]), (60e6, &json!("reached")), "{realised}");
    assert_eq!(f(&line(&report, "realised_capital_vnd", Some("ddi"))["actual"]), 450e9);
    let md = app.get("/reports/provinces/VN-70?at=2023-12-31&f=md").await.text();
    assert!(md.contains("Quý IV/2023") && md.contains("2 – 3"), "{md}");
    let csv = app.get("/reports/provinces/VN-70?at=2023-12-31&f=csv").await.text();
    assert!(csv.contains("targets,VN-70,,projects_attracted_fdi_2023-Q4_target_max,3.00,projects"), "{csv}");

    // Bắc Ninh's goals to 2025, read on the report's date: the same figures as the report's own.
    let bn = app.get("/reports/provinces/VN-56?at=2023-11-17").await.json();
    let workers = line(&bn, "workers", None);
    assert_eq!(
        (&workers["period"], &workers["level"], &workers["measured_on"]),
        (&json!("2023-2025"), &json!(true), &json!("2023-11-17"))
    );
    assert_eq!(f(&workers["actual"]), f(&bn["projects"]["employees"]));
    assert_eq!(f(&line(&bn, "capital_registered_usd", None)["actual"]), f(&bn["projects"]["capital_usd"]));
    assert_eq!(f(&line(&bn, "wwtp_coverage_pct", None)["actual"]), f(&bn["wwtp"]["coverage_pct"]));
    assert!(lines(&bn, "exports_usd").is_empty(), "the 2025 export goal is for 2025's reports");
    let later = app.get("/reports/provinces/VN-56?at=2025-06-30").await.json();
    assert_eq!(f(&line(&later, "exports_usd", None)["target"]), 37.7e9);
}

/// On an empty store, through the API: a zone, projects, decisions, results and targets made by a board,
/// and the report's figures from them exactly; bad targets and results refused naming the field.
async fn plans_and_results_on_a_store_of_its_own(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    let planner = app.bearer(Role::Planner, "ban quan ly").await;
    let h = [("authorization", planner.as_str())];
    let post = |collection: &'static str, properties: Value, geometry: Value| {
        let body = json!({ "type": "Feature", "properties": properties, "geometry": geometry });
        let app = &app;
        async move { app.send("POST", &format!("/collections/{collection}/items"), &h, Some(&body)).await }
    };
    let square = json!({ "type": "Polygon", "coordinates": [[[105.9, 20.9], [105.92, 20.9], [105.92, 20.92], [105.9, 20.92], [105.9, 20.9]]] });
    let created = |reply: crate::helpers::Reply| {
        assert_eq!(reply.status, 201, "{}", reply.text());
    };
    created(post("zones", json!({ "code": "HN-X", "name": "KCN X", "kind": "industrial_park", "province_code": "VN-66", "status": "operating", "established_on": "2010-01-01", "operating_since": "2012-01-01" }), square.clone()).await);
    created(post("projects", json!({ "tenant_name": "Công ty TNHH A", "origin": "fdi", "certificate_on": "2015-01-01", "capital_usd": 10e6, "zone_code": "HN-X", "operating_since": "2016-01-01", "employees": 300 }), Value::Null).await);
    let projects = app.get("/collections/projects/items").await.json();
    let a = projects["features"][0]["id"].as_str().unwrap().to_string();
    created(post("projects", json!({ "tenant_name": "Công ty CP B", "origin": "ddi", "certificate_on": "2024-02-10", "capital_vnd": 50e9, "zone_code": "HN-X" }), Value::Null).await);
    created(post("project_events", json!({ "project_id": a, "kind": "adjusted", "decided_on": "2024-03-05", "capital_usd_change": 2e6 }), Value::Null).await);
    created(post("project_results", json!({ "project_id": a, "year": 2023, "revenue_usd": 40e6, "exports_usd": 35e6, "budget_vnd": 12e9 }), Value::Null).await);
    created(post("project_results", json!({ "project_id": a, "year": 2024, "quarter": 1, "realised_capital_usd": 1.5e6, "revenue_usd": 11e6 }), Value::Null).await);
    // Quarter 1 of 2024: USD 2 million added, and VND 50 billion certified (USD 2 million at 25,000).
    created(post("targets", json!({ "province_code": "VN-66", "year": 2024, "quarter": 1, "metric": "capital_attracted_usd", "value": 3e6, "value_max": 5e6, "vnd_per_usd": 25_000.0 }), Value::Null).await);
    created(post("targets", json!({ "province_code": "VN-66", "year": 2024, "metric": "projects_attracted", "origin": "fdi", "value": 1 }), Value::Null).await);
    created(
        post(
            "targets",
            json!({ "province_code": "VN-66", "year": 2024, "metric": "revenue_usd", "value": 50e6 }),
            Value::Null,
        )
        .await,
    );
    created(post("targets", json!({ "province_code": "VN-66", "year": 2021, "to_year": 2025, "metric": "operating_pct", "value": 80 }), Value::Null).await);

    let report = app.get("/reports/provinces/VN-66?at=2024-06-30").await.json();
    let capital = line(&report, "capital_attracted_usd", None);
    assert_eq!((f(&capital["actual"]), &capital["status"]), (4e6, &json!("within")), "{capital}");
    let attracted = line(&report, "projects_attracted", Some("fdi"));
    assert_eq!((f(&attracted["actual"]), &attracted["status"]), (1.0, &json!("reached")), "{attracted}");
    assert_eq!(f(&line(&report, "revenue_usd", None)["actual"]), 11e6, "the first quarter's, not 2023's");
    // One of two valid projects operates.
    assert_eq!(f(&line(&report, "operating_pct", None)["actual"]), 50.0);
    let results = &report["results"];
    assert_eq!((f(&results[0]["all"]["exports_usd"]), f(&results[0]["all"]["budget_vnd"])), (35e6, 12e9));
    assert_eq!(f(&results[1]["fdi"]["realised_capital_usd"]), 1.5e6);

    // Bad targets and results: 422 naming the field; nothing written.
    let before = app.get("/collections/targets/items").await.json()["numberMatched"].clone();
    for (properties, field) in [
        (
            json!({ "province_code": "VN-66", "year": 2024, "quarter": 5, "metric": "projects_new", "value": 1 }),
            "quarter",
        ),
        (
            json!({ "province_code": "VN-66", "year": 2024, "metric": "projects_new", "value": 3, "value_max": 2 }),
            "value_max",
        ),
        (
            json!({ "province_code": "VN-66", "year": 2024, "metric": "capital_attracted_vnd", "value": 1e9 }),
            "vnd_per_usd",
        ),
        (json!({ "province_code": "VN-66", "year": 2024, "metric": "occupancy_pct", "value": 120 }), "value"),
        (
            json!({ "province_code": "VN-66", "year": 2024, "metric": "occupancy_pct", "origin": "fdi", "value": 60 }),
            "origin",
        ),
        (
            json!({ "province_code": "VN-66", "year": 2024, "to_year": 2020, "metric": "workers", "value": 60 }),
            "to_year",
        ),
        (json!({ "province_code": "VN-66", "year": 2024, "metric": "profit_usd", "value": 1 }), "metric"),
    ] {
        let reply = post("targets", properties.clone(), Value::Null).await;
        assert_eq!(reply.status, 422, "{properties}: {}", reply.text());
        assert_eq!(reply.json()["field"], field, "{properties}: {}", reply.text());
    }
    let again = post(
        "targets",
        json!({ "province_code": "VN-66", "year": 2024, "metric": "revenue_usd", "value": 60e6 }),
        Value::Null,
    )
    .await;
    assert!(again.problem(409).contains("already exists"), "{}", again.text());
    assert_eq!(
        app.get("/collections/targets/items").await.json()["numberMatched"],
        before,
        "nothing written"
    );
    for (properties, field) in [
        (json!({ "project_id": "NO-SUCH", "year": 2024, "revenue_usd": 1e6 }), "project_id"),
        (json!({ "project_id": a, "year": 2024, "revenue_usd": -1e6 }), "revenue_usd"),
        (json!({ "project_id": a, "year": 2024, "quarter": 0 }), "quarter"),
    ] {
        let reply = post("project_results", properties.clone(), Value::Null).await;
        assert_eq!(reply.status, 422, "{properties}: {}", reply.text());
        assert_eq!(reply.json()["field"], field, "{properties}: {}", reply.text());
    }
    let twice =
        post("project_results", json!({ "project_id": a, "year": 2023, "revenue_usd": 1.0 }), Value::Null)
            .await;
    assert!(twice.problem(409).contains("already exists"), "{}", twice.text());

    // A plan adjustment that shrinks the zone's industrial land to its western half from 01/07/2024 (a
    // dated land-use change with its decision): occupancy follows the plan in force on each date.
    let half = json!({ "type": "Polygon", "coordinates": [[[105.9, 20.9], [105.91, 20.9], [105.91, 20.92], [105.9, 20.92], [105.9, 20.9]]] });
    let lease = json!({ "type": "Polygon", "coordinates": [[[105.901, 20.901], [105.905, 20.901], [105.905, 20.905], [105.901, 20.905], [105.901, 20.901]]] });
    created(post("land_use", json!({ "zone_code": "HN-X", "category": "industrial", "plan_ref": "QĐ 100/QĐ-UBND 1/2000", "valid_to": "2024-07-01" }), square).await);
    created(post("land_use", json!({ "zone_code": "HN-X", "category": "industrial", "plan_ref": "QĐ 245/QĐ-UBND điều chỉnh 1/2000", "valid_from": "2024-07-01" }), half).await);
    created(post("leases", json!({ "project_id": a, "zone_code": "HN-X", "status": "active", "signed_on": "2015-02-01", "start_on": "2015-03-01" }), lease).await);
    let occupancy = |at: &'static str| {
        let app = &app;
        async move { app.get(&format!("/zones/HN-X/occupancy?at={at}")).await.json() }
    };
    let (before, after) = (occupancy("2024-06-30").await, occupancy("2024-07-01").await);
    assert_eq!(before["leased_ha"], after["leased_ha"]);
    let ratio = f(&before["leasable_ha"]) / f(&after["leasable_ha"]);
    assert!((ratio - 2.0).abs() < 0.01, "the plan halves the leasable land: {before} {after}");
    assert!(
        (f(&after["occupancy_pct"]) / f(&before["occupancy_pct"]) - 2.0).abs() < 0.01,
        "{before} {after}"
    );

    // The project's timeline on this store: USD 10 million certified, 2 million more on 05/03/2024.
    let timeline = app.get(&format!("/projects/{a}/timeline?at=2024-06-30")).await.json();
    assert_eq!(
        (&timeline["state"]["capital_usd"], &timeline["state"]["standing"]),
        (&json!(12e6), &json!("operating"))
    );
    let decisions = timeline["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 1, "{timeline}");
    assert_eq!(
        (&decisions[0]["capital_usd_change"], &decisions[0]["after"]["capital_usd"]),
        (&json!(2e6), &json!(12e6))
    );
    assert!(f(&timeline["leased_ha"]) > 0.0 && timeline["leases"][0]["holds"] == true, "{timeline}");
    let earlier = app.get(&format!("/projects/{a}/timeline?at=2024-01-01")).await.json();
    assert_eq!((&earlier["state"]["capital_usd"], &earlier["decisions"]), (&json!(10e6), &json!([])));
}

crate::contract!(
    hung_yen_q1_2022_capital_as_its_board_counted,
    thai_nguyen_revenue_as_its_board_reported,
    targets_for_a_quarter_several_years_and_ranges,
    plans_and_results_on_a_store_of_its_own,
);

/// A board's workbook of enterprise results (its own column names, one row per project and year) goes
/// in through GDAL with the zone following the project; a row for an unknown project writes nothing.
#[tokio::test]
async fn a_results_file_goes_in_naming_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("results.db");
    assert!(landbank(&db, &["demo"]).status.success());
    let unknown = landbank(&db, &["import", "ket-qua.csv", "--collection", "ket_qua"]);
    assert!(!unknown.status.success());
    assert!(text(&unknown).contains("project_results, clearance_parcels, targets"), "{}", text(&unknown));
    let bad = dir.path().join("sai.csv");
    std::fs::write(&bad, "MA_DU_AN,NAM,DOANH_THU_USD\nBN-QV1-P001,2024,5000000\nKHONG-CO,2024,1000\n")
        .unwrap();
    let refused = landbank(&db, &["import", bad.to_str().unwrap(), "--collection", "project_results"]);
    assert!(!refused.status.success());
    let message = text(&refused);
    assert!(message.contains("KHONG-CO") && message.contains("project_id"), "{message}");
    // The board's workbook (.xlsx), as its staff keep it: a header row, numbers as numbers, blanks.
    let file = dir.path().join("ket-qua-2024.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let header = ["MA_DU_AN", "NAM", "QUY", "DOANH_THU_USD", "XUAT_KHAU", "NOP_NGAN_SACH"];
    for (col, name) in header.iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    sheet.write_string(1, 0, "BN-QV1-P001").unwrap();
    for (col, v) in [(1, 2024.0), (3, 5e6), (4, 4.2e6), (5, 3e9)] {
        sheet.write_number(1, col, v).unwrap();
    }
    sheet.write_string(2, 0, "BN-QV1-P002").unwrap();
    for (col, v) in [(1, 2024.0), (2, 2.0), (3, 1.2e6)] {
        sheet.write_number(2, col, v).unwrap();
    }
    workbook.save(&file).unwrap();
    let imported = landbank(&db, &["import", file.to_str().unwrap(), "--collection", "project_results"]);
    assert!(imported.status.success(), "{}", text(&imported));
    let stored = landbank::store::open(db.to_str().unwrap()).await.unwrap();
    let all = stored.items(&landbank::collections::PROJECT_RESULTS, &Default::default()).await.unwrap().rows;
    let first = all
        .iter()
        .find(|r| r.properties["project_id"] == "BN-QV1-P001" && r.properties["year"] == 2024)
        .unwrap();
    let p = &first.properties;
    assert_eq!((&p["zone_code"], &p["province_code"]), (&json!("BN-QV1"), &json!("VN-56")));
    assert_eq!((&p["exports_usd"], &p["budget_vnd"]), (&json!(4200000.0), &json!(3000000000.0)));
    assert!(all.iter().any(|r| r.properties["project_id"] == "BN-QV1-P002" && r.properties["quarter"] == 2));
    stored.close().await;
}
