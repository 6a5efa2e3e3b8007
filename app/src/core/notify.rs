//! Notifications: an in-app message per user, and in the same transaction an
//! outbox row for its e-mail, so nothing is told twice or lost on a crash.

use crate::domain::Timestamp;
use crate::domain::ids::NotificationId;
use serde::{Deserialize, Serialize};

/// An in-app notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub body: String,
    pub link: String,
    pub created_at: Timestamp,
    pub read: bool,
}

/// The caller's unread count and latest notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    pub unread: i64,
    pub latest: Vec<Notification>,
}

#[cfg(feature = "ssr")]
pub use store::*;

#[cfg(feature = "ssr")]
mod store {
    use super::{Inbox, Notification};
    use crate::db::Tx;
    use crate::domain::Timestamp;
    use crate::domain::ids::{NamespaceId, NotificationId, UserId};

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
    ) -> Result<NotificationId, sqlx::Error> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO notifications (user_id, namespace_id, kind, body, link, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(n.user.0)
        .bind(n.namespace.map(|n| n.0))
        .bind(n.kind)
        .bind(n.body)
        .bind(n.link)
        .bind(now.0)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO outbox (notification_id, channel, user_id, subject, body, created_at)
             VALUES ($1, 'email', $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(n.user.0)
        .bind(n.subject)
        .bind(n.body)
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        Ok(NotificationId(id))
    }

    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        body: String,
        link: String,
        created_at: i64,
        read_at: Option<i64>,
    }

    /// The user's unread count and `limit` latest notifications.
    pub async fn inbox(tx: &mut Tx<'_>, user: UserId, limit: i64) -> Result<Inbox, sqlx::Error> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, body, link, created_at, read_at FROM notifications WHERE user_id = $1
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user.0)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?;
        let (unread,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user.0)
        .fetch_one(&mut **tx)
        .await?;
        Ok(Inbox {
            unread,
            latest: rows
                .into_iter()
                .map(|r| Notification {
                    id: NotificationId(r.id),
                    body: r.body,
                    link: r.link,
                    created_at: Timestamp(r.created_at),
                    read: r.read_at.is_some(),
                })
                .collect(),
        })
    }

    /// Marks every notification of the user read.
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
}
