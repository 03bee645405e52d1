//! Mapbox Vector Tiles (spec 2.1) for every collection, encoded in process with the `mvt` crate.
//!
//! A tile has one layer named after its collection. Features are projected to Web Mercator, clipped to the
//! tile plus a buffer (64 of 4,096 units each side) with geo's boolean operations, simplified to the tile's
//! resolution (Ramer–Douglas–Peucker, 1 unit) and carry the properties a map needs for styling, as of a
//! date. Tiles are cached in memory (bounded) and keyed on the store's data version, so a write is seen by
//! the next request. Each tile's drawing (geometry in tile units and what the tile reads of the stored
//! fields) is kept per data version whatever the date ([`DrawnCache`]): another date only re-colours it.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::f64::consts::PI;
use std::sync::Arc;

use geo::{BooleanOps, BoundingRect, Coord, MapCoords, MultiPolygon, Polygon, Rect, Simplify};
use mvt::{GeomEncoder, GeomType, Tile};
use serde_json::Value;
use thiserror::Error;

use crate::available::{self, DEFAULT_MIN_PIECE_HA};
use crate::collections::{self, Collection, TileExtra};
use crate::domain::Date;
use crate::occupancy::{self, DEFAULT_SCOPE, OccupancyError, OccupancyQuery, ZoneFigures};
use crate::store::{Columns, FeatureRow, Members, Store, StoreError, Within};

/// Tile extent in tile units (MVT default).
pub const EXTENT: u32 = 4096;
/// Buffer around the tile, in tile units, so that strokes across tile edges join.
pub const BUFFER: f64 = 64.0;
/// Deepest zoom served.
pub const MAX_ZOOM: u8 = 22;
/// Half the Web Mercator world width, metres.
const HALF_WORLD: f64 = 20_037_508.342_789_244;

#[derive(Debug, Error)]
pub enum TileError {
    #[error("tile {z}/{x}/{y} does not exist: z must be 0–22 and x, y below 2^z")]
    OutOfRange { z: u8, x: u32, y: u32 },
    #[error("collection {0} has no tiles")]
    NotTiled(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Occupancy(#[from] OccupancyError),
    #[error("encoding the tile failed: {0}")]
    Encode(String),
}

/// A tile address in the WebMercatorQuad (XYZ, y from the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileId {
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self, TileError> {
        if z > MAX_ZOOM || x >= (1u32 << z) || y >= (1u32 << z) {
            return Err(TileError::OutOfRange { z, x, y });
        }
        Ok(TileId { z, x, y })
    }

    /// The tile at zoom `z` containing (`lon`, `lat`).
    pub fn containing(lon: f64, lat: f64, z: u8) -> Self {
        let (x, y) = lonlat_to_mercator(lon, lat);
        let n = f64::from(1u32 << z);
        let col = ((x + HALF_WORLD) / (2.0 * HALF_WORLD) * n).floor().clamp(0.0, n - 1.0);
        let row = ((HALF_WORLD - y) / (2.0 * HALF_WORLD) * n).floor().clamp(0.0, n - 1.0);
        TileId { z, x: col as u32, y: row as u32 }
    }

    /// Bounds in Web Mercator metres: (left, bottom, right, top).
    pub fn mercator_bounds(&self) -> (f64, f64, f64, f64) {
        let size = 2.0 * HALF_WORLD / f64::from(1u32 << self.z);
        let left = -HALF_WORLD + f64::from(self.x) * size;
        let top = HALF_WORLD - f64::from(self.y) * size;
        (left, top - size, left + size, top)
    }

    /// Bounds with the buffer, in WGS 84 degrees: `[min_lon, min_lat, max_lon, max_lat]`.
    pub fn buffered_lonlat_bbox(&self) -> [f64; 4] {
        let (l, b, r, t) = self.mercator_bounds();
        let pad = (r - l) * BUFFER / f64::from(EXTENT);
        let (lon0, lat0) = mercator_to_lonlat(l - pad, b - pad);
        let (lon1, lat1) = mercator_to_lonlat(r + pad, t + pad);
        [lon0.max(-180.0), lat0.max(-85.06), lon1.min(180.0), lat1.min(85.06)]
    }
}

fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78);
    (lon * HALF_WORLD / 180.0, (((90.0 + lat) * PI / 360.0).tan()).ln() * HALF_WORLD / PI)
}

