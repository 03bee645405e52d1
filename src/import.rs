//! `landbank import`: planners' files (Shapefile, GeoPackage, KML/KMZ, GeoJSON, DXF, DGN, FlatGeobuf, CSV
//! with WKT or lon/lat columns — whatever GDAL reads) into one collection, reprojected to WGS 84.
//!
//! Everything is checked before anything is written: the CRS (a file in projected metres without one is
//! refused, never guessed), every feature's fields against the collection's domain type, geometry
//! validity, duplicate ids, records outside their zone. Problems name the file, the feature (id and row)
//! and the field. A real run with problems writes nothing; otherwise all features go in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{FieldValue, Geometry, LayerAccess};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

use crate::collections::{self, Check, Collection, FieldKind, FilterValue};
use crate::ingest::canonical_properties;
use crate::spatial;
use crate::store::{Condition, FeatureRow, ItemsQuery, NewFeature, Store, StoreError};

#[derive(Debug, Error)]
pub enum ImportError {
    /// The file as a whole cannot be imported (unreadable, ambiguous layer, no CRS, bad option).
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
    #[error(
        "{file}: {count} problem(s); nothing was written. Fix them (or use --fix for geometry) and re-run"
    )]
    Problems { file: String, count: usize, report: Box<ImportReport> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub path: PathBuf,
    pub collection: &'static Collection,
    pub layer: Option<String>,
    /// CRS of the file's coordinates when the file does not say, or to override it (`--srs`).
    pub srs: Option<String>,
    /// `TARGET=SOURCE` field mappings.
    pub map: Vec<(String, String)>,
    /// `FIELD=VALUE` constants for every feature.
    pub set: Vec<(String, String)>,
    /// Encoding of a Shapefile's attributes when its .cpg does not say (e.g. `CP1258`).
    pub encoding: Option<String>,
    pub dry_run: bool,
    /// Repair invalid geometry with GDAL's MakeValid and say so.
    pub fix: bool,
    /// Replace records already stored (same id) with the file's version, each a new version in history;
    /// records not stored yet are added, unchanged ones left alone. Without it a stored id is a problem.
    pub update: bool,
}

/// One thing wrong with one feature (or the file).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// 1-based row in the layer.
    pub row: usize,
    pub id: String,
    pub field: Option<String>,
    pub message: String,
}

/// What an import found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub layer: String,
    pub collection: String,
    /// The CRS the coordinates were read in, e.g. `EPSG:9209`.
    pub source_crs: String,
    /// How text was decoded when `--encoding` was given, e.g. `TCVN3 (auto: …)`.
    pub encoding: Option<String>,
    /// Target field ← source field, for every mapped field.
    pub mapping: BTreeMap<String, String>,
    pub read: usize,
    pub written: u64,
    /// Of `written`, records that replaced a stored one (`--update`).
    pub updated: u64,
    /// Records of the file identical to the stored ones (`--update`): not written again.
    pub unchanged: u64,
    /// Leases the file's terminations and revocations ended (written too, each a new version).
    pub leases_ended: u64,
    /// Features of a CAD drawing that are not parcel outlines (texts, points, open lines).
    pub skipped: usize,
    pub repaired: Vec<String>,
    pub problems: Vec<Problem>,
    /// Sum of the features' geodesic areas, hectares.
    pub area_ha: f64,
    pub dry_run: bool,
}

/// The source name that maps a feature's own number (GDAL's FID) when the layer has no field of that name.
const FID: &str = "FID";

/// Lower-case ASCII letters and digits only: `Số_Hiệu` and `SO HIEU` both become `sohieu`.
fn normal(name: &str) -> String {
    deunicode::deunicode(name).to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect()
}

/// A field value as JSON of the target's kind.
fn json_value(value: FieldValue, kind: FieldKind) -> Option<Value> {
    let text = |v: &FieldValue| -> Option<String> {
        match v {
            // Legacy code pages decode to base letters plus combining marks: compose them (NFC).
            FieldValue::StringValue(s) => Some(s.trim().nfc().collect::<String>()).filter(|s| !s.is_empty()),
            FieldValue::IntegerValue(i) => Some(i.to_string()),
            FieldValue::Integer64Value(i) => Some(i.to_string()),
            FieldValue::RealValue(r) => {
                Some(if r.fract() == 0.0 { format!("{r:.0}") } else { r.to_string() })
            }
            FieldValue::DateValue(d) => Some(d.format("%Y-%m-%d").to_string()),
            FieldValue::DateTimeValue(d) => Some(d.format("%Y-%m-%d").to_string()),
            _ => None,
        }
    };
    let t = text(&value)?;
    Some(match kind {
        FieldKind::Text | FieldKind::Date => Value::String(t),
        FieldKind::Real => {
            t.replace(',', ".").parse::<f64>().ok().map(Value::from).unwrap_or(Value::String(t))
        }
        FieldKind::Integer => t.parse::<i64>().ok().map(Value::from).unwrap_or(Value::String(t)),
        FieldKind::Bool => match t.to_lowercase().as_str() {
            "1" | "true" | "t" | "y" | "yes" | "co" | "có" => Value::Bool(true),
            "0" | "false" | "f" | "n" | "no" | "khong" | "không" => Value::Bool(false),
            _ => Value::String(t),
        },
    })
}

fn constant(field: &crate::collections::Field, text: &str) -> Value {
    json_value(FieldValue::StringValue(text.to_string()), field.kind).unwrap_or(Value::Null)
}

/// Landbank field → the source field that fills it.
type Mapping = BTreeMap<String, String>;

/// Which source field fills each field of the collection: `--map` first, then a field of the same name,
/// then the boards' usual names for it (see [`crate::collections::Collection::aliases_of`]), then the
/// 10-character names of a Shapefile `landbank export` wrote; and the constants of `--set`. An error
/// names the option and what the layer or the collection offers instead.
fn field_mapping<'o>(
    options: &'o ImportOptions,
    layer_name: &str,
    source_fields: &[String],
) -> Result<(Mapping, HashMap<&'o str, &'o str>), String> {
    let collection = options.collection;
    let mut mapping: BTreeMap<String, String> = BTreeMap::new();
    for (target, source) in &options.map {
        if target != "id" && collection.field(target).is_none() {
            return Err(format!(
                "--map {target}={source}: {} has no field '{target}'; its fields: id, {}",
                collection.id,
                collection.fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
            ));
        }
        if !source_fields.iter().any(|f| f == source) && source != FID {
            return Err(format!(
                "--map {target}={source}: layer {layer_name} has no field '{source}'; its fields: {FID} (the feature's number), {}",
                source_fields.join(", ")
            ));
        }
        mapping.insert(target.clone(), source.clone());
    }
    let set: HashMap<&str, &str> = options.set.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for name in set.keys() {
        if collection.field(name).is_none() {
            return Err(format!("--set {name}=…: {} has no field '{name}'", collection.id));
        }
    }
    let shapefile_names: Vec<(String, String)> =
        crate::export::file_fields(collection, crate::export::ExportFormat::Shp, false)
            .into_iter()
            .map(|(f, p, _)| (f, p))
            .collect();
    for target in std::iter::once("id").chain(collection.fields.iter().map(|f| f.name)) {
        if mapping.contains_key(target) || set.contains_key(target) {
            continue;
        }
        let wanted: Vec<String> = std::iter::once(normal(target))
            .chain(collection.aliases_of(target).iter().map(|a| a.to_string()))
            .collect();
        // A Shapefile written by `landbank export` (or cut by GDAL) names long fields in 10 characters.
        let short = shapefile_names.iter().find(|(_, p)| p == target).map(|(f, _)| f.as_str());
        if let Some(source) =
            wanted.iter().find_map(|w| source_fields.iter().find(|f| normal(f) == *w)).or_else(|| {
                let short = short.filter(|s| *s != target)?;
                source_fields.iter().find(|f| f.eq_ignore_ascii_case(short))
            })
            && !mapping.values().any(|v| v == source)
        {
            mapping.insert(target.to_string(), source.clone());
        }
    }
    Ok((mapping, set))
}

