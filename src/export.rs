//! `landbank export` and the HTTP downloads: one collection, filtered and as of a date, into any of the
//! formats planners exchange (GeoPackage, Shapefile, KML, GeoJSON, FlatGeobuf, CSV, DXF), written by GDAL,
//! optionally reprojected (e.g. to the province's VN-2000 / TM-3 zone).
//!
//! Text stays Unicode: Shapefiles are written in UTF-8 with a `.cpg` saying so. Field names longer than a
//! dBase field allows (10 characters) are cut the way `landbank import` recognises again, so an export
//! re-imports without `--map`. Files are written beside the destination and moved into place only when
//! complete: a failed export leaves nothing half-written.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gdal::DriverManager;
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{FieldValue, Geometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::collections::{Collection, FieldKind};
use crate::domain::Date;
use crate::store::{FeatureRow, ItemsQuery, Store, StoreError};

#[derive(Debug, Error)]
pub enum ExportError {
    /// The destination or an option is wrong (exists, unwritable, CRS unknown, format can't hold it).
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
    /// GDAL failed while writing a feature or the file.
    #[error("{file}: GDAL could not write {what}: {reason}")]
    Write { file: String, what: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The file formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// OGC GeoPackage (one layer named after the collection).
    Gpkg,
    /// ESRI Shapefile, UTF-8 with a .cpg (field names cut to 10 characters).
    Shp,
    /// KML (Google Earth), always WGS 84.
    Kml,
    /// GeoJSON (RFC 7946 when in WGS 84).
    Geojson,
    /// FlatGeobuf with a spatial index.
    Fgb,
    /// CSV with the geometry as WKT in the first column.
    Csv,
    /// AutoCAD DXF: polygons as hatches on a layer named after the collection, no attributes.
    Dxf,
}

impl ExportFormat {
    /// GDAL's driver name.
    fn driver(self) -> &'static str {
        match self {
            ExportFormat::Gpkg => "GPKG",
            ExportFormat::Shp => "ESRI Shapefile",
            ExportFormat::Kml => "KML",
            ExportFormat::Geojson => "GeoJSON",
            ExportFormat::Fgb => "FlatGeobuf",
            ExportFormat::Csv => "CSV",
            ExportFormat::Dxf => "DXF",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Gpkg => "gpkg",
            ExportFormat::Shp => "shp",
            ExportFormat::Kml => "kml",
            ExportFormat::Geojson => "geojson",
            ExportFormat::Fgb => "fgb",
            ExportFormat::Csv => "csv",
            ExportFormat::Dxf => "dxf",
        }
    }

    /// The media type of a download.
    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Gpkg => "application/geopackage+sqlite3",
            ExportFormat::Shp => "application/x-shapefile",
            ExportFormat::Kml => "application/vnd.google-earth.kml+xml",
            ExportFormat::Geojson => "application/geo+json",
            ExportFormat::Fgb => "application/flatgeobuf",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Dxf => "image/vnd.dxf",
        }
    }

    /// Files that make up the dataset besides the main one (their extensions).
    fn sidecars(self) -> &'static [&'static str] {
        match self {
            ExportFormat::Shp => &["shx", "dbf", "prj", "cpg"],
            _ => &[],
        }
    }
}

/// What to export and where.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub collection: &'static Collection,
    pub format: ExportFormat,
    pub out: PathBuf,
    /// CRS to write coordinates in (`EPSG:9209`, `vn2000:bac-ninh`, …); WGS 84 longitude/latitude without.
    pub srs: Option<String>,
    /// Records as their dates say they stood on this day (see [`as_of`]); all records without.
    pub at: Option<Date>,
    /// Attribute and bounding-box filters (limit and offset apply too).
    pub query: ItemsQuery,
    /// Replace the destination when it exists.
    pub overwrite: bool,
    /// Leave out private fields (owners, contacts, compensation): downloads by anyone below planner.
    pub public_only: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub file: String,
    pub collection: String,
    pub format: ExportFormat,
    pub written: usize,
    /// The CRS of the written coordinates, e.g. `EPSG:4326` or `EPSG:9209`.
    pub crs: String,
    /// Sum of the written features' geodesic areas, hectares.
    pub area_ha: f64,
    /// Fields renamed to fit the format (`policy_approved_on` → `policy_app`).
    pub renamed: Vec<(String, String)>,
}

