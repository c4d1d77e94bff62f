-- 0003: what the engine keeps per case beyond 0001, the head of each
-- case's history, the fingerprint of the registering request, and the
-- database's own refusal to change or delete history.

ALTER TABLE cases
  ADD COLUMN state_entered_at timestamptz,   -- when the case entered its current state
  ADD COLUMN unit_received_at timestamptz,   -- when the responsible unit received the matter
  ADD COLUMN head_seq integer NOT NULL DEFAULT 0,   -- seq of the last event
  ADD COLUMN head_hash text NOT NULL DEFAULT '',    -- hash of the last event
  ADD COLUMN request_hash text NOT NULL DEFAULT ''; -- SHA-256 of the registering request

UPDATE cases c SET head_seq = e.seq, head_hash = e.hash
  FROM (SELECT DISTINCT ON (case_id) case_id, seq, hash
          FROM case_events ORDER BY case_id, seq DESC) e
 WHERE e.case_id = c.id;

-- History is append-only: updates and deletes are refused. (Someone with
-- the rights to drop this trigger can still tamper; VerifyHistory catches it.)
CREATE FUNCTION xf_refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'case history is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER case_events_append_only
  BEFORE UPDATE OR DELETE ON case_events
  FOR EACH ROW EXECUTE FUNCTION xf_refuse_history_change();
