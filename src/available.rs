//! Available land for investors, as DESIGN.md defines it: leasable land valid at a date minus every active or
//! reserved lease, split into contiguous pieces, each with how much of it is cleared (handed-over clearance
//! parcels) and has infrastructure ready (plots with `infra_ready_on`).
//!
//! Pieces smaller than a minimum (default 0.05 ha) are slivers of drawing, not land an investor can use:
//! they are dropped from the list and counted in `dropped_ha`, so that for every zone
//! `leased_ha + reserved_ha + available_ha = leasable_ha` still holds with slivers included.
//!
//! Results are cached per zone and keyed on the zone's data version: a write recomputes only the zones it
//! touched.

use std::collections::HashMap;
use std::sync::Arc;

use geo::{Closest, ClosestPoint, Distance, Geodesic, Intersects, MultiPolygon, Point, Polygon};
use serde::{Deserialize, Serialize};

use crate::cache::{Claims, VersionedCache, budget_bytes};
use crate::collections;
use crate::domain::{
    ClearanceParcel, ClearanceStatus, Date, LandUse, Lease, LeaseState, LeaseStatus, Plot, Zone,
};
use crate::occupancy::OccupancyError;
use crate::spatial::{area_ha, clip, subtract_all, union_all};
use crate::store::{Columns, JsonRows, Store, StoreError, Within};

/// Pieces below this many hectares are dropped (and counted) unless a query says otherwise.
pub const DEFAULT_MIN_PIECE_HA: f64 = 0.05;

/// One contiguous piece of available land.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Piece {
    /// `{zone_code}-A{n}`, stable while the zone's data does not change.
    pub id: String,
    pub zone_code: String,
    pub zone_name: String,
    pub province_code: String,
    pub area_ha: f64,
    /// Part of the piece on handed-over clearance parcels.
    pub cleared_ha: f64,
    /// Part of the piece on plots whose infrastructure was ready at the date.
    pub infra_ready_ha: f64,
    /// All of the piece is cleared and has infrastructure ready (to 1 m²).
    pub ready: bool,
    /// All of the piece is cleared (to 1 m²).
    pub cleared: bool,
    /// The zone's status on the date: investors are offered land of established and operating zones
    /// unless they ask for more (`zone_status=`).
    pub zone_status: crate::domain::ZoneStatus,
    pub wwtp_operating: bool,
    pub wwtp_capacity_m3d: Option<f64>,
    /// Codes of the plots the piece overlaps.
    pub plot_codes: Vec<String>,
    /// Projects whose land the piece was taken back from (their leases terminated or revoked on or
    /// before the date), and the latest such date: land recovered for new investors.
    pub recovered_from: Vec<String>,
    pub recovered_on: Option<Date>,
    /// Kept as WKB in the store (see [`Cache`]); answers write it themselves.
    #[serde(with = "polygon_wkb")]
    pub geometry: Polygon,
}

/// A polygon as hexadecimal WKB: read back without parsing decimal text, which matters when a restarted
/// service reads a nation's kept pieces.
mod polygon_wkb {
    use geo::Polygon;
    use geozero::{CoordDimensions, ToGeo, ToWkb};
    use serde::{Deserialize, Deserializer, Serializer, de::Error, ser};

    pub fn serialize<S: Serializer>(polygon: &Polygon, s: S) -> Result<S::Ok, S::Error> {
        let wkb = geo::Geometry::Polygon(polygon.clone())
            .to_wkb(CoordDimensions::xy())
            .map_err(<S::Error as ser::Error>::custom)?;
        s.serialize_str(&faster_hex::hex_string(&wkb))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Polygon, D::Error> {
        let text = <&str>::deserialize(d)?;
        let bytes = crate::spatial::from_hex(text).map_err(D::Error::custom)?;
        match geozero::wkb::Wkb(bytes).to_geo().map_err(D::Error::custom)? {
            geo::Geometry::Polygon(p) => Ok(p),
            _ => Err(D::Error::custom("the kept geometry is not a polygon")),
        }
    }
}

/// Available land of one zone on one date, and the dates it holds for: the same from `from` up to (not
/// including) `to`, because nothing it depends on begins or ends in between ([`span_around`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZoneAvailability {
    pub zone_code: String,
    /// First date it holds (`None`: every date before `to`).
    pub from: Option<Date>,
    /// First date it no longer holds (`None`: every date from `from` on).
    pub to: Option<Date>,
    pub pieces: Vec<Piece>,
    /// Total of every piece, slivers included.
    pub available_ha: f64,
    /// Hectares in pieces below the minimum, left out of `pieces`.
    pub dropped_ha: f64,
    pub dropped_pieces: usize,
}

/// What a zone's computation needs.
pub struct ZoneInputs {
    pub zone: Zone,
    pub boundary: Option<MultiPolygon>,
    pub land_use: Vec<(LandUse, MultiPolygon)>,
    pub leases: Vec<(Lease, MultiPolygon)>,
    pub parcels: Vec<(ClearanceParcel, MultiPolygon)>,
    pub plots: Vec<(Plot, MultiPolygon)>,
}

