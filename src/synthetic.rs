//! Synthetic national-scale data: zones, their plan, plots and leases, generated in memory for
//! benchmarks and tests that need 100,000 to 1,000,000 plots (the demo has 1,466).
//!
//! Modelled on `../shared/peers/gen.py`, the dataset the peer servers are measured on: each zone is a
//! rotated rectangle with one corner cut; plots are rows of rectangles (4 m apart, 12 m roads between
//! rows) in the zone's own rotated frame, clipped to the zone and kept when at least 60 % and 0.5 ha of
//! the rectangle survive. Plots along the boundary therefore share the zone's edges exactly, and
//! subtracting their leases from the zone leaves the degenerate rings issue #19 found. The industrial plan
//! of each zone is the zone itself; 70 % of plots are under an active lease and 5 % are reserved.
//!
//! Deterministic: the same [`Spec`] gives the same features on every machine.

use geo::{BooleanOps, Coord, LineString, MultiPolygon, Polygon, Rotate};
use serde_json::{Map, Value, json};

use crate::collections::{self, Collection};
use crate::store::NewFeature;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Zones along longitude and latitude (a grid of cells `cell_deg` apart).
    pub zones_x: u32,
    pub zones_y: u32,
    /// South-west corner of the grid, degrees (WGS 84).
    pub origin: (f64, f64),
    /// Distance between zone centres, degrees.
    pub cell_deg: f64,
    /// Area of each zone, hectares (about; the corner cut takes some).
    pub zone_ha: f64,
    /// Recorded province of every zone (a code of `units.csv` valid on the dates asked).
    pub province_code: String,
    /// Prefix of zone codes: `{prefix}-{row:03}{col:03}`.
    pub prefix: String,
    pub seed: u64,
    /// Leases signed on dates spread over 2008–2025 (each its own), starting up to half a year later,
    /// a tenth of them ended, as a board's leases are; otherwise every active lease was signed on
    /// 2019-06-01 and started on 2020-01-01, every reservation made on 2025-06-01.
    pub dated_leases: bool,
}

impl Spec {
    /// `zones` zones of about 230 ha near Bắc Ninh, about 220 plots each (484 zones ≈ 104,000 plots).
    pub fn province(zones: u32) -> Spec {
        let side = (f64::from(zones).sqrt().ceil() as u32).max(1);
        Spec {
            zones_x: side,
            zones_y: zones.div_ceil(side),
            origin: (105.9, 21.0),
            cell_deg: 0.02,
            zone_ha: 230.0,
            province_code: "VN-56".into(),
            prefix: "SZ".into(),
            seed: 20_240_521,
            dated_leases: false,
        }
    }
}

/// The generated records, in the order they must be loaded.
pub struct Synthetic {
    pub zones: Vec<NewFeature>,
    pub land_use: Vec<NewFeature>,
    pub plots: Vec<NewFeature>,
    pub leases: Vec<NewFeature>,
}

impl Synthetic {
    /// Batches for [`crate::store::Store::insert`].
    pub fn batches(self) -> Vec<(&'static Collection, Vec<NewFeature>)> {
        vec![
            (&collections::ZONES, self.zones),
            (&collections::LAND_USE, self.land_use),
            (&collections::PLOTS, self.plots),
            (&collections::LEASES, self.leases),
        ]
    }
}

/// A small deterministic generator (xorshift64*), enough for shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

/// Metres per degree of latitude, and of longitude at `lat` (degrees): a local frame, exact enough for
/// shapes of a few kilometres.
fn metres_per_degree(lat: f64) -> (f64, f64) {
    (111_320.0 * lat.to_radians().cos(), 110_574.0)
}

fn feature(id: String, properties: Value, geometry: Option<MultiPolygon>) -> NewFeature {
    let properties: Map<String, Value> = properties.as_object().cloned().unwrap_or_default();
    NewFeature { id, properties, geometry, source_crs: "EPSG:4326".into() }
}

/// Generates `spec`'s zones, plans, plots and leases.
pub fn generate(spec: &Spec) -> Synthetic {
    let mut rng = Rng(spec.seed.max(1));
    let mut out = Synthetic { zones: vec![], land_use: vec![], plots: vec![], leases: vec![] };
    for row in 0..spec.zones_y {
        for col in 0..spec.zones_x {
            let code = format!("{}-{row:03}{col:03}", spec.prefix);
            let centre = (
                spec.origin.0 + (f64::from(col) + 0.5) * spec.cell_deg,
                spec.origin.1 + (f64::from(row) + 0.5) * spec.cell_deg,
            );
            zone(spec, &code, centre, &mut rng, &mut out);
        }
    }
    out
}

/// One zone at `centre` (lon, lat) with its plan, plots and leases.
/// Dates of a board's lease ([`Spec::dated_leases`]): signed on a day of 2008–2025, started up to half
/// a year later; a tenth of the active ones terminated two to ten years after they started.
fn dated(lease: &mut Value, active: bool, rng: &mut Rng) {
    let day = |from: chrono::NaiveDate, days: f64| (from + chrono::Days::new(days as u64)).to_string();
    let first = chrono::NaiveDate::from_ymd_opt(2008, 1, 1).expect("a date");
    let signed = rng.uniform(0.0, 18.0 * 365.0);
    lease["signed_on"] = json!(day(first, signed));
    if !active {
        return;
    }
    let start = signed + rng.uniform(0.0, 183.0);
    lease["start_on"] = json!(day(first, start));
    if rng.next() < 0.1 {
        lease["status"] = json!("terminated");
        lease["end_on"] = json!(day(first, start + rng.uniform(730.0, 3650.0)));
    }
}

