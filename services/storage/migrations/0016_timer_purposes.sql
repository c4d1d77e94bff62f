-- 0016: a timer's purpose (the definition's TimerPurpose) is recorded with
-- the timer and with its closed deadline, so the statistics count the intake
-- notice, the handling deadline and the evaluation window by purpose and not
-- by name (docs/workflow.md). Rows written before: the shipped definition's
-- names give their purpose.
ALTER TABLE case_timers ADD COLUMN purpose smallint NOT NULL DEFAULT 0;
ALTER TABLE deadline_log ADD COLUMN purpose smallint NOT NULL DEFAULT 0;

CREATE FUNCTION xf_shipped_timer_purpose(name text) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE name
    WHEN 'intake_notice' THEN 1 WHEN 'handling' THEN 2 WHEN 'evaluation' THEN 3
    WHEN 'notice_reply' THEN 4 WHEN 'objection' THEN 5 WHEN 'review_request' THEN 6
    WHEN 'review_answer' THEN 7 WHEN 'recheck_request' THEN 8 WHEN 'recheck_answer' THEN 9
    ELSE 0 END::smallint
$$;
UPDATE case_timers SET purpose = xf_shipped_timer_purpose(name)
 WHERE xf_shipped_timer_purpose(name) <> 0;
UPDATE deadline_log SET purpose = xf_shipped_timer_purpose(name)
 WHERE xf_shipped_timer_purpose(name) <> 0;
DROP FUNCTION xf_shipped_timer_purpose(text);

DROP INDEX deadline_log_due_cover;
CREATE INDEX deadline_log_due_cover ON deadline_log (purpose, due_at) INCLUDE (owing_unit, met);
CREATE INDEX case_timers_purpose_due ON case_timers (purpose, due_at);
