-- Schema 2: archive identity, signed checkpoints (tree heads) and the record
-- of exported bundles. Append-only like the evidence tables.

CREATE TABLE archive_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- A signed tree head: the RFC 6962 root over the first `size` leaves.
CREATE TABLE checkpoints (
    id          INTEGER PRIMARY KEY,
    size        INTEGER NOT NULL,
    root        TEXT NOT NULL,           -- hex
    origin      TEXT NOT NULL,
    body        TEXT NOT NULL,           -- C2SP tlog-checkpoint text
    signature   TEXT NOT NULL,           -- minisign signature of body
    key_id      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    run_id      INTEGER REFERENCES runs(id)
);
CREATE INDEX checkpoints_by_size ON checkpoints (size);

-- Every bundle exported, so the next bundle of the GSTIN can prove consistency.
CREATE TABLE bundles (
    id              INTEGER PRIMARY KEY,
    bundle_id       TEXT NOT NULL,
    gstin           TEXT NOT NULL,
    period          TEXT NOT NULL,
    as_of           TEXT NOT NULL,
    checkpoint_id   INTEGER NOT NULL REFERENCES checkpoints(id),
    file_name       TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX bundles_by_gstin ON bundles (gstin, created_at);

CREATE TRIGGER archive_meta_append_only_update BEFORE UPDATE ON archive_meta
BEGIN SELECT RAISE(ABORT, 'archive_meta is append-only'); END;
CREATE TRIGGER archive_meta_append_only_delete BEFORE DELETE ON archive_meta
BEGIN SELECT RAISE(ABORT, 'archive_meta is append-only'); END;
CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_append_only_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER bundles_append_only_update BEFORE UPDATE ON bundles
BEGIN SELECT RAISE(ABORT, 'bundles are append-only'); END;
CREATE TRIGGER bundles_append_only_delete BEFORE DELETE ON bundles
BEGIN SELECT RAISE(ABORT, 'bundles are append-only'); END;
