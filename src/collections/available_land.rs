//! Available land: computed on request from plans, plots, leases and clearance (no table).

use super::{
    BASE, Collection, PROVINCE_CODE, TileExtra, Tiles, ZONE_CODE, boolean, closed, date, real, text,
};
use crate::domain::ZoneStatus;

pub const AVAILABLE_LAND: Collection = Collection {
    id: "available_land",
    title: "Available land",
    description: "Leasable land not under an active or reserved lease, in contiguous pieces, with how much of \
        each is cleared and has infrastructure ready (computed; slivers under 0.05 ha are left out)",
    table: "",
    spatial: true,
    computed: true,
    editable: false,
    fields: &[
        ZONE_CODE,
        PROVINCE_CODE,
        text("zone_name", "Name of the zone"),
        real("cleared_ha", "Hectares of the piece on handed-over clearance parcels"),
        real("infra_ready_ha", "Hectares of the piece on plots with infrastructure ready"),
        boolean("ready", "All of the piece is cleared and has infrastructure ready"),
        boolean("cleared", "All of the piece is cleared"),
        boolean("wwtp_operating", "The zone's central wastewater plant operates"),
        real("wwtp_capacity_m3d", "The zone's central wastewater plant capacity, m³/day"),
        text("plot_codes", "Plots the piece overlaps"),
        text(
            "recovered_from",
            "Projects whose land the piece was taken back from (lease terminated or revoked by the date), comma separated",
        ),
        date("recovered_on", "The latest date land of the piece was taken back"),
        closed(
            "zone_status",
            "Status of the piece's zone (default: established and operating zones only)",
            ZoneStatus::NAMES,
            &[],
        ),
        real(
            "distance_km",
            "Geodesic distance from the search's near=LON,LAT to the piece, km (only with near)",
        ),
    ],
    tiles: Some(Tiles {
        fields: &[
            ("id", "Id of the piece"),
            ("zone_code", "Code of the zone"),
            ("area_ha", "Area of the piece, hectares"),
            ("ready", "Infrastructure ready on all of the piece"),
            ("cleared", "Cleared (handed over) on all of the piece"),
            ("recovered_from", "Projects whose land the piece was taken back from (absent: none)"),
            ("recovered_on", "The latest date land of the piece was taken back"),
        ],
        min_zoom: 0,
        extra: TileExtra::Computed,
    }),
    ..BASE
};
