//! `POST /api/v1/events/distribution`: the notification envelope a CNCF
//! Distribution registry posts. For any text: no panic; an accepted envelope
//! gives one verdict per event, in order; each pull obeys the event rules and
//! carries its position; a refused one names an existing event (or the
//! body); a lower `max` only ever turns the verdict into `TooMany`.
#![no_main]

mod common;

use app::analytics::events::{BatchError, Notified, parse_distribution};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 10_000;

/// The envelope's shape only: how many events it carries.
#[derive(serde::Deserialize)]
struct Count {
    events: Vec<serde::de::IgnoredAny>,
}
const SMALL: usize = 1;

fuzz_target!(|data: &[u8]| {
    let body = common::text(data);
    let now = common::now();
    let full = parse_distribution(&body, now, MAX);
    let count = serde_json::from_str::<Count>(&body)
        .ok()
        .map(|c| c.events.len());
    match &full {
        Ok(v) => {
            assert_eq!(Some(v.len()), count);
            for (i, n) in v.iter().enumerate() {
                if let Notified::Pull(e) = n {
                    common::incoming_ok(e, now);
                    assert_eq!(e.line, i + 1);
                }
            }
        }
        Err(e) => common::batch_error_ok(e, count.unwrap_or(0), MAX),
    }
    let small = parse_distribution(&body, now, SMALL);
    match (&full, &small) {
        (Ok(v), Ok(w)) => assert!(v.len() <= SMALL && v == w),
        (Ok(v), Err(BatchError::TooMany { max })) => assert!(v.len() > SMALL && *max == SMALL),
        (Err(a), Err(b)) => assert!(a == b || *b == BatchError::TooMany { max: SMALL }),
        (a, b) => panic!("max {MAX}: {a:?}, max {SMALL}: {b:?}"),
    }
});
