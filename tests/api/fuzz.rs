//! Property tests: random and edge-case input to every parser a request reaches — query parameters of
//! every read route, feature bodies of every write — never panics and never answers 5xx; every error
//! is problem+json.

use landbank::auth::Role;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

/// Routes and the parameters each reads.
const ROUTES: &[(&str, &[&str])] = &[
    (
        "/collections/plots/items",
        &["limit", "offset", "bbox", "bbox-crs", "crs", "f", "datetime", "zone_code", "code"],
    ),
    ("/collections/zones/items", &["limit", "offset", "province_code", "status", "f", "crs"]),
    ("/collections/plots/items/BN-QV1-CN-01", &["crs", "datetime", "f"]),
    ("/occupancy", &["province_code", "zone_code", "at", "status", "datetime", "f"]),
    ("/zones/BN-QV1/occupancy", &["at", "status", "f"]),
    (
        "/available",
        &[
            "min_ha",
            "max_ha",
            "province_code",
            "near",
            "within_km",
            "bbox",
            "at",
            "sortby",
            "limit",
            "offset",
            "min_piece_ha",
            "ready",
        ],
    ),
    ("/reports/national", &["at", "f", "lang"]),
    ("/reports/provinces/VN-56", &["at", "f"]),
    ("/tiles/plots/14/13200/7100.mvt", &["at"]),
    ("/audit", &["actor", "collection", "from", "to", "limit", "offset"]),
    ("/collections/leases/items/BN-QV1-L001/history", &["f"]),
    ("/projects/behind", &["at", "province_code", "zone_code", "f"]),
    ("/collections/project_events/items", &["limit", "offset", "project_id", "kind", "decided_on", "f"]),
];

/// Values at the edges of what parsers accept, beside random text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1e309".to_string()),
        Just("NaN".to_string()),
        Just("18446744073709551616".to_string()),
        Just("9223372036854775808".to_string()),
        Just("0001-01-01".to_string()),
        Just("9999-12-31".to_string()),
        Just("2023-02-30".to_string()),
        Just("1,2,3".to_string()),
        Just("106,21,105,20".to_string()),
        Just("-180,-90,180,90".to_string()),
        Just("http://www.opengis.net/def/crs/EPSG/0/9209".to_string()),
        Just("VN2025-24".to_string()),
        Just("a\u{0}b".to_string()),
        Just("'; DROP TABLE zones; --".to_string()),
        "\\PC{0,24}",
        "[0-9.,:TZ+-]{0,30}",
    ]
}

fn request() -> impl Strategy<Value = String> {
    (0..ROUTES.len(), proptest::collection::vec((0usize..16, value()), 0..4)).prop_map(|(r, params)| {
        let (path, names) = ROUTES[r];
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(n, v)| (names[n % names.len()], v.as_str())))
            .finish();
        if query.is_empty() { path.to_string() } else { format!("{path}?{query}") }
    })
}

/// A feature body: sometimes well formed, mostly not.
fn body() -> impl Strategy<Value = Value> {
    let coordinate = prop_oneof![Just(106.13), Just(21.17), Just(f64::MAX), Just(-0.0), -200.0..200.0f64];
    let ring = proptest::collection::vec((coordinate.clone(), coordinate), 0..6)
        .prop_map(|pts| pts.into_iter().map(|(x, y)| json!([x, y])).collect::<Vec<_>>());
    let geometry = prop_oneof![
        Just(Value::Null),
        ring.clone().prop_map(|r| json!({ "type": "Polygon", "coordinates": [r] })),
        ring.prop_map(|r| json!({ "type": "LineString", "coordinates": r })),
        Just(json!({ "type": "Polygon", "coordinates": "x" })),
    ];
    let text = value().prop_map(Value::String);
    let property = prop_oneof![
        text,
        Just(json!(1e308)),
        Just(json!(-5)),
        Just(json!(null)),
        Just(json!([1, 2])),
        // Values that reach deeper checks: a stored project, a date in range, a decision kind.
        Just(json!("BN-QV1-P003")),
        Just(json!("2024-02-29")),
        Just(json!("revoked")),
    ];
    let keys = prop_oneof![
        Just("zone_code"),
        Just("code"),
        Just("status"),
        Just("start_on"),
        Just("end_on"),
        Just("category"),
        Just("province_code"),
        Just("name"),
        Just("kind"),
        Just("owner_name"),
        Just("sheet_no"),
        Just("project_id"),
        Just("decided_on"),
        Just("capital_usd_change")
    ];
    (geometry, proptest::collection::btree_map(keys, property, 0..6), any::<bool>()).prop_map(
        |(geometry, properties, typed)| {
            let mut body = json!({ "geometry": geometry, "properties": properties });
            if typed {
                body["type"] = json!("Feature");
            }
            body
        },
    )
}

fn assert_no_server_error(uri: &str, reply: &crate::helpers::Reply) -> Result<(), TestCaseError> {
    prop_assert!(reply.status.as_u16() < 500, "{uri} → {}: {}", reply.status, reply.text());
    if reply.status.as_u16() >= 400 {
        prop_assert_eq!(reply.content_type(), "application/problem+json", "{}", uri);
    }
    Ok(())
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new_with_rng(
        Config { cases, failure_persistence: None, ..Config::default() },
        // The same cases on every run: a failure in CI is reproduced by running the test again.
        proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    runner.run(&strategy, test).unwrap();
}

async fn random_queries_never_answer_5xx(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.bearer(Role::Admin, "fuzz").await;
    let handle = tokio::runtime::Handle::current();
    let app: &TestApp = &app;
    tokio::task::block_in_place(|| {
        run(160, request(), |uri| {
            let reply = handle.block_on(app.get_with(&uri, &[("authorization", admin.as_str())]));
            assert_no_server_error(&uri, &reply)
        })
    });
}

async fn random_feature_bodies_never_answer_5xx(backend: Backend) {
    let app = spawn_app(backend).await;
    let planner = app.bearer(Role::Planner, "fuzz").await;
    let handle = tokio::runtime::Handle::current();
    let app: &TestApp = &app;
    let collections = [
        "plots",
        "leases",
        "zones",
        "land_use",
        "clearance_parcels",
        "projects",
        "project_events",
        "project_results",
        "targets",
    ];
    tokio::task::block_in_place(|| {
        run(120, (0..collections.len(), body()), |(c, body)| {
            let uri = format!("/collections/{}/items", collections[c]);
            let reply =
                handle.block_on(app.send("POST", &uri, &[("authorization", planner.as_str())], Some(&body)));
            assert_no_server_error(&uri, &reply)
        })
    });
}

crate::contract!(random_queries_never_answer_5xx, random_feature_bodies_never_answer_5xx);

/// Any bytes decode in every Vietnamese encoding without a panic, to NFC text; detection always names
/// one of them and says why.
#[test]
fn any_bytes_decode_and_detection_always_answers() {
    use landbank::vnenc::{VnEncoding, detect};
    use unicode_normalization::UnicodeNormalization;
    let bytes = proptest::collection::vec(any::<u8>(), 0..64);
    run(400, proptest::collection::vec(bytes, 0..8), |samples| {
        for encoding in [VnEncoding::Utf8, VnEncoding::Windows1258, VnEncoding::Tcvn3, VnEncoding::Vni] {
            for s in &samples {
                let text = encoding.decode(s);
                prop_assert_eq!(text.nfc().collect::<String>(), text.clone());
            }
        }
        let refs: Vec<&[u8]> = samples.iter().map(Vec::as_slice).collect();
        let detection = detect(&refs);
        prop_assert!(!detection.reason.is_empty());
        Ok(())
    });
}
