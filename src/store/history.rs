//! Versions of records and API tokens: the types both stores share and the SQL they run alike.
//!
//! Every write keeps a version row in `history` (who, when, which fields changed, the whole record), so
//! any collection can be read as it was stored at an instant, each item's versions listed and every
//! change audited. A version holds from `recorded_from_us` until `recorded_to_us` (microseconds since
//! 1970, UTC; `NULL` = current). Deleting keeps a version of its own (`op = delete`) with the last
//! properties, so a deleted feature stays in history.

use serde::Serialize;
use serde_json::{Map, Value};

use super::sql::{Bind, Binder};
use super::{FeatureRow, NewFeature};
use crate::collections::{Collection, FieldKind};

/// What a write does to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Create,
    Replace,
    Update,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Replace => "replace",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// One change to one record, written with its version in one transaction.
#[derive(Debug, Clone)]
pub struct Write {
    pub collection: &'static Collection,
    pub op: Op,
    /// The version the writer read (required except for create); a different current version fails
    /// with [`super::StoreError::Stale`].
    pub expected_version: Option<i64>,
    /// The record after the change; for a delete, the record as it was (kept in history).
    pub feature: NewFeature,
    /// Who writes: the token's name, or `import`, `demo`, …
    pub actor: String,
    /// Fields whose value changed (all of them on create).
    pub changed: Vec<String>,
    /// Zones whose figures the change touches (before and after), for per-zone caches.
    pub zones: Vec<String>,
}

/// A stored version of a record.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Version {
    pub collection: String,
    pub id: String,
    pub version: i64,
    pub op: Op,
    pub actor: String,
    /// When this version was stored (microseconds since 1970, UTC).
    pub recorded_from_us: i64,
    /// When the next version replaced it, if one did.
    pub recorded_to_us: Option<i64>,
    pub changed: Vec<String>,
    pub properties: Map<String, Value>,
    /// GeoJSON geometry text, WGS 84.
    pub geometry: Option<String>,
    pub area_ha: Option<f64>,
    pub source_crs: Option<String>,
}

impl Version {
    /// The version as a stored row (for as-of reads).
    pub fn into_row(self) -> FeatureRow {
        FeatureRow {
            id: self.id,
            properties: self.properties,
            geometry: self.geometry,
            area_ha: self.area_ha,
            source_crs: self.source_crs,
        }
    }

    /// Builds a version from the columns of [`VERSION_COLUMNS`], read by a store.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_columns(
        collection: String,
        id: String,
        version: i64,
        op: &str,
        actor: String,
        recorded: (i64, Option<i64>),
        changed: &str,
        properties: &str,
        geometry: (Option<String>, Option<f64>, Option<String>),
    ) -> Result<Version, super::StoreError> {
        let corrupt = |reason: String| super::StoreError::Corrupt {
            collection: collection.clone(),
            id: id.clone(),
            reason: format!("version {version}: {reason}"),
        };
        let op = match op {
            "create" => Op::Create,
            "replace" => Op::Replace,
            "update" => Op::Update,
            "delete" => Op::Delete,
            other => return Err(corrupt(format!("unknown op '{other}'"))),
        };
        let changed: Vec<String> = serde_json::from_str(changed).map_err(|e| corrupt(e.to_string()))?;
        let properties: Map<String, Value> =
            serde_json::from_str(properties).map_err(|e| corrupt(e.to_string()))?;
        Ok(Version {
            collection,
            id,
            version,
            op,
            actor,
            recorded_from_us: recorded.0,
            recorded_to_us: recorded.1,
            changed,
            properties,
            geometry: geometry.0,
            area_ha: geometry.1,
            source_crs: geometry.2,
        })
    }
}

/// Which changes the audit log lists.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub collection: Option<String>,
    /// Changes stored at or after this instant (µs since 1970, UTC).
    pub from_us: Option<i64>,
    /// Changes stored before this instant.
    pub to_us: Option<i64>,
    pub limit: u64,
    pub offset: u64,
}

/// An API token as stored (never the token itself: only its SHA-256).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Token {
    /// Public id, also the token's prefix: `lb_<token_id>_…`.
    pub token_id: String,
    pub name: String,
    /// `viewer`, `planner` or `admin`.
    pub role: String,
    pub created_us: i64,
    pub revoked_us: Option<i64>,
}

