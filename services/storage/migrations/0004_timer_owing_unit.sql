-- 0004: each deadline records the unit that owes it (the review or re-check
-- unit during those stages, else the responsible unit), for supervisors'
-- lists by unit subtree.
ALTER TABLE case_timers ADD COLUMN owing_unit text;
UPDATE case_timers t
   SET owing_unit = CASE WHEN t.name IN ('review_answer', 'recheck_request')
                              AND c.review_unit IS NOT NULL THEN c.review_unit
                         WHEN t.name = 'recheck_answer' AND c.recheck_unit IS NOT NULL THEN c.recheck_unit
                         ELSE c.responsible_unit END
  FROM cases c WHERE c.id = t.case_id;
ALTER TABLE case_timers ALTER COLUMN owing_unit SET NOT NULL;
CREATE INDEX case_timers_owing_due ON case_timers (owing_unit, due_at);
