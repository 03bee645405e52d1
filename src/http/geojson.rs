//! The GeoJSON answers every feature route shares (collections' items, available land, history): the
//! request's CRS, bounding box and filter, paging links, features as served, file downloads and
//! version tags. The routes (`features`, `available`, `edit`, `access`) use these and not each other.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::params::Bbox;
use super::{ApiError, Params};
use crate::collections::FieldKind;
use crate::collections::{self, Collection};
use crate::crs::{CRS84_URI, Reprojector, ServedCrs};
use crate::export::{ExportFormat, ExportOptions};
use crate::spatial;
use crate::store::filter::{self, Filter};
use crate::store::{FeatureRow, ItemsQuery, PageGeometry, PageRow};

/// Decimals of served coordinates (RFC 7946: about 1 cm).
pub const COORDINATE_DECIMALS: u32 = 7;

pub(crate) const GEOJSON: &str = "application/geo+json";

pub(crate) fn link(href: String, rel: &str, media_type: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": media_type, "title": title })
}

/// GeoJSON with its `Content-Crs` header (OGC API - Features Part 2: the CRS of its coordinates).
pub(crate) fn geojson_response(body: Value, crs: ServedCrs) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    response.headers_mut().insert("content-crs", content_crs(crs));
    response
}

/// The `Content-Crs` header value of coordinates in `crs`.
fn content_crs(crs: ServedCrs) -> HeaderValue {
    HeaderValue::from_str(&format!("<{}>", crs.uri())).expect("CRS URIs are ASCII")
}

/// The `crs=` of a request (default CRS84).
pub(crate) fn requested_crs(params: &Params) -> Result<ServedCrs, ApiError> {
    match params.get("crs") {
        None | Some("") => Ok(ServedCrs::Crs84),
        Some(text) => ServedCrs::parse(text).map_err(|e| ApiError::parameter("crs", format!("crs: {e}"))),
    }
}

/// The transformation from storage to `crs` (`None` for CRS84). Not `Send`: make it after the awaits.
pub(crate) fn reprojector(crs: ServedCrs) -> Result<Option<Reprojector>, ApiError> {
    match crs {
        ServedCrs::Crs84 => Ok(None),
        other => Reprojector::from_crs84(other).map(Some).map_err(ApiError::Internal),
    }
}

/// The `bbox=` of a request in CRS84: as sent, or converted from the CRS `bbox-crs=` names (in that
/// CRS's axis order, e.g. easting, northing for VN-2000 / TM-3; latitude first for EPSG:4326).
pub(crate) fn requested_bbox(params: &Params) -> Result<Option<[f64; 4]>, ApiError> {
    let Some(text) = params.get("bbox") else {
        return Ok(None);
    };
    let crs = match params.get("bbox-crs") {
        None | Some("") => ServedCrs::Crs84,
        Some(c) => {
            ServedCrs::parse(c).map_err(|e| ApiError::parameter("bbox-crs", format!("bbox-crs: {e}")))?
        }
    };
    if crs == ServedCrs::Crs84 {
        return Ok(params.value::<Bbox>("bbox")?.map(|b| b.0));
    }
    let sent = crate::spatial::parse_box(text).map_err(|why| {
        ApiError::parameter("bbox", format!("bbox={text}: {why}, in the axis order of {}", crs.uri()))
    })?;
    let converted = Reprojector::to_crs84(crs)
        .and_then(|r| r.bbox(sent))
        .map_err(|e| ApiError::parameter("bbox", format!("bbox={text} in {}: {e}", crs.uri())))?;
    Ok(Some(converted))
}

/// Where a page stands: its size, start, length and the total matched.
pub(crate) struct Paging {
    pub limit: u64,
    pub offset: u64,
    pub returned: u64,
    pub matched: u64,
}

