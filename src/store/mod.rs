//! Where the inventory is kept. [`Store`] is the one seam between the service and a database: the HTTP
//! handlers, occupancy and the demo loader speak only to it, so a PostGIS store can stand beside SQLite.
//!
//! Stores keep rows, index bounding boxes, filter attributes, count and page. Exact geometry work (areas,
//! intersections) happens in Rust before a row is written or after it is read (see [`crate::spatial`]).

pub mod filter;
pub mod history;
pub mod postgis;
mod rtree;
mod shared;
mod sql;
pub mod sqlite;

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use geo::{Intersects, MultiPolygon, Rect};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::collections::{Collection, Field, FilterValue};
use crate::domain::Date;
use crate::spatial;

/// Errors of the storage layer.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database cannot be reached (down, file unreadable, pool exhausted).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A write broke a rule of the schema (unique code, reference to a missing zone, …). Shown as
    /// `detail`, which says what was wrong and how to fix it; the database's own `message` is for logs.
    #[error("{detail}")]
    Constraint { constraint: String, message: String, detail: String },
    /// A row in the database could not be read back (corrupt or written by something else).
    #[error("stored {collection} '{id}' is unreadable: {reason}")]
    Corrupt { collection: String, id: String, reason: String },
    #[error("migration failed: {0}")]
    Migration(String),
    /// A write expected a version of the record that is no longer current.
    #[error(
        "{collection} '{id}' is at version {current}, not {expected}: read it again and re-apply the change"
    )]
    Stale { collection: String, id: String, expected: i64, current: i64 },
    /// A write to a record that does not exist (or was deleted).
    #[error("no {collection} '{id}'")]
    NotFound { collection: String, id: String },
    /// A create for an id that exists.
    #[error("{collection} '{id}' already exists")]
    Exists { collection: String, id: String },
    #[error("database error: {0}")]
    Database(String),
}

/// A record as stored: id, attributes (the collection's fields only), geometry and its measured area.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    pub id: String,
    pub properties: Map<String, Value>,
    /// GeoJSON geometry text, WGS 84, full precision; `None` for non-spatial records.
    pub geometry: Option<String>,
    /// Geodesic area in hectares, computed when the row was written.
    pub area_ha: Option<f64>,
    /// The CRS the geometry was imported from, e.g. `EPSG:4326` or `EPSG:9209`.
    pub source_crs: Option<String>,
}

impl FeatureRow {
    /// The row's geometry parsed into `geo` (`None` without one).
    pub fn multipolygon(&self, collection: &str) -> Result<Option<MultiPolygon>, StoreError> {
        let Some(text) = &self.geometry else {
            return Ok(None);
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            collection: collection.into(),
            id: self.id.clone(),
            reason,
        };
        spatial::parse_stored(text).map(Some).map_err(corrupt)
    }

    /// Whether the row's geometry meets `rect` (the exact test of a bounding box; `false` without one).
    pub(crate) fn meets(&self, collection: &str, rect: &Rect) -> Result<bool, StoreError> {
        Ok(self.multipolygon(collection)?.is_some_and(|g| g.intersects(rect)))
    }

    /// The row as it stood on `at` (see [`Collection::as_of`]): its dated fields rewritten for that day;
    /// false when the record did not exist then.
    pub fn as_of(&mut self, collection: &Collection, at: crate::domain::Date) -> Result<bool, StoreError> {
        let Some(as_of) = collection.as_of else { return Ok(true) };
        as_of(&mut self.properties, at).map_err(|reason| StoreError::Corrupt {
            collection: collection.id.into(),
            id: self.id.clone(),
            reason,
        })
    }

    /// Parses the attributes into a domain type.
    pub fn parse<T: serde::de::DeserializeOwned>(&self, collection: &str) -> Result<T, StoreError> {
        T::deserialize(&self.properties).map_err(|e| StoreError::Corrupt {
            collection: collection.into(),
            id: self.id.clone(),
            reason: e.to_string(),
        })
    }
}

/// A record ready to be written: validated geometry, with area and bounding box already computed.
#[derive(Debug, Clone)]
pub struct NewFeature {
    pub id: String,
    pub properties: Map<String, Value>,
    pub geometry: Option<MultiPolygon>,
    pub source_crs: String,
}

impl NewFeature {
    /// Geometry as GeoJSON text (full precision), its area in hectares and bounding box.
    pub fn geometry_parts(&self) -> Option<(String, f64, [f64; 4])> {
        let g = self.geometry.as_ref()?;
        let text = spatial::to_geojson(g).to_string();
        Some((text, spatial::area_ha(g), spatial::bbox(g)?))
    }
}

/// A condition on a field, pushed into SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The field (or the record's `id`) equals one of the values.
    In { field: String, values: Vec<FilterValue> },
    /// The date field is on or before `date` (or null, when `or_null`).
    OnOrBefore { field: String, date: Date, or_null: bool },
    /// The date field is after `date` (or null, when `or_null`).
    After { field: String, date: Date, or_null: bool },
    /// A filter (OGC API - Features Part 3, CQL2) on the collection's fields and geometry.
    Filter(filter::Filter),
}

impl Condition {
    /// The text field (or `id`) equals one of `values`.
    pub fn text_in(field: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Condition::In {
            field: field.into(),
            values: values.into_iter().map(|v| FilterValue::Text(v.into())).collect(),
        }
    }
}

/// What to read from a collection.
#[derive(Debug, Clone, Default)]
pub struct ItemsQuery {
    /// `[min_lon, min_lat, max_lon, max_lat]`: features whose geometry intersects it.
    pub bbox: Option<[f64; 4]>,
    pub conditions: Vec<Condition>,
    /// At most this many rows; `None` = all.
    pub limit: Option<u64>,
    pub offset: u64,
    /// Read the records as they were stored at this instant (µs since 1970, UTC) from their history;
    /// `None` reads the current ones.
    pub recorded_at_us: Option<i64>,
    /// Order of the rows: fields (of the collection, `id` or `area_ha`) and whether descending; empty
    /// values last; insertion order breaks ties (and is the order without any).
    pub sort: Vec<SortKey>,
}

