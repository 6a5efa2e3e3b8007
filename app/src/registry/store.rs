//! Where the registry keeps things: bytes in object storage under their
//! digest (`blobs/sha256/<hex>`, shared by every repository, manifests
//! included), upload chunks under `uploads/<id>/<offset>`; in the database
//! which repository holds which blob, manifests, tags and upload sessions.

use crate::db::Tx;
use crate::domain::Timestamp;
use crate::domain::ids::RepoId;
use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest as _, Sha256};

/// The object holding a blob's bytes.
pub fn blob_path(digest: &str) -> StorePath {
    let (alg, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    StorePath::from(format!("blobs/{alg}/{hex}"))
}

fn chunk_path(upload: &str, offset: i64) -> StorePath {
    StorePath::from(format!("uploads/{upload}/{offset:020}"))
}

/// Stores one chunk of an upload at its offset.
pub async fn put_chunk(
    store: &dyn ObjectStore,
    upload: &str,
    offset: i64,
    bytes: Bytes,
) -> Result<(), object_store::Error> {
    store
        .put(&chunk_path(upload, offset), PutPayload::from(bytes))
        .await
        .map(|_| ())
}

/// Joins an upload's chunks into the blob, hashing as it goes; returns the
/// digest and size. The bytes are written under that digest only when it is
/// the one the client named (`expect`); otherwise nothing is kept.
pub async fn assemble(
    store: &dyn ObjectStore,
    upload: &str,
    expect: &str,
) -> Result<Result<i64, String>, object_store::Error> {
    let prefix = StorePath::from(format!("uploads/{upload}"));
    let mut chunks: Vec<StorePath> = Vec::new();
    let mut listing = store.list(Some(&prefix));
    while let Some(meta) = listing.next().await {
        chunks.push(meta?.location);
    }
    drop(listing);
    chunks.sort();
    let mut hasher = Sha256::new();
    let mut parts: Vec<Bytes> = Vec::with_capacity(chunks.len());
    let mut size = 0i64;
    for c in &chunks {
        let b = store.get(c).await?.bytes().await?;
        hasher.update(&b);
        size += b.len() as i64;
        parts.push(b);
    }
    let got = format!("sha256:{}", hex::encode(hasher.finalize()));
    let result = if expect.starts_with("sha256:") && got == expect {
        let payload: PutPayload = parts.into_iter().collect();
        store.put(&blob_path(&got), payload).await?;
        Ok(size)
    } else {
        Err(got)
    };
    delete_upload_chunks(store, upload).await?;
    Ok(result)
}

/// Removes an upload's chunks.
pub async fn delete_upload_chunks(
    store: &dyn ObjectStore,
    upload: &str,
) -> Result<(), object_store::Error> {
    let prefix = StorePath::from(format!("uploads/{upload}"));
    let mut listing = store.list(Some(&prefix));
    let mut paths = Vec::new();
    while let Some(meta) = listing.next().await {
        paths.push(meta?.location);
    }
    drop(listing);
    for p in paths {
        match store.delete(&p).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Stores bytes under their own digest (manifests, monolithic uploads).
pub async fn put_blob(
    store: &dyn ObjectStore,
    digest: &str,
    bytes: Bytes,
) -> Result<(), object_store::Error> {
    store
        .put(&blob_path(digest), PutPayload::from(bytes))
        .await
        .map(|_| ())
}

/// Reads a blob's bytes.
pub async fn get_blob(
    store: &dyn ObjectStore,
    digest: &str,
) -> Result<Option<Bytes>, object_store::Error> {
    match store.get(&blob_path(digest)).await {
        Ok(r) => Ok(Some(r.bytes().await?)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `sha256:<hex>` of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

// ---- database ----

/// The size of a blob the repository holds.
pub async fn repo_blob_size(
    tx: &mut Tx<'_>,
    repo: RepoId,
    digest: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT b.size FROM registry_repo_blobs r JOIN registry_blobs b ON b.digest = r.digest
         WHERE r.repository_id = $1 AND r.digest = $2",
    )
    .bind(repo.0)
    .bind(digest)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(s,)| s))
}

/// Records a blob and links it to the repository (idempotent).
pub async fn link_blob(
    tx: &mut Tx<'_>,
    repo: RepoId,
    digest: &str,
    size: i64,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO registry_blobs (digest, size, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (digest) DO NOTHING",
    )
    .bind(digest)
    .bind(size)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO registry_repo_blobs (repository_id, digest, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (repository_id, digest) DO NOTHING",
    )
    .bind(repo.0)
    .bind(digest)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Unlinks a blob from a repository; false if it held none.
pub async fn unlink_blob(tx: &mut Tx<'_>, repo: RepoId, digest: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM registry_repo_blobs WHERE repository_id = $1 AND digest = $2")
        .bind(repo.0)
        .bind(digest)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// A stored manifest.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ManifestRow {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub artifact_type: Option<String>,
}

pub async fn manifest(
    tx: &mut Tx<'_>,
    repo: RepoId,
    digest: &str,
) -> Result<Option<ManifestRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT digest, media_type, size, artifact_type FROM registry_manifests
         WHERE repository_id = $1 AND digest = $2",
    )
    .bind(repo.0)
    .bind(digest)
    .fetch_optional(&mut **tx)
    .await
}

/// A manifest to record.
pub struct NewManifest<'a> {
    pub digest: &'a str,
    pub media_type: &'a str,
    pub size: i64,
    pub artifact_type: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub refs: &'a [String],
    /// The manifest and what it names, compressed.
    pub total_size: i64,
    /// Comma-separated platforms of an index.
    pub platforms: Option<String>,
}

pub async fn put_manifest(
    tx: &mut Tx<'_>,
    repo: RepoId,
    m: NewManifest<'_>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO registry_manifests (repository_id, digest, media_type, size, artifact_type, subject, created_at, total_size, platforms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (repository_id, digest) DO UPDATE SET media_type = excluded.media_type",
    )
    .bind(repo.0)
    .bind(m.digest)
    .bind(m.media_type)
    .bind(m.size)
    .bind(m.artifact_type)
    .bind(m.subject)
    .bind(now.0)
    .bind(m.total_size)
    .bind(m.platforms)
    .execute(&mut **tx)
    .await?;
    for r in m.refs {
        sqlx::query(
            "INSERT INTO registry_manifest_refs (repository_id, manifest, digest) VALUES ($1, $2, $3)
             ON CONFLICT (repository_id, manifest, digest) DO NOTHING",
        )
        .bind(repo.0)
        .bind(m.digest)
        .bind(r)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Deletes a manifest and every tag pointing at it; false if there was none.
pub async fn delete_manifest(
    tx: &mut Tx<'_>,
    repo: RepoId,
    digest: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM registry_manifests WHERE repository_id = $1 AND digest = $2")
        .bind(repo.0)
        .bind(digest)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM registry_manifest_refs WHERE repository_id = $1 AND manifest = $2")
        .bind(repo.0)
        .bind(digest)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM tags WHERE repository_id = $1 AND digest = $2")
        .bind(repo.0)
        .bind(digest)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// The digest a tag points at.
pub async fn tag_digest(
    tx: &mut Tx<'_>,
    repo: RepoId,
    tag: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT digest FROM tags WHERE repository_id = $1 AND name = $2")
            .bind(repo.0)
            .bind(tag)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|(d,)| d))
}

pub async fn delete_tag(tx: &mut Tx<'_>, repo: RepoId, tag: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM tags WHERE repository_id = $1 AND name = $2")
        .bind(repo.0)
        .bind(tag)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Tag names after `last`, sorted, at most `n`.
pub async fn tag_page(
    tx: &mut Tx<'_>,
    repo: RepoId,
    last: Option<&str>,
    n: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM tags WHERE repository_id = $1 AND name > $2 ORDER BY name LIMIT $3",
    )
    .bind(repo.0)
    .bind(last.unwrap_or(""))
    .bind(n)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

/// Manifests whose subject is `digest`.
pub async fn referrers(
    tx: &mut Tx<'_>,
    repo: RepoId,
    digest: &str,
) -> Result<Vec<ManifestRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT digest, media_type, size, artifact_type FROM registry_manifests
         WHERE repository_id = $1 AND subject = $2 ORDER BY digest",
    )
    .bind(repo.0)
    .bind(digest)
    .fetch_all(&mut **tx)
    .await
}

/// An upload session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRow {
    pub id: String,
    pub repository_id: i64,
    pub size: i64,
}

pub async fn new_upload(
    tx: &mut Tx<'_>,
    repo: RepoId,
    id: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO registry_uploads (id, repository_id, size, created_at, updated_at) VALUES ($1, $2, 0, $3, $3)",
    )
    .bind(id)
    .bind(repo.0)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn upload(
    tx: &mut Tx<'_>,
    repo: RepoId,
    id: &str,
) -> Result<Option<UploadRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, repository_id, size FROM registry_uploads WHERE id = $1 AND repository_id = $2",
    )
    .bind(id)
    .bind(repo.0)
    .fetch_optional(&mut **tx)
    .await
}

/// Moves an upload's size from `from` to `to`; false if another chunk won.
pub async fn grow_upload(
    tx: &mut Tx<'_>,
    id: &str,
    from: i64,
    to: i64,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE registry_uploads SET size = $1, updated_at = $2 WHERE id = $3 AND size = $4",
    )
    .bind(to)
    .bind(now.0)
    .bind(id)
    .bind(from)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn end_upload(tx: &mut Tx<'_>, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM registry_uploads WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}