/// The transformation from the layer's coordinates to WGS 84 and the CRS's label (`EPSG:9209`):
/// `--srs` wins, then the file's own CRS; none at all is accepted only for coordinates in degrees.
fn source_crs(
    options: &ImportOptions,
    layer: &gdal::vector::Layer<'_>,
    layer_name: &str,
) -> Result<(CoordTransform, String), String> {
    let mut target_srs = SpatialRef::from_epsg(4326).map_err(|e| e.to_string())?;
    target_srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut source_srs = match &options.srs {
        Some(text) => {
            let definition = crate::crs::resolve(text).map_err(|e| format!("--srs {text}: {e}"))?;
            Some(SpatialRef::from_definition(&definition).map_err(|e| {
                format!("--srs {text}: not a CRS GDAL knows ({e}); use EPSG:n or vn2000:<province>")
            })?)
        }
        None => layer.spatial_ref(),
    };
    if source_srs.is_none()
        && let Some(prj) = ["prj", "PRJ"].iter().map(|e| options.path.with_extension(e)).find(|p| p.exists())
    {
        return Err(format!(
            "{} is there but GDAL cannot read a CRS from it; fix it (export it again from the GIS), or say the CRS with --srs, e.g. --srs vn2000:bac-ninh",
            prj.display()
        ));
    }
    if source_srs.is_none() {
        let extent = layer.get_extent().ok();
        let degrees =
            extent.is_none_or(|e| e.MinX >= -180.0 && e.MaxX <= 180.0 && e.MinY >= -90.0 && e.MaxY <= 90.0);
        if !degrees {
            let e = extent.expect("checked");
            return Err(format!(
                "layer {layer_name} does not say its CRS and its coordinates (x {:.0}…{:.0}, y {:.0}…{:.0}) are projected \
                 metres, not degrees. Say which CRS they are in, e.g. --srs vn2000:bac-ninh (`landbank crs list` shows \
                 every province's VN-2000 TM-3 zone) or --srs EPSG:9209; or add the .prj the file came with",
                e.MinX, e.MaxX, e.MinY, e.MaxY
            ));
        }
        source_srs = Some(target_srs.clone());
    }
    let mut source_srs = source_srs.expect("set above");
    source_srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut source_crs = crate::crs::srs_label(&source_srs);
    if source_crs.starts_with("unnamed") || !source_crs.contains(':') {
        let mut guess = source_srs.clone();
        if guess.auto_identify_epsg().is_ok() {
            source_crs = crate::crs::srs_label(&guess);
        }
    }
    let transform = CoordTransform::new(&source_srs, &target_srs)
        .map_err(|e| format!("cannot transform {source_crs} to WGS 84 ({e})"))?;
    Ok((transform, source_crs))
}

