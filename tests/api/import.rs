//! `landbank import` on real files made by GDAL's own ogr2ogr in the test: a GeoPackage of zones, a
//! Shapefile of plots in VN-2000 / TM-3 105°30′ (EPSG:9209), files with problems.

use std::path::Path;
use std::process::{Command, Output};

use landbank::collections;
use landbank::store::{self, Condition, ItemsQuery};

const BIN: &str = env!("CARGO_BIN_EXE_landbank");

pub(crate) fn landbank(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--database").arg(db).args(args).output().unwrap()
}

pub(crate) fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

pub(crate) fn ogr2ogr(args: &[&str]) {
    let out = Command::new("ogr2ogr")
        .args(args)
        .output()
        .expect("ogr2ogr (gdal-bin) is installed by scripts/setup");
    assert!(out.status.success(), "ogr2ogr {args:?}: {}", text(&out));
}

/// A Shapefile in EPSG:9209 whose DBF holds the CSV's bytes as they are (GDAL does not recode them), as
/// old files come: the CSV has a `WKT` column of WGS 84 polygons.
pub(crate) fn shapefile_of_raw_csv(csv: &Path, shp: &Path) {
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-lco",
        "ENCODING=",
        "-s_srs",
        "EPSG:4326",
        "-t_srs",
        "EPSG:9209",
        "-oo",
        "GEOM_POSSIBLE_NAMES=WKT",
        "-oo",
        "KEEP_GEOM_COLUMNS=NO",
        shp.to_str().unwrap(),
        csv.to_str().unwrap(),
    ]);
}

pub(crate) fn square(lon: f64, lat: f64, side: f64) -> serde_json::Value {
    serde_json::json!({ "type": "Polygon", "coordinates": [[
        [lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]
    ]] })
}

pub(crate) fn write_geojson(path: &Path, features: Vec<serde_json::Value>) {
    let fc = serde_json::json!({ "type": "FeatureCollection", "features": features });
    std::fs::write(path, fc.to_string()).unwrap();
}

/// A new zone in Bắc Ninh (GeoPackage, WGS 84) and two plots in it (Shapefile, EPSG:9209).
pub(crate) fn files(dir: &Path) {
    write_geojson(
        &dir.join("zones.geojson"),
        vec![serde_json::json!({ "type": "Feature", "properties": {
            "MA_KCN": "BN-TEST", "TEN_KCN": "KCN Thử nghiệm Đông Nam", "kind": "industrial_park",
            "province_code": "VN-56", "status": "established", "established_on": "2024-05-01"
        }, "geometry": square(106.30, 21.00, 0.02) })],
    );
    ogr2ogr(&[
        "-f",
        "GPKG",
        "-nln",
        "khu_cong_nghiep",
        dir.join("zones.gpkg").to_str().unwrap(),
        dir.join("zones.geojson").to_str().unwrap(),
    ]);
    write_geojson(
        &dir.join("plots.geojson"),
        vec![
            serde_json::json!({ "type": "Feature", "properties": { "SO_HIEU": "CN-01", "MA_KCN": "BN-TEST", "GHI_CHU": "Lô góc" },
                "geometry": square(106.302, 21.002, 0.004) }),
            serde_json::json!({ "type": "Feature", "properties": { "SO_HIEU": "CN-02", "MA_KCN": "BN-TEST", "GHI_CHU": "Lô giữa" },
                "geometry": square(106.310, 21.002, 0.004) }),
        ],
    );
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-t_srs",
        "EPSG:9209",
        "-lco",
        "ENCODING=UTF-8",
        dir.join("LO_DAT.shp").to_str().unwrap(),
        dir.join("plots.geojson").to_str().unwrap(),
    ]);
}

