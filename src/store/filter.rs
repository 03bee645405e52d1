//! Filters on a collection's records: the typed expression that CQL2 (OGC API - Features Part 3) is
//! compiled to, written as SQL for both stores and evaluated in Rust on the same rows.
//!
//! Text and JSON CQL2 are parsed by the `cql2` crate into its expression tree; [`parse`] checks that
//! tree against the collection (every property a queryable, every literal of its field's type) and
//! builds a [`Filter`]. Values are always bound, never pasted into SQL.
//!
//! Both evaluations follow SQL's three-valued logic: a comparison with an empty (NULL) field is
//! *unknown*, `NOT unknown` is unknown, and only rows where the whole filter is true match.
//!
//! What SQL cannot say the same way in SQLite and PostgreSQL (spatial predicates, case- and
//! accent-insensitive comparison) is evaluated in Rust: in SQL such a part is replaced by a constant
//! that can only widen the result (TRUE where it counts positively, FALSE under a NOT), and the rows
//! that pass are tested exactly in Rust. A spatial predicate in a conjunction also narrows the rows read
//! to those whose bounding box meets the geometry's (the R*Tree or GiST index).

use std::borrow::Cow;

use geo::{BoundingRect, Distance, Euclidean, Rect, Relate};
use serde_json::Value;

use super::FeatureRow;
use super::sql::{Bind, Binder, Dialect};
use crate::collections::{Collection, Field, FieldKind, FilterValue};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn sql(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Ne => "<>",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }

    fn holds(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Cmp::Eq => o == Equal,
            Cmp::Ne => o != Equal,
            Cmp::Lt => o == Less,
            Cmp::Le => o != Greater,
            Cmp::Gt => o == Greater,
            Cmp::Ge => o != Less,
        }
    }

    /// The operator with its operands swapped (`5 < x` is `x > 5`).
    fn flipped(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            other => other,
        }
    }
}

/// How text is compared: CQL2's `CASEI` (case-insensitive) and `ACCENTI` (accent-insensitive, so that
/// `Yen Phong` finds `Yên Phong` and `Đình Vũ` is found as `dinh vu`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fold {
    pub case: bool,
    pub accent: bool,
}

impl Fold {
    fn any(self) -> bool {
        self.case || self.accent
    }

    /// `text` as compared under this fold.
    pub fn apply(self, text: &str) -> Cow<'_, str> {
        let mut out = Cow::Borrowed(text);
        if self.accent {
            // Vietnamese letters lose their tone and vowel marks (ư → u, đ → d); other scripts are
            // transliterated the same way.
            out = Cow::Owned(deunicode::deunicode(&out));
        }
        if self.case {
            out = Cow::Owned(out.to_lowercase());
        }
        out
    }
}

/// A spatial relation between a record's geometry and a literal geometry (CQL2 `S_…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialOp {
    Intersects,
    Disjoint,
    Within,
    Contains,
    Equals,
    Touches,
    Overlaps,
    Crosses,
}

/// A typed filter over one collection's fields (plus `id`, and `area_ha` of spatial collections).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Const(bool),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Compare {
        field: &'static Field,
        op: Cmp,
        value: FilterValue,
        fold: Fold,
    },
    /// `%` any run of characters, `_` one character, `\` escapes either.
    Like {
        field: &'static Field,
        pattern: String,
        fold: Fold,
    },
    In {
        field: &'static Field,
        values: Vec<FilterValue>,
    },
    Between {
        field: &'static Field,
        low: FilterValue,
        high: FilterValue,
    },
    IsNull {
        field: &'static Field,
    },
    /// The record's geometry in this relation to `geometry` (WGS 84 longitude/latitude).
    Spatial {
        op: SpatialOp,
        geometry: geo::Geometry<f64>,
    },
    /// The record's geometry within `distance_m` metres of `geometry`.
    DWithin {
        geometry: geo::Geometry<f64>,
        distance_m: f64,
    },
}

/// Metres per degree of latitude (and of longitude at the equator), for distances and boxes.
const M_PER_DEG: f64 = 111_320.0;