/// One key of an ordering.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// A column every store has: a field of the collection, `id` or `area_ha`.
    pub field: &'static str,
    pub descending: bool,
}

/// `ORDER BY` for `sort`, then insertion order; the same in both stores (empty values last).
pub(crate) fn order_by(sort: &[SortKey]) -> String {
    let mut keys: Vec<String> = sort
        .iter()
        .map(|k| format!("t.{} {} NULLS LAST", k.field, if k.descending { "DESC" } else { "ASC" }))
        .collect();
    keys.push("t.fid".into());
    keys.join(", ")
}

/// Orders rows read from history by `sort` (as [`order_by`] does in SQL; a stable sort keeps the rest
/// in their order).
pub(crate) fn sort_rows(rows: &mut [FeatureRow], sort: &[SortKey]) {
    use std::cmp::Ordering;
    let value = |row: &FeatureRow, field: &str| -> Value {
        match field {
            "id" => Value::String(row.id.clone()),
            "area_ha" => row.area_ha.map(Value::from).unwrap_or(Value::Null),
            f => row.properties.get(f).cloned().unwrap_or(Value::Null),
        }
    };
    rows.sort_by(|a, b| {
        for k in sort {
            let (x, y) = (value(a, k.field), value(b, k.field));
            let ordering = match (&x, &y) {
                (Value::Null, Value::Null) => Ordering::Equal,
                (Value::Null, _) => return Ordering::Greater,
                (_, Value::Null) => return Ordering::Less,
                (Value::Number(m), Value::Number(n)) => {
                    m.as_f64().unwrap_or_default().total_cmp(&n.as_f64().unwrap_or_default())
                }
                (Value::Bool(m), Value::Bool(n)) => m.cmp(n),
                _ => x.as_str().unwrap_or_default().cmp(y.as_str().unwrap_or_default()),
            };
            let ordering = if k.descending { ordering.reverse() } else { ordering };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    });
}

impl Condition {
    /// Whether a row satisfies the condition (the same test the stores run in SQL, for rows read from
    /// history).
    pub fn matches(&self, row: &FeatureRow, collection: &Collection) -> bool {
        let value = |field: &str| -> Value {
            if field == "id" {
                Value::String(row.id.clone())
            } else if field == "area_ha" && collection.field(field).is_none() {
                row.area_ha.map(Value::from).unwrap_or(Value::Null)
            } else {
                row.properties.get(field).cloned().unwrap_or(Value::Null)
            }
        };
        match self {
            Condition::In { field, values } => {
                let v = value(field);
                values.iter().any(|f| match (f, &v) {
                    (FilterValue::Text(t), Value::String(s)) => t == s,
                    (FilterValue::Real(x), Value::Number(n)) => n.as_f64() == Some(*x),
                    (FilterValue::Integer(i), Value::Number(n)) => n.as_i64() == Some(*i),
                    (FilterValue::Bool(b), Value::Bool(c)) => b == c,
                    _ => false,
                })
            }
            Condition::OnOrBefore { field, date, or_null } => match value(field).as_str() {
                Some(text) => text <= date.to_string().as_str(),
                None => *or_null,
            },
            Condition::After { field, date, or_null } => match value(field).as_str() {
                Some(text) => text > date.to_string().as_str(),
                None => *or_null,
            },
            Condition::Filter(filter) => filter.eval(row, collection.id) == Some(true),
        }
    }

    /// Whether part of the condition is tested in Rust only (see [`filter`]).
    pub fn needs_rust(&self) -> bool {
        matches!(self, Condition::Filter(f) if f.needs_rust())
    }
}

/// The box candidates are read from when a query has one: its `bbox` and the boxes its filters imply,
/// intersected (`[min_lon, min_lat, max_lon, max_lat]`; an empty intersection is a box no row meets).
pub(crate) fn candidate_box(query: &ItemsQuery) -> Option<[f64; 4]> {
    query
        .bbox
        .into_iter()
        .chain(query.conditions.iter().filter_map(|c| match c {
            Condition::Filter(f) => f.envelope(),
            _ => None,
        }))
        .reduce(|a, b| [a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])])
}

/// One page of `rows` (read from history) that match `query`: conditions, exact bounding box, paging.
pub(crate) fn page_of_rows(
    collection: &Collection,
    rows: Vec<FeatureRow>,
    query: &ItemsQuery,
) -> Result<Page, StoreError> {
    let rect = query.bbox.map(|b| Rect::new((b[0], b[1]), (b[2], b[3])));
    let mut matched = Vec::new();
    for row in rows {
        if !query.conditions.iter().all(|c| c.matches(&row, collection)) {
            continue;
        }
        if let Some(rect) = rect
            && !row.meets(collection.id, &rect)?
        {
            continue;
        }
        matched.push(row);
    }
    sort_rows(&mut matched, &query.sort);
    let number_matched = matched.len() as u64;
    let limit = query.limit.map(|l| l as usize).unwrap_or(usize::MAX);
    let rows = matched.into_iter().skip(query.offset as usize).take(limit).collect();
    Ok(Page { rows, number_matched })
}

/// One page of rows and how many matched in all.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<FeatureRow>,
    pub number_matched: u64,
}

/// How many rows matched a filter (key: the table, the filter's SQL and its values), kept per store
/// data version: counting every match of a million rows again for each page costs more than the page
/// (100 ms and more on PostgreSQL). Each entry: the count and its key's length, weighed together, so
/// that long filters count against the megabyte it holds.
pub(crate) type CountCache = std::sync::Arc<crate::cache::VersionedCache<String, (u64, u32)>>;

/// An empty [`CountCache`].
pub(crate) fn count_cache() -> CountCache {
    std::sync::Arc::new(crate::cache::VersionedCache::new(1 << 20, |(_, key_bytes)| {
        key_bytes.saturating_add(8)
    }))
}