pub(crate) async fn plots_of(db: &Path, zone: &str) -> Vec<landbank::store::FeatureRow> {
    let store = store::open(db.to_str().unwrap()).await.unwrap();
    let query = ItemsQuery {
        conditions: vec![Condition::In {
            field: "zone_code".into(),
            values: vec![collections::FilterValue::Text(zone.into())],
        }],
        ..Default::default()
    };
    let rows = store.items(&collections::PLOTS, &query).await.unwrap().rows;
    store.close().await;
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vn2000_shapefile_and_a_geopackage_go_in_reprojected() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("import.db");
    files(dir.path());
    assert!(landbank(&db, &["demo"]).status.success());

    let zones =
        landbank(&db, &["import", dir.path().join("zones.gpkg").to_str().unwrap(), "--collection", "zones"]);
    assert!(zones.status.success(), "{}", text(&zones));
    assert!(
        text(&zones).contains("code ← MA_KCN") && text(&zones).contains("name ← TEN_KCN"),
        "{}",
        text(&zones)
    );
    assert!(text(&zones).contains("written 1"), "{}", text(&zones));

    let shp = dir.path().join("LO_DAT.shp");
    let dry = landbank(&db, &["import", shp.to_str().unwrap(), "--collection", "plots", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(
        text(&dry).contains("EPSG:9209") && text(&dry).contains("dry run: nothing written"),
        "{}",
        text(&dry)
    );
    assert!(plots_of(&db, "BN-TEST").await.is_empty(), "a dry run writes nothing");

    let real = landbank(&db, &["import", shp.to_str().unwrap(), "--collection", "plots"]);
    assert!(real.status.success(), "{}", text(&real));
    let rows = plots_of(&db, "BN-TEST").await;
    assert_eq!(rows.len(), 2);
    // Through VN-2000 and back, the area is the WGS 84 square's to a hundredth of a hectare.
    let expected = landbank::spatial::area_ha(
        &landbank::spatial::parse_polygonal(&serde_json::from_value(square(106.302, 21.002, 0.004)).unwrap())
            .unwrap(),
    );
    for row in &rows {
        assert_eq!(row.source_crs.as_deref(), Some("EPSG:9209"));
        assert_eq!(row.properties["province_code"], "VN-56", "filled from the zone");
        let area = row.area_ha.unwrap();
        assert!((area - expected).abs() < 0.01, "{}: {area} ha vs {expected} ha", row.id);
    }
    assert!(rows.iter().any(|r| r.id == "BN-TEST-CN-01"));

    // The zone keeps its Vietnamese name and is in the occupancy figures at once.
    let store = store::open(db.to_str().unwrap()).await.unwrap();
    let zone = store.item(&collections::ZONES, "BN-TEST").await.unwrap().unwrap();
    assert_eq!(zone.properties["name"], "KCN Thử nghiệm Đông Nam");
    store.close().await;

    // Importing the same file again is refused whole: the plots exist.
    let again = landbank(&db, &["import", shp.to_str().unwrap(), "--collection", "plots"]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already in the store"), "{}", text(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_are_reported_by_feature_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("problems.db");
    files(dir.path());
    assert!(landbank(&db, &["demo"]).status.success());
    assert!(
        landbank(&db, &["import", dir.path().join("zones.gpkg").to_str().unwrap(), "--collection", "zones"])
            .status
            .success()
    );

    // Without its .prj, projected metres are refused with the way out.
    let shp = dir.path().join("LO_DAT.shp");
    std::fs::remove_file(dir.path().join("LO_DAT.prj")).unwrap();
    let refused = landbank(&db, &["import", shp.to_str().unwrap(), "--collection", "plots"]);
    assert!(!refused.status.success());
    let message = text(&refused);
    assert!(
        message.contains("LO_DAT.shp") && message.contains("--srs vn2000:") && message.contains("crs list"),
        "{message}"
    );
    assert!(plots_of(&db, "BN-TEST").await.is_empty());
    let with_srs = landbank(
        &db,
        &["import", shp.to_str().unwrap(), "--collection", "plots", "--srs", "vn2000:bac-ninh"],
    );
    assert!(with_srs.status.success(), "{}", text(&with_srs));
    assert_eq!(plots_of(&db, "BN-TEST").await.len(), 2);

    // A bow-tie, a plot overlapping CN-01, a zone that does not exist: all listed, none written.
    let bowtie = serde_json::json!({ "type": "Polygon", "coordinates": [[
        [106.316, 21.010], [106.318, 21.012], [106.318, 21.010], [106.316, 21.012], [106.316, 21.010]
    ]] });
    write_geojson(
        &dir.path().join("bad.geojson"),
        vec![
            serde_json::json!({ "type": "Feature", "properties": { "code": "CN-03", "zone_code": "BN-TEST" }, "geometry": bowtie }),
            serde_json::json!({ "type": "Feature", "properties": { "code": "CN-04", "zone_code": "BN-TEST" }, "geometry": square(106.303, 21.003, 0.002) }),
            serde_json::json!({ "type": "Feature", "properties": { "code": "CN-05", "zone_code": "BN-NOPE" }, "geometry": square(106.312, 21.012, 0.002) }),
        ],
    );
    ogr2ogr(&[
        "-f",
        "GPKG",
        dir.path().join("bad.gpkg").to_str().unwrap(),
        dir.path().join("bad.geojson").to_str().unwrap(),
    ]);
    let bad =
        landbank(&db, &["import", dir.path().join("bad.gpkg").to_str().unwrap(), "--collection", "plots"]);
    assert!(!bad.status.success());
    let report = text(&bad);
    assert!(report.contains("BN-TEST-CN-03 (row 1, field geometry)"), "{report}");
    assert!(report.contains("overlaps plot BN-TEST-CN-01"), "{report}");
    assert!(report.contains("zone 'BN-NOPE'"), "{report}");
    assert!(report.contains("nothing was written"), "{report}");
    assert_eq!(plots_of(&db, "BN-TEST").await.len(), 2, "nothing of the bad file was written");

    let presets = landbank(&db, &["crs", "list"]);
    let presets = text(&presets);
    assert!(presets.contains("vn2000:bac-ninh") && presets.contains("9209"), "{presets}");
    assert_eq!(presets.lines().count(), 64, "a header and 63 provinces");
}

#[test]
fn plan_targets_come_in_from_a_csv_and_show_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("targets.db");
    assert!(landbank(&db, &["demo"]).status.success());
    let csv = dir.path().join("chi_tieu_2024.csv");
    std::fs::write(
        &csv,
        "province_code,year,metric,value,plan_ref\nVN-56,2024,infrastructure_ha,150,KH 2024\n",
    )
    .unwrap();
    let imported = landbank(&db, &["import", csv.to_str().unwrap(), "--collection", "targets"]);
    assert!(imported.status.success(), "{}", text(&imported));
    let report = landbank(&db, &["report", "--province", "VN-56", "--at", "2024-06-30", "--format", "csv"]);
    assert!(text(&report).contains("targets,VN-56,,infrastructure_ha_target,150.00,ha"), "{}", text(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kml_with_map_and_set_a_legacy_code_page_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("formats.db");
    files(dir.path());
    assert!(landbank(&db, &["demo"]).status.success());

    // Zones from a Shapefile in Windows-1258 whose .cpg went missing: --encoding says it, text comes back NFC.
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-lco",
        "ENCODING=CP1258",
        dir.path().join("KCN.shp").to_str().unwrap(),
        dir.path().join("zones.geojson").to_str().unwrap(),
    ]);
    std::fs::remove_file(dir.path().join("KCN.cpg")).unwrap();
    let zones = landbank(
        &db,
        &[
            "import",
            dir.path().join("KCN.shp").to_str().unwrap(),
            "--collection",
            "zones",
            "--encoding",
            "CP1258",
            "--map",
            "province_code=province_c",
        ],
    );
    assert!(zones.status.success(), "{}", text(&zones));
    let store = store::open(db.to_str().unwrap()).await.unwrap();
    let zone = store.item(&collections::ZONES, "BN-TEST").await.unwrap().unwrap();
    assert_eq!(zone.properties["name"], "KCN Thử nghiệm Đông Nam", "decoded from CP1258 and composed (NFC)");
    store.close().await;

    // Plots from KML (Google Earth's format): code from the placemark's Name, zone from --set.
    write_geojson(
        &dir.path().join("kml.geojson"),
        vec![
            serde_json::json!({ "type": "Feature", "properties": { "Name": "K-01" }, "geometry": square(106.305, 21.010, 0.003) }),
        ],
    );
    ogr2ogr(&[
        "-f",
        "KML",
        dir.path().join("lo.kml").to_str().unwrap(),
        dir.path().join("kml.geojson").to_str().unwrap(),
    ]);
    let kml = landbank(
        &db,
        &[
            "import",
            dir.path().join("lo.kml").to_str().unwrap(),
            "--collection",
            "plots",
            "--map",
            "code=Name",
            "--set",
            "zone_code=BN-TEST",
        ],
    );
    assert!(kml.status.success(), "{}", text(&kml));
    assert!(text(&kml).contains("code ← Name") && text(&kml).contains("EPSG:4326"), "{}", text(&kml));
    let plots = plots_of(&db, "BN-TEST").await;
    assert_eq!(plots.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["BN-TEST-K-01"]);

    // A self-intersecting plot is refused, and repaired with --fix (and the repair is listed).
    let bowtie = serde_json::json!({ "type": "Polygon", "coordinates": [[
        [106.316, 21.010], [106.318, 21.012], [106.318, 21.010], [106.316, 21.012], [106.316, 21.010]
    ]] });
    write_geojson(
        &dir.path().join("bowtie.geojson"),
        vec![
            serde_json::json!({ "type": "Feature", "properties": { "code": "CN-09", "zone_code": "BN-TEST" }, "geometry": bowtie }),
        ],
    );
    let path = dir.path().join("bowtie.geojson");
    let refused = landbank(&db, &["import", path.to_str().unwrap(), "--collection", "plots"]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("--fix"), "{}", text(&refused));
    let fixed = landbank(&db, &["import", path.to_str().unwrap(), "--collection", "plots", "--fix"]);
    assert!(fixed.status.success(), "{}", text(&fixed));
    assert!(text(&fixed).contains("repaired: feature BN-TEST-CN-09"), "{}", text(&fixed));
    assert_eq!(plots_of(&db, "BN-TEST").await.len(), 2);
}

/// A board's own words: zone and lease statuses in Vietnamese (any case, with or without tones) and dates
/// day first, as Vietnamese files write them, go in as landbank's values; a label it does not know is
/// refused with the values it accepts.
#[tokio::test]
async fn vietnamese_statuses_and_day_first_dates_go_in_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("words.db");
    write_geojson(
        &dir.path().join("kcn.geojson"),
        vec![
            serde_json::json!({ "type": "Feature", "properties": { "code": "VT-01", "name": "KCN Việt Thắng",
            "kind": "Khu công nghiệp", "province_code": "VN2025-24", "status": "ĐANG HOẠT ĐỘNG",
            "established_on": "15/03/2008" }, "geometry": square(106.40, 21.40, 0.02) }),
        ],
    );
    let zones =
        landbank(&db, &["import", dir.path().join("kcn.geojson").to_str().unwrap(), "--collection", "zones"]);
    assert!(zones.status.success(), "{}", text(&zones));
    write_geojson(
        &dir.path().join("hop-dong.geojson"),
        vec![
            serde_json::json!({ "type": "Feature", "id": "HD-01", "properties": { "zone_code": "VT-01",
                "status": "Đã cho thuê", "signed_on": "01/02/2010", "start_on": "1.3.2010" },
                "geometry": square(106.401, 21.401, 0.003) }),
            serde_json::json!({ "type": "Feature", "id": "HD-02", "properties": { "zone_code": "VT-01",
                "status": "da thu hoi", "signed_on": "2011-05-20", "start_on": "20/05/2011", "end_on": "31/12/2020" },
                "geometry": square(106.406, 21.401, 0.003) }),
        ],
    );
    let path = dir.path().join("hop-dong.geojson");
    let leases = landbank(&db, &["import", path.to_str().unwrap(), "--collection", "leases"]);
    assert!(leases.status.success(), "{}", text(&leases));
    let store = store::open(db.to_str().unwrap()).await.unwrap();
    let zone = store.item(&collections::ZONES, "VT-01").await.unwrap().unwrap();
    assert_eq!(
        (&zone.properties["status"], &zone.properties["kind"], &zone.properties["established_on"]),
        (
            &serde_json::json!("operating"),
            &serde_json::json!("industrial_park"),
            &serde_json::json!("2008-03-15")
        )
    );
    let one = store.item(&collections::LEASES, "HD-01").await.unwrap().unwrap();
    assert_eq!(
        (&one.properties["status"], &one.properties["start_on"]),
        (&serde_json::json!("active"), &serde_json::json!("2010-03-01"))
    );
    let two = store.item(&collections::LEASES, "HD-02").await.unwrap().unwrap();
    assert_eq!(
        (&two.properties["status"], &two.properties["end_on"]),
        (&serde_json::json!("revoked"), &serde_json::json!("2020-12-31"))
    );
    store.close().await;

    // A label landbank does not know: the file, the feature, the field and the accepted values.
    write_geojson(
        &dir.path().join("sai.geojson"),
        vec![serde_json::json!({ "type": "Feature", "id": "HD-03", "properties": { "zone_code": "VT-01",
            "status": "sắp ký", "signed_on": "01/02/2012" }, "geometry": square(106.411, 21.401, 0.003) })],
    );
    let refused = landbank(
        &db,
        &["import", dir.path().join("sai.geojson").to_str().unwrap(), "--collection", "leases"],
    );
    assert!(!refused.status.success());
    let message = text(&refused);
    assert!(
        message.contains("HD-03") && message.contains("status") && message.contains("reserved"),
        "{message}"
    );
}

/// A corrected file goes in again with `--update`: the plots it changes get a new version (with the file
/// as author), the ones it repeats are left alone, new ones are added; without `--update` the stored ids
/// are problems that say how to replace them, and nothing is written.
#[tokio::test]
async fn a_corrected_file_replaces_records_with_update() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("update.db");
    write_geojson(
        &dir.path().join("kcn.geojson"),
        vec![serde_json::json!({ "type": "Feature", "properties": { "code": "UP-01", "name": "KCN Sửa",
            "kind": "industrial_park", "province_code": "VN2025-24", "status": "operating" },
            "geometry": square(106.50, 21.50, 0.02) })],
    );
    let out =
        landbank(&db, &["import", dir.path().join("kcn.geojson").to_str().unwrap(), "--collection", "zones"]);
    assert!(out.status.success(), "{}", text(&out));
    let plot = |code: &str, x: f64, infra: Option<&str>| {
        serde_json::json!({ "type": "Feature", "properties": { "code": code, "zone_code": "UP-01", "infra_ready_on": infra },
            "geometry": square(x, 21.505, 0.002) })
    };
    let first = dir.path().join("lo-dat.geojson");
    write_geojson(&first, vec![plot("A", 106.501, None), plot("B", 106.504, None)]);
    let out = landbank(&db, &["import", first.to_str().unwrap(), "--collection", "plots"]);
    assert!(out.status.success(), "{}", text(&out));

    // The corrected file: A moved and with its infrastructure date, B as it was, C new.
    let corrected = dir.path().join("lo-dat-sua.geojson");
    write_geojson(
        &corrected,
        vec![plot("A", 106.5015, Some("2024-05-01")), plot("B", 106.504, None), plot("C", 106.508, None)],
    );
    let refused = landbank(&db, &["import", corrected.to_str().unwrap(), "--collection", "plots"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("already in the store (--update replaces stored records)"),
        "{}",
        text(&refused)
    );
    let dry = landbank(
        &db,
        &["import", corrected.to_str().unwrap(), "--collection", "plots", "--update", "--dry-run"],
    );
    assert!(dry.status.success(), "{}", text(&dry));
    assert_eq!(plots_of(&db, "UP-01").await.len(), 2, "neither the refusal nor the dry run wrote");

    let updated =
        landbank(&db, &["import", corrected.to_str().unwrap(), "--collection", "plots", "--update"]);
    assert!(updated.status.success(), "{}", text(&updated));
    assert!(
        text(&updated).contains("written 2 (1 replaced, 1 unchanged and left alone)"),
        "{}",
        text(&updated)
    );
    let plots = plots_of(&db, "UP-01").await;
    assert_eq!(plots.len(), 3);
    let a = plots.iter().find(|p| p.id.ends_with("A")).unwrap();
    assert_eq!(a.properties["infra_ready_on"], "2024-05-01");
    let store = store::open(db.to_str().unwrap()).await.unwrap();
    let history = store.versions(&collections::PLOTS, &a.id).await.unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[1].actor, "import lo-dat-sua.geojson");
    assert!(
        history[1].changed.iter().any(|c| c == "geometry")
            && history[1].changed.iter().any(|c| c == "infra_ready_on")
    );
    let b = plots.iter().find(|p| p.id.ends_with("B")).unwrap();
    assert_eq!(store.versions(&collections::PLOTS, &b.id).await.unwrap().len(), 1, "B was not written again");
    store.close().await;
}