impl Filter {
    /// Whether any part reads the field called `name`.
    pub fn mentions(&self, name: &str) -> bool {
        match self {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().any(|f| f.mentions(name)),
            Filter::Not(f) => f.mentions(name),
            Filter::Compare { field, .. }
            | Filter::Like { field, .. }
            | Filter::In { field, .. }
            | Filter::Between { field, .. }
            | Filter::IsNull { field } => field.name == name,
            Filter::Const(_) | Filter::Spatial { .. } | Filter::DWithin { .. } => false,
        }
    }

    /// Whether some part is evaluated in Rust only (see the module's description).
    pub fn needs_rust(&self) -> bool {
        match self {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().any(Filter::needs_rust),
            Filter::Not(f) => f.needs_rust(),
            Filter::Compare { fold, .. } | Filter::Like { fold, .. } => fold.any(),
            Filter::Spatial { .. } | Filter::DWithin { .. } => true,
            _ => false,
        }
    }

    /// A box every matching record's geometry must meet, when the filter implies one:
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub fn envelope(&self) -> Option<[f64; 4]> {
        let of = |g: &geo::Geometry<f64>, margin: f64| {
            g.bounding_rect().map(|r| {
                let lat = r.center().y.to_radians().cos().abs().max(0.01);
                let (dx, dy) = (margin / M_PER_DEG / lat, margin / M_PER_DEG);
                [r.min().x - dx, r.min().y - dy, r.max().x + dx, r.max().y + dy]
            })
        };
        match self {
            Filter::And(fs) => fs
                .iter()
                .filter_map(Filter::envelope)
                .reduce(|a, b| [a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])]),
            Filter::Spatial { op, geometry } if *op != SpatialOp::Disjoint => of(geometry, 0.0),
            // A little more than the distance: the box is a prefilter only.
            Filter::DWithin { geometry, distance_m } => of(geometry, distance_m * 1.01 + 1.0),
            _ => None,
        }
    }

    /// The filter as SQL over the table aliased `t`, values bound through `binder`; parts evaluated
    /// in Rust become TRUE (or FALSE under an odd number of NOTs), so the SQL never drops a match.
    pub(crate) fn sql(&self, binder: &mut Binder, positive: bool) -> String {
        let widen = || if positive { "TRUE".to_string() } else { "FALSE".to_string() };
        let postgres = binder.dialect() == Dialect::Postgres;
        // Text is ordered by code point in every store (PostgreSQL would use the database's locale).
        let column = |f: &Field, ordered: bool| {
            if postgres && ordered && f.kind == FieldKind::Text {
                format!("t.{} COLLATE \"C\"", f.name)
            } else {
                format!("t.{}", f.name)
            }
        };
        match self {
            Filter::Const(true) => "TRUE".into(),
            Filter::Const(false) => "FALSE".into(),
            Filter::And(fs) if fs.is_empty() => "TRUE".into(),
            Filter::Or(fs) if fs.is_empty() => "FALSE".into(),
            Filter::And(fs) => {
                format!("({})", fs.iter().map(|f| f.sql(binder, positive)).collect::<Vec<_>>().join(" AND "))
            }
            Filter::Or(fs) => {
                format!("({})", fs.iter().map(|f| f.sql(binder, positive)).collect::<Vec<_>>().join(" OR "))
            }
            Filter::Not(f) => format!("(NOT {})", f.sql(binder, !positive)),
            Filter::Compare { fold, .. } | Filter::Like { fold, .. } if fold.any() => widen(),
            Filter::Spatial { .. } | Filter::DWithin { .. } => widen(),
            Filter::Compare { field, op, value, .. } => {
                let ordered = !matches!(op, Cmp::Eq | Cmp::Ne);
                let mark = binder.push(field.kind, Bind::from(value));
                format!("({} {} {mark})", column(field, ordered), op.sql())
            }
            Filter::Like { field, pattern, .. } => {
                if postgres {
                    let mark = binder.push(FieldKind::Text, Bind::Text(pattern.clone()));
                    format!("(t.{} LIKE {mark} ESCAPE '\\')", field.name)
                } else {
                    // SQLite's LIKE ignores ASCII case; GLOB is exact, with its own wildcards.
                    let mark = binder.push(FieldKind::Text, Bind::Text(glob_of_like(pattern)));
                    format!("(t.{} GLOB {mark})", field.name)
                }
            }
            Filter::In { values, .. } if values.is_empty() => "FALSE".into(),
            Filter::In { field, values } => {
                let marks: Vec<String> =
                    values.iter().map(|v| binder.push(field.kind, Bind::from(v))).collect();
                format!("(t.{} IN ({}))", field.name, marks.join(", "))
            }
            Filter::Between { field, low, high } => {
                let low = binder.push(field.kind, Bind::from(low));
                let high = binder.push(field.kind, Bind::from(high));
                format!("({} BETWEEN {low} AND {high})", column(field, true))
            }
            Filter::IsNull { field } => format!("(t.{} IS NULL)", field.name),
        }
    }

    /// Whether `row` matches: true, false, or unknown (`None`) where an empty field decides.
    pub fn eval(&self, row: &FeatureRow, collection: &str) -> Option<bool> {
        match self {
            Filter::Const(b) => Some(*b),
            Filter::And(fs) => {
                let mut result = Some(true);
                for f in fs {
                    match f.eval(row, collection) {
                        Some(false) => return Some(false),
                        None => result = None,
                        Some(true) => {}
                    }
                }
                result
            }
            Filter::Or(fs) => {
                let mut result = Some(false);
                for f in fs {
                    match f.eval(row, collection) {
                        Some(true) => return Some(true),
                        None => result = None,
                        Some(false) => {}
                    }
                }
                result
            }
            Filter::Not(f) => f.eval(row, collection).map(|b| !b),
            Filter::Compare { field, op, value, fold } => {
                let v = row_value(row, field);
                compare(&v, value, *fold).map(|o| op.holds(o))
            }
            Filter::Like { field, pattern, fold } => {
                let v = row_value(row, field);
                let text = v.as_str()?;
                Some(like(&fold.apply(text), &fold.apply(pattern)))
            }
            Filter::In { field, values } => {
                let v = row_value(row, field);
                if v.is_null() {
                    return None;
                }
                Some(
                    values.iter().any(|w| compare(&v, w, Fold::default()) == Some(std::cmp::Ordering::Equal)),
                )
            }
            Filter::Between { field, low, high } => {
                let v = row_value(row, field);
                let lo = compare(&v, low, Fold::default())?;
                let hi = compare(&v, high, Fold::default())?;
                Some(lo != std::cmp::Ordering::Less && hi != std::cmp::Ordering::Greater)
            }
            Filter::IsNull { field } => Some(row_value(row, field).is_null()),
            Filter::Spatial { op, geometry } => {
                let mine = row.multipolygon(collection).ok()??;
                let m = mine.relate(geometry);
                Some(match op {
                    SpatialOp::Intersects => m.is_intersects(),
                    SpatialOp::Disjoint => m.is_disjoint(),
                    SpatialOp::Within => m.is_within(),
                    SpatialOp::Contains => m.is_contains(),
                    SpatialOp::Equals => m.is_equal_topo(),
                    SpatialOp::Touches => m.is_touches(),
                    SpatialOp::Overlaps => m.is_overlaps(),
                    SpatialOp::Crosses => m.is_crosses(),
                })
            }
            Filter::DWithin { geometry, distance_m } => {
                let mine = row.multipolygon(collection).ok()??;
                Some(distance_m_between(&mine, geometry) <= *distance_m)
            }
        }
    }
}

