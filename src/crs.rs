//! Coordinate reference systems a board's files come in: EPSG codes, and a named preset for every
//! province's VN-2000 3° TM zone (Circular 973/2001/TT-TCĐC central meridians, k = 0.9999).
//!
//! Presets resolve to the EPSG code of that meridian's VN-2000 / TM-3 CRS, so PROJ applies EPSG's own
//! VN-2000 → WGS 84 transformation (the 7-parameter Helmert "VN-2000 to WGS 84 (2)"), never a hand-typed
//! `+towgs84` whose rotation signs may be flipped.

/// A province's VN-2000 TM-3 zone.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// `vn2000:<slug>`, e.g. `bac-ninh`.
    pub slug: &'static str,
    pub province: &'static str,
    /// ISO 3166-2:VN code.
    pub province_code: &'static str,
    /// Central meridian, decimal degrees east.
    pub central_meridian: f64,
}

/// EPSG code of the VN-2000 / TM-3 CRS with this central meridian (degrees east).
pub fn tm3_epsg(central_meridian: f64) -> Option<u32> {
    const ZONES: &[(f64, u32)] = &[
        (103.0, 9205),
        (104.0, 9206),
        (104.5, 9207),
        (104.75, 9208),
        (105.0, 5897),
        (105.5, 9209),
        (105.75, 9210),
        (106.0, 9211),
        (106.25, 9212),
        (106.5, 9213),
        (107.0, 9214),
        (107.25, 9215),
        (107.5, 9216),
        (107.75, 5899),
        (108.0, 5898),
        (108.25, 9217),
        (108.5, 9218),
    ];
    ZONES.iter().find(|(m, _)| (m - central_meridian).abs() < 1e-9).map(|(_, code)| *code)
}

const fn p(slug: &'static str, province: &'static str, province_code: &'static str, cm: f64) -> Preset {
    Preset { slug, province, province_code, central_meridian: cm }
}

