//! The client tool behind a pull, read from its `User-Agent` header, as Docker
//! Hub's analytics raw export reports it (`user_agent_tool`,
//! `user_agent_version`). Pure and allocation-light (one small `String` per
//! call), so it runs per pull event on the server and in the browser alike.
//!
//! # How a User-Agent is read
//!
//! A User-Agent is a list of *products* (`name/version`) separated by spaces,
//! with parenthesised *comments* in between (RFC 9110 §10.1.5). Commas also
//! separate products, because kaniko joins its parts with them. Comments are
//! skipped entirely, honouring nesting and `\(`/`\)` escapes. This matters
//! because Docker Engine puts the client that asked it to pull in one,
//! `UpstreamClient(Docker-Client/24.0.7 \(linux\))`, and the daemon, not the
//! CLI, is the tool that pulled. Product names compare ASCII
//! case-insensitively (`Helm/`, `Buildah/`, `Go-http-client/`). Only the
//! first `MAX_SCAN` (1024) bytes are read: real client strings are a few
//! hundred bytes, and this keeps a hostile 100 kB header as cheap as a normal
//! one.
//!
//! # Rules and precedence
//!
//! The table `RULES` is checked top to bottom and the first match wins. Many
//! clients embed another one's string (ko and crane append `go-containerregistry/…`,
//! BuildKit inside dockerd appends `moby/…`, Docker appends `go/…` and the
//! upstream client), so the *leading* product, which names the program that
//! actually made the request, decides wherever it is a known one:
//!
//! 1. `nerdctl/` anywhere: nerdctl normally sends containerd's string, so when
//!    it names itself at all it may do so after `containerd/`.
//! 2. Leading products of the tools themselves: `docker/` (the daemon) and
//!    `Docker-Client/` (the CLI talking to a registry directly), `buildkit/`,
//!    `containerd/`, `cri-o/`, `podman/`/`libpod/`, `Buildah/`, `skopeo/`,
//!    `ko/`, `kaniko/`, `crane/`/`gcrane/`, `oras/`/`oras-go`, `Helm/`,
//!    `Go-http-client/`, `curl/`.
//! 3. A web browser: leading `Mozilla/` plus a browser product (see below).
//! 4. Library defaults, sent when the program did not name itself:
//!    containers/image's `containers/5.29.0 (github.com/containers/image)`
//!    counts as **podman**: skopeo sends `skopeo/…`, buildah `Buildah/…` and
//!    CRI-O `cri-o/… go/… os/… arch/…`, while podman keeps the library
//!    default, so the bare string is podman's (or that of another
//!    containers/image program that did not name itself).
//!    go-containerregistry's bare `go-containerregistry/v0.16.1` counts as
//!    **crane**, the library's own CLI.
//! 5. A known engine product behind an unknown leading one (a wrapper or proxy
//!    that prepends itself): `buildkit/`, `containerd/`, `go-containerregistry/`.
//! 6. Anything else, including an empty header, is `other`.
//!
//! # Versions
//!
//! The version is the matched product's, as sent, minus one leading `v` or
//! `V` that comes before a digit, so `containerd/v1.7.11` and
//! `containerd/1.7.11` both give `1.7.11` and aggregate together. It is cut at
//! the first character outside `[0-9A-Za-z.+_~-]` and at `MAX_VERSION` (64)
//! characters, and is empty when the product has none (`oras-go`,
//! `crane/(devel)`). Browsers give `<browser>-<major>` (`chrome-120`,
//! `edge-120`, `firefox-121`, `safari-17`, `opera-106`): the full build number
//! is noise for pull analytics, and `Chrome/120.0.0.0` appears in every
//! Chromium-based browser's string anyway.

/// A client tool recognised from a User-Agent header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// One of [`TOOLS`].
    pub tool: &'static str,
    /// The tool's version as it sent it, minus a leading `v` before a digit
    /// (`24.0.7`, `1.7.11` for `v1.7.11`, `1.7.11-k3s2`); for a browser
    /// `<browser>-<major>` (`chrome-120`). Empty when none. At most
    /// `MAX_VERSION` characters of `[0-9A-Za-z.+_~-]`.
    pub version: String,
}

