-- Kept figures are written whenever zones are measured (an import's pass, the warmer's, a first
-- question) and run to tens of kilobytes a zone (available land's pieces). PostgreSQL's default
-- compression (pglz) took about a third of the database's time while a province's figures were kept;
-- lz4 compresses several times faster. A server built without lz4 keeps pglz. Rows written before keep
-- their compression until they are replaced.
DO $$
BEGIN
    ALTER TABLE kept_figures ALTER COLUMN pieces SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available: kept figures stay compressed with pglz';
END
$$;