/// Reads and checks a file (blocking: GDAL). Returns the records ready to write and the report.
pub fn read(
    options: &ImportOptions,
    zone_provinces: &HashMap<String, String>,
) -> Result<(Vec<NewFeature>, ImportReport), ImportError> {
    let file = options.path.display().to_string();
    let fail = |reason: String| ImportError::File { file: file.clone(), reason };
    let collection = options.collection;
    let mut text_decoding = TextDecoding::from_option(options.encoding.as_deref());
    let dbf = options
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("shp") || e.eq_ignore_ascii_case("dbf"));
    // A Shapefile's own declaration: the `.cpg` (in any of the spellings ArcGIS, MapInfo and QGIS
    // write), decoded by landbank; without one, the text is detected.
    let mut declared_note = None;
    // MapInfo TAB/MIF: the header's charset. GDAL 3.6 knows no iconv name for WindowsVietnamese and
    // passes its bytes through, as it does for Neutral: landbank decodes them itself.
    let mapinfo = options
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tab") || e.eq_ignore_ascii_case("mif"));
    if mapinfo && matches!(text_decoding, TextDecoding::Gdal(None)) {
        match mapinfo_charset(&options.path).as_deref() {
            Some("WindowsVietnamese") => {
                declared_note = Some("CP1258 (from the MapInfo charset WindowsVietnamese)".into());
                text_decoding = TextDecoding::Raw(Decoder::Vietnamese(crate::vnenc::VnEncoding::Windows1258));
            }
            Some("Neutral") | None => text_decoding = TextDecoding::Auto,
            Some(_) => {}
        }
    }
    if dbf && matches!(text_decoding, TextDecoding::Gdal(None)) {
        text_decoding = match cpg_decoder(&options.path).map_err(fail)? {
            Some((decoder, note)) => {
                declared_note = Some(note);
                TextDecoding::Raw(decoder)
            }
            // No .cpg: the DBF's language-driver byte decides when it names a code page of its own
            // script (Cyrillic, Greek, CJK, …); one naming Windows-1252 or a DOS Latin page is what
            // Vietnamese TCVN3 and VNI files routinely carry whatever their text, so it is detected.
            None => match language_driver(&options.path) {
                Some((ldid, Some(decoder))) => {
                    declared_note = Some(format!(
                        "{} (from the DBF's language-driver byte 0x{ldid:02X})",
                        decoder.name()
                    ));
                    TextDecoding::Raw(decoder)
                }
                _ => TextDecoding::Auto,
            },
        };
    }
    // Shapefiles: landbank decodes the raw DBF bytes itself (`ENCODING=` stops GDAL recoding), for the
    // Vietnamese legacy encodings GDAL does not know and because GDAL 3.6's iconv drops the last letter
    // of CP1258 values and field names. Encodings only GDAL knows are passed to it.
    let open_options: Vec<String> = match (&text_decoding, dbf) {
        (TextDecoding::Gdal(Some(label)), _) => vec![format!("ENCODING={label}")],
        (TextDecoding::Gdal(None), _) | (_, false) => Vec::new(),
        (_, true) => vec!["ENCODING=".into()],
    };
    let open_refs: Vec<&str> = open_options.iter().map(String::as_str).collect();
    let dataset = Dataset::open_ex(
        &options.path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            open_options: (!open_refs.is_empty()).then_some(&open_refs),
            ..Default::default()
        },
    )
    .map_err(|e| fail(format!("GDAL cannot read it as vector data ({e}); check the path and the format")))?;
    let names: Vec<String> = dataset.layers().map(|l| l.name()).collect();
    let mut layer = match &options.layer {
        Some(name) => dataset
            .layer_by_name(name)
            .map_err(|_| fail(format!("no layer '{name}'; the file has: {}", names.join(", "))))?,
        None if names.len() == 1 => dataset.layer(0).map_err(|e| fail(e.to_string()))?,
        None => {
            return Err(fail(format!(
                "it has {} layers; choose one with --layer: {}",
                names.len(),
                names.join(", ")
            )));
        }
    };
    let layer_name = layer.name();
    // CAD drawings mix parcel outlines with texts, points and open lines: those are skipped, not errors.
    let cad = matches!(dataset.driver().short_name().as_str(), "DXF" | "DGN" | "CAD");
    let (decoding, encoding_note) = match &text_decoding {
        TextDecoding::Gdal(label) => (None, label.as_ref().map(|l| format!("{l} (decoded by GDAL)"))),
        TextDecoding::Raw(d) => {
            (Some(*d), Some(declared_note.clone().unwrap_or_else(|| d.name().to_string())))
        }
        TextDecoding::Auto => {
            let samples = sample_text(&mut layer, cad, 400);
            let refs: Vec<&[u8]> = samples.iter().map(Vec::as_slice).collect();
            let detection = crate::vnenc::detect(&refs);
            (
                Some(Decoder::Vietnamese(detection.encoding)),
                Some(format!("{} (auto: {})", detection.encoding.name(), detection.reason)),
            )
        }
    };
    // Field names are decoded like values (GDAL's CP1258 recoding cuts their last letter too).
    let source_fields: Vec<String> = match decoding {
        Some(decoder) => raw_field_names(&layer).iter().map(|n| decoder.decode(n)).collect(),
        None => layer.defn().fields().map(|f| f.name()).collect(),
    };
    let field_index: HashMap<&str, usize> =
        source_fields.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();

    let (mapping, set) = field_mapping(options, &layer_name, &source_fields).map_err(fail)?;
    let (transform, source_crs) = source_crs(options, &layer, &layer_name).map_err(fail)?;

    let stem = options.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut report = ImportReport {
        file: file.clone(),
        layer: layer_name.clone(),
        collection: collection.id.into(),
        source_crs: source_crs.clone(),
        mapping: mapping.clone(),
        encoding: encoding_note,
        dry_run: options.dry_run,
        ..Default::default()
    };
    let total = layer.feature_count();
    let progress = indicatif::ProgressBar::new(total);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:30} {pos}/{len} features, {per_sec} ({eta} left)",
        )
        .expect("valid template"),
    );
    progress.set_message(format!("reading {stem}"));
    // GDAL reads, maps fields and reprojects on this thread; the other cores validate geometry, measure
    // it and check the fields (`settle`), a chunk of features at a time, while the next chunk is read.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).saturating_sub(1).max(1);
    let fix = options.fix;
    let worker_stopped =
        || fail("a validation worker stopped; nothing was written (please report this file)".into());
    let settled = std::thread::scope(|scope| -> Result<Vec<Vec<Settled>>, ImportError> {
        let (to_workers, chunks) = std::sync::mpsc::sync_channel::<(usize, Vec<Pending>)>(2 * workers);
        // The workers share the receiving end: when the last one stops (a panic), it goes, and the
        // reader's next send fails instead of waiting for ever.
        let chunks = std::sync::Arc::new(std::sync::Mutex::new(chunks));
        let (to_reader, results) = std::sync::mpsc::channel::<(usize, Vec<Settled>)>();
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (chunks, to_reader, source_crs) =
                    (chunks.clone(), to_reader.clone(), source_crs.as_str());
                scope.spawn(move || {
                    // The lock is held only to take the next chunk; the reader closing its end ends the
                    // loop.
                    while let Ok((k, chunk)) =
                        chunks.lock().map_err(|_| ()).and_then(|c| c.recv().map_err(|_| ()))
                    {
                        let settled =
                            chunk.into_iter().map(|p| settle(p, collection, fix, source_crs)).collect();
                        if to_reader.send((k, settled)).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop((chunks, to_reader));
        let read = (|| -> Result<usize, ImportError> {
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut sent = 0;
            let mut seen = HashSet::new();
            for (index, feature) in layer.features().enumerate() {
                progress.inc(1);
                let row = index + 1;
                report.read += 1;
                if cad && collection.spatial && feature.geometry().is_none_or(is_cad_annotation) {
                    report.skipped += 1;
                    continue;
                }
                let mut props = Map::new();
                let mut id_value = None;
                for (target, source) in &mapping {
                    let value = match field_index.get(source.as_str()).copied().ok_or(()) {
                        Ok(idx) => match (field_value(&feature, idx), &decoding) {
                            (Some(FieldValue::StringValue(_)), Some(decoder)) => {
                                Some(FieldValue::StringValue(decoder.decode(&raw_bytes(&feature, idx, cad))))
                            }
                            (value, _) => value,
                        },
                        // `FID` without a field of that name: the feature's own number (DGN elements have no code).
                        Err(()) if source == FID => {
                            feature.fid().map(|f| FieldValue::Integer64Value(f as i64))
                        }
                        Err(()) => return Err(fail(format!("layer {layer_name} has no field '{source}'"))),
                    };
                    if target == "id" {
                        id_value = value
                            .and_then(|v| json_value(v, FieldKind::Text))
                            .and_then(|v| v.as_str().map(String::from));
                        continue;
                    }
                    let kind = collection.field(target).map(|f| f.kind).unwrap_or(FieldKind::Text);
                    if let Some(v) = value.and_then(|v| json_value(v, kind)) {
                        props.insert(target.clone(), v);
                    }
                }
                for (name, text) in &set {
                    let field = collection.field(name).expect("checked above");
                    props.insert(name.to_string(), constant(field, text));
                }
                // Day-first dates and Vietnamese labels, as boards write them.
                crate::ingest::file_conventions(collection, &mut props);
                let zone = props.get("zone_code").and_then(Value::as_str).map(str::to_string);
                let needs_province = collection.province_from_zone() && !props.contains_key("province_code");
                if let (true, Some(z)) = (needs_province, &zone)
                    && let Some(p) = zone_provinces.get(z)
                {
                    props.insert("province_code".into(), Value::String(p.clone()));
                }
                let id = id_value
                    .or_else(|| (collection.natural_id)(&props))
                    .unwrap_or_else(|| format!("{stem}-{row}"));
                let mut problems = Vec::new();
                let mut problem = |field: Option<&str>, message: String| {
                    problems.push(Problem { row, id: id.clone(), field: field.map(str::to_string), message })
                };
                if !seen.insert(id.clone()) {
                    problem(None, format!("id '{id}' appears twice in the file"));
                }
                if let Err(e) = crate::rules::check_id(&id) {
                    problem(Some("id"), e);
                }
                if let (Some(z), true) = (&zone, collection.field("zone_code").is_some())
                    && !zone_provinces.contains_key(z)
                {
                    problem(
                        Some("zone_code"),
                        format!("zone '{z}' is not in the store; import the zones first"),
                    );
                }
                let geometry = match (feature.geometry(), collection.spatial) {
                    (_, false) => None,
                    (None, true) => {
                        if collection.requires_geometry() {
                            problem(None, "has no geometry".into());
                        }
                        None
                    }
                    (Some(g), true) => Some(reprojected(g, &transform)),
                };
                chunk.push(Pending { row, id, props, geometry, problems });
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    to_workers.send((sent, full)).map_err(|_| worker_stopped())?;
                    sent += 1;
                }
            }
            if !chunk.is_empty() {
                to_workers.send((sent, chunk)).map_err(|_| worker_stopped())?;
                sent += 1;
            }
            Ok(sent)
        })();
        drop(to_workers);
        let mut done: Vec<(usize, Vec<Settled>)> = results.iter().collect();
        // Joined here, a worker that panicked fails the import with a message (nothing is written yet)
        // instead of taking the command down.
        let stopped = handles.into_iter().map(|h| h.join()).filter(Result::is_err).count();
        let sent = read?;
        if stopped > 0 || done.len() != sent {
            return Err(worker_stopped());
        }
        done.sort_unstable_by_key(|(k, _)| *k);
        Ok(done.into_iter().map(|(_, chunk)| chunk).collect())
    })?;
    progress.finish_and_clear();
    // In the file's order, as read.
    let mut records = Vec::with_capacity(report.read as usize);
    for s in settled.into_iter().flatten() {
        report.problems.extend(s.problems);
        report.repaired.extend(s.repaired);
        if let Some(record) = s.record {
            report.area_ha += s.area_ha;
            records.push(record);
        }
    }
    Ok((records, report))
}

/// Features handed to a validation worker at a time.
const CHUNK: usize = 1024;

/// A feature as the reader leaves it: its fields mapped, its geometry reprojected to WGS 84 (or why it
/// could not be), the problems found so far.
struct Pending {
    row: usize,
    id: String,
    props: Map<String, Value>,
    /// `None`: the feature has no geometry, or the collection none.
    geometry: Option<Result<geojson::Geometry, String>>,
    problems: Vec<Problem>,
}

/// A feature once validated: the record to write (none when a problem stops it), its geodesic area in
/// hectares, its id when `--fix` repaired it, and every problem it has, in the order found.
struct Settled {
    record: Option<NewFeature>,
    area_ha: f64,
    repaired: Option<String>,
    problems: Vec<Problem>,
}

/// Checks a feature's fields against the collection and its geometry's validity, and measures it (runs on
/// a validation worker: no GDAL dataset is touched, only GDAL's MakeValid with `fix`).
fn settle(pending: Pending, collection: &'static Collection, fix: bool, source_crs: &str) -> Settled {
    let Pending { row, id, props, geometry, mut problems } = pending;
    let mut problem = |field: Option<&str>, message: String| {
        problems.push(Problem { row, id: id.clone(), field: field.map(str::to_string), message })
    };
    let properties = match canonical_properties(collection, props) {
        Ok(p) => Some(p),
        Err(e) => {
            let message = if e.missing {
                format!(
                    "{e}: map it from a field of the file with --map FIELD=SOURCE, or give it with --set FIELD=VALUE"
                )
            } else {
                e.to_string()
            };
            problem(e.field.as_deref(), message);
            None
        }
    };
    let (mut area_ha, mut repaired) = (0.0, None);
    let geometry = match geometry.map(|g| g.and_then(|g| validated(&g, fix))) {
        None => None,
        Some(Ok((mp, ha, was_repaired))) => {
            area_ha = ha;
            repaired = was_repaired.then(|| id.clone());
            Some(mp)
        }
        Some(Err(e)) => {
            problem(Some("geometry"), e);
            None
        }
    };
    let record = match (properties, geometry.is_some() || !collection.requires_geometry()) {
        (Some(properties), true) => {
            Some(NewFeature { id, properties, geometry, source_crs: source_crs.to_string() })
        }
        _ => None,
    };
    Settled { record, area_ha, repaired, problems }
}

/// How attribute text is turned into Unicode (`--encoding`).
#[derive(Debug, Clone)]
enum TextDecoding {
    /// GDAL decodes: from the file's own declaration (`.cpg`, code page), or the label given (only
    /// GDAL knows it).
    Gdal(Option<String>),
    /// Detect from a sample of values (`--encoding auto`).
    Auto,
    /// landbank decodes the raw bytes.
    Raw(Decoder),
}

/// A decoder of raw attribute bytes.
#[derive(Debug, Clone, Copy)]
enum Decoder {
    /// UTF-8, Windows-1258, TCVN3 (ABC) or VNI.
    Vietnamese(crate::vnenc::VnEncoding),
    /// Any other encoding `encoding_rs` knows (e.g. Windows-1252).
    Other(&'static encoding_rs::Encoding),
}

impl Decoder {
    fn decode(self, bytes: &[u8]) -> String {
        match self {
            Decoder::Vietnamese(e) => e.decode(bytes),
            Decoder::Other(e) => e.decode_without_bom_handling(bytes).0.nfc().collect(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Decoder::Vietnamese(e) => e.name(),
            Decoder::Other(e) => e.name(),
        }
    }
}

impl TextDecoding {
    fn from_option(label: Option<&str>) -> Self {
        let Some(label) = label.map(str::trim).filter(|l| !l.is_empty()) else {
            return TextDecoding::Gdal(None);
        };
        if label.eq_ignore_ascii_case("auto") {
            return TextDecoding::Auto;
        }
        if let Some(e) = crate::vnenc::VnEncoding::from_label(label) {
            return TextDecoding::Raw(Decoder::Vietnamese(e));
        }
        match encoding_rs::Encoding::for_label(label.as_bytes()) {
            Some(e) => TextDecoding::Raw(Decoder::Other(e)),
            None => TextDecoding::Gdal(Some(label.to_string())),
        }
    }
}

/// The field names of a layer as the file holds them (a Shapefile opened with `ENCODING=`: DBF bytes).
fn raw_field_names(layer: &gdal::vector::Layer<'_>) -> Vec<Vec<u8>> {
    use gdal::vector::LayerAccess;
    // SAFETY: the layer is alive for the call; GDAL owns the definition and the names, which are copied
    // at once; indexes come from the definition's own count.
    unsafe {
        let defn = gdal_sys::OGR_L_GetLayerDefn(layer.c_layer());
        let count = gdal_sys::OGR_FD_GetFieldCount(defn);
        (0..count)
            .map(|i| {
                let field = gdal_sys::OGR_FD_GetFieldDefn(defn, i);
                let name = gdal_sys::OGR_Fld_GetNameRef(field);
                if name.is_null() { Vec::new() } else { std::ffi::CStr::from_ptr(name).to_bytes().to_vec() }
            })
            .collect()
    }
}

/// The charset a MapInfo TAB or MIF header declares (`!charset X` or `Charset "X"`).
fn mapinfo_charset(path: &std::path::Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
    head.lines().find_map(|line| {
        let line = line.trim();
        let lower = line.to_ascii_lowercase();
        let rest = if lower.starts_with("!charset") || lower.starts_with("charset") {
            line.split_once(|c: char| c.is_whitespace()).map(|(_, r)| r)?
        } else {
            return None;
        };
        Some(rest.trim().trim_matches('"').to_string()).filter(|c| !c.is_empty())
    })
}

/// The language-driver byte of a Shapefile's DBF (offset 29), and the decoder of the code page it names
/// when that page is one of a script of its own (a Latin page says little: Vietnamese legacy files carry
/// 0x57, Windows-1252, whatever their text). `None` without a DBF or a byte.
fn language_driver(shp: &std::path::Path) -> Option<(u8, Option<Decoder>)> {
    use std::io::Read;
    let dbf = ["dbf", "DBF"].iter().map(|e| shp.with_extension(e)).find(|p| p.exists())?;
    let mut header = [0u8; 32];
    std::fs::File::open(dbf).ok()?.read_exact(&mut header).ok()?;
    let ldid = header[29];
    // ESRI's table of language drivers, for the code pages of other scripts.
    let page = match ldid {
        0x64 | 0xC8 => "windows-1250",
        0x65 | 0x66 | 0xC9 => "windows-1251",
        0xCB | 0x6A => "windows-1253",
        0x6B | 0xCA => "windows-1254",
        0xCC => "windows-1257",
        0x7D => "windows-1255",
        0x7E => "windows-1256",
        0x4D | 0x7A => "gbk",
        0x4E | 0x79 => "euc-kr",
        0x4F | 0x78 => "big5",
        0x13 | 0x7B => "shift_jis",
        0x50 | 0x7C => "windows-874",
        _ => return (ldid != 0).then_some((ldid, None)),
    };
    Some((ldid, encoding_rs::Encoding::for_label(page.as_bytes()).map(Decoder::Other)))
}

/// The decoder a Shapefile's `.cpg` names, with a note saying so; `Ok(None)` without a `.cpg` (or an
/// empty one); an error naming the file for a code page landbank does not know.
fn cpg_decoder(shp: &std::path::Path) -> Result<Option<(Decoder, String)>, String> {
    let Some(cpg) = ["cpg", "CPG", "Cpg"].iter().map(|e| shp.with_extension(e)).find(|p| p.exists()) else {
        return Ok(None);
    };
    let bytes = std::fs::read(&cpg).map_err(|e| format!("{}: cannot be read ({e})", cpg.display()))?;
    let label = String::from_utf8_lossy(&bytes).trim().to_string();
    if label.is_empty() {
        return Ok(None);
    }
    match code_page(&label) {
        Some(decoder) => Ok(Some((decoder, format!("{} (from the .cpg: '{label}')", decoder.name())))),
        None => Err(format!(
            "{} names the code page '{label}', which landbank does not know; say how the text is encoded with \
             --encoding (utf-8, cp1258, tcvn3, vni, auto, or a label such as windows-1252)",
            cpg.display()
        )),
    }
}

/// A code page as `.cpg` files spell it: `1258`, `CP1258`, `windows-1258`, `ANSI 1258`, `UTF-8`, `65001`,
/// `88591`, `TCVN3`, … (case, spaces and dashes do not matter).
fn code_page(label: &str) -> Option<Decoder> {
    use crate::vnenc::VnEncoding;
    if let Some(e) = VnEncoding::from_label(label) {
        return Some(Decoder::Vietnamese(e));
    }
    let compact: String = label.to_ascii_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    let digits = compact.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    match digits {
        "65001" | "8" if compact.starts_with("utf") || digits == "65001" => {
            return Some(Decoder::Vietnamese(VnEncoding::Utf8));
        }
        "1258" => return Some(Decoder::Vietnamese(VnEncoding::Windows1258)),
        _ => {}
    }
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let candidates = match digits.strip_prefix("8859") {
            Some(part) => vec![format!("iso-8859-{part}")],
            None => vec![format!("windows-{digits}"), format!("cp{digits}"), format!("ibm{digits}")],
        };
        if let Some(e) = candidates.iter().find_map(|c| encoding_rs::Encoding::for_label(c.as_bytes())) {
            return Some(Decoder::Other(e));
        }
    }
    encoding_rs::Encoding::for_label(label.trim().as_bytes()).map(Decoder::Other)
}

/// Up to `limit` non-ASCII raw string values of the layer, for `--encoding auto`; reads from the start
/// and rewinds the layer.
fn sample_text(layer: &mut gdal::vector::Layer<'_>, cad: bool, limit: usize) -> Vec<Vec<u8>> {
    let mut samples = Vec::new();
    let count = layer.defn().fields().count();
    for feature in layer.features().take(20_000) {
        for idx in 0..count {
            if let Some(FieldValue::StringValue(_)) = field_value(&feature, idx) {
                let bytes = raw_bytes(&feature, idx, cad);
                if !bytes.is_ascii() {
                    samples.push(bytes);
                }
            }
        }
        if samples.len() >= limit {
            break;
        }
    }
    layer.reset_feature_reading();
    samples
}

/// A field's value; `None` when the feature leaves it unset or null. (The gdal crate checks only null:
/// an unset field — a blank cell of a spreadsheet's number column — would read as 0.)
fn field_value(feature: &gdal::vector::Feature<'_>, idx: usize) -> Option<FieldValue> {
    // SAFETY: the feature is alive for the call and `idx` came from its own definition.
    let set = unsafe { gdal_sys::OGR_F_IsFieldSetAndNotNull(feature.c_feature(), idx as std::ffi::c_int) };
    if set == 0 {
        return None;
    }
    feature.field(idx).ok().flatten()
}

/// A string field's bytes as the file holds them: a Shapefile opened with `ENCODING=` gives its DBF
/// bytes; CSV gives its bytes. CAD drivers recode text from the drawing's code page (usually
/// Windows-1252, also for TCVN3 and VNI fonts) to UTF-8: that is undone when it can be done exactly.
fn raw_bytes(feature: &gdal::vector::Feature<'_>, idx: usize, cad: bool) -> Vec<u8> {
    // SAFETY: the feature is alive for the call, `idx` came from its own definition, and GDAL returns a
    // NUL-terminated string it owns until the next call on the feature; the bytes are copied at once.
    let bytes = unsafe {
        let raw = gdal_sys::OGR_F_GetFieldAsString(feature.c_feature(), idx as std::ffi::c_int);
        if raw.is_null() {
            return Vec::new();
        }
        std::ffi::CStr::from_ptr(raw).to_bytes().to_vec()
    };
    if cad && let Ok(text) = std::str::from_utf8(&bytes) {
        let (legacy, _, lossy) = encoding_rs::WINDOWS_1252.encode(text);
        if !lossy {
            return legacy.into_owned();
        }
    }
    bytes
}

/// A feature's geometry reprojected to WGS 84, as GeoJSON (closed CAD lines as the polygons they draw).
fn reprojected(g: &Geometry, transform: &CoordTransform) -> Result<geojson::Geometry, String> {
    let mut g = g.transform(transform).map_err(|e| format!("cannot reproject: {e}"))?;
    g.flatten_to_2d();
    let geometry = match to_geojson(&g) {
        Some(geometry) => geometry,
        None => g.json().map_err(|e| e.to_string())?.parse().map_err(|e: geojson::Error| e.to_string())?,
    };
    Ok(closed_lines_as_polygons(geometry))
}

/// A reprojected geometry validated, with its geodesic area in hectares; repaired with GDAL's MakeValid
/// when `fix` (and says so).
fn validated(geometry: &geojson::Geometry, fix: bool) -> Result<(geo::MultiPolygon, f64, bool), String> {
    match spatial::parse_polygonal_measured(geometry) {
        Ok((mp, ha)) => Ok((mp, ha, false)),
        Err(e) if fix => {
            let g = Geometry::from_geojson(&geometry.to_string())
                .map_err(|m| format!("{e}; MakeValid failed: {m}"))?;
            let repaired =
                g.make_valid(&Default::default()).map_err(|m| format!("{e}; MakeValid failed: {m}"))?;
            // MakeValid may return a collection; keep its polygons.
            let json = repaired.json().map_err(|e| e.to_string())?;
            let geometry: geojson::Geometry = json.parse().map_err(|e: geojson::Error| e.to_string())?;
            let polygons: Vec<geo::Polygon> = match geometry.value {
                geojson::GeometryValue::GeometryCollection { geometries } => geometries
                    .into_iter()
                    .filter(|g| {
                        matches!(
                            g.value,
                            geojson::GeometryValue::Polygon { .. }
                                | geojson::GeometryValue::MultiPolygon { .. }
                        )
                    })
                    .filter_map(|g| spatial::parse_polygonal(&g).ok())
                    .flat_map(|m| m.0)
                    .collect(),
                _ => {
                    spatial::parse_polygonal(&geometry).map_err(|e2| format!("{e}; after MakeValid: {e2}"))?.0
                }
            };
            if polygons.is_empty() {
                return Err(format!("{e}; MakeValid left no polygon"));
            }
            let mp = geo::MultiPolygon(polygons);
            let ha = spatial::area_ha(&mp);
            Ok((mp, ha, true))
        }
        Err(e) => Err(format!("{e} (--fix repairs what GDAL's MakeValid can)")),
    }
}

/// A GDAL (multi)polygon or (multi)linestring as GeoJSON, read point by point (no text in between:
/// a third of an import's reading time went to writing and parsing GeoJSON text); `None` for other
/// types, which take the text path.
fn to_geojson(g: &Geometry) -> Option<geojson::Geometry> {
    use gdal::vector::OGRwkbGeometryType as T;
    use geojson::GeometryValue;
    let mut points = Vec::new();
    let mut line = |g: &Geometry| -> Vec<geojson::Position> {
        points.clear();
        g.get_points(&mut points);
        points.iter().map(|&(x, y, _)| geojson::Position::from(vec![x, y])).collect()
    };
    let value = match gdal::vector::geometry_type_flatten(g.geometry_type()) {
        T::wkbPolygon => GeometryValue::Polygon {
            coordinates: (0..g.geometry_count()).map(|i| line(&g.get_geometry(i))).collect(),
        },
        T::wkbMultiPolygon => GeometryValue::MultiPolygon {
            coordinates: (0..g.geometry_count())
                .map(|p| {
                    let polygon = g.get_geometry(p);
                    (0..polygon.geometry_count()).map(|r| line(&polygon.get_geometry(r))).collect()
                })
                .collect(),
        },
        T::wkbLineString => GeometryValue::LineString { coordinates: line(g) },
        T::wkbMultiLineString => GeometryValue::MultiLineString {
            coordinates: (0..g.geometry_count()).map(|i| line(&g.get_geometry(i))).collect(),
        },
        _ => return None,
    };
    Some(geojson::Geometry::new(value))
}

/// CAD drawings (DXF, DGN) draw parcels as closed polylines: a line whose last point is its first is
/// read as the polygon it encloses. Anything else is returned as it came.
fn closed_lines_as_polygons(geometry: geojson::Geometry) -> geojson::Geometry {
    use geojson::GeometryValue;
    let closed = |line: &Vec<geojson::Position>| line.len() >= 4 && line.first() == line.last();
    let value = match geometry.value {
        GeometryValue::LineString { coordinates } if closed(&coordinates) => {
            GeometryValue::Polygon { coordinates: vec![coordinates] }
        }
        GeometryValue::MultiLineString { coordinates } if coordinates.iter().all(closed) => {
            GeometryValue::MultiPolygon { coordinates: coordinates.into_iter().map(|l| vec![l]).collect() }
        }
        other => other,
    };
    geojson::Geometry::new(value)
}

/// Whether a CAD feature is something other than a parcel outline: a point, a text, an open line.
fn is_cad_annotation(g: &Geometry) -> bool {
    use gdal::vector::OGRwkbGeometryType as T;
    use geojson::GeometryValue;
    if matches!(
        gdal::vector::geometry_type_flatten(g.geometry_type()),
        T::wkbCurvePolygon | T::wkbMultiSurface
    ) {
        return false;
    }
    !matches!(
        to_geojson(g).map(|g| closed_lines_as_polygons(g).value),
        Some(GeometryValue::Polygon { .. } | GeometryValue::MultiPolygon { .. })
    )
}

/// Records whose geometry lies outside their zone's boundary (beyond [`rules::outside`]'s tolerance).
fn outside_zones(
    records: &[NewFeature],
    zones: &HashMap<String, geo::MultiPolygon>,
) -> Vec<(String, String)> {
    use rayon::prelude::*;
    // On every core, in the file's order.
    records
        .par_iter()
        .filter_map(|r| {
            let g = r.geometry.as_ref()?;
            let zone = r.properties.get("zone_code").and_then(Value::as_str)?;
            let outside = crate::rules::outside(g, zones.get(zone)?)?;
            Some((r.id.clone(), format!("{outside:.4} ha of it lies outside zone {zone}")))
        })
        .collect()
}

/// Plots that overlap another plot of the file or of the store (beyond [`crate::rules::overlap`]'s
/// tolerance).
fn overlapping_plots(
    records: &[NewFeature],
    existing: &[(String, geo::MultiPolygon)],
) -> Vec<(String, String)> {
    use geo::BoundingRect;
    use rayon::prelude::*;
    use rstar::primitives::{GeomWithData, Rectangle};
    // Index every plot's box (the file's first, by their index in `records`, then the store's), so each
    // plot is compared with its neighbours only.
    let others: Vec<(usize, &str, &geo::MultiPolygon)> = records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, r.id.as_str(), r.geometry.as_ref()?)))
        .chain(existing.iter().enumerate().map(|(k, (id, g))| (records.len() + k, id.as_str(), g)))
        .collect();
    let boxed = |g: &geo::MultiPolygon| {
        g.bounding_rect().map(|r| Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]))
    };
    let tree = rstar::RTree::bulk_load(
        others
            .iter()
            .enumerate()
            .filter_map(|(n, (_, _, g))| Some(GeomWithData::new(boxed(g)?, n)))
            .collect(),
    );
    // On every core, in the file's order.
    let found: Vec<Vec<(String, String)>> = records
        .par_iter()
        .enumerate()
        .map(|(i, r)| {
            let mut out = Vec::new();
            let Some(g) = &r.geometry else { return out };
            let Some(rect) = boxed(g) else { return out };
            let mut neighbours: Vec<usize> = tree
                .locate_in_envelope_intersecting(&rstar::RTreeObject::envelope(&rect))
                .map(|n| n.data)
                .collect();
            neighbours.sort_unstable();
            for n in neighbours {
                let (j, other_id, other) = others[n];
                // Each pair of the file's plots is checked once, from its earlier plot.
                if j == i || (j < records.len() && j < i) {
                    continue;
                }
                if let Some(shared) = crate::rules::overlap(g, other) {
                    out.push((r.id.clone(), format!("overlaps plot {other_id} by {shared:.2} ha")));
                }
            }
            out
        })
        .collect();
    found.into_iter().flatten().collect()
}

