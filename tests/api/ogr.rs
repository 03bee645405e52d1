//! A real OGC API - Features client: GDAL's OAPIF driver (ogrinfo) against the service on a socket.

use std::process::Command;

use crate::helpers::{Backend, spawn_app};

fn ogrinfo(args: &[&str]) -> String {
    let output = Command::new("ogrinfo")
        .args(args)
        .output()
        .expect("ogrinfo (Debian package gdal-bin) must be installed: run scripts/test, which installs it");
    assert!(output.status.success(), "ogrinfo {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn gdal_lists_the_collections_and_reads_every_feature_through_paging(backend: Backend) {
    let app = spawn_app(backend).await;
    let base = app.serve().await;
    let source = format!("OAPIF:{base}");
    let listing = tokio::task::spawn_blocking({
        let source = source.clone();
        move || ogrinfo(&["-ro", "-q", &source])
    })
    .await
    .unwrap();
    for layer in ["zones", "land_use", "plots", "leases", "clearance_parcels", "available_land"] {
        assert!(listing.contains(&format!(": {layer} ")), "{layer} not listed:\n{listing}");
    }

    let expected: u64 = reqwest::get(format!("{base}/collections/plots/items?limit=1"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["numberMatched"]
        .as_u64()
        .unwrap();
    // GDAL pages through `next` links; count the features it read.
    let features =
        tokio::task::spawn_blocking(move || ogrinfo(&["-ro", "-al", "-q", &source, "plots"])).await.unwrap();
    let read = features.lines().filter(|l| l.starts_with("OGRFeature(plots)")).count() as u64;
    assert_eq!(read, expected, "GDAL read {read} of {expected} plots");
    assert!(features.contains("area_ha (Real)"), "typed properties reach GDAL");
}

crate::contract!(gdal_lists_the_collections_and_reads_every_feature_through_paging);
