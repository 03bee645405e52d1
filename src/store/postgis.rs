//! The shared store: PostgreSQL with PostGIS. Real `geometry(MultiPolygon, 4326)` columns with GiST
//! indexes, a bounded connection pool that reconnects by itself, sqlx migrations.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use geo::MultiPolygon;
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Column, PgPool, Row};

use super::shared::{Backend, BoxFuture, Query as SqlQuery, RowsRead, Shared, SharedOps, SqlStore};
use super::sql::{Bind, Binder, Dialect, store_error};
use super::{
    Columns, FeatureRow, ItemsQuery, JsonPage, NewFeature, Page, Store, StoreError, history,
    touched_collections, touched_zones,
};
use crate::collections::{Collection, Field, FieldKind};
use crate::spatial;

/// Rows per INSERT statement (PostgreSQL allows 65,535 bound values per statement).
const ROWS_PER_INSERT: usize = 500;

/// PostgreSQL/PostGIS through sqlx. Cheap to clone; the pool is shared.
#[derive(Clone)]
pub struct PostgisStore {
    pool: PgPool,
    /// At most half the pool writes at once: a writer waiting for a zone's lock holds a connection, and
    /// the writer holding it needs others for its checks' reads.
    writers: std::sync::Arc<tokio::sync::Semaphore>,
    /// Set when the database refused to keep figures because it is read-only (a streaming replica):
    /// figures are then kept in memory only, and the primary's kept figures replicate here.
    read_only: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Counts of matches, per data version (see [`super::CountCache`]).
    counts: super::CountCache,
}

/// Advisory lock keys (`pg_advisory_xact_lock(class, key)`): every writer holds the shared lock of
/// [`LOCK_ALL`] and the exclusive lock of each zone it touches (keyed by `hashtext(code)`); a write that
/// touches more than [`MAX_ZONE_LOCKS`] zones (a national import) takes [`LOCK_ALL`] exclusively.
const LOCK_CLASS_ALL: i32 = 0x4c42; // "LB"
const LOCK_ALL: i32 = 0;
const LOCK_CLASS_ZONE: i32 = 0x4c43;
const MAX_ZONE_LOCKS: usize = 64;

/// A PostgreSQL write transaction holding its zones' advisory locks until it ends.
struct PgWriteTx {
    tx: Tx,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

#[async_trait]
impl super::WriteTx for PgWriteTx {
    async fn write_all(mut self: Box<Self>, writes: &[history::Write]) -> Result<Vec<i64>, StoreError> {
        let mut versions = Vec::with_capacity(writes.len());
        for w in writes {
            versions.push(Shared::<sqlx::Postgres>::write_in(&mut self.tx, w).await?);
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
            Shared::<sqlx::Postgres>::write_in(&mut self.tx, w).await?;
        }
        let mut written = writes.len() as u64;
        let now = history::now_us();
        for (collection, features) in batches {
            let started = std::time::Instant::now();
            let copied = match features.len() >= COPY_FROM_ROWS {
                true => copy_rows(&mut self.tx, collection, features).await?,
                false => None,
            };
            if copied.is_none() {
                insert_rows(&mut self.tx, collection, features).await?;
            }
            written += features.len() as u64;
            tracing::debug!(
                rows = features.len(),
                seconds = started.elapsed().as_secs_f64(),
                "postgis: rows written"
            );
            let started = std::time::Instant::now();
            match &copied {
                Some(areas) => {
                    copy_first_versions(&mut self.tx, collection, features, areas, actor, now).await?
                }
                None => {
                    let ids: Vec<String> = features.iter().map(|f| f.id.clone()).collect();
                    insert_first_versions(&mut self.tx, collection, &ids, actor, now).await?;
                }
            }
            tracing::debug!(seconds = started.elapsed().as_secs_f64(), "postgis: first versions written");
            analyze_if_grown(&mut self.tx, collection.table, features.len()).await?;
        }
        let versions: usize = batches.iter().map(|(_, features)| features.len()).sum();
        analyze_if_grown(&mut self.tx, "history", versions + writes.len()).await?;
        let started = std::time::Instant::now();
        Shared::<sqlx::Postgres>::finish_write(
            &mut self.tx,
            touched_zones(batches),
            touched_collections(batches),
        )
        .await?;
        self.tx.commit().await.map_err(store_error)?;
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), "postgis: zones marked and committed");
        Ok(written)
    }

    async fn rollback(self: Box<Self>) {
        let _ = self.tx.rollback().await;
    }
}

impl Backend for sqlx::Postgres {
    const DIALECT: Dialect = Dialect::Postgres;