/// The query of `--filter FIELD=VALUE` (queryable fields) and `--bbox minLon,minLat,maxLon,maxLat`.
pub fn query(
    collection: &Collection,
    filters: &[(String, String)],
    bbox: Option<[f64; 4]>,
) -> Result<ItemsQuery, String> {
    let mut query = ItemsQuery::default();
    for (name, text) in filters {
        // The command line holds the whole database: any stored field may be filtered on.
        let field = collection.field(name).ok_or_else(|| {
            let names: Vec<&str> = collection.fields.iter().map(|f| f.name).collect();
            format!(
                "--filter {name}=…: {} cannot be filtered on '{name}'; use one of: {}",
                collection.id,
                names.join(", ")
            )
        })?;
        let value = field.parse_filter(text).map_err(|e| format!("--filter {e}"))?;
        query.conditions.push(crate::store::Condition::In { field: field.name.into(), values: vec![value] });
    }
    query.bbox = bbox;
    Ok(query)
}

/// Keeps the rows as their own dates say they stood on `at`, with their status as of that day: land use
/// valid then, leases holding land then (status `active` or `reserved`), projects certified by then,
/// targets of that year or before; zones and clearance parcels carry their status of that day.
pub fn as_of(
    collection: &Collection,
    rows: Vec<FeatureRow>,
    at: Date,
) -> Result<Vec<FeatureRow>, StoreError> {
    let mut kept = Vec::with_capacity(rows.len());
    for mut row in rows {
        if row.as_of(collection, at)? {
            kept.push(row);
        }
    }
    Ok(kept)
}

/// Reads the rows an export asks for and writes the file (GDAL on a blocking thread).
pub async fn run(store: &Arc<dyn Store>, options: ExportOptions) -> Result<ExportReport, ExportError> {
    let collection = options.collection;
    let mut rows = store.items(collection, &options.query).await?.rows;
    if let Some(at) = options.at {
        rows = as_of(collection, rows, at)?;
    }
    let file = options.out.display().to_string();
    tokio::task::spawn_blocking(move || write(collection, &rows, &options))
        .await
        .map_err(|e| ExportError::File { file, reason: format!("writer stopped: {e}") })?
}

/// A dBase-safe field name: at most 10 bytes, unique among `taken` (`name` cut, then `nam_2`, …).
fn short_name(name: &str, taken: &[String]) -> String {
    let cut: String = name.chars().take(10).collect();
    if !taken.contains(&cut) {
        return cut;
    }
    (2..100)
        .map(|n| format!("{}_{n}", name.chars().take(10 - 1 - n.to_string().len()).collect::<String>()))
        .find(|c| !taken.contains(c))
        .unwrap_or(cut)
}

/// The fields written for a collection: (name in the file, property name, kind).
pub(crate) fn file_fields(
    collection: &Collection,
    format: ExportFormat,
    public_only: bool,
) -> Vec<(String, String, FieldKind)> {
    let mut fields: Vec<(String, FieldKind)> = vec![("id".into(), FieldKind::Text)];
    fields.extend(
        collection
            .fields
            .iter()
            .filter(|f| !(public_only && f.private))
            .map(|f| (f.name.to_string(), f.kind)),
    );
    if collection.spatial {
        fields.push(("area_ha".into(), FieldKind::Real));
        fields.push(("source_crs".into(), FieldKind::Text));
    }
    let mut out: Vec<(String, String, FieldKind)> = Vec::new();
    for (name, kind) in fields {
        // CSV keeps dates as ISO 8601 text (GDAL would write `2023/11/17`).
        let kind =
            if format == ExportFormat::Csv && kind == FieldKind::Date { FieldKind::Text } else { kind };
        let file_name = if format == ExportFormat::Shp {
            let taken: Vec<String> = out.iter().map(|f| f.0.clone()).collect();
            short_name(&name, &taken)
        } else {
            name.clone()
        };
        out.push((file_name, name, kind));
    }
    out
}

