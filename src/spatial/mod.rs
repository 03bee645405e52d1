//! Pure spatial functions: geodesic areas in hectares, validation of incoming polygons, unions and clipping.
//!
//! Geometries are WGS 84 longitude/latitude (EPSG:4326, x = lon, y = lat). Areas are geodesic on the WGS 84
//! ellipsoid (Karney's algorithm, as PostGIS `ST_Area(geography)`), never planar or spherical.

use geo::algorithm::bool_ops::unary_union;
use geo::orient::{Direction, Orient};
use geo::{BooleanOps, BoundingRect, Coord, GeodesicArea, LineString, MultiPolygon, Polygon, Validation};
use thiserror::Error;

mod alone;
mod wkb;
pub use alone::{Land, TOLERANCE_DEG, neighbours, overlapping};
pub use wkb::{from_hex, hex_bytes, parse_wkb, push_hex, wkb_to_geojson, write_geojson as write_wkb_geojson};

/// Square metres in one hectare.
pub const M2_PER_HA: f64 = 10_000.0;

/// Why an incoming geometry was refused. Messages say where (polygon, ring, position) and how to fix it.
#[derive(Debug, Error, PartialEq)]
pub enum GeometryError {
    #[error("geometry type {0} is not accepted here: send a Polygon or MultiPolygon")]
    NotPolygonal(String),
    #[error(
        "polygon {polygon}, ring {ring} has {count} positions: a ring needs at least 4 (the first repeated last)"
    )]
    TooFewPositions { polygon: usize, ring: usize, count: usize },
    #[error("polygon {polygon}, ring {ring} is not closed: its last position must repeat the first")]
    NotClosed { polygon: usize, ring: usize },
    #[error(
        "polygon {polygon}, ring {ring}, position {position}: ({x}, {y}) is not a WGS 84 longitude/latitude; \
         send lon in [-180, 180] and lat in [-90, 90] (projected metres need a CRS)"
    )]
    OutOfRange { polygon: usize, ring: usize, position: usize, x: f64, y: f64 },
    #[error("polygon {polygon}, ring {ring}, position {position} has {dims} numbers: send [lon, lat]")]
    BadPosition { polygon: usize, ring: usize, position: usize, dims: usize },
    #[error("invalid polygon: {0}")]
    Invalid(String),
    #[error("geometry has zero area")]
    Empty,
    #[error(
        "polygon {polygon} covers {area_m2:.3} m²: a degenerate shape (points on one line, or a spike); \
         every polygon must cover at least {MIN_POLYGON_M2} m²"
    )]
    Degenerate { polygon: usize, area_m2: f64 },
}

/// Smallest area a polygon of a record may cover, m²: less is a drawing mistake (collinear points, a
/// spike), never a piece of land.
pub const MIN_POLYGON_M2: f64 = 1.0;

/// Geodesic area of a polygonal geometry on the WGS 84 ellipsoid, in hectares.
///
/// ```
/// use geo::wkt;
/// // A 0.01° square near Bắc Ninh: 115.0337 ha, the same as PostGIS ST_Area(geography).
/// let square = wkt!(POLYGON((106. 21.1, 106.01 21.1, 106.01 21.11, 106. 21.11, 106. 21.1)));
/// let ha = landbank::spatial::area_ha(&geo::MultiPolygon(vec![square]));
/// assert!((ha - 115.03366026554107).abs() < 1e-9);
/// ```
pub fn area_ha(geometry: &MultiPolygon) -> f64 {
    geometry.0.iter().map(polygon_m2).sum::<f64>() / M2_PER_HA
}

/// Surface of the WGS 84 ellipsoid, m² (what Karney's algorithm returns, less a sliver, for a ring it
/// takes the wrong way round).
pub const EARTH_M2: f64 = 510_065_621_724_088.4;

/// Geodesic area of one polygon, m². The polygon is measured counter-clockwise (exterior) with clockwise
/// holes, whatever order its rings came in; a degenerate ring (out and back along a line), which has no
/// orientation, encloses the rest of the planet when read the wrong way round — its area is then the
/// complement, never more than half the Earth.
fn polygon_m2(polygon: &Polygon) -> f64 {
    use geo::Winding;
    let oriented = polygon.exterior().is_ccw() && polygon.interiors().iter().all(|h| h.is_cw());
    let m2 = if oriented {
        polygon.geodesic_area_unsigned()
    } else {
        polygon.orient(Direction::Default).geodesic_area_unsigned()
    };
    within_half_earth(m2)
}

/// An area Karney's algorithm returned for a ring read the wrong way round (more than half the Earth) is
/// the complement of the ring's own, m².
fn within_half_earth(m2: f64) -> f64 {
    if m2 > EARTH_M2 / 2.0 { (EARTH_M2 - m2).max(0.0) } else { m2 }
}

/// Smallest ring kept in a computed result, m²: a ring below it is a drawing sliver or a degenerate
/// ring of the boolean operations (out and back along one line), not land.
pub const SLIVER_M2: f64 = 0.01;

/// A ring's area in m², estimated on a sphere of the WGS 84 mean radius from its shoelace area in degrees
/// at its mean latitude: within about 1 % of the geodesic area for rings up to a few degrees across away
/// from the poles. `None` where that does not hold (a ring wider than 5°, or beyond ±80° latitude).
/// Deciding whether a ring is a sliver needs no more; measuring it always did, and cost most of the
/// time of a zone's figures.
fn roughly_m2(ring: &LineString) -> Option<f64> {
    let rect = ring.bounding_rect()?;
    if rect.width() > 5.0 || rect.height() > 5.0 || rect.min().y < -80.0 || rect.max().y > 80.0 {
        return None;
    }
    // Relative to the first vertex: the products stay small, so a thin ring is not lost in rounding.
    let o = ring.0[0];
    let twice_deg2: f64 =
        ring.0.windows(2).map(|w| (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y)).sum();
    const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;
    let lat = ((rect.min().y + rect.max().y) / 2.0).to_radians();
    Some((twice_deg2 / 2.0).abs() * M_PER_DEG * M_PER_DEG * lat.cos())
}

