//! Writes the demo dataset (`maps/demo/*.geojson`) from `maps/demo/spec/*.csv`.
//!
//! Geometry is synthetic, placed at each zone's real location and sized by bisection with landbank's own
//! occupancy code so that the *measured* figures equal the spec's hectares (to far below 0.01 ha):
//! zone boundary = `planned_ha`, industrial + warehouse land = `leasable_ha`, active leases = `leased_ha`,
//! reserved leases = `reserved_ha`. Run: `cargo run --example make_demo`.

use std::fs;

use chrono::Datelike;
use geo::{MultiPolygon, Rect, coord};
use landbank::domain::*;
use landbank::occupancy::{DEFAULT_SCOPE, zone_figures};
use landbank::spatial::{area_ha, to_geojson};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct ZoneSpec {
    code: String,
    name: String,
    kind: String,
    province_code: String,
    developer: Option<String>,
    status: String,
    policy_approved_on: Option<String>,
    established_on: Option<String>,
    operating_since: Option<String>,
    parent_code: Option<String>,
    lon: f64,
    lat: f64,
    planned_ha: f64,
    leasable_ha: Option<f64>,
    leased_ha: f64,
    reserved_ha: f64,
    declared_area_ha: Option<f64>,
    declared_industrial_ha: Option<f64>,
    wwtp_capacity_m3d: Option<f64>,
    wwtp_operating: Option<bool>,
    first_lease_year: Option<i32>,
    plan_ref: Option<String>,
}

/// Deterministic pseudo-random numbers (splitmix64), seeded per zone so that files are reproducible.
struct Rng(u64);
impl Rng {
    fn seeded(text: &str) -> Self {
        Rng(text.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3)))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon {
    MultiPolygon(vec![Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 }).to_polygon()])
}