/// GDAL's type of a field.
fn ogr_type(kind: FieldKind) -> OGRFieldType::Type {
    match kind {
        FieldKind::Text => OGRFieldType::OFTString,
        FieldKind::Real => OGRFieldType::OFTReal,
        FieldKind::Integer | FieldKind::Bool => OGRFieldType::OFTInteger64,
        FieldKind::Date => OGRFieldType::OFTDate,
    }
}

/// A property as GDAL's value of the field's kind (`None`: leave the field null).
fn field_value(value: &Value, kind: FieldKind) -> Option<FieldValue> {
    match (kind, value) {
        (_, Value::Null) => None,
        (FieldKind::Real, v) => v.as_f64().map(FieldValue::RealValue),
        (FieldKind::Integer, v) => v.as_i64().map(FieldValue::Integer64Value),
        (FieldKind::Bool, Value::Bool(b)) => Some(FieldValue::Integer64Value(i64::from(*b))),
        (FieldKind::Date, Value::String(s)) => crate::domain::parse_date(s).ok().map(FieldValue::DateValue),
        (_, Value::String(s)) => Some(FieldValue::StringValue(s.clone())),
        (_, other) => Some(FieldValue::StringValue(other.to_string())),
    }
}

/// Why `format` cannot hold `collection` (in a CRS other than WGS 84 when `reprojected`), if it cannot.
pub fn unfit(collection: &Collection, format: ExportFormat, reprojected: bool) -> Option<String> {
    if !collection.spatial && matches!(format, ExportFormat::Kml | ExportFormat::Dxf) {
        return Some(format!(
            "{} has no geometry; KML and DXF hold only geometry. Use csv or gpkg",
            collection.id
        ));
    }
    if reprojected && format == ExportFormat::Kml {
        return Some("KML is always WGS 84 longitude/latitude; leave out the CRS".into());
    }
    None
}

/// The CRS an export writes in: `srs` resolved (presets too), or WGS 84; x = east in both.
fn target_srs(srs: Option<&str>) -> Result<(SpatialRef, String), String> {
    let definition = match srs {
        None => "EPSG:4326".to_string(),
        Some(text) => crate::crs::resolve(text).map_err(|e| format!("--srs {text}: {e}"))?,
    };
    let mut srs = SpatialRef::from_definition(&definition).map_err(|e| {
        format!("--srs {definition}: not a CRS GDAL knows ({e}); use EPSG:n or vn2000:<province>")
    })?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok((srs.clone(), crate::crs::srs_label(&srs)))
}

/// Writes `rows` of `collection` to `options.out` (blocking: GDAL). The file appears only when complete.
pub fn write(
    collection: &'static Collection,
    rows: &[FeatureRow],
    options: &ExportOptions,
) -> Result<ExportReport, ExportError> {
    let format = options.format;
    let out = &options.out;
    let file = out.display().to_string();
    let fail = |reason: String| ExportError::File { file: file.clone(), reason };
    if out.exists() && !options.overwrite {
        return Err(fail("already exists; choose another --out or add --overwrite".into()));
    }
    if let Some(reason) = unfit(collection, format, options.srs.is_some()) {
        return Err(fail(reason));
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let stem =
        out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| collection.id.into());
    let staging = tempfile::Builder::new()
        .prefix(".landbank-export-")
        .tempdir_in(&dir)
        .map_err(|e| fail(format!("cannot write in {}: {e}", dir.display())))?;
    let staged = staging.path().join(out.file_name().unwrap_or(std::ffi::OsStr::new(collection.id)));
    let report = write_dataset(collection, rows, options, &staged).map_err(|e| match e {
        ExportError::File { reason, .. } => fail(reason),
        ExportError::Write { what, reason, .. } => ExportError::Write { file: file.clone(), what, reason },
        other => other,
    })?;
    // Move the main file and its sidecars into place.
    let mut moves = vec![(staged.clone(), out.clone())];
    for ext in format.sidecars() {
        let from = staged.with_extension(ext);
        if from.exists() {
            moves.push((from, dir.join(format!("{stem}.{ext}"))));
        }
    }
    for (from, to) in moves {
        std::fs::rename(&from, &to)
            .map_err(|e| fail(format!("cannot move the finished file into place: {e}")))?;
    }
    Ok(ExportReport { file, ..report })
}

