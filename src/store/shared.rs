//! The code both stores run alike, written once and generic over the database ([`SharedOps`] for
//! `Shared<DB>`): items (with their filter and bounding-box paths), versions, the audit trail, tokens and
//! the versioned write of one record. What differs between SQLite and PostgreSQL (binding, reading a
//! row, the spatial index's SQL, how rows and their index entries are written and deleted) is the
//! [`Backend`] trait, implemented for `sqlx::Sqlite` and `sqlx::Postgres` in their store modules.
//!
//! sqlx's traits for the types the shared SQL binds and reads are required once, on the one impl of
//! [`SharedOps`]; both databases meet them. `History` and `Tokens` follow for every [`SqlStore`].

use std::collections::BTreeSet;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use geo::MultiPolygon;
use sqlx::{AssertSqlSafe, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use super::sql::{Bind, Binder, Dialect, store_error};
use super::{
    BboxCandidate, Condition, CountCache, FeatureRow, ItemsQuery, JsonPage, NewFeature, Page,
    RECORD_ZONE_VERSION, StoreError, exact_bbox_filter, history, page_of, page_of_rows,
};
use crate::collections::Collection;

/// A boxed future that may move between threads.
pub(crate) type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A statement of database `DB` with its bound values.
pub(crate) type Query<DB> = sqlx::query::Query<'static, DB, <DB as Database>::Arguments>;

/// A write transaction of database `DB`.
pub(crate) type Tx<DB> = sqlx::Transaction<'static, DB>;

/// How a database reads rows together ([`super::Store::json_rows`]) into one JSON text, an array of
/// `[[id, {field: value, …}, area_ha], geometry]` (see [`super::JsonRows`]).
pub(crate) enum RowsRead<R> {
    /// One statement whose one value is the whole text, written by the database.
    Whole(String),
    /// A statement of typed columns, in `fid` order; `write` appends each row's element.
    EachRow {
        statement: String,
        write: fn(&'static Collection, super::Columns<'_>, &R, &mut Vec<u8>) -> Result<(), StoreError>,
    },
}

/// What differs between the databases, for the code they share.
pub(crate) trait Backend: Database {
    /// SQL reading property `field` of history's JSON text (`properties`) as text.
    fn json_text(field: &str) -> String;
    /// Rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;
    /// Writes `features` (rows of `collection` and their index entries) inside `tx`.
    fn insert_rows<'a>(
        tx: &'a mut Tx<Self>,
        collection: &'a Collection,
        features: &'a [NewFeature],
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// How this database's SQL names bound values.
    const DIALECT: Dialect;
    /// `query` with `value` bound next, typed as this database wants it.
    fn bind(query: Query<Self>, value: Bind) -> Query<Self>;
    /// The `LIMIT` meaning no limit (for an `OFFSET` without one).
    const NO_LIMIT: &'static str;
    /// Whether a page's rows are picked in a subquery before their columns are computed: PostgreSQL
    /// computes them (GeoJSON text) below an `OFFSET`, for every row it skips as well (a page at offset
    /// 5,000 of 102,400 plots: 23 ms, 11 ms picked first); SQLite does not, and copies the subquery.
    const PAGE_FIRST: bool;
    /// The `SELECT` list of a collection's rows (`t`), as [`Backend::read_row`] reads them.
    fn select_columns(collection: &Collection) -> String;
    /// The geometry `column` of a row of `collection` (its `id` read too) as GeoJSON text, as
    /// [`super::FeatureRow::geometry`] holds it; `None` when NULL.
    fn read_geometry(collection: &str, row: &Self::Row, column: &str) -> Result<Option<String>, StoreError>;
    /// The geometry `column` of a row of `collection` (its `id` read too) parsed into `geo`; `None`
    /// when NULL.
    fn read_shape(
        collection: &str,
        row: &Self::Row,
        column: &str,
    ) -> Result<Option<MultiPolygon>, StoreError>;
    /// A row of [`Backend::select_columns`].
    fn read_row(collection: &Collection, row: &Self::Row) -> Result<FeatureRow, StoreError>;
    /// ` AND …` keeping the rows of `t` whose box meets `b`, through the spatial index.
    fn meets_box(binder: &mut Binder, table: &str, b: [f64; 4]) -> String;
    /// The statement reading the candidates of an exact box test: `fid`, `id` and `geom` (as
    /// [`Backend::read_shape`] reads it; NULL when the row's box lies inside `b`, which needs no test)
    /// of the rows whose box meets `b` and that pass `filter`, in `order`.
    fn box_candidates(binder: &mut Binder, table: &str, b: [f64; 4], filter: &str, order: &str) -> String;
    /// `t.fid IN …` of these row numbers, their values bound through `binder`.
    fn fids_in(binder: &mut Binder, fids: &[i64]) -> String;
    /// The columns of a page's row of `t`, as [`Backend::read_page_row`] reads them.
    fn page_columns(collection: &Collection) -> String;
    /// A row of [`Backend::page_columns`]: `[id, {field: value, …}, area_ha, source_crs]` as JSON text
    /// and its geometry (see [`super::JsonPage`]).
    fn read_page_row(collection: &Collection, row: &Self::Row) -> Result<PageText, StoreError>;
    /// The statement reading the rows of `inner` (a page of [`Backend::page_columns`], `fid_` and `v_`,
    /// at most [`PACKED_ROWS`] of them) as one text (see [`unpack_page`]) and their `v_`, where reading
    /// a row costs a trip through the driver each (SQLite's worker thread hands every row over on its
    /// own, waking the reader each time); `None` where rows are read one by one.
    fn packed_page(inner: &str) -> Option<String>;
    /// How the rows of `from` (`FROM … WHERE …`, the table as `t`) are read together, with the
    /// `columns` asked (the geometry as GeoJSON text or a string of hexadecimal WKB; what is not
    /// asked as `null`).
    fn rows_read(
        collection: &'static Collection,
        columns: super::Columns<'_>,
        from: &str,
    ) -> RowsRead<Self::Row>;
    /// Deletes the row `id` of `collection` and its index entries inside `tx`.
    fn delete_row<'a>(
        tx: &'a mut Tx<Self>,
        collection: &'a Collection,
        id: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// A row of a page as text: the row's JSON text and its geometry (see [`Backend::read_page_row`]).
pub(crate) type PageText = (String, Option<super::PageGeometry>);

/// The most rows a page is read as one text ([`Backend::packed_page`]): the text stays far below
/// SQLite's limit on a value (10⁹ bytes), whatever the records.
pub(crate) const PACKED_ROWS: u64 = 10_000;

/// The records of a page read as one text ([`Backend::packed_page`]): records separated by `\x1e`,
/// each `fid \x1f JSON text \x1f geometry` (the geometry empty when there is none). JSON text holds no
/// raw control characters (they are escaped), so the separators cannot occur inside a record.
pub(crate) fn unpack_page(collection: &str, text: &str) -> Result<Vec<(i64, PageText)>, StoreError> {
    text.split('\x1e')
        .filter(|record| !record.is_empty())
        .map(|record| {
            let bad = || StoreError::Corrupt {
                collection: collection.to_string(),
                id: record.split('\x1f').next().unwrap_or_default().to_string(),
                reason: "its row, read with its page as one text, is not as written".into(),
            };
            let (fid, rest) = record.split_once('\x1f').ok_or_else(bad)?;
            let (json, geometry) = rest.split_once('\x1f').ok_or_else(bad)?;
            let fid = fid.parse().map_err(|_| bad())?;
            let geometry = (!geometry.is_empty()).then(|| super::PageGeometry::Text(geometry.to_string()));
            Ok((fid, (json.to_string(), geometry)))
        })
        .collect()
}

/// A store over one database pool: versions, audit and tokens follow (see [`super::History`] and
/// [`super::Tokens`]).
pub(crate) trait SqlStore: Send + Sync + 'static {
    type Db: Backend;
    fn pool(&self) -> &Pool<Self::Db>;
}

/// The operations both stores share, written once (for `Shared<DB>`, over any database that has sqlx's
/// traits for the types they bind and read: the bounds are stated on that one impl).
#[async_trait]
pub(crate) trait SharedOps {
    type Db: Backend;

    /// The open version of a record and its operation.
    async fn open_version<'c, E>(
        executor: E,
        c: &Collection,
        id: &str,
    ) -> Result<Option<(i64, String)>, StoreError>
    where
        E: Executor<'c, Database = Self::Db>;

    /// A statement with its values bound.
    fn statement(text: String, binds: Vec<Bind>) -> Query<Self::Db>;

    /// Rows of a collection that match the query, and the count of all matches (see
    /// [`super::Store::items`]).
    async fn items(
        pool: &Pool<Self::Db>,
        counts: &CountCache,
        collection: &'static Collection,
        query: &ItemsQuery,
    ) -> Result<Page, StoreError>;

    /// The page of [`SharedOps::items`], its rows as JSON text (see [`super::Store::items_json`]).
    async fn items_json(
        pool: &Pool<Self::Db>,
        counts: &CountCache,
        collection: &'static Collection,
        query: &ItemsQuery,
    ) -> Result<JsonPage, StoreError>;

    /// The page of `query` when its rows are read whole and tested in Rust: records as they were at an
    /// instant (from history), or conditions SQL cannot decide alone (see [`crate::store::filter`]);
    /// `None` when SQL can page it.
    async fn rows_read_in_rust(
        pool: &Pool<Self::Db>,
        collection: &'static Collection,
        query: &ItemsQuery,
    ) -> Result<Option<Page>, StoreError>;

    /// One page of `query` paged in SQL, each row read from `columns` (of the table as `t`) by `read`,
    /// in the query's order, the count of all matches (kept in `counts` per data version), and the data
    /// version the rows were read at (`None`: no rows, or read by statements at different versions).
    /// With `packed` (`columns` being [`Backend::page_columns`]), a page of at most [`PACKED_ROWS`] is
    /// read as one text where the database offers it, each row made by `packed` from its JSON text and
    /// geometry.
    async fn page_in_sql<R: Send>(
        pool: &Pool<Self::Db>,
        counts: &CountCache,
        collection: &'static Collection,
        query: &ItemsQuery,
        columns: &str,
        read: impl for<'r> Fn(&'r <Self::Db as Database>::Row) -> Result<R, StoreError> + Send + Sync,
        packed: Option<fn(PageText) -> R>,
    ) -> Result<(Vec<R>, u64, Option<i64>), StoreError>;

    /// Rows as one JSON text (see [`super::Store::json_rows`]).
    async fn json_rows(
        pool: &Pool<Self::Db>,
        collection: &'static Collection,
        within: super::Within<'_>,
        columns: super::Columns<'_>,
    ) -> Result<super::JsonRows, StoreError>;

    /// One row and its current version, read together (see [`super::Store::item_versioned`]).
    async fn item_versioned(
        pool: &Pool<Self::Db>,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Option<(FeatureRow, Option<i64>)>, StoreError>;

    async fn current_version(
        pool: &Pool<Self::Db>,
        c: &Collection,
        id: &str,
    ) -> Result<Option<i64>, StoreError>;

    async fn versions(
        pool: &Pool<Self::Db>,
        c: &Collection,
        id: &str,
    ) -> Result<Vec<history::Version>, StoreError>;

    async fn rows_as_of(
        pool: &Pool<Self::Db>,
        c: &Collection,
        at_us: i64,
        conditions: &[Condition],
    ) -> Result<Vec<FeatureRow>, StoreError>;

    async fn audit(
        pool: &Pool<Self::Db>,
        q: &history::AuditQuery,
    ) -> Result<(Vec<history::Version>, u64), StoreError>;

    async fn create_token(
        pool: &Pool<Self::Db>,
        token: &history::Token,
        secret_sha256: &str,
    ) -> Result<(), StoreError>;

    async fn token_by_hash(
        pool: &Pool<Self::Db>,
        secret_sha256: &str,
    ) -> Result<Option<history::Token>, StoreError>;

    async fn tokens(pool: &Pool<Self::Db>) -> Result<Vec<history::Token>, StoreError>;

    async fn revoke_token(pool: &Pool<Self::Db>, id_or_name: &str) -> Result<bool, StoreError>;

    /// Writes one record and its version inside the open write transaction `tx` (the caller commits).
    /// The version check is the `UPDATE` that closes the expected version: of two writers holding it,
    /// one closes it and the other finds it closed.
    async fn write_in(tx: &mut Tx<Self::Db>, w: &history::Write) -> Result<i64, StoreError>;

    /// Every write ends so: a new data version, recorded for the zones and collections it touched.
    async fn finish_write(
        tx: &mut Tx<Self::Db>,
        zones: BTreeSet<String>,
        collections: BTreeSet<&'static str>,
    ) -> Result<(), StoreError>;

    /// See [`super::Store::data_versions`].
    async fn data_versions(
        pool: &Pool<Self::Db>,
        collection: &'static Collection,
    ) -> Result<super::Versions, StoreError>;

    /// Keeps per-zone results of `kind` (zone, its data version, the text kept) in the open transaction
    /// `tx`, one upsert each (the caller commits; see [`super::Store::keep`]). The driver's error is
    /// returned as it came, for the caller to tell a read-only database from a failure.
    async fn keep_in(
        tx: &mut Tx<Self::Db>,
        kind: &str,
        entries: &[(String, i64, String)],
    ) -> Result<(), sqlx::Error>;
}

