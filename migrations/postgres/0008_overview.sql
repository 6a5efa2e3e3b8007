-- A repository's overview: Markdown written by its publishers, rendered and
-- sanitized on the server.
ALTER TABLE repositories ADD COLUMN overview TEXT NOT NULL DEFAULT '';
