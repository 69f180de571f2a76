-- Open event streams (store.AcquireStream): one lease per stream, shared by
-- every replica so that the per-session and per-organization caps count the
-- streams of all of them. A replica renews its streams' leases while they
-- are open; the lease of a replica that died expires by itself.
--
-- UNLOGGED: a lease is worth nothing after a crash of the database (its
-- streams' replicas store their open leases again at their next renewal,
-- store.RenewStreams), so the renewals of thousands of rows every few
-- seconds need not go through the WAL. No foreign keys: a lease blocks no
-- write of the tables it names.
CREATE UNLOGGED TABLE stream_leases (
	id         TEXT COLLATE "C" PRIMARY KEY,
	org_id     TEXT COLLATE "C" NOT NULL,
	session_id TEXT COLLATE "C" NOT NULL,
	expires_at BIGINT NOT NULL
);
-- The count of AcquireStream reads this index alone.
CREATE INDEX stream_leases_org ON stream_leases (org_id, session_id, expires_at);
CREATE INDEX stream_leases_expires ON stream_leases (expires_at);
