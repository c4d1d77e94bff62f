-- 0020: the petition office's evaluation (信访工作机构), the second evaluation
-- target beside the handling body's (cases.evaluation), asked for by the
-- procedure's version 2 (docs/statistics.md, "The two evaluation targets").
--
-- The kept statistics count it as the figure 'office_evaluation'. Here the
-- case row, the view and the functions of 0017 that name it are extended,
-- and the kept counts are emptied so that the server recounts everything
-- at its next start (xf_stats_rebuild; until then nothing is counted).

ALTER TABLE cases ADD COLUMN office_evaluation text;

-- An evaluation window that lapsed lapsed for both targets. A rating given
-- under version 1 rated the handling body only: the office has none (due,
-- not rated, not lapsed).
UPDATE cases SET office_evaluation = 'lapsed' WHERE evaluation = 'lapsed';

-- Appended last, in the table and in the view alike (INSERT ... SELECT *).
ALTER TABLE stats_case ADD COLUMN office_evaluation text NOT NULL DEFAULT '';
ALTER TABLE stats_case ALTER COLUMN office_evaluation DROP DEFAULT;

CREATE OR REPLACE VIEW stats_case_now AS
  SELECT c.id AS case_id, c.responsible_unit AS unit,
         (c.received_at AT TIME ZONE m.time_zone)::date AS received,
         c.channel, c.category, c.stage, c.state,
         EXISTS (SELECT 1 FROM case_links l WHERE l.case_id = c.id AND l.kind = 'repeat') AS repeat,
         (c.accepted_at AT TIME ZONE m.time_zone)::date AS accepted,
         xf_us(c.accepted_at) - xf_us(c.received_at) AS accept_us,
         CASE WHEN c.accepted_at IS NOT NULL
              THEN (c.decided_at AT TIME ZONE m.time_zone)::date END AS decided,
         CASE WHEN c.accepted_at IS NOT NULL
              THEN xf_us(c.decided_at) - xf_us(c.accepted_at) END AS decide_us,
         CASE WHEN NOT EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id AND t.purpose = 3)
              THEN (c.served_at AT TIME ZONE m.time_zone)::date END AS served,
         coalesce(c.evaluation, '') AS evaluation,
         NOT c.final AS open,
         CASE WHEN c.final THEN 0
              ELSE (SELECT count(*) FROM case_timers t WHERE t.case_id = c.id AND t.rung > 0)
         END::int AS escalated,
         CASE WHEN c.final THEN 0
              ELSE (SELECT count(*) FROM case_timers t WHERE t.case_id = c.id AND t.purpose = 4)
         END::int AS notices,
         coalesce(c.office_evaluation, '') AS office_evaluation
    FROM cases c CROSS JOIN stats_meta m;

DROP FUNCTION xf_stats_cells(date, smallint, text, smallint, text, boolean, date, bigint, date, bigint, date, text);

-- The counts a case's row stands for (figure, key), each on its day.
CREATE FUNCTION xf_stats_cells(received date, channel smallint, category text, stage smallint,
                               state text, repeat boolean, accepted date, accept_us bigint,
                               decided date, decide_us bigint, served date, evaluation text,
                               office_evaluation text)
RETURNS TABLE (day date, figure text, key text, us bigint)
LANGUAGE sql IMMUTABLE AS $$
  SELECT v.day, v.figure, v.key, v.us FROM (VALUES
    (received, 'channel', channel::text, 0::bigint),
    (received, 'category', category, 0),
    (received, 'stage', stage::text, 0),
    (received, 'state', state, 0),
    (CASE WHEN repeat THEN received END, 'repeat', '', 0),
    (accepted, 'accepted', '', accept_us),
    (decided, 'decided', '', decide_us),
    (served, 'evaluation', evaluation, 0),
    (served, 'office_evaluation', office_evaluation, 0)) AS v(day, figure, key, us)
  WHERE v.day IS NOT NULL
$$;

