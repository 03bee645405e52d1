-- The data version at which each collection last changed: a tile's drawing of a collection's records
-- (geometry in tile units) keys on it, so that a lease written keeps the plots' drawings.
CREATE TABLE collection_versions (collection TEXT PRIMARY KEY, version INTEGER NOT NULL);