/// Whether an area is at least `m2` square metres, from its `estimate` on the sphere ([`roughly_m2`],
/// within about 1 %) when that lies a factor of 100 or more from `m2` either way, else from `measure`
/// (the geodesic area): most shapes are nowhere near a threshold, and measuring each one was most of
/// the time of deciding.
fn at_least(estimate: Option<f64>, m2: f64, measure: impl FnOnce() -> f64) -> bool {
    match estimate {
        Some(estimate) if estimate >= 100.0 * m2 => true,
        Some(estimate) if estimate <= m2 / 100.0 => false,
        _ => measure() >= m2,
    }
}

/// Whether `polygon` covers at least `m2` square metres (decided as [`clean`] decides slivers).
pub fn at_least_m2(polygon: &Polygon, m2: f64) -> bool {
    let estimate = roughly_m2(polygon.exterior()).and_then(|outer| {
        polygon.interiors().iter().try_fold(outer, |sum, hole| Some(sum - roughly_m2(hole)?))
    });
    at_least(estimate, m2, || polygon_m2(polygon))
}

/// A computed polygonal result made fit to measure and serve: degenerate and sliver rings (below
/// [`SLIVER_M2`]) removed — a hole that small is filled, an exterior that small drops its polygon —,
/// exteriors counter-clockwise and holes clockwise (RFC 7946).
pub fn clean(geometry: MultiPolygon) -> MultiPolygon {
    let kept = |r: &LineString| {
        r.0.len() >= 4 && at_least(roughly_m2(r), SLIVER_M2, || polygon_m2(&Polygon::new(r.clone(), vec![])))
    };
    let polygons = geometry
        .0
        .into_iter()
        .filter(|p| kept(p.exterior()))
        .map(|p| {
            let (exterior, holes) = p.into_inner();
            Polygon::new(exterior, holes.into_iter().filter(|h| kept(h)).collect())
        })
        .collect();
    MultiPolygon(polygons).orient(Direction::Default)
}

/// Parses a GeoJSON geometry into a valid, RFC 7946-oriented multipolygon (exterior rings counter-clockwise).
///
/// Checks, in order: polygonal type, 2-D positions, closed rings of at least 4 positions, coordinates in
/// longitude/latitude range, then OGC validity (no self-intersection, holes inside their shell, …).
pub fn parse_polygonal(geometry: &geojson::Geometry) -> Result<MultiPolygon, GeometryError> {
    parse_polygonal_measured(geometry).map(|(multi, _)| multi)
}

/// [`parse_polygonal`], with the geodesic area it measured on the way, in hectares (the same number
/// [`area_ha`] gives): an import measures each shape once.
pub fn parse_polygonal_measured(geometry: &geojson::Geometry) -> Result<(MultiPolygon, f64), GeometryError> {
    let polygons: Vec<&geojson::PolygonType> = match &geometry.value {
        geojson::GeometryValue::Polygon { coordinates } => vec![coordinates],
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        other => return Err(GeometryError::NotPolygonal(other.type_name().to_string())),
    };
    let mut out = Vec::with_capacity(polygons.len());
    for (p, rings) in polygons.into_iter().enumerate() {
        let mut converted = Vec::with_capacity(rings.len());
        for (r, ring) in rings.iter().enumerate() {
            converted.push(parse_ring(p, r, ring)?);
        }
        if converted.is_empty() {
            return Err(GeometryError::TooFewPositions { polygon: p, ring: 0, count: 0 });
        }
        let exterior = converted.remove(0);
        out.push(Polygon::new(exterior, converted));
    }
    let multi = MultiPolygon(out);
    if let Some(problem) = multi.validation_errors().into_iter().next() {
        return Err(GeometryError::Invalid(problem.to_string()));
    }
    let multi = multi.orient(Direction::Default);
    // Oriented: each polygon is measured once, as `polygon_m2` would measure it.
    let measured: Vec<f64> = multi.0.iter().map(|p| p.geodesic_area_unsigned()).collect();
    let total_m2: f64 = measured.iter().map(|&m2| within_half_earth(m2)).sum();
    if total_m2 <= 0.0 {
        return Err(GeometryError::Empty);
    }
    if let Some((polygon, &area_m2)) = measured.iter().enumerate().find(|(_, m2)| **m2 < MIN_POLYGON_M2) {
        return Err(GeometryError::Degenerate { polygon, area_m2 });
    }
    Ok((multi, total_m2 / M2_PER_HA))
}

fn parse_ring(
    polygon: usize,
    ring: usize,
    positions: &[geojson::Position],
) -> Result<LineString, GeometryError> {
    if positions.len() < 4 {
        return Err(GeometryError::TooFewPositions { polygon, ring, count: positions.len() });
    }
    let mut coords = Vec::with_capacity(positions.len());
    for (position, pos) in positions.iter().enumerate() {
        if pos.len() < 2 || pos.len() > 3 {
            return Err(GeometryError::BadPosition { polygon, ring, position, dims: pos.len() });
        }
        let (x, y) = (pos[0], pos[1]);
        if !(x.is_finite() && y.is_finite() && (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)) {
            return Err(GeometryError::OutOfRange { polygon, ring, position, x, y });
        }
        coords.push(Coord { x, y });
    }
    if coords.first() != coords.last() {
        return Err(GeometryError::NotClosed { polygon, ring });
    }
    Ok(LineString(coords))
}