/// Distance in metres between two geometries near each other, on a local equirectangular plane
/// (longitude scaled by the cosine of the latitude): within 0.5 % over the tens of kilometres
/// of a zone's surroundings. Zero when they meet.
fn distance_m_between(a: &geo::MultiPolygon<f64>, b: &geo::Geometry<f64>) -> f64 {
    use geo::MapCoords;
    let Some(r) = b.bounding_rect() else { return f64::INFINITY };
    let k = r.center().y.to_radians().cos();
    let a = a.map_coords(|c| geo::coord! { x: c.x * k * M_PER_DEG, y: c.y * M_PER_DEG });
    let b = b.map_coords(|c| geo::coord! { x: c.x * k * M_PER_DEG, y: c.y * M_PER_DEG });
    let a = geo::Geometry::MultiPolygon(a);
    if a.relate(&b).is_intersects() { 0.0 } else { Euclidean.distance(&a, &b) }
}

/// A record's value of `field`: `id` and the measured `area_ha` are columns, the rest properties.
fn row_value(row: &FeatureRow, field: &Field) -> Value {
    match field.name {
        "id" => Value::String(row.id.clone()),
        "area_ha" if !row.properties.contains_key("area_ha") => {
            row.area_ha.map(Value::from).unwrap_or(Value::Null)
        }
        name => row.properties.get(name).cloned().unwrap_or(Value::Null),
    }
}

