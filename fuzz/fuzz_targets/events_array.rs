//! `POST /api/v1/events` with a JSON array body. For any text: no panic; an
//! accepted batch holds at most `max` events numbered 1.. by position, each
//! obeying the event rules; a refused one names an existing position (or the
//! whole body); a lower `max` only ever turns the verdict into `TooMany`.
#![no_main]

mod common;

use app::analytics::events::{BatchError, parse_json_array};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 10_000;
const SMALL: usize = 2;

fuzz_target!(|data: &[u8]| {
    let body = common::text(data);
    let now = common::now();
    let full = parse_json_array(&body, now, MAX);
    // The array's length as serde reads it (raw, so no number is converted).
    let count = serde_json::from_str::<Vec<&serde_json::value::RawValue>>(&body)
        .ok()
        .map(|v| v.len());
    match &full {
        Ok(v) => {
            assert_eq!(Some(v.len()), count);
            for (i, e) in v.iter().enumerate() {
                common::incoming_ok(e, now);
                assert_eq!(e.line, i + 1);
            }
        }
        Err(e) => common::batch_error_ok(e, count.unwrap_or(0), MAX),
    }
    let small = parse_json_array(&body, now, SMALL);
    match (&full, &small) {
        (Ok(v), Ok(w)) => assert!(v.len() <= SMALL && v == w),
        (Ok(v), Err(BatchError::TooMany { max })) => assert!(v.len() > SMALL && *max == SMALL),
        (Err(a), Err(b)) => assert!(a == b || *b == BatchError::TooMany { max: SMALL }),
        (a, b) => panic!("max {MAX}: {a:?}, max {SMALL}: {b:?}"),
    }
});
