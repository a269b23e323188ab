-- Schema 6: every bundle names its predecessor (the bundle its consistency
-- proof starts from), so the chain of a GSTIN's bundles can be listed and
-- checked; bundles are found by their ID. Rows of earlier schemas have no
-- recorded predecessor (NULL): `gstvault bundles` says so.

ALTER TABLE bundles ADD COLUMN previous_bundle_id TEXT;
CREATE INDEX bundles_by_id ON bundles (bundle_id);