/// Every province's preset (63 provinces as of Circular 973/2001, before the 2025 mergers).
pub const PRESETS: &[Preset] = &[
    p("lai-chau", "Lai Châu", "VN-01", 103.0),
    p("dien-bien", "Điện Biên", "VN-71", 103.0),
    p("son-la", "Sơn La", "VN-05", 104.0),
    p("lao-cai", "Lào Cai", "VN-02", 104.75),
    p("yen-bai", "Yên Bái", "VN-06", 104.75),
    p("ha-giang", "Hà Giang", "VN-03", 105.5),
    p("tuyen-quang", "Tuyên Quang", "VN-07", 106.0),
    p("phu-tho", "Phú Thọ", "VN-68", 104.75),
    p("vinh-phuc", "Vĩnh Phúc", "VN-70", 105.0),
    p("cao-bang", "Cao Bằng", "VN-04", 105.75),
    p("lang-son", "Lạng Sơn", "VN-09", 107.25),
    p("bac-kan", "Bắc Kạn", "VN-53", 106.5),
    p("thai-nguyen", "Thái Nguyên", "VN-69", 106.5),
    p("quang-ninh", "Quảng Ninh", "VN-13", 107.75),
    p("bac-giang", "Bắc Giang", "VN-54", 107.0),
    p("bac-ninh", "Bắc Ninh", "VN-56", 105.5),
    p("ha-noi", "Hà Nội", "VN-HN", 105.0),
    p("hai-duong", "Hải Dương", "VN-61", 105.5),
    p("hai-phong", "Hải Phòng", "VN-HP", 105.75),
    p("hung-yen", "Hưng Yên", "VN-66", 105.5),
    p("thai-binh", "Thái Bình", "VN-20", 105.5),
    p("ha-nam", "Hà Nam", "VN-63", 105.0),
    p("nam-dinh", "Nam Định", "VN-67", 105.5),
    p("ninh-binh", "Ninh Bình", "VN-18", 105.0),
    p("hoa-binh", "Hòa Bình", "VN-14", 106.0),
    p("thanh-hoa", "Thanh Hóa", "VN-21", 105.0),
    p("nghe-an", "Nghệ An", "VN-22", 104.75),
    p("ha-tinh", "Hà Tĩnh", "VN-23", 105.5),
    p("quang-binh", "Quảng Bình", "VN-24", 106.0),
    p("quang-tri", "Quảng Trị", "VN-25", 106.25),
    p("thua-thien-hue", "Thừa Thiên Huế", "VN-26", 107.0),
    p("da-nang", "Đà Nẵng", "VN-DN", 107.75),
    p("quang-nam", "Quảng Nam", "VN-27", 107.75),
    p("quang-ngai", "Quảng Ngãi", "VN-29", 108.0),
    p("binh-dinh", "Bình Định", "VN-31", 108.25),
    p("phu-yen", "Phú Yên", "VN-32", 108.5),
    p("khanh-hoa", "Khánh Hòa", "VN-34", 108.25),
    p("ninh-thuan", "Ninh Thuận", "VN-36", 108.25),
    p("binh-thuan", "Bình Thuận", "VN-40", 108.5),
    p("kon-tum", "Kon Tum", "VN-28", 107.5),
    p("gia-lai", "Gia Lai", "VN-30", 108.5),
    p("dak-lak", "Đắk Lắk", "VN-33", 108.5),
    p("dak-nong", "Đắk Nông", "VN-72", 108.5),
    p("lam-dong", "Lâm Đồng", "VN-35", 107.75),
    p("binh-phuoc", "Bình Phước", "VN-58", 106.25),
    p("tay-ninh", "Tây Ninh", "VN-37", 105.5),
    p("binh-duong", "Bình Dương", "VN-57", 105.75),
    p("dong-nai", "Đồng Nai", "VN-39", 107.75),
    p("ba-ria-vung-tau", "Bà Rịa - Vũng Tàu", "VN-43", 107.75),
    p("ho-chi-minh", "TP. Hồ Chí Minh", "VN-SG", 105.75),
    p("long-an", "Long An", "VN-41", 105.75),
    p("tien-giang", "Tiền Giang", "VN-46", 105.75),
    p("ben-tre", "Bến Tre", "VN-50", 105.75),
    p("tra-vinh", "Trà Vinh", "VN-51", 105.5),
    p("vinh-long", "Vĩnh Long", "VN-49", 105.5),
    p("dong-thap", "Đồng Tháp", "VN-45", 105.0),
    p("an-giang", "An Giang", "VN-44", 104.75),
    p("kien-giang", "Kiên Giang", "VN-47", 104.5),
    p("can-tho", "Cần Thơ", "VN-CT", 105.0),
    p("hau-giang", "Hậu Giang", "VN-73", 105.0),
    p("soc-trang", "Sóc Trăng", "VN-52", 105.5),
    p("bac-lieu", "Bạc Liêu", "VN-55", 105.0),
    p("ca-mau", "Cà Mau", "VN-59", 104.5),
];

/// Resolves what a user typed after `--srs` into a definition GDAL understands: `vn2000:<province>`
/// becomes `EPSG:<code>`; `EPSG:n`, a bare number, WKT and PROJ strings pass through.
pub fn resolve(text: &str) -> Result<String, String> {
    let text = text.trim();
    if let Some(slug) = text.strip_prefix("vn2000:") {
        let preset = PRESETS.iter().find(|p| p.slug == slug).ok_or_else(|| {
            format!("no VN-2000 preset '{slug}'; `landbank crs list` shows every province's (e.g. vn2000:bac-ninh)")
        })?;
        let code = tm3_epsg(preset.central_meridian).expect("every preset's meridian has an EPSG code");
        return Ok(format!("EPSG:{code}"));
    }
    if text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
        return Ok(format!("EPSG:{text}"));
    }
    Ok(text.to_string())
}

/// CRS84 (WGS 84 longitude, latitude): what landbank stores and serves by default (RFC 7946).
pub const CRS84_URI: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// EPSG codes served by OGC API - Features Part 2 besides CRS84: WGS 84 (latitude, longitude), VN-2000
/// geographic (4756), VN-2000 / UTM 48N and 49N (3405, 3406) and every VN-2000 / TM-3 zone.
pub const SERVED_EPSG: &[u32] = &[
    4326, 4756, 3405, 3406, 5896, 5897, 5898, 5899, 9205, 9206, 9207, 9208, 9209, 9210, 9211, 9212, 9213,
    9214, 9215, 9216, 9217, 9218,
];

/// A CRS that coordinates can be served in or a bounding box given in (`crs=`, `bbox-crs=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServedCrs {
    /// WGS 84 longitude, latitude (the storage CRS).
    Crs84,
    /// An EPSG CRS, with its axes in EPSG's order (EPSG:4326 and 4756: latitude first; projected
    /// VN-2000 CRSs: easting, northing).
    Epsg(u32),
}

