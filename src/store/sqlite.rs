//! The embedded store: one SQLite file (WAL), an R*Tree per geometry table, sqlx migrations.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use geo::MultiPolygon;
use serde_json::{Map, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row, SqlitePool};

use super::shared::{Backend, BoxFuture, Query as SqlQuery, RowsRead, Shared, SharedOps, SqlStore};
use super::sql::{Bind, Binder, Dialect, store_error};
use super::{
    Columns, FeatureRow, ItemsQuery, JsonPage, NewFeature, Page, Store, StoreError, history,
    touched_collections, touched_zones,
};
use crate::collections::{Collection, Field, FieldKind};
use crate::spatial;

/// Turns SQLite's memory statistics off for this process. With them on (the library's default), every
/// allocation SQLite makes takes one process-wide mutex: 7 % of the server's CPU for pages of 1,000
/// items from two clients. landbank reads no SQLite memory statistic and sets no heap limit. Call it
/// first thing in `main`, before any thread uses SQLite (GDAL included): `sqlite3_config` is not
/// thread-safe, and once the library is initialised it changes nothing and this returns `false`.
pub fn configure_library() -> bool {
    // SAFETY: called before any other SQLite call of the process (see above), with the one `int` this
    // option takes.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int)
    };
    rc == libsqlite3_sys::SQLITE_OK
}

/// SQLite through sqlx. Cheap to clone; the pool is shared.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// This process's writers queue here rather than each holding a pooled connection while SQLite's
    /// busy timeout runs, so the one writer inside always has connections left for its checks' reads.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Counts of matches, per data version (see [`super::CountCache`]).
    counts: super::CountCache,
}

/// A SQLite write transaction: `BEGIN IMMEDIATE` holds the database's write lock (against every
/// process), the mutex this process's other writers.
struct SqliteWriteTx {
    tx: Tx,
    _writer: tokio::sync::OwnedMutexGuard<()>,
}

#[async_trait]
impl super::WriteTx for SqliteWriteTx {
    async fn write_all(mut self: Box<Self>, writes: &[history::Write]) -> Result<Vec<i64>, StoreError> {
        let mut versions = Vec::with_capacity(writes.len());
        for w in writes {
            versions.push(Shared::<sqlx::Sqlite>::write_in(&mut self.tx, w).await?);
        }
        self.tx.commit().await.map_err(store_error)?;
        Ok(versions)
    }

    async fn write_and_insert_by(
        mut self: Box<Self>,
        writes: &[history::Write],
        batches: &[(&'static Collection, Vec<NewFeature>)],
        actor: &str,
    ) -> Result<u64, StoreError> {
        for w in writes {
            Shared::<sqlx::Sqlite>::write_in(&mut self.tx, w).await?;
        }
        let mut written = writes.len() as u64;
        let now = history::now_us();
        // A large batch's indexes outgrow SQLite's default page cache (2 MB a connection): pages would be
        // spilled and read again. This connection gets a larger one for the write, and its own back
        // before it commits (only clean pages are given up; a write that fails keeps the larger cache on
        // this one connection).
        let large = batches.iter().map(|(_, f)| f.len()).sum::<usize>() >= LARGE_BATCH_ROWS;
        let previous_cache = match large {
            true => Some(set_cache_size(&mut self.tx, -LARGE_BATCH_CACHE_KIB).await?),
            false => None,
        };
        for (collection, features) in batches {
            let started = std::time::Instant::now();
            let before = insert_rows(&mut self.tx, collection, features).await?;
            written += features.len() as u64;
            tracing::debug!(
                rows = features.len(),
                seconds = started.elapsed().as_secs_f64(),
                "sqlite: rows written"
            );
            let started = std::time::Instant::now();
            insert_first_versions(&mut self.tx, collection, before, actor, now).await?;
            tracing::debug!(seconds = started.elapsed().as_secs_f64(), "sqlite: first versions written");
        }
        let started = std::time::Instant::now();
        Shared::<sqlx::Sqlite>::finish_write(
            &mut self.tx,
            touched_zones(batches),
            touched_collections(batches),
        )
        .await?;
        if let Some(previous) = previous_cache {
            set_cache_size(&mut self.tx, previous).await?;
        }
        self.tx.commit().await.map_err(store_error)?;
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), "sqlite: zones marked and committed");
        Ok(written)
    }

