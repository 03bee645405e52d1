//! The report as an HTML page (charts inline) and as Markdown, in Vietnamese or English. Numbers are
//! formatted the Vietnamese way (`1.234,56`) in Vietnamese and the English way in English.

use std::fmt::Write;

use super::charts::{self, target_label};
use super::{Check, Lang, Report, ReportError};
use crate::domain::ZoneStatus;

/// `value` with two decimals (or none), grouped in thousands, in the language's convention.
pub fn number(value: f64, decimals: usize, lang: Lang) -> String {
    let text = format!("{:.*}", decimals, (value * 100.0).round() / 100.0 + 0.0);
    let (int, frac) = text.split_once('.').map(|(i, f)| (i, Some(f))).unwrap_or((&text, None));
    let (sign, digits) = int.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", int));
    let (group, point) = match lang {
        Lang::Vi => ('.', ','),
        Lang::En => (',', '.'),
    };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}{point}{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Money as the boards write it: USD in millions ("11.705 triệu USD", "USD 11,705 million") and VND in
/// billions ("3.494,78 tỷ đồng", "VND 3,494.78 billion"), two decimals where they are not zero.
pub fn money(value: f64, currency: &str, lang: Lang) -> String {
    let (scaled, vi, en) = match currency {
        "VND" => (value / 1e9, "tỷ đồng", "billion"),
        _ => (value / 1e6, "triệu USD", "million"),
    };
    let text = number(scaled, 2, lang);
    let text = text.strip_suffix(",00").or_else(|| text.strip_suffix(".00")).unwrap_or(&text).to_string();
    match lang {
        Lang::Vi => format!("{text} {vi}"),
        Lang::En => format!("{currency} {text} {en}"),
    }
}

fn ha(v: f64, lang: Lang) -> String {
    format!("{} ha", number(v, 2, lang))
}

fn percent(v: Option<f64>, lang: Lang) -> String {
    v.map(|v| format!("{} %", number(v, 2, lang))).unwrap_or_else(|| "—".into())
}

fn status(s: ZoneStatus, lang: Lang) -> &'static str {
    match s {
        ZoneStatus::Planned => lang.pick("Quy hoạch", "Planned"),
        ZoneStatus::PolicyApproved => lang.pick("Chủ trương đầu tư", "Policy approved"),
        ZoneStatus::Established => lang.pick("Đã thành lập", "Established"),
        ZoneStatus::Operating => lang.pick("Đang hoạt động", "Operating"),
        ZoneStatus::Suspended => lang.pick("Tạm dừng", "Suspended"),
        ZoneStatus::Cancelled => lang.pick("Đã hủy", "Cancelled"),
    }
}

pub(super) fn title(report: &Report, lang: Lang) -> String {
    let place = report.place(lang);
    format!(
        "{} {} — {} {}",
        lang.pick("Báo cáo tình hình các khu công nghiệp", "Industrial zones report:"),
        place,
        lang.pick("tính đến ngày", "as of"),
        report.at.format("%d/%m/%Y")
    )
}

/// A table as rows of cells; the first row is the header.
pub(super) struct Table(pub(super) Vec<Vec<String>>);

impl Table {
    fn markdown(&self) -> String {
        let mut out = String::new();
        for (i, row) in self.0.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
            if i == 0 {
                let _ = writeln!(out, "|{}", "---|".repeat(row.len()));
            }
        }
        out
    }
}

