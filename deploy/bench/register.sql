-- RegisterCase: the statements xinfang-server sends for one registration,
-- captured with log_statement=all (docs/benchmarks.md) from an online
-- petition with one petitioner (xfbench register), in the same order and
-- transaction shape, with the same values bound:
--   the token lookup (IdentityStore::Authenticate);
--   Intake::Register: the replay check (CaseStore::FindReplay) and the
--   petitioner's earlier cases (CasesOfPetitioners; none for a new person,
--   so no case is read);
--   CaseStore::Create in one transaction, in three round trips: BEGIN with
--   the case's id and tracking number; the petitioner resolved
--   (xf_resolve_petitioner, migration 0015); then, pipelined, the case row
--   with its history's head, its petitioner, the contact details, the query
--   code's hash, the first event, the first timer (the one write path,
--   ChangeBatch; a new case has no timers to replace), the kept statistics'
--   projection (xf_stats_project), the notification, COMMIT and the case as
--   stored. The transaction starts with SET LOCAL plan_cache_mode (pq.h).
-- Re-captured 2026-12-01.
-- A fresh petitioner has no previous case: no repeat link (kInsertLink).
-- Units and categories are cached in the server (no statement); the event
-- sequencer's own transaction is left out.
-- What pgbench cannot do the same way: it allows no \gset inside a
-- pipeline, so BEGIN rides with the earlier-cases read (same round trips,
-- and that read joins the transaction) and the nextval pair is a round trip
-- of its own; it cannot build strings, so the array parameters that hold
-- the new case's id are ARRAY[:id] and the tracking number is
-- 'PGB-' || :seqno; the intake's constant values are literals.
-- The server prepares each statement once per connection: run with
-- -M prepared for the same shape, -M extended for a parse and plan per
-- statement. Floor: register-floor.sql.
-- Variables: -D now=<microseconds since the epoch>, -D token_hash=<hex SHA-256
-- of the clerk's token> (bench.sh passes both).
\set r random(100000000000000, 999999999999999)
\set idn random(110105195501010000, 110105200412319999)
\set received :now - 6900000000
\set warn :now + 1036800000000
\set due :now + 1296000000000
SELECT a.name, a.display_name, a.role, a.unit, xf_us(a.created_at), a.created_by, xf_us(a.disabled_at), xf_us(t.expires_at), xf_us(t.revoked_at), t.id, xf_us(t.idle_expires_at), t.idle_seconds FROM tokens t JOIN accounts a ON a.name = t.account WHERE t.hash = decode(:token_hash, 'hex');
SELECT id, request_hash FROM cases WHERE request_id = :r;
\startpipeline
SELECT cp.case_id FROM persons ps
    JOIN case_petitioners cp ON cp.person_id = ps.id AND cp.category = 'rights.women'
    JOIN cases c ON c.id = cp.case_id
   WHERE ((:idn <> '' AND ps.id_number = :idn) OR (:idn = '' AND ps.name = '杨文' AND ps.phone = '13699903373'))
     AND ((NOT c.final
           AND (c.responsible_unit = ANY (CAST('{}' AS text[]))
                OR c.review_unit = ANY (CAST('{}' AS text[]))
                OR c.recheck_unit = ANY (CAST('{}' AS text[]))))
          OR position(',final_after_recheck,' IN ',' || c.flags || ',') > 0)
   ORDER BY cp.case_id DESC LIMIT 200;
BEGIN;
SET LOCAL plan_cache_mode = force_generic_plan;
\endpipeline
SELECT nextval('cases_id_seq') AS id, nextval('tracking_seq') AS seqno \gset
SELECT person_id AS person, registered_name, previous_case
  FROM xf_resolve_petitioner('杨文', :idn, '13699903373', 'A市高新区人民路455号16栋726室', 'rights.women', :id) \gset
\startpipeline
INSERT INTO cases (id, tracking_number, request_id, workflow, workflow_version, state, stage,
                   final, channel, received_at, registered_at, registered_by,
                   registering_unit, responsible_unit, forwarder_unit, anonymous, purpose,
                   category, complained_about_unit, summary, flags, intake, updated_at,
                   state_entered_at, unit_received_at, request_hash, closed_at, attributes,
                   head_seq, head_hash)