/// The shared operations of database `DB` (a namespace: the bounds are stated once, here).
pub(crate) struct Shared<DB>(std::marker::PhantomData<DB>);

#[async_trait]
impl<DB: Backend> SharedOps for Shared<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> Option<f64>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    type Db = DB;

    /// The open version of a record and its operation.
    async fn open_version<'c, E>(
        executor: E,
        c: &Collection,
        id: &str,
    ) -> Result<Option<(i64, String)>, StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        let row = sqlx::query::<DB>(history::OPEN_VERSION)
            .bind(c.id)
            .bind(id)
            .fetch_optional(executor)
            .await
            .map_err(store_error)?;
        row.map(|r| Ok((r.try_get(0).map_err(store_error)?, r.try_get(1).map_err(store_error)?))).transpose()
    }

    /// A statement with its values bound.
    fn statement(text: String, binds: Vec<Bind>) -> Query<DB> {
        binds.into_iter().fold(sqlx::query::<DB>(AssertSqlSafe(text)), DB::bind)
    }

    /// Rows of a collection that match the query, and the count of all matches (see
    /// [`super::Store::items`]).
    async fn items(
        pool: &Pool<DB>,
        counts: &CountCache,
        collection: &'static Collection,
        query: &ItemsQuery,
    ) -> Result<Page, StoreError> {
        if let Some(page) = Self::rows_read_in_rust(pool, collection, query).await? {
            return Ok(page);
        }
        let read = |r: &DB::Row| DB::read_row(collection, r);
        let columns = DB::select_columns(collection);
        let (rows, number_matched, _) =
            Self::page_in_sql(pool, counts, collection, query, &columns, read, None).await?;
        Ok(Page { rows, number_matched })
    }

    async fn items_json(
        pool: &Pool<DB>,
        counts: &CountCache,
        collection: &'static Collection,
        query: &ItemsQuery,
    ) -> Result<JsonPage, StoreError> {
        if let Some(page) = Self::rows_read_in_rust(pool, collection, query).await? {
            return JsonPage::of_rows(collection, page);
        }
        let columns = DB::page_columns(collection);
        let read = |r: &DB::Row| DB::read_page_row(collection, r);
        let (rows, number_matched, read_at) =
            Self::page_in_sql(pool, counts, collection, query, &columns, read, Some(|row| row)).await?;
        Ok(JsonPage { collection: collection.id, rows, number_matched, read_at })
    }

    async fn rows_read_in_rust(
        pool: &Pool<DB>,
        collection: &'static Collection,
        query: &ItemsQuery,
    ) -> Result<Option<Page>, StoreError> {
        if let Some(at) = query.recorded_at_us {
            let rows = Self::rows_as_of(pool, collection, at, &query.conditions).await?;
            return page_of_rows(collection, rows, query).map(Some);
        }
        if !query.conditions.iter().any(Condition::needs_rust) {
            return Ok(None);
        }
        // The SQL is a superset (see store::filter): read the candidates, within the box the query
        // implies, and test them in Rust.
        let mut binder = Binder::new(DB::DIALECT);
        let filter = binder.where_clause(collection, &query.conditions)?;
        let table = collection.table;
        let within = match super::candidate_box(query).filter(|_| collection.spatial) {
            Some(b) => DB::meets_box(&mut binder, table, b),
            None => String::new(),
        };
        let text = format!("SELECT {} FROM {table} t WHERE {filter}{within}", DB::select_columns(collection));
        let rows = Self::statement(text, binder.binds).fetch_all(pool).await.map_err(store_error)?;
        let rows = rows.iter().map(|r| DB::read_row(collection, r)).collect::<Result<_, _>>()?;
        page_of_rows(collection, rows, query).map(Some)
    }

    /// One page of `query` paged in SQL, each row read from `columns` (of the table as `t`) by `read`, in
    /// the query's order, the count of all matches and the data version the rows were read at: through
    /// the spatial index and an exact test when there is a box, else one `LIMIT … OFFSET …` that also
    /// reads the data version, and a count when none is kept for that version. Every statement runs on
    /// one connection, taken from the pool once (each release costs sqlx a round trip).
    async fn page_in_sql<R: Send>(
        pool: &Pool<DB>,
        counts: &CountCache,
        collection: &'static Collection,
        query: &ItemsQuery,
        columns: &str,
        read: impl for<'r> Fn(&'r DB::Row) -> Result<R, StoreError> + Send + Sync,
        packed: Option<fn(PageText) -> R>,
    ) -> Result<(Vec<R>, u64, Option<i64>), StoreError> {
        // The rows of statement `text` (which selects `fid_`, `columns` and `v_`, the data version or
        // NULL; its values bound by `statement`) with their fids, and the data version they were read at
        // (`None`: no rows, or none asked for). Read as one text where `packed` is given, at most
        // PACKED_ROWS are expected (`rows`) and the database offers it (Backend::packed_page); else
        // row by row, each by `read`.
        #[allow(clippy::too_many_arguments)]
        async fn fetch<DB: Backend, R>(
            conn: &mut DB::Connection,
            collection: &str,
            text: String,
            statement: impl FnOnce(String) -> Query<DB>,
            rows: u64,
            read: impl for<'r> Fn(&'r DB::Row) -> Result<R, StoreError>,
            packed: Option<fn(PageText) -> R>,
        ) -> Result<(Vec<(i64, R)>, Option<i64>), StoreError>
        where
            for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
            DB::Arguments: IntoArguments<DB>,
            for<'q> i64: Decode<'q, DB> + Type<DB>,
            for<'q> Option<i64>: Decode<'q, DB> + Type<DB>,
            for<'q> Option<String>: Decode<'q, DB> + Type<DB>,
            for<'q> &'q str: ColumnIndex<DB::Row>,
            usize: ColumnIndex<DB::Row>,
        {
            let packed = packed.filter(|_| rows <= PACKED_ROWS);
            if let Some((unpack, text)) = packed.and_then(|unpack| Some((unpack, DB::packed_page(&text)?))) {
                let row = statement(text).fetch_one(&mut *conn).await.map_err(store_error)?;
                let text: Option<String> = row.try_get(0).map_err(store_error)?;
                let version: Option<i64> = row.try_get(1).map_err(store_error)?;
                let rows = unpack_page(collection, text.as_deref().unwrap_or_default())?;
                return Ok((rows.into_iter().map(|(fid, row)| (fid, unpack(row))).collect(), version));
            }
            // Each row is read as it arrives, while the database is still sending the next ones (a page
            // of 1,000 plots from PostgreSQL waited for all of them first).
            let mut stream = statement(text).fetch(&mut *conn);
            let (mut rows, mut version) = (Vec::new(), None);
            while let Some(r) = stream.try_next().await.map_err(store_error)? {
                if rows.is_empty() {
                    version = r.try_get("v_").map_err(store_error)?;
                }
                rows.push((r.try_get("fid_").map_err(store_error)?, read(&r)?));
            }
            Ok((rows, version))
        }
        let mut binder = Binder::new(DB::DIALECT);
        let filter = binder.where_clause(collection, &query.conditions)?;
        let table = collection.table;
        let statement = Self::statement;
        let order = super::order_by(&query.sort);
        let mut conn = pool.acquire().await.map_err(store_error)?;
        let Some(bbox) = query.bbox.filter(|_| collection.spatial) else {
            // The page's bounds are written into the statement, not bound, and left out when there are
            // none. PostgreSQL plans a prepared statement once for any values after five runs: with
            // `LIMIT $n` it assumed a few rows and walked a whole table in `fid` order, filtering
            // (575 ms for a zone's leases among 775,000, where the zone index takes 2 ms).
            let paging = match (query.limit, query.offset) {
                (None, 0) => String::new(),
                (None, offset) => format!(" LIMIT {} OFFSET {offset}", DB::NO_LIMIT),
                (Some(limit), offset) => format!(" LIMIT {limit} OFFSET {offset}"),
            };
            // The data version comes with the rows (one trip to the database instead of two), for the
            // count of matches kept per version.
            let version = super::DATA_VERSION;
            let text = if DB::PAGE_FIRST {
                format!(
                    "SELECT t.fid AS fid_, {columns}, ({version}) AS v_ \
                     FROM (SELECT * FROM {table} t WHERE {filter} ORDER BY {order}{paging}) t ORDER BY {order}"
                )
            } else {
                format!(
                    "SELECT t.fid AS fid_, {columns}, ({version}) AS v_ FROM {table} t WHERE {filter} \
                     ORDER BY {order}{paging}"
                )
            };
            let binds = binder.binds.clone();
            let expected = query.limit.unwrap_or(u64::MAX);
            let (rows, version) =
                fetch(&mut conn, collection.id, text, |text| statement(text, binds), expected, &read, packed)
                    .await?;
            let rows = rows.into_iter().map(|(_, row)| row).collect();
            // Counted once per data version, after the version was read: a write in between is counted
            // under the version before it, and never served once that version is gone.
            let version = match version {
                Some(version) => version,
                None => sqlx::query::<DB>(super::DATA_VERSION)
                    .fetch_one(&mut *conn)
                    .await
                    .and_then(|r| r.try_get(0))
                    .map_err(store_error)?,
            };
            let key = format!("{table}\u{1f}{filter}\u{1f}{:?}", binder.binds);
            let count = match counts.get(&key, version) {
                Some((count, _)) => count,
                None => {
                    let text = format!("SELECT COUNT(*) AS n FROM {table} t WHERE {filter}");
                    let count: i64 = statement(text, binder.binds)
                        .fetch_one(&mut *conn)
                        .await
                        .and_then(|r| r.try_get("n"))
                        .map_err(store_error)?;
                    let key_bytes = u32::try_from(key.len()).unwrap_or(u32::MAX);
                    counts.put(key, version, (count as u64, key_bytes));
                    count as u64
                }
            };
            return Ok((rows, count, Some(version)));
        };
        // Candidates from the spatial index; rows whose box lies inside the query box need no exact test.
        let text = DB::box_candidates(&mut binder, table, bbox, &filter, &order);
        let mut candidates = Vec::new();
        for r in statement(text, binder.binds).fetch_all(&mut *conn).await.map_err(store_error)? {
            candidates.push(BboxCandidate {
                fid: r.try_get("fid").map_err(store_error)?,
                geometry: DB::read_shape(collection.id, &r, "geom")?,
            });
        }
        let matched = exact_bbox_filter(candidates, bbox);
        let page = page_of(&matched, query);
        let mut by_fid = std::collections::HashMap::with_capacity(page.len());
        let mut read_at = None;
        // In chunks: SQLite caps the values one statement may bind (a download's page is every match).
        for chunk in page.chunks(30_000) {
            let mut binder = Binder::new(DB::DIALECT);
            let fids = DB::fids_in(&mut binder, chunk);
            let version = super::DATA_VERSION;
            let text =
                format!("SELECT t.fid AS fid_, {columns}, ({version}) AS v_ FROM {table} t WHERE {fids}");
            let binds = binder.binds;
            let rows = chunk.len() as u64;
            let (rows, at) =
                fetch(&mut conn, collection.id, text, |text| statement(text, binds), rows, &read, packed)
                    .await?;
            read_at = super::same_version(read_at, at);
            by_fid.extend(rows);
        }
        // In the page's order (the query's).
        let rows = page.iter().filter_map(|fid| by_fid.remove(fid)).collect();
        Ok((rows, matched.len() as u64, read_at.flatten()))
    }

    async fn json_rows(
        pool: &Pool<DB>,
        collection: &'static Collection,
        within: super::Within<'_>,
        columns: super::Columns<'_>,
    ) -> Result<super::JsonRows, StoreError> {
        let mut binder = Binder::new(DB::DIALECT);
        let filter = match within {
            super::Within::Box(b) => format!("1 = 1{}", DB::meets_box(&mut binder, collection.table, b)),
            super::Within::FieldIn(field, values) => {
                binder.where_clause(collection, &[Condition::text_in(field, values.iter().cloned())])?
            }
            super::Within::All => "1 = 1".to_string(),
        };
        let from = format!("FROM {} t WHERE {filter}", collection.table);
        let text = match DB::rows_read(collection, columns, &from) {
            RowsRead::Whole(text) => {
                let row = Self::statement(text, binder.binds).fetch_one(pool).await.map_err(store_error)?;
                row.try_get(0).map_err(store_error)?
            }
            RowsRead::EachRow { statement, write } => {
                let rows =
                    Self::statement(statement, binder.binds).fetch_all(pool).await.map_err(store_error)?;
                let mut out = Vec::with_capacity(rows.len() * 320 + 2);
                out.push(b'[');
                for (i, row) in rows.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(collection, columns, row, &mut out)?;
                }
                out.push(b']');
                String::from_utf8(out).expect("rows are written as UTF-8")
            }
        };
        Ok(super::JsonRows { collection: collection.id, text })
    }

    async fn item_versioned(
        pool: &Pool<DB>,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Option<(FeatureRow, Option<i64>)>, StoreError> {
        // One statement, one snapshot: the version is the one of the row read (an ETag never names a
        // version whose content the client did not get).
        let text = format!(
            "SELECT {}, {} AS version_ FROM {} t WHERE t.id = $2",
            DB::select_columns(collection),
            history::CURRENT_VERSION_OF_ROW,
            collection.table
        );
        let row = sqlx::query::<DB>(AssertSqlSafe(text))
            .bind(collection.id)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(store_error)?;
        let Some(row) = row else { return Ok(None) };
        let version: Option<i64> = row.try_get("version_").map_err(store_error)?;
        Ok(Some((DB::read_row(collection, &row)?, version)))
    }

    async fn current_version(pool: &Pool<DB>, c: &Collection, id: &str) -> Result<Option<i64>, StoreError> {
        let open = Self::open_version(pool, c, id).await?;
        Ok(open.filter(|(_, op)| op != "delete").map(|(v, _)| v))
    }

    async fn versions(
        pool: &Pool<DB>,
        c: &Collection,
        id: &str,
    ) -> Result<Vec<history::Version>, StoreError> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(history::versions_sql()))
            .bind(c.id)
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(store_error)?;
        rows.iter().map(read_version::<DB>).collect()
    }

    async fn rows_as_of(
        pool: &Pool<DB>,
        c: &Collection,
        at_us: i64,
        conditions: &[Condition],
    ) -> Result<Vec<FeatureRow>, StoreError> {
        let (text, values) = history::as_of_sql(c, conditions, DB::json_text);
        let mut query = sqlx::query::<DB>(AssertSqlSafe(text)).bind(c.id).bind(at_us);
        for v in values {
            query = query.bind(v);
        }
        let rows = query.fetch_all(pool).await.map_err(store_error)?;
        rows.iter().map(|r| read_version::<DB>(r).map(history::Version::into_row)).collect()
    }

    async fn audit(
        pool: &Pool<DB>,
        q: &history::AuditQuery,
    ) -> Result<(Vec<history::Version>, u64), StoreError> {
        let mut binder = Binder::new(DB::DIALECT);
        let clause = q.where_clause(&mut binder);
        let text = format!("SELECT COUNT(*) FROM history WHERE {clause}");
        let count: i64 = Self::statement(text, binder.binds.clone())
            .fetch_one(pool)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(store_error)?;
        if q.offset >= count as u64 {
            return Ok((Vec::new(), count as u64));
        }
        // The page's bounds are integers written into the text, so that the planner sees them.
        let (columns, limit, offset) =
            (history::VERSION_COLUMNS, q.limit.min(i64::MAX as u64), q.offset.min(i64::MAX as u64));
        let text = if count <= history::FEW_VERSIONS {
            // Few matches: found through the filter's indexes, then sorted. Walking history newest
            // first instead, looking for them, reads all of it when they are old or rare (0.7 s over
            // 3 million versions for an actor or collection with a handful).
            format!(
                "WITH m AS MATERIALIZED (SELECT hid FROM history WHERE {clause}) \
                 SELECT {columns} FROM history \
                 WHERE hid IN (SELECT hid FROM m ORDER BY hid DESC LIMIT {limit} OFFSET {offset}) \
                 ORDER BY hid DESC"
            )
        } else {
            format!(
                "SELECT {columns} FROM history WHERE {clause} ORDER BY hid DESC LIMIT {limit} OFFSET {offset}"
            )
        };
        let rows = Self::statement(text, binder.binds).fetch_all(pool).await.map_err(store_error)?;
        Ok((rows.iter().map(read_version::<DB>).collect::<Result<_, _>>()?, count as u64))
    }

    async fn create_token(
        pool: &Pool<DB>,
        token: &history::Token,
        secret_sha256: &str,
    ) -> Result<(), StoreError> {
        sqlx::query::<DB>(history::INSERT_TOKEN)
            .bind(token.token_id.as_str())
            .bind(token.name.as_str())
            .bind(token.role.as_str())
            .bind(secret_sha256)
            .bind(token.created_us)
            .execute(pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn token_by_hash(
        pool: &Pool<DB>,
        secret_sha256: &str,
    ) -> Result<Option<history::Token>, StoreError> {
        let row = sqlx::query::<DB>(history::TOKEN_BY_HASH)
            .bind(secret_sha256)
            .fetch_optional(pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(read_token::<DB>).transpose()
    }

    async fn tokens(pool: &Pool<DB>) -> Result<Vec<history::Token>, StoreError> {
        let rows = sqlx::query::<DB>(history::TOKENS).fetch_all(pool).await.map_err(store_error)?;
        rows.iter().map(read_token::<DB>).collect()
    }

    async fn revoke_token(pool: &Pool<DB>, id_or_name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query::<DB>(history::REVOKE_TOKEN)
            .bind(history::now_us())
            .bind(id_or_name)
            .execute(pool)
            .await
            .map_err(store_error)?;
        Ok(DB::rows_affected(&done) > 0)
    }

    /// Writes one record and its version inside the open write transaction `tx` (the caller commits).
    /// The version check is the `UPDATE` that closes the expected version: of two writers holding it,
    /// one closes it and the other finds it closed.
    async fn write_in(tx: &mut Tx<DB>, w: &history::Write) -> Result<i64, StoreError> {
        let (c, id) = (w.collection, w.feature.id.as_str());
        let now = history::now_us();
        let open = Self::open_version(&mut **tx, c, id).await?;
        let version = match w.op {
            history::Op::Create => {
                if open.as_ref().is_some_and(|(_, op)| op != "delete") {
                    return Err(StoreError::Exists { collection: c.id.into(), id: id.into() });
                }
                sqlx::query::<DB>(history::CLOSE_ANY)
                    .bind(now)
                    .bind(c.id)
                    .bind(id)
                    .execute(&mut **tx)
                    .await
                    .map_err(store_error)?;
                let last: i64 = sqlx::query::<DB>(history::LAST_VERSION)
                    .bind(c.id)
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await
                    .and_then(|r| r.try_get(0))
                    .map_err(store_error)?;
                DB::insert_rows(tx, c, std::slice::from_ref(&w.feature)).await?;
                last + 1
            }
            op => {
                let expected = w.expected_version.unwrap_or(0);
                let closed = sqlx::query::<DB>(history::CLOSE_VERSION)
                    .bind(now)
                    .bind(c.id)
                    .bind(id)
                    .bind(expected)
                    .execute(&mut **tx)
                    .await
                    .map_err(store_error)?;
                if DB::rows_affected(&closed) == 0 {
                    // Read again: another writer may have committed while this one waited for the row.
                    return Err(match Self::open_version(&mut **tx, c, id).await? {
                        Some((current, op)) if op != "delete" => {
                            StoreError::Stale { collection: c.id.into(), id: id.into(), expected, current }
                        }
                        _ => StoreError::NotFound { collection: c.id.into(), id: id.into() },
                    });
                }
                DB::delete_row(tx, c, id).await?;
                if op != history::Op::Delete {
                    DB::insert_rows(tx, c, std::slice::from_ref(&w.feature)).await?;
                }
                expected + 1
            }
        };
        let (properties, changed) = history::json_texts(&w.feature, &w.changed);
        let parts = w.feature.geometry_parts();
        sqlx::query::<DB>(history::INSERT_VERSION)
            .bind(c.id)
            .bind(id)
            .bind(version)
            .bind(w.op.as_str())
            .bind(w.actor.as_str())
            .bind(now)
            .bind(changed)
            .bind(properties)
            .bind(parts.as_ref().map(|p| p.0.clone()))
            .bind(parts.as_ref().map(|p| p.1))
            .bind(parts.as_ref().map(|_| w.feature.source_crs.clone()))
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
        Self::finish_write(tx, w.zones.iter().cloned().collect(), BTreeSet::from([c.id])).await?;
        Ok(version)
    }

    /// Every write ends so: a new data version, recorded for the zones and collections it touched.
    async fn finish_write(
        tx: &mut Tx<DB>,
        zones: BTreeSet<String>,
        collections: BTreeSet<&'static str>,
    ) -> Result<(), StoreError> {
        sqlx::query::<DB>("UPDATE data_version SET version = version + 1 WHERE one = 1")
            .execute(&mut **tx)
            .await
            .map_err(store_error)?;
        for collection in collections {
            sqlx::query::<DB>(super::RECORD_COLLECTION_VERSION)
                .bind(collection)
                .execute(&mut **tx)
                .await
                .map_err(store_error)?;
        }
        for zone in zones {
            sqlx::query::<DB>(RECORD_ZONE_VERSION)
                .bind(zone)
                .execute(&mut **tx)
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    async fn data_versions(
        pool: &Pool<DB>,
        collection: &'static Collection,
    ) -> Result<super::Versions, StoreError> {
        let (data, collection) = sqlx::query_as::<DB, (i64, i64)>(super::VERSIONS)
            .bind(collection.id)
            .fetch_one(pool)
            .await
            .map_err(store_error)?;
        Ok(super::Versions { data, collection })
    }

    async fn keep_in(
        tx: &mut Tx<DB>,
        kind: &str,
        entries: &[(String, i64, String)],
    ) -> Result<(), sqlx::Error> {
        for (zone_code, version, text) in entries {
            sqlx::query::<DB>(super::KEEP_FIGURES)
                .bind(kind)
                .bind(zone_code.as_str())
                .bind(*version)
                .bind(text.as_str())
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

/// A version from the columns of [`history::VERSION_COLUMNS`].
fn read_version<DB: Database>(row: &DB::Row) -> Result<history::Version, StoreError>
where
    for<'q> i64: Decode<'q, DB> + Type<DB>,
    for<'q> f64: Decode<'q, DB> + Type<DB>,
    for<'q> String: Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<DB::Row>,
{
    let get = |e: sqlx::Error| store_error(e);
    history::Version::from_columns(
        row.try_get("collection").map_err(get)?,
        row.try_get("id").map_err(get)?,
        row.try_get("version").map_err(get)?,
        &row.try_get::<String, _>("op").map_err(get)?,
        row.try_get("actor").map_err(get)?,
        (row.try_get("recorded_from_us").map_err(get)?, row.try_get("recorded_to_us").map_err(get)?),
        &row.try_get::<String, _>("changed").map_err(get)?,
        &row.try_get::<String, _>("properties").map_err(get)?,
        (
            row.try_get("geom").map_err(get)?,
            row.try_get("area_ha").map_err(get)?,
            row.try_get("source_crs").map_err(get)?,
        ),
    )
}

/// A token from the columns of [`history::TOKENS`].
fn read_token<DB: Database>(row: &DB::Row) -> Result<history::Token, StoreError>
where
    for<'q> i64: Decode<'q, DB> + Type<DB>,
    for<'q> String: Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<DB::Row>,
{
    Ok(history::Token {
        token_id: row.try_get("token_id").map_err(store_error)?,
        name: row.try_get("name").map_err(store_error)?,
        role: row.try_get("role").map_err(store_error)?,
        created_us: row.try_get("created_us").map_err(store_error)?,
        revoked_us: row.try_get("revoked_us").map_err(store_error)?,
    })
}

#[async_trait]
impl<S> super::History for S
where
    S: SqlStore,
    Shared<S::Db>: SharedOps<Db = S::Db>,
{
    async fn current_version(
        &self,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Option<i64>, StoreError> {
        <Shared<S::Db> as SharedOps>::current_version(self.pool(), collection, id).await
    }

    async fn versions(
        &self,
        collection: &'static Collection,
        id: &str,
    ) -> Result<Vec<history::Version>, StoreError> {
        <Shared<S::Db> as SharedOps>::versions(self.pool(), collection, id).await
    }

    async fn rows_as_of(
        &self,
        collection: &'static Collection,
        at_us: i64,
        conditions: &[Condition],
    ) -> Result<Vec<FeatureRow>, StoreError> {
        <Shared<S::Db> as SharedOps>::rows_as_of(self.pool(), collection, at_us, conditions).await
    }

    async fn audit(&self, query: &history::AuditQuery) -> Result<(Vec<history::Version>, u64), StoreError> {
        <Shared<S::Db> as SharedOps>::audit(self.pool(), query).await
    }
}

#[async_trait]
impl<S> super::Tokens for S
where
    S: SqlStore,
    Shared<S::Db>: SharedOps<Db = S::Db>,
{
    async fn create_token(&self, token: &history::Token, secret_sha256: &str) -> Result<(), StoreError> {
        <Shared<S::Db> as SharedOps>::create_token(self.pool(), token, secret_sha256).await
    }

    async fn token_by_hash(&self, secret_sha256: &str) -> Result<Option<history::Token>, StoreError> {
        <Shared<S::Db> as SharedOps>::token_by_hash(self.pool(), secret_sha256).await
    }

    async fn tokens(&self) -> Result<Vec<history::Token>, StoreError> {
        <Shared<S::Db> as SharedOps>::tokens(self.pool()).await
    }

    async fn revoke_token(&self, id_or_name: &str) -> Result<bool, StoreError> {
        <Shared<S::Db> as SharedOps>::revoke_token(self.pool(), id_or_name).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::PageGeometry;
    use super::*;

    #[test]
    fn a_packed_page_unpacks_to_its_records_in_order() {
        let text = "7\x1f[\"a\",{}]\x1f{\"type\":\"Point\",\"coordinates\":[1,2]}\x1e3\x1f[\"b\",{}]\x1f";
        let rows = unpack_page("plots", text).unwrap();
        assert_eq!(
            rows,
            vec![
                (
                    7,
                    (
                        "[\"a\",{}]".into(),
                        Some(PageGeometry::Text("{\"type\":\"Point\",\"coordinates\":[1,2]}".into()))
                    )
                ),
                (3, ("[\"b\",{}]".into(), None)),
            ]
        );
        assert!(unpack_page("plots", "").unwrap().is_empty());
        let broken = unpack_page("plots", "x\x1f[]\x1f").unwrap_err();
        assert!(matches!(broken, StoreError::Corrupt { ref id, .. } if id == "x"), "{broken:?}");
        assert!(unpack_page("plots", "7\x1f[]").is_err());
    }
}