fn mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    (x / HALF_WORLD * 180.0, (2.0 * (y / HALF_WORLD * PI).exp().atan() - PI / 2.0).to_degrees())
}

/// A geometry in tile units (y down), clipped to the buffered tile and simplified; `None` when nothing is left.
pub fn to_tile(geometry: &MultiPolygon, tile: TileId) -> Option<MultiPolygon> {
    let (l, _, r, t) = tile.mercator_bounds();
    let scale = f64::from(EXTENT) / (r - l);
    let projected = geometry.map_coords(|c| {
        let (x, y) = lonlat_to_mercator(c.x, c.y);
        Coord { x: (x - l) * scale, y: (t - y) * scale }
    });
    let window =
        Rect::new((-BUFFER, -BUFFER), (f64::from(EXTENT) + BUFFER, f64::from(EXTENT) + BUFFER)).to_polygon();
    let max = f64::from(EXTENT) + BUFFER;
    let bounds = projected.bounding_rect()?;
    if bounds.min().x > max || bounds.min().y > max || bounds.max().x < -BUFFER || bounds.max().y < -BUFFER {
        return None;
    }
    let inside = bounds.min().x >= -BUFFER
        && bounds.min().y >= -BUFFER
        && bounds.max().x <= max
        && bounds.max().y <= max;
    // Most features of a deep tile lie wholly inside it and need no clipping. The boolean operation
    // snaps to an integer grid scaled to its input, so its results may overshoot the window by a hair:
    // clamp them back.
    let clipped = if inside {
        projected
    } else {
        projected
            .intersection(&MultiPolygon(vec![window]))
            .map_coords(|c| Coord { x: c.x.clamp(-BUFFER, max), y: c.y.clamp(-BUFFER, max) })
    }
    .simplify(1.0);
    // MVT: exterior rings have positive area by the surveyor's formula in tile coordinates, holes
    // negative (geo's counter-clockwise and clockwise).
    let kept: Vec<Polygon> = clipped
        .0
        .into_iter()
        .filter_map(|p| {
            let (exterior, holes) = p.into_inner();
            let exterior = tile_ring(exterior, true)?;
            Some(Polygon::new(exterior, holes.into_iter().filter_map(|h| tile_ring(h, false)).collect()))
        })
        .collect();
    (!kept.is_empty()).then_some(MultiPolygon(kept))
}

/// A ring rounded to integer tile coordinates (tiles hold integers: what is kept is what the encoder
/// writes), without repeated points and oriented as an exterior or a hole; `None` when rounding
/// collapses it (fewer than three distinct points, or less than half a tile unit of area). A polygon
/// whose exterior collapses is dropped with it: no feature ever goes out without geometry.
fn tile_ring(mut ring: geo::LineString, exterior: bool) -> Option<geo::LineString> {
    for c in &mut ring.0 {
        *c = Coord { x: c.x.round(), y: c.y.round() };
    }
    ring.0.dedup();
    if ring.0.len() < 4 {
        return None;
    }
    // Twice the signed area (shoelace, closing edge included; integers, so exact).
    let points = &ring.0;
    let twice_area: f64 =
        points.iter().zip(points.iter().cycle().skip(1)).map(|(a, b)| a.x * b.y - b.x * a.y).sum();
    if twice_area.abs() < 1.0 {
        return None;
    }
    if (twice_area > 0.0) != exterior {
        ring.0.reverse();
    }
    Some(ring)
}

/// A property value on a tile feature.
#[derive(Debug, Clone, PartialEq)]
pub enum TileValue {
    Text(String),
    Number(f64),
    Bool(bool),
}