    /// NULLs typed by their field (PostgreSQL infers a parameter's type from it).
    fn bind(query: SqlQuery<Self>, value: Bind) -> SqlQuery<Self> {
        match value {
            Bind::Null(FieldKind::Real) => query.bind(Option::<f64>::None),
            Bind::Null(FieldKind::Integer) => query.bind(Option::<i64>::None),
            Bind::Null(FieldKind::Bool) => query.bind(Option::<bool>::None),
            Bind::Null(FieldKind::Text | FieldKind::Date) => query.bind(Option::<String>::None),
            Bind::Text(s) => query.bind(s),
            Bind::Real(f) => query.bind(f),
            Bind::Int(i) => query.bind(i),
            Bind::Bool(b) => query.bind(b),
            Bind::Ints(values) => query.bind(values),
        }
    }

    const NO_LIMIT: &'static str = "ALL";
    const PAGE_FIRST: bool = true;

    fn select_columns(collection: &Collection) -> String {
        // WKB, written as text here ([`Backend::read_geometry`]).
        format!("{}, ST_AsBinary(t.geom) AS geom, t.area_ha, t.source_crs", typed_columns(collection.fields))
    }

    fn read_row(collection: &Collection, row: &PgRow) -> Result<FeatureRow, StoreError> {
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
                    row.try_get::<Option<bool>, _>(f.name).map_err(store_error)?.map(Value::Bool)
                }
            };
            properties.insert(f.name.to_string(), value.unwrap_or(Value::Null));
        }
        Ok(FeatureRow {
            id: row.try_get("id").map_err(store_error)?,
            properties,
            geometry: Self::read_geometry(collection.id, row, "geom")?,
            area_ha: row.try_get("area_ha").map_err(store_error)?,
            source_crs: row.try_get("source_crs").map_err(store_error)?,
        })
    }

    /// The typed columns written as JSON here: PostgreSQL's `json_build_object` costs the server more
    /// than this costs landbank, and the server shares the machine. The geometry stays WKB, written out
    /// by the page's writer (rounded as it goes, without full-precision text in between).
    fn read_page_row(collection: &Collection, row: &PgRow) -> Result<super::shared::PageText, StoreError> {
        let mut out = Vec::with_capacity(512);
        out.push(b'[');
        // `area_ha` and `source_crs` follow the geometry, which follows the fields (select_columns).
        let geom = write_id_and_fields(collection.fields, row, &mut out)?;
        out.push(b',');
        json(&mut out, &row.try_get::<Option<f64>, _>(geom + 1).map_err(store_error)?);
        out.push(b',');
        json(&mut out, &row.try_get::<Option<&str>, _>(geom + 2).map_err(store_error)?);
        out.push(b']');
        let head = String::from_utf8(out).expect("serde_json writes UTF-8");
        let wkb = row.try_get::<Option<Vec<u8>>, _>(geom).map_err(store_error)?;
        Ok((head, wkb.map(super::PageGeometry::Wkb)))
    }

    /// Rows read together are written here too (as pages are, [`Backend::read_page_row`]): building
    /// their JSON with `json_build_object` and `string_agg` was half of a z12 tile's time from nothing
    /// (31–68 ms of about 93 ms for 6,000 plots), in the process that shares the cores.
    fn rows_read(collection: &'static Collection, columns: Columns<'_>, from: &str) -> RowsRead<PgRow> {
        let geometry = if columns.geometry { "ST_AsBinary(t.geom)" } else { "NULL::bytea" };
        let area = if columns.area { "t.area_ha" } else { "NULL::float8 AS area_ha" };
        let columns = format!("{}, {area}, {geometry} AS geom", typed_columns(columns.of(collection)));
        RowsRead::EachRow {
            statement: format!("SELECT {columns} {from} ORDER BY t.fid"),
            write: write_rows_row,
        }
    }

    /// PostGIS writes WKB (`ST_AsBinary`) nine times faster than GeoJSON text, and shares the machine:
    /// the text is written here ([`spatial::wkb_to_geojson`]).
    fn read_geometry(collection: &str, row: &PgRow, column: &str) -> Result<Option<String>, StoreError> {
        let Some(wkb) = row.try_get::<Option<&[u8]>, _>(column).map_err(store_error)? else {
            return Ok(None);
        };
        spatial::wkb_to_geojson(wkb).map(Some).map_err(|reason| corrupt_geometry(collection, row, reason))
    }

    fn read_shape(collection: &str, row: &PgRow, column: &str) -> Result<Option<MultiPolygon>, StoreError> {
        let Some(wkb) = row.try_get::<Option<&[u8]>, _>(column).map_err(store_error)? else {
            return Ok(None);
        };
        spatial::parse_wkb(wkb).map(Some).map_err(|reason| corrupt_geometry(collection, row, reason))
    }

    /// Through the table's GiST index.
    fn meets_box(binder: &mut Binder, _table: &str, b: [f64; 4]) -> String {
        let marks = b.map(|v| binder.push(FieldKind::Real, Bind::Real(v)));
        format!(" AND t.geom && ST_MakeEnvelope({}, 4326)", marks.join(", "))
    }

    fn box_candidates(binder: &mut Binder, table: &str, b: [f64; 4], filter: &str, order: &str) -> String {
        let marks = b.map(|v| binder.push(FieldKind::Real, Bind::Real(v)));
        let envelope = format!("ST_MakeEnvelope({}, 4326)", marks.join(", "));
        format!(
            "SELECT t.fid, t.id, CASE WHEN t.geom @ {envelope} THEN NULL ELSE ST_AsBinary(t.geom) END AS geom \
             FROM {table} t WHERE t.geom && {envelope} AND {filter} ORDER BY {order}"
        )
    }

    /// One array parameter, however many rows.
    fn fids_in(binder: &mut Binder, fids: &[i64]) -> String {
        format!("t.fid = ANY({})", binder.push(FieldKind::Integer, Bind::Ints(fids.to_vec())))
    }

    fn json_text(field: &str) -> String {
        format!("(properties::jsonb ->> '{field}')")
    }

    /// Read by `read_page_row`.
    fn page_columns(collection: &Collection) -> String {
        Self::select_columns(collection)
    }

    /// Rows come over the socket in one stream, read where they arrive.
    fn packed_page(_: &str) -> Option<String> {
        None
    }

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }

    /// The GiST index follows the rows (one record an edit: `INSERT`).
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

