//! `/metrics` in Prometheus' text format: requests by route, method and status (writes and imports
//! through the API included), their latency, the memory the kept figures, available land and tiles
//! hold, their hits and misses, and the database pool's connections.
//! Each server has its own registry (no global state), so tests and several routers in one process
//! count apart.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use super::{ApiError, AppState};

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    seconds: HistogramVec,
    cache_bytes: IntGaugeVec,
    cache_lookups: IntCounterVec,
    zones_measured: IntCounterVec,
    pool: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new_custom(Some("landbank".into()), None).expect("a valid prefix");
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "Requests answered, by route template, method and status"),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer, by route template and method",
            )
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["route", "method"],
        )
        .expect("valid metric");
        let cache_bytes = IntGaugeVec::new(
            Opts::new(
                "cache_bytes",
                "Estimated bytes kept, by cache (figures, available, tiles, plot_states, drawn)",
            ),
            &["cache"],
        )
        .expect("valid metric");
        let cache_lookups = IntCounterVec::new(
            Opts::new(
                "cache_lookups_total",
                "Lookups of kept results (per-zone figures, available land, tiles and their drawings, plot lease states, zones' versions), by cache and result (hit, miss)",
            ),
            &["cache", "result"],
        )
        .expect("valid metric");
        let zones_measured = IntCounterVec::new(
            Opts::new(
                "zones_measured_total",
                "Zones whose figures were worked out rather than found kept, by figures (occupancy, available); a zone that several requests need at once is worked out once",
            ),
            &["figures"],
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database connections, by state (open, idle)"),
            &["state"],
        )
        .expect("valid metric");
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(seconds.clone()),
            Box::new(cache_bytes.clone()),
            Box::new(cache_lookups.clone()),
            Box::new(zones_measured.clone()),
            Box::new(pool.clone()),
        ] {
            registry.register(metric).expect("each metric once");
        }
        Metrics { registry, requests, seconds, cache_bytes, cache_lookups, zones_measured, pool }
    }
}

/// Counts and times every request under its route template (`/collections/{collection_id}/items`, not
/// each URL, so that the number of series stays small).
pub async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let m = &state.metrics;
    m.requests.with_label_values(&[&route, &method, response.status().as_str()]).inc();
    m.seconds.with_label_values(&[&route, &method]).observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let m = &state.metrics;
    let bytes = |b: u64| i64::try_from(b).unwrap_or(i64::MAX);
    let (figures, figures_answers) = state.figures.weighted_bytes();
    let (available, available_answers) = state.available.weighted_bytes();
    m.cache_bytes.with_label_values(&["figures"]).set(bytes(figures));
    m.cache_bytes.with_label_values(&["figures_answers"]).set(bytes(figures_answers));
    m.cache_bytes.with_label_values(&["available"]).set(bytes(available));
    m.cache_bytes.with_label_values(&["available_answers"]).set(bytes(available_answers));
    m.cache_bytes.with_label_values(&["tiles"]).set(bytes(state.tiles.tiles.weighted_bytes()));
    m.cache_bytes.with_label_values(&["plot_states"]).set(bytes(state.tiles.plot_states.weighted_bytes()));
    m.cache_bytes.with_label_values(&["drawn"]).set(bytes(state.tiles.drawn.weighted_bytes()));
    let [figures, figures_answers] = state.figures.lookups();
    let [available, available_answers] = state.available.lookups();
    for (cache, (hits, misses)) in [
        ("figures", figures),
        ("figures_answers", figures_answers),
        ("available", available),
        ("available_answers", available_answers),
        ("tiles", state.tiles.tiles.lookups()),
        ("plot_states", state.tiles.plot_states.lookups()),
        ("zone_versions", state.tiles.plot_states.zone_version_lookups()),
        ("drawn", state.tiles.drawn.lookups()),
    ] {
        // The caches count; the counters catch up to them at each scrape.
        for (result, now) in [("hit", hits), ("miss", misses)] {
            let counter = m.cache_lookups.with_label_values(&[cache, result]);
            counter.inc_by(now.saturating_sub(counter.get()));
        }
    }
    for (figures, now) in [("occupancy", state.figures.measured()), ("available", state.available.measured())]
    {
        let counter = m.zones_measured.with_label_values(&[figures]);
        counter.inc_by(now.saturating_sub(counter.get()));
    }
    let (open, idle) = state.store.pool_connections();
    m.pool.with_label_values(&["open"]).set(i64::from(open));
    m.pool.with_label_values(&["idle"]).set(i64::try_from(idle).unwrap_or(i64::MAX));
    let mut text = Vec::new();
    TextEncoder::new()
        .encode(&m.registry.gather(), &mut text)
        .map_err(|e| ApiError::Internal(format!("metrics: {e}")))?;
    let mut response = text.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    Ok(response)
}
