//! Domain types of landbank: provinces, zones, land use, plots, projects, leases and clearance parcels.
//!
//! These types parse their input (serde, with enums for every closed vocabulary) and hold no I/O.
//! Every area is in hectares and carries `_ha` in its name; money carries its currency (`_usd`, `_vnd`).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A date as the API speaks it: ISO 8601 calendar date, `YYYY-MM-DD`.
pub type Date = NaiveDate;

/// Parses an ISO date (`YYYY-MM-DD`), naming what was wrong.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|e| format!("'{text}' is not a date in the form YYYY-MM-DD ({e})"))?;
    if !(FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
        return Err(format!(
            "{text} is outside the years {FIRST_YEAR}–{LAST_YEAR} landbank keeps; check the year"
        ));
    }
    Ok(date)
}

/// Today's date in Vietnam (UTC+7): the default of every `at`, in the API and on the command line.
pub fn today() -> Date {
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset");
    chrono::Utc::now().with_timezone(&vietnam).date_naive()
}

/// The years a date may fall in: every industrial zone, lease and plan lies well within them, and every
/// database and date library handles them alike.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2200;

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in lifecycle or listing order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every value as stored and served, in the order of [`Self::ALL`].
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            /// The value as stored and served.
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "'{other}' is not one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

vocabulary!(
    /// Kind of zone (khu công nghiệp, cụm công nghiệp, khu kinh tế, khu công nghệ cao).
    ZoneKind {
        IndustrialPark => "industrial_park",
        IndustrialCluster => "industrial_cluster",
        EconomicZone => "economic_zone",
        HiTechPark => "hi_tech_park",
    }
);

vocabulary!(
    /// Lifecycle of a zone: planned → policy_approved → established → operating; also suspended, cancelled.
    ZoneStatus {
        Planned => "planned",
        PolicyApproved => "policy_approved",
        Established => "established",
        Operating => "operating",
        Suspended => "suspended",
        Cancelled => "cancelled",
    }
);

vocabulary!(
    /// Land-use category of a zoning-plan polygon.
    LandUseCategory {
        Industrial => "industrial",
        Warehouse => "warehouse",
        Service => "service",
        Infrastructure => "infrastructure",
        Green => "green",
        Water => "water",
        Road => "road",
        HousingSupport => "housing_support",
    }
);

vocabulary!(
    /// Status of a lease (cho thuê / cho thuê lại đất).
    LeaseStatus {
        Reserved => "reserved",
        Active => "active",
        Terminated => "terminated",
        Revoked => "revoked",
    }
);

vocabulary!(
    /// Site-clearance (GPMB) status of a land parcel.
    ClearanceStatus {
        NotStarted => "not_started",
        Inventoried => "inventoried",
        CompensationApproved => "compensation_approved",
        Compensated => "compensated",
        HandedOver => "handed_over",
    }
);

vocabulary!(
    /// Who holds a parcel before clearance.
    OwnerKind {
        Household => "household",
        Organisation => "organisation",
        State => "state",
    }
);

vocabulary!(
    /// Origin of an investment project: foreign (FDI) or domestic (DDI).
    Origin {
        Fdi => "fdi",
        Ddi => "ddi",
    }
);

vocabulary!(
    /// A decision on an investment project, as the investment register records it: the certificate
    /// (cấp mới), an adjustment (điều chỉnh: capital up or down, sector, committed dates), a suspension
    /// (tạm ngừng) and its end, a termination (chấm dứt) or a revocation (thu hồi). Terminating or revoking
    /// takes the project's land back.
    ProjectEventKind {
        Certified => "certified",
        Adjusted => "adjusted",
        Suspended => "suspended",
        Resumed => "resumed",
        Terminated => "terminated",
        Revoked => "revoked",
    }
);