impl SqlStore for PostgisStore {
    type Db = sqlx::Postgres;
    fn pool(&self) -> &sqlx::Pool<sqlx::Postgres> {
        &self.pool
    }
}

fn json(out: &mut Vec<u8>, value: &impl serde::Serialize) {
    serde_json::to_writer(out, value).expect("writing JSON to memory cannot fail")
}

/// Appends `id,{field: value, …}` of a row (its `id` and the typed `fields`) as JSON, reading the
/// columns [`typed_columns`] selects, in its order, from the row's `id` on; returns the position of the
/// column after the last field. One lookup by name per row, the rest by position: sqlx hashes a name
/// and compares it at every lookup (7 % of a page's CPU when every column was read by name).
fn write_id_and_fields<'a>(
    fields: impl IntoIterator<Item = &'a Field>,
    row: &PgRow,
    out: &mut Vec<u8>,
) -> Result<usize, StoreError> {
    let id = row.try_column("id").map_err(store_error)?.ordinal();
    json(out, &row.try_get::<&str, _>(id).map_err(store_error)?);
    out.extend_from_slice(b",{");
    let mut at = id + 1;
    for f in fields {
        if at > id + 1 {
            out.push(b',');
        }
        // Field names are identifiers (they name columns), written without escapes.
        debug_assert!(f.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        out.push(b'"');
        out.extend_from_slice(f.name.as_bytes());
        out.extend_from_slice(b"\":");
        match f.kind {
            FieldKind::Text | FieldKind::Date => {
                json(out, &row.try_get::<Option<&str>, _>(at).map_err(store_error)?)
            }
            FieldKind::Real => json(out, &row.try_get::<Option<f64>, _>(at).map_err(store_error)?),
            FieldKind::Integer => json(out, &row.try_get::<Option<i64>, _>(at).map_err(store_error)?),
            FieldKind::Bool => json(out, &row.try_get::<Option<bool>, _>(at).map_err(store_error)?),
        }
        at += 1;
    }
    out.push(b'}');
    Ok(at)
}

/// `t.id` and `fields`, dates as `YYYY-MM-DD` (as [`write_id_and_fields`] reads them).
fn typed_columns<'a>(fields: impl IntoIterator<Item = &'a Field>) -> String {
    let mut cols = vec!["t.id".to_string()];
    cols.extend(fields.into_iter().map(|f| match f.kind {
        FieldKind::Date => format!("to_char(t.{0}, 'YYYY-MM-DD') AS {0}", f.name),
        _ => format!("t.{}", f.name),
    }));
    cols.join(", ")
}

