//! Which shapes of a zone can be measured on their own: those that lie inside the land they are counted
//! on and overlap no other shape. The area of a union of such shapes, clipped to that land, is the sum of
//! their own areas — no boolean operation and no new geodesic area is needed. A zone's leases are
//! almost always like this (plots are drawn side by side inside the plan), and the union, clipping and
//! measuring of a zone's leases was most of the time of its figures.
//!
//! The tests are decided in longitude/latitude, like the boolean operations, with a tolerance of
//! [`TOLERANCE_DEG`]: a shape is "inside" when no more than a band that wide along its edges may lie
//! outside, and two shapes are "apart" when they overlap by no more than such a band. The area so
//! counted twice or missed is under 0.05 m² for a plot 100 m across, far below the 100 m² (0.01 ha)
//! figures are published to. Every shape not proven alone is left to the boolean operations, so the
//! answer is the same number either way (a test of `occupancy` checks both ways agree).

use geo::{BoundingRect, Contains, Coord, Line, MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree, RTreeObject};

/// Width of the band, in degrees (about 0.1 mm), within which points count as on an edge.
pub const TOLERANCE_DEG: f64 = 1e-9;

/// A shape's only polygon when it is convex and has no hole, as its distinct vertices counter-clockwise
/// (no closing repeat). Valid polygons are assumed (landbank validates every geometry it stores): a
/// ring whose turns all go one way is then convex.
fn convex(shape: &MultiPolygon) -> Option<Vec<Coord>> {
    let [polygon] = shape.0.as_slice() else { return None };
    convex_ring(polygon)
}

/// [`convex`] of one polygon.
fn convex_ring(polygon: &geo::Polygon) -> Option<Vec<Coord>> {
    if !polygon.interiors().is_empty() {
        return None;
    }
    let mut ring: Vec<Coord> = polygon.exterior().0.clone();
    if ring.first() == ring.last() {
        ring.pop();
    }
    ring.dedup();
    if ring.len() < 3 {
        return None;
    }
    let n = ring.len();
    // The sine of the turn at each vertex, times its two edges' lengths; a turn below 1e-12 radians is
    // rounding on a straight edge (a vertex a clip left on it), not a corner.
    let turn = |i: usize| {
        let (a, b, c) = (ring[i], ring[(i + 1) % n], ring[(i + 2) % n]);
        let (u, v) = (b - a, c - b);
        let cross = u.x * v.y - u.y * v.x;
        if cross.abs() <= 1e-12 * u.x.hypot(u.y) * v.x.hypot(v.y) { 0.0 } else { cross }
    };
    let (mut left, mut right) = (false, false);
    for i in 0..n {
        let t = turn(i);
        left |= t > 0.0;
        right |= t < 0.0;
    }
    match (left, right) {
        (true, false) => Some(ring),
        (false, true) => {
            ring.reverse();
            Some(ring)
        }
        _ => None, // Turns both ways (not convex), or none (all on one line).
    }
}

/// The average of a ring's distinct vertices: inside it when it is convex.
fn centre(ring: &[Coord]) -> Coord {
    ring.iter().fold(Coord { x: 0.0, y: 0.0 }, |s, &c| s + c) / ring.len() as f64
}

/// The average of a convex polygon's vertices, which lies inside it (`None`: not convex, or holed).
pub(super) fn convex_centre(polygon: &geo::Polygon) -> Option<Point> {
    convex_ring(polygon).map(|ring| Point::from(centre(&ring)))
}

/// How far `p` lies inside the edge `a → b` of a counter-clockwise ring, in degrees (negative: outside).
fn inside_by(a: Coord, b: Coord, p: Coord) -> f64 {
    let e = b - a;
    let length = e.x.hypot(e.y);
    (e.x * (p.y - a.y) - e.y * (p.x - a.x)) / length
}

/// Whether the segment `p → q` enters the core of the convex counter-clockwise `ring`: the points more
/// than [`TOLERANCE_DEG`] inside every edge (Cyrus–Beck clipping).
fn enters_core(ring: &[Coord], p: Coord, q: Coord) -> bool {
    let (mut enter, mut exit) = (0.0_f64, 1.0_f64);
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        let (fp, fq) = (inside_by(a, b, p) - TOLERANCE_DEG, inside_by(a, b, q) - TOLERANCE_DEG);
        if fp <= 0.0 && fq <= 0.0 {
            return false;
        }
        if fp <= 0.0 || fq <= 0.0 {
            let t = fp / (fp - fq);
            if fp < fq {
                enter = enter.max(t)
            } else {
                exit = exit.min(t)
            }
            if enter >= exit {
                return false;
            }
        }
    }
    enter < exit
}

