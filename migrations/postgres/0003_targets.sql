-- Plan targets per province and year (chỉ tiêu kế hoạch), read by the board's reports.
CREATE TABLE targets (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    province_code text NOT NULL,
    year bigint NOT NULL,
    metric text NOT NULL CONSTRAINT targets_metric_check CHECK (metric IN
        ('infrastructure_ha', 'capital_usd', 'capital_vnd', 'projects_new', 'projects_operating', 'new_jobs')),
    value double precision NOT NULL,
    plan_ref text,
    geom geometry(MultiPolygon, 4326), area_ha double precision, source_crs text,
    CONSTRAINT targets_unique UNIQUE (province_code, year, metric)
);
COMMENT ON TABLE targets IS 'Plan targets per province and year, in the metric''s unit';