/// One feature ready to encode: its geometry in tile units and its properties, its own or a kept
/// drawing's.
pub struct TileFeature<'a> {
    pub id: u64,
    pub geometry: Cow<'a, MultiPolygon>,
    pub properties: Vec<(&'static str, Cow<'a, TileValue>)>,
}

/// Encodes one layer; `None` when it has no features (an empty tile).
pub fn encode(layer_name: &str, features: Vec<TileFeature<'_>>) -> Result<Option<Vec<u8>>, TileError> {
    if features.is_empty() {
        return Ok(None);
    }
    let err = |e: mvt::Error| TileError::Encode(e.to_string());
    let mut tile = Tile::new(EXTENT);
    let mut layer = tile.create_layer(layer_name);
    for f in features {
        let mut encoder = GeomEncoder::new(GeomType::Polygon);
        for polygon in &f.geometry.0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                // The closing point is implied by ClosePath.
                for c in &ring.0[..ring.0.len().saturating_sub(1)] {
                    encoder.add_point(c.x, c.y).map_err(err)?;
                }
                encoder.complete_geom().map_err(err)?;
            }
        }
        let mut feature = layer.into_feature(encoder.encode().map_err(err)?);
        feature.set_id(f.id);
        for (key, value) in &f.properties {
            match value.as_ref() {
                TileValue::Text(s) => feature.add_tag_string(key, s),
                TileValue::Number(n) => feature.add_tag_double(key, *n),
                TileValue::Bool(b) => feature.add_tag_bool(key, *b),
            }
        }
        layer = feature.into_layer();
    }
    tile.add_layer(layer).map_err(err)?;
    Ok(Some(tile.to_bytes().map_err(err)?))
}

/// Collections served as tiles.
pub fn tiled(collection_id: &str) -> Option<&'static Collection> {
    collections::published(collection_id).filter(|c| c.tiles.is_some())
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0 + 0.0
}

/// Occupancy of every zone on a date, for zone tiles: the answer kept for the date, else each zone's
/// figures from the shared per-zone cache, so that a write recomputes the zones it touched, not the
/// country.
async fn zone_figures(
    store: &Arc<dyn Store>,
    cache: &occupancy::FiguresCache,
    at: Date,
) -> Result<Arc<occupancy::OccupancyReport>, TileError> {
    let query = OccupancyQuery::national(at);
    Ok(occupancy::compute_with(store, Some(cache), &query).await?)
}

/// Everything tiles need from the service.
#[derive(Default)]
pub struct TileState {
    pub tiles: TileCache,
    /// Per-zone occupancy, shared with `/occupancy` and the reports.
    pub figures: Arc<occupancy::FiguresCache>,
    /// Per-zone plot lease states, shared with the plots' pages.
    pub plot_states: Arc<occupancy::PlotStatesCache>,
    /// Tiles' records drawn, whatever the date.
    pub drawn: DrawnCache,
}

