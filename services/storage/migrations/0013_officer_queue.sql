-- An officer's own queue (ListDeadlines with case_officer): the officer's
-- cases by index, then their timers, instead of every timer of the unit.
CREATE INDEX cases_case_officer ON cases (case_officer) WHERE case_officer IS NOT NULL;