/// Whether two convex counter-clockwise rings overlap by no more than the tolerance band: some edge of
/// one has every vertex of the other on its outer side, or within the band (separating axes).
fn apart(a: &[Coord], b: &[Coord]) -> bool {
    let separates = |ring: &[Coord], other: &[Coord]| {
        (0..ring.len()).any(|i| {
            let (p, q) = (ring[i], ring[(i + 1) % ring.len()]);
            other.iter().all(|&v| inside_by(p, q, v) <= TOLERANCE_DEG)
        })
    };
    separates(a, b) || separates(b, a)
}

/// Those of `others` that may overlap `shape` by more than the tolerance band: all but the ones that,
/// like `shape`, are one convex polygon without holes and lie apart from it (separating axes). Shapes
/// drawn side by side meet along their edges; subtracting such a neighbour changes a shape by no more
/// than the band, so a caller may leave them out of its boolean operation.
pub fn overlapping<'s>(shape: &MultiPolygon, others: &[&'s MultiPolygon]) -> Vec<&'s MultiPolygon> {
    let Some(ring) = convex(shape) else { return others.to_vec() };
    others.iter().copied().filter(|other| !convex(other).is_some_and(|o| apart(&ring, &o))).collect()
}

/// The land shapes are counted on: the union of `land` (every polygon of each), clipped to `within`
/// when given. `land` empty means everywhere (a zone without plan geometry counts what lies inside its
/// boundary).
pub struct Land<'a> {
    land: &'a [&'a MultiPolygon],
    within: Option<&'a MultiPolygon>,
    /// Every edge of `land` and `within`, by its box.
    edges: RTree<GeomWithData<Rectangle<[f64; 2]>, Line>>,
}

impl<'a> Land<'a> {
    pub fn new(land: &'a [&'a MultiPolygon], within: Option<&'a MultiPolygon>) -> Self {
        let edges = land
            .iter()
            .copied()
            .chain(within)
            .flat_map(|m| m.0.iter())
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|ring| ring.lines())
            .map(|l| {
                GeomWithData::new(Rectangle::from_corners([l.start.x, l.start.y], [l.end.x, l.end.y]), l)
            })
            .collect();
        Land { land, within, edges: RTree::bulk_load(edges) }
    }

    /// Whether the convex counter-clockwise `ring` lies inside the land, but for the tolerance band: no
    /// edge of the land enters its core, so the core is wholly in or wholly out, and a point of the core
    /// tells which.
    fn holds(&self, ring: &[Coord]) -> bool {
        let centre = centre(ring);
        let core_is_empty =
            (0..ring.len()).any(|i| inside_by(ring[i], ring[(i + 1) % ring.len()], centre) <= TOLERANCE_DEG);
        if core_is_empty {
            return false;
        }
        let (lo, hi) = ring.iter().fold(([f64::MAX; 2], [f64::MIN; 2]), |(lo, hi), c| {
            ([lo[0].min(c.x), lo[1].min(c.y)], [hi[0].max(c.x), hi[1].max(c.y)])
        });
        let near = self.edges.locate_in_envelope_intersecting(&AABB::from_corners(lo, hi));
        if near.into_iter().any(|e| enters_core(ring, e.data.start, e.data.end)) {
            return false;
        }
        let centre = Point::from(centre);
        let in_land =
            self.land.is_empty() || self.land.iter().any(|m| m.0.iter().any(|p| p.contains(&centre)));
        in_land && self.within.is_none_or(|w| w.contains(&centre))
    }

    /// Whether `shape` lies inside the land, but for the tolerance band; `false` also when that cannot
    /// be told cheaply (a shape that is not one convex polygon without holes).
    pub fn holds_shape(&self, shape: &MultiPolygon) -> bool {
        convex(shape).is_some_and(|ring| self.holds(&ring))
    }

    /// For each of `shapes`, whether it is one convex polygon without holes lying inside the land, but
    /// for the tolerance band.
    pub fn holds_each(&self, shapes: &[&MultiPolygon]) -> Vec<bool> {
        shapes.iter().map(|s| self.holds_shape(s)).collect()
    }

    /// For each of `shapes`, whether it is alone: one convex polygon without holes, inside the land,
    /// apart from every other shape. The area of the union of any alone shapes clipped to the land is
    /// the sum of their areas; the union of the other shapes clipped to the land overlaps none of them.
    /// Measuring decides this per date from [`Land::holds_each`] and [`neighbours`]; this is the
    /// definition tests check against.
    #[cfg(test)]
    pub fn alone(&self, shapes: &[&MultiPolygon]) -> Vec<bool> {
        let held = self.holds_each(shapes);
        neighbours(shapes).iter().zip(held).map(|(n, held)| held && n.is_empty()).collect()
    }
}

