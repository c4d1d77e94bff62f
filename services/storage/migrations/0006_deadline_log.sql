-- 0006: every deadline, once it closes (its step was taken, or the case
-- moved on), is logged with whether it was met: the ground truth of the
-- on-time rates (docs/statistics.md).
CREATE TABLE deadline_log (
  id          bigserial PRIMARY KEY,
  case_id     bigint NOT NULL REFERENCES cases (id),
  name        text NOT NULL,
  owing_unit  text NOT NULL,
  started_at  timestamptz NOT NULL,
  due_at      timestamptz NOT NULL,
  closed_at   timestamptz NOT NULL,
  met         boolean NOT NULL        -- closed before due_at (and not marked overdue)
);
CREATE INDEX deadline_log_due ON deadline_log (name, due_at);
