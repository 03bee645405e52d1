//! Land parcels to compensate and clear before a zone can lease them.

use super::{
    BASE, Check, Collection, PROVINCE_CODE, TileExtra, Tiles, ZONE_CODE, closed, date, parse, private, real,
    text, text_of,
};
use crate::domain::{ClearanceParcel, ClearanceStatus, OwnerKind};

pub const CLEARANCE_PARCELS: Collection = Collection {
    id: "clearance_parcels",
    title: "Clearance parcels",
    description: "Land parcels to compensate and clear (bồi thường, giải phóng mặt bằng)",
    table: "clearance_parcels",
    spatial: true,
    fields: &[
        ZONE_CODE,
        PROVINCE_CODE,
        text("sheet_no", "Cadastral map sheet (tờ bản đồ)"),
        text("parcel_no", "Parcel number (thửa đất số)"),
        text("land_type", "Cadastral land type code"),
        closed(
            "owner_kind",
            "household, organisation or state",
            OwnerKind::NAMES,
            &[
                ("household", &["ho gia dinh", "ho gia dinh, ca nhan", "ca nhan", "hgd"]),
                ("organisation", &["to chuc", "doanh nghiep"]),
                ("state", &["nha nuoc", "dat cong", "ubnd xa"]),
            ],
        ),
        private(text("owner_name", "Owner (private: planners only)")),
        closed(
            "status",
            "not_started, inventoried, compensation_approved, compensated or handed_over",
            ClearanceStatus::NAMES,
            &[
                ("not_started", &["chua thuc hien", "chua bat dau", "chua giai phong"]),
                ("inventoried", &["kiem dem", "da kiem dem"]),
                (
                    "compensation_approved",
                    &["da phe duyet phuong an", "phe duyet phuong an", "da phe duyet boi thuong"],
                ),
                ("compensated", &["da boi thuong", "da chi tra", "da chi tra boi thuong"]),
                ("handed_over", &["da ban giao", "ban giao", "da giai phong mat bang", "hoan thanh"]),
            ],
        ),
        private(real("compensation_vnd", "Compensation, VND (private: planners only)")),
        date("inventoried_on", "Date of the inventory"),
        date("compensated_on", "Date compensation was paid"),
        date("handed_over_on", "Date the cleared land was handed over"),
    ],
    checks: &[Check::InsideZone],
    canonical: super::canonical::<ClearanceParcel>,
    natural_id: |p| {
        Some(format!(
            "{}-T{}-{}",
            text_of(p, "zone_code")?,
            text_of(p, "sheet_no")?,
            text_of(p, "parcel_no")?
        ))
    },
    as_of: Some(|p, at| {
        let parcel: ClearanceParcel = parse(p)?;
        p.insert("status".into(), parcel.status_at(at).as_str().into());
        Ok(true)
    }),
    tiles: Some(Tiles {
        fields: &[
            ("status", "Clearance status at the date"),
            ("zone_code", "Code of the zone"),
            ("sheet_no", "Cadastral map sheet number"),
            ("parcel_no", "Parcel number on the sheet"),
        ],
        min_zoom: 12,
        extra: TileExtra::None,
    }),
    ..BASE
};
