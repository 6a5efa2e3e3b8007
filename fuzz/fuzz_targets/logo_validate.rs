//! Fuzzes the shared logo rule (the code the browser runs in wasm): any bytes,
//! any declared length, must give a verdict without panicking, and an accepted
//! header must be within the rules.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = app::logo::validate(data.len() as u64, data) {
        assert!((app::logo::MIN_SIDE..=app::logo::MAX_SIDE).contains(&h.width));
        assert!((app::logo::MIN_SIDE..=app::logo::MAX_SIDE).contains(&h.height));
    }
    let _ = app::logo::read_header(data).map_err(|e| e.message());
    let _ = app::logo::sniff_other(data);
});