/// Imports a file: reads and checks it, then writes every record in one transaction (unless a dry run
/// or problems). Returns the report; problems come back as [`ImportError::Problems`] with it.
pub async fn run(store: &Arc<dyn Store>, options: ImportOptions) -> Result<ImportReport, ImportError> {
    let mut zone_provinces = HashMap::new();
    for row in store.items(&collections::ZONES, &ItemsQuery::default()).await?.rows {
        let zone: crate::domain::Zone = row.parse("zones")?;
        zone_provinces.insert(zone.code, zone.province_code);
    }
    let file = options.path.display().to_string();
    let started = std::time::Instant::now();
    let (mut records, mut report) = tokio::task::spawn_blocking({
        let options = options.clone();
        let zone_provinces = zone_provinces.clone();
        move || read(&options, &zone_provinces)
    })
    .await
    .map_err(|e| ImportError::File { file: file.clone(), reason: format!("reader stopped: {e}") })??;
    tracing::debug!(
        features = records.len(),
        seconds = started.elapsed().as_secs_f64(),
        "import: read and parsed"
    );
    let on_projects =
        options.collection.checks(Check::ProjectDecision) || options.collection.checks(Check::KnownProject);
    if on_projects {
        zones_from_projects(store, &mut records, &zone_provinces).await?;
    }
    let started = std::time::Instant::now();
    // The checks against stored records and the write run in one transaction that holds the zones the
    // file touches: no edit or other import of those zones can slip in between.
    let zones: Vec<String> = records
        .iter()
        .filter_map(|r| options.collection.zone_of(&r.properties).map(str::to_string))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let actor =
        format!("import {}", options.path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default());
    let tx = store.begin_write(&zones).await?;
    let checked = async {
        let stored = check_against_store(store, &options, &records, &zones, &mut report).await?;
        if options.collection.checks(Check::KnownProject) {
            check_projects_known(store, &records, &mut report).await?;
        }
        let taken = if options.collection.checks(Check::ProjectDecision) {
            check_decisions(store, &records, options.update, &mut report, &actor).await?
        } else {
            Vec::new()
        };
        Ok::<_, ImportError>((stored, taken))
    };
    let (stored, taken) = match checked.await {
        Ok(checked) => checked,
        Err(e) => {
            tx.rollback().await;
            return Err(e);
        }
    };
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "import: checked against the store");
    // With problems nothing is written, dry run or not, and the command fails (exit status 1).
    if !report.problems.is_empty() {
        tx.rollback().await;
        let count = report.problems.len();
        return Err(ImportError::Problems { file, count, report: Box::new(report) });
    }
    if options.dry_run {
        tx.rollback().await;
        return Ok(report);
    }
    // With --update: stored records the file changes become replacements (a new version each), the
    // ones it repeats as they are stay untouched, the rest are new. Leases the file's terminations and
    // revocations end are replaced too.
    report.leases_ended = taken.len() as u64;
    let mut writes = taken;
    let mut records: Vec<NewFeature> = if stored.is_empty() {
        records
    } else {
        let mut new = Vec::with_capacity(records.len());
        for record in records {
            let Some(old) = stored.get(&record.id) else {
                new.push(record);
                continue;
            };
            let changed = changed_fields(options.collection, old, &record)?;
            if changed.is_empty() {
                report.unchanged += 1;
                continue;
            }
            let zone_of = |p| options.collection.zone_of(p).map(str::to_string);
            let zones: Vec<String> = zone_of(&old.properties)
                .into_iter()
                .chain(zone_of(&record.properties))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let expected = store.current_version(options.collection, &record.id).await?;
            writes.push(crate::store::history::Write {
                collection: options.collection,
                op: crate::store::history::Op::Replace,
                expected_version: expected,
                feature: record,
                actor: actor.clone(),
                changed,
                zones,
            });
        }
        new
    };
    if options.collection.checks(Check::ParentZone) {
        crate::ingest::parents_first(&mut records);
    }
    let started = std::time::Instant::now();
    report.updated = writes.len() as u64 - report.leases_ended;
    report.written = tx.write_and_insert_by(&writes, &[(options.collection, records)], &actor).await?;
    tracing::debug!(rows = report.written, seconds = started.elapsed().as_secs_f64(), "import: written");
    Ok(report)
}