-- As in 0017, with the office's evaluation.
CREATE OR REPLACE FUNCTION xf_stats_project(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WITH now_rows AS MATERIALIZED (SELECT * FROM stats_case_now WHERE case_id = ANY (ids)),
       old_rows AS MATERIALIZED (SELECT * FROM stats_case WHERE case_id = ANY (ids)),
       kept AS (
         INSERT INTO stats_case SELECT * FROM now_rows
         ON CONFLICT (case_id) DO UPDATE SET
           unit = excluded.unit, received = excluded.received, channel = excluded.channel,
           category = excluded.category, stage = excluded.stage, state = excluded.state,
           repeat = excluded.repeat, accepted = excluded.accepted,
           accept_us = excluded.accept_us, decided = excluded.decided,
           decide_us = excluded.decide_us, served = excluded.served,
           evaluation = excluded.evaluation, office_evaluation = excluded.office_evaluation,
           open = excluded.open,
           escalated = excluded.escalated, notices = excluded.notices
         WHERE (stats_case.*) IS DISTINCT FROM (excluded.*)),
       signed AS (SELECT 1 AS sign, * FROM now_rows UNION ALL SELECT -1, * FROM old_rows),
       board AS (
         INSERT INTO board_cells (unit, stage, open, escalated, notices, folded)
         SELECT s.unit, s.stage, sum(s.sign), sum(s.sign * s.escalated), sum(s.sign * s.notices),
                false
           FROM signed s WHERE s.open
          GROUP BY s.unit, s.stage
         HAVING sum(s.sign) <> 0 OR sum(s.sign * s.escalated) <> 0
             OR sum(s.sign * s.notices) <> 0)
  INSERT INTO stats_cells (grain, day, unit, figure, key, n, us, folded)
  SELECT 'd', x.day, s.unit, x.figure, x.key, sum(s.sign), sum(s.sign * x.us), false
    FROM signed s,
         xf_stats_cells(s.received, s.channel, s.category, s.stage, s.state, s.repeat,
                        s.accepted, s.accept_us, s.decided, s.decide_us, s.served,
                        s.evaluation, s.office_evaluation) x
   GROUP BY x.day, s.unit, x.figure, x.key
  HAVING sum(s.sign) <> 0 OR sum(s.sign * x.us) <> 0;
END $$;

-- As in 0017, with the office's evaluation.
CREATE OR REPLACE FUNCTION xf_stats_rebuild(zone text, force boolean) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  counted bigint;
BEGIN
  -- stats_meta first: every change reads it before it writes the others.
  LOCK TABLE stats_meta, stats_case, stats_cells, board_cells IN ACCESS EXCLUSIVE MODE;
  IF NOT force AND EXISTS (SELECT 1 FROM stats_meta WHERE time_zone = zone) THEN
    RETURN -1;
  END IF;
  PERFORM now() AT TIME ZONE zone;  -- an unknown zone fails here
  TRUNCATE stats_case, stats_cells, board_cells;
  INSERT INTO stats_meta (singleton, time_zone) VALUES (true, zone)
    ON CONFLICT (singleton) DO UPDATE SET time_zone = excluded.time_zone;
  INSERT INTO stats_case SELECT * FROM stats_case_now;
  GET DIAGNOSTICS counted = ROW_COUNT;
  INSERT INTO board_cells (unit, stage, open, escalated, notices, folded)
  SELECT unit, stage, count(*), sum(escalated), sum(notices), true
    FROM stats_case WHERE open GROUP BY 1, 2;
  WITH cells AS (
         SELECT x.day, s.unit, x.figure, x.key, x.us
           FROM stats_case s,
                xf_stats_cells(s.received, s.channel, s.category, s.stage, s.state, s.repeat,
                               s.accepted, s.accept_us, s.decided, s.decide_us, s.served,
                               s.evaluation, s.office_evaluation) x
         UNION ALL
         SELECT (d.due_at AT TIME ZONE zone)::date, d.owing_unit, 'deadline',
                d.purpose || ':' || d.met::int, 0
           FROM deadline_log d),
       days AS (SELECT day, unit, figure, key, count(*) AS n, sum(us) AS us
                  FROM cells GROUP BY 1, 2, 3, 4)
  INSERT INTO stats_cells (grain, day, unit, figure, key, n, us, folded)
  SELECT 'd', day, unit, figure, key, n, us, true FROM days
  UNION ALL
  SELECT 'm', date_trunc('month', day::timestamp)::date, unit, figure, key, sum(n), sum(us), true
    FROM days GROUP BY 2, 3, 4, 5
  UNION ALL
  SELECT 'y', date_trunc('year', day::timestamp)::date, unit, figure, key, sum(n), sum(us), true
    FROM days GROUP BY 2, 3, 4, 5;
  RETURN counted;
END $$;

-- Recount at the next start, in the office's zone.
TRUNCATE stats_case, stats_cells, board_cells;
DELETE FROM stats_meta;