/// How far measured parts may disagree with their whole, hectares: boolean operations work on
/// longitude/latitude, and the same edge cut at more vertices measures a few m² differently on the
/// ellipsoid (geodesics bow away from parallels). docs/api.md promises additivity to 0.01 ha.
pub const ADDITIVITY_HA: f64 = 0.01;

/// 1 m² in hectares: the tolerance for "all of the piece".
const ONE_M2_HA: f64 = 1e-4;

/// Available land of a zone on `at`; pieces below `min_piece_ha` are counted in `dropped_ha`.
pub fn zone_available(inputs: &ZoneInputs, at: Date, min_piece_ha: f64) -> ZoneAvailability {
    let zone = &inputs.zone;
    let plan: Vec<&MultiPolygon> = inputs
        .land_use
        .iter()
        .filter(|(lu, _)| lu.is_leasable() && lu.valid_at(at))
        .map(|(_, g)| g)
        .collect();
    let span = span_around(inputs, at);
    let mut result = ZoneAvailability {
        zone_code: zone.code.clone(),
        from: span.from,
        to: span.to,
        pieces: Vec::new(),
        available_ha: 0.0,
        dropped_ha: 0.0,
        dropped_pieces: 0,
    };
    if plan.is_empty() {
        return result; // No plan geometry: nothing to draw (occupancy falls back to declared figures).
    }
    let leasable = match &inputs.boundary {
        Some(b) => clip(&union_all(plan), b),
        None => union_all(plan),
    };
    let held: Vec<&MultiPolygon> =
        inputs.leases.iter().filter(|(l, _)| l.state_at(at) != LeaseState::None).map(|(_, g)| g).collect();
    // Leasable land less every held lease, in one operation on the grid pages are written at: a piece
    // served is the piece measured, and valid (an outline touching itself where two leases meet at a
    // corner is split, so that a piece can be reserved back).
    let available = crate::spatial::subtract_on_served_grid(&leasable, held.iter().copied());

    let cleared = union_all(
        inputs
            .parcels
            .iter()
            .filter(|(p, _)| {
                p.status == ClearanceStatus::HandedOver && p.handed_over_on.is_none_or(|d| d <= at)
            })
            .map(|(_, g)| g),
    );
    let infra = union_all(
        inputs.plots.iter().filter(|(p, _)| p.infra_ready_on.is_some_and(|d| d <= at)).map(|(_, g)| g),
    );
    let ready_land = clip(&cleared, &infra);

    let plots = inputs.plots.iter().map(|(_, g)| g);
    let mut plots_on = shapes_on_pieces(plots, &leasable, &held, &available);
    // Land taken back: leases a termination or revocation ended on or before the date.
    let recovered: Vec<(&Lease, &MultiPolygon)> = inputs
        .leases
        .iter()
        .filter(|(l, _)| matches!(l.status, LeaseStatus::Terminated | LeaseStatus::Revoked))
        .filter(|(l, _)| l.end_on.is_some_and(|d| d <= at))
        .map(|(l, g)| (l, g))
        .collect();
    let mut recovered_on_pieces =
        shapes_on_pieces(recovered.iter().map(|(_, g)| *g), &leasable, &held, &available);
    let leasable_ha = area_ha(&leasable);
    let mut n = 0;
    for (index, polygon) in available.0.into_iter().enumerate() {
        let piece = MultiPolygon(vec![polygon]);
        let area = area_ha(&piece);
        // A piece can never hold more than the zone's leasable land: if one does, the geometry
        // operations went wrong, and that is a bug to report, never a figure to publish.
        debug_assert!(
            area <= leasable_ha + ADDITIVITY_HA,
            "piece of {area} ha in zone {} with {leasable_ha} ha leasable",
            zone.code
        );
        if area > leasable_ha + ADDITIVITY_HA {
            tracing::error!(
                zone = %zone.code,
                piece_ha = area,
                leasable_ha,
                "an available piece is larger than the zone's leasable land; it is left out"
            );
            continue;
        }
        result.available_ha += area;
        if area < min_piece_ha {
            result.dropped_ha += area;
            result.dropped_pieces += 1;
            continue;
        }
        n += 1;
        let cleared_ha = area_ha(&clip(&piece, &cleared));
        let infra_ready_ha = area_ha(&clip(&piece, &infra));
        let ready_ha = area_ha(&clip(&piece, &ready_land));
        let plot_codes = std::mem::take(&mut plots_on[index])
            .into_iter()
            .map(|i| inputs.plots[i].0.code.clone())
            .collect();
        let mut recovered_from = Vec::new();
        let mut recovered_on: Option<Date> = None;
        for i in std::mem::take(&mut recovered_on_pieces[index]) {
            let lease = recovered[i].0;
            if let Some(project) = &lease.project_id
                && !recovered_from.contains(project)
            {
                recovered_from.push(project.clone());
            }
            recovered_on = recovered_on.max(lease.end_on);
        }
        result.pieces.push(Piece {
            id: format!("{}-A{n}", zone.code),
            zone_code: zone.code.clone(),
            zone_name: zone.name.clone(),
            // The unit that holds the zone on the date (the new Bắc Ninh in 2026 for a zone of old Bắc Ninh).
            province_code: crate::geography::resolve_at(&zone.province_code, at)
                .map(|u| u.province_code.clone())
                .unwrap_or_else(|| zone.province_code.clone()),
            area_ha: area,
            cleared_ha,
            infra_ready_ha,
            ready: ready_ha >= area - ONE_M2_HA,
            cleared: cleared_ha >= area - ONE_M2_HA,
            zone_status: zone.status_at(at),
            wwtp_operating: zone.wwtp_operating.unwrap_or(false),
            wwtp_capacity_m3d: zone.wwtp_capacity_m3d,
            plot_codes,
            recovered_from,
            recovered_on,
            geometry: piece.0.into_iter().next().expect("one polygon"),
        });
    }
    result
}

