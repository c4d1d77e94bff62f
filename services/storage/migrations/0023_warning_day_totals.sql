-- The warning check at a million cases (issue 16: under 5 ms a petition):
-- per-day totals for the rules' windows; the questions return the units of
-- the petitions they find, without a per-row scope call when the rule has no
-- scope; and a raise links its petitions without a row lock on each case.
-- Small tables only: at a million cases the migration takes a few seconds.
--
-- category_surge sums a category's petitions over 63 days and
-- unit_volume_rise a unit's over 60. petition_days has a row per day, unit
-- and category, so those sums read thousands of rows at a million cases.
-- Two totals, one row per day, answer a rule without a scope on the other
-- dimension (the shipped rules) from 60-odd rows; a rule scoped to units
-- (or categories) still sums petition_days.
--
-- The totals follow petition_days by trigger: whatever writes it (the
-- count of each batch, the recount from scratch) keeps them equal, and no
-- counting function is restated here.

CREATE TABLE petition_unit_days (
  unit  text NOT NULL,
  day   date NOT NULL,
  n     integer NOT NULL,
  PRIMARY KEY (unit, day)
);

CREATE TABLE petition_category_days (
  category  text NOT NULL,
  day       date NOT NULL,
  n         integer NOT NULL,
  PRIMARY KEY (category, day)
);

CREATE FUNCTION xf_petition_days_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta integer;
BEGIN
  IF TG_OP = 'DELETE' THEN
    delta := -OLD.n;
  ELSIF TG_OP = 'UPDATE' THEN
    IF (NEW.day, NEW.unit, NEW.category) IS DISTINCT FROM (OLD.day, OLD.unit, OLD.category) THEN
      RAISE EXCEPTION 'petition_days: a row''s day, unit and category do not change';
    END IF;
    delta := NEW.n - OLD.n;
  ELSE
    delta := NEW.n;
  END IF;
  IF delta <> 0 THEN
    INSERT INTO petition_unit_days AS t (unit, day, n)
    VALUES (coalesce(NEW.unit, OLD.unit), coalesce(NEW.day, OLD.day), delta)
    ON CONFLICT (unit, day) DO UPDATE SET n = t.n + excluded.n;
    INSERT INTO petition_category_days AS t (category, day, n)
    VALUES (coalesce(NEW.category, OLD.category), coalesce(NEW.day, OLD.day), delta)
    ON CONFLICT (category, day) DO UPDATE SET n = t.n + excluded.n;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION xf_petition_days_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE petition_unit_days, petition_category_days;
  RETURN NULL;
END $$;

CREATE TRIGGER petition_days_follow AFTER INSERT OR UPDATE OR DELETE ON petition_days
  FOR EACH ROW EXECUTE FUNCTION xf_petition_days_follow();
CREATE TRIGGER petition_days_emptied AFTER TRUNCATE ON petition_days
  FOR EACH STATEMENT EXECUTE FUNCTION xf_petition_days_emptied();

INSERT INTO petition_unit_days (unit, day, n)
SELECT unit, day, sum(n) FROM petition_days GROUP BY 1, 2;
INSERT INTO petition_category_days (category, day, n)
SELECT category, day, sum(n) FROM petition_days GROUP BY 1, 2;

-- The two questions of migration 0014, from the totals when the rule has
-- no scope on the other dimension.
CREATE OR REPLACE FUNCTION xf_warn_category_days(category text, lo date, split date, hi date,
                                                 units text[], OUT before int, OUT recent int)
  LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF units = '{}' THEN
    SELECT coalesce(sum(d.n) FILTER (WHERE d.day <= split), 0)::int,
           coalesce(sum(d.n) FILTER (WHERE d.day > split), 0)::int
      INTO before, recent
      FROM petition_category_days d
     WHERE d.category = xf_warn_category_days.category AND d.day > lo AND d.day <= hi;
  ELSE
    SELECT coalesce(sum(d.n) FILTER (WHERE d.day <= split), 0)::int,
           coalesce(sum(d.n) FILTER (WHERE d.day > split), 0)::int
      INTO before, recent
      FROM petition_days d
     WHERE d.category = xf_warn_category_days.category AND d.day > lo AND d.day <= hi
       AND d.unit = ANY (units);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION xf_warn_unit_days(unit text, lo date, split date, hi date, cats text[],
                                             OUT before int, OUT recent int)
  LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF cats = '{}' THEN
    SELECT coalesce(sum(d.n) FILTER (WHERE d.day <= split), 0)::int,
           coalesce(sum(d.n) FILTER (WHERE d.day > split), 0)::int
      INTO before, recent
      FROM petition_unit_days d
     WHERE d.unit = xf_warn_unit_days.unit AND d.day > lo AND d.day <= hi;
  ELSE
    SELECT coalesce(sum(d.n) FILTER (WHERE d.day <= split), 0)::int,
           coalesce(sum(d.n) FILTER (WHERE d.day > split), 0)::int
      INTO before, recent
      FROM petition_days d
     WHERE d.unit = xf_warn_unit_days.unit AND d.day > lo AND d.day <= hi
       AND xf_warn_in_scope(d.unit, d.category, '{}', cats);
  END IF;