/// Smallest x in [lo, hi] where the increasing function `f` reaches `target`.
fn bisect(mut lo: f64, mut hi: f64, target: f64, f: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < target { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

fn date(s: &Option<String>) -> Option<Date> {
    s.as_deref().filter(|s| !s.is_empty()).map(|s| parse_date(s).expect("spec date"))
}

fn feature(id: &str, properties: Value, geometry: Option<&MultiPolygon>) -> Value {
    json!({
        "type": "Feature",
        "id": id,
        "properties": properties,
        "geometry": geometry.map(|g| serde_json::to_value(to_geojson(g)).unwrap()),
    })
}

fn write(name: &str, features: Vec<Value>) {
    let fc = json!({ "type": "FeatureCollection", "features": features });
    let path = format!("maps/demo/{name}.geojson");
    let mut text = serde_json::to_string(&fc).unwrap();
    // One feature per line keeps diffs readable.
    text = text.replace("},{\"type\":\"Feature\"", "},\n{\"type\":\"Feature\"");
    fs::write(&path, text + "\n").unwrap();
    println!("wrote {path}");
}

/// Splits [x0, x1] into `n` equal columns.
fn columns(x0: f64, x1: f64, n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| (x0 + (x1 - x0) * i as f64 / n as f64, x0 + (x1 - x0) * (i + 1) as f64 / n as f64))
        .collect()
}

const TENANTS: &[(&str, &str, &str)] = &[
    ("KR", "fdi", "Điện tử"),
    ("KR", "fdi", "Linh kiện điện tử"),
    ("JP", "fdi", "Cơ khí chính xác"),
    ("CN", "fdi", "Pin và thiết bị điện"),
    ("TW", "fdi", "Bảng mạch in"),
    ("SG", "fdi", "Kho vận"),
    ("US", "fdi", "Thiết bị y tế"),
    ("VN", "ddi", "Bao bì"),
    ("VN", "ddi", "Vật liệu xây dựng"),
    ("VN", "ddi", "Thực phẩm"),
    ("VN", "ddi", "Dệt may"),
];
const NAMES: &[&str] = &[
    "Hanam",
    "Sao Việt",
    "Kim Long",
    "Minh Phát",
    "Daesung",
    "Hoshino",
    "Tân Á",
    "Everwin",
    "Phú Gia",
    "Lotus",
    "Seojin",
    "Nippon Seiki",
    "An Bình",
    "Mekong",
    "Jinhua",
];
const OWNERS: &[&str] =
    &["Nguyễn Văn", "Trần Thị", "Lê Văn", "Phạm Thị", "Hoàng Văn", "Vũ Thị", "Đỗ Văn", "Ngô Thị"];
const GIVEN: &[&str] =
    &["An", "Bình", "Cường", "Dung", "Hải", "Hoa", "Khánh", "Lan", "Minh", "Nga", "Phúc", "Thảo"];

fn main() {
    let mut zones_out = Vec::new();
    let (mut land_use_out, mut plots_out, mut projects_out, mut leases_out, mut parcels_out) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut rdr = csv::Reader::from_path("maps/demo/spec/zones.csv").unwrap();
    // Leases of the published figures were counted on 17/11/2023: none starts later.
    let last_start = parse_date("2023-10-31").unwrap();
    for row in rdr.deserialize::<ZoneSpec>() {
        let s = row.unwrap();
        let mut rng = Rng::seeded(&s.code);
        let zone = Zone {
            code: s.code.clone(),
            name: s.name.clone(),
            kind: s.kind.parse().unwrap(),
            province_code: s.province_code.clone(),
            developer: s.developer.clone().filter(|d| !d.is_empty()),
            status: s.status.parse().unwrap(),
            policy_approved_on: date(&s.policy_approved_on),
            established_on: date(&s.established_on),
            operating_since: date(&s.operating_since),
            parent_code: s.parent_code.clone().filter(|p| !p.is_empty()),
            declared_area_ha: s.declared_area_ha,
            declared_industrial_ha: s.declared_industrial_ha,
            wwtp_capacity_m3d: s.wwtp_capacity_m3d,
            wwtp_operating: s.wwtp_operating,
        };
        // Boundary: a rectangle 1.4 times wider than high (in degrees), centred on the zone.
        let half_h = bisect(0.0, 0.2, s.planned_ha, |h| {
            area_ha(&rect(s.lon - 1.4 * h, s.lat - h, s.lon + 1.4 * h, s.lat + h))
        });
        let (x0, y0, x1, y1) = (s.lon - 1.4 * half_h, s.lat - half_h, s.lon + 1.4 * half_h, s.lat + half_h);
        let boundary = rect(x0, y0, x1, y1);
        zones_out.push(feature(&s.code, serde_json::to_value(&zone).unwrap(), Some(&boundary)));

        let Some(leasable_target) = s.leasable_ha else {
            continue; // No plan yet: occupancy falls back to the declared industrial land.
        };
        // Layout: road along the south edge, green belt along the north, industrial land from the west,
        // services and infrastructure (with the wastewater plant) in the east.
        let (yi0, yi1) = (y0 + 0.05 * (y1 - y0), y1 - 0.07 * (y1 - y0));
        let valid_from = zone.policy_approved_on.or(zone.established_on);
        let plan = |category: LandUseCategory| LandUse {
            zone_code: s.code.clone(),
            province_code: None,
            category,
            plan_ref: s.plan_ref.clone().filter(|p| !p.is_empty()),
            valid_from,
            valid_to: None,
        };
        let figures = |land: &[(LandUse, MultiPolygon)], leases: &[(Lease, MultiPolygon)]| {
            zone_figures(
                &zone,
                Some(&boundary),
                land,
                leases,
                parse_date("2025-01-01").unwrap(),
                DEFAULT_SCOPE,
            )
        };
        // The eastmost tenth of the industrial land is for warehouses (still leasable).
        let layout = |xi: f64| {
            let xw = xi - 0.1 * (xi - x0);
            let mut land = vec![
                (plan(LandUseCategory::Industrial), rect(x0, yi0, xw, yi1)),
                (plan(LandUseCategory::Warehouse), rect(xw, yi0, xi, yi1)),
                (plan(LandUseCategory::Road), rect(x0, y0, x1, yi0)),
                (plan(LandUseCategory::Green), rect(x0, yi1, x1, y1)),
            ];
            if xi < x1 {
                let ym = 0.5 * (yi0 + yi1);
                land.push((plan(LandUseCategory::Service), rect(xi, ym, x1, yi1)));
                land.push((plan(LandUseCategory::Infrastructure), rect(xi, yi0, xi + 0.5 * (x1 - xi), ym)));
                land.push((plan(LandUseCategory::Water), rect(xi + 0.5 * (x1 - xi), yi0, x1, ym)));
            }
            land
        };
        let xi = bisect(x0, x1, leasable_target, |xi| figures(&layout(xi), &[]).leasable_ha);
        let land = layout(xi);
        let leasable_ha = figures(&land, &[]).leasable_ha;
        assert!(
            (leasable_ha - leasable_target).abs() < 1e-6,
            "{}: {leasable_ha} vs {leasable_target}",
            s.code
        );
        for (i, (lu, g)) in land.iter().enumerate() {
            land_use_out.push(feature(
                &format!("{}-LU{:02}", s.code, i + 1),
                serde_json::to_value(lu).unwrap(),
                Some(g),
            ));
        }

        // Plots: two rows; columns of about 8 ha per plot; leased land from the west, then reserved, then free.
        let plot_cols = |ha: f64| ((ha / 16.0).round() as usize).max(1);
        let active_lease = |g: MultiPolygon| {
            (
                Lease {
                    project_id: None,
                    zone_code: s.code.clone(),
                    province_code: None,
                    plot_codes: None,
                    status: LeaseStatus::Active,
                    signed_on: None,
                    start_on: None,
                    end_on: None,
                    handed_over_on: None,
                    area_ha: None,
                },
                g,
            )
        };
        let ym = 0.5 * (yi0 + yi1);
        let (n_leased, n_free) =
            (plot_cols(s.leased_ha), plot_cols(leasable_target - s.leased_ha - s.reserved_ha));
        let plots_of = |cx0: f64, cx1: f64, n: usize, status: LeaseStatus| -> Vec<(Lease, MultiPolygon)> {
            columns(cx0, cx1, n)
                .into_iter()
                .flat_map(|(a, b)| [rect(a, yi0, b, ym), rect(a, ym, b, yi1)])
                .map(|g| {
                    let mut l = active_lease(g);
                    l.0.status = status;
                    l
                })
                .collect()
        };
        let xl = if s.leased_ha > 0.0 {
            bisect(x0, xi, s.leased_ha, |xl| {
                figures(&land, &plots_of(x0, xl, n_leased, LeaseStatus::Active)).leased_ha
            })
        } else {
            x0
        };
        let xr = if s.reserved_ha > 0.0 {
            bisect(xl, xi, s.reserved_ha, |xr| {
                let mut all = plots_of(x0, xl, n_leased, LeaseStatus::Active);
                all.extend(plots_of(xl, xr, 1, LeaseStatus::Reserved));
                figures(&land, &all).reserved_ha
            })
        } else {
            xl
        };
        {
            let mut all = if xl > x0 { plots_of(x0, xl, n_leased, LeaseStatus::Active) } else { vec![] };
            if xr > xl {
                all.extend(plots_of(xl, xr, 1, LeaseStatus::Reserved));
            }
            let f = figures(&land, &all);
            assert!(
                (f.leased_ha - s.leased_ha).abs() < 1e-6 && (f.reserved_ha - s.reserved_ha).abs() < 1e-6,
                "{}: {f:?}",
                s.code
            );
        }
        let mut cols: Vec<((f64, f64), &str)> = Vec::new();
        if xl > x0 {
            cols.extend(columns(x0, xl, n_leased).into_iter().map(|c| (c, "active")));
        }
        if xr > xl {
            cols.push(((xl, xr), "reserved"));
        }
        if xi > xr {
            cols.extend(columns(xr, xi, n_free).into_iter().map(|c| (c, "free")));
        }
        let established = zone.established_on.unwrap_or(parse_date("2000-01-01").unwrap());
        let first_year = s.first_lease_year.unwrap_or(2020).max(1996);
        let first = parse_date(&format!("{first_year}-01-15")).unwrap().max(established);
        let mut plot_no = 0;
        for ((cx0, cx1), state) in cols {
            for (py0, py1) in [(yi0, ym), (ym, yi1)] {
                plot_no += 1;
                let code = format!("CN-{plot_no:02}");
                let g = rect(cx0, py0, cx1, py1);
                let infra_ready_on = if zone.status_at(parse_date("2026-01-01").unwrap())
                    == ZoneStatus::Operating
                    || state == "active"
                {
                    Some(first - chrono::Duration::days(90))
                } else {
                    None
                };
                let plot = Plot {
                    zone_code: s.code.clone(),
                    province_code: None,
                    code: code.clone(),
                    infra_ready_on,
                };
                plots_out.push(feature(
                    &format!("{}-{code}", s.code),
                    serde_json::to_value(&plot).unwrap(),
                    Some(&g),
                ));
                if state == "free" {
                    continue;
                }
                // A project per leased plot, starting between the first lease year and October 2023.
                let span = (last_start - first).num_days().max(1);
                let start = first + chrono::Duration::days((rng.unit() * span as f64) as i64);
                let signed = start - chrono::Duration::days(30 + (rng.unit() * 150.0) as i64);
                let (country, origin, sector) = *rng.pick(TENANTS);
                let tenant = format!("Công ty TNHH {} {}", rng.pick(NAMES), sector);
                let project_id = format!("{}-P{plot_no:03}", s.code);
                let origin: Origin = origin.parse().unwrap();
                let project = Project {
                    tenant_name: tenant,
                    origin,
                    country: Some(country.into()),
                    certificate_no: Some(format!("{}", 2_000_000_000u64 + rng.next() % 999_999_999)),
                    certificate_on: Some(signed),
                    capital_usd: (origin == Origin::Fdi).then(|| (5.0 + rng.unit() * 95.0).round() * 1e6),
                    capital_vnd: (origin == Origin::Ddi).then(|| (50.0 + rng.unit() * 950.0).round() * 1e9),
                    employees: Some(50 + (rng.unit() * 2500.0) as i64),
                    operating_since: (state == "active")
                        .then(|| start + chrono::Duration::days(365))
                        .filter(|d| *d < parse_date("2026-01-01").unwrap()),
                    sector: Some(sector.into()),
                    zone_code: Some(s.code.clone()),
                    province_code: None,
                    contact_name: None,
                    contact_phone: None,
                    contact_email: None,
                    construction_started_on: None,
                };
                projects_out.push(feature(&project_id, serde_json::to_value(&project).unwrap(), None));
                let lease = Lease {
                    project_id: Some(project_id.clone()),
                    zone_code: s.code.clone(),
                    province_code: None,
                    plot_codes: Some(code.clone()),
                    status: if state == "active" { LeaseStatus::Active } else { LeaseStatus::Reserved },
                    signed_on: Some(signed),
                    start_on: (state == "active").then_some(start),
                    end_on: (state == "active").then(|| start + chrono::Duration::days(365 * 50)),
                    handed_over_on: (state == "active").then_some(start),
                    area_ha: None,
                };
                leases_out.push(feature(
                    &format!("{}-L{plot_no:03}", s.code),
                    serde_json::to_value(&lease).unwrap(),
                    Some(&g),
                ));
            }
        }
        // Clearance parcels: a 6 × 4 grid over the zone; all handed over where leases exist.
        let statuses = [
            ClearanceStatus::HandedOver,
            ClearanceStatus::Compensated,
            ClearanceStatus::CompensationApproved,
            ClearanceStatus::Inventoried,
            ClearanceStatus::NotStarted,
        ];
        let operating = zone.status == ZoneStatus::Operating;
        for (i, (px0, px1)) in columns(x0, x1, 6).into_iter().enumerate() {
            for (j, (py0, py1)) in columns(y0, y1, 4).into_iter().enumerate() {
                let status = if operating || px1 <= xr + 1e-12 {
                    ClearanceStatus::HandedOver
                } else {
                    *rng.pick(&statuses)
                };
                let inventoried = established - chrono::Duration::days(200);
                let parcel = ClearanceParcel {
                    zone_code: s.code.clone(),
                    province_code: None,
                    sheet_no: format!("{}", 10 + i),
                    parcel_no: format!("{}", 100 + j * 7 + i),
                    land_type: Some(rng.pick(&["LUC", "LUK", "BHK", "ONT", "NTS"]).to_string()),
                    owner_kind: Some(if j == 3 && i == 5 { OwnerKind::State } else { OwnerKind::Household }),
                    owner_name: Some(format!("Hộ {} {}", rng.pick(OWNERS), rng.pick(GIVEN))),
                    status,
                    compensation_vnd: (status >= ClearanceStatus::CompensationApproved)
                        .then(|| (200.0 + rng.unit() * 800.0).round() * 1e6 * 10.0),
                    inventoried_on: (status >= ClearanceStatus::Inventoried).then_some(inventoried),
                    compensated_on: (status >= ClearanceStatus::Compensated)
                        .then(|| inventoried + chrono::Duration::days(120)),
                    handed_over_on: (status == ClearanceStatus::HandedOver).then(|| {
                        // Vĩnh Phúc's board reported four operating zones still clearing land on
                        // 30/09/2023: their land beyond the leased strip was handed over in mid-2024.
                        if STILL_CLEARING_2023.contains(&s.code.as_str()) && px1 > xr + 1e-12 {
                            parse_date("2024-06-28").unwrap()
                        } else {
                            inventoried + chrono::Duration::days(180)
                        }
                    }),
                };
                parcels_out.push(feature(
                    &format!("{}-T{}-{}", s.code, parcel.sheet_no, parcel.parcel_no),
                    serde_json::to_value(&parcel).unwrap(),
                    Some(&rect(px0, py0, px1, py1)),
                ));
            }
        }
    }
    let mut events_out = hung_yen_first_quarter_2022(&mut plots_out, &mut projects_out);
    events_out.extend(bac_ninh_2023(&mut projects_out));
    thai_nguyen_2020(&mut projects_out);
    let mut results_out = thai_nguyen_results_2019(&projects_out);
    let (vp_events, vp_results) = vinh_phuc_last_quarter_2023(&mut projects_out);
    events_out.extend(vp_events);
    results_out.extend(vp_results);
    hung_yen_2022(&mut projects_out);
    let mut targets_out = Vec::new();
    let mut rdr = csv::Reader::from_path("maps/demo/spec/targets.csv").unwrap();
    for row in rdr.deserialize::<Target>() {
        let t = row.unwrap();
        t.check().unwrap_or_else(|(field, e)| panic!("targets.csv: {field}: {e}"));
        let origin = t.origin.map(|o| format!("-{o}")).unwrap_or_default();
        let id = format!("{}-{}-{}{origin}", t.province_code, t.period_label(), t.metric);
        targets_out.push(feature(&id, serde_json::to_value(&t).unwrap(), None));
    }
    write("project_results", results_out);
    write("targets", targets_out);
    write("zones", zones_out);
    write("land_use", land_use_out);
    write("plots", plots_out);
    write("projects", projects_out);
    write("leases", leases_out);
    write("project_events", events_out);
    write("clearance_parcels", parcels_out);
}

/// Makes Hưng Yên's first quarter of 2022 what the board reported (DESIGN.md, the seeds): 29 ha of
/// infrastructure completed; about USD 145 million new and added capital, made of 3 new domestic projects
/// (VND 345 billion) and 12 capital increases (USD 112 million and VND 410 billion); 8 projects starting
/// operation with about 3,000 jobs. Runs after the zones are generated: Minh Quang's free plots get their
/// infrastructure on 2022-03-25 (closest to 29 ha), projects renting ready-built factories (no lease of
/// their own) make up the difference between what the generated tenants already give and the figures,
/// and the tenants certified in the quarter move to December 2021. Returns the increases (decisions).
fn hung_yen_first_quarter_2022(plots: &mut [Value], projects: &mut Vec<Value>) -> Vec<Value> {
    let (from, to) = (parse_date("2022-01-01").unwrap(), parse_date("2022-03-31").unwrap());
    let in_q1 = |v: &Value| v.as_str().and_then(|s| parse_date(s).ok()).is_some_and(|d| from <= d && d <= to);
    let in_hy = |v: &Value| {
        v["properties"]["province_code"] == "VN-66"
            || v["properties"]["zone_code"].as_str().is_some_and(|z| z.starts_with("HY-"))
    };

    // Infrastructure: 29 ha in all, from the subset of Minh Quang's plots whose area comes closest
    // (subset sum over hundredths of a hectare).
    let done_ha: f64 = plots
        .iter()
        .filter(|p| in_hy(p) && in_q1(&p["properties"]["infra_ready_on"]))
        .map(plot_area_ha)
        .sum();
    let goal = ((29.0 - done_ha) * 100.0).round().max(0.0) as usize;
    let candidates: Vec<(usize, usize)> = plots
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p["properties"]["zone_code"] == "HY-MQ" && p["properties"]["infra_ready_on"].is_null()
        })
        .map(|(i, p)| (i, (plot_area_ha(p) * 100.0).round() as usize))
        .collect();
    // reach[s] = the candidate that last reached sum s (and the sum before it).
    let limit = goal * 2 + 1;
    let mut reach: Vec<Option<(usize, usize)>> = vec![None; limit + 1];
    let mut reached = vec![false; limit + 1];
    reached[0] = true;
    for (k, &(_, area)) in candidates.iter().enumerate() {
        for sum in (area..=limit).rev() {
            if !reached[sum] && reached[sum - area] && reach[sum - area].is_none_or(|(j, _)| j < k) {
                reached[sum] = true;
                reach[sum] = Some((k, sum - area));
            }
        }
    }
    let best = (0..=limit).filter(|&s| reached[s]).min_by_key(|&s| s.abs_diff(goal)).unwrap();
    let mut sum = best;
    while let Some((k, before)) = reach[sum] {
        plots[candidates[k].0]["properties"]["infra_ready_on"] = json!("2022-03-25");
        sum = before;
    }

    // New certificates in the quarter were three domestic projects: the generated tenants certified in
    // it move to December 2021 (still valid on 31/03/2022, so no other figure changes).
    for p in projects.iter_mut().filter(|p| in_hy(p) && in_q1(&p["properties"]["certificate_on"])) {
        let day = parse_date(p["properties"]["certificate_on"].as_str().unwrap()).unwrap().day().min(28);
        p["properties"]["certificate_on"] = json!(format!("2021-12-{day:02}"));
    }
    let hy: Vec<&Value> = projects.iter().filter(|p| in_hy(p)).collect();
    let started: Vec<&&Value> = hy.iter().filter(|p| in_q1(&p["properties"]["operating_since"])).collect();
    let jobs: i64 = started.iter().filter_map(|p| p["properties"]["employees"].as_i64()).sum();
    let (to_start, to_employ) = (8 - started.len() as i64, 3_000 - jobs);
    assert!(to_start > 0 && to_employ > 0, "the generated quarter already exceeds the figures");
    let factory = |n: i64,
                   zone: &str,
                   origin: Origin,
                   certificate_on: &str,
                   capital: f64,
                   operating_since: Option<&str>,
                   employees: i64| {
        let fdi = origin == Origin::Fdi;
        let project = Project {
            tenant_name: format!(
                "Công ty {} Nhà xưởng cho thuê {zone} {n:02}",
                if fdi { "TNHH" } else { "CP" }
            ),
            origin,
            country: Some(if fdi { ["KR", "JP", "CN", "TW"][n as usize % 4] } else { "VN" }.into()),
            certificate_no: Some(format!("{}", 2_460_000_000u64 + n as u64 * 7_919)),
            certificate_on: Some(parse_date(certificate_on).unwrap()),
            capital_usd: fdi.then_some(capital),
            capital_vnd: (!fdi).then_some(capital),
            employees: Some(employees),
            operating_since: operating_since.map(|d| parse_date(d).unwrap()),
            sector: Some("Linh kiện điện tử (thuê nhà xưởng xây sẵn)".into()),
            zone_code: Some(zone.into()),
            province_code: None,
            contact_name: None,
            contact_phone: None,
            contact_email: None,
            construction_started_on: None,
        };
        let letter = if fdi { "F" } else { "D" };
        feature(&format!("{zone}-{letter}{n:02}"), serde_json::to_value(&project).unwrap(), None)
    };
    // Started operating in the quarter, registered in 2021: jobs, not new capital.
    let base = to_employ / to_start;
    for n in 0..to_start {
        let employees = if n == to_start - 1 { to_employ - base * (to_start - 1) } else { base };
        let day = format!("2022-0{}-{:02}", 1 + n % 3, 10 + n);
        let capital = 4e6 + 1e6 * n as f64;
        projects.push(factory(n + 1, "HY-PNA", Origin::Fdi, "2021-06-15", capital, Some(&day), employees));
    }
    // "03 dự án có vốn đầu tư trong nước, với tổng vốn đầu tư đăng ký 345 tỷ đồng".
    for (k, (zone, day, capital)) in
        [("HY-YM2", "2022-01-20", 120e9), ("HY-TL2", "2022-02-22", 105e9), ("HY-MD", "2022-03-18", 120e9)]
            .into_iter()
            .enumerate()
    {
        projects.push(factory(to_start + 1 + k as i64, zone, Origin::Ddi, day, capital, None, 0));
    }
    // "điều chỉnh tăng vốn cho 12 dự án, với tổng vốn đầu tư tăng thêm khoảng 112 triệu USD và 410 tỷ
    // đồng": eight FDI projects add USD 14 million each, four DDI projects VND 410 billion between them,
    // each a project certified before 2022 and still valid.
    let before_2022 = |origin: Origin| -> Vec<(String, String)> {
        projects
            .iter()
            .filter(|p| in_hy(p) && p["properties"]["origin"] == origin.as_str())
            .filter(|p| p["properties"]["certificate_on"].as_str().is_some_and(|d| d < "2022-01-01"))
            .map(|p| {
                (p["id"].as_str().unwrap().into(), p["properties"]["zone_code"].as_str().unwrap().into())
            })
            .collect()
    };
    let (fdi, ddi) = (before_2022(Origin::Fdi), before_2022(Origin::Ddi));
    assert!(fdi.len() >= 8 && ddi.len() >= 4, "Hưng Yên has too few projects certified before 2022");
    let increases = fdi.iter().step_by(fdi.len() / 8).take(8).map(|p| (p, "capital_usd_change", 14e6)).chain(
        ddi.iter()
            .step_by(ddi.len() / 4)
            .take(4)
            .zip([100e9, 110e9, 95e9, 105e9])
            .map(|(p, v)| (p, "capital_vnd_change", v)),
    );
    let mut events = Vec::new();
    for (n, ((id, zone), field, amount)) in increases.enumerate() {
        let decided_on = format!("2022-0{}-{:02}", 1 + n % 3, 5 + 2 * n);
        let mut properties = json!({
            "project_id": id, "zone_code": zone, "kind": "adjusted", "decided_on": decided_on,
            "decision_no": format!("{}/QĐ-BQL", 150 + 37 * n),
        });
        properties[field] = json!(amount);
        events.push(json!({ "type": "Feature", "id": format!("{zone}-E22{n:02}"), "geometry": null, "properties": properties }));
    }
    events
}

