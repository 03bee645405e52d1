-- Provinces before and after the 2025 mergers (Resolution 202/2025/QH15): validity, successors and GSO
-- codes. The rows themselves (63 + 23 units) are written by landbank after the migrations, from
-- src/geography/units.csv, with their versions in history.
ALTER TABLE provinces ADD COLUMN gso_code TEXT;
ALTER TABLE provinces ADD COLUMN kind TEXT;
ALTER TABLE provinces ADD COLUMN valid_from TEXT;
ALTER TABLE provinces ADD COLUMN valid_to TEXT;
ALTER TABLE provinces ADD COLUMN successor_code TEXT;
ALTER TABLE provinces ADD COLUMN predecessor_codes TEXT;
