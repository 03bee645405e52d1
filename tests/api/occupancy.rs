//! Occupancy over HTTP: the demo's published figures, as-of dates, CSV, errors.

use crate::helpers::{Backend, TestApp, spawn_app, spawn_empty_app};

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

/// A small deterministic generator (xorshift64): a failing sequence of edits reproduces.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    /// A day from 2012 to 2029.
    fn date(&mut self) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2012, 1, 1).unwrap() + chrono::Days::new(self.below(365 * 18))
    }
}

/// Each question's answer, for comparing rounds.
async fn answers(app: &crate::helpers::TestApp, questions: &[String]) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for q in questions {
        let reply = app.get(q).await;
        assert_eq!(reply.status, 200, "{q}: {}", reply.text());
        let body = reply.json();
        // What is computed, not when the answer was written.
        out.push(match body.get("features") {
            Some(features) => serde_json::json!({ "features": features, "n": body["numberMatched"] }),
            None => body,
        });
    }
    out
}

/// Figures kept in memory and in the store equal figures computed from scratch, after random edits of a
/// zone's leases and on random dates around them: answers through memory, then from the store after a
/// restart, then computed afresh after the kept figures are deleted, must all be the same, and occupancy
/// also equals the same question read from history (`datetime=`, never kept).
async fn kept_figures_equal_fresh_ones_after_random_edits(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let planner = app.bearer(landbank::auth::Role::Planner, "desk").await;
    let mut dice = Dice(0x5eed_1a4d_ba4c_0de5);
    let mut created: Vec<String> = Vec::new();
    // The days around the zone's own dates and its province's merger, where its status and the unit
    // it counts under change.
    let zone = app.get("/collections/zones/items/BN-QV3").await.json();
    let mut dates: Vec<chrono::NaiveDate> =
        vec!["2025-06-30".parse().unwrap(), "2025-07-01".parse().unwrap()];
    for field in ["policy_approved_on", "established_on", "operating_since"] {
        let day: chrono::NaiveDate = zone["properties"][field].as_str().unwrap().parse().unwrap();
        dates.extend([day - chrono::Days::new(1), day]);
    }
    let mut edits = 0;
    for step in 0..8 {
        let auth = [("authorization", planner.as_str())];
        let (a, b) = (dice.date(), dice.date());
        let (start, end) = (a.min(b), a.max(b) + chrono::Days::new(1));
        let kind = if created.is_empty() { 0 } else { dice.below(3) };
        let reply = if kind == 0 {
            let piece =
                app.get("/available?zone_code=BN-QV3&sortby=-area_ha&limit=1").await.json()["features"][0]
                    .clone();
            let status = ["active", "reserved", "terminated"][dice.below(3) as usize];
            let mut properties = serde_json::json!({ "zone_code": "BN-QV3", "status": status,
                "signed_on": start.to_string(), "start_on": start.to_string() });
            if status == "terminated" {
                properties["end_on"] = end.to_string().into();
            }
            let lease = serde_json::json!({ "type": "Feature", "geometry": piece["geometry"], "properties": properties });
            let reply = app.send("POST", "/collections/leases/items", &auth, Some(&lease)).await;
            if reply.status == 201 {
                created.push(reply.json()["id"].as_str().unwrap().to_string());
            }
            reply
        } else {
            let id = created[dice.below(created.len() as u64) as usize].clone();
            let uri = format!("/collections/leases/items/{id}");
            let etag = app.get(&uri).await.headers["etag"].to_str().unwrap().to_string();
            let headers = [auth[0], ("if-match", etag.as_str())];
            if kind == 1 {
                let patch = serde_json::json!({ "properties": {
                    "signed_on": start.to_string(), "start_on": start.to_string(), "end_on": end.to_string() } });
                app.send("PATCH", &uri, &headers, Some(&patch)).await
            } else {
                let reply = app.send("DELETE", &uri, &headers, None).await;
                created.retain(|c| *c != id);
                reply
            }
        };
        assert!(reply.status.as_u16() < 500, "step {step}: {}", reply.text());
        edits += usize::from(reply.status.is_success());
        // The dates around the edit, where pieces begin and end, and two others.
        let day = chrono::Days::new(1);
        dates.extend([start - day, start, end - day, end, dice.date(), dice.date()]);
        dates.sort();
        dates.dedup();
        let asked: Vec<String> = dates
            .iter()
            .flat_map(|d| {
                [
                    format!("/zones/BN-QV3/occupancy?at={d}"),
                    format!("/available?zone_code=BN-QV3&at={d}&limit=1000"),
                ]
            })
            .collect();
        let first = answers(&app, &asked).await;
        let occupancy: Vec<&str> =
            asked.iter().map(String::as_str).filter(|q| q.contains("occupancy")).collect();
        same(&app, &occupancy, &format!("step {step}")).await;
        assert_eq!(answers(&app, &asked).await, first, "step {step}: kept in memory");
        app.restart();
        assert_eq!(answers(&app, &asked).await, first, "step {step}: kept in the store");
        app.execute_sql("DELETE FROM kept_figures").await;
        app.restart();
        assert_eq!(answers(&app, &asked).await, first, "step {step}: computed afresh");
    }
    assert!(dates.len() > 20, "the edits covered many dates: {dates:?}");
    assert!(edits >= 5, "most edits were accepted: {edits} of 8");
}

