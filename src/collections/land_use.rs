//! The zones' land-use plans (1/2000 zoning and 1/500 detailed plans), valid between dates.

use super::{BASE, Check, Collection, PROVINCE_CODE, TileExtra, Tiles, ZONE_CODE, closed, date, parse, text};
use crate::domain::{LandUse, LandUseCategory};

pub const LAND_USE: Collection = Collection {
    id: "land_use",
    title: "Land-use plan",
    description: "Polygons of the zones' zoning (1/2000) and detailed (1/500) plans, by category, with validity dates",
    table: "land_use",
    spatial: true,
    fields: &[
        ZONE_CODE,
        PROVINCE_CODE,
        closed(
            "category",
            "industrial, warehouse, service, infrastructure, green, water, road or housing_support",
            LandUseCategory::NAMES,
            &[
                ("industrial", &["dat cong nghiep", "cong nghiep", "dat nha may", "skk", "skc"]),
                ("warehouse", &["kho bai", "dat kho bai", "kho tang"]),
                ("service", &["dich vu", "dat dich vu", "dieu hanh dich vu"]),
                ("infrastructure", &["ha tang ky thuat", "dat ha tang", "dau moi ha tang"]),
                ("green", &["cay xanh", "dat cay xanh", "mat nuoc cay xanh"]),
                ("water", &["mat nuoc", "dat mat nuoc"]),
                ("road", &["giao thong", "dat giao thong", "duong"]),
                ("housing_support", &["nha o", "nha o cong nhan", "luu tru cong nhan"]),
            ],
        ),
        text("plan_ref", "Plan decision number and scale"),
        date("valid_from", "First day the plan applies"),
        date("valid_to", "First day the plan no longer applies"),
    ],
    checks: &[Check::InsideZone],
    canonical: super::canonical::<LandUse>,
    // A plan exists on the days it is in force.
    as_of: Some(|p, at| Ok(parse::<LandUse>(p)?.valid_at(at))),
    tiles: Some(Tiles {
        fields: &[("category", "Land-use category"), ("zone_code", "Code of the zone")],
        min_zoom: 0,
        extra: TileExtra::None,
    }),
    ..BASE
};