vocabulary!(
    /// What a plan target measures. Flows are summed over the target's period up to the report date;
    /// levels (valid projects, registered capital, workers, percentages) are read on the period's last
    /// day, or on the report date when that comes first (see [`TargetMetric::is_level`]).
    TargetMetric {
        InfrastructureHa => "infrastructure_ha",
        CapitalUsd => "capital_usd",
        CapitalVnd => "capital_vnd",
        ProjectsNew => "projects_new",
        ProjectsOperating => "projects_operating",
        NewJobs => "new_jobs",
        CapitalIncreaseUsd => "capital_increase_usd",
        CapitalIncreaseVnd => "capital_increase_vnd",
        CapitalAttractedUsd => "capital_attracted_usd",
        CapitalAttractedVnd => "capital_attracted_vnd",
        ProjectsAttracted => "projects_attracted",
        RealisedCapitalUsd => "realised_capital_usd",
        RealisedCapitalVnd => "realised_capital_vnd",
        RevenueUsd => "revenue_usd",
        RevenueVnd => "revenue_vnd",
        ExportsUsd => "exports_usd",
        BudgetVnd => "budget_vnd",
        ProjectsValid => "projects_valid",
        CapitalRegisteredUsd => "capital_registered_usd",
        CapitalRegisteredVnd => "capital_registered_vnd",
        Workers => "workers",
        OccupancyPct => "occupancy_pct",
        OperatingPct => "operating_pct",
        WwtpCoveragePct => "wwtp_coverage_pct",
    }
);

impl TargetMetric {
    /// Whether the metric is a level read on a day (a stock or a percentage) rather than a flow summed
    /// over the period.
    pub fn is_level(self) -> bool {
        use TargetMetric::*;
        matches!(
            self,
            ProjectsValid
                | CapitalRegisteredUsd
                | CapitalRegisteredVnd
                | Workers
                | OccupancyPct
                | OperatingPct
                | WwtpCoveragePct
        )
    }

    /// The metric's unit: `ha`, `USD`, `VND`, `projects`, `jobs`, `workers` or `%`.
    pub fn unit(self) -> &'static str {
        use TargetMetric::*;
        match self {
            InfrastructureHa => "ha",
            CapitalUsd | CapitalIncreaseUsd | CapitalAttractedUsd | RealisedCapitalUsd | RevenueUsd
            | ExportsUsd | CapitalRegisteredUsd => "USD",
            CapitalVnd | CapitalIncreaseVnd | CapitalAttractedVnd | RealisedCapitalVnd | RevenueVnd
            | BudgetVnd | CapitalRegisteredVnd => "VND",
            ProjectsNew | ProjectsOperating | ProjectsAttracted | ProjectsValid => "projects",
            NewJobs => "jobs",
            Workers => "workers",
            OccupancyPct | OperatingPct | WwtpCoveragePct => "%",
        }
    }

    /// Whether the metric adds capital in both currencies, so that a target on it needs the exchange
    /// rate its plan converts at (unless the target is on one origin, whose capital is in one currency).
    pub fn converts(self) -> bool {
        matches!(self, TargetMetric::CapitalAttractedUsd | TargetMetric::CapitalAttractedVnd)
    }

    /// Whether a target on the metric may be on FDI or DDI projects alone.
    pub fn by_origin(self) -> bool {
        !matches!(
            self,
            TargetMetric::InfrastructureHa | TargetMetric::OccupancyPct | TargetMetric::WwtpCoveragePct
        )
    }
}

vocabulary!(
    /// Where a figure comes from: computed from geometry, or copied from a legal document.
    Source {
        Measured => "measured",
        Declared => "declared",
        Mixed => "mixed",
    }
);

impl ZoneStatus {
    /// Position in the lifecycle (`planned` = 0 … `operating` = 3); `None` for suspended and cancelled.
    pub fn stage(self) -> Option<u8> {
        match self {
            ZoneStatus::Planned => Some(0),
            ZoneStatus::PolicyApproved => Some(1),
            ZoneStatus::Established => Some(2),
            ZoneStatus::Operating => Some(3),
            ZoneStatus::Suspended | ZoneStatus::Cancelled => None,
        }
    }
}