/// Vĩnh Phúc's last quarter of 2023 as its board planned it on 16/10/2023 ("cấp mới/điều chỉnh tăng vốn
/// cho 2-3 dự án FDI với tổng vốn đăng ký khoảng 40-50 triệu USD; … 1-2 dự án DDI … 100-200 tỷ đồng";
/// "vốn thực hiện của các dự án FDI đạt khoảng 60 triệu USD và các dự án đầu tư DDI đạt khoảng 400-500 tỷ
/// đồng"). The seed gives the plan, not the outcome: the demo makes it happen within the plan's ranges,
/// with two FDI capital increases (USD 25 and 20 million), one new domestic project (VND 150 billion) and
/// the quarter's capital realised (FDI USD 60 million, DDI VND 450 billion). Returns the decisions and
/// the results.
fn vinh_phuc_last_quarter_2023(projects: &mut Vec<Value>) -> (Vec<Value>, Vec<Value>) {
    let before = |p: &Value, origin: Origin| {
        p["properties"]["zone_code"].as_str().is_some_and(|z| z.starts_with("VP-"))
            && p["properties"]["origin"] == origin.as_str()
            && p["properties"]["certificate_on"].as_str().is_some_and(|d| d < "2023-01-01")
    };
    let pick = |origin: Origin, n: usize| -> Vec<(String, String)> {
        projects
            .iter()
            .filter(|p| before(p, origin))
            .take(n)
            .map(|p| {
                (p["id"].as_str().unwrap().into(), p["properties"]["zone_code"].as_str().unwrap().into())
            })
            .collect()
    };
    let (fdi, ddi) = (pick(Origin::Fdi, 3), pick(Origin::Ddi, 2));
    assert!(fdi.len() == 3 && ddi.len() == 2, "Vĩnh Phúc has too few projects certified before 2023");
    let feature = |id: String, properties: Value| json!({ "type": "Feature", "id": id, "geometry": null, "properties": properties });
    let mut events = Vec::new();
    for (k, ((id, zone), day, usd)) in
        fdi.iter().zip([("2023-10-18", 25e6), ("2023-11-22", 20e6)]).map(|(p, (d, u))| (p, d, u)).enumerate()
    {
        events.push(feature(
            format!("{zone}-E23Q4{k}"),
            json!({ "project_id": id, "zone_code": zone, "kind": "adjusted", "decided_on": day,
                "decision_no": format!("{}/QĐ-BQL", 1810 + 97 * k), "capital_usd_change": usd }),
        ));
    }
    projects.push(factory(Factory {
        zone: "VP-BX",
        n: 1,
        tag: "23",
        origin: Origin::Ddi,
        country: "VN",
        certificate_no: 2_530_000_117,
        certified: parse_date("2023-12-05").unwrap(),
        capital: 150e9,
        employees: 0,
        operating_since: None,
        sector: "Sản xuất linh kiện cơ khí",
    }));
    let mut results = Vec::new();
    let quarter = |id: &str, zone: &str, field: &str, amount: f64| {
        let mut properties = json!({ "project_id": id, "zone_code": zone, "year": 2023, "quarter": 4,
            "source_ref": "Báo cáo tình hình thực hiện dự án quý IV/2023" });
        properties[field] = json!(amount);
        feature(format!("{id}-2023-Q4"), properties)
    };
    for ((id, zone), usd) in fdi.iter().zip([20e6, 25e6, 15e6]) {
        results.push(quarter(id, zone, "realised_capital_usd", usd));
    }
    for ((id, zone), vnd) in ddi.iter().zip([250e9, 200e9]) {
        results.push(quarter(id, zone, "realised_capital_vnd", vnd));
    }
    (events, results)
}

