//! OGC API - Features Part 2 (coordinates in VN-2000, checked against GDAL's own transformation) and the
//! collections as downloadable files (CSV, GeoPackage), on both stores.

use std::io::Write;
use std::process::{Command, Stdio};

use landbank::collections;

use crate::helpers::{Backend, spawn_app};

const TM3_BAC_NINH: &str = "http://www.opengis.net/def/crs/EPSG/0/9209";

/// `gdaltransform` of lon/lat points from WGS 84 to `epsg` (x = easting, y = northing).
fn gdaltransform(points: &[(f64, f64)], epsg: u32) -> Vec<(f64, f64)> {
    let mut child = Command::new("gdaltransform")
        .args(["-s_srs", "EPSG:4326", "-t_srs", &format!("EPSG:{epsg}"), "-output_xy"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gdaltransform (gdal-bin) is installed by scripts/setup");
    let input: String = points.iter().map(|(x, y)| format!("{x:.12} {y:.12}\n")).collect();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|n| n.parse().unwrap()).collect();
            (v[0], v[1])
        })
        .collect()
}

fn positions(geometry: &serde_json::Value) -> Vec<(f64, f64)> {
    fn walk(v: &serde_json::Value, out: &mut Vec<(f64, f64)>) {
        match v.as_array() {
            Some(a) if a.first().is_some_and(|n| n.is_number()) => {
                out.push((a[0].as_f64().unwrap(), a[1].as_f64().unwrap()))
            }
            Some(a) => a.iter().for_each(|x| walk(x, out)),
            None => {}
        }
    }
    let mut out = Vec::new();
    walk(&geometry["coordinates"], &mut out);
    out
}