/// The dates around `at` on which something a zone's available land depends on begins or ends: its
/// leasable land and leases ([`crate::occupancy::span_around`]), its clearance parcels' hand-over, its
/// plots' infrastructure, its own status, and the province that holds it.
pub fn span_around(inputs: &ZoneInputs, at: Date) -> crate::occupancy::Span {
    let mut span = crate::occupancy::span_around(&inputs.land_use, &inputs.leases, at);
    let zone = &inputs.zone;
    let parcels = inputs.parcels.iter().map(|(p, _)| p.handed_over_on);
    let plots = inputs.plots.iter().map(|(p, _)| p.infra_ready_on);
    let status = [zone.policy_approved_on, zone.established_on, zone.operating_since];
    let province = crate::geography::handovers(&zone.province_code).into_iter().map(Some);
    span.narrow(at, parcels.chain(plots).chain(status).chain(province).flatten());
    span
}

/// For each piece of `available`, the indices of the `shapes` (plots, ended leases) it holds more than
/// 1 m² of, in the order of `shapes`.
///
/// A shape's free part is the shape less the held leases around it (found through an R-tree of their
/// boxes), clipped to the leasable land; each part of it lies in exactly one piece, found by a point inside
/// the part. That is one small boolean operation per shape, instead of one per shape and piece against a
/// piece that may hold a whole zone's road network with a hole for every lease.
fn shapes_on_pieces<'a>(
    shapes: impl IntoIterator<Item = &'a MultiPolygon>,
    leasable: &MultiPolygon,
    held: &[&MultiPolygon],
    available: &MultiPolygon,
) -> Vec<Vec<usize>> {
    use geo::BoundingRect;
    use rstar::primitives::{GeomWithData, Rectangle};
    let envelope = |g: &MultiPolygon| {
        g.bounding_rect().map(|r| Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]))
    };
    let held_tree = rstar::RTree::bulk_load(
        held.iter().enumerate().filter_map(|(i, g)| Some(GeomWithData::new(envelope(g)?, i))).collect(),
    );
    let piece_tree = rstar::RTree::bulk_load(
        available
            .0
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let r = p.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect(),
    );
    let leasable_only = [leasable];
    let land = crate::spatial::Land::new(&leasable_only, None);
    let mut found: Vec<Vec<usize>> = vec![Vec::new(); available.0.len()];
    for (index, geometry) in shapes.into_iter().enumerate() {
        let Some(shape_box) = envelope(geometry) else { continue };
        let around: Vec<&MultiPolygon> = held_tree
            .locate_in_envelope_intersecting(&rstar::RTreeObject::envelope(&shape_box))
            .map(|e| held[e.data])
            .collect();
        // A plot held under a lease drawn on it (the usual lease: its geometry copied from the plot)
        // has no free part, and needs no boolean operation to say so.
        if around.contains(&geometry) {
            continue;
        }
        // Leases on the plots beside it only meet it along their edges.
        let mut free = subtract_all(geometry, crate::spatial::overlapping(geometry, &around));
        // Most plots lie inside the leasable land: a cheap test spares them the clip.
        if !land.holds_shape(&free) {
            free = clip(&free, leasable);
        }
        for part in free.0 {
            if !crate::spatial::at_least_m2(&part, ONE_M2_HA * crate::spatial::M2_PER_HA) {
                continue;
            }
            let Some(inside) = crate::spatial::inside_point(&part) else { continue };
            let at_point = Rectangle::from_corners([inside.x(), inside.y()], [inside.x(), inside.y()]);
            // The part is free land, so it lies in a piece: when only one piece's box holds the point,
            // that is the piece, with no walk round its outline (a road network's, with a hole for every
            // lease, is thousands of vertices).
            let candidates: Vec<usize> = piece_tree
                .locate_in_envelope_intersecting(&rstar::RTreeObject::envelope(&at_point))
                .map(|e| e.data)
                .collect();
            let piece = match candidates[..] {
                [only] => Some(only),
                _ => candidates.into_iter().find(|&i| available.0[i].intersects(&inside)),
            };
            if let Some(i) = piece
                && found[i].last() != Some(&index)
            {
                found[i].push(index);
            }
        }
    }
    found
}

