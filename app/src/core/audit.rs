//! The audit log: who did what to a namespace, when and why. Every decision,
//! logo change, Scout change and reminder writes one entry in the same
//! transaction as the change it records.

use crate::domain::Timestamp;
use serde::{Deserialize, Serialize};

/// One line of the log (also the messages on an application).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// The user's name, or `system` for jobs.
    pub actor: String,
    pub action: String,
    pub detail: String,
}

#[cfg(feature = "ssr")]
pub use store::*;

#[cfg(feature = "ssr")]
mod store {
    use super::AuditEntry;
    use crate::db::Tx;
    use crate::domain::Timestamp;
    use crate::domain::ids::{ApplicationId, NamespaceId, UserId};

    /// An entry to write.
    #[derive(Debug, Clone, Copy)]
    pub struct Record<'a> {
        pub namespace: NamespaceId,
        pub application: Option<ApplicationId>,
        /// `None` for the system (jobs).
        pub actor: Option<UserId>,
        pub action: &'a str,
        pub detail: &'a str,
    }

    /// Writes one entry.
    pub async fn record(tx: &mut Tx<'_>, r: Record<'_>, now: Timestamp) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO audit_log (namespace_id, application_id, actor_id, action, detail, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.namespace.0)
        .bind(r.application.map(|a| a.0))
        .bind(r.actor.map(|a| a.0))
        .bind(r.action)
        .bind(r.detail)
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    #[derive(sqlx::FromRow)]
    struct Row {
        created_at: i64,
        actor: Option<String>,
        action: String,
        detail: String,
    }

    fn entries(rows: Vec<Row>) -> Vec<AuditEntry> {
        rows.into_iter()
            .map(|r| AuditEntry {
                at: Timestamp(r.created_at),
                actor: r.actor.unwrap_or_else(|| "system".into()),
                action: r.action,
                detail: r.detail,
            })
            .collect()
    }

    /// A namespace's log, newest first.
    pub async fn for_namespace(
        tx: &mut Tx<'_>,
        ns: NamespaceId,
    ) -> Result<Vec<AuditEntry>, sqlx::Error> {
        let rows = sqlx::query_as(
            "SELECT l.created_at, u.name AS actor, l.action, l.detail FROM audit_log l
             LEFT JOIN users u ON u.id = l.actor_id WHERE l.namespace_id = $1
             ORDER BY l.created_at DESC, l.id DESC",
        )
        .bind(ns.0)
        .fetch_all(&mut **tx)
        .await?;
        Ok(entries(rows))
    }

    /// An application's history, oldest first.
    pub async fn for_application(
        tx: &mut Tx<'_>,
        id: ApplicationId,
    ) -> Result<Vec<AuditEntry>, sqlx::Error> {
        let rows = sqlx::query_as(
            "SELECT l.created_at, u.name AS actor, l.action, l.detail FROM audit_log l
             LEFT JOIN users u ON u.id = l.actor_id WHERE l.application_id = $1
             ORDER BY l.created_at, l.id",
        )
        .bind(id.0)
        .fetch_all(&mut **tx)
        .await?;
        Ok(entries(rows))
    }
}