impl ServedCrs {
    /// Parses a CRS URI (`http://www.opengis.net/def/crs/EPSG/0/9209`), a safe CURIE (`[EPSG:9209]`),
    /// `EPSG:9209` or `CRS84`, and checks that it is served.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim().trim_start_matches('[').trim_end_matches(']');
        let lower = t.to_ascii_lowercase();
        if lower.ends_with("/ogc/1.3/crs84") || lower == "crs84" || lower == "ogc:crs84" {
            return Ok(ServedCrs::Crs84);
        }
        let code = lower
            .strip_prefix("http://www.opengis.net/def/crs/epsg/0/")
            .or_else(|| lower.strip_prefix("https://www.opengis.net/def/crs/epsg/0/"))
            .or_else(|| lower.strip_prefix("epsg:"))
            .and_then(|c| c.parse::<u32>().ok());
        match code {
            Some(code) if SERVED_EPSG.contains(&code) => Ok(ServedCrs::Epsg(code)),
            _ => Err(format!(
                "'{text}' is not a CRS served here; use {CRS84_URI} or http://www.opengis.net/def/crs/EPSG/0/N \
                 with N one of {}",
                SERVED_EPSG.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// The CRS's URI, as `Content-Crs` and collection metadata give it.
    pub fn uri(self) -> String {
        match self {
            ServedCrs::Crs84 => CRS84_URI.to_string(),
            ServedCrs::Epsg(code) => format!("http://www.opengis.net/def/crs/EPSG/0/{code}"),
        }
    }

    /// Every served CRS's URI, CRS84 first.
    pub fn all_uris() -> Vec<String> {
        std::iter::once(ServedCrs::Crs84)
            .chain(SERVED_EPSG.iter().map(|c| ServedCrs::Epsg(*c)))
            .map(ServedCrs::uri)
            .collect()
    }

    /// Decimals that keep about a millimetre: 3 for metres, 8 for degrees (RFC 7946's 7 for CRS84).
    pub fn decimals(self) -> u32 {
        match self {
            ServedCrs::Crs84 => 7,
            ServedCrs::Epsg(4326 | 4756) => 8,
            ServedCrs::Epsg(_) => 3,
        }
    }

    /// GDAL's view of the CRS, in its authority's axis order (CRS84: longitude first); the
    /// reference the `proj` transformations are checked against.
    #[cfg(test)]
    fn spatial_ref(self) -> Result<gdal::spatial_ref::SpatialRef, String> {
        use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
        let mut srs = SpatialRef::from_epsg(match self {
            ServedCrs::Crs84 => 4326,
            ServedCrs::Epsg(code) => code,
        })
        .map_err(|e| format!("PROJ does not know {}: {e}", self.uri()))?;
        srs.set_axis_mapping_strategy(match self {
            ServedCrs::Crs84 => AxisMappingStrategy::TraditionalGisOrder,
            ServedCrs::Epsg(_) => AxisMappingStrategy::AuthorityCompliant,
        });
        Ok(srs)
    }
}

/// Transforms coordinates between CRS84 and a served CRS: `geo` geometries through the `proj` crate
/// (Debian's PROJ, EPSG's own VN-2000 ↔ WGS 84 transformation, the one GDAL picks for files). Not
/// `Send`: make one per request, after the awaits.
pub struct Reprojector {
    proj: proj::Proj,
    decimals: u32,
    /// Whether the source's axes are latitude first (EPSG:4326 and 4756), which PROJ reads longitude first.
    swap_in: bool,
    /// Whether the target's are.
    swap_out: bool,
}

impl ServedCrs {
    /// Geographic CRSs whose EPSG axis order is latitude, longitude.
    fn latitude_first(self) -> bool {
        matches!(self, ServedCrs::Epsg(4326 | 4756))
    }

    fn proj_name(self) -> String {
        match self {
            ServedCrs::Crs84 => "OGC:CRS84".into(),
            ServedCrs::Epsg(code) => format!("EPSG:{code}"),
        }
    }
}

impl Reprojector {
    /// From CRS84 to `target` (for serving features).
    pub fn from_crs84(target: ServedCrs) -> Result<Self, String> {
        Self::new(ServedCrs::Crs84, target)
    }

    /// From `source` to CRS84 (for a `bbox-crs` box).
    pub fn to_crs84(source: ServedCrs) -> Result<Self, String> {
        Self::new(source, ServedCrs::Crs84)
    }

    fn new(source: ServedCrs, target: ServedCrs) -> Result<Self, String> {
        // PROJ's axes here are longitude/easting first, whatever the CRS says (the crate normalises).
        let proj = proj::Proj::new_known_crs(&source.proj_name(), &target.proj_name(), None)
            .map_err(|e| format!("cannot transform {} to {}: {e}", source.uri(), target.uri()))?;
        Ok(Reprojector {
            proj,
            decimals: target.decimals(),
            swap_in: source.latitude_first(),
            swap_out: target.latitude_first(),
        })
    }

    /// One position, in the source's axis order, to the target's (unrounded).
    pub fn position(&self, a: f64, b: f64) -> Result<(f64, f64), String> {
        let input = if self.swap_in { (b, a) } else { (a, b) };
        let (x, y) = self.proj.convert(input).map_err(|e| format!("PROJ: {e}"))?;
        Ok(if self.swap_out { (y, x) } else { (x, y) })
    }

    /// A `geo` geometry in the target CRS (in its axis order), rounded to the target's decimals.
    pub fn geo(&self, geometry: &geo::Geometry<f64>) -> Result<geo::Geometry<f64>, String> {
        use geo::MapCoords;
        let scale = 10f64.powi(self.decimals as i32);
        geometry.try_map_coords(|c| {
            let (x, y) = self.position(c.x, c.y)?;
            Ok(geo::coord! { x: (x * scale).round() / scale, y: (y * scale).round() / scale })
        })
    }

    /// A GeoJSON geometry, transformed with [`Reprojector::geo`], in place.
    pub fn geometry(&self, geometry: &mut serde_json::Value) -> Result<(), String> {
        let parsed: geojson::Geometry =
            serde_json::from_value(geometry.clone()).map_err(|e| format!("not a GeoJSON geometry: {e}"))?;
        let g: geo::Geometry<f64> = parsed.try_into().map_err(|e: geojson::Error| e.to_string())?;
        let out = geojson::Geometry::from(&self.geo(&g)?);
        *geometry = serde_json::to_value(out).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// A box `[min1, min2, max1, max2]` in the source's axis order as the smallest box of the target
    /// that holds it (edges densified, so curved edges are covered).
    pub fn bbox(&self, bbox: [f64; 4]) -> Result<[f64; 4], String> {
        let [a, b, c, d] = if self.swap_in { [bbox[1], bbox[0], bbox[3], bbox[2]] } else { bbox };
        let [x0, y0, x1, y1] =
            self.proj.transform_bounds(a, b, c, d, 21).map_err(|e| format!("PROJ: {e}"))?;
        Ok(if self.swap_out { [y0, x0, y1, x1] } else { [x0, y0, x1, y1] })
    }
}

/// `AUTHORITY:CODE` of a GDAL CRS (e.g. `EPSG:9209`), else its name: how files' CRSs are named in
/// reports and stored with records (`source_crs`).
pub fn srs_label(srs: &gdal::spatial_ref::SpatialRef) -> String {
    match (srs.auth_name(), srs.auth_code()) {
        (Some(name), Ok(code)) => format!("{name}:{code}"),
        _ => srs.name().unwrap_or_else(|| "unnamed CRS".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_has_an_epsg_zone_and_presets_resolve() {
        for p in PRESETS {
            assert!(tm3_epsg(p.central_meridian).is_some(), "{}", p.slug);
        }
        assert_eq!(PRESETS.len(), 63);
        assert_eq!(resolve("vn2000:bac-ninh").unwrap(), "EPSG:9209");
        assert_eq!(resolve("vn2000:vinh-phuc").unwrap(), "EPSG:5897");
        assert_eq!(resolve("vn2000:binh-thuan").unwrap(), "EPSG:9218");
        assert_eq!(resolve("9209").unwrap(), "EPSG:9209");
        assert!(resolve("vn2000:atlantis").unwrap_err().contains("crs list"));
    }

    #[test]
    fn served_crs_parse_uris_curies_and_refuse_others() {
        assert_eq!(ServedCrs::parse(CRS84_URI).unwrap(), ServedCrs::Crs84);
        assert_eq!(
            ServedCrs::parse("http://www.opengis.net/def/crs/EPSG/0/9209").unwrap(),
            ServedCrs::Epsg(9209)
        );
        assert_eq!(ServedCrs::parse("[EPSG:3405]").unwrap(), ServedCrs::Epsg(3405));
        let refused = ServedCrs::parse("http://www.opengis.net/def/crs/EPSG/0/3857").unwrap_err();
        assert!(refused.contains("9209") && refused.contains("CRS84"), "{refused}");
        assert_eq!(ServedCrs::all_uris().len(), 1 + SERVED_EPSG.len());
    }

    /// The `proj` crate on the request path and GDAL (which reads and writes files) agree to 1 mm
    /// (1e-9° on geographic CRSs) on every served CRS, both ways, across Vietnam.
    #[test]
    fn proj_and_gdal_agree_on_every_served_crs() {
        let places =
            [(102.9, 22.4), (105.85, 21.03), (106.07, 21.18), (108.22, 16.05), (106.7, 10.78), (104.9, 8.95)];
        for &code in SERVED_EPSG {
            let crs = ServedCrs::Epsg(code);
            let ours = Reprojector::from_crs84(crs).unwrap();
            let back = Reprojector::to_crs84(crs).unwrap();
            let gdal = gdal::spatial_ref::CoordTransform::new(
                &ServedCrs::Crs84.spatial_ref().unwrap(),
                &crs.spatial_ref().unwrap(),
            )
            .unwrap();
            let tolerance = if crs.latitude_first() { 1e-9 } else { 1e-3 };
            for (lon, lat) in places {
                let (a, b) = ours.position(lon, lat).unwrap();
                let (mut xs, mut ys) = (vec![lon], vec![lat]);
                gdal.transform_coords(&mut xs, &mut ys, &mut []).unwrap();
                assert!(
                    (a - xs[0]).abs() <= tolerance && (b - ys[0]).abs() <= tolerance,
                    "EPSG:{code} at ({lon}, {lat}): proj ({a}, {b}), GDAL ({}, {})",
                    xs[0],
                    ys[0]
                );
                let (lon2, lat2) = back.position(a, b).unwrap();
                let inverse = gdal::spatial_ref::CoordTransform::new(
                    &crs.spatial_ref().unwrap(),
                    &ServedCrs::Crs84.spatial_ref().unwrap(),
                )
                .unwrap();
                let (mut xs, mut ys) = (vec![a], vec![b]);
                inverse.transform_coords(&mut xs, &mut ys, &mut []).unwrap();
                assert!(
                    (lon2 - xs[0]).abs() <= 1e-9 && (lat2 - ys[0]).abs() <= 1e-9,
                    "EPSG:{code} back to CRS84: proj ({lon2}, {lat2}), GDAL ({}, {})",
                    xs[0],
                    ys[0]
                );
                assert!((lon2 - lon).abs() < 1e-6 && (lat2 - lat).abs() < 1e-6, "EPSG:{code} round trip");
            }
        }
    }

    #[test]
    fn reprojects_to_vn2000_utm_as_gdal_does() {
        // BUILD-NOTES: (106.0 E, 21.1 N) → EPSG:3405 x = 603 667.071, y = 2 333 649.348.
        let to_utm = Reprojector::from_crs84(ServedCrs::Epsg(3405)).unwrap();
        let mut point = serde_json::json!({ "type": "Point", "coordinates": [106.0, 21.1] });
        to_utm.geometry(&mut point).unwrap();
        assert_eq!(point["coordinates"], serde_json::json!([603667.071, 2333649.348]));
        // EPSG:4326 is latitude first.
        let to_4326 = Reprojector::from_crs84(ServedCrs::Epsg(4326)).unwrap();
        let mut point = serde_json::json!({ "type": "Point", "coordinates": [106.0, 21.1] });
        to_4326.geometry(&mut point).unwrap();
        assert_eq!(point["coordinates"], serde_json::json!([21.1, 106.0]));
        let back = Reprojector::to_crs84(ServedCrs::Epsg(3405)).unwrap();
        let b = back.bbox([603667.071, 2333649.348, 603667.071, 2333649.348]).unwrap();
        assert!((b[0] - 106.0).abs() < 1e-8 && (b[1] - 21.1).abs() < 1e-8, "{b:?}");
    }
}
