-- The overdue list (ListCases with overdue_only) at a million cases (issue
-- 13: under 5 ms). The first page is the newest cases with a running
-- deadline past due; the newest cases' deadlines are mostly still running,
-- so walking the cases (or all running deadlines) newest first reads about
-- as many rows as a fortnight of petitions before the first overdue one.
--
-- The running deadlines split in two by the sweeper's mark:
--  - those marked overdue, by case, newest first: the list walks these and
--    skips only those outside the scope asked for;
--  - those not marked, by due instant: the ones already past due that the
--    sweeper has not reached yet (normally none) are read by a range.
-- Together they are exactly the running deadlines past due, whatever the
-- sweeper has done.
CREATE INDEX case_timers_overdue_by_case ON case_timers (case_id) INCLUDE (due_at, case_unit)
  WHERE overdue AND suspended_at IS NULL;
CREATE INDEX case_timers_unmarked_due ON case_timers (due_at) INCLUDE (case_id, case_unit)
  WHERE NOT overdue AND suspended_at IS NULL;