/// Union of polygonal geometries: overlapping parts count once.
pub fn union_all<'a>(parts: impl IntoIterator<Item = &'a MultiPolygon>) -> MultiPolygon {
    clean(unary_union(parts))
}

/// The part of `a` inside `b`.
pub fn clip(a: &MultiPolygon, b: &MultiPolygon) -> MultiPolygon {
    if a.0.is_empty() || b.0.is_empty() {
        return MultiPolygon(vec![]);
    }
    clean(a.intersection(b))
}

/// The part of `a` outside `b`.
pub fn subtract(a: &MultiPolygon, b: &MultiPolygon) -> MultiPolygon {
    if a.0.is_empty() || b.0.is_empty() {
        return a.clone();
    }
    clean(a.difference(b))
}

/// Grid points per degree of the geometry landbank computes and serves: pages write 7 decimals
/// (`http::geojson::COORDINATE_DECIMALS`), about 1 cm.
pub const SERVED_GRID_PER_DEGREE: f64 = 1e7;

/// `geometry` snapped onto the served grid (multiples of 10^-7 degrees) and made valid there. A boolean
/// operation's output rounded to the decimals a page is written at can fold a thin part of an outline
/// over itself or push a hole across its outline: an invalid polygon, which GIS checks flag and which
/// landbank itself refuses when it comes back (a lease drawn on a piece of available land). The rings
/// are rounded onto the grid and overlaid again in whole grid units (i_overlay, exact on integers),
/// keeping OGC-valid polygons (an outline touching itself is split): what is served is then exactly
/// what was measured, and valid. Assumes longitudes and latitudes (within ±200° of the outline's centre).
pub fn on_served_grid(geometry: &MultiPolygon) -> MultiPolygon {
    subtract_on_served_grid(geometry, std::iter::empty())
}

/// The part of `land` outside every one of `taken` (which may overlap one another), on the served grid
/// and valid there, as [`on_served_grid`] makes it: `land`'s and `taken`'s rings are snapped onto the
/// grid and the difference is one overlay in whole grid units, where the union of `taken`, the difference
/// and the snapping were three operations. The land differs from theirs only by where the grid's
/// centimetre moves an edge. Rings below [`SLIVER_M2`] are dropped, as [`clean`] drops them.
///
/// A point is taken when any of `taken` covers it: every polygon counts the same way round (non-zero
/// winding over rings each put the way their role needs), so overlapping parts count once, and a
/// polygon drawn clockwise takes its land as one drawn counter-clockwise does.
pub fn subtract_on_served_grid<'a>(
    land: &MultiPolygon,
    taken: impl IntoIterator<Item = &'a MultiPolygon>,
) -> MultiPolygon {
    use i_overlay::core::fill_rule::FillRule;
    use i_overlay::core::overlay::{IntOverlayOptions, Overlay, ShapeType};
    use i_overlay::core::overlay_rule::OverlayRule;
    use i_overlay::core::solver::Solver;
    use i_overlay::i_float::int::point::IntPoint;
    let Some(bounds) = land.bounding_rect() else { return land.clone() };
    // A whole degree as the origin keeps the grid aligned with the decimals written.
    let (ox, oy) = (bounds.center().x.round(), bounds.center().y.round());
    let grid = |v: f64, o: f64| ((v - o) * SERVED_GRID_PER_DEGREE).round() as i32;
    let points: usize = land.0.iter().map(|p| p.exterior().0.len() + p.interiors().len() * 8).sum();
    let mut overlay = Overlay::new_custom(points, IntOverlayOptions::ogc(), Solver::default());
    let mut add = |geometry: &MultiPolygon, shape: ShapeType| {
        for polygon in &geometry.0 {
            let rings = std::iter::once((polygon.exterior(), true))
                .chain(polygon.interiors().iter().map(|h| (h, false)));
            for (ring, outer) in rings {
                let open = &ring.0[..ring.0.len().saturating_sub(1)];
                let mut contour: Vec<IntPoint> =
                    open.iter().map(|c| IntPoint::new(grid(c.x, ox), grid(c.y, oy))).collect();
                // Twice the signed area, in grid units: outlines one way round, holes the other.
                let twice: i64 = contour
                    .iter()
                    .zip(contour.iter().cycle().skip(1))
                    .map(|(a, b)| i64::from(a.x) * i64::from(b.y) - i64::from(b.x) * i64::from(a.y))
                    .sum();
                if (twice < 0) == outer {
                    contour.reverse();
                }
                overlay.add_contour(&contour, shape);
            }
        }
    };
    add(land, ShapeType::Subject);
    for t in taken {
        add(t, ShapeType::Clip);
    }
    let shapes = overlay.overlay(OverlayRule::Difference, FillRule::NonZero);
    let ring = |contour: &Vec<IntPoint>| {
        let mut coords: Vec<Coord> = contour
            .iter()
            .map(|p| Coord {
                x: ox + f64::from(p.x) / SERVED_GRID_PER_DEGREE,
                y: oy + f64::from(p.y) / SERVED_GRID_PER_DEGREE,
            })
            .collect();
        coords.extend(coords.first().copied());
        LineString(coords)
    };
    clean(MultiPolygon(
        shapes
            .iter()
            .filter_map(|shape| {
                let (outline, holes) = shape.split_first()?;
                Some(Polygon::new(ring(outline), holes.iter().map(ring).collect()))
            })
            .collect(),
    ))
}