/// Builds the tile of `collection` at `tile` on date `at`, the store and the collection being at
/// `versions` (not kept: see [`TileCache`]; its drawing is, per collection version, see
/// [`DrawnCache`]); `None` when empty.
pub async fn build(
    store: &Arc<dyn Store>,
    state: &TileState,
    available_cache: &available::Cache,
    collection: &'static Collection,
    tile: TileId,
    at: Date,
    versions: crate::store::Versions,
) -> Result<Option<Vec<u8>>, TileError> {
    let Some(tiling) = collection.tiles else {
        return Err(TileError::NotTiled(collection.id.to_string()));
    };
    if tile.z < tiling.min_zoom {
        return Ok(None);
    }
    if tiling.extra == TileExtra::Computed {
        let bbox = tile.buffered_lonlat_bbox();
        let mut features = Vec::new();
        let text = |s: &str| TileValue::Text(s.to_string());
        let mut push = |id: u64, geometry: &MultiPolygon, properties: Vec<(&'static str, TileValue)>| {
            if let Some(g) = to_tile(geometry, tile) {
                let properties = properties.into_iter().map(|(k, v)| (k, Cow::Owned(v))).collect();
                features.push(TileFeature { id, geometry: Cow::Owned(g), properties });
            }
        };
        let place = available::Place { bbox: Some(bbox), ..Default::default() };
        let zones = available::compute(store, available_cache, &place, at, DEFAULT_MIN_PIECE_HA).await?;
        let rect = Rect::new((bbox[0], bbox[1]), (bbox[2], bbox[3]));
        let mut n = 0;
        // What investors are offered: land of established and operating zones (as /available by default).
        for piece in zones.iter().flat_map(|z| z.pieces.iter()) {
            n += 1;
            if DEFAULT_SCOPE.contains(&piece.zone_status)
                && geo::Intersects::intersects(&piece.geometry, &rect)
            {
                push(
                    n,
                    &MultiPolygon(vec![piece.geometry.clone()]),
                    vec![
                        ("id", text(&piece.id)),
                        ("zone_code", text(&piece.zone_code)),
                        ("area_ha", TileValue::Number((piece.area_ha * 1e4).round() / 1e4)),
                        ("ready", TileValue::Bool(piece.ready)),
                        ("cleared", TileValue::Bool(piece.cleared)),
                    ]
                    .into_iter()
                    .chain(
                        (!piece.recovered_from.is_empty())
                            .then(|| ("recovered_from", TileValue::Text(piece.recovered_from.join(",")))),
                    )
                    .chain(piece.recovered_on.map(|d| ("recovered_on", TileValue::Text(d.to_string()))))
                    .collect(),
                );
            }
        }
        return encode(collection.id, features);
    }
    let drawn = drawn(store, &state.drawn, collection, tile, versions.collection).await?;
    let report = match tiling.extra {
        TileExtra::ZoneFigures => Some(zone_figures(store, &state.figures, at).await?),
        _ => None,
    };
    // Zone figures by zone code.
    let figures: Option<HashMap<&str, &ZoneFigures>> =
        report.as_ref().map(|r| r.zones.iter().map(|z| (z.zone_code.as_str(), z)).collect());
    // Plots are coloured by the state of the leases on them at `at`, those of their zones.
    let plot_states = if tiling.extra == TileExtra::LeaseStatus {
        let zones: BTreeSet<String> =
            drawn.iter().filter_map(|d| d.text("zone_code")).map(str::to_string).collect();
        occupancy::zone_lease_states(store, &state.plot_states, zones, at, Some(versions.data)).await?
    } else {
        Default::default()
    };
    let mut features = Vec::with_capacity(drawn.len());
    for d in drawn.iter() {
        // The record's values on the date: a drawing's own, borrowed (a collection without dated
        // fields stands as stored on every date), or a dated row's as it stood then (absent then: not
        // drawn).
        let (kept, dated): (&TileValues, TileValues) = match &d.stored {
            Stored::Values(values) => (values, Vec::new()),
            Stored::Row(row) => {
                let mut row = row.clone();
                if !row.as_of(collection, at)? {
                    continue;
                }
                (&NO_VALUES, tile_values(&tiling, |name| row.properties.get(name).and_then(tile_value)))
            }
        };
        let stored = |name: &str| kept.iter().chain(&dated).find(|(n, _)| *n == name).map(|(_, v)| v);
        let text = |name: &str| match stored(name) {
            Some(TileValue::Text(t)) => t.as_str(),
            _ => "",
        };
        // What the date adds: the zone's province then and its figures, a plot's lease status.
        let mut added: Vec<(&'static str, TileValue)> = Vec::new();
        match tiling.extra {
            TileExtra::ZoneFigures => {
                // The unit holding the zone on the date (the new Bắc Ninh from 01/07/2025).
                if let Some(TileValue::Text(province)) = stored("province_code")
                    && let Some(unit) = crate::geography::resolve_at(province, at)
                {
                    added.push(("province_code", TileValue::Text(unit.province_code.clone())));
                }
                if let Some(f) = figures.as_ref().and_then(|f| f.get(text("code"))) {
                    added.push(("leasable_ha", TileValue::Number(round2(f.leasable_ha))));
                    added.push(("leased_ha", TileValue::Number(round2(f.leased_ha))));
                    added.push(("available_ha", TileValue::Number(round2(f.available_ha))));
                    if let Some(pct) = f.occupancy_pct {
                        added.push(("occupancy_pct", TileValue::Number(round2(pct))));
                    }
                }
            }
            TileExtra::LeaseStatus => {
                let state = plot_states.status_of(text("zone_code"), text("code"));
                added.push((collections::LEASE_STATUS.name, TileValue::Text(state.to_string())));
            }
            TileExtra::None | TileExtra::Computed => {}
        }
        // In the order the collection lists them; what the date adds wins over what is stored.
        added.extend(dated);
        let properties = tiling
            .fields
            .iter()
            .filter_map(|(name, _)| {
                let value = match added.iter().position(|(n, _)| n == name) {
                    Some(i) => Cow::Owned(added.swap_remove(i).1),
                    None => Cow::Borrowed(kept.iter().find(|(n, _)| n == name).map(|(_, v)| v)?),
                };
                Some((*name, value))
            })
            .collect();
        features.push(TileFeature { id: d.id, geometry: Cow::Borrowed(&d.geometry), properties });
    }
    encode(collection.id, features)
}

/// The stored fields a tile reads: those it carries, and those its date's additions are looked up by
/// (a plot's lease status by its zone and code, a zone's figures by its code and its province by the
/// stored one).
fn read_fields(tiling: &collections::Tiles) -> impl Iterator<Item = &'static str> {
    let keys: &[&'static str] = match tiling.extra {
        TileExtra::LeaseStatus => &["code", "zone_code"],
        TileExtra::ZoneFigures => &["code", "province_code"],
        TileExtra::None | TileExtra::Computed => &[],
    };
    let carried = tiling.fields.iter().map(|(name, _)| *name);
    carried.chain(keys.iter().copied().filter(|k| !tiling.fields.iter().any(|(name, _)| name == k)))
}

