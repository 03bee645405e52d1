-- Provinces before and after the 2025 mergers (Resolution 202/2025/QH15): validity, successors and GSO
-- codes. The rows themselves (63 + 23 units) are written by landbank after the migrations, from
-- src/geography/units.csv, with their versions in history.
ALTER TABLE provinces ADD COLUMN gso_code text;
ALTER TABLE provinces ADD COLUMN kind text;
ALTER TABLE provinces ADD COLUMN valid_from date;
ALTER TABLE provinces ADD COLUMN valid_to date;
ALTER TABLE provinces ADD COLUMN successor_code text;
ALTER TABLE provinces ADD COLUMN predecessor_codes text;
COMMENT ON TABLE provinces IS 'Provincial-level units before and after 01/07/2025 (ISO 3166-2:VN codes; VN2025-<GSO> for the 23 new units)';