    async fn rollback(self: Box<Self>) {
        let _ = self.tx.rollback().await;
    }
}

impl Backend for sqlx::Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;

    /// Dates as ISO text, booleans as integers.
    fn bind(query: SqlQuery<Self>, value: Bind) -> SqlQuery<Self> {
        match value {
            Bind::Null(_) => query.bind(Option::<String>::None),
            Bind::Text(s) => query.bind(s),
            Bind::Real(f) => query.bind(f),
            Bind::Int(i) => query.bind(i),
            Bind::Bool(b) => query.bind(b as i64),
            // SQLite has no arrays: its statements list the values (see `fids_in`).
            Bind::Ints(values) => query.bind(serde_json::to_string(&values).unwrap_or_default()),
        }
    }

    const NO_LIMIT: &'static str = "-1";
    const PAGE_FIRST: bool = false;

    fn select_columns(collection: &Collection) -> String {
        let mut cols = vec!["t.id".to_string()];
        cols.extend(collection.fields.iter().map(|f| format!("t.{}", f.name)));
        cols.push("t.geom".into());
        cols.push("t.area_ha".into());
        cols.push("t.source_crs".into());
        cols.join(", ")
    }

    fn read_row(collection: &Collection, row: &SqliteRow) -> Result<FeatureRow, StoreError> {
        let id: String = row.try_get("id").map_err(store_error)?;
        let mut properties = Map::new();
        for f in collection.fields {
            let value = match f.kind {
                FieldKind::Text | FieldKind::Date => {
                    row.try_get::<Option<String>, _>(f.name).map_err(store_error)?.map(Value::String)
                }
                FieldKind::Real => row
                    .try_get::<Option<f64>, _>(f.name)
                    .map_err(store_error)?
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number),
                FieldKind::Integer => {
                    row.try_get::<Option<i64>, _>(f.name).map_err(store_error)?.map(Value::from)
                }
                FieldKind::Bool => {
                    row.try_get::<Option<i64>, _>(f.name).map_err(store_error)?.map(|i| Value::Bool(i != 0))
                }
            };
            properties.insert(f.name.to_string(), value.unwrap_or(Value::Null));
        }
        Ok(FeatureRow {
            id,
            properties,
            geometry: Self::read_geometry(collection.id, row, "geom")?,
            area_ha: row.try_get("area_ha").map_err(store_error)?,
            source_crs: row.try_get("source_crs").map_err(store_error)?,
        })
    }

    /// Stored as GeoJSON text.
    fn read_geometry(_: &str, row: &SqliteRow, column: &str) -> Result<Option<String>, StoreError> {
        row.try_get(column).map_err(store_error)
    }

    fn read_shape(
        collection: &str,
        row: &SqliteRow,
        column: &str,
    ) -> Result<Option<MultiPolygon>, StoreError> {
        let Some(text) = row.try_get::<Option<&str>, _>(column).map_err(store_error)? else {
            return Ok(None);
        };
        spatial::parse_stored(text).map(Some).map_err(|reason| StoreError::Corrupt {
            collection: collection.to_string(),
            id: row.try_get::<String, _>("id").unwrap_or_default(),
            reason,
        })
    }

    /// The text SQLite wrote, and the geometry.
    fn read_page_row(_: &Collection, row: &SqliteRow) -> Result<super::shared::PageText, StoreError> {
        let geometry: Option<String> = row.try_get("g_").map_err(store_error)?;
        Ok((row.try_get("r_").map_err(store_error)?, geometry.map(super::PageGeometry::Text)))
    }

    /// Through the table's R*Tree.
    fn meets_box(binder: &mut Binder, table: &str, b: [f64; 4]) -> String {
        // In the order the text uses them.
        for v in [b[0], b[2], b[1], b[3]] {
            binder.push(FieldKind::Real, Bind::Real(v));
        }
        format!(
            " AND t.fid IN (SELECT fid FROM {table}_rtree \
             WHERE max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?)"
        )
    }

    fn box_candidates(binder: &mut Binder, table: &str, b: [f64; 4], filter: &str, order: &str) -> String {
        // The box's values come before the filter's in the text: in the CASE, then in the WHERE.
        let [w, s, e, n] = b.map(Bind::Real);
        binder.prepend(vec![w.clone(), e.clone(), s.clone(), n.clone(), w, e, s, n]);
        format!(
            "SELECT t.fid, t.id, CASE WHEN r.min_lon >= ? AND r.max_lon <= ? AND r.min_lat >= ? AND r.max_lat <= ? \
             THEN NULL ELSE t.geom END AS geom \
             FROM {table}_rtree r JOIN {table} t ON t.fid = r.fid \
             WHERE r.max_lon >= ? AND r.min_lon <= ? AND r.max_lat >= ? AND r.min_lat <= ? AND {filter} ORDER BY {order}"
        )
    }

    fn fids_in(binder: &mut Binder, fids: &[i64]) -> String {
        let marks: Vec<String> =
            fids.iter().map(|f| binder.push(FieldKind::Integer, Bind::Int(*f))).collect();
        format!("t.fid IN ({})", marks.join(", "))
    }

    fn json_text(field: &str) -> String {
        format!("json_extract(properties, '$.{field}')")
    }

    fn page_columns(collection: &Collection) -> String {
        format!(
            "json_array(t.id, {}, t.area_ha, t.source_crs) AS r_, t.geom AS g_",
            fields_json(collection.fields)
        )
    }

    /// The database writes the whole text: rows through the driver cost a hand-over each.
    fn rows_read(collection: &'static Collection, columns: Columns<'_>, from: &str) -> RowsRead<SqliteRow> {
        let geometry = if columns.geometry { "COALESCE(t.geom, 'null')" } else { "'null'" };
        // Printing a real number is a large part of SQLite's work for a row: left out when not asked.
        let area = if columns.area { "t.area_ha" } else { "NULL" };
        let row = format!(
            "'[' || json_array(t.id, {}, {area}) || ',' || {geometry} || ']'",
            fields_json(columns.of(collection))
        );
        RowsRead::Whole(format!(
            "SELECT '[' || COALESCE(group_concat(r, ','), '') || ']' FROM (SELECT {row} AS r {from} ORDER BY t.fid)"
        ))
    }

    /// The rows in the order `inner` gives them: SQLite does not flatten a subquery with `ORDER BY`
    /// or `LIMIT` into an aggregate, so `group_concat` takes its rows as they come.
    fn packed_page(inner: &str) -> Option<String> {
        Some(format!(
            "SELECT group_concat(fid_ || char(31) || r_ || char(31) || COALESCE(g_, ''), char(30)), \
             MAX(v_) FROM ({inner})"
        ))
    }

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    /// Rows carry their R*Tree boxes.
    fn insert_rows<'a>(
        tx: &'a mut Tx,
        collection: &'a Collection,
        features: &'a [NewFeature],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { insert_rows(tx, collection, features).await.map(|_| ()) })
    }

    fn delete_row<'a>(
        tx: &'a mut Tx,
        collection: &'a Collection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(delete_row(tx, collection, id))
    }
}

