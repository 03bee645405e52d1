//! The collections landbank serves and stores, described once: their fields, types and which ones can filter.
//!
//! Both the stores (table and column names) and the HTTP layer (OGC API metadata, queryables, OpenAPI)
//! read these descriptions, so a field added here appears everywhere at once.

use crate::domain::parse_date;

/// How a field is stored and served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// A floating-point number; its unit is in the field's name (`_ha`, `_usd`, `_m3d`).
    Real,
    Integer,
    /// An ISO 8601 date, `YYYY-MM-DD`.
    Date,
    Bool,
}

impl FieldKind {
    /// JSON Schema type of the field.
    pub fn json_type(self) -> &'static str {
        match self {
            FieldKind::Text | FieldKind::Date => "string",
            FieldKind::Real => "number",
            FieldKind::Integer => "integer",
            FieldKind::Bool => "boolean",
        }
    }
}

/// One attribute of a collection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub kind: FieldKind,
    pub description: &'static str,
    /// Personal or commercial data (owners, contacts, compensation): served to planners and admins only;
    /// for anyone else the field is absent.
    pub private: bool,
}

/// A value parsed for a filter, typed by its field.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Real(f64),
    Integer(i64),
    Bool(bool),
}

impl Field {
    /// Parses a filter value given as text, naming the field and the expected form when it does not fit.
    pub fn parse_filter(&self, text: &str) -> Result<FilterValue, String> {
        let fail = |what: &str| format!("filter {}='{text}': expected {what}", self.name);
        Ok(match self.kind {
            FieldKind::Text => FilterValue::Text(text.to_string()),
            FieldKind::Date => FilterValue::Text(
                parse_date(text).map_err(|e| format!("filter {}: {e}", self.name))?.to_string(),
            ),
            FieldKind::Real => FilterValue::Real(text.parse().map_err(|_| fail("a number"))?),
            FieldKind::Integer => FilterValue::Integer(text.parse().map_err(|_| fail("an integer"))?),
            FieldKind::Bool => FilterValue::Bool(match text {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(fail("true or false")),
            }),
        })
    }
}

/// The values a field of a closed vocabulary takes.
pub fn vocabulary(collection: &str, field: &str) -> Option<Vec<&'static str>> {
    use crate::domain::*;
    fn all<T: Copy>(values: &[T], name: fn(T) -> &'static str) -> Option<Vec<&'static str>> {
        Some(values.iter().map(|v| name(*v)).collect())
    }
    match (collection, field) {
        ("zones", "kind") => all(ZoneKind::ALL, ZoneKind::as_str),
        ("zones", "status") | ("available_land", "zone_status") => all(ZoneStatus::ALL, ZoneStatus::as_str),
        ("land_use", "category") => all(LandUseCategory::ALL, LandUseCategory::as_str),
        ("leases", "status") => all(LeaseStatus::ALL, LeaseStatus::as_str),
        ("plots", "lease_status") => Some(vec!["active", "reserved", "free"]),
        ("clearance_parcels", "status") => all(ClearanceStatus::ALL, ClearanceStatus::as_str),
        ("clearance_parcels", "owner_kind") => all(OwnerKind::ALL, OwnerKind::as_str),
        ("projects", "origin") => all(Origin::ALL, Origin::as_str),
        ("targets", "metric") => all(TargetMetric::ALL, TargetMetric::as_str),
        _ => None,
    }
}

/// A collection: a table of features (or of plain records when it has no geometry).
#[derive(Debug)]
pub struct Collection {
    /// Identifier in URLs, e.g. `zones`.
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// Table name in every store.
    pub table: &'static str,
    /// Whether records carry a polygon geometry (and so `area_ha` and a bounding-box index).
    pub spatial: bool,
    /// Whether OGC API - Features lists it under `/collections`.
    pub published: bool,
    /// Computed from other collections on request (no table of its own).
    pub computed: bool,
    pub fields: &'static [Field],
}

impl Collection {
    /// The field called `name`, if any.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether any field is private (see [`Field::private`]).
    pub fn has_private_fields(&self) -> bool {
        self.fields.iter().any(|f| f.private)
    }