fn write_dataset(
    collection: &'static Collection,
    rows: &[FeatureRow],
    options: &ExportOptions,
    path: &Path,
) -> Result<ExportReport, ExportError> {
    let format = options.format;
    let file = path.display().to_string();
    let fail = |reason: String| ExportError::File { file: file.clone(), reason };
    let gdal_fail = |what: &str, e: gdal::errors::GdalError| ExportError::Write {
        file: file.clone(),
        what: what.into(),
        reason: e.to_string(),
    };
    let (srs, crs_label) = target_srs(options.srs.as_deref()).map_err(fail)?;
    let mut wgs84 = SpatialRef::from_epsg(4326).map_err(|e| gdal_fail("WGS 84", e))?;
    wgs84.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let transform = if crs_label == "EPSG:4326" {
        None
    } else {
        Some(
            CoordTransform::new(&wgs84, &srs)
                .map_err(|e| fail(format!("cannot transform WGS 84 to {crs_label}: {e}")))?,
        )
    };

    let driver =
        DriverManager::get_driver_by_name(format.driver()).map_err(|e| gdal_fail("(no driver)", e))?;
    let mut dataset = driver.create_vector_only(path).map_err(|e| gdal_fail("the file", e))?;
    let mut layer_options: Vec<&str> = match format {
        ExportFormat::Shp => vec!["ENCODING=UTF-8"],
        ExportFormat::Csv => vec!["GEOMETRY=AS_WKT"],
        ExportFormat::Geojson if transform.is_none() => vec!["RFC7946=YES"],
        _ => vec![],
    };
    if format == ExportFormat::Gpkg {
        layer_options.push("SPATIAL_INDEX=YES");
    }
    let geometry_type =
        if collection.spatial { OGRwkbGeometryType::wkbMultiPolygon } else { OGRwkbGeometryType::wkbNone };
    let fields = file_fields(collection, format, options.public_only);
    let renamed: Vec<(String, String)> =
        fields.iter().filter(|(f, p, _)| f != p).map(|(f, p, _)| (p.clone(), f.clone())).collect();
    {
        let layer = dataset
            .create_layer(LayerOptions {
                name: if format == ExportFormat::Dxf { "entities" } else { collection.id },
                srs: collection.spatial.then_some(&srs),
                ty: geometry_type,
                options: (!layer_options.is_empty()).then_some(&layer_options),
            })
            .map_err(|e| gdal_fail("the layer", e))?;
        if format != ExportFormat::Dxf {
            for (name, _, kind) in &fields {
                let defn =
                    gdal::vector::FieldDefn::new(name, ogr_type(*kind)).map_err(|e| gdal_fail(name, e))?;
                defn.add_to_layer(&layer).map_err(|e| gdal_fail(&format!("field {name}"), e))?;
            }
        }
    }
    // One transaction where the format has them (GeoPackage: far faster than a commit per feature).
    // SAFETY: the dataset is open; GDAL answers OGRERR_UNSUPPORTED_OPERATION for formats without them.
    let transaction_started = unsafe { gdal_sys::GDALDatasetStartTransaction(dataset.c_dataset(), 0) }
        == gdal_sys::OGRErr::OGRERR_NONE;
    let mut area_ha = 0.0;
    {
        let layer = dataset.layer(0).map_err(|e| gdal_fail("the layer", e))?;
        let defn = layer.defn();
        // Where each field went: a driver may put fields of its own first (KML: Name, Description).
        let probe = gdal::vector::Feature::new(defn).map_err(|e| gdal_fail("the layer", e))?;
        let indexes: Vec<Option<usize>> =
            fields.iter().map(|(name, _, _)| probe.field_index(name).ok()).collect();
        drop(probe);
        for row in rows {
            let what = || format!("{} '{}'", collection.id, row.id);
            let mut feature = gdal::vector::Feature::new(defn).map_err(|e| gdal_fail(&what(), e))?;
            if let Some(text) = &row.geometry {
                let mut g =
                    Geometry::from_geojson(&as_multipolygon(text)).map_err(|e| gdal_fail(&what(), e))?;
                if let Some(t) = &transform {
                    g.transform_inplace(t).map_err(|e| gdal_fail(&what(), e))?;
                }
                feature.set_geometry(g).map_err(|e| gdal_fail(&what(), e))?;
                area_ha += row.area_ha.unwrap_or(0.0);
            }
            if format == ExportFormat::Dxf {
                let idx = feature.field_index("Layer").map_err(|e| gdal_fail(&what(), e))?;
                feature.set_field_string(idx, collection.id).map_err(|e| gdal_fail(&what(), e))?;
            } else {
                let values = properties_of(row);
                for ((_, property, kind), index) in fields.iter().zip(&indexes) {
                    let Some(index) = *index else { continue };
                    if let Some(v) = values.get(property).and_then(|v| field_value(v, *kind)) {
                        feature
                            .set_field(index, &v)
                            .map_err(|e| gdal_fail(&format!("{}, field {property}", what()), e))?;
                    }
                }
            }
            feature.create(&layer).map_err(|e| gdal_fail(&what(), e))?;
        }
    }
    if transaction_started {
        commit(&mut dataset).map_err(|e| gdal_fail("the file (commit)", e))?;
    }
    dataset.flush_cache().map_err(|e| gdal_fail("the file (flush)", e))?;
    drop(dataset);
    Ok(ExportReport {
        file: file.clone(),
        collection: collection.id.into(),
        format,
        written: rows.len(),
        crs: crs_label,
        area_ha,
        renamed,
    })
}