/// The store's data version (see `data_version` in the migrations): one row, one number.
pub(crate) const DATA_VERSION: &str = "SELECT version FROM data_version WHERE one = 1";

/// One page of rows as [`Store::items_json`] reads them: each row's JSON text,
/// `[id, {field: value, …}, area_ha, source_crs]` (written by SQLite itself, or from PostgreSQL's typed
/// columns as they arrive), and its geometry ([`PageGeometry`]: text as stored, or WKB), and how many matched
/// in all: a page is written out without a tree of values per row (see [`PageRow`]).
#[derive(Debug, Clone)]
pub struct JsonPage {
    pub collection: &'static str,
    pub rows: Vec<(String, Option<PageGeometry>)>,
    pub number_matched: u64,
    /// The data version the rows were read at, when one statement read both (for reading what else
    /// the page shows as of the same version, e.g. [`ZoneVersions`]); `None` when not known.
    pub read_at: Option<i64>,
}

/// A page row's geometry as the store hands it over: GeoJSON text as stored (full precision), or
/// polygonal WKB as PostGIS writes it, for the page writer to write out without text in between.
#[derive(Debug, Clone, PartialEq)]
pub enum PageGeometry {
    Text(String),
    Wkb(Vec<u8>),
}

impl PageGeometry {
    /// The GeoJSON text, full precision (WKB as [`crate::spatial::wkb_to_geojson`] writes it), or why
    /// it cannot be read.
    pub fn text(&self) -> Result<std::borrow::Cow<'_, str>, String> {
        match self {
            PageGeometry::Text(text) => Ok(text.as_str().into()),
            PageGeometry::Wkb(wkb) => crate::spatial::wkb_to_geojson(wkb).map(Into::into),
        }
    }
}

/// A row of a [`JsonPage`], read where it lies in the text: values are the stored JSON, unparsed.
#[derive(Debug)]
pub struct PageRow<'a> {
    pub id: &'a RawValue,
    /// The collection's fields, in its order.
    pub fields: Members<'a>,
    pub area_ha: Option<f64>,
    pub source_crs: Option<&'a RawValue>,
    pub geometry: Option<&'a PageGeometry>,
}

impl JsonPage {
    /// The page of `rows` read another way (records as they were, or tested in Rust), in this form.
    pub(crate) fn of_rows(collection: &'static Collection, page: Page) -> Result<JsonPage, StoreError> {
        let rows = page
            .rows
            .into_iter()
            .map(|r| {
                let head = serde_json::to_string(&(&r.id, &r.properties, r.area_ha, &r.source_crs));
                let head = head.map_err(|e| StoreError::Corrupt {
                    collection: collection.id.into(),
                    id: r.id.clone(),
                    reason: e.to_string(),
                })?;
                Ok((head, r.geometry.map(PageGeometry::Text)))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(JsonPage { collection: collection.id, rows, number_matched: page.number_matched, read_at: None })
    }

    /// Each row, read in place.
    pub fn parsed(&self) -> Result<Vec<PageRow<'_>>, StoreError> {
        self.rows
            .iter()
            .map(|(head, geometry)| {
                let row = PageRow::parse(head).map_err(|e| self.corrupt(head, e))?;
                Ok(PageRow { geometry: geometry.as_ref(), ..row })
            })
            .collect()
    }

    fn corrupt(&self, text: &str, e: serde_json::Error) -> StoreError {
        StoreError::Corrupt {
            collection: self.collection.into(),
            id: text.chars().take(80).collect(),
            reason: e.to_string(),
        }
    }
}

/// A JSON object's members in order, names and values borrowed from the text (names are field names,
/// which carry no escapes).
#[derive(Debug, Default)]
pub struct Members<'a>(pub Vec<(&'a str, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of fields")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Members<'de>, M::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(member) = map.next_entry::<&'de str, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visit)
    }
}

impl<'a> Members<'a> {
    /// The JSON value of member `name`, unparsed (`None`: absent).
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

impl<'a> PageRow<'a> {
    fn parse(text: &'a str) -> Result<PageRow<'a>, serde_json::Error> {
        type Head<'a> = (&'a RawValue, Members<'a>, Option<f64>, Option<&'a RawValue>);
        let (id, fields, area_ha, source_crs): Head<'a> = serde_json::from_str(text)?;
        let source_crs = source_crs.filter(|s| s.get() != "null");
        Ok(PageRow { id, fields, area_ha, source_crs, geometry: None })
    }

    /// A text field's value (`None`: absent, null or not text).
    pub fn text(&self, name: &str) -> Option<std::borrow::Cow<'a, str>> {
        let raw = self.fields.get(name)?;
        use std::borrow::Cow;
        // Borrowed unless the text has escapes.
        serde_json::from_str::<&'a str>(raw.get())
            .map(Cow::Borrowed)
            .or_else(|_| serde_json::from_str::<String>(raw.get()).map(Cow::Owned))
            .ok()
    }
}

/// A candidate from the bounding-box index: its geometry when the box alone cannot decide.
pub struct BboxCandidate {
    pub fid: i64,
    pub geometry: Option<MultiPolygon>,
}

/// Exact test of candidates the index found: keeps those whose geometry intersects `bbox`.
/// Candidates without geometry were already known to lie inside the box.
pub fn exact_bbox_filter(candidates: Vec<BboxCandidate>, bbox: [f64; 4]) -> Vec<i64> {
    let rect = Rect::new((bbox[0], bbox[1]), (bbox[2], bbox[3]));
    candidates
        .into_iter()
        .filter(|c| c.geometry.as_ref().is_none_or(|g| g.intersects(&rect)))
        .map(|c| c.fid)
        .collect()
}

/// Which rows [`Store::json_rows`] reads.
#[derive(Debug, Clone, Copy)]
pub enum Within<'a> {
    /// Rows whose bounding box meets this box (WGS 84 degrees: west, south, east, north); the geometry
    /// itself is not tested.
    Box([f64; 4]),
    /// Rows whose text `field` (or `id`) is one of these values (at most a few thousand: databases cap
    /// the values one statement binds).
    FieldIn(&'a str, &'a [String]),
    /// Every row.
    All,
}