/// A row of [`Backend::rows_read`] as `[[id, {field: value, …}, area_ha], geometry]`, the geometry as
/// a string of hexadecimal WKB (or `null`).
fn write_rows_row(
    collection: &'static Collection,
    columns: Columns<'_>,
    row: &PgRow,
    out: &mut Vec<u8>,
) -> Result<(), StoreError> {
    out.extend_from_slice(b"[[");
    // `area_ha` then `geom` follow the fields (rows_read).
    let area = write_id_and_fields(columns.of(collection), row, out)?;
    out.push(b',');
    json(out, &row.try_get::<Option<f64>, _>(area).map_err(store_error)?);
    out.extend_from_slice(b"],");
    match row.try_get::<Option<&[u8]>, _>(area + 1).map_err(store_error)? {
        Some(wkb) => {
            out.push(b'"');
            spatial::push_hex(wkb, out);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.push(b']');
    Ok(())
}

/// A row whose stored geometry cannot be read back, named by its `id`.
fn corrupt_geometry(collection: &str, row: &PgRow, reason: String) -> StoreError {
    StoreError::Corrupt {
        collection: collection.to_string(),
        id: row.try_get::<String, _>("id").unwrap_or_default(),
        reason: format!("its geometry: {reason}"),
    }
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// `query` with `binds` bound in order (see [`Backend::bind`]).
fn bind_all(query: Query<'static>, binds: Vec<Bind>) -> Query<'static> {
    binds.into_iter().fold(query, <sqlx::Postgres as Backend>::bind)
}

fn sql(text: String) -> Query<'static> {
    sqlx::query(AssertSqlSafe(text))
}

/// GeoJSON of a geometry column: a Polygon when it has one part (as written), else a MultiPolygon;
/// 15 decimals so that coordinates come back as they went in.
const GEOJSON: &str = "CASE WHEN t.geom IS NULL THEN NULL \
     WHEN ST_NumGeometries(t.geom) = 1 THEN ST_AsGeoJSON(ST_GeometryN(t.geom, 1), 15) \
     ELSE ST_AsGeoJSON(t.geom, 15) END";

/// How long a request waits for a connection: `LANDBANK_DB_TIMEOUT_MS`, default 2 s — short enough that
/// a database outage answers 503 quickly rather than holding every request.
fn acquire_timeout() -> Duration {
    let ms = std::env::var("LANDBANK_DB_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000u64);
    Duration::from_millis(ms.clamp(100, 600_000))
}

impl PostgisStore {
    /// Connects to `url` (`postgres://user@host:port/database`) with a bounded pool.
    ///
    /// `max_connections` bounds the pool; requests wait at most `LANDBANK_DB_TIMEOUT_MS` (default 2,000)
    /// for a connection, then get 503.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        // Connections that died with the server while idle are found before use (`pool_options`).
        let pool = super::pool_options::<sqlx::Postgres>()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout())
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        let writers = std::sync::Arc::new(tokio::sync::Semaphore::new((max_connections as usize / 2).max(1)));
        Ok(PostgisStore { pool, writers, read_only: Default::default(), counts: super::count_cache() })
    }
}

#[async_trait]
impl Store for PostgisStore {
    fn backend(&self) -> &'static str {
        "postgis"
    }

    fn pool_connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(store_error)?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("migrations/postgres")
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
            let ids: Vec<String> =
                sqlx::query_scalar(AssertSqlSafe(format!("SELECT id FROM {}", collection.table)))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(store_error)?;
            let mut tx = self.pool.begin().await.map_err(store_error)?;
            insert_first_versions(&mut tx, collection, &ids, "migration", history::now_us()).await?;
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

    async fn begin_write(&self, zones: &[String]) -> Result<Box<dyn super::WriteTx>, StoreError> {
        let permit =
            self.writers.clone().acquire_owned().await.map_err(|_| {
                StoreError::Unavailable("the store is closing; no more writes are taken".into())
            })?;
        let mut tx = begin_write(&self.pool).await?;
        let mut zones: Vec<&String> = zones.iter().collect();
        zones.sort();
        zones.dedup();
        // A write that names no zone (a record outside zones, such as a decision on a project without one)
        // has nothing narrower to lock: it excludes every writer, so its checks stay its own.
        if zones.is_empty() || zones.len() > MAX_ZONE_LOCKS {
            sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind(LOCK_CLASS_ALL)
                .bind(LOCK_ALL)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        } else {
            sqlx::query("SELECT pg_advisory_xact_lock_shared($1, $2)")
                .bind(LOCK_CLASS_ALL)
                .bind(LOCK_ALL)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
            // In one order, so that two writers of the same zones never wait for each other in a circle.
            for zone in zones {
                sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                    .bind(LOCK_CLASS_ZONE)
                    .bind(zone)
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
            }
        }
        Ok(Box::new(PgWriteTx { tx, _permit: permit }))
    }

    async fn items(&self, collection: &'static Collection, query: &ItemsQuery) -> Result<Page, StoreError> {
        Shared::<sqlx::Postgres>::items(&self.pool, &self.counts, collection, query).await
    }

    async fn items_json(
        &self,
        collection: &'static Collection,
        query: &ItemsQuery,
    ) -> Result<JsonPage, StoreError> {
        Shared::<sqlx::Postgres>::items_json(&self.pool, &self.counts, collection, query).await
    }

    async fn json_rows(
        &self,
        collection: &'static Collection,
        within: super::Within<'_>,
        columns: super::Columns<'_>,
    ) -> Result<super::JsonRows, StoreError> {
        Shared::<sqlx::Postgres>::json_rows(&self.pool, collection, within, columns).await
    }

    async fn item(
        &self,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Option<FeatureRow>, StoreError> {
        let text = format!(
            "SELECT {} FROM {} t WHERE t.id = $1",
            <sqlx::Postgres as Backend>::select_columns(collection),
            collection.table
        );
        let row = sql(text).bind(id.to_string()).fetch_optional(&self.pool).await.map_err(store_error)?;
        row.map(|r| <sqlx::Postgres as Backend>::read_row(collection, &r)).transpose()
    }

    async fn item_versioned(
        &self,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Option<(FeatureRow, Option<i64>)>, StoreError> {
        Shared::<sqlx::Postgres>::item_versioned(&self.pool, collection, id).await
    }

    async fn extent(&self, collection: &'static Collection) -> Result<Option<[f64; 4]>, StoreError> {
        if !collection.spatial {
            return Ok(None);
        }
        let text = format!(
            // Exact bounds (ST_Extent works on the indexes' single-precision boxes).
            "SELECT min(ST_XMin(geom)) a, min(ST_YMin(geom)) b, max(ST_XMax(geom)) c, max(ST_YMax(geom)) d FROM {}",
            collection.table
        );
        let row = sql(text).fetch_one(&self.pool).await.map_err(store_error)?;
        let a: Option<f64> = row.get("a");
        Ok(a.map(|a| [a, row.get("b"), row.get("c"), row.get("d")]))
    }

    async fn data_versions(&self, collection: &'static Collection) -> Result<super::Versions, StoreError> {
        Shared::<sqlx::Postgres>::data_versions(&self.pool, collection).await
    }

    async fn zone_versions(&self, zone_codes: &[String]) -> Result<super::ZoneVersions, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(super::zone_versions_statement("= ANY($1)")))
            .bind(zone_codes)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        let mut versions = super::ZoneVersions::default();
        for r in &rows {
            versions.read_at = r.try_get("read_at").map_err(store_error)?;
            if let Some(code) = r.try_get::<Option<String>, _>("zone_code").map_err(store_error)? {
                versions.zones.insert(code, r.try_get("version").map_err(store_error)?);
            }
        }
        Ok(versions)
    }

    async fn kept(
        &self,
        kind: &str,
        zone_codes: &[String],
    ) -> Result<HashMap<String, (i64, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT zone_code, version, pieces FROM kept_figures WHERE kind = $1 AND zone_code = ANY($2)",
        )
        .bind(kind)
        .bind(zone_codes)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows.iter().map(|r| (r.get("zone_code"), (r.get("version"), r.get("pieces")))).collect())
    }

    async fn keep(&self, kind: &str, entries: &[(String, i64, String)]) -> Result<bool, StoreError> {
        use std::sync::atomic::Ordering;
        if self.read_only.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        match Shared::<sqlx::Postgres>::keep_in(&mut tx, kind, entries).await {
            Ok(()) => {}
            // 25006: read_only_sql_transaction, what a hot standby answers to every write.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("25006") => {
                self.read_only.store(true, Ordering::Relaxed);
                tracing::info!("the database is read-only (a replica): figures are kept in memory only");
                return Ok(false);
            }
            Err(e) => return Err(store_error(e)),
        }
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

