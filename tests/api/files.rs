//! Files in and out through the CLI, on files GDAL's own tools make in the test: a Shapefile in VN-2000 /
//! TM-3 105°30′ (EPSG:9209) with TCVN3 text and no .cpg, a DXF drawing, broken files, and the round trip
//! import → export → import in every export format.

use std::path::Path;
use std::process::Command;

use landbank::collections;
use landbank::store;

use crate::import::{files, landbank, ogr2ogr, plots_of, shapefile_of_raw_csv, square, text, write_geojson};

/// Zone names as a board's old files hold them, in TCVN3 (ABC) bytes, and the Unicode that glibc's own
/// `TCVN5712-1` converter (an independent table) makes of them.
fn tcvn3_names() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("BN-TC1", b"KCN Qu\xd5 V\xe2 m\xeb r\xe9ng".to_vec()),
        ("BN-TC2", b"Khu c\xabng nghi\xd6p \xa7\xe5ng S\xe3c - B\xb8 Thi\xd6n".to_vec()),
        ("BN-TC3", b"KCN Ti\xaan S\xacn - Ph\xf3c Y\xaan".to_vec()),
    ]
}

fn iconv_tcvn(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("iconv")
        .args(["-f", "TCVN5712-1", "-t", "UTF-8"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("iconv (glibc) is on every Debian");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    use unicode_normalization::UnicodeNormalization;
    String::from_utf8(out.stdout).unwrap().nfc().collect()
}

/// The geodesic areas of every polygon of a layer after GDAL itself reprojects it to WGS 84, by `key`.
fn gdal_areas(file: &Path, key: &str) -> std::collections::HashMap<String, f64> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("wgs84.geojson");
    ogr2ogr(&[
        "-f",
        "GeoJSON",
        "-t_srs",
        "EPSG:4326",
        "-select",
        key,
        out.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let fc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let g: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).unwrap();
            let area = landbank::spatial::area_ha(&landbank::spatial::parse_polygonal(&g).unwrap());
            (f["properties"][key].as_str().unwrap().to_string(), area)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcvn3_shapefile_in_vn2000_imports_with_gdal_areas_and_unicode_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tcvn3.db");
    assert!(landbank(&db, &["demo"]).status.success());

    // A CSV holding the raw TCVN3 bytes becomes a Shapefile in EPSG:9209 through ogr2ogr with no
    // recoding (ENCODING= empty), and loses its .cpg: as old files come.
    let mut csv = b"WKT,MA_KCN,TEN_KCN,kind,province_code,status\n".to_vec();
    for (n, (code, name)) in tcvn3_names().iter().enumerate() {
        let lon = 106.30 + 0.03 * n as f64;
        // Not squares in the TM-3 plane: a skewed quadrilateral, so areas test the projection.
        csv.extend(
            format!(
                "\"POLYGON (({lon} 21.0,{} 21.001,{} 21.021,{lon} 21.018,{lon} 21.0))\",{code},",
                lon + 0.021,
                lon + 0.019
            )
            .as_bytes(),
        );
        csv.extend(name);
        csv.extend(b",industrial_park,VN-56,planned\n");
    }
    std::fs::write(dir.path().join("kcn.csv"), csv).unwrap();
    let shp = dir.path().join("KCN_CU.shp");
    shapefile_of_raw_csv(&dir.path().join("kcn.csv"), &shp);
    let _ = std::fs::remove_file(dir.path().join("KCN_CU.cpg"));

    let imported =
        landbank(&db, &["import", shp.to_str().unwrap(), "--collection", "zones", "--encoding", "auto"]);
    let report = text(&imported);
    assert!(imported.status.success(), "{report}");
    assert!(report.contains("text encoding: TCVN3 (auto: TCVN3: 3 of 3"), "{report}");
    assert!(report.contains("CRS EPSG:9209") && report.contains("written 3"), "{report}");

    let areas = gdal_areas(&shp, "MA_KCN");
    let store = store::open(db.to_str().unwrap()).await.unwrap();
    for (code, bytes) in tcvn3_names() {
        let zone = store.item(&collections::ZONES, code).await.unwrap().unwrap();
        assert_eq!(zone.properties["name"], iconv_tcvn(&bytes), "{code}: decoded as glibc does, NFC");
        assert_eq!(zone.source_crs.as_deref(), Some("EPSG:9209"));
        let area = zone.area_ha.unwrap();
        let gdal = areas[code];
        assert!((area - gdal).abs() < 0.0001, "{code}: {area} ha vs GDAL-reprojected {gdal} ha");
    }
    store.close().await;

    // Without --encoding the bytes are not Vietnamese; saying TCVN3 outright gives the same names.
    let dry = landbank(
        &db,
        &["import", shp.to_str().unwrap(), "--collection", "zones", "--encoding", "tcvn3", "--dry-run"],
    );
    assert!(
        text(&dry).contains("text encoding: TCVN3") && text(&dry).contains("already in the store"),
        "{}",
        text(&dry)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_keeps_geometry_and_text_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.db");
    files(dir.path());
    assert!(landbank(&first, &["demo"]).status.success());
    let zones_gpkg = dir.path().join("zones.gpkg");
    assert!(
        landbank(&first, &["import", zones_gpkg.to_str().unwrap(), "--collection", "zones"]).status.success()
    );
    let shp = dir.path().join("LO_DAT.shp");
    assert!(landbank(&first, &["import", shp.to_str().unwrap(), "--collection", "plots"]).status.success());

    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // The zone through a Shapefile in VN-2000 / TM-3, the plots through a GeoPackage.
    let kcn = out.join("KCN.shp");
    let exported = landbank(
        &first,
        &[
            "export",
            "--collection",
            "zones",
            "--filter",
            "code=BN-TEST",
            "--srs",
            "vn2000:bac-ninh",
            "--out",
            kcn.to_str().unwrap(),
        ],
    );
    assert!(exported.status.success(), "{}", text(&exported));
    assert!(text(&exported).contains("1 zones written (Shp, EPSG:9209)"), "{}", text(&exported));
    assert_eq!(std::fs::read_to_string(out.join("KCN.cpg")).unwrap(), "UTF-8");
    let plots = out.join("lo.gpkg");
    let exported = landbank(
        &first,
        &[
            "export",
            "--collection",
            "plots",
            "--filter",
            "zone_code=BN-TEST",
            "--out",
            plots.to_str().unwrap(),
        ],
    );
    assert!(exported.status.success(), "{}", text(&exported));
    let again = landbank(&first, &["export", "--collection", "plots", "--out", plots.to_str().unwrap()]);
    assert!(!again.status.success() && text(&again).contains("--overwrite"), "{}", text(&again));

    // Every other format is readable by GDAL with both plots.
    for format in ["shp", "kml", "geojson", "fgb", "csv", "dxf"] {
        let file = out.join(format!("every.{format}"));
        let exported = landbank(
            &first,
            &[
                "export",
                "--collection",
                "plots",
                "--filter",
                "zone_code=BN-TEST",
                "--format",
                format,
                "--out",
                file.to_str().unwrap(),
            ],
        );
        assert!(exported.status.success(), "{format}: {}", text(&exported));
        let info = Command::new("ogrinfo").args(["-ro", "-al", "-so"]).arg(&file).output().unwrap();
        let info = String::from_utf8_lossy(&info.stdout).into_owned();
        assert!(info.contains("Feature Count: 2"), "{format}: {info}");
    }

    // --bbox picks the features it meets; --at keeps the leases holding land that day, with that day's
    // status (checked against the leases' own dates).
    let boxed = out.join("boxed.geojson");
    let r = landbank(
        &first,
        &[
            "export",
            "--collection",
            "plots",
            "--bbox",
            "106.301,21.001,106.307,21.007",
            "--out",
            boxed.to_str().unwrap(),
        ],
    );
    assert!(text(&r).contains("1 plots written"), "{}", text(&r));
    let leases = out.join("thue_2010.csv");
    let r = landbank(
        &first,
        &[
            "export",
            "--collection",
            "leases",
            "--filter",
            "zone_code=BN-QV1",
            "--at",
            "2010-06-30",
            "--out",
            leases.to_str().unwrap(),
        ],
    );
    assert!(r.status.success(), "{}", text(&r));
    let store = store::open(first.to_str().unwrap()).await.unwrap();
    let at = landbank::domain::parse_date("2010-06-30").unwrap();
    let mut expected: Vec<(String, &str)> = Vec::new();
    for row in store.items(&collections::LEASES, &Default::default()).await.unwrap().rows {
        let lease: landbank::domain::Lease = row.parse("leases").unwrap();
        if let (true, Some(status)) = (lease.zone_code == "BN-QV1", lease.state_at(at).status()) {
            expected.push((row.id.clone(), status));
        }
    }
    store.close().await;
    let mut reader = csv::Reader::from_path(&leases).unwrap();
    let got: Vec<(String, String)> = reader
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(|r| {
            let r = r.unwrap();
            (r["id"].clone(), r["status"].clone())
        })
        .collect();
    assert!(!expected.is_empty() && expected.len() < 38, "some of Quế Võ's 38 leases held land in 2010");
    assert_eq!(got, expected.iter().map(|(i, s)| (i.clone(), s.to_string())).collect::<Vec<_>>());

    // Into a second store: the same names, the same shapes.
    let second = dir.path().join("second.db");
    assert!(landbank(&second, &["demo"]).status.success());
    let zones = landbank(&second, &["import", kcn.to_str().unwrap(), "--collection", "zones"]);
    assert!(zones.status.success(), "{}", text(&zones));
    assert!(text(&zones).contains("province_code ← province_c"), "cut names match again: {}", text(&zones));
    let plots_in = landbank(&second, &["import", plots.to_str().unwrap(), "--collection", "plots"]);
    assert!(plots_in.status.success(), "{}", text(&plots_in));

    let a = store::open(first.to_str().unwrap()).await.unwrap();
    let b = store::open(second.to_str().unwrap()).await.unwrap();
    let (za, zb) = (
        a.item(&collections::ZONES, "BN-TEST").await.unwrap().unwrap(),
        b.item(&collections::ZONES, "BN-TEST").await.unwrap().unwrap(),
    );
    assert_eq!(zb.properties["name"], "KCN Thử nghiệm Đông Nam");
    assert_eq!(za.properties, zb.properties);
    assert!((za.area_ha.unwrap() - zb.area_ha.unwrap()).abs() < 1e-6, "through VN-2000 and back");
    let (ga, gb) = (za.multipolygon("zones").unwrap().unwrap(), zb.multipolygon("zones").unwrap().unwrap());
    use geo::CoordsIter;
    for (p, q) in ga.coords_iter().zip(gb.coords_iter()) {
        assert!((p.x - q.x).abs() < 1e-8 && (p.y - q.y).abs() < 1e-8, "{p:?} vs {q:?}");
    }
    a.close().await;
    b.close().await;
    let (pa, pb) = (plots_of(&first, "BN-TEST").await, plots_of(&second, "BN-TEST").await);
    assert_eq!(pa.len(), 2);
    for (x, y) in pa.iter().zip(&pb) {
        assert_eq!((&x.id, &x.properties), (&y.id, &y.properties));
        let (a, b) = (x.area_ha.unwrap(), y.area_ha.unwrap());
        assert!((a - b).abs() < 1e-6, "{}: {a} ha vs {b} ha through a GeoPackage", x.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cad_drawings_bring_their_closed_outlines_and_skip_their_labels() {
    // DXF (AutoCAD) and DGN (MicroStation): a DXF entity has a handle; DGN elements have no unique
    // field, so their number in the file (FID) codes the plots.
    for (driver, ext, id_field) in [("DXF", "dxf", "EntityHandle"), ("DGN", "dgn", "FID")] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cad.db");
        files(dir.path());
        assert!(landbank(&db, &["demo"]).status.success());
        assert!(
            landbank(
                &db,
                &["import", dir.path().join("zones.gpkg").to_str().unwrap(), "--collection", "zones"]
            )
            .status
            .success()
        );
        // A polygon (a DXF hatch, a DGN shape), a closed polyline as CAD draws parcels, and a label point.
        let ring = square(106.310, 21.010, 0.003)["coordinates"][0].clone();
        write_geojson(
            &dir.path().join("drawing.geojson"),
            vec![
                serde_json::json!({ "type": "Feature", "properties": {}, "geometry": square(106.302, 21.010, 0.003) }),
                serde_json::json!({ "type": "Feature", "properties": {}, "geometry": { "type": "LineString", "coordinates": ring } }),
                serde_json::json!({ "type": "Feature", "properties": {}, "geometry": { "type": "Point", "coordinates": [106.3035, 21.0115] } }),
            ],
        );
        let drawing = dir.path().join(format!("BAN_VE.{ext}"));
        ogr2ogr(&[
            "-f",
            driver,
            "-t_srs",
            "EPSG:9209",
            drawing.to_str().unwrap(),
            dir.path().join("drawing.geojson").to_str().unwrap(),
        ]);

        // No CRS in the drawing: refused without one, then read with the province's preset.
        let refused = landbank(
            &db,
            &["import", drawing.to_str().unwrap(), "--collection", "plots", "--set", "zone_code=BN-TEST"],
        );
        assert!(!refused.status.success() && text(&refused).contains("--srs vn2000:"), "{}", text(&refused));
        let map = format!("code={id_field}");
        let imported = landbank(
            &db,
            &[
                "import",
                drawing.to_str().unwrap(),
                "--collection",
                "plots",
                "--srs",
                "vn2000:bac-ninh",
                "--map",
                &map,
                "--set",
                "zone_code=BN-TEST",
            ],
        );
        let report = text(&imported);
        assert!(imported.status.success(), "{driver}: {report}");
        assert!(report.contains("written 2, skipped 1"), "{driver}: {report}");
        let plots = plots_of(&db, "BN-TEST").await;
        assert_eq!(plots.len(), 2);
        let expected = landbank::spatial::area_ha(
            &landbank::spatial::parse_polygonal(
                &serde_json::from_value(square(106.310, 21.010, 0.003)).unwrap(),
            )
            .unwrap(),
        );
        for p in &plots {
            assert!(
                (p.area_ha.unwrap() - expected).abs() < 0.001,
                "{driver} {}: {:?} vs {expected}",
                p.id,
                p.area_ha
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_or_one_invalid_polygon_leaves_the_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("broken.db");
    files(dir.path());
    assert!(landbank(&db, &["demo"]).status.success());
    assert!(
        landbank(&db, &["import", dir.path().join("zones.gpkg").to_str().unwrap(), "--collection", "zones"])
            .status
            .success()
    );
    let count = || async {
        let store = store::open(db.to_str().unwrap()).await.unwrap();
        let n = store.count(&collections::PLOTS).await.unwrap();
        store.close().await;
        n
    };
    let before = count().await;

    // A GeoPackage cut short in transfer.
    let gpkg = dir.path().join("lo.gpkg");
    ogr2ogr(&["-f", "GPKG", gpkg.to_str().unwrap(), dir.path().join("plots.geojson").to_str().unwrap()]);
    let bytes = std::fs::read(&gpkg).unwrap();
    let cut = dir.path().join("cut.gpkg");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let broken = landbank(
        &db,
        &["import", cut.to_str().unwrap(), "--collection", "plots", "--set", "zone_code=BN-TEST"],
    );
    assert!(!broken.status.success());
    assert!(text(&broken).contains("cut.gpkg"), "names the file: {}", text(&broken));
    assert_eq!(count().await, before);

    // Three good plots and one self-intersecting one: none go in.
    let bowtie = serde_json::json!({ "type": "Polygon", "coordinates": [[
        [106.316, 21.010], [106.318, 21.012], [106.318, 21.010], [106.316, 21.012], [106.316, 21.010]
    ]] });
    let mut features: Vec<serde_json::Value> = (0..3)
        .map(|i| {
            serde_json::json!({ "type": "Feature", "properties": { "code": format!("G-{i}") },
            "geometry": square(106.302 + 0.004 * f64::from(i), 21.012, 0.003) })
        })
        .collect();
    features
        .push(serde_json::json!({ "type": "Feature", "properties": { "code": "G-X" }, "geometry": bowtie }));
    write_geojson(&dir.path().join("four.geojson"), features);
    let four = dir.path().join("four.gpkg");
    ogr2ogr(&["-f", "GPKG", four.to_str().unwrap(), dir.path().join("four.geojson").to_str().unwrap()]);
    let refused = landbank(
        &db,
        &["import", four.to_str().unwrap(), "--collection", "plots", "--set", "zone_code=BN-TEST"],
    );
    assert!(!refused.status.success());
    assert!(text(&refused).contains("BN-TEST-G-X (row 4, field geometry)"), "{}", text(&refused));
    assert_eq!(count().await, before, "all or nothing");
}
