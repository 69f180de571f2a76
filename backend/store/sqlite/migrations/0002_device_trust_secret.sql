-- A trusted device skips TOTP only with its device secret; the platform keeps
-- the secret's SHA-256. Devices trusted before this migration have none, so
-- their users enter a code once more (and may trust the device again).
ALTER TABLE devices ADD COLUMN trust_secret_hash BLOB;
