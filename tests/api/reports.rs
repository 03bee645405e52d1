//! The board's report over HTTP and from the CLI: the published figures, targets, checks, formats, charts.

use std::collections::HashMap;
use std::sync::Arc;

use landbank::http::{AppState, router};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, scratch_database, spawn_app, spawn_empty_app};

crate::contract!(
    hung_yen_reaches_its_first_quarter_2022_targets,
    bac_ninh_on_17_11_2023_agrees_with_occupancy,
    csv_and_json_say_the_same,
    a_year_without_targets,
    the_national_view_sums_the_provinces,
    an_empty_province_reports_zeros,
    charts_are_svg_at_stable_urls,
);

fn target<'a>(report: &'a Value, metric: &str) -> &'a Value {
    report["targets"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["metric"] == metric)
        .unwrap_or_else(|| panic!("no target line {metric}: {}", report["targets"]))
}

async fn hung_yen_reaches_its_first_quarter_2022_targets(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app.get("/reports/provinces/VN-66?at=2022-03-31").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let report = reply.json();
    assert_eq!(report["province_name"], "Hưng Yên");
    assert_eq!(report["targets"]["year"], 2022);
    assert_eq!(report["targets"]["from"], "2022-01-01");
    // The board's Q1 2022 report: 29 of 120 ha (24 %), about USD 145 of 450 million (32 %),
    // 8 of 30 projects (27 %), about 3,000 of 4,000 jobs (75 %).
    for (metric, goal, about, within, pct) in [
        ("infrastructure_ha", 120.0, 29.0, 1.0, 24.0),
        ("capital_attracted_usd", 450e6, 145e6, 0.5e6, 32.0),
        ("projects_operating", 30.0, 8.0, 0.0, 27.0),
        ("new_jobs", 4000.0, 3000.0, 100.0, 75.0),
    ] {
        let line = target(&report, metric);
        assert_eq!(line["target"].as_f64().unwrap(), goal, "{metric}");
        let actual = line["actual"].as_f64().unwrap();
        assert!((actual - about).abs() <= within, "{metric}: actual {actual}, about {about}");
        assert_eq!(line["pct"].as_f64().unwrap().round(), pct, "{metric}: {line}");
        assert_eq!(line["provinces"], json!(["VN-66"]));
    }
    // Thăng Long II's expansion (phase 3) is in the report, established in March 2022.
    let zones = report["zone_lines"].as_array().unwrap();
    let phase3 = zones.iter().find(|z| z["zone_code"] == "HY-TL2-3").unwrap();
    assert_eq!(phase3["status"], "established");
    assert_eq!(phase3["planned_area_ha"], 180.5);
    // Earlier in the year less was done: the actuals follow the date.
    let january = app.get("/reports/provinces/VN-66?at=2022-01-31").await.json();
    assert!(
        target(&january, "new_jobs")["actual"].as_f64().unwrap() < 3000.0,
        "{}",
        target(&january, "new_jobs")
    );
    assert_eq!(target(&january, "infrastructure_ha")["actual"], 0.0);
}

