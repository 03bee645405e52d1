//! Integrity under concurrent writers and hostile input: checks and writes are one unit, every bad
//! request is a 4xx problem+json, nothing a user sends can break the service for others.

use landbank::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_app};

/// Rounds of each race: enough to lose a race that is only sometimes lost.
const ROUNDS: usize = 6;
/// Writers in each round.
const WRITERS: usize = 6;

fn square(lon: f64, lat: f64, side: f64) -> Value {
    json!({ "type": "Polygon", "coordinates": [[
        [lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]
    ]] })
}

fn statuses(replies: &[crate::helpers::Reply]) -> Vec<u16> {
    let mut s: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    s.sort();
    s
}

/// Six planners reserve the same free land at the same instant, round after round: exactly one gets
/// 201, the others 409 naming the winner's lease, and no two stored leases hold the same land.
async fn racing_reservations_of_the_same_land_store_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "desk").await;
    let h = [("authorization", planner.as_str())];
    // Free, ready land in established zones: each round reserves one whole piece.
    let pieces = app.get("/available?min_ha=0.5&sortby=-area_ha&limit=100").await.json();
    let pieces = pieces["features"].as_array().expect("available pieces").clone();
    assert!(pieces.len() >= ROUNDS, "the demo has {} free pieces", pieces.len());
    for piece in pieces.iter().take(ROUNDS) {
        let zone = piece["properties"]["zone_code"].as_str().unwrap();
        let body = json!({ "type": "Feature", "geometry": piece["geometry"], "properties": {
            "zone_code": zone, "status": "reserved" } });
        let replies = app.race("POST", "/collections/leases/items", &h, vec![body; WRITERS]).await;
        let got = statuses(&replies);
        let mut want = vec![409; WRITERS - 1];
        want.insert(0, 201);
        assert_eq!(got, want, "zone {zone}: {:?}", replies.iter().map(|r| r.text()).collect::<Vec<_>>());
        let winner = replies.iter().find(|r| r.status == 201).unwrap();
        let winner_id = winner.json()["id"].as_str().unwrap().to_string();
        for loser in replies.iter().filter(|r| r.status == 409) {
            assert!(loser.problem(409).contains(&winner_id), "{}", loser.text());
        }
    }
}

/// Six planners draw the same new plot (each with its own code) at the same instant: one is stored.
async fn racing_plots_on_the_same_ground_store_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "desk").await;
    let h = [("authorization", planner.as_str())];
    for round in 0..ROUNDS {
        // Quế Võ's service area, where no plot lies; one spot per round.
        let geometry = square(106.1275 + 0.0006 * round as f64, 21.1652, 0.0005);
        let bodies = (0..WRITERS)
            .map(|w| {
                json!({ "type": "Feature", "geometry": geometry, "properties": {
                "zone_code": "BN-QV1", "code": format!("R{round}-{w}") } })
            })
            .collect();
        let replies = app.race("POST", "/collections/plots/items", &h, bodies).await;
        let got = statuses(&replies);
        let mut want = vec![409; WRITERS - 1];
        want.insert(0, 201);
        assert_eq!(got, want, "round {round}: {:?}", replies.iter().map(|r| r.text()).collect::<Vec<_>>());
    }
    let stored = app.get("/collections/plots/items?zone_code=BN-QV1&limit=10000").await.json();
    let raced = stored["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["code"].as_str().is_some_and(|c| c.starts_with('R')))
        .count();
    assert_eq!(raced, ROUNDS, "one plot per round");
}