/// Geodesic distance in km from `point` to the nearest point of `piece` (0 inside it). The nearest point is
/// found in longitude/latitude, which is exact enough at the scale of a province.
pub fn distance_km(piece: &Polygon, point: Point) -> f64 {
    match piece.closest_point(&point) {
        Closest::Intersection(_) => 0.0,
        Closest::SinglePoint(p) => Geodesic.distance(point, p) / 1000.0,
        Closest::Indeterminate => f64::INFINITY,
    }
}

/// Per-zone results kept between requests, in memory (45 % of `LANDBANK_CACHE_MB`) and, for
/// the default minimum piece size, in the store ([`Store::keep`], so that a restarted process does not
/// compute again): every result of a zone computed so far, each for the dates it holds, keyed on (zone,
/// minimum piece size) and valid while the zone's data version holds.
/// Zones being computed are claimed ([`Claims`]): a computation that needs one waits for its land.
/// Whole answers are kept too ([`Answers`]).
pub struct Cache {
    zones: VersionedCache<(String, u64), Arc<Vec<Arc<ZoneAvailability>>>>,
    claims: Claims,
    answers: Answers,
}

/// Whole answers (the zones of a place on a date, for a minimum piece size), kept per data version of
/// the store: the same question asked again before any write is answered without reading the zones and
/// their versions again. An answer points at its zones' results without holding them
/// ([`std::sync::Weak`]): it weighs 16 bytes a zone, and is used only while every one of them is still
/// held elsewhere (by the per-zone cache, or a request being answered), so that answers never keep
/// pieces in memory beyond that cache's bound.
pub type Answers = VersionedCache<AnswerKey, Arc<Vec<std::sync::Weak<ZoneAvailability>>>>;

/// What an answer depends on besides the records: the place, the date, the minimum piece size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    province_code: Option<String>,
    zone_code: Option<String>,
    /// The box's corners' bits.
    bbox: Option<[u64; 4]>,
    at: Date,
    min_piece_ha: u64,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            zones: VersionedCache::new(budget_bytes(0.45), |spans| {
                spans.iter().map(|z| weigh(z)).fold(0u32, u32::saturating_add)
            }),
            claims: Claims::default(),
            answers: VersionedCache::new(budget_bytes(0.05), |zones| {
                u32::try_from(zones.len() * 16).unwrap_or(u32::MAX)
            }),
        }
    }
}

impl Cache {
    /// Zones whose available land was computed so far (not found kept), by any computation.
    pub fn measured(&self) -> u64 {
        self.claims.measured()
    }
    /// Estimated bytes held: (zones' results, answers).
    pub fn weighted_bytes(&self) -> (u64, u64) {
        (self.zones.weighted_bytes(), self.answers.weighted_bytes())
    }
    /// Lookups so far: (hits, misses) of zones' results, then of answers.
    pub fn lookups(&self) -> [(u64, u64); 2] {
        [self.zones.lookups(), self.answers.lookups()]
    }
}

/// What the store keeps per zone under this name; the number is the revision of [`zone_available`]'s
/// formula, raised whenever it changes so that land kept by an earlier landbank is computed again.
pub const KEPT_KIND: &str = "available/3";

/// Bytes a zone's pieces hold, about: 16 per coordinate and a little per piece.
fn weigh(a: &ZoneAvailability) -> u32 {
    let coords: usize = a.pieces.iter().map(|p| geo::CoordsIter::coords_count(&p.geometry)).sum();
    u32::try_from(coords * 16 + a.pieces.len() * 256).unwrap_or(u32::MAX)
}

/// A chunk's land use, leases, clearance parcels and plots, as read (one JSON text each).
type ChunkRows = [JsonRows; 4];

/// Reads what the zones need from the store.
async fn read_inputs(
    store: &Arc<dyn Store>,
    zones: &[(Zone, Option<MultiPolygon>)],
) -> Result<ChunkRows, StoreError> {
    let codes: Vec<String> = zones.iter().map(|(z, _)| z.code.clone()).collect();
    let within = Within::FieldIn("zone_code", &codes);
    // Every field but no stored area (the land is measured here); of plots, only what a piece names.
    let fields = Columns { fields: None, area: false, geometry: true };
    let plot_fields = Columns::only(&["code", "zone_code", "infra_ready_on"], true);
    Ok([
        store.json_rows(&collections::LAND_USE, within, fields).await?,
        store.json_rows(&collections::LEASES, within, fields).await?,
        store.json_rows(&collections::CLEARANCE_PARCELS, within, fields).await?,
        store.json_rows(&collections::PLOTS, within, plot_fields).await?,
    ])
}

/// Rows parsed into `T` with their geometry, grouped by zone (`zone` names a row's zone); rows without
/// a geometry count nowhere.
fn by_zone<T: serde::de::DeserializeOwned>(
    rows: &JsonRows,
    zone: impl Fn(&T) -> &str,
) -> Result<HashMap<String, Vec<(T, MultiPolygon)>>, StoreError> {
    let mut grouped: HashMap<String, Vec<(T, MultiPolygon)>> = HashMap::new();
    for (record, geometry, _) in rows.typed_shapes::<T>()? {
        if let Some(g) = geometry {
            grouped.entry(zone(&record).to_string()).or_default().push((record, g));
        }
    }
    Ok(grouped)
}

