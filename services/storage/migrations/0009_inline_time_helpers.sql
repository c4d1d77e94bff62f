-- 0007: xf_ts and xf_us are STABLE, as the timestamptz operators in their
-- bodies are. Declared IMMUTABLE they could not be inlined, so every call ran
-- as a SQL function of its own (1-3 microseconds, on every row that a query
-- converts; the sweeper converts about 25 instants per case). Inlined, they
-- cost what the expression costs, and an index can still use xf_ts(:now).
ALTER FUNCTION xf_ts(bigint) STABLE;
ALTER FUNCTION xf_us(timestamptz) STABLE;