/// A province (ISO 3166-2:VN code) and its VN-2000 TM-3 projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Province {
    /// ISO 3166-2:VN, e.g. `VN-56` (Bắc Ninh), or `VN2025-<GSO>` for the units formed on 01/07/2025
    /// (see [`crate::geography`]).
    pub province_code: String,
    pub name: String,
    pub name_en: Option<String>,
    /// EPSG code of the province's VN-2000 3° TM zone (k = 0.9999), e.g. 9209.
    pub vn2000_tm3_epsg: Option<i64>,
    /// Central meridian of that zone, decimal degrees east.
    pub central_meridian: Option<f64>,
    /// The General Statistics Office's code.
    #[serde(default)]
    pub gso_code: Option<String>,
    /// `province` or `city` (centrally-run).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub valid_from: Option<Date>,
    /// The first day it no longer exists.
    #[serde(default)]
    pub valid_to: Option<Date>,
    #[serde(default)]
    pub successor_code: Option<String>,
    /// Comma separated.
    #[serde(default)]
    pub predecessor_codes: Option<String>,
}

/// An industrial zone (or cluster, economic zone, hi-tech park).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// Unique short code, e.g. `BN-QV1`.
    pub code: String,
    pub name: String,
    pub kind: ZoneKind,
    pub province_code: String,
    /// Infrastructure developer (chủ đầu tư hạ tầng).
    pub developer: Option<String>,
    pub status: ZoneStatus,
    pub policy_approved_on: Option<Date>,
    pub established_on: Option<Date>,
    pub operating_since: Option<Date>,
    /// The zone this one is a phase or expansion of.
    pub parent_code: Option<String>,
    /// Total area from the legal documents, hectares.
    pub declared_area_ha: Option<f64>,
    /// Industrial (leasable) area from the legal documents, hectares.
    pub declared_industrial_ha: Option<f64>,
    /// Capacity of the central wastewater treatment plant, m³ per day.
    pub wwtp_capacity_m3d: Option<f64>,
    /// Whether that plant operates.
    pub wwtp_operating: Option<bool>,
}

impl Zone {
    /// The zone's lifecycle status on date `at`, from the dates of its steps.
    ///
    /// Walks back from the current status: a step whose date is after `at` had not been reached yet.
    /// A step without a date is assumed reached (the record says so and gives no date to doubt it).
    /// Suspended and cancelled zones keep that status at every date.
    pub fn status_at(&self, at: Date) -> ZoneStatus {
        let Some(stage) = self.status.stage() else {
            return self.status;
        };
        let steps = [
            (3, ZoneStatus::Operating, self.operating_since),
            (2, ZoneStatus::Established, self.established_on),
            (1, ZoneStatus::PolicyApproved, self.policy_approved_on),
        ];
        for (step, status, date) in steps {
            if step <= stage && date.is_none_or(|d| d <= at) {
                return status;
            }
        }
        ZoneStatus::Planned
    }
}

/// A polygon of a zone's land-use plan (quy hoạch phân khu 1/2000 or chi tiết 1/500).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandUse {
    pub zone_code: String,
    /// Filled from the zone when absent.
    pub province_code: Option<String>,
    pub category: LandUseCategory,
    /// The plan decision, e.g. `QĐ 1234/QĐ-UBND, 1/2000`.
    pub plan_ref: Option<String>,
    /// First day the plan applies; `None` = since ever.
    pub valid_from: Option<Date>,
    /// First day the plan no longer applies (exclusive); `None` = still valid.
    pub valid_to: Option<Date>,
}

impl LandUse {
    /// Whether this plan polygon applies on `at` (`valid_from <= at < valid_to`).
    pub fn valid_at(&self, at: Date) -> bool {
        self.valid_from.is_none_or(|d| d <= at) && self.valid_to.is_none_or(|d| at < d)
    }

    /// Whether the category counts as leasable industrial land (industrial or warehouse).
    pub fn is_leasable(&self) -> bool {
        matches!(self.category, LandUseCategory::Industrial | LandUseCategory::Warehouse)
    }
}

/// A plot (lô đất) inside a zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plot {
    pub zone_code: String,
    /// Filled from the zone when absent.
    pub province_code: Option<String>,
    /// Plot code, unique within its zone, e.g. `CN-12`.
    pub code: String,
    /// Date the technical infrastructure was completed, or `None`.
    pub infra_ready_on: Option<Date>,
}

