//! Query parameters, parsed once: each kind of value is a type ([`Limit`], [`Offset`], [`Bbox`], [`At`],
//! [`Instant`], [`Statuses`]) that parses its text, says what was wrong in its error, and describes
//! itself for the OpenAPI document, so the parser and the documentation cannot disagree. Handlers
//! receive the request's [`Params`] (an axum extractor) and ask it for typed values; the CLI parses its
//! `--bbox` and `--at` with the same types.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};
use chrono::FixedOffset;
use serde_json::{Value, json};

use super::{ApiError, html};
use crate::domain::{Date, ZoneStatus, parse_date, today};

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: u64 = 10;
/// Largest page; larger `limit` values are clamped to it (OGC API - Features, /req/core/query-param-limit).
pub const MAX_LIMIT: u64 = 10_000;

/// Largest `offset=` accepted: far beyond any collection, and within every database's 64-bit integers.
pub const MAX_OFFSET: u64 = 1_000_000_000_000;

/// A kind of query parameter value: how it is parsed from its text and how OpenAPI describes it.
pub trait Param: Sized {
    /// Parses the parameter's text; the error says what was wrong and what to send instead (the
    /// parameter's name and value are added by [`Params::value`]).
    fn parse(text: &str) -> Result<Self, String>;
    /// What OpenAPI says of it: a description and a JSON Schema.
    fn describe() -> (&'static str, Value);
}

/// The OpenAPI 3.0 object of query parameter `name` of kind `P` (form style, not exploded).
pub fn openapi<P: Param>(name: &str) -> Value {
    let (description, schema) = P::describe();
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema, "style": "form", "explode": false })
}

/// `limit=`: a page size in 1..=`MAX` (larger ones are clamped to `MAX`, as OGC API allows), `DEFAULT`
/// when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit<const DEFAULT: u64, const MAX: u64>(pub u64);

impl<const DEFAULT: u64, const MAX: u64> Default for Limit<DEFAULT, MAX> {
    fn default() -> Self {
        Limit(DEFAULT)
    }
}

impl<const DEFAULT: u64, const MAX: u64> Param for Limit<DEFAULT, MAX> {
    fn parse(text: &str) -> Result<Self, String> {
        limit_within(text, MAX).map(Limit)
    }

    fn describe() -> (&'static str, Value) {
        (
            "Number of items per page (larger values are clamped to the maximum)",
            json!({ "type": "integer", "minimum": 1, "maximum": MAX, "default": DEFAULT }),
        )
    }
}

/// A page size in 1..=`max`; larger ones (even beyond 64 bits) are `max`.
fn limit_within(text: &str, max: u64) -> Result<u64, String> {
    let wrong = || format!("send a whole number between 1 and {max}");
    match text.parse::<u64>() {
        Ok(0) => Err(wrong()),
        Ok(n) => Ok(n.min(max)),
        // Digits beyond 64 bits: a very large limit, clamped like any other.
        Err(_) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => Ok(max),
        Err(_) => Err(wrong()),
    }
}

/// `limit=` of item pages (collections' items, available land).
pub type ItemsLimit = Limit<DEFAULT_LIMIT, MAX_LIMIT>;
/// `limit=` of the audit trail.
pub type AuditLimit = Limit<100, 10_000>;

/// `offset=`: items to skip, a whole number in 0..=[`MAX_OFFSET`]; 0 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Offset(pub u64);

impl Param for Offset {
    fn parse(text: &str) -> Result<Self, String> {
        text.parse::<u64>()
            .ok()
            .filter(|n| *n <= MAX_OFFSET)
            .map(Offset)
            .ok_or_else(|| format!("send a whole number between 0 and {MAX_OFFSET}"))
    }

    fn describe() -> (&'static str, Value) {
        (
            "Number of items to skip (the next page's link carries it)",
            json!({ "type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0 }),
        )
    }
}

/// `bbox=minLon,minLat,maxLon,maxLat` in WGS 84 degrees (a 6-number 3-D box is flattened), checked by
/// the one box parser ([`crate::spatial::parse_lon_lat_box`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox(pub [f64; 4]);

impl Param for Bbox {
    fn parse(text: &str) -> Result<Self, String> {
        crate::spatial::parse_lon_lat_box(text)
            .map(Bbox)
            .map_err(|why| format!("{why}; send minLon,minLat,maxLon,maxLat in WGS 84 degrees"))
    }

    fn describe() -> (&'static str, Value) {
        (
            "Bounding box: minLon,minLat,maxLon,maxLat (WGS 84, or in the CRS bbox-crs names)",
            json!({ "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } }),
        )
    }
}

impl std::str::FromStr for Bbox {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Bbox::parse(text)
    }
}

/// `at=`: the date of the figures (`YYYY-MM-DD`); today in Vietnam (UTC+7) when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At(pub Date);

impl Default for At {
    fn default() -> Self {
        At(today())
    }
}

impl Param for At {
    fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Ok(At::default());
        }
        parse_date(text).map(At)
    }

    fn describe() -> (&'static str, Value) {
        (
            "Date of the figures (YYYY-MM-DD); default today in Vietnam (UTC+7)",
            json!({ "type": "string", "format": "date" }),
        )
    }
}

/// An RFC 3339 instant (`2026-11-22T08:30:00Z`), as µs since 1970 (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant(pub i64);

impl Param for Instant {
    fn parse(text: &str) -> Result<Self, String> {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|d| Instant(d.timestamp_micros()))
            .map_err(|_| "send an instant such as 2026-11-22T08:30:00Z".into())
    }