/// The fields (and `geometry`) in which `record` differs from the stored `old` one; a field absent and a
/// field null are the same.
fn changed_fields(
    collection: &'static Collection,
    old: &FeatureRow,
    record: &NewFeature,
) -> Result<Vec<String>, ImportError> {
    let value =
        |p: &serde_json::Map<String, Value>, name: &str| p.get(name).filter(|v| !v.is_null()).cloned();
    let mut changed: Vec<String> = collection
        .fields
        .iter()
        .filter(|f| value(&old.properties, f.name) != value(&record.properties, f.name))
        .map(|f| f.name.to_string())
        .collect();
    if !same_geometry(old.multipolygon(collection.id)?.as_ref(), record.geometry.as_ref()) {
        changed.push("geometry".into());
    }
    Ok(changed)
}

/// Whether two geometries are the same to 1e-7° (about 1 cm, the precision records are kept at): the
/// stored copy of a file's coordinates differs from them in the last bits.
fn same_geometry(a: Option<&geo::MultiPolygon>, b: Option<&geo::MultiPolygon>) -> bool {
    use geo::CoordsIter;
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.0.len() == b.0.len()
                && a.coords_count() == b.coords_count()
                && a.coords_iter()
                    .zip(b.coords_iter())
                    .all(|(p, q)| (p.x - q.x).abs() < 1e-7 && (p.y - q.y).abs() < 1e-7)
        }
        _ => false,
    }
}