/// Figures outlive the process that measured them: a restarted service reads what the store kept instead
/// of measuring again, for every date the kept piece spans, until the zone's data changes.
async fn kept_figures_outlive_a_restart(backend: Backend) {
    use landbank::occupancy::KEPT_KIND;
    let mut app = spawn_app(backend).await;
    let zone = vec!["BN-QV3".to_string()];
    assert!(app.store.kept(KEPT_KIND, &zone).await.unwrap().is_empty(), "nothing kept before a question");
    let q = "/zones/BN-QV3/occupancy?at=2026-12-01";
    let measured = app.get(q).await.json();
    // The zone was measured on every date at once: one piece per span between the dates of its leases
    // and land use, following each other.
    use landbank::occupancy::KeptPieces;
    let (version, text) = app.store.kept(KEPT_KIND, &zone).await.unwrap().remove("BN-QV3").unwrap();
    let mut pieces = KeptPieces::from_text(&text).unwrap().to_vec().unwrap();
    assert!(pieces.len() > 3, "{pieces:?}");
    assert!(pieces[0].from.is_none() && pieces[pieces.len() - 1].to.is_none(), "every date: {pieces:?}");
    for pair in pieces.windows(2) {
        assert_eq!(pair[0].to, pair[1].from, "{pieces:?}");
    }
    let on = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let holding = pieces.iter().position(|p| p.holds_on(on)).unwrap();
    let kept_ha = pieces[holding].leased_ha;
    assert!((kept_ha - measured["leased_ha"].as_f64().unwrap()).abs() < 0.005, "{pieces:?} vs {measured}");

    // Altered behind the service's back, so that only a read of the kept piece can answer 1 ha.
    pieces[holding].leased_ha = 1.0;
    app.store.keep(KEPT_KIND, &[("BN-QV3".into(), version, KeptPieces::new(&pieces).text())]).await.unwrap();
    app.restart();
    assert_eq!(app.get(q).await.json()["leased_ha"], 1.0);
    let from = pieces[holding].from.expect("the demo's leases give the piece a first day");
    assert_eq!(app.get(&format!("/zones/BN-QV3/occupancy?at={from}")).await.json()["leased_ha"], 1.0);
    // Another span is answered from its own piece, measured with the first, without measuring.
    let other = &pieces[holding - 1];
    let other_at = other.from.expect("an earlier piece with a first day");
    let other_ha =
        app.get(&format!("/zones/BN-QV3/occupancy?at={other_at}")).await.json()["leased_ha"].clone();
    assert!(
        (other_ha.as_f64().unwrap() - other.leased_ha).abs() < 0.005,
        "{other_at}: {other_ha}, kept {other:?}"
    );
    assert_eq!(app.zones_measured("occupancy").await, 0, "nothing measured after the restart");
    // Older figures never replace newer ones.
    app.store.keep(KEPT_KIND, &[("BN-QV3".into(), version - 1, "[]".into())]).await.unwrap();
    assert_eq!(app.store.kept(KEPT_KIND, &zone).await.unwrap()["BN-QV3"].0, version);

    // A write to the zone makes the kept piece stale: it is measured again.
    let planner = app.bearer(landbank::auth::Role::Planner, "desk").await;
    let piece =
        app.get("/available?zone_code=BN-QV3&sortby=-area_ha&limit=1").await.json()["features"][0].clone();
    let lease = serde_json::json!({ "type": "Feature", "geometry": piece["geometry"], "properties": {
        "zone_code": "BN-QV3", "status": "active", "signed_on": "2026-10-01", "start_on": "2026-11-01" } });
    let r = app
        .send("POST", "/collections/leases/items", &[("authorization", planner.as_str())], Some(&lease))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let after = app.get(q).await.json()["leased_ha"].as_f64().unwrap();
    assert!(after > kept_ha + 0.5, "measured again with the new lease: {kept_ha} → {after}");
    same(&app, &[q], "after the write").await;
    assert!(app.store.kept(KEPT_KIND, &zone).await.unwrap()["BN-QV3"].0 > version);
}

