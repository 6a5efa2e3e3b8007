//! Where logos live: the file name in the database, the bytes in an
//! `object_store` (a local directory by default, S3-compatible in production),
//! keyed by content hash so identical uploads share one stored file.

use crate::db::Tx;
use crate::domain::ids::{NamespaceId, RepoId};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};

fn key(file: &str) -> StorePath {
    StorePath::from(format!("logos/{file}"))
}

/// Stores the full image and its variants under their content-hash names.
pub async fn put_files(
    store: &dyn ObjectStore,
    p: &super::process::Processed,
) -> Result<(), object_store::Error> {
    let ext = p.format.extension();
    for (name, bytes) in [
        (format!("{}.{ext}", p.hash), &p.full),
        (format!("{}-128.{ext}", p.hash), &p.px128),
        (format!("{}-64.{ext}", p.hash), &p.px64),
    ] {
        store.put(&key(&name), bytes.clone().into()).await?;
    }
    Ok(())
}

/// Reads a stored file; `None` when it does not exist.
pub async fn get_file(
    store: &dyn ObjectStore,
    file: &str,
) -> Result<Option<bytes::Bytes>, object_store::Error> {
    match store.get(&key(file)).await {
        Ok(r) => Ok(Some(r.bytes().await?)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn repo_logo(tx: &mut Tx<'_>, repo: RepoId) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT logo FROM repositories WHERE id = $1")
            .bind(repo.0)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.and_then(|(l,)| l))
}

pub async fn namespace_logo(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT logo FROM namespaces WHERE id = $1")
            .bind(ns.0)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.and_then(|(l,)| l))
}

pub async fn set_repo_logo(
    tx: &mut Tx<'_>,
    repo: RepoId,
    logo: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE repositories SET logo = $1 WHERE id = $2")
        .bind(logo)
        .bind(repo.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_namespace_logo(
    tx: &mut Tx<'_>,
    ns: NamespaceId,
    logo: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE namespaces SET logo = $1 WHERE id = $2")
        .bind(logo)
        .bind(ns.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