/// Thái Nguyên's zones' revenue in 2019, as its board reported on 30/11/2020 ("doanh thu … hàng năm đạt
/// gần 31 tỷ USD và gần 8.900 tỷ đồng"): USD 30.9 billion declared by the FDI projects operating in 2019
/// and VND 8,870 billion by the domestic ones, shared by registered capital.
fn thai_nguyen_results_2019(projects: &[Value]) -> Vec<Value> {
    let date_of = |v: &Value| v.as_str().and_then(|s| parse_date(s).ok());
    let end = parse_date("2019-12-31").unwrap();
    let mut out = Vec::new();
    for (origin, key, field, total, unit) in [
        (Origin::Fdi, "capital_usd", "revenue_usd", 30_900e6, 1e4),
        (Origin::Ddi, "capital_vnd", "revenue_vnd", 8_870e9, 1e7),
    ] {
        let reporting: Vec<(&Value, f64)> = projects
            .iter()
            .filter(|p| p["properties"]["zone_code"].as_str().is_some_and(|z| z.starts_with("TN-")))
            .filter(|p| p["properties"]["origin"] == origin.as_str())
            .filter(|p| date_of(&p["properties"]["operating_since"]).is_some_and(|d| d <= end))
            .filter_map(|p| Some((p, p["properties"][key].as_f64()?)))
            .collect();
        let capital: f64 = reporting.iter().map(|(_, c)| c).sum();
        assert!(!reporting.is_empty(), "no {origin} project operated in Thái Nguyên in 2019");
        let mut given = 0.0;
        for (k, (p, c)) in reporting.iter().enumerate() {
            let amount = if k == reporting.len() - 1 {
                total - given
            } else {
                (total * c / capital / unit).floor() * unit
            };
            given += amount;
            let id = p["id"].as_str().unwrap();
            let properties = json!({
                "project_id": id, "zone_code": p["properties"]["zone_code"], "year": 2019, field: amount,
                "source_ref": "Báo cáo tình hình sản xuất kinh doanh năm 2019",
            });
            out.push(json!({ "type": "Feature", "id": format!("{id}-2019"), "geometry": null, "properties": properties }));
        }
    }
    out
}

