//! Incoming pull events: `POST /api/v1/events` batches (NDJSON or a JSON
//! array, Docker Hub's raw-export fields) and the notification envelope a
//! CNCF Distribution registry posts to its webhook endpoints. Parsing and
//! checking only; the API resolves names and stores through
//! `core::events::ingest`. A batch is all or nothing: the first bad line
//! refuses it, naming the line.

use crate::domain::Timestamp;
use crate::domain::names::{Digest, TagName};
use crate::domain::pulls::Action;
use serde::Deserialize;
use std::net::IpAddr;

/// How far ahead of the hub's clock a timestamp may be (clock skew).
pub const FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// One event as sent, with exactly Docker's field names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventIn {
    id: String,
    timestamp: String,
    namespace: String,
    repository: String,
    reference: String,
    #[serde(default)]
    tag: Option<String>,
    digest: String,
    action: String,
    http_method: String,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    host: Option<String>,
    user_agent: String,
    authenticated: bool,
    #[serde(default)]
    ip: Option<String>,
}

/// A checked event, not yet placed in a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// 1-based line (NDJSON) or position (JSON array, envelope).
    pub line: usize,
    pub id: String,
    pub at: Timestamp,
    pub namespace: String,
    pub repository: String,
    pub reference: String,
    pub tag: Option<String>,
    pub digest: String,
    pub action: Action,
    pub http_method: &'static str,
    pub country: String,
    pub host: String,
    pub user_agent: String,
    pub authenticated: bool,
    pub ip: Option<IpAddr>,
}

/// Why a batch was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    /// A line (or array element) is malformed or breaks a rule.
    Line { line: usize, message: String },
    /// More events than one batch may carry.
    TooMany { max: usize },
    /// Not NDJSON / a JSON array at all.
    Body(String),
}

impl BatchError {
    pub fn message(&self) -> String {
        match self {
            BatchError::Line { line, message } => {
                format!("Line {line}: {message} Nothing from this batch was stored.")
            }
            BatchError::TooMany { max } => {
                format!("A batch may carry at most {max} events; split it into smaller batches.")
            }
            BatchError::Body(m) => m.clone(),
        }
    }
}

fn check(raw: EventIn, line: usize, now: Timestamp) -> Result<Incoming, BatchError> {
    let bad = |message: String| BatchError::Line { line, message };
    let id = raw.id.trim();
    if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
        return Err(bad(
            "“id” must be the sender's unique id: 1 to 200 printable characters.".into(),
        ));
    }
    let at = Timestamp::parse_rfc3339(raw.timestamp.trim()).ok_or_else(|| {
        bad(format!(
            "“timestamp” “{}” is not an RFC 3339 time (e.g. 2026-11-30T12:00:00Z).",
            short(&raw.timestamp)
        ))
    })?;
    if at.0 > now.0 + FUTURE_SKEW_MS {
        return Err(bad(format!(
            "“timestamp” {} is in the future (the hub's time is {}).",
            at.rfc3339(),
            now.rfc3339()
        )));
    }
    let action = Action::parse(raw.action.trim()).map_err(|m| bad(format!("“action”: {m}")))?;
    let http_method = match raw.http_method.trim() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        other => {
            return Err(bad(format!(
                "“http_method” “{}” is not a pull: use GET or HEAD.",
                short(other)
            )));
        }
    };
    if (action == Action::VersionCheck) != (http_method == "HEAD") {
        return Err(bad(format!(
            "“action” {} does not match “http_method” {http_method}: a HEAD is a version_check, a GET a pull.",
            action.as_str()
        )));
    }
    let digest = Digest::parse(&raw.digest).map_err(|m| bad(format!("“digest”: {m}")))?;
    let tag = match raw.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(
            TagName::parse(t)
                .map_err(|m| bad(format!("“tag”: {m}")))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    if action == Action::PullByTag && tag.is_none() {
        return Err(bad("A pull_by_tag event needs its “tag”.".into()));
    }
    let reference = raw.reference.trim();
    if reference.is_empty() || reference.len() > 255 {
        return Err(bad(
            "“reference” must be the tag or digest the client asked for.".into(),
        ));
    }
    let country = raw.country.unwrap_or_default().trim().to_ascii_uppercase();
    if !(country.is_empty()
        || country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(bad(format!(
            "“country” “{}” is not an ISO 3166-1 alpha-2 code (e.g. DE) or empty.",
            short(&country)
        )));
    }
    let host = raw.host.unwrap_or_default().trim().to_ascii_lowercase();
    if host.len() > 32
        || !host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(bad(format!(
            "“host” “{}” is not a cloud provider name (e.g. aws, gcp, azure) or empty.",
            short(&host)
        )));
    }
    let ip = match raw.ip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse::<IpAddr>()
                .map_err(|_| bad(format!("“ip” “{}” is not an IP address.", short(s))))?,
        ),
        None => None,
    };
    Ok(Incoming {
        line,
        id: id.to_string(),
        at,
        namespace: raw.namespace.trim().to_string(),
        repository: raw.repository.trim().to_string(),
        reference: reference.to_string(),
        tag,
        digest: digest.as_str().to_string(),
        action,
        http_method,
        country,
        host,
        user_agent: raw.user_agent.chars().take(500).collect(),
        authenticated: raw.authenticated,
        ip,
    })
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn parse_one(v: &str, line: usize, now: Timestamp) -> Result<Incoming, BatchError> {
    let raw: EventIn = serde_json::from_str(v).map_err(|e| BatchError::Line {
        line,
        message: format!("{}.", json_error(&e)),
    })?;
    check(raw, line, now)
}

