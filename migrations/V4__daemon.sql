-- Schema 4: the daemon's job history (operational state, not evidence: rows
-- are updated when a job finishes).

CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY,
    job         TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    result      TEXT NOT NULL,          -- running | ok | failed | interrupted | skipped
    detail      TEXT
);
CREATE INDEX job_runs_by_job ON job_runs (job, id);
CREATE INDEX snapshots_by_gstin_received ON snapshots (gstin, received_at);
