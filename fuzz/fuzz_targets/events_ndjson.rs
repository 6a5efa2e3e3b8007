//! `POST /api/v1/events` with `Content-Type: application/x-ndjson`. For any
//! text: no panic; an accepted batch holds at most `max` events in line order
//! and each obeys the event rules (canonical digest, tag grammar, action and
//! method agree, country/host/ip/user-agent bounds, not in the future); a
//! refused one names an existing line; a lower `max` only ever turns the
//! verdict into `TooMany`; and the same events sent as a JSON array give the
//! same verdict and events.
#![no_main]

mod common;

use app::analytics::events::{BatchError, parse_json_array, parse_ndjson};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 10_000;
const SMALL: usize = 2;

fuzz_target!(|data: &[u8]| {
    let body = common::text(data);
    let now = common::now();
    let lines = body.lines().count();
    let full = parse_ndjson(&body, now, MAX);
    match &full {
        Ok(v) => {
            assert!(v.len() <= MAX);
            for e in v {
                common::incoming_ok(e, now);
                assert!(e.line <= lines);
            }
            assert!(v.windows(2).all(|w| w[0].line < w[1].line));
        }
        Err(e) => common::batch_error_ok(e, lines, MAX),
    }
    // A smaller batch limit: the same answer, or TooMany.
    let small = parse_ndjson(&body, now, SMALL);
    match (&full, &small) {
        (Ok(v), Ok(w)) => assert!(v.len() <= SMALL && v == w),
        (Ok(v), Err(BatchError::TooMany { max })) => assert!(v.len() > SMALL && *max == SMALL),
        (Err(a), Err(b)) => assert!(a == b || *b == BatchError::TooMany { max: SMALL }),
        (a, b) => panic!("max {MAX}: {a:?}, max {SMALL}: {b:?}"),
    }
    // The accepted lines as one JSON array are the same batch.
    if let Ok(v) = &full {
        let items: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
        let array = format!("[{}]", items.join(","));
        let w = parse_json_array(&array, now, MAX).expect("the same events as an array");
        assert_eq!(v.len(), w.len());
        assert!(v.iter().zip(&w).all(|(a, b)| common::same_event(a, b)));
    }
});
