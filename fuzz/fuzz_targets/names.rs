//! Namespace, repository, tag and team names (sign-up, new organization and
//! repository forms, registry paths, the home page's name checker). For any
//! text: no panic; the verdict agrees with an independent reading of the
//! documented grammar; an accepted name is the trimmed input, parses again to
//! itself, and survives a JSON round trip; serde agrees with `parse`.
#![no_main]

mod common;

use app::domain::{Digest, NamespaceName, RepoName, TagName, TeamName};
use libfuzzer_sys::fuzz_target;

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, read as alternating runs.
fn repo_grammar(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut runs: Vec<(bool, String)> = Vec::new();
    for c in s.chars() {
        let a = alnum(c);
        match runs.last_mut() {
            Some((kind, run)) if *kind == a => run.push(c),
            _ => runs.push((a, c.to_string())),
        }
    }
    let (Some(first), Some(last)) = (runs.first(), runs.last()) else {
        return false;
    };
    first.0
        && last.0
        && runs.iter().filter(|(a, _)| !a).all(|(_, sep)| {
            sep == "." || sep == "_" || sep == "__" || sep.chars().all(|c| c == '-')
        })
}

fn namespace_rule(s: &str) -> bool {
    (4..=30).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn repo_rule(s: &str) -> bool {
    (2..=255).contains(&s.len()) && repo_grammar(s)
}

fn team_rule(s: &str) -> bool {
    (2..=30).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !s.starts_with(['-', '_'])
}

macro_rules! check {
    ($t:ty, $raw:expr, $rule:expr) => {{
        let raw: &str = $raw;
        let parsed = <$t>::parse(raw);
        assert_eq!(
            parsed.is_ok(),
            $rule(raw.trim()),
            "{} {raw:?}",
            stringify!($t)
        );
        match &parsed {
            Ok(v) => {
                assert_eq!(v.as_str(), raw.trim());
                assert_eq!(<$t>::parse(v.as_str()).as_ref(), Ok(v));
                let json = serde_json::to_string(v).expect("serialize");
                assert_eq!(serde_json::from_str::<$t>(&json).ok().as_ref(), Some(v));
                assert_eq!(v.to_string(), v.as_str());
            }
            Err(m) => assert!(!m.is_empty()),
        }
        let via_serde = serde_json::from_value::<$t>(serde_json::Value::String(raw.to_string()));
        assert_eq!(
            via_serde.ok(),
            parsed.ok(),
            "serde and parse disagree on {raw:?}"
        );
    }};
}

fuzz_target!(|data: &[u8]| {
    let s = common::text(data);
    check!(NamespaceName, &s, namespace_rule);
    check!(RepoName, &s, repo_rule);
    check!(TagName, &s, common::tag_grammar);
    check!(TeamName, &s, team_rule);
    check!(Digest, &s, common::canonical_digest);
    // `namespace/repository`, as registry paths and the events API name them.
    if let Some((ns, repo)) = s.split_once('/') {
        check!(NamespaceName, ns, namespace_rule);
        check!(RepoName, repo, repo_rule);
    }
});