/// For each of `shapes`, the others (by index, ascending) it may overlap by more than the tolerance
/// band: those whose boxes meet its box, but for the ones that, like it, are one convex polygon without
/// holes and lie apart from it. Among shapes the land holds ([`Land::holds_each`]), those with no
/// neighbour in a subset are alone in that subset: their union clipped to the land is the sum of their
/// areas, decided once for every subset.
pub fn neighbours(shapes: &[&MultiPolygon]) -> Vec<Vec<usize>> {
    let rings: Vec<Option<Vec<Coord>>> = shapes.iter().map(|s| convex(s)).collect();
    let boxes = shapes.iter().enumerate().filter_map(|(i, s)| {
        let r = s.bounding_rect()?;
        Some(GeomWithData::new(Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), i))
    });
    let tree = RTree::bulk_load(boxes.collect());
    let mut found = vec![Vec::new(); shapes.len()];
    for entry in tree.iter() {
        let i = entry.data;
        for other in tree.locate_in_envelope_intersecting(&entry.envelope()) {
            let j = other.data;
            if j <= i {
                continue;
            }
            let separate = match (&rings[i], &rings[j]) {
                (Some(a), Some(b)) => apart(a, b),
                _ => false, // Not convex: whatever meets its box is measured with it.
            };
            if !separate {
                found[i].push(j);
                found[j].push(i);
            }
        }
    }
    for n in &mut found {
        n.sort_unstable();
    }
    found
}

