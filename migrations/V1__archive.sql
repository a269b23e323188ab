-- gstvault archive, schema 1. Released migrations are never edited: changes
-- come as new files. Evidence tables (payloads, snapshots, changes) are
-- append-only: triggers refuse UPDATE and DELETE.

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,               -- snapshot | daemon | demo
    started_at  TEXT NOT NULL,               -- RFC 3339, UTC, milliseconds
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted', 'failed')),
    summary     TEXT                         -- JSON run summary
);

-- Payload spans (data.data), content-addressed by the SHA-256 of their exact bytes.
CREATE TABLE payloads (
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    codec       TEXT NOT NULL CHECK (codec IN ('zstd')),
    bytes       BLOB NOT NULL
) WITHOUT ROWID;

-- One row per answer received (or request that failed for good). `seq` is the
-- leaf index in the append-only log, from 0, without gaps.
CREATE TABLE snapshots (
    seq             INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    gstin           TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    period          TEXT NOT NULL,
    page            INTEGER NOT NULL DEFAULT 0,
    method          TEXT NOT NULL,
    request         TEXT NOT NULL,           -- path and query, never a secret
    requested_at    TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    http_status     INTEGER,
    transaction_id  TEXT,
    status_cd       TEXT,
    error_cd        TEXT,
    outcome         TEXT NOT NULL CHECK (outcome IN ('ok', 'no_data', 'api_error', 'http_error', 'transport_error')),
    detail          TEXT,
    attempts        INTEGER NOT NULL,
    body_sha256     TEXT,                    -- of the exact bytes received
    body_size       INTEGER,
    payload_sha256  TEXT REFERENCES payloads(sha256),
    payload_offset  INTEGER,                 -- where the payload span starts in the body
    envelope        BLOB,                    -- body with the payload span cut out (raw: ~100 bytes)
    chksums         TEXT NOT NULL DEFAULT '{}', -- JSON: pointer -> portal chksum
    record_digest   TEXT NOT NULL,           -- SHA-256 of the leaf record encoding (the Merkle leaf input)
    leaf_hash       TEXT NOT NULL            -- SHA-256(0x00 || record digest)
);
CREATE INDEX snapshots_by_key ON snapshots (gstin, endpoint, period, page, seq);
CREATE INDEX snapshots_by_received ON snapshots (received_at);
CREATE INDEX snapshots_by_run ON snapshots (run_id);

-- A payload that differs from the previous snapshot of the same key.
CREATE TABLE changes (
    seq               INTEGER PRIMARY KEY REFERENCES snapshots(seq),
    previous_seq      INTEGER NOT NULL REFERENCES snapshots(seq),
    gstin             TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    period            TEXT NOT NULL,
    page              INTEGER NOT NULL,
    old_payload_sha256 TEXT NOT NULL,
    new_payload_sha256 TEXT NOT NULL,
    detected_at       TEXT NOT NULL
);
CREATE INDEX changes_by_key ON changes (gstin, endpoint, period);
CREATE INDEX changes_by_time ON changes (detected_at);

-- Taxpayer session state per GSTIN (the token itself lives in an owner-only
-- file beside the archive, never in this database).
CREATE TABLE sessions (
    gstin           TEXT PRIMARY KEY,
    token_expiry    TEXT,
    session_expiry  TEXT,
    needs_login     INTEGER NOT NULL DEFAULT 0,
    reason          TEXT,
    updated_at      TEXT NOT NULL
);

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