    /// Fields usable as filters: every stored field anyone may read (private fields, such as a parcel's
    /// owner, are never filters: a match would tell what they hold).
    /// Spatial collections add the measured `area_ha` of every record's geometry (for computed
    /// available land: the piece's available hectares). `filter=` takes all of them.
    pub fn queryables(&self) -> impl Iterator<Item = &'static Field> + '_ {
        let area = (self.spatial && self.field(AREA_HA.name).is_none()).then_some(&AREA_HA);
        let lease_status = (self.id == PLOTS.id).then_some(&LEASE_STATUS);
        self.fields.iter().filter(|f| !f.private).chain(area).chain(lease_status)
    }

    /// Whether `field` is computed on request from other collections (a plot's `lease_status`), so
    /// that no store can filter on it.
    pub fn is_computed(&self, field: &str) -> bool {
        self.id == PLOTS.id && field == LEASE_STATUS.name
    }

    /// The queryables that are also query parameters of their own (`?zone_code=BN-QV1`): all of a
    /// stored collection's; computed available land takes those `/available` takes.
    pub fn equality_filters(&self) -> impl Iterator<Item = &'static Field> + '_ {
        let computed_filters: &[&str] = &["province_code", "zone_code", "ready", "cleared", "wwtp_operating"];
        self.queryables().filter(move |f| !self.computed || computed_filters.contains(&f.name))
    }

    /// The field a filter may name `name`: a queryable, or the record's `id`.
    pub fn filter_field(&self, name: &str) -> Option<&'static Field> {
        if name == ID.name {
            return Some(&ID);
        }
        self.queryables().find(|f| f.name == name)
    }

    /// Every field a filter may name (see [`Collection::filter_field`]).
    pub fn filter_fields(&self) -> impl Iterator<Item = &'static Field> + '_ {
        std::iter::once(&ID).chain(self.queryables())
    }

    /// The JSON Schema of a queryable: its type, `format: date` for dates, the values of a closed
    /// vocabulary, and `x-ogc-unit` where the name says it (`_ha`, `_usd`, `_vnd`, `_m3d`).
    pub fn schema_of(&self, field: &Field) -> serde_json::Value {
        let mut schema =
            serde_json::json!({ "type": field.kind.json_type(), "description": field.description });
        if field.kind == FieldKind::Date {
            schema["format"] = "date".into();
        }
        if let Some(values) = vocabulary(self.id, field.name) {
            schema["enum"] = values.into();
        }
        let unit = [("_ha", "ha"), ("_usd", "USD"), ("_vnd", "VND"), ("_m3d", "m3/d")]
            .iter()
            .find(|(suffix, _)| field.name.ends_with(suffix))
            .map(|(_, unit)| *unit);
        if let Some(unit) = unit {
            schema["x-ogc-unit"] = unit.into();
        }
        schema
    }
}

const fn text(name: &'static str, description: &'static str) -> Field {
    Field { name, kind: FieldKind::Text, description, private: false }
}
const fn real(name: &'static str, description: &'static str) -> Field {
    Field { name, kind: FieldKind::Real, description, private: false }
}
const fn date(name: &'static str, description: &'static str) -> Field {
    Field { name, kind: FieldKind::Date, description, private: false }
}

/// Every record's identifier, as a filter sees it.
pub static ID: Field = text("id", "Identifier of the record");

/// A plot's lease status on a date (`at`, default today), computed from the leases on it: `active`,
/// `reserved` or `free`.
pub static LEASE_STATUS: Field = text(
    "lease_status",
    "Lease status of the plot on the date (at=, default today): active, reserved or free (computed)",
);

/// The geodesic area of a spatial record's geometry, measured when it was written.
pub static AREA_HA: Field = real("area_ha", "Geodesic area of the geometry in hectares (source: measured)");

const fn private(field: Field) -> Field {
    Field { private: true, ..field }
}

const PROVINCE_CODE: Field = text("province_code", "ISO 3166-2:VN code of the province, e.g. VN-56");
const ZONE_CODE: Field = text("zone_code", "Code of the zone");

