//! The report as the files a board sends upward: Word (DOCX, with `docx-rs`), Excel (XLSX, with
//! `rust_xlsxwriter`) and PDF (the HTML report, charts inline, printed by headless Chromium). Each holds
//! the same sections, wording and numbers as the HTML and Markdown reports (`html::sections`).

use std::io::Cursor;
use std::path::PathBuf;
use std::process::Command;

use super::html::{empty_note, render_html, sections, title};
use super::{Lang, Report, ReportError, csv_lines};

fn render_error(what: &str) -> impl Fn(String) -> ReportError + '_ {
    move |e| ReportError::Render(format!("{what}: {e}"))
}

/// The report as a Word document: the title, then each section's heading and table (header row bold).
pub fn render_docx(report: &Report, lang: Lang) -> Result<Vec<u8>, ReportError> {
    use docx_rs::{Docx, Paragraph, Run, Table, TableCell, TableRow};
    let text = |t: &str, bold: bool, half_points: usize| {
        let run = Run::new().add_text(t).size(half_points);
        Paragraph::new().add_run(if bold { run.bold() } else { run })
    };
    let mut doc = Docx::new().add_paragraph(text(&title(report, lang), true, 32));
    for (id, heading, table) in sections(report, lang) {
        doc = doc.add_paragraph(text(&heading, true, 26));
        let rows = table
            .0
            .iter()
            .enumerate()
            .map(|(i, row)| {
                TableRow::new(
                    row.iter().map(|cell| TableCell::new().add_paragraph(text(cell, i == 0, 20))).collect(),
                )
            })
            .collect();
        doc = doc.add_table(Table::new(rows));
        if let Some(note) = empty_note(report, id, lang) {
            doc = doc.add_paragraph(text(note, false, 20));
        }
    }
    if let Some(notice) = &report.demo_notice {
        doc = doc.add_paragraph(Paragraph::new().add_run(Run::new().add_text(notice).italic().size(18)));
    }
    let mut out = Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| render_error("the Word document")(e.to_string()))?;
    Ok(out.into_inner())
}

/// The report as an Excel workbook: a first sheet laid out like the report (title, each section's heading
/// and table), and a second sheet with every figure on its own row as a number with its unit (the CSV's
/// lines), for formulas and pivot tables.
pub fn render_xlsx(report: &Report, lang: Lang) -> Result<Vec<u8>, ReportError> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| render_error("the Excel workbook")(e.to_string());
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let big = Format::new().set_bold().set_font_size(14);
    let sheet = book.add_worksheet();
    sheet.set_name(lang.pick("Báo cáo", "Report")).map_err(fail)?;
    sheet.write_string_with_format(0, 0, title(report, lang), &big).map_err(fail)?;
    let mut row = 2u32;
    for (id, heading, table) in sections(report, lang) {
        sheet.write_string_with_format(row, 0, &heading, &bold).map_err(fail)?;
        row += 1;
        for (i, cells) in table.0.iter().enumerate() {
            for (j, cell) in cells.iter().enumerate() {
                let col = u16::try_from(j).unwrap_or(u16::MAX);
                if i == 0 {
                    sheet.write_string_with_format(row, col, cell, &bold).map_err(fail)?;
                } else {
                    sheet.write_string(row, col, cell).map_err(fail)?;
                }
            }
            row += 1;
        }
        if let Some(note) = empty_note(report, id, lang) {
            sheet.write_string(row, 0, note).map_err(fail)?;
            row += 1;
        }
        row += 1;
    }
    if let Some(notice) = &report.demo_notice {
        sheet.write_string(row, 0, notice).map_err(fail)?;
    }
    sheet.set_column_width(0, 44).map_err(fail)?;
    for col in 1..8 {
        sheet.set_column_width(col, 20).map_err(fail)?;
    }

    let data = book.add_worksheet();
    data.set_name(lang.pick("Số liệu", "Figures")).map_err(fail)?;
    for (col, name) in ["section", "province_code", "zone_code", "metric", "value", "unit"].iter().enumerate()
    {
        data.write_string_with_format(0, col as u16, *name, &bold).map_err(fail)?;
    }
    for (i, line) in csv_lines(report).iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        data.write_string(r, 0, line.section).map_err(fail)?;
        data.write_string(r, 1, &line.province_code).map_err(fail)?;
        data.write_string(r, 2, &line.zone_code).map_err(fail)?;
        data.write_string(r, 3, &line.metric).map_err(fail)?;
        match line.value.parse::<f64>() {
            Ok(v) => data.write_number(r, 4, v).map_err(fail)?,
            Err(_) => data.write_string(r, 4, &line.value).map_err(fail)?,
        };
        data.write_string(r, 5, line.unit).map_err(fail)?;
    }
    data.set_column_width(3, 28).map_err(fail)?;
    data.set_column_width(4, 18).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}

/// How long Chromium may take to print a report.
const PDF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The Chromium that prints PDF: `LANDBANK_CHROMIUM`, else the first of Debian's and Google's names on
/// `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LANDBANK_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The report as PDF: the HTML report (charts inline) printed by headless Chromium on A4. Blocking (a
/// second or two); [`ReportError::Unavailable`] when no Chromium is installed.
pub fn render_pdf(report: &Report, lang: Lang) -> Result<Vec<u8>, ReportError> {
    let browser = chromium().ok_or_else(|| {
        ReportError::Unavailable(
            "PDF is printed by Chromium, which is not installed here: install it (Debian: apt-get install \
             chromium) or point LANDBANK_CHROMIUM at a Chromium or Chrome binary; DOCX and XLSX need nothing"
                .into(),
        )
    })?;
    let fail = render_error("the PDF");
    let dir = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
    let (page, pdf) = (dir.path().join("report.html"), dir.path().join("report.pdf"));
    std::fs::write(&page, render_html(report, lang, "charts")?).map_err(|e| fail(e.to_string()))?;
    let log = dir.path().join("chromium.log");
    let mut child = Command::new(&browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).map_err(|e| fail(e.to_string()))?)
        .spawn()
        .map_err(|e| fail(format!("{}: {e}", browser.display())))?;
    // A browser that hangs must not hold a request (or the command) for ever.
    let deadline = std::time::Instant::now() + PDF_TIMEOUT;
    while child.try_wait().map_err(|e| fail(e.to_string()))?.is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!("{} did not finish within {PDF_TIMEOUT:?}", browser.display())));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let bytes = std::fs::read(&pdf).map_err(|_| {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        fail(format!("{} printed nothing: {}", browser.display(), said.lines().last().unwrap_or_default()))
    })?;
    if !bytes.starts_with(b"%PDF") {
        return Err(fail("not a PDF".into()));
    }
    Ok(bytes)
}