/// The part of `a` outside all of `parts`, which may overlap: one boolean operation (counting a point
/// covered by any part, the non-zero rule over parts oriented alike), where the union of the parts and
/// then the difference would be two. The land is the same, but an outline may touch itself where two
/// parts meet at a corner (not a valid OGC polygon): for areas and points, not for geometry served.
pub fn subtract_all<'a>(a: &MultiPolygon, parts: impl IntoIterator<Item = &'a MultiPolygon>) -> MultiPolygon {
    let parts = MultiPolygon(parts.into_iter().flat_map(|p| p.0.iter().cloned()).collect());
    if a.0.is_empty() || parts.0.is_empty() {
        return a.clone();
    }
    let (a, parts) = (a.orient(Direction::Default), parts.orient(Direction::Default));
    clean(a.difference_with_fill_rule(&parts, geo::algorithm::bool_ops::FillRule::NonZero))
}

/// A point inside `polygon`: its vertices' average when it is convex (where that lies inside), else
/// [`geo::InteriorPoint`]'s, which costs far more.
pub fn inside_point(polygon: &Polygon) -> Option<geo::Point> {
    alone::convex_centre(polygon).or_else(|| geo::InteriorPoint::interior_point(polygon))
}

/// Why the text of a bounding box was refused; each message says what to send instead.
#[derive(Debug, Error, PartialEq)]
pub enum BboxError {
    #[error("every value must be a number")]
    NotNumbers,
    #[error("expected 4 numbers (or 6 for a 3-D box), got {0}")]
    Count(usize),
    #[error("values must be finite")]
    NotFinite,
    #[error("the minimum is above the maximum (send min1,min2,max1,max2)")]
    Inverted,
    #[error("minLat is greater than maxLat")]
    LatitudeInverted,
    #[error("longitudes must lie in [-180, 180] and latitudes in [-90, 90]")]
    OutOfRange,
    #[error("boxes crossing the antimeridian are not supported (minLon > maxLon)")]
    Antimeridian,
}

/// Four finite numbers from a box's text (a 6-number 3-D box flattened), in the order sent.
fn box_numbers(text: &str) -> Result<[f64; 4], BboxError> {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| BboxError::NotNumbers)?;
    let b = match numbers.as_slice() {
        [a, b, c, d] => [*a, *b, *c, *d],
        [a, b, _, d, e, _] => [*a, *b, *d, *e],
        _ => return Err(BboxError::Count(numbers.len())),
    };
    if b.iter().any(|v| !v.is_finite()) {
        return Err(BboxError::NotFinite);
    }
    Ok(b)
}

/// The one parser of a bounding box's text in any CRS (`bbox=` with `bbox-crs`): `min1,min2,max1,max2`
/// in the CRS's axis order, finite, each minimum at most its maximum; a 3-D box
/// (`min1,min2,minZ,max1,max2,maxZ`) is flattened.
pub fn parse_box(text: &str) -> Result<[f64; 4], BboxError> {
    let b = box_numbers(text)?;
    if b[1] > b[3] || b[0] > b[2] {
        return Err(BboxError::Inverted);
    }
    Ok(b)
}

/// [`parse_box`] in WGS 84 longitude/latitude (CRS84: `bbox=` without a CRS, `landbank export --bbox`):
/// also on the globe, and not across the antimeridian.
pub fn parse_lon_lat_box(text: &str) -> Result<[f64; 4], BboxError> {
    let b = box_numbers(text)?;
    let lon = |v: f64| (-180.0..=180.0).contains(&v);
    let lat = |v: f64| (-90.0..=90.0).contains(&v);
    if !(lon(b[0]) && lon(b[2]) && lat(b[1]) && lat(b[3])) {
        return Err(BboxError::OutOfRange);
    }
    if b[1] > b[3] {
        return Err(BboxError::LatitudeInverted);
    }
    if b[0] > b[2] {
        return Err(BboxError::Antimeridian);
    }
    Ok(b)
}

/// Bounding box `[min_lon, min_lat, max_lon, max_lat]`, or `None` for an empty geometry.
pub fn bbox(geometry: &MultiPolygon) -> Option<[f64; 4]> {
    geometry.bounding_rect().map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

/// GeoJSON geometry of a multipolygon: a `Polygon` when it has one part, else a `MultiPolygon`.
pub fn to_geojson(geometry: &MultiPolygon) -> geojson::Geometry {
    if geometry.0.len() == 1 {
        geojson::Geometry::from(&geometry.0[0])
    } else {
        geojson::Geometry::from(geometry)
    }
}

/// Rounds every coordinate of a GeoJSON geometry value in place to `decimals` places (RFC 7946 §11.2:
/// 7 decimals ≈ 1 cm at the equator).
pub fn round_coordinates(value: &mut serde_json::Value, decimals: u32) {
    let factor = 10f64.powi(decimals as i32);
    match value {
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| round_coordinates(v, decimals)),
        serde_json::Value::Object(map) => {
            if let Some(coords) = map.get_mut("coordinates") {
                round_coordinates(coords, decimals)
            }
        }
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                let r = (f * factor).round() / factor;
                if let Some(num) = serde_json::Number::from_f64(r) {
                    *n = num;
                }
            }
        }
        _ => {}
    }
}

