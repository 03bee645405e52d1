//! The demo dataset: five provinces with their real zone names and locations, synthetic geometry sized so
//! that measured areas reproduce the boards' published figures (Bắc Ninh, 17/11/2023: 16 zones, 6,397.68 ha,
//! 2,481.57 ha leased, 60.04 %). Files live in `maps/demo/` (made by `cargo run --example make_demo`) and are
//! compiled into the binary, so `landbank serve --demo` works from any directory.

use std::sync::Arc;

use thiserror::Error;

use crate::collections::{self, Collection};
use crate::ingest::{self, IngestError};
use crate::store::{NewFeature, Store, StoreError};

/// What the demo says about itself wherever it is shown.
pub const NOTICE: &str = "Demo data: real zone names and locations, synthetic geometry sized to reproduce the \
    boards' published hectares; tenants, plots and parcels are invented.";

/// The demo files, by collection id, in load order. Provinces are not among them: the reference
/// geography ships with the schema ([`crate::geography`]).
pub const FILES: &[(&str, &str)] = &[
    ("zones", include_str!("../maps/demo/zones.geojson")),
    ("land_use", include_str!("../maps/demo/land_use.geojson")),
    ("plots", include_str!("../maps/demo/plots.geojson")),
    ("projects", include_str!("../maps/demo/projects.geojson")),
    ("leases", include_str!("../maps/demo/leases.geojson")),
    ("project_events", include_str!("../maps/demo/project_events.geojson")),
    ("project_results", include_str!("../maps/demo/project_results.geojson")),
    ("clearance_parcels", include_str!("../maps/demo/clearance_parcels.geojson")),
    ("targets", include_str!("../maps/demo/targets.geojson")),
];

#[derive(Debug, Error)]
pub enum DemoError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses and validates every demo file.
pub fn dataset() -> Result<Vec<(&'static Collection, Vec<NewFeature>)>, IngestError> {
    let mut batches = Vec::new();
    let mut zone_provinces = Default::default();
    for (id, text) in FILES {
        let collection =
            collections::ALL.iter().copied().find(|c| c.id == *id).expect("demo file of a known collection");
        let mut features = ingest::parse_feature_collection(
            collection,
            &format!("maps/demo/{id}.geojson"),
            text,
            &zone_provinces,
        )?;
        if collection.is(&collections::ZONES) {
            ingest::parents_first(&mut features);
            zone_provinces = ingest::zone_provinces(&features);
        }
        if collection.is(&collections::PROJECTS) {
            add_contacts(&mut features);
        }
        batches.push((collection, features));
    }
    Ok(batches)
}

/// Invented contacts for the demo's invented tenants (private fields: planners only), on reserved
/// example.vn addresses and 0123 numbers.
fn add_contacts(projects: &mut [NewFeature]) {
    use serde_json::Value;
    for (n, p) in projects.iter_mut().enumerate() {
        let slug = p.id.to_lowercase();
        p.properties
            .insert("contact_name".into(), Value::String(format!("Phòng Hành chính – Nhân sự {}", n + 1)));
        p.properties.insert(
            "contact_phone".into(),
            Value::String(format!("+84 123 {:03} {:03}", n / 1000, n % 1000)),
        );
        p.properties.insert("contact_email".into(), Value::String(format!("lienhe.{slug}@example.vn")));
    }
}

/// Whether the store holds the demo dataset (its first zone, written by the demo loader): only then do
/// responses and reports carry [`NOTICE`].
pub async fn is_loaded(store: &Arc<dyn Store>) -> Result<bool, StoreError> {
    let versions = store.versions(&collections::ZONES, "BN-TS").await?;
    Ok(versions.first().is_some_and(|v| v.actor == "demo"))
}

/// The demo notice, when the store holds the demo.
pub async fn notice(store: &Arc<dyn Store>) -> Result<Option<&'static str>, StoreError> {
    Ok(is_loaded(store).await?.then_some(NOTICE))
}

/// Loads the demo into `store` when it holds no zones yet; returns the number of records written (0 when
/// the store already had data, which is left untouched).
pub async fn load_if_empty(store: &Arc<dyn Store>) -> Result<u64, DemoError> {
    if store.count(&collections::ZONES).await? > 0 {
        return Ok(0);
    }
    let batches = tokio::task::spawn_blocking(dataset).await.expect("demo parsing does not panic")?;
    Ok(store.insert_by(&batches, "demo").await?)
}