/// An investment project (the tenant of a lease).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub tenant_name: String,
    pub origin: Origin,
    /// ISO 3166-1 alpha-2 country of the investor.
    pub country: Option<String>,
    /// Investment registration certificate number.
    pub certificate_no: Option<String>,
    pub certificate_on: Option<Date>,
    /// Registered capital in US dollars, as declared (never converted from VND).
    pub capital_usd: Option<f64>,
    /// Registered capital in Vietnamese dong, as declared (never converted from USD).
    pub capital_vnd: Option<f64>,
    pub employees: Option<i64>,
    pub operating_since: Option<Date>,
    pub sector: Option<String>,
    pub zone_code: Option<String>,
    /// Filled from the zone when absent.
    pub province_code: Option<String>,
    /// Private (planners only): the project's contact person, telephone and e-mail.
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    /// When construction actually started (the certificate commits a date for it: see
    /// [`ProjectEvent::construction_by`]).
    pub construction_started_on: Option<Date>,
}

/// One dated decision on a project (see [`ProjectEventKind`]). Capital changes are signed and declared
/// in the currency of the decision (never converted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectEvent {
    pub project_id: String,
    /// The project's zone (filled from the project when absent).
    pub zone_code: Option<String>,
    /// Filled from the zone when absent.
    pub province_code: Option<String>,
    pub kind: ProjectEventKind,
    /// Date of the decision: the event takes effect on it.
    pub decided_on: Date,
    /// Number of the decision or certificate, e.g. `2136/QĐ-BQL`.
    pub decision_no: Option<String>,
    /// Registered capital added (negative: taken off), USD.
    pub capital_usd_change: Option<f64>,
    /// Registered capital added (negative: taken off), VND.
    pub capital_vnd_change: Option<f64>,
    /// The project's land area from this decision on, hectares (source: declared; the land its leases
    /// hold is measured apart).
    pub land_ha: Option<f64>,
    /// The project's sector from this decision on.
    pub sector: Option<String>,
    /// Committed by this decision: the date the land is to be handed over by.
    pub land_handover_by: Option<Date>,
    /// Committed: the date construction is to start by.
    pub construction_by: Option<Date>,
    /// Committed: the date the project is to operate by.
    pub operation_by: Option<Date>,
    /// Why (a suspension, termination or revocation): shown with the land taken back.
    pub reason: Option<String>,
}

impl ProjectEvent {
    /// Whether the decision ends the project and takes its land back.
    pub fn takes_land_back(&self) -> bool {
        matches!(self.kind, ProjectEventKind::Terminated | ProjectEventKind::Revoked)
    }
}

/// First and last day of quarter `q` (clamped to 1–4) of `year`.
fn quarter_days(year: i64, q: i64) -> (Date, Date) {
    let (year, q) = (year.clamp(-9999, 9999) as i32, q.clamp(1, 4) as u32);
    let first = Date::from_ymd_opt(year, 3 * q - 2, 1).unwrap_or_default();
    let next =
        if q == 4 { Date::from_ymd_opt(year + 1, 1, 1) } else { Date::from_ymd_opt(year, 3 * q + 1, 1) };
    (first, next.and_then(|d| d.pred_opt()).unwrap_or(first))
}

/// What a project did in a year or a quarter, as its enterprise reports to the board (báo cáo tình hình
/// thực hiện dự án, sản xuất kinh doanh): capital realised, revenue, exports, budget paid. Every amount
/// is declared by the enterprise, in the currency it reports in (never converted). Where a project has a
/// year's figures and also quarters of that year, the year's figures count and the quarters do not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectResult {
    pub project_id: String,
    /// The project's zone (filled from the project when absent).
    pub zone_code: Option<String>,
    /// Filled from the zone when absent.
    pub province_code: Option<String>,
    pub year: i64,
    /// 1–4 for a quarter's figures; absent for the whole year's.
    pub quarter: Option<i64>,
    /// Investment capital disbursed (vốn thực hiện), USD.
    pub realised_capital_usd: Option<f64>,
    /// Investment capital disbursed, VND.
    pub realised_capital_vnd: Option<f64>,
    /// Revenue (doanh thu), USD.
    pub revenue_usd: Option<f64>,
    /// Revenue, VND.
    pub revenue_vnd: Option<f64>,
    /// Exports (kim ngạch xuất khẩu), USD.
    pub exports_usd: Option<f64>,
    /// Paid to the state budget (nộp ngân sách), VND.
    pub budget_vnd: Option<f64>,
    /// The enterprise's report the figures come from.
    pub source_ref: Option<String>,
}

