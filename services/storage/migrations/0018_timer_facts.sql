-- 0018: what the engine says of a timer is recorded with it, so storage
-- consults no definition:
--  - its place in the definition (a case's timers are read back in that
--    order), beside the owing unit and next fire instant recorded before;
--  - its case's responsible unit and stage, rewritten with the timers on
--    every change, so the supervisors' board counts the deadlines due soon
--    and overdue from one index of the open cases' running timers.
-- Rows written before: the shipped definition's order, the cases' columns.
ALTER TABLE case_timers ADD COLUMN position smallint NOT NULL DEFAULT 0;
ALTER TABLE case_timers ADD COLUMN case_unit text NOT NULL DEFAULT '';
ALTER TABLE case_timers ADD COLUMN case_stage smallint NOT NULL DEFAULT 0;

UPDATE case_timers t
   SET position = CASE t.name
         WHEN 'notice_reply' THEN 0 WHEN 'intake_notice' THEN 1 WHEN 'objection' THEN 2
         WHEN 'handling' THEN 3 WHEN 'evaluation' THEN 4 WHEN 'review_request' THEN 5
         WHEN 'review_answer' THEN 6 WHEN 'recheck_request' THEN 7 WHEN 'recheck_answer' THEN 8
         ELSE 9 END,
       case_unit = c.responsible_unit,
       case_stage = c.stage
  FROM cases c
 WHERE c.id = t.case_id;

-- The board's running deadlines of open cases (stage 7: STAGE_FINAL).
CREATE INDEX case_timers_board ON case_timers (due_at) INCLUDE (case_unit, case_stage)
  WHERE suspended_at IS NULL AND case_stage <> 7;
