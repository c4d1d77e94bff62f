-- xinfang schema, version 1: units, categories, persons, cases, their events
-- (append-only, hash-chained) and their timers.

-- Instants cross the SQL boundary as microseconds since the Unix epoch.
CREATE FUNCTION xf_ts(us bigint) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT timestamptz 'epoch' + us * interval '1 microsecond' $$;
CREATE FUNCTION xf_us(t timestamptz) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;

-- The organisation tree.
CREATE TABLE units (
  code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
  name        text NOT NULL,
  parent      text REFERENCES units (code),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- The content categories (hierarchical, union-specific).
CREATE TABLE categories (
  code        text PRIMARY KEY,
  name        text NOT NULL,
  parent      text REFERENCES categories (code),
  active      boolean NOT NULL DEFAULT true
);

-- The petitioner registry across channels.
CREATE TABLE persons (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL,
  id_number   text UNIQUE,
  phone       text,
  address     text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_phone ON persons (phone) WHERE phone IS NOT NULL;
CREATE INDEX persons_name ON persons (name);

CREATE SEQUENCE tracking_seq;

CREATE TABLE cases (
  id                bigserial PRIMARY KEY,
  tracking_number   text NOT NULL UNIQUE,
  request_id        text NOT NULL UNIQUE,
  version           bigint NOT NULL DEFAULT 1,
  workflow          text NOT NULL,
  workflow_version  integer NOT NULL,
  state             text NOT NULL,
  stage             smallint NOT NULL,
  final             boolean NOT NULL DEFAULT false,
  channel           smallint NOT NULL,
  received_at       timestamptz NOT NULL,
  registered_at     timestamptz NOT NULL,
  registered_by     text NOT NULL,
  registering_unit  text NOT NULL REFERENCES units (code),
  responsible_unit  text NOT NULL REFERENCES units (code),
  forwarder_unit    text,
  review_unit       text,
  recheck_unit      text,
  case_officer      text,
  anonymous         boolean NOT NULL,
  purpose           smallint NOT NULL,
  category          text NOT NULL REFERENCES categories (code),
  complained_about_unit text,
  summary           text NOT NULL,
  accepted_at       timestamptz,
  decided_at        timestamptz,
  served_at         timestamptz,
  closed_at         timestamptz,
  outcome           text,
  evaluation        text,
  flags             text NOT NULL DEFAULT '',   -- comma-separated, sorted
  attributes        jsonb NOT NULL DEFAULT '{}',
  conflicted_accounts text NOT NULL DEFAULT '',
  intake            jsonb NOT NULL,             -- xinfang.v1.CaseIntake as JSON
  updated_at        timestamptz NOT NULL
);
CREATE INDEX cases_responsible_unit ON cases (responsible_unit, id);
CREATE INDEX cases_received_at ON cases (received_at, id);

CREATE TABLE case_petitioners (
  case_id    bigint NOT NULL REFERENCES cases (id),
  position   integer NOT NULL,
  person_id  bigint NOT NULL REFERENCES persons (id),
  PRIMARY KEY (case_id, position)
);
CREATE INDEX case_petitioners_person ON case_petitioners (person_id);

CREATE TABLE case_links (
  case_id     bigint NOT NULL REFERENCES cases (id),
  related_id  bigint NOT NULL REFERENCES cases (id),
  kind        text NOT NULL,   -- 'repeat'
  PRIMARY KEY (case_id, related_id, kind)
);

-- Append-only history; each row's hash chains over the previous one.
CREATE TABLE case_events (
  id          bigserial PRIMARY KEY,
  case_id     bigint NOT NULL REFERENCES cases (id),
  seq         integer NOT NULL,
  kind        text NOT NULL,
  action      text NOT NULL DEFAULT '',
  from_state  text NOT NULL DEFAULT '',
  to_state    text NOT NULL DEFAULT '',
  actor       text NOT NULL,
  actor_role  smallint NOT NULL,
  actor_unit  text NOT NULL DEFAULT '',
  at          timestamptz NOT NULL,
  note        text NOT NULL DEFAULT '',
  fields      jsonb NOT NULL DEFAULT '{}',
  prev_hash   text NOT NULL,
  hash        text NOT NULL,
  UNIQUE (case_id, seq)
);

-- One row per open deadline of a case.
CREATE TABLE case_timers (
  case_id       bigint NOT NULL REFERENCES cases (id),
  name          text NOT NULL,
  started_at    timestamptz NOT NULL,
  due_day       date NOT NULL,
  due_at        timestamptz NOT NULL,
  warn_at       timestamptz NOT NULL,
  provisional   boolean NOT NULL,
  suspended_at  timestamptz,
  extended      boolean NOT NULL DEFAULT false,
  warned        boolean NOT NULL DEFAULT false,
  overdue       boolean NOT NULL DEFAULT false,
  rung          integer NOT NULL DEFAULT 0,
  next_fire_at  timestamptz,
  PRIMARY KEY (case_id, name)
);
CREATE INDEX case_timers_next_fire ON case_timers (next_fire_at) WHERE next_fire_at IS NOT NULL;
CREATE INDEX case_timers_due ON case_timers (due_at);
