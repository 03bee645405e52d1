//! What happened over a period, as boards count it, and progress against plan targets.
//!
//! - **The period** is 1 January to the report date: projects certified, capital increases and
//!   decreases, terminations and revocations, projects into operation, FDI and DDI apart, USD and VND
//!   apart (never converted).
//! - **Results** are what enterprises declare per year or quarter (capital realised, revenue, exports,
//!   budget paid): the previous calendar year's and the year's so far. A project's figures for a whole
//!   year count instead of its quarters of that year, never both.
//! - **Targets** run over a year, a quarter or several years, with one value or a range, on all projects
//!   or FDI or DDI alone. A flow's actual is summed from the period's first day to its last, or to the
//!   report date when that comes first; a level's actual is read on that day. Capital attracted adds new
//!   certificates' capital and capital increases; the other currency is converted at the target's
//!   `vnd_per_usd` (as boards do: "USD 145 million" of USD 112 million and VND 755 billion).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Datelike;
use serde::Serialize;

use crate::domain::TargetMetric;
use crate::domain::{Date, Origin, Plot, Project, ProjectEvent, ProjectEventKind, ProjectResult, Target};
use crate::occupancy::{pct, round2, round2_opt};
use crate::register::{self, Decisions, Standing};

/// What happened from 1 January to the report date ("từ đầu năm đến ngày …"), as boards count it: in
/// every report, whether or not the year has targets. Capital is as certified (FDI in USD, DDI in VND).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Period {
    /// 1 January of the report's year.
    pub from: Date,
    /// The report date.
    pub to: Date,
    /// Projects certified in the period.
    pub new_projects: u64,
    pub new_fdi: u64,
    pub new_ddi: u64,
    /// Registered capital of the projects certified in the period declared in USD.
    #[serde(serialize_with = "round2")]
    pub new_capital_usd: f64,
    /// Registered capital of the projects certified in the period declared in VND.
    #[serde(serialize_with = "round2")]
    pub new_capital_vnd: f64,
    /// Projects that went into operation in the period.
    pub into_operation: u64,
    pub into_operation_fdi: u64,
    pub into_operation_ddi: u64,
    /// Employees of the projects that went into operation in the period.
    pub new_jobs: i64,
    /// Hectares of plots whose infrastructure was completed in the period.
    #[serde(serialize_with = "round2")]
    pub infrastructure_ha: f64,
    /// Decisions on FDI projects in the period: adjustments, capital increases and decreases (USD, VND),
    /// suspensions, terminations, revocations.
    pub fdi_decisions: Decisions,
    /// The same for DDI projects.
    pub ddi_decisions: Decisions,
}

/// Amounts the enterprises declared for a period (source: declared), in the currency they reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ResultAmounts {
    /// Projects with figures for the period.
    pub projects_reporting: u64,
    #[serde(serialize_with = "round2")]
    pub realised_capital_usd: f64,
    #[serde(serialize_with = "round2")]
    pub realised_capital_vnd: f64,
    #[serde(serialize_with = "round2")]
    pub revenue_usd: f64,
    #[serde(serialize_with = "round2")]
    pub revenue_vnd: f64,
    #[serde(serialize_with = "round2")]
    pub exports_usd: f64,
    #[serde(serialize_with = "round2")]
    pub budget_vnd: f64,
}

impl ResultAmounts {
    fn add(&mut self, r: &ProjectResult) {
        self.realised_capital_usd += r.realised_capital_usd.unwrap_or(0.0);
        self.realised_capital_vnd += r.realised_capital_vnd.unwrap_or(0.0);
        self.revenue_usd += r.revenue_usd.unwrap_or(0.0);
        self.revenue_vnd += r.revenue_vnd.unwrap_or(0.0);
        self.exports_usd += r.exports_usd.unwrap_or(0.0);
        self.budget_vnd += r.budget_vnd.unwrap_or(0.0);
    }
}

/// The enterprises' results over a period: all projects, FDI and DDI.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Results {
    /// `2019` for a whole year, `2020 → 30/11` for the year so far.
    pub label: String,
    pub from: Date,
    pub to: Date,
    pub all: ResultAmounts,
    pub fdi: ResultAmounts,
    pub ddi: ResultAmounts,
}

