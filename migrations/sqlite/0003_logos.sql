-- Logos: the stored file name (content hash + extension) of the re-encoded image.
ALTER TABLE repositories ADD COLUMN logo TEXT;
ALTER TABLE namespaces ADD COLUMN logo TEXT;
