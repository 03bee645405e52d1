//! Plots (lô đất) of the zones: what is leased.

use super::{BASE, Check, Collection, PROVINCE_CODE, TileExtra, Tiles, ZONE_CODE, date, text, text_of};
use crate::domain::Plot;

pub const PLOTS: Collection = Collection {
    id: "plots",
    title: "Plots",
    description: "Plots (lô đất) of the zones",
    table: "plots",
    spatial: true,
    fields: &[
        ZONE_CODE,
        PROVINCE_CODE,
        text("code", "Plot code, unique within its zone"),
        date("infra_ready_on", "Date the technical infrastructure was completed"),
    ],
    checks: &[Check::InsideZone, Check::NoOverlap],
    canonical: super::canonical::<Plot>,
    natural_id: |p| Some(format!("{}-{}", text_of(p, "zone_code")?, text_of(p, "code")?)),
    tiles: Some(Tiles {
        fields: &[
            ("code", "Code of the plot in its zone"),
            ("zone_code", "Code of the zone"),
            ("lease_status", "active, reserved or free at the date"),
        ],
        min_zoom: 12,
        extra: TileExtra::LeaseStatus,
    }),
    ..BASE
};