    fn describe() -> (&'static str, Value) {
        (
            "An instant (RFC 3339), e.g. 2026-11-22T08:30:00Z",
            json!({ "type": "string", "format": "date-time" }),
        )
    }
}

/// `datetime=` of stored records: the instant whose records to read (history), as µs since 1970 (UTC).
/// An RFC 3339 instant, or a date meaning the end of that day in Vietnam (UTC+7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedAt(pub i64);

impl Param for RecordedAt {
    fn parse(text: &str) -> Result<Self, String> {
        if let Ok(date) = parse_date(text) {
            let vietnam = FixedOffset::east_opt(7 * 3600).expect("valid offset");
            let end =
                date.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)?.and_local_timezone(vietnam).single());
            return end
                .map(|e| RecordedAt(e.timestamp_micros() - 1))
                .ok_or_else(|| "send a date or an instant within the years landbank keeps".into());
        }
        Instant::parse(text).map(|i| RecordedAt(i.0))
    }

    fn describe() -> (&'static str, Value) {
        (
            "Read the records as they were stored at this instant (RFC 3339), or at the end of this date in Vietnam",
            json!({ "type": "string" }),
        )
    }
}

/// Zone statuses, comma separated, or `all`; default established and operating (as boards report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statuses(pub Vec<ZoneStatus>);

impl Default for Statuses {
    fn default() -> Self {
        Statuses(crate::occupancy::DEFAULT_SCOPE.to_vec())
    }
}

impl Param for Statuses {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "" => Ok(Statuses::default()),
            "all" => Ok(Statuses(ZoneStatus::ALL.to_vec())),
            text => text
                .split(',')
                .map(|s| s.trim().parse::<ZoneStatus>())
                .collect::<Result<_, _>>()
                .map(Statuses),
        }
    }

    fn describe() -> (&'static str, Value) {
        (
            "Zone statuses whose hectares are summed, comma separated, or all (default established,operating)",
            json!({ "type": "array", "items": { "type": "string", "enum": ZoneStatus::NAMES } }),
        )
    }
}

/// A request's query parameters in order, decoded; the typed values come from [`Params::value`].
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Params::parse(&parts.uri))
    }
}

impl Params {
    pub(crate) fn parse(uri: &Uri) -> Self {
        let pairs = uri
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Params(pairs)
    }

    /// The text of parameter `name` (the first, if repeated).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Parameter `name` as a `P`; `None` when absent. The error names the parameter and its value.
    pub fn value<P: Param>(&self, name: &str) -> Result<Option<P>, ApiError> {
        self.get(name)
            .map(|text| {
                P::parse(text).map_err(|why| ApiError::parameter(name, format!("{name}={text}: {why}")))
            })
            .transpose()
    }

    /// Parameter `name` as a `P`, its default when absent.
    pub fn or_default<P: Param + Default>(&self, name: &str) -> Result<P, ApiError> {
        Ok(self.value(name)?.unwrap_or_default())
    }