/// Text a user sends is checked at the edge: control characters, lengths, degenerate shapes and bodies
/// that are not Features are refused with 4xx problem+json, and nothing is stored.
async fn hostile_input_gets_a_clear_4xx_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "desk").await;
    let admin = app.bearer(Role::Admin, "admin").await;
    let h = [("authorization", planner.as_str())];
    let before = app.get("/collections/plots/items?limit=1").await.json()["numberMatched"].clone();
    let plot = |code: &str| {
        json!({ "type": "Feature", "geometry": square(106.1275, 21.1652, 0.0005),
                "properties": { "zone_code": "BN-QV1", "code": code } })
    };
    let post = |body: Value| {
        let app = &app;
        async move { app.send("POST", "/collections/plots/items", &h, Some(&body)).await }
    };
    // A NUL inside a code, an id of 100,007 characters, a code of 3,000.
    assert!(post(plot("A\u{0}B")).await.problem(422).contains("U+0000"));
    let mut long_id = plot("LONG");
    long_id["id"] = json!("X".repeat(100_007));
    assert_eq!(post(long_id).await.json()["field"], "id");
    assert!(post(plot(&"C".repeat(3000))).await.problem(422).contains("at most"));
    // Three points on one line, and a body without "type".
    let collinear = json!({ "type": "Feature", "properties": { "zone_code": "BN-QV1", "code": "LINE" },
        "geometry": { "type": "Polygon", "coordinates": [[[106.1275, 21.1652], [106.1280, 21.1652], [106.1285, 21.1652], [106.1275, 21.1652]]] } });
    assert_eq!(post(collinear).await.json()["field"], "geometry");
    let mut untyped = plot("NOTYPE");
    untyped.as_object_mut().unwrap().remove("type");
    assert_eq!(post(untyped).await.json()["field"], "type");
    let after = app.get("/collections/plots/items?limit=1").await.json()["numberMatched"].clone();
    assert_eq!(before, after, "nothing was stored");

    // %00 anywhere in a URL, numbers and dates at their edges, repeated parameters: 400, never 500.
    let admin_h = [("authorization", admin.as_str())];
    for uri in [
        "/collections/plots/items/BN%00QV1",
        "/collections/plots/items?zone_code=BN%00QV1",
        "/occupancy?province_code=VN%0056",
        "/available?province_code=VN%0056",
        "/audit?actor=a%00b",
        "/reports/national?at=0001-01-01",
        "/reports/national?at=0005-03-31",
        "/occupancy?at=9999-12-31",
        "/collections/plots/items?offset=9223372036854775808",
        "/collections/plots/items?offset=18446744073709551615",
        "/available?offset=18446744073709551615",
        "/collections/plots/items?limit=1&limit=abc",
        "/collections/plots/items?limit=0",
        "/?f=xml",
        "/collections?f=xml",
    ] {
        let r = app.get_with(uri, &admin_h).await;
        assert_eq!(r.status.as_u16(), 400, "{uri}: {}", r.text());
        assert_eq!(r.content_type(), "application/problem+json", "{uri}");
    }
    // A huge limit is clamped, as OGC API allows.
    let page = app.get("/collections/zones/items?limit=99999999999999999999999").await;
    assert_eq!(page.status, 200, "{}", page.text());

    // Errors from below the handlers are problem+json too.
    let r = app.send("DELETE", "/collections", &h, None).await;
    assert!(r.problem(405).contains("DELETE"), "{}", r.text());
    assert!(r.headers.contains_key("allow"));
    let long = format!("/collections/plots/items?zone_code={}", "Q".repeat(9000));
    app.get(&long).await.problem(414);
    let big = json!({ "type": "Feature", "geometry": square(106.1275, 21.1652, 0.0005),
        "properties": { "zone_code": "BN-QV1", "code": "BIG", "notes": "x".repeat(9 * 1024 * 1024) } });
    assert!(post(big).await.problem(413).contains("--max-body-mb"));
}

/// `If-Match: *` cannot skip the version check; anonymous history does not name private fields; a
/// TileJSON names only what its tiles carry.
async fn no_shortcut_around_versions_or_privacy(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "desk").await;
    let uri = "/collections/clearance_parcels/items/BN-QV1-T10-100";
    let star = [("authorization", planner.as_str()), ("if-match", "*")];
    let patch = json!({ "properties": { "owner_name": "Nguyễn Văn Mới", "compensation_vnd": 123456789 } });
    assert!(app.send("PATCH", uri, &star, Some(&patch)).await.problem(428).contains("\"v1\""));
    let ok = [("authorization", planner.as_str()), ("if-match", "\"v1\"")];
    let r = app.send("PATCH", uri, &ok, Some(&patch)).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let changed = |body: Value| body["versions"][1]["changed"].clone();
    let anonymous = changed(app.get(&format!("{uri}/history")).await.json());
    assert_eq!(anonymous, json!([]), "anonymous callers do not learn which private fields changed");
    let private =
        changed(app.get_with(&format!("{uri}/history"), &[("authorization", planner.as_str())]).await.json());
    assert_eq!(private, json!(["owner_name", "compensation_vnd"]));

    let tilejson = app.get("/tiles/clearance_parcels.json").await.json();
    let fields = tilejson["vector_layers"][0]["fields"].as_object().unwrap().clone();
    assert!(!fields.is_empty());
    for private in ["owner_name", "compensation_vnd"] {
        assert!(!fields.contains_key(private), "TileJSON names {private}");
    }
}

crate::contract!(
    racing_reservations_of_the_same_land_store_one,
    racing_plots_on_the_same_ground_store_one,
    hostile_input_gets_a_clear_4xx_and_changes_nothing,
    no_shortcut_around_versions_or_privacy,
);
