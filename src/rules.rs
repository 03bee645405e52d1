//! The rules every way in applies alike — `landbank import`, API edits and the demo loader — with their
//! tolerances in one place, so that a record that was imported can always be saved again unchanged.
//!
//! Every measure is geodesic (WGS 84 ellipsoid, hectares), never planar degrees.

use geo::{BooleanOps, BoundingRect, Intersects, MultiPolygon};

use unicode_normalization::UnicodeNormalization;

use crate::spatial;

/// Longest id or code, characters: what a URL path and a database index hold comfortably.
pub const MAX_CODE_CHARS: usize = 100;
/// Longest free text (names, notes, decision references), characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Whether a field holds a code (an identifier others refer to) rather than free text.
fn is_code(field: &str) -> bool {
    field == "id" || field == "code" || field.ends_with("_code") || field.ends_with("_id")
}

/// A text value as stored: NFC (so that "Quế Võ" typed two ways is one name), no control characters
/// (free text may hold tabs and line breaks), within [`MAX_CODE_CHARS`] or [`MAX_TEXT_CHARS`].
pub fn clean_text(field: &str, text: &str) -> Result<String, String> {
    let code = is_code(field);
    if let Some(c) = text.chars().find(|c| c.is_control() && (code || !matches!(c, '\t' | '\n' | '\r'))) {
        return Err(format!("{field}: holds the control character U+{:04X}; remove it", c as u32));
    }
    let max = if code { MAX_CODE_CHARS } else { MAX_TEXT_CHARS };
    let count = text.chars().count();
    if count > max {
        return Err(format!("{field}: {count} characters; at most {max}"));
    }
    if code && text.contains('/') {
        return Err(format!("{field}: '{text}' holds a '/', which no code may (it is part of URLs)"));
    }
    Ok(text.nfc().collect())
}

/// Checks a record's id (the last part of its URL).
pub fn check_id(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("id: empty".into());
    }
    clean_text("id", id).map(|_| ())
}

/// Overlap tolerated between two plots, or two leases holding the same land at the same time, in
/// hectares: drawing slivers (100 m²) along shared edges; more is a conflict.
pub const OVERLAP_TOLERANCE_HA: f64 = 0.01;

/// Share of a record's area that may lie outside its zone's boundary (drawing tolerance), and the
/// absolute hectares always tolerated for small records (1 m²).
pub const OUTSIDE_SHARE: f64 = 0.005;
pub const OUTSIDE_MIN_HA: f64 = 0.0001;

/// A zone's province exists, and had not ended before the zone's first date (a zone approved in 2026
/// belongs to one of the 34 units, not to a province that ended on 01/07/2025). A zone approved earlier
/// may name either its old province or the unit that holds it now.
pub fn zone_province(zone: &crate::domain::Zone) -> Result<(), String> {
    let first =
        [zone.policy_approved_on, zone.established_on, zone.operating_since].into_iter().flatten().min();
    crate::geography::check(&zone.province_code, first)
        .map(|_| ())
        .map_err(|e| format!("zone {}: {e}", zone.code))
}

/// The dates a lease's status needs: an end for one terminated or revoked, a start for an active one.
/// The error names the field.
pub fn lease_dates(lease: &crate::domain::Lease) -> Result<(), (&'static str, String)> {
    use crate::domain::LeaseStatus;
    if matches!(lease.status, LeaseStatus::Terminated | LeaseStatus::Revoked) && lease.end_on.is_none() {
        return Err(("end_on", format!("a {} lease needs end_on, the day it ended", lease.status.as_str())));
    }
    if lease.status == LeaseStatus::Active && lease.start_on.is_none() {
        return Err(("start_on", "an active lease needs start_on".into()));
    }
    Ok(())
}

/// Whether a lease holds its land at some time (active or reserved, not ended).
pub fn holds(lease: &crate::domain::Lease) -> bool {
    use crate::domain::LeaseStatus;
    matches!(lease.status, LeaseStatus::Active | LeaseStatus::Reserved)
}

/// Whether two leases that hold land hold it at the same time (neither ends before the other begins).
pub fn periods_meet(a: &crate::domain::Lease, b: &crate::domain::Lease) -> bool {
    let ends_before = |end: Option<crate::domain::Date>, start: Option<crate::domain::Date>| {
        end.zip(start).is_some_and(|(end, start)| end <= start)
    };
    !(ends_before(a.end_on, b.start_on.or(b.signed_on)) || ends_before(b.end_on, a.start_on.or(a.signed_on)))
}

/// The day a lease's land must be leasable: its start, else its signature, else today.
pub fn lease_day(lease: &crate::domain::Lease) -> crate::domain::Date {
    lease.start_on.or(lease.signed_on).unwrap_or_else(crate::domain::today)
}

