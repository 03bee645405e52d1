//! SQL text and bound values shared by the stores: placeholders per dialect, WHERE clauses from
//! [`Condition`]s, and values typed by their field.

use serde_json::Value;

use super::{Condition, StoreError};
use crate::collections::{Collection, FieldKind, FilterValue};

/// Which placeholder and cast syntax to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `?` (positional); dates are ISO text, booleans integers.
    Sqlite,
    /// `$1`, `$2`, …; dates cast with `::date`.
    Postgres,
}

/// A value bound to a statement.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    /// NULL of a field's kind (PostgreSQL wants to know the type).
    Null(FieldKind),
    Text(String),
    Real(f64),
    Int(i64),
    Bool(bool),
    /// An array of integers (PostgreSQL's `= ANY($n)`).
    Ints(Vec<i64>),
}

impl Bind {
    /// The value of a property for a field of `kind`.
    pub(crate) fn from_property(kind: FieldKind, value: Option<&Value>) -> Bind {
        match value {
            None | Some(Value::Null) => Bind::Null(kind),
            Some(Value::String(s)) => Bind::Text(s.clone()),
            Some(Value::Bool(b)) => Bind::Bool(*b),
            Some(Value::Number(n)) if kind == FieldKind::Integer => Bind::Int(n.as_i64().unwrap_or_default()),
            Some(Value::Number(n)) => Bind::Real(n.as_f64().unwrap_or_default()),
            Some(other) => Bind::Text(other.to_string()),
        }
    }
}

impl From<&FilterValue> for Bind {
    fn from(v: &FilterValue) -> Self {
        match v {
            FilterValue::Text(s) => Bind::Text(s.clone()),
            FilterValue::Real(f) => Bind::Real(*f),
            FilterValue::Integer(i) => Bind::Int(*i),
            FilterValue::Bool(b) => Bind::Bool(*b),
        }
    }
}

/// Collects bound values and writes their placeholders.
pub(crate) struct Binder {
    dialect: Dialect,
    pub(crate) binds: Vec<Bind>,
}

impl Binder {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Binder { dialect, binds: Vec::new() }
    }

    /// Puts `binds` before those pushed so far: for SQL that uses its own values before a clause built
    /// earlier (SQLite's positional `?`).
    pub(crate) fn prepend(&mut self, binds: Vec<Bind>) {
        self.binds.splice(0..0, binds);
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Adds a value and returns its placeholder, cast for a field of `kind` where the dialect needs it.
    pub(crate) fn push(&mut self, kind: FieldKind, value: Bind) -> String {
        self.binds.push(value);
        match self.dialect {
            // Positional: each `?` takes the next value, so values are pushed in the order the SQL text
            // uses them. (Numbered `?N` would let a statement reuse one, but sqlx reads every parameter's
            // name from SQLite, a scan per parameter: quadratic for the long IN lists of imports and pages.)
            Dialect::Sqlite => "?".into(),
            Dialect::Postgres => {
                let n = self.binds.len();
                match kind {
                    FieldKind::Date => format!("${n}::date"),
                    _ => format!("${n}"),
                }
            }
        }
    }

    /// `t.a IN (…) AND (t.b <= … OR t.b IS NULL) …` for `conditions` on `collection`'s fields.
    pub(crate) fn where_clause(
        &mut self,
        collection: &Collection,
        conditions: &[Condition],
    ) -> Result<String, StoreError> {
        let mut parts = vec!["TRUE".to_string()];
        let field = |name: &str| {
            collection
                .filter_field(name)
                .ok_or_else(|| StoreError::Database(format!("{} has no field {name}", collection.id)))
        };
        for c in conditions {
            let (name, op, date, or_null) = match c {
                Condition::In { field: name, values } => {
                    let f = field(name)?;
                    if values.is_empty() {
                        parts.push("FALSE".into());
                        continue;
                    }
                    let marks: Vec<String> =
                        values.iter().map(|v| self.push(f.kind, Bind::from(v))).collect();
                    parts.push(format!("t.{} IN ({})", f.name, marks.join(", ")));
                    continue;
                }
                Condition::Filter(filter) => {
                    parts.push(filter.sql(self, true));
                    continue;
                }
                Condition::OnOrBefore { field: name, date, or_null } => (name, "<=", date, or_null),
                Condition::After { field: name, date, or_null } => (name, ">", date, or_null),
            };
            let f = field(name)?;
            let mark = self.push(FieldKind::Date, Bind::Text(date.to_string()));
            let null = if *or_null { format!(" OR t.{} IS NULL", f.name) } else { String::new() };
            parts.push(format!("(t.{} {op} {mark}{null})", f.name));
        }
        Ok(parts.join(" AND "))
    }
}