/// A plan target against what the data show over its period so far.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TargetLine {
    pub metric: TargetMetric,
    /// `ha`, `USD`, `VND`, `projects`, `jobs`, `workers` or `%`.
    pub unit: &'static str,
    /// FDI or DDI projects alone; both when absent.
    pub origin: Option<Origin>,
    /// `2022`, `2022-Q1` or `2021-2025`.
    pub period: String,
    /// The period's first and last days.
    pub from: Date,
    pub to: Date,
    /// The day the actual is read on (a level) or summed to (a flow): the period's last day or the
    /// report date, whichever comes first.
    pub measured_on: Date,
    /// Whether the metric is a level read on a day rather than a flow summed over the period.
    pub level: bool,
    /// The target, or a range's low end.
    #[serde(serialize_with = "round2")]
    pub target: f64,
    /// A range's high end.
    #[serde(serialize_with = "round2_opt")]
    pub target_max: Option<f64>,
    #[serde(serialize_with = "round2")]
    pub actual: f64,
    /// Actual over target (a range's low end), %.
    #[serde(serialize_with = "round2_opt")]
    pub pct: Option<f64>,
    /// `reached` (at or over a single value), `within` or `above` a range, or `below` it — so far, when
    /// the period has not ended.
    pub status: &'static str,
    /// The rate capital of the other currency was converted at, VND per USD.
    pub vnd_per_usd: Option<f64>,
    /// Provinces whose targets are summed (one for a province's report, and for percentages).
    pub provinces: Vec<String>,
    pub plan_ref: Option<String>,
}

impl TargetLine {
    /// The line's name in CSV: `capital_usd`, `projects_attracted_fdi_2023-Q4`: the metric, then the
    /// origin, then the period when it is not the report's year.
    pub fn key(&self, year: i32) -> String {
        let mut key = self.metric.as_str().to_string();
        if let Some(origin) = self.origin {
            key.push('_');
            key.push_str(origin.as_str());
        }
        if self.period != year.to_string() {
            key.push('_');
            key.push_str(&self.period);
        }
        key
    }
}

/// Progress against the targets whose period has begun by the report date and runs into its year.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Targets {
    pub year: i32,
    /// 1 January of the year.
    pub from: Date,
    /// The report date.
    pub to: Date,
    /// Empty when no target is stored for the year.
    pub lines: Vec<TargetLine>,
}

/// What the period's figures, results and targets are computed from (provinces already labelled as on
/// the report date).
pub struct Inputs<'a> {
    pub at: Date,
    /// Projects with their ids.
    pub projects: &'a [(String, Project)],
    pub events: &'a [ProjectEvent],
    /// Plots whose infrastructure was completed by the report date, with their hectares.
    pub plots: &'a [(Plot, f64)],
    pub results: &'a [ProjectResult],
}

/// Figures read elsewhere: a province's occupancy on a day and its wastewater-plant coverage.
pub trait Levels {
    /// Occupancy of the province's established and operating zones on `on`, %.
    fn occupancy_pct(&self, province: &str, on: Date) -> Option<f64>;
    /// Operating zones with a working central wastewater plant, % (as stored: not dated).
    fn wwtp_coverage_pct(&self, province: &str) -> Option<f64>;
}

impl<'a> Inputs<'a> {
    fn origin_of(&self) -> HashMap<&str, Origin> {
        self.projects.iter().map(|(id, p)| (id.as_str(), p.origin)).collect()
    }

