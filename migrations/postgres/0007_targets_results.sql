-- Targets for a quarter or several years, ranges, FDI or DDI alone, capital converted at the plan's rate,
-- and more metrics.
ALTER TABLE targets DROP CONSTRAINT targets_metric_check;
ALTER TABLE targets DROP CONSTRAINT targets_unique;
ALTER TABLE targets
    ADD COLUMN quarter bigint CONSTRAINT targets_quarter_check CHECK (quarter BETWEEN 1 AND 4),
    ADD COLUMN to_year bigint,
    ADD COLUMN origin text CONSTRAINT targets_origin_check CHECK (origin IN ('fdi', 'ddi')),
    ADD COLUMN value_max double precision,
    ADD COLUMN vnd_per_usd double precision,
    ADD CONSTRAINT targets_metric_check CHECK (metric IN
        ('infrastructure_ha', 'capital_usd', 'capital_vnd', 'projects_new', 'projects_operating', 'new_jobs',
         'capital_increase_usd', 'capital_increase_vnd', 'capital_attracted_usd', 'capital_attracted_vnd',
         'projects_attracted', 'realised_capital_usd', 'realised_capital_vnd', 'revenue_usd', 'revenue_vnd',
         'exports_usd', 'budget_vnd', 'projects_valid', 'capital_registered_usd', 'capital_registered_vnd',
         'workers', 'occupancy_pct', 'operating_pct', 'wwtp_coverage_pct'));
-- One target per province, period, metric and origin.
CREATE UNIQUE INDEX targets_unique
    ON targets (province_code, year, COALESCE(quarter, 0), COALESCE(to_year, year), metric, COALESCE(origin, ''));
COMMENT ON TABLE targets IS 'Plan targets per province for a year, a quarter or several years, in the metric''s unit';

-- What each project did in a year or a quarter (capital realised, revenue, exports, budget paid), as its
-- enterprise reports to the board.
CREATE TABLE project_results (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    project_id text NOT NULL CONSTRAINT project_results_project_fk REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    zone_code text CONSTRAINT project_results_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code text,
    year bigint NOT NULL,
    quarter bigint CONSTRAINT project_results_quarter_check CHECK (quarter BETWEEN 1 AND 4),
    realised_capital_usd double precision,
    realised_capital_vnd double precision,
    revenue_usd double precision,
    revenue_vnd double precision,
    exports_usd double precision,
    budget_vnd double precision,
    source_ref text,
    geom geometry(MultiPolygon, 4326), area_ha double precision, source_crs text
);
CREATE UNIQUE INDEX project_results_unique ON project_results (project_id, year, COALESCE(quarter, 0));
CREATE INDEX project_results_zone_idx ON project_results (zone_code);
CREATE INDEX project_results_province_idx ON project_results (province_code);
COMMENT ON TABLE project_results IS 'Projects'' capital realised, revenue, exports and budget paid per year or quarter (declared)';

-- A decision may set the project's land area (the certificate's, or an adjustment's), declared.
ALTER TABLE project_events ADD COLUMN land_ha double precision;
