//! The OCI registry endpoint (`/v2/…`, distribution-spec v1.1): what a
//! reference, a media type and an error are. Pure, so the rules are tested
//! without a server.

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod store;

use crate::domain::{Digest, TagName};
use serde::Serialize;

/// The largest manifest accepted (as Docker Hub and Distribution do).
pub const MANIFEST_MAX: usize = 4 * 1024 * 1024;
/// Tags listed per page when the client does not say.
pub const TAGS_PAGE_MAX: usize = 1000;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// The spec's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OciCode {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    Toomanyrequests,
}

impl OciCode {
    /// The HTTP status the spec pairs with the code.
    pub fn status(self) -> u16 {
        match self {
            OciCode::BlobUnknown
            | OciCode::BlobUploadUnknown
            | OciCode::ManifestUnknown
            | OciCode::NameUnknown => 404,
            OciCode::Unauthorized => 401,
            OciCode::Denied => 403,
            OciCode::Unsupported => 405,
            OciCode::Toomanyrequests => 429,
            OciCode::SizeInvalid
            | OciCode::DigestInvalid
            | OciCode::BlobUploadInvalid
            | OciCode::ManifestBlobUnknown
            | OciCode::ManifestInvalid
            | OciCode::NameInvalid => 400,
        }
    }
}

/// What a manifest path names: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Tag(String),
    Digest(String),
}

impl Reference {
    /// A digest if it has an algorithm prefix, else a tag.
    pub fn parse(raw: &str) -> Result<Reference, (OciCode, String)> {
        if raw.contains(':') {
            Digest::parse(raw)
                .map(|d| Reference::Digest(d.to_string()))
                .map_err(|m| (OciCode::DigestInvalid, m))
        } else {
            TagName::parse(raw)
                .map(|t| Reference::Tag(t.to_string()))
                .map_err(|m| (OciCode::ManifestInvalid, m))
        }
    }
}

/// The key anonymous pulls are counted under: an IPv4 address, or the /64 of
/// an IPv6 address (one household or VM gets one allowance, not 2^64).
pub fn pull_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The blobs and child manifests a manifest references, with its subject and
/// artifact type, read from its JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestRefs {
    /// Blobs (config and layers) that must exist in the repository.
    pub blobs: Vec<String>,
    /// Manifests an index lists, which must exist in the repository.
    pub manifests: Vec<String>,
    pub subject: Option<String>,
    pub artifact_type: Option<String>,
    /// The media type the manifest declares, if any.
    pub media_type: Option<String>,
    /// The compressed size of what it names (config and layers, or the
    /// manifests of an index), as its descriptors say.
    pub content_size: i64,
    /// `os/architecture[/variant]` of each manifest of an index.
    pub platforms: Vec<String>,
}

/// Reads what a manifest references; refuses what is not a manifest.
pub fn manifest_refs(body: &[u8]) -> Result<ManifestRefs, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("The manifest is not JSON: {e}."))?;
    let obj = v.as_object().ok_or("The manifest is not a JSON object.")?;
    let digest_of = |d: &serde_json::Value| -> Result<String, String> {
        let raw = d
            .get("digest")
            .and_then(|x| x.as_str())
            .ok_or("A descriptor has no digest.")?;
        Digest::parse(raw).map(|d| d.to_string())
    };
    let mut refs = ManifestRefs {
        media_type: obj
            .get("mediaType")
            .and_then(|m| m.as_str())
            .map(String::from),
        artifact_type: obj
            .get("artifactType")
            .and_then(|m| m.as_str())
            .map(String::from),
        ..ManifestRefs::default()
    };
    if let Some(config) = obj.get("config") {
        refs.blobs.push(digest_of(config)?);
        refs.content_size = add_size(refs.content_size, config)?;
        if refs.artifact_type.is_none() {
            refs.artifact_type = config
                .get("mediaType")
                .and_then(|m| m.as_str())
                .map(String::from);
        }
    }
    if let Some(layers) = obj.get("layers") {
        for l in layers.as_array().ok_or("`layers` is not a list.")? {
            refs.blobs.push(digest_of(l)?);
            refs.content_size = add_size(refs.content_size, l)?;
        }
    }
    if let Some(ms) = obj.get("manifests") {
        for m in ms.as_array().ok_or("`manifests` is not a list.")? {
            refs.manifests.push(digest_of(m)?);
            refs.content_size = add_size(refs.content_size, m)?;
            if let Some(p) = m.get("platform") {
                let part = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("");
                let mut name = format!("{}/{}", part("os"), part("architecture"));
                if !part("variant").is_empty() {
                    name = format!("{name}/{}", part("variant"));
                }
                refs.platforms.push(name);
            }
        }
    }
    if let Some(s) = obj.get("subject") {
        refs.subject = Some(digest_of(s)?);
    }
    if obj.get("schemaVersion").and_then(|s| s.as_i64()) != Some(2) {
        return Err("Only schemaVersion 2 manifests are accepted.".into());
    }
    Ok(refs)
}

