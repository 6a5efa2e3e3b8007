-- Insights and analytics. Raw pull events gain the fields of Docker Hub's raw
-- export (country, cloud host, client tool and version, the sender's event
-- id); the full user agent is no longer kept. Rollups are written in the same
-- transaction as the raw rows, so a chart is never behind the raw data.
-- Tokens gain the `ingest` scope (sending pull events, nothing else).

CREATE TABLE access_tokens_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin', 'ingest')),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
INSERT INTO access_tokens_new SELECT id, user_id, name, scope, token_hash, created_at, expires_at, last_used_at, revoked_at FROM access_tokens;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_new RENAME TO access_tokens;

CREATE TABLE pull_events_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             BIGINT NOT NULL,
    namespace_id   BIGINT NOT NULL,
    repository_id  BIGINT NOT NULL,
    -- The sender's id (POST /api/v1/events), so a retried batch counts once;
    -- NULL for the hub's own registry.
    source_id      TEXT,
    reference      TEXT NOT NULL,
    tag            TEXT,
    digest         TEXT NOT NULL,
    action         TEXT NOT NULL CHECK (action IN ('pull_by_tag', 'pull_by_digest', 'version_check')),
    http_method    TEXT NOT NULL,
    country        TEXT NOT NULL DEFAULT '',
    host           TEXT NOT NULL DEFAULT '',
    tool           TEXT NOT NULL DEFAULT '',
    tool_version   TEXT NOT NULL DEFAULT '',
    authenticated  INTEGER NOT NULL
);
INSERT INTO pull_events_new (id, at, namespace_id, repository_id, reference, tag, digest, action, http_method, authenticated)
    SELECT id, at, namespace_id, repository_id, reference, tag, digest, action, http_method, authenticated FROM pull_events;
DROP TABLE pull_events;
ALTER TABLE pull_events_new RENAME TO pull_events;
-- Retention deletes by time; exports read a namespace by time.
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
