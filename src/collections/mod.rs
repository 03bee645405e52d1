//! The collections landbank serves and stores, each described once, in its own file: its fields and
//! their vocabularies, how its records are named, checked, read as of a date, tiled and imported.
//!
//! The stores (table and column names), the HTTP layer (OGC API metadata, queryables, OpenAPI), the
//! tiles, edits, imports and exports read these descriptions, so a field or a rule added here applies
//! everywhere at once. To add a collection: write its file beside these, list it in [`ALL`], add its
//! table to the migrations of both stores.

mod available_land;
mod clearance_parcels;
mod land_use;
mod leases;
mod plots;
mod project_events;
mod project_results;
mod projects;
mod provinces;
mod targets;
mod zones;

pub use available_land::AVAILABLE_LAND;
pub use clearance_parcels::CLEARANCE_PARCELS;
pub use land_use::LAND_USE;
pub use leases::LEASES;
pub use plots::PLOTS;
pub use project_events::PROJECT_EVENTS;
pub use project_results::PROJECT_RESULTS;
pub use projects::PROJECTS;
pub use provinces::PROVINCES;
pub use targets::TARGETS;
pub use zones::ZONES;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::domain::{Date, parse_date};

/// How a field is stored and served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// A floating-point number; its unit is in the field's name (`_ha`, `_usd`, `_m3d`).
    Real,
    Integer,
    /// An ISO 8601 date, `YYYY-MM-DD`.
    Date,
    Bool,
}

impl FieldKind {
    /// JSON Schema type of the field.
    pub fn json_type(self) -> &'static str {
        match self {
            FieldKind::Text | FieldKind::Date => "string",
            FieldKind::Real => "number",
            FieldKind::Integer => "integer",
            FieldKind::Bool => "boolean",
        }
    }
}

/// Vietnamese labels boards write in their own files, by vocabulary code, written without tones (they
/// are compared after folding: "Đang hoạt động", "dang hoat dong" and "ĐANG HOẠT ĐỘNG" are one label).
pub type Labels = &'static [(&'static str, &'static [&'static str])];

/// One attribute of a collection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub kind: FieldKind,
    pub description: &'static str,
    /// Personal or commercial data (owners, contacts, compensation): served to planners and admins only;
    /// for anyone else the field is absent.
    pub private: bool,
    /// The values of a closed vocabulary (the domain type's names), if the field has one.
    pub values: Option<&'static [&'static str]>,
    /// The boards' own words for those values (see [`Labels`]), read on import.
    pub labels: Labels,
}

/// A value parsed for a filter, typed by its field.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Real(f64),
    Integer(i64),
    Bool(bool),
}

impl Field {
    /// Parses a filter value given as text, naming the field and the expected form when it does not fit.
    pub fn parse_filter(&self, text: &str) -> Result<FilterValue, String> {
        let fail = |what: &str| format!("filter {}='{text}': expected {what}", self.name);
        Ok(match self.kind {
            FieldKind::Text => FilterValue::Text(text.to_string()),
            FieldKind::Date => FilterValue::Text(
                parse_date(text).map_err(|e| format!("filter {}: {e}", self.name))?.to_string(),
            ),
            FieldKind::Real => FilterValue::Real(text.parse().map_err(|_| fail("a number"))?),
            FieldKind::Integer => FilterValue::Integer(text.parse().map_err(|_| fail("an integer"))?),
            FieldKind::Bool => FilterValue::Bool(match text {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(fail("true or false")),
            }),
        })
    }
}

/// A check a new or changed record must pass against the records already stored (edits and imports
/// run them inside the write transaction that holds the record's zones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The record's geometry lies inside its zone's boundary (within the tolerance of
    /// [`crate::rules::outside`]).
    InsideZone,
    /// The record's geometry does not overlap another record of the collection in its zone.
    NoOverlap,
    /// `parent_code` names a stored zone.
    ParentZone,
    /// A lease's plots exist, and no other lease holds them at the same time.
    LeasedPlots,
    /// A decision on a project: the project exists, the decision is not before its certificate, its
    /// capital never falls below zero, and a termination or revocation has land to take back (which it
    /// does, in the same write).
    ProjectDecision,
    /// `project_id` names a stored project (the record's zone and province follow the project's).
    KnownProject,
}