pub const PROVINCES: Collection = Collection {
    id: "provinces",
    title: "Provinces",
    description: "Vietnam's provincial-level units before and after the mergers of 01/07/2025 (Resolution 202/2025/QH15): 63 until 30/06/2025, 34 from 01/07/2025, with successors and VN-2000 TM-3 zones. Reference data shipped with landbank; no boundary geometry.",
    table: "provinces",
    spatial: false,
    published: true,
    computed: false,
    fields: &[
        PROVINCE_CODE,
        text("name", "Name (Vietnamese)"),
        text("name_en", "Name (English)"),
        Field {
            name: "vn2000_tm3_epsg",
            kind: FieldKind::Integer,
            description: "EPSG code of the VN-2000 3° TM zone",
            private: false,
        },
        real("central_meridian", "Central meridian of that zone, degrees east"),
        text("gso_code", "Code of the General Statistics Office (two digits)"),
        text("kind", "province, or city (centrally-run)"),
        date("valid_from", "First day the unit exists (empty: before any data landbank keeps)"),
        date("valid_to", "First day the unit no longer exists (empty: it still does)"),
        text("successor_code", "The unit it became part of on valid_to"),
        text("predecessor_codes", "The units it was formed from, comma separated"),
    ],
};

pub const ZONES: Collection = Collection {
    id: "zones",
    title: "Industrial zones",
    description: "Industrial parks, clusters, economic zones and hi-tech parks with their boundaries (khu công nghiệp)",
    table: "zones",
    spatial: true,
    published: true,
    computed: false,
    fields: &[
        text("code", "Unique zone code"),
        text("name", "Name (Vietnamese)"),
        text("kind", "industrial_park, industrial_cluster, economic_zone or hi_tech_park"),
        PROVINCE_CODE,
        text("developer", "Infrastructure developer (chủ đầu tư hạ tầng)"),
        text("status", "planned, policy_approved, established, operating, suspended or cancelled"),
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
        Field {
            name: "wwtp_operating",
            kind: FieldKind::Bool,
            description: "Whether the central wastewater plant operates",
            private: false,
        },
    ],
};

pub const LAND_USE: Collection = Collection {
    id: "land_use",
    title: "Land-use plan",
    description: "Polygons of the zones' zoning (1/2000) and detailed (1/500) plans, by category, with validity dates",
    table: "land_use",
    spatial: true,
    published: true,
    computed: false,
    fields: &[
        ZONE_CODE,
        PROVINCE_CODE,
        text(
            "category",
            "industrial, warehouse, service, infrastructure, green, water, road or housing_support",
        ),
        text("plan_ref", "Plan decision number and scale"),
        date("valid_from", "First day the plan applies"),
        date("valid_to", "First day the plan no longer applies"),
    ],
};

pub const PLOTS: Collection = Collection {
    id: "plots",
    title: "Plots",
    description: "Plots (lô đất) of the zones",
    table: "plots",
    spatial: true,
    published: true,
    computed: false,
    fields: &[
        ZONE_CODE,
        PROVINCE_CODE,
        text("code", "Plot code, unique within its zone"),
        date("infra_ready_on", "Date the technical infrastructure was completed"),
    ],
};

pub const PROJECTS: Collection = Collection {
    id: "projects",
    title: "Investment projects",
    description: "Tenants' investment projects (FDI and DDI), without geometry",
    table: "projects",
    spatial: false,
    published: true,
    computed: false,
    fields: &[
        text("tenant_name", "Tenant"),
        text("origin", "fdi or ddi"),
        text("country", "Investor's country, ISO 3166-1 alpha-2"),
        text("certificate_no", "Investment registration certificate number"),
        date("certificate_on", "Date of the certificate"),
        real("capital_usd", "Registered capital, USD (declared)"),
        real("capital_vnd", "Registered capital, VND (declared)"),
        Field { name: "employees", kind: FieldKind::Integer, description: "Employees", private: false },
        date("operating_since", "Date the project started operating"),
        text("sector", "Sector"),
        ZONE_CODE,
        PROVINCE_CODE,
        private(text("contact_name", "Contact person (private: planners only)")),
        private(text("contact_phone", "Contact telephone (private: planners only)")),
        private(text("contact_email", "Contact e-mail (private: planners only)")),
    ],
};

pub const LEASES: Collection = Collection {
    id: "leases",
    title: "Leases",
    description: "Leases and subleases of land to projects (cho thuê lại đất), with their status and dates",
    table: "leases",
    spatial: true,
    published: true,
    computed: false,
    fields: &[
        text("project_id", "Project holding the lease"),
        ZONE_CODE,
        PROVINCE_CODE,
        text("plot_codes", "Plots leased, comma separated"),
        text("status", "reserved, active, terminated or revoked"),
        date("signed_on", "Date the lease was signed"),
        date("start_on", "Date the lease started"),
        date("end_on", "Date the lease ends or ended (terminated, revoked)"),
        date("handed_over_on", "Date the land was handed over to the tenant"),
    ],
};

