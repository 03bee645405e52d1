//! A board starting from its own files on an empty install: no demo, reference geography only. Every
//! collection comes in through `landbank import` from files GDAL's ogr2ogr (and glibc's iconv) make in
//! the test, as Vietnamese offices' files really come, then the board's figures are read back.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, scratch_database, without_timestamp};
use crate::import::{ogr2ogr, shapefile_of_raw_csv, text, write_geojson};

const BIN: &str = env!("CARGO_BIN_EXE_landbank");

fn landbank(database: &str, args: &[&str]) -> Output {
    Command::new(BIN).arg("--database").arg(database).args(args).output().unwrap()
}

/// Bytes of `text` in Windows-1258 as glibc's iconv writes them (base letters and combining tones).
fn cp1258(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("iconv")
        .args(["-f", "UTF-8", "-t", "CP1258"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("iconv (glibc) is on every Debian");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

/// Sets the language-driver byte (offset 29) of a DBF, as the program that wrote it would have.
fn set_language_driver(dbf: &Path, ldid: u8) {
    let mut bytes = std::fs::read(dbf).unwrap();
    bytes[29] = ldid;
    std::fs::write(dbf, bytes).unwrap();
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!({ "type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] })
}

fn area_ha(g: &Value) -> f64 {
    let g: geojson::Geometry = serde_json::from_value(g.clone()).unwrap();
    landbank::spatial::area_ha(&landbank::spatial::parse_polygonal(&g).unwrap())
}

/// A Shapefile of zones whose DBF holds Windows-1258 bytes and whose `.cpg` says so in `cpg_spelling`.
fn cp1258_zones(dir: &Path, cpg_spelling: &str) -> std::path::PathBuf {
    let zones = [
        ("HY-KD", "Khu công nghiệp Kim Động", "VN2025-33", "operating", "2015-03-01", 106.05),
        ("HY-TB1", "KCN Tiền Hải – Thái Bình", "VN-20", "established", "2012-06-01", 106.10),
    ];
    let mut csv = b"WKT,MA_KCN,TEN_KCN,TRANG_THAI,kind,province_code,established_on\n".to_vec();
    for (code, name, province, status, established, lon) in zones {
        csv.extend(
            format!(
                "\"POLYGON (({lon} 20.8,{} 20.8,{} 20.82,{lon} 20.82,{lon} 20.8))\",{code},",
                lon + 0.02,
                lon + 0.02
            )
            .as_bytes(),
        );
        csv.extend(cp1258(name));
        csv.extend(format!(",{status},industrial_park,{province},{established}\n").as_bytes());
    }
    std::fs::write(dir.join("kcn.csv"), csv).unwrap();
    let shp = dir.join("KCN.shp");
    shapefile_of_raw_csv(&dir.join("kcn.csv"), &shp);
    std::fs::write(dir.join("KCN.cpg"), cpg_spelling).unwrap();
    shp
}

async fn a_province_from_its_own_files_on_an_empty_database(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = scratch_database(backend, false, &dir).await;
    let migrated = landbank(&db, &["migrate"]);
    assert!(migrated.status.success(), "{}", text(&migrated));
    let d = dir.path();
    let import = |file: &Path, collection: &str, extra: &[&str]| {
        let mut args = vec!["import", file.to_str().unwrap(), "--collection", collection];
        args.extend_from_slice(extra);
        let out = landbank(&db, &args);
        assert!(out.status.success(), "import {collection}: {}", text(&out));
        text(&out)
    };

    // 1. Zones: a Shapefile in VN-2000 with Windows-1258 text, as ArcGIS writes it (".cpg": "ANSI 1258").
    let report = import(&cp1258_zones(d, "ANSI 1258"), "zones", &[]);
    assert!(report.contains("CP1258 (from the .cpg: 'ANSI 1258')"), "{report}");
    assert!(report.contains("code ← MA_KCN") && report.contains("name ← TEN_KCN"), "{report}");

    // 2. Land use (GeoPackage): industrial land of both zones.
    let industrial = [rect(106.052, 20.802, 106.068, 20.818), rect(106.102, 20.802, 106.118, 20.818)];
    write_geojson(
        &d.join("lu.geojson"),
        vec![
            json!({ "type": "Feature", "properties": { "ma_kcn": "HY-KD", "loai_dat": "industrial", "id": "HY-KD-LU1" }, "geometry": industrial[0] }),
            json!({ "type": "Feature", "properties": { "ma_kcn": "HY-TB1", "loai_dat": "industrial", "id": "HY-TB1-LU1" }, "geometry": industrial[1] }),
        ],
    );
    let lu = d.join("quy_hoach.gpkg");
    ogr2ogr(&["-f", "GPKG", lu.to_str().unwrap(), d.join("lu.geojson").to_str().unwrap()]);
    import(&lu, "land_use", &[]);

    // 3. Plots (GeoPackage in EPSG:9209).
    let plots = [rect(106.052, 20.802, 106.060, 20.818), rect(106.060, 20.802, 106.068, 20.818)];
    write_geojson(
        &d.join("lo.geojson"),
        vec![
            json!({ "type": "Feature", "properties": { "SO_HIEU": "CN-01", "MA_KCN": "HY-KD" }, "geometry": plots[0] }),
            json!({ "type": "Feature", "properties": { "SO_HIEU": "CN-02", "MA_KCN": "HY-KD" }, "geometry": plots[1] }),
        ],
    );
    let lo = d.join("lo_dat.gpkg");
    ogr2ogr(&[
        "-f",
        "GPKG",
        "-t_srs",
        "EPSG:9209",
        lo.to_str().unwrap(),
        d.join("lo.geojson").to_str().unwrap(),
    ]);
    import(&lo, "plots", &[]);

    // 4. Projects (CSV, no geometry).
    std::fs::write(
        d.join("du_an.csv"),
        "id,tenant_name,origin,zone_code,certificate_on,capital_usd\nHY-P1,Công ty TNHH Điện tử Kim Động,fdi,HY-KD,2016-01-10,25000000\n",
    )
    .unwrap();
    let projects = import(&d.join("du_an.csv"), "projects", &[]);
    assert!(!projects.contains("Today's figures"), "projects change no figure: {projects}");

    // 5. Leases (GeoJSON): CN-01 leased since 2016.
    write_geojson(
        &d.join("thue.geojson"),
        vec![json!({ "type": "Feature", "id": "HY-KD-L1", "properties": {
        "zone_code": "HY-KD", "project_id": "HY-P1", "plot_codes": "CN-01", "status": "active",
        "signed_on": "2016-02-01", "start_on": "2016-03-01" }, "geometry": plots[0] })],
    );
    import(&d.join("thue.geojson"), "leases", &[]);

    // 6. Clearance parcels (Shapefile, UTF-8 with its .cpg).
    write_geojson(
        &d.join("thua.geojson"),
        vec![json!({ "type": "Feature", "properties": {
        "MA_KCN": "HY-TB1", "SO_TO": "12", "SO_THUA": "345", "TRANG_THAI": "handed_over",
        "CHU_SU_DUNG": "Nguyễn Thị Hòa", "handed_over_on": "2013-01-15" }, "geometry": industrial[1] })],
    );
    let thua = d.join("THUA_DAT.shp");
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-lco",
        "ENCODING=UTF-8",
        thua.to_str().unwrap(),
        d.join("thua.geojson").to_str().unwrap(),
    ]);
    let last = import(&thua, "clearance_parcels", &[]);

    // Each import measured today's figures of the zones it changed and kept them in the database: a
    // service started now answers its first questions without measuring a zone, and answers what it
    // answers once nothing is kept.
    let today = landbank::domain::today();
    assert!(last.contains(&format!("Today's figures ({today}) are ready")), "{last}");
    let store = landbank::store::open(&db).await.unwrap();
    let started = |store: &std::sync::Arc<dyn landbank::store::Store>| {
        let router = landbank::http::router(landbank::http::AppState::new(store.clone()));
        TestApp::from_parts(store.clone(), router, db.clone(), tempfile::tempdir().unwrap())
    };
    // A past date too (the board's lease signed, not yet started): the import measured occupancy on
    // every date of its zones, so it is read as well, and afresh it comes with today's measure.
    let questions = [
        ("/occupancy?province_code=VN2025-33", "occupancy"),
        ("/available?province_code=VN2025-33", "available"),
        ("/occupancy?at=2016-02-15", "occupancy"),
    ];
    let app = started(&store);
    let mut kept = Vec::new();
    for (uri, figures) in questions {
        kept.push(without_timestamp(app.get(uri).await.json()));
        assert_eq!(app.zones_measured(figures).await, 0, "{uri}: a zone was measured after the imports");
    }
    app.execute_sql("DELETE FROM kept_figures").await;
    let fresh = started(&store);
    for ((uri, figures), kept) in questions.into_iter().zip(kept) {
        assert!(without_timestamp(fresh.get(uri).await.json()) == kept, "{uri}: kept and fresh differ");
        assert_eq!(fresh.zones_measured(figures).await, 2, "{uri}: nothing kept, both zones measured");
    }

    // The board's figures: the new Hưng Yên in 2026 holds both zones (one recorded under old Thái Bình).
    let out = landbank(&db, &["report", "--province", "VN2025-33", "--at", "2026-01-01", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let land = &report["land"];
    assert_eq!(report["province_name"], "Hưng Yên");
    assert_eq!(land["zones_total"], 2);
    let leasable = area_ha(&industrial[0]) + area_ha(&industrial[1]);
    let leased = area_ha(&plots[0]);
    assert!((land["leasable_ha"].as_f64().unwrap() - leasable).abs() < 0.01, "{land}");
    assert!((land["leased_ha"].as_f64().unwrap() - leased).abs() < 0.01, "{land}");
    let pct = 100.0 * leased / leasable;
    assert!((land["occupancy_pct"].as_f64().unwrap() - pct).abs() < 0.01, "{land}");
    // Old Thái Bình on its last day holds only its own zone.
    let out = landbank(&db, &["report", "--province", "VN-20", "--at", "2025-06-30", "--format", "json"]);
    let old: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(old["land"]["zones_total"], 1);

    // Text arrived whole: the last letter of every value and field name is there, in NFC.
    let store = landbank::store::open(&db).await.unwrap();
    let zone = store.item(&landbank::collections::ZONES, "HY-KD").await.unwrap().expect("HY-KD, not HY-K");
    assert_eq!(zone.properties["name"], "Khu công nghiệp Kim Động");
    assert_eq!(zone.properties["status"], "operating");
    let zone = store.item(&landbank::collections::ZONES, "HY-TB1").await.unwrap().unwrap();
    assert_eq!(zone.properties["name"], "KCN Tiền Hải – Thái Bình");
    store.close().await;
}

/// Every spelling of Windows-1258 a `.cpg` comes with; an unknown code page is refused by name; a zone
/// in a province that does not exist is refused naming the provinces there are; nothing is written.
async fn code_pages_and_provinces_are_checked_before_anything_is_written(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = scratch_database(backend, false, &dir).await;
    assert!(landbank(&db, &["migrate"]).status.success());
    for spelling in ["1258", "CP1258", "windows-1258", "ANSI 1258", "WINDOWS-1258\r\n"] {
        let shp = cp1258_zones(dir.path(), spelling);
        let out = landbank(&db, &["import", shp.to_str().unwrap(), "--collection", "zones", "--dry-run"]);
        let report = text(&out);
        assert!(out.status.success(), "{spelling}: {report}");
        assert!(report.contains("text encoding: CP1258"), "{spelling}: {report}");
    }
    let shp = cp1258_zones(dir.path(), "KOI9-XYZ");
    let out = landbank(&db, &["import", shp.to_str().unwrap(), "--collection", "zones"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("KCN.cpg names the code page 'KOI9-XYZ'"), "{}", text(&out));

    // Without a .cpg the text is detected, and the report says how sure it is — also when the DBF's
    // language-driver byte says Windows-1252 (0x57), as Vietnamese files' do whatever their text.
    std::fs::remove_file(dir.path().join("KCN.cpg")).unwrap();
    set_language_driver(&dir.path().join("KCN.dbf"), 0x57);
    let out = landbank(&db, &["import", shp.to_str().unwrap(), "--collection", "zones", "--dry-run"]);
    assert!(text(&out).contains("text encoding: CP1258 (auto:"), "{}", text(&out));
    // A language-driver byte naming a script of its own (0xC9, Windows-1251) decides.
    let cyrillic = encoding_rs::WINDOWS_1251.encode("Промзона Север").0.into_owned();
    let mut csv = b"WKT,MA_KCN,TEN_KCN,kind,province_code,status\n\"POLYGON ((106.2 20.8,106.21 20.8,106.21 20.81,106.2 20.81,106.2 20.8))\",RU-1,".to_vec();
    csv.extend(cyrillic);
    csv.extend(b",industrial_park,VN-HN,planned\n");
    std::fs::write(dir.path().join("ru.csv"), csv).unwrap();
    let ru = dir.path().join("RU.shp");
    shapefile_of_raw_csv(&dir.path().join("ru.csv"), &ru);
    let _ = std::fs::remove_file(dir.path().join("RU.cpg"));
    set_language_driver(&dir.path().join("RU.dbf"), 0xC9);
    let out = landbank(&db, &["import", ru.to_str().unwrap(), "--collection", "zones"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("language-driver byte 0xC9"), "{}", text(&out));
    let store = landbank::store::open(&db).await.unwrap();
    let zone = store.item(&landbank::collections::ZONES, "RU-1").await.unwrap().unwrap();
    assert_eq!(zone.properties["name"], "Промзона Север");
    store.close().await;

    write_geojson(
        &dir.path().join("z.geojson"),
        vec![json!({ "type": "Feature", "properties": {
        "code": "X-1", "name": "X", "kind": "industrial_park", "province_code": "VN-99", "status": "planned" },
        "geometry": rect(106.0, 21.0, 106.01, 21.01) })],
    );
    let out =
        landbank(&db, &["import", dir.path().join("z.geojson").to_str().unwrap(), "--collection", "zones"]);
    assert!(!out.status.success());
    let message = text(&out);
    assert!(message.contains("no province VN-99") && message.contains("VN2025-24 Bắc Ninh"), "{message}");
    assert!(!message.contains("FOREIGN KEY"), "{message}");
    let store = landbank::store::open(&db).await.unwrap();
    assert_eq!(store.count(&landbank::collections::ZONES).await.unwrap(), 1, "only RU-1");
    assert_eq!(store.count(&landbank::collections::PROVINCES).await.unwrap(), 86);
    store.close().await;
}

/// `landbank report` on a board's own data (not the demo): it reads the zones' figures kept in the
/// database and keeps those it measures, and its report is the same whether they were kept or not.
async fn the_report_command_reads_and_keeps_figures(backend: Backend) {
    use landbank::occupancy::KEPT_KIND;
    let dir = tempfile::tempdir().unwrap();
    let db = scratch_database(backend, false, &dir).await;
    let d = dir.path();
    let codes = ["RK-1", "RK-2"];
    let zone = |code: &str, x: f64| {
        json!({ "type": "Feature", "properties": { "code": code, "name": format!("KCN {code}"),
        "kind": "industrial_park", "province_code": "VN-56", "status": "operating", "established_on": "2010-01-01" },
        "geometry": rect(x, 21.0, x + 0.02, 21.02) })
    };
    let land = |code: &str, x: f64| {
        json!({ "type": "Feature", "properties": { "id": format!("{code}-LU"), "zone_code": code,
        "category": "industrial", "valid_from": "2010-01-01" }, "geometry": rect(x, 21.0, x + 0.02, 21.02) })
    };
    let lease = |code: &str, x: f64, start: &str| {
        json!({ "type": "Feature", "properties": { "id": format!("{code}-L"), "zone_code": code,
        "status": "active", "signed_on": start, "start_on": start }, "geometry": rect(x, 21.0, x + 0.01, 21.02) })
    };
    write_geojson(&d.join("kcn.geojson"), vec![zone(codes[0], 106.0), zone(codes[1], 106.1)]);
    write_geojson(&d.join("qh.geojson"), vec![land(codes[0], 106.0), land(codes[1], 106.1)]);
    write_geojson(
        &d.join("thue.geojson"),
        vec![lease(codes[0], 106.0, "2021-05-01"), lease(codes[1], 106.1, "2024-02-01")],
    );
    assert!(landbank(&db, &["migrate"]).status.success());
    for (file, collection) in
        [("kcn.geojson", "zones"), ("qh.geojson", "land_use"), ("thue.geojson", "leases")]
    {
        let path = d.join(file);
        let out =
            landbank(&db, &["import", path.to_str().unwrap(), "--collection", collection, "--skip-figures"]);
        assert!(out.status.success(), "{collection}: {}", text(&out));
    }
    let store = landbank::store::open(&db).await.unwrap();
    let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
    assert!(store.kept(KEPT_KIND, &codes).await.unwrap().is_empty(), "--skip-figures kept figures");
    let report = || {
        let out = landbank(&db, &["report", "--province", "VN-56", "--at", "2025-06-30", "--format", "json"]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let measured = report();
    assert_eq!(measured["land"]["zones_total"], 2, "{measured}");
    assert_eq!(store.kept(KEPT_KIND, &codes).await.unwrap().len(), 2, "the report kept what it measured");
    // Read from what the first report kept, then measured afresh with nothing kept: the same report.
    assert!(report() == measured, "a report from kept figures differs");
    let app = TestApp::from_parts(
        store.clone(),
        landbank::http::router(landbank::http::AppState::new(store.clone())),
        db.clone(),
        tempfile::tempdir().unwrap(),
    );
    app.execute_sql("DELETE FROM kept_figures").await;
    assert!(report() == measured, "a report measured afresh differs");
    store.close().await;
}

crate::contract!(
    the_report_command_reads_and_keeps_figures,
    a_province_from_its_own_files_on_an_empty_database,
    code_pages_and_provinces_are_checked_before_anything_is_written,
    imported_leases_meet_the_rules_edits_meet,
);

/// A file of leases meets the rules an API edit meets: land already held (by a stored lease or by
/// another lease of the same file), the dates a status needs, a project that exists. Nothing is written.
async fn imported_leases_meet_the_rules_edits_meet(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = scratch_database(backend, true, &dir).await;
    let store = landbank::store::open(&db).await.unwrap();
    let plot01 = store.item(&landbank::collections::PLOTS, "BN-QV1-CN-01").await.unwrap().unwrap();
    let plot01: Value = serde_json::from_str(plot01.geometry.as_deref().unwrap()).unwrap();
    let before = store.count(&landbank::collections::LEASES).await.unwrap();
    store.close().await;
    let free = {
        let app = crate::helpers::spawn_app(backend).await;
        app.get("/available?zone_code=BN-QV3&sortby=-area_ha&limit=1").await.json()["features"][0]["geometry"]
            .clone()
    };
    let lease = |id: &str, geometry: &Value, extra: Value| {
        let mut properties = json!({ "zone_code": "BN-QV1", "status": "reserved" });
        properties.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({ "type": "Feature", "id": id, "properties": properties, "geometry": geometry })
    };
    write_geojson(
        &dir.path().join("thue.geojson"),
        vec![
            lease("X-HELD", &plot01, json!({})),
            lease("X-NOSTART", &plot01, json!({ "status": "active", "project_id": "NOPE" })),
            lease("X-FIRST", &free, json!({ "zone_code": "BN-QV3" })),
            lease("X-SECOND", &free, json!({ "zone_code": "BN-QV3" })),
        ],
    );
    let out = landbank(
        &db,
        &["import", dir.path().join("thue.geojson").to_str().unwrap(), "--collection", "leases"],
    );
    let report = text(&out);
    assert!(!out.status.success(), "{report}");
    assert!(
        report.contains("feature X-HELD") && report.contains("already held by lease(s) BN-QV1-L001"),
        "{report}"
    );
    assert!(report.contains("an active lease needs start_on"), "{report}");
    assert!(report.contains("project_id 'NOPE' names no project"), "{report}");
    assert!(
        report.contains("feature X-SECOND") && report.contains("already held by lease(s) X-FIRST"),
        "{report}"
    );
    let store = landbank::store::open(&db).await.unwrap();
    assert_eq!(store.count(&landbank::collections::LEASES).await.unwrap(), before, "nothing written");
    store.close().await;
}

/// A MapInfo table whose header says `!charset WindowsVietnamese` and whose .dat holds Windows-1258
/// bytes, written byte by byte (GDAL writes no such file), imports with its names whole; with a
/// Neutral charset the same bytes are detected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapinfo_tables_in_windows_vietnamese() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = "Khu công nghiệp Kim Động";
    let legacy = cp1258(name);
    // A placeholder of the same length in ASCII, replaced afterwards by the legacy bytes.
    let placeholder = "X".repeat(legacy.len());
    std::fs::write(
        d.join("k.csv"),
        format!("WKT,MA_KCN,TEN_KCN\n\"POLYGON ((106 20.8,106.02 20.8,106.02 20.82,106 20.82,106 20.8))\",HY-KD,{placeholder}\n"),
    )
    .unwrap();
    for (charset, expect) in [
        ("WindowsVietnamese", "CP1258 (from the MapInfo charset WindowsVietnamese)"),
        ("Neutral", "CP1258 (auto:"),
    ] {
        let tab = d.join(format!("{charset}.tab"));
        ogr2ogr(&[
            "-f",
            "MapInfo File",
            "-a_srs",
            "EPSG:4326",
            "-oo",
            "GEOM_POSSIBLE_NAMES=WKT",
            "-oo",
            "KEEP_GEOM_COLUMNS=NO",
            tab.to_str().unwrap(),
            d.join("k.csv").to_str().unwrap(),
        ]);
        let dat = tab.with_extension("dat");
        let mut bytes = std::fs::read(&dat).unwrap();
        let at = bytes.windows(placeholder.len()).position(|w| w == placeholder.as_bytes()).unwrap();
        bytes[at..at + legacy.len()].copy_from_slice(&legacy);
        std::fs::write(&dat, bytes).unwrap();
        let header = std::fs::read_to_string(&tab)
            .unwrap()
            .replace("!charset Neutral", &format!("!charset {charset}"));
        std::fs::write(&tab, header).unwrap();

        let db = d.join(format!("{charset}.db"));
        let db = db.to_str().unwrap();
        let out = landbank(
            db,
            &[
                "import",
                tab.to_str().unwrap(),
                "--collection",
                "zones",
                "--set",
                "kind=industrial_park",
                "--set",
                "province_code=VN2025-33",
                "--set",
                "status=planned",
            ],
        );
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains(&format!("text encoding: {expect}")), "{}", text(&out));
        let store = landbank::store::open(db).await.unwrap();
        let zone = store.item(&landbank::collections::ZONES, "HY-KD").await.unwrap().unwrap();
        assert_eq!(zone.properties["name"], name, "{charset}");
        store.close().await;
    }
}

/// TCVN3 and VNI Shapefiles written byte by byte, with a `.cpg` naming them and without one (detected):
/// names arrive whole. The VNI bytes are those every Vietnamese office has seen as "Khu coâng nghieäp".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcvn3_and_vni_with_and_without_a_cpg() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&str, &[u8], &str); 2] = [
        // glibc: printf 'Khu công nghiệp Phố Yên' | iconv -t TCVN5712-1
        ("TCVN3", b"Khu c\xabng nghi\xd6p Ph\xe8 Y\xaan", "Khu công nghiệp Phố Yên"),
        ("VNI", b"Khu co\xe2ng nghie\xe4p Vie\xe4t Nam", "Khu công nghiệp Việt Nam"),
    ];
    for (encoding, bytes, expected) in cases {
        for with_cpg in [true, false] {
            let stem = format!("{encoding}-{with_cpg}");
            let mut csv = b"WKT,MA_KCN,TEN_KCN,kind,province_code,status\n\"POLYGON ((106 20.8,106.02 20.8,106.02 20.82,106 20.82,106 20.8))\",Z-1,".to_vec();
            csv.extend_from_slice(bytes);
            csv.extend(b",industrial_park,VN2025-19,planned\n");
            std::fs::write(d.join(format!("{stem}.csv")), csv).unwrap();
            let shp = d.join(format!("{stem}.shp"));
            shapefile_of_raw_csv(&d.join(format!("{stem}.csv")), &shp);
            let _ = std::fs::remove_file(shp.with_extension("cpg"));
            if with_cpg {
                std::fs::write(shp.with_extension("cpg"), encoding).unwrap();
            }
            let db = d.join(format!("{stem}.db"));
            let db = db.to_str().unwrap();
            let out = landbank(db, &["import", shp.to_str().unwrap(), "--collection", "zones"]);
            assert!(out.status.success(), "{stem}: {}", text(&out));
            let said =
                if with_cpg { format!("{encoding} (from the .cpg") } else { format!("{encoding} (auto:") };
            assert!(text(&out).contains(&format!("text encoding: {said}")), "{stem}: {}", text(&out));
            let store = landbank::store::open(db).await.unwrap();
            let zone = store.item(&landbank::collections::ZONES, "Z-1").await.unwrap().unwrap();
            assert_eq!(zone.properties["name"], expected, "{stem}");
            store.close().await;
        }
    }
}