/// What a collection's tiles carry beyond its stored fields, computed on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileExtra {
    /// Nothing: the stored fields as of the date.
    None,
    /// A zone's occupancy figures on the date and the province holding it then.
    ZoneFigures,
    /// A plot's lease status on the date.
    LeaseStatus,
    /// The collection is computed (available land): its pieces are the features.
    Computed,
}

/// How a collection is served as vector tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiles {
    /// The properties each feature carries, with what they mean (TileJSON's `vector_layers[].fields`):
    /// exactly what the tiles hold, so a map never styles on a field that is absent, and private
    /// fields are never even named.
    pub fields: &'static [(&'static str, &'static str)],
    /// The shallowest zoom with features (shallower tiles are empty, 204, and TileJSON says so): plots,
    /// leases and parcels are a few tens of metres across, invisible below z12, where a tile over a
    /// province would carry every one of them (2.3 MB at z10 over 100,000 plots).
    pub min_zoom: u8,
    pub extra: TileExtra,
}

/// Rewrites a record's properties as they stood on a date; false when it did not exist then.
pub type AsOf = fn(&mut Properties, Date) -> Result<bool, String>;

/// Properties as stored, for the per-collection functions below.
pub type Properties = Map<String, Value>;

/// Why properties do not fit a collection: which field (if one), whether it is missing, and what is
/// wrong with it. Shown as `field NAME: reason`, or the reason alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyError {
    pub field: Option<String>,
    /// The field is required and absent (or null).
    pub missing: bool,
    pub reason: String,
}

impl PropertyError {
    /// `field` holds a wrong value.
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        PropertyError { field: Some(field.to_string()), missing: false, reason: reason.into() }
    }
}

impl std::fmt::Display for PropertyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) if !self.missing => write!(f, "field {field}: {}", self.reason),
            _ => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for PropertyError {}

/// A collection: a table of features (or of plain records when it has no geometry).
#[derive(Debug)]
pub struct Collection {
    /// Identifier in URLs, e.g. `zones`.
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// Table name in every store.
    pub table: &'static str,
    /// Whether records carry a polygon geometry (and so `area_ha` and a bounding-box index).
    pub spatial: bool,
    /// Whether a spatial record may be stored without its geometry for now (a zone known before its
    /// boundary is drawn).
    pub geometry_optional: bool,
    /// Whether OGC API - Features lists it under `/collections`.
    pub published: bool,
    /// Computed from other collections on request (no table of its own).
    pub computed: bool,
    /// Whether people edit it (API) and load it (import); reference data shipped with landbank is not.
    pub editable: bool,
    pub fields: &'static [Field],
    /// The field holding a record's zone: the zone's own `code` for zones, `zone_code` for records
    /// inside a zone, `None` for records outside any zone. Writes lock the zones named here.
    pub zone_key: Option<&'static str>,
    /// The checks against stored records, in order (see [`Check`]).
    pub checks: &'static [Check],
    /// Validates properties against the collection's domain type and returns them as stored
    /// (defaults filled, canonical spellings).
    pub canonical: fn(Properties) -> Result<Properties, PropertyError>,
    /// The id a record's own codes give it, if any (`BN-QV1-A12` for plot A12 of zone BN-QV1).
    pub natural_id: fn(&Properties) -> Option<String>,
    /// The letter of generated ids, `<zone>-<letter><8 hex digits>`, for records without a natural id.
    pub id_letter: &'static str,
    /// The record as of a date: rewrites what changes with dates (a zone's status) and says whether
    /// the record exists then (a land-use plan in force, a lease held). `None`: the record stands as
    /// stored on every date (plots, provinces).
    pub as_of: Option<AsOf>,
    /// How it is tiled, if it is.
    pub tiles: Option<Tiles>,
    /// Source field names boards use for a field, already normalised (lower-case ASCII letters and
    /// digits), tried before [`COMMON_ALIASES`].
    pub aliases: &'static [(&'static str, &'static [&'static str])],
}

