//! A province's plan targets: for a year, a quarter or several years; one value or a range; on all
//! projects or on FDI or DDI alone.

use super::{BASE, Collection, PROVINCE_CODE, closed, integer, parse, real, text, text_of};
use crate::domain::{Origin, Target, TargetMetric};

pub const TARGETS: Collection = Collection {
    id: "targets",
    title: "Plan targets",
    description: "A province's targets (chỉ tiêu kế hoạch) for a year, a quarter (`quarter`) or several years \
        (`to_year`): one value or a range (`value` to `value_max`), on all projects or FDI or DDI alone \
        (`origin`). Flows (new projects, capital attracted, revenue, …) are summed over the period; levels \
        (valid projects, registered capital, workers, percentages) are read on its last day",
    table: "targets",
    zone_key: None,
    fields: &[
        PROVINCE_CODE,
        integer("year", "Calendar year of the target (the first, for several years)"),
        integer("quarter", "Quarter of the year (1–4) for a quarter's target"),
        integer("to_year", "Last year of a target for several years (giai đoạn)"),
        closed(
            "metric",
            "What the target measures: infrastructure_ha; new certificates (projects_new, capital_usd, \
             capital_vnd); capital increases (capital_increase_usd, capital_increase_vnd); new and added \
             together (projects_attracted, capital_attracted_usd, capital_attracted_vnd); projects_operating \
             and new_jobs (projects into operation); the enterprises' results (realised_capital_usd, \
             realised_capital_vnd, revenue_usd, revenue_vnd, exports_usd, budget_vnd); levels \
             (projects_valid, capital_registered_usd, capital_registered_vnd, workers, occupancy_pct, \
             operating_pct, wwtp_coverage_pct)",
            TargetMetric::NAMES,
            &[],
        ),
        closed(
            "origin",
            "fdi or ddi: projects of that origin alone; empty for all",
            Origin::NAMES,
            &[("fdi", &["von nuoc ngoai", "nuoc ngoai"]), ("ddi", &["trong nuoc", "von trong nuoc"])],
        ),
        real(
            "value",
            "Target value in the metric's unit (ha, USD, VND, projects, jobs, workers, %); a range's low end",
        ),
        real("value_max", "A range's high end ('2–3 projects': value 2, value_max 3)"),
        real(
            "vnd_per_usd",
            "Exchange rate the plan converts capital at, VND per USD (capital_attracted_* on all projects)",
        ),
        text("plan_ref", "The decision or plan that set the target"),
    ],
    canonical: |p| super::checked::<Target>(p, Target::check),
    // VN-66-2022-capital_usd; VN-70-2023-Q4-projects_attracted-fdi; VN-56-2023-2025-workers.
    natural_id: |p| {
        let target: Target = parse(p).ok()?;
        let origin = target.origin.map(|o| format!("-{o}")).unwrap_or_default();
        Some(format!("{}-{}-{}{origin}", text_of(p, "province_code")?, target.period_label(), target.metric))
    },
    // The targets whose period has begun by the date.
    as_of: Some(|p, at| Ok(parse::<Target>(p)?.period().0 <= at)),
    ..BASE
};