#[cfg(test)]
fn is_convex(polygon: &geo::Polygon) -> bool {
    convex_ring(polygon).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Polygon, Rotate, wkt};

    fn m(p: Polygon) -> MultiPolygon {
        MultiPolygon(vec![p])
    }

    #[test]
    fn convex_rings_are_told_from_others() {
        assert!(is_convex(&wkt!(POLYGON((0. 0., 1. 0., 1. 1., 0. 1., 0. 0.)))));
        // Clockwise, with a repeated vertex and a collinear one: still convex.
        assert!(is_convex(&wkt!(POLYGON((0. 0., 0. 1., 0. 1., 1. 1., 1. 0.5, 1. 0., 0. 0.)))));
        assert!(!is_convex(&wkt!(POLYGON((0. 0., 2. 0., 2. 2., 1. 1., 0. 2., 0. 0.)))));
        assert!(!is_convex(&wkt!(POLYGON((0. 0., 1. 0., 2. 0., 0. 0.)))));
        let holed = wkt!(POLYGON((0. 0., 3. 0., 3. 3., 0. 3., 0. 0.), (1. 1., 1. 2., 2. 2., 2. 1., 1. 1.)));
        assert!(!is_convex(&holed));
    }

    #[test]
    fn shapes_side_by_side_inside_the_land_are_alone_and_others_are_not() {
        let zone = m(wkt!(POLYGON((106. 21., 106.01 21., 106.01 21.01, 106. 21.01, 106. 21.))));
        let land = [&zone];
        let land = Land::new(&land, Some(&zone));
        // Two plots sharing an edge, one on the zone's edge, one straddling the zone's edge, two that
        // overlap, and an L-shaped one.
        let a = m(wkt!(POLYGON((106. 21., 106.002 21., 106.002 21.002, 106. 21.002, 106. 21.))));
        let b = m(wkt!(POLYGON((106.002 21., 106.004 21., 106.004 21.002, 106.002 21.002, 106.002 21.))));
        let out = m(
            wkt!(POLYGON((106.009 21.005, 106.011 21.005, 106.011 21.006, 106.009 21.006, 106.009 21.005))),
        );
        let c = m(
            wkt!(POLYGON((106.005 21.005, 106.007 21.005, 106.007 21.007, 106.005 21.007, 106.005 21.005))),
        );
        let d = m(
            wkt!(POLYGON((106.006 21.006, 106.008 21.006, 106.008 21.008, 106.006 21.008, 106.006 21.006))),
        );
        let l = m(
            wkt!(POLYGON((106. 21.008, 106.002 21.008, 106.002 21.009, 106.001 21.009, 106.001 21.01, 106. 21.01, 106. 21.008))),
        );
        assert_eq!(land.alone(&[&a, &b, &out, &c, &d, &l]), [true, true, false, false, false, false]);
        // A shape a tenth of the band over the zone's edge is still inside; ten times the band is not.
        let nudged = m(
            wkt!(POLYGON((106.004 20.9999999999, 106.006 20.9999999999, 106.006 21.002, 106.004 21.002, 106.004 20.9999999999))),
        );
        assert_eq!(land.alone(&[&nudged]), [true]);
        let over = m(
            wkt!(POLYGON((106.004 20.99999999, 106.006 20.99999999, 106.006 21.002, 106.004 21.002, 106.004 20.99999999))),
        );
        assert_eq!(land.alone(&[&over]), [false]);
        // Everywhere when there is no land and no boundary.
        assert_eq!(Land::new(&[], None).alone(&[&out]), [true]);
    }

    #[test]
    fn a_hole_or_a_notch_of_the_land_inside_a_shape_keeps_it_from_being_alone() {
        let holed =
            m(wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.), (4. 4., 4. 6., 6. 6., 6. 4., 4. 4.))));
        let land = [&holed];
        let land = Land::new(&land, None);
        let over_hole = m(wkt!(POLYGON((3. 3., 7. 3., 7. 7., 3. 7., 3. 3.))));
        let beside = m(wkt!(POLYGON((1. 1., 3. 1., 3. 3., 1. 3., 1. 1.))));
        let in_hole = m(wkt!(POLYGON((4.5 4.5, 5.5 4.5, 5.5 5.5, 4.5 5.5, 4.5 4.5))));
        assert_eq!(land.alone(&[&over_hole, &beside, &in_hole]), [false, true, false]);
        // A rotated square whose corners touch nothing but whose edges are crossed by the land's.
        let notch = m(wkt!(POLYGON((0. 0., 10. 0., 10. 10., 5. 5.5, 0. 10., 0. 0.))));
        let land = [&notch];
        let land = Land::new(&land, None);
        let under_notch =
            m(wkt!(POLYGON((4. 4.6, 6. 4.6, 6. 6.4, 4. 6.4, 4. 4.6))).rotate_around_centroid(1.0));
        assert_eq!(land.alone(&[&under_notch]), [false]);
    }

    #[test]
    fn neighbours_that_only_meet_along_an_edge_do_not_overlap() {
        let plot = m(wkt!(POLYGON((0. 0., 1. 0., 1. 1., 0. 1., 0. 0.))));
        let beside = m(wkt!(POLYGON((1. 0., 2. 0., 2. 1., 1. 1., 1. 0.))));
        let corner = m(wkt!(POLYGON((1. 1., 2. 1., 2. 2., 1. 2., 1. 1.))));
        let over = m(wkt!(POLYGON((0.5 0.5, 1.5 0.5, 1.5 1.5, 0.5 1.5, 0.5 0.5))));
        // Not convex: cannot be told cheaply, so it stays.
        let notched = m(wkt!(POLYGON((1. 0., 3. 0., 3. 1., 2. 0.5, 1. 1., 1. 0.))));
        let found = overlapping(&plot, &[&beside, &corner, &over, &notched]);
        assert_eq!(found, [&over, &notched]);
        // The same, turned: the edges are no longer along the axes.
        let turn = |g: &MultiPolygon| g.rotate_around_point(30.0, Point::new(0.0, 0.0));
        let (plot, beside, over) = (turn(&plot), turn(&beside), turn(&over));
        assert_eq!(overlapping(&plot, &[&beside, &over]), [&over]);
        // A shape that is not convex keeps every other.
        assert_eq!(overlapping(&notched, &[&plot]).len(), 1);
    }
}