/// What most collections share; each collection states what differs.
pub(crate) const BASE: Collection = Collection {
    id: "",
    title: "",
    description: "",
    table: "",
    spatial: false,
    geometry_optional: false,
    published: true,
    computed: false,
    editable: true,
    fields: &[],
    zone_key: Some("zone_code"),
    checks: &[],
    canonical: |p| Ok(p),
    natural_id: |_| None,
    id_letter: "P",
    as_of: None,
    tiles: None,
    aliases: &[],
};

impl Collection {
    /// Whether this is `other` (collections are told apart by id).
    pub fn is(&self, other: &Collection) -> bool {
        self.id == other.id
    }

    /// The field called `name`, if any.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether any field is private (see [`Field::private`]).
    pub fn has_private_fields(&self) -> bool {
        self.fields.iter().any(|f| f.private)
    }

    /// Whether records carry `province_code` filled from their zone (every collection inside zones
    /// that has the field; zones give their own).
    pub fn province_from_zone(&self) -> bool {
        self.zone_key == Some(ZONE_CODE.name) && self.field(PROVINCE_CODE.name).is_some()
    }

    /// The zone code a record names (see [`Collection::zone_key`]).
    pub fn zone_of<'a>(&self, properties: &'a Properties) -> Option<&'a str> {
        properties.get(self.zone_key?)?.as_str()
    }

    /// Whether the collection's records must pass `check`.
    pub fn checks(&self, check: Check) -> bool {
        self.checks.contains(&check)
    }

    /// Whether a record without geometry is refused.
    pub fn requires_geometry(&self) -> bool {
        self.spatial && !self.geometry_optional
    }

    /// Source field names boards use for `target` (see [`Collection::aliases`]).
    pub fn aliases_of(&self, target: &str) -> &'static [&'static str] {
        let own = self.aliases.iter().chain(COMMON_ALIASES).find(|(name, _)| *name == target);
        own.map_or(&[], |(_, names)| *names)
    }

    /// Fields usable as filters: every stored field anyone may read (private fields, such as a parcel's
    /// owner, are never filters: a match would tell what they hold).
    /// Spatial collections add the measured `area_ha` of every record's geometry (for computed
    /// available land: the piece's available hectares). `filter=` takes all of them.
    pub fn queryables(&self) -> impl Iterator<Item = &'static Field> + '_ {
        let area = (self.spatial && self.field(AREA_HA.name).is_none()).then_some(&AREA_HA);
        let lease_status = self.has_lease_status().then_some(&LEASE_STATUS);
        self.fields.iter().filter(|f| !f.private).chain(area).chain(lease_status)
    }

    /// Whether records carry a `lease_status` computed from the leases on them (plots).
    fn has_lease_status(&self) -> bool {
        self.tiles.is_some_and(|t| t.extra == TileExtra::LeaseStatus)
    }

    /// Whether `field` is computed on request from other collections (a plot's `lease_status`), so
    /// that no store can filter on it.
    pub fn is_computed(&self, field: &str) -> bool {
        self.has_lease_status() && field == LEASE_STATUS.name
    }

    /// The queryables that are also query parameters of their own (`?zone_code=BN-QV1`): all of a
    /// stored collection's; computed available land takes those `/available` takes.
    pub fn equality_filters(&self) -> impl Iterator<Item = &'static Field> + '_ {
        let computed_filters: &[&str] = &["province_code", "zone_code", "ready", "cleared", "wwtp_operating"];
        self.queryables().filter(move |f| !self.computed || computed_filters.contains(&f.name))
    }

    /// The field a filter may name `name`: a queryable, or the record's `id`.
    pub fn filter_field(&self, name: &str) -> Option<&'static Field> {
        if name == ID.name {
            return Some(&ID);
        }
        self.queryables().find(|f| f.name == name)
    }

    /// Every field a filter may name (see [`Collection::filter_field`]).
    pub fn filter_fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        std::iter::once(&ID).chain(self.queryables())
    }

    /// The JSON Schema of a queryable: its type, `format: date` for dates, the values of a closed
    /// vocabulary, and `x-ogc-unit` where the name says it (`_ha`, `_usd`, `_vnd`, `_m3d`).
    pub fn schema_of(&self, field: &Field) -> serde_json::Value {
        let mut schema =
            serde_json::json!({ "type": field.kind.json_type(), "description": field.description });
        if field.kind == FieldKind::Date {
            schema["format"] = "date".into();
        }
        if let Some(values) = field.values {
            schema["enum"] = values.into();
        }
        let unit = [("_ha", "ha"), ("_usd", "USD"), ("_vnd", "VND"), ("_m3d", "m3/d")]
            .iter()
            .find(|(suffix, _)| field.name.ends_with(suffix))
            .map(|(_, unit)| *unit);
        if let Some(unit) = unit {
            schema["x-ogc-unit"] = unit.into();
        }
        schema
    }
}

