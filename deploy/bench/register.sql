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
SELECT cp.case_id FROM case_petitioners cp
  JOIN persons ps ON ps.id = cp.person_id
 WHERE (:idn::text <> '' AND ps.id_number = :idn::text)
    OR (:idn::text = '' AND ps.name = '唐强' AND ps.phone = '13500430176')
 ORDER BY cp.case_id DESC LIMIT 200;
BEGIN;
SELECT nextval('tracking_seq') AS seqno \gset
INSERT INTO cases (tracking_number, request_id, workflow, workflow_version, state, stage,
                   final, channel, received_at, registered_at, registered_by,
                   registering_unit, responsible_unit, forwarder_unit, anonymous, purpose,
                   category, complained_about_unit, summary, flags, intake, updated_at,
                   state_entered_at, unit_received_at, request_hash)
VALUES ('PGB20261125-' || :seqno, 'pgb-' || :client_id || '-' || :r, 'petition', 1, 'registered', 1,
        (0 = 1), 3, xf_ts(:now - 6900000000), xf_ts(:now), 'bench',
        'prov.organs.health', 'prov.organs.health', nullif('', ''), (0 = 1),
        2, 'other', nullif('', ''), '反映职工食堂卫生问题', '',
        CAST('{"letter": {"postmarkDate": "2026-11-24", "senderAddress": "B市滨江区解放大道783号18栋2231室", "scanReferences": ["scan/2026/48918626.pdf"]}, "channel": "CHANNEL_LETTER", "purpose": "PURPOSE_SUGGESTION", "request": "请求有关部门调查处理", "summary": "反映职工食堂卫生问题", "category": "other", "receivedAt": "2026-11-24T21:49:01.783895Z", "petitioners": [{"name": "唐强", "phone": "13500430176", "address": "F市一区幸福里137号16栋1996室", "idNumber": "440106197701235257"}], "issueLocation": "G市经开区工业园路", "complainedAbout": "G市博远商贸有限公司", "factsAndReasons": "多次向公司反映均无回应，特向工会反映。", "registeringUnit": "prov.organs.health"}' AS jsonb),
        xf_ts(:now), xf_ts(:now), xf_ts(:now - 6900000000),
        'f2e8937c1b424bd90e1515d43157097ef059b0cdb33c041b260cb32d78fd44e4')
ON CONFLICT (request_id) DO NOTHING
RETURNING id \gset
INSERT INTO persons (name, id_number, phone, address)
VALUES ('唐强', :idn::text, nullif('13500430176', ''), nullif('F市一区幸福里137号16栋1996室', ''))
ON CONFLICT (id_number) DO UPDATE
  SET phone = coalesce(EXCLUDED.phone, persons.phone),
      address = coalesce(EXCLUDED.address, persons.address)
RETURNING id AS person \gset
INSERT INTO case_petitioners (case_id, position, person_id) VALUES (:id, 0, :person);
SELECT DISTINCT c.id FROM case_petitioners cp
  JOIN cases c ON c.id = cp.case_id
 WHERE cp.person_id = :person AND c.category = 'other' AND c.id <> :id;
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
                         owing_unit)
VALUES (:id, 'intake_notice', xf_ts(:now - 6900000000), CAST('2026-12-10' AS date),
        xf_ts(:now + 1296000000000), xf_ts(:now + 1036800000000), (0 = 1), NULL, (0 = 1),
        (0 = 1), (0 = 1), 0, xf_ts(:now + 1036800000000), 'prov.organs.health');
SELECT pg_notify('xinfang_events', CAST(:id AS text));
COMMIT;
SELECT id, tracking_number, version, head_seq, head_hash, xf_us(registered_at),        registered_by, intake::text, workflow, workflow_version, state, xf_us(received_at), responsible_unit, coalesce(forwarder_unit, ''), coalesce(review_unit, ''), coalesce(recheck_unit, ''), coalesce(case_officer, ''), anonymous::int, xf_us(accepted_at), xf_us(decided_at), xf_us(served_at), xf_us(closed_at), coalesce(outcome, ''), coalesce(evaluation, ''), flags, conflicted_accounts, xf_us(state_entered_at), xf_us(unit_received_at),        (SELECT coalesce(string_agg(p.position || ':' || p.person_id, ','), '')           FROM case_petitioners p WHERE p.case_id = cases.id),        (SELECT coalesce(string_agg(r.tracking_number, ',' ORDER BY r.id), '')           FROM case_links l JOIN cases r ON r.id = l.related_id WHERE l.case_id = cases.id),        attributes::text   FROM cases WHERE id = :id;
SELECT t.name, xf_us(t.started_at), t.due_day::text, xf_us(t.due_at), xf_us(t.warn_at), t.provisional::int, xf_us(t.suspended_at), t.extended::int, t.warned::int, t.overdue::int, t.rung FROM case_timers t WHERE t.case_id = :id;