/// Every tool name `parse` can return, in display order; `other` last.
pub const TOOLS: &[&str] = &[
    "docker",
    "containerd",
    "podman",
    "skopeo",
    "buildkit",
    "buildah",
    "crane",
    "kaniko",
    "cri-o",
    "nerdctl",
    "ko",
    "oras",
    "helm",
    "go-http-client",
    "curl",
    "browser",
    OTHER,
];

/// The tool for anything not recognised.
const OTHER: &str = "other";

/// The longest version `parse` returns, in characters (all ASCII).
const MAX_VERSION: usize = 64;

/// How many leading bytes of a User-Agent are read.
const MAX_SCAN: usize = 1024;

/// How a rule recognises its tool.
enum Find {
    /// The leading product's name is one of these.
    Lead(&'static [&'static str]),
    /// Any product's name is one of these (comments excluded).
    Any(&'static [&'static str]),
    /// A leading `Mozilla/` with a known browser product.
    Browser,
}

/// One row of the table: the tool and how to recognise it. The version comes
/// from the product that matched.
struct Rule {
    tool: &'static str,
    find: Find,
}

/// The recognition table, checked in order; the first match wins. See the
/// module documentation for why it is in this order.
const RULES: &[Rule] = &[
    // 1. nerdctl wherever it names itself (it may follow `containerd/`).
    Rule {
        tool: "nerdctl",
        find: Find::Any(&["nerdctl"]),
    },
    // 2. The program that made the request, named first.
    Rule {
        tool: "docker",
        find: Find::Lead(&["docker", "docker-client"]),
    },
    Rule {
        tool: "buildkit",
        find: Find::Lead(&["buildkit"]),
    },
    Rule {
        tool: "containerd",
        find: Find::Lead(&["containerd"]),
    },
    Rule {
        tool: "cri-o",
        find: Find::Lead(&["cri-o"]),
    },
    Rule {
        tool: "podman",
        find: Find::Lead(&["podman", "libpod"]),
    },
    Rule {
        tool: "buildah",
        find: Find::Lead(&["buildah"]),
    },
    Rule {
        tool: "skopeo",
        find: Find::Lead(&["skopeo"]),
    },
    Rule {
        tool: "ko",
        find: Find::Lead(&["ko"]),
    },
    Rule {
        tool: "kaniko",
        find: Find::Lead(&["kaniko"]),
    },
    Rule {
        tool: "crane",
        find: Find::Lead(&["crane", "gcrane"]),
    },
    Rule {
        tool: "oras",
        find: Find::Lead(&["oras", "oras-go"]),
    },
    Rule {
        tool: "helm",
        find: Find::Lead(&["helm"]),
    },
    Rule {
        tool: "go-http-client",
        find: Find::Lead(&["go-http-client"]),
    },
    Rule {
        tool: "curl",
        find: Find::Lead(&["curl"]),
    },
    // 3. Web browsers.
    Rule {
        tool: "browser",
        find: Find::Browser,
    },
    // 4. Library defaults: containers/image (podman), go-containerregistry.
    Rule {
        tool: "podman",
        find: Find::Lead(&["containers"]),
    },
    Rule {
        tool: "crane",
        find: Find::Lead(&["go-containerregistry"]),
    },
    // 5. A known engine behind an unknown leading product.
    Rule {
        tool: "buildkit",
        find: Find::Any(&["buildkit"]),
    },
    Rule {
        tool: "containerd",
        find: Find::Any(&["containerd"]),
    },
    Rule {
        tool: "crane",
        find: Find::Any(&["go-containerregistry"]),
    },
];

/// Parses a User-Agent; unknown or empty → tool `other`, version empty. Never
/// panics, any input (also very long or non-ASCII strings); version at most
/// 64 chars and made only of [0-9A-Za-z.+_~-].
#[must_use]
pub fn parse(user_agent: &str) -> Agent {
    let bytes = user_agent.as_bytes();
    let ua = &bytes[..bytes.len().min(MAX_SCAN)];
    let lead = Products::new(ua).next();
    for rule in RULES {
        let version = match rule.find {
            Find::Lead(names) => lead
                .filter(|p| is_one_of(p.name, names))
                .map(|p| clean_version(p.version)),
            Find::Any(names) => Products::new(ua)
                .find(|p| is_one_of(p.name, names))
                .map(|p| clean_version(p.version)),
            Find::Browser => lead
                .filter(|p| p.name.eq_ignore_ascii_case(b"mozilla"))
                .and_then(|_| browser_version(ua)),
        };
        if let Some(version) = version {
            return Agent {
                tool: rule.tool,
                version,
            };
        }
    }
    Agent {
        tool: OTHER,
        version: String::new(),
    }
}

