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
    let all = app.get("/occupancy").await.json();
    let provinces = all["provinces"].as_array().unwrap();
    assert_eq!(provinces.len(), 5);
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

crate::contract!(
    the_demo_reproduces_bac_ninh_17_11_2023,
    figures_follow_the_date,
    zones_add_up_to_their_province_and_provinces_to_the_total,
    status_scope_changes_what_is_summed,
    occupancy_as_csv,
    one_zone_as_json_and_csv,
    bad_dates_and_parameters_are_400_never_500
);