VALUES (:id, 'PGB-' || :seqno, :r, 'petition', 1, 'registered', 1,
        (0 = 1), 4, xf_ts(:received), xf_ts(:now), 'bench-clerk',
        'prov.city-c.dist-4', 'prov.city-c.dist-4', nullif('', ''), (0 = 1),
        1, 'rights.women', nullif('', ''), 'A市宏达物流有限公司降低孕期女职工工资', '',
        CAST('{"online": {"platform": "wechat", "reference": "W114873073805"}, "channel": "CHANNEL_ONLINE", "purpose": "PURPOSE_CLAIM", "request": "请求补发产假工资", "summary": "A市宏达物流有限公司降低孕期女职工工资", "category": "rights.women", "receivedAt": "2026-11-30T00:47:14.371021Z", "petitioners": [{"name": "杨文", "phone": "13699903373", "address": "A市高新区人民路455号16栋726室", "idNumber": "110105198212105621"}], "issueLocation": "F市东湖区工业园路", "complainedAbout": "A市宏达物流有限公司", "factsAndReasons": "怀孕后公司将本人调至偏远岗位并降低工资，理由是工作量减少。怀孕后公司将本人调至偏远岗位并降低工资，理由是工作量减少。怀孕后公司将本人调至偏远岗位并降低工资，理由是工作量减少。", "registeringUnit": "prov.city-c.dist-4"}' AS jsonb),
        xf_ts(:now), xf_ts(:now), xf_ts(:received),
        '5db8684966e902da6b06025da148e04f2eb98a30e3e8f3ab8c6b40a44cd417d8', xf_ts(NULL),
        CAST('{}' AS jsonb), 1, 'c505b340c8965726a826f0e9f7a0ca5482c8886fc92b77fd2f0036d3a671582a');
INSERT INTO case_petitioners (case_id, position, person_id, category) VALUES (:id, 0, :person, 'rights.women');
UPDATE persons SET phone = coalesce(nullif('13699903373', ''), phone),                    address = coalesce(nullif('A市高新区人民路455号16栋726室', ''), address)  WHERE id = :person AND (phone IS DISTINCT FROM coalesce(nullif('13699903373', ''), phone)                      OR address IS DISTINCT FROM coalesce(nullif('A市高新区人民路455号16栋726室', ''), address));
INSERT INTO case_query_codes (case_id, salt, hash, issued_at, issued_by) VALUES (:id, decode('0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex'), decode('5db8684966e902da6b06025da148e04f2eb98a30e3e8f3ab8c6b40a44cd417d8', 'hex'), xf_ts(:now), 'bench-clerk');
INSERT INTO case_events (case_id, seq, kind, action, from_state, to_state, actor, actor_role,
                         actor_unit, at, note, fields, prev_hash, hash)
SELECT n.case_id, n.seq, n.kind, n.action, n.from_state, n.to_state, CAST('bench-clerk' AS text),
       CAST(1 AS smallint), CAST('prov' AS text), xf_ts(:now), n.note, n.fields,
       n.prev_hash, n.hash
  FROM unnest(CAST(ARRAY[:id] AS bigint[]), CAST('{1}' AS integer[]), CAST('{registered}' AS text[]),
              CAST('{""}' AS text[]), CAST('{""}' AS text[]),
              CAST('{registered}' AS text[]), CAST('{""}' AS text[]),
              CAST('{"{\"received_at\": \"2026-11-30T00:47:14.371021+00:00\", \"responsible_unit\": \"prov.city-c.dist-4\"}"}' AS jsonb[]),
              CAST('{""}' AS text[]), CAST('{c505b340c8965726a826f0e9f7a0ca5482c8886fc92b77fd2f0036d3a671582a}' AS text[]))
    WITH ORDINALITY
    AS n(case_id, seq, kind, action, from_state, to_state, note, fields, prev_hash, hash, i)
 ORDER BY n.i
RETURNING id, case_id, seq;
INSERT INTO case_timers (case_id, name, started_at, due_day, due_at, warn_at, provisional,
                         suspended_at, extended, warned, overdue, rung, next_fire_at,
                         owing_unit, counted_from, base_days, extension_days, stopped_days,
                         rolled, purpose, position, case_unit, case_stage)