/// What [`Store::json_rows`] reads of each row besides its id: a reader that needs two fields does not
/// have every field written as JSON, nor the area's real number printed, for each row it reads.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    /// The fields read (`None`: every field of the collection); names the collection lacks are not read.
    pub fields: Option<&'a [&'a str]>,
    /// Each row's stored area in hectares (else `null`).
    pub area: bool,
    /// Each row's geometry (else `null`).
    pub geometry: bool,
}

impl Columns<'static> {
    /// Every field and the area, and the geometry.
    pub const ALL: Columns<'static> = Columns { fields: None, area: true, geometry: true };
    /// Every field and the area, without the geometry.
    pub const FIELDS: Columns<'static> = Columns { fields: None, area: true, geometry: false };
}

impl<'a> Columns<'a> {
    /// Only `fields` (no area), and the geometry if `geometry`.
    pub fn only(fields: &'a [&'a str], geometry: bool) -> Self {
        Columns { fields: Some(fields), area: false, geometry }
    }

    /// Whether the field `name` is read.
    pub fn reads(&self, name: &str) -> bool {
        self.fields.is_none_or(|fields| fields.contains(&name))
    }

    /// The fields of `collection` read, in the collection's order.
    pub(crate) fn of(self, collection: &'static Collection) -> impl Iterator<Item = &'static Field> + 'a {
        collection.fields.iter().filter(move |f| self.reads(f.name))
    }
}

/// Rows of a collection as one JSON text, as [`Store::json_rows`] reads them: an array of
/// `[[id, {field: value, …}, area_ha or null], geometry or null]`, the geometry as GeoJSON (SQLite) or a
/// string of hexadecimal WKB (PostGIS). Read them as [`FeatureRow`]s, or straight into a domain
/// type when only the fields are needed.
pub struct JsonRows {
    pub(crate) collection: &'static str,
    pub(crate) text: String,
}

/// A row read by [`JsonRows::typed_shapes`]: its fields, its geometry, its area in hectares.
pub type TypedShape<T> = (T, Option<MultiPolygon>, Option<f64>);

/// One element of [`JsonRows`]: (id, fields, area in hectares), geometry.
type JsonRow<'a, I, T, A> = ((I, T, A), Option<&'a serde_json::value::RawValue>);

/// One element of [`JsonRows`] with its geometry parsed in the same pass: (id, fields, area in
/// hectares), geometry.
type ShapeRow<I, T> = ((I, T, Option<f64>), Option<spatial::StoredShape>);

impl JsonRows {
    fn corrupt(&self, e: serde_json::Error) -> StoreError {
        StoreError::Corrupt {
            collection: self.collection.into(),
            id: "(one of the rows read together)".into(),
            reason: e.to_string(),
        }
    }

    /// Calls `each` with every element of the text in turn, parsed as `E`, and stops at its first
    /// error: the elements are never collected into a vector of their own (a nation's leases are
    /// hundreds of thousands), only what `each` keeps of them.
    fn each<'a, E: serde::Deserialize<'a>>(
        &'a self,
        mut each: impl FnMut(E) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        struct Elements<'f, E, F>(&'f mut F, &'f mut Option<StoreError>, std::marker::PhantomData<E>);
        impl<'de, E: serde::Deserialize<'de>, F: FnMut(E) -> Result<(), StoreError>> serde::de::Visitor<'de>
            for Elements<'_, E, F>
        {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of rows")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while let Some(element) = seq.next_element::<E>()? {
                    if let Err(e) = (self.0)(element) {
                        *self.1 = Some(e);
                        return Err(serde::de::Error::custom("stopped"));
                    }
                }
                Ok(())
            }
        }
        let mut failed = None;
        let mut reader = serde_json::Deserializer::from_str(&self.text);
        let read = serde::Deserializer::deserialize_seq(
            &mut reader,
            Elements(&mut each, &mut failed, std::marker::PhantomData),
        )
        .and_then(|()| reader.end());
        match (failed, read) {
            (Some(e), _) => Err(e),
            (None, read) => read.map_err(|e| self.corrupt(e)),
        }
    }

    /// The rows, with the geometry if it was read.
    pub fn rows(&self) -> Result<Vec<FeatureRow>, StoreError> {
        let mut rows = Vec::new();
        self.each(
            |((id, properties, area_ha), geometry): JsonRow<'_, String, Map<String, Value>, Option<f64>>| {
                let geometry = self.geometry_text(&id, geometry)?;
                rows.push(FeatureRow { id, properties, geometry, area_ha, source_crs: None });
                Ok(())
            },
        )?;
        Ok(rows)
    }

    /// The rows without their geometry text, each with its geometry parsed (`None` when it has none
    /// or it was not read): the geometry is parsed where it lies in the text, never copied.
    pub fn rows_with_shapes(&self) -> Result<Vec<(FeatureRow, Option<MultiPolygon>)>, StoreError> {
        let mut rows = Vec::new();
        self.each(|((id, properties, area_ha), geometry): ShapeRow<String, Map<String, Value>>| {
            let shape = self.shape(&id, geometry)?;
            rows.push((FeatureRow { id, properties, geometry: None, area_ha, source_crs: None }, shape));
            Ok(())
        })?;
        Ok(rows)
    }

    /// Each row's fields parsed into `T` without an intermediate map, its geometry parsed where it lies
    /// in the text (`None` when it has none or it was not read), and its area in hectares as the store
    /// measured it when the row was written. `T` may borrow from the text (e.g. [`Members`]).
    pub fn typed_shapes<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<Vec<TypedShape<T>>, StoreError> {
        let mut rows = Vec::new();
        self.each(|((id, fields, area_ha), geometry): ShapeRow<&'a RawValue, T>| {
            rows.push((fields, self.shape(id.get(), geometry)?, area_ha));
            Ok(())
        })?;
        Ok(rows)
    }

    /// A row's geometry as parsed with the row (`None`: JSON `null`, or absent): GeoJSON as stored, or
    /// a string of hexadecimal WKB (PostGIS writes WKB nine times faster than GeoJSON, and WKB is read
    /// without parsing decimals); one that cannot be read names its row.
    fn shape(
        &self,
        id: &str,
        geometry: Option<spatial::StoredShape>,
    ) -> Result<Option<MultiPolygon>, StoreError> {
        geometry.map_or(Ok(None), |spatial::StoredShape(shape)| {
            shape.map_err(|reason| StoreError::Corrupt {
                collection: self.collection.into(),
                id: id.trim_matches('"').into(),
                reason,
            })
        })
    }

    /// A row's geometry as GeoJSON text, as [`FeatureRow::geometry`] holds it (see [`JsonRows::shape`]).
    fn geometry_text(
        &self,
        id: &str,
        geometry: Option<&serde_json::value::RawValue>,
    ) -> Result<Option<String>, StoreError> {
        let corrupt =
            |reason| StoreError::Corrupt { collection: self.collection.into(), id: id.into(), reason };
        match geometry.map(|g| g.get()).filter(|g| *g != "null") {
            Some(text) => match hex_wkb(text) {
                Some(wkb) => spatial::wkb_to_geojson(&wkb.map_err(corrupt)?).map(Some).map_err(corrupt),
                None => Ok(Some(text.to_string())),
            },
            None => Ok(None),
        }
    }

    /// Each row's fields parsed into `T` (e.g. [`crate::domain::Lease`]), without an intermediate map.
    pub fn fields<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>, StoreError> {
        let mut rows = Vec::new();
        self.each(|((_, fields, _), _): JsonRow<'_, serde::de::IgnoredAny, T, serde::de::IgnoredAny>| {
            rows.push(fields);
            Ok(())
        })?;
        Ok(rows)
    }
}

