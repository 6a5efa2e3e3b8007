//! The shared logo rule (the code the browser runs in wasm, and the server's
//! first check). For any bytes: no panic; an accepted header is within the
//! side limits and is what `read_header` reads; the byte-size rule comes
//! first (a declared size of 0 is `Empty`, above 5 MiB `TooManyBytes`,
//! whatever the bytes); every refusal has a code, a 4xx status and a message.
#![no_main]

use app::logo::{MAX_BYTES, MAX_SIDE, MIN_SIDE, Refusal, read_header, sniff_other, validate};
use libfuzzer_sys::fuzz_target;

fn refusal_ok(r: &Refusal) {
    assert!(!r.code().is_empty());
    assert!((400..500).contains(&r.status()));
    assert!(!r.message().is_empty());
}

fuzz_target!(|data: &[u8]| {
    match validate(data.len() as u64, data) {
        Ok(h) => {
            assert!((MIN_SIDE..=MAX_SIDE).contains(&h.width));
            assert!((MIN_SIDE..=MAX_SIDE).contains(&h.height));
            assert_eq!(read_header(data), Ok(h));
        }
        Err(r) => refusal_ok(&r),
    }
    match read_header(data) {
        Ok(h) => assert!(h.width > 0 && h.height > 0),
        Err(r) => refusal_ok(&r),
    }
    assert_eq!(validate(0, data), Err(Refusal::Empty));
    assert_eq!(
        validate(MAX_BYTES + 1, data),
        Err(Refusal::TooManyBytes {
            bytes: MAX_BYTES + 1
        })
    );
    // Only the declared size's limit matters, not whether the bytes are all
    // of the file (the browser checks the first bytes of a large file).
    if !data.is_empty() {
        assert_eq!(validate(MAX_BYTES, data), validate(data.len() as u64, data));
    }
    if let Some(kind) = sniff_other(data) {
        assert!(!kind.is_empty());
    }
});
