-- Plan targets per province and year (chỉ tiêu kế hoạch), read by the board's reports.
CREATE TABLE targets (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    province_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    metric TEXT NOT NULL CONSTRAINT targets_metric_check CHECK (metric IN
        ('infrastructure_ha', 'capital_usd', 'capital_vnd', 'projects_new', 'projects_operating', 'new_jobs')),
    value REAL NOT NULL,
    plan_ref TEXT,
    geom TEXT, area_ha REAL, source_crs TEXT,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL,
    CONSTRAINT targets_unique UNIQUE (province_code, year, metric)
);