/// A human label for a tool name (e.g. "cri-o" → "CRI-O", "go-http-client" →
/// "Go HTTP client", "other" → "Other").
#[must_use]
pub fn label(tool: &str) -> &'static str {
    match tool {
        "docker" => "Docker",
        "containerd" => "containerd",
        "podman" => "Podman",
        "skopeo" => "Skopeo",
        "buildkit" => "BuildKit",
        "buildah" => "Buildah",
        "crane" => "crane",
        "kaniko" => "kaniko",
        "cri-o" => "CRI-O",
        "nerdctl" => "nerdctl",
        "ko" => "ko",
        "oras" => "ORAS",
        "helm" => "Helm",
        "go-http-client" => "Go HTTP client",
        "curl" => "curl",
        "browser" => "Browser",
        _ => "Other",
    }
}

/// One `name/version` product of a User-Agent; `version` is raw (possibly
/// empty or with trailing junk) and `name` may be any bytes.
#[derive(Clone, Copy)]
struct Product<'a> {
    name: &'a [u8],
    version: &'a [u8],
}

/// The products of a User-Agent in order, comments skipped.
struct Products<'a> {
    ua: &'a [u8],
    at: usize,
}

impl<'a> Products<'a> {
    fn new(ua: &'a [u8]) -> Self {
        Products { ua, at: 0 }
    }
}

impl<'a> Iterator for Products<'a> {
    type Item = Product<'a>;

    fn next(&mut self) -> Option<Product<'a>> {
        let ua = self.ua;
        loop {
            match *ua.get(self.at)? {
                b'(' => self.at = skip_comment(ua, self.at),
                b if is_separator(b) => self.at += 1,
                _ => break,
            }
        }
        let start = self.at;
        while let Some(&b) = ua.get(self.at) {
            if b == b'(' || is_separator(b) {
                break;
            }
            self.at += 1;
        }
        let token = &ua[start..self.at];
        Some(match token.iter().position(|&b| b == b'/') {
            Some(slash) => Product {
                name: &token[..slash],
                version: &token[slash + 1..],
            },
            None => Product {
                name: token,
                version: &[],
            },
        })
    }
}

/// Separates products: whitespace, and commas (kaniko joins with them).
fn is_separator(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b','
}

/// The index just past the comment opening at `open` (a `(`), honouring
/// nesting and backslash escapes; the end of `ua` if it is never closed.
fn skip_comment(ua: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut at = open;
    while let Some(&b) = ua.get(at) {
        match b {
            b'\\' => at += 1,
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at + 1;
                }
            }
            _ => {}
        }
        at += 1;
    }
    ua.len()
}

fn is_one_of(name: &[u8], names: &[&str]) -> bool {
    names
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
}

fn is_version_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'_' | b'~' | b'-')
}

/// The clean form of a raw product version: one leading `v` before a digit
/// dropped, cut at the first byte outside the version alphabet and at
/// `MAX_VERSION`.
fn clean_version(raw: &[u8]) -> String {
    let raw = match raw {
        [b'v' | b'V', digit, ..] if digit.is_ascii_digit() => &raw[1..],
        _ => raw,
    };
    raw.iter()
        .take_while(|&&b| is_version_byte(b))
        .take(MAX_VERSION)
        .map(|&b| char::from(b))
        .collect()
}