async fn bac_ninh_on_17_11_2023_agrees_with_occupancy(backend: Backend) {
    let app = spawn_app(backend).await;
    let report = app.get("/reports/provinces/VN-56?at=2023-11-17").await.json();
    assert_eq!(report["level"], "province");
    assert_eq!(report["zones"]["in_plan"], json!({ "count": 16, "area_ha": 6397.68 }));
    assert_eq!(report["zones"]["established"], json!({ "count": 15, "area_ha": 5946.99 }));
    assert_eq!(report["zones"]["operating"]["count"], 12);
    assert_eq!(report["land"]["leased_ha"], 2481.57);
    assert_eq!(report["land"]["leasable_ha"], 4133.19);
    assert_eq!(report["land"]["occupancy_pct"], 60.04);

    let occupancy = app.get("/occupancy?province_code=VN-56&at=2023-11-17").await.json();
    for key in ["leasable_ha", "leased_ha", "reserved_ha", "available_ha", "occupancy_pct", "zones_total"] {
        assert_eq!(report["land"][key], occupancy[key], "{key}");
    }
    let by_zone: HashMap<&str, &Value> = occupancy["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| (z["zone_code"].as_str().unwrap(), z))
        .collect();
    for line in report["zone_lines"].as_array().unwrap() {
        let zone = by_zone[line["zone_code"].as_str().unwrap()];
        for key in ["leasable_ha", "leased_ha", "available_ha", "occupancy_pct", "status"] {
            assert_eq!(line[key], zone[key], "{} {key}", line["zone_code"]);
        }
        let clearance = &line["clearance"];
        let progress = clearance["progress_pct"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&progress), "{clearance}");
    }
    // The series ends on the report date with the same figure.
    let series = report["occupancy_series"].as_array().unwrap();
    assert_eq!(series.len(), 20);
    assert_eq!(series.last().unwrap()["at"], "2023-11-17");
    assert_eq!(series.last().unwrap()["occupancy_pct"], 60.04);
    assert_eq!(series[series.len() - 2]["quarter"], "2023-Q3");
    // 60.04 % ≥ 60 %: Bắc Ninh may add a zone; every operating zone has a working plant.
    let checks = report["checks"].as_array().unwrap();
    let new_zone = checks.iter().find(|c| c["rule"] == "new_zone").unwrap();
    assert_eq!(new_zone["passes"], true, "{new_zone}");
    let expansions: Vec<&Value> = checks.iter().filter(|c| c["rule"] == "expansion").collect();
    assert_eq!(expansions.len(), 15, "one check per established or operating zone");
    for c in expansions {
        let high = c["occupancy_pct"].as_f64().unwrap_or(0.0) >= 60.0;
        assert_eq!(c["passes"], json!(high && c["wwtp_operating"] == true), "{c}");
    }
    let projects = &report["projects"];
    assert_eq!(
        projects["valid"].as_u64().unwrap(),
        projects["valid_fdi"].as_u64().unwrap() + projects["valid_ddi"].as_u64().unwrap()
    );
    assert!(
        projects["capital_usd"].as_f64().unwrap() > 0.0 && projects["capital_vnd"].as_f64().unwrap() > 0.0
    );
}

/// CSV lines by (section, zone_code, metric).
fn csv_map(text: &str) -> HashMap<(String, String, String), String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        ["section", "province_code", "zone_code", "metric", "value", "unit"]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            ((r[0].to_string(), r[2].to_string(), r[3].to_string()), r[4].to_string())
        })
        .collect()
}

fn number(value: &str) -> f64 {
    value.parse().unwrap_or_else(|_| panic!("not a number: {value}"))
}

async fn csv_and_json_say_the_same(backend: Backend) {
    let app = spawn_app(backend).await;
    let report = app.get("/reports/provinces/VN-66?at=2022-03-31").await.json();
    let reply = app.get_with("/reports/provinces/VN-66?at=2022-03-31", &[("accept", "text/csv")]).await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type().starts_with("text/csv"));
    let csv = csv_map(&reply.text());
    let key = |s: &str, z: &str, m: &str| (s.to_string(), z.to_string(), m.to_string());
    for metric in ["leasable_ha", "leased_ha", "available_ha", "occupancy_pct"] {
        assert_eq!(
            number(&csv[&key("land", "", metric)]),
            report["land"][metric].as_f64().unwrap(),
            "{metric}"
        );
    }
    assert_eq!(number(&csv[&key("projects", "", "valid")]), report["projects"]["valid"].as_f64().unwrap());
    assert_eq!(
        number(&csv[&key("projects", "", "capital_usd")]),
        report["projects"]["capital_usd"].as_f64().unwrap()
    );
    for line in report["zone_lines"].as_array().unwrap() {
        let zone = line["zone_code"].as_str().unwrap();
        let occupancy = &csv[&key("zone", zone, "occupancy_pct")];
        match line["occupancy_pct"].as_f64() {
            Some(v) => assert_eq!(number(occupancy), v, "{zone}"),
            None => assert_eq!(occupancy, "", "{zone}"),
        }
    }
    for line in report["targets"]["lines"].as_array().unwrap() {
        let metric = line["metric"].as_str().unwrap();
        assert_eq!(
            number(&csv[&key("targets", "", &format!("{metric}_pct"))]),
            line["pct"].as_f64().unwrap()
        );
        assert_eq!(
            number(&csv[&key("targets", "", &format!("{metric}_actual"))]),
            line["actual"].as_f64().unwrap()
        );
    }
    // Markdown and HTML carry the same figures, formatted for people.
    let md = app.get("/reports/provinces/VN-66?at=2022-03-31&f=md&lang=en").await;
    assert!(md.content_type().starts_with("text/markdown"));
    assert!(md.text().contains("| Infrastructure completed (ha) | 2022 | 120.00 |"), "{}", md.text());
    let html = app.get_with("/reports/provinces/VN-66?at=2022-03-31", &[("accept", "text/html")]).await;
    assert!(html.content_type().starts_with("text/html"));
    let html = html.text();
    assert!(
        html.contains("lang=\"vi\"") && html.contains("Hưng Yên") && html.contains("57,66 %"),
        "Vietnamese by default"
    );
    assert_eq!(html.matches("<svg").count(), 3, "three charts inline");
    // Bad parameters are 400 problems that say what to use.
    let detail = app.get("/reports/provinces/VN-66?f=xml").await.problem(400);
    assert!(detail.contains("json, csv, md, html"), "{detail}");
    let detail = app.get("/reports/provinces/VN-66?lang=fr").await.problem(400);
    assert!(detail.contains("vi or en"), "{detail}");
    app.get("/reports/provinces/VN-66?at=2022-13-01").await.problem(400);
    app.get("/reports/provinces/VN-66?zone=x").await.problem(400);
}

