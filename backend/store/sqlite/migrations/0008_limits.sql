-- v1.2 limits. Stream leases name the session's user, so that AcquireStream
-- counts a user's streams over all of the user's sessions (and every
-- process). Leases stored before have user_id '' and count for no user;
-- they expire within a lease TTL. The count reads the index alone.
--
-- Numbered 0008: 0007 is left to another branch's migration.
ALTER TABLE stream_leases ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
DROP INDEX stream_leases_org;
CREATE INDEX stream_leases_org ON stream_leases (org_id, session_id, user_id, expires_at);
