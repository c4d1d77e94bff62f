-- The kept statistics' projection (xf_stats_project, with every change)
-- reads its cases' rows from this view. PostgreSQL may run an EXISTS
-- subquery as a "hashed subplan": the whole inner set read and hashed once
-- per call, here every repeat link of every case (532 links at 100k cases,
-- 0.1 ms of each change; ten times that at 1M) to answer for one case. A
-- scalar subquery with LIMIT 1 is always a probe of the case's own rows by
-- index. Same columns, same values (the recount tests hold the kept counts
-- to a count from the cases). Measured at 100k cases, one case a call,
-- generic plan: 0.33 -> 0.27 ms a projection.
CREATE OR REPLACE VIEW stats_case_now AS
  SELECT c.id AS case_id, c.responsible_unit AS unit,
         (c.received_at AT TIME ZONE m.time_zone)::date AS received,
         c.channel, c.category, c.stage, c.state,
         (SELECT true FROM case_links l WHERE l.case_id = c.id AND l.kind = 'repeat' LIMIT 1)
           IS NOT NULL AS repeat,
         (c.accepted_at AT TIME ZONE m.time_zone)::date AS accepted,
         xf_us(c.accepted_at) - xf_us(c.received_at) AS accept_us,
         CASE WHEN c.accepted_at IS NOT NULL
              THEN (c.decided_at AT TIME ZONE m.time_zone)::date END AS decided,
         CASE WHEN c.accepted_at IS NOT NULL
              THEN xf_us(c.decided_at) - xf_us(c.accepted_at) END AS decide_us,
         CASE WHEN (SELECT true FROM case_timers t WHERE t.case_id = c.id AND t.purpose = 3 LIMIT 1)
                   IS NULL
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