type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

/// The columns every row is written with: id, the collection's fields, geometry, area and CRS.
fn row_columns(collection: &Collection) -> Vec<&'static str> {
    let mut columns = vec!["id"];
    columns.extend(collection.fields.iter().map(|f| f.name));
    columns.extend(["geom", "area_ha", "source_crs"]);
    columns
}

/// A write of at least this many rows, and of at least a tenth of what the table held, refreshes its
/// statistics ([`analyze_if_grown`]).
const ANALYZE_FROM_ROWS: usize = 1_000;

/// Refreshes the planner's statistics of `table` inside the write when `rows` written are at least
/// [`ANALYZE_FROM_ROWS`] and a tenth of the rows it held (as last counted; never counted: always), as
/// autovacuum would, but before the first question after an import rather than up to a minute later.
/// With the counts of an empty table, PostgreSQL planned the reads of a zone's leases after a national
/// import (thousands of rows) as parallel scans of tens of thousands: 25–38 ms a read, 15 ms with
/// fresh statistics. `ANALYZE` counts the rows this transaction wrote, and its statistics commit or
/// roll back with them.
async fn analyze_if_grown(tx: &mut Tx, table: &str, rows: usize) -> Result<(), StoreError> {
    if rows < ANALYZE_FROM_ROWS {
        return Ok(());
    }
    let counted: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = $1::regclass")
        .bind(table)
        .fetch_one(&mut **tx)
        .await
        .map_err(store_error)?;
    if counted < 0.0 || rows as f32 >= 0.1 * counted {
        let started = std::time::Instant::now();
        sqlx::query(AssertSqlSafe(format!("ANALYZE {table}")))
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
        tracing::debug!(table, seconds = started.elapsed().as_secs_f64(), "postgis: statistics refreshed");
    }
    Ok(())
}