/// Geodesic area of a generated plot feature, hectares.
fn plot_area_ha(plot: &Value) -> f64 {
    let geometry: geojson::Geometry = serde_json::from_value(plot["geometry"].clone()).unwrap();
    let g: geo::Geometry = geometry.try_into().unwrap();
    match g {
        geo::Geometry::Polygon(p) => area_ha(&MultiPolygon(vec![p])),
        geo::Geometry::MultiPolygon(m) => area_ha(&m),
        other => panic!("plot geometry is not polygonal: {other:?}"),
    }
}

/// Operating zones of Vĩnh Phúc whose board reported them still clearing land on 30/09/2023 (Khai
/// Quang, Bình Xuyên, Bá Thiện II, Tam Dương II khu A).
const STILL_CLEARING_2023: &[&str] = &["VP-KQ", "VP-BX", "VP-BT2", "VP-TD2A"];

/// A project renting a ready-built factory (no lease of its own): what the seeds' figures add to the
/// generated tenants. Its capital is the certificate's, in USD for FDI and in VND for DDI.
struct Factory<'a> {
    zone: &'a str,
    n: usize,
    /// Two digits in the id, `{zone}-F{tag}{n:03}` (FDI) or `-D` (DDI): which function made it.
    tag: &'a str,
    origin: Origin,
    country: &'a str,
    certificate_no: u64,
    certified: Date,
    capital: f64,
    employees: i64,
    operating_since: Option<Date>,
    sector: &'a str,
}

