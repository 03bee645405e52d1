-- Targets for a quarter or several years, ranges, FDI or DDI alone, capital converted at the plan's rate,
-- and more metrics: the table is rebuilt because SQLite cannot change a CHECK constraint.
CREATE TABLE targets_new (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    province_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    quarter INTEGER CONSTRAINT targets_quarter_check CHECK (quarter BETWEEN 1 AND 4),
    to_year INTEGER,
    metric TEXT NOT NULL CONSTRAINT targets_metric_check CHECK (metric IN
        ('infrastructure_ha', 'capital_usd', 'capital_vnd', 'projects_new', 'projects_operating', 'new_jobs',
         'capital_increase_usd', 'capital_increase_vnd', 'capital_attracted_usd', 'capital_attracted_vnd',
         'projects_attracted', 'realised_capital_usd', 'realised_capital_vnd', 'revenue_usd', 'revenue_vnd',
         'exports_usd', 'budget_vnd', 'projects_valid', 'capital_registered_usd', 'capital_registered_vnd',
         'workers', 'occupancy_pct', 'operating_pct', 'wwtp_coverage_pct')),
    origin TEXT CONSTRAINT targets_origin_check CHECK (origin IN ('fdi', 'ddi')),
    value REAL NOT NULL,
    value_max REAL,
    vnd_per_usd REAL,
    plan_ref TEXT,
    geom TEXT, area_ha REAL, source_crs TEXT,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL
);
INSERT INTO targets_new (fid, id, province_code, year, metric, value, plan_ref, geom, area_ha, source_crs,
    min_lon, min_lat, max_lon, max_lat)
SELECT fid, id, province_code, year, metric, value, plan_ref, geom, area_ha, source_crs,
    min_lon, min_lat, max_lon, max_lat FROM targets;
DROP TABLE targets;
ALTER TABLE targets_new RENAME TO targets;
-- One target per province, period, metric and origin.
CREATE UNIQUE INDEX targets_unique
    ON targets (province_code, year, COALESCE(quarter, 0), COALESCE(to_year, year), metric, COALESCE(origin, ''));

-- What each project did in a year or a quarter (capital realised, revenue, exports, budget paid), as its
-- enterprise reports to the board.
CREATE TABLE project_results (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL CONSTRAINT project_results_project_fk REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    zone_code TEXT CONSTRAINT project_results_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code TEXT,
    year INTEGER NOT NULL,
    quarter INTEGER CONSTRAINT project_results_quarter_check CHECK (quarter BETWEEN 1 AND 4),
    realised_capital_usd REAL,
    realised_capital_vnd REAL,
    revenue_usd REAL,
    revenue_vnd REAL,
    exports_usd REAL,
    budget_vnd REAL,
    source_ref TEXT,
    geom TEXT, area_ha REAL, source_crs TEXT,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL
);
CREATE UNIQUE INDEX project_results_unique ON project_results (project_id, year, COALESCE(quarter, 0));
CREATE INDEX project_results_zone_idx ON project_results (zone_code);
CREATE INDEX project_results_province_idx ON project_results (province_code);

-- A decision may set the project's land area (the certificate's, or an adjustment's), declared.
ALTER TABLE project_events ADD COLUMN land_ha REAL;