/// A chunk's rows parsed and grouped by zone (on the blocking thread that computes them).
fn group_inputs(
    zones: Vec<(Zone, Option<MultiPolygon>)>,
    [land_use, leases, parcels, plots]: ChunkRows,
) -> Result<Vec<ZoneInputs>, StoreError> {
    let mut land_use = by_zone(&land_use, |lu: &LandUse| &lu.zone_code)?;
    let mut leases = by_zone(&leases, |l: &Lease| &l.zone_code)?;
    let mut parcels = by_zone(&parcels, |p: &ClearanceParcel| &p.zone_code)?;
    let mut plots = by_zone(&plots, |p: &Plot| &p.zone_code)?;
    Ok(zones
        .into_iter()
        .map(|(zone, boundary)| ZoneInputs {
            land_use: land_use.remove(&zone.code).unwrap_or_default(),
            leases: leases.remove(&zone.code).unwrap_or_default(),
            parcels: parcels.remove(&zone.code).unwrap_or_default(),
            plots: plots.remove(&zone.code).unwrap_or_default(),
            zone,
            boundary,
        })
        .collect())
}

/// Which zones' available land is asked for: those of a province, one zone, those whose boundary meets
/// a box (`[min_lon, min_lat, max_lon, max_lat]`, WGS 84), or every zone (all `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Place<'a> {
    pub province_code: Option<&'a str>,
    pub zone_code: Option<&'a str>,
    pub bbox: Option<[f64; 4]>,
}

/// Available land of the zones in `place` on `at`: the answer kept for the same question when nothing
/// was written since ([`Answers`]), else each zone's from the cache where the zone's data has not
/// changed, computed (on a blocking thread) for the rest.
pub async fn compute(
    store: &Arc<dyn Store>,
    cache: &Cache,
    place: &Place<'_>,
    at: Date,
    min_piece_ha: f64,
) -> Result<Arc<Vec<Arc<ZoneAvailability>>>, OccupancyError> {
    // The data version before anything is read: only zones unchanged since are kept (see occupancy).
    let started = store.data_version().await?;
    let key = AnswerKey {
        province_code: place.province_code.map(str::to_string),
        zone_code: place.zone_code.map(str::to_string),
        bbox: place.bbox.map(|b| b.map(f64::to_bits)),
        at,
        min_piece_ha: min_piece_ha.to_bits(),
    };
    let held = |zones: Arc<Vec<std::sync::Weak<ZoneAvailability>>>| {
        zones.iter().map(std::sync::Weak::upgrade).collect::<Option<Vec<_>>>()
    };
    if let Some(zones) = cache.answers.get_usable(&key, started, held) {
        return Ok(Arc::new(zones));
    }
    let zones = Arc::new(from_zones(store, cache, place, at, min_piece_ha, started).await?);
    // Kept only when nothing was written meanwhile: a zone read then may be half old, half new.
    if store.data_version().await? == started {
        let pointers = zones.iter().map(Arc::downgrade).collect();
        cache.answers.put(key, started, Arc::new(pointers));
    }
    Ok(zones)
}

