-- Schema 8: every snapshot records the API origin it was fetched from
-- (`https://api.sandbox.co.in`, or a loopback origin for the simulator), in
-- its row and in its log record (leaf encoding v2). Rows of earlier schemas
-- have none (NULL, leaf encoding v1, unchanged). Origins are stored once.

CREATE TABLE origins (
    id      INTEGER PRIMARY KEY,
    origin  TEXT NOT NULL UNIQUE
);
ALTER TABLE snapshots ADD COLUMN origin_id INTEGER REFERENCES origins(id);

CREATE TRIGGER origins_append_only_update BEFORE UPDATE ON origins
BEGIN SELECT RAISE(ABORT, 'origins are append-only'); END;
CREATE TRIGGER origins_append_only_delete BEFORE DELETE ON origins
BEGIN SELECT RAISE(ABORT, 'origins are append-only'); END;
