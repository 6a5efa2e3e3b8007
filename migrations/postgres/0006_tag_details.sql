-- What a repository page shows per tag: compressed size, platforms (from an
-- image index) and when it was last pulled.
ALTER TABLE tags ADD COLUMN last_pulled_at BIGINT;
ALTER TABLE registry_manifests ADD COLUMN total_size BIGINT;
ALTER TABLE registry_manifests ADD COLUMN platforms TEXT;
