-- Schema 9: the daemon's alerts (issue 16). Operational state, not evidence:
-- one row per time a health condition was raised; `cleared_at` and the
-- delivery states are updated in place, as `runs`, `job_runs` and `sessions`
-- are. A condition has at most one open row (not yet cleared), so a daemon
-- that restarts knows what it already said: it raises nothing twice, and a
-- condition that cleared while it was down is sent as cleared. The evidence
-- tables and their append-only triggers are untouched.

CREATE TABLE alerts (
    id                INTEGER PRIMARY KEY,
    condition         TEXT NOT NULL,      -- the stable key: needs_login:27AAPFU0939F1ZV, checkpoint_unsigned, ...
    kind              TEXT NOT NULL,      -- needs_login | session_lapsing | capture_failed | capture_stale |
                                          -- checkpoint_unsigned | checkpoint_stale | archive_damaged
    gstin             TEXT,               -- the GSTIN a GSTIN's condition is about
    reason            TEXT NOT NULL,      -- the reason line as raised
    raised_at         TEXT NOT NULL,      -- RFC 3339, UTC, milliseconds
    raised_delivery   TEXT NOT NULL,      -- pending | sent | failed | none (no channel configured)
    cleared_at        TEXT,
    cleared_delivery  TEXT,               -- NULL while the condition holds
    last_error        TEXT                -- why the last delivery failed (never a URL's path or query, never a secret)
);
CREATE UNIQUE INDEX alerts_open ON alerts (condition) WHERE cleared_at IS NULL;
