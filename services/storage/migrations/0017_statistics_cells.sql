-- 0017: the statistics (docs/statistics.md) from counts kept as cases
-- change, so GetStatistics reads no case.
--
-- stats_case holds, per case, where it counts: its unit, the local days of
-- its receipt, acceptance, decision and service, its channel, category,
-- stage, state, whether it repeats a matter, its evaluation once the window
-- closed. Every change's transaction (storage's one write path) calls
-- xf_stats_project for the cases it changed: the difference between a case's
-- old and new row is appended to stats_cells as signed counts; a deadline
-- that closes appends its own count. xf_stats_fold (the sweeper runs it)
-- folds appended rows into one row per day, one per month and one per year;
-- a period is answered from whole years, months and days and what is not
-- folded yet.
-- The supervisors' board counts open cases per unit and stage the same way
-- (board_cells).
-- xf_stats_rebuild recounts everything from the cases and the deadline log.
-- Until it has run once (the server runs it at start), nothing is counted.

CREATE TABLE stats_meta (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  time_zone  text NOT NULL      -- the office's zone, in which the days are
);

CREATE TABLE stats_case (
  case_id     bigint PRIMARY KEY REFERENCES cases (id),
  unit        text NOT NULL,    -- the responsible unit
  received    date NOT NULL,
  channel     smallint NOT NULL,
  category    text NOT NULL,
  stage       smallint NOT NULL,
  state       text NOT NULL,
  repeat      boolean NOT NULL, -- linked to an earlier case of the matter
  accepted    date,             -- NULL: not accepted
  accept_us   bigint,           -- receipt to acceptance, microseconds
  decided     date,             -- NULL: not decided after an acceptance
  decide_us   bigint,           -- acceptance to decision, microseconds
  served      date,             -- NULL: not served, or the evaluation window is open
  evaluation  text NOT NULL,    -- '' while none was given
  open        boolean NOT NULL, -- not final: on the supervisors' board
  escalated   integer NOT NULL, -- while open: its timers that climbed a rung
  notices     integer NOT NULL  -- while open: its supervision notices (timers of purpose 4)
);

-- A case's row as the case stands now, in the zone of stats_meta. The
-- evaluation window is the timer of purpose TIMER_PURPOSE_EVALUATION (3,
-- workflow.proto): while it runs, the evaluation is not owed yet.
CREATE VIEW stats_case_now AS
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
         END::int AS notices
    FROM cases c CROSS JOIN stats_meta m;

-- The counts a case's row stands for (figure, key), each on its day.
CREATE FUNCTION xf_stats_cells(received date, channel smallint, category text, stage smallint,
                               state text, repeat boolean, accepted date, accept_us bigint,
                               decided date, decide_us bigint, served date, evaluation text)
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
    (served, 'evaluation', evaluation, 0)) AS v(day, figure, key, us)
  WHERE v.day IS NOT NULL
$$;

-- Signed counts, appended by changes ('d', not folded) and folded by
-- xf_stats_fold into one row per grain, day, unit, figure and key.
CREATE TABLE stats_cells (
  grain   "char" NOT NULL,      -- 'd': a day; 'm': a month, 'y': a year (day is its first day)
  day     date NOT NULL,
  unit    text NOT NULL,
  figure  text NOT NULL,        -- see xf_stats_cells; 'deadline': key purpose:met
  key     text NOT NULL,
  n       bigint NOT NULL,
  us      bigint NOT NULL,      -- summed durations (accepted, decided)
  folded  boolean NOT NULL
);
CREATE UNIQUE INDEX stats_cells_folded ON stats_cells (grain, day, unit, figure, key) WHERE folded;
CREATE INDEX stats_cells_appended ON stats_cells (day) WHERE NOT folded;

-- The supervisors' board (Dashboard): per responsible unit and stage, the
-- open cases, their escalated timers and open supervision notices, as signed
-- counts appended by changes and folded into one row per unit and stage.
CREATE TABLE board_cells (
  unit       text NOT NULL,
  stage      smallint NOT NULL,
  open       bigint NOT NULL,
  escalated  bigint NOT NULL,
  notices    bigint NOT NULL,
  folded     boolean NOT NULL
);
CREATE UNIQUE INDEX board_cells_folded ON board_cells (unit, stage) WHERE folded;

-- After a change to the cases `ids` (their rows, links and timers written):
-- their rows in stats_case follow, and the difference is appended.
CREATE FUNCTION xf_stats_project(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
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
           evaluation = excluded.evaluation, open = excluded.open,
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
                        s.evaluation) x
   GROUP BY x.day, s.unit, x.figure, x.key
  HAVING sum(s.sign) <> 0 OR sum(s.sign * x.us) <> 0;
END $$;

-- Folds up to `max_rows` appended rows into the day, month and year rows; returns
-- how many were folded. Concurrent folds share the work (SKIP LOCKED).
CREATE FUNCTION xf_stats_fold(max_rows int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  moved bigint;
BEGIN
  WITH gone AS (
         DELETE FROM stats_cells WHERE ctid IN (
           SELECT ctid FROM stats_cells WHERE NOT folded LIMIT max_rows FOR UPDATE SKIP LOCKED)
         RETURNING day, unit, figure, key, n, us),
       days AS (SELECT day, unit, figure, key, sum(n) AS n, sum(us) AS us
                  FROM gone GROUP BY 1, 2, 3, 4),
       added AS (
         INSERT INTO stats_cells (grain, day, unit, figure, key, n, us, folded)
         SELECT 'd', day, unit, figure, key, n, us, true FROM days
         UNION ALL
         SELECT 'm', date_trunc('month', day::timestamp)::date, unit, figure, key, sum(n), sum(us),
                true
           FROM days GROUP BY 2, 3, 4, 5
         UNION ALL
         SELECT 'y', date_trunc('year', day::timestamp)::date, unit, figure, key, sum(n), sum(us),
                true
           FROM days GROUP BY 2, 3, 4, 5
         ON CONFLICT (grain, day, unit, figure, key) WHERE folded DO UPDATE
           SET n = stats_cells.n + excluded.n, us = stats_cells.us + excluded.us)
  SELECT count(*) INTO moved FROM gone;
  WITH gone AS (
         DELETE FROM board_cells WHERE ctid IN (
           SELECT ctid FROM board_cells WHERE NOT folded LIMIT max_rows FOR UPDATE SKIP LOCKED)
         RETURNING unit, stage, open, escalated, notices),
       added AS (
         INSERT INTO board_cells (unit, stage, open, escalated, notices, folded)
         SELECT unit, stage, sum(open), sum(escalated), sum(notices), true
           FROM gone GROUP BY 1, 2
         ON CONFLICT (unit, stage) WHERE folded DO UPDATE
           SET open = board_cells.open + excluded.open,
               escalated = board_cells.escalated + excluded.escalated,
               notices = board_cells.notices + excluded.notices)
  SELECT moved + count(*) INTO moved FROM gone;
  RETURN moved;
END $$;

-- Counts everything again from the cases and the deadline log, in `zone`;
-- returns the cases counted. Without `force`, nothing is done (and -1
-- returned) when the counts are already in `zone`.
CREATE FUNCTION xf_stats_rebuild(zone text, force boolean) RETURNS bigint LANGUAGE plpgsql AS $$
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
                               s.evaluation) x
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
