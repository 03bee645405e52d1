//! Polygonal WKB written as the GeoJSON text landbank stores, without building a geometry in between.
//!
//! PostGIS writes a geometry as WKB about nine times faster than as GeoJSON (`ST_AsBinary` 0.13 µs a
//! plot, `ST_AsGeoJSON(geom, 15)` 1.14 µs, measured in psql), and PostgreSQL shares the machine's two
//! cores with landbank: pages read WKB and this module writes the text on landbank's side.

use geo::MultiPolygon;
use geozero::GeomProcessor;
use geozero::error::{GeozeroError, Result as GeozeroResult};

/// The GeoJSON text of polygonal OGC WKB (as PostGIS's `ST_AsBinary` writes it; Z and M are dropped),
/// byte for byte as [`super::to_geojson`] written by `serde_json` writes the same geometry: a
/// `Polygon` when it has one part, else a `MultiPolygon`; every coordinate in full (`f64`, shortest
/// form that reads back the same). Errors say what the WKB held instead of polygons, or where it broke.
pub fn wkb_to_geojson(wkb: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(wkb.len() * 2 + 48);
    write_geojson(wkb, &mut out, |out, v| {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes())
    })?;
    Ok(String::from_utf8(out).expect("GeoJSON text is ASCII"))
}

/// Appends the GeoJSON text of polygonal WKB to `out` as [`wkb_to_geojson`] writes it, each coordinate
/// (finite) written by `number`: e.g. rounded, straight from the `f64`, with no text in between. On an
/// error `out` holds part of the text.
pub fn write_geojson(
    wkb: &[u8],
    out: &mut Vec<u8>,
    number: impl FnMut(&mut Vec<u8>, f64),
) -> Result<(), String> {
    let mut writer = GeoJsonText { out, number, need_comma: false, parts_open: false };
    geozero::wkb::process_wkb_geom(&mut &wkb[..], &mut writer).map_err(|e| e.to_string())
}

/// Appends `wkb` to `out` as hexadecimal text (lower case), as landbank carries WKB inside JSON text
/// (rows read together, kept pieces). Written in place with SIMD (`faster-hex`): the `hex` crate's
/// encoder builds a string a character at a time.
pub fn push_hex(wkb: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + 2 * wkb.len(), 0);
    faster_hex::hex_encode(wkb, &mut out[start..]).expect("two characters a byte");
}

/// The bytes of hexadecimal text (WKB, kept figures), or why it is not hexadecimal.
pub fn hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("{} hexadecimal digits, an odd number", text.len()));
    }
    let mut bytes = vec![0; text.len() / 2];
    faster_hex::hex_decode(text.as_bytes(), &mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// The WKB bytes of hexadecimal text ([`push_hex`]), or why it is not hexadecimal WKB (the reason a
/// corrupt row or kept piece is reported with).
pub fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    hex_bytes(text).map_err(|why| format!("its geometry is not hexadecimal WKB: {why}"))
}

/// Polygonal WKB read into `geo` (a Polygon as a one-part MultiPolygon).
pub fn parse_wkb(wkb: &[u8]) -> Result<MultiPolygon, String> {
    use geozero::ToGeo;
    match geozero::wkb::Wkb(wkb).to_geo().map_err(|e| e.to_string())? {
        geo::Geometry::MultiPolygon(m) => Ok(m),
        geo::Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        _ => Err("its geometry is not a Polygon or MultiPolygon".into()),
    }
}

/// A [`GeomProcessor`] writing GeoJSON text: every element opens with `[` (after a `,` when it is not
/// its parent's first) and closes with `]`.
struct GeoJsonText<'a, F> {
    out: &'a mut Vec<u8>,
    /// Writes one coordinate.
    number: F,
    /// Whether the next element follows a sibling.
    need_comma: bool,
    /// Whether a MultiPolygon's own brackets are open (not when it has one part, written as a Polygon).
    parts_open: bool,
}