/// Now, in microseconds since 1970 (UTC).
pub fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Audit matches up to this many are found through the filter's indexes and sorted; more are read newest
/// first along history, where a page's worth lies close to the end.
pub(crate) const FEW_VERSIONS: i64 = 10_000;

/// Columns of a version, in the order [`Version::from_columns`] takes them.
pub(crate) const VERSION_COLUMNS: &str = "collection, id, version, op, actor, recorded_from_us, recorded_to_us, \
     changed, properties, geom, area_ha, source_crs";

/// The open (current or deleted) version of a record: its number and op.
pub(crate) const OPEN_VERSION: &str = "SELECT version, op FROM history \
     WHERE collection = $1 AND id = $2 AND recorded_to_us IS NULL";

/// The current version of the row `t` of collection `$1` (null when it has none), as a scalar
/// subquery: read in the same statement as the row, so that both come from one snapshot.
pub(crate) const CURRENT_VERSION_OF_ROW: &str = "(SELECT h.version FROM history h WHERE h.collection = $1 \
     AND h.id = t.id AND h.recorded_to_us IS NULL AND h.op <> 'delete')";

/// Closes the open version of a record if it is `version` and not a deletion (the optimistic lock).
pub(crate) const CLOSE_VERSION: &str = "UPDATE history SET recorded_to_us = $1 \
     WHERE collection = $2 AND id = $3 AND recorded_to_us IS NULL AND op <> 'delete' AND version = $4";

/// Closes whatever version is open (a deletion, before the id is created again).
pub(crate) const CLOSE_ANY: &str = "UPDATE history SET recorded_to_us = $1 \
     WHERE collection = $2 AND id = $3 AND recorded_to_us IS NULL";

pub(crate) const LAST_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0) FROM history WHERE collection = $1 AND id = $2";

pub(crate) const INSERT_VERSION: &str = "INSERT INTO history \
     (collection, id, version, op, actor, recorded_from_us, recorded_to_us, changed, properties, geom, area_ha, source_crs) \
     VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10, $11)";

