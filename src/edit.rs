//! Editing one record at a time (OGC API - Features Part 4): create, replace, update (JSON merge
//! patch) and delete, with the checks an import makes and those a single edit needs.
//!
//! Before anything is written: the body parses into the collection's domain type (vocabularies, dates,
//! required fields), geometry is valid, referenced records exist (zone, project, plots: 422 naming the
//! field), a plot lies inside its zone and overlaps no other plot, a lease lies on the zone's leasable
//! land and overlaps no other active or reserved lease (409 naming them), and a lease's status moves
//! only forward (reserved → active → terminated or revoked). Each write is one transaction with its
//! version kept in history; the version check makes a stale writer fail instead of overwriting. The
//! checks that read other records run inside that transaction, after [`Store::begin_write`] has taken
//! the zones it touches: of several writers racing for the same land, one passes and the others see it.
//! Tolerances are [`rules`]', shared with `landbank import`.

use std::sync::Arc;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::collections::{self, Check, Collection};
use crate::domain::{LandUse, Lease, LeaseStatus};
use crate::ingest::canonical_properties;
use crate::store::history::{Op, Write};
use crate::store::{Condition, FeatureRow, ItemsQuery, NewFeature, Store, StoreError};
use crate::{rules, spatial};

#[derive(Debug, Error)]
pub enum EditError {
    /// The body cannot be stored as it is (422); `field` names what is wrong.
    #[error("{detail}")]
    Invalid { field: Option<String>, detail: String },
    /// The body contradicts other records (409), e.g. a lease over another lease; `ids` names them.
    #[error("{detail}")]
    Conflict { detail: String, ids: Vec<String> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &str, detail: impl Into<String>) -> EditError {
    EditError::Invalid { field: Some(field.into()), detail: detail.into() }
}

/// Properties the service computes: accepted in a body (as GET returns them) and ignored.
const COMPUTED: &[&str] = &["area_ha", "area_source", "source_crs"];

/// The collections that can be edited (provinces are reference data that ships with landbank).
pub fn editable(id: &str) -> Option<&'static Collection> {
    collections::editable(id)
}

/// A feature body (`{"type": "Feature", "id"?, "geometry", "properties"}`) as a record to store.
async fn record(
    store: &Arc<dyn Store>,
    collection: &'static Collection,
    id: Option<String>,
    body: &Value,
) -> Result<NewFeature, EditError> {
    let object =
        body.as_object().ok_or_else(|| invalid("body", "the body must be a GeoJSON Feature object"))?;
    match object.get("type").and_then(Value::as_str) {
        Some("Feature") => {}
        Some(t) => return Err(invalid("type", format!("type is '{t}'; send one Feature"))),
        None => {
            return Err(invalid("type", "the body has no \"type\": \"Feature\"; send one GeoJSON Feature"));
        }
    }
    let mut properties: Map<String, Value> = match object.get("properties") {
        Some(Value::Object(p)) => p.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(invalid("properties", "properties must be an object")),
    };
    for key in COMPUTED {
        properties.remove(*key);
    }
    // zone_code follows the project (a decision on a project names only the project).
    if collection.field("project_id").is_some()
        && collection.field("zone_code").is_some()
        && properties.get("zone_code").is_none_or(Value::is_null)
        && let Some(project) = properties.get("project_id").and_then(Value::as_str)
        && let Some(row) = store.item(&collections::PROJECTS, project).await?
    {
        properties
            .insert("zone_code".into(), row.properties.get("zone_code").cloned().unwrap_or(Value::Null));
    }
    // province_code follows the zone.
    if collection.province_from_zone()
        && properties.get("province_code").is_none_or(Value::is_null)
        && let Some(zone) = properties.get("zone_code").and_then(Value::as_str)
    {
        let zone = store.item(&collections::ZONES, zone).await?.ok_or_else(|| {
            invalid("zone_code", format!("zone_code '{zone}' names no zone; create the zone first"))
        })?;
        properties.insert(
            "province_code".into(),
            zone.properties.get("province_code").cloned().unwrap_or(Value::Null),
        );
    }
    let properties = canonical_properties(collection, properties).map_err(|e| EditError::Invalid {
        detail: format!("properties: {e}"),
        field: e.field.or(Some("properties".into())),
    })?;
    let geometry = match (object.get("geometry"), collection.spatial) {
        (Some(g), true) if !g.is_null() => {
            let g: geojson::Geometry = serde_json::from_value(g.clone())
                .map_err(|e| invalid("geometry", format!("geometry: {e}")))?;
            Some(spatial::parse_polygonal(&g).map_err(|e| invalid("geometry", format!("geometry: {e}")))?)
        }
        (_, true) if collection.requires_geometry() => {
            return Err(invalid("geometry", "geometry is missing"));
        }
        _ => None,
    };
    let id = match id.or_else(|| body_id(object)).or_else(|| (collection.natural_id)(&properties)) {
        Some(id) => id,
        None => generated_id(collection, &properties)?,
    };
    rules::check_id(&id).map_err(|e| invalid("id", e))?;
    Ok(NewFeature { id, properties, geometry, source_crs: "EPSG:4326".into() })
}

