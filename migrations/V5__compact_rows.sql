-- Schema 5: compact evidence rows. The same facts in about a fifth of the
-- bytes (issue 8: the archive must not be bigger than a git repository of the
-- same answers):
--   * each key (GSTIN, endpoint, period, page) and each request line is stored
--     once, in `keys` and `requests`, and snapshots refer to them by id;
--   * times are integers: milliseconds since the Unix epoch, UTC (the stored
--     RFC 3339 text had exactly millisecond precision, so nothing is lost);
--     the request time is kept as its distance to the receive time;
--   * SHA-256 digests are 32-byte BLOBs instead of 64 hex characters;
--   * payloads are referred to by id; a canonical lowercase UUID transaction
--     id is 16 bytes (any other transaction id stays text);
--   * `record_digest` and `leaf_hash` are no longer stored: both are SHA-256
--     functions of the row (src/log.rs). The Merkle tree keeps its interior
--     hashes in `merkle_tiles` (src/merkle.rs), filled in by the application
--     when it opens an archive migrated from schema 4.
-- Envelopes of rows written before schema 5 stay as they were (raw bytes).
-- Every converted value is checked against its old text before the old
-- tables are dropped: a value that does not round-trip fails the migration
-- and leaves the archive at schema 4, untouched.

CREATE TABLE keys (
    id          INTEGER PRIMARY KEY,
    gstin       TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    period      TEXT NOT NULL,
    page        INTEGER NOT NULL,
    UNIQUE (gstin, endpoint, period, page)
);
CREATE INDEX keys_by_endpoint ON keys (endpoint, period);

CREATE TABLE requests (
    id          INTEGER PRIMARY KEY,
    method      TEXT NOT NULL,
    request     TEXT NOT NULL,           -- path and query, never a secret
    UNIQUE (method, request)
);

-- An envelope with its transaction id and timestamp values cut out; a
-- snapshot's envelope is its template with both put back (src/store/compact.rs).
CREATE TABLE envelopes (
    id          INTEGER PRIMARY KEY,
    template    BLOB NOT NULL UNIQUE
);

CREATE TABLE payloads_v5 (
    id          INTEGER PRIMARY KEY,
    sha256      BLOB NOT NULL UNIQUE,    -- of the exact payload bytes
    size        INTEGER NOT NULL,
    codec       TEXT NOT NULL CHECK (codec IN ('zstd')),
    bytes       BLOB NOT NULL
);

CREATE TABLE snapshots_v5 (
    seq             INTEGER PRIMARY KEY,     -- leaf index in the log, from 0, without gaps
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    key_id          INTEGER NOT NULL REFERENCES keys(id),
    request_id      INTEGER NOT NULL REFERENCES requests(id),
    received_at     INTEGER NOT NULL,        -- ms since the epoch, UTC
    latency_ms      INTEGER NOT NULL,        -- received_at - the request time
    http_status     INTEGER,
    transaction_id  BLOB,                    -- 16-byte BLOB (canonical UUID) or TEXT as received
    status_cd       TEXT,
    error_cd        TEXT,
    outcome         TEXT NOT NULL CHECK (outcome IN ('ok', 'no_data', 'api_error', 'http_error', 'transport_error')),
    detail          TEXT,
    attempts        INTEGER NOT NULL,
    body_sha256     BLOB,                    -- of the exact bytes received
    body_size       INTEGER,
    payload_id      INTEGER REFERENCES payloads_v5(id),
    payload_offset  INTEGER,                 -- where the payload span starts in the body
    envelope_id     INTEGER REFERENCES envelopes(id), -- template, or NULL: `envelope` holds the raw bytes
    envelope_ts_delta INTEGER,               -- the envelope's timestamp value - received_at (with a template)
    envelope        BLOB,                    -- raw envelope (rows without a template)
    chksums         TEXT NOT NULL DEFAULT '{}' -- JSON: pointer -> portal chksum
);

CREATE TABLE changes_v5 (
    seq             INTEGER PRIMARY KEY REFERENCES snapshots_v5(seq),
    previous_seq    INTEGER NOT NULL REFERENCES snapshots_v5(seq),
    key_id          INTEGER NOT NULL REFERENCES keys(id),
    old_payload_id  INTEGER NOT NULL REFERENCES payloads_v5(id),
    new_payload_id  INTEGER NOT NULL REFERENCES payloads_v5(id),
    detected_at     INTEGER NOT NULL         -- ms since the epoch, UTC
);