    /// Refuses parameters the route does not know (OGC API: 400 for unknown parameters).
    pub(crate) fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        for (k, _) in &self.0 {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::parameter(
                    k,
                    format!("unknown query parameter '{k}'; this resource accepts: {}", allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// `limit=` in 1..=`max`, `default` when absent (for routes whose bounds are decided per request).
    pub(crate) fn limit(&self, default: u64, max: u64) -> Result<u64, ApiError> {
        match self.get("limit") {
            None => Ok(default),
            Some(text) => limit_within(text, max)
                .map_err(|why| ApiError::parameter("limit", format!("limit={text}: {why}"))),
        }
    }

    /// `offset=` (see [`Offset`]).
    pub(crate) fn offset(&self) -> Result<u64, ApiError> {
        Ok(self.or_default::<Offset>("offset")?.0)
    }

    /// For resources that are JSON only: `f` is the one parameter, and it may only say `json`.
    /// For resources offered as JSON and as HTML (`f=json|html`, `lang=vi|en`; a browser's `Accept`
    /// without `f`): the page's language when HTML is wanted, `None` for JSON.
    pub(crate) fn json_or_html(&self, headers: &HeaderMap) -> Result<Option<html::Lang>, ApiError> {
        self.only(&["f", "lang"])?;
        self.html_or_json(headers)
    }

    /// As [`Params::json_or_html`], for routes that take other parameters too.
    pub(crate) fn html_or_json(&self, headers: &HeaderMap) -> Result<Option<html::Lang>, ApiError> {
        match self.get("f") {
            None | Some("json" | "geojson" | "html") => {}
            Some(f) => {
                return Err(ApiError::parameter(
                    "f",
                    format!("f={f} is not offered here; use f=json or f=html"),
                ));
            }
        }
        if html::wanted(self, headers) { html::lang(self, headers).map(Some) } else { Ok(None) }
    }

    pub(crate) fn only_json(&self) -> Result<(), ApiError> {
        self.only(&["f"])?;
        match self.get("f") {
            None | Some("json") => Ok(()),
            Some(f) => Err(ApiError::parameter("f", format!("f={f} is not offered here; use f=json"))),
        }
    }

    /// Zone statuses of parameter `name` (see [`Statuses`]).
    pub(crate) fn zone_statuses(&self, name: &str) -> Result<Vec<ZoneStatus>, ApiError> {
        Ok(self.or_default::<Statuses>(name)?.0)
    }

    /// An RFC 3339 instant parameter as µs since 1970 (UTC); `None` when absent or empty.
    pub(crate) fn instant(&self, name: &str) -> Result<Option<i64>, ApiError> {
        if self.get(name).is_some_and(str::is_empty) {
            return Ok(None);
        }
        Ok(self.value::<Instant>(name)?.map(|i| i.0))
    }

    /// `datetime=` of stored records (see [`RecordedAt`]).
    pub(crate) fn recorded_at(&self) -> Result<Option<i64>, ApiError> {
        if self.get("datetime").is_some_and(str::is_empty) {
            return Ok(None);
        }
        Ok(self.value::<RecordedAt>("datetime")?.map(|r| r.0))
    }

    /// The `at` date (default: today in Vietnam).
    pub(crate) fn at(&self) -> Result<Date, ApiError> {
        Ok(self.or_default::<At>("at")?.0)
    }
}

/// Response formats a resource can offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
    Markdown,
    Html,
    /// Word, Excel and PDF: the board's report as files to send.
    Docx,
    Xlsx,
    Pdf,
}

impl Format {
    /// The `f=` value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
        }
    }

    /// The media type in `Accept` and `Content-Type`.
    pub(crate) fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
        }
    }

    /// The OpenAPI object of an `f=` parameter offering `offered` (the first is the default).
    pub(crate) fn openapi(offered: &[Format], description: &str) -> Value {
        let names: Vec<&str> = offered.iter().map(|f| f.name()).collect();
        json!({ "name": "f", "in": "query", "required": false, "description": description, "schema": { "type": "string", "enum": names, "default": names[0] }, "style": "form", "explode": false })
    }
}