/// `json_object(…)` of a row's `fields`; booleans, stored as integers, become JSON `true`/`false`.
fn fields_json<'a>(fields: impl IntoIterator<Item = &'a Field>) -> String {
    let fields: Vec<String> = fields
        .into_iter()
        .map(|f| match f.kind {
            FieldKind::Bool => format!(
                "'{0}', CASE WHEN t.{0} IS NULL THEN NULL WHEN t.{0} <> 0 THEN json('true') ELSE json('false') END",
                f.name
            ),
            _ => format!("'{0}', t.{0}", f.name),
        })
        .collect();
    format!("json_object({})", fields.join(", "))
}

impl SqlStore for SqliteStore {
    type Db = sqlx::Sqlite;
    fn pool(&self) -> &sqlx::Pool<sqlx::Sqlite> {
        &self.pool
    }
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

/// `query` with `binds` bound in order (see [`Backend::bind`]).
fn bind_all(query: Query<'static>, binds: Vec<Bind>) -> Query<'static> {
    binds.into_iter().fold(query, <sqlx::Sqlite as Backend>::bind)
}

fn sql(text: String) -> Query<'static> {
    sqlx::query(AssertSqlSafe(text))
}

impl SqliteStore {
    /// Opens (creating if missing) the SQLite file at `database` (a path or `sqlite://path`), in WAL mode.
    pub async fn open(database: &str) -> Result<Self, StoreError> {
        let options = if database.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(database).map_err(|e| StoreError::Unavailable(e.to_string()))?
        } else {
            SqliteConnectOptions::new().filename(database)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Rows the worker thread may read ahead of the reader (50 by default): fewer hand-overs
            // between threads for statements read row by row (a tenth to a fifth of the CPU of a page of
            // 1,000 plots read that way, `cargo bench --bench api`).
            .row_buffer_size(4096);
        let pool = super::pool_options::<sqlx::Sqlite>()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open SQLite database '{database}': {e}")))?;
        Ok(SqliteStore { pool, writer: Default::default(), counts: super::count_cache() })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn pool_connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("migrations/sqlite")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        // Records stored before history existed get their first version (once per collection).
        for collection in crate::collections::ALL.iter().filter(|c| !c.computed) {
            let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM history WHERE collection = $1")
                .bind(collection.id)
                .fetch_one(&self.pool)
                .await
                .map_err(store_error)?;
            if versions > 0 || self.count(collection).await? == 0 {
                continue;
            }
            let mut tx = self.pool.begin().await.map_err(store_error)?;
            insert_first_versions(&mut tx, collection, 0, "migration", history::now_us()).await?;
            tx.commit().await.map_err(store_error)?;
        }
        super::seed_geography(self).await
    }

