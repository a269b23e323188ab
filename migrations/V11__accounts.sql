-- Schema 11: accounts of the read-only web view (issue 18) and its access log.
--
-- `users` and `user_grants` are operational rows, like `runs`, `sessions`
-- and `alerts`: a password change and a removal update a `users` row in
-- place. A removed account keeps its row (with `removed_at`), so the access
-- log's names stay explained; its name may be taken again by a new row, so
-- a name is unique among live accounts only.
--
-- `access_log` is append-only like the evidence tables: every view and
-- download the web view serves, and every login attempt, is one row that no
-- code updates or deletes, and triggers refuse it.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,       -- 1-32 of a-z 0-9 . _ -, starting with a letter
    role           TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'auditor')),
    password_hash  TEXT NOT NULL,       -- a PHC string ($argon2id$v=19$...); never the password
    created_at     TEXT NOT NULL,       -- RFC 3339, UTC, milliseconds
    until          TEXT,                -- YYYY-MM-DD: the last IST day the account may see anything
    removed_at     TEXT                 -- NULL while the account is live
);
CREATE UNIQUE INDEX users_live_name ON users (name) WHERE removed_at IS NULL;

CREATE TABLE user_grants (
    user_id      INTEGER NOT NULL REFERENCES users (id),
    gstin        TEXT NOT NULL,
    from_period  TEXT,                  -- YYYY-MM, first month of the window (NULL: open)
    to_period    TEXT                   -- YYYY-MM, last month of the window (NULL: open)
);
CREATE INDEX user_grants_user ON user_grants (user_id);

CREATE TABLE access_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,           -- RFC 3339, UTC, milliseconds
    user_name  TEXT NOT NULL,           -- the account, '-' when nobody is logged in
    address    TEXT NOT NULL,           -- the client's address as the server saw it
    method     TEXT NOT NULL,
    path       TEXT NOT NULL,           -- path and query as requested (never a password or a token)
    status     INTEGER NOT NULL,        -- the HTTP status answered
    what       TEXT NOT NULL            -- what was seen or refused, in words
);
CREATE TRIGGER access_log_append_only_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
CREATE TRIGGER access_log_append_only_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
