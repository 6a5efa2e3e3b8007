-- The OCI registry: content-addressed blobs (bytes in object storage), which
-- repositories hold them, manifests and what they reference, upload sessions.
CREATE TABLE registry_blobs (
    digest      TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE registry_repo_blobs (
    repository_id BIGINT NOT NULL REFERENCES repositories(id),
    digest        TEXT NOT NULL REFERENCES registry_blobs(digest),
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (repository_id, digest)
);

CREATE TABLE registry_manifests (
    repository_id BIGINT NOT NULL REFERENCES repositories(id),
    digest        TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    size          BIGINT NOT NULL,
    artifact_type TEXT,
    subject       TEXT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (repository_id, digest)
);
CREATE INDEX registry_manifests_subject ON registry_manifests (repository_id, subject);

CREATE TABLE registry_manifest_refs (
    repository_id BIGINT NOT NULL,
    manifest      TEXT NOT NULL,
    digest        TEXT NOT NULL,
    PRIMARY KEY (repository_id, manifest, digest)
);

CREATE TABLE registry_uploads (
    id            TEXT PRIMARY KEY,
    repository_id BIGINT NOT NULL REFERENCES repositories(id),
    size          BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