    async fn close(&self) {
        self.pool.close().await
    }

    async fn data_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar(super::DATA_VERSION).fetch_one(&self.pool).await.map_err(store_error)
    }

    async fn begin_write(&self, _zones: &[String]) -> Result<Box<dyn super::WriteTx>, StoreError> {
        let writer = self.writer.clone().lock_owned().await;
        let tx = begin_write(&self.pool).await?;
        Ok(Box::new(SqliteWriteTx { tx, _writer: writer }))
    }

    async fn items(&self, collection: &'static Collection, query: &ItemsQuery) -> Result<Page, StoreError> {
        Shared::<sqlx::Sqlite>::items(&self.pool, &self.counts, collection, query).await
    }

    async fn items_json(
        &self,
        collection: &'static Collection,
        query: &ItemsQuery,
    ) -> Result<JsonPage, StoreError> {
        Shared::<sqlx::Sqlite>::items_json(&self.pool, &self.counts, collection, query).await
    }

    async fn json_rows(
        &self,
        collection: &'static Collection,
        within: super::Within<'_>,
        columns: super::Columns<'_>,
    ) -> Result<super::JsonRows, StoreError> {
        Shared::<sqlx::Sqlite>::json_rows(&self.pool, collection, within, columns).await
    }

    async fn item(
        &self,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Option<FeatureRow>, StoreError> {
        let q = sql(format!(
            "SELECT {} FROM {} t WHERE t.id = ?",
            <sqlx::Sqlite as Backend>::select_columns(collection),
            collection.table
        ));
        let row = q.bind(id.to_string()).fetch_optional(&self.pool).await.map_err(store_error)?;
        row.map(|r| <sqlx::Sqlite as Backend>::read_row(collection, &r)).transpose()
    }

    async fn item_versioned(
        &self,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Option<(FeatureRow, Option<i64>)>, StoreError> {
        Shared::<sqlx::Sqlite>::item_versioned(&self.pool, collection, id).await
    }

    async fn extent(&self, collection: &'static Collection) -> Result<Option<[f64; 4]>, StoreError> {
        if !collection.spatial {
            return Ok(None);
        }
        let q = sql(format!(
            "SELECT MIN(min_lon) a, MIN(min_lat) b, MAX(max_lon) c, MAX(max_lat) d FROM {}",
            collection.table
        ));
        let row = q.fetch_one(&self.pool).await.map_err(store_error)?;
        let a: Option<f64> = row.get("a");
        Ok(a.map(|a| [a, row.get("b"), row.get("c"), row.get("d")]))
    }

    async fn data_versions(&self, collection: &'static Collection) -> Result<super::Versions, StoreError> {
        Shared::<sqlx::Sqlite>::data_versions(&self.pool, collection).await
    }

    async fn zone_versions(&self, zone_codes: &[String]) -> Result<super::ZoneVersions, StoreError> {
        let mut versions = super::ZoneVersions::default();
        let mut read_at = None;
        // SQLite binds at most 32,766 values per statement.
        for chunk in zone_codes.chunks(10_000) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let q = sql(super::zone_versions_statement(&format!("IN ({marks})")));
            let binds = chunk.iter().map(|c| Bind::Text(c.clone())).collect();
            for row in bind_all(q, binds).fetch_all(&self.pool).await.map_err(store_error)? {
                let at: Option<i64> = row.try_get("read_at").map_err(store_error)?;
                read_at = super::same_version(read_at, at);
                if let Some(code) = row.try_get::<Option<String>, _>("zone_code").map_err(store_error)? {
                    versions.zones.insert(code, row.try_get("version").map_err(store_error)?);
                }
            }
        }
        versions.read_at = read_at.flatten();
        Ok(versions)
    }

    async fn kept(
        &self,
        kind: &str,
        zone_codes: &[String],
    ) -> Result<HashMap<String, (i64, String)>, StoreError> {
        let mut kept = HashMap::new();
        for chunk in zone_codes.chunks(10_000) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let q = sql(format!(
                "SELECT zone_code, version, pieces FROM kept_figures WHERE kind = ? AND zone_code IN ({marks})"
            ));
            let binds =
                std::iter::once(kind.to_string()).chain(chunk.iter().cloned()).map(Bind::Text).collect();
            for row in bind_all(q, binds).fetch_all(&self.pool).await.map_err(store_error)? {
                kept.insert(row.get("zone_code"), (row.get("version"), row.get("pieces")));
            }
        }
        Ok(kept)
    }

