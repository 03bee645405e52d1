-- landbank inventory on SQLite.
-- Geometry is kept as GeoJSON text in WGS 84 (EPSG:4326) at full precision; `area_ha` is the geodesic area
-- computed by landbank when the row is written; `<table>_rtree` indexes each row's bounding box (fid = rowid;
-- R*Tree keeps 32-bit floats, rounded outwards), `min_lon` … `max_lat` keep it exactly.
-- Dates are ISO 8601 text (YYYY-MM-DD). Foreign keys are deferred so one transaction can load in any order.

CREATE TABLE provinces (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    province_code TEXT NOT NULL CONSTRAINT provinces_code_unique UNIQUE,
    name TEXT NOT NULL,
    name_en TEXT,
    vn2000_tm3_epsg INTEGER,
    central_meridian REAL,
    geom TEXT, area_ha REAL, source_crs TEXT,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL
);

CREATE TABLE zones (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL CONSTRAINT zones_code_unique UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT zones_kind_check
        CHECK (kind IN ('industrial_park', 'industrial_cluster', 'economic_zone', 'hi_tech_park')),
    province_code TEXT NOT NULL CONSTRAINT zones_province_fk
        REFERENCES provinces (province_code) DEFERRABLE INITIALLY DEFERRED,
    developer TEXT,
    status TEXT NOT NULL CONSTRAINT zones_status_check
        CHECK (status IN ('planned', 'policy_approved', 'established', 'operating', 'suspended', 'cancelled')),
    policy_approved_on TEXT,
    established_on TEXT,
    operating_since TEXT,
    parent_code TEXT CONSTRAINT zones_parent_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    declared_area_ha REAL CONSTRAINT zones_declared_area_check CHECK (declared_area_ha >= 0),
    declared_industrial_ha REAL CONSTRAINT zones_declared_industrial_check CHECK (declared_industrial_ha >= 0),
    wwtp_capacity_m3d REAL,
    wwtp_operating INTEGER,
    geom TEXT, area_ha REAL, source_crs TEXT,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL
);
CREATE INDEX zones_province_idx ON zones (province_code);
CREATE VIRTUAL TABLE zones_rtree USING rtree (fid, min_lon, max_lon, min_lat, max_lat);

CREATE TABLE land_use (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    zone_code TEXT NOT NULL CONSTRAINT land_use_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code TEXT NOT NULL,
    category TEXT NOT NULL CONSTRAINT land_use_category_check
        CHECK (category IN ('industrial', 'warehouse', 'service', 'infrastructure', 'green', 'water', 'road', 'housing_support')),
    plan_ref TEXT,
    valid_from TEXT,
    valid_to TEXT,
    geom TEXT NOT NULL, area_ha REAL NOT NULL, source_crs TEXT NOT NULL,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL
);
CREATE INDEX land_use_zone_idx ON land_use (zone_code);
CREATE INDEX land_use_province_idx ON land_use (province_code);
CREATE VIRTUAL TABLE land_use_rtree USING rtree (fid, min_lon, max_lon, min_lat, max_lat);

CREATE TABLE plots (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    zone_code TEXT NOT NULL CONSTRAINT plots_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code TEXT NOT NULL,
    code TEXT NOT NULL,
    infra_ready_on TEXT,
    geom TEXT NOT NULL, area_ha REAL NOT NULL, source_crs TEXT NOT NULL,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL,
    CONSTRAINT plots_code_unique UNIQUE (zone_code, code)
);
CREATE INDEX plots_province_idx ON plots (province_code);
CREATE VIRTUAL TABLE plots_rtree USING rtree (fid, min_lon, max_lon, min_lat, max_lat);

CREATE TABLE projects (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant_name TEXT NOT NULL,
    origin TEXT NOT NULL CONSTRAINT projects_origin_check CHECK (origin IN ('fdi', 'ddi')),
    country TEXT,
    certificate_no TEXT,
    certificate_on TEXT,
    capital_usd REAL,
    capital_vnd REAL,
    employees INTEGER,
    operating_since TEXT,
    sector TEXT,
    zone_code TEXT CONSTRAINT projects_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code TEXT,
    geom TEXT, area_ha REAL, source_crs TEXT,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL
);
CREATE INDEX projects_zone_idx ON projects (zone_code);

CREATE TABLE leases (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    project_id TEXT CONSTRAINT leases_project_fk REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    zone_code TEXT NOT NULL CONSTRAINT leases_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code TEXT NOT NULL,
    plot_codes TEXT,
    status TEXT NOT NULL CONSTRAINT leases_status_check CHECK (status IN ('reserved', 'active', 'terminated', 'revoked')),
    signed_on TEXT,
    start_on TEXT,
    end_on TEXT,
    handed_over_on TEXT,
    geom TEXT NOT NULL, area_ha REAL NOT NULL, source_crs TEXT NOT NULL,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL
);
CREATE INDEX leases_zone_idx ON leases (zone_code);
CREATE INDEX leases_province_idx ON leases (province_code);
CREATE VIRTUAL TABLE leases_rtree USING rtree (fid, min_lon, max_lon, min_lat, max_lat);

CREATE TABLE clearance_parcels (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    zone_code TEXT NOT NULL CONSTRAINT clearance_parcels_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code TEXT NOT NULL,
    sheet_no TEXT NOT NULL,
    parcel_no TEXT NOT NULL,
    land_type TEXT,
    owner_kind TEXT CONSTRAINT clearance_parcels_owner_kind_check CHECK (owner_kind IN ('household', 'organisation', 'state')),
    owner_name TEXT,
    status TEXT NOT NULL CONSTRAINT clearance_parcels_status_check
        CHECK (status IN ('not_started', 'inventoried', 'compensation_approved', 'compensated', 'handed_over')),
    compensation_vnd REAL,
    inventoried_on TEXT,
    compensated_on TEXT,
    handed_over_on TEXT,
    geom TEXT NOT NULL, area_ha REAL NOT NULL, source_crs TEXT NOT NULL,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL,
    CONSTRAINT clearance_parcels_number_unique UNIQUE (zone_code, sheet_no, parcel_no)
);
CREATE INDEX clearance_parcels_province_idx ON clearance_parcels (province_code);
CREATE VIRTUAL TABLE clearance_parcels_rtree USING rtree (fid, min_lon, max_lon, min_lat, max_lat);

-- A counter bumped by every write: caches (tiles, occupancy) key on it.
CREATE TABLE data_version (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
INSERT INTO data_version VALUES (1, 0);
