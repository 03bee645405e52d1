//! The investment register: a project's capital, status and commitments on any date, from its record
//! and its decisions ([`ProjectEvent`]); the checks a decision must pass; the land a termination or
//! revocation takes back; the projects behind their commitments; decisions counted over a period as
//! the boards' reports count them.
//!
//! A project's own `capital_usd` / `capital_vnd` is its registered capital at the certificate; each
//! adjustment adds its (signed) change from its date on. Currencies are never converted.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::{Date, Lease, LeaseStatus, Origin, Project, ProjectEvent, ProjectEventKind};

/// A project's standing on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Certified, not operating yet.
    Certified,
    Operating,
    Suspended,
    Terminated,
    Revoked,
}

impl Standing {
    /// Whether the project still holds its certificate (not terminated or revoked).
    pub fn is_valid(self) -> bool {
        !matches!(self, Standing::Terminated | Standing::Revoked)
    }
}

/// What a project is on a date: its standing, capital and commitments after every decision up to then.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ProjectState {
    pub standing: Standing,
    /// Registered capital, USD (the certificate's, plus every adjustment's change; source: declared).
    pub capital_usd: Option<f64>,
    /// Registered capital, VND (as above).
    pub capital_vnd: Option<f64>,
    /// Land area, hectares, from the latest decision that set it (source: declared).
    pub land_ha: Option<f64>,
    pub sector: Option<String>,
    /// Committed dates, from the latest decision that set each.
    pub land_handover_by: Option<Date>,
    pub construction_by: Option<Date>,
    pub operation_by: Option<Date>,
}

/// The project's state on `at`; `None` before its certificate. `events` may be in any order and hold
/// other projects' decisions (those are skipped by the caller's grouping, see [`by_project`]).
pub fn state_at(project: &Project, events: &[&ProjectEvent], at: Date) -> Option<ProjectState> {
    if project.certificate_on.is_some_and(|d| d > at) {
        return None;
    }
    let mut ordered: Vec<&&ProjectEvent> = events.iter().filter(|e| e.decided_on <= at).collect();
    ordered.sort_by_key(|e| e.decided_on);
    let mut state = ProjectState {
        standing: Standing::Certified,
        capital_usd: project.capital_usd,
        capital_vnd: project.capital_vnd,
        land_ha: None,
        sector: project.sector.clone(),
        land_handover_by: None,
        construction_by: None,
        operation_by: None,
    };
    let add = |base: Option<f64>, change: Option<f64>| match (base, change) {
        (b, None) => b,
        (b, Some(c)) => Some(b.unwrap_or(0.0) + c),
    };
    let mut suspended = false;
    let mut ended = None;
    for e in ordered {
        state.capital_usd = add(state.capital_usd, e.capital_usd_change);
        state.capital_vnd = add(state.capital_vnd, e.capital_vnd_change);
        if e.sector.is_some() {
            state.sector = e.sector.clone();
        }
        state.land_ha = e.land_ha.or(state.land_ha);
        state.land_handover_by = e.land_handover_by.or(state.land_handover_by);
        state.construction_by = e.construction_by.or(state.construction_by);
        state.operation_by = e.operation_by.or(state.operation_by);
        match e.kind {
            ProjectEventKind::Suspended => suspended = true,
            ProjectEventKind::Resumed => suspended = false,
            ProjectEventKind::Terminated => ended = ended.or(Some(Standing::Terminated)),
            ProjectEventKind::Revoked => ended = ended.or(Some(Standing::Revoked)),
            ProjectEventKind::Certified | ProjectEventKind::Adjusted => {}
        }
    }
    state.standing = match (ended, suspended) {
        (Some(end), _) => end,
        (None, true) => Standing::Suspended,
        (None, false) if project.operating_since.is_some_and(|d| d <= at) => Standing::Operating,
        (None, false) => Standing::Certified,
    };
    Some(state)
}

/// Decisions grouped by project id.
pub fn by_project(events: &[ProjectEvent]) -> HashMap<&str, Vec<&ProjectEvent>> {
    let mut grouped: HashMap<&str, Vec<&ProjectEvent>> = HashMap::new();
    for e in events {
        grouped.entry(e.project_id.as_str()).or_default().push(e);
    }
    grouped
}

/// Why a decision cannot be recorded: the field at fault and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: String) -> DecisionError {
    DecisionError { field, message }
}