impl ProjectResult {
    /// First and last day of the period the figures cover.
    pub fn period(&self) -> (Date, Date) {
        match self.quarter {
            Some(q) => quarter_days(self.year, q),
            None => (quarter_days(self.year, 1).0, quarter_days(self.year, 4).1),
        }
    }

    /// What is wrong beyond the fields' types, naming the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(1900..=2200).contains(&self.year) {
            return Err(("year", format!("{} is not a plausible year", self.year)));
        }
        if let Some(q) = self.quarter
            && !(1..=4).contains(&q)
        {
            return Err((
                "quarter",
                format!("{q} is not a quarter; use 1 to 4, or leave it empty for the year"),
            ));
        }
        let amounts = [
            ("realised_capital_usd", self.realised_capital_usd),
            ("realised_capital_vnd", self.realised_capital_vnd),
            ("revenue_usd", self.revenue_usd),
            ("revenue_vnd", self.revenue_vnd),
            ("exports_usd", self.exports_usd),
            ("budget_vnd", self.budget_vnd),
        ];
        for (field, v) in amounts {
            if let Some(v) = v
                && (!v.is_finite() || v < 0.0)
            {
                return Err((field, format!("{v} must be a finite amount, zero or more")));
            }
        }
        Ok(())
    }
}

/// A lease of land to a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lease {
    pub project_id: Option<String>,
    pub zone_code: String,
    /// Filled from the zone when absent.
    pub province_code: Option<String>,
    /// Codes of the plots leased, comma separated, when the lease follows plots.
    pub plot_codes: Option<String>,
    pub status: LeaseStatus,
    pub signed_on: Option<Date>,
    pub start_on: Option<Date>,
    /// Contract end, or the date it was terminated or revoked (exclusive).
    pub end_on: Option<Date>,
    pub handed_over_on: Option<Date>,
    /// Geodesic area of the lease's geometry, hectares, as the store measured it when the row was
    /// written. Not a property: readers fill it from the row. `None`: measure the geometry.
    #[serde(skip)]
    pub area_ha: Option<f64>,
}

/// How a lease stands on a given date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// Land in use by the tenant (counts as leased).
    Active,
    /// Land promised to a tenant, not yet in use (counts as reserved).
    Reserved,
    /// The lease does not hold the land on that date.
    None,
}

impl LeaseState {
    /// The lease status a map or a file shows for this state: `active`, `reserved`, or `None` when the
    /// lease does not hold the land.
    pub fn status(self) -> Option<&'static str> {
        match self {
            LeaseState::Active => Some("active"),
            LeaseState::Reserved => Some("reserved"),
            LeaseState::None => None,
        }
    }
}

impl Lease {
    /// The lease's state on date `at`.
    ///
    /// Active when `start_on <= at` and the lease has not ended (`at < end_on`); terminated and revoked
    /// leases were active until their `end_on` (and are ignored without one). A lease signed but not yet
    /// started, or a reservation, counts as reserved from `signed_on` (or always, without a date).
    pub fn state_at(&self, at: Date) -> LeaseState {
        let ended = self.end_on.is_some_and(|end| end <= at);
        let signed = self.signed_on.is_none_or(|d| d <= at);
        match self.status {
            LeaseStatus::Reserved if signed && !ended => LeaseState::Reserved,
            LeaseStatus::Reserved => LeaseState::None,
            LeaseStatus::Terminated | LeaseStatus::Revoked if self.end_on.is_none() => LeaseState::None,
            LeaseStatus::Active | LeaseStatus::Terminated | LeaseStatus::Revoked => {
                if ended {
                    LeaseState::None
                } else if self.start_on.is_none_or(|d| d <= at) {
                    LeaseState::Active
                } else if signed && self.signed_on.is_some() {
                    LeaseState::Reserved
                } else {
                    LeaseState::None
                }
            }
        }
    }
}