/// Decisions name only their project: their zone (for the write's locks and the province) is the
/// project's, read from the store.
async fn zones_from_projects(
    store: &Arc<dyn Store>,
    records: &mut [NewFeature],
    zone_provinces: &HashMap<String, String>,
) -> Result<(), ImportError> {
    let mut zone_of = HashMap::new();
    for row in named_projects(store, records).await? {
        if let Some(zone) = row.properties.get("zone_code").and_then(Value::as_str) {
            zone_of.insert(row.id.clone(), zone.to_string());
        }
    }
    for r in records.iter_mut() {
        let p = &mut r.properties;
        if p.get("zone_code").is_some_and(|z| !z.is_null()) {
            continue;
        }
        let Some(zone) = p.get("project_id").and_then(Value::as_str).and_then(|id| zone_of.get(id)).cloned()
        else {
            continue;
        };
        if p.get("province_code").is_none_or(Value::is_null)
            && let Some(province) = zone_provinces.get(&zone)
        {
            p.insert("province_code".into(), Value::String(province.clone()));
        }
        p.insert("zone_code".into(), Value::String(zone));
    }
    Ok(())
}

/// The project a record names.
fn project_of(record: &NewFeature) -> Option<&str> {
    record.properties.get("project_id").and_then(Value::as_str)
}

