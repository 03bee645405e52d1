-- The data version at which each zone (or anything inside it) last changed: per-zone caches key on it.
CREATE TABLE zone_versions (zone_code TEXT PRIMARY KEY, version INTEGER NOT NULL);
