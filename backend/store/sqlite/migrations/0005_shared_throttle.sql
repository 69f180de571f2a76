-- Sign-in throttle marks live in the database (store.ReserveAttempt), like
-- in the PostgreSQL store where several replicas share them: one row per key
-- and reservation; pending until the attempt is settled.
CREATE TABLE login_attempts (
	key     TEXT NOT NULL,
	id      TEXT NOT NULL,
	at      INTEGER NOT NULL,
	pending INTEGER NOT NULL,
	PRIMARY KEY (key, id)
);
CREATE INDEX login_attempts_at ON login_attempts (at);
CREATE INDEX login_attempts_id ON login_attempts (id);
