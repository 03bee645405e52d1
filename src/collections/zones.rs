//! Industrial zones: boundaries, status over time, declared areas.

use super::{
    BASE, Check, Collection, PROVINCE_CODE, PropertyError, TileExtra, Tiles, boolean, closed, date, parse,
    real, text, text_of,
};
use crate::domain::{Zone, ZoneKind, ZoneStatus};

pub const ZONES: Collection = Collection {
    id: "zones",
    title: "Industrial zones",
    description: "Industrial parks, clusters, economic zones and hi-tech parks with their boundaries (khu công nghiệp)",
    table: "zones",
    spatial: true,
    // A zone may be registered before its boundary is drawn.
    geometry_optional: true,
    fields: &[
        text("code", "Unique zone code"),
        text("name", "Name (Vietnamese)"),
        closed(
            "kind",
            "industrial_park, industrial_cluster, economic_zone or hi_tech_park",
            ZoneKind::NAMES,
            &[
                ("industrial_park", &["khu cong nghiep", "kcn"]),
                ("industrial_cluster", &["cum cong nghiep", "ccn"]),
                ("economic_zone", &["khu kinh te", "kkt"]),
                ("hi_tech_park", &["khu cong nghe cao", "kcnc"]),
            ],
        ),
        PROVINCE_CODE,
        text("developer", "Infrastructure developer (chủ đầu tư hạ tầng)"),
        closed(
            "status",
            "planned, policy_approved, established, operating, suspended or cancelled",
            ZoneStatus::NAMES,
            &[
                ("planned", &["quy hoach", "trong quy hoach", "du kien"]),
                ("policy_approved", &["chu truong dau tu", "da co chu truong", "da co chu truong dau tu"]),
                ("established", &["thanh lap", "da thanh lap", "dang xay dung", "dang trien khai"]),
                ("operating", &["hoat dong", "dang hoat dong", "da di vao hoat dong"]),
                ("suspended", &["tam dung", "tam ngung"]),
                ("cancelled", &["huy bo", "da huy", "bai bo", "loai khoi quy hoach"]),
            ],
        ),
        date("policy_approved_on", "Date the investment policy was approved"),
        date("established_on", "Date the zone was established"),
        date("operating_since", "Date the zone started operating"),
        text("parent_code", "Zone this one is a phase or expansion of"),
        real("declared_area_ha", "Total area from the legal documents, hectares (source: declared)"),
        real(
            "declared_industrial_ha",
            "Industrial land from the legal documents, hectares (source: declared)",
        ),
        real("wwtp_capacity_m3d", "Central wastewater treatment plant capacity, m³/day"),
        boolean("wwtp_operating", "Whether the central wastewater plant operates"),
    ],
    zone_key: Some("code"),
    checks: &[Check::ParentZone],
    canonical: |p| {
        let map = super::canonical::<Zone>(p)?;
        let zone: Zone = parse(&map).map_err(|e| PropertyError { field: None, missing: false, reason: e })?;
        crate::rules::zone_province(&zone).map_err(|e| PropertyError::field("province_code", e))?;
        Ok(map)
    },
    natural_id: |p| text_of(p, "code").map(str::to_string),
    as_of: Some(|p, at| {
        let zone: Zone = parse(p)?;
        p.insert("status".into(), zone.status_at(at).as_str().into());
        Ok(true)
    }),
    tiles: Some(Tiles {
        fields: &[
            ("code", "Code of the zone"),
            ("name", "Name of the zone"),
            ("status", "Status at the date"),
            ("province_code", "The provincial-level unit holding the zone on the date"),
            ("leasable_ha", "Leasable industrial land, hectares"),
            ("leased_ha", "Leased land, hectares"),
            ("available_ha", "Available land, hectares"),
            ("occupancy_pct", "Occupancy at the date, percent (absent without leasable land)"),
        ],
        min_zoom: 0,
        extra: TileExtra::ZoneFigures,
    }),
    aliases: &[("code", &["makcn", "makhu", "ma", "kyhieu"])],
    ..BASE
};