/// Source field names boards use, by landbank field, already normalised (see [`Collection::aliases`]).
pub const COMMON_ALIASES: &[(&str, &[&str])] = &[
    ("code", &["ma", "malo", "kyhieu", "sohieu", "kihieu", "maso", "kyhieulo"]),
    ("name", &["ten", "tenkcn", "tenkhu"]),
    ("zone_code", &["makcn", "kcn", "makhu"]),
    ("province_code", &["matinh"]),
    ("category", &["loaidat", "chucnang", "mdsd"]),
    ("plan_ref", &["quyetdinh", "soqd", "qd"]),
    ("sheet_no", &["soto", "sohieuto", "to", "tobando", "shbando"]),
    ("parcel_no", &["sothua", "thua", "shthua"]),
    ("land_type", &["loaidat", "mdsd", "mucdich"]),
    ("owner_name", &["chusudung", "tenchu", "chu"]),
    ("owner_kind", &["loaichu", "doituong"]),
    ("status", &["trangthai", "tinhtrang"]),
    ("developer", &["chudautu", "cdt"]),
    ("tenant_name", &["nhadautu", "tendoanhnghiep", "doanhnghiep"]),
    ("infra_ready_on", &["hatang", "ngayhatang"]),
];

/// Parses properties into the domain type `T` and back into a map of its fields, so that defaults and
/// canonical spellings (dates, enums) are what gets stored. Errors name the field (`field NAME: …`).
pub(crate) fn canonical<T: DeserializeOwned + Serialize>(
    properties: Properties,
) -> Result<Properties, PropertyError> {
    let given: Vec<String> = properties.keys().cloned().collect();
    let parsed: T = serde_path_to_error::deserialize(Value::Object(properties)).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.inner().to_string();
        if path != "." {
            return PropertyError::field(&path, reason);
        }
        // serde names a missing field only in its message: "missing field `tenant_name`".
        let missing = reason
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
            .filter(|name| !given.iter().any(|k| k == name))
            .map(str::to_string);
        PropertyError { missing: missing.is_some(), field: missing, reason }
    })?;
    let other = |reason: String| PropertyError { field: None, missing: false, reason };
    match serde_json::to_value(parsed).map_err(|e| other(e.to_string()))? {
        Value::Object(map) => Ok(map),
        _ => Err(other("properties are not an object".into())),
    }
}