/// Available land of the zones in `place` on `at`, from the cache where the zone's data has not changed
/// since the data version `started` (read before anything else), computed for the rest.
async fn from_zones(
    store: &Arc<dyn Store>,
    cache: &Cache,
    place: &Place<'_>,
    at: Date,
    min_piece_ha: f64,
    started: i64,
) -> Result<Vec<Arc<ZoneAvailability>>, OccupancyError> {
    let Place { province_code, zone_code, bbox } = *place;
    // The province's territory: a new unit reads the zones of the units it was formed from.
    if let Some(p) = province_code {
        crate::geography::known(p, at).map_err(OccupancyError::UnknownProvince)?;
    }
    let territory = province_code.map(crate::geography::territory);
    let (mut zones, _) = crate::occupancy::read_zones(store, territory.as_deref(), zone_code, None).await?;
    // Boundaries are read only where they are needed: to find the zones a box meets, and to compute.
    let mut boundaries = HashMap::new();
    if let Some([x0, y0, x1, y1]) = bbox {
        // Only the zones that may hold land in the box: those whose boundary meets it, and those without
        // a boundary (their land is wherever their land use is).
        use geo::BoundingRect;
        let rect = geo::Rect::new((x0, y0), (x1, y1));
        let codes: Vec<String> = zones.iter().map(|z| z.code.clone()).collect();
        boundaries = crate::occupancy::zone_boundaries(store, &codes).await?;
        zones.retain(|z| {
            boundaries.get(&z.code).is_none_or(|b| b.bounding_rect().is_some_and(|b| b.intersects(&rect)))
        });
    }
    if let (Some(code), true) = (zone_code, zones.is_empty()) {
        return Err(OccupancyError::UnknownZone(code.to_string()));
    }
    let codes: Vec<String> = zones.iter().map(|z| z.code.clone()).collect();
    let versions = store.zone_versions(&codes).await?;
    let version = |code: &str| versions.of(code);
    let holding = |spans: &[Arc<ZoneAvailability>]| spans.iter().find(|z| z.holds_on(at)).cloned();
    let key = |code: &str| (code.to_string(), min_piece_ha.to_bits());
    let mut results: HashMap<String, Arc<ZoneAvailability>> = HashMap::new();
    let mut missing = Vec::new();
    for code in &codes {
        match cache.zones.get(&key(code), version(code)).and_then(|spans| holding(&spans)) {
            Some(hit) => {
                results.insert(code.clone(), hit);
            }
            None => missing.push(code.clone()),
        }
    }
    if min_piece_ha == DEFAULT_MIN_PIECE_HA && !missing.is_empty() {
        let mut current: Vec<(String, i64, String)> = store
            .kept(KEPT_KIND, &missing)
            .await?
            .into_iter()
            .filter(|(code, (kept_at, _))| *kept_at == version(code))
            .map(|(code, (kept_at, text))| (code, kept_at, text))
            .collect();
        // A nation's pieces are tens of megabytes of geometry: read on both cores, off the server's threads.
        let other_half = current.split_off(current.len() / 2);
        let mut parsed = Vec::new();
        for part in [
            tokio::task::spawn_blocking(|| parse_kept(current)),
            tokio::task::spawn_blocking(|| parse_kept(other_half)),
        ] {
            parsed.extend(part.await.map_err(stopped)?);
        }
        for (code, kept_at, spans) in parsed {
            if let Some(hit) = holding(&spans) {
                results.insert(code.clone(), hit);
            }
            cache.zones.put(key(&code), kept_at, Arc::new(spans));
        }
    }
    let unmeasured: Vec<Zone> = zones.into_iter().filter(|z| !results.contains_key(&z.code)).collect();
    if bbox.is_none() && !unmeasured.is_empty() {
        let codes: Vec<String> = unmeasured.iter().map(|z| z.code.clone()).collect();
        boundaries = crate::occupancy::zone_boundaries(store, &codes).await?;
    }
    let stale: Vec<(Zone, Option<MultiPolygon>)> = unmeasured
        .into_iter()
        .map(|z| {
            let boundary = boundaries.remove(&z.code);
            (z, boundary)
        })
        .collect();
    // Zone by zone, a chunk at a time, as occupancy does: each chunk's land use, leases, parcels and
    // plots are read, computed on a blocking thread while the next chunks are read, and let go — memory
    // holds a few chunks' rows, never a whole province's. Each zone computed is made findable as its
    // chunk ends, for a computation waiting for it, and goes to be kept in the store
    // ([`crate::occupancy::Keeper`]).
    // Only the default minimum piece size is kept in the store.
    let keeper = (min_piece_ha == DEFAULT_MIN_PIECE_HA)
        .then(|| crate::occupancy::Keeper::new(store, KEPT_KIND, "available land"));
    let claim_key = |(zone, _): &(Zone, Option<MultiPolygon>)| format!("{}/{}", zone.code, min_piece_ha);
    let found = |(zone, _): &(Zone, Option<MultiPolygon>)| {
        cache.zones.peek(&key(&zone.code), version(&zone.code)).and_then(|spans| holding(&spans))
    };
    let publish = |finished: &[Arc<ZoneAvailability>]| {
        let mut kept = Vec::new();
        for zone in finished.iter().filter(|z| version(&z.zone_code) <= started) {
            let version = version(&zone.zone_code);
            let same =
                |a: &Arc<ZoneAvailability>, b: &Arc<ZoneAvailability>| (a.from, a.to) == (b.from, b.to);
            let spans =
                cache.zones.add_spans(key(&zone.zone_code), version, [zone.clone()], same, |z| z.from);
            if keeper.is_some() {
                kept.extend(crate::occupancy::store_entry(
                    &zone.zone_code,
                    version,
                    &spans,
                    "available land",
                ));
            }
        }
        if let Some(keeper) = &keeper {
            keeper.add(kept);
        }
    };
    let shared =
        crate::occupancy::Shared { claims: &cache.claims, key: &claim_key, found: &found, publish: &publish };
    let finished = crate::occupancy::in_chunks(
        stale,
        Some(&shared),
        |chunk| {
            let store = store.clone();
            async move {
                let rows = read_inputs(&store, &chunk).await?;
                Ok((chunk, rows))
            }
        },
        move |(chunk, rows)| {
            let inputs = group_inputs(chunk, rows)?;
            Ok(inputs.iter().map(|i| Arc::new(zone_available(i, at, min_piece_ha))).collect())
        },
    )
    .await?;
    for zone in finished {
        results.insert(zone.zone_code.clone(), zone);
    }
    if let Some(keeper) = keeper {
        keeper.finish().await;
    }
    crate::cache::give_back_memory(missing.len());
    Ok(codes.iter().filter_map(|c| results.remove(c)).collect())
}

impl ZoneAvailability {
    /// Whether the result holds on `at`.
    pub fn holds_on(&self, at: Date) -> bool {
        crate::occupancy::Span { from: self.from, to: self.to }.holds(at)
    }
}