/// Picks one of the `offered` formats (the first is the default) from `f=` (wins) or the `Accept`
/// header. `f=geojson` is JSON. An `Accept` that also names JSON keeps JSON (except for HTML, which
/// browsers ask for beside everything else).
pub(crate) fn negotiate(
    params: &Params,
    headers: &HeaderMap,
    offered: &[Format],
) -> Result<Format, ApiError> {
    if let Some(f) = params.get("f") {
        let wanted = if f == "geojson" { "json" } else { f };
        return offered.iter().copied().find(|o| o.name() == wanted).ok_or_else(|| {
            let names: Vec<&str> = offered.iter().map(|o| o.name()).collect();
            ApiError::parameter("f", format!("f={f} is not offered here; use one of: {}", names.join(", ")))
        });
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let accepts = |f: Format| {
        let essence = f.media_type().split(';').next().unwrap_or_default();
        accept.contains(essence) && (f == Format::Html || !accept.contains("json"))
    };
    Ok(offered.iter().copied().skip(1).find(|f| accepts(*f)).unwrap_or(offered[0]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    fn run<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
        let config = Config { cases: 2000, failure_persistence: None, ..Default::default() };
        let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
        runner.run(&strategy, test).unwrap();
    }

    /// Text a client might send: numbers of every shape, signs, separators, words and junk.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|n| n.to_string()),
            "[0-9]{0,30}",
            "[-+0-9.,eE ]{0,24}",
            "(all|planned|operating|established|,| ){0,6}",
            "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?",
            ".{0,12}",
        ]
    }

    fn params(name: &str, value: &str) -> Params {
        Params(vec![(name.to_string(), value.to_string())])
    }

    /// Every parser answers every text with a value or a 400 naming the parameter: never a panic, never
    /// another status.
    fn answers<P: Param>(name: &str, text: &str) -> Result<Option<P>, TestCaseError> {
        match params(name, text).value::<P>(name) {
            Ok(v) => Ok(v),
            Err(ApiError::BadRequest { parameter, detail }) => {
                prop_assert_eq!(parameter.as_deref(), Some(name));
                prop_assert!(detail.starts_with(&format!("{name}=")), "{detail}");
                Ok(None)
            }
            Err(other) => Err(TestCaseError::fail(format!("{name}={text}: {other:?}"))),
        }
    }

    #[test]
    fn limits_are_whole_numbers_clamped_to_their_maximum() {
        run(text(), |t| {
            if let Some(Limit(n)) = answers::<Limit<10, 1000>>("limit", &t)? {
                prop_assert!((1..=1000).contains(&n), "limit={t} gave {n}");
                prop_assert!(t.bytes().all(|b| b.is_ascii_digit()), "limit={t} accepted");
            }
            Ok(())
        });
        run(1u64..=u64::MAX, |n| {
            prop_assert_eq!(Limit::<10, 1000>::parse(&n.to_string()), Ok(Limit(n.min(1000))));
            Ok(())
        });
        assert!(Limit::<10, 1000>::parse("0").is_err());
        assert_eq!(Limit::<10, 1000>::parse("99999999999999999999999"), Ok(Limit(1000)));
    }

    #[test]
    fn offsets_never_wrap() {
        run(text(), |t| {
            if let Some(Offset(n)) = answers::<Offset>("offset", &t)? {
                prop_assert!(n <= MAX_OFFSET);
                prop_assert_eq!(t.trim_start_matches('+').parse::<u64>(), Ok(n));
            }
            Ok(())
        });
        assert!(
            Offset::parse("18446744073709551615").is_err(),
            "a 64-bit offset does not wrap to a first page"
        );
    }

    #[test]
    fn boxes_are_finite_ordered_and_on_the_earth() {
        run(text(), |t| {
            if let Some(Bbox([w, s, e, n])) = answers::<Bbox>("bbox", &t)? {
                prop_assert!([w, s, e, n].iter().all(|v| v.is_finite()));
                prop_assert!((-180.0..=180.0).contains(&w) && (-180.0..=180.0).contains(&e));
                prop_assert!((-90.0..=90.0).contains(&s) && s <= n && n <= 90.0);
            }
            Ok(())
        });
        run((-180.0..180.0f64, -90.0..90.0f64, 0.0..1.0f64, 0.0..1.0f64), |(w, s, dw, ds)| {
            let (e, n) = ((w + dw).min(180.0), (s + ds).min(90.0));
            prop_assert_eq!(Bbox::parse(&format!("{w},{s},{e},{n}")), Ok(Bbox([w, s, e, n])));
            Ok(())
        });
        assert!("1,2,x,3,4".parse::<Bbox>().is_err());
    }

    #[test]
    fn dates_instants_and_statuses_parse_or_say_what_to_send() {
        run(text(), |t| {
            if let Some(At(d)) = answers::<At>("at", &t)? {
                use chrono::Datelike;
                let years = crate::domain::FIRST_YEAR..=crate::domain::LAST_YEAR;
                prop_assert!(years.contains(&d.year()), "at={t} gave {d}");
            }
            if let Some(Instant(us)) = answers::<Instant>("from", &t)? {
                prop_assert_eq!(us, chrono::DateTime::parse_from_rfc3339(&t).unwrap().timestamp_micros());
            }
            answers::<RecordedAt>("datetime", &t)?;
            if let Some(Statuses(s)) = answers::<Statuses>("status", &t)? {
                prop_assert!(!s.is_empty());
            }
            Ok(())
        });
        assert_eq!(Statuses::parse("all"), Ok(Statuses(ZoneStatus::ALL.to_vec())));
        let end_of_day = RecordedAt::parse("2025-06-30").unwrap().0;
        assert_eq!(RecordedAt::parse("2025-06-30T16:59:59.999999Z"), Ok(RecordedAt(end_of_day)));
    }

    #[test]
    fn formats_are_what_the_resource_offers() {
        let offered = [Format::Json, Format::Csv];
        run(".{0,8}", |f| {
            match negotiate(&params("f", &f), &HeaderMap::new(), &offered) {
                Ok(format) => prop_assert!(format.name() == f || (f == "geojson" && format == Format::Json)),
                Err(ApiError::BadRequest { parameter, .. }) => {
                    prop_assert_eq!(parameter.as_deref(), Some("f"))
                }
                Err(other) => return Err(TestCaseError::fail(format!("f={f}: {other:?}"))),
            }
            Ok(())
        });
    }
}