fn zone(spec: &Spec, code: &str, centre: (f64, f64), rng: &mut Rng, out: &mut Synthetic) {
    // The leases' dates come from their own sequence, so that the shapes are the same either way.
    let mut dates =
        Rng(spec.seed.rotate_left(17) ^ code.bytes().fold(1u64, |h, b| h.wrapping_mul(31) ^ u64::from(b)));
    let (mx, my) = metres_per_degree(centre.1);
    let to_degrees = |p: &Polygon| {
        let map = |c: &Coord| Coord { x: centre.0 + c.x / mx, y: centre.1 + c.y / my };
        let ring = |r: &LineString| LineString(r.0.iter().map(map).collect());
        Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
    };
    // The zone in metres around its centre: a rectangle with its north-east corner cut, rotated.
    let aspect = rng.uniform(0.7, 1.4);
    let area_m2 = spec.zone_ha * 10_000.0 / 0.93;
    let (w, h) = ((area_m2 * aspect).sqrt(), (area_m2 / aspect).sqrt());
    let cut = rng.uniform(0.2, 0.35);
    let angle = rng.uniform(-25.0, 25.0);
    let outline = Polygon::new(
        LineString::from(vec![
            (-w / 2.0, -h / 2.0),
            (w / 2.0, -h / 2.0),
            (w / 2.0, h / 2.0 - cut * h),
            (w / 2.0 - cut * w, h / 2.0),
            (-w / 2.0, h / 2.0),
            (-w / 2.0, -h / 2.0),
        ]),
        vec![],
    );
    let shape = outline.rotate_around_point(angle, geo::Point::new(0.0, 0.0));
    let boundary = MultiPolygon(vec![to_degrees(&shape)]);
    out.zones.push(feature(
        code.to_string(),
        json!({ "code": code, "name": format!("Synthetic {code}"), "kind": "industrial_park",
            "province_code": spec.province_code, "status": "operating", "established_on": "2000-01-01" }),
        Some(boundary.clone()),
    ));
    out.land_use.push(feature(
        format!("{code}-LU"),
        json!({ "zone_code": code, "province_code": spec.province_code, "category": "industrial",
            "valid_from": "2000-01-01" }),
        Some(boundary),
    ));

    // Plots: rows of rectangles in the zone's frame (unrotated), clipped to the unrotated outline.
    let mut n = 0;
    let mut y = -h / 2.0 + rng.uniform(0.0, 20.0);
    while y < h / 2.0 {
        let large = rng.next() < 0.08;
        let depth = if large { rng.uniform(150.0, 280.0) } else { rng.uniform(55.0, 95.0) };
        let mut x = -w / 2.0 + rng.uniform(0.0, 30.0);
        while x < w / 2.0 {
            let ha = if large { rng.uniform(2.0, 10.0) } else { (0.5 - 0.25 * rng.next().ln()).min(2.0) };
            let width = ha * 10_000.0 / depth;
            let rect = geo::Rect::new((x, y), (x + width, y + depth)).to_polygon();
            x += width + 4.0;
            let rect_m2 = geo::Area::unsigned_area(&rect);
            let clipped = MultiPolygon(vec![rect]).intersection(&MultiPolygon(vec![outline.clone()]));
            let Some(piece) = clipped
                .0
                .into_iter()
                .max_by(|a, b| geo::Area::unsigned_area(a).total_cmp(&geo::Area::unsigned_area(b)))
            else {
                continue;
            };
            let kept_m2 = geo::Area::unsigned_area(&piece);
            if kept_m2 < 5_000.0 || kept_m2 < 0.6 * rect_m2 {
                continue;
            }
            n += 1;
            let plot_code = format!("{code}-P{n:04}");
            let geometry =
                MultiPolygon(vec![to_degrees(&piece.rotate_around_point(angle, geo::Point::new(0.0, 0.0)))]);
            let draw = rng.next();
            out.plots.push(feature(
                plot_code.clone(),
                json!({ "code": plot_code, "zone_code": code, "province_code": spec.province_code }),
                Some(geometry.clone()),
            ));
            if draw < 0.75 {
                let active = draw < 0.70;
                let mut properties = json!({ "zone_code": code, "province_code": spec.province_code,
                    "plot_codes": plot_code, "status": if active { "active" } else { "reserved" },
                    "signed_on": if active { "2019-06-01" } else { "2025-06-01" },
                    "start_on": if active { json!("2020-01-01") } else { Value::Null } });
                if spec.dated_leases {
                    dated(&mut properties, active, &mut dates);
                }
                out.leases.push(feature(format!("{plot_code}-L"), properties, Some(geometry)));
            }
        }
        y += depth + 12.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_province_of_a_few_zones_has_plots_inside_and_leases_on_them() {
        let data = generate(&Spec::province(4));
        assert_eq!(data.zones.len(), 4);
        let per_zone = data.plots.len() / 4;
        assert!((200..450).contains(&per_zone), "{per_zone} plots per zone");
        let share = data.leases.len() as f64 / data.plots.len() as f64;
        assert!((0.65..0.85).contains(&share), "{share} of plots leased or reserved");
        for plot in &data.plots {
            let zone = &plot.properties["zone_code"];
            let boundary = data.zones.iter().find(|z| &z.properties["code"] == zone).unwrap();
            let (g, b) = (plot.geometry.as_ref().unwrap(), boundary.geometry.as_ref().unwrap());
            assert!(crate::rules::outside(g, b).is_none(), "{} leaves its zone", plot.id);
        }
        let again = generate(&Spec::province(4));
        assert_eq!(again.plots[17].geometry, data.plots[17].geometry, "deterministic");
    }
}
