-- 0021: the written documents (文书, issue 15): each one issued by an
-- action of the procedure, numbered (文号) per issuing unit, year and series
-- without gaps, and never changed or removed once written. The action's
-- event records the number and the SHA-256 of the body; `xfctl case verify`
-- checks both.

-- The last number given per unit, year and series. The row is locked by the
-- issuing transaction until it commits, so numbers follow commit order, and
-- a rolled-back change gives its number back: no gaps.
CREATE TABLE document_series (
  unit    text NOT NULL,
  year    int  NOT NULL,
  series  text NOT NULL,
  last    int  NOT NULL CHECK (last > 0),
  PRIMARY KEY (unit, year, series)
);

CREATE TABLE documents (
  id                bigserial PRIMARY KEY,
  case_id           bigint NOT NULL REFERENCES cases (id),
  event_seq         int NOT NULL,          -- the action's event in the case's history
  action            text NOT NULL,         -- the action that issued it
  kind              text NOT NULL,         -- the definition's DocumentKind
  title             text NOT NULL,
  recipient         int NOT NULL,          -- xinfang.v1.DocumentRecipient
  unit              text NOT NULL,         -- the issuing unit
  year              int NOT NULL,
  series            text NOT NULL,
  seq               int NOT NULL CHECK (seq > 0),
  number            text NOT NULL UNIQUE,  -- the 文号 as printed
  issued_at         timestamptz NOT NULL,
  issued_by         text NOT NULL,
  template_version  int NOT NULL,
  template_sha256   text NOT NULL,
  body              text NOT NULL,         -- the document, an HTML page
  sha256            text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  UNIQUE (unit, year, series, seq)
);
CREATE INDEX documents_case ON documents (case_id, id);

-- Written once: no UPDATE, DELETE or TRUNCATE, whoever asks.
CREATE FUNCTION xf_documents_unchangeable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'documents are never changed or removed (%)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER documents_unchangeable BEFORE UPDATE OR DELETE ON documents
  FOR EACH ROW EXECUTE FUNCTION xf_documents_unchangeable();
CREATE TRIGGER documents_not_truncated BEFORE TRUNCATE ON documents
  FOR EACH STATEMENT EXECUTE FUNCTION xf_documents_unchangeable();