/// Plots imported with ids of their own (`--map id=…`, as the peers' files and many boards' have) are
/// still found by the leases that name them by code in their zone.
#[tokio::test]
async fn leases_find_plots_by_code_whatever_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ids.db");
    write_geojson(
        &dir.path().join("kcn.geojson"),
        vec![serde_json::json!({ "type": "Feature", "properties": { "code": "ID-01", "name": "KCN Mã riêng",
            "kind": "industrial_park", "province_code": "VN2025-24", "status": "operating" },
            "geometry": square(106.60, 21.60, 0.02) })],
    );
    let out =
        landbank(&db, &["import", dir.path().join("kcn.geojson").to_str().unwrap(), "--collection", "zones"]);
    assert!(out.status.success(), "{}", text(&out));
    write_geojson(
        &dir.path().join("plots.geojson"),
        vec![
            serde_json::json!({ "type": "Feature", "properties": { "pid": "100017", "code": "P-17", "zone_code": "ID-01" },
            "geometry": square(106.601, 21.601, 0.002) }),
        ],
    );
    let out = landbank(
        &db,
        &[
            "import",
            dir.path().join("plots.geojson").to_str().unwrap(),
            "--collection",
            "plots",
            "--map",
            "id=pid",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(plots_of(&db, "ID-01").await[0].id, "100017");
    write_geojson(
        &dir.path().join("leases.geojson"),
        vec![serde_json::json!({ "type": "Feature", "id": "L-17", "properties": { "zone_code": "ID-01",
            "plot_codes": "P-17", "status": "active", "signed_on": "2019-06-01", "start_on": "2020-01-01" },
            "geometry": square(106.601, 21.601, 0.002) })],
    );
    let out = landbank(
        &db,
        &["import", dir.path().join("leases.geojson").to_str().unwrap(), "--collection", "leases"],
    );
    assert!(out.status.success(), "the lease finds plot P-17 of ID-01: {}", text(&out));
    // Through the API too: an edit naming the plot by code.
    let store = store::open(db.to_str().unwrap()).await.unwrap();
    let app = landbank::http::router(landbank::http::AppState::new(store.clone()));
    let (_, token) = landbank::auth::create(&store, landbank::auth::Role::Planner, "test").await.unwrap();
    let body = serde_json::json!({ "type": "Feature", "id": "L-18", "properties": { "zone_code": "ID-01",
        "plot_codes": "P-17", "status": "reserved", "signed_on": "2025-06-01" },
        "geometry": square(106.610, 21.610, 0.002) });
    let request = axum::http::Request::post("/collections/leases/items")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/geo+json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let reply = tower::ServiceExt::oneshot(app, request).await.unwrap();
    let status = reply.status();
    let bytes = http_body_util::BodyExt::collect(reply.into_body()).await.unwrap().to_bytes();
    let said = String::from_utf8_lossy(&bytes);
    assert!(status.is_success(), "the API finds plot P-17 by code as well: {status} {said}");
    store.close().await;
}

/// A file of a few thousand plots is read on one thread and checked on the others, a chunk at a time:
/// what is wrong is still reported by row in the file's order (checks of every kind, in chunks far
/// apart), nothing is written; the same file mended goes in whole, with the area it reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_of_thousands_of_plots_is_checked_in_parallel_and_reported_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thousands.db");
    files(dir.path());
    assert!(landbank(&db, &["migrate"]).status.success());
    let zones =
        landbank(&db, &["import", dir.path().join("zones.gpkg").to_str().unwrap(), "--collection", "zones"]);
    assert!(zones.status.success(), "{}", text(&zones));
    let bowtie = |lon: f64, lat: f64| {
        serde_json::json!({ "type": "Polygon", "coordinates": [[
            [lon, lat], [lon + 0.0003, lat + 0.0003], [lon + 0.0003, lat], [lon, lat + 0.0003], [lon, lat]
        ]] })
    };
    // 55 × 55 plots of about 30 m in the 0.02° zone, 5 m apart.
    let plot = |row: usize, broken: bool| {
        let (i, j) = ((row - 1) % 55, (row - 1) / 55);
        let (lon, lat) = (106.3005 + i as f64 * 0.00035, 21.0005 + j as f64 * 0.00035);
        let code = match row {
            2900 if broken => "P0010".to_string(),
            _ => format!("P{row:04}"),
        };
        let infra = if broken && row == 1500 { "soon" } else { "2025-03-01" };
        let geometry =
            if broken && (row == 7 || row == 2000) { bowtie(lon, lat) } else { square(lon, lat, 0.0003) };
        serde_json::json!({ "type": "Feature", "properties": { "code": code, "zone_code": "BN-TEST", "infra_ready_on": infra }, "geometry": geometry })
    };
    for (name, broken) in [("broken", true), ("mended", false)] {
        write_geojson(
            &dir.path().join(format!("{name}.geojson")),
            (1..=3025).map(|r| plot(r, broken)).collect(),
        );
        ogr2ogr(&[
            "-f",
            "GPKG",
            dir.path().join(format!("{name}.gpkg")).to_str().unwrap(),
            dir.path().join(format!("{name}.geojson")).to_str().unwrap(),
        ]);
    }
    let broken =
        landbank(&db, &["import", dir.path().join("broken.gpkg").to_str().unwrap(), "--collection", "plots"]);
    assert!(!broken.status.success());
    let report = text(&broken);
    let at = |needle: &str| report.find(needle).unwrap_or_else(|| panic!("no {needle:?} in {report}"));
    // Problems of a kind are listed together, kinds in the order they first appear in the file.
    let (first_bowtie, second_bowtie) = (at("(row 7, field geometry)"), at("(row 2000, field geometry)"));
    let (bad_date, twice) = (at("(row 1500, field infra_ready_on)"), at("(row 2900)"));
    assert!(first_bowtie < second_bowtie && second_bowtie < bad_date && bad_date < twice, "{report}");
    assert!(report.contains("'BN-TEST-P0010' appears twice"), "{report}");
    assert!(report.contains("read 3025, written 0") && report.contains("problems 4"), "{report}");
    assert!(plots_of(&db, "BN-TEST").await.is_empty(), "nothing of the broken file was written");

    let mended =
        landbank(&db, &["import", dir.path().join("mended.gpkg").to_str().unwrap(), "--collection", "plots"]);
    assert!(mended.status.success(), "{}", text(&mended));
    let plots = plots_of(&db, "BN-TEST").await;
    assert_eq!(plots.len(), 3025);
    let stored_ha: f64 = plots.iter().filter_map(|p| p.area_ha).sum();
    let reported = format!("written 3025, skipped 0, problems 0, repaired 0, area {stored_ha:.2} ha");
    assert!(text(&mended).contains(&reported), "{reported} in {}", text(&mended));
    // A first import this large packs SQLite's spatial index whole: SQLite finds it sound, and a box
    // finds exactly the plots in it (columns 1–3 of rows 1–2).
    let mut conn =
        <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
    let check: String =
        sqlx::query_scalar("SELECT rtreecheck('plots_rtree')").fetch_one(&mut conn).await.unwrap();
    assert_eq!(check, "ok");
    let store = store::open(db.to_str().unwrap()).await.unwrap();
    let query = ItemsQuery {
        bbox: Some([106.30051, 21.00051, 106.3005 + 2.0 * 0.00035 + 0.0001, 21.0005 + 0.00035 + 0.0001]),
        ..Default::default()
    };
    let mut codes: Vec<String> = store
        .items(&collections::PLOTS, &query)
        .await
        .unwrap()
        .rows
        .iter()
        .filter_map(|r| r.properties.get("code").and_then(|c| c.as_str()).map(String::from))
        .collect();
    store.close().await;
    codes.sort();
    assert_eq!(codes, ["P0001", "P0002", "P0003", "P0056", "P0057", "P0058"]);
}
