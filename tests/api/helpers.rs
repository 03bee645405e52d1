//! Shared set-up: a demo database per store and test binary (copied per test), an in-process router, a
//! served socket. PostGIS tests use scratch databases named `landbank_t<pid>_*` on LANDBANK_TEST_POSTGRES.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use landbank::http::{AppState, router};
use landbank::store::{self, Store};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use tower::ServiceExt;

/// Which store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgis,
}

/// The PostgreSQL server for tests (a superuser: tests create databases and the postgis extension).
pub fn admin_url() -> String {
    std::env::var("LANDBANK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// URL of database `name` on the test server.
pub fn database_url(name: &str) -> String {
    let mut url = url::Url::parse(&admin_url()).expect("LANDBANK_TEST_POSTGRES is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Runs one statement on the test server's maintenance database.
pub async fn admin(statement: &str) {
    let mut conn = PgConnection::connect(&admin_url()).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {} must run for the PostGIS tests (scripts/test starts it): {e}", admin_url())
    });
    conn.execute(AssertSqlSafe(statement.to_string())).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    conn.close().await.ok();
}

pub fn unique_name(label: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!("landbank_t{}_{label}{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Makes a store with the demo loaded, on its own runtime (tests run inside other runtimes), and closes it.
fn load_demo(database: String) {
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let store = store::open(&database).await.unwrap();
            store.migrate().await.unwrap();
            let written = landbank::demo::load_if_empty(&store).await.unwrap();
            assert!(written > 1000, "demo wrote {written} records");
            store.close().await;
        })
    })
    .join()
    .unwrap();
}

/// A demo SQLite file made once per test binary; tests work on copies.
fn sqlite_template() -> &'static PathBuf {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let path = tempfile::tempdir().expect("temp dir").keep().join("template.db");
        load_demo(path.to_str().unwrap().to_string());
        path
    })
}

/// A demo PostGIS database made once per test binary; tests get `CREATE DATABASE … TEMPLATE` copies.
fn postgis_template() -> &'static String {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = unique_name("template");
        let create = format!("CREATE DATABASE {name}");
        std::thread::spawn(move || tokio::runtime::Runtime::new().unwrap().block_on(admin(&create)))
            .join()
            .unwrap();
        load_demo(database_url(&name));
        name
    })
}

/// A fresh database URL: a copy of the demo, or empty.
pub async fn scratch_database(backend: Backend, demo: bool, dir: &tempfile::TempDir) -> String {
    match backend {
        Backend::Sqlite => {
            let path = dir.path().join("landbank.db");
            if demo {
                let template = sqlite_template();
                std::fs::copy(template, &path).unwrap();
                // The main file plus its write-ahead log is the whole database (-shm is rebuilt).
                let wal = PathBuf::from(format!("{}-wal", template.display()));
                if wal.exists() {
                    std::fs::copy(&wal, format!("{}-wal", path.display())).unwrap();
                }
            }
            path.to_str().unwrap().to_string()
        }
        Backend::Postgis => {
            let name = unique_name("db");
            if demo {
                let template = postgis_template();
                // The template's last connections may take a moment to go away.
                for attempt in 0.. {
                    let statement = format!("CREATE DATABASE {name} TEMPLATE {template}");
                    let mut conn = PgConnection::connect(&admin_url()).await.unwrap();
                    match conn.execute(AssertSqlSafe(statement)).await {
                        Ok(_) => break,
                        Err(e) if attempt < 50 && e.to_string().contains("being accessed") => {
                            tokio::time::sleep(Duration::from_millis(100)).await
                        }
                        Err(e) => panic!("copying the demo database: {e}"),
                    }
                }
            } else {
                admin(&format!("CREATE DATABASE {name}")).await;
            }
            database_url(&name)
        }
    }
}

/// A test's own store and router.
pub struct TestApp {
    pub store: Arc<dyn Store>,
    pub router: Router,
    pub database: String,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let database = scratch_database(backend, true, &dir).await;
    open(dir, database).await
}

pub async fn spawn_empty_app(backend: Backend) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let database = scratch_database(backend, false, &dir).await;
    open(dir, database).await
}

async fn open(dir: tempfile::TempDir, database: String) -> TestApp {
    let store = store::open(&database).await.unwrap();
    store.migrate().await.unwrap();
    let router = router(AppState::new(store.clone()));
    TestApp { store, router, database, _dir: dir }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    /// Asserts a problem+json answer with `status`, and returns its detail.
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(self.content_type(), "application/problem+json");
        let body = self.json();
        assert_eq!(body["status"], status);
        body["detail"].as_str().unwrap().to_string()
    }
}

impl TestApp {
    /// A test app over a router built by the test itself.
    pub fn from_parts(
        store: Arc<dyn Store>,
        router: Router,
        database: String,
        dir: tempfile::TempDir,
    ) -> TestApp {
        TestApp { store, router, database, _dir: dir }
    }

    /// A new router over the same database, as a restarted process has: nothing kept in memory.
    pub fn restart(&mut self) {
        self.router = router(AppState::new(self.store.clone()));
    }

