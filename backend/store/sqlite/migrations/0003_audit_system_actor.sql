-- Audit events of the platform's operator at the command line (platformd
-- user passwd, user totp) have no actor user: actor_id becomes nullable
-- (NULL reads back as the "system" actor). SQLite cannot relax NOT NULL in
-- place, so the table is rebuilt with its rows and index.
CREATE TABLE audit_events_new (
	id        TEXT PRIMARY KEY,
	org_id    TEXT NOT NULL REFERENCES orgs(id),
	at        INTEGER NOT NULL,
	actor_id  TEXT REFERENCES users(id), -- NULL: the command line
	action    TEXT NOT NULL,
	target_id TEXT,
	count     INTEGER NOT NULL,
	reason    TEXT NOT NULL
);
INSERT INTO audit_events_new (id, org_id, at, actor_id, action, target_id, count, reason)
	SELECT id, org_id, at, actor_id, action, target_id, count, reason FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_org_at ON audit_events (org_id, at DESC, id DESC);
