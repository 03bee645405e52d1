//! The `landbank` binary itself: subcommands, the demo served on a socket, errors that say what to do.

use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_landbank");

#[test]
fn demo_loads_once_and_migrate_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let run = |args: &[&str]| {
        let out = Command::new(BIN).arg("--database").arg(&db).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run(&["migrate"]).contains("migrations applied"));
    assert!(run(&["migrate"]).contains("migrations applied"));
    assert!(run(&["demo"]).contains("synthetic geometry"));
    assert!(run(&["demo"]).contains("already holds zones"), "a second demo load changes nothing");
}

#[test]
fn an_unusable_database_is_reported_with_its_path() {
    let out = Command::new(BIN).args(["--database", "/no/such/dir/x.db", "migrate"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/no/such/dir/x.db"), "{stderr}");
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for word in ["serve", "migrate", "demo", "--database", "postgres://"] {
        assert!(help.contains(word), "--help mentions {word}:\n{help}");
    }
    // Examples stay one to a line, as written, to copy and paste.
    assert!(help.contains("\nOccupancy:        curl"), "{help}");
    for (command, example) in [
        ("import", "\n  landbank import zones.gpkg --collection zones\n"),
        ("export", "\n  landbank export --collection plots --format gpkg --out plots.gpkg\n"),
        ("report", "\n  landbank report --province VN-56 --at 2023-11-17 --out bac-ninh-2023.docx\n"),
    ] {
        let out = Command::new(BIN).args([command, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains(example), "landbank {command} --help keeps its examples as written:\n{help}");
    }
}

#[tokio::test]
async fn serve_demo_answers_on_its_socket() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("served.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN)
        .arg("--database")
        .arg(&db)
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        if reqwest::get(format!("{base}/readyz")).await.is_ok_and(|r| r.status() == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body: serde_json::Value = if ready {
        reqwest::get(format!("{base}/occupancy?province_code=VN-56&at=2023-11-17"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    } else {
        serde_json::Value::Null
    };
    child.kill().ok();
    child.wait().ok();
    assert!(ready, "landbank serve --demo did not become ready");
    assert_eq!(body["occupancy_pct"], 60.04);
}

#[test]
fn report_writes_the_boards_report_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("report.db");
    let run = |args: &[&str]| Command::new(BIN).arg("--database").arg(&db).args(args).output().unwrap();
    assert!(run(&["demo"]).status.success());
    let csv = run(&["report", "--province", "VN-66", "--at", "2022-03-31", "--format", "csv"]);
    assert!(csv.status.success(), "{}", String::from_utf8_lossy(&csv.stderr));
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(csv.contains("targets,VN-66,,new_jobs_pct,75.00,%"), "{csv}");
    let md = run(&["report", "--province", "VN-56", "--at", "2023-11-17", "--lang", "en"]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("| Occupancy | 60.04 % |"), "Markdown by default:\n{md}");
    let out = dir.path().join("hy.html");
    let html = run(&["report", "--province", "VN-66", "--at", "2022-03-31", "--format", "html", "--out"]
        .into_iter()
        .chain([out.to_str().unwrap()])
        .collect::<Vec<_>>());
    assert!(html.status.success(), "{}", String::from_utf8_lossy(&html.stderr));
    let page = std::fs::read_to_string(&out).unwrap();
    assert_eq!(page.matches("<svg").count(), 3);
    // Thresholds from flags: at 55 %, Hưng Yên (57.66 % in March 2022) may add a zone.
    let json = run(&[
        "report",
        "--province",
        "VN-66",
        "--at",
        "2022-03-31",
        "--format",
        "json",
        "--rule-new-zone-pct",
        "55",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let new_zone =
        report["checks"].as_array().unwrap().iter().find(|c| c["rule"] == "new_zone").unwrap().clone();
    assert_eq!((new_zone["threshold_pct"].as_f64(), new_zone["passes"].as_bool()), (Some(55.0), Some(true)));
    let unknown = run(&["report", "--province", "VN-99"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("VN-99"));
    let bad = run(&["report", "--at", "31/03/2022"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM-DD"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// The report as files: the format follows --out's extension, a file format without --out is refused, and
/// PDF without a Chromium says how to get one while DOCX still works.
#[test]
fn report_files_take_their_format_from_out_and_pdf_says_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("files.db");
    assert!(Command::new(BIN).arg("--database").arg(&db).arg("demo").output().unwrap().status.success());
    let run = |args: &[&str], chromium: &str| {
        Command::new(BIN)
            .arg("--database")
            .arg(&db)
            .args(args)
            .env("LANDBANK_CHROMIUM", chromium)
            .output()
            .unwrap()
    };
    let docx = dir.path().join("bao-cao.docx");
    let out =
        run(&["report", "--province", "VN-56", "--at", "2023-11-17", "--out", docx.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(&docx).unwrap().starts_with(b"PK"), "a DOCX is a zip archive");
    let out = run(&["report", "--province", "VN-56", "--format", "xlsx"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("add --out FILE"));
    let pdf = dir.path().join("bao-cao.pdf");
    let out = run(&["report", "--province", "VN-56", "--out", pdf.to_str().unwrap()], "/no/such/chromium");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("apt-get install chromium") && stderr.contains("LANDBANK_CHROMIUM"), "{stderr}");
    assert!(!pdf.exists(), "no half-written PDF");
}

/// Commands that need no database never create one; commands that read a board's data name the missing
/// database and how to point at the right one; a dry run with problems fails, and repeated problems are
/// summarised.
#[test]
fn the_cli_never_creates_a_database_it_does_not_need_and_dry_runs_fail_on_problems() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nothing-here.db");
    let run = |args: &[&str]| Command::new(BIN).arg("--database").arg(&db).args(args).output().unwrap();
    let out = run(&["crs", "list"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("vn2000:bac-ninh"));
    let out = run(&["report", "--province", "VN-56"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no database at") && stderr.contains("--database"), "{stderr}");
    assert!(!db.exists(), "neither crs list nor report created {}", db.display());

    // Forty zones with the same mistake (a month-first date): the dry run fails and says so once, with
    // three examples.
    assert!(run(&["migrate"]).status.success());
    let features: Vec<serde_json::Value> = (0..40)
        .map(|i| serde_json::json!({ "type": "Feature", "properties": { "code": format!("Z-{i}"), "name": "Z",
            "kind": "industrial_park", "province_code": "VN-56", "status": "operating", "established_on": "12/31/2019" },
            "geometry": crate::import::square(106.0 + 0.01 * f64::from(i), 21.0, 0.005) }))
        .collect();
    let file = dir.path().join("zones.geojson");
    crate::import::write_geojson(&file, features);
    let out = run(&["import", file.to_str().unwrap(), "--collection", "zones", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a dry run with problems fails: {text}");
    assert_eq!(text.matches("problem:").count(), 3, "{text}");
    assert!(text.contains("… and 37 more problem(s) like these"), "{text}");
}
