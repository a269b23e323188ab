-- Schema 7: genuine copies of payloads whose stored bytes were found damaged.
-- Evidence rows are never rewritten, so a payload row whose bytes no longer
-- hash to its digest stays as it is; when a capture receives the genuine
-- bytes again they are stored here, and reads serve the first copy (the
-- payload row, then its repairs in order) that hashes to the digest. The
-- record of every snapshot names the digest, so a repair is provable.
-- Append-only like the evidence tables.

CREATE TABLE payload_repairs (
    id          INTEGER PRIMARY KEY,
    payload_id  INTEGER NOT NULL REFERENCES payloads(id),
    size        INTEGER NOT NULL,
    codec       TEXT NOT NULL CHECK (codec IN ('zstd')),
    bytes       BLOB NOT NULL,
    seq         INTEGER NOT NULL,        -- the snapshot whose answer brought the genuine bytes
    found_at    INTEGER NOT NULL         -- ms since the epoch, UTC: when the damage was found
);
CREATE INDEX payload_repairs_by_payload ON payload_repairs (payload_id, id);

CREATE TRIGGER payload_repairs_append_only_update BEFORE UPDATE ON payload_repairs
BEGIN SELECT RAISE(ABORT, 'payload repairs are append-only'); END;
CREATE TRIGGER payload_repairs_append_only_delete BEFORE DELETE ON payload_repairs
BEGIN SELECT RAISE(ABORT, 'payload repairs are append-only'); END;