/// The stored projects that `records` name.
async fn named_projects(
    store: &Arc<dyn Store>,
    records: &[NewFeature],
) -> Result<Vec<crate::store::FeatureRow>, ImportError> {
    let ids: Vec<String> = records
        .iter()
        .filter_map(project_of)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    Ok(crate::store::rows_in(store, &collections::PROJECTS, "id", &ids).await?)
}

/// Records naming a project that is not stored are problems (inside the write's transaction).
async fn check_projects_known(
    store: &Arc<dyn Store>,
    records: &[NewFeature],
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let known: HashSet<String> = named_projects(store, records).await?.into_iter().map(|r| r.id).collect();
    for r in records {
        if let Some(p) = project_of(r).filter(|p| !known.contains(*p)) {
            report.problems.push(Problem {
                row: 0,
                id: r.id.clone(),
                field: Some("project_id".into()),
                message: format!("project_id '{p}' names no project; import the projects first"),
            });
        }
    }
    Ok(())
}

/// The rules an API edit applies to a decision on a project (see [`crate::register::check_decision`]),
/// applied to a file of them: against the project, its stored decisions and the file's other ones, and
/// its leases. Returns the writes that end the leases the file's terminations and revocations take back.
async fn check_decisions(
    store: &Arc<dyn Store>,
    records: &[NewFeature],
    update: bool,
    report: &mut ImportReport,
    actor: &str,
) -> Result<Vec<crate::store::history::Write>, ImportError> {
    use crate::domain::ProjectEvent;
    let mut file_events: Vec<(String, ProjectEvent)> = Vec::new();
    for r in records {
        if let Ok(e) = serde_json::from_value::<ProjectEvent>(Value::Object(r.properties.clone())) {
            file_events.push((r.id.clone(), e));
        }
    }
    let ids: std::collections::BTreeSet<String> =
        file_events.iter().map(|(_, e)| e.project_id.clone()).collect();
    let mut inputs = crate::register::decision_inputs(store, &ids.into_iter().collect::<Vec<_>>()).await?;
    // With --update, a corrected termination or revocation first gives back what it took (as an edit
    // does); the corrected decision then takes again, or the leases stay given back.
    let mut restored: Vec<String> = Vec::new();
    if update {
        let replaced: Vec<ProjectEvent> = file_events
            .iter()
            .filter_map(|(id, e)| {
                let stored = inputs.events.get(&e.project_id)?;
                stored.iter().find(|(sid, _)| sid == id).map(|(_, old)| old.clone())
            })
            .collect();
        for old in &replaced {
            restored.extend(crate::register::undo_taking(store, &mut inputs, old).await?);
        }
    }
    let file_ids: HashSet<&str> = file_events.iter().map(|(id, _)| id.as_str()).collect();
    let mut writes: Vec<crate::store::history::Write> = Vec::new();
    for (id, event) in &file_events {
        let stored = inputs.events.get(&event.project_id).into_iter().flatten();
        // With --update, the stored version of this decision is being corrected.
        let replacing = stored.clone().find(|(sid, _)| update && sid == id).map(|(_, e)| e);
        // The project's other decisions: stored ones (but those the file replaces) and the file's.
        let others: Vec<&ProjectEvent> = stored
            .filter(|(sid, _)| !(update && file_ids.contains(sid.as_str())))
            .map(|(_, e)| e)
            .chain(
                file_events
                    .iter()
                    .filter(|(fid, e)| fid != id && e.project_id == event.project_id)
                    .map(|(_, e)| e),
            )
            .collect();
        let held = inputs.leases.get(&event.project_id).map(Vec::as_slice).unwrap_or_default();
        match crate::register::check_decision(
            inputs.projects.get(&event.project_id),
            event,
            replacing,
            &others,
            held,
        ) {
            Err(e) => report.problems.push(Problem {
                row: 0,
                id: id.clone(),
                field: Some(e.field.to_string()),
                message: e.message,
            }),
            Ok(taken) => {
                // A lease two decisions of the file take back is ended once, by the first.
                let taken: Vec<_> =
                    taken.into_iter().filter(|(l, _)| !writes.iter().any(|w| &w.feature.id == l)).collect();
                writes.extend(crate::register::end_leases(store, &inputs, &taken, event, actor).await?);
            }
        }
    }
    let given_back: Vec<(String, crate::domain::Lease)> = inputs
        .leases
        .values()
        .flatten()
        .filter(|(id, _)| restored.contains(id) && !writes.iter().any(|w| &w.feature.id == id))
        .cloned()
        .collect();
    writes.extend(crate::register::rewrite_leases(store, &inputs, &given_back, actor).await?);
    Ok(writes)
}

/// The checks of a file's records against what is stored (read while the write transaction holds their
/// zones): inside their zone, plots not over other plots, ids not already taken. Adds problems to
/// `report`.
async fn check_against_store(
    store: &Arc<dyn Store>,
    options: &ImportOptions,
    records: &[NewFeature],
    zones: &[String],
    report: &mut ImportReport,
) -> Result<HashMap<String, FeatureRow>, ImportError> {
    // With --update, the stored versions of the file's records are compared with nothing: they are
    // being replaced.
    let replacing: HashSet<&str> =
        if options.update { records.iter().map(|r| r.id.as_str()).collect() } else { HashSet::new() };
    let in_zones = || Condition::In {
        field: options.collection.zone_key.unwrap_or("zone_code").into(),
        values: zones.iter().cloned().map(FilterValue::Text).collect(),
    };
    if options.collection.checks(Check::InsideZone) && !zones.is_empty() {
        let query = ItemsQuery {
            conditions: vec![Condition::In {
                field: "code".into(),
                values: zones.iter().cloned().map(FilterValue::Text).collect(),
            }],
            ..Default::default()
        };
        let mut boundaries = HashMap::new();
        for row in store.items(&collections::ZONES, &query).await?.rows {
            if let (Some(code), Some(g)) =
                (row.properties.get("code").and_then(Value::as_str), row.multipolygon("zones")?)
            {
                boundaries.insert(code.to_string(), g);
            }
        }
        for (id, message) in outside_zones(records, &boundaries) {
            report.problems.push(Problem { row: 0, id, field: Some("geometry".into()), message });
        }
    }
    if options.collection.checks(Check::NoOverlap) && !zones.is_empty() {
        let query = ItemsQuery { conditions: vec![in_zones()], ..Default::default() };
        let mut existing = Vec::new();
        for row in store.items(options.collection, &query).await?.rows {
            if let (false, Some(g)) =
                (replacing.contains(row.id.as_str()), row.multipolygon(options.collection.id)?)
            {
                existing.push((row.id.clone(), g));
            }
        }
        for (id, message) in overlapping_plots(records, &existing) {
            report.problems.push(Problem { row: 0, id, field: Some("geometry".into()), message });
        }
    }
    if options.collection.checks(Check::LeasedPlots) && !zones.is_empty() {
        check_leases(store, records, zones, &replacing, report).await?;
    }
    let mut stored = HashMap::new();
    // Ids already stored, asked in chunks: databases cap the values one statement may bind
    // (PostgreSQL 65,535; SQLite 32,766).
    for chunk in records.chunks(10_000) {
        let ids = chunk.iter().map(|r| FilterValue::Text(r.id.clone())).collect();
        let query = ItemsQuery {
            conditions: vec![Condition::In { field: "id".into(), values: ids }],
            ..Default::default()
        };
        for row in store.items(options.collection, &query).await?.rows {
            if !options.update {
                report.problems.push(Problem {
                    row: 0,
                    id: row.id.clone(),
                    field: None,
                    message: format!(
                        "{} '{}' is already in the store (--update replaces stored records)",
                        options.collection.id, row.id
                    ),
                });
            }
            stored.insert(row.id.clone(), row);
        }
    }
    Ok(stored)
}

