//! Checks shared by several targets. Each is an independent restatement of a
//! rule (not a call to the code under test), so a parser that drifts from its
//! documented grammar fails here.
#![allow(dead_code)]

/// Fuzz input as text: invalid UTF-8 is replaced, so no input is wasted.
pub fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// `sha256:` + 64 or `sha512:` + 128 lowercase hex digits, nothing else.
pub fn canonical_digest(s: &str) -> bool {
    let hex_ok = |h: &str, n: usize| {
        h.len() == n && h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
    };
    match s.split_once(':') {
        Some(("sha256", h)) => hex_ok(h, 64),
        Some(("sha512", h)) => hex_ok(h, 128),
        _ => false,
    }
}

/// The OCI tag grammar `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn tag_grammar(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// A checked pull event obeys every rule `check` promises.
pub fn incoming_ok(e: &app::analytics::events::Incoming, now: app::domain::Timestamp) {
    use app::domain::pulls::Action;
    assert!(e.line >= 1);
    assert!(!e.id.is_empty() && e.id.len() <= 200, "id {:?}", e.id);
    assert_eq!(e.id, e.id.trim());
    assert!(!e.id.chars().any(char::is_control));
    assert!(e.at.0 <= now.0 + app::analytics::events::FUTURE_SKEW_MS);
    assert!(canonical_digest(&e.digest), "digest {:?}", e.digest);
    if let Some(t) = &e.tag {
        assert!(tag_grammar(t), "tag {t:?}");
    }
    if e.action == Action::PullByTag {
        assert!(e.tag.is_some());
    }
    assert!(matches!(e.http_method, "GET" | "HEAD"));
    assert_eq!(e.action == Action::VersionCheck, e.http_method == "HEAD");
    assert!(!e.reference.is_empty() && e.reference.len() <= 255);
    assert_eq!(e.reference, e.reference.trim());
    assert!(
        e.country.is_empty()
            || e.country.len() == 2 && e.country.bytes().all(|b| b.is_ascii_uppercase()),
        "country {:?}",
        e.country
    );
    assert!(e.host.len() <= 32);
    assert!(
        e.host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    );
    assert!(e.user_agent.chars().count() <= 500);
    assert_eq!(e.namespace, e.namespace.trim());
    assert_eq!(e.repository, e.repository.trim());
}

/// A refused batch names a line that exists (1-based) and a readable reason.
pub fn batch_error_ok(e: &app::analytics::events::BatchError, lines: usize, max: usize) {
    use app::analytics::events::BatchError;
    match e {
        BatchError::Line { line, message } => {
            assert!(*line >= 1 && *line <= lines, "line {line} of {lines}");
            assert!(!message.is_empty());
        }
        BatchError::TooMany { max: m } => assert_eq!(*m, max),
        BatchError::Body(m) => assert!(!m.is_empty()),
    }
    assert!(!e.message().is_empty());
}

/// The hub's "now" for the event targets: fixed, so runs are reproducible.
pub fn now() -> app::domain::Timestamp {
    app::domain::Timestamp::parse_rfc3339("2026-11-30T12:00:00Z").expect("fixed time")
}

/// The same event apart from where it stood in its batch.
pub fn same_event(
    a: &app::analytics::events::Incoming,
    b: &app::analytics::events::Incoming,
) -> bool {
    let mut b = b.clone();
    b.line = a.line;
    *a == b
}