/// The bytes of a geometry written as a JSON string of hexadecimal WKB (`None`: not a string, so
/// GeoJSON), or why they cannot be read.
fn hex_wkb(json: &str) -> Option<Result<Vec<u8>, String>> {
    let hex = json.strip_prefix('"')?.strip_suffix('"')?;
    Some(spatial::from_hex(hex))
}

/// The pool options both stores start from: connections are never closed for being idle or old
/// (`idle_timeout` and `max_lifetime` unset, `min_connections` 0). Either setting starts sqlx's pool
/// maintenance task, which sweeps `0..num_idle` without yielding, and `num_idle` can wrap below zero
/// when a connection is released while another task takes it (sqlx issue 3645, fixed upstream by pull
/// request 4289, in no release landbank can use yet): the sweep then spins on a core forever and holds
/// its runtime thread. A test run here hung on it. The pools stay bounded by their `max_connections`.
///
/// A connection is tested (pinged) before use only when it has been idle for [`PING_AFTER_IDLE`]:
/// sqlx's default pings before every use, a round trip to the database (or to SQLite's worker thread)
/// per statement, and sqlx pings again as each connection is released. Under load no connection sits
/// idle that long; one that died with its server while idle is found and replaced before use.
pub(crate) fn pool_options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// How long a pooled connection may sit idle before it is pinged on its next use (the pools' options
/// ping one that sat idle this long before handing it out).
pub const PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_millis(500);