/// Adds a descriptor's declared size to the total. A size is not negative,
/// and the total leaves room for the manifest's own bytes (the registry
/// stores their sum as an i64).
fn add_size(total: i64, descriptor: &serde_json::Value) -> Result<i64, String> {
    let size = descriptor.get("size").and_then(|s| s.as_i64()).unwrap_or(0);
    if size < 0 {
        return Err(format!(
            "A descriptor's size is {size}; a size is not negative."
        ));
    }
    total
        .checked_add(size)
        .filter(|t| *t <= i64::MAX - MANIFEST_MAX as i64)
        .ok_or_else(|| "The descriptors' sizes add up to more than a registry can hold.".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn references() {
        assert_eq!(
            Reference::parse("latest"),
            Ok(Reference::Tag("latest".into()))
        );
        assert_eq!(Reference::parse(D), Ok(Reference::Digest(D.into())));
        assert_eq!(
            Reference::parse("sha256:abc").map_err(|e| e.0),
            Err(OciCode::DigestInvalid)
        );
        assert_eq!(
            Reference::parse("md5:0123").map_err(|e| e.0),
            Err(OciCode::DigestInvalid)
        );
        assert!(Reference::parse("-bad").is_err());
        assert!(Reference::parse(&"a".repeat(129)).is_err());
    }

    #[test]
    fn ipv6_shares_a_slash_64() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: std::net::IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let c: std::net::IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(pull_key(a), pull_key(b));
        assert_ne!(pull_key(a), pull_key(c));
        assert_eq!(pull_key("203.0.113.7".parse().expect("ip")), "203.0.113.7");
        assert_eq!(
            pull_key("::ffff:203.0.113.7".parse().expect("ip")),
            "203.0.113.7"
        );
    }

    #[test]
    fn manifests_name_what_they_need() {
        let m = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{D}","size":2}},"layers":[{{"digest":"{D}","size":3}}],"subject":{{"digest":"{D}","size":1}}}}"#
        );
        let r = manifest_refs(m.as_bytes()).expect("refs");
        assert_eq!(r.blobs.len(), 2);
        assert_eq!(r.subject.as_deref(), Some(D));
        assert_eq!(
            r.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        assert!(manifest_refs(b"not json").is_err());
        assert!(manifest_refs(br#"{"schemaVersion":1}"#).is_err());
        assert!(
            manifest_refs(br#"{"schemaVersion":2,"layers":[{"digest":"sha256:zz"}]}"#).is_err()
        );
    }

    /// Found by `cargo fuzz` (target `manifest`): a negative layer size was
    /// accepted and made the stored total size smaller than the manifest.
    #[test]
    fn descriptor_sizes_are_not_negative_and_do_not_overflow() {
        let crash = br#"{"schemaVersion": 2, "mediaType": "applicationnd.docker.dis2+json", "confi0g": {"mediaType": "applicatiotaia89cdef"}, "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": -2654, "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]}"#;
        assert!(manifest_refs(crash).unwrap_err().contains("not negative"));
        // The largest total leaves room for the manifest's own bytes.
        let edge = i64::MAX - MANIFEST_MAX as i64;
        let layers = |sizes: &[i64]| {
            let l: Vec<String> = sizes
                .iter()
                .map(|s| format!(r#"{{"digest":"{D}","size":{s}}}"#))
                .collect();
            format!(r#"{{"schemaVersion":2,"layers":[{}]}}"#, l.join(","))
        };
        let total = |sizes: &[i64]| manifest_refs(layers(sizes).as_bytes()).map(|r| r.content_size);
        assert_eq!(total(&[edge]), Ok(edge));
        assert_eq!(total(&[1, 0, 2]), Ok(3));
        assert!(total(&[edge, 1]).is_err());
        assert!(total(&[edge, edge]).is_err());
        assert!(total(&[i64::MAX]).is_err());
        assert!(total(&[-1]).is_err());
    }
}