/// Batches smaller than this go in with `INSERT` (a `COPY` costs a catalogue query and a round trip more).
const COPY_FROM_ROWS: usize = 64;

/// Records encoded at a time for a `COPY` (on every core), then sent while PostgreSQL stores the last.
const COPY_CHUNK: usize = 4096;

/// Rows in PostgreSQL's binary `COPY` format, sent in one `COPY`; `None` (nothing sent) when a value does
/// not fit its column's type, for the caller to `INSERT` instead. Records are encoded (geometry as EWKB,
/// its geodesic area) [`COPY_CHUNK`] at a time on every core and sent as they are: PostgreSQL stores one
/// part while the next is encoded. Returns each record's area in hectares (0 without geometry), for its
/// first version.
async fn copy_rows(
    tx: &mut Tx,
    collection: &Collection,
    features: &[NewFeature],
) -> Result<Option<Vec<f64>>, StoreError> {
    use geozero::{CoordDimensions, ToWkb};
    use rayon::prelude::*;
    if features.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let types: HashMap<String, String> = sqlx::query(
        "SELECT attname::text AS name, format_type(atttypid, NULL) AS kind FROM pg_attribute \
         WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
    )
    .bind(collection.table)
    .fetch_all(&mut **tx)
    .await
    .map_err(store_error)?
    .iter()
    .map(|r| (r.get("name"), r.get("kind")))
    .collect();
    let columns = row_columns(collection);
    let kinds: Vec<&str> = columns.iter().map(|c| types.get(*c).map(String::as_str).unwrap_or("")).collect();
    // Every value must fit its column before anything is sent: a COPY under way cannot be taken back
    // without failing the transaction.
    let fits = features.par_iter().all(|feature| {
        let mut scratch = Vec::new();
        row_binds(collection, feature).iter().zip(&kinds).all(|(value, kind)| {
            scratch.clear();
            copy_value(&mut scratch, kind, value)
        })
    });
    if !fits {
        tracing::debug!(table = collection.table, "postgis: a value does not fit COPY; INSERT instead");
        return Ok(None);
    }
    let statement = format!("COPY {} ({}) FROM STDIN (FORMAT binary)", collection.table, columns.join(", "));
    let copy = tx.copy_in_raw(&statement).await.map_err(store_error)?;
    // Each record's row, and its geodesic area for its first version.
    let areas = copy_encoded(copy, features, |_, feature, row| {
        row.extend_from_slice(&(columns.len() as i16).to_be_bytes());
        for (value, kind) in row_binds(collection, feature).iter().zip(&kinds) {
            copy_value(row, kind, value); // fits: checked above
        }
        let Some(g) = &feature.geometry else {
            (0..3).for_each(|_| copy_field(row, None));
            return Ok(0.0);
        };
        let ewkb = geo::Geometry::MultiPolygon(g.clone())
            .to_ewkb(CoordDimensions::xy(), Some(4326))
            .map_err(|e| format!("geometry of {}: {e}", feature.id))?;
        let area_ha = crate::spatial::area_ha(g);
        copy_field(row, Some(&ewkb));
        copy_field(row, Some(&area_ha.to_be_bytes()));
        copy_field(row, Some(feature.source_crs.as_bytes()));
        Ok(area_ha)
    })
    .await?;
    Ok(Some(areas))
}