fn body_id(object: &Map<String, Value>) -> Option<String> {
    match object.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// `<zone or collection>-<8 random hex digits>` for records without a natural id (leases, projects).
fn generated_id(collection: &Collection, p: &Map<String, Value>) -> Result<String, EditError> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|e| EditError::Invalid { field: None, detail: e.to_string() })?;
    let prefix = p.get("zone_code").and_then(Value::as_str).unwrap_or(collection.id);
    Ok(format!("{prefix}-{}{}", collection.id_letter, faster_hex::hex_string(&bytes)))
}

/// Fields whose values differ between two records (geometry as `geometry`).
fn changed_fields(collection: &Collection, before: Option<&NewFeature>, after: &NewFeature) -> Vec<String> {
    let mut changed: Vec<String> = collection
        .fields
        .iter()
        .filter(|f| before.is_none_or(|b| b.properties.get(f.name) != after.properties.get(f.name)))
        .map(|f| f.name.to_string())
        .collect();
    if collection.spatial && before.is_none_or(|b| b.geometry != after.geometry) {
        changed.push("geometry".into());
    }
    changed
}

fn zone_of(feature: &NewFeature, collection: &Collection) -> Option<String> {
    collection.zone_of(&feature.properties).map(str::to_string)
}

fn as_new(collection: &Collection, row: FeatureRow) -> Result<NewFeature, StoreError> {
    let geometry = row.multipolygon(collection.id)?;
    Ok(NewFeature {
        id: row.id,
        properties: row.properties,
        geometry,
        source_crs: row.source_crs.unwrap_or_default(),
    })
}

/// Checks a record against the others: references, containment, overlaps, lease status moves, project
/// decisions; returns the changes it makes to other records (leases a revocation ends).
async fn check(
    store: &Arc<dyn Store>,
    collection: &'static Collection,
    feature: &NewFeature,
    before: Option<&NewFeature>,
    actor: &str,
) -> Result<Vec<Write>, EditError> {
    let text = |k: &str| feature.properties.get(k).and_then(Value::as_str).map(str::to_string);
    let zone_row = match text("zone_code") {
        Some(code) if collection.field("zone_code").is_some() => Some(
            store
                .item(&collections::ZONES, &code)
                .await?
                .ok_or_else(|| invalid("zone_code", format!("zone_code '{code}' names no zone")))?,
        ),
        _ => None,
    };
    if collection.checks(Check::ParentZone)
        && let Some(parent) = text("parent_code")
        && store.item(&collections::ZONES, &parent).await?.is_none()
    {
        return Err(invalid("parent_code", format!("parent_code '{parent}' names no zone")));
    }
    let boundary = match &zone_row {
        Some(z) => z.multipolygon("zones")?,
        None => None,
    };
    if let (Some(g), Some(boundary)) = (&feature.geometry, &boundary)
        && collection.checks(Check::InsideZone)
        && let Some(outside) = rules::outside(g, boundary)
    {
        return Err(invalid(
            "geometry",
            format!("{outside:.4} ha of it lies outside zone {}", text("zone_code").unwrap_or_default()),
        ));
    }
    if collection.checks(Check::NoOverlap) {
        let zone = text("zone_code").unwrap_or_default();
        // Only the plots whose boxes meet this one's (the stores' spatial index).
        let bbox = feature.geometry.as_ref().and_then(spatial::bbox);
        let others = store
            .items(
                collection,
                &ItemsQuery {
                    conditions: vec![Condition::text_in("zone_code", [zone.as_str()])],
                    bbox,
                    ..Default::default()
                },
            )
            .await?
            .rows;
        let ids = overlapping(feature, &others, collection.id)?;
        if !ids.is_empty() {
            return Err(EditError::Conflict {
                detail: format!("the plot overlaps plot(s) {}", ids.join(", ")),
                ids,
            });
        }
    }
    if collection.checks(Check::LeasedPlots) {
        check_lease(store, feature, before, boundary.as_ref()).await?;
    }
    if collection.checks(Check::KnownProject) {
        let project = text("project_id").unwrap_or_default();
        if store.item(&collections::PROJECTS, &project).await?.is_none() {
            return Err(invalid(
                "project_id",
                format!("project_id '{project}' names no project; create it first"),
            ));
        }
    }
    if collection.checks(Check::ProjectDecision) {
        return check_decision(store, feature, before, actor).await;
    }
    Ok(Vec::new())
}

