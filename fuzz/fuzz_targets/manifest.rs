//! OCI image manifests and indexes (and Docker schema 2 manifests and lists)
//! as `PUT /v2/<name>/manifests/<reference>` receives them. For any bytes: no
//! panic; an accepted manifest is schemaVersion 2; every digest it yields
//! (config, layers, index entries, subject) is canonical; it yields exactly
//! one blob for the config plus one per layer and one manifest per index
//! entry, as an independent JSON reading counts them; the declared sizes it
//! sums are non-negative and leave room for the manifest's own length (the
//! registry stores `len + content_size` as an i64).
#![no_main]

mod common;

use app::registry::{MANIFEST_MAX, manifest_refs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MANIFEST_MAX {
        return;
    }
    let refs = match manifest_refs(data) {
        Ok(r) => r,
        Err(m) => {
            assert!(!m.is_empty());
            return;
        }
    };
    let v: serde_json::Value = serde_json::from_slice(data).expect("accepted, so JSON");
    let obj = v.as_object().expect("accepted, so an object");
    assert_eq!(obj.get("schemaVersion").and_then(|s| s.as_i64()), Some(2));
    assert_eq!(
        refs.media_type.as_deref(),
        obj.get("mediaType").and_then(|m| m.as_str())
    );
    let layers = obj
        .get("layers")
        .and_then(|l| l.as_array())
        .map_or(0, Vec::len);
    let config = usize::from(obj.contains_key("config"));
    assert_eq!(refs.blobs.len(), config + layers);
    let entries = obj
        .get("manifests")
        .and_then(|l| l.as_array())
        .map_or(0, Vec::len);
    assert_eq!(refs.manifests.len(), entries);
    assert!(refs.platforms.len() <= refs.manifests.len());
    assert_eq!(refs.subject.is_some(), obj.contains_key("subject"));
    for d in refs
        .blobs
        .iter()
        .chain(&refs.manifests)
        .chain(&refs.subject)
    {
        assert!(common::canonical_digest(d), "digest {d:?}");
    }
    assert!(refs.content_size >= 0, "content size {}", refs.content_size);
    assert!(
        (data.len() as i64).checked_add(refs.content_size).is_some(),
        "content size {} overflows with the manifest's length",
        refs.content_size
    );
});
