//! What projects did each year or quarter, as their enterprises report to the board: capital realised,
//! revenue, exports, budget paid.

use super::{BASE, Check, Collection, PROVINCE_CODE, ZONE_CODE, integer, parse, real, text, text_of};
use crate::domain::ProjectResult;

pub const PROJECT_RESULTS: Collection = Collection {
    id: "project_results",
    title: "Project results",
    description: "What each project did in a year or a quarter, as its enterprise reports to the board (báo cáo \
        tình hình thực hiện dự án và sản xuất kinh doanh): capital realised, revenue, exports and budget paid, \
        declared, in the currency reported. A year's figures count instead of that year's quarters",
    table: "project_results",
    fields: &[
        text("project_id", "The project reporting"),
        ZONE_CODE,
        PROVINCE_CODE,
        integer("year", "Calendar year of the figures"),
        integer("quarter", "Quarter (1–4) for a quarter's figures; empty for the whole year's"),
        real("realised_capital_usd", "Investment capital disbursed (vốn thực hiện), USD (source: declared)"),
        real("realised_capital_vnd", "Investment capital disbursed (vốn thực hiện), VND (source: declared)"),
        real("revenue_usd", "Revenue (doanh thu), USD (source: declared)"),
        real("revenue_vnd", "Revenue (doanh thu), VND (source: declared)"),
        real("exports_usd", "Exports (kim ngạch xuất khẩu), USD (source: declared)"),
        real("budget_vnd", "Paid to the state budget (nộp ngân sách), VND (source: declared)"),
        text("source_ref", "The enterprise's report the figures come from"),
    ],
    checks: &[Check::KnownProject],
    canonical: |p| super::checked::<ProjectResult>(p, ProjectResult::check),
    // BN-QV1-P001-2023, BN-QV1-P001-2023-Q2.
    natural_id: |p| {
        let quarter = p.get("quarter").and_then(serde_json::Value::as_i64).map(|q| format!("-Q{q}"));
        Some(format!("{}-{}{}", text_of(p, "project_id")?, p.get("year")?, quarter.unwrap_or_default()))
    },
    id_letter: "R",
    // Figures exist once their period has ended.
    as_of: Some(|p, at| Ok(parse::<ProjectResult>(p)?.period().1 <= at)),
    aliases: &[
        ("project_id", &["maduan", "duan", "idduan"]),
        ("year", &["nam"]),
        ("quarter", &["quy"]),
        ("realised_capital_usd", &["vonthuchienusd", "vongiaiganusd"]),
        ("realised_capital_vnd", &["vonthuchienvnd", "vonthuchien", "vongiaiganvnd"]),
        ("revenue_usd", &["doanhthuusd"]),
        ("revenue_vnd", &["doanhthuvnd", "doanhthu"]),
        ("exports_usd", &["xuatkhauusd", "kimngachxuatkhau", "xuatkhau"]),
        ("budget_vnd", &["nopngansach", "ngansach", "nopngansachvnd"]),
    ],
    ..BASE
};