async fn a_year_without_targets(backend: Backend) {
    let app = spawn_app(backend).await;
    let report = app.get("/reports/provinces/VN-66?at=2023-06-30").await.json();
    assert_eq!(report["targets"]["year"], 2023);
    assert_eq!(report["targets"]["lines"], json!([]));
    let html = app.get("/reports/provinces/VN-66?at=2023-06-30&f=html&lang=en").await.text();
    assert!(html.contains("id=\"no-targets\"") && html.contains("No targets are stored for this year"));
    assert_eq!(html.matches("<svg").count(), 2, "no target chart without targets");
    let csv = app.get("/reports/provinces/VN-66?at=2023-06-30&f=csv").await.text();
    assert!(!csv.contains("\ntargets,"), "{csv}");

    // The year so far is reported all the same, and agrees with the projects the API lists.
    let projects = app.get("/collections/projects/items?province_code=VN-66&limit=10000").await.json();
    let in_period = |field: &str| -> Vec<Value> {
        projects["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                p["properties"][field].as_str().is_some_and(|d| ("2023-01-01"..="2023-06-30").contains(&d))
            })
            .map(|p| p["properties"].clone())
            .collect()
    };
    let (certified, operating) = (in_period("certificate_on"), in_period("operating_since"));
    let period = &report["period"];
    assert_eq!((period["from"].as_str(), period["to"].as_str()), (Some("2023-01-01"), Some("2023-06-30")));
    assert_eq!(period["new_projects"], certified.len(), "{period}");
    assert_eq!(period["into_operation"], operating.len(), "{period}");
    let fdi = certified.iter().filter(|p| p["origin"] == "fdi").count();
    assert_eq!(
        (period["new_fdi"].as_u64(), period["new_ddi"].as_u64()),
        (Some(fdi as u64), Some((certified.len() - fdi) as u64))
    );
    let usd: f64 = certified.iter().filter_map(|p| p["capital_usd"].as_f64()).sum();
    assert!((period["new_capital_usd"].as_f64().unwrap() - usd).abs() < 0.01, "{period} vs {usd}");
    assert!(
        certified.len() + operating.len() > 0,
        "the demo has projects in Thái Nguyên's first half of 2023"
    );
    assert!(csv.contains(&format!("period,VN-66,,new_projects,{},projects", certified.len())), "{csv}");
    let vi = app.get("/reports/provinces/VN-66?at=2023-06-30&f=html").await.text().replace("&#x2f;", "/");
    assert!(vi.contains("id=\"table-period\"") && vi.contains("Từ đầu năm đến ngày 30/06/2023"), "{vi}");
}

async fn the_national_view_sums_the_provinces(backend: Backend) {
    let app = spawn_app(backend).await;
    let national = app.get("/reports/national?at=2023-11-17").await.json();
    assert_eq!(national["level"], "national");
    let provinces = national["provinces"].as_array().unwrap();
    assert_eq!(provinces.len(), 6, "the demo's six provinces of 2023");
    assert_eq!(national["provinces_on_date"], 63);
    let sum = |key: &str| provinces.iter().map(|p| p[key].as_f64().unwrap()).sum::<f64>();
    for key in ["leasable_ha", "leased_ha"] {
        assert!((sum(key) - national["land"][key].as_f64().unwrap()).abs() < 0.05, "{key}");
    }
    let valid: u64 = provinces.iter().map(|p| p["projects"]["valid"].as_u64().unwrap()).sum();
    assert_eq!(national["projects"]["valid"].as_u64().unwrap(), valid);
    let occupancy = app.get("/occupancy?at=2023-11-17").await.json();
    assert_eq!(national["land"]["occupancy_pct"], occupancy["occupancy_pct"]);
    assert_eq!(national["land"]["leased_ha"], occupancy["leased_ha"]);
    let new_zone_checks =
        national["checks"].as_array().unwrap().iter().filter(|c| c["rule"] == "new_zone").count();
    assert_eq!(new_zone_checks, 6, "one new-zone check per province");
    // Targets of the year are summed over the provinces that have them (only Hưng Yên in 2022).
    let national_2022 = app.get("/reports/national?at=2022-03-31").await.json();
    let hung_yen = app.get("/reports/provinces/VN-66?at=2022-03-31").await.json();
    assert_eq!(national_2022["targets"], hung_yen["targets"]);
}