/// serde's message without its own position (we name the line).
fn json_error(e: &serde_json::Error) -> String {
    let m = e.to_string();
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m,
    }
}

/// Parses NDJSON: one event per line; blank lines are skipped.
pub fn parse_ndjson(body: &str, now: Timestamp, max: usize) -> Result<Vec<Incoming>, BatchError> {
    let mut out = Vec::new();
    for (i, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if out.len() == max {
            return Err(BatchError::TooMany { max });
        }
        out.push(parse_one(line, i + 1, now)?);
    }
    Ok(out)
}

/// Parses a JSON array of events; "line" is the 1-based position.
pub fn parse_json_array(
    body: &str,
    now: Timestamp,
    max: usize,
) -> Result<Vec<Incoming>, BatchError> {
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(body).map_err(|e| {
        BatchError::Body(format!(
            "The body is not a JSON array of events ({}); send one JSON array, or NDJSON with Content-Type: application/x-ndjson.",
            json_error(&e)
        ))
    })?;
    if items.len() > max {
        return Err(BatchError::TooMany { max });
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| parse_one(v.get(), i + 1, now))
        .collect()
}

/// A CNCF Distribution notification envelope.
#[derive(Debug, Deserialize)]
struct Envelope {
    events: Vec<DistEvent>,
}

#[derive(Debug, Deserialize)]
struct DistEvent {
    #[serde(default)]
    id: String,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: DistTarget,
    #[serde(default)]
    request: DistRequest,
    #[serde(default)]
    actor: DistActor,
}

#[derive(Debug, Default, Deserialize)]
struct DistTarget {
    #[serde(default, rename = "mediaType")]
    media_type: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    repository: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    tag: String,
}

#[derive(Debug, Default, Deserialize)]
struct DistRequest {
    #[serde(default)]
    addr: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    useragent: String,
}

#[derive(Debug, Default, Deserialize)]
struct DistActor {
    #[serde(default)]
    name: String,
}

const MANIFEST_TYPES: [&str; 6] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// What became of one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    /// A manifest pull or version check.
    Pull(Box<Incoming>),
    /// Not a pull (blob fetch, push, delete, mount): nothing to count.
    NotAPull,
}