/// The report's sections, each a heading and a table.
pub(super) fn sections(report: &Report, lang: Lang) -> Vec<(&'static str, String, Table)> {
    let l = lang;
    let mut out = Vec::new();
    let z = &report.zones;
    out.push((
        "summary",
        l.pick("Tổng quan", "Summary").to_string(),
        Table(vec![
            vec![l.pick("Chỉ tiêu", "Figure").into(), l.pick("Giá trị", "Value").into()],
            vec![
                l.pick("KCN trong quy hoạch", "Zones in the plan").into(),
                format!("{} ({})", z.in_plan.count, ha(z.in_plan.area_ha, l)),
            ],
            vec![
                l.pick("KCN đã thành lập", "Zones established").into(),
                format!("{} ({})", z.established.count, ha(z.established.area_ha, l)),
            ],
            vec![
                l.pick("KCN đang hoạt động", "Zones operating").into(),
                format!("{} ({})", z.operating.count, ha(z.operating.area_ha, l)),
            ],
            vec![
                l.pick("Đất công nghiệp cho thuê", "Leasable industrial land").into(),
                ha(report.land.leasable_ha, l),
            ],
            vec![l.pick("Đã cho thuê", "Leased").into(), ha(report.land.leased_ha, l)],
            vec![l.pick("Còn trống", "Available").into(), ha(report.land.available_ha, l)],
            vec![l.pick("Tỷ lệ lấp đầy", "Occupancy").into(), percent(report.land.occupancy_pct, l)],
            vec![
                l.pick("Giải phóng mặt bằng", "Site clearance").into(),
                format!(
                    "{} / {} ({})",
                    ha(report.clearance.handed_over_ha, l),
                    ha(report.clearance.parcel_ha, l),
                    percent(report.clearance.progress_pct, l)
                ),
            ],
            vec![
                l.pick("Dự án còn hiệu lực (FDI / DDI)", "Valid projects (FDI / DDI)").into(),
                format!(
                    "{} ({} / {})",
                    report.projects.valid, report.projects.valid_fdi, report.projects.valid_ddi
                ),
            ],
            vec![
                l.pick("Vốn đăng ký FDI", "Registered capital, FDI").into(),
                money(report.projects.capital_usd, "USD", l),
            ],
            vec![
                l.pick("Vốn đăng ký DDI", "Registered capital, DDI").into(),
                money(report.projects.capital_vnd, "VND", l),
            ],
            vec![
                l.pick("Dự án đang hoạt động", "Operating projects").into(),
                format!(
                    "{} ({} {})",
                    report.projects.operating,
                    percent(report.projects.operating_pct, l),
                    l.pick("số dự án còn hiệu lực", "of valid projects")
                ),
            ],
            vec![l.pick("Lao động", "Employees").into(), number(report.projects.employees as f64, 0, l)],
            vec![
                l.pick(
                    "KCN hoạt động có nhà máy XLNT tập trung",
                    "Operating zones with a working central WWTP",
                )
                .into(),
                format!(
                    "{} / {} ({})",
                    report.wwtp.with_working_plant,
                    report.wwtp.operating_zones,
                    percent(report.wwtp.coverage_pct, l)
                ),
            ],
        ]),
    ));
    if !report.provinces.is_empty() {
        let mut rows = vec![vec![
            l.pick("Tỉnh", "Province").into(),
            l.pick("KCN", "Zones").into(),
            l.pick("Đất cho thuê", "Leasable").into(),
            l.pick("Đã thuê", "Leased").into(),
            l.pick("Lấp đầy", "Occupancy").into(),
            l.pick("Dự án", "Projects").into(),
        ]];
        for p in &report.provinces {
            rows.push(vec![
                p.summary.province_name.clone().unwrap_or_default(),
                p.summary.zones_total.to_string(),
                ha(p.summary.leasable_ha, l),
                ha(p.summary.leased_ha, l),
                percent(p.summary.occupancy_pct, l),
                p.projects.valid.to_string(),
            ]);
        }
        out.push(("provinces", l.pick("Theo tỉnh", "By province").to_string(), Table(rows)));
    }
    let mut rows = vec![vec![
        l.pick("Mã", "Code").into(),
        l.pick("Khu công nghiệp", "Zone").into(),
        l.pick("Tình trạng", "Status").into(),
        l.pick("Đất cho thuê", "Leasable").into(),
        l.pick("Đã thuê", "Leased").into(),
        l.pick("Lấp đầy", "Occupancy").into(),
        l.pick("GPMB", "Clearance").into(),
        l.pick("XLNT", "WWTP").into(),
    ]];
    for zl in &report.zone_lines {
        rows.push(vec![
            zl.figures.zone_code.clone(),
            zl.figures.zone_name.clone(),
            status(zl.figures.status, l).into(),
            ha(zl.figures.leasable_ha, l),
            ha(zl.figures.leased_ha, l),
            percent(zl.figures.occupancy_pct, l),
            percent(zl.clearance.progress_pct, l),
            if zl.wwtp_operating { l.pick("có", "yes") } else { l.pick("chưa", "no") }.into(),
        ]);
    }
    out.push(("zones", l.pick("Các khu công nghiệp", "Zones").to_string(), Table(rows)));

    // The year so far, always (boards write "từ đầu năm" whether or not a target exists).
    let d = &report.period;
    let split =
        |fdi: u64, ddi: u64| format!("{} FDI, {} DDI", number(fdi as f64, 0, l), number(ddi as f64, 0, l));
    let rows = vec![
        vec![l.pick("Chỉ tiêu", "Metric").into(), l.pick("Thực hiện", "Actual").into()],
        vec![
            l.pick("Dự án cấp mới", "New projects").into(),
            format!("{} ({})", number(d.new_projects as f64, 0, l), split(d.new_fdi, d.new_ddi)),
        ],
        vec![
            l.pick("Vốn đăng ký cấp mới (USD)", "New registered capital (USD)").into(),
            money(d.new_capital_usd, "USD", l),
        ],
        vec![
            l.pick("Vốn đăng ký cấp mới (VND)", "New registered capital (VND)").into(),
            money(d.new_capital_vnd, "VND", l),
        ],
        vec![
            l.pick("Dự án đi vào hoạt động", "Projects into operation").into(),
            format!(
                "{} ({})",
                number(d.into_operation as f64, 0, l),
                split(d.into_operation_fdi, d.into_operation_ddi)
            ),
        ],
        vec![l.pick("Lao động mới", "New jobs").into(), number(d.new_jobs as f64, 0, l)],
        vec![l.pick("Hạ tầng hoàn thành", "Infrastructure completed").into(), ha(d.infrastructure_ha, l)],
    ];
    let mut rows = rows;
    // Decisions on projects, FDI and DDI apart, as boards write them ("điều chỉnh … lượt, trong đó …").
    for (origin, e, currency) in [("FDI", &d.fdi_decisions, "USD"), ("DDI", &d.ddi_decisions, "VND")] {
        let (up, down) = if currency == "USD" {
            (e.increase_usd, e.decrease_usd)
        } else {
            (e.increase_vnd, e.decrease_vnd)
        };
        rows.push(vec![
            format!("{} ({origin})", l.pick("Lượt điều chỉnh", "Adjustments")),
            format!(
                "{}; {} {}: {} {} (+{}), {} {} (−{})",
                number(e.adjustments as f64, 0, l),
                number(e.capital_changes as f64, 0, l),
                l.pick("thay đổi vốn", "changed capital"),
                number(e.increases as f64, 0, l),
                l.pick("tăng", "up"),
                money(up, currency, l),
                number(e.decreases as f64, 0, l),
                l.pick("giảm", "down"),
                money(down, currency, l),
            ),
        ]);
        if e.suspensions + e.terminations + e.revocations > 0 {
            rows.push(vec![
                format!(
                    "{} ({origin})",
                    l.pick("Tạm ngừng / chấm dứt / thu hồi", "Suspended / terminated / revoked")
                ),
                format!("{} / {} / {}", e.suspensions, e.terminations, e.revocations),
            ]);
        }
    }
    let heading = format!(
        "{} {} ({} – {})",
        l.pick("Từ đầu năm đến ngày", "Since 1 January to"),
        d.to.format("%d/%m/%Y"),
        d.from.format("%d/%m/%Y"),
        d.to.format("%d/%m/%Y")
    );
    out.push(("period", heading, Table(rows)));

    // What enterprises declared: last year's and the year's so far, FDI and DDI apart.
    let mut rows = vec![vec![l.pick("Kỳ", "Period").into(), l.pick("Khối", "Investors").into()]];
    /// Vietnamese and English column names, the amount, its currency.
    type Amount = (&'static str, &'static str, fn(&super::ResultAmounts) -> f64, &'static str);
    let amounts: [Amount; 6] = [
        ("Vốn thực hiện (USD)", "Capital realised (USD)", |a| a.realised_capital_usd, "USD"),
        ("Vốn thực hiện (VND)", "Capital realised (VND)", |a| a.realised_capital_vnd, "VND"),
        ("Doanh thu (USD)", "Revenue (USD)", |a| a.revenue_usd, "USD"),
        ("Doanh thu (VND)", "Revenue (VND)", |a| a.revenue_vnd, "VND"),
        ("Xuất khẩu (USD)", "Exports (USD)", |a| a.exports_usd, "USD"),
        ("Nộp ngân sách (VND)", "Budget paid (VND)", |a| a.budget_vnd, "VND"),
    ];
    rows[0].push(l.pick("Doanh nghiệp báo cáo", "Projects reporting").into());
    rows[0].extend(amounts.iter().map(|(vi, en, _, _)| l.pick(vi, en).to_string()));
    for r in report.results.iter().filter(|r| r.all.projects_reporting > 0) {
        for (name, a) in [(l.pick("Tổng", "All"), &r.all), ("FDI", &r.fdi), ("DDI", &r.ddi)] {
            let mut row = vec![r.label.clone(), name.into(), number(a.projects_reporting as f64, 0, l)];
            row.extend(amounts.iter().map(|(_, _, get, currency)| money(get(a), currency, l)));
            rows.push(row);
        }
    }
    let heading =
        l.pick("Kết quả sản xuất kinh doanh (doanh nghiệp báo cáo)", "Enterprises' results (declared)");
    out.push(("results", heading.to_string(), Table(rows)));

    // The watch list: projects behind the commitments of their certificates, and the land at stake.
    let mut rows = vec![vec![
        l.pick("Dự án", "Project").into(),
        l.pick("KCN", "Zone").into(),
        l.pick("Mốc cam kết", "Milestone").into(),
        l.pick("Hạn", "Due").into(),
        l.pick("Chậm (ngày)", "Days late").into(),
        l.pick("Đất đang thuê", "Land held").into(),
    ]];
    for b in &report.behind {
        let milestone = match b.milestone {
            "land_handover" => l.pick("Nhận bàn giao đất", "Land handed over"),
            "construction" => l.pick("Khởi công xây dựng", "Construction started"),
            _ => l.pick("Đi vào hoạt động", "Operating"),
        };
        rows.push(vec![
            b.tenant_name.clone(),
            b.zone_code.clone().unwrap_or_default(),
            milestone.into(),
            b.due_on.format("%d/%m/%Y").to_string(),
            number(b.days_late as f64, 0, l),
            ha(b.leased_ha, l),
        ]);
    }
    out.push(("behind", l.pick("Dự án chậm tiến độ", "Projects behind schedule").to_string(), Table(rows)));

    let mut rows = vec![vec![
        l.pick("Chỉ tiêu", "Metric").into(),
        l.pick("Kỳ", "Period").into(),
        l.pick("Kế hoạch", "Target").into(),
        l.pick("Thực hiện", "Actual").into(),
        l.pick("Đạt", "Progress").into(),
    ]];
    for t in &report.targets.lines {
        let decimals = if matches!(t.unit, "ha" | "%") { 2 } else { 0 };
        let value = |v: f64| match t.unit {
            "USD" | "VND" => money(v, t.unit, l),
            "%" => format!("{} %", number(v, decimals, l)),
            _ => number(v, decimals, l),
        };
        let target = match t.target_max {
            Some(max) => format!("{} – {}", value(t.target), value(max)),
            None => value(t.target),
        };
        let mut metric = target_label(t.metric, l).to_string();
        if let Some(origin) = t.origin {
            metric = format!("{metric} ({})", origin.as_str().to_uppercase());
        }
        if let Some(rate) = t.vnd_per_usd.filter(|_| t.metric.converts()) {
            metric = format!("{metric}, {} {} VND/USD", l.pick("quy đổi", "at"), number(rate, 0, l));
        }
        let status = match t.status {
            "reached" => l.pick("đạt", "reached"),
            "within" => l.pick("trong khoảng", "within range"),
            "above" => l.pick("vượt", "above"),
            _ => l.pick("chưa đạt", "below"),
        };
        rows.push(vec![
            metric,
            period_label(&t.period, l),
            target,
            value(t.actual),
            format!("{} ({status})", percent(t.pct, l)),
        ]);
    }
    let heading = format!(
        "{} {} ({} {} {})",
        l.pick("Kế hoạch năm", "Targets for"),
        report.targets.year,
        report.targets.from.format("%d/%m/%Y"),
        l.pick("đến", "to"),
        report.targets.to.format("%d/%m/%Y")
    );
    out.push(("targets", heading, Table(rows)));

    let mut rows = vec![vec![
        l.pick("Quy định", "Rule").into(),
        l.pick("Tỉnh / KCN", "Province / zone").into(),
        l.pick("Lấp đầy", "Occupancy").into(),
        l.pick("Ngưỡng", "Threshold").into(),
        l.pick("Kết quả", "Result").into(),
    ]];
    for c in &report.checks {
        rows.push(check_row(c, l));
    }
    out.push(("checks", l.pick("Điều kiện theo quy định", "Regulatory checks").to_string(), Table(rows)));
    out
}

fn check_row(c: &Check, l: Lang) -> Vec<String> {
    let rule = if c.rule == "new_zone" {
        l.pick("Thành lập KCN mới", "New zone in the province")
    } else {
        l.pick("Mở rộng KCN", "Zone expansion")
    };
    let result = match (c.passes, c.wwtp_operating) {
        (true, _) => l.pick("Đạt", "Passes").to_string(),
        (false, Some(false)) if c.occupancy_pct.is_some_and(|o| o >= c.threshold_pct) => {
            l.pick("Chưa đạt: chưa có nhà máy XLNT", "Fails: no working WWTP").to_string()
        }
        (false, _) => l.pick("Chưa đạt", "Fails").to_string(),
    };
    vec![
        rule.into(),
        c.name.clone(),
        percent(c.occupancy_pct, l),
        format!("{} %", number(c.threshold_pct, 0, l)),
        result,
    ]
}

/// A target's period as boards write it: `2022`, `Quý IV/2023` (`Q4 2023`), `2021–2025`.
fn period_label(period: &str, l: Lang) -> String {
    if let Some((year, q)) = period.split_once("-Q") {
        let roman = ["I", "II", "III", "IV"].get(q.parse::<usize>().unwrap_or(1).saturating_sub(1)).copied();
        return match l {
            Lang::Vi => format!("Quý {}/{year}", roman.unwrap_or(q)),
            Lang::En => format!("Q{q} {year}"),
        };
    }
    period.replace('-', "–")
}

/// What a section says when it has no lines (targets, for a year without any; results, when no
/// enterprise reported; the watch list, when no project is late).
pub(super) fn empty_note(report: &Report, section: &str, lang: Lang) -> Option<&'static str> {
    match section {
        "targets" if report.targets.lines.is_empty() => {
            Some(lang.pick("Chưa có chỉ tiêu kế hoạch cho năm này.", "No targets are stored for this year."))
        }
        "results" if report.results.iter().all(|r| r.all.projects_reporting == 0) => Some(lang.pick(
            "Chưa có báo cáo kết quả của doanh nghiệp cho năm trước và năm nay.",
            "No enterprise has reported results for last year or this year.",
        )),
        "behind" if report.behind.is_empty() => Some(lang.pick(
            "Không có dự án nào chậm so với các mốc đã cam kết.",
            "No project is behind the milestones it committed to.",
        )),
        _ => None,
    }
}