async fn vn2000_coordinates_match_gdal_to_the_millimetre(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply =
        app.get(&format!("/collections/plots/items?zone_code=BN-QV1&limit=5&crs={TM3_BAC_NINH}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.headers["content-crs"], format!("<{TM3_BAC_NINH}>"));
    let body = reply.json();
    let features = body["features"].as_array().unwrap();
    assert_eq!(features.len(), 5);
    for feature in features {
        let id = feature["id"].as_str().unwrap();
        // The stored coordinates at full precision, transformed by GDAL itself.
        let stored = app.store.item(&collections::PLOTS, id).await.unwrap().unwrap();
        let stored: serde_json::Value = serde_json::from_str(stored.geometry.as_ref().unwrap()).unwrap();
        let expected = gdaltransform(&positions(&stored), 9209);
        let served = positions(&feature["geometry"]);
        assert_eq!(served.len(), expected.len());
        for ((x, y), (ex, ey)) in served.iter().zip(&expected) {
            assert!(
                (x - ex).abs() <= 0.001 && (y - ey).abs() <= 0.001,
                "{id}: ({x}, {y}) vs GDAL ({ex}, {ey})"
            );
            assert!(*x > 500_000.0 && *y > 2_000_000.0, "easting first, in metres");
        }
    }

    // One feature; EPSG:4326 is latitude first.
    let one = app.get(&format!("/collections/plots/items/BN-QV1-CN-01?crs={TM3_BAC_NINH}")).await;
    assert_eq!(one.headers["content-crs"], format!("<{TM3_BAC_NINH}>"));
    let latlon =
        app.get("/collections/plots/items/BN-QV1-CN-01?crs=http://www.opengis.net/def/crs/EPSG/0/4326").await;
    let lonlat = app.get("/collections/plots/items/BN-QV1-CN-01").await;
    assert_eq!(lonlat.headers["content-crs"], "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>");
    let (a, b) = (positions(&latlon.json()["geometry"])[0], positions(&lonlat.json()["geometry"])[0]);
    assert!((a.0 - b.1).abs() < 1e-7 && (a.1 - b.0).abs() < 1e-7, "{a:?} is {b:?} swapped");

    // A box in VN-2000 metres around the first plot finds it, as the same box in degrees does.
    let (xs, ys): (Vec<f64>, Vec<f64>) = positions(&one.json()["geometry"]).into_iter().unzip();
    let fold = |v: &[f64], f: fn(f64, f64) -> f64| v.iter().copied().reduce(f).unwrap();
    let bbox = format!(
        "{},{},{},{}",
        fold(&xs, f64::min),
        fold(&ys, f64::min),
        fold(&xs, f64::max),
        fold(&ys, f64::max)
    );
    let boxed = app
        .get(&format!("/collections/plots/items?bbox={bbox}&bbox-crs={TM3_BAC_NINH}&limit=100"))
        .await
        .json();
    let ids: Vec<&str> =
        boxed["features"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"BN-QV1-CN-01") && ids.len() < 10, "{ids:?}");

    // What is served is declared; what is not is refused, naming the parameter.
    let conformance = app.get("/conformance").await.json();
    assert!(
        conformance["conformsTo"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().ends_with("ogcapi-features-2/1.0/conf/crs"))
    );
    let plots = app.get("/collections/plots").await.json();
    assert_eq!(plots["storageCrs"], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    let crs: Vec<&str> = plots["crs"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for code in [4326, 3405, 3406, 4756, 5896, 5897, 5898, 5899, 9205, 9209, 9218] {
        assert!(crs.contains(&format!("http://www.opengis.net/def/crs/EPSG/0/{code}").as_str()), "{code}");
    }
    let refused = app.get("/collections/plots/items?crs=http://www.opengis.net/def/crs/EPSG/0/3857").await;
    assert!(refused.problem(400).contains("9209"));
    assert_eq!(refused.json()["parameter"], "crs");
    let available = app.get(&format!("/available?zone_code=BN-QV1&limit=1&crs={TM3_BAC_NINH}")).await;
    assert_eq!(available.headers["content-crs"], format!("<{TM3_BAC_NINH}>"));
    assert!(positions(&available.json()["features"][0]["geometry"])[0].0 > 500_000.0);
}

async fn collections_download_as_csv_and_geopackage(backend: Backend) {
    let app = spawn_app(backend).await;
    let matched =
        app.get("/collections/zones/items?province_code=VN-56&limit=1").await.json()["numberMatched"]
            .as_u64()
            .unwrap();

    // CSV by Accept: every match (not one page), geometry as WKT, Vietnamese text as UTF-8.
    let csv = app.get_with("/collections/zones/items?province_code=VN-56", &[("accept", "text/csv")]).await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert!(csv.content_type().starts_with("text/csv"));
    let text = csv.text();
    assert!(text.starts_with("WKT,id,code,name"), "{}", &text[..80]);
    assert!(text.contains("Quế Võ"));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.records().count() as u64, matched);

    // GeoPackage in VN-2000: GDAL opens it and finds every zone, in EPSG:9209.
    let gpkg =
        app.get(&format!("/collections/zones/items?province_code=VN-56&f=gpkg&crs={TM3_BAC_NINH}")).await;
    assert_eq!(gpkg.status, 200, "{}", gpkg.text());
    assert_eq!(gpkg.content_type(), "application/geopackage+sqlite3");
    assert!(gpkg.headers["content-disposition"].to_str().unwrap().contains("zones.gpkg"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zones.gpkg");
    std::fs::write(&path, &gpkg.body).unwrap();
    let info = Command::new("ogrinfo").args(["-ro", "-so"]).arg(&path).arg("zones").output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    assert!(info.contains(&format!("Feature Count: {matched}")), "{info}");
    assert!(info.contains("ID[\"EPSG\",9209]"), "{info}");

    let refused = app.get("/collections/zones/items?f=xlsx").await;
    assert!(refused.problem(400).contains("gpkg"));
}

crate::contract!(vn2000_coordinates_match_gdal_to_the_millimetre, collections_download_as_csv_and_geopackage);
