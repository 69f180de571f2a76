-- v1.2 limits.
--
-- Numbered 0005: 0004 is left to another branch's migration.
--
-- Stream leases name the session's user, so that AcquireStream counts a
-- user's streams over all of the user's sessions and every replica. Leases
-- stored before have user_id '' and count for no user; they expire within
-- a lease TTL. The count still reads the index alone.
ALTER TABLE stream_leases ADD COLUMN user_id TEXT COLLATE "C" NOT NULL DEFAULT '';
DROP INDEX stream_leases_org;
CREATE INDEX stream_leases_org ON stream_leases (org_id, session_id, user_id, expires_at);

-- Housekeeping deletes untrusted devices that no session refers to
-- (DeleteStaleDevices). With the foreign key on sessions.device_id, each
-- deleted device cost its check a scan of every session (no index of
-- sessions leads with device_id), and such an index would cost every
-- terminate-all one more entry per row (see 0001). A session's device is
-- fixed at sign-in like its token and owner, so the reference moves to
-- session_keys, which a termination never writes: its index serves the
-- foreign key's check and the "still referred to" test alike.
ALTER TABLE session_keys ADD COLUMN device_id TEXT COLLATE "C";
UPDATE session_keys k SET device_id = s.device_id FROM sessions s WHERE s.id = k.id AND s.device_id IS NOT NULL;
CREATE INDEX session_keys_device ON session_keys (device_id);
ALTER TABLE session_keys ADD CONSTRAINT session_keys_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices(id);
ALTER TABLE sessions DROP CONSTRAINT sessions_device_id_fkey;

CREATE OR REPLACE FUNCTION session_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO session_keys (id, org_id, user_id, device_id, created_at, token_hash)
		SELECT id, org_id, user_id, device_id, created_at, token_hash FROM new_sessions;
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION session_keys_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'sessions: id, org_id, user_id, device_id, created_at and token_hash never change';
END $$;
DROP TRIGGER session_keys_immutable ON sessions;
CREATE TRIGGER session_keys_immutable BEFORE UPDATE OF id, org_id, user_id, device_id, created_at, token_hash ON sessions
	FOR EACH STATEMENT EXECUTE FUNCTION session_keys_immutable();