/// Kept available land, parsed; text that does not parse is left out, to be computed again and replaced
/// like a stale version.
fn parse_kept(kept: Vec<(String, i64, String)>) -> Vec<(String, i64, Vec<Arc<ZoneAvailability>>)> {
    kept.into_iter()
        .filter_map(|(code, kept_at, text)| match serde_json::from_str::<Vec<ZoneAvailability>>(&text) {
            Ok(spans) => Some((code, kept_at, spans.into_iter().map(Arc::new).collect())),
            Err(e) => {
                tracing::warn!(zone = %code, "kept available land does not parse ({e}); computing again");
                None
            }
        })
        .collect()
}

fn stopped(e: tokio::task::JoinError) -> OccupancyError {
    StoreError::Database(format!("available land computation failed: {e}")).into()
}

/// Order of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// By zone, then piece (the default).
    Zone,
    AreaAscending,
    AreaDescending,
    /// Nearest first (needs `near`).
    Distance,
}

/// What an investor asks for.
#[derive(Debug, Clone)]
pub struct PieceFilter {
    pub min_ha: Option<f64>,
    pub max_ha: Option<f64>,
    pub ready: Option<bool>,
    pub cleared: Option<bool>,
    pub wwtp: Option<bool>,
    /// Reference point for `distance_km` (lon, lat).
    pub near: Option<Point>,
    pub within_km: Option<f64>,
    /// `[min_lon, min_lat, max_lon, max_lat]`: pieces intersecting it.
    pub bbox: Option<[f64; 4]>,
    /// Zone statuses (on the date) whose land is offered; default established and operating.
    pub zone_statuses: Vec<crate::domain::ZoneStatus>,
    pub sort: Sort,
}

impl Default for PieceFilter {
    fn default() -> Self {
        PieceFilter {
            min_ha: None,
            max_ha: None,
            ready: None,
            cleared: None,
            wwtp: None,
            near: None,
            within_km: None,
            bbox: None,
            zone_statuses: crate::occupancy::DEFAULT_SCOPE.to_vec(),
            sort: Sort::Zone,
        }
    }
}

