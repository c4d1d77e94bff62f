-- An officer's own queue (ListDeadlines with case_officer): the officer's
-- cases from the index alone (every column the list reads of a case is in
-- it), then their timers, instead of every timer of the unit.
-- Reads the cases table once, rewrites nothing: 0.53 s at 100,000 cases
-- (180 MB) on a 2-core machine, so about 5 s per million. Reads go on;
-- writes to cases wait for it (a SHARE lock).
CREATE INDEX cases_case_officer ON cases (case_officer)
  INCLUDE (id, tracking_number, state, responsible_unit, stage, workflow, workflow_version)
  WHERE case_officer IS NOT NULL;
