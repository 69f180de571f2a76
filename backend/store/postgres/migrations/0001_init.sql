-- The PostgreSQL schema of platformd, equal in meaning to the SQLite one
-- (backend/store/sqlite/migrations) at its version 3 plus the shared
-- throttle. Times are BIGINT unix nanoseconds (UTC), like in SQLite, so both
-- stores hand out the same updated_at values and cursors. IDs and keys use
-- the "C" collation: byte order, the order SQLite sorts them in, and cheaper
-- to compare.
CREATE TABLE orgs (
	id         TEXT COLLATE "C" PRIMARY KEY,
	slug       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE users (
	id             TEXT COLLATE "C" PRIMARY KEY,
	org_id         TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
	email          TEXT COLLATE "C" NOT NULL, -- stored lower-case
	name           TEXT NOT NULL,
	role           TEXT NOT NULL,
	password_hash  BYTEA NOT NULL,
	totp_secret    TEXT NOT NULL DEFAULT '',
	totp_last_step BIGINT NOT NULL DEFAULT 0,
	created_at     BIGINT NOT NULL,
	UNIQUE (org_id, email)
);

CREATE TABLE devices (
	id                TEXT COLLATE "C" PRIMARY KEY,
	org_id            TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
	user_id           TEXT COLLATE "C" NOT NULL REFERENCES users(id),
	name              TEXT NOT NULL,
	platform          TEXT NOT NULL,
	trusted_at        BIGINT,
	first_seen_at     BIGINT NOT NULL,
	last_seen_at      BIGINT NOT NULL,
	last_ip           TEXT NOT NULL,
	updated_at        BIGINT NOT NULL,
	trust_secret_hash BYTEA
);
CREATE INDEX devices_org_first_seen ON devices (org_id, first_seen_at DESC, id DESC);
CREATE INDEX devices_org_updated ON devices (org_id, updated_at, id);
CREATE INDEX devices_org_user ON devices (org_id, user_id, first_seen_at DESC, id DESC);
CREATE INDEX devices_user ON devices (user_id);

CREATE TABLE sessions (
	id                  TEXT COLLATE "C" PRIMARY KEY,
	org_id              TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
	user_id             TEXT COLLATE "C" NOT NULL REFERENCES users(id),
	device_id           TEXT COLLATE "C" REFERENCES devices(id),
	token_hash          BYTEA NOT NULL,
	ip                  TEXT NOT NULL,
	user_agent          TEXT NOT NULL,
	client              TEXT NOT NULL,
	location            TEXT NOT NULL,
	mfa                 BOOLEAN NOT NULL,
	created_at          BIGINT NOT NULL,
	last_active_at      BIGINT NOT NULL,
	expires_at          BIGINT NOT NULL, -- min(absolute_expires_at, last_active_at + idle)
	absolute_expires_at BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL,
	terminated_at       BIGINT,
	-- No foreign key here, unlike SQLite: its check ran once per row of a
	-- terminate-all (100,000 trigger calls, over a second). The store sets
	-- it only to the acting user's ID (users are never deleted) or NULL.
	terminated_by       TEXT COLLATE "C"
);
-- Only two indexes on sessions: the primary key and the feed's. A
-- terminate-all rewrites every row of the organization (updated_at moves,
-- so no update is HOT), and each index of the table costs one more entry
-- per row: with the three lookups below also on this table it took 3.3 s
-- at 100,000 sessions, two and a half times what the same UPDATE costs
-- with only these two. Housekeeping finds ended sessions through
-- sessions_org_updated too (see DeleteEndedSessions). (0003 adds a third,
-- partial index that a terminate-all does not write: sessions_org_active.)
CREATE INDEX sessions_org_updated ON sessions (org_id, updated_at, id);

-- The lookups by what never changes after sign-in (token, creation order,
-- owner) live in session_keys, a copy of those columns of each session:
-- a termination never writes it, so its indexes cost nothing at
-- terminate-all. Reads join it to sessions by ID. The statement triggers
-- below keep it equal to sessions in one place for every writer (sign-in,
-- the seed's COPY, platformd copy, housekeeping); they fire once per
-- statement, never per row, and never on UPDATE.
CREATE TABLE session_keys (
	id         TEXT COLLATE "C" PRIMARY KEY,
	org_id     TEXT COLLATE "C" NOT NULL,
	user_id    TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	token_hash BYTEA NOT NULL
);
CREATE UNIQUE INDEX session_keys_token ON session_keys (token_hash);
CREATE INDEX session_keys_org_created ON session_keys (org_id, created_at DESC, id DESC);
CREATE INDEX session_keys_org_user ON session_keys (org_id, user_id, created_at DESC, id DESC);

CREATE FUNCTION session_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO session_keys (id, org_id, user_id, created_at, token_hash)
		SELECT id, org_id, user_id, created_at, token_hash FROM new_sessions;
	RETURN NULL;
END $$;
CREATE TRIGGER session_keys_insert AFTER INSERT ON sessions
	REFERENCING NEW TABLE AS new_sessions FOR EACH STATEMENT EXECUTE FUNCTION session_keys_insert();

CREATE FUNCTION session_keys_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM session_keys WHERE id IN (SELECT id FROM old_sessions);
	RETURN NULL;
END $$;
CREATE TRIGGER session_keys_delete AFTER DELETE ON sessions
	REFERENCING OLD TABLE AS old_sessions FOR EACH STATEMENT EXECUTE FUNCTION session_keys_delete();

-- The key columns never change; refuse an UPDATE that would let the two
-- tables disagree (checked per statement on the changed columns only, so
-- a terminate-all, which sets none of them, runs no trigger).
CREATE FUNCTION session_keys_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'sessions: id, org_id, user_id, created_at and token_hash never change';
END $$;
CREATE TRIGGER session_keys_immutable BEFORE UPDATE OF id, org_id, user_id, created_at, token_hash ON sessions
	FOR EACH STATEMENT EXECUTE FUNCTION session_keys_immutable();

CREATE TABLE audit_events (
	id        TEXT COLLATE "C" PRIMARY KEY,
	org_id    TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
	at        BIGINT NOT NULL,
	actor_id  TEXT COLLATE "C" REFERENCES users(id), -- NULL: the command line
	action    TEXT NOT NULL,
	target_id TEXT COLLATE "C",
	count     INTEGER NOT NULL,
	reason    TEXT NOT NULL,
	-- v1.1: whose session, device or account it was (NULL for several
	-- people), and a label for people written with the event.
	target_user_id TEXT COLLATE "C" REFERENCES users(id),
	target_label   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_org_at ON audit_events (org_id, at DESC, id DESC);
-- The person page asks for one user's events.
CREATE INDEX audit_org_target_user ON audit_events (org_id, target_user_id, at DESC, id DESC);

-- The store-wide write clock: the last updated_at handed out. One row. Every
-- write transaction that stamps rows updates it first and holds its row
-- lock until it commits (see the package comment).
CREATE TABLE write_clock (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	last BIGINT NOT NULL
);
INSERT INTO write_clock (id, last) VALUES (1, 0);

-- Sign-in throttle marks, shared by every replica: one row per key and
-- reservation; pending until the attempt is settled.
CREATE TABLE login_attempts (
	key     TEXT COLLATE "C" NOT NULL,
	id      TEXT COLLATE "C" NOT NULL,
	at      BIGINT NOT NULL,
	pending BOOLEAN NOT NULL,
	PRIMARY KEY (key, id)
);
CREATE INDEX login_attempts_at ON login_attempts (at);
CREATE INDEX login_attempts_id ON login_attempts (id);
