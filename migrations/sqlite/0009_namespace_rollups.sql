-- Namespace-level rollups: what the Insights tab of a whole namespace reads
-- when the caller may read every repository, so its queries touch a few
-- thousand rows whatever the number of repositories, tags and events.
-- Written in the same transaction as each batch (core::events::ingest).

-- Each tag and digest's pulls (every action) per day and per week (Monday):
-- the ranking of the busiest keys of a span reads whole weeks plus the days
-- at its edges.
CREATE TABLE pull_ns_keys (
    namespace_id  BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    repository_id BIGINT NOT NULL,
    key           TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, kind, day, repository_id, key)
);

CREATE TABLE pull_ns_week_keys (
    namespace_id  BIGINT NOT NULL,
    week          BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    repository_id BIGINT NOT NULL,
    key           TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, kind, week, repository_id, key)
);

-- The namespace's pulls per day and action, and unique addresses per day
-- (the sum over its repositories of each repository's distinct addresses).
CREATE TABLE pull_ns_days (
    namespace_id  BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    action        TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, day, action)
);

CREATE TABLE pull_ns_breakdowns (
    namespace_id  BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    dimension     TEXT NOT NULL,
    value         TEXT NOT NULL,
    action        TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, day, dimension, value, action)
);

-- Distinct addresses per repository and day (keyed hashes, as pull_uniques),
-- and their count per repository and day, kept as rows are first seen.
CREATE TABLE pull_day_ips (
    repository_id BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    ip_hash       BIGINT NOT NULL,
    PRIMARY KEY (repository_id, day, ip_hash)
);

CREATE TABLE pull_ns_addresses (
    namespace_id  BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    repository_id BIGINT NOT NULL,
    addresses     BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, day, repository_id)
);

INSERT INTO pull_ns_keys (namespace_id, day, kind, repository_id, key, pulls)
    SELECT namespace_id, day, 'tag', repository_id, tag, SUM(pulls) FROM pull_daily
    GROUP BY namespace_id, day, repository_id, tag;
INSERT INTO pull_ns_keys (namespace_id, day, kind, repository_id, key, pulls)
    SELECT namespace_id, day, 'digest', repository_id, digest, SUM(pulls) FROM pull_daily
    GROUP BY namespace_id, day, repository_id, digest;
INSERT INTO pull_ns_week_keys (namespace_id, week, kind, repository_id, key, pulls)
    SELECT namespace_id, day - ((day + 3) % 7), kind, repository_id, key, SUM(pulls) FROM pull_ns_keys
    GROUP BY namespace_id, day - ((day + 3) % 7), kind, repository_id, key;
INSERT INTO pull_ns_days (namespace_id, day, action, pulls)
    SELECT namespace_id, day, action, SUM(pulls) FROM pull_daily
    GROUP BY namespace_id, day, action;
INSERT INTO pull_ns_breakdowns (namespace_id, day, dimension, value, action, pulls)
    SELECT namespace_id, day, dimension, value, action, SUM(pulls) FROM pull_breakdowns
    GROUP BY namespace_id, day, dimension, value, action;
INSERT INTO pull_day_ips (repository_id, day, ip_hash)
    SELECT DISTINCT repository_id, day, ip_hash FROM pull_uniques;
INSERT INTO pull_ns_addresses (namespace_id, day, repository_id, addresses)
    SELECT namespace_id, day, repository_id, COUNT(DISTINCT ip_hash) FROM pull_uniques
    GROUP BY namespace_id, day, repository_id;
