//! `server backup --to FILE`: a consistent copy of the SQLite database,
//! taken while the server may be running.
//!
//! `VACUUM INTO` reads the database in one read transaction (WAL mode lets
//! the server keep writing meanwhile) and writes a compact copy holding
//! exactly what was committed when it began. The copy is checked
//! (`PRAGMA integrity_check`) before the command reports success. Blobs
//! (image layers, logos) live outside the database: the report names the
//! directory to copy with it. PostgreSQL is refused with the `pg_dump`
//! command to use instead.

use crate::config::Config;
use std::path::{Path, PathBuf};

/// What a backup wrote, printed by the command.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The database file copied.
    pub database: PathBuf,
    /// The copy.
    pub to: PathBuf,
    /// The copy's size.
    pub bytes: u64,
    /// The newest migration the copy holds.
    pub schema: i64,
    /// The blob directory to copy alongside.
    pub blobs: PathBuf,
}

impl std::fmt::Display for BackupReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let blobs = self.blobs.display();
        writeln!(
            f,
            "backed up {} to {} ({} bytes, integrity ok, schema version {})",
            self.database.display(),
            self.to.display(),
            self.bytes,
            self.schema
        )?;
        writeln!(
            f,
            "blob storage is not in the database: copy {blobs}/ too, right after this (image layers and logos, named by content hash, never rewritten), e.g."
        )?;
        writeln!(f, "  rsync -a {blobs}/ BACKUP_DIR/blobs/")?;
        write!(
            f,
            "restore: stop the server; put the copy at <data-dir>/hub.db (delete any hub.db-wal and hub.db-shm there) and the blobs at <data-dir>/blobs/; start the server (see docs/OPERATIONS.md)"
        )
    }
}

/// The file of a `sqlite:` URL (`sqlite://PATH?…` or `sqlite:PATH`).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Copies the configured SQLite database to `to` (which must not exist).
pub async fn backup(config: &Config, to: &Path) -> Result<BackupReport, String> {
    let url = config.database_url();
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Err(format!(
            "server backup copies SQLite databases; this hub's database is PostgreSQL ({}). Use pg_dump instead, e.g. `pg_dump --format=custom --file=hub.dump \"$DATABASE_URL\"`, and copy the blob directory {}/ (see docs/OPERATIONS.md, Backup and restore)",
            crate::cli::redact(&url),
            config.data_dir.join("blobs").display()
        ));
    }
    let database = sqlite_file(&url).ok_or_else(|| {
        format!(
            "server backup copies SQLite database files; “{}” names none",
            crate::cli::redact(&url)
        )
    })?;
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(format!(
            "{} already exists; a backup never overwrites a file: choose a new name, or move the old file away",
            to.display()
        ));
    }
    let parent = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(format!(
            "the directory {} does not exist; create it first",
            parent.display()
        ));
    }
    let target = to
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path; choose another name", to.display()))?;
    if !database.is_file() {
        return Err(format!(
            "there is no database at {} (check --data-dir / HUB_DATA_DIR or DATABASE_URL)",
            database.display()
        ));
    }
    // The live file, as the server opens it, but never created and never migrated.
    let source = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&database)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(10));
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&source)
        .await
        .map_err(|e| format!("cannot open {}: {e}", database.display()))?;
    let copied = sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut conn)
        .await;
    let _ = sqlx::Connection::close(conn).await;
    if let Err(e) = copied {
        if std::fs::symlink_metadata(to).is_ok() {
            let _ = std::fs::remove_file(to);
        }
        return Err(format!(
            "copying {} to {} failed: {e}",
            database.display(),
            to.display()
        ));
    }
    restrict(to)?;
    let schema = verify(to).await.inspect_err(|_| {
        let _ = std::fs::remove_file(to);
    })?;
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport {
        database,
        to: to.to_path_buf(),
        bytes,
        schema,
        blobs: config.data_dir.join("blobs"),
    })
}

/// The copy holds password and token hashes: owner-only, like the data directory should be.
fn restrict(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot restrict the permissions of {}: {e}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Opens the copy without changing it, checks its integrity and returns the
/// newest migration it holds.
async fn verify(path: &Path) -> Result<i64, String> {
    use sqlx::Row;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true);
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&opts)
        .await
        .map_err(|e| format!("cannot open the copy {}: {e}", path.display()))?;
    let check: Vec<String> = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| format!("cannot check the copy {}: {e}", path.display()))?
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap_or_default())
        .collect();
    if check != ["ok"] {
        return Err(format!(
            "the copy {} failed its integrity check: {}",
            path.display(),
            check.join("; ")
        ));
    }
    let schema: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await
            .map_err(|_| {
                format!(
                    "{} holds no hub schema (no migrations table): is the database the hub's?",
                    path.display()
                )
            })?;
    let _ = sqlx::Connection::close(conn).await;
    schema.ok_or_else(|| format!("{} holds no applied migrations", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://./data/hub.db?mode=rwc"),
            Some(PathBuf::from("./data/hub.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/hub/hub.db"),
            Some(PathBuf::from("/var/lib/hub/hub.db"))
        );
        assert_eq!(sqlite_file("sqlite:hub.db"), Some(PathBuf::from("hub.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x@y/z"), None);
    }
}
