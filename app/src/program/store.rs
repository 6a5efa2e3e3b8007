//! SQL for the program: applications, memberships, audit log, notifications,
//! reminder stamps and Scout settings.

use super::{
    Application, ApplicationForm, ApplicationStatus, AuditEntry, NamespaceFacts, Notification,
};
use crate::db::{Backend, Tx};
use crate::domain::Timestamp;
use crate::domain::ids::{NamespaceId, RepoId, UserId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppRow {
    pub id: i64,
    pub namespace_id: i64,
    pub namespace: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_renewal: bool,
    pub status: String,
    pub project_name: String,
    pub website: String,
    pub source_url: String,
    pub license: String,
    pub description: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub attest_public: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    pub attest_osd: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    pub attest_noncommercial: bool,
    pub submitted_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl AppRow {
    pub fn status(&self) -> ApplicationStatus {
        ApplicationStatus::parse(&self.status)
    }
    pub fn form(&self) -> ApplicationForm {
        ApplicationForm {
            project_name: self.project_name.clone(),
            website: self.website.clone(),
            source_url: self.source_url.clone(),
            license: self.license.clone(),
            description: self.description.clone(),
            attest_public: self.attest_public,
            attest_osd: self.attest_osd,
            attest_noncommercial: self.attest_noncommercial,
        }
    }
    pub fn application(&self, messages: Vec<AuditEntry>) -> Application {
        Application {
            id: self.id,
            namespace: self.namespace.clone(),
            is_renewal: self.is_renewal,
            status: self.status(),
            form: self.form(),
            submitted_by: self.submitted_by.clone(),
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            messages,
        }
    }
}

const APP_SELECT: &str = "SELECT a.id, a.namespace_id, n.name AS namespace, a.is_renewal, a.status,
        a.project_name, a.website, a.source_url, a.license, a.description,
        a.attest_public, a.attest_osd, a.attest_noncommercial,
        u.name AS submitted_by, a.created_at, a.updated_at
    FROM program_applications a
    JOIN namespaces n ON n.id = a.namespace_id
    JOIN users u ON u.id = a.submitted_by";

pub async fn namespace_facts(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
) -> Result<NamespaceFacts, sqlx::Error> {
    let (public, last): (i64, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM repositories WHERE namespace_id = $1 AND is_private = FALSE),
                (SELECT MAX(t.pushed_at) FROM tags t JOIN repositories r ON r.id = t.repository_id
                  WHERE r.namespace_id = $1 AND r.is_private = FALSE)",
    )
    .bind(ns.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(NamespaceFacts {
        public_repositories: public,
        last_public_push: last.map(Timestamp),
    })
}

pub async fn membership(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
) -> Result<Option<(Timestamp, Timestamp)>, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT starts_at, expires_at FROM memberships WHERE namespace_id = $1")
            .bind(ns.0)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|(s, e)| (Timestamp(s), Timestamp(e))))
}

pub async fn upsert_membership(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    starts: Timestamp,
    expires: Timestamp,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO memberships (namespace_id, starts_at, expires_at, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (namespace_id) DO UPDATE
         SET starts_at = excluded.starts_at, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
    )
    .bind(ns.0)
    .bind(starts.0)
    .bind(expires.0)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every membership with its namespace name.
pub async fn all_memberships(tx: &mut Tx<'_>) -> Result<Vec<(i64, String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.namespace_id, n.name, m.starts_at, m.expires_at FROM memberships m
         JOIN namespaces n ON n.id = m.namespace_id ORDER BY m.namespace_id",
    )
    .fetch_all(&mut **tx)
    .await
}

/// Namespaces whose perks are on at `now` (expiry + grace still ahead), with their expiry.
pub async fn sponsored_namespaces(
    tx: &mut Tx<'_>,
    now: Timestamp,
    grace_days: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT namespace_id, expires_at FROM memberships WHERE expires_at + $1 > $2")
        .bind(grace_days * crate::domain::clock::DAY_MS)
        .bind(now.0)
        .fetch_all(&mut **tx)
        .await
}

