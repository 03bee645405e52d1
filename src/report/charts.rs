//! The report's charts as SVG, drawn with `plotters` (SVG backend; text is left to the viewer's fonts, so
//! Vietnamese renders wherever the page does): occupancy by zone (bars), occupancy over time (line) and
//! progress against the year's targets (bars).

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::{Lang, Report, ReportError};

/// The charts the report offers, by the name in their URL.
pub const NAMES: &[&str] = &["occupancy-by-zone", "occupancy-over-time", "targets"];

const BLUE: RGBColor = RGBColor(31, 78, 121);
const LIGHT: RGBColor = RGBColor(158, 202, 225);
const ORANGE: RGBColor = RGBColor(230, 126, 34);
const FONT: &str = "sans-serif";

fn render_error<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Render(e.to_string())
}

/// The chart called `name` (one of [`NAMES`]), as an SVG document.
pub fn render(report: &Report, name: &str, lang: Lang) -> Result<Option<String>, ReportError> {
    Ok(Some(match name {
        "occupancy-by-zone" => occupancy_by_zone(report, lang)?,
        "occupancy-over-time" => occupancy_over_time(report, lang)?,
        "targets" => targets(report, lang)?,
        _ => return Ok(None),
    }))
}

/// A horizontal bar chart: one bar per `(label, value %)`, listed top-down, each with its value written
/// after it, and a vertical reference line at `reference` (drawn orange). Bars reaching the reference
/// are dark, the others light, when `shade` is set.
struct Bars {
    title: String,
    bars: Vec<(String, f64)>,
    reference: f64,
    shade: bool,
    x_desc: String,
    label_area: u32,
    bar_height: u32,
    decimals: usize,
    lang: Lang,
}

impl Bars {
    fn draw(self) -> Result<String, ReportError> {
        // Segment 0 is drawn at the bottom: reverse, so the list reads top-down.
        let bars: Vec<(String, f64)> = self.bars.into_iter().rev().collect();
        let n = bars.len().max(1);
        let top = bars.iter().map(|(_, v)| *v).fold(self.reference.max(100.0), f64::max) * 1.12;
        let (reference, lang, decimals) = (self.reference, self.lang, self.decimals);
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (760, 90 + self.bar_height * n as u32)).into_drawing_area();
            root.fill(&WHITE).map_err(render_error)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(self.title, (FONT, 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(self.label_area)
                .build_cartesian_2d(0f64..top, (0..n).into_segmented())
                .map_err(render_error)?;
            let names: Vec<&str> = bars.iter().map(|(name, _)| name.as_str()).collect();
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(n)
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => names.get(*i).map(|s| s.to_string()).unwrap_or_default(),
                    _ => String::new(),
                })
                .x_labels(12)
                .x_label_formatter(&|v| format!("{v:.0}"))
                .light_line_style(WHITE)
                .x_desc(self.x_desc)
                .label_style((FONT, 13))
                .draw()
                .map_err(render_error)?;
            chart
                .draw_series(bars.iter().enumerate().map(|(i, (_, value))| {
                    let colour = if !self.shade || *value >= reference { BLUE } else { LIGHT };
                    let mut bar = Rectangle::new(
                        [(0.0, SegmentValue::Exact(i)), (*value, SegmentValue::Exact(i + 1))],
                        colour.filled(),
                    );
                    bar.set_margin(4, 4, 0, 0);
                    bar
                }))
                .map_err(render_error)?;
            chart
                .draw_series(bars.iter().enumerate().map(|(i, (_, value))| {
                    Text::new(
                        format!("{} %", super::number(*value, decimals, lang)),
                        (value + top * 0.01, SegmentValue::CenterOf(i)),
                        (FONT, 12).into_font().color(&BLACK),
                    )
                }))
                .map_err(render_error)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(reference, SegmentValue::Exact(0)), (reference, SegmentValue::Exact(n))],
                    ORANGE.stroke_width(2),
                )))
                .map_err(render_error)?;
            root.present().map_err(render_error)?;
        }
        Ok(svg)
    }
}

/// Horizontal bars: each zone in scope (or each province in the national view), with the threshold line.
pub fn occupancy_by_zone(report: &Report, lang: Lang) -> Result<String, ReportError> {
    let bars = if report.level == "national" {
        report
            .provinces
            .iter()
            .map(|p| {
                (p.summary.province_name.clone().unwrap_or_default(), p.summary.occupancy_pct.unwrap_or(0.0))
            })
            .collect()
    } else {
        report
            .zone_lines
            .iter()
            .filter(|z| z.figures.in_scope)
            .map(|z| (z.figures.zone_name.clone(), z.figures.occupancy_pct.unwrap_or(0.0)))
            .collect()
    };
    let threshold = report.rules.expansion_min_occupancy_pct;
    Bars {
        title: format!(
            "{} — {} ({})",
            lang.pick("Tỷ lệ lấp đầy theo KCN", "Occupancy by zone"),
            report.place(lang),
            report.at.format("%d/%m/%Y")
        ),
        bars,
        reference: threshold,
        shade: true,
        x_desc: format!(
            "{} — {} {threshold:.0} %",
            lang.pick("Tỷ lệ lấp đầy (%)", "Occupancy (%)"),
            lang.pick("ngưỡng mở rộng", "expansion threshold")
        ),
        label_area: 210,
        bar_height: 26,
        decimals: 2,
        lang,
    }
    .draw()
}

