//! Demo data for a first start: enough to click through every page.

use crate::db::Db;
use crate::domain::Timestamp;

/// Seeds the demo into an empty database. Returns false (and writes nothing)
/// when the database already holds namespaces.
pub async fn seed(db: &Db, now: Timestamp) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM namespaces")
        .fetch_one(&mut *tx)
        .await?;
    if n > 0 {
        return Ok(false);
    }
    for org in ["fluentorg", "acmecorp"] {
        sqlx::query("INSERT INTO namespaces (name, kind, created_at) VALUES ($1, 'org', $2)")
            .bind(org)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}