-- Interior hashes of the log's Merkle tree in the tlog-tiles layout (tile
-- height 2; level-0 tiles are not stored: leaf hashes are computed from the
-- rows). Derived data: `verify --archive` recomputes and compares every tile;
-- the rightmost tile of each level grows in place as the log grows.
CREATE TABLE merkle_tiles (
    level       INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    hashes      BLOB NOT NULL,           -- up to 4 concatenated 32-byte hashes
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Copy.
INSERT INTO keys (gstin, endpoint, period, page)
    SELECT DISTINCT gstin, endpoint, period, page FROM snapshots ORDER BY gstin, endpoint, period, page;
INSERT INTO requests (method, request)
    SELECT DISTINCT method, request FROM snapshots ORDER BY method, request;
INSERT INTO payloads_v5 (sha256, size, codec, bytes)
    SELECT unhex(sha256), size, codec, bytes FROM payloads ORDER BY sha256;

INSERT INTO snapshots_v5
    SELECT s.seq, s.run_id, k.id, q.id,
           unixepoch(substr(s.received_at, 1, 19)) * 1000 + CAST(substr(s.received_at, 21, 3) AS INTEGER),
           unixepoch(substr(s.received_at, 1, 19)) * 1000 + CAST(substr(s.received_at, 21, 3) AS INTEGER)
             - (unixepoch(substr(s.requested_at, 1, 19)) * 1000 + CAST(substr(s.requested_at, 21, 3) AS INTEGER)),
           s.http_status,
           CASE WHEN s.transaction_id GLOB
                '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
                THEN unhex(replace(s.transaction_id, '-', '')) ELSE s.transaction_id END,
           s.status_cd, s.error_cd, s.outcome, s.detail, s.attempts,
           unhex(s.body_sha256), s.body_size, p.id, s.payload_offset,
           NULL, NULL, s.envelope, s.chksums
    FROM snapshots s
    JOIN keys k ON k.gstin = s.gstin AND k.endpoint = s.endpoint AND k.period = s.period AND k.page = s.page
    JOIN requests q ON q.method = s.method AND q.request = s.request
    LEFT JOIN payloads_v5 p ON p.sha256 = unhex(s.payload_sha256)
    ORDER BY s.seq;

INSERT INTO changes_v5
    SELECT c.seq, c.previous_seq, n.key_id, o.id, p.id,
           unixepoch(substr(c.detected_at, 1, 19)) * 1000 + CAST(substr(c.detected_at, 21, 3) AS INTEGER)
    FROM changes c
    JOIN snapshots_v5 n ON n.seq = c.seq
    JOIN payloads_v5 o ON o.sha256 = unhex(c.old_payload_sha256)
    JOIN payloads_v5 p ON p.sha256 = unhex(c.new_payload_sha256)
    ORDER BY c.seq;

-- Check: every row came over, and every converted value gives back its old
-- text. A failed CHECK aborts the migration (and its transaction).
CREATE TEMP TABLE v5_check (what TEXT NOT NULL, ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO v5_check SELECT 'snapshot count', (SELECT COUNT(*) FROM snapshots) = (SELECT COUNT(*) FROM snapshots_v5);
INSERT INTO v5_check SELECT 'payload count', (SELECT COUNT(*) FROM payloads) = (SELECT COUNT(*) FROM payloads_v5);
INSERT INTO v5_check SELECT 'change count', (SELECT COUNT(*) FROM changes) = (SELECT COUNT(*) FROM changes_v5);
INSERT INTO v5_check
    SELECT 'snapshot ' || s.seq,
           strftime('%Y-%m-%dT%H:%M:%S', (n.received_at - n.latency_ms) / 1000, 'unixepoch') || '.'
               || printf('%03d', (n.received_at - n.latency_ms) % 1000) || 'Z' = s.requested_at
       AND strftime('%Y-%m-%dT%H:%M:%S', n.received_at / 1000, 'unixepoch') || '.' || printf('%03d', n.received_at % 1000) || 'Z' = s.received_at
       AND (s.transaction_id IS NULL AND n.transaction_id IS NULL
            OR typeof(n.transaction_id) = 'text' AND n.transaction_id = s.transaction_id
            OR typeof(n.transaction_id) = 'blob' AND lower(substr(hex(n.transaction_id), 1, 8) || '-' || substr(hex(n.transaction_id), 9, 4) || '-'
                   || substr(hex(n.transaction_id), 13, 4) || '-' || substr(hex(n.transaction_id), 17, 4) || '-'
                   || substr(hex(n.transaction_id), 21, 12)) = s.transaction_id)
       AND (s.body_sha256 IS NULL AND n.body_sha256 IS NULL OR lower(hex(n.body_sha256)) = s.body_sha256)
       AND (s.payload_sha256 IS NULL AND n.payload_id IS NULL
            OR (SELECT lower(hex(sha256)) FROM payloads_v5 WHERE id = n.payload_id) = s.payload_sha256)
    FROM snapshots s JOIN snapshots_v5 n ON n.seq = s.seq;
INSERT INTO v5_check
    SELECT 'change ' || c.seq,
           strftime('%Y-%m-%dT%H:%M:%S', n.detected_at / 1000, 'unixepoch') || '.' || printf('%03d', n.detected_at % 1000) || 'Z' = c.detected_at
    FROM changes c JOIN changes_v5 n ON n.seq = c.seq;
DROP TABLE v5_check;

-- Swap.
DROP TABLE changes;
DROP TABLE snapshots;
DROP TABLE payloads;
ALTER TABLE payloads_v5 RENAME TO payloads;
ALTER TABLE snapshots_v5 RENAME TO snapshots;
ALTER TABLE changes_v5 RENAME TO changes;

-- "The latest answer of a key at or before T" and per-key history.
CREATE INDEX snapshots_by_key_time ON snapshots (key_id, received_at);
-- Lists by receive time across GSTINs; calls spent today.
CREATE INDEX snapshots_by_received ON snapshots (received_at);
CREATE INDEX snapshots_by_run ON snapshots (run_id);
CREATE INDEX changes_by_key ON changes (key_id, detected_at);
CREATE INDEX changes_by_time ON changes (detected_at);

CREATE TRIGGER keys_append_only_update BEFORE UPDATE ON keys
BEGIN SELECT RAISE(ABORT, 'keys are append-only'); END;
CREATE TRIGGER keys_append_only_delete BEFORE DELETE ON keys
BEGIN SELECT RAISE(ABORT, 'keys are append-only'); END;
CREATE TRIGGER requests_append_only_update BEFORE UPDATE ON requests
BEGIN SELECT RAISE(ABORT, 'requests are append-only'); END;
CREATE TRIGGER requests_append_only_delete BEFORE DELETE ON requests
BEGIN SELECT RAISE(ABORT, 'requests are append-only'); END;
CREATE TRIGGER envelopes_append_only_update BEFORE UPDATE ON envelopes
BEGIN SELECT RAISE(ABORT, 'envelopes are append-only'); END;
CREATE TRIGGER envelopes_append_only_delete BEFORE DELETE ON envelopes
BEGIN SELECT RAISE(ABORT, 'envelopes are append-only'); END;
CREATE TRIGGER payloads_append_only_update BEFORE UPDATE ON payloads
BEGIN SELECT RAISE(ABORT, 'payloads are append-only'); END;
CREATE TRIGGER payloads_append_only_delete BEFORE DELETE ON payloads
BEGIN SELECT RAISE(ABORT, 'payloads are append-only'); END;
CREATE TRIGGER snapshots_append_only_update BEFORE UPDATE ON snapshots
BEGIN SELECT RAISE(ABORT, 'snapshots are append-only'); END;
CREATE TRIGGER snapshots_append_only_delete BEFORE DELETE ON snapshots
BEGIN SELECT RAISE(ABORT, 'snapshots are append-only'); END;
CREATE TRIGGER changes_append_only_update BEFORE UPDATE ON changes
BEGIN SELECT RAISE(ABORT, 'changes are append-only'); END;
CREATE TRIGGER changes_append_only_delete BEFORE DELETE ON changes
BEGIN SELECT RAISE(ABORT, 'changes are append-only'); END;