/// [`canonical`], then the domain type's own rules beyond its fields' types (`check` names the field
/// at fault).
pub(crate) fn checked<T: DeserializeOwned + Serialize>(
    properties: Properties,
    check: fn(&T) -> Result<(), (&'static str, String)>,
) -> Result<Properties, PropertyError> {
    let map = canonical::<T>(properties)?;
    let value: T = parse(&map).map_err(|reason| PropertyError { field: None, missing: false, reason })?;
    check(&value).map_err(|(field, reason)| PropertyError::field(field, reason))?;
    Ok(map)
}

/// The domain value `T` of stored properties.
pub(crate) fn parse<T: DeserializeOwned>(properties: &Properties) -> Result<T, String> {
    serde_json::from_value(Value::Object(properties.clone())).map_err(|e| e.to_string())
}

/// A text property.
pub(crate) fn text_of<'a>(properties: &'a Properties, name: &str) -> Option<&'a str> {
    properties.get(name).and_then(Value::as_str)
}

const fn field(name: &'static str, kind: FieldKind, description: &'static str) -> Field {
    Field { name, kind, description, private: false, values: None, labels: &[] }
}
const fn text(name: &'static str, description: &'static str) -> Field {
    field(name, FieldKind::Text, description)
}
const fn real(name: &'static str, description: &'static str) -> Field {
    field(name, FieldKind::Real, description)
}
const fn date(name: &'static str, description: &'static str) -> Field {
    field(name, FieldKind::Date, description)
}
const fn integer(name: &'static str, description: &'static str) -> Field {
    field(name, FieldKind::Integer, description)
}
const fn boolean(name: &'static str, description: &'static str) -> Field {
    field(name, FieldKind::Bool, description)
}
/// A text field of a closed vocabulary, with the boards' words for its values.
const fn closed(
    name: &'static str,
    description: &'static str,
    values: &'static [&'static str],
    labels: Labels,
) -> Field {
    Field { values: Some(values), labels, ..text(name, description) }
}
const fn private(field: Field) -> Field {
    Field { private: true, ..field }
}

/// Every record's identifier, as a filter sees it.
pub static ID: Field = text("id", "Identifier of the record");

/// A plot's lease status on a date (`at`, default today), computed from the leases on it: `active`,
/// `reserved` or `free`.
pub static LEASE_STATUS: Field = closed(
    "lease_status",
    "Lease status of the plot on the date (at=, default today): active, reserved or free (computed)",
    &["active", "reserved", "free"],
    &[],
);

/// The geodesic area of a spatial record's geometry, measured when it was written.
pub static AREA_HA: Field = real("area_ha", "Geodesic area of the geometry in hectares (source: measured)");

const PROVINCE_CODE: Field = text("province_code", "ISO 3166-2:VN code of the province, e.g. VN-56");
const ZONE_CODE: Field = text("zone_code", "Code of the zone");

/// Every collection, in the order data must be loaded (references point backwards).
pub const ALL: &[&Collection] = &[
    &PROVINCES,
    &ZONES,
    &LAND_USE,
    &PLOTS,
    &PROJECTS,
    &LEASES,
    &PROJECT_EVENTS,
    &PROJECT_RESULTS,
    &CLEARANCE_PARCELS,
    &TARGETS,
    &AVAILABLE_LAND,
];

/// The collection called `id` that OGC API - Features publishes.
pub fn published(id: &str) -> Option<&'static Collection> {
    ALL.iter().copied().find(|c| c.published && c.id == id)
}

/// Names of the published collections, for error messages.
pub fn published_ids() -> Vec<&'static str> {
    ALL.iter().filter(|c| c.published).map(|c| c.id).collect()
}

/// The collections people edit and import (stored, not reference data).
pub fn editable(id: &str) -> Option<&'static Collection> {
    ALL.iter().copied().find(|c| c.id == id && c.editable && !c.computed)
}

/// Names of the collections people edit and import, in load order, for help and error messages.
pub fn editable_ids() -> Vec<&'static str> {
    ALL.iter().filter(|c| c.editable && !c.computed).map(|c| c.id).collect()
}