/// Parses stored GeoJSON geometry text (a Polygon or MultiPolygon, as landbank writes it) straight into
/// `geo`, without building a JSON tree: the read path of tiles, figures and pages parses thousands per
/// request. Positions keep their first two numbers (longitude, latitude); rings are closed as
/// [`Polygon::new`] closes them. Errors say what was wrong in the text.
pub fn parse_stored(text: &str) -> Result<MultiPolygon, String> {
    let stored = StoredGeometry::split(text).map_err(|e| e.to_string())?;
    let coordinates = stored.coordinates.get();
    match stored.kind.as_ref() {
        "Polygon" => {
            let rings: Rings = serde_json::from_str(coordinates).map_err(|e| e.to_string())?;
            Ok(MultiPolygon(vec![rings.polygon()]))
        }
        "MultiPolygon" => {
            let polygons: Vec<Rings> = serde_json::from_str(coordinates).map_err(|e| e.to_string())?;
            Ok(MultiPolygon(polygons.into_iter().map(Rings::polygon).collect()))
        }
        other => Err(format!("geometry is not polygonal: {other}")),
    }
}

/// A geometry read where it lies in a larger JSON text (a row among rows read together), in one pass:
/// stored GeoJSON (an object with `type` and `coordinates`; landbank writes the type first, and the
/// other order is read too), a string of hexadecimal WKB (as PostGIS rows arrive), or `null` (`None`).
/// Reading the geometry first as raw text and then parsing that text ([`parse_stored`]) went over every
/// coordinate three times. `Err` says why this geometry cannot be read, while the text around it is still
/// read, so that the caller can name the row.
pub struct StoredShape(pub Result<Option<MultiPolygon>, String>);

impl<'de> serde::Deserialize<'de> for StoredShape {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(field_identifier, rename_all = "lowercase")]
        enum Key {
            Type,
            Coordinates,
            #[serde(other)]
            Other,
        }
        #[derive(serde::Deserialize)]
        struct Kind<'a>(#[serde(borrow)] std::borrow::Cow<'a, str>);
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = StoredShape;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a GeoJSON polygon or multipolygon, hexadecimal WKB, or null")
            }
            fn visit_unit<E>(self) -> Result<StoredShape, E> {
                Ok(StoredShape(Ok(None)))
            }
            fn visit_none<E>(self) -> Result<StoredShape, E> {
                Ok(StoredShape(Ok(None)))
            }
            fn visit_str<E>(self, hex: &str) -> Result<StoredShape, E> {
                Ok(StoredShape(from_hex(hex).and_then(|wkb| parse_wkb(&wkb)).map(Some)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<StoredShape, A::Error> {
                use serde::de::IgnoredAny;
                let (mut kind, mut shape, mut later) = (None::<Kind<'de>>, None, None);
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Type => kind = Some(map.next_value()?),
                        Key::Coordinates => match kind.as_ref().map(|k| k.0.as_ref()) {
                            Some("Polygon") => {
                                let rings: Rings = map.next_value()?;
                                shape = Some(Ok(MultiPolygon(vec![rings.polygon()])));
                            }
                            Some("MultiPolygon") => {
                                let parts: Vec<Rings> = map.next_value()?;
                                shape =
                                    Some(Ok(MultiPolygon(parts.into_iter().map(Rings::polygon).collect())));
                            }
                            Some(other) => {
                                map.next_value::<IgnoredAny>()?;
                                shape = Some(Err(format!("geometry is not polygonal: {other}")));
                            }
                            None => later = Some(map.next_value::<&'de serde_json::value::RawValue>()?),
                        },
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let shape = match (shape, kind, later) {
                    (Some(shape), _, _) => shape,
                    // The coordinates came before the type: read now that the type is known.
                    (None, Some(kind), Some(coordinates)) => {
                        let text = format!(
                            r#"{{"type":{},"coordinates":{}}}"#,
                            serde_json::json!(kind.0),
                            coordinates.get()
                        );
                        parse_stored(&text)
                    }
                    (None, None, _) => Err("geometry has no type".to_string()),
                    (None, Some(_), None) => Err("geometry has no coordinates".to_string()),
                };
                Ok(StoredShape(shape.map(Some)))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// A polygon's rings as read, the exterior first, each ring read straight into a vector with room for
/// a plot's ring (8 positions): most rings are read with one allocation each.
type Rings = Presized<Presized<Position, 8>, 1>;

impl Rings {
    /// The polygon, its rings closed as [`Polygon::new`] closes them (none: an empty exterior).
    fn polygon(self) -> Polygon {
        // `Position` is a `Coord`: the vectors are reused, not copied.
        let mut rings = self.0.into_iter().map(|r| LineString(r.0.into_iter().map(|p| p.0).collect()));
        let exterior = rings.next().unwrap_or_else(|| LineString(vec![]));
        Polygon::new(exterior, rings.collect())
    }
}

/// A JSON array read into a vector that starts with room for `N` elements: JSON gives no length, and
/// serde's own vectors start empty and grow.
struct Presized<T, const N: usize>(Vec<T>);

impl<'de, T: serde::Deserialize<'de>, const N: usize> serde::Deserialize<'de> for Presized<T, N> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<T, const N: usize>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>, const N: usize> serde::de::Visitor<'de> for Visit<T, N> {
            type Value = Presized<T, N>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(N));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Presized(items))
            }
        }
        deserializer.deserialize_seq(Visit(std::marker::PhantomData))
    }
}

/// Stored GeoJSON geometry text split into its type and its coordinates' text, borrowed; other members
/// are ignored.
#[derive(serde::Deserialize)]
pub struct StoredGeometry<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub coordinates: &'a serde_json::value::RawValue,
}

