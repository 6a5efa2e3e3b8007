//! The User-Agent reader (every pull, every ingested event). For any text: no
//! panic; the tool is one of `TOOLS` and has a label (`other` exactly when
//! unrecognised, then with no version); the version is at most 64 characters
//! of `[0-9A-Za-z.+_~-]`; only the first 1024 bytes count (anything appended
//! past them changes nothing); product names compare case-insensitively (the
//! same header in upper case gives the same tool and version up to case).
#![no_main]

mod common;

use app::domain::agent::{TOOLS, label, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ua = common::text(data);
    let a = parse(&ua);
    assert!(TOOLS.contains(&a.tool), "tool {:?}", a.tool);
    assert_eq!(a.tool == "other", label(a.tool) == "Other");
    if a.tool == "other" {
        assert!(a.version.is_empty());
    }
    assert!(a.version.len() <= 64, "version {:?}", a.version);
    assert!(
        a.version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'_' | b'~' | b'-')),
        "version {:?}",
        a.version
    );
    if ua.len() >= 1024 {
        let longer = format!("{ua} nerdctl/9.9.9 (x) docker/1.0");
        assert_eq!(
            parse(&longer),
            a,
            "bytes past the scan window changed the verdict"
        );
    }
    let upper = parse(&ua.to_ascii_uppercase());
    assert_eq!(upper.tool, a.tool, "case changed the tool for {ua:?}");
    assert!(upper.version.eq_ignore_ascii_case(&a.version));
});