    async fn keep(&self, kind: &str, entries: &[(String, i64, String)]) -> Result<bool, StoreError> {
        // A request that computed figures waits for another computation's keep (zones measured by two
        // computations at once are kept by each, [`crate::cache::Claims`]), but not for an import: it
        // gives up after KEEP_WAITS_FOR_WRITERS and the figures stay in memory only (they are a cache).
        let Ok(_writer) = tokio::time::timeout(KEEP_WAITS_FOR_WRITERS, self.writer.lock()).await else {
            return Ok(false);
        };
        let mut tx = begin_write(&self.pool).await?;
        Shared::<sqlx::Sqlite>::keep_in(&mut tx, kind, entries).await.map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(true)
    }

    async fn count(&self, collection: &'static Collection) -> Result<u64, StoreError> {
        let n: i64 = sql(format!("SELECT COUNT(*) AS n FROM {}", collection.table))
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?
            .get("n");
        Ok(n as u64)
    }
}

/// How long keeping figures waits for this process's other writers ([`Store::keep`]): far longer than
/// another computation's keep of a province's figures, far shorter than an import.
const KEEP_WAITS_FOR_WRITERS: std::time::Duration = std::time::Duration::from_secs(5);

type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

/// Rows from which a write is large enough for a larger page cache (see `write_and_insert_by`).
const LARGE_BATCH_ROWS: usize = 100_000;
/// The page cache of a large write, KiB: at 1,000,000 plots it took the write from 20.9 s to 17.2 s.
const LARGE_BATCH_CACHE_KIB: i64 = 64 * 1024;

/// Sets this connection's page cache (`PRAGMA cache_size`: pages when positive, KiB when negative) and
/// returns the size it had.
async fn set_cache_size(tx: &mut Tx, size: i64) -> Result<i64, StoreError> {
    let previous: i64 =
        sqlx::query_scalar("PRAGMA cache_size").fetch_one(&mut **tx).await.map_err(store_error)?;
    sqlx::query(AssertSqlSafe(format!("PRAGMA cache_size = {size}")))
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    Ok(previous)
}

