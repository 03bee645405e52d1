//! The board's report (báo cáo tình hình hoạt động các KCN): a province's or the nation's zones by stage,
//! hectares and occupancy, site clearance, projects and capital, jobs, wastewater plants, an occupancy
//! series by quarter, progress against the year's plan targets and the regulatory checks.
//!
//! Every figure comes from the store on the date asked for, with the same formulas as
//! [`crate::occupancy`] (the report's land figures *are* an [`OccupancyReport`](occupancy::OccupancyReport)):
//! - hectares are geodesic areas (`source` says measured or declared); clearance progress is handed-over
//!   parcel hectares over all parcel hectares of the zone, by the parcels' status on the date;
//! - projects are *valid* once certified (`certificate_on <= at`, or no date) and *operating* once
//!   `operating_since <= at`; employees are those of operating projects; capital is summed per currency,
//!   USD and VND apart, never converted;
//! - the period (1 January to the report date), the enterprises' results and plan targets (for a year,
//!   a quarter or several years; values or ranges; FDI, DDI or both) are computed in `period.rs`: capital is never converted except where a target states the rate its plan converts at.

pub mod charts;
mod html;
mod office;
mod period;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Datelike;
use serde::Serialize;
use thiserror::Error;

use crate::collections;
use crate::domain::{ClearanceParcel, ClearanceStatus, Date, Plot, Project, Province, Target, TargetMetric};
use crate::domain::{Origin, Zone, ZoneStatus};
use crate::geography;
use crate::occupancy::{
    self, DEFAULT_SCOPE, OccupancyError, OccupancyQuery, Summary, ZoneFigures, pct, round2, round2_opt,
};
use crate::store::{Condition, ItemsQuery, Store, StoreError};

pub use html::{number, render_html, render_markdown};
pub use office::{render_docx, render_pdf, render_xlsx};
pub use period::{Period, ResultAmounts, Results, TargetLine, Targets};

#[derive(Debug, Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The message names the provinces there are.
    #[error("{0}")]
    UnknownProvince(String),
    #[error("rendering the report: {0}")]
    Render(String),
    /// A format this installation cannot write (PDF without Chromium); the message says how to fix it.
    #[error("{0}")]
    Unavailable(String),
}

impl From<OccupancyError> for ReportError {
    fn from(e: OccupancyError) -> Self {
        match e {
            OccupancyError::Store(s) => ReportError::Store(s),
            other => ReportError::Store(StoreError::Database(other.to_string())),
        }
    }
}

/// The language of the rendered report (HTML, Markdown, charts). JSON and CSV keys are English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "vi" => Ok(Lang::Vi),
            "en" => Ok(Lang::En),
            other => Err(format!("'{other}' is not a language of the report; use vi or en")),
        }
    }
}

impl Lang {
    /// The Vietnamese or the English text.
    pub fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

/// Thresholds of the regulatory checks (Decree 35/2022/NĐ-CP as boards apply it), from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Rules {
    /// A province may add a new zone when its established and operating zones' occupancy reaches this, %.
    pub new_zone_min_occupancy_pct: f64,
    /// A zone may expand when its own occupancy reaches this, %.
    pub expansion_min_occupancy_pct: f64,
    /// …and, when true, its central wastewater treatment plant operates.
    pub expansion_requires_wwtp: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            new_zone_min_occupancy_pct: 60.0,
            expansion_min_occupancy_pct: 60.0,
            expansion_requires_wwtp: true,
        }
    }
}

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    /// One province, or `None` for the national view (every province in the store).
    pub province_code: Option<String>,
    pub at: Date,
    pub rules: Rules,
    /// Compute the occupancy series (one occupancy computation per quarter, 20 in all); a chart that
    /// does not draw it leaves it out and the series comes back empty.
    pub with_series: bool,
}

/// A count of zones and their planned hectares.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct ZoneCount {
    pub count: u64,
    #[serde(serialize_with = "round2")]
    pub area_ha: f64,
}

/// Zones by stage on the date. Stages are cumulative, as boards count them: `established` includes the
/// operating zones, `in_plan` every zone but the cancelled ones.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct ZoneStages {
    pub in_plan: ZoneCount,
    pub established: ZoneCount,
    pub operating: ZoneCount,
    /// Each status on its own (not cumulative).
    pub by_status: BTreeMap<ZoneStatus, ZoneCount>,
}

