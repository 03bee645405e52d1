//! `kill -9` in the middle of work: an import is all or nothing, and every write the server acknowledged
//! is there after a restart. A handful of kills at different moments, on both stores.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, scratch_database};
use crate::import::{square, write_geojson};

const BIN: &str = env!("CARGO_BIN_EXE_landbank");

fn landbank(database: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN).arg("--database").arg(database).args(args).output().unwrap()
}

fn spawn(database: &str, args: &[&str]) -> Child {
    Command::new(BIN)
        .arg("--database")
        .arg(database)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn kill_9(child: &mut Child) {
    // SIGKILL: no destructor, no rollback, no goodbye.
    let _ = Command::new("kill").args(["-9", &child.id().to_string()]).status();
    let _ = child.wait();
}

async fn count(database: &str, collection: &'static landbank::collections::Collection) -> u64 {
    let store = landbank::store::open(database).await.unwrap();
    let n = store.count(collection).await.unwrap();
    store.close().await;
    n
}

/// A zone (VN2025-24, 2026) and a file of `n` plots in it, a grid of small squares.
fn zone_and_plots(dir: &std::path::Path, database: &str, n: usize) -> std::path::PathBuf {
    write_geojson(
        &dir.join("zone.geojson"),
        vec![
            json!({ "type": "Feature", "properties": { "code": "K9", "name": "Khu thử", "kind": "industrial_park",
            "province_code": "VN2025-24", "status": "planned" }, "geometry": square(106.30, 21.30, 0.2) }),
        ],
    );
    let out =
        landbank(database, &["import", dir.join("zone.geojson").to_str().unwrap(), "--collection", "zones"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let side = (n as f64).sqrt().ceil() as usize;
    let plots: Vec<Value> = (0..n)
        .map(|i| {
            let (x, y) = ((i % side) as f64, (i / side) as f64);
            json!({ "type": "Feature", "properties": { "code": format!("P{i}"), "zone_code": "K9" },
                "geometry": square(106.301 + x * 0.0015, 21.301 + y * 0.0015, 0.001) })
        })
        .collect();
    let file = dir.join("plots.geojson");
    write_geojson(&file, plots);
    file
}

async fn a_killed_import_writes_all_or_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database = scratch_database(backend, false, &dir).await;
    assert!(landbank(&database, &["migrate"]).status.success());
    const PLOTS: u64 = 6000;
    let file = zone_and_plots(dir.path(), &database, PLOTS as usize);
    let args = ["import", file.to_str().unwrap(), "--collection", "plots"];
    // Kills spread over reading, checking and writing.
    for delay_ms in [150, 400, 700, 1000, 1400, 2000] {
        let mut child = spawn(&database, &args);
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        kill_9(&mut child);
        let n = count(&database, &landbank::collections::PLOTS).await;
        assert!(n == 0 || n == PLOTS, "after a kill at {delay_ms} ms: {n} plots, not 0 or {PLOTS}");
        if n == PLOTS {
            break;
        }
    }
    // The file goes in whole (or is already there, whole); its history is complete either way.
    let _ = landbank(&database, &args);
    assert_eq!(count(&database, &landbank::collections::PLOTS).await, PLOTS);
    let store = landbank::store::open(&database).await.unwrap();
    assert_eq!(store.versions(&landbank::collections::PLOTS, "K9-P0").await.unwrap().len(), 1);
    store.close().await;
}

async fn acknowledged_writes_survive_a_kill(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database = scratch_database(backend, false, &dir).await;
    assert!(landbank(&database, &["migrate"]).status.success());
    zone_and_plots(dir.path(), &database, 1);
    let token = landbank(&database, &["token", "create", "--role", "planner", "--name", "crash"]);
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    let client = reqwest::Client::new();
    let mut acknowledged: Vec<String> = Vec::new();
    let mut next = 0;
    for round in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = spawn(&database, &["serve", "--bind", &format!("127.0.0.1:{port}")]);
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Writes one after another; the server dies under them after a while.
        let writer = {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            let start = next;
            tokio::spawn(async move {
                let mut ok = Vec::new();
                for i in start..start + 400 {
                    let (x, y) = ((i % 100) as f64, (i / 100) as f64);
                    let body = json!({ "type": "Feature", "properties": { "zone_code": "K9", "code": format!("W{i}") },
                        "geometry": square(106.301 + x * 0.0015, 21.35 + y * 0.0015, 0.001) });
                    match client
                        .post(format!("{base}/collections/plots/items"))
                        .bearer_auth(&token)
                        .header("content-type", "application/geo+json")
                        .body(body.to_string())
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 201 => ok.push(format!("K9-W{i}")),
                        Ok(r) => panic!("write {i}: {}", r.status()),
                        Err(_) => break, // the server is gone
                    }
                }
                ok
            })
        };
        tokio::time::sleep(Duration::from_millis(300 + 250 * round)).await;
        kill_9(&mut server);
        let ok = writer.await.unwrap();
        next += 400;
        acknowledged.extend(ok);
    }
    assert!(!acknowledged.is_empty(), "some writes were acknowledged before the kills");
    let store = landbank::store::open(&database).await.unwrap();
    for id in &acknowledged {
        assert!(
            store.item(&landbank::collections::PLOTS, id).await.unwrap().is_some(),
            "{id} was acknowledged, then lost"
        );
        assert_eq!(store.current_version(&landbank::collections::PLOTS, id).await.unwrap(), Some(1));
    }
    store.close().await;
}

crate::contract!(a_killed_import_writes_all_or_nothing, acknowledged_writes_survive_a_kill);
