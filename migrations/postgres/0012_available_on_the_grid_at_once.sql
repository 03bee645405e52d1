-- Available land is now leasable land less every held lease in one operation on the served grid
-- (`available/3`, see available::zone_available); what an earlier landbank kept under `available/2` is
-- never read again.
DELETE FROM kept_figures WHERE kind = 'available/2';
