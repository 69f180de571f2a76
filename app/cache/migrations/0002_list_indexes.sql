-- Indexes over the clear columns.
--
-- Retention runs at every sync: without an index on expires_at its DELETE
-- scanned every session (about 65 ms of every no-change delta sync at
-- 100,000 sessions). Ended sessions go by sessions_updated_at. With status
-- beside it, the same index also counts the active sessions without
-- touching the table.
CREATE INDEX sessions_expires_status ON sessions(expires_at, status);

-- The sessions list's default order (newest activity first, ties by id),
-- answered in SQL while the in-memory index is still being built after the
-- cache is opened (see Store.SessionWindow).
CREATE INDEX sessions_last_active ON sessions(last_active_at, id);