/// Checks decision `event` of `project` (`None`: no such project) against the project's other decisions
/// and its leases (id, lease); `replacing` is the stored version of the same decision when it is being
/// corrected. Returns the leases it takes back: those holding land on its date when it terminates or
/// revokes the project.
pub fn check_decision<'l>(
    project: Option<&Project>,
    event: &ProjectEvent,
    replacing: Option<&ProjectEvent>,
    others: &[&ProjectEvent],
    leases: &'l [(String, Lease)],
) -> Result<Vec<&'l (String, Lease)>, DecisionError> {
    let Some(project) = project else {
        return Err(refuse(
            "project_id",
            format!("project_id '{}' names no project; record the project first", event.project_id),
        ));
    };
    if let Some(certified) = project.certificate_on
        && event.decided_on < certified
    {
        return Err(refuse(
            "decided_on",
            format!(
                "decided_on {} is before the project's certificate ({certified}); a decision on a project comes after it",
                event.decided_on
            ),
        ));
    }
    if let Some(ha) = event.land_ha
        && (!ha.is_finite() || ha <= 0.0)
    {
        return Err(refuse("land_ha", format!("land_ha {ha} is not an area: give the project's hectares")));
    }
    if event.kind == ProjectEventKind::Certified
        && (event.capital_usd_change.is_some() || event.capital_vnd_change.is_some())
    {
        return Err(refuse(
            "capital_usd_change",
            "a certificate carries no capital change: the certificate's capital is the project's capital_usd / capital_vnd".into(),
        ));
    }
    // The capital after every decision, in date order, with this one among them, never below zero.
    let mut all: Vec<&ProjectEvent> = others.to_vec();
    all.push(event);
    all.sort_by_key(|e| e.decided_on);
    let (mut usd, mut vnd) = (project.capital_usd.unwrap_or(0.0), project.capital_vnd.unwrap_or(0.0));
    for e in &all {
        usd += e.capital_usd_change.unwrap_or(0.0);
        vnd += e.capital_vnd_change.unwrap_or(0.0);
        let (field, left, unit) = if usd < -0.005 {
            ("capital_usd_change", usd, "USD")
        } else if vnd < -0.5 {
            ("capital_vnd_change", vnd, "VND")
        } else {
            continue;
        };
        return Err(refuse(
            field,
            format!(
                "the project's registered capital would fall to {left:.2} {unit} on {}: a decrease cannot exceed the capital registered then",
                e.decided_on
            ),
        ));
    }
    // A project ends once: nothing follows its termination or revocation, and a second one (whatever
    // its date) would take back land the first already took.
    if let Some(end) = others.iter().find(|e| e.takes_land_back() && event.takes_land_back()) {
        return Err(refuse(
            "kind",
            format!("the project was already {} on {}; a project ends once", end.kind, end.decided_on),
        ));
    }
    if let Some(end) = all.iter().find(|e| e.takes_land_back() && e.decided_on < event.decided_on) {
        return Err(refuse(
            "kind",
            format!("the project was already {} on {}; no decision follows that", end.kind, end.decided_on),
        ));
    }
    if !event.takes_land_back() {
        return Ok(Vec::new());
    }
    let held: Vec<&(String, Lease)> =
        leases.iter().filter(|(_, l)| l.state_at(event.decided_on).status().is_some()).collect();
    // A correction of a decision that already took the land back (its reason, its number) finds none
    // left to take: that is no error.
    if held.is_empty() && !replacing.is_some_and(ProjectEvent::takes_land_back) {
        return Err(refuse(
            "kind",
            format!(
                "project {} holds no leased or reserved land on {}: there is no land to take back; to end a project without land, record it as suspended with its reason",
                event.project_id, event.decided_on
            ),
        ));
    }
    Ok(held)
}

/// `lease` ended by decision `event` (its status `terminated` or `revoked`, `end_on` the decision's
/// date): the land is the lease's until the day before, and available from that day.
pub fn ended_lease(lease: &Lease, event: &ProjectEvent) -> Lease {
    let status = match event.kind {
        ProjectEventKind::Revoked => LeaseStatus::Revoked,
        _ => LeaseStatus::Terminated,
    };
    let end = lease.end_on.filter(|d| *d <= event.decided_on).unwrap_or(event.decided_on);
    Lease { status, end_on: Some(end), ..lease.clone() }
}

