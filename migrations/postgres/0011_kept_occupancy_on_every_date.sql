-- Occupancy is now kept for every date of a zone at once, as bytes (`occupancy/2`, see
-- occupancy::kept_text); what an earlier landbank kept under `occupancy/1` is never read again.
DELETE FROM kept_figures WHERE kind = 'occupancy/1';
