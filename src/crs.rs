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
}