/// Decisions of one kind of investor (FDI or DDI) in a period, as the boards count them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Decisions {
    /// Adjustments (điều chỉnh) of any kind.
    pub adjustments: u64,
    /// Adjustments that changed the registered capital.
    pub capital_changes: u64,
    /// Adjustments that raised it, and by how much (USD, VND).
    pub increases: u64,
    pub increase_usd: f64,
    pub increase_vnd: f64,
    /// Adjustments that lowered it, and by how much (positive amounts, USD, VND).
    pub decreases: u64,
    pub decrease_usd: f64,
    pub decrease_vnd: f64,
    pub suspensions: u64,
    pub terminations: u64,
    pub revocations: u64,
}

/// The decisions dated `from..=to` on projects of `origin` (`projects`: id → project).
pub fn count(
    events: &[ProjectEvent],
    projects: &HashMap<String, &Project>,
    origin: Origin,
    from: Date,
    to: Date,
) -> Decisions {
    let mut d = Decisions::default();
    let in_period = events
        .iter()
        .filter(|e| from <= e.decided_on && e.decided_on <= to)
        .filter(|e| projects.get(&e.project_id).is_some_and(|p| p.origin == origin));
    for e in in_period {
        match e.kind {
            ProjectEventKind::Adjusted => {
                d.adjustments += 1;
                let (usd, vnd) = (e.capital_usd_change.unwrap_or(0.0), e.capital_vnd_change.unwrap_or(0.0));
                if usd != 0.0 || vnd != 0.0 {
                    d.capital_changes += 1;
                }
                if usd > 0.0 || vnd > 0.0 {
                    d.increases += 1;
                } else if usd < 0.0 || vnd < 0.0 {
                    d.decreases += 1;
                }
                d.increase_usd += usd.max(0.0);
                d.increase_vnd += vnd.max(0.0);
                d.decrease_usd += (-usd).max(0.0);
                d.decrease_vnd += (-vnd).max(0.0);
            }
            ProjectEventKind::Suspended => d.suspensions += 1,
            ProjectEventKind::Terminated => d.terminations += 1,
            ProjectEventKind::Revoked => d.revocations += 1,
            ProjectEventKind::Certified | ProjectEventKind::Resumed => {}
        }
    }
    d
}

/// A commitment of a project's certificate that its date has passed without the project keeping it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Behind {
    pub project_id: String,
    pub tenant_name: String,
    pub origin: Origin,
    pub zone_code: Option<String>,
    pub province_code: Option<String>,
    /// `land_handover`, `construction` or `operation`.
    pub milestone: &'static str,
    /// The committed date.
    pub due_on: Date,
    /// Days from the committed date to the date asked about.
    pub days_late: i64,
    /// Land the project's leases hold on the date: what is at stake, hectares (source: measured).
    pub leased_ha: f64,
}

