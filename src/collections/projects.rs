//! Tenants' investment projects (FDI and DDI).

use super::{BASE, Collection, PROVINCE_CODE, ZONE_CODE, closed, date, integer, parse, private, real, text};
use crate::domain::{Origin, Project};

pub const PROJECTS: Collection = Collection {
    id: "projects",
    title: "Investment projects",
    description: "Tenants' investment projects (FDI and DDI), without geometry",
    table: "projects",
    fields: &[
        text("tenant_name", "Tenant"),
        closed(
            "origin",
            "fdi or ddi",
            Origin::NAMES,
            &[("fdi", &["von nuoc ngoai", "nuoc ngoai"]), ("ddi", &["trong nuoc", "von trong nuoc"])],
        ),
        text("country", "Investor's country, ISO 3166-1 alpha-2"),
        text("certificate_no", "Investment registration certificate number"),
        date("certificate_on", "Date of the certificate"),
        real("capital_usd", "Registered capital, USD (declared)"),
        real("capital_vnd", "Registered capital, VND (declared)"),
        integer("employees", "Employees"),
        date("operating_since", "Date the project started operating"),
        date("construction_started_on", "Date construction started"),
        text("sector", "Sector"),
        ZONE_CODE,
        PROVINCE_CODE,
        private(text("contact_name", "Contact person (private: planners only)")),
        private(text("contact_phone", "Contact telephone (private: planners only)")),
        private(text("contact_email", "Contact e-mail (private: planners only)")),
    ],
    canonical: super::canonical::<Project>,
    // A project exists from its certificate.
    as_of: Some(|p, at| Ok(parse::<Project>(p)?.certificate_on.is_none_or(|d| d <= at))),
    ..BASE
};
