-- 0014: early warning and the situation report (docs/warnings.md).
--
-- Both read from a projection of the event feed: the warning processor
-- (services/supervision/warnings.h) reads the "registered" events after its
-- cursor and, in the same transaction as it advances the cursor, records
-- each petition as the rules see it, adds it to the daily and monthly
-- counts, and raises or extends warnings. The cursor row is locked while a
-- batch is processed, so replicas take turns and nothing is counted or
-- raised twice.
--
-- Existing cases are counted here, set-based (xf_rebuild_warning_counts),
-- and raise no warnings after the fact; with the indexes below, about a
-- minute per million cases on the benchmark machine. (Migrations run before
-- the server serves.)

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- An employer's name as the rules compare it: without blanks, punctuation
-- and the legal-form endings that vary between petitions ("某建筑有限公司",
-- "某建筑集团", "某建筑公司" are all "某建筑"). Empty when nothing is left.
CREATE FUNCTION xf_employer_name(raw text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  -- Latin legal forms only as separate words ("Acme Co., Ltd."), never
  -- inside one ("Cisco"); then blanks and punctuation go.
  name text := lower(regexp_replace(
      regexp_replace(lower(raw),
                     '([[:space:][:punct:]]+(co|ltd|inc|corp|llc|limited|company|gmbh))+[[:space:][:punct:]]*$',
                     ''),
      '[[:space:][:punct:]（）【】《》〈〉「」“”‘’，。、；：！？·　]', '', 'g'));
  suffix text;
  stripped boolean := true;
BEGIN
  WHILE stripped LOOP
    stripped := false;
    -- Longest first: 工厂 before 厂.
    FOREACH suffix IN ARRAY ARRAY['股份有限公司', '有限责任公司', '集团有限公司', '有限公司',
                                  '集团公司', '株式会社', '分公司', '总公司', '工厂', '公司',
                                  '集团', '有限', '厂'] LOOP
      IF char_length(name) > char_length(suffix) AND right(name, char_length(suffix)) = suffix THEN
        name := left(name, char_length(name) - char_length(suffix));
        stripped := true;
      END IF;
    END LOOP;
  END LOOP;
  RETURN name;
END $$;

-- Each normalised employer name once, and for each the names at least 0.3
-- similar to it (pg_trgm; itself at 1), worked out once when a name is
-- first seen: a fuzzy match is then an index lookup, at any rule's
-- similarity from 0.3 up.
CREATE TABLE employer_names (
  id    bigserial PRIMARY KEY,
  name  text NOT NULL UNIQUE
);
CREATE INDEX employer_names_trgm ON employer_names USING gin (name gin_trgm_ops);
CREATE TABLE employer_similar (
  name_id     bigint NOT NULL REFERENCES employer_names (id),
  similar_id  bigint NOT NULL REFERENCES employer_names (id),
  similarity  real NOT NULL,
  PRIMARY KEY (name_id, similar_id)
);

-- Each petition as the rules see it.
CREATE TABLE warning_petitions (
  case_id          bigint PRIMARY KEY REFERENCES cases (id),
  received_at      timestamptz NOT NULL,
  day              date NOT NULL,     -- of receipt, in the office's time zone
  unit             text NOT NULL,     -- the registering unit
  category         text NOT NULL,
  employer_id      bigint REFERENCES employer_names (id),
  complained_unit  text,              -- the complained-about unit, when one of ours
  people           integer NOT NULL,  -- people present at a visit, or petitioners
  repeat           boolean NOT NULL
);
CREATE INDEX warning_petitions_employer ON warning_petitions (employer_id, received_at)
  WHERE employer_id IS NOT NULL;
CREATE INDEX warning_petitions_complained ON warning_petitions (complained_unit, received_at)
  WHERE complained_unit IS NOT NULL;

-- Each petitioner of each petition, by person and receipt: a person's
-- petitions in a window are one index range, however long their history.
CREATE TABLE warning_persons (
  person_id    bigint NOT NULL,
  received_at  timestamptz NOT NULL,
  case_id      bigint NOT NULL REFERENCES cases (id),
  PRIMARY KEY (person_id, received_at, case_id)
);

-- Petitions a day, per registering unit and category (the rules' windows).
CREATE TABLE petition_days (
  day       date NOT NULL,
  unit      text NOT NULL,
  category  text NOT NULL,
  n         integer NOT NULL,
  PRIMARY KEY (day, unit, category)
);
CREATE INDEX petition_days_category ON petition_days (category, day) INCLUDE (unit, n);
CREATE INDEX petition_days_unit ON petition_days (unit, day) INCLUDE (category, n);

-- Petitions a month, per registering unit, by each dimension of the
-- situation report: 'total' (key ''), 'channel', 'category', 'purpose'
-- (numbers of xinfang.v1.Channel and Purpose), 'group', 'repeat' (key ''),
-- 'employer' (normalised name), 'repeat_person' (registry id: petitions
-- that repeat an earlier one).
CREATE TABLE situation_months (
  month  date NOT NULL,  -- the month's first day, in the office's time zone
  unit   text NOT NULL,
  dim    text NOT NULL,
  key    text NOT NULL,
  n      integer NOT NULL,
  PRIMARY KEY (dim, month, key, unit)
);
CREATE INDEX situation_months_cover ON situation_months (dim, month) INCLUDE (key, unit, n);

-- The projection's place in the feed and the time zone its days are in.
CREATE TABLE warning_cursor (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position   bigint NOT NULL,
  time_zone  text NOT NULL
);

-- Counts one batch of cases (their warning_petitions rows are written).
CREATE FUNCTION xf_count_petitions(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO petition_days (day, unit, category, n)
  SELECT w.day, w.unit, w.category, count(*)
    FROM warning_petitions w WHERE w.case_id = ANY (ids)
   GROUP BY 1, 2, 3
  ON CONFLICT (day, unit, category) DO UPDATE SET n = petition_days.n + excluded.n;
  INSERT INTO situation_months (month, unit, dim, key, n)
  SELECT date_trunc('month', w.day)::date, w.unit, d.dim, d.key, count(*)
    FROM warning_petitions w JOIN cases c ON c.id = w.case_id
    LEFT JOIN employer_names e ON e.id = w.employer_id
    CROSS JOIN LATERAL (VALUES
      ('total', ''), ('channel', c.channel::text), ('category', c.category),
      ('purpose', c.purpose::text),
      ('group', CASE WHEN w.people >= 5 THEN '' END),
      ('repeat', CASE WHEN w.repeat THEN '' END),
      ('employer', e.name)) AS d (dim, key)
   WHERE w.case_id = ANY (ids) AND d.key IS NOT NULL
   GROUP BY 1, 2, 3, 4
  ON CONFLICT (dim, month, key, unit) DO UPDATE SET n = situation_months.n + excluded.n;
  INSERT INTO situation_months (month, unit, dim, key, n)
  SELECT date_trunc('month', w.day)::date, w.unit, 'repeat_person', cp.person_id::text, count(*)
    FROM warning_petitions w JOIN case_petitioners cp ON cp.case_id = w.case_id
   WHERE w.case_id = ANY (ids) AND w.repeat
   GROUP BY 1, 2, 4
  ON CONFLICT (dim, month, key, unit) DO UPDATE SET n = situation_months.n + excluded.n;
END $$;

-- Records cases as the rules see them (employer names included), in the
-- office's time zone; returns the ids recorded now (not those recorded
-- before), which are the ones to count.
CREATE FUNCTION xf_record_petitions(ids bigint[], zone text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
  new_names bigint[];
  fresh bigint[];
BEGIN
  WITH ins AS (
    INSERT INTO employer_names (name)
    SELECT DISTINCT n.name
      FROM cases c
      CROSS JOIN LATERAL (SELECT xf_employer_name(c.intake->>'complainedAbout') AS name) n
     WHERE c.id = ANY (ids) AND n.name <> ''
    ON CONFLICT (name) DO NOTHING
    RETURNING id)
  SELECT coalesce(array_agg(id), '{}') INTO new_names FROM ins;
  IF cardinality(new_names) > 0 THEN
    INSERT INTO employer_similar (name_id, similar_id, similarity)
    SELECT a.id, b.id, similarity(a.name, b.name)
      FROM employer_names a JOIN employer_names b
        ON (a.id = ANY (new_names) OR b.id = ANY (new_names))
     WHERE similarity(a.name, b.name) >= 0.3
    ON CONFLICT DO NOTHING;
  END IF;
  WITH ins AS (
    INSERT INTO warning_petitions
    SELECT c.id, c.received_at, (c.received_at AT TIME ZONE zone)::date, c.registering_unit,
           c.category, e.id, nullif(c.complained_about_unit, ''),
           greatest(coalesce((c.intake->'visit'->>'peoplePresent')::int, 0),
                    (SELECT count(*) FROM case_petitioners cp WHERE cp.case_id = c.id)::int),
           EXISTS (SELECT 1 FROM case_links l WHERE l.case_id = c.id AND l.kind = 'repeat')
      FROM cases c
      LEFT JOIN employer_names e ON e.name = xf_employer_name(c.intake->>'complainedAbout')
     WHERE c.id = ANY (ids)
    ON CONFLICT (case_id) DO NOTHING
    RETURNING case_id, received_at),
  persons AS (
    INSERT INTO warning_persons (person_id, received_at, case_id)
    SELECT DISTINCT cp.person_id, ins.received_at, ins.case_id
      FROM ins JOIN case_petitioners cp ON cp.case_id = ins.case_id
    ON CONFLICT DO NOTHING)
  SELECT coalesce(array_agg(case_id), '{}') INTO fresh FROM ins;
  RETURN fresh;
END $$;

-- Rebuilds the counts from the raw tables: every petition whose
-- registration is in the feed, in the office's time zone, with the cursor
-- at that place in the feed. The feed's sequencer and the processor wait
-- meanwhile (their locks), so no petition is missed or counted twice; a
-- registration not yet in the feed is counted when the processor reaches
-- it. Warnings are kept.
CREATE FUNCTION xf_rebuild_warning_counts(zone text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  pos bigint;
BEGIN
  LOCK TABLE warning_cursor IN EXCLUSIVE MODE;
  SELECT last_position INTO pos FROM event_sequencer FOR UPDATE;
  TRUNCATE petition_days, situation_months, warning_persons, employer_similar;
  DELETE FROM warning_petitions;
  -- Every name's similar names again (names themselves stay: ids are kept).
  INSERT INTO employer_similar (name_id, similar_id, similarity)
  SELECT a.id, b.id, similarity(a.name, b.name)
    FROM employer_names a JOIN employer_names b ON a.name % b.name OR a.id = b.id
   WHERE similarity(a.name, b.name) >= 0.3;
  SELECT coalesce(array_agg(case_id), '{}') INTO ids FROM case_events
   WHERE kind = 'registered' AND position <= pos;
  PERFORM xf_count_petitions(xf_record_petitions(ids, zone));
  INSERT INTO warning_cursor (singleton, position, time_zone)
  VALUES (true, pos, zone)
  ON CONFLICT (singleton) DO UPDATE SET position = pos, time_zone = zone;
  RETURN cardinality(ids);
END $$;

-- Warnings: a record with its own life (raised, acknowledged, handled,
-- closed). One per rule, subject and wave: the processor extends a live,
-- open wave instead of raising again; only the processor raises, one
-- replica at a time (the cursor's row lock). window_start is the wave's
-- start when it was raised and never changes.
CREATE TABLE warnings (
  id                bigserial PRIMARY KEY,
  rule              text NOT NULL,
  kind              smallint NOT NULL,
  severity          smallint NOT NULL,
  rule_title        text NOT NULL,
  subject           text NOT NULL,
  subject_label     text NOT NULL,
  state             smallint NOT NULL DEFAULT 1,  -- xinfang.v1.WarningState
  version           bigint NOT NULL DEFAULT 1,
  raised_at         timestamptz NOT NULL,
  window_start      timestamptz NOT NULL,
  window_end        timestamptz NOT NULL,
  case_count        integer NOT NULL,
  detail            text NOT NULL,
  units             text[] NOT NULL,              -- registering units of its petitions
  complained_units  text[] NOT NULL DEFAULT '{}'  -- never shown to these units or below
);
CREATE INDEX warnings_wave ON warnings (rule, subject, window_end);
CREATE INDEX warnings_units ON warnings USING gin (units);
CREATE INDEX warnings_raised ON warnings (raised_at);

CREATE TABLE warning_cases (
  warning_id  bigint NOT NULL REFERENCES warnings (id),
  case_id     bigint NOT NULL REFERENCES cases (id),
  PRIMARY KEY (warning_id, case_id)
);
CREATE INDEX warning_cases_case ON warning_cases (case_id);

CREATE TABLE warning_steps (
  warning_id  bigint NOT NULL REFERENCES warnings (id),
  seq         integer NOT NULL,
  state       smallint NOT NULL,
  by_account  text NOT NULL,
  at          timestamptz NOT NULL,
  note        text NOT NULL DEFAULT '',
  PRIMARY KEY (warning_id, seq)
);

-- Group petitions to look at again when their acceptance window ends.
CREATE TABLE warning_watch (
  rule     text NOT NULL,
  case_id  bigint NOT NULL REFERENCES cases (id),
  fire_at  timestamptz NOT NULL,
  PRIMARY KEY (rule, case_id)
);
CREATE INDEX warning_watch_fire ON warning_watch (fire_at);

-- The open backlog by age (the situation report), and the on-time counts
-- it shares with the statistics read from the index alone.
CREATE INDEX cases_open_received ON cases (responsible_unit, received_at) WHERE NOT final;
CREATE INDEX deadline_log_due_cover ON deadline_log (name, due_at) INCLUDE (owing_unit, met);
DROP INDEX deadline_log_due;

SELECT xf_rebuild_warning_counts('Asia/Shanghai');

-- The rules' questions, as functions so that their plans are made once per
-- connection (PL/pgSQL keeps them), not on every petition.

-- A scope: registering units (empty: all) and categories with those below
-- them (empty: all).
CREATE FUNCTION xf_warn_in_scope(unit text, category text, units text[], cats text[])
  RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (units = '{}' OR unit = ANY (units))
     AND (cats = '{}' OR EXISTS (SELECT 1 FROM unnest(cats) k
                                  WHERE category = k OR left(category, length(k) + 1) = k || '.'))
$$;

-- Petitions within `win` before or after `at` (ends included), at most
-- `lim` of those nearest `at`: of a person; against employers at least
-- `sim` similar to `name`; against one of our units.
CREATE FUNCTION xf_warn_person_cases(person bigint, at timestamptz, win interval, units text[],
                                     cats text[], lim int)
  RETURNS TABLE (case_id bigint, received_us bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT wp.case_id, xf_us(wp.received_at) FROM warning_persons wp
    JOIN warning_petitions w ON w.case_id = wp.case_id
   WHERE wp.person_id = person AND wp.received_at BETWEEN at - win AND at + win
     AND xf_warn_in_scope(w.unit, w.category, units, cats)
   ORDER BY abs(extract(epoch FROM wp.received_at - at)), wp.received_at, wp.case_id LIMIT lim;
END $$;

CREATE FUNCTION xf_warn_employer_cases(name text, sim real, at timestamptz, win interval,
                                       units text[], cats text[], lim int)
  RETURNS TABLE (case_id bigint, received_us bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT w.case_id, xf_us(w.received_at) FROM employer_names e
    JOIN employer_similar s ON s.name_id = e.id AND s.similarity >= sim
    JOIN warning_petitions w ON w.employer_id = s.similar_id
   WHERE e.name = xf_warn_employer_cases.name AND w.received_at BETWEEN at - win AND at + win
     AND xf_warn_in_scope(w.unit, w.category, units, cats)
   ORDER BY abs(extract(epoch FROM w.received_at - at)), w.received_at, w.case_id LIMIT lim;
END $$;

CREATE FUNCTION xf_warn_complained_cases(unit text, at timestamptz, win interval, units text[],
                                         cats text[], lim int)
  RETURNS TABLE (case_id bigint, received_us bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT w.case_id, xf_us(w.received_at) FROM warning_petitions w
   WHERE w.complained_unit = xf_warn_complained_cases.unit
     AND w.received_at BETWEEN at - win AND at + win
     AND xf_warn_in_scope(w.unit, w.category, units, cats)
   ORDER BY abs(extract(epoch FROM w.received_at - at)), w.received_at, w.case_id LIMIT lim;
END $$;

-- Petitions a day summed over (lo, split] and (split, hi]: of a category
-- within `units`, or of a unit within `cats`.
CREATE FUNCTION xf_warn_category_days(category text, lo date, split date, hi date, units text[],
                                      OUT before int, OUT recent int)
  LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT coalesce(sum(d.n) FILTER (WHERE d.day <= split), 0)::int,
         coalesce(sum(d.n) FILTER (WHERE d.day > split), 0)::int
    INTO before, recent
    FROM petition_days d
   WHERE d.category = xf_warn_category_days.category AND d.day > lo AND d.day <= hi
     AND (units = '{}' OR d.unit = ANY (units));
END $$;

CREATE FUNCTION xf_warn_unit_days(unit text, lo date, split date, hi date, cats text[],
                                  OUT before int, OUT recent int)
  LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT coalesce(sum(d.n) FILTER (WHERE d.day <= split), 0)::int,
         coalesce(sum(d.n) FILTER (WHERE d.day > split), 0)::int
    INTO before, recent
    FROM petition_days d
   WHERE d.unit = xf_warn_unit_days.unit AND d.day > lo AND d.day <= hi
     AND xf_warn_in_scope(d.unit, d.category, '{}', cats);
END $$;

-- Joins a wave to the live open warning it belongs to (raised or
-- acknowledged: of the same rule and subject with `at` inside its window,
-- or of the rule already linking one of `ids`), or raises a new one; links
-- the petitions counted (a raise; or a late-logged petition joining the
-- wave its counted petitions belong to), else just the trigger (the others
-- are linked already), and adds what they say (count, units, units it must
-- never be shown to; the window's end moves on). Start and version stay.
CREATE FUNCTION xf_warn_wave(rule text, kind int, severity int, title text, subject text,
                             label text, now timestamptz, start timestamptz, finish timestamptz,
                             at timestamptz, ids bigint[], detail text, trigger_id bigint,
                             OUT id bigint, OUT raised boolean)
  LANGUAGE plpgsql AS $$
BEGIN
  SELECT w.id INTO id FROM warnings w
   WHERE w.rule = xf_warn_wave.rule AND w.subject = xf_warn_wave.subject AND w.state < 3
     AND w.window_start <= at AND w.window_end > at
   ORDER BY w.window_start DESC, w.id DESC LIMIT 1;
  IF id IS NULL THEN
    SELECT w.id INTO id FROM warning_cases wc JOIN warnings w ON w.id = wc.warning_id
     WHERE wc.case_id = ANY (ids) AND w.rule = xf_warn_wave.rule AND w.state < 3
       AND w.window_end > at
     ORDER BY w.window_end DESC, w.id DESC LIMIT 1;
  END IF;
  raised := id IS NULL;
  IF NOT raised AND EXISTS (SELECT 1 FROM warnings w WHERE w.id = xf_warn_wave.id
                             AND w.subject = xf_warn_wave.subject) THEN
    ids := ARRAY[trigger_id];
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
    SELECT count(*) AS n, coalesce(array_agg(DISTINCT p.unit), '{}') AS units,
           coalesce(array_agg(DISTINCT p.complained_unit)
                      FILTER (WHERE p.complained_unit IS NOT NULL), '{}') AS complained
      FROM ins JOIN warning_petitions p ON p.case_id = ins.case_id)
  UPDATE warnings w SET
    window_end = greatest(w.window_end, finish),
    detail = xf_warn_wave.detail,
    case_count = w.case_count + added.n,
    units = ARRAY(SELECT DISTINCT u FROM unnest(w.units || added.units) u ORDER BY 1),
    complained_units = ARRAY(SELECT DISTINCT u FROM unnest(w.complained_units || added.complained) u
                              ORDER BY 1)
  FROM added WHERE w.id = xf_warn_wave.id;
END $$;