async fn an_empty_province_reports_zeros(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    // Lai Châu ships with the reference geography: an empty install knows it.
    let reply = app.get("/reports/provinces/VN-01?at=2024-12-31").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let report = reply.json();
    assert_eq!(report["province_name"], "Lai Châu");
    assert_eq!(report["zones"]["in_plan"]["count"], 0);
    assert_eq!(report["land"]["leasable_ha"], 0.0);
    assert_eq!(report["land"]["occupancy_pct"], Value::Null);
    assert_eq!(report["projects"]["valid"], 0);
    assert_eq!(report["zone_lines"], json!([]));
    for format in ["csv", "md", "html"] {
        let reply = app.get(&format!("/reports/provinces/VN-01?at=2024-12-31&f={format}")).await;
        assert_eq!(reply.status, 200, "{format}: {}", reply.text());
    }
    let detail = app.get("/reports/provinces/VN-99").await.problem(404);
    assert!(detail.contains("VN-99"), "{detail}");
}

async fn charts_are_svg_at_stable_urls(backend: Backend) {
    let app = spawn_app(backend).await;
    let report = app.get("/reports/provinces/VN-56?at=2023-11-17").await.json();
    let charts: Vec<&str> = report["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "chart")
        .map(|l| l["href"].as_str().unwrap())
        .collect();
    assert_eq!(charts.len(), 3);
    for href in charts {
        let reply = app.get(crate::helpers::path_of(href)).await;
        assert_eq!(reply.status, 200, "{href}: {}", reply.text());
        assert_eq!(reply.content_type(), "image/svg+xml");
        assert!(reply.text().contains("<svg"), "{href}");
    }
    let vi = app.get("/reports/provinces/VN-56/charts/occupancy-by-zone.svg?at=2023-11-17").await.text();
    assert!(vi.contains("Tỷ lệ lấp đầy theo KCN") && vi.contains("Quế Võ") && vi.contains("95,34 %"), "{vi}");
    assert!(vi.matches("<rect").count() >= 15, "a bar per zone in scope");
    let en =
        app.get("/reports/provinces/VN-56/charts/occupancy-by-zone.svg?at=2023-11-17&lang=en").await.text();
    assert!(en.contains("Occupancy by zone") && en.contains("95.34 %"), "{en}");
    let line = app.get("/reports/national/charts/occupancy-over-time.svg?at=2023-11-17").await;
    assert_eq!(line.status, 200);
    assert!(line.text().contains("2023-Q4") || line.text().contains("<polyline"), "a line over the quarters");
    let detail = app.get("/reports/provinces/VN-56/charts/pie.svg").await.problem(404);
    assert!(detail.contains("occupancy-by-zone.svg"), "{detail}");
}

/// Thresholds come from configuration: at 55 %, Hưng Yên (57.66 % in March 2022) may add a zone.
#[tokio::test]
async fn rule_thresholds_come_from_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let database = scratch_database(Backend::Sqlite, true, &dir).await;
    let store = landbank::store::open(&database).await.unwrap();
    let mut state = AppState::new(Arc::clone(&store));
    state.rules.new_zone_min_occupancy_pct = 55.0;
    state.rules.expansion_requires_wwtp = false;
    let app = TestApp::from_parts(store, router(state), database, dir);
    let report = app.get("/reports/provinces/VN-66?at=2022-03-31").await.json();
    let checks = report["checks"].as_array().unwrap();
    let new_zone = checks.iter().find(|c| c["rule"] == "new_zone").unwrap();
    assert_eq!(new_zone["occupancy_pct"], 57.66);
    assert_eq!(new_zone["threshold_pct"], 55.0);
    assert_eq!(new_zone["passes"], true);
    assert_eq!(report["rules"]["expansion_requires_wwtp"], false);
}

