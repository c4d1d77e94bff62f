-- 0010: what each deadline is made of, kept on its timer, so that an
-- extension or a stopped clock lengthens the period and the last day is
-- recomputed from the start, rolled forward once (docs/workflow.md
-- "Deadlines"), and any due date can be explained in one line.
--
-- Timers written before this migration keep the last day they had: their
-- terms count 0 days from that day, so a later extension or resumption
-- counts on from it, as it did when they were set.
ALTER TABLE case_timers
  ADD COLUMN counted_from   date,
  ADD COLUMN base_days      integer NOT NULL DEFAULT 0,
  ADD COLUMN extension_days integer NOT NULL DEFAULT 0,
  ADD COLUMN stopped_days   integer NOT NULL DEFAULT 0,
  ADD COLUMN rolled         boolean NOT NULL DEFAULT false;
UPDATE case_timers SET counted_from = due_day;
ALTER TABLE case_timers ALTER COLUMN counted_from SET NOT NULL;
-- The timers to recompute when a year's holiday arrangement is loaded.
CREATE INDEX case_timers_provisional ON case_timers (case_id) WHERE provisional;