/// The feature of a [`Factory`] project.
fn factory(f: Factory<'_>) -> Value {
    let fdi = f.origin == Origin::Fdi;
    let project = Project {
        tenant_name: format!("Công ty {} Nhà xưởng {} {:03}", if fdi { "TNHH" } else { "CP" }, f.zone, f.n),
        origin: f.origin,
        country: Some(f.country.into()),
        certificate_no: Some(f.certificate_no.to_string()),
        certificate_on: Some(f.certified),
        capital_usd: fdi.then_some((f.capital * 100.0).round() / 100.0),
        capital_vnd: (!fdi).then_some(f.capital.round()),
        employees: Some(f.employees),
        operating_since: f.operating_since,
        sector: Some(f.sector.into()),
        zone_code: Some(f.zone.into()),
        province_code: None,
        contact_name: None,
        contact_phone: None,
        contact_email: None,
        construction_started_on: None,
    };
    let id = format!("{}-{}{}{:03}", f.zone, if fdi { "F" } else { "D" }, f.tag, f.n);
    feature(&id, serde_json::to_value(&project).unwrap(), None)
}

/// Makes Bắc Ninh's 2023 (1 January to 17 November) what the board reported (DESIGN.md, the seeds): 108
/// new FDI projects with USD 927.89 million; 530 adjustments of FDI projects, 106 of them changing
/// capital by USD 555.22 million in all (97 increases of USD 577.12 million, 9 decreases of USD 21.9
/// million); 20 new DDI projects with VND 3,494.78 billion; 69 adjustments of DDI projects, 15 of them
/// raising capital by VND 1,101.9 billion; about 35 projects into operation. Runs after the zones are
/// generated and only adds: projects renting ready-built factories (no lease of their own) make up the
/// new projects, and decisions on the province's projects the adjustments. A few named decisions come
/// first (a certificate with committed dates for the watch list, two capital changes, a new sector).
fn bac_ninh_2023(projects: &mut Vec<Value>) -> Vec<Value> {
    let (from, to) = (parse_date("2023-01-01").unwrap(), parse_date("2023-11-17").unwrap());
    let date_of = |v: &Value| v.as_str().and_then(|s| parse_date(s).ok());
    let in_2023 = |v: &Value| date_of(v).is_some_and(|d| from <= d && d <= to);
    let in_bn = |p: &Value| p["properties"]["zone_code"].as_str().is_some_and(|z| z.starts_with("BN-"));
    let mut rng = Rng::seeded("bac-ninh-2023");
    let day_in_2023 = |rng: &mut Rng| from + chrono::Duration::days((rng.unit() * 320.0) as i64);
    const ZONES: &[&str] = &[
        "BN-QV1", "BN-QV2", "BN-QV3", "BN-YP1", "BN-YP2C", "BN-VSIP", "BN-DDHS", "BN-NSHL", "BN-TT3", "BN-TS",
    ];

    // New projects: what the generated tenants give, then factories for the rest.
    let mut new_projects = |origin: Origin, count: usize, capital: f64, projects: &mut Vec<Value>| {
        let key = if origin == Origin::Fdi { "capital_usd" } else { "capital_vnd" };
        let mine: Vec<&Value> = projects
            .iter()
            .filter(|p| in_bn(p) && in_2023(&p["properties"]["certificate_on"]))
            .filter(|p| p["properties"]["origin"] == origin.as_str())
            .collect();
        let have: f64 = mine.iter().filter_map(|p| p["properties"][key].as_f64()).sum();
        let (missing, rest) = (count - mine.len(), capital - have);
        assert!(missing > 0 && rest > 0.0, "the generated year already exceeds the figures");
        // Equal shares rounded to a unit the boards use (USD 10,000; VND 10 million), the last takes the rest.
        let unit = if origin == Origin::Fdi { 1e4 } else { 1e7 };
        let share = (rest / missing as f64 / unit).floor() * unit;
        for n in 0..missing {
            let amount = if n == missing - 1 { rest - share * (missing - 1) as f64 } else { share };
            let zone = ZONES[n % ZONES.len()];
            projects.push(factory(Factory {
                zone,
                n,
                tag: "23",
                origin,
                country: if origin == Origin::Fdi { ["KR", "CN", "JP", "SG", "TW"][n % 5] } else { "VN" },
                certificate_no: 2_310_000_000u64 + n as u64 * 104_729,
                certified: day_in_2023(&mut rng),
                capital: amount,
                employees: 30 + (rng.unit() * 400.0) as i64,
                operating_since: None,
                sector: "Sản xuất linh kiện (thuê nhà xưởng xây sẵn)",
            }));
        }
    };
    new_projects(Origin::Fdi, 108, 927.89e6, projects);
    new_projects(Origin::Ddi, 20, 3_494.78e9, projects);

    // Into operation: about 35, the earliest-certified factories starting in the autumn.
    let started =
        projects.iter().filter(|p| in_bn(p) && in_2023(&p["properties"]["operating_since"])).count();
    let mut factories: Vec<usize> = (0..projects.len())
        .filter(|&i| {
            let id = projects[i]["id"].as_str().unwrap_or_default();
            in_bn(&projects[i])
                && id.contains("-F23")
                && projects[i]["properties"]["operating_since"].is_null()
        })
        .collect();
    factories.sort_by_key(|&i| {
        projects[i]["properties"]["certificate_on"].as_str().unwrap_or_default().to_string()
    });
    for &i in factories.iter().take(35usize.saturating_sub(started)) {
        let certified = date_of(&projects[i]["properties"]["certificate_on"]).unwrap();
        let start = (certified + chrono::Duration::days(120)).min(to);
        projects[i]["properties"]["operating_since"] = json!(start.to_string());
    }

    // Decisions: the named ones, then adjustments up to the reported counts and amounts.
    let decision =
        |id: &str, p: Value| json!({ "type": "Feature", "id": id, "geometry": null, "properties": p });
    let mut events = vec![
        decision(
            "BN-QV1-E001",
            json!({ "project_id": "BN-QV1-P038", "zone_code": "BN-QV1", "kind": "certified", "decided_on": "2022-10-25", "decision_no": "6534127890", "land_handover_by": "2023-06-30", "construction_by": "2023-12-31", "operation_by": "2024-12-31" }),
        ),
        decision(
            "BN-QV1-E002",
            json!({ "project_id": "BN-QV1-P003", "zone_code": "BN-QV1", "kind": "adjusted", "decided_on": "2023-06-12", "decision_no": "2136/QĐ-BQL", "capital_usd_change": 20_000_000.0 }),
        ),
        decision(
            "BN-QV1-E003",
            json!({ "project_id": "BN-QV1-P001", "zone_code": "BN-QV1", "kind": "adjusted", "decided_on": "2023-09-05", "decision_no": "3012/QĐ-BQL", "capital_vnd_change": 45_000_000_000.0 }),
        ),
        decision(
            "BN-QV1-E004",
            json!({ "project_id": "BN-QV1-P004", "zone_code": "BN-QV1", "kind": "adjusted", "decided_on": "2023-10-20", "decision_no": "3355/QĐ-BQL", "capital_usd_change": -4_000_000.0, "reason": "Giảm quy mô dây chuyền lắp ráp" }),
        ),
        decision(
            "BN-QV1-E005",
            json!({ "project_id": "BN-QV1-P002", "zone_code": "BN-QV1", "kind": "adjusted", "decided_on": "2023-02-14", "decision_no": "412/QĐ-BQL", "sector": "Cơ khí chính xác" }),
        ),
    ];
    // (origin, adjustments, increases and their total, decreases and their total), less the named ones.
    let plan = [
        (Origin::Fdi, 530 - 3, 97 - 1, 577.12e6 - 20e6, 9 - 1, 21.9e6 - 4e6),
        (Origin::Ddi, 69 - 1, 15 - 1, 1_101.9e9 - 45e9, 0, 0.0),
    ];
    let mut n = 0;
    for (origin, adjustments, increases, up, decreases, down) in plan {
        let key = if origin == Origin::Fdi { "capital_usd" } else { "capital_vnd" };
        let change_key = if origin == Origin::Fdi { "capital_usd_change" } else { "capital_vnd_change" };
        let unit = if origin == Origin::Fdi { 1e4 } else { 1e7 };
        // Projects certified before 2023 that hold enough capital for a decrease.
        let eligible: Vec<(String, String, f64)> = projects
            .iter()
            .filter(|p| in_bn(p) && p["properties"]["origin"] == origin.as_str())
            .filter(|p| date_of(&p["properties"]["certificate_on"]).is_some_and(|d| d < from))
            .map(|p| {
                let props = &p["properties"];
                (
                    p["id"].as_str().unwrap().to_string(),
                    props["zone_code"].as_str().unwrap().to_string(),
                    props[key].as_f64().unwrap_or(0.0),
                )
            })
            .collect();
        let shares = |total: f64, count: usize| -> Vec<f64> {
            if count == 0 {
                return Vec::new();
            }
            let share = (total / count as f64 / unit).floor() * unit;
            (0..count)
                .map(|i| if i == count - 1 { total - share * (count - 1) as f64 } else { share })
                .collect()
        };
        let changes: Vec<Option<f64>> = shares(up, increases)
            .into_iter()
            .map(Some)
            .chain(shares(down, decreases).into_iter().map(|d| Some(-d)))
            .chain(std::iter::repeat_n(None, adjustments - increases - decreases))
            .collect();
        for change in changes {
            n += 1;
            let candidates: Vec<&(String, String, f64)> =
                eligible.iter().filter(|(_, _, capital)| change.is_none_or(|c| capital + c > 0.0)).collect();
            let (project, zone, _) = *rng.pick(&candidates);
            let mut p = json!({
                "project_id": project, "zone_code": zone, "kind": "adjusted",
                "decided_on": day_in_2023(&mut rng).to_string(),
                "decision_no": format!("{}/QĐ-BQL", 100 + n),
            });
            if let Some(c) = change {
                p[change_key] =
                    json!(if origin == Origin::Fdi { (c * 100.0).round() / 100.0 } else { c.round() });
            }
            events.push(decision(&format!("BN-E23-{n:04}"), p));
        }
    }
    events
}

