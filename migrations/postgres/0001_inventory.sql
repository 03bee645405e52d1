-- landbank inventory on PostgreSQL/PostGIS.
-- Geometries are real `geometry(MultiPolygon, 4326)` columns with GiST indexes, so QGIS and ogr2ogr can open
-- the tables directly. `area_ha` is the geodesic area (WGS 84) computed by landbank when the row is written.
-- Every feature table carries `province_code`: the natural distribution key (see README, Citus).
-- Foreign keys are deferred so one transaction can load in any order.

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE provinces (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    province_code text NOT NULL CONSTRAINT provinces_code_unique UNIQUE,
    name text NOT NULL,
    name_en text,
    vn2000_tm3_epsg bigint,
    central_meridian double precision,
    geom geometry(MultiPolygon, 4326), area_ha double precision, source_crs text
);
COMMENT ON TABLE provinces IS 'Provinces (ISO 3166-2:VN) and their VN-2000 TM-3 projection';

CREATE TABLE zones (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    code text NOT NULL CONSTRAINT zones_code_unique UNIQUE,
    name text NOT NULL,
    kind text NOT NULL CONSTRAINT zones_kind_check
        CHECK (kind IN ('industrial_park', 'industrial_cluster', 'economic_zone', 'hi_tech_park')),
    province_code text NOT NULL CONSTRAINT zones_province_fk
        REFERENCES provinces (province_code) DEFERRABLE INITIALLY DEFERRED,
    developer text,
    status text NOT NULL CONSTRAINT zones_status_check
        CHECK (status IN ('planned', 'policy_approved', 'established', 'operating', 'suspended', 'cancelled')),
    policy_approved_on date,
    established_on date,
    operating_since date,
    parent_code text CONSTRAINT zones_parent_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    declared_area_ha double precision CONSTRAINT zones_declared_area_check CHECK (declared_area_ha >= 0),
    declared_industrial_ha double precision CONSTRAINT zones_declared_industrial_check CHECK (declared_industrial_ha >= 0),
    wwtp_capacity_m3d double precision,
    wwtp_operating boolean,
    geom geometry(MultiPolygon, 4326), area_ha double precision, source_crs text
);
COMMENT ON TABLE zones IS 'Industrial zones (khu công nghiệp) with their boundaries';
CREATE INDEX zones_province_idx ON zones (province_code);
CREATE INDEX zones_geom_idx ON zones USING gist (geom);

CREATE TABLE land_use (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    zone_code text NOT NULL CONSTRAINT land_use_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code text NOT NULL,
    category text NOT NULL CONSTRAINT land_use_category_check
        CHECK (category IN ('industrial', 'warehouse', 'service', 'infrastructure', 'green', 'water', 'road', 'housing_support')),
    plan_ref text,
    valid_from date,
    valid_to date,
    geom geometry(MultiPolygon, 4326) NOT NULL, area_ha double precision NOT NULL, source_crs text NOT NULL
);
COMMENT ON TABLE land_use IS 'Land-use plan polygons (quy hoạch 1/2000, 1/500) with validity dates';
CREATE INDEX land_use_zone_idx ON land_use (zone_code);
CREATE INDEX land_use_province_idx ON land_use (province_code);
CREATE INDEX land_use_geom_idx ON land_use USING gist (geom);

CREATE TABLE plots (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    zone_code text NOT NULL CONSTRAINT plots_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code text NOT NULL,
    code text NOT NULL,
    infra_ready_on date,
    geom geometry(MultiPolygon, 4326) NOT NULL, area_ha double precision NOT NULL, source_crs text NOT NULL,
    CONSTRAINT plots_code_unique UNIQUE (zone_code, code)
);
COMMENT ON TABLE plots IS 'Plots (lô đất)';
CREATE INDEX plots_province_idx ON plots (province_code);
CREATE INDEX plots_geom_idx ON plots USING gist (geom);

CREATE TABLE projects (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    tenant_name text NOT NULL,
    origin text NOT NULL CONSTRAINT projects_origin_check CHECK (origin IN ('fdi', 'ddi')),
    country text,
    certificate_no text,
    certificate_on date,
    capital_usd double precision,
    capital_vnd double precision,
    employees bigint,
    operating_since date,
    sector text,
    zone_code text CONSTRAINT projects_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code text,
    geom geometry(MultiPolygon, 4326), area_ha double precision, source_crs text
);
COMMENT ON TABLE projects IS 'Investment projects (FDI, DDI); capital in USD and VND as declared, never converted';
CREATE INDEX projects_zone_idx ON projects (zone_code);

CREATE TABLE leases (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    project_id text CONSTRAINT leases_project_fk REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    zone_code text NOT NULL CONSTRAINT leases_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code text NOT NULL,
    plot_codes text,
    status text NOT NULL CONSTRAINT leases_status_check CHECK (status IN ('reserved', 'active', 'terminated', 'revoked')),
    signed_on date,
    start_on date,
    end_on date,
    handed_over_on date,
    geom geometry(MultiPolygon, 4326) NOT NULL, area_ha double precision NOT NULL, source_crs text NOT NULL
);
COMMENT ON TABLE leases IS 'Leases of land to projects; end_on is exclusive';
CREATE INDEX leases_zone_idx ON leases (zone_code);
CREATE INDEX leases_province_idx ON leases (province_code);
CREATE INDEX leases_geom_idx ON leases USING gist (geom);

CREATE TABLE clearance_parcels (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    zone_code text NOT NULL CONSTRAINT clearance_parcels_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code text NOT NULL,
    sheet_no text NOT NULL,
    parcel_no text NOT NULL,
    land_type text,
    owner_kind text CONSTRAINT clearance_parcels_owner_kind_check CHECK (owner_kind IN ('household', 'organisation', 'state')),
    owner_name text,
    status text NOT NULL CONSTRAINT clearance_parcels_status_check
        CHECK (status IN ('not_started', 'inventoried', 'compensation_approved', 'compensated', 'handed_over')),
    compensation_vnd double precision,
    inventoried_on date,
    compensated_on date,
    handed_over_on date,
    geom geometry(MultiPolygon, 4326) NOT NULL, area_ha double precision NOT NULL, source_crs text NOT NULL,
    CONSTRAINT clearance_parcels_number_unique UNIQUE (zone_code, sheet_no, parcel_no)
);
COMMENT ON TABLE clearance_parcels IS 'Land parcels to compensate and clear (GPMB)';
CREATE INDEX clearance_parcels_province_idx ON clearance_parcels (province_code);
CREATE INDEX clearance_parcels_geom_idx ON clearance_parcels USING gist (geom);

-- A counter bumped by every write: caches (tiles, occupancy) key on it.
CREATE TABLE data_version (one integer PRIMARY KEY CHECK (one = 1), version bigint NOT NULL);
INSERT INTO data_version VALUES (1, 0);