impl<F> GeoJsonText<'_, F> {
    fn open(&mut self) {
        if self.need_comma {
            self.out.push(b',');
        }
        self.out.push(b'[');
        self.need_comma = false;
    }

    fn close(&mut self) {
        self.out.push(b']');
        self.need_comma = true;
    }

    fn not_polygonal(kind: &str) -> GeozeroResult<()> {
        Err(GeozeroError::Geometry(format!("a {kind} where a Polygon or MultiPolygon was expected")))
    }
}

const POLYGON: &str = r#"{"type":"Polygon","coordinates":"#;
const MULTIPOLYGON: &str = r#"{"type":"MultiPolygon","coordinates":"#;

impl<F: FnMut(&mut Vec<u8>, f64)> GeomProcessor for GeoJsonText<'_, F> {
    fn xy(&mut self, x: f64, y: f64, _idx: usize) -> GeozeroResult<()> {
        if !(x.is_finite() && y.is_finite()) {
            return Err(GeozeroError::Geometry("a coordinate is not a finite number".into()));
        }
        if self.need_comma {
            self.out.push(b',');
        }
        self.out.push(b'[');
        (self.number)(self.out, x);
        self.out.push(b',');
        (self.number)(self.out, y);
        self.out.push(b']');
        self.need_comma = true;
        Ok(())
    }

    /// One part is written as a `Polygon`, as [`super::to_geojson`] writes it: the part's own brackets
    /// are then the coordinates' outer ones.
    fn multipolygon_begin(&mut self, size: usize, _idx: usize) -> GeozeroResult<()> {
        self.parts_open = size != 1;
        if self.parts_open {
            self.out.extend_from_slice(MULTIPOLYGON.as_bytes());
            self.open();
        } else {
            self.out.extend_from_slice(POLYGON.as_bytes());
        }
        Ok(())
    }

    fn multipolygon_end(&mut self, _idx: usize) -> GeozeroResult<()> {
        if self.parts_open {
            self.close();
        }
        self.out.push(b'}');
        Ok(())
    }

    fn polygon_begin(&mut self, tagged: bool, _size: usize, _idx: usize) -> GeozeroResult<()> {
        if tagged {
            self.out.extend_from_slice(POLYGON.as_bytes());
        }
        self.open();
        Ok(())
    }

    fn polygon_end(&mut self, tagged: bool, _idx: usize) -> GeozeroResult<()> {
        self.close();
        if tagged {
            self.out.push(b'}');
        }
        Ok(())
    }

    fn linestring_begin(&mut self, tagged: bool, _size: usize, _idx: usize) -> GeozeroResult<()> {
        if tagged {
            return Self::not_polygonal("LineString");
        }
        self.open();
        Ok(())
    }

    fn linestring_end(&mut self, _tagged: bool, _idx: usize) -> GeozeroResult<()> {
        self.close();
        Ok(())
    }

    fn empty_point(&mut self, _idx: usize) -> GeozeroResult<()> {
        Self::not_polygonal("Point")
    }

    fn point_begin(&mut self, _idx: usize) -> GeozeroResult<()> {
        Self::not_polygonal("Point")
    }

    fn multipoint_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Self::not_polygonal("MultiPoint")
    }

    fn multilinestring_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Self::not_polygonal("MultiLineString")
    }

    fn geometrycollection_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Self::not_polygonal("GeometryCollection")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, Polygon, polygon};
    use geozero::{CoordDimensions, ToWkb};

    fn wkb(geometry: geo::Geometry) -> Vec<u8> {
        geometry.to_wkb(CoordDimensions::xy()).unwrap()
    }

    #[test]
    fn hexadecimal_wkb_reads_back_and_broken_text_is_named() {
        let bytes = wkb(geo::Geometry::Polygon(
            polygon![(x: 106.0, y: 21.0), (x: 106.1, y: 21.0), (x: 106.0, y: 21.1)],
        ));
        let mut text = b"[\"".to_vec();
        push_hex(&bytes, &mut text);
        // Appended after what was there, two lower-case digits a byte.
        assert_eq!(&text[..2], b"[\"");
        assert_eq!(text.len(), 2 + 2 * bytes.len());
        let mut digits = Vec::new();
        push_hex(&[0x01, 0xab, 0xff, 0x00], &mut digits);
        assert_eq!(digits, b"01abff00");
        assert_eq!(from_hex(std::str::from_utf8(&text[2..]).unwrap()).unwrap(), bytes);
        assert!(from_hex("0a1").unwrap_err().contains("odd"));
        assert!(from_hex("0g").is_err());
    }

    fn with_hole() -> Polygon {
        polygon!(
            exterior: [(x: 106.1, y: 10.9), (x: 106.12345678901234, y: 10.9), (x: 106.12, y: 10.987654321), (x: 106.1, y: 10.9)],
            interiors: [[(x: 106.11, y: 10.91), (x: 106.115, y: 10.91), (x: 106.11, y: 10.92), (x: 106.11, y: 10.91)]],
        )
    }

    fn other() -> Polygon {
        polygon![(x: -0.5, y: 1e-7), (x: 180.0, y: 0.0), (x: 1.0, y: 89.99999999999999), (x: -0.5, y: 1e-7)]
    }

    #[test]
    fn writes_the_text_landbank_stores() {
        for geometry in [
            MultiPolygon(vec![with_hole()]),
            MultiPolygon(vec![with_hole(), other()]),
            MultiPolygon(vec![other(), with_hole(), other()]),
            MultiPolygon(vec![]),
        ] {
            let expected = crate::spatial::to_geojson(&geometry).to_string();
            assert_eq!(wkb_to_geojson(&wkb(geo::Geometry::MultiPolygon(geometry))).unwrap(), expected);
        }
        // A bare polygon, as a column of polygons would hold it.
        let expected = crate::spatial::to_geojson(&MultiPolygon(vec![with_hole()])).to_string();
        assert_eq!(wkb_to_geojson(&wkb(geo::Geometry::Polygon(with_hole()))).unwrap(), expected);
        // The text reads back as the geometry it came from.
        let both = MultiPolygon(vec![with_hole(), other()]);
        let text = wkb_to_geojson(&wkb(geo::Geometry::MultiPolygon(both.clone()))).unwrap();
        assert_eq!(crate::spatial::parse_stored(&text).unwrap(), both);
    }

    /// Any finite coordinate, whole, tiny or huge, is written as `serde_json` writes it.
    #[test]
    fn writes_any_number_as_serde_json_does() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            // xorshift64*: coordinates of every magnitude, from their bits.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            f64::from_bits(state.wrapping_mul(0x2545_f491_4f6c_dd1d))
        };
        let mut numbers: Vec<f64> = (0..20_000).map(|_| next()).filter(|v| v.is_finite()).collect();
        numbers.extend([
            0.0,
            -0.0,
            1.0,
            1e15,
            1e16,
            1e17,
            1e21,
            1e22,
            1e-5,
            1e-7,
            123456789.0,
            106.5,
            -21.25,
        ]);
        for ring in numbers.chunks(4) {
            let coords: Vec<(f64, f64)> = ring.windows(2).map(|w| (w[0], w[1])).collect();
            let Some(&first) = coords.first() else { continue };
            let line = geo::LineString::from([coords.clone(), vec![first]].concat());
            let geometry = MultiPolygon(vec![geo::Polygon::new(line, vec![])]);
            let expected = crate::spatial::to_geojson(&geometry).to_string();
            assert_eq!(wkb_to_geojson(&wkb(geo::Geometry::MultiPolygon(geometry))).unwrap(), expected);
        }
    }

    #[test]
    fn refuses_what_is_not_polygons() {
        let point = wkb(geo::Geometry::Point(geo::Point::new(106.0, 10.0)));
        assert!(wkb_to_geojson(&point).unwrap_err().contains("a Point where a Polygon"));
        let line = wkb(geo::Geometry::LineString(geo::LineString::from(vec![(0.0, 0.0), (1.0, 1.0)])));
        assert!(wkb_to_geojson(&line).unwrap_err().contains("LineString"));
        let polygon = wkb(geo::Geometry::Polygon(other()));
        assert!(wkb_to_geojson(&polygon[..polygon.len() - 5]).is_err(), "cut short");
    }
}