    /// 1 January to the report date.
    pub fn period(&self) -> Period {
        let from = january_first(self.at);
        let within = |d: Option<Date>| d.is_some_and(|d| from <= d && d <= self.at);
        let projects = || self.projects.iter().map(|(_, p)| p);
        let certified: Vec<&Project> = projects().filter(|p| within(p.certificate_on)).collect();
        let operating: Vec<&Project> = projects().filter(|p| within(p.operating_since)).collect();
        let fdi = |p: &&&Project| p.origin == Origin::Fdi;
        let by_id: HashMap<String, &Project> = self.projects.iter().map(|(id, p)| (id.clone(), p)).collect();
        Period {
            from,
            to: self.at,
            new_projects: certified.len() as u64,
            new_fdi: certified.iter().filter(fdi).count() as u64,
            new_ddi: certified.iter().filter(|p| !fdi(p)).count() as u64,
            new_capital_usd: certified.iter().filter_map(|p| p.capital_usd).sum(),
            new_capital_vnd: certified.iter().filter_map(|p| p.capital_vnd).sum(),
            into_operation: operating.len() as u64,
            into_operation_fdi: operating.iter().filter(fdi).count() as u64,
            into_operation_ddi: operating.iter().filter(|p| !fdi(p)).count() as u64,
            new_jobs: operating.iter().filter_map(|p| p.employees).sum(),
            infrastructure_ha: self
                .plots
                .iter()
                .filter(|(p, _)| within(p.infra_ready_on))
                .map(|(_, ha)| ha)
                .sum(),
            fdi_decisions: register::count(self.events, &by_id, Origin::Fdi, from, self.at),
            ddi_decisions: register::count(self.events, &by_id, Origin::Ddi, from, self.at),
        }
    }

    /// The previous calendar year's results and the year's so far.
    pub fn results(&self) -> Vec<Results> {
        let from = january_first(self.at);
        let last_year = (from.with_year(from.year() - 1).unwrap_or(from), from.pred_opt().unwrap_or(from));
        let origins = self.origin_of();
        let sum = |(from, to): (Date, Date), label: String| {
            let mut out = Results {
                label,
                from,
                to,
                all: ResultAmounts::default(),
                fdi: ResultAmounts::default(),
                ddi: ResultAmounts::default(),
            };
            let mut reporting: [HashSet<&str>; 3] = Default::default();
            for r in counted(self.results, from, to) {
                let origin = origins.get(r.project_id.as_str()).copied();
                out.all.add(r);
                reporting[0].insert(&r.project_id);
                match origin {
                    Some(Origin::Fdi) => {
                        out.fdi.add(r);
                        reporting[1].insert(&r.project_id);
                    }
                    Some(Origin::Ddi) => {
                        out.ddi.add(r);
                        reporting[2].insert(&r.project_id);
                    }
                    None => {}
                }
            }
            out.all.projects_reporting = reporting[0].len() as u64;
            out.fdi.projects_reporting = reporting[1].len() as u64;
            out.ddi.projects_reporting = reporting[2].len() as u64;
            out
        };
        vec![
            sum(last_year, last_year.0.year().to_string()),
            sum((from, self.at), format!("{} → {}", from.year(), self.at.format("%d/%m"))),
        ]
    }

    /// Each target whose period has begun by the report date and runs into its year, against the data;
    /// the same metric, origin and period are summed over provinces (percentages are not: one line per
    /// province).
    pub fn targets(&self, targets: &[Target], levels: &dyn Levels) -> Targets {
        let from = january_first(self.at);
        let mut lines: BTreeMap<(String, String, String, String), TargetLine> = BTreeMap::new();
        for t in targets {
            let (first, last) = t.period();
            if first > self.at || last < from {
                continue;
            }
            let measured_on = last.min(self.at);
            let actual = self.actual(t, first, measured_on, levels);
            let percentage = t.metric.unit() == "%";
            let key = (
                t.period_label(),
                t.metric.as_str().to_string(),
                t.origin.map(|o| o.as_str()).unwrap_or_default().to_string(),
                if percentage { t.province_code.clone() } else { String::new() },
            );
            let line = lines.entry(key).or_insert_with(|| TargetLine {
                metric: t.metric,
                unit: t.metric.unit(),
                origin: t.origin,
                period: t.period_label(),
                from: first,
                to: last,
                measured_on,
                level: t.metric.is_level(),
                target: 0.0,
                target_max: t.value_max.map(|_| 0.0),
                actual: 0.0,
                pct: None,
                status: "below",
                vnd_per_usd: t.vnd_per_usd,
                provinces: Vec::new(),
                plan_ref: t.plan_ref.clone(),
            });
            line.target += t.value;
            line.target_max = match (line.target_max, t.value_max) {
                (Some(sum), Some(max)) => Some(sum + max),
                (Some(sum), None) => Some(sum + t.value),
                (None, _) => None,
            };
            line.actual += actual;
            line.provinces.push(t.province_code.clone());
            if line.plan_ref != t.plan_ref {
                line.plan_ref = None;
            }
            if line.vnd_per_usd != t.vnd_per_usd {
                line.vnd_per_usd = None;
            }
        }
        let lines = lines
            .into_values()
            .map(|mut l| {
                l.pct = pct(l.actual, l.target);
                // Rounded as served, so that "32.00 of 32" reads as reached.
                let (actual, low) = ((l.actual * 100.0).round(), (l.target * 100.0).round());
                l.status = match l.target_max.map(|m| (m * 100.0).round()) {
                    _ if actual < low => "below",
                    Some(high) if actual > high => "above",
                    Some(_) => "within",
                    None => "reached",
                };
                l
            })
            .collect();
        Targets { year: self.at.year(), from, to: self.at, lines }
    }