END $$;

-- A warning links the petitions it counted (about 25 at a raise); each
-- link checked by foreign key that its case and its warning exist, by a row
-- lock on each (FOR KEY SHARE: writing the case's tuple) — a raise at a
-- million cases spent most of its time there. Both are kept otherwise:
-- a case cannot go, its history references it and refuses deletion
-- (migrations 0001, 0003, 0007); a warning is never deleted either (its
-- life ends in "closed"), which is now enforced here, and the links are
-- written only by xf_warn_wave, with the warning it found or raised.
ALTER TABLE warning_cases DROP CONSTRAINT warning_cases_case_id_fkey;
ALTER TABLE warning_cases DROP CONSTRAINT warning_cases_warning_id_fkey;

CREATE FUNCTION xf_refuse_warning_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'a warning is closed, never deleted (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER warnings_never_deleted BEFORE DELETE ON warnings
  FOR EACH ROW EXECUTE FUNCTION xf_refuse_warning_delete();
CREATE TRIGGER warnings_never_truncated BEFORE TRUNCATE ON warnings
  FOR EACH STATEMENT EXECUTE FUNCTION xf_refuse_warning_delete();

-- The questions return each petition's registering unit and complained-
-- about unit ('' for none) beside it, which they read anyway, so that a
-- raise or an extension adds the units it links without reading the
-- petitions again. A rule without a scope (the shipped rules) no longer
-- calls the scope's function on every row (not inlined: about 0.1 ms a
-- row at a million cases). Their plans are made once per connection
-- (force_generic_plan): left to choose, PostgreSQL planned the employer's
-- question anew on every call, for plans no better than the generic one.
DROP FUNCTION xf_warn_person_cases(bigint, timestamptz, interval, text[], text[], int);
DROP FUNCTION xf_warn_employer_cases(text, real, timestamptz, interval, text[], text[], int);
DROP FUNCTION xf_warn_complained_cases(text, timestamptz, interval, text[], text[], int);
DROP FUNCTION xf_warn_wave(text, int, int, text, text, text, timestamptz, timestamptz,
                           timestamptz, timestamptz, bigint[], text, bigint);

CREATE FUNCTION xf_warn_person_cases(person bigint, at timestamptz, win interval, units text[],
                                     cats text[], lim int)
  RETURNS TABLE (case_id bigint, received_us bigint, registering_unit text, complained_unit text)
  LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN QUERY
  SELECT wp.case_id, xf_us(wp.received_at), w.unit, coalesce(w.complained_unit, '')
    FROM warning_persons wp JOIN warning_petitions w ON w.case_id = wp.case_id
   WHERE wp.person_id = person AND wp.received_at BETWEEN at - win AND at + win
     AND ((units = '{}' AND cats = '{}') OR xf_warn_in_scope(w.unit, w.category, units, cats))
   ORDER BY abs(extract(epoch FROM wp.received_at - at)), wp.received_at, wp.case_id LIMIT lim;
END $$;

