-- Search: each repository's name and description and each namespace's name
-- kept lowercased (stored generated columns: LOWER() per row was most of a
-- search's time), with trigram indexes (pg_trgm, a trusted extension shipped
-- with PostgreSQL) so a "contains" search of 3 or more characters
-- (x_lc LIKE '%words%') reads an index instead of scanning every
-- repository. The search collects the matching ids from these indexes in a
-- materialized first step and ranks only those (see search::api::search).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE repositories
    ADD COLUMN name_lc TEXT GENERATED ALWAYS AS (LOWER(name)) STORED,
    ADD COLUMN description_lc TEXT GENERATED ALWAYS AS (LOWER(description)) STORED;
ALTER TABLE namespaces ADD COLUMN name_lc TEXT GENERATED ALWAYS AS (LOWER(name)) STORED;
CREATE INDEX repositories_name_trgm ON repositories USING gin (name_lc gin_trgm_ops);
CREATE INDEX repositories_description_trgm ON repositories USING gin (description_lc gin_trgm_ops);
CREATE INDEX namespaces_name_trgm ON namespaces USING gin (name_lc gin_trgm_ops);
