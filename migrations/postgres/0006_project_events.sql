-- The investment register: a project's certificate, adjustments, suspension, termination and revocation,
-- each a dated decision (sự kiện dự án); a project's capital and status on a date follow from them.
CREATE TABLE project_events (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    project_id text NOT NULL CONSTRAINT project_events_project_fk REFERENCES projects (id) DEFERRABLE INITIALLY DEFERRED,
    zone_code text CONSTRAINT project_events_zone_fk REFERENCES zones (code) DEFERRABLE INITIALLY DEFERRED,
    province_code text,
    kind text NOT NULL CONSTRAINT project_events_kind_check CHECK (kind IN
        ('certified', 'adjusted', 'suspended', 'resumed', 'terminated', 'revoked')),
    decided_on date NOT NULL,
    decision_no text,
    capital_usd_change double precision,
    capital_vnd_change double precision,
    sector text,
    land_handover_by date,
    construction_by date,
    operation_by date,
    reason text,
    geom geometry(MultiPolygon, 4326), area_ha double precision, source_crs text
);
CREATE INDEX project_events_project_idx ON project_events (project_id);
CREATE INDEX project_events_zone_idx ON project_events (zone_code);
COMMENT ON TABLE project_events IS 'Dated decisions on investment projects: certificate, adjustments, suspension, termination, revocation';
-- When construction actually started (the certificate commits a date for it).
ALTER TABLE projects ADD COLUMN construction_started_on date;