/// How a stored value compares with a filter value (`None`: empty, or of another type).
fn compare(v: &Value, w: &FilterValue, fold: Fold) -> Option<std::cmp::Ordering> {
    match (v, w) {
        (Value::String(s), FilterValue::Text(t)) => Some(fold.apply(s).as_ref().cmp(fold.apply(t).as_ref())),
        (Value::Number(n), FilterValue::Real(x)) => n.as_f64()?.partial_cmp(x),
        (Value::Number(n), FilterValue::Integer(i)) => n.as_f64()?.partial_cmp(&(*i as f64)),
        (Value::Bool(b), FilterValue::Bool(c)) => Some(b.cmp(c)),
        _ => None,
    }
}

/// Whether `text` matches the LIKE `pattern` (`%`, `_`, `\` escapes).
fn like(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Any,
        One,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '%' => Tok::Any,
            '_' => Tok::One,
            '\\' => Tok::Char(chars.next().unwrap_or('\\')),
            c => Tok::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // Classic wildcard matching with one backtrack point for the last `%`.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Tok::One) => {
                t += 1;
                p += 1;
            }
            Some(Tok::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Any)
}

/// A LIKE pattern as an SQLite GLOB pattern: `%` → `*`, `_` → `?`, GLOB's own `*?[` as classes.
fn glob_of_like(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '\\' => match chars.next() {
                Some(e) => push_glob_literal(&mut out, e),
                None => out.push('\\'),
            },
            c => push_glob_literal(&mut out, c),
        }
    }
    out
}

fn push_glob_literal(out: &mut String, c: char) {
    match c {
        '*' | '?' | '[' => {
            out.push('[');
            out.push(c);
            out.push(']');
        }
        c => out.push(c),
    }
}

/// Why a filter was refused: what is wrong and, where it helps, what to write instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

/// The languages a filter may be written in (`filter-lang`).
pub const LANGUAGES: &[&str] = &["cql2-text", "cql2-json"];

/// Parses `text` in `lang` (`cql2-text`, or `cql-text` as GDAL names it; `cql2-json`) and compiles it
/// against `collection`; geometries are in WGS 84 longitude/latitude, or latitude/longitude when
/// `lat_lon` (EPSG:4326 as `filter-crs`).
pub fn parse(collection: &Collection, text: &str, lang: &str, lat_lon: bool) -> Result<Filter, FilterError> {
    let expr = match lang {
        "cql2-text" | "cql-text" => cql2::parse_text(text).map_err(|e| FilterError(syntax_error(text, &e)))?,
        "cql2-json" => cql2::parse_json(text).map_err(|e| {
            FilterError(format!("filter: not CQL2 JSON ({e}); an example: {{\"op\": \"=\", \"args\": [{{\"property\": \"status\"}}, \"active\"]}}"))
        })?,
        other => {
            return Err(FilterError(format!(
                "filter-lang '{other}' is not known; use {}",
                LANGUAGES.join(" or ")
            )));
        }
    };
    Compiler { collection, lat_lon }.filter(&expr)
}

/// A parser's complaint as one line: where (line and column) and what was expected there.
fn syntax_error(text: &str, e: &cql2::Error) -> String {
    match e {
        cql2::Error::Pest(p) => {
            let (line, col) = match p.line_col {
                pest::error::LineColLocation::Pos(pos) | pest::error::LineColLocation::Span(pos, _) => pos,
            };
            let near: String =
                text.lines().nth(line - 1).unwrap_or("").chars().skip(col - 1).take(20).collect();
            format!(
                "filter: CQL2 syntax error at line {line}, column {col} (near '{near}'): {}; e.g. status = 'active' AND area_ha > 5",
                p.variant.message()
            )
        }
        other => format!("filter: {other}"),
    }
}

struct Compiler<'a> {
    collection: &'a Collection,
    lat_lon: bool,
}

/// What an operand of a comparison is.
enum Operand {
    Property(&'static Field, Fold),
    Value(cql2::Expr),
}

impl Compiler<'_> {
    fn fail<T>(&self, message: String) -> Result<T, FilterError> {
        Err(FilterError(format!("filter: {message}")))
    }