/// `self`, `next` and `prev` links of a page at `base` + `path`, keeping every other parameter as sent.
pub(crate) fn paging_links(base: &str, path: &str, params: &Params, paging: Paging) -> Vec<Value> {
    let Paging { limit, offset, returned, matched } = paging;
    let page_link = |offset: u64, rel: &str, title: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params.iter().filter(|(k, _)| *k != "offset" && *k != "limit") {
            q.append_pair(k, v);
        }
        q.append_pair("limit", &limit.to_string());
        q.append_pair("offset", &offset.to_string());
        link(format!("{base}{path}?{}", q.finish()), rel, GEOJSON, title)
    };
    let mut links = vec![page_link(offset, "self", "This page")];
    if offset + returned < matched {
        links.push(page_link(offset + returned, "next", "Next page"));
    }
    if offset > 0 {
        links.push(page_link(offset.saturating_sub(limit), "prev", "Previous page"));
    }
    links
}

/// A stored row as a GeoJSON feature: id, geometry (CRS84 to 7 decimals, or transformed by `crs` from
/// full precision), the collection's fields, `area_ha`.
pub fn feature_json(c: &Collection, row: FeatureRow, crs: Option<&Reprojector>) -> Result<Value, ApiError> {
    let geometry = match &row.geometry {
        Some(text) => {
            let mut g: Value = serde_json::from_str(text).map_err(|_| unreadable(c, &row.id))?;
            output_geometry(&mut g, crs)?;
            g
        }
        None => Value::Null,
    };
    let id = row.id.clone();
    let properties = served_properties(c, row);
    Ok(json!({ "type": "Feature", "id": id, "geometry": geometry, "properties": properties }))
}

fn unreadable(c: &Collection, id: &str) -> ApiError {
    ApiError::Internal(format!("stored geometry of {} '{id}' is unreadable", c.id))
}

/// A row's properties as served: its fields, then what [`measured_members`] adds.
fn served_properties(c: &Collection, row: FeatureRow) -> serde_json::Map<String, Value> {
    let extras = measured_members(c, &row);
    let mut properties = row.properties;
    properties.extend(extras.into_iter().map(|(k, v)| (k.to_string(), v)));
    properties
}

/// What a spatial record's properties carry besides its fields: `area_ha` (measured, to 1 m²),
/// `area_source` and `source_crs`; nothing for other records.
fn measured_members(c: &Collection, row: &FeatureRow) -> Vec<(&'static str, Value)> {
    if !c.spatial {
        return Vec::new();
    }
    vec![
        ("area_ha", row.area_ha.map(|a| json!((a * 1e6).round() / 1e6)).unwrap_or(Value::Null)),
        ("area_source", json!("measured")),
        ("source_crs", json!(row.source_crs)),
    ]
}

/// A page of CRS84 features written as GeoJSON text straight from the rows' JSON text as the store
/// wrote it ([`JsonPage`](crate::store::JsonPage)), without a tree of values per feature: the document
/// [`feature_json`] and `serde_json` would write (coordinates rounded to 7 decimals, the same numbers;
/// members in the collection's order, then `lease_status` and the measured members).
pub(crate) struct FeatureWriter {
    out: Vec<u8>,
    features: usize,
}

