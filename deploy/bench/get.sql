-- GetCase by tracking number: the statements xinfang-server sends for one
-- call (CaseStore::GetByTracking → LoadCase), captured with
-- log_statement=all (docs/benchmarks.md), with the same parameters bound.
-- Not included: the server's "/* ping */" per pool lease and the
-- prepare/DEALLOCATE round trips around each s.prepare statement — those
-- are the service's own overhead, which the fraction of this ceiling shows.
-- Variables: -D ncases=N (seeded case ids are 1..N).
\set i random(1, :ncases)
-- Picks a seeded case's tracking number (one primary-key lookup that the
-- service does not make: it makes this ceiling slightly lower).
SELECT tracking_number AS t FROM cases WHERE id = :i \gset
SELECT id, tracking_number, version, workflow, workflow_version, state,
       xf_us(received_at), xf_us(registered_at), registered_by, responsible_unit,
       coalesce(forwarder_unit, ''), coalesce(review_unit, ''), coalesce(recheck_unit, ''),
       coalesce(case_officer, ''), anonymous::int,
       xf_us(accepted_at), xf_us(decided_at), xf_us(served_at), xf_us(closed_at),
       coalesce(outcome, ''), coalesce(evaluation, ''), flags, conflicted_accounts,
       intake::text, xf_us(state_entered_at), xf_us(unit_received_at), head_seq, head_hash
  FROM cases WHERE tracking_number = :t;
SELECT a.key, a.value FROM cases c, jsonb_each_text(c.attributes) a WHERE c.id = :i;
SELECT t.name, xf_us(t.started_at), t.due_day::text, xf_us(t.due_at), xf_us(t.warn_at), t.provisional::int, xf_us(t.suspended_at), t.extended::int, t.warned::int, t.overdue::int, t.rung FROM case_timers t WHERE t.case_id = :i;
SELECT position, person_id FROM case_petitioners WHERE case_id = :i;
SELECT r.tracking_number FROM case_links l JOIN cases r ON r.id = l.related_id
 WHERE l.case_id = :i ORDER BY r.id;