SELECT n.case_id, n.name, xf_ts(n.started_at), n.due_day, xf_ts(n.due_at), xf_ts(n.warn_at),
       n.provisional, xf_ts(n.suspended_at), n.extended, n.warned, n.overdue, n.rung,
       xf_ts(n.next_fire_at), n.owing_unit, n.counted_from, n.base_days, n.extension_days,
       n.stopped_days, n.rolled, n.purpose, n.position, n.case_unit, n.case_stage
  FROM unnest(CAST(ARRAY[:id] AS bigint[]), CAST('{intake_notice}' AS text[]),
              CAST(ARRAY[:received] AS bigint[]), CAST('{2026-12-15}' AS date[]),
              CAST(ARRAY[:due] AS bigint[]), CAST(ARRAY[:warn] AS bigint[]),
              CAST('{f}' AS boolean[]), CAST('{NULL}' AS bigint[]),
              CAST('{f}' AS boolean[]), CAST('{f}' AS boolean[]),
              CAST('{f}' AS boolean[]), CAST('{0}' AS integer[]),
              CAST(ARRAY[:warn] AS bigint[]), CAST('{prov.city-c.dist-4}' AS text[]),
              CAST('{2026-11-30}' AS date[]), CAST('{15}' AS integer[]),
              CAST('{0}' AS integer[]), CAST('{0}' AS integer[]),
              CAST('{f}' AS boolean[]), CAST('{1}' AS smallint[]),
              CAST('{1}' AS smallint[]), CAST('{prov.city-c.dist-4}' AS text[]),
              CAST('{1}' AS smallint[]))
    AS n(case_id, name, started_at, due_day, due_at, warn_at, provisional, suspended_at,
         extended, warned, overdue, rung, next_fire_at, owing_unit, counted_from, base_days,
         extension_days, stopped_days, rolled, purpose, position, case_unit, case_stage);
SELECT xf_stats_project(CAST(ARRAY[:id] AS bigint[]));
SELECT count(*)::int FROM (SELECT pg_notify('xinfang_events', CAST(n.id AS text))   FROM unnest(CAST(ARRAY[:id] AS bigint[])) AS n(id)) notified;
COMMIT;
SELECT id, tracking_number, version, head_seq, head_hash, xf_us(registered_at),        registered_by, intake::text, workflow, workflow_version, state, xf_us(received_at), responsible_unit, coalesce(forwarder_unit, ''), coalesce(review_unit, ''), coalesce(recheck_unit, ''), coalesce(case_officer, ''), anonymous::int, xf_us(accepted_at), xf_us(decided_at), xf_us(served_at), xf_us(closed_at), coalesce(outcome, ''), coalesce(evaluation, ''), flags, conflicted_accounts, xf_us(state_entered_at), xf_us(unit_received_at), coalesce(complained_about_unit, ''),        (SELECT coalesce(string_agg(p.position || ':' || p.person_id, ','), '')           FROM case_petitioners p WHERE p.case_id = cases.id),        (SELECT coalesce(string_agg(r.tracking_number, ',' ORDER BY r.id), '')           FROM cases r WHERE r.id IN (            SELECT e.case_id FROM case_petitioners p JOIN case_petitioners e                 ON e.person_id = p.person_id AND e.category = p.category                AND e.case_id < p.case_id              WHERE p.case_id = cases.id)),        attributes::text,        (SELECT coalesce(json_agg(json_build_array(e.action, e.from_state, e.to_state,                         e.actor, e.actor_unit, xf_us(e.at)::text, e.fields) ORDER BY e.seq),                         '[]')::text           FROM case_events e WHERE e.case_id = cases.id AND e.action <> ''),        (SELECT coalesce(string_agg(concat_ws(',', t.name, xf_us(t.started_at), t.due_day, xf_us(t.due_at), xf_us(t.warn_at), t.provisional::int, coalesce(xf_us(t.suspended_at)::text, ''), t.extended::int, t.warned::int, t.overdue::int, t.rung, t.counted_from, t.base_days, t.extension_days, t.stopped_days, t.rolled::int), ';'), '')           FROM case_timers t WHERE t.case_id = cases.id)   FROM cases WHERE id = :id;
\endpipeline