/// The projects that, on `at`, are past a committed milestone they have not reached, the latest first
/// by how late. `leases` are (project id, lease, area in hectares).
pub fn behind(
    projects: &[(String, Project)],
    events: &[ProjectEvent],
    leases: &[(String, Lease, f64)],
    at: Date,
) -> Vec<Behind> {
    let grouped = by_project(events);
    let mut late = Vec::new();
    for (id, project) in projects {
        let mine = grouped.get(id.as_str()).map(Vec::as_slice).unwrap_or_default();
        let Some(state) = state_at(project, mine, at) else { continue };
        if !state.standing.is_valid() {
            continue;
        }
        let own: Vec<&(String, Lease, f64)> = leases.iter().filter(|(p, _, _)| p == id).collect();
        let handed_over = own.iter().filter_map(|(_, l, _)| l.handed_over_on).filter(|d| *d <= at).min();
        let leased_ha: f64 =
            own.iter().filter(|(_, l, _)| l.state_at(at).status().is_some()).map(|(_, _, ha)| ha).sum();
        let reached = |actual: Option<Date>| actual.is_some_and(|d| d <= at);
        for (milestone, due, actual) in [
            ("land_handover", state.land_handover_by, handed_over),
            ("construction", state.construction_by, project.construction_started_on),
            ("operation", state.operation_by, project.operating_since),
        ] {
            let Some(due) = due else { continue };
            if due < at && !reached(actual) {
                late.push(Behind {
                    project_id: id.clone(),
                    tenant_name: project.tenant_name.clone(),
                    origin: project.origin,
                    zone_code: project.zone_code.clone(),
                    province_code: project.province_code.clone(),
                    milestone,
                    due_on: due,
                    days_late: (at - due).num_days(),
                    leased_ha: (leased_ha * 1e4).round() / 1e4 + 0.0,
                });
            }
        }
    }
    late.sort_by(|a, b| b.days_late.cmp(&a.days_late).then_with(|| a.project_id.cmp(&b.project_id)));
    late
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse_date;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    fn project() -> Project {
        serde_json::from_value(serde_json::json!({
            "tenant_name": "Công ty TNHH A", "origin": "fdi", "certificate_on": "2020-03-01",
            "capital_usd": 10_000_000.0, "operating_since": "2022-01-10", "zone_code": "Z"
        }))
        .unwrap()
    }

    fn event(kind: &str, on: &str, usd: Option<f64>) -> ProjectEvent {
        serde_json::from_value(serde_json::json!({
            "project_id": "P1", "kind": kind, "decided_on": on, "capital_usd_change": usd,
        }))
        .unwrap()
    }

    fn lease(status: &str, start: &str) -> Lease {
        serde_json::from_value(serde_json::json!({ "zone_code": "Z", "status": status, "start_on": start }))
            .unwrap()
    }

    #[test]
    fn capital_and_standing_follow_the_decisions_in_date_order() {
        let p = project();
        let up = event("adjusted", "2021-06-01", Some(5_000_000.0));
        let down = event("adjusted", "2023-02-01", Some(-2_000_000.0));
        let paused = event("suspended", "2023-05-01", None);
        let events = [&down, &paused, &up];
        assert_eq!(state_at(&p, &events, d("2020-01-01")), None, "before its certificate");
        let at = |s| state_at(&p, &events, d(s)).unwrap();
        assert_eq!(
            (at("2021-05-31").capital_usd, at("2021-05-31").standing),
            (Some(10e6), Standing::Certified)
        );
        assert_eq!(
            (at("2022-06-01").capital_usd, at("2022-06-01").standing),
            (Some(15e6), Standing::Operating)
        );
        assert_eq!(
            (at("2023-06-01").capital_usd, at("2023-06-01").standing),
            (Some(13e6), Standing::Suspended)
        );
    }

    #[test]
    fn bad_decisions_are_refused_naming_the_field() {
        let p = project();
        let early = event("adjusted", "2019-12-31", Some(1.0));
        assert_eq!(check_decision(Some(&p), &early, None, &[], &[]).unwrap_err().field, "decided_on");
        let too_much = event("adjusted", "2021-01-01", Some(-10_000_001.0));
        assert_eq!(
            check_decision(Some(&p), &too_much, None, &[], &[]).unwrap_err().field,
            "capital_usd_change"
        );
        // A decrease that is fine on its own date but leaves a later one below zero.
        let later = event("adjusted", "2022-01-01", Some(-8_000_000.0));
        let first = event("adjusted", "2021-01-01", Some(-3_000_000.0));
        assert!(check_decision(Some(&p), &first, None, &[&later], &[]).is_err());
        assert_eq!(check_decision(None, &first, None, &[], &[]).unwrap_err().field, "project_id");
        let revoke = event("revoked", "2024-01-01", None);
        assert_eq!(
            check_decision(Some(&p), &revoke, None, &[], &[]).unwrap_err().field,
            "kind",
            "no land to take back"
        );
    }

    #[test]
    fn a_revocation_takes_back_the_land_held_on_its_date_from_that_day() {
        let p = project();
        let leases = vec![
            ("L1".to_string(), lease("active", "2020-06-01")),
            ("L2".to_string(), lease("active", "2025-01-01")),
        ];
        let revoke = event("revoked", "2024-01-01", None);
        let taken = check_decision(Some(&p), &revoke, None, &[], &leases).unwrap();
        assert_eq!(taken.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["L1"]);
        let ended = ended_lease(&taken[0].1, &revoke);
        assert_eq!(ended.state_at(d("2023-12-31")).status(), Some("active"), "held the day before");
        assert_eq!(ended.state_at(d("2024-01-01")).status(), None, "available from the day");
        assert_eq!(ended.status, LeaseStatus::Revoked);
        // A second ending, even dated before the first, is refused.
        let earlier = event("terminated", "2023-06-01", None);
        assert_eq!(check_decision(Some(&p), &earlier, None, &[&revoke], &leases).unwrap_err().field, "kind");
    }
}