/// A land parcel (thửa đất) to be compensated and cleared before the zone can be built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearanceParcel {
    pub zone_code: String,
    /// Filled from the zone when absent.
    pub province_code: Option<String>,
    /// Cadastral map sheet number (tờ bản đồ).
    pub sheet_no: String,
    /// Parcel number on that sheet (thửa đất số).
    pub parcel_no: String,
    /// Land type code of the cadastre, e.g. `LUC` (rice land).
    pub land_type: Option<String>,
    pub owner_kind: Option<OwnerKind>,
    /// Restricted: the owner's name.
    pub owner_name: Option<String>,
    pub status: ClearanceStatus,
    /// Compensation paid or approved, VND.
    pub compensation_vnd: Option<f64>,
    pub inventoried_on: Option<Date>,
    pub compensated_on: Option<Date>,
    pub handed_over_on: Option<Date>,
}

impl ClearanceParcel {
    /// The parcel's clearance status on date `at`, from its dates: a step dated after `at` was not reached
    /// yet. A step without a date is assumed reached when the current status is at or past it.
    pub fn status_at(&self, at: Date) -> ClearanceStatus {
        let steps = [
            (ClearanceStatus::HandedOver, self.handed_over_on),
            (ClearanceStatus::Compensated, self.compensated_on),
            (ClearanceStatus::Inventoried, self.inventoried_on),
        ];
        for (step, date) in steps {
            if step <= self.status && date.is_none_or(|d| d <= at) {
                return if step == ClearanceStatus::Compensated
                    && self.status == ClearanceStatus::CompensationApproved
                {
                    ClearanceStatus::CompensationApproved
                } else {
                    step.min(self.status)
                };
            }
        }
        ClearanceStatus::NotStarted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    fn zone(status: ZoneStatus) -> Zone {
        Zone {
            code: "BN-QV1".into(),
            name: "Quế Võ".into(),
            kind: ZoneKind::IndustrialPark,
            province_code: "VN-56".into(),
            developer: None,
            status,
            policy_approved_on: Some(d("2001-01-01")),
            established_on: Some(d("2002-06-01")),
            operating_since: Some(d("2004-01-01")),
            parent_code: None,
            declared_area_ha: None,
            declared_industrial_ha: None,
            wwtp_capacity_m3d: None,
            wwtp_operating: None,
        }
    }

    #[test]
    fn zone_status_follows_its_dates() {
        let z = zone(ZoneStatus::Operating);
        assert_eq!(z.status_at(d("1999-01-01")), ZoneStatus::Planned);
        assert_eq!(z.status_at(d("2001-01-01")), ZoneStatus::PolicyApproved);
        assert_eq!(z.status_at(d("2003-01-01")), ZoneStatus::Established);
        assert_eq!(z.status_at(d("2004-01-01")), ZoneStatus::Operating);
        // A zone that is only established now was never operating, whatever its dates say.
        assert_eq!(zone(ZoneStatus::Established).status_at(d("2030-01-01")), ZoneStatus::Established);
        assert_eq!(zone(ZoneStatus::Cancelled).status_at(d("2003-01-01")), ZoneStatus::Cancelled);
    }

    #[test]
    fn lease_state_over_time() {
        let lease = Lease {
            project_id: None,
            zone_code: "Z".into(),
            province_code: None,
            plot_codes: None,
            status: LeaseStatus::Terminated,
            signed_on: Some(d("2010-01-01")),
            start_on: Some(d("2010-06-01")),
            end_on: Some(d("2020-01-01")),
            handed_over_on: None,
            area_ha: None,
        };
        assert_eq!(lease.state_at(d("2009-12-31")), LeaseState::None);
        assert_eq!(lease.state_at(d("2010-03-01")), LeaseState::Reserved);
        assert_eq!(lease.state_at(d("2015-01-01")), LeaseState::Active);
        assert_eq!(lease.state_at(d("2020-01-01")), LeaseState::None);
        let no_end = Lease { end_on: None, ..lease.clone() };
        assert_eq!(
            no_end.state_at(d("2015-01-01")),
            LeaseState::None,
            "terminated without a date is not counted"
        );
        let reserved = Lease { status: LeaseStatus::Reserved, end_on: None, ..lease };
        assert_eq!(reserved.state_at(d("2009-01-01")), LeaseState::None);
        assert_eq!(reserved.state_at(d("2030-01-01")), LeaseState::Reserved);
    }

    #[test]
    fn vocabularies_parse_and_explain() {
        assert_eq!("operating".parse::<ZoneStatus>(), Ok(ZoneStatus::Operating));
        let err = "open".parse::<ZoneStatus>().unwrap_err();
        assert!(err.contains("planned, policy_approved"), "{err}");
        assert!(parse_date("2023-13-01").is_err());
    }
}

/// A province's plan target (chỉ tiêu kế hoạch) for a calendar year, a quarter of it, or several years
/// (`year` to `to_year`, "giai đoạn 2021–2025"); one value or a range ("2–3 projects, USD 40–50 million");
/// on all projects or on FDI or DDI ones alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub province_code: String,
    /// The period's first year.
    pub year: i64,
    /// A quarter of `year` (1–4) when the target is quarterly.
    pub quarter: Option<i64>,
    /// The period's last year when the target spans several.
    pub to_year: Option<i64>,
    pub metric: TargetMetric,
    /// FDI or DDI projects alone; both when absent.
    pub origin: Option<Origin>,
    /// In the metric's unit (hectares, USD, VND, projects, jobs, workers, %); the low end of a range.
    pub value: f64,
    /// The high end of a range, when the plan gives one.
    pub value_max: Option<f64>,
    /// VND per USD at which the plan converts capital of the other currency (capital attracted).
    pub vnd_per_usd: Option<f64>,
    pub plan_ref: Option<String>,
}