    fn field(&self, name: &str) -> Result<&'static Field, FilterError> {
        self.collection.filter_field(name).ok_or_else(|| {
            let names: Vec<&str> = self.collection.filter_fields().map(|f| f.name).collect();
            FilterError(format!(
                "filter: '{name}' is not a queryable of {}; /collections/{}/queryables lists them: {}",
                self.collection.id,
                self.collection.id,
                names.join(", ")
            ))
        })
    }

    fn filter(&self, e: &cql2::Expr) -> Result<Filter, FilterError> {
        use cql2::Expr;
        let Expr::Operation { op, args } = e else {
            return match e {
                Expr::Bool(b) => Ok(Filter::Const(*b)),
                _ => {
                    self.fail(format!("'{}' is not a condition; compare a property with a value", text_of(e)))
                }
            };
        };
        let arg = |i: usize| -> Result<&Expr, FilterError> {
            args.get(i)
                .map(|b| b.as_ref())
                .ok_or_else(|| FilterError(format!("filter: {op} needs more arguments")))
        };
        let name = op.to_ascii_lowercase();
        match name.as_str() {
            "and" => Ok(Filter::And(args.iter().map(|a| self.filter(a)).collect::<Result<_, _>>()?)),
            "or" => Ok(Filter::Or(args.iter().map(|a| self.filter(a)).collect::<Result<_, _>>()?)),
            "not" => Ok(Filter::Not(Box::new(self.filter(arg(0)?)?))),
            "=" | "<>" | "<" | "<=" | ">" | ">=" => {
                let cmp = match name.as_str() {
                    "=" => Cmp::Eq,
                    "<>" => Cmp::Ne,
                    "<" => Cmp::Lt,
                    "<=" => Cmp::Le,
                    ">" => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                match (self.operand(arg(0)?)?, self.operand(arg(1)?)?) {
                    (Operand::Property(field, fold), Operand::Value(v)) => self.compare(field, cmp, &v, fold),
                    (Operand::Value(v), Operand::Property(field, fold)) => {
                        self.compare(field, cmp.flipped(), &v, fold)
                    }
                    _ => self.fail(format!(
                        "'{}' must compare one property with one value",
                        text_of(e)
                    )),
                }
            }
            "like" => {
                let (Operand::Property(field, fold), Operand::Value(v)) = (self.operand(arg(0)?)?, self.operand(arg(1)?)?)
                else {
                    return self.fail(format!("LIKE needs a property on the left and a pattern on the right: {}", text_of(e)));
                };
                if field.kind != FieldKind::Text {
                    return self.fail(format!("LIKE works on text; {} is a {}", field.name, kind_name(field.kind)));
                }
                let cql2::Expr::Literal(pattern) = v else {
                    return self.fail(format!("the pattern of LIKE must be text in quotes: {}", text_of(e)));
                };
                Ok(Filter::Like { field, pattern, fold })
            }
            "in" => {
                let Operand::Property(field, fold) = self.operand(arg(0)?)? else {
                    return self.fail(format!("IN needs a property on the left: {}", text_of(e)));
                };
                let cql2::Expr::Array(items) = arg(1)? else {
                    return self.fail(format!("IN needs a list of values in parentheses: {}", text_of(e)));
                };
                let values = items.iter().map(|v| self.value(field, v)).collect::<Result<Vec<_>, _>>()?;
                if fold.any() {
                    return Ok(Filter::Or(
                        values.into_iter().map(|value| Filter::Compare { field, op: Cmp::Eq, value, fold }).collect(),
                    ));
                }
                Ok(Filter::In { field, values })
            }
            "between" => {
                let Operand::Property(field, _) = self.operand(arg(0)?)? else {
                    return self.fail(format!("BETWEEN needs a property on the left: {}", text_of(e)));
                };
                Ok(Filter::Between { field, low: self.value(field, arg(1)?)?, high: self.value(field, arg(2)?)? })
            }
            "isnull" => {
                let Operand::Property(field, _) = self.operand(arg(0)?)? else {
                    return self.fail(format!("IS NULL needs a property: {}", text_of(e)));
                };
                Ok(Filter::IsNull { field })
            }
            s if s.starts_with("s_") || s == "dwithin" => self.spatial(s, args, e),
            t if t.starts_with("t_") => self.temporal(t, args, e),
            other => self.fail(format!(
                "'{other}' is not supported; use =, <>, <, <=, >, >=, LIKE, BETWEEN, IN, IS NULL, CASEI, ACCENTI, \
                 S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_DWITHIN, T_BEFORE, T_AFTER, T_EQUALS, T_DURING, \
                 T_INTERSECTS, T_DISJOINT, AND, OR, NOT"
            )),
        }
    }

    fn operand(&self, e: &cql2::Expr) -> Result<Operand, FilterError> {
        use cql2::Expr;
        match e {
            Expr::Property { property } => Ok(Operand::Property(self.field(property)?, Fold::default())),
            Expr::Operation { op, args }
                if (op.eq_ignore_ascii_case("casei") || op.eq_ignore_ascii_case("accenti"))
                    && args.len() == 1 =>
            {
                match self.operand(&args[0])? {
                    Operand::Property(f, mut fold) => {
                        fold.case |= op.eq_ignore_ascii_case("casei");
                        fold.accent |= op.eq_ignore_ascii_case("accenti");
                        Ok(Operand::Property(f, fold))
                    }
                    // The value's side is folded with the property's, when compared.
                    value => Ok(value),
                }
            }
            Expr::Operation { op, .. } if ["+", "-", "*", "/", "%", "^", "div"].contains(&op.as_str()) => {
                self.fail(format!("arithmetic ({}) is not supported in filters", text_of(e)))
            }
            other => Ok(Operand::Value(other.clone())),
        }
    }

    fn compare(
        &self,
        field: &'static Field,
        op: Cmp,
        v: &cql2::Expr,
        fold: Fold,
    ) -> Result<Filter, FilterError> {
        if fold.any() && field.kind != FieldKind::Text {
            return self.fail(format!(
                "CASEI and ACCENTI apply to text; {} is a {}",
                field.name,
                kind_name(field.kind)
            ));
        }
        if matches!(v, cql2::Expr::Null) {
            return self.fail(format!(
                "compare with NULL using '{} IS NULL' or '{} IS NOT NULL'",
                field.name, field.name
            ));
        }
        Ok(Filter::Compare { field, op, value: self.value(field, v)?, fold })
    }

    /// A literal as a value of `field`'s type.
    fn value(&self, field: &'static Field, v: &cql2::Expr) -> Result<FilterValue, FilterError> {
        use cql2::Expr;
        let wrong = || {
            FilterError(format!(
                "filter: {} is a {}, and {} is not one",
                field.name,
                kind_name(field.kind),
                text_of(v)
            ))
        };
        match (field.kind, v) {
            (FieldKind::Text, Expr::Literal(s)) => Ok(FilterValue::Text(s.clone())),
            (FieldKind::Date, Expr::Literal(s)) => self.date(field, s),
            (FieldKind::Date, Expr::Date { date } | Expr::Timestamp { timestamp: date }) => {
                match date.as_ref() {
                    Expr::Literal(s) => self.date(field, s),
                    _ => Err(wrong()),
                }
            }
            (FieldKind::Real, Expr::Float(x)) => Ok(FilterValue::Real(*x)),
            (FieldKind::Integer, Expr::Float(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
                Ok(FilterValue::Integer(*x as i64))
            }
            (FieldKind::Bool, Expr::Bool(b)) => Ok(FilterValue::Bool(*b)),
            // A quoted number or boolean, as some clients send them.
            (FieldKind::Real | FieldKind::Integer | FieldKind::Bool, Expr::Literal(s)) => {
                field.parse_filter(s).map_err(|e| FilterError(format!("filter: {e}")))
            }
            _ => Err(wrong()),
        }
    }

    /// A date written `YYYY-MM-DD` or as a timestamp (its UTC day).
    fn date(&self, field: &Field, text: &str) -> Result<FilterValue, FilterError> {
        let day = text.get(..10).unwrap_or(text);
        crate::domain::parse_date(day)
            .map(|d| FilterValue::Text(d.to_string()))
            .map_err(|e| FilterError(format!("filter: {}: {e}", field.name)))
    }

    fn spatial(&self, op: &str, args: &[Box<cql2::Expr>], e: &cql2::Expr) -> Result<Filter, FilterError> {
        if !self.collection.spatial {
            return self.fail(format!("{} has no geometry to compare", self.collection.id));
        }
        let (mut property, mut literal) = (None, None);
        for a in args.iter().take(2) {
            match a.as_ref() {
                cql2::Expr::Property { property: p } => property = Some(p.clone()),
                other => literal = Some(self.geometry(other)?),
            }
        }
        match property.as_deref() {
            Some("geometry" | "geom") => {}
            Some(other) => {
                return self.fail(format!(
                    "'{other}' is not a geometry; the geometry of {} is 'geometry'",
                    self.collection.id
                ));
            }
            None => return self.fail(format!("{op} needs the property 'geometry': {}", text_of(e))),
        }
        let Some(geometry) = literal else {
            return self.fail(format!("{op} needs a geometry (WKT, GeoJSON or BBOX): {}", text_of(e)));
        };
        let spatial = |op| Ok(Filter::Spatial { op, geometry: geometry.clone() });
        match op {
            "s_intersects" => spatial(SpatialOp::Intersects),
            "s_disjoint" => spatial(SpatialOp::Disjoint),
            "s_within" => spatial(SpatialOp::Within),
            "s_contains" => spatial(SpatialOp::Contains),
            "s_equals" => spatial(SpatialOp::Equals),
            "s_touches" => spatial(SpatialOp::Touches),
            "s_overlaps" => spatial(SpatialOp::Overlaps),
            "s_crosses" => spatial(SpatialOp::Crosses),
            _ => {
                // S_DWITHIN(geometry, POINT(…), distance[, 'meters'|'kilometers'])
                let distance = match args.get(2).map(|a| a.as_ref()) {
                    Some(cql2::Expr::Float(d)) if *d >= 0.0 && d.is_finite() => *d,
                    _ => {
                        return self.fail(format!(
                            "{op} needs a distance in metres as its third argument: {}",
                            text_of(e)
                        ));
                    }
                };
                let factor = match args.get(3).map(|a| a.as_ref()) {
                    None => 1.0,
                    Some(cql2::Expr::Literal(u)) | Some(cql2::Expr::Property { property: u }) => {
                        match u.as_str() {
                            "m" | "meters" | "metres" => 1.0,
                            "km" | "kilometers" | "kilometres" => 1000.0,
                            other => {
                                return self
                                    .fail(format!("unit '{other}' of {op}: use meters or kilometers"));
                            }
                        }
                    }
                    Some(other) => {
                        return self
                            .fail(format!("unit {} of {op}: use meters or kilometers", text_of(other)));
                    }
                };
                Ok(Filter::DWithin { geometry, distance_m: distance * factor })
            }
        }
    }

    fn geometry(&self, e: &cql2::Expr) -> Result<geo::Geometry<f64>, FilterError> {
        use geo::MapCoords;
        let bad = |why: String| FilterError(format!("filter: geometry {}: {why}", text_of(e)));
        let g: geo::Geometry<f64> = match e {
            cql2::Expr::Geometry(cql2::Geometry::Wkt(text)) => {
                use wkt::TryFromWkt;
                geo::Geometry::try_from_wkt_str(text).map_err(|err| bad(err.to_string()))?
            }
            cql2::Expr::Geometry(g @ cql2::Geometry::GeoJSON(_)) => {
                let value = serde_json::to_value(g).map_err(|err| bad(err.to_string()))?;
                let parsed: geojson::Geometry =
                    serde_json::from_value(value).map_err(|err| bad(err.to_string()))?;
                parsed.try_into().map_err(|err: geojson::Error| bad(err.to_string()))?
            }
            cql2::Expr::BBox { bbox } => {
                let n: Vec<f64> = bbox
                    .iter()
                    .map(|b| match b.as_ref() {
                        cql2::Expr::Float(x) => Ok(*x),
                        _ => Err(bad("numbers expected".into())),
                    })
                    .collect::<Result<_, _>>()?;
                let (x0, y0, x1, y1) = match n.len() {
                    4 => (n[0], n[1], n[2], n[3]),
                    6 => (n[0], n[1], n[3], n[4]),
                    _ => return Err(bad("a BBOX has 4 (or 6) numbers".into())),
                };
                geo::Geometry::Rect(Rect::new((x0, y0), (x1, y1)))
            }
            _ => return Err(bad("not a geometry; write WKT such as POINT(106.07 21.18)".into())),
        };
        let g = if self.lat_lon { g.map_coords(|c| geo::coord! { x: c.y, y: c.x }) } else { g };
        let in_range = g.bounding_rect().is_some_and(|r| {
            r.min().x >= -180.0 && r.max().x <= 180.0 && r.min().y >= -90.0 && r.max().y <= 90.0
        });
        if !in_range {
            return Err(bad(
                "coordinates out of range for longitude/latitude (filter-crs is CRS84 unless sent)".into(),
            ));
        }
        Ok(g)
    }

    fn temporal(&self, op: &str, args: &[Box<cql2::Expr>], e: &cql2::Expr) -> Result<Filter, FilterError> {
        let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
            return self.fail(format!("{op} needs two arguments: {}", text_of(e)));
        };
        let cql2::Expr::Property { property } = a.as_ref() else {
            return self.fail(format!("{op} needs a date property first: {}", text_of(e)));
        };
        let field = self.field(property)?;
        if field.kind != FieldKind::Date {
            return self.fail(format!("{op} compares dates; {} is a {}", field.name, kind_name(field.kind)));
        }
        // An instant is the interval [d, d]; '..' leaves an end open.
        let (start, end) = match b.as_ref() {
            cql2::Expr::Interval { interval } if interval.len() == 2 => {
                let bound = |x: &cql2::Expr| -> Result<Option<FilterValue>, FilterError> {
                    match x {
                        cql2::Expr::Literal(s) if s == ".." => Ok(None),
                        other => self.value(field, other).map(Some),
                    }
                };
                (bound(&interval[0])?, bound(&interval[1])?)
            }
            other => {
                let d = self.value(field, other)?;
                (Some(d.clone()), Some(d))
            }
        };
        let cmp = |op, v: &Option<FilterValue>| {
            v.clone().map(|value| Filter::Compare { field, op, value, fold: Fold::default() })
        };
        let all = |parts: Vec<Option<Filter>>| {
            let parts: Vec<Filter> = parts.into_iter().flatten().collect();
            if parts.is_empty() {
                // Open at both ends: any date at all.
                Filter::Not(Box::new(Filter::IsNull { field }))
            } else {
                Filter::And(parts)
            }
        };
        Ok(match op {
            "t_before" => all(vec![cmp(Cmp::Lt, &start)]),
            "t_after" => all(vec![cmp(Cmp::Gt, &end)]),
            "t_equals" if start == end => all(vec![cmp(Cmp::Eq, &start)]),
            "t_intersects" => all(vec![cmp(Cmp::Ge, &start), cmp(Cmp::Le, &end)]),
            "t_during" => all(vec![cmp(Cmp::Gt, &start), cmp(Cmp::Lt, &end)]),
            "t_disjoint" => {
                Filter::Or(vec![cmp(Cmp::Lt, &start), cmp(Cmp::Gt, &end)].into_iter().flatten().collect())
            }
            _ => {
                return self.fail(format!(
                    "{op} on a date is not supported; use T_BEFORE, T_AFTER, T_EQUALS (a date), T_INTERSECTS, T_DURING or T_DISJOINT"
                ));
            }
        })
    }
}

fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "text",
        FieldKind::Real => "number",
        FieldKind::Integer => "whole number",
        FieldKind::Date => "date (YYYY-MM-DD)",
        FieldKind::Bool => "true/false",
    }
}

/// An expression as the user might have written it, for messages.
fn text_of(e: &cql2::Expr) -> String {
    e.to_text().unwrap_or_else(|_| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_as_sql_does() {
        assert!(like("KCN Yên Phong", "KCN%"));
        assert!(like("KCN Yên Phong", "%Phong"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert!(like("50%", "50\\%"));
        assert!(!like("500", "50\\%"));
        assert!(like("", "%"));
        assert!(!like("a", ""));
        assert!(like("aXbXc", "a%b%c"));
    }

    #[test]
    fn glob_keeps_literals_literal() {
        assert_eq!(glob_of_like("a%b_c"), "a*b?c");
        assert_eq!(glob_of_like("a*b?[c"), "a[*]b[?][[]c");
        assert_eq!(glob_of_like("50\\%"), "50%");
    }

    #[test]
    fn folding_drops_vietnamese_marks_and_case() {
        let f = Fold { case: true, accent: true };
        assert_eq!(f.apply("Đình Vũ – Cát Hải"), "dinh vu - cat hai");
        assert_eq!(f.apply("YÊN PHONG"), "yen phong");
    }
}