/// One decision in a project's timeline, with the project as the decision left it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TimelineEntry {
    /// The decision's record (`/collections/project_events/items/{id}`).
    pub id: String,
    #[serde(flatten)]
    pub decision: ProjectEvent,
    /// The project after this decision (and any other of the same day).
    pub after: Option<ProjectState>,
}

/// A lease of the project in its timeline.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TimelineLease {
    pub id: String,
    /// As stored: `reserved`, `active`, `terminated` or `revoked`.
    pub status: LeaseStatus,
    pub start_on: Option<Date>,
    pub end_on: Option<Date>,
    /// Whether it holds its land on the date asked about.
    pub holds: bool,
    /// Its area, hectares (source: measured).
    pub area_ha: f64,
}

/// A project's register on a date: the project, what it is then, every decision up to then with what it
/// left the project, and its leases.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Timeline {
    pub project_id: String,
    pub tenant_name: String,
    pub origin: Origin,
    pub zone_code: Option<String>,
    pub province_code: Option<String>,
    pub certificate_no: Option<String>,
    pub certificate_on: Option<Date>,
    /// The date asked about.
    pub at: Date,
    /// What the project is on `at`; absent before its certificate.
    pub state: Option<ProjectState>,
    /// Land the project's leases hold on `at`, hectares (source: measured).
    pub leased_ha: f64,
    /// The decisions up to `at`, oldest first.
    pub decisions: Vec<TimelineEntry>,
    pub leases: Vec<TimelineLease>,
}

/// The timeline of project `id` on `at`; `None` when there is no such project.
pub async fn timeline(
    store: &std::sync::Arc<dyn crate::store::Store>,
    id: &str,
    at: Date,
) -> Result<Option<Timeline>, crate::store::StoreError> {
    use crate::collections::{LEASES, PROJECT_EVENTS, PROJECTS};
    use crate::store::{Condition, ItemsQuery};
    let Some(row) = store.item(&PROJECTS, id).await? else { return Ok(None) };
    let project: Project = row.parse(PROJECTS.id)?;
    let of_project =
        ItemsQuery { conditions: vec![Condition::text_in("project_id", [id])], ..Default::default() };
    let mut events: Vec<(String, ProjectEvent)> = Vec::new();
    for row in store.items(&PROJECT_EVENTS, &of_project).await?.rows {
        events.push((row.id.clone(), row.parse(PROJECT_EVENTS.id)?));
    }
    events.sort_by(|(a, x), (b, y)| (x.decided_on, a).cmp(&(y.decided_on, b)));
    let all: Vec<&ProjectEvent> = events.iter().map(|(_, e)| e).collect();
    let decisions = events
        .iter()
        .filter(|(_, e)| e.decided_on <= at)
        .map(|(id, e)| TimelineEntry {
            id: id.clone(),
            decision: e.clone(),
            after: state_at(&project, &all, e.decided_on),
        })
        .collect();
    let mut leases = Vec::new();
    for row in store.items(&LEASES, &of_project).await?.rows {
        let lease: Lease = row.parse(LEASES.id)?;
        leases.push(TimelineLease {
            id: row.id.clone(),
            status: lease.status,
            start_on: lease.start_on,
            end_on: lease.end_on,
            holds: lease.state_at(at).status().is_some(),
            area_ha: row.area_ha.unwrap_or(0.0),
        });
    }
    let leased_ha = leases.iter().filter(|l| l.holds).map(|l| l.area_ha).sum::<f64>();
    Ok(Some(Timeline {
        project_id: id.to_string(),
        state: state_at(&project, &all, at),
        tenant_name: project.tenant_name,
        origin: project.origin,
        zone_code: project.zone_code,
        province_code: project.province_code,
        certificate_no: project.certificate_no,
        certificate_on: project.certificate_on,
        at,
        // `+ 0.0`: an empty sum is -0.0, which would read "-0.0".
        leased_ha: (leased_ha * 1e4).round() / 1e4 + 0.0,
        decisions,
        leases,
    }))
}

