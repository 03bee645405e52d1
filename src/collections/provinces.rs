//! Provinces: reference geography shipped with landbank (not edited or imported).

use super::{BASE, Collection, PROVINCE_CODE, date, integer, real, text, text_of};
use crate::domain::Province;

pub const PROVINCES: Collection = Collection {
    id: "provinces",
    title: "Provinces",
    description: "Vietnam's provincial-level units before and after the mergers of 01/07/2025 (Resolution 202/2025/QH15): 63 until 30/06/2025, 34 from 01/07/2025, with successors and VN-2000 TM-3 zones. Reference data shipped with landbank; no boundary geometry.",
    table: "provinces",
    editable: false,
    zone_key: None,
    fields: &[
        PROVINCE_CODE,
        text("name", "Name (Vietnamese)"),
        text("name_en", "Name (English)"),
        integer("vn2000_tm3_epsg", "EPSG code of the VN-2000 3° TM zone"),
        real("central_meridian", "Central meridian of that zone, degrees east"),
        text("gso_code", "Code of the General Statistics Office (two digits)"),
        text("kind", "province, or city (centrally-run)"),
        date("valid_from", "First day the unit exists (empty: before any data landbank keeps)"),
        date("valid_to", "First day the unit no longer exists (empty: it still does)"),
        text("successor_code", "The unit it became part of on valid_to"),
        text("predecessor_codes", "The units it was formed from, comma separated"),
    ],
    canonical: super::canonical::<Province>,
    natural_id: |p| text_of(p, "province_code").map(str::to_string),
    ..BASE
};
