-- Sponsored Open Source program: applications, memberships, audit log,
-- notifications with an e-mail outbox, reminder stamps, Scout settings.

CREATE TABLE program_applications (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id         BIGINT NOT NULL REFERENCES namespaces(id),
    is_renewal           INTEGER NOT NULL DEFAULT 0,
    status               TEXT NOT NULL CHECK (status IN ('submitted', 'changes_requested', 'approved', 'rejected')),
    project_name         TEXT NOT NULL,
    website              TEXT NOT NULL,
    source_url           TEXT NOT NULL,
    license              TEXT NOT NULL,
    description          TEXT NOT NULL,
    attest_public        INTEGER NOT NULL,
    attest_osd           INTEGER NOT NULL,
    attest_noncommercial INTEGER NOT NULL,
    submitted_by         BIGINT NOT NULL REFERENCES users(id),
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    decided_by           BIGINT REFERENCES users(id),
    decided_at           BIGINT
);
-- One open application per namespace, enforced by the database.
CREATE UNIQUE INDEX program_one_open_application ON program_applications (namespace_id)
    WHERE status IN ('submitted', 'changes_requested');
CREATE INDEX program_applications_queue ON program_applications (status, created_at);

CREATE TABLE memberships (
    namespace_id BIGINT PRIMARY KEY REFERENCES namespaces(id),
    starts_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id   BIGINT NOT NULL REFERENCES namespaces(id),
    application_id BIGINT REFERENCES program_applications(id),
    actor_id       BIGINT REFERENCES users(id),
    action         TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX audit_log_namespace ON audit_log (namespace_id, created_at);

CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    namespace_id BIGINT REFERENCES namespaces(id),
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,
    link         TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    read_at      BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, read_at);

-- Every notification also lands here for delivery by e-mail (not sent yet):
-- a mailer only has to read undelivered rows and stamp delivered_at.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id BIGINT NOT NULL REFERENCES notifications(id),
    channel         TEXT NOT NULL DEFAULT 'email',
    user_id         BIGINT NOT NULL REFERENCES users(id),
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);

-- One row per reminder stage per membership term: the idempotency stamp.
CREATE TABLE reminder_sends (
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id),
    expires_at   BIGINT NOT NULL,
    stage        TEXT NOT NULL,
    sent_at      BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, expires_at, stage)
);

ALTER TABLE repositories ADD COLUMN scout_enabled INTEGER NOT NULL DEFAULT 0;
