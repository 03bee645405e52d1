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
