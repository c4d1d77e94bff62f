-- RegisterCase: the statements xinfang-server sends for one registration
-- (token lookup; Intake::Register: replay check, the petitioner's prior
-- cases; CaseStore::Create in one transaction; LoadCase of the new case),
-- captured with log_statement=all (docs/benchmarks.md) from a letter with
-- one petitioner, in the same order and transaction shape, with the same
-- parameters bound. Units and categories are cached in the server (no
-- statement); the event sequencer's own transaction is left out.
-- Variables: -D now=<microseconds since the epoch>, -D token_hash=<hex SHA-256
-- of the clerk's token> (bench.sh passes both).
\set r random(1, 1000000000000000)
\set idn random(110105195501010000, 110105200412319999)
SELECT a.name, a.display_name, a.role, a.unit, xf_us(a.created_at), a.created_by, xf_us(a.disabled_at), xf_us(t.expires_at), xf_us(t.revoked_at) FROM tokens t JOIN accounts a ON a.name = t.account WHERE t.hash = decode(:token_hash, 'hex');
SELECT id, request_hash FROM cases WHERE request_id = 'pgb-' || :client_id || '-' || :r;
SELECT cp.case_id FROM persons ps
  JOIN case_petitioners cp ON cp.person_id = ps.id AND cp.category = 'other'
  JOIN cases c ON c.id = cp.case_id
 WHERE ((:idn::text <> '' AND ps.id_number = :idn::text)
        OR (:idn::text = '' AND ps.name = '唐强' AND ps.phone = '13500430176'))
   AND ((NOT c.final
         AND (c.responsible_unit = ANY (CAST('{}' AS text[]))
              OR c.review_unit = ANY (CAST('{}' AS text[]))
              OR c.recheck_unit = ANY (CAST('{}' AS text[]))))
        OR position(',final_after_recheck,' IN ',' || c.flags || ',') > 0)
 ORDER BY cp.case_id DESC LIMIT 200;
BEGIN;
SELECT nextval('tracking_seq') AS seqno \gset
INSERT INTO cases (tracking_number, request_id, workflow, workflow_version, state, stage,
                   final, channel, received_at, registered_at, registered_by,
                   registering_unit, responsible_unit, forwarder_unit, anonymous, purpose,
                   category, complained_about_unit, summary, flags, intake, updated_at,
                   state_entered_at, unit_received_at, request_hash, closed_at, attributes)
VALUES ('PGB20261125-' || :seqno, 'pgb-' || :client_id || '-' || :r, 'petition', 1, 'registered', 1,
        (0 = 1), 3, xf_ts(:now - 6900000000), xf_ts(:now), 'bench',
        'prov.organs.health', 'prov.organs.health', nullif('', ''), (0 = 1),
        2, 'other', nullif('', ''), '反映职工食堂卫生问题', '',
        CAST('{"letter": {"postmarkDate": "2026-11-24", "senderAddress": "B市滨江区解放大道783号18栋2231室", "scanReferences": ["scan/2026/48918626.pdf"]}, "channel": "CHANNEL_LETTER", "purpose": "PURPOSE_SUGGESTION", "request": "请求有关部门调查处理", "summary": "反映职工食堂卫生问题", "category": "other", "receivedAt": "2026-11-24T21:49:01.783895Z", "petitioners": [{"name": "唐强", "phone": "13500430176", "address": "F市一区幸福里137号16栋1996室", "idNumber": "440106197701235257"}], "issueLocation": "G市经开区工业园路", "complainedAbout": "G市博远商贸有限公司", "factsAndReasons": "多次向公司反映均无回应，特向工会反映。", "registeringUnit": "prov.organs.health"}' AS jsonb),
        xf_ts(:now), xf_ts(:now), xf_ts(:now - 6900000000),
        'f2e8937c1b424bd90e1515d43157097ef059b0cdb33c041b260cb32d78fd44e4', xf_ts(NULL),
        CAST('{}' AS jsonb))