/// The rules an API edit applies to a lease, applied to a file of them (the same functions, from
/// [`crate::rules`]): the dates its status needs, a project and plots that exist, on the zone's leasable
/// land when it starts, and no land held twice at the same time — by a stored lease or by another lease
/// of the file.
async fn check_leases(
    store: &Arc<dyn Store>,
    records: &[NewFeature],
    zones: &[String],
    replacing: &HashSet<&str>,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    use crate::domain::{LandUse, Lease};
    let in_zones = |field: &str| ItemsQuery {
        conditions: vec![Condition::In {
            field: field.into(),
            values: zones.iter().cloned().map(FilterValue::Text).collect(),
        }],
        ..Default::default()
    };
    let mut boundaries: HashMap<String, geo::MultiPolygon> = HashMap::new();
    for row in store.items(&collections::ZONES, &in_zones("code")).await?.rows {
        if let Some(g) = row.multipolygon("zones")? {
            boundaries.insert(row.id.clone(), g);
        }
    }
    let mut plans: HashMap<String, Vec<(LandUse, geo::MultiPolygon)>> = HashMap::new();
    for row in store.items(&collections::LAND_USE, &in_zones("zone_code")).await?.rows {
        if let Some(g) = row.multipolygon("land_use")? {
            let plan: LandUse = row.parse("land_use")?;
            plans.entry(plan.zone_code.clone()).or_default().push((plan, g));
        }
    }
    // Leases that hold land, stored and from the file, by zone: (id, lease, geometry).
    let mut holding: HashMap<String, Vec<(String, Lease, geo::MultiPolygon)>> = HashMap::new();
    for row in store.items(&collections::LEASES, &in_zones("zone_code")).await?.rows {
        let lease: Lease = row.parse("leases")?;
        let replaced = replacing.contains(row.id.as_str());
        if let (true, false, Some(g)) = (crate::rules::holds(&lease), replaced, row.multipolygon("leases")?) {
            holding.entry(lease.zone_code.clone()).or_default().push((row.id.clone(), lease, g));
        }
    }
    // Plots by (zone, code), as leases name them: a plot's id may be anything its file gave it.
    let text =
        |r: &FeatureRow, field: &str| r.properties.get(field).and_then(Value::as_str).map(str::to_string);
    let plots: HashSet<(String, String)> = store
        .items(&collections::PLOTS, &in_zones("zone_code"))
        .await?
        .rows
        .iter()
        .filter_map(|r| Some((text(r, "zone_code")?, text(r, "code")?)))
        .collect();
    let projects: HashSet<String> = named_projects(store, records).await?.into_iter().map(|r| r.id).collect();
    let mut problem = |id: &str, field: &str, message: String| {
        report.problems.push(Problem { row: 0, id: id.into(), field: Some(field.into()), message })
    };
    let mut leasable: HashMap<(String, crate::domain::Date), Option<geo::MultiPolygon>> = HashMap::new();
    for r in records {
        let Ok(lease) = serde_json::from_value::<Lease>(Value::Object(r.properties.clone())) else {
            continue;
        };
        if let Err((field, message)) = crate::rules::lease_dates(&lease) {
            problem(&r.id, field, message);
        }
        if let Some(p) = lease.project_id.as_ref().filter(|p| !projects.contains(*p)) {
            problem(
                &r.id,
                "project_id",
                format!("project_id '{p}' names no project; import the projects first"),
            );
        }
        for code in
            lease.plot_codes.iter().flat_map(|c| c.split(',')).map(str::trim).filter(|c| !c.is_empty())
        {
            if !plots.contains(&(lease.zone_code.clone(), code.to_string())) {
                problem(
                    &r.id,
                    "plot_codes",
                    format!("plot_codes: no plot {code} in zone {}", lease.zone_code),
                );
            }
        }
        let Some(g) = &r.geometry else { continue };
        if !crate::rules::holds(&lease) {
            continue;
        }
        let on = crate::rules::lease_day(&lease);
        let land = leasable.entry((lease.zone_code.clone(), on)).or_insert_with(|| {
            let plans = plans.get(&lease.zone_code).map(Vec::as_slice).unwrap_or_default();
            crate::rules::leasable_on(plans, boundaries.get(&lease.zone_code), on)
        });
        if let Some(off) = land.as_ref().and_then(|land| crate::rules::outside(g, land)) {
            problem(
                &r.id,
                "geometry",
                format!(
                    "{off:.4} ha of the lease is not leasable land (industrial or warehouse) of zone {} on {on}",
                    lease.zone_code
                ),
            );
        }
        let held = holding.entry(lease.zone_code.clone()).or_default();
        let by: Vec<String> = held
            .iter()
            .filter(|(id, other, og)| {
                *id != r.id
                    && crate::rules::periods_meet(other, &lease)
                    && crate::rules::overlap(g, og).is_some()
            })
            .map(|(id, _, _)| id.clone())
            .collect();
        if !by.is_empty() {
            problem(&r.id, "geometry", format!("the land is already held by lease(s) {}", by.join(", ")));
        }
        held.push((r.id.clone(), lease, g.clone()));
    }
    Ok(())
}

/// The report as lines a person reads.
pub fn describe(report: &ImportReport) -> String {
    let mut out = format!(
        "{} (layer {}) → {} · CRS {}\nfields: {}\n",
        report.file,
        report.layer,
        report.collection,
        report.source_crs,
        report.mapping.iter().map(|(t, s)| format!("{t} ← {s}")).collect::<Vec<_>>().join(", ")
    );
    if let Some(encoding) = &report.encoding {
        out.push_str(&format!("text encoding: {encoding}\n"));
    }
    // Problems of one kind (same field, same message up to its first quoted or numeric detail) are shown
    // three at a time, with how many more there are: a file with 40 times the same mistake says so once.
    let kind = |p: &Problem| {
        let head = p.message.split(|c: char| c == '\'' || c.is_ascii_digit()).next().unwrap_or_default();
        (p.field.clone(), head.to_string())
    };
    /// A field, and a message up to its first detail.
    type Kind = (Option<String>, String);
    let mut groups: Vec<(Kind, Vec<&Problem>)> = Vec::new();
    for p in &report.problems {
        let k = kind(p);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, members)) => members.push(p),
            None => groups.push((k, vec![p])),
        }
    }
    for (_, members) in &groups {
        for p in members.iter().take(3) {
            let row = if p.row > 0 { format!("row {}", p.row) } else { "check".into() };
            let field = p.field.as_deref().map(|f| format!(", field {f}")).unwrap_or_default();
            out.push_str(&format!(
                "  problem: {}: feature {} ({row}{field}): {}\n",
                report.file, p.id, p.message
            ));
        }
        if members.len() > 3 {
            out.push_str(&format!("  … and {} more problem(s) like these\n", members.len() - 3));
        }
    }
    for id in &report.repaired {
        out.push_str(&format!("  repaired: feature {id}: invalid geometry made valid by GDAL's MakeValid\n"));
    }
    if report.skipped > 0 {
        out.push_str(&format!(
            "  skipped {} feature(s) of the drawing that are not closed outlines (texts, points, open lines)\n",
            report.skipped
        ));
    }
    if report.leases_ended > 0 {
        out.push_str(&format!(
            "{} lease{} ended by the file's terminations and revocations (land taken back)\n",
            report.leases_ended,
            if report.leases_ended == 1 { "" } else { "s" }
        ));
    }
    out.push_str(&format!(
        "{}read {}, written {}{}, skipped {}, problems {}, repaired {}, area {:.2} ha\n",
        if report.dry_run { "dry run: nothing written; " } else { "" },
        report.read,
        report.written,
        if report.updated + report.unchanged > 0 {
            format!(" ({} replaced, {} unchanged and left alone)", report.updated, report.unchanged)
        } else {
            String::new()
        },
        report.skipped,
        report.problems.len(),
        report.repaired.len(),
        report.area_ha
    ));
    out
}

/// The collections `import` accepts.
pub fn importable(id: &str) -> Option<&'static Collection> {
    collections::editable(id)
}