/// Makes Thái Nguyên on 30/11/2020 what its board reported (the seeds): 236 valid projects (119 FDI, 117
/// DDI) with USD 8,438 million and VND 15,611 billion registered, and more than 98,000 workers in the
/// operating ones. Runs after the zones are generated and only adds projects renting ready-built
/// factories (no lease of their own), certified between 2012 and 2020, most of them operating.
fn thai_nguyen_2020(projects: &mut Vec<Value>) {
    let at = parse_date("2020-11-30").unwrap();
    let date_of = |v: &Value| v.as_str().and_then(|s| parse_date(s).ok());
    let in_tn = |p: &Value| p["properties"]["zone_code"].as_str().is_some_and(|z| z.starts_with("TN-"));
    let valid = |p: &Value| in_tn(p) && date_of(&p["properties"]["certificate_on"]).is_some_and(|d| d <= at);
    let mut rng = Rng::seeded("thai-nguyen-2020");
    const ZONES: &[&str] = &["TN-YB", "TN-SC1", "TN-SC2", "TN-DT", "TN-NPY"];
    let workers: i64 = projects
        .iter()
        .filter(|p| valid(p) && date_of(&p["properties"]["operating_since"]).is_some_and(|d| d <= at))
        .filter_map(|p| p["properties"]["employees"].as_i64())
        .sum();
    let to_employ = 98_400 - workers;
    let first_new = projects.len();
    for (origin, count, capital) in [(Origin::Fdi, 119, 8_438e6), (Origin::Ddi, 117, 15_611e9)] {
        let key = if origin == Origin::Fdi { "capital_usd" } else { "capital_vnd" };
        let mine: Vec<&Value> =
            projects.iter().filter(|p| valid(p) && p["properties"]["origin"] == origin.as_str()).collect();
        let have: f64 = mine.iter().filter_map(|p| p["properties"][key].as_f64()).sum();
        let (missing, rest) = (count - mine.len(), capital - have);
        assert!(missing > 0 && rest > 0.0, "the generated Thái Nguyên already exceeds the figures");
        let unit = if origin == Origin::Fdi { 1e4 } else { 1e7 };
        let share = (rest / missing as f64 / unit).floor() * unit;
        for n in 0..missing {
            let amount = if n == missing - 1 { rest - share * (missing - 1) as f64 } else { share };
            let zone = ZONES[n % ZONES.len()];
            let certified =
                parse_date("2012-01-10").unwrap() + chrono::Duration::days((rng.unit() * 3_100.0) as i64);
            let operating = certified + chrono::Duration::days(300);
            // The first three quarters of the new projects operate by the report's date, sharing the
            // workers still missing.
            let operates = n * 4 < missing * 3 && operating <= at;
            // Workers of the operating ones are set below, once it is known how many operate.
            let employees = 20 + (rng.unit() * 200.0) as i64;
            projects.push(factory(Factory {
                zone,
                n,
                tag: "20",
                origin,
                country: if origin == Origin::Fdi { ["KR", "CN", "JP", "TW"][n % 4] } else { "VN" },
                certificate_no: 1_790_000_000u64 + n as u64 * 104_723,
                certified,
                capital: amount,
                employees,
                operating_since: operates.then_some(operating),
                sector: "Linh kiện điện tử (thuê nhà xưởng xây sẵn)",
            }));
        }
    }
    // The workers still missing, shared by the new projects that operate by the date.
    let operating: Vec<usize> = (first_new..projects.len())
        .filter(|&i| !projects[i]["properties"]["operating_since"].is_null())
        .collect();
    assert!(!operating.is_empty() && to_employ > 0, "no new operating project to employ the missing workers");
    let each = to_employ / operating.len() as i64;
    for (k, &i) in operating.iter().enumerate() {
        let e = if k == operating.len() - 1 { to_employ - each * (operating.len() as i64 - 1) } else { each };
        projects[i]["properties"]["employees"] = json!(e);
    }
}