impl FeatureWriter {
    /// A `FeatureCollection` whose features follow.
    pub fn new() -> Self {
        let mut out = Vec::with_capacity(64 * 1024);
        out.extend_from_slice(br#"{"type":"FeatureCollection","features":["#);
        FeatureWriter { out, features: 0 }
    }

    /// Appends one feature: the fields `keep` picks (`properties=`, and those the caller may see), then
    /// `lease_status` if given, then `area_ha`, `area_source` and `source_crs` for spatial records.
    pub fn feature(
        &mut self,
        c: &Collection,
        row: &PageRow<'_>,
        keep: impl Fn(&str) -> bool,
        lease_status: Option<&str>,
    ) -> Result<(), ApiError> {
        let out = &mut self.out;
        if self.features > 0 {
            out.push(b',');
        }
        self.features += 1;
        out.extend_from_slice(br#"{"type":"Feature","id":"#);
        out.extend_from_slice(row.id.get().as_bytes());
        out.extend_from_slice(br#","geometry":"#);
        match row.geometry {
            None => out.extend_from_slice(b"null"),
            Some(geometry) => page_geometry(out, geometry).map_err(|_| unreadable(c, row.id.get()))?,
        }
        out.extend_from_slice(br#","properties":{"#);
        let mut first = true;
        let mut name = |out: &mut Vec<u8>, k: &str| -> Result<(), ApiError> {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            write_json(out, &k)?;
            out.push(b':');
            Ok(())
        };
        let measured = c.spatial.then_some(["area_ha", "area_source", "source_crs"]);
        let is_measured = |k: &str| measured.is_some_and(|m| m.contains(&k));
        for (i, (k, raw)) in row.fields.0.iter().enumerate() {
            if !keep(k) || is_measured(k) || (*k == collections::LEASE_STATUS.name && lease_status.is_some())
            {
                continue;
            }
            name(out, k)?;
            // Real numbers as serde_json writes an f64 (PostgreSQL writes 5 where it writes 5.0).
            let field =
                c.fields.get(i).filter(|f| f.name == *k).or_else(|| c.fields.iter().find(|f| f.name == *k));
            match (field.map(|f| f.kind), raw.get().parse::<f64>()) {
                (Some(FieldKind::Real), Ok(x)) => write_json(out, &x)?,
                _ => out.extend_from_slice(raw.get().as_bytes()),
            }
        }
        if let Some(status) = lease_status.filter(|_| keep(collections::LEASE_STATUS.name)) {
            name(out, collections::LEASE_STATUS.name)?;
            write_json(out, &status)?;
        }
        if measured.is_some() {
            if keep("area_ha") {
                name(out, "area_ha")?;
                match row.area_ha {
                    Some(a) => write_json(out, &((a * 1e6).round() / 1e6))?,
                    None => out.extend_from_slice(b"null"),
                }
            }
            if keep("area_source") {
                name(out, "area_source")?;
                out.extend_from_slice(br#""measured""#);
            }
            if keep("source_crs") {
                name(out, "source_crs")?;
                out.extend_from_slice(row.source_crs.map_or("null", |s| s.get()).as_bytes());
            }
        }
        out.extend_from_slice(b"}}");
        Ok(())
    }

    /// Appends one computed feature (e.g. a piece of available land): its polygon written straight from
    /// its coordinates, rounded to [`COORDINATE_DECIMALS`] as [`output_geometry`] rounds them (the text
    /// `serde_json` writes for `spatial::to_geojson` of the polygon, rounded), and its properties.
    pub fn computed(&mut self, id: &str, polygon: &geo::Polygon, properties: &Value) -> Result<(), ApiError> {
        let out = &mut self.out;
        if self.features > 0 {
            out.push(b',');
        }
        self.features += 1;
        out.extend_from_slice(br#"{"type":"Feature","id":"#);
        write_json(out, &id)?;
        out.extend_from_slice(br#","geometry":{"type":"Polygon","coordinates":["#);
        let factor = 10f64.powi(COORDINATE_DECIMALS as i32);
        let number = |out: &mut Vec<u8>, v: f64| write_rounded(out, v, COORDINATE_DECIMALS, factor, b"null");
        for (r, ring) in std::iter::once(polygon.exterior()).chain(polygon.interiors()).enumerate() {
            out.extend_from_slice(if r == 0 { b"[" } else { b",[" });
            for (i, c) in ring.0.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"[" } else { b",[" });
                number(out, c.x).map_err(|e| ApiError::Internal(format!("writing GeoJSON: {e}")))?;
                out.push(b',');
                number(out, c.y).map_err(|e| ApiError::Internal(format!("writing GeoJSON: {e}")))?;
                out.push(b']');
            }
            out.push(b']');
        }
        out.extend_from_slice(br#"]},"properties":"#);
        write_json(out, properties)?;
        out.push(b'}');
        Ok(())
    }

    /// Closes the features and appends the members after them (`numberMatched`, `links`, …), in order.
    pub fn finish(mut self, members: &[(&str, Value)]) -> Result<Vec<u8>, ApiError> {
        self.out.push(b']');
        for (name, value) in members {
            self.out.push(b',');
            write_json(&mut self.out, name)?;
            self.out.push(b':');
            write_json(&mut self.out, value)?;
        }
        self.out.push(b'}');
        Ok(self.out)
    }
}

fn write_json(out: &mut Vec<u8>, value: &impl serde::Serialize) -> Result<(), ApiError> {
    serde_json::to_writer(out, value).map_err(|e| ApiError::Internal(format!("writing GeoJSON: {e}")))
}

/// Writes a page row's geometry with its coordinates rounded to [`COORDINATE_DECIMALS`]: stored text
/// by [`rounded_geometry`], WKB straight from each `f64`, rounded as `rounded_geometry` rounds a parsed
/// one; `Err` when it cannot be read.
fn page_geometry(out: &mut Vec<u8>, geometry: &PageGeometry) -> Result<(), ()> {
    match geometry {
        PageGeometry::Text(text) => rounded_geometry(out, text, COORDINATE_DECIMALS).map_err(|_| ()),
        PageGeometry::Wkb(wkb) => {
            let factor = 10f64.powi(COORDINATE_DECIMALS as i32);
            let number = |out: &mut Vec<u8>, v: f64| {
                write_rounded(out, v, COORDINATE_DECIMALS, factor, b"")
                    .expect("writing a finite number to memory cannot fail")
            };
            spatial::write_wkb_geojson(wkb, out, number).map_err(|_| ())
        }
    }
}

/// Writes stored GeoJSON geometry text with its coordinates rounded to `decimals`, as
/// [`spatial::round_coordinates`] and `serde_json` would write them; other members are left out.
fn rounded_geometry(out: &mut Vec<u8>, text: &str, decimals: u32) -> Result<(), serde_json::Error> {
    let stored;
    let (kind, coordinates) = match split_plain(text) {
        Some(parts) => parts,
        None => {
            stored = spatial::StoredGeometry::split(text)?;
            (stored.kind.as_ref(), stored.coordinates.get())
        }
    };
    let factor = 10f64.powi(decimals as i32);
    out.extend_from_slice(br#"{"type":"#);
    serde_json::to_writer(&mut *out, kind)?;
    out.extend_from_slice(br#","coordinates":"#);
    // Coordinates are arrays of numbers: copy the brackets and commas, round each number.
    let bytes = coordinates.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                i += 1;
            }
            let token = &bytes[start..i];
            if !write_rounded_decimal(out, token, decimals) {
                let number: f64 =
                    std::str::from_utf8(token).ok().and_then(|t| t.parse().ok()).ok_or_else(|| {
                        <serde_json::Error as serde::de::Error>::custom("a coordinate is not a number")
                    })?;
                write_rounded(out, number, decimals, factor, token)?;
            }
        } else {
            if !b.is_ascii_whitespace() {
                out.push(b);
            }
            i += 1;
        }
    }
    out.push(b'}');
    Ok(())
}

/// The type and coordinates' text of geometry text written as landbank and PostGIS write it,
/// `{"type":"…","coordinates":[…]}` and nothing else; `None` for any other text.
fn split_plain(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(r#"{"type":""#)?;
    let (kind, rest) = rest.split_once('"')?;
    let coordinates = rest.strip_prefix(r#","coordinates":"#)?.strip_suffix('}')?;
    // A byte scan: `str::contains` with a set of chars decodes every char (3 % of a page's CPU).
    let plain = !kind.contains('\\')
        && coordinates.starts_with('[')
        && !coordinates.bytes().any(|b| b == b'}' || b == b'"');
    plain.then_some((kind, coordinates))
}

/// Writes the decimal `token` (as stored: the shortest text of an `f64`) rounded to `decimals`, from
/// its digits, as [`write_rounded`] writes the parsed number; `false` (nothing written) where the
/// digits alone cannot say so for certain: exponents, integers, more than 3 digits before the point,
/// magnitudes under 10⁻³, and digits after the `decimals`th within 10⁻⁵ of a half. An `f64` below 1,000
/// times 10⁷ is off its decimal by less than 3·10⁻⁶, so away from a half both round alike.
fn write_rounded_decimal(out: &mut Vec<u8>, token: &[u8], decimals: u32) -> bool {
    let (negative, digits) = match token.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, token),
    };
    let Some(point) = digits.iter().position(|&b| b == b'.') else { return false };
    let (whole, fraction) = (&digits[..point], &digits[point + 1..]);
    let all_digits = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
    if decimals > 9 || whole.len() > 3 || !all_digits(whole) || !all_digits(fraction) {
        return false;
    }
    let number = |d: &[u8]| d.iter().fold(0u64, |n, &b| n * 10 + u64::from(b - b'0'));
    let kept = fraction.len().min(decimals as usize);
    let mut scaled =
        number(whole) * 10u64.pow(decimals) + number(&fraction[..kept]) * 10u64.pow(decimals - kept as u32);
    if fraction.len() > kept {
        // The next six digits decide, unless they lie about a half.
        let next = &fraction[kept..fraction.len().min(kept + 6)];
        let tail = number(next) * 10u64.pow(6 - next.len() as u32);
        if (499_990..=500_010).contains(&tail) {
            return false;
        }
        scaled += u64::from(tail > 500_010);
    }
    if scaled < 10u64.pow(decimals.saturating_sub(3)) {
        return false;
    }
    write_scaled(out, negative, scaled, decimals);
    true
}

/// Writes `number` rounded to `decimals` (`factor` = 10^decimals) as `serde_json` writes the rounded
/// `f64` (its shortest form that reads back the same), or `text` as it came when not finite.
///
/// A number below a million rounded to 7 decimals has at most 13 significant digits, within the 15 an
/// `f64` always keeps: its shortest form is then the decimal itself, trailing zeros trimmed, and is
/// written from the integer `round(number × factor)` without formatting a float. Tiny, huge and
/// zero values take `serde_json`'s way (exponent forms, `-0.0`).
fn write_rounded(
    out: &mut Vec<u8>,
    number: f64,
    decimals: u32,
    factor: f64,
    text: &[u8],
) -> Result<(), serde_json::Error> {
    let scaled = (number * factor).round();
    let rounded = scaled / factor;
    if !rounded.is_finite() {
        out.extend_from_slice(text);
        return Ok(());
    }
    if !(1e-3..1e6).contains(&rounded.abs()) || decimals > 9 {
        return serde_json::to_writer(&mut *out, &rounded);
    }
    write_scaled(out, scaled < 0.0, scaled.abs() as u64, decimals);
    Ok(())
}

/// Writes `scaled` / 10^`decimals` (negative if asked) as its shortest decimal: the whole part, the
/// point, the fraction without trailing zeros (`.0` when none).
fn write_scaled(out: &mut Vec<u8>, negative: bool, scaled: u64, decimals: u32) {
    let unit = 10u64.pow(decimals);
    if negative {
        out.push(b'-');
    }
    let (whole, mut fraction) = (scaled / unit, scaled % unit);
    let mut buffer = itoa::Buffer::new();
    out.extend_from_slice(buffer.format(whole).as_bytes());
    out.push(b'.');
    if fraction == 0 {
        out.push(b'0');
        return;
    }
    let mut digits = decimals as usize;
    while fraction % 10 == 0 {
        fraction /= 10;
        digits -= 1;
    }
    let text = buffer.format(fraction);
    out.extend(std::iter::repeat_n(b'0', digits - text.len()));
    out.extend_from_slice(text.as_bytes());
}

/// GeoJSON text with its `Content-Crs` header.
pub(crate) fn geojson_text_response(body: Vec<u8>, crs: ServedCrs) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    response.headers_mut().insert("content-crs", content_crs(crs));
    response
}

/// A full-precision CRS84 geometry as served: transformed by `crs`, or rounded to 7 decimals.
pub(crate) fn output_geometry(g: &mut Value, crs: Option<&Reprojector>) -> Result<(), ApiError> {
    match crs {
        Some(r) => r.geometry(g).map_err(ApiError::Internal),
        None => {
            spatial::round_coordinates(g, COORDINATE_DECIMALS);
            Ok(())
        }
    }
}

/// `q=yen phong`: records whose text fields (code, name, developer, …) hold every word, whatever the
/// case and the Vietnamese tones (`Yên Phong`, `YEN PHONG`); `None` for no words.
pub(crate) fn text_search(c: &Collection, q: &str) -> Option<Filter> {
    use crate::store::filter::Fold;
    let fields: Vec<&'static collections::Field> = c
        .filter_fields()
        .filter(|f| f.kind == collections::FieldKind::Text && !c.is_computed(f.name))
        .collect();
    let words: Vec<Filter> = q
        .split_whitespace()
        .map(|word| {
            let escaped: String = word
                .chars()
                .flat_map(|ch| if matches!(ch, '%' | '_' | '\\') { vec!['\\', ch] } else { vec![ch] })
                .collect();
            Filter::Or(
                fields
                    .iter()
                    .map(|field| Filter::Like {
                        field,
                        pattern: format!("%{escaped}%"),
                        fold: Fold { case: true, accent: true },
                    })
                    .collect(),
            )
        })
        .collect();
    (!words.is_empty()).then_some(Filter::And(words))
}

/// `filter=` (with `filter-lang=` and `filter-crs=`) compiled against the collection's queryables.
pub(crate) fn requested_filter(c: &Collection, params: &Params) -> Result<Option<Filter>, ApiError> {
    let Some(text) = params.get("filter") else {
        for name in ["filter-lang", "filter-crs"] {
            if params.get(name).is_some() {
                return Err(ApiError::parameter(
                    name,
                    format!("{name} says how to read filter=, which is missing"),
                ));
            }
        }
        return Ok(None);
    };
    let lat_lon = match params.get("filter-crs") {
        None | Some("") => false,
        Some(text) => match ServedCrs::parse(text) {
            Ok(ServedCrs::Crs84) => false,
            Ok(ServedCrs::Epsg(4326)) => true,
            _ => {
                return Err(ApiError::parameter(
                    "filter-crs",
                    format!(
                        "filter-crs={text}: geometries in filters are read in {CRS84_URI} (the default) or http://www.opengis.net/def/crs/EPSG/0/4326"
                    ),
                ));
            }
        },
    };
    let lang = params.get("filter-lang").unwrap_or("cql2-text");
    filter::parse(c, text, lang, lat_lon).map(Some).map_err(|e| {
        let name = if e.0.starts_with("filter-lang") { "filter-lang" } else { "filter" };
        ApiError::parameter(name, e.0)
    })
}

/// Formats `items` also offers as a file download (`f=` or `Accept`); `None` is GeoJSON.
pub(crate) fn download_format(
    params: &Params,
    headers: &HeaderMap,
) -> Result<Option<ExportFormat>, ApiError> {
    const OFFERED: &[ExportFormat] =
        &[ExportFormat::Csv, ExportFormat::Gpkg, ExportFormat::Fgb, ExportFormat::Kml];
    if let Some(f) = params.get("f") {
        if matches!(f, "json" | "geojson") {
            return Ok(None);
        }
        return OFFERED.iter().copied().find(|o| o.extension() == f).map(Some).ok_or_else(|| {
            ApiError::parameter(
                "f",
                format!("f={f} is not offered; use f=json (GeoJSON), csv, gpkg, fgb or kml"),
            )
        });
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("json") {
        return Ok(None);
    }
    Ok(OFFERED
        .iter()
        .copied()
        .find(|o| accept.contains(o.media_type().split(';').next().unwrap_or_default())))
}

/// `rows` as a file written by GDAL (the same writer as `landbank export`), in `crs`.
pub(crate) async fn download_response(
    c: &'static Collection,
    rows: Vec<FeatureRow>,
    format: ExportFormat,
    crs: ServedCrs,
    public_only: bool,
) -> Result<Response, ApiError> {
    if let Some(reason) = crate::export::unfit(c, format, crs != ServedCrs::Crs84) {
        return Err(ApiError::parameter("f", reason));
    }
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = dir.path().join(format!("{}.{}", c.id, format.extension()));
        let options = ExportOptions {
            collection: c,
            format,
            out: out.clone(),
            srs: match crs {
                ServedCrs::Crs84 => None,
                ServedCrs::Epsg(code) => Some(format!("EPSG:{code}")),
            },
            at: None,
            query: ItemsQuery::default(),
            overwrite: false,
            public_only,
        };
        crate::export::write(c, &rows, &options).map_err(|e| e.to_string())?;
        std::fs::read(&out).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("download writer stopped: {e}")))?
    .map_err(ApiError::Internal)?;
    let mut response =
        super::attachment(bytes, format.media_type(), &format!("{}.{}", c.id, format.extension()));
    response.headers_mut().insert("content-crs", content_crs(crs));
    Ok(response)
}

/// The `ETag` of a record's version.
pub(crate) fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"v{version}\"")).expect("ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_written_from_text_is_what_the_json_tree_writes() {
        for text in [
            r#"{"type":"Polygon","coordinates":[[[106.123456789,21.1],[106.2,21],[106, 21.99999999],[-0.00000004,1e-9],[106.123456789,21.1]]]}"#,
            r#"{"type":"MultiPolygon","coordinates":[[[[1,2],[3,4.00000005],[5,6],[1,2]]],[[[7.5,8.25],[9,10],[11,12],[7.5,8.25]]]]}"#,
            "{ \"type\" : \"Polygon\" ,\n \"coordinates\" : [ [ [ 1.5 , 2.5 ] ] ] }",
        ] {
            let mut tree: Value = serde_json::from_str(text).unwrap();
            spatial::round_coordinates(&mut tree, COORDINATE_DECIMALS);
            let mut out = Vec::new();
            rounded_geometry(&mut out, text, COORDINATE_DECIMALS).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&tree).unwrap(), "{text}");
        }
        assert!(
            rounded_geometry(&mut Vec::new(), r#"{"type":"Polygon","coordinates":[[[1-2]]]}"#, 7).is_err()
        );
        assert!(rounded_geometry(&mut Vec::new(), "[]", 7).is_err());
    }

    /// Pseudo-random numbers from `seed` (xorshift64): the same every run.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// A page row's geometry handed over as WKB (PostGIS) is written exactly as the same geometry stored
    /// as text (SQLite): coordinates of every kind, halves of the last decimal among them.
    #[test]
    fn a_page_writes_wkb_as_it_writes_stored_text() {
        use geozero::{CoordDimensions, ToWkb};
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut values: Vec<f64> =
            vec![0.0, -0.0, 106.00000005, 21.12345675, -0.00000015, 1e-9, 179.99999995];
        for _ in 0..4_000 {
            let (a, b) = (next(), next());
            values.push((a % 360_000_000_000) as f64 / 1e9 - 180.0);
            values.push((b % 2_000_000_000) as f64 / 1e7 + (b % 7) as f64 * 5e-8);
        }
        for ring in values.chunks(6) {
            let mut coords: Vec<(f64, f64)> =
                ring.chunks(2).filter(|p| p.len() == 2).map(|p| (p[0], p[1])).collect();
            coords.push(coords[0]);
            let geometry = geo::MultiPolygon(vec![geo::Polygon::new(geo::LineString::from(coords), vec![])]);
            let text = PageGeometry::Text(spatial::to_geojson(&geometry).to_string());
            let wkb = PageGeometry::Wkb(
                geo::Geometry::MultiPolygon(geometry).to_wkb(CoordDimensions::xy()).unwrap(),
            );
            let (mut from_text, mut from_wkb) = (Vec::new(), Vec::new());
            page_geometry(&mut from_text, &text).unwrap();
            page_geometry(&mut from_wkb, &wkb).unwrap();
            assert_eq!(String::from_utf8(from_wkb).unwrap(), String::from_utf8(from_text).unwrap());
        }
        assert!(page_geometry(&mut Vec::new(), &PageGeometry::Wkb(vec![1, 3, 0])).is_err(), "cut short");
    }

    /// A computed feature (a piece of available land) written straight from its polygon is the
    /// document the tree of values gave: rounded coordinates, holes, properties.
    #[test]
    fn a_computed_feature_is_written_as_the_json_tree_writes_it() {
        let mut next = xorshift(0x51_7cc1_b727_220a);
        let mut coordinate =
            |base: f64| base + (next() % 100_000_000) as f64 / 1e9 + (next() % 3) as f64 * 5e-8;
        let square = |x: f64, y: f64, side: f64| {
            geo::LineString::from(vec![(x, y), (x + side, y), (x + side, y + side), (x, y + side), (x, y)])
        };
        let exterior = geo::LineString::from(
            (0..40).map(|_| (coordinate(106.0), coordinate(21.0))).chain([(106.0, 21.0)]).collect::<Vec<_>>(),
        );
        for polygon in [
            geo::Polygon::new(square(106.00000005, -0.00000015, 0.1), vec![square(106.01, 0.01, 0.02)]),
            geo::Polygon::new(exterior, vec![]),
        ] {
            let properties = serde_json::json!({ "zone_code": "SZ-1", "area_ha": 1.25, "ready": true });
            let mut writer = FeatureWriter::new();
            writer.computed("SZ-1-A1", &polygon, &properties).unwrap();
            let written: Value = serde_json::from_slice(&writer.finish(&[]).unwrap()).unwrap();
            let mut geometry =
                serde_json::to_value(spatial::to_geojson(&geo::MultiPolygon(vec![polygon]))).unwrap();
            output_geometry(&mut geometry, None).unwrap();
            let tree = serde_json::json!({ "type": "FeatureCollection", "features": [{ "type": "Feature",
                "id": "SZ-1-A1", "geometry": geometry, "properties": properties }] });
            assert_eq!(written, tree);
        }
    }

    #[test]
    fn coordinates_are_written_as_serde_json_writes_the_rounded_number() {
        let factor = 10f64.powi(COORDINATE_DECIMALS as i32);
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut values: Vec<f64> = vec![
            0.0,
            -0.0,
            1e-9,
            -4e-8,
            0.001,
            0.00099999,
            5e-8,
            1.0,
            106.0,
            -180.0,
            21.1,
            999_999.99999999,
            1e6,
            123_456_789.123,
            0.1 + 0.2,
            106.12345675,
            106.12345665,
            21.00000005,
        ];
        for _ in 0..200_000 {
            let unit = (next() >> 11) as f64 / (1u64 << 53) as f64;
            let scale = [1e-4, 1e-2, 1.0, 180.0, 1e5][(next() % 5) as usize];
            values.push((unit * 2.0 - 1.0) * scale);
        }
        // Decimals as files carry them: 8 and 9 places, halves among them.
        for _ in 0..100_000 {
            let places = [8, 9][(next() % 2) as usize];
            let text = format!("{}.{:0places$}", next() % 180, next() % 10u64.pow(places as u32));
            values.push(text.parse().unwrap());
        }
        let mut from_digits = 0;
        for v in values {
            let mut out = Vec::new();
            write_rounded(&mut out, v, COORDINATE_DECIMALS, factor, b"").unwrap();
            let expected = serde_json::to_string(&((v * factor).round() / factor)).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{v:e}");
            // The stored text of the same number, rounded from its digits, writes the same or nothing.
            let mut out = Vec::new();
            if write_rounded_decimal(
                &mut out,
                serde_json::to_string(&v).unwrap().as_bytes(),
                COORDINATE_DECIMALS,
            ) {
                assert_eq!(String::from_utf8(out).unwrap(), expected, "{v:e} from its digits");
                from_digits += 1;
            }
        }
        assert!(from_digits > 200_000, "most coordinates are rounded from their digits: {from_digits}");
    }
}
