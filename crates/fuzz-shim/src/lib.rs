//! `fuzz_target!` for the stable test build: the fuzz targets in `fuzz/` are
//! compiled as modules of `server/tests/fuzz_replay.rs`, where this crate is
//! named `libfuzzer_sys`, so each target's body becomes `check(data)`, an
//! ordinary function the test calls on the committed seeds and on inputs
//! mutated from them. The real libFuzzer build (`scripts/fuzz.sh`) uses the
//! real `libfuzzer-sys`; the target files are the same.

/// Turns `fuzz_target!(|data: &[u8]| { … })` into `pub fn check(data: &[u8])`.
#[macro_export]
macro_rules! fuzz_target {
    (|$data:ident: &[u8]| $body:block) => {
        pub fn check($data: &[u8]) $body
    };
}
