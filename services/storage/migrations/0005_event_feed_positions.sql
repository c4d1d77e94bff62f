-- 0005: the event feed. An event gets its place in the feed (position) only
-- after its transaction has committed: the sequencer (CaseStore::
-- SequenceEvents) gives every newly visible event the next positions, in id
-- order, under a row lock on event_sequencer. A transaction that commits
-- late gets later positions, so a consumer that reads positions after its
-- cursor never skips it, and one case's events keep their commit order.

ALTER TABLE case_events ADD COLUMN position bigint;

CREATE TABLE event_sequencer (
  singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_position  bigint NOT NULL
);

-- Events written before this migration take their ids as positions.
ALTER TABLE case_events DISABLE TRIGGER case_events_append_only;
UPDATE case_events SET position = id;
ALTER TABLE case_events ENABLE TRIGGER case_events_append_only;
INSERT INTO event_sequencer VALUES (true, coalesce((SELECT max(position) FROM case_events), 0));

CREATE UNIQUE INDEX case_events_position ON case_events (position) WHERE position IS NOT NULL;
CREATE INDEX case_events_unsequenced ON case_events (id) WHERE position IS NULL;

-- History stays append-only; the one change allowed is the sequencer giving
-- an event its position, once.
CREATE OR REPLACE FUNCTION xf_refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.position IS NULL AND NEW.position IS NOT NULL
     AND to_jsonb(OLD) - 'position' = to_jsonb(NEW) - 'position' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'case history is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
