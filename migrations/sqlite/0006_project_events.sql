-- The investment register: a project's certificate, adjustments, suspension, termination and revocation,
-- each a dated decision (sự kiện dự án); a project's capital and status on a date follow from them.
CREATE TABLE project_events (
    fid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL CONSTRAINT project_events_project_fk REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    zone_code TEXT CONSTRAINT project_events_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code TEXT,
    kind TEXT NOT NULL CONSTRAINT project_events_kind_check CHECK (kind IN
        ('certified', 'adjusted', 'suspended', 'resumed', 'terminated', 'revoked')),
    decided_on TEXT NOT NULL,
    decision_no TEXT,
    capital_usd_change REAL,
    capital_vnd_change REAL,
    sector TEXT,
    land_handover_by TEXT,
    construction_by TEXT,
    operation_by TEXT,
    reason TEXT,
    geom TEXT, area_ha REAL, source_crs TEXT,
    min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL
);
CREATE INDEX project_events_project_idx ON project_events (project_id);
CREATE INDEX project_events_zone_idx ON project_events (zone_code);
-- When construction actually started (the certificate commits a date for it).
ALTER TABLE projects ADD COLUMN construction_started_on TEXT;
