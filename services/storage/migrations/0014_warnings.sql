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
-- and raise no warnings after the fact: about 30 s per million cases on the
-- benchmark machine. (Migrations run before the server serves.)

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

-- Each normalised employer name once; similar names are found through the
-- trigram index (the rule's similarity is the threshold).
CREATE TABLE employer_names (
  id    bigserial PRIMARY KEY,
  name  text NOT NULL UNIQUE
);
CREATE INDEX employer_names_trgm ON employer_names USING gin (name gin_trgm_ops);

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
CREATE INDEX petition_days_category ON petition_days (category, day);
CREATE INDEX petition_days_unit ON petition_days (unit, day);

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

-- The projection's place in the feed and the time zone its days are in.
CREATE TABLE warning_cursor (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position   bigint NOT NULL,
  time_zone  text NOT NULL
);

-- Counts one batch of cases (their warning_petitions rows are written).
CREATE FUNCTION xf_count_petitions(ids bigint[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO petition_days (day, unit, category, n)
  SELECT w.day, w.unit, w.category, count(*)
    FROM unnest(ids) AS b (id) JOIN warning_petitions w ON w.case_id = b.id
   GROUP BY 1, 2, 3
  ON CONFLICT (day, unit, category) DO UPDATE SET n = petition_days.n + excluded.n;
  INSERT INTO situation_months (month, unit, dim, key, n)
  SELECT date_trunc('month', w.day)::date, w.unit, d.dim, d.key, count(*)
    FROM unnest(ids) AS b (id) JOIN warning_petitions w ON w.case_id = b.id
    JOIN cases c ON c.id = w.case_id
    LEFT JOIN employer_names e ON e.id = w.employer_id
    CROSS JOIN LATERAL (VALUES
      ('total', ''), ('channel', c.channel::text), ('category', c.category),
      ('purpose', c.purpose::text),
      ('group', CASE WHEN w.people >= 5 THEN '' END),
      ('repeat', CASE WHEN w.repeat THEN '' END),
      ('employer', e.name)) AS d (dim, key)
   WHERE d.key IS NOT NULL
   GROUP BY 1, 2, 3, 4
  ON CONFLICT (dim, month, key, unit) DO UPDATE SET n = situation_months.n + excluded.n;
  INSERT INTO situation_months (month, unit, dim, key, n)
  SELECT date_trunc('month', w.day)::date, w.unit, 'repeat_person', cp.person_id::text, count(*)
    FROM unnest(ids) AS b (id) JOIN warning_petitions w ON w.case_id = b.id
    JOIN case_petitioners cp ON cp.case_id = w.case_id
   WHERE w.repeat
   GROUP BY 1, 2, 4
  ON CONFLICT (dim, month, key, unit) DO UPDATE SET n = situation_months.n + excluded.n;
$$;

-- Records cases as the rules see them (employer names included), in the
-- office's time zone; returns the ids recorded now (not those recorded
-- before), which are the ones to count.
CREATE FUNCTION xf_record_petitions(ids bigint[], zone text) RETURNS bigint[] LANGUAGE sql AS $$
  INSERT INTO employer_names (name)
  SELECT DISTINCT n.name
    FROM unnest(ids) AS b (id) JOIN cases c ON c.id = b.id
    CROSS JOIN LATERAL (SELECT xf_employer_name(c.intake->>'complainedAbout') AS name) n
   WHERE n.name <> ''
  ON CONFLICT (name) DO NOTHING;
  WITH ins AS (
    INSERT INTO warning_petitions
    SELECT c.id, c.received_at, (c.received_at AT TIME ZONE zone)::date, c.registering_unit,
           c.category, e.id, nullif(c.complained_about_unit, ''),
           greatest(coalesce((c.intake->'visit'->>'peoplePresent')::int, 0),
                    (SELECT count(*) FROM case_petitioners cp WHERE cp.case_id = c.id)::int),
           EXISTS (SELECT 1 FROM case_links l WHERE l.case_id = c.id AND l.kind = 'repeat')
      FROM unnest(ids) AS b (id) JOIN cases c ON c.id = b.id
      LEFT JOIN employer_names e ON e.name = xf_employer_name(c.intake->>'complainedAbout')
    ON CONFLICT (case_id) DO NOTHING
    RETURNING case_id, received_at),
  persons AS (
    INSERT INTO warning_persons (person_id, received_at, case_id)
    SELECT DISTINCT cp.person_id, ins.received_at, ins.case_id
      FROM ins JOIN case_petitioners cp ON cp.case_id = ins.case_id
    ON CONFLICT DO NOTHING)
  SELECT coalesce(array_agg(case_id), '{}') FROM ins;
$$;

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
  TRUNCATE petition_days, situation_months, warning_persons;
  DELETE FROM warning_petitions;
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

-- The open backlog by age (the situation report).
CREATE INDEX cases_open_received ON cases (responsible_unit, received_at) WHERE NOT final;

SELECT xf_rebuild_warning_counts('Asia/Shanghai');