pub const CLEARANCE_PARCELS: Collection = Collection {
    id: "clearance_parcels",
    title: "Clearance parcels",
    description: "Land parcels to compensate and clear (bồi thường, giải phóng mặt bằng)",
    table: "clearance_parcels",
    spatial: true,
    published: true,
    computed: false,
    fields: &[
        ZONE_CODE,
        PROVINCE_CODE,
        text("sheet_no", "Cadastral map sheet (tờ bản đồ)"),
        text("parcel_no", "Parcel number (thửa đất số)"),
        text("land_type", "Cadastral land type code"),
        text("owner_kind", "household, organisation or state"),
        private(text("owner_name", "Owner (private: planners only)")),
        text("status", "not_started, inventoried, compensation_approved, compensated or handed_over"),
        private(real("compensation_vnd", "Compensation, VND (private: planners only)")),
        date("inventoried_on", "Date of the inventory"),
        date("compensated_on", "Date compensation was paid"),
        date("handed_over_on", "Date the cleared land was handed over"),
    ],
};

pub const AVAILABLE_LAND: Collection = Collection {
    id: "available_land",
    title: "Available land",
    description: "Leasable land not under an active or reserved lease, in contiguous pieces, with how much of \
        each is cleared and has infrastructure ready (computed; slivers under 0.05 ha are left out)",
    table: "",
    spatial: true,
    published: true,
    computed: true,
    fields: &[
        ZONE_CODE,
        PROVINCE_CODE,
        text("zone_name", "Name of the zone"),
        real("cleared_ha", "Hectares of the piece on handed-over clearance parcels"),
        real("infra_ready_ha", "Hectares of the piece on plots with infrastructure ready"),
        Field {
            name: "ready",
            kind: FieldKind::Bool,
            description: "All of the piece is cleared and has infrastructure ready",
            private: false,
        },
        Field {
            name: "cleared",
            kind: FieldKind::Bool,
            description: "All of the piece is cleared",
            private: false,
        },
        Field {
            name: "wwtp_operating",
            kind: FieldKind::Bool,
            description: "The zone's central wastewater plant operates",
            private: false,
        },
        real("wwtp_capacity_m3d", "The zone's central wastewater plant capacity, m³/day"),
        text("plot_codes", "Plots the piece overlaps"),
        text("zone_status", "Status of the piece's zone (default: established and operating zones only)"),
        real(
            "distance_km",
            "Geodesic distance from the search's near=LON,LAT to the piece, km (only with near)",
        ),
    ],
};

/// Every collection, in the order data must be loaded (references point backwards).
pub const TARGETS: Collection = Collection {
    id: "targets",
    title: "Plan targets",
    description: "A province's targets for a year (chỉ tiêu kế hoạch): infrastructure hectares, registered capital, \
        projects starting operation, new jobs",
    table: "targets",
    spatial: false,
    published: true,
    computed: false,
    fields: &[
        PROVINCE_CODE,
        Field {
            name: "year",
            kind: FieldKind::Integer,
            description: "Calendar year of the target",
            private: false,
        },
        text(
            "metric",
            "infrastructure_ha, capital_usd, capital_vnd, projects_new, projects_operating or new_jobs",
        ),
        real("value", "Target value, in the metric's unit (hectares, USD, VND, projects, jobs)"),
        text("plan_ref", "The decision or plan that set the target"),
    ],
};

pub const ALL: &[&Collection] = &[
    &PROVINCES,
    &ZONES,
    &LAND_USE,
    &PLOTS,
    &PROJECTS,
    &LEASES,
    &CLEARANCE_PARCELS,
    &TARGETS,
    &AVAILABLE_LAND,
];

/// The collection called `id` that OGC API - Features publishes.
pub fn published(id: &str) -> Option<&'static Collection> {
    ALL.iter().copied().find(|c| c.published && c.id == id)
}

/// Names of the published collections, for error messages.
pub fn published_ids() -> Vec<&'static str> {
    ALL.iter().filter(|c| c.published).map(|c| c.id).collect()
}
