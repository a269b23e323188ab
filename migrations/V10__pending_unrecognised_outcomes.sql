-- Schema 10: two more outcomes a snapshot can have (issue 16):
--   * `pending`: the portal is still preparing the answer (a download still
--     queued after the poll limit, a large return answered with a token);
--   * `unrecognised`: an unknown `status_cd` or error code, archived as
--     received instead of being folded into another outcome.
-- Only the CHECK constraint of `snapshots.outcome` widens. Every stored row
-- satisfies the wider list, so the table definition is edited in place (the
-- procedure SQLite documents for changing CHECK constraints without
-- rebuilding a table, https://sqlite.org/lang_altertable.html section 7):
-- no row is copied or touched, and columns added by other migrations stay.
-- A table created and dropped moves the schema cookie, so connections open
-- elsewhere reload the schema; `writable_schema = RESET` reloads this one's.

PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, '''http_error'', ''transport_error'')',
                          '''http_error'', ''transport_error'', ''pending'', ''unrecognised'')')
 WHERE type = 'table' AND name = 'snapshots';
CREATE TABLE v10_schema_cookie (x);
DROP TABLE v10_schema_cookie;
PRAGMA writable_schema = RESET;

-- Check: the new definition took (a failed CHECK aborts the migration).
CREATE TEMP TABLE v10_check (what TEXT NOT NULL, ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO v10_check
    SELECT 'snapshots.outcome accepts pending and unrecognised',
           instr(sql, '''pending'', ''unrecognised''') > 0
      FROM sqlite_master WHERE type = 'table' AND name = 'snapshots';
DROP TABLE v10_check;