/// `serve` keeps today's figures ready: before any question, every zone's occupancy and available land
/// are measured and kept; the first question then measures nothing; after a write the zone it touched
/// is measured again in the background, and only it.
async fn figures_are_ready_before_the_first_question(backend: Backend) {
    use landbank::{available, occupancy, warm};
    let mut app = spawn_app(backend).await;
    let state = landbank::http::AppState::new(app.store.clone());
    let every = std::time::Duration::from_millis(50);
    let warmer = tokio::spawn(warm::keep_warm(
        app.store.clone(),
        state.figures.clone(),
        state.available.clone(),
        every,
    ));
    let zones: Vec<String> = app.get("/collections/zones/items?limit=1000").await.json()["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["id"].as_str().unwrap().to_string())
        .collect();
    let kept = |kind: &'static str| {
        let (store, zones) = (app.store.clone(), zones.clone());
        async move { store.kept(kind, &zones).await.unwrap() }
    };
    let mut waited = 0;
    while kept(available::KEPT_KIND).await.len() < zones.len() {
        assert!(waited < 600, "figures not ready after 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(kept(occupancy::KEPT_KIND).await.len(), zones.len());

    // The first questions measure nothing: every zone is found kept.
    app.router = landbank::http::router(state.clone());
    let [(_, misses), _] = state.figures.lookups();
    let [(_, available_misses), _] = state.available.lookups();
    let national = app.get("/occupancy").await.json();
    assert!(national["zones"].as_array().unwrap().len() > 3, "{national}");
    assert_eq!(app.get("/available").await.status, 200);
    assert_eq!(state.figures.lookups()[0].1, misses, "occupancy measured a zone again");
    assert_eq!(state.available.lookups()[0].1, available_misses, "available land measured a zone again");

    // A write: the zone is measured again in the background, and the answer is the fresh one.
    let before = kept(occupancy::KEPT_KIND).await;
    let planner = app.bearer(landbank::auth::Role::Planner, "desk").await;
    let piece =
        app.get("/available?zone_code=BN-QV3&sortby=-area_ha&limit=1").await.json()["features"][0].clone();
    let lease = serde_json::json!({ "type": "Feature", "geometry": piece["geometry"], "properties": {
        "zone_code": "BN-QV3", "status": "active", "signed_on": "2020-10-01", "start_on": "2020-11-01" } });
    let r = app
        .send("POST", "/collections/leases/items", &[("authorization", planner.as_str())], Some(&lease))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let mut waited = 0;
    while kept(occupancy::KEPT_KIND).await["BN-QV3"].0 == before["BN-QV3"].0 {
        assert!(waited < 600, "BN-QV3 not measured again after 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    let after = kept(occupancy::KEPT_KIND).await;
    for zone in zones.iter().filter(|z| *z != "BN-QV3") {
        assert_eq!(after[zone], before[zone], "{zone} was not written to, yet measured again");
    }
    warmer.abort();
    let today = landbank::domain::today();
    let questions = [format!("/occupancy?at={today}"), format!("/zones/BN-QV3/occupancy?at={today}")];
    same(&app, &[questions[0].as_str(), questions[1].as_str()], "after the write").await;
}

/// `landbank serve` on a free port, measuring today's figures every second; stopped when dropped.
struct Served {
    child: std::process::Child,
    base: String,
}

impl Served {
    fn start(database: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_landbank"))
            .args(["--database", database, "serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--warm-seconds", "1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Served { child, base: format!("http://127.0.0.1:{port}") }
    }

    /// Whether it answers `/readyz` within 12 s.
    async fn ready(&self) -> bool {
        for _ in 0..600 {
            if reqwest::get(format!("{}/readyz", self.base)).await.is_ok_and(|r| r.status() == 200) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        false
    }

    /// `path` answered over the socket as JSON (it must answer 200).
    async fn json(&self, path: &str) -> serde_json::Value {
        let reply = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        assert_eq!(reply.status(), 200, "{path}");
        reply.json().await.unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Whether the store keeps the occupancy and the available land of every zone of `codes`, within 60 s.
async fn every_zone_kept(store: &std::sync::Arc<dyn landbank::store::Store>, codes: &[String]) -> bool {
    use landbank::{available, occupancy};
    for _ in 0..300 {
        let occupancy = store.kept(occupancy::KEPT_KIND, codes).await.unwrap().len();
        let available = store.kept(available::KEPT_KIND, codes).await.unwrap().len();
        if occupancy == codes.len() && available == codes.len() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    false
}

/// Through the real interface, on data that is not the demo: zones imported by the CLI into an empty
/// database are measured by `landbank serve` on its own, with no question asked over its socket but
/// the readiness probe.
async fn serve_measures_imported_zones_before_anyone_asks(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::helpers::scratch_database(backend, false, &dir).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_landbank"))
            .arg("--database")
            .arg(&database)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["migrate"]).status.success());
    let codes: Vec<String> = (0..3).map(|i| format!("W{i}")).collect();
    let zones = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            serde_json::json!({ "type": "Feature", "properties": { "code": code,
            "name": format!("Khu {code}"), "kind": "industrial_park", "province_code": "VN2025-24",
            "status": "operating" }, "geometry": crate::import::square(106.0 + 0.05 * i as f64, 21.2, 0.02) })
        })
        .collect();
    let file = dir.path().join("zones.geojson");
    crate::import::write_geojson(&file, zones);
    // Without --skip-figures the import itself would keep them.
    let out = run(&["import", file.to_str().unwrap(), "--collection", "zones", "--skip-figures"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = landbank::store::open(&database).await.unwrap();
    assert!(store.kept(landbank::occupancy::KEPT_KIND, &codes).await.unwrap().is_empty());

    let served = Served::start(&database);
    assert!(served.ready().await, "landbank serve did not answer /readyz within 12 s");
    assert!(
        every_zone_kept(&store, &codes).await,
        "landbank serve did not measure the imported zones within 60 s"
    );
    store.close().await;
}

/// Two people ask about a province nobody asked about before at the same moment (or one asks while the
/// warmer works): each zone's occupancy and available land are worked out once, not once per question,
/// and both get what one question alone gets. On an empty install loaded with zones of its own.
async fn questions_at_once_work_out_each_zone_once(backend: Backend) {
    use landbank::synthetic::{Spec, generate};
    let mut app = spawn_empty_app(backend).await;
    let data = generate(&Spec::province(64));
    let zones = data.zones.len() as u64;
    app.store.insert(&data.batches()).await.unwrap();
    let occupancy = "/occupancy?province_code=VN-56&at=2026-01-01";
    let available = "/available?province_code=VN-56&at=2026-01-01&limit=10000";
    let figures_of = |reply: &crate::helpers::Reply| crate::helpers::without_timestamp(reply.json());
    for (uri, figures) in [(occupancy, "occupancy"), (available, "available")] {
        let (a, b) = tokio::join!(app.get(uri), app.get(uri));
        assert_eq!((a.status.as_u16(), b.status.as_u16()), (200, 200), "{}", a.text());
        let answer = figures_of(&a);
        assert!(answer == figures_of(&b), "{uri}: both questions get the same answer");
        assert_eq!(app.zones_measured(figures).await, zones, "{uri}: each of {zones} zones worked out once");

        // One question alone, nothing kept anywhere, gets the same answer.
        let fresh = landbank::http::router(landbank::http::AppState::new(app.store.clone()));
        let dir = tempfile::tempdir().unwrap();
        let alone = TestApp::from_parts(app.store.clone(), fresh, app.database.clone(), dir);
        app.execute_sql("DELETE FROM kept_figures").await;
        assert!(figures_of(&alone.get(uri).await) == answer, "{uri}: the same as one question alone");
        assert_eq!(alone.zones_measured(figures).await, zones);
        app.restart();
    }
}

/// Through the real interface, on data that is not the demo: `landbank serve` starts measuring today's
/// figures of an install loaded with zones of its own; an investor asks about available land over the
/// socket as soon as it is up, while it measures. The zones are worked out once between the two, not
/// once by each (`/metrics`), and the answer is that of the kept figures. Then another process (this
/// test, on its own connection, as `landbank import` beside the server would) leases a free plot: the
/// answer the server kept for a question asked twice is not served again, the lease counts at once.
async fn a_question_asked_while_serve_measures_waits_for_it(backend: Backend) {
    use crate::helpers::{cache_lookups_in, metric, without_timestamp};
    use landbank::synthetic::{Spec, generate};
    let dir = tempfile::tempdir().unwrap();
    let database = crate::helpers::scratch_database(backend, false, &dir).await;
    let store = landbank::store::open(&database).await.unwrap();
    store.migrate().await.unwrap();
    let data = generate(&Spec::province(100));
    let codes: Vec<String> =
        data.zones.iter().map(|z| z.properties["code"].as_str().unwrap().into()).collect();
    store.insert(&data.batches()).await.unwrap();

    let served = Served::start(&database);
    assert!(served.ready().await, "landbank serve did not answer /readyz within 12 s");
    let question = "/available?province_code=VN-56&limit=10000";
    let answer = served.json(question).await;
    assert!(
        every_zone_kept(&store, &codes).await,
        "landbank serve did not keep every zone's figures within 60 s"
    );
    let metrics = reqwest::get(format!("{}/metrics", served.base)).await.unwrap().text().await.unwrap();
    for figures in ["available", "occupancy"] {
        let measured = metric(&metrics, &format!(r#"landbank_zones_measured_total{{figures="{figures}"}}"#));
        assert_eq!(measured, Some(codes.len() as u64), "each zone's {figures} worked out once");
    }
    let again = served.json(question).await;
    assert!(
        without_timestamp(answer) == without_timestamp(again),
        "the answer given while serve measured is the kept one"
    );

    let occupancy = "/occupancy?province_code=VN-56";
    let before = served.json(occupancy).await;
    assert_eq!(served.json(occupancy).await, before);
    let metrics = reqwest::get(format!("{}/metrics", served.base)).await.unwrap().text().await.unwrap();
    let (hits, misses) = cache_lookups_in(&metrics, "figures_answers");
    assert!(hits >= 1, "the question asked again was answered whole: {hits} hits");
    let plots = served.json("/collections/plots/items?limit=1000").await;
    let plot =
        plots["features"].as_array().unwrap().iter().find(|p| p["properties"]["lease_status"] == "free");
    let plot = plot.expect("a free plot").clone();
    let zone = plot["properties"]["zone_code"].as_str().unwrap();
    let fc = serde_json::json!({ "type": "FeatureCollection", "features": [{ "type": "Feature",
        "id": "LNEW", "geometry": plot["geometry"], "properties": { "zone_code": zone,
            "plot_codes": plot["properties"]["code"], "status": "active", "start_on": "2025-06-01" } }] })
    .to_string();
    let provinces = [(zone.to_string(), "VN-56".to_string())].into_iter().collect();
    let leases = &landbank::collections::LEASES;
    let lease = landbank::ingest::parse_feature_collection(leases, "t", &fc, &provinces).unwrap();
    store.insert(&[(leases, lease)]).await.unwrap();
    let after = served.json(occupancy).await;
    let metrics = reqwest::get(format!("{}/metrics", served.base)).await.unwrap().text().await.unwrap();
    assert!(cache_lookups_in(&metrics, "figures_answers").1 > misses, "summed again after the write");
    let area = plot["properties"]["area_ha"].as_f64().unwrap();
    let (before, after) = (before["leased_ha"].as_f64().unwrap(), after["leased_ha"].as_f64().unwrap());
    assert!((after - before - area).abs() < 0.01, "the lease counts at once: {before} + {area} → {after}");
    store.close().await;
}

/// The same question asked again before anything is written is answered whole from memory: no zone's
/// figures are looked up again (`/metrics`). Any write ends that, here leases written straight into the
/// store as `landbank import` from another process writes them: one in another province (the answer is
/// summed again from the zones' kept figures, and is the same), then one in the province asked about
/// (it counts at once, and equals the figures computed afresh). On an empty install with two provinces
/// of its own.
async fn an_answer_is_kept_until_the_next_write(backend: Backend) {
    use landbank::synthetic::{Spec, generate};
    let app = spawn_empty_app(backend).await;
    let hanoi = Spec {
        province_code: "VN-01".into(),
        prefix: "HN".into(),
        origin: (105.5, 20.6),
        ..Spec::province(4)
    };
    for spec in [Spec::province(4), hanoi] {
        app.store.insert(&generate(&spec).batches()).await.unwrap();
    }
    let occupancy = "/occupancy?province_code=VN-56&at=2026-01-01";
    let available = "/available?province_code=VN-56&at=2026-01-01&limit=10000";
    let figures = |body: &serde_json::Value| crate::helpers::without_timestamp(body.clone());
    let first = (app.get(occupancy).await.json(), app.get(available).await.json());
    let pieces = app.cache_lookups("figures").await;
    let zones = app.cache_lookups("available").await;
    let answers = (app.cache_lookups("figures_answers").await, app.cache_lookups("available_answers").await);
    assert_eq!(app.get(occupancy).await.json(), first.0);
    assert_eq!(figures(&app.get(available).await.json()), figures(&first.1));
    assert_eq!(app.cache_lookups("figures_answers").await, (answers.0.0 + 1, answers.0.1), "kept");
    assert_eq!(app.cache_lookups("available_answers").await, (answers.1.0 + 1, answers.1.1), "kept");
    assert_eq!(app.cache_lookups("figures").await, pieces, "no zone looked up");
    assert_eq!(app.cache_lookups("available").await, zones, "no zone looked up");

    // A lease on a free plot of a zone, written straight into the store.
    let plots = app.get("/collections/plots/items?limit=10000&at=2026-01-01").await.json();
    let lease_on_free_land = |zone: &'static str, province: &'static str| {
        let (app, plots) = (&app, &plots);
        async move {
            let features = plots["features"].as_array().unwrap().iter();
            let mut free = features.filter(|p| p["properties"]["lease_status"] == "free");
            let plot = free.find(|p| p["properties"]["zone_code"] == zone).expect("a free plot").clone();
            let fc = serde_json::json!({ "type": "FeatureCollection", "features": [{ "type": "Feature",
                "id": format!("{zone}-LNEW"), "geometry": plot["geometry"], "properties": {
                    "zone_code": zone, "plot_codes": plot["properties"]["code"], "status": "active",
                    "start_on": "2025-06-01" } }] })
            .to_string();
            let provinces = [(zone.to_string(), province.to_string())].into_iter().collect();
            let leases = &landbank::collections::LEASES;
            let lease = landbank::ingest::parse_feature_collection(leases, "t", &fc, &provinces).unwrap();
            app.store.insert(&[(leases, lease)]).await.unwrap();
            plot["properties"]["area_ha"].as_f64().unwrap()
        }
    };
    lease_on_free_land("HN-000000", "VN-01").await;
    assert_eq!(app.get(occupancy).await.json(), first.0, "another province's lease changes nothing here");
    assert_eq!(figures(&app.get(available).await.json()), figures(&first.1));
    assert_eq!(app.cache_lookups("figures_answers").await.1, answers.0.1 + 1, "summed again after a write");
    assert_eq!(
        app.cache_lookups("available_answers").await.1,
        answers.1.1 + 1,
        "gathered again after a write"
    );
    assert!(app.cache_lookups("figures").await.0 > pieces.0, "from the zones' kept figures");

    let leased_ha = lease_on_free_land("SZ-000000", "VN-56").await;
    let after = app.get(occupancy).await.json();
    let before_ha = first.0["leased_ha"].as_f64().unwrap();
    let after_ha = after["leased_ha"].as_f64().unwrap();
    assert!(
        (after_ha - before_ha - leased_ha).abs() < 0.01,
        "the lease counts at once: {before_ha} + {leased_ha} → {after_ha}"
    );
    let fresh = app.get(&format!("{occupancy}&datetime=2100-01-01T00:00:00Z")).await.json();
    for key in ["leasable_ha", "leased_ha", "reserved_ha", "available_ha", "occupancy_pct", "zones"] {
        assert_eq!(after[key], fresh[key], "{key}: kept and fresh");
    }
    // Available land as one question alone gets it, with nothing kept anywhere.
    app.execute_sql("DELETE FROM kept_figures").await;
    let fresh = landbank::http::router(landbank::http::AppState::new(app.store.clone()));
    let alone =
        TestApp::from_parts(app.store.clone(), fresh, app.database.clone(), tempfile::tempdir().unwrap());
    let free = figures(&app.get(available).await.json());
    assert!(free != figures(&first.1), "the leased plot is no longer available");
    assert!(free == figures(&alone.get(available).await.json()), "kept and fresh available land");
}

crate::contract!(
    an_answer_is_kept_until_the_next_write,
    a_question_asked_while_serve_measures_waits_for_it,
    questions_at_once_work_out_each_zone_once,
    figures_are_ready_before_the_first_question,
    serve_measures_imported_zones_before_anyone_asks,
    kept_figures_equal_fresh_ones_after_random_edits,
    kept_figures_outlive_a_restart,
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
