-- The floor of GetCase by tracking number (run with -M prepared): the same
-- logical work as get.sql — the token looked up, then the case with its
-- petitioners, related cases, attributes, actions taken and timers — in the
-- fewest round trips PostgreSQL allows: one prepared statement, the case
-- read only for a known token (no row at all for an unknown one; a known
-- token and no such case gives the account's columns with NULLs).
-- The tracking number is drawn inside the statement (a primary-key probe
-- the service does not make; get.sql spends a round trip on it).
-- Variables: -D ncases=N, -D token_hash=<hex SHA-256 of the service
-- account's token> (bench.sh passes both).
\set i random(1, :ncases)
WITH who AS (
  SELECT a.name, a.display_name, a.role, a.unit, xf_us(a.created_at), a.created_by,
         xf_us(a.disabled_at), xf_us(t.expires_at), xf_us(t.revoked_at), t.id,
         xf_us(t.idle_expires_at), t.idle_seconds
    FROM tokens t JOIN accounts a ON a.name = t.account WHERE t.hash = decode(:token_hash, 'hex'))
SELECT who.*, c.* FROM who LEFT JOIN LATERAL (
  SELECT id, tracking_number, version, head_seq, head_hash, xf_us(registered_at),
         registered_by, intake::text, workflow, workflow_version, state, xf_us(received_at),
         responsible_unit, coalesce(forwarder_unit, ''), coalesce(review_unit, ''),
         coalesce(recheck_unit, ''), coalesce(case_officer, ''), anonymous::int,
         xf_us(accepted_at), xf_us(decided_at), xf_us(served_at), xf_us(closed_at),
         coalesce(outcome, ''), coalesce(evaluation, ''), flags, conflicted_accounts,
         xf_us(state_entered_at), xf_us(unit_received_at), coalesce(complained_about_unit, ''),
         (SELECT coalesce(string_agg(p.position || ':' || p.person_id, ','), '')
            FROM case_petitioners p WHERE p.case_id = cases.id),
         (SELECT coalesce(string_agg(r.tracking_number, ',' ORDER BY r.id), '')
            FROM cases r WHERE r.id IN (
              SELECT e.case_id FROM case_petitioners p JOIN case_petitioners e
                  ON e.person_id = p.person_id AND e.category = p.category
                 AND e.case_id < p.case_id
               WHERE p.case_id = cases.id)),
         attributes::text,
         (SELECT coalesce(json_agg(json_build_array(e.action, e.from_state, e.to_state,
                          e.actor, e.actor_unit, xf_us(e.at)::text, e.fields) ORDER BY e.seq),
                          '[]')::text
            FROM case_events e WHERE e.case_id = cases.id AND e.action <> ''),
         (SELECT coalesce(string_agg(concat_ws(',', t.name, xf_us(t.started_at), t.due_day,
                          xf_us(t.due_at), xf_us(t.warn_at), t.provisional::int,
                          coalesce(xf_us(t.suspended_at)::text, ''), t.extended::int,
                          t.warned::int, t.overdue::int, t.rung, t.counted_from, t.base_days,
                          t.extension_days, t.stopped_days, t.rolled::int), ';'), '')
            FROM case_timers t WHERE t.case_id = cases.id)
    FROM cases
   WHERE tracking_number = (SELECT tracking_number FROM cases WHERE id = :i)) c ON true;
