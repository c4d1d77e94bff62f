-- 0018: the kept counts (0017) gain a year grain ('y': day is the year's
-- first day), so a period of several years reads one row per year, unit,
-- figure and key for its whole years instead of twelve months' (about 100k
-- month rows for three years at a million cases). The fold and the rebuild
-- write the year rows beside the day and month rows; the year rows of what
-- was already folded are summed from the month rows here.

-- Folds up to `max_rows` appended rows into the day, month and year rows; returns
-- how many were folded. Concurrent folds share the work (SKIP LOCKED).
CREATE OR REPLACE FUNCTION xf_stats_fold(max_rows int) RETURNS bigint LANGUAGE plpgsql AS $$
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
  RETURN moved;
END $$;

-- Counts everything again from the cases and the deadline log, in `zone`;
-- returns the cases counted. Without `force`, nothing is done (and -1
-- returned) when the counts are already in `zone`.
CREATE OR REPLACE FUNCTION xf_stats_rebuild(zone text, force boolean) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  counted bigint;
BEGIN
  -- stats_meta first: every change reads it before it writes the others.
  LOCK TABLE stats_meta, stats_case, stats_cells IN ACCESS EXCLUSIVE MODE;
  IF NOT force AND EXISTS (SELECT 1 FROM stats_meta WHERE time_zone = zone) THEN
    RETURN -1;
  END IF;
  PERFORM now() AT TIME ZONE zone;  -- an unknown zone fails here
  TRUNCATE stats_case, stats_cells;
  INSERT INTO stats_meta (singleton, time_zone) VALUES (true, zone)
    ON CONFLICT (singleton) DO UPDATE SET time_zone = excluded.time_zone;
  INSERT INTO stats_case SELECT * FROM stats_case_now;
  GET DIAGNOSTICS counted = ROW_COUNT;
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

INSERT INTO stats_cells (grain, day, unit, figure, key, n, us, folded)
SELECT 'y', date_trunc('year', day::timestamp)::date, unit, figure, key, sum(n), sum(us), true
  FROM stats_cells WHERE grain = 'm' AND folded GROUP BY 2, 3, 4, 5;