/// Line: occupancy at each quarter end of the series.
pub fn occupancy_over_time(report: &Report, lang: Lang) -> Result<String, ReportError> {
    let points: Vec<(usize, f64)> = report
        .occupancy_series
        .iter()
        .enumerate()
        .map(|(i, p)| (i, p.occupancy_pct.unwrap_or(0.0)))
        .collect();
    let quarters: Vec<String> = report.occupancy_series.iter().map(|p| p.quarter.clone()).collect();
    let last = points.len().saturating_sub(1).max(1);
    let title =
        format!("{} — {}", lang.pick("Tỷ lệ lấp đầy theo quý", "Occupancy by quarter"), report.place(lang));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(render_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(48)
            .build_cartesian_2d(0usize..last, 0f64..100f64)
            .map_err(render_error)?;
        chart
            .configure_mesh()
            .x_labels(10)
            .x_label_formatter(&|i| quarters.get(*i).cloned().unwrap_or_default())
            .y_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(WHITE)
            .y_desc(lang.pick("Tỷ lệ lấp đầy (%)", "Occupancy (%)"))
            .label_style((FONT, 12))
            .draw()
            .map_err(render_error)?;
        chart
            .draw_series(LineSeries::new(points.iter().copied(), BLUE.stroke_width(2)))
            .map_err(render_error)?;
        chart
            .draw_series(points.iter().map(|&(i, v)| Circle::new((i, v), 3, BLUE.filled())))
            .map_err(render_error)?;
        root.present().map_err(render_error)?;
    }
    Ok(svg)
}

fn metric_label(metric: crate::domain::TargetMetric, lang: Lang) -> &'static str {
    use crate::domain::TargetMetric::*;
    match metric {
        InfrastructureHa => lang.pick("Hạ tầng hoàn thành (ha)", "Infrastructure completed (ha)"),
        CapitalUsd => lang.pick("Vốn đăng ký (USD)", "Registered capital (USD)"),
        CapitalVnd => lang.pick("Vốn đăng ký (VND)", "Registered capital (VND)"),
        ProjectsNew => lang.pick("Dự án mới", "New projects"),
        ProjectsOperating => lang.pick("Dự án đi vào hoạt động", "Projects starting operation"),
        NewJobs => lang.pick("Việc làm mới", "New jobs"),
        CapitalIncreaseUsd => lang.pick("Vốn tăng thêm (USD)", "Capital increases (USD)"),
        CapitalIncreaseVnd => lang.pick("Vốn tăng thêm (VND)", "Capital increases (VND)"),
        CapitalAttractedUsd => lang.pick("Vốn cấp mới và tăng thêm (USD)", "New and added capital (USD)"),
        CapitalAttractedVnd => lang.pick("Vốn cấp mới và tăng thêm (VND)", "New and added capital (VND)"),
        ProjectsAttracted => lang.pick("Dự án cấp mới hoặc tăng vốn", "Projects new or adding capital"),
        RealisedCapitalUsd => lang.pick("Vốn thực hiện (USD)", "Capital realised (USD)"),
        RealisedCapitalVnd => lang.pick("Vốn thực hiện (VND)", "Capital realised (VND)"),
        RevenueUsd => lang.pick("Doanh thu (USD)", "Revenue (USD)"),
        RevenueVnd => lang.pick("Doanh thu (VND)", "Revenue (VND)"),
        ExportsUsd => lang.pick("Xuất khẩu (USD)", "Exports (USD)"),
        BudgetVnd => lang.pick("Nộp ngân sách (VND)", "Budget paid (VND)"),
        ProjectsValid => lang.pick("Dự án còn hiệu lực", "Valid projects"),
        CapitalRegisteredUsd => lang.pick("Tổng vốn đăng ký (USD)", "Total registered capital (USD)"),
        CapitalRegisteredVnd => lang.pick("Tổng vốn đăng ký (VND)", "Total registered capital (VND)"),
        Workers => lang.pick("Lao động", "Workers"),
        OccupancyPct => lang.pick("Tỷ lệ lấp đầy (%)", "Occupancy (%)"),
        OperatingPct => lang.pick("Tỷ lệ dự án hoạt động (%)", "Projects operating (%)"),
        WwtpCoveragePct => lang.pick("KCN có XLNT tập trung (%)", "Zones with a working WWTP (%)"),
    }
}

/// Label of a target metric in the report's language.
pub fn target_label(metric: crate::domain::TargetMetric, lang: Lang) -> &'static str {
    metric_label(metric, lang)
}

/// Bars: actual over target for each metric of the year, with the 100 % line.
pub fn targets(report: &Report, lang: Lang) -> Result<String, ReportError> {
    Bars {
        title: format!(
            "{} {} — {}",
            lang.pick("Tiến độ so với kế hoạch năm", "Progress against the plan for"),
            report.targets.year,
            report.place(lang)
        ),
        bars: report
            .targets
            .lines
            .iter()
            .map(|l| {
                let mut label = metric_label(l.metric, lang).to_string();
                if let Some(origin) = l.origin {
                    label = format!("{label} {}", origin.as_str().to_uppercase());
                }
                if l.period != report.targets.year.to_string() {
                    label = format!("{label}, {}", l.period);
                }
                (label, l.pct.unwrap_or(0.0))
            })
            .collect(),
        reference: 100.0,
        shade: false,
        x_desc: lang.pick("Đạt so với chỉ tiêu (%)", "Actual over target (%)").to_string(),
        label_area: 230,
        bar_height: 40,
        decimals: 0,
        lang,
    }
    .draw()
}
