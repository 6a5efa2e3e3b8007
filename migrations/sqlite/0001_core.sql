-- Hub core: accounts, sessions, tokens, namespaces, teams, repositories, tags.
-- Booleans are INTEGER 0/1 here: sqlx's Any driver cannot map SQLite's BOOLEAN type.
-- Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_staff      INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE namespaces (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('user', 'org')),
    user_id    BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE org_owners (
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id),
    user_id      BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (namespace_id, user_id)
);

CREATE TABLE teams (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id),
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (namespace_id, name)
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE repositories (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    is_private   INTEGER NOT NULL DEFAULT 0,
    pull_count   BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    UNIQUE (namespace_id, name)
);

CREATE TABLE team_grants (
    team_id       BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    repository_id BIGINT NOT NULL REFERENCES repositories(id),
    rights        TEXT NOT NULL CHECK (rights IN ('read', 'write', 'admin')),
    PRIMARY KEY (team_id, repository_id)
);

CREATE TABLE tags (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id BIGINT NOT NULL REFERENCES repositories(id),
    name          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    pushed_at     BIGINT NOT NULL,
    UNIQUE (repository_id, name)
);
CREATE INDEX tags_pushed ON tags (repository_id, pushed_at);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE access_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
