//! Leases and subleases of land to projects.

use super::{BASE, Check, Collection, PROVINCE_CODE, TileExtra, Tiles, ZONE_CODE, closed, date, parse, text};
use crate::domain::{Lease, LeaseStatus};

pub const LEASES: Collection = Collection {
    id: "leases",
    title: "Leases",
    description: "Leases and subleases of land to projects (cho thuê lại đất), with their status and dates",
    table: "leases",
    spatial: true,
    fields: &[
        text("project_id", "Project holding the lease"),
        ZONE_CODE,
        PROVINCE_CODE,
        text("plot_codes", "Plots leased, comma separated"),
        closed(
            "status",
            "reserved, active, terminated or revoked",
            LeaseStatus::NAMES,
            &[
                ("reserved", &["dat cho", "giu cho", "da dat coc", "dang dam phan", "thoa thuan nguyen tac"]),
                (
                    "active",
                    &["da cho thue", "dang thue", "cho thue", "con hieu luc", "hieu luc", "dang hoat dong"],
                ),
                ("terminated", &["cham dut", "da cham dut", "thanh ly", "da thanh ly", "het han"]),
                ("revoked", &["thu hoi", "bi thu hoi", "da thu hoi"]),
            ],
        ),
        date("signed_on", "Date the lease was signed"),
        date("start_on", "Date the lease started"),
        date("end_on", "Date the lease ends or ended (terminated, revoked)"),
        date("handed_over_on", "Date the land was handed over to the tenant"),
    ],
    checks: &[Check::InsideZone, Check::LeasedPlots],
    canonical: super::canonical::<Lease>,
    id_letter: "L",
    // A lease exists while it holds its land (reserved or active), with that status.
    as_of: Some(|p, at| match parse::<Lease>(p)?.state_at(at).status() {
        Some(status) => {
            p.insert("status".into(), status.into());
            Ok(true)
        }
        None => Ok(false),
    }),
    tiles: Some(Tiles {
        fields: &[("status", "active or reserved at the date"), ("zone_code", "Code of the zone")],
        min_zoom: 12,
        extra: TileExtra::None,
    }),
    ..BASE
};