/// A decision on a project against the project, its other decisions and its leases (see
/// [`crate::register::check_decision`]); a termination or revocation ends the leases holding land on
/// its date, in the same write.
async fn check_decision(
    store: &Arc<dyn Store>,
    feature: &NewFeature,
    before: Option<&NewFeature>,
    actor: &str,
) -> Result<Vec<Write>, EditError> {
    use crate::domain::ProjectEvent;
    let parse = |f: &NewFeature| serde_json::from_value::<ProjectEvent>(Value::Object(f.properties.clone()));
    let event = parse(feature).map_err(|e| invalid("properties", e.to_string()))?;
    let mut inputs = crate::register::decision_inputs(store, std::slice::from_ref(&event.project_id)).await?;
    let replacing = before.and_then(|b| parse(b).ok());
    // A corrected termination or revocation first gives back what it took; the correction takes again.
    let restored = match &replacing {
        Some(old) => crate::register::undo_taking(store, &mut inputs, old).await?,
        None => Vec::new(),
    };
    let others: Vec<&ProjectEvent> = inputs
        .events
        .get(&event.project_id)
        .into_iter()
        .flatten()
        .filter(|(id, _)| *id != feature.id)
        .map(|(_, e)| e)
        .collect();
    let leases = inputs.leases.get(&event.project_id).map(Vec::as_slice).unwrap_or_default();
    let project = inputs.projects.get(&event.project_id);
    let taken = crate::register::check_decision(project, &event, replacing.as_ref(), &others, leases)
        .map_err(|e| invalid(e.field, e.message))?;
    let given_back: Vec<(String, Lease)> = leases
        .iter()
        .filter(|(id, _)| restored.contains(id) && !taken.iter().any(|(t, _)| t == id))
        .cloned()
        .collect();
    let mut writes = crate::register::end_leases(store, &inputs, &taken, &event, actor).await?;
    writes.extend(crate::register::rewrite_leases(store, &inputs, &given_back, actor).await?);
    Ok(writes)
}

/// Ids of `others` (not `feature` itself) whose geometry overlaps the feature's by more than the tolerance.
fn overlapping(
    feature: &NewFeature,
    others: &[FeatureRow],
    collection: &str,
) -> Result<Vec<String>, StoreError> {
    let Some(g) = &feature.geometry else { return Ok(vec![]) };
    let mut ids = Vec::new();
    for other in others.iter().filter(|o| o.id != feature.id) {
        let Some(og) = other.multipolygon(collection)? else { continue };
        if rules::overlap(g, &og).is_some() {
            ids.push(other.id.clone());
        }
    }
    Ok(ids)
}