/// Sends `items` through a binary `COPY` just started: PostgreSQL's header, each item's row as `encode`
/// writes it (given the item's index), the trailer. Rows are encoded [`COPY_CHUNK`] at a time on every
/// core, and each part is sent as it is ready, so PostgreSQL stores one part while the next is encoded.
/// Returns what `encode` returned for each item, in order; an encoding error aborts the `COPY`.
async fn copy_encoded<T: Sync, X: Send>(
    mut copy: sqlx::postgres::PgCopyIn<&mut sqlx::PgConnection>,
    items: &[T],
    encode: impl Fn(usize, &T, &mut Vec<u8>) -> Result<X, String> + Sync,
) -> Result<Vec<X>, StoreError> {
    use rayon::prelude::*;
    let mut out = Vec::with_capacity(items.len());
    let mut part = Vec::new();
    part.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    part.extend_from_slice(&0i32.to_be_bytes()); // flags
    part.extend_from_slice(&0i32.to_be_bytes()); // header extension
    for (n, chunk) in items.chunks(COPY_CHUNK).enumerate() {
        let first = n * COPY_CHUNK;
        let encoded: Vec<Result<(Vec<u8>, X), String>> = chunk
            .par_iter()
            .enumerate()
            .map(|(k, item)| {
                let mut row = Vec::with_capacity(512);
                encode(first + k, item, &mut row).map(|x| (row, x))
            })
            .collect();
        for result in encoded {
            match result {
                Ok((row, x)) => {
                    part.extend_from_slice(&row);
                    out.push(x);
                }
                Err(e) => {
                    let _ = copy.abort("landbank: a row could not be encoded").await;
                    return Err(StoreError::Database(e));
                }
            }
        }
        if out.len() == items.len() {
            part.extend_from_slice(&(-1i16).to_be_bytes());
        }
        if let Err(e) = copy.send(part.as_slice()).await {
            let _ = copy.abort("landbank: sending the rows failed").await;
            return Err(store_error(e));
        }
        part.clear();
    }
    if items.is_empty() {
        part.extend_from_slice(&(-1i16).to_be_bytes());
        copy.send(part.as_slice()).await.map_err(store_error)?;
    }
    copy.finish().await.map_err(store_error)?;
    Ok(out)
}

/// A record's id and fields, bound in [`row_columns`]' order (geometry, area and CRS apart).
fn row_binds(collection: &Collection, feature: &NewFeature) -> Vec<Bind> {
    std::iter::once(Bind::Text(feature.id.clone()))
        .chain(collection.fields.iter().map(|f| Bind::from_property(f.kind, feature.properties.get(f.name))))
        .collect()
}