/// Why the watch list cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{0}")]
    UnknownProvince(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The projects behind their commitments on `at` (see [`behind`]), of one province (its territory on any
/// date) or zone, or everywhere.
pub async fn behind_at(
    store: &std::sync::Arc<dyn crate::store::Store>,
    province_code: Option<&str>,
    zone_code: Option<&str>,
    at: Date,
) -> Result<Vec<Behind>, RegisterError> {
    use crate::collections::{PROJECT_EVENTS, PROJECTS};
    use crate::store::{Condition, ItemsQuery};
    if let Some(code) = province_code {
        crate::geography::known(code, at).map_err(RegisterError::UnknownProvince)?;
    }
    let lens = crate::geography::Lens::new(province_code, at);
    let mut conditions: Vec<Condition> =
        lens.codes().into_iter().map(|c| Condition::text_in("province_code", c)).collect();
    if let Some(zone) = zone_code {
        conditions.push(Condition::text_in("zone_code", [zone]));
    }
    // Only projects a decision gave a milestone due by then can be behind: read those, and their leases.
    let query = ItemsQuery { conditions, ..Default::default() };
    let mut events = Vec::new();
    for row in store.items(&PROJECT_EVENTS, &query).await?.rows {
        events.push(row.parse::<ProjectEvent>(PROJECT_EVENTS.id)?);
    }
    let ids = with_milestones_due(&events, at);
    let mut projects = Vec::new();
    for row in crate::store::rows_in(store, &PROJECTS, "id", &ids).await? {
        let project: Project = row.parse(PROJECTS.id)?;
        projects.push((row.id, project));
    }
    let leases = leases_of(store, &ids).await?;
    Ok(behind(&projects, &events, &leases, at))
}

/// The projects that some decision gave a milestone due before `at`: the only ones that can be behind.
pub fn with_milestones_due(events: &[ProjectEvent], at: Date) -> Vec<String> {
    let due = |e: &&ProjectEvent| {
        e.decided_on <= at
            && [e.land_handover_by, e.construction_by, e.operation_by].iter().flatten().any(|d| *d < at)
    };
    let ids: std::collections::BTreeSet<&str> =
        events.iter().filter(due).map(|e| e.project_id.as_str()).collect();
    ids.into_iter().map(str::to_string).collect()
}

/// The leases of `project_ids` as [`behind`] reads them: (project id, lease, hectares).
pub async fn leases_of(
    store: &std::sync::Arc<dyn crate::store::Store>,
    project_ids: &[String],
) -> Result<Vec<(String, Lease, f64)>, crate::store::StoreError> {
    use crate::collections::LEASES;
    let mut leases = Vec::new();
    for row in crate::store::rows_in(store, &LEASES, "project_id", project_ids).await? {
        let lease: Lease = row.parse(LEASES.id)?;
        if let Some(project) = lease.project_id.clone() {
            leases.push((project, lease, row.area_ha.unwrap_or(0.0)));
        }
    }
    Ok(leases)
}

/// What the checks of decisions read, for some projects: the projects, their stored decisions (id,
/// decision) and their leases (id, lease, with the stored rows to rewrite).
#[derive(Default)]
pub struct DecisionInputs {
    pub projects: HashMap<String, Project>,
    pub events: HashMap<String, Vec<(String, ProjectEvent)>>,
    pub leases: HashMap<String, Vec<(String, Lease)>>,
    lease_rows: HashMap<String, crate::store::FeatureRow>,
}

/// Reads the [`DecisionInputs`] of `project_ids`.
/// Run it inside the write's transaction (after `begin_write`), so no other writer changes them between
/// the checks and the write.
pub async fn decision_inputs(
    store: &std::sync::Arc<dyn crate::store::Store>,
    project_ids: &[String],
) -> Result<DecisionInputs, crate::store::StoreError> {
    use crate::collections::{LEASES, PROJECT_EVENTS, PROJECTS};
    use crate::store::rows_in;
    let mut inputs = DecisionInputs::default();
    for row in rows_in(store, &PROJECTS, "id", project_ids).await? {
        inputs.projects.insert(row.id.clone(), row.parse(PROJECTS.id)?);
    }
    for row in rows_in(store, &PROJECT_EVENTS, "project_id", project_ids).await? {
        let e: ProjectEvent = row.parse(PROJECT_EVENTS.id)?;
        inputs.events.entry(e.project_id.clone()).or_default().push((row.id.clone(), e));
    }
    for row in rows_in(store, &LEASES, "project_id", project_ids).await? {
        let lease: Lease = row.parse(LEASES.id)?;
        if let Some(project) = lease.project_id.clone() {
            inputs.leases.entry(project).or_default().push((row.id.clone(), lease));
            inputs.lease_rows.insert(row.id.clone(), row);
        }
    }
    Ok(inputs)
}

/// The leases decision `event` ended and that nobody has changed since, as they were before it (found
/// in their history: the version before the current one, which `event` turned into the current one).
/// They replace the project's leases in `inputs`, so that checks see the land held again; returns their
/// ids. Deleting or correcting a termination or revocation starts from here.
pub async fn undo_taking(
    store: &std::sync::Arc<dyn crate::store::Store>,
    inputs: &mut DecisionInputs,
    event: &ProjectEvent,
) -> Result<Vec<String>, crate::store::StoreError> {
    use crate::collections::LEASES;
    let mut restored = Vec::new();
    if !event.takes_land_back() {
        return Ok(restored);
    }
    for (id, lease) in inputs.leases.get_mut(&event.project_id).into_iter().flatten() {
        if crate::rules::holds(lease) {
            continue;
        }
        // Back through the versions that only ended it (a correction of the decision's date ends it
        // again), to the last one holding land.
        let versions = store.versions(&LEASES, id).await?;
        let only_ended =
            |v: &crate::store::history::Version| v.changed.iter().all(|f| f == "status" || f == "end_on");
        let parse = |v: &crate::store::history::Version| {
            serde_json::from_value::<Lease>(serde_json::Value::Object(v.properties.clone())).ok()
        };
        let mut before = None;
        for v in versions.iter().rev() {
            match parse(v) {
                Some(l) if crate::rules::holds(&l) => {
                    before = Some(l);
                    break;
                }
                Some(_) if only_ended(v) => continue,
                _ => break,
            }
        }
        if let Some(before) = before
            && ended_lease(&before, event) == *lease
        {
            *lease = before;
            restored.push(id.clone());
        }
    }
    Ok(restored)
}

/// The writes that end the leases `taken` by decision `event` (see [`ended_lease`]), each replacing the
/// stored lease at its current version, by `actor`.
pub async fn end_leases(
    store: &std::sync::Arc<dyn crate::store::Store>,
    inputs: &DecisionInputs,
    taken: &[&(String, Lease)],
    event: &ProjectEvent,
    actor: &str,
) -> Result<Vec<crate::store::history::Write>, crate::store::StoreError> {
    let ended: Vec<(String, Lease)> =
        taken.iter().map(|(id, lease)| (id.clone(), ended_lease(lease, event))).collect();
    rewrite_leases(store, inputs, &ended, actor).await
}

/// The writes that give each stored lease of `leases` (id, lease) that lease's status and end date, at
/// its current version, by `actor`; a lease already so is not written again.
pub async fn rewrite_leases(
    store: &std::sync::Arc<dyn crate::store::Store>,
    inputs: &DecisionInputs,
    leases: &[(String, Lease)],
    actor: &str,
) -> Result<Vec<crate::store::history::Write>, crate::store::StoreError> {
    use crate::collections::LEASES;
    use crate::store::history::{Op, Write};
    let mut writes = Vec::with_capacity(leases.len());
    for (id, after) in leases {
        let row = &inputs.lease_rows[id];
        let stored: Lease = row.parse(LEASES.id)?;
        if stored.status == after.status && stored.end_on == after.end_on {
            continue;
        }
        let Some(version) = store.current_version(&LEASES, id).await? else { continue };
        let mut feature = crate::store::NewFeature {
            id: row.id.clone(),
            properties: row.properties.clone(),
            geometry: row.multipolygon(LEASES.id)?,
            source_crs: row.source_crs.clone().unwrap_or_default(),
        };
        feature.properties.insert("status".into(), after.status.as_str().into());
        feature.properties.insert("end_on".into(), after.end_on.map(|d| d.to_string()).into());
        writes.push(Write {
            collection: &LEASES,
            op: Op::Replace,
            expected_version: Some(version),
            zones: vec![after.zone_code.clone()],
            feature,
            actor: actor.to_string(),
            changed: vec!["status".into(), "end_on".into()],
        });
    }
    Ok(writes)
}