/// Maps sqlx errors to the store's: constraint violations by name, lost connections as unavailable.
/// What a broken schema rule means to the person who sent the data, and how to fix it: every named
/// constraint of the migrations, and SQLite's own wording (which names columns, or nothing for foreign
/// keys). Never the database's text.
pub(crate) fn explain_constraint(constraint: &str) -> String {
    let c = constraint;
    let has = |names: &[&str]| names.iter().any(|n| c == *n || c.contains(n));
    let text = if has(&["zones_code_unique", "zones.code"]) {
        "a zone with this code already exists: zone codes are unique; choose another code, or edit the existing zone"
    } else if has(&["plots_code_unique", "plots.zone_code, plots.code"]) {
        "the zone already has a plot with this code; choose another code, or edit the existing plot"
    } else if has(&["clearance_parcels_number_unique", "clearance_parcels.zone_code"]) {
        "the zone already has a parcel with this map sheet and parcel number; edit the existing parcel"
    } else if has(&["targets_unique", "targets.province_code"]) {
        "there is already a target for this province, period, metric and origin; edit it instead"
    } else if has(&["project_results_unique", "project_results.project_id"]) {
        "the project already has figures for this year (or quarter); edit them instead"
    } else if has(&["_project_fk"]) {
        "project_id names no project, or the project still has decisions or results recorded; create the \
         project first, or delete those records first"
    } else if has(&["provinces_code_unique", "provinces."]) {
        "provinces are reference data that ships with landbank; they cannot be added or changed"
    } else if has(&["_id_key", ".id"]) {
        "a record with this id already exists; choose another id, or edit the existing record"
    } else if has(&["zones_province_fk"]) {
        "the zone's province_code names no province; /collections/provinces/items lists them"
    } else if has(&["zones_parent_fk"]) {
        "the zone's parent_code names no zone; create the parent zone first"
    } else if has(&["leases_project_fk"]) {
        "project_id names no project; create or import the project first"
    } else if has(&["_zone_fk"]) {
        "zone_code names no zone; create or import the zone first"
    } else if has(&["FOREIGN KEY"]) {
        "the record refers to a province, zone, parent zone or project that does not exist; create it first"
    } else if has(&["_check"]) {
        return format!(
            "a value is not one the field accepts (rule {c}); /collections/{{collection}}/queryables lists the values"
        );
    } else {
        return format!("the change breaks a rule of the database ({c}); nothing was written");
    };
    text.to_string()
}

pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => {
            let message = db.message().to_string();
            let constraint = db.constraint().map(str::to_string).unwrap_or_else(|| {
                // SQLite names constraints in the message ("CHECK constraint failed: zones_status_check").
                message.rsplit(": ").next().unwrap_or_default().to_string()
            });
            // PostgreSQL classes 08 (connection), 53 (resources), 57P (shutdown, terminated), and 55000
            // (database not accepting connections) mean the database is away, not that the request was bad.
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            let away = code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "55000";
            if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation() {
                tracing::debug!(%constraint, %message, "a write broke a rule of the schema");
                let detail = explain_constraint(&constraint);
                StoreError::Constraint { constraint, message, detail }
            } else if away {
                StoreError::Unavailable(message)
            } else {
                StoreError::Database(message)
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Database(e.to_string()),
    }
}

#[cfg(test)]
mod constraint_tests {
    use super::explain_constraint;

    /// Every constraint the migrations name, and SQLite's wordings, has a message of its own that
    /// never repeats the database's text.
    #[test]
    fn every_constraint_has_a_message_a_person_can_act_on() {
        let sql = [
            include_str!("../../migrations/postgres/0001_inventory.sql"),
            include_str!("../../migrations/postgres/0003_targets.sql"),
        ]
        .concat();
        let names: Vec<&str> =
            sql.split("CONSTRAINT ").skip(1).filter_map(|rest| rest.split_whitespace().next()).collect();
        assert!(names.len() > 15, "{names:?}");
        let sqlite =
            ["zones.code", "plots.zone_code, plots.code", "zones.id", "FOREIGN KEY constraint failed"];
        for name in names.iter().copied().chain(sqlite) {
            let text = explain_constraint(name);
            assert!(!text.contains("breaks a rule of the database"), "{name}: {text}");
            assert!(!text.contains("UNIQUE") && !text.contains("FOREIGN"), "{name}: {text}");
        }
    }
}