CREATE FUNCTION xf_warn_employer_cases(name text, sim real, at timestamptz, win interval,
                                       units text[], cats text[], lim int)
  RETURNS TABLE (case_id bigint, received_us bigint, registering_unit text, complained_unit text)
  LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN QUERY
  SELECT w.case_id, xf_us(w.received_at), w.unit, coalesce(w.complained_unit, '')
    FROM employer_names e
    JOIN employer_similar s ON s.name_id = e.id AND s.similarity >= sim
    JOIN warning_petitions w ON w.employer_id = s.similar_id
   WHERE e.name = xf_warn_employer_cases.name AND w.received_at BETWEEN at - win AND at + win
     AND ((units = '{}' AND cats = '{}') OR xf_warn_in_scope(w.unit, w.category, units, cats))
   ORDER BY abs(extract(epoch FROM w.received_at - at)), w.received_at, w.case_id LIMIT lim;
END $$;

CREATE FUNCTION xf_warn_complained_cases(unit text, at timestamptz, win interval, units text[],
                                         cats text[], lim int)
  RETURNS TABLE (case_id bigint, received_us bigint, registering_unit text, complained_unit text)
  LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  RETURN QUERY
  SELECT w.case_id, xf_us(w.received_at), w.unit, coalesce(w.complained_unit, '')
    FROM warning_petitions w
   WHERE w.complained_unit = xf_warn_complained_cases.unit
     AND w.received_at BETWEEN at - win AND at + win
     AND ((units = '{}' AND cats = '{}') OR xf_warn_in_scope(w.unit, w.category, units, cats))
   ORDER BY abs(extract(epoch FROM w.received_at - at)), w.received_at, w.case_id LIMIT lim;
END $$;

-- As migration 0014's, with each petition's registering unit (`units`)
-- and complained-about unit (`complained`, '' for none) beside `ids`.
-- Every statement in it finds rows by key. Its plans are kept per
-- connection; made while warnings and warning_cases are new and nearly
-- empty (after this migration, or on a new database) they scanned those
-- tables whole, once per linked petition, until the next ANALYZE: 4.6 ms a
-- raise at a million cases instead of 0.1 ms. Without sequential scans
-- the plans use the keys whatever the statistics say.
CREATE FUNCTION xf_warn_wave(rule text, kind int, severity int, title text, subject text,
                             label text, now timestamptz, start timestamptz, finish timestamptz,
                             at timestamptz, ids bigint[], units text[], complained text[],
                             detail text, trigger_id bigint, OUT id bigint, OUT raised boolean)
  LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  linked bigint;
  found_id bigint;
  found_end timestamptz;
  best_end timestamptz;