/// A stored GeoJSON geometry as a MultiPolygon (the layer's type: GeoPackage and FlatGeobuf insist).
fn as_multipolygon(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut g)) if g.get("type").and_then(Value::as_str) == Some("Polygon") => {
            let rings = g.remove("coordinates").unwrap_or(Value::Null);
            serde_json::json!({ "type": "MultiPolygon", "coordinates": [rings] }).to_string()
        }
        _ => text.to_string(),
    }
}

/// The row's properties plus the computed ones a file carries (`id`, `area_ha`, `source_crs`).
fn properties_of(row: &FeatureRow) -> Map<String, Value> {
    let mut values = row.properties.clone();
    values.insert("id".into(), Value::String(row.id.clone()));
    if let Some(a) = row.area_ha {
        values.insert("area_ha".into(), serde_json::json!((a * 1e6).round() / 1e6));
    }
    if let Some(c) = &row.source_crs {
        values.insert("source_crs".into(), Value::String(c.clone()));
    }
    values
}

fn commit(dataset: &mut gdal::Dataset) -> gdal::errors::Result<()> {
    // SAFETY: the dataset is open and a transaction was started on it; it is committed once.
    let rv = unsafe { gdal_sys::GDALDatasetCommitTransaction(dataset.c_dataset()) };
    if rv != gdal_sys::OGRErr::OGRERR_NONE {
        return Err(gdal::errors::GdalError::OgrError {
            err: rv,
            method_name: "GDALDatasetCommitTransaction",
        });
    }
    Ok(())
}

/// The report as a line a person reads.
pub fn describe(report: &ExportReport) -> String {
    let renamed = if report.renamed.is_empty() {
        String::new()
    } else {
        format!(
            "\nfields renamed to fit the format: {}",
            report.renamed.iter().map(|(p, f)| format!("{p} → {f}")).collect::<Vec<_>>().join(", ")
        )
    };
    format!(
        "{}: {} {} written ({:?}, {}), area {:.2} ha{renamed}\n",
        report.file, report.written, report.collection, report.format, report.crs, report.area_ha
    )
}
