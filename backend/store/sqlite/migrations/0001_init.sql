-- Times are INTEGER unix nanoseconds (UTC). IDs are prefixed random strings.
CREATE TABLE orgs (
	id         TEXT PRIMARY KEY,
	slug       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE users (
	id             TEXT PRIMARY KEY,
	org_id         TEXT NOT NULL REFERENCES orgs(id),
	email          TEXT NOT NULL, -- stored lower-case
	name           TEXT NOT NULL,
	role           TEXT NOT NULL,
	password_hash  BLOB NOT NULL,
	totp_secret    TEXT NOT NULL DEFAULT '',
	totp_last_step INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	UNIQUE (org_id, email)
);

CREATE TABLE devices (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES orgs(id),
	user_id       TEXT NOT NULL REFERENCES users(id),
	name          TEXT NOT NULL,
	platform      TEXT NOT NULL,
	trusted_at    INTEGER,
	first_seen_at INTEGER NOT NULL,
	last_seen_at  INTEGER NOT NULL,
	last_ip       TEXT NOT NULL,
	updated_at    INTEGER NOT NULL
);
CREATE INDEX devices_org_first_seen ON devices (org_id, first_seen_at DESC, id DESC);
CREATE INDEX devices_org_updated ON devices (org_id, updated_at, id);
CREATE INDEX devices_org_user ON devices (org_id, user_id, first_seen_at DESC, id DESC);
CREATE INDEX devices_user ON devices (user_id);

CREATE TABLE sessions (
	id                  TEXT PRIMARY KEY,
	org_id              TEXT NOT NULL REFERENCES orgs(id),
	user_id             TEXT NOT NULL REFERENCES users(id),
	device_id           TEXT REFERENCES devices(id),
	token_hash          BLOB NOT NULL,
	ip                  TEXT NOT NULL,
	user_agent          TEXT NOT NULL,
	client              TEXT NOT NULL,
	location            TEXT NOT NULL,
	mfa                 INTEGER NOT NULL,
	created_at          INTEGER NOT NULL,
	last_active_at      INTEGER NOT NULL,
	expires_at          INTEGER NOT NULL, -- min(absolute_expires_at, last_active_at + idle)
	absolute_expires_at INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL,
	terminated_at       INTEGER,
	terminated_by       TEXT REFERENCES users(id)
);
CREATE UNIQUE INDEX sessions_token ON sessions (token_hash);
CREATE INDEX sessions_org_created ON sessions (org_id, created_at DESC, id DESC);
CREATE INDEX sessions_org_updated ON sessions (org_id, updated_at, id);
CREATE INDEX sessions_org_user ON sessions (org_id, user_id, created_at DESC, id DESC);
CREATE INDEX sessions_device ON sessions (device_id);

CREATE TABLE audit_events (
	id        TEXT PRIMARY KEY,
	org_id    TEXT NOT NULL REFERENCES orgs(id),
	at        INTEGER NOT NULL,
	actor_id  TEXT NOT NULL REFERENCES users(id),
	action    TEXT NOT NULL,
	target_id TEXT,
	count     INTEGER NOT NULL,
	reason    TEXT NOT NULL
);
CREATE INDEX audit_org_at ON audit_events (org_id, at DESC, id DESC);

-- The store-wide write clock: the last updated_at handed out. One row.
CREATE TABLE write_clock (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	last INTEGER NOT NULL
);
INSERT INTO write_clock (id, last) VALUES (1, 0);