impl Target {
    /// First and last day of the target's period.
    pub fn period(&self) -> (Date, Date) {
        match (self.quarter, self.to_year) {
            (Some(q), _) => quarter_days(self.year, q),
            (None, Some(to)) => (quarter_days(self.year, 1).0, quarter_days(to, 4).1),
            (None, None) => (quarter_days(self.year, 1).0, quarter_days(self.year, 4).1),
        }
    }

    /// The period as boards name it: `2022`, `2022-Q1`, `2021-2025`.
    pub fn period_label(&self) -> String {
        match (self.quarter, self.to_year) {
            (Some(q), _) => format!("{}-Q{q}", self.year),
            (None, Some(to)) if to != self.year => format!("{}-{to}", self.year),
            _ => self.year.to_string(),
        }
    }

    /// What is wrong with the target beyond its fields' types, naming the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(1900..=2200).contains(&self.year) {
            return Err(("year", format!("{} is not a plausible year", self.year)));
        }
        if let Some(q) = self.quarter
            && !(1..=4).contains(&q)
        {
            return Err(("quarter", format!("{q} is not a quarter; use 1 to 4")));
        }
        if let Some(to) = self.to_year {
            if self.quarter.is_some() {
                return Err(("to_year", "a target is for a quarter or for several years, not both".into()));
            }
            if to < self.year || to > self.year + 50 {
                return Err((
                    "to_year",
                    format!("{to} must be from year {} to 50 years after it", self.year),
                ));
            }
        }
        if !self.value.is_finite() || self.value < 0.0 {
            return Err(("value", format!("{} must be a finite number, zero or more", self.value)));
        }
        if let Some(max) = self.value_max
            && (!max.is_finite() || max < self.value)
        {
            return Err(("value_max", format!("{max} must be at least value ({})", self.value)));
        }
        if self.metric.unit() == "%" && self.value_max.unwrap_or(self.value) > 100.0 {
            return Err(("value", format!("{} is a percentage: 0 to 100", self.metric)));
        }
        if self.origin.is_some() && !self.metric.by_origin() {
            return Err((
                "origin",
                format!("{} is not counted by FDI or DDI; leave origin empty", self.metric),
            ));
        }
        match self.vnd_per_usd {
            Some(rate) if !rate.is_finite() || rate <= 0.0 => {
                return Err((
                    "vnd_per_usd",
                    format!("{rate} is not an exchange rate; give VND per USD, e.g. 23000"),
                ));
            }
            None if self.metric.converts() && self.origin.is_none() => {
                return Err((
                    "vnd_per_usd",
                    format!(
                        "{} adds USD and VND capital: give the rate the plan converts at (VND per USD), \
                         or set origin to fdi or ddi",
                        self.metric
                    ),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}