/// Parses a Distribution envelope: manifest GETs are pulls, manifest HEADs
/// version checks; blob fetches and pushes are not pulls.
pub fn parse_distribution(
    body: &str,
    now: Timestamp,
    max: usize,
) -> Result<Vec<Notified>, BatchError> {
    let env: Envelope = serde_json::from_str(body).map_err(|e| {
        BatchError::Body(format!(
            "The body is not a Distribution notification envelope ({}).",
            json_error(&e)
        ))
    })?;
    if env.events.len() > max {
        return Err(BatchError::TooMany { max });
    }
    let mut out = Vec::with_capacity(env.events.len());
    for (i, e) in env.events.into_iter().enumerate() {
        let line = i + 1;
        let manifest = MANIFEST_TYPES.contains(&e.target.media_type.as_str())
            || e.target.url.contains("/manifests/");
        if e.action != "pull" || !manifest {
            out.push(Notified::NotAPull);
            continue;
        }
        let head = e.request.method.eq_ignore_ascii_case("HEAD");
        let tag = Some(e.target.tag.clone()).filter(|t| !t.is_empty());
        let action = Action::of_request(head, tag.is_some());
        let (namespace, repository) = match e.target.repository.split_once('/') {
            Some((ns, repo)) => (ns.to_string(), repo.to_string()),
            None => ("library".to_string(), e.target.repository.clone()),
        };
        let ip = e
            .request
            .addr
            .parse::<std::net::SocketAddr>()
            .map(|a| a.ip())
            .or_else(|_| e.request.addr.parse::<IpAddr>())
            .ok();
        let raw = EventIn {
            id: e.id,
            timestamp: e.timestamp,
            namespace,
            repository,
            reference: tag.clone().unwrap_or_else(|| e.target.digest.clone()),
            tag,
            digest: e.target.digest,
            action: action.as_str().into(),
            http_method: if head { "HEAD".into() } else { "GET".into() },
            country: None,
            host: None,
            user_agent: e.request.useragent,
            authenticated: !e.actor.name.is_empty(),
            ip: ip.map(|i| i.to_string()),
        };
        out.push(Notified::Pull(Box::new(check(raw, line, now)?)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-11-30T12:00:00Z").unwrap()
    }

    fn line(id: &str, extra: &str) -> String {
        format!(
            r#"{{"id":"{id}","timestamp":"2026-11-30T10:00:00Z","namespace":"fluentorg","repository":"fluent-bit","reference":"latest","tag":"latest","digest":"{D}","action":"pull_by_tag","http_method":"GET","user_agent":"docker/24.0.7","authenticated":false{extra}}}"#
        )
    }

    #[test]
    fn ndjson_lines_parse_and_blank_lines_are_skipped() {
        let body = format!(
            "{}\n\n{}\n",
            line("a", r#","country":"de","ip":"192.0.2.1""#),
            line("b", "")
        );
        let v = parse_ndjson(&body, now(), 10).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].country, "DE");
        assert_eq!(v[1].line, 3);
        assert_eq!(v[0].ip, Some("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn a_bad_line_refuses_the_batch_and_names_the_line() {
        let cases = [
            ("{not json", "Line 2:"),
            (&line("b", r#","extra":1"#), "unknown field `extra`"),
            (
                &line("b", "").replace("pull_by_tag", "push"),
                "is not an action",
            ),
            (
                &line("b", "").replace("2026-11-30T10", "2027-01-01T10"),
                "in the future",
            ),
            (&line("b", "").replace("GET", "HEAD"), "does not match"),
            (&line("b", "").replace(D, "sha256:nope"), "“digest”"),
            (&line("b", r#","country":"Germany""#), "ISO 3166-1"),
            (&line("b", r#","ip":"999.1.1.1""#), "not an IP address"),
            (&line("", ""), "unique id"),
        ];
        for (bad, want) in cases {
            let body = format!("{}\n{bad}\n{}", line("a", ""), line("c", ""));
            let e = parse_ndjson(&body, now(), 10).unwrap_err();
            let m = e.message();
            assert!(m.starts_with("Line 2:"), "{bad}: {m}");
            assert!(m.contains(want), "{bad}: {m}");
        }
    }

    #[test]
    fn batches_are_bounded() {
        let body = (0..5)
            .map(|i| line(&i.to_string(), ""))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            parse_ndjson(&body, now(), 4),
            Err(BatchError::TooMany { max: 4 })
        );
        let arr = format!(
            "[{}]",
            (0..5)
                .map(|i| line(&i.to_string(), ""))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(
            parse_json_array(&arr, now(), 4),
            Err(BatchError::TooMany { max: 4 })
        );
        assert_eq!(parse_json_array(&arr, now(), 5).unwrap().len(), 5);
        assert!(matches!(
            parse_json_array("{}", now(), 5),
            Err(BatchError::Body(_))
        ));
    }

    /// The envelope as Distribution (registry:2) sends it: a manifest GET by
    /// tag, a manifest HEAD, a blob fetch and a push.
    const ENVELOPE: &str = r#"{"events":[
      {"id":"320678d8-ca14-430f-8bb6-4ca139cd83f7","timestamp":"2026-11-30T09:00:00.402973972Z","action":"pull",
       "target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":708,"digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","length":708,"repository":"fluentorg/fluent-bit","url":"http://registry.example:5000/v2/fluentorg/fluent-bit/manifests/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","tag":"latest"},
       "request":{"id":"6df24a34-0959-4923-81ca-14f09767db19","addr":"192.0.2.10:40542","host":"registry.example:5000","method":"GET","useragent":"docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.5.0 os/linux arch/amd64"},
       "actor":{"name":"alice"},"source":{"addr":"registry:5000","instanceID":"d5e21fc7"}},
      {"id":"b3b3a7e0-1","timestamp":"2026-11-30T09:00:01Z","action":"pull",
       "target":{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","repository":"fluentorg/fluent-bit","tag":"3.2"},
       "request":{"addr":"[2001:db8::1]:5000","method":"HEAD","useragent":"containerd/1.7.11"}},
      {"id":"c1","timestamp":"2026-11-30T09:00:02Z","action":"pull",
       "target":{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","repository":"fluentorg/fluent-bit","url":"http://r/v2/fluentorg/fluent-bit/blobs/sha256:0123"},
       "request":{"addr":"192.0.2.10:40542","method":"GET"}},
      {"id":"d1","timestamp":"2026-11-30T09:00:03Z","action":"push",
       "target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","repository":"fluentorg/fluent-bit","tag":"3.3"},
       "request":{"addr":"192.0.2.10:40542","method":"PUT"}}
    ]}"#;

    #[test]
    fn distribution_envelopes_count_manifest_requests_only() {
        let v = parse_distribution(ENVELOPE, now(), 100).unwrap();
        assert_eq!(v.len(), 4);
        let Notified::Pull(a) = &v[0] else {
            panic!("first is a pull")
        };
        assert_eq!(a.action, Action::PullByTag);
        assert_eq!(
            (a.namespace.as_str(), a.repository.as_str()),
            ("fluentorg", "fluent-bit")
        );
        assert_eq!(a.ip, Some("192.0.2.10".parse().unwrap()));
        assert!(a.authenticated);
        assert_eq!(a.id, "320678d8-ca14-430f-8bb6-4ca139cd83f7");
        let Notified::Pull(b) = &v[1] else {
            panic!("second is a version check")
        };
        assert_eq!(b.action, Action::VersionCheck);
        assert_eq!(b.http_method, "HEAD");
        assert_eq!(b.ip, Some("2001:db8::1".parse().unwrap()));
        assert!(!b.authenticated);
        assert_eq!(v[2], Notified::NotAPull);
        assert_eq!(v[3], Notified::NotAPull);
        assert!(matches!(
            parse_distribution("[]", now(), 10),
            Err(BatchError::Body(_))
        ));
        assert_eq!(
            parse_distribution(ENVELOPE, now(), 3),
            Err(BatchError::TooMany { max: 3 })
        );
    }
}