/// Writes rows (many a statement) and their R*Tree boxes; returns the largest fid before them (the new
/// rows are those past it: SQLite has one writer at a time).
async fn insert_rows(
    tx: &mut Tx,
    collection: &Collection,
    features: &[NewFeature],
) -> Result<i64, StoreError> {
    let mut columns = vec!["id"];
    columns.extend(collection.fields.iter().map(|f| f.name));
    columns.extend(["geom", "area_ha", "source_crs", "min_lon", "min_lat", "max_lon", "max_lat"]);
    // Many rows a statement (each statement is a round trip to SQLite's thread), within
    // SQLite's limit of 32,766 bound values.
    let rows_per_statement = (30_000 / columns.len()).clamp(1, 500);
    let row_marks = format!("({})", vec!["?"; columns.len()].join(", "));
    let before: i64 =
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT COALESCE(MAX(fid), 0) FROM {}", collection.table)))
            .fetch_one(&mut **tx)
            .await
            .map_err(store_error)?;
    // A statement and its values: geometry as GeoJSON text, its geodesic area and box.
    let prepare = |chunk: &[NewFeature]| {
        let insert = format!(
            "INSERT INTO {} ({}) VALUES {}",
            collection.table,
            columns.join(", "),
            vec![row_marks.as_str(); chunk.len()].join(", ")
        );
        let mut binds = Vec::with_capacity(chunk.len() * columns.len());
        for feature in chunk {
            binds.push(Bind::Text(feature.id.clone()));
            for f in collection.fields {
                binds.push(Bind::from_property(f.kind, feature.properties.get(f.name)));
            }
            match feature.geometry_parts() {
                Some((text, area_ha, b)) => binds.extend([
                    Bind::Text(text),
                    Bind::Real(area_ha),
                    Bind::Text(feature.source_crs.clone()),
                    Bind::Real(b[0]),
                    Bind::Real(b[1]),
                    Bind::Real(b[2]),
                    Bind::Real(b[3]),
                ]),
                None => binds.extend([0; 7].map(|_| Bind::Null(FieldKind::Text))),
            }
        }
        (insert, binds)
    };
    let mut chunks = features.chunks(rows_per_statement);
    let mut next = chunks.next().map(prepare);
    while let Some((insert, binds)) = next.take() {
        // Hand the statement to SQLite's thread, then prepare the next one while it runs.
        let mut execute = std::pin::pin!(bind_all(sql(insert), binds).execute(&mut **tx));
        let first = std::future::poll_fn(|cx| std::task::Poll::Ready(execute.as_mut().poll(cx))).await;
        next = chunks.next().map(prepare);
        match first {
            std::task::Poll::Ready(done) => done,
            std::task::Poll::Pending => execute.await,
        }
        .map_err(store_error)?;
    }
    // The new rows' boxes into the R*Tree: they are the rows past `before`. A large batch into a tree
    // holding fewer boxes (a first import) packs the tree whole; otherwise SQLite inserts them one by
    // one, in one statement.
    if collection.spatial
        && (features.len() < PACK_FROM_ROWS || !pack_rtree(tx, collection.table, features.len()).await?)
    {
        let t = collection.table;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {t}_rtree (fid, min_lon, max_lon, min_lat, max_lat) \
             SELECT fid, min_lon, max_lon, min_lat, max_lat FROM {t} WHERE fid > ? AND geom IS NOT NULL"
        )))
        .bind(before)
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    }
    Ok(before)
}

/// Batches from which an R*Tree holding fewer boxes is packed whole (see [`pack_rtree`]) rather than
/// filled box by box.
const PACK_FROM_ROWS: usize = 1000;