impl<'a> StoredGeometry<'a> {
    /// Splits `text`, which must be a JSON object with `type` and `coordinates`.
    pub fn split(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A GeoJSON position: longitude and latitude, further numbers (height) ignored.
struct Position(Coord);

impl<'de> serde::Deserialize<'de> for Position {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Position;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a position [longitude, latitude]")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Position, A::Error> {
                use serde::de::Error;
                let x = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let y = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(1, &self))?;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Position(Coord { x, y }))
            }
        }
        deserializer.deserialize_seq(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Land less leases that overlap, that are drawn either way round, and that meet at a corner: each
    /// leased point is taken once, the pieces are valid and on the grid, and they measure what the union
    /// and the difference measured.
    #[test]
    fn land_less_overlapping_leases_drawn_either_way_is_one_valid_operation() {
        let rect = |x0: f64, y0: f64, x1: f64, y1: f64| {
            MultiPolygon(vec![geo::Rect::new((106.0 + x0, 21.0 + y0), (106.0 + x1, 21.0 + y1)).to_polygon()])
        };
        let land = rect(0.0, 0.0, 0.01, 0.01);
        let clockwise = |m: MultiPolygon| m.orient(Direction::Reversed);
        let leases = [
            rect(0.001, 0.001, 0.004, 0.004),
            // Overlaps the first, drawn clockwise: opposite windings must not cancel in the overlap.
            clockwise(rect(0.003, 0.003, 0.005, 0.005)),
            // Meets the first at its corner only: the outline between them would touch itself.
            rect(0.004, 0.0, 0.006, 0.001),
            // Reaches out of the land.
            rect(0.009, 0.009, 0.012, 0.012),
        ];
        let free = subtract_on_served_grid(&land, leases.iter());
        assert!(free.is_valid(), "{:?}", free.check_validation());
        // (The union's operation takes its polygons counter-clockwise, as stored records are.)
        let oriented: Vec<MultiPolygon> = leases.iter().map(|l| l.orient(Direction::Default)).collect();
        let expected = subtract(&land, &union_all(oriented.iter()));
        assert!(
            (area_ha(&free) - area_ha(&expected)).abs() < 1e-4,
            "{} {}",
            area_ha(&free),
            area_ha(&expected)
        );
        for lease in &leases {
            assert!(area_ha(&clip(&free, lease)) < 1e-6, "a lease's land is left free");
        }
        for c in free
            .0
            .iter()
            .flat_map(|p| p.exterior().0.iter().chain(p.interiors().iter().flat_map(|r| r.0.iter())))
        {
            assert_eq!(((c.x * 1e7).round() / 1e7, (c.y * 1e7).round() / 1e7), (c.x, c.y), "on the grid");
        }
        // Nothing taken: the land itself, on the grid.
        assert!((area_ha(&subtract_on_served_grid(&land, [])) - area_ha(&land)).abs() < 1e-6);
    }

    /// An outline whose thin part rounding to 7 decimals folds over itself comes out valid, on the grid,
    /// with the same area (within what a centimetre's grid moves).
    #[test]
    fn geometry_snapped_to_the_served_grid_is_valid_and_keeps_its_area() {
        // A square with a slit 3 × 10^-8 degrees wide cut into it from its top edge: rounded to 7
        // decimals, the slit's two sides cross.
        let slit = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![
                (106.0, 21.0),
                (106.001, 21.0),
                (106.001, 21.001),
                (106.00050004, 21.001),
                (106.00050004, 21.0005),
                (106.00050001, 21.0005),
                (106.00050001, 21.001),
                (106.0, 21.001),
                (106.0, 21.0),
            ]),
            vec![],
        )]);
        let round = |c: Coord| Coord { x: (c.x * 1e7).round() / 1e7, y: (c.y * 1e7).round() / 1e7 };
        let rounded = geo::MapCoords::map_coords(&slit, round);
        assert!(!rounded.is_valid(), "the case: rounding alone folds it");
        let snapped = on_served_grid(&slit);
        assert!(snapped.is_valid(), "{:?}", snapped.check_validation());
        for c in snapped
            .0
            .iter()
            .flat_map(|p| p.exterior().0.iter().chain(p.interiors().iter().flat_map(|r| r.0.iter())))
        {
            assert_eq!((c.x * 1e7).round() / 1e7, c.x);
            assert_eq!((c.y * 1e7).round() / 1e7, c.y);
        }
        assert!(
            (area_ha(&snapped) - area_ha(&slit)).abs() < 1e-3,
            "{} {}",
            area_ha(&snapped),
            area_ha(&slit)
        );
        assert_eq!(on_served_grid(&MultiPolygon(vec![])), MultiPolygon(vec![]));
    }

    #[test]
    fn a_rough_ring_area_is_within_a_percent_and_slivers_go_as_measured_ones_did() {
        let ring = |points: &[(f64, f64)]| LineString::from(points.to_vec());
        let rect =
            |x: f64, y: f64, w: f64, h: f64| ring(&[(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]);
        let exact = |r: &LineString| polygon_m2(&Polygon::new(r.clone(), vec![]));
        // A plot, a zone, a province-sized square far north, a long thin sliver, a triangle.
        for r in [
            rect(106.0, 21.1, 0.0004, 0.0004),
            rect(106.0, 21.1, 0.02, 0.015),
            rect(10.0, 60.0, 3.0, 3.0),
            rect(106.3, 21.0, 0.01, 1e-9),
            ring(&[(105.9, 20.9), (105.95, 20.9), (105.91, 20.97), (105.9, 20.9)]),
        ] {
            let (rough, exact) = (roughly_m2(&r).expect("in range"), exact(&r));
            assert!((rough - exact).abs() <= 0.01 * exact, "{rough} vs {exact}");
        }
        assert_eq!(roughly_m2(&rect(100.0, 10.0, 6.0, 1.0)), None, "too wide to estimate");
        // Rings around the sliver threshold, clockwise and counter-clockwise, at several latitudes: kept
        // or dropped exactly as measuring each one decides.
        for lat in [-45.0, 0.0, 21.0, 70.0] {
            for k in 0..200 {
                let m2 = SLIVER_M2 * 10f64.powf(-3.0 + 6.0 * k as f64 / 200.0);
                let side_deg = m2.sqrt() / 111_000.0;
                for r in [rect(106.0, lat, side_deg * 40.0, side_deg / 40.0), {
                    let mut cw = rect(106.0, lat, side_deg, side_deg);
                    cw.0.reverse();
                    cw
                }] {
                    let kept = !clean(MultiPolygon(vec![Polygon::new(r.clone(), vec![])])).0.is_empty();
                    assert_eq!(kept, exact(&r) >= SLIVER_M2, "ring of {} m² at {lat}°", exact(&r));
                }
            }
        }
    }

    #[test]
    fn stored_geometry_text_parses_as_geojson_does() {
        for text in [
            r#"{"type":"Polygon","coordinates":[[[106.1,21.1],[106.2,21.1],[106.2,21.2],[106.1,21.1]]]}"#,
            r#"{"coordinates":[[[[1,2,3],[4,2,3],[4,5,3],[1,2,3]]],[[[10,20],[40,20],[40,50]],[[11,21],[12,21],[12,22],[11,21]]]],"type":"MultiPolygon"}"#,
        ] {
            let ours = parse_stored(text).unwrap();
            let theirs: geo::Geometry = text.parse::<geojson::Geometry>().unwrap().try_into().unwrap();
            let theirs = match theirs {
                geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
                geo::Geometry::MultiPolygon(m) => m,
                other => panic!("{other:?}"),
            };
            assert_eq!(ours, theirs, "{text}");
            // Read in one pass inside a row, whichever member comes first, it is the same shape.
            let row: (String, StoredShape, u8) =
                serde_json::from_str(&format!(r#"["A-1",{text},7]"#)).unwrap();
            assert_eq!(row.1.0, Ok(Some(theirs)), "{text}");
            assert_eq!(row.2, 7, "the row goes on after the geometry");
        }
        // Broken or foreign geometry: the reason, and the rest of the row still read.
        for (text, reason) in [
            (r#"{"type":"Point","coordinates":[1,2]}"#, "not polygonal: Point"),
            (r#"{"coordinates":[1,2],"type":"Point"}"#, "not polygonal: Point"),
            (r#"{"coordinates":[[[1,2],[3,4],[1,2]]]}"#, "no type"),
            (r#"{"type":"Polygon","bbox":[0,0,1,1]}"#, "no coordinates"),
            (r#""01zz""#, "not hexadecimal WKB"),
        ] {
            let row: (StoredShape, u8) = serde_json::from_str(&format!("[{text},7]")).unwrap();
            assert!(row.0.0.as_ref().unwrap_err().contains(reason), "{text}: {:?}", row.0.0);
            assert_eq!(row.1, 7);
        }
        let row: (Option<StoredShape>,) = serde_json::from_str("[null]").unwrap();
        assert!(row.0.is_none());
        assert!(serde_json::from_str::<StoredShape>(r#"{"type":"Polygon","coordinates":[[[1]]]}"#).is_err());
        assert!(parse_stored(r#"{"type":"Point","coordinates":[1,2]}"#).unwrap_err().contains("Point"));
        assert!(parse_stored(r#"{"type":"Polygon","coordinates":[[[1]]]}"#).is_err());
        assert!(parse_stored("not json").is_err());
    }
    use geo::wkt;
    use serde_json::json;

    fn geometry(value: serde_json::Value) -> geojson::Geometry {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn degenerate_rings_measure_nothing_and_are_cleaned_away() {
        // Out along a line and back: what a difference can leave where two edges coincide.
        let spike = wkt!(POLYGON((106.0 21.0, 106.01 21.0, 106.02 21.0, 106.01 21.0, 106.0 21.0)));
        let square = wkt!(POLYGON((106. 21.1, 106.01 21.1, 106.01 21.11, 106. 21.11, 106. 21.1)));
        // Clockwise, as a hole or a reversed ring comes.
        let clockwise = wkt!(POLYGON((106. 21.1, 106. 21.11, 106.01 21.11, 106.01 21.1, 106. 21.1)));
        assert!(area_ha(&MultiPolygon(vec![spike.clone()])) < 1e-6, "not the Earth");
        let cw = area_ha(&MultiPolygon(vec![clockwise.clone()]));
        assert!((cw - 115.03366026554107).abs() < 1e-6, "{cw} {}", clockwise.geodesic_area_unsigned());
        let cleaned = clean(MultiPolygon(vec![spike, square.clone()]));
        assert_eq!(cleaned.0.len(), 1, "the spike is gone");
        assert!((area_ha(&cleaned) - 115.03366026554107).abs() < 1e-9);
        // A hole of a few cm² is filled; a real hole stays.
        let tiny = wkt!(POLYGON((106.005 21.105, 106.005 21.1050001, 106.0050001 21.1050001, 106.0050001 21.105, 106.005 21.105)));
        let with_hole = Polygon::new(square.exterior().clone(), vec![tiny.exterior().clone()]);
        assert_eq!(clean(MultiPolygon(vec![with_hole])).0[0].interiors().len(), 0);
    }

    #[test]
    fn geodesic_area_matches_postgis() {
        let square =
            MultiPolygon(vec![wkt!(POLYGON((106. 21.1, 106.01 21.1, 106.01 21.11, 106. 21.11, 106. 21.1)))]);
        assert!((area_ha(&square) - 115.03366026554107).abs() < 1e-9);
    }

    #[test]
    fn clockwise_input_is_reoriented_counter_clockwise() {
        let cw = geometry(
            json!({"type":"Polygon","coordinates":[[[106,21],[106,21.01],[106.01,21.01],[106.01,21],[106,21]]]}),
        );
        let parsed = parse_polygonal(&cw).unwrap();
        use geo::Winding;
        assert!(parsed.0[0].exterior().is_ccw());
    }

    #[test]
    fn refuses_what_is_not_a_valid_polygon() {
        let open = geometry(
            json!({"type":"Polygon","coordinates":[[[106,21],[106.01,21],[106.01,21.01],[106,21.01]]]}),
        );
        assert_eq!(parse_polygonal(&open), Err(GeometryError::NotClosed { polygon: 0, ring: 0 }));
        let bowtie = geometry(
            json!({"type":"Polygon","coordinates":[[[106,21],[106.01,21.01],[106.01,21],[106,21.01],[106,21]]]}),
        );
        assert!(matches!(parse_polygonal(&bowtie), Err(GeometryError::Invalid(_))));
        let metres = geometry(
            json!({"type":"Polygon","coordinates":[[[603667,2333649],[603767,2333649],[603767,2333749],[603667,2333649]]]}),
        );
        assert!(matches!(parse_polygonal(&metres), Err(GeometryError::OutOfRange { position: 0, .. })));
        let point = geometry(json!({"type":"Point","coordinates":[106,21]}));
        assert_eq!(parse_polygonal(&point), Err(GeometryError::NotPolygonal("Point".into())));
    }

    #[test]
    fn union_counts_overlap_once_and_clip_keeps_the_inside() {
        let a = MultiPolygon(vec![wkt!(POLYGON((106. 21., 106.02 21., 106.02 21.01, 106. 21.01, 106. 21.)))]);
        let b = MultiPolygon(vec![
            wkt!(POLYGON((106.01 21., 106.03 21., 106.03 21.01, 106.01 21.01, 106.01 21.))),
        ]);
        let u = union_all([&a, &b]);
        let ab = area_ha(&a) + area_ha(&b) - area_ha(&clip(&a, &b));
        // Edges are geodesics: a union that drops a vertex on an east-west edge moves that edge by
        // micrometres, so areas agree to 1e-4 ha (1 m²), not to the last bit.
        assert!((area_ha(&u) - ab).abs() < 1e-4, "{} vs {}", area_ha(&u), ab);
        assert!((area_ha(&subtract(&a, &b)) + area_ha(&clip(&a, &b)) - area_ha(&a)).abs() < 1e-4);
    }

    #[test]
    fn one_box_parser_for_every_way_in() {
        use proptest::prelude::*;
        assert_eq!(parse_lon_lat_box("106,21,106.1,21.1"), Ok([106.0, 21.0, 106.1, 21.1]));
        assert_eq!(parse_lon_lat_box("106,21,0,106.1,21.1,50"), Ok([106.0, 21.0, 106.1, 21.1]));
        assert_eq!(parse_box("1,2,x,3,4"), Err(BboxError::NotNumbers), "no number is skipped");
        assert_eq!(parse_box("1,2,3"), Err(BboxError::Count(3)));
        assert_eq!(parse_box("1,2,inf,4"), Err(BboxError::NotFinite));
        assert_eq!(
            parse_box("603000,2330000,604000,2331000"),
            Ok([603000.0, 2330000.0, 604000.0, 2331000.0])
        );
        assert_eq!(parse_lon_lat_box("603000,2330000,604000,2331000"), Err(BboxError::OutOfRange));
        assert_eq!(parse_lon_lat_box("179,0,-179,1"), Err(BboxError::Antimeridian));
        assert_eq!(parse_lon_lat_box("106,22,106.1,21"), Err(BboxError::LatitudeInverted));
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            proptest::test_runner::Config { cases: 2000, failure_persistence: None, ..Default::default() },
            proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
        );
        // Any text: an answer, never a panic; whatever is accepted is ordered and finite.
        runner
            .run(&".{0,40}", |text| {
                if let Ok(b) = parse_box(&text) {
                    prop_assert!(b.iter().all(|v| v.is_finite()) && b[0] <= b[2] && b[1] <= b[3]);
                }
                Ok(())
            })
            .unwrap();
        // Four ordered numbers on the globe come back as sent, whatever their spacing.
        runner
            .run(&(-180.0..180.0f64, -90.0..90.0f64, 0.0..10.0f64, 0.0..10.0f64), |(x, y, w, h)| {
                let (x2, y2) = ((x + w).min(180.0), (y + h).min(90.0));
                prop_assert_eq!(parse_lon_lat_box(&format!("{x}, {y} ,{x2},{y2}")), Ok([x, y, x2, y2]));
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn rounds_to_seven_decimals() {
        let mut v = json!({"type":"Point","coordinates":[106.123456789, 21.000000049]});
        round_coordinates(&mut v, 7);
        assert_eq!(v, json!({"type":"Point","coordinates":[106.1234568, 21.0]}));
    }
}