/// Codes of the zones a write touches: the zones themselves, and the zones of records inside them.
pub(crate) fn touched_zones(batches: &[(&'static Collection, Vec<NewFeature>)]) -> BTreeSet<String> {
    let mut zones = BTreeSet::new();
    for (collection, features) in batches {
        zones.extend(features.iter().filter_map(|f| collection.zone_of(&f.properties).map(str::to_string)));
    }
    zones
}

/// The collections a write of `batches` touches, by id.
pub(crate) fn touched_collections(
    batches: &[(&'static Collection, Vec<NewFeature>)],
) -> BTreeSet<&'static str> {
    batches.iter().filter(|(_, features)| !features.is_empty()).map(|(c, _)| c.id).collect()
}

/// Statement that records, in one write transaction, the new data version of a written collection (one
/// bind: its id).
pub(crate) const RECORD_COLLECTION_VERSION: &str = "INSERT INTO collection_versions (collection, version) \
     SELECT $1, version FROM data_version WHERE one = 1 \
     ON CONFLICT (collection) DO UPDATE SET version = excluded.version";

/// The store's data version and the one at which a collection last changed (one bind: its id; 0: never),
/// read together.
pub(crate) const VERSIONS: &str = "SELECT d.version, \
     COALESCE((SELECT c.version FROM collection_versions c WHERE c.collection = $1), 0) \
     FROM data_version d WHERE d.one = 1";

/// The store's data version and a collection's, read in one statement (see [`Store::data_versions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    /// Changes with every write ([`Store::data_version`]).
    pub data: i64,
    /// The data version at which the collection last changed (0: never since versions were recorded).
    pub collection: i64,
}

/// Zones' data versions as [`Store::zone_versions`] read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneVersions {
    /// The store's data version they were read at (in the same statement); `None` when they took
    /// several statements and a write came in between.
    pub read_at: Option<i64>,
    /// Zone code → the data version at which the zone, or anything inside it, last changed (absent:
    /// never).
    pub zones: HashMap<String, i64>,
}

impl ZoneVersions {
    /// The version of zone `code` (0: never changed since versions were recorded).
    pub fn of(&self, code: &str) -> i64 {
        self.zones.get(code).copied().unwrap_or(0)
    }
}

/// Folds the data version one more statement read at (`at`) into what the statements before read at
/// (`so_far`): `None` before the first, `Some(None)` once two differ (a write came in between).
pub(crate) fn same_version(so_far: Option<Option<i64>>, at: Option<i64>) -> Option<Option<i64>> {
    Some(so_far.map_or(at, |before| before.filter(|b| Some(*b) == at)))
}

/// Reads zones' versions and the data version in one statement, one row at least (the zone columns
/// null when none of the zones `zones_in` picks was ever written): `SELECT read_at, zone_code, version`.
pub(crate) fn zone_versions_statement(zones_in: &str) -> String {
    format!(
        "SELECT d.version AS read_at, z.zone_code, z.version FROM data_version d \
         LEFT JOIN zone_versions z ON z.zone_code {zones_in} WHERE d.one = 1"
    )
}

/// Statement that records, in one write transaction, the new data version of a touched zone (one bind).
pub(crate) const RECORD_ZONE_VERSION: &str = "INSERT INTO zone_versions (zone_code, version) \
     SELECT $1, version FROM data_version WHERE one = 1 \
     ON CONFLICT (zone_code) DO UPDATE SET version = excluded.version";

/// The fids of one page of `matched` rows, by the query's offset and limit.
pub(crate) fn page_of(matched: &[i64], query: &ItemsQuery) -> Vec<i64> {
    let limit = query.limit.map(|l| l as usize).unwrap_or(usize::MAX);
    matched.iter().skip(query.offset as usize).take(limit).copied().collect()
}

/// Versions of records: every write keeps one (see [`history`]).
#[async_trait]
pub trait History: Send + Sync {
    /// The current version number of a record (`None`: absent or deleted).
    async fn current_version(
        &self,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Option<i64>, StoreError>;
    /// Every version of a record, oldest first (deletions included).
    async fn versions(
        &self,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Vec<history::Version>, StoreError>;
    /// The records of a collection as they were stored at `at_us` (µs since 1970, UTC). The text
    /// equality conditions are narrowed in SQL; the caller applies every condition again.
    async fn rows_as_of(
        &self,
        collection: &'static Collection,
        at_us: i64,
        conditions: &[Condition],
    ) -> Result<Vec<FeatureRow>, StoreError>;
    /// Changes, newest first, and how many match in all.
    async fn audit(&self, query: &history::AuditQuery) -> Result<(Vec<history::Version>, u64), StoreError>;
}

/// API tokens, kept as the SHA-256 of their secrets.
#[async_trait]
pub trait Tokens: Send + Sync {
    /// Stores a new token under the SHA-256 (hex) of its secret.
    async fn create_token(&self, token: &history::Token, secret_sha256: &str) -> Result<(), StoreError>;
    /// The token whose secret has this SHA-256 (hex), revoked or not.
    async fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<history::Token>, StoreError>;
    /// Every token, oldest first.
    async fn tokens(&self) -> Result<Vec<history::Token>, StoreError>;
    /// Revokes the token with this id or name; whether one was revoked.
    async fn revoke_token(&self, id_or_name: &str) -> Result<bool, StoreError>;
}

/// The storage contract every backend fulfils: features and their writes, with their versions
/// ([`History`]) and the API's tokens ([`Tokens`]). Both stores get those two from the code they share
/// (`shared.rs`).
#[async_trait]
pub trait Store: History + Tokens + Send + Sync + 'static {
    /// A short name of the backend, e.g. `sqlite`.
    fn backend(&self) -> &'static str;
    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Connections of the pool: open, and idle among them.
    fn pool_connections(&self) -> (u32, usize);
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Closes every connection (waits for those in use).
    async fn close(&self);
    /// A number that changes with every write (for caches and ETags).
    async fn data_version(&self) -> Result<i64, StoreError>;
    /// Begins a write transaction that excludes every other writer of these zones (in this process and
    /// in any other on the same database) until it commits or rolls back. Checks that read other records
    /// run between this and [`WriteTx::write`] / [`WriteTx::insert_by`], so two writers can never both
    /// pass them: SQLite holds its one write lock (`BEGIN IMMEDIATE`), PostgreSQL a transaction-scoped
    /// advisory lock per zone (one lock for all zones when a write touches many, or names none).
    async fn begin_write(&self, zones: &[String]) -> Result<Box<dyn WriteTx>, StoreError>;
    /// Writes every batch in one transaction: all rows or none, each with its first version in history
    /// (by `actor`).
    async fn insert_by(
        &self,
        batches: &[(&'static Collection, Vec<NewFeature>)],
        actor: &str,
    ) -> Result<u64, StoreError> {
        let zones: Vec<String> = touched_zones(batches).into_iter().collect();
        self.begin_write(&zones).await?.insert_by(batches, actor).await
    }
    /// [`Store::insert_by`] the system (demo, benchmarks, tests).
    async fn insert(&self, batches: &[(&'static Collection, Vec<NewFeature>)]) -> Result<u64, StoreError> {
        self.insert_by(batches, "system").await
    }
    /// Creates, replaces, updates or deletes one record and keeps its version, in one transaction;
    /// returns the new version number. The version check and the write are atomic: of two writers
    /// expecting the same version, one wins and the other gets [`StoreError::Stale`].
    async fn write(&self, write: &history::Write) -> Result<i64, StoreError> {
        self.begin_write(&write.zones).await?.write(write).await
    }
    /// Rows of a collection that match the query, in insertion order, and the count of all matches.
    async fn items(&self, collection: &'static Collection, query: &ItemsQuery) -> Result<Page, StoreError>;
    /// The page [`Store::items`] reads, each row as JSON text (see [`JsonPage`]): for writing pages out
    /// without a tree of values per row. Real fields from SQLite carry its 15 significant digits.
    async fn items_json(
        &self,
        collection: &'static Collection,
        query: &ItemsQuery,
    ) -> Result<JsonPage, StoreError>;
    /// The current rows of `collection` that `within` picks, in insertion order, with the `columns`
    /// asked (their fields, area, geometry; `source_crs` is never read), as one JSON text: at a
    /// fraction of [`Store::items`]' cost per row, for readers that need every row of a tile or of
    /// some zones. No exact geometry test and no count. Real fields with whole values may come back as
    /// JSON integers.
    async fn json_rows(
        &self,
        collection: &'static Collection,
        within: Within<'_>,
        columns: Columns<'_>,
    ) -> Result<JsonRows, StoreError>;
    /// One row by id.
    async fn item(&self, collection: &'static Collection, id: &str)
    -> Result<Option<FeatureRow>, StoreError>;
    /// One row by id and its current version (for its `ETag`), read in one statement.
    async fn item_versioned(
        &self,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Option<(FeatureRow, Option<i64>)>, StoreError>;
    /// Bounding box of every geometry in the collection.
    async fn extent(&self, collection: &'static Collection) -> Result<Option<[f64; 4]>, StoreError>;
    /// Number of rows in the collection.
    async fn count(&self, collection: &'static Collection) -> Result<u64, StoreError>;
    /// The data version and the version at which `collection` last changed, read together (one trip to
    /// the database for a tile: its bytes follow the first, its drawing the second).
    async fn data_versions(&self, collection: &'static Collection) -> Result<Versions, StoreError>;
    /// The data version at which each of these zones, or anything inside it, last changed (absent: never),
    /// and the data version they were read at.
    async fn zone_versions(&self, zone_codes: &[String]) -> Result<ZoneVersions, StoreError>;
    /// Figures of `kind` kept for these zones by [`Store::keep`]: zone code → (the zone's data version
    /// they were computed at, their text). The caller compares the version with [`Store::zone_versions`].
    async fn kept(
        &self,
        kind: &str,
        zone_codes: &[String],
    ) -> Result<HashMap<String, (i64, String)>, StoreError>;
    /// Keeps figures of `kind` per zone, each `(zone code, data version computed at, text)`, in one
    /// transaction. They replace what was kept at the same or an older version, never a newer one. A
    /// cache, not a record: SQLite keeps nothing (`Ok(false)`) rather than wait more than a few seconds
    /// for a writer of this process (an import).
    async fn keep(&self, kind: &str, entries: &[(String, i64, String)]) -> Result<bool, StoreError>;
}

/// Replaces a zone's kept figures unless newer ones are kept (binds: kind, zone code, version, text).
pub(crate) const KEEP_FIGURES: &str = "INSERT INTO kept_figures (kind, zone_code, version, pieces) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (kind, zone_code) DO UPDATE \
     SET version = excluded.version, pieces = excluded.pieces \
     WHERE kept_figures.version <= excluded.version";

/// An open write transaction holding its zones' locks (see [`Store::begin_write`]). Dropping it without
/// writing rolls back; [`WriteTx::rollback`] does so at once, releasing the locks before it returns.
#[async_trait]
pub trait WriteTx: Send {
    /// Writes one record and its version, then commits.
    async fn write(self: Box<Self>, write: &history::Write) -> Result<i64, StoreError> {
        Ok(self.write_all(std::slice::from_ref(write)).await?[0])
    }
    /// Writes every change in `writes` (each with its version, as [`WriteTx::write`]), then commits:
    /// a record and the changes it makes to others (the leases a revocation ends), all or none.
    /// Returns the new version of each.
    async fn write_all(self: Box<Self>, writes: &[history::Write]) -> Result<Vec<i64>, StoreError>;
    /// Writes every batch with first versions by `actor`, then commits.
    async fn insert_by(
        self: Box<Self>,
        batches: &[(&'static Collection, Vec<NewFeature>)],
        actor: &str,
    ) -> Result<u64, StoreError> {
        self.write_and_insert_by(&[], batches, actor).await
    }
    /// Writes every change in `writes` (each with its version, as [`WriteTx::write`]), then every batch
    /// of new records with first versions by `actor`, then commits: one transaction for a whole file.
    async fn write_and_insert_by(
        self: Box<Self>,
        writes: &[history::Write],
        batches: &[(&'static Collection, Vec<NewFeature>)],
        actor: &str,
    ) -> Result<u64, StoreError>;
    /// Gives up: nothing is written and the locks are released.
    async fn rollback(self: Box<Self>);
}

/// Writes the reference geography ([`crate::geography::UNITS`]) into `provinces` after the migrations:
/// missing units are inserted, units whose stored row differs (an older landbank, a demo's provinces)
/// are updated, each with its version in history by `reference geography`. Idempotent: a store that
/// holds them already is not written to.
pub(crate) async fn seed_geography(store: &dyn Store) -> Result<(), StoreError> {
    use crate::collections::PROVINCES;
    use crate::domain::Province;
    const ACTOR: &str = "reference geography";
    let mut stored = HashMap::new();
    for row in store.items(&PROVINCES, &ItemsQuery::default()).await?.rows {
        stored.insert(row.id.clone(), row.parse::<Province>("provinces")?);
    }
    let feature = |p: &Province| -> Result<NewFeature, StoreError> {
        let Value::Object(properties) =
            serde_json::to_value(p).map_err(|e| StoreError::Database(e.to_string()))?
        else {
            return Err(StoreError::Database("a province is not an object".into()));
        };
        Ok(NewFeature { id: p.province_code.clone(), properties, geometry: None, source_crs: String::new() })
    };
    let mut new = Vec::new();
    for unit in crate::geography::UNITS.iter() {
        let province = unit.clone();
        match stored.get(&unit.province_code) {
            None => new.push(feature(&province)?),
            Some(current) if *current == province => {}
            Some(current) => {
                let Some(version) = store.current_version(&PROVINCES, &unit.province_code).await? else {
                    continue;
                };
                let (before, after) = (feature(current)?, feature(&province)?);
                let changed = PROVINCES
                    .fields
                    .iter()
                    .filter(|f| before.properties.get(f.name) != after.properties.get(f.name))
                    .map(|f| f.name.to_string())
                    .collect();
                store
                    .write(&history::Write {
                        collection: &PROVINCES,
                        op: history::Op::Update,
                        expected_version: Some(version),
                        feature: after,
                        actor: ACTOR.into(),
                        changed,
                        zones: vec![],
                    })
                    .await?;
            }
        }
    }
    if !new.is_empty() {
        store.insert_by(&[(&PROVINCES, new)], ACTOR).await?;
    }
    Ok(())
}

/// Connections of a PostgreSQL pool when `LANDBANK_DB_POOL` does not say.
pub const DEFAULT_POOL_SIZE: u32 = 16;

/// The rows of `collection` whose `field` (or `id`) is one of `values`, read a chunk of values at a time:
/// databases cap the values one statement binds.
pub async fn rows_in(
    store: &std::sync::Arc<dyn Store>,
    collection: &'static Collection,
    field: &str,
    values: &[String],
) -> Result<Vec<FeatureRow>, StoreError> {
    let mut rows = Vec::new();
    for chunk in values.chunks(5_000) {
        let query = ItemsQuery {
            conditions: vec![Condition::text_in(field, chunk.iter().cloned())],
            ..Default::default()
        };
        rows.extend(store.items(collection, &query).await?.rows);
    }
    Ok(rows)
}

/// Opens the store a `--database` value names: `postgres://…` (or `postgresql://…`) is PostGIS; a path or
/// `sqlite://…` is the embedded SQLite store.
pub async fn open(database: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        let pool =
            std::env::var("LANDBANK_DB_POOL").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_POOL_SIZE);
        return Ok(std::sync::Arc::new(postgis::PostgisStore::open(database, pool).await?));
    }
    Ok(std::sync::Arc::new(sqlite::SqliteStore::open(database).await?))
}

/// Whether a `--database` names something that exists: always true for PostgreSQL (the server says),
/// the file's presence for SQLite.
pub fn exists(database: &str) -> bool {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        return true;
    }
    let path =
        database.strip_prefix("sqlite://").or_else(|| database.strip_prefix("sqlite:")).unwrap_or(database);
    let path = path.split('?').next().unwrap_or(path);
    path == ":memory:" || std::path::Path::new(path).exists()
}

/// A `--database` value fit for logs and messages: a PostgreSQL URL without its password.
pub fn redacted(database: &str) -> String {
    match url::Url::parse(database) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => database.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> JsonRows {
        JsonRows { collection: "plots", text: text.into() }
    }

    #[test]
    fn statements_read_at_one_version_or_at_none_known() {
        let fold = |ats: &[Option<i64>]| ats.iter().fold(None, |so_far, at| same_version(so_far, *at));
        assert_eq!(fold(&[]), None);
        assert_eq!(fold(&[Some(3), Some(3)]), Some(Some(3)));
        assert_eq!(fold(&[Some(3), Some(4), Some(4)]), Some(None), "a write came in between");
        assert_eq!(fold(&[Some(3), None]), Some(None));
    }

    #[test]
    fn pools_start_no_maintenance_task() {
        // Either setting would start sqlx's sweep, which can spin forever (see `pool_options`).
        for (idle, lifetime, min) in [
            {
                let o = pool_options::<sqlx::Sqlite>();
                (o.get_idle_timeout(), o.get_max_lifetime(), o.get_min_connections())
            },
            {
                let o = pool_options::<sqlx::Postgres>();
                (o.get_idle_timeout(), o.get_max_lifetime(), o.get_min_connections())
            },
        ] {
            assert_eq!((idle, lifetime, min), (None, None, 0));
        }
    }

    #[test]
    fn rows_read_together_are_parsed_in_order_and_a_bad_row_is_named() {
        let square = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#;
        let text = format!(
            r#"[[["A-1",{{"code":"1","zone_code":"A"}},0.5],{square}],[["A-2",{{"code":"2","zone_code":"A"}},null],null]]"#
        );
        let read = rows(&text);
        let typed = read.typed_shapes::<Members<'_>>().unwrap();
        assert_eq!(typed.len(), 2);
        assert_eq!(typed[0].0.get("code").unwrap().get(), r#""1""#);
        assert_eq!(typed[0].1.as_ref().unwrap().0[0].exterior().0.len(), 5);
        assert_eq!((typed[0].2, typed[1].2), (Some(0.5), None));
        assert!(typed[1].1.is_none(), "a row without geometry has no shape");
        let with_shapes = read.rows_with_shapes().unwrap();
        assert_eq!(with_shapes[1].0.id, "A-2");
        assert_eq!(read.rows().unwrap()[0].geometry.as_deref(), Some(square));

        // A geometry that is not one: the error names the row, and nothing is returned.
        let bad = rows(r#"[[["A-1",{},null],{"type":"Point","coordinates":[0,0]}]]"#);
        match bad.typed_shapes::<Members<'_>>() {
            Err(StoreError::Corrupt { id, reason, .. }) => {
                assert_eq!(id, "A-1");
                assert!(reason.contains("not polygonal"), "{reason}");
            }
            other => panic!("expected a corrupt row, got {:?}", other.map(|r| r.len())),
        }
        // Hexadecimal WKB (as PostGIS writes rows) reads as the same shape and the same text.
        let shape = spatial::parse_stored(square).unwrap();
        let wkb = geozero::ToWkb::to_wkb(
            &geo::Geometry::MultiPolygon(shape.clone()),
            geozero::CoordDimensions::xy(),
        )
        .unwrap();
        let read = rows(&format!(r#"[[["A-1",{{"code":"1"}},0.5],"{}"]]"#, faster_hex::hex_string(&wkb)));
        assert_eq!(read.typed_shapes::<Members<'_>>().unwrap()[0].1.as_ref(), Some(&shape));
        assert_eq!(read.rows_with_shapes().unwrap()[0].1.as_ref(), Some(&shape));
        let text = read.rows().unwrap().remove(0).geometry.unwrap();
        assert_eq!(spatial::parse_stored(&text).unwrap(), shape);
        match rows(r#"[[["A-1",{},null],"01zz"]]"#).rows() {
            Err(StoreError::Corrupt { id, reason, .. }) => {
                assert_eq!(id, "A-1");
                assert!(reason.contains("hexadecimal WKB"), "{reason}");
            }
            other => panic!("expected a corrupt row, got {:?}", other.map(|r| r.len())),
        }
        // Text that is not an array of rows, or has more after it.
        assert!(matches!(rows("[[1").fields::<serde_json::Value>(), Err(StoreError::Corrupt { .. })));
        assert!(matches!(rows("[] []").rows(), Err(StoreError::Corrupt { .. })));
    }
}
