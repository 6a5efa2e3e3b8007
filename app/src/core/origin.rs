//! Cross-site request refusal: a state-changing request that rides on the
//! session cookie must come from the hub's own pages. Browsers say where a
//! request comes from (`Sec-Fetch-Site`, else `Origin`, else `Referer`);
//! requests authenticated by a bearer token are exempt (another site cannot
//! attach one), and so are clients that are not browsers and carry no cookie.

use super::state::AppState;
use crate::error::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Where a request says it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// The hub's own origin (or typed into the address bar).
    SameOrigin,
    /// Anywhere else; the text names the signal that said so.
    CrossSite(String),
    /// No browser signal at all (curl, scripts).
    Unknown,
}

/// `scheme://host[:port]` of the public URL.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// Reads the browser's signals, strongest first.
pub fn provenance(headers: &HeaderMap, public_url: &str) -> Provenance {
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).map(str::trim);
    let own = origin_of(public_url);
    if let Some(site) = get("sec-fetch-site") {
        return match site {
            "same-origin" | "none" => Provenance::SameOrigin,
            other => Provenance::CrossSite(format!("Sec-Fetch-Site: {other}")),
        };
    }
    if let Some(origin) = get(header::ORIGIN.as_str()) {
        return if origin.eq_ignore_ascii_case(own) {
            Provenance::SameOrigin
        } else {
            Provenance::CrossSite(format!("Origin: {origin}"))
        };
    }
    if let Some(referer) = get(header::REFERER.as_str()) {
        let on_hub = referer
            .strip_prefix(own)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        return if on_hub {
            Provenance::SameOrigin
        } else {
            Provenance::CrossSite("a Referer from another site".into())
        };
    }
    Provenance::Unknown
}

/// Sign-in and sign-up open sessions, so they are guarded too (login CSRF).
fn opens_a_session(path: &str) -> bool {
    matches!(path, "/api/sign_in" | "/api/sign_up")
}

/// The decision for one request; `None` lets it through.
pub fn refusal(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    has_session_cookie: bool,
    public_url: &str,
) -> Option<AppError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    if !has_session_cookie && !opens_a_session(path) {
        return None;
    }
    match provenance(headers, public_url) {
        Provenance::SameOrigin => None,
        Provenance::CrossSite(why) => Some(AppError::forbidden(format!(
            "Cross-site request refused ({why}): changes with a signed-in session must come from the hub's own pages. Automation should use an access token (Authorization: Bearer …)."
        ))),
        Provenance::Unknown if has_session_cookie => Some(AppError::forbidden(
            "Request refused: a change made with a session cookie must say where it comes from (send `Origin: <the hub's address>`), or use an access token (Authorization: Bearer …).",
        )),
        Provenance::Unknown => None,
    }
}

/// The middleware.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let has_cookie = super::caller::session_secret(req.headers(), &state.settings).is_some();
    if let Some(e) = refusal(
        req.method(),
        req.uri().path(),
        req.headers(),
        has_cookie,
        &state.settings.public_url,
    ) {
        tracing::info!(path = %req.uri().path(), reason = %e.message, "cross-site request refused");
        return e.into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const HUB: &str = "https://hub.example.org";

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn signals_in_order() {
        assert_eq!(
            provenance(&h(&[("sec-fetch-site", "same-origin")]), HUB),
            Provenance::SameOrigin
        );
        assert_eq!(
            provenance(&h(&[("sec-fetch-site", "none")]), HUB),
            Provenance::SameOrigin
        );
        assert!(matches!(
            provenance(&h(&[("sec-fetch-site", "same-site")]), HUB),
            Provenance::CrossSite(_)
        ));
        assert!(matches!(
            provenance(
                &h(&[("sec-fetch-site", "cross-site"), ("origin", HUB)]),
                HUB
            ),
            Provenance::CrossSite(_)
        ));
        assert_eq!(
            provenance(&h(&[("origin", "https://hub.example.org")]), HUB),
            Provenance::SameOrigin
        );
        assert!(matches!(
            provenance(&h(&[("origin", "https://hub.example.org.evil.net")]), HUB),
            Provenance::CrossSite(_)
        ));
        assert!(matches!(
            provenance(&h(&[("origin", "null")]), HUB),
            Provenance::CrossSite(_)
        ));
        assert_eq!(
            provenance(&h(&[("referer", "https://hub.example.org/u/x")]), HUB),
            Provenance::SameOrigin
        );
        assert!(matches!(
            provenance(&h(&[("referer", "https://hub.example.org.evil.net/")]), HUB),
            Provenance::CrossSite(_)
        ));
        assert_eq!(provenance(&h(&[]), HUB), Provenance::Unknown);
        assert_eq!(
            origin_of("http://127.0.0.1:3000/x"),
            "http://127.0.0.1:3000"
        );
    }

    #[test]
    fn who_is_refused() {
        let post = Method::POST;
        let cross = h(&[("sec-fetch-site", "cross-site")]);
        // Cookie + cross-site: refused; a token: exempt; reads: exempt.
        assert!(refusal(&post, "/api/create_org", &cross, true, HUB).is_some());
        assert!(refusal(&Method::GET, "/api/v1/orgs", &cross, true, HUB).is_none());
        let mut token = cross.clone();
        token.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer hubpat_x"),
        );
        assert!(refusal(&post, "/api/v1/orgs", &token, true, HUB).is_none());
        // Cookie without any signal: refused; without a cookie: not our business.
        assert!(refusal(&post, "/api/create_org", &h(&[]), true, HUB).is_some());
        assert!(refusal(&post, "/api/create_org", &h(&[]), false, HUB).is_none());
        // Login CSRF: a cross-site sign-in is refused even without a cookie.
        assert!(refusal(&post, "/api/sign_in", &cross, false, HUB).is_some());
        assert!(refusal(&post, "/api/sign_in", &h(&[]), false, HUB).is_none());
    }
}
