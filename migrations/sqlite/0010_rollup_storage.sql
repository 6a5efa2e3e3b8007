-- SQLite: the rollup tables become WITHOUT ROWID tables. Each has a
-- composite primary key, so a rowid table kept two B-trees per row (the rows
-- by rowid and the key's index) and every upsert of a batch wrote both; now
-- the rows live in the key's B-tree, which also serves the dashboard's range
-- reads directly. The same columns, keys and data.

CREATE TABLE pull_rollups_new (
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
) WITHOUT ROWID;
INSERT INTO pull_rollups_new SELECT * FROM pull_rollups;
DROP TABLE pull_rollups;
ALTER TABLE pull_rollups_new RENAME TO pull_rollups;

CREATE TABLE pull_daily_new (
    namespace_id  BIGINT NOT NULL,
    repository_id BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    tag           TEXT NOT NULL,
    digest        TEXT NOT NULL,
    action        TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (repository_id, day, tag, digest, action)
) WITHOUT ROWID;
INSERT INTO pull_daily_new SELECT * FROM pull_daily;
DROP TABLE pull_daily;
ALTER TABLE pull_daily_new RENAME TO pull_daily;

CREATE TABLE pull_breakdowns_new (
    namespace_id  BIGINT NOT NULL,
    repository_id BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    dimension     TEXT NOT NULL,
    value         TEXT NOT NULL,
    action        TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (repository_id, day, dimension, value, action)
) WITHOUT ROWID;
INSERT INTO pull_breakdowns_new SELECT * FROM pull_breakdowns;
DROP TABLE pull_breakdowns;
ALTER TABLE pull_breakdowns_new RENAME TO pull_breakdowns;

CREATE TABLE pull_uniques_new (
    namespace_id  BIGINT NOT NULL,
    repository_id BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    tag           TEXT NOT NULL,
    digest        TEXT NOT NULL,
    ip_hash       BIGINT NOT NULL,
    PRIMARY KEY (repository_id, day, tag, digest, ip_hash)
) WITHOUT ROWID;
INSERT INTO pull_uniques_new SELECT * FROM pull_uniques;
DROP TABLE pull_uniques;
ALTER TABLE pull_uniques_new RENAME TO pull_uniques;

CREATE TABLE pull_ns_keys_new (
    namespace_id  BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    repository_id BIGINT NOT NULL,
    key           TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, kind, day, repository_id, key)
) WITHOUT ROWID;
INSERT INTO pull_ns_keys_new SELECT * FROM pull_ns_keys;
DROP TABLE pull_ns_keys;
ALTER TABLE pull_ns_keys_new RENAME TO pull_ns_keys;

CREATE TABLE pull_ns_week_keys_new (
    namespace_id  BIGINT NOT NULL,
    week          BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    repository_id BIGINT NOT NULL,
    key           TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, kind, week, repository_id, key)
) WITHOUT ROWID;
INSERT INTO pull_ns_week_keys_new SELECT * FROM pull_ns_week_keys;
DROP TABLE pull_ns_week_keys;
ALTER TABLE pull_ns_week_keys_new RENAME TO pull_ns_week_keys;

CREATE TABLE pull_ns_days_new (
    namespace_id  BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    action        TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, day, action)
) WITHOUT ROWID;
INSERT INTO pull_ns_days_new SELECT * FROM pull_ns_days;
DROP TABLE pull_ns_days;
ALTER TABLE pull_ns_days_new RENAME TO pull_ns_days;

CREATE TABLE pull_ns_breakdowns_new (
    namespace_id  BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    dimension     TEXT NOT NULL,
    value         TEXT NOT NULL,
    action        TEXT NOT NULL,
    pulls         BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, day, dimension, value, action)
) WITHOUT ROWID;
INSERT INTO pull_ns_breakdowns_new SELECT * FROM pull_ns_breakdowns;
DROP TABLE pull_ns_breakdowns;
ALTER TABLE pull_ns_breakdowns_new RENAME TO pull_ns_breakdowns;

CREATE TABLE pull_day_ips_new (
    repository_id BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    ip_hash       BIGINT NOT NULL,
    PRIMARY KEY (repository_id, day, ip_hash)
) WITHOUT ROWID;
INSERT INTO pull_day_ips_new SELECT * FROM pull_day_ips;
DROP TABLE pull_day_ips;
ALTER TABLE pull_day_ips_new RENAME TO pull_day_ips;

CREATE TABLE pull_ns_addresses_new (
    namespace_id  BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    repository_id BIGINT NOT NULL,
    addresses     BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, day, repository_id)
) WITHOUT ROWID;
INSERT INTO pull_ns_addresses_new SELECT * FROM pull_ns_addresses;
DROP TABLE pull_ns_addresses;
ALTER TABLE pull_ns_addresses_new RENAME TO pull_ns_addresses;
