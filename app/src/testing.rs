//! Test helpers: a fresh database per test, on SQLite and on PostgreSQL.
//!
//! ```text
//! app::both_backends! {
//!     async fn creates_things(db: Db) { ... }
//! }
//! ```
//! expands to `creates_things::sqlite` and `creates_things::postgres`.

use crate::db::{Backend, Db};

/// A database that lives as long as the test (temp file or throw-away PG database).
pub struct TestDb {
    pub db: Db,
    /// The database's URL, for a server process started by a test.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

/// The server holding throw-away PostgreSQL databases.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

impl TestDb {
    /// A fresh, migrated database on `backend`.
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = crate::db::sqlite_url(&dir.path().join("test.db"));
                let db = Db::connect(&url).await.expect("open sqlite");
                db.migrate().await.expect("migrate sqlite");
                TestDb {
                    db,
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let name = format!(
                    "hubtest_{}_{}_{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.subsec_nanos())
                        .unwrap_or(0)
                );
                let admin = postgres_admin_url();
                let admin_db = Db::connect(&admin)
                    .await
                    .expect("PostgreSQL must run (TEST_POSTGRES_URL)");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin_db.pool)
                    .await
                    .expect("create test database");
                admin_db.pool.close().await;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                let url = format!("{base}/{name}");
                let db = Db::connect(&url).await.expect("connect test database");
                db.migrate().await.expect("migrate postgres");
                TestDb {
                    db,
                    url,
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// Closes the pool and drops a PostgreSQL test database.
    pub async fn cleanup(self) {
        self.db.close().await;
        if let Some(name) = self.pg_name
            && let Ok(admin) = Db::connect(&postgres_admin_url()).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin.pool)
            .await;
            admin.pool.close().await;
        }
    }
}

/// Runs the same async test body once on SQLite and once on PostgreSQL,
/// each on a fresh database.
#[macro_export]
macro_rules! both_backends {
    ($(
        $(#[$m:meta])*
        async fn $name:ident($db:ident : Db) $body:block
    )*) => {$(
        $(#[$m])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn body($db: $crate::db::Db) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::testing::TestDb::new($crate::db::Backend::Sqlite).await;
                body(t.db.clone()).await;
                t.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let t = $crate::testing::TestDb::new($crate::db::Backend::Postgres).await;
                body(t.db.clone()).await;
                t.cleanup().await;
            }
        }
    )*};
}
