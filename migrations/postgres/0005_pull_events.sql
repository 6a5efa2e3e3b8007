-- One row per manifest GET or HEAD on the registry, written in batches off
-- the request path. No raw IP address is stored.
CREATE TABLE pull_events (
    id             BIGSERIAL PRIMARY KEY,
    at             BIGINT NOT NULL,
    namespace_id   BIGINT NOT NULL,
    repository_id  BIGINT NOT NULL,
    reference      TEXT NOT NULL,
    tag            TEXT,
    digest         TEXT NOT NULL,
    action         TEXT NOT NULL CHECK (action IN ('pull_by_tag', 'pull_by_digest', 'version_check')),
    http_method    TEXT NOT NULL,
    user_agent     TEXT NOT NULL,
    authenticated  BOOLEAN NOT NULL
);
CREATE INDEX pull_events_repo_at ON pull_events (repository_id, at);
