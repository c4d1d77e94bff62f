-- Identity (issue 7): accounts bound to a unit with one role, bearer tokens
-- stored only as SHA-256 hashes, and the record of reads of unmasked
-- personal data.

CREATE TABLE accounts (
  name          text PRIMARY KEY,
  display_name  text NOT NULL DEFAULT '',
  role          text NOT NULL CHECK (role IN ('intake_clerk', 'case_officer', 'unit_head',
                                              'supervisor', 'administrator', 'auditor', 'service')),
  unit          text NOT NULL REFERENCES units (code),
  created_at    timestamptz NOT NULL,
  created_by    text NOT NULL,
  disabled_at   timestamptz
);

CREATE TABLE tokens (
  id          bigserial PRIMARY KEY,
  hash        bytea NOT NULL UNIQUE,      -- SHA-256 of the secret; the secret is never stored
  account     text NOT NULL REFERENCES accounts (name),
  label       text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX tokens_account ON tokens (account, id);

-- Append-only: who read unmasked ID or phone numbers, of which case, how.
CREATE TABLE access_log (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL,
  account  text NOT NULL,
  role     text NOT NULL,
  unit     text NOT NULL,
  rpc      text NOT NULL,
  case_id  bigint NOT NULL REFERENCES cases (id)
);
CREATE INDEX access_log_case ON access_log (case_id, id);
CREATE INDEX access_log_account ON access_log (account, id);

CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'access_log is append-only';
END $$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
  FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
  FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();

-- The history refuses TRUNCATE as it refuses UPDATE and DELETE (0003).
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
  FOR EACH STATEMENT EXECUTE FUNCTION xf_refuse_history_change();
