//! Figures ready before anyone asks. A board imports its zones, plots and leases, or restarts the
//! service, and the first person to open the occupancy table or the available land should not wait for
//! every zone of the country to be measured. `landbank serve` keeps today's figures warm: whenever the
//! data (or the date) changed, it measures occupancy and available land of the zones whose kept figures
//! are stale, in the background, into the same caches (and the store's `kept_figures`) that requests
//! read. A write to one zone costs one zone's measure. `landbank import` runs the same pass once its
//! file has landed ([`ready_after_write`]), so that a service started after a board's import finds them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::available::{self, DEFAULT_MIN_PIECE_HA};
use crate::domain::{Date, today};
use crate::occupancy::{self, FiguresCache, OccupancyError, OccupancyQuery};
use crate::store::Store;

/// Measures occupancy and available land of every zone on `at` where what is kept is stale, into
/// `figures` and `available` (and the store). Returns how many zones there are.
pub async fn warm_once(
    store: &Arc<dyn Store>,
    figures: &FiguresCache,
    available: &available::Cache,
    at: Date,
) -> Result<usize, OccupancyError> {
    let query = OccupancyQuery::national(at);
    let report = occupancy::compute_with(store, Some(figures), &query).await?;
    available::compute(store, available, &available::Place::default(), at, DEFAULT_MIN_PIECE_HA).await?;
    Ok(report.zones.len())
}

/// What [`ready_after_write`] left ready: the zones whose figures on the date are kept, and how many
/// of them had to be measured for it (the rest were kept already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readied {
    /// Zones of every province (their occupancy figures and available land on the date are kept).
    pub zones: usize,
    /// Zones whose occupancy was measured (their data changed since it was last kept).
    pub occupancy_measured: u64,
    /// Zones whose available land was worked out.
    pub available_measured: u64,
}

/// Measures occupancy and available land on `at` of the zones whose kept figures are stale (those a
/// write just changed, or never measured) and keeps them in the store, in a process that serves no
/// one: `landbank import` calls it once its transaction has committed, so that the first question
/// after a board's import, to a service started then or already running, reads kept figures instead of
/// measuring every zone the import touched. Zones not changed are read from the store, not measured.
/// Both cores work ([`occupancy::compute_with`]).
pub async fn ready_after_write(store: &Arc<dyn Store>, at: Date) -> Result<Readied, OccupancyError> {
    let (figures, available) = (FiguresCache::default(), available::Cache::default());
    let zones = warm_once(store, &figures, &available, at).await?;
    Ok(Readied { zones, occupancy_measured: figures.measured(), available_measured: available.measured() })
}

/// Runs [`warm_once`] for today whenever the store's data version or the date changed, looking every
/// `every`; never returns. Failures are logged and tried again at the next look.
pub async fn keep_warm(
    store: Arc<dyn Store>,
    figures: Arc<FiguresCache>,
    available: Arc<available::Cache>,
    every: Duration,
) {
    let mut warmed: Option<(i64, Date)> = None;
    loop {
        let at = today();
        match store.data_version().await {
            Ok(version) if warmed != Some((version, at)) => {
                let started = Instant::now();
                match warm_once(&store, &figures, &available, at).await {
                    Ok(zones) => {
                        tracing::info!(
                            zones,
                            version,
                            seconds = format!("{:.1}", started.elapsed().as_secs_f64()),
                            "today's occupancy and available land are ready"
                        );
                        warmed = Some((version, at));
                    }
                    Err(e) => tracing::warn!("figures not made ready in advance (asked again later): {e}"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot read the data version to keep figures ready: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}