pub async fn open_application(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
) -> Result<Option<AppRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{APP_SELECT} WHERE a.namespace_id = $1 AND a.status IN ('submitted', 'changes_requested')"
    )))
    .bind(ns.0)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn last_application(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
) -> Result<Option<AppRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{APP_SELECT} WHERE a.namespace_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT 1"
    )))
    .bind(ns.0)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn application_by_id(tx: &mut Tx<'_>, id: i64) -> Result<Option<AppRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{APP_SELECT} WHERE a.id = $1")))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// Applications with the given status, oldest first.
pub async fn applications_with_status(
    tx: &mut Tx<'_>,
    status: ApplicationStatus,
) -> Result<Vec<AppRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{APP_SELECT} WHERE a.status = $1 ORDER BY a.created_at, a.id"
    )))
    .bind(status.as_str())
    .fetch_all(&mut **tx)
    .await
}

pub async fn insert_application(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    is_renewal: bool,
    f: &ApplicationForm,
    by: UserId,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO program_applications (namespace_id, is_renewal, status, project_name, website,
            source_url, license, description, attest_public, attest_osd, attest_noncommercial,
            submitted_by, created_at, updated_at)
         VALUES ($1, $2, 'submitted', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(ns.0)
    .bind(is_renewal)
    .bind(f.project_name.trim())
    .bind(f.website.trim())
    .bind(f.source_url.trim())
    .bind(f.license.trim())
    .bind(f.description.trim())
    .bind(f.attest_public)
    .bind(f.attest_osd)
    .bind(f.attest_noncommercial)
    .bind(by.0)
    .bind(now.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// The applicant's edit after "changes requested": new fields, back to submitted.
pub async fn resubmit_application(
    tx: &mut Tx<'_>,
    id: i64,
    f: &ApplicationForm,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE program_applications SET project_name = $1, website = $2, source_url = $3, license = $4,
            description = $5, attest_public = $6, attest_osd = $7, attest_noncommercial = $8,
            status = 'submitted', updated_at = $9
         WHERE id = $10",
    )
    .bind(f.project_name.trim())
    .bind(f.website.trim())
    .bind(f.source_url.trim())
    .bind(f.license.trim())
    .bind(f.description.trim())
    .bind(f.attest_public)
    .bind(f.attest_osd)
    .bind(f.attest_noncommercial)
    .bind(now.0)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves an application from `from` to `to`; false if it was no longer in `from`
/// (a concurrent decision won).
pub async fn decide(
    tx: &mut Tx<'_>,
    id: i64,
    from: ApplicationStatus,
    to: ApplicationStatus,
    by: UserId,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE program_applications SET status = $1, decided_by = $2, decided_at = $3, updated_at = $3
         WHERE id = $4 AND status = $5",
    )
    .bind(to.as_str())
    .bind(by.0)
    .bind(now.0)
    .bind(id)
    .bind(from.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn audit(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    application: Option<i64>,
    actor: Option<UserId>,
    action: &str,
    detail: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (namespace_id, application_id, actor_id, action, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ns.0)
    .bind(application)
    .bind(actor.map(|a| a.0))
    .bind(action)
    .bind(detail)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn entries(rows: Vec<(i64, Option<String>, String, String)>) -> Vec<AuditEntry> {
    rows.into_iter()
        .map(|(at, actor, action, detail)| AuditEntry {
            at: Timestamp(at),
            actor: actor.unwrap_or_else(|| "system".into()),
            action,
            detail,
        })
        .collect()
}

pub async fn audit_for_namespace(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT l.created_at, u.name, l.action, l.detail FROM audit_log l
         LEFT JOIN users u ON u.id = l.actor_id WHERE l.namespace_id = $1
         ORDER BY l.created_at DESC, l.id DESC",
    )
    .bind(ns.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(entries(rows))
}

pub async fn audit_for_application(
    tx: &mut Tx<'_>,
    id: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT l.created_at, u.name, l.action, l.detail FROM audit_log l
         LEFT JOIN users u ON u.id = l.actor_id WHERE l.application_id = $1
         ORDER BY l.created_at, l.id",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(entries(rows))
}

/// A notification to store.
pub struct NewNotification<'a> {
    pub user: UserId,
    pub namespace: Option<NamespaceId>,
    pub kind: &'a str,
    /// The e-mail subject.
    pub subject: &'a str,
    pub body: &'a str,
    pub link: &'a str,
}

/// Stores an in-app notification and queues its e-mail in the outbox.
pub async fn notify(
    tx: &mut Tx<'_>,
    n: NewNotification<'_>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let NewNotification {
        user,
        namespace: ns,
        kind,
        subject,
        body,
        link,
    } = n;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO notifications (user_id, namespace_id, kind, body, link, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user.0)
    .bind(ns.map(|n| n.0))
    .bind(kind)
    .bind(body)
    .bind(link)
    .bind(now.0)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO outbox (notification_id, channel, user_id, subject, body, created_at)
         VALUES ($1, 'email', $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(user.0)
    .bind(subject)
    .bind(body)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn notifications(
    tx: &mut Tx<'_>,
    user: UserId,
    limit: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    let rows: Vec<(i64, String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, body, link, created_at, read_at FROM notifications WHERE user_id = $1
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(user.0)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, body, link, at, read)| Notification {
            id,
            body,
            link,
            created_at: Timestamp(at),
            read: read.is_some(),
        })
        .collect())
}

pub async fn unread_count(tx: &mut Tx<'_>, user: UserId) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
            .bind(user.0)
            .fetch_one(&mut **tx)
            .await?;
    Ok(n)
}

pub async fn mark_all_read(
    tx: &mut Tx<'_>,
    user: UserId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
        .bind(now.0)
        .bind(user.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stamps a reminder stage for one membership term; true if this call stamped
/// it (so the caller sends), false if it was already stamped.
pub async fn stamp_reminder(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    expires: Timestamp,
    stage: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO reminder_sends (namespace_id, expires_at, stage, sent_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (namespace_id, expires_at, stage) DO NOTHING",
    )
    .bind(ns.0)
    .bind(expires.0)
    .bind(stage)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Org owners' ids (the user for a personal namespace).
pub async fn owner_ids(tx: &mut Tx<'_>, ns: NamespaceId) -> Result<Vec<UserId>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT user_id FROM org_owners WHERE namespace_id = $1
         UNION SELECT user_id FROM namespaces WHERE id = $1 AND user_id IS NOT NULL",
    )
    .bind(ns.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(id,)| UserId(id)).collect())
}

/// Serializes writers on one namespace: a row lock on PostgreSQL; on SQLite
/// the write transaction (BEGIN IMMEDIATE) already holds the database lock.
pub async fn lock_namespace(
    tx: &mut Tx<'_>,
    backend: Backend,
    ns: NamespaceId,
) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM namespaces WHERE id = $1 FOR UPDATE")
            .bind(ns.0)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn scout_count(tx: &mut Tx<'_>, ns: NamespaceId) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM repositories WHERE namespace_id = $1 AND scout_enabled = TRUE",
    )
    .bind(ns.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}

pub async fn scout_enabled(tx: &mut Tx<'_>, repo: RepoId) -> Result<bool, sqlx::Error> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM repositories WHERE id = $1 AND scout_enabled = TRUE")
            .bind(repo.0)
            .fetch_one(&mut **tx)
            .await?;
    Ok(n > 0)
}

pub async fn set_scout(tx: &mut Tx<'_>, repo: RepoId, enabled: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE repositories SET scout_enabled = $1 WHERE id = $2")
        .bind(enabled)
        .bind(repo.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn scout_enabled_names(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM repositories WHERE namespace_id = $1 AND scout_enabled = TRUE ORDER BY name",
    )
    .bind(ns.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}