/// Versions stored at `$2` of collection `$1` (deletions excluded), oldest record first, narrowed by
/// the text equality `conditions` (on the JSON of the properties: `json_text` says how a store reads a
/// property as text) whose values are bound from `$3` on; returns the SQL and those values.
pub(crate) fn as_of_sql(
    collection: &Collection,
    conditions: &[super::Condition],
    json_text: fn(&str) -> String,
) -> (String, Vec<String>) {
    let mut sql = format!(
        "SELECT {VERSION_COLUMNS} FROM history WHERE collection = $1 AND recorded_from_us <= $2 \
         AND (recorded_to_us IS NULL OR recorded_to_us > $2) AND op <> 'delete'"
    );
    let mut values = Vec::new();
    for c in conditions {
        let super::Condition::In { field, values: wanted } = c else { continue };
        let texts: Vec<String> = wanted
            .iter()
            .filter_map(|v| match v {
                crate::collections::FilterValue::Text(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        // Only fields of the collection (their names are trusted SQL), only all-text value lists.
        let column = if field == "id" {
            "id".to_string()
        } else if collection.field(field).is_some() {
            json_text(field)
        } else {
            continue;
        };
        if texts.is_empty() || texts.len() != wanted.len() || texts.len() > 1000 {
            continue;
        }
        let marks: Vec<String> = (0..texts.len()).map(|i| format!("${}", 3 + values.len() + i)).collect();
        sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
        values.extend(texts);
    }
    sql.push_str(" ORDER BY hid");
    (sql, values)
}

pub(crate) fn versions_sql() -> String {
    format!("SELECT {VERSION_COLUMNS} FROM history WHERE collection = $1 AND id = $2 ORDER BY version")
}

impl AuditQuery {
    /// The audit's WHERE clause for the filters actually given (`TRUE` for none), their values pushed
    /// onto `binder`. Filters not given are left out of the statement rather than bound as NULL (`$1 IS
    /// NULL OR actor = $1`): PostgreSQL's generic plan for a prepared statement cannot use an index
    /// behind such a condition, and walks all of history at scale.
    pub(crate) fn where_clause(&self, binder: &mut Binder) -> String {
        let mut terms = Vec::new();
        if let Some(actor) = &self.actor {
            terms.push(format!("actor = {}", binder.push(FieldKind::Text, Bind::Text(actor.clone()))));
        }
        if let Some(collection) = &self.collection {
            terms.push(format!(
                "collection = {}",
                binder.push(FieldKind::Text, Bind::Text(collection.clone()))
            ));
        }
        if let Some(from) = self.from_us {
            terms.push(format!("recorded_from_us >= {}", binder.push(FieldKind::Integer, Bind::Int(from))));
        }
        if let Some(to) = self.to_us {
            terms.push(format!("recorded_from_us < {}", binder.push(FieldKind::Integer, Bind::Int(to))));
        }
        if terms.is_empty() { "TRUE".to_string() } else { terms.join(" AND ") }
    }
}

pub(crate) const INSERT_TOKEN: &str =
    "INSERT INTO api_tokens (token_id, name, role, secret_sha256, created_us) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const TOKEN_BY_HASH: &str = "SELECT token_id, name, role, created_us, revoked_us FROM api_tokens \
     WHERE secret_sha256 = $1";
pub(crate) const TOKENS: &str =
    "SELECT token_id, name, role, created_us, revoked_us FROM api_tokens ORDER BY created_us";
pub(crate) const REVOKE_TOKEN: &str =
    "UPDATE api_tokens SET revoked_us = $1 WHERE (token_id = $2 OR name = $2) AND revoked_us IS NULL";

/// `INSERT … SELECT` of the first version of the rows of `collection`'s table that `new_rows` (a SQL
/// condition on `t`) selects, from the stored rows themselves (nothing is sent twice). Binds: `$1` now,
/// `$2` collection id, `$4` actor, `$5` changed fields (JSON); `$3` is free for `new_rows`.
/// `properties` is the store's expression of the row's properties as JSON text, `geometry` its GeoJSON.
pub(crate) fn first_versions_sql(
    collection: &Collection,
    new_rows: &str,
    properties: &str,
    geometry: &str,
) -> String {
    format!(
        "INSERT INTO history (collection, id, version, op, actor, recorded_from_us, recorded_to_us, changed, \
         properties, geom, area_ha, source_crs) \
         SELECT $2, t.id, 1 + COALESCE((SELECT MAX(h.version) FROM history h WHERE h.collection = $2 AND h.id = t.id), 0), \
         'create', $4, $1, NULL, $5, {properties}, {geometry}, t.area_ha, t.source_crs \
         FROM {} t WHERE {new_rows} ORDER BY t.fid",
        collection.table
    )
}

/// Closes the open versions (deletions) of ids about to be created again; binds as
/// [`first_versions_sql`].
pub(crate) fn close_reused_sql(collection: &Collection, new_rows: &str) -> String {
    format!(
        "UPDATE history SET recorded_to_us = $1 WHERE collection = $2 AND recorded_to_us IS NULL \
         AND id IN (SELECT t.id FROM {} t WHERE {new_rows})",
        collection.table
    )
}

/// Every field of the collection as changed (a record's first version).
pub(crate) fn all_fields_json(collection: &Collection) -> String {
    serde_json::to_string(&collection.fields.iter().map(|f| f.name).collect::<Vec<_>>()).unwrap_or_default()
}

/// The JSON text of a record's properties and its changed fields, as history keeps them.
pub(crate) fn json_texts(feature: &NewFeature, changed: &[String]) -> (String, String) {
    (
        Value::Object(feature.properties.clone()).to_string(),
        serde_json::to_string(changed).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::Dialect;

    #[test]
    fn an_audit_binds_only_the_filters_it_was_given() {
        let mut binder = Binder::new(Dialect::Postgres);
        let none = AuditQuery { limit: 10, ..Default::default() };
        assert_eq!(none.where_clause(&mut binder), "TRUE");
        assert!(binder.binds.is_empty());
        let some =
            AuditQuery { actor: Some("ban-ql".into()), to_us: Some(42), limit: 10, ..Default::default() };
        assert_eq!(some.where_clause(&mut binder), "actor = $1 AND recorded_from_us < $2");
        assert_eq!(binder.binds.len(), 2);
    }
}
