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