/// Site clearance of a zone or a province on the date.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Clearance {
    #[serde(serialize_with = "round2")]
    pub parcel_ha: f64,
    #[serde(serialize_with = "round2")]
    pub handed_over_ha: f64,
    #[serde(serialize_with = "round2_opt")]
    pub progress_pct: Option<f64>,
}

impl Clearance {
    fn add(&mut self, other: &Clearance) {
        self.parcel_ha += other.parcel_ha;
        self.handed_over_ha += other.handed_over_ha;
        self.progress_pct = pct(self.handed_over_ha, self.parcel_ha);
    }
}

/// One zone's line of the report: its occupancy figures (as `/zones/{code}/occupancy` gives them), its
/// site clearance and its wastewater plant.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ZoneLine {
    #[serde(flatten)]
    pub figures: ZoneFigures,
    pub clearance: Clearance,
    pub wwtp_operating: bool,
    pub wwtp_capacity_m3d: Option<f64>,
}

/// Projects on the date.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Projects {
    /// Certified on or before the date, and not terminated or revoked by then.
    pub valid: u64,
    pub valid_fdi: u64,
    pub valid_ddi: u64,
    /// Registered capital of valid projects declared in USD on the date: the certificate's, with every
    /// adjustment up to then (source: declared).
    #[serde(serialize_with = "round2")]
    pub capital_usd: f64,
    /// Registered capital of valid projects declared in VND on the date (as above).
    #[serde(serialize_with = "round2")]
    pub capital_vnd: f64,
    pub operating: u64,
    pub operating_fdi: u64,
    pub operating_ddi: u64,
    /// Operating over valid projects, %.
    #[serde(serialize_with = "round2_opt")]
    pub operating_pct: Option<f64>,
    /// Employees of operating projects.
    pub employees: i64,
}

/// Central wastewater treatment: operating zones with a working plant.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Wwtp {
    pub operating_zones: u64,
    pub with_working_plant: u64,
    #[serde(serialize_with = "round2_opt")]
    pub coverage_pct: Option<f64>,
}

/// Occupancy at the end of a quarter (or on the report date for the last point).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SeriesPoint {
    /// e.g. `2022-Q1`.
    pub quarter: String,
    pub at: Date,
    #[serde(serialize_with = "round2")]
    pub leasable_ha: f64,
    #[serde(serialize_with = "round2")]
    pub leased_ha: f64,
    #[serde(serialize_with = "round2_opt")]
    pub occupancy_pct: Option<f64>,
}

/// A check of one rule on one province or zone.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Check {
    /// `new_zone` or `expansion`.
    pub rule: &'static str,
    pub province_code: String,
    pub zone_code: Option<String>,
    pub name: String,
    #[serde(serialize_with = "round2_opt")]
    pub occupancy_pct: Option<f64>,
    #[serde(serialize_with = "round2")]
    pub threshold_pct: f64,
    /// For expansions: whether the zone's wastewater plant operates.
    pub wwtp_operating: Option<bool>,
    pub passes: bool,
    /// Why, in words (English; the HTML and Markdown reports translate).
    pub reason: String,
}

/// A province's line in the national view.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProvinceLine {
    #[serde(flatten)]
    pub summary: Summary,
    pub clearance: Clearance,
    pub projects: Projects,
    pub wwtp: Wwtp,
}

/// The whole report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `province` or `national`.
    pub level: &'static str,
    pub province_code: Option<String>,
    pub province_name: Option<String>,
    pub province_name_en: Option<String>,
    pub at: Date,
    /// How the province relates to the date (ended before it, or formed after it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The unit holding the province's territory on the date, when the province had ended by then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub successor_code: Option<String>,
    /// Provincial-level units of Vietnam on the date: 63 until 30/06/2025, 34 from 01/07/2025.
    pub provinces_on_date: u64,
    /// Said when the store holds the demo dataset (synthetic geometry), and only then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo_notice: Option<String>,
    /// Zone statuses whose hectares are summed (established and operating, as boards report).
    pub scope: Vec<ZoneStatus>,
    pub zones: ZoneStages,
    /// Land figures over the zones in scope.
    pub land: Summary,
    pub clearance: Clearance,
    pub projects: Projects,
    pub wwtp: Wwtp,
    pub zone_lines: Vec<ZoneLine>,
    /// Provinces (national view only).
    pub provinces: Vec<ProvinceLine>,
    pub occupancy_series: Vec<SeriesPoint>,
    /// From 1 January to the date, always.
    pub period: Period,
    /// What enterprises declared (capital realised, revenue, exports, budget paid): the previous
    /// calendar year's, then the year's so far.
    pub results: Vec<Results>,
    /// Projects behind the commitments of their certificates on the report date (the watch list).
    pub behind: Vec<crate::register::Behind>,
    pub targets: Targets,
    pub rules: Rules,
    pub checks: Vec<Check>,
}