/// The pieces that pass `filter`, ordered, each with its distance to `near` when given.
pub fn select<'a>(zones: &'a [Arc<ZoneAvailability>], filter: &PieceFilter) -> Vec<(&'a Piece, Option<f64>)> {
    let rect = filter.bbox.map(|b| geo::Rect::new((b[0], b[1]), (b[2], b[3])));
    let mut out: Vec<(&Piece, Option<f64>)> = zones
        .iter()
        .flat_map(|z| z.pieces.iter())
        .filter(|p| filter.min_ha.is_none_or(|m| p.area_ha >= m))
        .filter(|p| filter.max_ha.is_none_or(|m| p.area_ha <= m))
        .filter(|p| filter.ready.is_none_or(|r| p.ready == r))
        .filter(|p| filter.cleared.is_none_or(|c| p.cleared == c))
        .filter(|p| filter.wwtp.is_none_or(|w| p.wwtp_operating == w))
        .filter(|p| filter.zone_statuses.contains(&p.zone_status))
        .filter(|p| rect.is_none_or(|r| p.geometry.intersects(&r)))
        .map(|p| (p, filter.near.map(|pt| distance_km(&p.geometry, pt))))
        .filter(|(_, d)| match (filter.within_km, d) {
            (Some(max), Some(d)) => *d <= max,
            _ => true,
        })
        .collect();
    match filter.sort {
        Sort::Zone => {}
        Sort::AreaAscending => out.sort_by(|a, b| a.0.area_ha.total_cmp(&b.0.area_ha)),
        Sort::AreaDescending => out.sort_by(|a, b| b.0.area_ha.total_cmp(&a.0.area_ha)),
        Sort::Distance => out.sort_by(|a, b| a.1.unwrap_or(f64::MAX).total_cmp(&b.1.unwrap_or(f64::MAX))),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Date {
        crate::domain::parse_date(s).unwrap()
    }

    fn square() -> MultiPolygon {
        MultiPolygon(vec![geo::Rect::new((106.0, 21.0), (106.01, 21.01)).to_polygon()])
    }

    /// Land taken back is named on the piece that holds it, and only while it is free: a terminated lease
    /// whose plot was leased again names no piece; plots are named on the piece only while free.
    #[test]
    fn land_taken_back_and_free_plots_are_named_on_their_piece_only_while_free() {
        let zone: Zone = serde_json::from_value(json!({ "code": "Z", "name": "Z",
            "kind": "industrial_park", "province_code": "VN-56", "status": "operating" }))
        .unwrap();
        let land_use: LandUse = serde_json::from_value(json!({ "zone_code": "Z", "category": "industrial",
            "valid_from": "2000-01-01" }))
        .unwrap();
        let rect = |x0: f64, x1: f64| {
            MultiPolygon(vec![geo::Rect::new((106.0 + x0, 21.002), (106.0 + x1, 21.006)).to_polygon()])
        };
        let (p1, p2) = (rect(0.001, 0.003), rect(0.005, 0.007));
        let lease = |project: &str, status: &str, start: &str, end: Option<&str>| -> Lease {
            serde_json::from_value(json!({ "zone_code": "Z", "project_id": project, "status": status,
                "signed_on": start, "start_on": start, "end_on": end }))
            .unwrap()
        };
        let plot = |code: &str| -> Plot {
            serde_json::from_value(json!({ "zone_code": "Z", "code": code })).unwrap()
        };
        let inputs = ZoneInputs {
            zone,
            boundary: Some(square()),
            land_use: vec![(land_use, square())],
            leases: vec![
                (lease("PR1", "terminated", "2010-01-01", Some("2015-01-01")), p1.clone()),
                (lease("PR2", "terminated", "2010-01-01", Some("2015-06-01")), p2.clone()),
                // P2 leased again: its land is no longer free.
                (lease("PR3", "active", "2016-01-01", None), p2.clone()),
            ],
            parcels: vec![],
            plots: vec![(plot("P1"), p1), (plot("P2"), p2)],
        };
        let on = |at: &str| {
            let result = zone_available(&inputs, d(at), DEFAULT_MIN_PIECE_HA);
            assert_eq!(result.pieces.len(), 1, "{at}: the land around the leases is one piece");
            result.pieces.into_iter().next().unwrap()
        };
        let leased = on("2012-01-01");
        assert!(leased.plot_codes.is_empty() && leased.recovered_from.is_empty(), "{leased:?}");
        let between = on("2015-08-01");
        assert_eq!(between.plot_codes, ["P1", "P2"]);
        assert_eq!(between.recovered_from, ["PR1", "PR2"]);
        assert_eq!(between.recovered_on, Some(d("2015-06-01")));
        let again = on("2020-01-01");
        assert_eq!(again.plot_codes, ["P1"]);
        assert_eq!(again.recovered_from, ["PR1"], "P2's land was leased again");
        // The land of PR3's lease is not on the piece: leased + available = leasable.
        let leasable = area_ha(&square());
        let held = area_ha(&inputs.leases[2].1);
        assert!(
            (again.area_ha + held - leasable).abs() < ADDITIVITY_HA,
            "{} + {held} vs {leasable}",
            again.area_ha
        );
    }

    /// Every kind of date a zone's available land depends on bounds the dates a result holds for.
    #[test]
    fn results_hold_between_the_dates_anything_they_depend_on_changes() {
        let zone: Zone = serde_json::from_value(json!({ "code": "Z", "name": "Z",
            "kind": "industrial_park", "province_code": "VN-56", "status": "operating",
            "policy_approved_on": "2005-01-01", "established_on": "2006-01-01", "operating_since": "2008-01-01" }))
        .unwrap();
        let land_use: LandUse = serde_json::from_value(json!({ "zone_code": "Z", "category": "industrial",
            "valid_from": "2010-01-01" }))
        .unwrap();
        let lease: Lease = serde_json::from_value(json!({ "zone_code": "Z", "status": "terminated",
            "signed_on": "2015-01-01", "start_on": "2016-01-01", "end_on": "2020-01-01" }))
        .unwrap();
        let parcel: ClearanceParcel = serde_json::from_value(json!({ "zone_code": "Z", "sheet_no": "1",
            "parcel_no": "2", "status": "handed_over", "handed_over_on": "2012-01-01" }))
        .unwrap();
        let plot: Plot =
            serde_json::from_value(json!({ "zone_code": "Z", "code": "P1", "infra_ready_on": "2014-01-01" }))
                .unwrap();
        let inputs = ZoneInputs {
            zone,
            boundary: Some(square()),
            land_use: vec![(land_use, square())],
            leases: vec![(lease, square())],
            parcels: vec![(parcel, square())],
            plots: vec![(plot, square())],
        };
        let span = |at: &str| {
            let s = span_around(&inputs, d(at));
            (s.from.map(|d| d.to_string()), s.to.map(|d| d.to_string()))
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(span("2004-06-01"), (None, some("2005-01-01")), "the zone's status");
        assert_eq!(span("2007-06-01"), (some("2006-01-01"), some("2008-01-01")), "the zone's status");
        assert_eq!(span("2009-06-01"), (some("2008-01-01"), some("2010-01-01")), "land use");
        assert_eq!(span("2013-06-01"), (some("2012-01-01"), some("2014-01-01")), "parcel and plot");
        assert_eq!(span("2015-06-01"), (some("2015-01-01"), some("2016-01-01")), "the lease's dates");
        assert_eq!(span("2021-06-01"), (some("2020-01-01"), some("2025-07-01")), "lease, then the merger");
        assert_eq!(span("2026-06-01"), (some("2025-07-01"), None), "the unit that holds the zone");
        // A result holds from its first day up to, not including, its last.
        let result = zone_available(&inputs, d("2013-06-01"), DEFAULT_MIN_PIECE_HA);
        assert!(result.holds_on(d("2012-01-01")) && result.holds_on(d("2013-12-31")));
        assert!(!result.holds_on(d("2011-12-31")) && !result.holds_on(d("2014-01-01")));
    }
}
