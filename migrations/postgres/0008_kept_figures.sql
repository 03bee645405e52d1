-- Figures computed from a zone's data, kept so that a restarted process reads them instead of measuring
-- again: `kind` names what they are and the formula's revision (e.g. `occupancy/1`), `version` the zone's
-- data version they were computed at (see zone_versions), `pieces` the figures as JSON. A row whose version
-- is not the zone's current one is never read; the next computation replaces it.
CREATE TABLE kept_figures (
    kind text NOT NULL,
    zone_code text NOT NULL,
    version bigint NOT NULL,
    pieces text NOT NULL,
    PRIMARY KEY (kind, zone_code)
);
