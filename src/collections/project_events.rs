//! The investment register: dated decisions on projects (certificate, adjustments, suspension,
//! termination, revocation), from which a project's capital and status on any date follow.

use super::{BASE, Check, Collection, PROVINCE_CODE, ZONE_CODE, closed, date, real, text};
use crate::domain::{ProjectEvent, ProjectEventKind};

pub const PROJECT_EVENTS: Collection = Collection {
    id: "project_events",
    title: "Project events",
    description: "The investment register: each project's certificate, adjustments (capital up or down in USD \
        and VND, land area, sector, committed dates), suspensions, terminations and revocations, with the decision's number \
        and date. Terminating or revoking a project ends its leases on that date and returns their land",
    table: "project_events",
    fields: &[
        text("project_id", "The project decided on"),
        ZONE_CODE,
        PROVINCE_CODE,
        closed(
            "kind",
            "certified, adjusted, suspended, resumed, terminated or revoked",
            ProjectEventKind::NAMES,
            &[
                (
                    "certified",
                    &["cap moi", "cap giay chung nhan", "cap gcn", "cap moi gcndkdt", "dang ky moi"],
                ),
                ("adjusted", &["dieu chinh", "dieu chinh gcn", "dieu chinh von", "tang von", "giam von"]),
                ("suspended", &["tam ngung", "tam dung", "ngung hoat dong"]),
                ("resumed", &["hoat dong tro lai", "tiep tuc hoat dong"]),
                ("terminated", &["cham dut", "cham dut hoat dong", "thanh ly"]),
                ("revoked", &["thu hoi", "thu hoi gcn", "thu hoi giay chung nhan"]),
            ],
        ),
        date("decided_on", "Date of the decision (it takes effect that day)"),
        text("decision_no", "Number of the decision or certificate"),
        real("capital_usd_change", "Registered capital added, USD (negative: taken off; source: declared)"),
        real("capital_vnd_change", "Registered capital added, VND (negative: taken off; source: declared)"),
        real("land_ha", "The project's land area from this decision on, hectares (source: declared)"),
        text("sector", "The project's sector from this decision on"),
        date("land_handover_by", "Committed: land handed over by this date"),
        date("construction_by", "Committed: construction started by this date"),
        date("operation_by", "Committed: operating by this date"),
        text("reason", "Why (suspension, termination, revocation)"),
    ],
    checks: &[Check::ProjectDecision],
    canonical: super::canonical::<ProjectEvent>,
    id_letter: "E",
    // An event exists from its date.
    as_of: Some(|p, at| Ok(super::parse::<ProjectEvent>(p)?.decided_on <= at)),
    aliases: &[
        ("project_id", &["maduan", "duan", "idduan"]),
        ("kind", &["loai", "loaisukien", "noidung", "hinhthuc"]),
        ("decided_on", &["ngay", "ngayqd", "ngayquyetdinh", "ngaycap", "ngaydieuchinh"]),
        ("decision_no", &["soquyetdinh", "soqd", "sogcn", "so"]),
        ("capital_usd_change", &["vonusd", "tangvonusd", "vondieuchinhusd"]),
        ("capital_vnd_change", &["vonvnd", "tangvonvnd", "vondieuchinhvnd"]),
        ("land_ha", &["dientich", "dientichdat", "dientichha", "dientichdatha"]),
        ("reason", &["lydo"]),
    ],
    ..BASE
};