    /// What the data show for one province's target, from `first` to `on`.
    fn actual(&self, t: &Target, first: Date, on: Date, levels: &dyn Levels) -> f64 {
        use TargetMetric::*;
        let province = t.province_code.as_str();
        let within = |d: Option<Date>| d.is_some_and(|d| first <= d && d <= on);
        let ours = |p: &Project| {
            p.province_code.as_deref() == Some(province) && t.origin.is_none_or(|o| o == p.origin)
        };
        let projects = || self.projects.iter().filter(|(_, p)| ours(p));
        let certified = || projects().filter(|(_, p)| within(p.certificate_on));
        let mine: HashSet<&str> = projects().map(|(id, _)| id.as_str()).collect();
        // Capital increases in the period, per project: (USD, VND).
        let increases = || {
            self.events
                .iter()
                .filter(|e| e.kind == ProjectEventKind::Adjusted && within(Some(e.decided_on)))
                .filter(|e| mine.contains(e.project_id.as_str()))
                .map(|e| {
                    let up = |c: Option<f64>| c.unwrap_or(0.0).max(0.0);
                    (e.project_id.as_str(), up(e.capital_usd_change), up(e.capital_vnd_change))
                })
                .filter(|(_, usd, vnd)| *usd > 0.0 || *vnd > 0.0)
        };
        let new_usd: f64 = certified().filter_map(|(_, p)| p.capital_usd).sum();
        let new_vnd: f64 = certified().filter_map(|(_, p)| p.capital_vnd).sum();
        let (more_usd, more_vnd) = increases().fold((0.0, 0.0), |(u, v), (_, du, dv)| (u + du, v + dv));
        let results = || counted(self.results, first, on).filter(|r| mine.contains(r.project_id.as_str()));
        let result = |get: fn(&ProjectResult) -> Option<f64>| results().filter_map(get).sum::<f64>();
        let states = || {
            let by_project = register::by_project(self.events);
            projects()
                .filter_map(|(id, p)| {
                    let events = by_project.get(id.as_str()).map(Vec::as_slice).unwrap_or_default();
                    register::state_at(p, events, on).map(|s| (p, s))
                })
                .filter(|(_, s)| s.standing.is_valid())
                .collect::<Vec<_>>()
        };
        let rate = t.vnd_per_usd;
        match t.metric {
            InfrastructureHa => self
                .plots
                .iter()
                .filter(|(p, _)| p.province_code.as_deref() == Some(province) && within(p.infra_ready_on))
                .map(|(_, ha)| ha)
                .sum(),
            CapitalUsd => new_usd,
            CapitalVnd => new_vnd,
            ProjectsNew => certified().count() as f64,
            ProjectsOperating => projects().filter(|(_, p)| within(p.operating_since)).count() as f64,
            NewJobs => projects()
                .filter(|(_, p)| within(p.operating_since))
                .filter_map(|(_, p)| p.employees)
                .sum::<i64>() as f64,
            CapitalIncreaseUsd => more_usd,
            CapitalIncreaseVnd => more_vnd,
            CapitalAttractedUsd => new_usd + more_usd + rate.map_or(0.0, |r| (new_vnd + more_vnd) / r),
            CapitalAttractedVnd => new_vnd + more_vnd + rate.map_or(0.0, |r| (new_usd + more_usd) * r),
            ProjectsAttracted => {
                let mut attracted: HashSet<&str> = certified().map(|(id, _)| id.as_str()).collect();
                attracted.extend(increases().map(|(id, _, _)| id));
                attracted.len() as f64
            }
            RealisedCapitalUsd => result(|r| r.realised_capital_usd),
            RealisedCapitalVnd => result(|r| r.realised_capital_vnd),
            RevenueUsd => result(|r| r.revenue_usd),
            RevenueVnd => result(|r| r.revenue_vnd),
            ExportsUsd => result(|r| r.exports_usd),
            BudgetVnd => result(|r| r.budget_vnd),
            ProjectsValid => states().len() as f64,
            CapitalRegisteredUsd => states().iter().filter_map(|(_, s)| s.capital_usd).sum(),
            CapitalRegisteredVnd => states().iter().filter_map(|(_, s)| s.capital_vnd).sum(),
            Workers => states()
                .iter()
                .filter(|(_, s)| s.standing == Standing::Operating)
                .filter_map(|(p, _)| p.employees)
                .sum::<i64>() as f64,
            OperatingPct => {
                let states = states();
                let operating = states.iter().filter(|(_, s)| s.standing == Standing::Operating).count();
                pct(operating as f64, states.len() as f64).unwrap_or(0.0)
            }
            OccupancyPct => levels.occupancy_pct(province, on).unwrap_or(0.0),
            WwtpCoveragePct => levels.wwtp_coverage_pct(province).unwrap_or(0.0),
        }
    }
}

