-- v1.1: audit events name their target. target_user_id is whose session,
-- device or account it was; target_label a person-readable label written
-- with the event (so it survives later changes of the row). Earlier events
-- are filled from the rows their target_id names, where those still exist.
ALTER TABLE audit_events ADD COLUMN target_user_id TEXT REFERENCES users(id);
ALTER TABLE audit_events ADD COLUMN target_label TEXT NOT NULL DEFAULT '';
UPDATE audit_events SET
	target_user_id = (SELECT s.user_id FROM sessions s WHERE s.id = audit_events.target_id),
	target_label = COALESCE((SELECT CASE WHEN s.client = '' THEN s.ip WHEN s.ip = '' THEN s.client
		ELSE s.client || ', ' || s.ip END FROM sessions s WHERE s.id = audit_events.target_id), '')
	WHERE action = 'session.terminate';
UPDATE audit_events SET
	target_user_id = (SELECT d.user_id FROM devices d WHERE d.id = audit_events.target_id),
	target_label = COALESCE((SELECT d.name FROM devices d WHERE d.id = audit_events.target_id), '')
	WHERE action = 'device.untrust';
UPDATE audit_events SET target_user_id = (SELECT u.id FROM users u WHERE u.id = audit_events.target_id)
	WHERE action IN ('user.password_reset', 'user.totp_reset');
-- The person page asks for one user's events.
CREATE INDEX audit_org_target_user ON audit_events (org_id, target_user_id, at DESC, id DESC);
