-- Staff passwords and sign-in sessions (issue 14). A password is kept only as
-- libsodium's crypto_pwhash_str (argon2id, with its salt and cost); a session
-- is a row of `tokens` (only the SHA-256 of its secret) that also lapses when
-- unused for idle_seconds.
ALTER TABLE accounts
  ADD COLUMN password_hash text,                              -- NULL: no password, no sign-in
  ADD COLUMN password_must_change boolean NOT NULL DEFAULT false;  -- set by an administrator

ALTER TABLE tokens
  ADD COLUMN idle_seconds integer,        -- NULL: a bearer token; else a session
  ADD COLUMN idle_expires_at timestamptz; -- a session is refused from then unless used before
