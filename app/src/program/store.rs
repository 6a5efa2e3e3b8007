//! SQL for the program: applications, memberships and reminder stamps.

use super::{Application, ApplicationForm, ApplicationStatus, NamespaceFacts, ReminderStage};
use crate::core::audit::AuditEntry;
use crate::db::Tx;
use crate::domain::Timestamp;
use crate::domain::ids::{ApplicationId, NamespaceId, UserId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppRow {
    pub id: i64,
    pub namespace_id: i64,
    pub namespace: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_renewal: bool,
    #[sqlx(try_from = "String")]
    pub status: ApplicationStatus,
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
    pub fn id(&self) -> ApplicationId {
        ApplicationId(self.id)
    }
    pub fn namespace_id(&self) -> NamespaceId {
        NamespaceId(self.namespace_id)
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
            id: self.id(),
            namespace: self.namespace.clone(),
            is_renewal: self.is_renewal,
            status: self.status,
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

/// A membership with its namespace's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MembershipRow {
    pub namespace_id: i64,
    pub namespace: String,
    pub starts_at: i64,
    pub expires_at: i64,
}

/// Every membership.
pub async fn all_memberships(tx: &mut Tx<'_>) -> Result<Vec<MembershipRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.namespace_id, n.name AS namespace, m.starts_at, m.expires_at FROM memberships m
         JOIN namespaces n ON n.id = m.namespace_id ORDER BY m.namespace_id",
    )
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

pub async fn application_by_id(
    tx: &mut Tx<'_>,
    id: ApplicationId,
) -> Result<Option<AppRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{APP_SELECT} WHERE a.id = $1")))
        .bind(id.0)
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
) -> Result<ApplicationId, sqlx::Error> {
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
    Ok(ApplicationId(id))
}

/// The applicant's edit after "changes requested": new fields, back to submitted.
pub async fn resubmit_application(
    tx: &mut Tx<'_>,
    id: ApplicationId,
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
    .bind(id.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves an application from `from` to `to`; false if it was no longer in `from`
/// (a concurrent decision won).
pub async fn decide(
    tx: &mut Tx<'_>,
    id: ApplicationId,
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
    .bind(id.0)
    .bind(from.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// An application's history, for its messages.
pub async fn with_messages(tx: &mut Tx<'_>, row: &AppRow) -> Result<Application, sqlx::Error> {
    let messages: Vec<AuditEntry> = crate::core::audit::for_application(tx, row.id()).await?;
    Ok(row.application(messages))
}

/// Stamps a reminder stage for one membership term; true if this call stamped
/// it (so the caller sends), false if it was already stamped.
pub async fn stamp_reminder(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    expires: Timestamp,
    stage: ReminderStage,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO reminder_sends (namespace_id, expires_at, stage, sent_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (namespace_id, expires_at, stage) DO NOTHING",
    )
    .bind(ns.0)
    .bind(expires.0)
    .bind(stage.as_str())
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}
