-- v1.2: an audit event of a bulk end keeps the IDs of the sessions it ended
-- (at most 1,000, in ID order), so that the history outlives the
-- housekeeping of ended sessions. Earlier events get {} (what they ended is
-- not recorded). A constant default adds the column without rewriting the
-- table.
ALTER TABLE audit_events ADD COLUMN target_ids text[] NOT NULL DEFAULT '{}';