/// The text of a Word document, cell by cell: what a reader sees, without the XML.
fn docx_text(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a DOCX is a zip archive");
    let mut xml = String::new();
    archive.by_name("word/document.xml").expect("word/document.xml").read_to_string(&mut xml).unwrap();
    let mut text = String::new();
    let mut in_tag = false;
    for c in xml.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a board sends upward: Word, Excel and PDF, opened back by readers that are not landbank's own, with
/// the figures of the JSON report in the board's wording.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_goes_out_as_word_excel_and_pdf() {
    use calamine::{Data, Reader};
    let app = spawn_app(Backend::Sqlite).await;
    let uri = "/reports/provinces/VN-56?at=2023-11-17";
    let json = app.get(uri).await.json();
    assert_eq!(json["land"]["occupancy_pct"], 60.04);

    let docx = app.get(&format!("{uri}&f=docx")).await;
    assert_eq!(docx.status, 200, "{}", docx.text());
    assert!(docx.content_type().contains("wordprocessingml"), "{}", docx.content_type());
    assert!(docx.headers["content-disposition"].to_str().unwrap().contains("bao-cao-VN-56-2023-11-17.docx"));
    let text = docx_text(&docx.body);
    for expected in [
        "Báo cáo tình hình các khu công nghiệp Bắc Ninh — tính đến ngày 17/11/2023",
        "Tỷ lệ lấp đầy 60,04 %",
        "Đã cho thuê 2.481,57 ha",
        "Từ đầu năm đến ngày 17/11/2023",
        "Lượt điều chỉnh (FDI)",
        "Dự án chậm tiến độ",
        "Nhận bàn giao đất",
    ] {
        assert!(text.contains(expected), "DOCX lacks «{expected}»: {text}");
    }
    let english = docx_text(&app.get(&format!("{uri}&f=docx&lang=en")).await.body);
    assert!(english.contains("Occupancy 60.04 %"), "{english}");

    let xlsx = app.get(&format!("{uri}&f=xlsx")).await;
    assert_eq!(xlsx.status, 200, "{}", xlsx.text());
    assert!(xlsx.content_type().contains("spreadsheetml"));
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.body.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["Báo cáo", "Số liệu"]);
    let report = book.worksheet_range("Báo cáo").unwrap();
    let cells: Vec<String> = report.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(cells.iter().any(|c| c == "60,04 %"), "{cells:?}");
    assert!(cells.iter().any(|c| c == "Dự án chậm tiến độ"), "the watch list is in the workbook: {cells:?}");
    // The figures sheet holds numbers, not text: the CSV's lines, one figure a row.
    let figures = book.worksheet_range("Số liệu").unwrap();
    let occupancy = figures
        .rows()
        .find(|r| r[0] == Data::String("land".into()) && r[3] == Data::String("occupancy_pct".into()))
        .expect("land occupancy_pct row");
    assert_eq!(occupancy[4], Data::Float(60.04));
    let adjustments = figures
        .rows()
        .find(|r| r[0] == Data::String("period".into()) && r[3] == Data::String("fdi_adjustments".into()))
        .expect("the period's FDI adjustments row");
    assert_eq!(adjustments[4], Data::Float(530.0));
    let csv = app.get(&format!("{uri}&f=csv")).await.text();
    assert_eq!(figures.height(), csv.lines().count(), "one row per CSV line, with the header");

    let pdf = app.get(&format!("{uri}&f=pdf")).await;
    assert_eq!(pdf.status, 200, "{}", pdf.text());
    assert_eq!(pdf.content_type(), "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, &pdf.body).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("60,04 %") && text.contains("Bắc Ninh"), "PDF text: {text}");

    app.get(&format!("{uri}&f=odt")).await.problem(400);

    // On an empty install the files are written all the same, with zeros and the notes that say why.
    let empty = spawn_empty_app(Backend::Sqlite).await;
    let docx = empty.get("/reports/provinces/VN-01?at=2024-06-30&f=docx").await;
    assert_eq!(docx.status, 200, "{}", docx.text());
    let text = docx_text(&docx.body);
    assert!(text.contains("Từ đầu năm đến ngày 30/06/2024") && text.contains("Chưa có chỉ tiêu"), "{text}");
    let xlsx = empty.get("/reports/provinces/VN-01?at=2024-06-30&f=xlsx").await;
    assert_eq!(xlsx.status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.body.clone())).unwrap();
    let figures = book.worksheet_range("Số liệu").unwrap();
    assert!(figures.rows().any(|r| r[3] == Data::String("new_projects".into()) && r[4] == Data::Float(0.0)));
}