/// A zone's leasable land on `on`: industrial and warehouse plans valid then, clipped to its boundary;
/// `None` without any (then no lease can be checked against it).
pub fn leasable_on(
    plans: &[(crate::domain::LandUse, MultiPolygon)],
    boundary: Option<&MultiPolygon>,
    on: crate::domain::Date,
) -> Option<MultiPolygon> {
    let valid: Vec<&MultiPolygon> =
        plans.iter().filter(|(p, _)| p.is_leasable() && p.valid_at(on)).map(|(_, g)| g).collect();
    if valid.is_empty() {
        return None;
    }
    let land = spatial::union_all(valid);
    Some(match boundary {
        Some(b) => spatial::clip(&land, b),
        None => land,
    })
}

/// Hectares of `g` outside `boundary` when more than the tolerance lies there (`None`: inside).
pub fn outside(g: &MultiPolygon, boundary: &MultiPolygon) -> Option<f64> {
    let outside = spatial::area_ha(&spatial::subtract(g, boundary));
    // The shape itself is measured only when something lies outside (most plots have nothing there).
    (outside > OUTSIDE_MIN_HA && outside > OUTSIDE_SHARE * spatial::area_ha(g)).then_some(outside)
}

/// Hectares `a` and `b` share when more than [`OVERLAP_TOLERANCE_HA`] (`None`: they do not overlap).
/// Shapes whose boxes cannot share that much are not intersected at all.
pub fn overlap(a: &MultiPolygon, b: &MultiPolygon) -> Option<f64> {
    let (Some(ra), Some(rb)) = (a.bounding_rect(), b.bounding_rect()) else { return None };
    if !ra.intersects(&rb) || box_overlap_ha(ra, rb) <= OVERLAP_TOLERANCE_HA {
        return None;
    }
    let shared = spatial::area_ha(&a.intersection(b));
    (shared > OVERLAP_TOLERANCE_HA).then_some(shared)
}

/// Geodesic hectares of the intersection of two boxes (0 when they only touch): an upper bound of their
/// shapes' overlap.
fn box_overlap_ha(a: geo::Rect, b: geo::Rect) -> f64 {
    let (x0, y0) = (a.min().x.max(b.min().x), a.min().y.max(b.min().y));
    let (x1, y1) = (a.max().x.min(b.max().x), a.max().y.min(b.max().y));
    if x1 <= x0 || y1 <= y0 {
        return 0.0;
    }
    spatial::area_ha(&MultiPolygon(vec![geo::Rect::new((x0, y0), (x1, y1)).to_polygon()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_nfc_without_controls_and_bounded() {
        // "Quế" with a combining circumflex and acute, as some keyboards type it.
        assert_eq!(clean_text("name", "Que\u{302}\u{301} Vo\u{303}").unwrap(), "Quế Võ");
        assert!(clean_text("code", "A\u{0}B").unwrap_err().contains("U+0000"));
        assert!(clean_text("notes", "line\nbreak").is_ok());
        assert!(clean_text("zone_code", &"X".repeat(101)).is_err());
        assert!(clean_text("name", &"X".repeat(4001)).is_err());
        assert!(check_id("BN-QV1/2").is_err());
        assert!(check_id("BN-QV1-CN-01").is_ok());
    }

    /// A square `d` degrees wide, `(x, y)` degrees north-east of (106° E, 21° N).
    fn square(x: f64, y: f64, d: f64) -> MultiPolygon {
        let (x, y) = (106.0 + x, 21.0 + y);
        MultiPolygon(vec![geo::Rect::new((x, y), (x + d, y + d)).to_polygon()])
    }

    #[test]
    fn slivers_are_tolerated_and_real_overlaps_are_not() {
        // Two 0.001° squares (≈ 1.15 ha) side by side sharing nothing, then one 0.0002° into the other.
        let a = square(0.0, 0.0, 0.001);
        assert_eq!(overlap(&a, &square(0.001, 0.0, 0.001)), None);
        let shared = overlap(&a, &square(0.0008, 0.0, 0.001)).expect("a fifth of a plot overlaps");
        assert!((shared - 0.23).abs() < 0.01, "{shared}");
        // 0.00001° deep: ≈ 0.0115 ha … just over; 0.000005°: ≈ 0.006 ha, a sliver.
        assert_eq!(overlap(&a, &square(0.000995, 0.0, 0.001)), None);
    }

    #[test]
    fn outside_is_measured_on_the_ellipsoid() {
        let zone = square(0.0, 0.0, 0.01);
        assert_eq!(outside(&square(0.001, 0.001, 0.001), &zone), None);
        let out = outside(&square(0.0095, 0.001, 0.001), &zone).expect("half of it is outside");
        assert!((out - 0.575).abs() < 0.01, "{out}");
    }
}