/// A record's values for its tile, by field name.
type TileValues = Vec<(&'static str, TileValue)>;

/// No values (a dated row's drawing keeps none of its own).
static NO_VALUES: TileValues = Vec::new();

/// The values of [`read_fields`] that `value` finds (absent ones and those tiles cannot carry left out).
fn tile_values(tiling: &collections::Tiles, value: impl Fn(&str) -> Option<TileValue>) -> TileValues {
    read_fields(tiling).filter_map(|name| Some((name, value(name)?))).collect()
}

/// One record drawn on a tile, whatever the date: its geometry in tile units (clipped, simplified,
/// rounded) and what the tile reads of its fields.
pub struct Drawn {
    /// The feature's id in the tile: its row's place in the box read, from 1.
    id: u64,
    geometry: MultiPolygon,
    stored: Stored,
}

/// What a drawing keeps of a record's fields.
enum Stored {
    /// A collection without dated fields: the values its tiles read ([`read_fields`]), taken out of
    /// the row once.
    Values(TileValues),
    /// A collection with dated fields: the stored row without its geometry, read as of each date asked.
    Row(FeatureRow),
}

impl Drawn {
    /// A stored text field, as stored (whatever the date).
    fn text(&self, name: &str) -> Option<&str> {
        match &self.stored {
            Stored::Values(values) => values.iter().find_map(|(n, v)| match v {
                TileValue::Text(t) if *n == name => Some(t.as_str()),
                _ => None,
            }),
            Stored::Row(row) => row.properties.get(name).and_then(Value::as_str),
        }
    }
}

/// The records of one tile, drawn at one version of their collection.
pub type DrawnTile = Arc<Vec<Drawn>>;

/// Tiles' records drawn once per version of their collection ([`crate::store::Versions`]) and kept
/// whatever the date: a map that steps through dates re-colours the same drawing (lease states,
/// figures) instead of reading, projecting and clipping the rows again, and so does a map after a
/// write to another collection (a lease signed keeps the plots' drawings). Bounded by an estimate of
/// their bytes (15 % of `LANDBANK_CACHE_MB`).
pub type DrawnCache = crate::cache::VersionedCache<(&'static str, TileId), DrawnTile>;

impl Default for DrawnCache {
    fn default() -> Self {
        DrawnCache::new(crate::cache::budget_bytes(0.15), |drawn| {
            let text = |v: &TileValue| match v {
                TileValue::Text(t) => 24 + t.len(),
                _ => 0,
            };
            let bytes: usize = drawn
                .iter()
                .map(|d| {
                    let points: usize = d
                        .geometry
                        .0
                        .iter()
                        .map(|p| {
                            p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()
                        })
                        .sum();
                    let fields: usize = match &d.stored {
                        Stored::Values(values) => values.iter().map(|(_, v)| 48 + text(v)).sum(),
                        Stored::Row(row) => {
                            let fields = row.properties.iter();
                            row.id.len()
                                + fields
                                    .map(|(k, v)| 64 + k.len() + v.as_str().map_or(0, str::len))
                                    .sum::<usize>()
                        }
                    };
                    96 + 16 * points + fields
                })
                .sum();
            u32::try_from(bytes).unwrap_or(u32::MAX)
        })
    }
}

/// The records of `collection` on `tile`, drawn: from `cache` when drawn at the collection's `version`,
/// else read (every row whose box meets the buffered tile's, one statement) and drawn. `version` is read
/// before the rows: a drawing that a write overtakes is kept under the older version, which the next
/// lookup does not match.
async fn drawn(
    store: &Arc<dyn Store>,
    cache: &DrawnCache,
    collection: &'static Collection,
    tile: TileId,
    version: i64,
) -> Result<DrawnTile, TileError> {
    if let Some(drawn) = cache.get(&(collection.id, tile), version) {
        return Ok(drawn);
    }
    let Some(tiling) = &collection.tiles else {
        return Err(TileError::NotTiled(collection.id.to_string()));
    };
    let bbox = tile.buffered_lonlat_bbox();
    // A collection without dated fields: only the fields the tile reads (e.g. a plot's code and zone,
    // not its other fields nor its area); a dated one whole, read as of each date.
    let fields: Vec<&str> = read_fields(tiling).collect();
    let columns = if collection.as_of.is_some() { Columns::ALL } else { Columns::only(&fields, true) };
    let rows = store.json_rows(collection, Within::Box(bbox), columns).await?;
    let mut drawn = Vec::new();
    let mut draw = |n: usize, geometry: Option<MultiPolygon>, stored: Stored| {
        if let Some(geometry) = geometry.and_then(|g| to_tile(&g, tile)) {
            drawn.push(Drawn { id: n as u64 + 1, geometry, stored });
        }
    };
    if collection.as_of.is_some() {
        for (n, (row, geometry)) in rows.rows_with_shapes()?.into_iter().enumerate() {
            draw(n, geometry, Stored::Row(row));
        }
    } else {
        // Fields read where they lie in the text, only those the tile reads.
        for (n, (fields, geometry, _)) in rows.typed_shapes::<Members<'_>>()?.into_iter().enumerate() {
            let values = tile_values(tiling, |name| raw_tile_value(fields.get(name)?));
            draw(n, geometry, Stored::Values(values));
        }
    }
    let drawn = Arc::new(drawn);
    cache.put((collection.id, tile), version, drawn.clone());
    Ok(drawn)
}

/// A stored JSON value as a tile value, read from its text (`None` for null, arrays, objects and text
/// that is not JSON).
fn raw_tile_value(raw: &serde_json::value::RawValue) -> Option<TileValue> {
    let text = raw.get();
    match text.as_bytes().first()? {
        b'"' => serde_json::from_str::<Cow<'_, str>>(text).ok().map(|s| TileValue::Text(s.into_owned())),
        b't' | b'f' => serde_json::from_str(text).ok().map(TileValue::Bool),
        b'-' | b'0'..=b'9' => text.parse().ok().map(TileValue::Number),
        _ => None,
    }
}

/// A property as a tile value (`None` for null, arrays and objects, which tiles do not carry).
fn tile_value(value: &Value) -> Option<TileValue> {
    match value {
        Value::String(s) => Some(TileValue::Text(s.clone())),
        Value::Number(n) => n.as_f64().map(TileValue::Number),
        Value::Bool(b) => Some(TileValue::Bool(*b)),
        _ => None,
    }
}

/// Key of a cached tile: collection, tile, date.
type TileKey = (&'static str, TileId, Date);

/// An encoded tile, or `None` for an empty one.
pub type CachedTile = Option<Arc<Vec<u8>>>;

/// Encoded tiles (or known-empty ones), each with the store's data version it was built at, bounded in
/// bytes (see [`crate::cache::VersionedCache`]; an empty tile weighs 16 bytes more than nothing).
pub type TileCache = crate::cache::VersionedCache<TileKey, CachedTile>;

/// The tile cache's default budget, bytes.
pub const TILE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for TileCache {
    fn default() -> Self {
        TileCache::new(TILE_CACHE_BYTES, |tile| {
            tile.as_ref().map_or(16, |t| u32::try_from(t.len()).unwrap_or(u32::MAX))
        })
    }
}

/// The properties each collection's tiles carry, with what they mean: exactly what [`build`] writes
/// (see [`collections::Tiles::fields`]); none for a collection that is not tiled.
pub fn tile_fields(collection: &Collection) -> &'static [(&'static str, &'static str)] {
    collection.tiles.map_or(&[], |t| t.fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::wkt;

    #[test]
    fn the_tile_cache_stays_within_its_bytes_and_never_serves_another_version() {
        let cache = TileCache::new(20_000, |t| t.as_ref().map_or(16, |t| t.len() as u32));
        let date = crate::domain::parse_date("2024-01-01").unwrap();
        for x in 0..200u32 {
            cache.put(("plots", TileId { z: 14, x, y: 0 }, date), 7, Some(Arc::new(vec![0u8; 1_000])));
        }
        let held = cache.weighted_bytes();
        assert!(held > 0 && held <= 20_000, "{held} bytes held");
        let key = ("plots", TileId { z: 14, x: 199, y: 0 }, date);
        cache.put(key, 7, Some(Arc::new(vec![1u8; 10])));
        assert!(cache.get(&key, 7).is_some());
        assert!(cache.get(&key, 8).is_none(), "a tile of another data version is not served");
    }

    #[test]
    fn tile_bounds_and_projection_round_trip() {
        let t = TileId::containing(106.12, 21.165, 14);
        assert_eq!((t.x, t.y), (13_021, 7_206));
        let [lon0, lat0, lon1, lat1] = t.buffered_lonlat_bbox();
        assert!(lon0 < 106.12 && lon1 > 106.1 && lat0 < 21.17 && lat1 > 21.15, "{lon0} {lat0} {lon1} {lat1}");
        let (x, y) = lonlat_to_mercator(106.12, 21.165);
        let (lon, lat) = mercator_to_lonlat(x, y);
        assert!((lon - 106.12).abs() < 1e-9 && (lat - 21.165).abs() < 1e-9);
        assert!(TileId::new(3, 8, 0).is_err());
    }

    #[test]
    fn geometry_is_clipped_to_the_buffered_tile_with_positive_exteriors() {
        let t = TileId::containing(106.12, 21.165, 14);
        let big =
            MultiPolygon(vec![wkt!(POLYGON((105.0 20.0, 107.0 20.0, 107.0 22.0, 105.0 22.0, 105.0 20.0)))]);
        let clipped = to_tile(&big, t).unwrap();
        for c in clipped.0[0].exterior().0.iter() {
            assert!((-BUFFER..=4096.0 + BUFFER).contains(&c.x) && (-BUFFER..=4096.0 + BUFFER).contains(&c.y));
        }
        assert!(geo::Area::signed_area(&clipped.0[0]) > 0.0);
        let far = MultiPolygon(vec![wkt!(POLYGON((0.0 0.0, 1.0 0.0, 1.0 1.0, 0.0 1.0, 0.0 0.0)))]);
        assert!(to_tile(&far, t).is_none());
    }
}
