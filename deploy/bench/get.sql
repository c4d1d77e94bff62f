-- GetCase by tracking number, as a service account: the two statements
-- xinfang-server sends for one call, in its order, with the same parameters
-- bound: the token lookup (IdentityStore::Authenticate, kAuthenticate) and
-- the case in one statement (CaseStore::GetByTracking → LoadCase,
-- kSelectCaseByTracking: the row with its petitioners, related cases,
-- attributes, actions taken and timers). Captured with log_statement=all
-- (docs/benchmarks.md). Units and names are cached in the server (no
-- statement). The server prepares each statement once per connection: run
-- this with -M prepared for the same shape, -M extended for a parse and plan
-- per call. Floor: get-floor.sql.
-- Variables: -D ncases=N (seeded case ids are 1..N), -D token_hash=<hex
-- SHA-256 of the service account's token> (bench.sh passes both).
\set i random(1, :ncases)
-- Picks a seeded case's tracking number: a primary-key lookup, and a round
-- trip, that the service does not make (pgbench cannot draw a tracking
-- number otherwise): it makes this ceiling a little lower.
SELECT tracking_number AS t FROM cases WHERE id = :i \gset
SELECT a.name, a.display_name, a.role, a.unit, xf_us(a.created_at), a.created_by, xf_us(a.disabled_at), xf_us(t.expires_at), xf_us(t.revoked_at), t.id, xf_us(t.idle_expires_at), t.idle_seconds FROM tokens t JOIN accounts a ON a.name = t.account WHERE t.hash = decode(:token_hash, 'hex');
SELECT id, tracking_number, version, head_seq, head_hash, xf_us(registered_at),        registered_by, intake::text, workflow, workflow_version, state, xf_us(received_at), responsible_unit, coalesce(forwarder_unit, ''), coalesce(review_unit, ''), coalesce(recheck_unit, ''), coalesce(case_officer, ''), anonymous::int, xf_us(accepted_at), xf_us(decided_at), xf_us(served_at), xf_us(closed_at), coalesce(outcome, ''), coalesce(evaluation, ''), flags, conflicted_accounts, xf_us(state_entered_at), xf_us(unit_received_at), coalesce(complained_about_unit, ''),        (SELECT coalesce(string_agg(p.position || ':' || p.person_id, ','), '')           FROM case_petitioners p WHERE p.case_id = cases.id),        (SELECT coalesce(string_agg(r.tracking_number, ',' ORDER BY r.id), '')           FROM cases r WHERE r.id IN (            SELECT e.case_id FROM case_petitioners p JOIN case_petitioners e                 ON e.person_id = p.person_id AND e.category = p.category                AND e.case_id < p.case_id              WHERE p.case_id = cases.id)),        attributes::text,        (SELECT coalesce(json_agg(json_build_array(e.action, e.from_state, e.to_state,                         e.actor, e.actor_unit, xf_us(e.at)::text, e.fields) ORDER BY e.seq),                         '[]')::text           FROM case_events e WHERE e.case_id = cases.id AND e.action <> ''),        (SELECT coalesce(string_agg(concat_ws(',', t.name, xf_us(t.started_at), t.due_day, xf_us(t.due_at), xf_us(t.warn_at), t.provisional::int, coalesce(xf_us(t.suspended_at)::text, ''), t.extended::int, t.warned::int, t.overdue::int, t.rung, t.counted_from, t.base_days, t.extension_days, t.stopped_days, t.rolled::int), ';'), '')           FROM case_timers t WHERE t.case_id = cases.id)   FROM cases WHERE tracking_number = :t;
