use super::HubStats;
use crate::db::Tx;

pub async fn stats(tx: &mut Tx<'_>) -> Result<HubStats, sqlx::Error> {
    let (namespaces, public_repositories, tags): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM namespaces),
                (SELECT COUNT(*) FROM repositories WHERE is_private = FALSE),
                (SELECT COUNT(*) FROM tags t JOIN repositories r ON r.id = t.repository_id
                  WHERE r.is_private = FALSE)",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(HubStats {
        namespaces,
        public_repositories,
        tags,
    })
}

/// A user's namespaces (personal first) with repository counts and any open
/// application.
#[derive(Debug, sqlx::FromRow)]
pub struct NsRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub repositories: i64,
    pub open_status: Option<String>,
    pub open_renewal: Option<i64>,
}

pub async fn my_namespaces(tx: &mut Tx<'_>, user: i64) -> Result<Vec<NsRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT n.id, n.name, n.kind,
                (SELECT COUNT(*) FROM repositories r WHERE r.namespace_id = n.id) AS repositories,
                a.status AS open_status, CAST(a.is_renewal AS INTEGER) AS open_renewal
           FROM namespaces n
           LEFT JOIN program_applications a
             ON a.namespace_id = n.id AND a.status IN ('submitted', 'changes_requested')
          WHERE n.user_id = $1
             OR n.id IN (SELECT namespace_id FROM org_owners WHERE user_id = $1)
          ORDER BY CASE WHEN n.kind = 'user' THEN 0 ELSE 1 END, n.name",
    )
    .bind(user)
    .fetch_all(&mut **tx)
    .await
}

/// Applications waiting in the review queue.
pub async fn review_waiting(tx: &mut Tx<'_>) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM program_applications WHERE status = 'submitted'")
            .fetch_one(&mut **tx)
            .await?;
    Ok(n)
}

/// Needs the `testing` feature (fresh databases); `scripts/test.sh` builds
/// the app's tests with it.
#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;

    crate::both_backends! {
        async fn stats_count_only_public(db: Db) {
            let mut tx = db.begin().await.expect("begin");
            sqlx::query("INSERT INTO namespaces (name, kind, created_at) VALUES ($1, 'org', $2)")
                .bind("acme").bind(1_i64).execute(&mut *tx).await.expect("ns");
            for (name, private) in [("web", false), ("secret", true)] {
                sqlx::query(
                    "INSERT INTO repositories (namespace_id, name, is_private, created_at)
                     SELECT id, $1, $2, 1 FROM namespaces WHERE name = 'acme'",
                )
                .bind(name).bind(private).execute(&mut *tx).await.expect("repo");
            }
            let s = stats(&mut tx).await.expect("stats");
            assert_eq!(s, HubStats { namespaces: 1, public_repositories: 1, tags: 0 });
            tx.rollback().await.expect("rollback");
            let mut tx = db.begin().await.expect("begin");
            assert_eq!(stats(&mut tx).await.expect("stats").namespaces, 0);
        }
    }
}