/// Packs `table`'s R*Tree whole when a batch of `new_rows` is at least as many as the boxes it holds (a
/// first import, or a province's into a store of fewer plots), writing its shadow tables directly: every
/// row's box, old and new, sorted into full nodes (see [`super::rtree`]). That costs about what writing
/// the boxes costs, where SQLite's own inserts cost 8 µs a box. `false` (nothing written) when the tree
/// holds more, for SQLite to insert the new boxes one by one.
async fn pack_rtree(tx: &mut Tx, table: &str, new_rows: usize) -> Result<bool, StoreError> {
    let held: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}_rtree_rowid")))
        .fetch_one(&mut **tx)
        .await
        .map_err(store_error)?;
    if usize::try_from(held).unwrap_or(usize::MAX) > new_rows {
        return Ok(false);
    }
    let node_bytes: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT length(data) FROM {table}_rtree_node WHERE nodeno = 1"
    )))
    .fetch_one(&mut **tx)
    .await
    .map_err(store_error)?;
    // Nodes too short for two cells are no tree this packs (SQLite's are 1,228 bytes, 51 cells, unless
    // the page is smaller than 1 KiB): left to SQLite.
    let Some(node_bytes) = usize::try_from(node_bytes).ok().filter(|n| *n >= 4 + 2 * 24) else {
        return Ok(false);
    };
    // The tree's nodes but its root, and where each box and node lay: written again below.
    for statement in [
        format!("DELETE FROM {table}_rtree_node WHERE nodeno <> 1"),
        format!("DELETE FROM {table}_rtree_parent"),
        format!("DELETE FROM {table}_rtree_rowid"),
    ] {
        sqlx::query(AssertSqlSafe(statement)).execute(&mut **tx).await.map_err(store_error)?;
    }
    let boxes: Vec<(i64, [f64; 4])> = sqlx::query_as::<_, (i64, f64, f64, f64, f64)>(AssertSqlSafe(format!(
        "SELECT fid, min_lon, min_lat, max_lon, max_lat FROM {table} WHERE geom IS NOT NULL"
    )))
    .fetch_all(&mut **tx)
    .await
    .map_err(store_error)?
    .into_iter()
    .map(|(fid, a, b, c, d)| (fid, [a, b, c, d]))
    .collect();
    let packed = tokio::task::spawn_blocking(move || super::rtree::pack(&boxes, node_bytes))
        .await
        .map_err(|e| StoreError::Database(format!("packing the spatial index: {e}")))?;
    let (root, others): (Vec<_>, Vec<_>) = packed.nodes.iter().partition(|(nodeno, _)| *nodeno == 1);
    let root =
        root.first().ok_or_else(|| StoreError::Database("a packed spatial index without a root".into()))?;
    sqlx::query(AssertSqlSafe(format!("UPDATE {table}_rtree_node SET data = ? WHERE nodeno = 1")))
        .bind(root.1.as_slice())
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    for chunk in others.chunks(5_000) {
        let marks = vec!["(?, ?)"; chunk.len()].join(", ");
        let statement = format!("INSERT INTO {table}_rtree_node (nodeno, data) VALUES {marks}");
        let query = chunk
            .iter()
            .fold(sqlx::query(AssertSqlSafe(statement)), |q, (n, data)| q.bind(*n).bind(data.as_slice()));
        query.execute(&mut **tx).await.map_err(store_error)?;
    }
    for (pairs, shadow, columns) in
        [(&packed.parents, "parent", "nodeno, parentnode"), (&packed.rowids, "rowid", "rowid, nodeno")]
    {
        for chunk in pairs.chunks(10_000) {
            let marks = vec!["(?, ?)"; chunk.len()].join(", ");
            let statement = format!("INSERT INTO {table}_rtree_{shadow} ({columns}) VALUES {marks}");
            let query =
                chunk.iter().fold(sqlx::query(AssertSqlSafe(statement)), |q, (a, b)| q.bind(*a).bind(*b));
            query.execute(&mut **tx).await.map_err(store_error)?;
        }
    }
    Ok(true)
}

/// The first version of the table's rows past `after_fid` (the rows this transaction wrote: SQLite has
/// one writer at a time), copied from the rows in SQL. An id deleted earlier continues its numbering
/// (its deletion is closed).
async fn insert_first_versions(
    tx: &mut Tx,
    collection: &Collection,
    after_fid: i64,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let new_rows = "t.fid > $3";
    let properties = fields_json(collection.fields);
    sqlx::query(AssertSqlSafe(history::close_reused_sql(collection, new_rows)))
        .bind(now)
        .bind(collection.id)
        .bind(after_fid)
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    sqlx::query(AssertSqlSafe(history::first_versions_sql(collection, new_rows, &properties, "t.geom")))
        .bind(now)
        .bind(collection.id)
        .bind(after_fid)
        .bind(actor)
        .bind(history::all_fields_json(collection))
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// A write transaction. IMMEDIATE: the writer lock is taken first, so the version check sees the last
/// commit (a deferred transaction could read an old snapshot, then fail to upgrade).
async fn begin_write(pool: &SqlitePool) -> Result<Tx, StoreError> {
    pool.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)
}

/// Deletes a row and its R*Tree box.
async fn delete_row(tx: &mut Tx, c: &Collection, id: &str) -> Result<(), StoreError> {
    if c.spatial {
        sql(format!("DELETE FROM {t}_rtree WHERE fid = (SELECT fid FROM {t} WHERE id = ?)", t = c.table))
            .bind(id.to_string())
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
    }
    sql(format!("DELETE FROM {} WHERE id = ?", c.table))
        .bind(id.to_string())
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    Ok(())
}