/// The results that count for `from..=to`: those whose period lies inside it, a project's whole year
/// instead of its quarters of that year.
fn counted(results: &[ProjectResult], from: Date, to: Date) -> impl Iterator<Item = &ProjectResult> {
    let inside = move |r: &&ProjectResult| {
        let (first, last) = r.period();
        from <= first && last <= to
    };
    let whole_years: HashSet<(&str, i64)> = results
        .iter()
        .filter(inside)
        .filter(|r| r.quarter.is_none())
        .map(|r| (r.project_id.as_str(), r.year))
        .collect();
    results
        .iter()
        .filter(inside)
        .filter(move |r| r.quarter.is_none() || !whole_years.contains(&(r.project_id.as_str(), r.year)))
}

fn january_first(at: Date) -> Date {
    Date::from_ymd_opt(at.year(), 1, 1).expect("1 January")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse_date;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    fn result(project: &str, year: i64, quarter: Option<i64>, revenue_usd: f64) -> ProjectResult {
        ProjectResult {
            project_id: project.into(),
            zone_code: None,
            province_code: None,
            year,
            quarter,
            realised_capital_usd: None,
            realised_capital_vnd: None,
            revenue_usd: Some(revenue_usd),
            revenue_vnd: None,
            exports_usd: None,
            budget_vnd: None,
            source_ref: None,
        }
    }

    #[test]
    fn a_whole_year_counts_instead_of_its_quarters() {
        let results = [
            result("A", 2019, None, 100.0),
            result("A", 2019, Some(1), 20.0),
            result("A", 2019, Some(2), 30.0),
            result("B", 2019, Some(1), 5.0),
            result("B", 2020, Some(1), 7.0),
        ];
        let sum = |from: &str, to: &str| {
            counted(&results, d(from), d(to)).filter_map(|r| r.revenue_usd).sum::<f64>()
        };
        assert_eq!(sum("2019-01-01", "2019-12-31"), 105.0, "A's year, B's first quarter");
        assert_eq!(sum("2019-01-01", "2019-06-30"), 55.0, "A's year is not over by June: its quarters count");
        assert_eq!(sum("2020-01-01", "2020-03-31"), 7.0);
        assert_eq!(sum("2019-02-01", "2019-12-31"), 30.0, "A's second quarter alone lies inside");
        assert_eq!(sum("2019-02-01", "2019-03-31"), 0.0, "no period lies inside");
    }
}
