-- v1.2: an audit event of a bulk end keeps the IDs of the sessions it ended
-- (at most 1,000, in ID order) as a JSON array, so that the history outlives
-- the housekeeping of ended sessions. Earlier events get [] (what they ended
-- is not recorded).
ALTER TABLE audit_events ADD COLUMN target_ids TEXT NOT NULL DEFAULT '[]';
