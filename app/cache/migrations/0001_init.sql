-- Sessions, devices and the recent audit log as the platform last reported
-- them. Only what the app filters on or needs for bookkeeping stays in clear
-- columns (ids, timestamps, status and flags); each object as a whole is
-- sealed in `sealed` (AES-256-GCM, see seal.go).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    status         TEXT    NOT NULL,
    mfa            INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    sealed         BLOB    NOT NULL
);
CREATE INDEX sessions_updated_at ON sessions(updated_at);

CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    trusted       INTEGER NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    sealed        BLOB    NOT NULL
);

CREATE TABLE audit (
    id     TEXT PRIMARY KEY,
    at     INTEGER NOT NULL,
    action TEXT    NOT NULL,
    sealed BLOB    NOT NULL
);
CREATE INDEX audit_at ON audit(at);

-- Device ids this profile has already been told about (or that existed at
-- its first sync). Survives retention so a device is never announced twice.
CREATE TABLE seen_devices (
    id         TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL
);