impl Report {
    /// The province's name in `lang` (Vietnamese when there is no English one), or the nation's.
    pub fn place(&self, lang: Lang) -> String {
        match (lang, &self.province_name, &self.province_name_en) {
            (Lang::En, _, Some(en)) => en.clone(),
            (_, Some(vi), _) => vi.clone(),
            _ => lang.pick("Toàn quốc", "National").to_string(),
        }
    }
}

/// Quarter ends of the last five years before `at`, then `at` itself.
pub fn series_dates(at: Date) -> Vec<(String, Date)> {
    let mut out = Vec::new();
    for year in at.year() - 5..=at.year() {
        for q in 1..=4u32 {
            let end = match q {
                1 => Date::from_ymd_opt(year, 3, 31),
                2 => Date::from_ymd_opt(year, 6, 30),
                3 => Date::from_ymd_opt(year, 9, 30),
                _ => Date::from_ymd_opt(year, 12, 31),
            }
            .expect("quarter end");
            if end < at {
                out.push((format!("{year}-Q{q}"), end));
            }
        }
    }
    let keep = out.len().saturating_sub(19);
    let mut out: Vec<_> = out.split_off(keep);
    out.push((format!("{}-Q{}", at.year(), at.month0() / 3 + 1), at));
    out
}

/// A province's occupancy on the days targets read it, and its wastewater-plant coverage.
#[derive(Default)]
struct LevelFigures {
    occupancy: std::collections::HashMap<(String, Date), Option<f64>>,
    wwtp: std::collections::HashMap<String, Option<f64>>,
}

impl period::Levels for LevelFigures {
    fn occupancy_pct(&self, province: &str, on: Date) -> Option<f64> {
        self.occupancy.get(&(province.to_string(), on)).copied().flatten()
    }
    fn wwtp_coverage_pct(&self, province: &str) -> Option<f64> {
        self.wwtp.get(province).copied().flatten()
    }
}

/// The regulatory checks (Decree 35/2022/NĐ-CP as boards apply them): a province may plan a new zone
/// when its established zones' occupancy reaches the threshold; a zone may expand when its own does
/// (and, if the rules say so, its central wastewater plant operates).
fn regulatory_checks(rules: &Rules, provinces: &[Summary], zone_lines: &[ZoneLine]) -> Vec<Check> {
    let mut checks = Vec::new();
    for s in provinces {
        let passes = s.occupancy_pct.is_some_and(|o| o >= rules.new_zone_min_occupancy_pct);
        checks.push(Check {
            rule: "new_zone",
            province_code: s.province_code.clone().unwrap_or_default(),
            zone_code: None,
            name: s.province_name.clone().unwrap_or_default(),
            occupancy_pct: s.occupancy_pct,
            threshold_pct: rules.new_zone_min_occupancy_pct,
            wwtp_operating: None,
            passes,
            reason: match s.occupancy_pct {
                None => "no leasable land in established or operating zones".into(),
                Some(o) if passes => format!(
                    "established zones' occupancy {o:.2} % reaches {:.0} %",
                    rules.new_zone_min_occupancy_pct
                ),
                Some(o) => format!(
                    "established zones' occupancy {o:.2} % is below {:.0} %",
                    rules.new_zone_min_occupancy_pct
                ),
            },
        });
    }
    for line in zone_lines.iter().filter(|l| l.figures.in_scope) {
        let enough = line.figures.occupancy_pct.is_some_and(|o| o >= rules.expansion_min_occupancy_pct);
        let plant = line.wwtp_operating || !rules.expansion_requires_wwtp;
        let occupancy_text =
            line.figures.occupancy_pct.map(|o| format!("{o:.2} %")).unwrap_or_else(|| "no figure".into());
        let mut reasons = vec![if enough {
            format!("occupancy {occupancy_text} reaches {:.0} %", rules.expansion_min_occupancy_pct)
        } else {
            format!("occupancy {occupancy_text} is below {:.0} %", rules.expansion_min_occupancy_pct)
        }];
        if rules.expansion_requires_wwtp {
            reasons.push(if line.wwtp_operating {
                "the central wastewater plant operates".into()
            } else {
                "no working central wastewater plant".into()
            });
        }
        checks.push(Check {
            rule: "expansion",
            province_code: line.figures.province_code.clone(),
            zone_code: Some(line.figures.zone_code.clone()),
            name: line.figures.zone_name.clone(),
            occupancy_pct: line.figures.occupancy_pct,
            threshold_pct: rules.expansion_min_occupancy_pct,
            wwtp_operating: Some(line.wwtp_operating),
            passes: enough && plant,
            reason: reasons.join("; "),
        });
    }
    checks
}

