//! One data layer for SQLite and PostgreSQL: a sqlx `Any` pool chosen by URL.
//! SQL is written so both accept it (`$1` parameters, `RETURNING`,
//! `ON CONFLICT`, integer-millisecond times).

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool};

/// A transaction on either backend; every `store.rs` function takes one.
pub type Tx<'a> = sqlx::Transaction<'a, Any>;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The shared connection pool.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// PostgreSQL only: a native pool, opened lazily, for what the `Any`
    /// driver cannot do — bulk writes that bind typed arrays (`UNNEST`).
    pub pg: Option<sqlx::PgPool>,
    /// SQLite only: while a clone of the pool lives, a background task
    /// checkpoints the WAL (see [`checkpointer`]).
    _checkpoints: Option<std::sync::Arc<()>>,
}

/// A write transaction for bulk statements: the `Any` driver's on SQLite,
/// a native one on PostgreSQL (see [`Db::begin_bulk`]).
pub enum WriteTx {
    Any(Tx<'static>),
    Pg(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            WriteTx::Any(t) => t.commit().await,
            WriteTx::Pg(t) => t.commit().await,
        }
    }
}

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Holds only the URL's scheme: a URL may carry a password.
    #[error("unsupported database URL scheme “{0}”: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("could not connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl Db {
    /// Opens a pool for `url` (`sqlite://…` or `postgres://…`).
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            let scheme = url.split_once(':').map_or("(none)", |(s, _)| s);
            return Err(DbError::UnsupportedUrl(scheme.chars().take(20).collect()));
        };
        let max = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    match backend {
                        // WAL with synchronous = FULL: a commit is on disk
                        // (the WAL fsynced) before it is acknowledged, so an
                        // answered write survives a crash or a power cut.
                        // Checkpoints are [`checkpointer`]'s, off the
                        // writers' path; a commit checkpoints only if the WAL
                        // passes 50,000 pages (200 MB) all the same.
                        Backend::Sqlite => {
                            conn.execute(
                                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 50000;",
                            )
                            .await?;
                        }
                        // Whatever the server's default: a commit returns only
                        // once its WAL record is flushed.
                        Backend::Postgres => {
                            conn.execute("SET synchronous_commit = on").await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(DbError::Connect)?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(DbError::Connect)?;
        }
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            use sqlx::Executor;
                            conn.execute("SET synchronous_commit = on").await?;
                            Ok(())
                        })
                    })
                    .connect_lazy(url)
                    .map_err(DbError::Connect)?,
            ),
        };
        let checkpoints = (backend == Backend::Sqlite).then(|| {
            let alive = std::sync::Arc::new(());
            tokio::spawn(checkpointer(
                url.to_string(),
                std::sync::Arc::downgrade(&alive),
            ));
            alive
        });
        Ok(Db {
            pool,
            backend,
            pg,
            _checkpoints: checkpoints,
        })
    }

    /// Closes the pools.
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(pg) = &self.pg {
            pg.close().await;
        }
    }

    /// Applies pending migrations for this backend.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let m = match self.backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        };
        m.run(&self.pool).await.map_err(DbError::Migrate)
    }

    /// The versions of this build's migrations that the database has not
    /// applied successfully (empty: the schema is current). An error means
    /// the database did not answer, or has no migration table at all.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, sqlx::Error> {
        use sqlx::Row;
        let m = match self.backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        };
        let applied: std::collections::HashSet<i64> =
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>(0))
                .collect::<Result<_, _>>()?;
        Ok(m.iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .map(|m| m.version)
            .collect())
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx<'static>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Starts a transaction that will write after reading. On SQLite it takes
    /// the write lock up front (`BEGIN IMMEDIATE`), so concurrent writers queue
    /// instead of failing on a stale snapshot.
    pub async fn begin_write(&self) -> Result<Tx<'static>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// [`Db::begin_write`] for bulk writes: on PostgreSQL a transaction on
    /// the native pool, whose statements can bind arrays.
    pub async fn begin_bulk(&self) -> Result<WriteTx, sqlx::Error> {
        match &self.pg {
            Some(pg) => Ok(WriteTx::Pg(pg.begin().await?)),
            None => Ok(WriteTx::Any(self.begin_write().await?)),
        }
    }
}

/// SQLite: copies committed WAL pages into the database file from a
/// connection of its own (so on another thread), every 100 ms while the
/// pool lives. A checkpoint run by the committing writer (SQLite's default,
/// `wal_autocheckpoint`) makes that commit wait for the copy and the
/// database file's fsync; a passive one here runs beside the writers and
/// never blocks them. When it has copied the whole WAL and no reader still
/// needs it, the next writer starts the WAL over, so it stays small.
async fn checkpointer(url: String, alive: std::sync::Weak<()>) {
    use sqlx::Connection;
    let Ok(mut conn) = sqlx::SqliteConnection::connect(&url).await else {
        return;
    };
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if alive.strong_count() == 0 {
            break;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
    let _ = conn.close().await;
}

/// The SQLite URL for a file, created if missing.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// True when `e` is a unique-constraint violation on either backend, so the
/// caller can answer 409 with the field that clashed.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                || d.code()
                    .is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}

/// A boolean column: `BOOLEAN` on PostgreSQL, `INTEGER` 0/1 on SQLite (sqlx's
/// Any driver cannot map SQLite's `BOOLEAN`). Decode with
/// `#[sqlx(try_from = "Flag")]`; bind plain `bool`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0
    }
}

impl sqlx::Type<Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<Any>>::type_info()
    }
    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        use sqlx::any::AnyTypeInfoKind as K;
        matches!(ty.kind(), K::Bool | K::SmallInt | K::Integer | K::BigInt)
    }
}

impl<'r> sqlx::Decode<'r, Any> for Flag {
    fn decode(v: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        if let Ok(b) = <bool as sqlx::Decode<Any>>::decode(v.clone()) {
            return Ok(Flag(b));
        }
        if let Ok(i) = <i64 as sqlx::Decode<Any>>::decode(v.clone()) {
            return Ok(Flag(i != 0));
        }
        <i32 as sqlx::Decode<Any>>::decode(v).map(|i| Flag(i != 0))
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// SQLite only (PostgreSQL checkpoints on its own): a commit leaves its
    /// pages in the WAL, and the background checkpointer copies them into
    /// the database file soon after, without another write to trigger it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_wal_is_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wal.db");
        let db = Db::connect(&sqlite_url(&path)).await.expect("open");
        sqlx::query("CREATE TABLE big (b BLOB)")
            .execute(&db.pool)
            .await
            .expect("create");
        // 4 MB: about 1,000 pages, far below the commit-time threshold.
        sqlx::query("INSERT INTO big VALUES (zeroblob(4000000))")
            .execute(&db.pool)
            .await
            .expect("insert");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let len = std::fs::metadata(&path).expect("db file").len();
            if len >= 4_000_000 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the database file is still {len} B 10 s after the commit: the WAL was not checkpointed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        db.close().await;
    }
}