BEGIN
  SELECT w.id INTO id FROM warnings w
   WHERE w.rule = xf_warn_wave.rule AND w.subject = xf_warn_wave.subject AND w.state < 3
     AND w.window_start <= at AND w.window_end > at
   ORDER BY w.window_start DESC, w.id DESC LIMIT 1;
  IF id IS NULL THEN
    -- The live open warning of the rule with the latest end that links one
    -- of `ids`: one table at a time, by key. (As one join, a plan made
    -- while the tables were new started from all the rule's open warnings.)
    FOR linked IN SELECT DISTINCT wc.warning_id FROM warning_cases wc WHERE wc.case_id = ANY (ids)
    LOOP
      SELECT w.id, w.window_end INTO found_id, found_end FROM warnings w
       WHERE w.id = linked AND w.rule = xf_warn_wave.rule AND w.state < 3 AND w.window_end > at;
      IF found_id IS NOT NULL AND (id IS NULL OR (found_end, found_id) > (best_end, id)) THEN
        id := found_id;
        best_end := found_end;
      END IF;
    END LOOP;
  END IF;
  raised := id IS NULL;
  IF NOT raised AND EXISTS (SELECT 1 FROM warnings w WHERE w.id = xf_warn_wave.id
                             AND w.subject = xf_warn_wave.subject) THEN
    -- The wave is this warning's own: the others are linked already.
    SELECT array_agg(x.id), array_agg(x.u), array_agg(x.c) INTO ids, units, complained
      FROM unnest(ids, units, complained) AS x (id, u, c) WHERE x.id = trigger_id;
    IF ids IS NULL THEN
      SELECT ARRAY[p.case_id], ARRAY[p.unit], ARRAY[coalesce(p.complained_unit, '')]
        INTO ids, units, complained
        FROM warning_petitions p WHERE p.case_id = trigger_id;
    END IF;
  END IF;
  IF raised THEN
    INSERT INTO warnings (rule, kind, severity, rule_title, subject, subject_label, raised_at,
                          window_start, window_end, case_count, detail, units)
    VALUES (rule, kind, severity, title, subject, label, now, start, finish, 0, detail, '{}')
    RETURNING warnings.id INTO id;
  END IF;
  WITH ins AS (
    INSERT INTO warning_cases (warning_id, case_id)
    SELECT id, unnest(ids) ON CONFLICT DO NOTHING
    RETURNING case_id),
  added AS (
    SELECT count(*) AS n, coalesce(array_agg(DISTINCT p.u), '{}') AS units,
           coalesce(array_agg(DISTINCT p.c) FILTER (WHERE p.c <> ''), '{}') AS complained
      FROM ins JOIN unnest(ids, units, complained) AS p (case_id, u, c) USING (case_id))
  UPDATE warnings w SET
    window_end = greatest(w.window_end, finish),
    detail = xf_warn_wave.detail,
    case_count = w.case_count + added.n,
    units = ARRAY(SELECT DISTINCT u FROM unnest(w.units || added.units) u ORDER BY 1),
    complained_units = ARRAY(SELECT DISTINCT u FROM unnest(w.complained_units || added.complained) u
                              ORDER BY 1)
  FROM added WHERE w.id = xf_warn_wave.id;
END $$;

-- Every question of one petition in one round trip: question i (from 1) is
-- kinds[i] ('person', 'employer', 'complained', 'category_days',
-- 'unit_days') about keys[i], with its similarity, receipt and window
-- (microseconds), its scope (array literals of units and of categories) and
-- its days (lo, split, hi). A petitions question returns its rows (before
-- and recent 0); a days question one row (the petition's columns 0 and '').
CREATE FUNCTION xf_warn_ask(kinds text[], keys text[], sims real[], ats bigint[], wins bigint[],
                            scope_units text[], scope_cats text[], los text[], splits text[],
                            his text[], lim int)
  RETURNS TABLE (q int, case_id bigint, received_us bigint, registering_unit text,
                 complained_unit text, before int, recent int)
  LANGUAGE plpgsql STABLE AS $$
DECLARE
  i int;
  units text[];
  cats text[];
  at timestamptz;
  win interval;
BEGIN
  FOR i IN 1 .. coalesce(cardinality(kinds), 0) LOOP
    units := CAST(scope_units[i] AS text[]);
    cats := CAST(scope_cats[i] AS text[]);
    at := xf_ts(ats[i]);
    win := wins[i] * interval '1 microsecond';
    CASE kinds[i]
    WHEN 'person' THEN
      RETURN QUERY SELECT i, c.case_id, c.received_us, c.registering_unit, c.complained_unit, 0, 0
        FROM xf_warn_person_cases(CAST(keys[i] AS bigint), at, win, units, cats, lim) c;
    WHEN 'employer' THEN
      RETURN QUERY SELECT i, c.case_id, c.received_us, c.registering_unit, c.complained_unit, 0, 0
        FROM xf_warn_employer_cases(keys[i], sims[i], at, win, units, cats, lim) c;
    WHEN 'complained' THEN
      RETURN QUERY SELECT i, c.case_id, c.received_us, c.registering_unit, c.complained_unit, 0, 0
        FROM xf_warn_complained_cases(keys[i], at, win, units, cats, lim) c;
    WHEN 'category_days' THEN
      RETURN QUERY SELECT i, 0::bigint, 0::bigint, ''::text, ''::text, d.before, d.recent
        FROM xf_warn_category_days(keys[i], CAST(los[i] AS date), CAST(splits[i] AS date),
                                   CAST(his[i] AS date), units) d;
    WHEN 'unit_days' THEN
      RETURN QUERY SELECT i, 0::bigint, 0::bigint, ''::text, ''::text, d.before, d.recent
        FROM xf_warn_unit_days(keys[i], CAST(los[i] AS date), CAST(splits[i] AS date),
                               CAST(his[i] AS date), cats) d;
    ELSE
      RAISE EXCEPTION 'xf_warn_ask: question % is of no kind known (%)', i, kinds[i];
    END CASE;
  END LOOP;
END $$;
