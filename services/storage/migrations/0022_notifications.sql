-- 0022: notifications (issue 15). The outbox: one row per message to one
-- person about one case event, made in order from the event feed (its
-- cursor below: replicas take turns, and the unique key keeps a message from
-- being made twice), delivered with retries and recorded as sent or failed.
-- Staff accounts get an e-mail address; the petitioner's is in the case's
-- intake (Petitioner.email).
ALTER TABLE accounts ADD COLUMN email text NOT NULL DEFAULT '';

CREATE TABLE outbox (
  id               bigserial PRIMARY KEY,
  event_id         bigint NOT NULL,             -- the case event it tells of (case_events.id)
  case_id          bigint NOT NULL REFERENCES cases (id),
  kind             text NOT NULL,               -- petitioner_document | petitioner_window | escalation
  channel          text NOT NULL,               -- email
  recipient        text NOT NULL,               -- the address
  subject          text NOT NULL,
  body             text NOT NULL,
  attachment_name  text NOT NULL DEFAULT '',
  attachment       text NOT NULL DEFAULT '',    -- a written document's page
  created_at       timestamptz NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
  attempts         int NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  sent_at          timestamptz,
  last_error       text NOT NULL DEFAULT '',
  UNIQUE (event_id, kind, channel, recipient)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_case ON outbox (case_id, id);

-- How far the feed has been turned into messages. It starts at the feed's
-- end: an upgrade does not mail the past.
CREATE TABLE outbox_cursor (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position   bigint NOT NULL
);
INSERT INTO outbox_cursor (position) SELECT coalesce(max(position), 0) FROM case_events;