/// The report as Markdown.
pub fn render_markdown(report: &Report, lang: Lang) -> String {
    let mut out = format!("# {}\n\n", title(report, lang));
    for (id, heading, table) in sections(report, lang) {
        let _ = write!(out, "## {heading}\n\n{}\n", table.markdown());
        if let Some(note) = empty_note(report, id, lang) {
            let _ = writeln!(out, "{note}\n");
        }
    }
    if let Some(notice) = &report.demo_notice {
        let _ = writeln!(out, "_{}_", esc_md(notice));
    }
    out
}

fn esc_md(text: &str) -> String {
    text.replace('_', "\\_")
}

/// The report as one HTML page with its charts inline (and their stable URLs under `chart_base`),
/// rendered from `templates/report.html`.
pub fn render_html(report: &Report, lang: Lang, chart_base: &str) -> Result<String, ReportError> {
    let l = lang;
    let code = l.pick("vi", "en");
    let sections: Vec<serde_json::Value> = sections(report, lang)
        .into_iter()
        .map(|(id, heading, table)| {
            let empty_note = empty_note(report, id, l);
            serde_json::json!({ "id": id, "heading": heading, "rows": table.0, "empty_note": empty_note })
        })
        .collect();
    let mut figures = Vec::new();
    for name in charts::NAMES {
        if *name == "targets" && report.targets.lines.is_empty() {
            continue;
        }
        let svg = charts::render(report, name, lang)?.unwrap_or_default();
        let href = format!("{chart_base}/{name}.svg?at={}&lang={code}", report.at);
        figures.push(serde_json::json!({ "name": name, "svg": svg, "href": href }));
    }
    let other = l.pick("en", "vi");
    let context = serde_json::json!({
        "lang": code,
        "title": title(report, lang),
        "sections": sections,
        "figures": figures,
        "switch": {
            "href": format!("?at={}&f=html&lang={other}", report.at),
            "label": l.pick("English", "Tiếng Việt"),
        },
        "notice": report.demo_notice.as_deref().unwrap_or_default(),
    });
    static TEMPLATES: std::sync::OnceLock<minijinja::Environment<'static>> = std::sync::OnceLock::new();
    let env = TEMPLATES.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.add_template("report.html", include_str!("../../templates/report.html"))
            .expect("the report template parses (checked by the tests)");
        env
    });
    env.get_template("report.html")
        .and_then(|t| t.render(minijinja::value::Serde(&context)))
        .map_err(|e| ReportError::Render(format!("report page: {e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_the_boards_write_it() {
        assert_eq!(money(11_705_000_000.0, "USD", Lang::Vi), "11.705 triệu USD");
        assert_eq!(money(927_890_000.0, "USD", Lang::Vi), "927,89 triệu USD");
        assert_eq!(money(3_494_780_000_000.0, "VND", Lang::Vi), "3.494,78 tỷ đồng");
        assert_eq!(money(11_705_000_000.0, "USD", Lang::En), "USD 11,705 million");
        assert_eq!(money(410e9, "VND", Lang::En), "VND 410 billion");
    }

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(number(2481.5712, 2, Lang::Vi), "2.481,57");
        assert_eq!(number(2481.5712, 2, Lang::En), "2,481.57");
        assert_eq!(number(145_000_000.0, 0, Lang::Vi), "145.000.000");
        assert_eq!(number(-0.001, 2, Lang::En), "0.00");
        assert_eq!(number(60.04, 2, Lang::Vi), "60,04");
    }
}
