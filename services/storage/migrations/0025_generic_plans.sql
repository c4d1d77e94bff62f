-- Two functions that run with every change planned their statements anew on
-- every call. PL/pgSQL caches a plan per statement and connection, but for a
-- statement with parameters PostgreSQL keeps making a custom plan for each
-- call's values as long as it estimates the generic plan (for any values)
-- dearer, and here the planning cost more than the run. Both look rows up by
-- case ids, which one generic plan serves for any ids. Measured on 1M cases,
-- one case a call, in one session (psql, ROLLBACK after):
--   xf_stats_project (every registration, action and sweep: the kept
--   statistics' projection)            0.9 ms a call -> 0.3 ms
--   xf_count_petitions (every warning pass: the per-day counts)
--                                      1.1 ms a call -> 0.4 ms
-- (xf_resolve_petitioner settles on its generic plan by itself: 0.2 ms.)
ALTER FUNCTION xf_stats_project(bigint[]) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION xf_count_petitions(bigint[]) SET plan_cache_mode = force_generic_plan;