/// `<browser>-<major>` for a browser's User-Agent, `None` if no browser
/// product is in it (e.g. a crawler's `Mozilla/5.0 (compatible; …)`).
/// Chromium browsers also send `Chrome/` and `Safari/`, and Chrome sends
/// `Safari/`, so the most specific product wins: Edge, Opera, Firefox,
/// Chrome, then Safari (whose version is in `Version/`).
fn browser_version(ua: &[u8]) -> Option<String> {
    const BROWSERS: &[(&str, &[&str])] = &[
        ("edge", &["edg", "edga", "edgios", "edge"]),
        ("opera", &["opr"]),
        ("firefox", &["firefox", "fxios"]),
        ("chrome", &["chrome", "crios"]),
    ];
    let mut best: Option<(usize, &[u8])> = None;
    let mut safari = false;
    let mut safari_version: &[u8] = &[];
    for product in Products::new(ua) {
        if product.name.eq_ignore_ascii_case(b"safari") {
            safari = true;
        } else if product.name.eq_ignore_ascii_case(b"version") {
            safari_version = product.version;
        } else if let Some(rank) = BROWSERS
            .iter()
            .position(|(_, names)| is_one_of(product.name, names))
            && best.is_none_or(|(r, _)| rank < r)
        {
            best = Some((rank, product.version));
        }
    }
    let (browser, version) = match best {
        Some((rank, version)) => (BROWSERS.get(rank)?.0, version),
        None if safari => ("safari", safari_version),
        None => return None,
    };
    let mut out = String::from(browser);
    // A major version of at most 16 digits keeps the result within MAX_VERSION.
    let major = version.iter().take_while(|b| b.is_ascii_digit()).take(16);
    for (i, &digit) in major.enumerate() {
        if i == 0 {
            out.push('-');
        }
        out.push(char::from(digit));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real User-Agent strings as clients send them: (header, tool, version).
    const REAL: &[(&str, &str, &str)] = &[
        // Docker Engine (the daemon pulls; the CLI is in UpstreamClient).
        (
            r"docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.5.0-14-generic os/linux arch/amd64 UpstreamClient(Docker-Client/24.0.7 \(linux\))",
            "docker",
            "24.0.7",
        ),
        (
            r"docker/1.13.1 go/go1.7.5 git-commit/092cba3 kernel/4.9.8-moby os/linux arch/amd64 UpstreamClient(Docker-Client/1.13.1 \(darwin\))",
            "docker",
            "1.13.1",
        ),
        (
            r"docker/17.09.0-ce go/go1.8.3 git-commit/afdb6d4 kernel/4.9.49-moby os/linux arch/amd64 UpstreamClient(Docker-Client/17.09.0-ce \(darwin\))",
            "docker",
            "17.09.0-ce",
        ),
        (
            r"docker/24.0.6 go/go1.20.7 git-commit/1a79695 kernel/6.4.16-linuxkit os/linux arch/arm64 UpstreamClient(Docker-Client/24.0.6 \(darwin\))",
            "docker",
            "24.0.6",
        ),
        (
            r"docker/20.10.21 go/go1.18.7 git-commit/3056208 kernel/5.15.49-linuxkit os/linux arch/amd64 UpstreamClient(Docker-Client/20.10.21 \(windows\))",
            "docker",
            "20.10.21",
        ),
        (
            r"docker/20.10.24+dfsg1 go/go1.19.8 git-commit/5d6db84 kernel/6.1.0-13-amd64 os/linux arch/amd64 UpstreamClient(Docker-Client/20.10.24+dfsg1 \(linux\))",
            "docker",
            "20.10.24+dfsg1",
        ),
        (
            "docker/26.1.4 go/go1.21.11 git-commit/de5c9cf kernel/5.15.0-112-generic os/linux arch/amd64",
            "docker",
            "26.1.4",
        ),
        ("Docker-Client/24.0.7 (linux)", "docker", "24.0.7"),
        // containerd (Kubernetes nodes, k3s, nerdctl by default).
        ("containerd/1.7.11", "containerd", "1.7.11"),
        ("containerd/v1.6.24", "containerd", "1.6.24"),
        ("containerd/v1.7.11-k3s2", "containerd", "1.7.11-k3s2"),
        ("containerd/1.6.21+unknown", "containerd", "1.6.21+unknown"),
        ("containerd/v2.0.0", "containerd", "2.0.0"),
        // BuildKit (buildx, and dockerd's embedded BuildKit adding moby/).
        ("buildkit/v0.12", "buildkit", "0.12"),
        ("buildkit/v0.11 moby/v24.0", "buildkit", "0.11"),
        ("buildkit/v0.13-dev", "buildkit", "0.13-dev"),
        // CRI-O.
        (
            "cri-o/1.28.1 go/go1.20.10 os/linux arch/amd64",
            "cri-o",
            "1.28.1",
        ),
        (
            "cri-o/1.29.0 go/go1.21.5 os/linux arch/arm64",
            "cri-o",
            "1.29.0",
        ),
        // containers/image's default string: podman.
        (
            "containers/5.29.0 (github.com/containers/image)",
            "podman",
            "5.29.0",
        ),
        (
            "containers/5.16.0 (github.com/containers/image)",
            "podman",
            "5.16.0",
        ),
        (
            "containers/5.29.1-dev (github.com/containers/image)",
            "podman",
            "5.29.1-dev",
        ),
        // skopeo and buildah name themselves.
        ("skopeo/1.13.3", "skopeo", "1.13.3"),
        ("skopeo/1.14.0-dev", "skopeo", "1.14.0-dev"),
        ("Buildah/1.33.2", "buildah", "1.33.2"),
        ("Buildah/1.23.1", "buildah", "1.23.1"),
        // go-containerregistry and the tools on it.
        (
            "crane/v0.19.0 go-containerregistry/v0.19.0",
            "crane",
            "0.19.0",
        ),
        ("go-containerregistry/v0.16.1", "crane", "0.16.1"),
        ("ko/v0.15.1 go-containerregistry/v0.16.1", "ko", "0.15.1"),
        ("kaniko/v1.19.2", "kaniko", "1.19.2"),
        ("kaniko/v1.9.1", "kaniko", "1.9.1"),
        // ORAS and Helm.
        ("oras/1.1.0", "oras", "1.1.0"),
        ("oras-go", "oras", ""),
        ("Helm/3.13.2", "helm", "3.13.2"),
        ("Helm/3.14.0", "helm", "3.14.0"),
        // Plain HTTP clients.
        ("Go-http-client/1.1", "go-http-client", "1.1"),
        ("Go-http-client/2.0", "go-http-client", "2.0"),
        ("curl/8.5.0", "curl", "8.5.0"),
        ("curl/7.81.0", "curl", "7.81.0"),
        // Browsers.
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "browser",
            "chrome-120",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
            "browser",
            "chrome-120",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            "browser",
            "edge-120",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
            "browser",
            "opera-106",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "browser",
            "firefox-121",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:109.0) Gecko/20100101 Firefox/115.0",
            "browser",
            "firefox-115",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
            "browser",
            "safari-17",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
            "browser",
            "safari-17",
        ),
        // Everything else.
        ("python-requests/2.31.0", "other", ""),
        ("Wget/1.21.2", "other", ""),
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "other",
            "",
        ),
        ("", "other", ""),
    ];

    /// Forms the rules accept that are not taken from a captured header:
    /// (header, tool, version).
    const FORMS: &[(&str, &str, &str)] = &[
        ("nerdctl/v1.7.2", "nerdctl", "1.7.2"),
        ("containerd/1.7.11 nerdctl/1.7.2", "nerdctl", "1.7.2"),
        ("libpod/4.9.3", "podman", "4.9.3"),
        ("podman/5.0.0", "podman", "5.0.0"),
        ("buildah/1.33.2", "buildah", "1.33.2"),
        ("crane/(devel) go-containerregistry/(devel)", "crane", ""),
        (
            "gcrane/v0.19.0 go-containerregistry/v0.19.0",
            "crane",
            "0.19.0",
        ),
        ("ko go-containerregistry/v0.16.1", "ko", ""),
        ("kaniko/v1.19.2,gitlab-runner", "kaniko", "1.19.2"),
        (
            "oras/1.2.0+Homebrew (darwin/arm64)",
            "oras",
            "1.2.0+Homebrew",
        ),
        ("DOCKER/24.0.7", "docker", "24.0.7"),
        ("  docker/24.0.7  ", "docker", "24.0.7"),
        // The upstream client in a comment never decides.
        (
            "docker/25.0.0 UpstreamClient(buildkit/v0.12)",
            "docker",
            "25.0.0",
        ),
        (r"x/1 (a \) buildkit/v0.12) y/2", "other", ""),
        // A known engine behind an unknown leading product.
        ("someproxy/1.0 containerd/v1.7.1", "containerd", "1.7.1"),
        (
            "tekton/0.50 go-containerregistry/v0.16.1",
            "crane",
            "0.16.1",
        ),
        (
            "dagger/0.9 buildkit/v0.12-dagger",
            "buildkit",
            "0.12-dagger",
        ),
        // Versions: `v` only dropped before a digit; junk cut off.
        ("docker/version", "docker", "version"),
        ("docker/v", "docker", "v"),
        ("docker/24.0.7;junk", "docker", "24.0.7"),
        ("curl/8.5.0ü", "curl", "8.5.0"),
        ("Mozilla/5.0 Chrome/ Safari/537.36", "browser", "chrome"),
        ("Mozilla/5.0 Safari/604.1", "browser", "safari"),
    ];

    fn check(cases: &[(&str, &str, &str)]) {
        let mut failures = Vec::new();
        for &(ua, tool, version) in cases {
            let got = parse(ua);
            if got.tool != tool || got.version != version {
                failures.push(format!(
                    "{ua:?}: got ({}, {:?}), want ({tool}, {version:?})",
                    got.tool, got.version
                ));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn real_user_agents() {
        assert!(REAL.len() >= 30);
        check(REAL);
    }

    #[test]
    fn accepted_forms() {
        check(FORMS);
    }

    fn assert_well_formed(ua: &str) {
        let agent = parse(ua);
        let shown: String = ua.chars().take(40).collect();
        assert!(TOOLS.contains(&agent.tool), "{shown:?}: {}", agent.tool);
        assert!(agent.version.len() <= 64, "{shown:?}: {}", agent.version);
        assert!(
            agent.version.bytes().all(is_version_byte),
            "{shown:?}: {:?}",
            agent.version
        );
    }

    #[test]
    fn odd_input_is_safe() {
        let long_version = format!("docker/{}", "9".repeat(10_000));
        let long_browser = format!("Mozilla/5.0 Chrome/{}", "1".repeat(10_000));
        let odd = [
            String::new(),
            "   ".into(),
            "/".into(),
            "//".into(),
            "docker/".into(),
            "docker/ ".into(),
            "(".into(),
            ")".into(),
            "((((".into(),
            "\\".into(),
            "(\\".into(),
            "docker/24.0.7 (unterminated".into(),
            "\0\u{1}\u{7f}\t\r\n".into(),
            "docker/24\0.0".into(),
            "докер/1.0 контейнер".into(),
            "🐳/🐳 (🐳)".into(),
            "Mozilla/5.0 (😀) Firefox/😀".into(),
            "a".repeat(100_000),
            "docker/".repeat(20_000),
            "(".repeat(100_000),
            "é".repeat(50_000),
            long_version,
            long_browser,
        ];
        for ua in &odd {
            assert_well_formed(ua);
        }
        assert_eq!(parse(&"a".repeat(100_000)).tool, "other");
        assert_eq!(parse("docker/").version, "");
        assert_eq!(
            parse(&format!("docker/{}", "9".repeat(100))).version.len(),
            64
        );
    }

    #[test]
    fn every_tool_is_listed() {
        assert_eq!(TOOLS.last(), Some(&"other"));
        for rule in RULES {
            assert!(TOOLS.contains(&rule.tool), "{} not in TOOLS", rule.tool);
        }
        for tool in TOOLS.iter().filter(|&&t| t != "other") {
            assert!(RULES.iter().any(|r| r.tool == *tool), "{tool} has no rule");
        }
        for (i, tool) in TOOLS.iter().enumerate() {
            assert!(!TOOLS[..i].contains(tool), "{tool} twice");
        }
    }

    #[test]
    fn every_tool_has_a_label() {
        for tool in TOOLS {
            let want_other = *tool == "other";
            assert_eq!(label(tool) == "Other", want_other, "{tool}");
        }
        assert_eq!(label("cri-o"), "CRI-O");
        assert_eq!(label("go-http-client"), "Go HTTP client");
        assert_eq!(label("nonsense"), "Other");
    }
}