/// Makes Hưng Yên on 31/03/2022 what its board reported (the seeds): 420 operating projects (240 FDI,
/// 180 DDI), 86.4 % of the valid ones, and about 74,000 workers. Runs last and leaves the first quarter
/// of 2022 as it was (its new projects, starters and jobs): the projects it adds were certified and
/// started before 2022 (and 32 certified in 2021 have not started), and the workers of the projects that
/// started before 2022 are scaled down to the board's total.
fn hung_yen_2022(projects: &mut Vec<Value>) {
    let at = parse_date("2022-03-31").unwrap();
    let year = parse_date("2022-01-01").unwrap();
    let date_of = |v: &Value| v.as_str().and_then(|s| parse_date(s).ok());
    let in_hy = |p: &Value| p["properties"]["zone_code"].as_str().is_some_and(|z| z.starts_with("HY-"));
    let valid = |p: &Value| in_hy(p) && date_of(&p["properties"]["certificate_on"]).is_some_and(|d| d <= at);
    let started = |p: &Value| date_of(&p["properties"]["operating_since"]);
    let mut rng = Rng::seeded("hung-yen-2022");
    const ZONES: &[&str] = &["HY-PNA", "HY-TL2", "HY-MD", "HY-DMPN"];
    let count = |projects: &[Value], origin: Origin, operating: bool| {
        projects
            .iter()
            .filter(|p| valid(p) && p["properties"]["origin"] == origin.as_str())
            .filter(|p| !operating || started(p).is_some_and(|d| d <= at))
            .count()
    };
    let valid_now = projects.iter().filter(|p| valid(p)).count();
    let (fdi_to_start, ddi_to_start) =
        (240 - count(projects, Origin::Fdi, true), 180 - count(projects, Origin::Ddi, true));
    // 420 operating of 486 valid is the board's 86.4 %.
    let not_started = 486 - valid_now - fdi_to_start - ddi_to_start;
    let first_new = projects.len();
    let plan = [
        (Origin::Fdi, fdi_to_start, true),
        (Origin::Ddi, ddi_to_start, true),
        (Origin::Fdi, not_started / 2, false),
        (Origin::Ddi, not_started - not_started / 2, false),
    ];
    let mut n = 0;
    for (origin, how_many, operates) in plan {
        for _ in 0..how_many {
            n += 1;
            let zone = ZONES[n % ZONES.len()];
            let certified = if operates {
                parse_date("2008-01-15").unwrap() + chrono::Duration::days((rng.unit() * 4_700.0) as i64)
            } else {
                parse_date("2021-01-10").unwrap() + chrono::Duration::days((rng.unit() * 340.0) as i64)
            };
            projects.push(factory(Factory {
                zone,
                n,
                tag: "21",
                origin,
                country: if origin == Origin::Fdi { ["KR", "JP", "CN", "TW", "SG"][n % 5] } else { "VN" },
                certificate_no: 2_180_000_000u64 + n as u64 * 104_717,
                certified,
                capital: if origin == Origin::Fdi {
                    (1.0 + rng.unit() * 9.0).round() * 1e6
                } else {
                    (20.0 + rng.unit() * 180.0).round() * 1e9
                },
                employees: 50,
                operating_since: operates
                    .then(|| (certified + chrono::Duration::days(365)).min(year.pred_opt().unwrap())),
                sector: "Sản xuất (thuê nhà xưởng xây sẵn)",
            }));
        }
    }
    // Workers on 31/03/2022: the first quarter's starters keep theirs, the new projects have 50 each, and
    // the projects that started before 2022 share the rest of the board's 74,000.
    let before_2022: Vec<usize> = (0..first_new)
        .filter(|&i| valid(&projects[i]) && started(&projects[i]).is_some_and(|d| d < year))
        .collect();
    let in_q1: i64 = projects
        .iter()
        .filter(|p| valid(p) && started(p).is_some_and(|d| year <= d && d <= at))
        .filter_map(|p| p["properties"]["employees"].as_i64())
        .sum();
    let new_workers: i64 = 50 * (fdi_to_start + ddi_to_start) as i64;
    let rest = 74_000 - in_q1 - new_workers;
    let old: i64 = before_2022.iter().filter_map(|&i| projects[i]["properties"]["employees"].as_i64()).sum();
    assert!(rest > 0 && old > rest, "the generated Hưng Yên has fewer workers than the board reported");
    let mut given = 0;
    for (k, &i) in before_2022.iter().enumerate() {
        let e = if k == before_2022.len() - 1 {
            rest - given
        } else {
            let was = projects[i]["properties"]["employees"].as_i64().unwrap_or(0);
            ((was as f64 * rest as f64 / old as f64).round() as i64).max(1)
        };
        given += e;
        projects[i]["properties"]["employees"] = json!(e);
    }
}
