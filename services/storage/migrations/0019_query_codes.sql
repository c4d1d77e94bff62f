-- 0019: the petitioner's query code (查询码, issue 15). Only a keyed hash is
-- kept: BLAKE2b-256 of the normalised code keyed with a random per-case salt
-- (services/common/query_code.h). One row per case: a reissue replaces it,
-- so the old code stops working; the history records each issue.
CREATE TABLE case_query_codes (
  case_id    bigint PRIMARY KEY REFERENCES cases (id),
  salt       bytea NOT NULL CHECK (length(salt) = 16),
  hash       bytea NOT NULL CHECK (length(hash) = 32),
  issued_at  timestamptz NOT NULL,
  issued_by  text NOT NULL
);

-- The public status reads a case's closed deadlines (met or not).
CREATE INDEX deadline_log_case ON deadline_log (case_id);
