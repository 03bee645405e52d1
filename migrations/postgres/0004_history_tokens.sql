-- Every version of every record (who, when, what changed): as-of reads, item history and the audit log.
-- A version holds from recorded_from_us (microseconds since 1970, UTC) until recorded_to_us (NULL: still
-- current). A deletion is a version of its own (op 'delete') that keeps the last properties.
CREATE TABLE history (
    hid bigserial PRIMARY KEY,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    version bigint NOT NULL,
    op TEXT NOT NULL CONSTRAINT history_op_check CHECK (op IN ('create', 'replace', 'update', 'delete')),
    actor TEXT NOT NULL,
    recorded_from_us bigint NOT NULL,
    recorded_to_us bigint,
    changed TEXT NOT NULL,
    properties TEXT NOT NULL,
    geom TEXT, area_ha double precision, source_crs TEXT,
    CONSTRAINT history_version_unique UNIQUE (collection, id, version)
);
CREATE INDEX history_time_idx ON history (collection, recorded_from_us);
CREATE INDEX history_recorded_idx ON history (recorded_from_us);
CREATE INDEX history_actor_idx ON history (actor, recorded_from_us);

-- API tokens: only the SHA-256 of each token is kept.
CREATE TABLE api_tokens (
    token_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CONSTRAINT api_tokens_role_check CHECK (role IN ('viewer', 'planner', 'admin')),
    secret_sha256 TEXT NOT NULL CONSTRAINT api_tokens_secret_unique UNIQUE,
    created_us bigint NOT NULL,
    revoked_us bigint
);

-- Project contacts: private (planners only).
ALTER TABLE projects ADD COLUMN contact_name TEXT;
ALTER TABLE projects ADD COLUMN contact_phone TEXT;
ALTER TABLE projects ADD COLUMN contact_email TEXT;