    /// Runs one SQL statement on the app's database behind its back (to set up what only a database
    /// administrator could).
    pub async fn execute_sql(&self, statement: &str) {
        let statement = AssertSqlSafe(statement.to_string());
        if self.store.backend() == "sqlite" {
            let mut conn =
                sqlx::SqliteConnection::connect(&format!("sqlite://{}", self.database)).await.unwrap();
            conn.execute(statement).await.unwrap();
        } else {
            let mut conn = PgConnection::connect(&self.database).await.unwrap();
            conn.execute(statement).await.unwrap();
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.get_with(uri, &[]).await
    }

    /// Lookups of one of the service's caches so far, as `/metrics` counts them: (hits, misses).
    pub async fn cache_lookups(&self, cache: &str) -> (u64, u64) {
        cache_lookups_in(&self.get("/metrics").await.text(), cache)
    }

    /// Zones whose `figures` (occupancy, available) this app worked out so far (`/metrics`).
    pub async fn zones_measured(&self, figures: &str) -> u64 {
        let text = self.get("/metrics").await.text();
        metric(&text, &format!(r#"landbank_zones_measured_total{{figures="{figures}"}}"#))
            .unwrap_or_else(|| panic!("no zones measured for {figures} in {text}"))
    }

    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = Request::get(uri).header("host", "landbank.test");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = self.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply { status, headers, body }
    }

    /// Any request: `method`, `uri`, headers and an optional JSON body.
    pub async fn send(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        send_on(self.router.clone(), method, uri, headers, body).await
    }

    /// The same `method`, `uri`, headers and bodies sent all at once, each from its own task (the
    /// runtime's threads run them in parallel); the replies in the order of `bodies`.
    pub async fn race(
        &self,
        method: &'static str,
        uri: &str,
        headers: &[(&str, &str)],
        bodies: Vec<Value>,
    ) -> Vec<Reply> {
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(bodies.len()));
        let headers: Vec<(String, String)> =
            headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let tasks: Vec<_> = bodies
            .into_iter()
            .map(|body| {
                let (router, uri, headers, start) =
                    (self.router.clone(), uri.to_string(), headers.clone(), start.clone());
                tokio::spawn(async move {
                    let headers: Vec<(&str, &str)> =
                        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    start.wait().await;
                    send_on(router, method, &uri, &headers, Some(&body)).await
                })
            })
            .collect();
        let mut replies = Vec::new();
        for task in tasks {
            replies.push(task.await.unwrap());
        }
        replies
    }

    /// A new token of `role` for this app's store; returns the `Authorization` header value.
    pub async fn bearer(&self, role: landbank::auth::Role, name: &str) -> String {
        let (_, token) = landbank::auth::create(&self.store, role, name).await.unwrap();
        format!("Bearer {token}")
    }

    /// Serves the router on a real socket; returns its base URL.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = self.router.clone();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }
}

async fn send_on(
    router: Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri).header("host", "landbank.test");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let body = match body {
        Some(b) => {
            request = request.header("content-type", "application/geo+json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let response = router.oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, headers, body }
}

/// Strips the scheme and host of a link so the in-process router can follow it.
pub fn path_of(href: &str) -> &str {
    let rest = href.strip_prefix("http://landbank.test").expect("link on the request's host");
    if rest.is_empty() { "/" } else { rest }
}

/// A real URI of the demo for a path of the OpenAPI document (its `{…}` filled with demo ids).
pub fn sample_uri(path: &str) -> String {
    let ids = [
        ("targets", "VN-66-2022-capital_attracted_usd"),
        ("provinces", "VN2025-24"),
        ("plots", "BN-QV1-CN-01"),
        ("leases", "BN-QV1-L001"),
        ("zones", "BN-QV1"),
        ("projects", "BN-QV1-P001"),
        ("project_events", "BN-QV1-E002"),
        ("project_results", "TN-SC1-P004-2019"),
        ("available_land", "BN-QV1-A1"),
        ("clearance_parcels", "BN-QV1-T10-100"),
        ("land_use", "BN-QV1-LU01"),
    ];
    // Tiles: the z12 tile that holds Quế Võ (BN-QV1).
    let mut uri = path
        .replace("{collection}", "zones")
        .replace("{collectionId}", "zones")
        .replace("{tileMatrixSetId}", "WebMercatorQuad")
        .replace("{tileMatrix}", "12")
        .replace("{tileRow}", "1801")
        .replace("{tileCol}", "3255")
        .replace("{z}", "12")
        .replace("{x}", "3255")
        .replace("{y}", "1801")
        .replace("{code}", "BN-QV1")
        .replace("{id}", "BN-QV1-P003")
        .replace("{province_code}", "VN-66")
        .replace("{chart}", "targets.svg");
    for (collection, id) in ids {
        let prefix = format!("/collections/{collection}/items/{{featureId}}");
        if uri.starts_with(&prefix) {
            uri = uri.replace("{featureId}", id);
        }
    }
    uri
}

/// The value of the Prometheus sample `name_and_labels` (e.g. `landbank_zones_measured_total{figures="available"}`)
/// in the text of `/metrics`.
pub fn metric(text: &str, name_and_labels: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' ')?.parse().ok())
}

/// Lookups of a cache as `/metrics` text counts them: (hits, misses).
pub fn cache_lookups_in(text: &str, cache: &str) -> (u64, u64) {
    let count = |result: &str| {
        metric(text, &format!(r#"landbank_cache_lookups_total{{cache="{cache}",result="{result}"}}"#))
            .unwrap_or_else(|| panic!("no {result} of {cache} in {text}"))
    };
    (count("hit"), count("miss"))
}

/// An answer of `/occupancy` or `/available` without the moment it was written (`timeStamp`).
pub fn without_timestamp(mut body: serde_json::Value) -> serde_json::Value {
    if let Some(members) = body.as_object_mut() {
        members.remove("timeStamp");
    }
    body
}
