-- PostgreSQL: the series of a namespace's busiest tags and digests read
-- pull_daily by (repository, key, day) for a handful of keys; these covering
-- indexes let that be an index-only range per key instead of every row of
-- the busiest repositories over the span. (SQLite's 0010 changes the rollup
-- tables' storage instead; its series query was already within its goal.)
CREATE INDEX pull_daily_by_tag ON pull_daily (repository_id, tag, day) INCLUDE (action, pulls);
CREATE INDEX pull_daily_by_digest ON pull_daily (repository_id, digest, day) INCLUDE (action, pulls);