/// The first version of each record just copied in (`areas` from [`copy_rows`]), copied into history in
/// one binary `COPY`: its properties (every field, null when absent) and geometry as the GeoJSON text an
/// edit records, encoded on every core. An id deleted earlier continues its numbering (its deletion is
/// closed), as with [`insert_first_versions`].
async fn copy_first_versions(
    tx: &mut Tx,
    collection: &Collection,
    features: &[NewFeature],
    areas: &[f64],
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    if features.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = features.iter().map(|f| f.id.as_str()).collect();
    // Ids with earlier versions (deleted records created again): usually none.
    let earlier: HashMap<String, i64> = sqlx::query(
        "SELECT id, MAX(version) AS version FROM history WHERE collection = $1 AND id = ANY($2) GROUP BY id",
    )
    .bind(collection.id)
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await
    .map_err(store_error)?
    .iter()
    .map(|r| (r.get("id"), r.get("version")))
    .collect();
    if !earlier.is_empty() {
        let reused: Vec<&str> = earlier.keys().map(String::as_str).collect();
        sqlx::query(AssertSqlSafe(history::close_reused_sql(collection, "t.id = ANY($3)")))
            .bind(now)
            .bind(collection.id)
            .bind(&reused)
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
    }
    let changed = history::all_fields_json(collection);
    let copy = tx
        .copy_in_raw(
            "COPY history (collection, id, version, op, actor, recorded_from_us, recorded_to_us, changed, \
             properties, geom, area_ha, source_crs) FROM STDIN (FORMAT binary)",
        )
        .await
        .map_err(store_error)?;
    copy_encoded(copy, features, |k, feature, row| {
        let properties: Map<String, Value> = collection
            .fields
            .iter()
            .map(|f| (f.name.to_string(), feature.properties.get(f.name).cloned().unwrap_or(Value::Null)))
            .collect();
        let version = 1 + earlier.get(&feature.id).copied().unwrap_or(0);
        row.extend_from_slice(&12i16.to_be_bytes());
        copy_field(row, Some(collection.id.as_bytes()));
        copy_field(row, Some(feature.id.as_bytes()));
        copy_field(row, Some(&version.to_be_bytes()));
        copy_field(row, Some(b"create"));
        copy_field(row, Some(actor.as_bytes()));
        copy_field(row, Some(&now.to_be_bytes()));
        copy_field(row, None);
        copy_field(row, Some(changed.as_bytes()));
        copy_field(row, Some(Value::Object(properties).to_string().as_bytes()));
        match &feature.geometry {
            Some(g) => {
                copy_field(row, Some(crate::spatial::to_geojson(g).to_string().as_bytes()));
                copy_field(row, Some(&areas[k].to_be_bytes()));
                copy_field(row, Some(feature.source_crs.as_bytes()));
            }
            None => (0..3).for_each(|_| copy_field(row, None)),
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// One field of a binary `COPY` row: its length, then its bytes (`None`: NULL).
fn copy_field(buf: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        Some(b) => {
            buf.extend_from_slice(&(b.len() as i32).to_be_bytes());
            buf.extend_from_slice(b);
        }
        None => buf.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

/// A value in the binary form of a column of type `kind` (PostgreSQL's name for it); false when it does
/// not fit.
fn copy_value(buf: &mut Vec<u8>, kind: &str, value: &Bind) -> bool {
    let days_since_2000 = |s: &str| {
        let day = crate::domain::parse_date(s).ok()?;
        i32::try_from(day.signed_duration_since(crate::domain::Date::from_ymd_opt(2000, 1, 1)?).num_days())
            .ok()
    };
    match (kind, value) {
        (_, Bind::Null(_)) => copy_field(buf, None),
        ("text", Bind::Text(s)) => copy_field(buf, Some(s.as_bytes())),
        ("double precision", Bind::Real(v)) => copy_field(buf, Some(&v.to_be_bytes())),
        ("double precision", Bind::Int(v)) => copy_field(buf, Some(&(*v as f64).to_be_bytes())),
        ("bigint", Bind::Int(v)) => copy_field(buf, Some(&v.to_be_bytes())),
        ("integer", Bind::Int(v)) => match i32::try_from(*v) {
            Ok(v) => copy_field(buf, Some(&v.to_be_bytes())),
            Err(_) => return false,
        },
        ("boolean", Bind::Bool(b)) => copy_field(buf, Some(&[u8::from(*b)])),
        ("date", Bind::Text(s)) => match days_since_2000(s) {
            Some(days) => copy_field(buf, Some(&days.to_be_bytes())),
            None => return false,
        },
        _ => return false,
    }
    true
}

/// Writes rows (many a statement); returns how many.
async fn insert_rows(
    tx: &mut Tx,
    collection: &Collection,
    features: &[NewFeature],
) -> Result<u64, StoreError> {
    let mut written = 0;
    let columns = row_columns(collection);
    for chunk in features.chunks(ROWS_PER_INSERT) {
        let mut binder = Binder::new(Dialect::Postgres);
        let mut rows = Vec::with_capacity(chunk.len());
        for feature in chunk {
            let mut marks = vec![binder.push(FieldKind::Text, Bind::Text(feature.id.clone()))];
            for f in collection.fields {
                marks.push(binder.push(f.kind, Bind::from_property(f.kind, feature.properties.get(f.name))));
            }
            let (geometry, area_ha, crs) = match feature.geometry_parts() {
                Some((text, area, _)) => {
                    (Bind::Text(text), Bind::Real(area), Bind::Text(feature.source_crs.clone()))
                }
                None => {
                    (Bind::Null(FieldKind::Text), Bind::Null(FieldKind::Real), Bind::Null(FieldKind::Text))
                }
            };
            let g = binder.push(FieldKind::Text, geometry);
            marks.push(format!("ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON({g}), 4326))"));
            marks.push(binder.push(FieldKind::Real, area_ha));
            marks.push(binder.push(FieldKind::Text, crs));
            rows.push(format!("({})", marks.join(", ")));
        }
        let text =
            format!("INSERT INTO {} ({}) VALUES {}", collection.table, columns.join(", "), rows.join(", "));
        bind_all(sql(text), binder.binds).execute(&mut **tx).await.map_err(store_error)?;
        written += chunk.len() as u64;
    }
    Ok(written)
}

/// The first version of the table's rows with these ids (the rows this transaction wrote), copied from
/// the rows in SQL. An id deleted earlier continues its numbering (its deletion is closed).
async fn insert_first_versions(
    tx: &mut Tx,
    collection: &Collection,
    ids: &[String],
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let new_rows = "t.id = ANY($3)";
    let pairs: Vec<String> = collection.fields.iter().map(|f| format!("'{0}', t.{0}", f.name)).collect();
    let properties = format!("jsonb_build_object({})::text", pairs.join(", "));
    sqlx::query(AssertSqlSafe(history::close_reused_sql(collection, new_rows)))
        .bind(now)
        .bind(collection.id)
        .bind(ids)
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    sqlx::query(AssertSqlSafe(history::first_versions_sql(collection, new_rows, &properties, GEOJSON)))
        .bind(now)
        .bind(collection.id)
        .bind(ids)
        .bind(actor)
        .bind(history::all_fields_json(collection))
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// A write transaction. Two writers closing the same version: the second waits on the row lock, then
/// finds it closed.
async fn begin_write(pool: &PgPool) -> Result<Tx, StoreError> {
    pool.begin().await.map_err(store_error)
}

/// Deletes a row (the GiST index follows).
async fn delete_row(tx: &mut Tx, c: &Collection, id: &str) -> Result<(), StoreError> {
    sql(format!("DELETE FROM {} WHERE id = $1", c.table))
        .bind(id.to_string())
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    Ok(())
}