ON CONFLICT (request_id) DO NOTHING
RETURNING id \gset
SELECT id, name FROM persons WHERE id_number = :idn::text;
INSERT INTO persons (name, id_number, phone, address)
VALUES ('唐强', :idn::text, nullif('13500430176', ''), nullif('F市一区幸福里137号16栋1996室', ''))
ON CONFLICT (id_number) DO NOTHING
RETURNING id AS person \gset
UPDATE persons
   SET phone = coalesce(nullif('13500430176', ''), phone),
       address = coalesce(nullif('F市一区幸福里137号16栋1996室', ''), address)
 WHERE id = :person
   AND (phone IS DISTINCT FROM coalesce(nullif('13500430176', ''), phone)
        OR address IS DISTINCT FROM coalesce(nullif('F市一区幸福里137号16栋1996室', ''), address));
INSERT INTO case_petitioners (case_id, position, person_id, category)
VALUES (:id, 0, :person, 'other');
SELECT max(case_id) FROM case_petitioners
 WHERE person_id = :person AND category = 'other' AND case_id < :id;
INSERT INTO case_events (case_id, seq, kind, action, from_state, to_state, actor, actor_role,
                         actor_unit, at, note, fields, prev_hash, hash)
VALUES (:id, 1, 'registered', '', '', 'registered', 'bench', 1, 'prov.organs.office',
        xf_ts(:now), '', CAST('{"received_at": "2026-11-24T21:49:01.783895+00:00", "responsible_unit": "prov.organs.health"}' AS jsonb),
        '', '8078e759b83e9c2136df871999088817d96b630794bfe9ae441014b46aac72fc')
RETURNING id;
UPDATE cases SET head_seq = 1, head_hash = '8078e759b83e9c2136df871999088817d96b630794bfe9ae441014b46aac72fc' WHERE id = :id;
DELETE FROM case_timers WHERE case_id = :id
RETURNING name, xf_us(started_at), xf_us(due_at), owing_unit, overdue::int;
INSERT INTO case_timers (case_id, name, started_at, due_day, due_at, warn_at, provisional,
                         suspended_at, extended, warned, overdue, rung, next_fire_at,
                         owing_unit, counted_from, base_days, extension_days, stopped_days,
                         rolled)
VALUES (:id, 'intake_notice', xf_ts(:now - 6900000000), CAST('2026-12-10' AS date),
        xf_ts(:now + 1296000000000), xf_ts(:now + 1036800000000), (0 = 1), NULL, (0 = 1),
        (0 = 1), (0 = 1), 0, xf_ts(:now + 1036800000000), 'prov.organs.health',
        CAST('2026-11-25' AS date), 15, 0, 0, (0 = 1));
SELECT pg_notify('xinfang_events', CAST(:id AS text));
COMMIT;
SELECT id, tracking_number, version, head_seq, head_hash, xf_us(registered_at),        registered_by, intake::text, workflow, workflow_version, state, xf_us(received_at), responsible_unit, coalesce(forwarder_unit, ''), coalesce(review_unit, ''), coalesce(recheck_unit, ''), coalesce(case_officer, ''), anonymous::int, xf_us(accepted_at), xf_us(decided_at), xf_us(served_at), xf_us(closed_at), coalesce(outcome, ''), coalesce(evaluation, ''), flags, conflicted_accounts, xf_us(state_entered_at), xf_us(unit_received_at), coalesce(complained_about_unit, ''),        (SELECT coalesce(string_agg(p.position || ':' || p.person_id, ','), '')           FROM case_petitioners p WHERE p.case_id = cases.id),        (SELECT coalesce(string_agg(r.tracking_number, ',' ORDER BY r.id), '')           FROM cases r WHERE r.id IN (            SELECT e.case_id FROM case_petitioners p JOIN case_petitioners e                 ON e.person_id = p.person_id AND e.category = p.category                AND e.case_id < p.case_id              WHERE p.case_id = cases.id)),        attributes::text,        (SELECT coalesce(json_agg(json_build_array(e.action, e.from_state, e.to_state,                         e.actor, e.actor_unit, xf_us(e.at)::text, e.fields) ORDER BY e.seq),                         '[]')::text           FROM case_events e WHERE e.case_id = cases.id AND e.action <> '')   FROM cases WHERE id = :id;
SELECT t.name, xf_us(t.started_at), t.due_day::text, xf_us(t.due_at), xf_us(t.warn_at), t.provisional::int, xf_us(t.suspended_at), t.extended::int, t.warned::int, t.overdue::int, t.rung, t.counted_from::text, t.base_days, t.extension_days, t.stopped_days, t.rolled::int FROM case_timers t WHERE t.case_id = :id;
