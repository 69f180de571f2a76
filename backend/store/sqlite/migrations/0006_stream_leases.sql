-- Open event streams (store.AcquireStream): one lease per stream, renewed
-- while it is open, like in the PostgreSQL store where several replicas
-- share them; the lease of a process that died expires by itself.
CREATE TABLE stream_leases (
	id         TEXT NOT NULL PRIMARY KEY,
	org_id     TEXT NOT NULL,
	session_id TEXT NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX stream_leases_org ON stream_leases (org_id, session_id, expires_at);
CREATE INDEX stream_leases_expires ON stream_leases (expires_at);
