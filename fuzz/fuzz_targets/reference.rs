//! Manifest references (`/v2/<name>/manifests/<reference>`) and digests
//! (blob paths, `?digest=` on upload completion, `Docker-Content-Digest`).
//! For any text: no panic; a reference with `:` is a digest or
//! `DIGEST_INVALID`, one without is a tag or `MANIFEST_INVALID` (both 400);
//! an accepted digest has the canonical form (`sha256:` + 64 or `sha512:` +
//! 128 lowercase hex, nothing around it) and parses to itself; an accepted
//! tag follows the OCI grammar; the digest the registry computes for the same
//! bytes is one the parser accepts unchanged.
#![no_main]

mod common;

use app::domain::Digest;
use app::registry::{OciCode, Reference};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = common::text(data);
    let parsed = Reference::parse(&s);
    match &parsed {
        Ok(Reference::Digest(d)) => {
            assert!(s.contains(':'));
            assert!(common::canonical_digest(d), "accepted {d:?}");
            assert_eq!(d.as_str(), s.trim());
            assert_eq!(
                Reference::parse(d).as_ref(),
                Ok(&Reference::Digest(d.clone()))
            );
        }
        Ok(Reference::Tag(t)) => {
            assert!(!s.contains(':'));
            assert!(common::tag_grammar(t), "accepted tag {t:?}");
            assert_eq!(Reference::parse(t).as_ref(), Ok(&Reference::Tag(t.clone())));
        }
        Err((code, message)) => {
            let want = if s.contains(':') {
                OciCode::DigestInvalid
            } else {
                OciCode::ManifestInvalid
            };
            assert_eq!(*code, want);
            assert_eq!(code.status(), 400);
            assert!(!message.is_empty());
        }
    }
    // Digest::parse is the rule behind both the reference and the blob routes.
    match Digest::parse(&s) {
        Ok(d) => {
            assert!(common::canonical_digest(d.as_str()));
            assert_eq!(
                parsed.as_ref().ok(),
                Some(&Reference::Digest(d.as_str().to_string()))
            );
        }
        Err(m) => {
            assert!(!m.is_empty());
            assert!(!common::canonical_digest(s.trim()));
        }
    }
    // What the registry computes for stored bytes always passes the rule.
    let computed = app::registry::store::sha256_digest(data);
    assert!(common::canonical_digest(&computed));
    assert_eq!(
        Digest::parse(&computed).map(|d| d.to_string()),
        Ok(computed)
    );
});
