-- The floor of RegisterCase (run with -M prepared): the same logical work
-- as register.sql in the fewest round trips PostgreSQL allows — one
-- prepared statement, one implicit transaction, one commit:
--   the token checked (known, not revoked, expired or idle, the account
--   enabled, an intake clerk); nothing is written for any other;
--   the petitioner's earlier cases (the rules across cases, as the service
--   reads them before registering);
--   the case's id and tracking number; the petitioner matched by ID number
--   or registered, the contact details updated when they differ; the
--   matter's previous case, linked as a repeat (none for a new person);
--   the first event with its hash (the service's EventHash, here in SQL:
--   the case id comes from the same statement), the case row with its
--   history's head, its petitioner, the first timer and the notification.
-- The replay check is the request id's unique index (ON CONFLICT: a replay
-- writes nothing and returns no case id). A petitioner registered under
-- another name gets no case (the statement returns the registry's name, as
-- the service's refusal names it). The case as stored is what the
-- statement wrote: it returns the id, tracking number and person, not the
-- row read back. Constant intake values as in register.sql (literals).
-- Variables: -D now=<microseconds since the epoch>, -D token_hash=<hex SHA-256
-- of the clerk's token> (bench.sh passes both).
\set r random(100000000000000, 999999999999999)
\set idn random(110105195501010000, 110105200412319999)
\set received :now - 6900000000
\set warn :now + 1036800000000
\set due :now + 1296000000000
WITH who AS (
  SELECT a.name, a.unit, 1 AS role
    FROM tokens t JOIN accounts a ON a.name = t.account
   WHERE t.hash = decode(:token_hash, 'hex') AND t.revoked_at IS NULL
     AND t.expires_at > xf_ts(:now) AND (t.idle_expires_at IS NULL OR t.idle_expires_at > xf_ts(:now))
     AND a.disabled_at IS NULL AND a.role = 'intake_clerk'),
earlier AS (
  SELECT cp.case_id FROM persons ps
    JOIN case_petitioners cp ON cp.person_id = ps.id AND cp.category = 'rights.women'
    JOIN cases c ON c.id = cp.case_id
   WHERE ps.id_number = CAST(:idn AS text)
     AND ((NOT c.final
           AND (c.responsible_unit = ANY (CAST('{}' AS text[]))
                OR c.review_unit = ANY (CAST('{}' AS text[]))
                OR c.recheck_unit = ANY (CAST('{}' AS text[]))))
          OR position(',final_after_recheck,' IN ',' || c.flags || ',') > 0)
   ORDER BY cp.case_id DESC LIMIT 200),
ids AS (SELECT nextval('cases_id_seq') AS id, nextval('tracking_seq') AS seqno FROM who),
found AS (SELECT id, name FROM persons WHERE id_number = CAST(:idn AS text)),
added AS (
  INSERT INTO persons (name, id_number, phone, address)
  SELECT '杨文', CAST(:idn AS text), '13699903373', 'A市高新区人民路455号16栋726室' FROM ids
   WHERE NOT EXISTS (SELECT 1 FROM found)
  ON CONFLICT (id_number) DO NOTHING
  RETURNING id, name),
person AS (SELECT id, name FROM found UNION ALL SELECT id, name FROM added),
prev AS (
  SELECT (SELECT max(cp.case_id) FROM case_petitioners cp
           WHERE cp.person_id = person.id AND cp.category = 'rights.women' AND cp.case_id < ids.id)
           AS case_id
    FROM person, ids),
ev AS (
  SELECT x.fields,
         (SELECT encode(sha256(convert_to(string_agg(octet_length(v) || ':' || v || ';', '' ORDER BY o),
                                          'UTF8')), 'hex')
            FROM unnest(x.parts) WITH ORDINALITY AS u(v, o)) AS hash
    FROM (SELECT jsonb_build_object('received_at', r.at, 'responsible_unit', 'prov.city-c.dist-4')
                 || CASE WHEN prev.case_id IS NULL THEN CAST('{}' AS jsonb)
                         ELSE jsonb_build_object('repeat_of', CAST(prev.case_id AS text)) END AS fields,
                 ARRAY['', CAST(ids.id AS text), '1', 'registered', '', '', 'registered', who.name,
                       CAST(who.role AS text), who.unit, CAST(:now AS text), '',
                       CASE WHEN prev.case_id IS NULL THEN '2' ELSE '3' END, 'received_at', r.at]
                 || CASE WHEN prev.case_id IS NULL THEN CAST('{}' AS text[])
                         ELSE ARRAY['repeat_of', CAST(prev.case_id AS text)] END
                 || ARRAY['responsible_unit', 'prov.city-c.dist-4'] AS parts
            FROM ids, who, prev,
                 (SELECT to_char(xf_ts(:received) AT TIME ZONE 'UTC',
                                 'YYYY-MM-DD"T"HH24":"MI":"SS.US"+00:00"') AS at) r) x),
new_case AS (
  INSERT INTO cases (id, tracking_number, request_id, workflow, workflow_version, state, stage,
                     final, channel, received_at, registered_at, registered_by,
                     registering_unit, responsible_unit, forwarder_unit, anonymous, purpose,
                     category, complained_about_unit, summary, flags, intake, updated_at,
                     state_entered_at, unit_received_at, request_hash, closed_at, attributes,
                     head_seq, head_hash)
  SELECT ids.id, 'PGF-' || ids.seqno, :r, 'petition', 1, 'registered', 1,
         false, 4, xf_ts(:received), xf_ts(:now), who.name,
         'prov.city-c.dist-4', 'prov.city-c.dist-4', NULL, false,
         1, 'rights.women', NULL, 'A市宏达物流有限公司降低孕期女职工工资', '',
         CAST('{"online": {"platform": "wechat", "reference": "W114873073805"}, "channel": "CHANNEL_ONLINE", "purpose": "PURPOSE_CLAIM", "request": "请求补发产假工资", "summary": "A市宏达物流有限公司降低孕期女职工工资", "category": "rights.women", "receivedAt": "2026-11-30T00:47:14.371021Z", "petitioners": [{"name": "杨文", "phone": "13699903373", "address": "A市高新区人民路455号16栋726室", "idNumber": "110105198212105621"}], "issueLocation": "F市东湖区工业园路", "complainedAbout": "A市宏达物流有限公司", "factsAndReasons": "怀孕后公司将本人调至偏远岗位并降低工资，理由是工作量减少。怀孕后公司将本人调至偏远岗位并降低工资，理由是工作量减少。怀孕后公司将本人调至偏远岗位并降低工资，理由是工作量减少。", "registeringUnit": "prov.city-c.dist-4"}' AS jsonb),
         xf_ts(:now), xf_ts(:now), xf_ts(:received),
         '5db8684966e902da6b06025da148e04f2eb98a30e3e8f3ab8c6b40a44cd417d8', NULL,
         CAST('{}' AS jsonb), 1, ev.hash
    FROM ids, who, person, ev
   WHERE person.name = '杨文'
  ON CONFLICT (request_id) DO NOTHING
  RETURNING id, tracking_number),
contact AS (
  UPDATE persons p SET phone = coalesce(nullif('13699903373', ''), p.phone),
                       address = coalesce(nullif('A市高新区人民路455号16栋726室', ''), p.address)
    FROM found f, new_case
   WHERE p.id = f.id
     AND (p.phone IS DISTINCT FROM coalesce(nullif('13699903373', ''), p.phone)
          OR p.address IS DISTINCT FROM coalesce(nullif('A市高新区人民路455号16栋726室', ''), p.address))
  RETURNING p.id),
petitioner AS (
  INSERT INTO case_petitioners (case_id, position, person_id, category)
  SELECT new_case.id, 0, person.id, 'rights.women' FROM new_case, person
  RETURNING case_id),
link AS (
  INSERT INTO case_links (case_id, related_id, kind)
  SELECT new_case.id, prev.case_id, 'repeat' FROM new_case, prev WHERE prev.case_id IS NOT NULL
  RETURNING case_id),
event AS (
  INSERT INTO case_events (case_id, seq, kind, action, from_state, to_state, actor, actor_role,
                           actor_unit, at, note, fields, prev_hash, hash)
  SELECT new_case.id, 1, 'registered', '', '', 'registered', who.name, CAST(who.role AS smallint),
         who.unit, xf_ts(:now), '', ev.fields, '', ev.hash
    FROM new_case, who, ev
  RETURNING id),
timer AS (
  INSERT INTO case_timers (case_id, name, started_at, due_day, due_at, warn_at, provisional,
                           suspended_at, extended, warned, overdue, rung, next_fire_at,
                           owing_unit, counted_from, base_days, extension_days, stopped_days,
                           rolled)
  SELECT new_case.id, 'intake_notice', xf_ts(:received), DATE '2026-12-15', xf_ts(:due),
         xf_ts(:warn), false, NULL, false, false, false, 0, xf_ts(:warn), 'prov.city-c.dist-4',
         DATE '2026-11-30', 15, 0, 0, false
    FROM new_case
  RETURNING case_id)
SELECT (SELECT id FROM new_case) AS case_id, (SELECT tracking_number FROM new_case) AS tracking,
       person.id AS person_id, person.name AS registered_name, prev.case_id AS previous_case,
       (SELECT count(*) FROM earlier) AS earlier_cases, (SELECT id FROM event) AS event_id,
       (SELECT pg_notify('xinfang_events', CAST(id AS text)) FROM new_case) AS notified
  FROM person, prev;