async fn check_lease(
    store: &Arc<dyn Store>,
    feature: &NewFeature,
    before: Option<&NewFeature>,
    boundary: Option<&geo::MultiPolygon>,
) -> Result<(), EditError> {
    let lease: Lease = serde_json::from_value(Value::Object(feature.properties.clone()))
        .map_err(|e| invalid("properties", e.to_string()))?;
    // Status moves forward only, with the dates it needs.
    if let Some(before) = before {
        let old: Lease = serde_json::from_value(Value::Object(before.properties.clone()))
            .map_err(|e| invalid("status", e.to_string()))?;
        use LeaseStatus::*;
        let allowed = matches!(
            (old.status, lease.status),
            (Reserved, Reserved | Active | Revoked | Terminated)
                | (Active, Active | Terminated | Revoked)
                | (Terminated, Terminated)
                | (Revoked, Revoked)
        );
        if !allowed {
            return Err(invalid(
                "status",
                format!(
                    "a {} lease cannot become {}: reserved → active → terminated or revoked",
                    old.status.as_str(),
                    lease.status.as_str()
                ),
            ));
        }
    }
    rules::lease_dates(&lease).map_err(|(field, detail)| invalid(field, detail))?;
    if let Some(project) = &lease.project_id
        && store.item(&collections::PROJECTS, project).await?.is_none()
    {
        return Err(invalid("project_id", format!("project_id '{project}' names no project")));
    }
    if let Some(codes) = &lease.plot_codes {
        for code in codes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            // By zone and code, as the lease names it: a plot's id may be anything its file gave it.
            let query = crate::store::ItemsQuery {
                conditions: vec![
                    Condition::text_in("zone_code", [lease.zone_code.as_str()]),
                    Condition::text_in("code", [code]),
                ],
                limit: Some(1),
                ..Default::default()
            };
            if store.items(&collections::PLOTS, &query).await?.rows.is_empty() {
                return Err(invalid(
                    "plot_codes",
                    format!("plot_codes: no plot {code} in zone {}", lease.zone_code),
                ));
            }
        }
    }
    let Some(g) = &feature.geometry else { return Ok(()) };
    if !rules::holds(&lease) {
        return Ok(());
    }
    // On the zone's leasable land, as planned when the lease starts (or today).
    let on = rules::lease_day(&lease);
    let zone = Condition::text_in("zone_code", [lease.zone_code.as_str()]);
    let land_use = store
        .items(&collections::LAND_USE, &ItemsQuery { conditions: vec![zone.clone()], ..Default::default() })
        .await?
        .rows;
    let mut plans = Vec::new();
    for row in &land_use {
        if let Some(geometry) = row.multipolygon("land_use")? {
            plans.push((row.parse::<LandUse>("land_use")?, geometry));
        }
    }
    if let Some(land) = rules::leasable_on(&plans, boundary, on)
        && let Some(off) = rules::outside(g, &land)
    {
        return Err(invalid(
            "geometry",
            format!(
                "{off:.4} ha of the lease is not leasable land (industrial or warehouse) of zone {} on {on}",
                lease.zone_code
            ),
        ));
    }
    // No other lease holding the same land.
    let others = store
        .items(
            &collections::LEASES,
            &ItemsQuery { conditions: vec![zone], bbox: spatial::bbox(g), ..Default::default() },
        )
        .await?
        .rows;
    let mut holding = Vec::new();
    for other in others {
        let o: Lease = other.parse("leases")?;
        if rules::holds(&o) && rules::periods_meet(&o, &lease) {
            holding.push(other);
        }
    }
    let ids = overlapping(feature, &holding, "leases")?;
    if !ids.is_empty() {
        return Err(EditError::Conflict {
            detail: format!("the land is already held by lease(s) {}", ids.join(", ")),
            ids,
        });
    }
    Ok(())
}

/// The zones a change touches: the record's zone before and after.
fn zones(collection: &Collection, before: Option<&NewFeature>, after: &NewFeature) -> Vec<String> {
    let mut z: Vec<String> =
        before.and_then(|b| zone_of(b, collection)).into_iter().chain(zone_of(after, collection)).collect();
    z.dedup();
    z
}

async fn current(
    store: &Arc<dyn Store>,
    collection: &'static Collection,
    id: &str,
) -> Result<NewFeature, EditError> {
    let row = store
        .item(collection, id)
        .await?
        .ok_or_else(|| StoreError::NotFound { collection: collection.id.into(), id: id.into() })?;
    Ok(as_new(collection, row)?)
}

/// Creates a record from a feature body; returns its id and version (1, or the next after a deletion).
pub async fn create(
    store: &Arc<dyn Store>,
    collection: &'static Collection,
    body: &Value,
    actor: &str,
) -> Result<(String, i64), EditError> {
    let feature = record(store, collection, None, body).await?;
    // An id in use is refused by the write itself (StoreError::Exists), in its transaction; the checks
    // run while that transaction holds the zone, so no other writer can pass them at the same time.
    let tx = store.begin_write(&zones(collection, None, &feature)).await?;
    let follow_ups = match check(store, collection, &feature, None, actor).await {
        Ok(f) => f,
        Err(e) => {
            tx.rollback().await;
            return Err(e);
        }
    };
    let write = Write {
        collection,
        op: Op::Create,
        expected_version: None,
        changed: changed_fields(collection, None, &feature),
        zones: zones(collection, None, &feature),
        feature,
        actor: actor.into(),
    };
    let mut writes = vec![write];
    writes.extend(follow_ups);
    let versions = tx.write_all(&writes).await?;
    let write = writes.swap_remove(0);
    Ok((write.feature.id, versions[0]))
}

/// Replaces a record with a feature body (its id stays); returns the new version.
pub async fn replace(
    store: &Arc<dyn Store>,
    collection: &'static Collection,
    id: &str,
    body: &Value,
    expected_version: i64,
    actor: &str,
) -> Result<i64, EditError> {
    let before = current(store, collection, id).await?;
    let feature = record(store, collection, Some(id.into()), body).await?;
    save(store, collection, Op::Replace, before, feature, expected_version, actor).await
}