/// Computes the report, taking zones' figures from (and keeping them in) `figures`; with `None`, every
/// zone is measured afresh on every date the report reads.
pub async fn compute_with(
    store: &Arc<dyn Store>,
    figures: Option<&occupancy::FiguresCache>,
    query: &ReportQuery,
) -> Result<Report, ReportError> {
    // A province means its territory on any date; the nation groups records under the units of `at`.
    let lens = geography::Lens::new(query.province_code.as_deref(), query.at);
    let province: Option<Province> = match &query.province_code {
        Some(code) => Some(geography::known(code, query.at).map_err(ReportError::UnknownProvince)?.clone()),
        None => None,
    };
    let occupancy_at = |at: Date| OccupancyQuery {
        province_code: query.province_code.clone(),
        zone_code: None,
        at,
        scope: DEFAULT_SCOPE.to_vec(),
        recorded_at_us: None,
    };
    let land = occupancy::compute_with(store, figures, &occupancy_at(query.at)).await?;

    // Zones (for WWTP and names) and what lies inside them.
    let province_filter: Vec<Condition> =
        lens.codes().into_iter().map(|codes| Condition::text_in("province_code", codes)).collect();
    let all = |conditions: Vec<Condition>| ItemsQuery { conditions, ..Default::default() };
    let zone_rows = store.items(&collections::ZONES, &all(province_filter.clone())).await?.rows;
    let zones: BTreeMap<String, Zone> = zone_rows
        .iter()
        .map(|r| r.parse::<Zone>("zones").map(|z| (z.code.clone(), z)))
        .collect::<Result<_, _>>()?;
    let parcel_rows = store.items(&collections::CLEARANCE_PARCELS, &all(province_filter.clone())).await?.rows;
    let mut clearance_by_zone: BTreeMap<String, Clearance> = BTreeMap::new();
    for row in &parcel_rows {
        let parcel: ClearanceParcel = row.parse("clearance_parcels")?;
        let area = row.area_ha.unwrap_or(0.0);
        let entry = clearance_by_zone.entry(parcel.zone_code.clone()).or_default();
        let handed_over = if parcel.status_at(query.at) == ClearanceStatus::HandedOver { area } else { 0.0 };
        entry.add(&Clearance { parcel_ha: area, handed_over_ha: handed_over, progress_pct: None });
    }
    let project_rows = store.items(&collections::PROJECTS, &all(province_filter.clone())).await?.rows;
    let mut projects: Vec<Project> =
        project_rows.iter().map(|r| r.parse("projects")).collect::<Result<_, _>>()?;
    for p in &mut projects {
        p.province_code = p.province_code.as_deref().map(|c| lens.label(c));
    }
    let event_rows = store.items(&collections::PROJECT_EVENTS, &all(province_filter.clone())).await?.rows;
    let events: Vec<crate::domain::ProjectEvent> =
        event_rows.iter().map(|r| r.parse(collections::PROJECT_EVENTS.id)).collect::<Result<_, _>>()?;
    let project_ids: Vec<(String, Project)> =
        project_rows.iter().map(|r| r.id.clone()).zip(projects.iter().cloned()).collect();
    let plot_rows = store
        .items(
            &collections::PLOTS,
            &all(province_filter
                .iter()
                .cloned()
                .chain([Condition::OnOrBefore {
                    field: "infra_ready_on".into(),
                    date: query.at,
                    or_null: false,
                }])
                .collect()),
        )
        .await?
        .rows;
    let mut plots: Vec<(Plot, f64)> = Vec::with_capacity(plot_rows.len());
    for row in &plot_rows {
        plots.push((row.parse("plots")?, row.area_ha.unwrap_or(0.0)));
    }
    // Targets are few: all of the provinces', kept when their period runs into the report's year.
    let target_rows = store.items(&collections::TARGETS, &all(province_filter.clone())).await?.rows;
    let mut targets: Vec<Target> =
        target_rows.iter().map(|r| r.parse("targets")).collect::<Result<_, _>>()?;
    for t in &mut targets {
        t.province_code = lens.label(&t.province_code);
    }
    let result_rows = store.items(&collections::PROJECT_RESULTS, &all(province_filter.clone())).await?.rows;
    let results: Vec<crate::domain::ProjectResult> =
        result_rows.iter().map(|r| r.parse(collections::PROJECT_RESULTS.id)).collect::<Result<_, _>>()?;

    // Zones by stage and their lines.
    let mut stages = ZoneStages::default();
    let mut zone_lines = Vec::with_capacity(land.zones.len());
    let mut wwtp_by_province: BTreeMap<String, Wwtp> = BTreeMap::new();
    for figures in &land.zones {
        let zone = zones.get(&figures.zone_code);
        let wwtp_operating = zone.and_then(|z| z.wwtp_operating).unwrap_or(false);
        let count = |c: &mut ZoneCount| {
            c.count += 1;
            c.area_ha += figures.planned_area_ha;
        };
        count(stages.by_status.entry(figures.status).or_default());
        if figures.status != ZoneStatus::Cancelled {
            count(&mut stages.in_plan);
        }
        if matches!(figures.status, ZoneStatus::Established | ZoneStatus::Operating) {
            count(&mut stages.established);
        }
        if figures.status == ZoneStatus::Operating {
            count(&mut stages.operating);
            let w = wwtp_by_province.entry(figures.province_code.clone()).or_default();
            w.operating_zones += 1;
            w.with_working_plant += u64::from(wwtp_operating);
        }
        zone_lines.push(ZoneLine {
            figures: figures.clone(),
            clearance: clearance_by_zone.get(&figures.zone_code).cloned().unwrap_or_default(),
            wwtp_operating,
            wwtp_capacity_m3d: zone.and_then(|z| z.wwtp_capacity_m3d),
        });
    }
    for w in wwtp_by_province.values_mut() {
        w.coverage_pct = pct(w.with_working_plant as f64, w.operating_zones as f64);
    }

    // Projects per province, as their decisions leave them on the date (capital adjusted; terminated and
    // revoked ones no longer valid, suspended ones not operating).
    let mut projects_by_province: BTreeMap<String, Projects> = BTreeMap::new();
    let decisions = crate::register::by_project(&events);
    for (id, p) in &project_ids {
        let province = p.province_code.clone().unwrap_or_default();
        let entry = projects_by_province.entry(province).or_default();
        let mine = decisions.get(id.as_str()).map(Vec::as_slice).unwrap_or_default();
        let Some(state) = crate::register::state_at(p, mine, query.at) else { continue };
        if !state.standing.is_valid() {
            continue;
        }
        let fdi = p.origin == Origin::Fdi;
        entry.valid += 1;
        entry.valid_fdi += u64::from(fdi);
        entry.valid_ddi += u64::from(!fdi);
        entry.capital_usd += state.capital_usd.unwrap_or(0.0);
        entry.capital_vnd += state.capital_vnd.unwrap_or(0.0);
        if state.standing == crate::register::Standing::Operating {
            entry.operating += 1;
            entry.operating_fdi += u64::from(fdi);
            entry.operating_ddi += u64::from(!fdi);
            entry.employees += p.employees.unwrap_or(0);
        }
    }
    for p in projects_by_province.values_mut() {
        p.operating_pct = pct(p.operating as f64, p.valid as f64);
    }

    // Clearance per province.
    let mut clearance_by_province: BTreeMap<String, Clearance> = BTreeMap::new();
    for line in &zone_lines {
        clearance_by_province.entry(line.figures.province_code.clone()).or_default().add(&line.clearance);
    }

    // Totals over what was asked.
    let mut clearance = Clearance::default();
    clearance_by_province.values().for_each(|c| clearance.add(c));
    let mut project_total = Projects::default();
    for p in projects_by_province.values() {
        project_total.valid += p.valid;
        project_total.valid_fdi += p.valid_fdi;
        project_total.valid_ddi += p.valid_ddi;
        project_total.capital_usd += p.capital_usd;
        project_total.capital_vnd += p.capital_vnd;
        project_total.operating += p.operating;
        project_total.operating_fdi += p.operating_fdi;
        project_total.operating_ddi += p.operating_ddi;
        project_total.employees += p.employees;
    }
    project_total.operating_pct = pct(project_total.operating as f64, project_total.valid as f64);
    let mut wwtp = Wwtp::default();
    for w in wwtp_by_province.values() {
        wwtp.operating_zones += w.operating_zones;
        wwtp.with_working_plant += w.with_working_plant;
    }
    wwtp.coverage_pct = pct(wwtp.with_working_plant as f64, wwtp.operating_zones as f64);

    // Occupancy by quarter.
    let mut occupancy_series = Vec::new();
    let dates = if query.with_series { series_dates(query.at) } else { Vec::new() };
    for (quarter, at) in dates {
        let point = if at == query.at {
            land.total.clone()
        } else {
            occupancy::compute_with(store, figures, &occupancy_at(at)).await?.total.clone()
        };
        occupancy_series.push(SeriesPoint {
            quarter,
            at,
            leasable_ha: point.leasable_ha,
            leased_ha: point.leased_ha,
            occupancy_pct: point.occupancy_pct,
        });
    }

    let inputs = period::Inputs {
        at: query.at,
        projects: &project_ids,
        events: &events,
        plots: &plots,
        results: &results,
    };
    // Occupancy on the days percentage targets are read on (the report date's is already known).
    let mut levels = LevelFigures::default();
    for s in &land.provinces {
        levels.occupancy.insert((s.province_code.clone().unwrap_or_default(), query.at), s.occupancy_pct);
    }
    for (code, w) in &wwtp_by_province {
        levels.wwtp.insert(code.clone(), w.coverage_pct);
    }
    let days: std::collections::BTreeSet<Date> = targets
        .iter()
        .filter(|t| t.metric == TargetMetric::OccupancyPct)
        .map(|t| t.period().1)
        .filter(|day| *day < query.at)
        .collect();
    for day in days {
        for s in &occupancy::compute_with(store, figures, &occupancy_at(day)).await?.provinces {
            levels.occupancy.insert((s.province_code.clone().unwrap_or_default(), day), s.occupancy_pct);
        }
    }
    let period = inputs.period();
    let results = inputs.results();
    let targets = inputs.targets(&targets, &levels);
    // The watch list reads the leases of the projects that can be behind, not every lease.
    let due = crate::register::with_milestones_due(&events, query.at);
    let project_leases = crate::register::leases_of(store, &due).await?;
    let behind = crate::register::behind(&project_ids, &events, &project_leases, query.at);
    let checks = regulatory_checks(&query.rules, &land.provinces, &zone_lines);

    let provinces_lines = if province.is_none() {
        land.provinces
            .iter()
            .map(|s| {
                let code = s.province_code.clone().unwrap_or_default();
                ProvinceLine {
                    summary: s.clone(),
                    clearance: clearance_by_province.get(&code).cloned().unwrap_or_default(),
                    projects: projects_by_province.get(&code).cloned().unwrap_or_default(),
                    wwtp: wwtp_by_province.get(&code).cloned().unwrap_or_default(),
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    Ok(Report {
        level: if province.is_some() { "province" } else { "national" },
        province_code: province.as_ref().map(|p| p.province_code.clone()),
        province_name: province.as_ref().map(|p| p.name.clone()),
        province_name_en: province.as_ref().and_then(|p| p.name_en.clone()),
        at: query.at,
        notice: land.notice.clone(),
        successor_code: land.successor_code.clone(),
        provinces_on_date: geography::units_at(query.at).len() as u64,
        demo_notice: crate::demo::notice(store).await?.map(str::to_string),
        scope: land.scope.clone(),
        zones: stages,
        land: land.total.clone(),
        clearance,
        projects: project_total,
        wwtp,
        zone_lines,
        provinces: provinces_lines,
        occupancy_series,
        period,
        behind,
        results,
        targets,
        rules: query.rules,
        checks,
    })
}

/// One line of the report as CSV (long format: every figure on its own line, with its unit).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CsvLine {
    pub section: &'static str,
    pub province_code: String,
    pub zone_code: String,
    pub metric: String,
    pub value: String,
    pub unit: &'static str,
}

fn num(v: f64) -> String {
    format!("{:.2}", (v * 100.0).round() / 100.0 + 0.0)
}

/// The report as CSV lines: the same numbers as the JSON, rounded the same way.
pub fn csv_lines(report: &Report) -> Vec<CsvLine> {
    let province = report.province_code.clone().unwrap_or_default();
    let mut out = Vec::new();
    let mut push = |section: &'static str, province: &str, zone: &str, metric: &str, value: String, unit| {
        out.push(CsvLine {
            section,
            province_code: province.to_string(),
            zone_code: zone.to_string(),
            metric: metric.to_string(),
            value,
            unit,
        })
    };
    for (stage, c) in [
        ("in_plan", &report.zones.in_plan),
        ("established", &report.zones.established),
        ("operating", &report.zones.operating),
    ] {
        push("zones", &province, "", &format!("{stage}_count"), c.count.to_string(), "zones");
        push("zones", &province, "", &format!("{stage}_area_ha"), num(c.area_ha), "ha");
    }
    let l = &report.land;
    for (metric, v) in [
        ("leasable_ha", l.leasable_ha),
        ("leased_ha", l.leased_ha),
        ("reserved_ha", l.reserved_ha),
        ("available_ha", l.available_ha),
    ] {
        push("land", &province, "", metric, num(v), "ha");
    }
    push("land", &province, "", "occupancy_pct", l.occupancy_pct.map(num).unwrap_or_default(), "%");
    push("clearance", &province, "", "parcel_ha", num(report.clearance.parcel_ha), "ha");
    push("clearance", &province, "", "handed_over_ha", num(report.clearance.handed_over_ha), "ha");
    push(
        "clearance",
        &province,
        "",
        "progress_pct",
        report.clearance.progress_pct.map(num).unwrap_or_default(),
        "%",
    );
    let p = &report.projects;
    for (metric, v, unit) in [
        ("valid", p.valid.to_string(), "projects"),
        ("valid_fdi", p.valid_fdi.to_string(), "projects"),
        ("valid_ddi", p.valid_ddi.to_string(), "projects"),
        ("capital_usd", num(p.capital_usd), "USD"),
        ("capital_vnd", num(p.capital_vnd), "VND"),
        ("operating", p.operating.to_string(), "projects"),
        ("operating_pct", p.operating_pct.map(num).unwrap_or_default(), "%"),
        ("employees", p.employees.to_string(), "people"),
    ] {
        push("projects", &province, "", metric, v, unit);
    }
    push("wwtp", &province, "", "operating_zones", report.wwtp.operating_zones.to_string(), "zones");
    push("wwtp", &province, "", "with_working_plant", report.wwtp.with_working_plant.to_string(), "zones");
    push("wwtp", &province, "", "coverage_pct", report.wwtp.coverage_pct.map(num).unwrap_or_default(), "%");
    for line in &report.zone_lines {
        let z = &line.figures;
        push("zone", &z.province_code, &z.zone_code, "status", z.status.to_string(), "");
        for (metric, v) in [
            ("planned_area_ha", z.planned_area_ha),
            ("leasable_ha", z.leasable_ha),
            ("leased_ha", z.leased_ha),
            ("available_ha", z.available_ha),
        ] {
            push("zone", &z.province_code, &z.zone_code, metric, num(v), "ha");
        }
        push(
            "zone",
            &z.province_code,
            &z.zone_code,
            "occupancy_pct",
            z.occupancy_pct.map(num).unwrap_or_default(),
            "%",
        );
        push(
            "zone",
            &z.province_code,
            &z.zone_code,
            "clearance_progress_pct",
            line.clearance.progress_pct.map(num).unwrap_or_default(),
            "%",
        );
    }
    for s in &report.occupancy_series {
        push(
            "occupancy_series",
            &province,
            "",
            &s.quarter,
            s.occupancy_pct.map(num).unwrap_or_default(),
            "%",
        );
    }
    let d = &report.period;
    for (metric, v, unit) in [
        ("new_projects", d.new_projects.to_string(), "projects"),
        ("new_fdi", d.new_fdi.to_string(), "projects"),
        ("new_ddi", d.new_ddi.to_string(), "projects"),
        ("new_capital_usd", num(d.new_capital_usd), "USD"),
        ("new_capital_vnd", num(d.new_capital_vnd), "VND"),
        ("into_operation", d.into_operation.to_string(), "projects"),
        ("into_operation_fdi", d.into_operation_fdi.to_string(), "projects"),
        ("into_operation_ddi", d.into_operation_ddi.to_string(), "projects"),
        ("new_jobs", d.new_jobs.to_string(), "people"),
        ("infrastructure_ha", num(d.infrastructure_ha), "ha"),
    ] {
        push("period", &province, "", metric, v, unit);
    }
    for (origin, e) in [("fdi", &d.fdi_decisions), ("ddi", &d.ddi_decisions)] {
        let count = |n: u64| n.to_string();
        for (metric, v, unit) in [
            ("adjustments", count(e.adjustments), "decisions"),
            ("capital_changes", count(e.capital_changes), "decisions"),
            ("increases", count(e.increases), "decisions"),
            ("increase_usd", num(e.increase_usd), "USD"),
            ("increase_vnd", num(e.increase_vnd), "VND"),
            ("decreases", count(e.decreases), "decisions"),
            ("decrease_usd", num(e.decrease_usd), "USD"),
            ("decrease_vnd", num(e.decrease_vnd), "VND"),
            ("suspensions", count(e.suspensions), "decisions"),
            ("terminations", count(e.terminations), "decisions"),
            ("revocations", count(e.revocations), "decisions"),
        ] {
            push("period", &province, "", &format!("{origin}_{metric}"), v, unit);
        }
    }
    for b in &report.behind {
        let (province, zone) =
            (b.province_code.as_deref().unwrap_or(""), b.zone_code.as_deref().unwrap_or(""));
        let metric = format!("{}_{}", b.project_id, b.milestone);
        push("behind", province, zone, &format!("{metric}_days_late"), b.days_late.to_string(), "days");
        push("behind", province, zone, &format!("{metric}_leased_ha"), num(b.leased_ha), "ha");
    }
    for r in &report.results {
        for (origin, a) in [("all", &r.all), ("fdi", &r.fdi), ("ddi", &r.ddi)] {
            for (metric, v, unit) in [
                ("projects_reporting", a.projects_reporting.to_string(), "projects"),
                ("realised_capital_usd", num(a.realised_capital_usd), "USD"),
                ("realised_capital_vnd", num(a.realised_capital_vnd), "VND"),
                ("revenue_usd", num(a.revenue_usd), "USD"),
                ("revenue_vnd", num(a.revenue_vnd), "VND"),
                ("exports_usd", num(a.exports_usd), "USD"),
                ("budget_vnd", num(a.budget_vnd), "VND"),
            ] {
                let metric = format!("{}_{origin}_{metric}", r.from.format("%Y%m%d"));
                push("results", &province, "", &metric, v, unit);
            }
        }
    }
    for t in &report.targets.lines {
        let key = t.key(report.targets.year);
        let province = if t.provinces.len() == 1 { t.provinces[0].clone() } else { province.clone() };
        push("targets", &province, "", &format!("{key}_target"), num(t.target), t.unit);
        if let Some(max) = t.target_max {
            push("targets", &province, "", &format!("{key}_target_max"), num(max), t.unit);
        }
        push("targets", &province, "", &format!("{key}_actual"), num(t.actual), t.unit);
        push("targets", &province, "", &format!("{key}_pct"), t.pct.map(num).unwrap_or_default(), "%");
    }
    for c in &report.checks {
        push(
            if c.rule == "new_zone" { "check_new_zone" } else { "check_expansion" },
            &c.province_code,
            c.zone_code.as_deref().unwrap_or(""),
            "passes",
            c.passes.to_string(),
            "",
        );
    }
    out
}

/// The report as CSV text.
pub fn to_csv(report: &Report) -> Result<String, ReportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for line in csv_lines(report) {
        writer.serialize(line).map_err(|e| ReportError::Render(e.to_string()))?;
    }
    let bytes = writer.into_inner().map_err(|e| ReportError::Render(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ReportError::Render(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_ends_quarters_before_the_date_then_the_date() {
        let at = Date::from_ymd_opt(2022, 3, 31).unwrap();
        let dates = series_dates(at);
        assert_eq!(dates.len(), 20);
        assert_eq!(dates.last().unwrap(), &("2022-Q1".to_string(), at));
        assert_eq!(
            dates[dates.len() - 2],
            ("2021-Q4".to_string(), Date::from_ymd_opt(2021, 12, 31).unwrap())
        );
        let mid = Date::from_ymd_opt(2023, 11, 17).unwrap();
        let dates = series_dates(mid);
        assert_eq!(dates.last().unwrap(), &("2023-Q4".to_string(), mid));
        assert_eq!(dates[dates.len() - 2].0, "2023-Q3");
    }
}
