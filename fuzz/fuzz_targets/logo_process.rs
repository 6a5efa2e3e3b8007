//! The server's logo pipeline (`POST` of a logo): the shared rule, a full
//! decode under limits, the re-encode and the 128/64 px variants. For any
//! bytes: no panic, no allocation past the decoder's limit (libFuzzer's RSS
//! limit would report it); an accepted logo has the header's format and size,
//! its hash is the SHA-256 of the stored bytes, and the stored image and both
//! variants pass the shared rule's header reader again (the full image also
//! the whole rule, with the same size).
#![no_main]

use app::logo::process::process;
use app::logo::{read_header, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = match process(data) {
        Ok(p) => p,
        Err(r) => {
            assert!((400..500).contains(&r.status()));
            assert!(!r.message().is_empty());
            return;
        }
    };
    let h = validate(data.len() as u64, data).expect("processed, so valid");
    assert_eq!((p.format, p.width, p.height), (h.format, h.width, h.height));
    assert_eq!(
        format!("sha256:{}", p.hash),
        app::registry::store::sha256_digest(&p.full)
    );
    let again = validate(p.full.len() as u64, &p.full).expect("the stored image is valid");
    assert_eq!(
        (again.format, again.width, again.height),
        (p.format, p.width, p.height)
    );
    for (side, variant) in [(128, &p.px128), (64, &p.px64)] {
        let v = read_header(variant).expect("a variant has a readable header");
        assert_eq!(v.format, p.format);
        assert!(v.width <= side && v.height <= side, "{side}: {v:?}");
    }
});