/// Applies a JSON merge patch (RFC 7396) to the record's feature (`{"properties": {…}, "geometry": …}`);
/// returns the new version.
pub async fn update(
    store: &Arc<dyn Store>,
    collection: &'static Collection,
    id: &str,
    patch: &Value,
    expected_version: i64,
    actor: &str,
) -> Result<i64, EditError> {
    if !patch.is_object() {
        return Err(invalid(
            "body",
            "a merge patch is a JSON object, e.g. {\"properties\": {\"status\": \"active\"}}",
        ));
    }
    let before = current(store, collection, id).await?;
    let mut document = serde_json::json!({
        "type": "Feature",
        "geometry": before.geometry.as_ref().map(|g| serde_json::to_value(spatial::to_geojson(g)).unwrap_or(Value::Null)),
        "properties": Value::Object(before.properties.clone()),
    });
    merge_patch(&mut document, patch);
    let feature = record(store, collection, Some(id.into()), &document).await?;
    save(store, collection, Op::Update, before, feature, expected_version, actor).await
}

async fn save(
    store: &Arc<dyn Store>,
    collection: &'static Collection,
    op: Op,
    before: NewFeature,
    feature: NewFeature,
    expected_version: i64,
    actor: &str,
) -> Result<i64, EditError> {
    let tx = store.begin_write(&zones(collection, Some(&before), &feature)).await?;
    let follow_ups = match check(store, collection, &feature, Some(&before), actor).await {
        Ok(f) => f,
        Err(e) => {
            tx.rollback().await;
            return Err(e);
        }
    };
    let write = Write {
        collection,
        op,
        expected_version: Some(expected_version),
        changed: changed_fields(collection, Some(&before), &feature),
        zones: zones(collection, Some(&before), &feature),
        feature: NewFeature {
            source_crs: if feature.geometry == before.geometry {
                before.source_crs.clone()
            } else {
                feature.source_crs.clone()
            },
            ..feature
        },
        actor: actor.into(),
    };
    let mut writes = vec![write];
    writes.extend(follow_ups);
    Ok(tx.write_all(&writes).await?[0])
}

/// Deletes a record (it stays in history); returns the version of the deletion.
pub async fn delete(
    store: &Arc<dyn Store>,
    collection: &'static Collection,
    id: &str,
    expected_version: i64,
    actor: &str,
) -> Result<i64, EditError> {
    let before = current(store, collection, id).await?;
    let tx = store.begin_write(&zones(collection, None, &before)).await?;
    // Deleting a termination or revocation gives back the leases it ended (that nobody changed since).
    let given_back = if collection.checks(Check::ProjectDecision) {
        match give_back(store, &before, actor).await {
            Ok(writes) => writes,
            Err(e) => {
                tx.rollback().await;
                return Err(e);
            }
        }
    } else {
        Vec::new()
    };
    let write = Write {
        collection,
        op: Op::Delete,
        expected_version: Some(expected_version),
        changed: vec![],
        zones: zones(collection, None, &before),
        feature: before,
        actor: actor.into(),
    };
    let mut writes = vec![write];
    writes.extend(given_back);
    Ok(tx.write_all(&writes).await?[0])
}

/// The writes that give back the leases decision `event` took (see [`crate::register::undo_taking`]).
async fn give_back(store: &Arc<dyn Store>, event: &NewFeature, actor: &str) -> Result<Vec<Write>, EditError> {
    let event: crate::domain::ProjectEvent = serde_json::from_value(Value::Object(event.properties.clone()))
        .map_err(|e| invalid("properties", e.to_string()))?;
    let mut inputs = crate::register::decision_inputs(store, std::slice::from_ref(&event.project_id)).await?;
    let restored = crate::register::undo_taking(store, &mut inputs, &event).await?;
    let leases: Vec<(String, Lease)> = inputs
        .leases
        .get(&event.project_id)
        .into_iter()
        .flatten()
        .filter(|(id, _)| restored.contains(id))
        .cloned()
        .collect();
    Ok(crate::register::rewrite_leases(store, &inputs, &leases, actor).await?)
}

/// RFC 7396: objects merge recursively, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let object = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            object.remove(key);
        } else {
            merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({ "a": "b", "c": { "d": "e", "f": "g" } });
        merge_patch(&mut doc, &json!({ "a": "z", "c": { "f": null } }));
        assert_eq!(doc, json!({ "a": "z", "c": { "d": "e" } }));
    }
}
