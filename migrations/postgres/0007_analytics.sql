-- Insights and analytics. Raw pull events gain the fields of Docker Hub's raw
-- export (country, cloud host, client tool and version, the sender's event
-- id); the full user agent is no longer kept. Rollups are written in the same
-- transaction as the raw rows, so a chart is never behind the raw data.
-- Tokens gain the `ingest` scope (sending pull events, nothing else).

ALTER TABLE access_tokens DROP CONSTRAINT access_tokens_scope_check;
ALTER TABLE access_tokens ADD CONSTRAINT access_tokens_scope_check
    CHECK (scope IN ('read', 'write', 'admin', 'ingest'));

ALTER TABLE pull_events DROP COLUMN user_agent;
-- The sender's id (POST /api/v1/events), so a retried batch counts once; NULL
-- for the hub's own registry.
ALTER TABLE pull_events ADD COLUMN source_id TEXT;
ALTER TABLE pull_events ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE pull_events ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE pull_events ADD COLUMN tool TEXT NOT NULL DEFAULT '';
ALTER TABLE pull_events ADD COLUMN tool_version TEXT NOT NULL DEFAULT '';
-- Retention deletes by time; exports read a namespace by time.
DROP INDEX pull_events_repo_at;
CREATE INDEX pull_events_at ON pull_events (at);
CREATE INDEX pull_events_ns_at ON pull_events (namespace_id, at);
CREATE UNIQUE INDEX pull_events_source ON pull_events (namespace_id, source_id) WHERE source_id IS NOT NULL;

-- The full cube: repository × day × tag × digest × action × country × host × tool.
-- `day` counts UTC days since 1970-01-01; '' stands for "none".
CREATE TABLE pull_rollups (
    namespace_id  BIGINT NOT NULL,
    repository_id BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    tag           TEXT NOT NULL,
    digest        TEXT NOT NULL,
    action        TEXT NOT NULL,
    country       TEXT NOT NULL,
    host          TEXT NOT NULL,
    tool          TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (repository_id, day, tag, digest, action, country, host, tool)
);

-- Narrow rollups the dashboard reads: the time series by tag and digest, and
-- one row per breakdown value (dimension is country, host or tool).
CREATE TABLE pull_daily (
    namespace_id  BIGINT NOT NULL,
    repository_id BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    tag           TEXT NOT NULL,
    digest        TEXT NOT NULL,
    action        TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (repository_id, day, tag, digest, action)
);

CREATE TABLE pull_breakdowns (
    namespace_id  BIGINT NOT NULL,
    repository_id BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    dimension     TEXT NOT NULL,
    value         TEXT NOT NULL,
    action        TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (repository_id, day, dimension, value, action)
);

-- Unique addresses: a keyed hash of the IP with a secret of that day (never
-- the address), at the summary's granularity (repository × day × tag × digest).
CREATE TABLE pull_uniques (
    namespace_id  BIGINT NOT NULL,
    repository_id BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    tag           TEXT NOT NULL,
    digest        TEXT NOT NULL,
    ip_hash       BIGINT NOT NULL,
    PRIMARY KEY (repository_id, day, tag, digest, ip_hash)
);

-- The per-day secrets of those hashes, deleted two days later.
CREATE TABLE pull_salts (
    day    BIGINT PRIMARY KEY,
    secret TEXT NOT NULL
);
