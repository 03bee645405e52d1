//! A province's plan targets for a year.

use super::{BASE, Collection, PROVINCE_CODE, closed, integer, parse, real, text, text_of};
use crate::domain::{Target, TargetMetric};

pub const TARGETS: Collection = Collection {
    id: "targets",
    title: "Plan targets",
    description: "A province's targets for a year (chỉ tiêu kế hoạch): infrastructure hectares, registered capital, \
        projects starting operation, new jobs",
    table: "targets",
    zone_key: None,
    fields: &[
        PROVINCE_CODE,
        integer("year", "Calendar year of the target"),
        closed(
            "metric",
            "infrastructure_ha, capital_usd, capital_vnd, projects_new, projects_operating or new_jobs",
            TargetMetric::NAMES,
            &[],
        ),
        real("value", "Target value, in the metric's unit (hectares, USD, VND, projects, jobs)"),
        text("plan_ref", "The decision or plan that set the target"),
    ],
    canonical: super::canonical::<Target>,
    natural_id: |p| {
        Some(format!("{}-{}-{}", text_of(p, "province_code")?, p.get("year")?, text_of(p, "metric")?))
    },
    // The targets of the date's year and before.
    as_of: |p, at| {
        use chrono::Datelike;
        Ok(parse::<Target>(p)?.year <= i64::from(at.year()))
    },
    ..BASE
};
