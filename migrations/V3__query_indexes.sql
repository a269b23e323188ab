-- Schema 3: indexes for the compliance queries (list, show --as-of, diff,
-- changes, balances). Indexes only: no evidence row is touched.

-- "The latest answer of a key at or before T": equality on the key, range on time.
CREATE INDEX snapshots_by_key_time ON snapshots (gstin, endpoint, period, page, received_at);
-- Lists filtered by endpoint (and period) without a GSTIN.
CREATE INDEX snapshots_by_endpoint ON snapshots (endpoint, period, received_at);
-- Changes of one GSTIN since T.
CREATE INDEX changes_by_gstin_time ON changes (gstin, detected_at);
