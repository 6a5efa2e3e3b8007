//! Small shared view pieces: error display, pills, the badge, the renew
//! banner and the repository card. They import only `domain` and `error`.

use crate::domain::namespace::DEFAULT_LOGO_PATH;
use crate::domain::{Membership, MembershipStatus, RepoSummary, Timestamp};
use crate::error::AppError;
use leptos::prelude::*;

/// Sets the HTTP status of the page being rendered on the server (404 for a
/// namespace or repository that does not exist or cannot be seen).
pub fn set_page_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(res), Ok(code)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(status),
    ) {
        res.set_status(code);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

/// Passes a page's main data through, first setting the page's HTTP status
/// from its error (404, 403, …) while rendering on the server. Call it in the
/// resource's fetcher: that runs before the response's head is written.
pub fn with_page_status<T>(r: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &r {
        set_page_status(e.status());
    }
    r
}

/// Shows the error of the last action run, if any.
#[component]
pub fn ActionError<T, S>(value: S) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value.get().and_then(|r| r.err()).map(|e| {
            view! { <p class="error-box" role="alert" data-testid="action-error">{e.message}</p> }
        })
    }
}

/// The error an action's server answer names `field` for, shown under that
/// field (`id` is what the field's `aria-describedby` points at).
#[component]
pub fn FieldError<T, S>(value: S, field: &'static str, id: String) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value
            .get()
            .and_then(|r| r.err())
            .filter(|e| e.field.as_deref() == Some(field))
            .map(|e| view! { <p class="field-error" id=id.clone() role="alert" data-testid=format!("error-{field}")>{e.message}</p> })
    }
}

/// An action's error that names none of `fields` (those show under their field).
#[component]
pub fn OtherError<T, S>(value: S, fields: &'static [&'static str]) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value
            .get()
            .and_then(|r| r.err())
            .filter(|e| !e.field.as_deref().is_some_and(|f| fields.contains(&f)))
            .map(|e| view! { <p class="error-box" role="alert" data-testid="action-error">{e.message}</p> })
    }
}

/// "public" / "private" pill.
#[component]
pub fn Visibility(is_private: bool) -> impl IntoView {
    if is_private {
        view! { <span class="pill private">"private"</span> }
    } else {
        view! { <span class="pill public">"public"</span> }
    }
}

/// `sha256:0123456789ab…`
pub fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}…", &hex[..12]),
        _ => d.to_string(),
    }
}

/// Shown when a page needs a signed-in user.
#[component]
pub fn SignInFirst() -> impl IntoView {
    let here = leptos_router::hooks::use_location();
    let back = move || {
        let (path, query) = (here.pathname.get(), here.search.get());
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    };
    view! {
        <div class="panel">
            <p>"You need to sign in to see this page. You come back here afterwards."</p>
            <a class="button" href=move || with_next("/signin", &back()) data-testid="signin-first">"Sign in"</a>
            " "
            <a href=move || with_next("/signup", &back())>"Create an account"</a>
        </div>
    }
}

/// Where to go after signing in: a path on this site (`/…`, not `//host`
/// or a scheme), else nothing. Shared by the sign-in and sign-up pages.
pub fn safe_next(raw: &str) -> Option<String> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && raw.len() <= 1000
        && !raw.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| raw.to_string())
}

/// `page?next=<path, encoded>`.
pub fn with_next(page: &str, next: &str) -> String {
    let encoded =
        percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!("{page}?next={encoded}")
}

/// The verified "Sponsored OSS" badge. Hover or focus explains it.
#[component]
pub fn SponsoredBadge(#[prop(default = None)] until: Option<Timestamp>) -> impl IntoView {
    let tip = match until {
        Some(t) => format!(
            "Sponsored Open Source: iEchor verified this namespace as an active, non-commercial open-source project (membership until {}). Its public images have no pull rate limits.",
            t.date()
        ),
        None => "Sponsored Open Source: iEchor verified this namespace as an active, non-commercial open-source project. Its public images have no pull rate limits.".to_string(),
    };
    let label = tip.clone();
    view! {
        <span class="sponsored-badge" tabindex="0" data-testid="sponsored-badge" aria-label=label>
            <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
                <path d="M8 1l1.9 1.4 2.3-.2.7 2.2 1.9 1.4-.8 2.2.8 2.2-1.9 1.4-.7 2.2-2.3-.2L8 15l-1.9-1.4-2.3.2-.7-2.2L1.2 10.2 2 8l-.8-2.2 1.9-1.4.7-2.2 2.3.2z" fill="currentColor"/>
                <path d="M5.2 8.2l1.9 1.9 3.8-3.9" stroke="#fff" stroke-width="1.6" fill="none"/>
            </svg>
            "Sponsored OSS"
            <span class="tooltip" role="tooltip">{tip}</span>
        </span>
    }
}

/// The banner shown on every page of a namespace whose renewal is due or
/// whose membership is in its grace period; once a renewal is filed it says
/// so instead of offering another.
#[component]
pub fn RenewBanner(
    namespace: String,
    membership: Option<Membership>,
    #[prop(optional)] renewal_pending: bool,
) -> impl IntoView {
    membership.and_then(|m| {
        let text = match m.status {
            MembershipStatus::RenewalDue | MembershipStatus::Grace if renewal_pending => format!(
                "The Sponsored Open Source membership of {namespace} ends on {}. A renewal is waiting for review.",
                m.expires_at.date()
            ),
            MembershipStatus::RenewalDue => format!(
                "The Sponsored Open Source membership of {namespace} ends on {}. Owners can renew now.",
                m.expires_at.date()
            ),
            MembershipStatus::Grace => format!(
                "The Sponsored Open Source membership of {namespace} ended on {}. Perks keep working until {}: renew to keep them.",
                m.expires_at.date(),
                m.grace_ends_at.date()
            ),
            _ => return None,
        };
        let class = if m.status == MembershipStatus::Grace { "banner warn" } else { "banner" };
        Some(view! {
            <div class=class role="status" data-testid="renew-banner">
                <span>{text}</span>
                {(!renewal_pending).then(|| view! { <a class="button small" href=format!("/u/{namespace}/program")>"Renew"</a> })}
            </div>
        })
    })
}

/// `1 tag`, `2 tags`, `38,292 pulls`.
pub fn plural(n: i64, word: &str) -> String {
    let digits = if n < 0 {
        format!("-{}", thousands(n.unsigned_abs()))
    } else {
        thousands(n.unsigned_abs())
    };
    format!("{digits} {word}{}", if n == 1 { "" } else { "s" })
}

/// Groups digits: `5242880` → `5,242,880` (every count the pages show).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n / unit` with one decimal, rounded half up: `decimal(12_345_678,
/// 1_000_000)` is `12.3`. Integer arithmetic only, so the browser build
/// carries no float formatting code for it.
pub fn decimal(n: u64, unit: u64) -> String {
    let tenths = (u128::from(n) * 10 + u128::from(unit) / 2) / u128::from(unit.max(1));
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// One repository in a list (namespace page, search results): small logo,
/// name, visibility, badge, description, counts.
#[component]
pub fn RepoCard(repo: RepoSummary) -> impl IntoView {
    let r = repo;
    view! {
        <li class="with-logo">
            <img class="logo-small" alt="" width="40" height="40" loading="lazy"
                src=r.small_logo.clone().unwrap_or_else(|| DEFAULT_LOGO_PATH.to_string())/>
            <div>
                <a class="repo-name" href=format!("/r/{}/{}", r.namespace, r.name)>{format!("{}/{}", r.namespace, r.name)}</a>
                " " <Visibility is_private=r.is_private/>
                {(r.sponsored && !r.is_private).then(|| view! { " " <SponsoredBadge/> })}
                <p class="desc">{if r.description.is_empty() { "No description".to_string() } else { r.description.clone() }}</p>
                <p class="muted small">
                    {format!("{} · {}", plural(r.tag_count, "tag"), plural(r.pull_count, "pull"))}
                    {r.last_pushed_at.map(|t| format!(" · last pushed {}", t.date()))}
                </p>
            </div>
        </li>
    }
}

/// Moves keyboard focus to the element with `id` (in the browser; a no-op
/// when rendering on the server).
pub fn focus_by_id(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(el) = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_their_digits() {
        assert_eq!(thousands(5_242_880), "5,242,880");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(0), "0");
        assert_eq!(plural(38_292, "pull"), "38,292 pulls");
        assert_eq!(plural(1, "tag"), "1 tag");
        assert_eq!(plural(0, "tag"), "0 tags");
        assert_eq!(plural(-1200, "day"), "-1,200 days");
    }

    #[test]
    fn theme_cookie() {
        assert_eq!(parse_theme("a=1; theme=dark; b=2"), Some("dark"));
        assert_eq!(parse_theme("theme=light"), Some("light"));
        assert_eq!(parse_theme("theme=purple"), None);
        assert_eq!(parse_theme("xtheme=dark"), None);
        assert_eq!(parse_theme(""), None);
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/review"), Some("/review".into()));
        assert_eq!(
            safe_next("/u/x/insights?span=7d"),
            Some("/u/x/insights?span=7d".into())
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "review",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        assert_eq!(
            with_next("/signin", "/u/x?a=1&b=2"),
            "/signin?next=%2Fu%2Fx%3Fa%3D1%26b%3D2"
        );
    }
}

/// The live verdict on a namespace name as it is typed: the shared name rule
/// at once, then (a moment after typing stops) whether the name is free, from
/// the server. Sign-up and the home page's checker use it.
#[component]
pub fn NameVerdict(
    name: Signal<String>,
    empty_hint: &'static str,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    use crate::core::names::{Availability, name_available};
    use crate::domain::NamespaceName;
    let (settled, set_settled) = signal(String::new());
    Effect::new(move |_| {
        let n = name.get();
        set_timeout(
            // The page may have moved on (the component is gone): `try_`.
            move || {
                if name.try_get_untracked().as_ref() == Some(&n) {
                    let _ = set_settled.try_set(n);
                }
            },
            std::time::Duration::from_millis(250),
        );
    });
    let remote = LocalResource::new(move || {
        let n = settled.get();
        async move {
            if NamespaceName::parse(&n).is_err() {
                return None;
            }
            name_available(n.clone()).await.ok().map(|a| (n, a))
        }
    });
    let verdict = move || {
        let n = name.get();
        if n.is_empty() {
            return ("hint", empty_hint.to_string());
        }
        if let Err(e) = NamespaceName::parse(&n) {
            return ("bad", e);
        }
        match remote.get().flatten() {
            Some((checked, a)) if checked == n => match a {
                Availability::Available => ("ok", format!("“{n}” is available. ✓")),
                Availability::Taken => ("bad", format!("“{n}” is taken; choose another.")),
                Availability::Invalid(e) => ("bad", e),
            },
            _ => ("hint", format!("Checking whether “{n}” is free…")),
        }
    };
    view! {
        <p class=move || format!("verdict {}", verdict().0) data-testid=if testid.is_empty() { "name-verdict" } else { testid } aria-live="polite">
            {move || verdict().1}
        </p>
    }
}

/// The colour theme a visitor chose with the toggle (`light` or `dark`), or
/// `None` to follow the system. Kept in the `theme` cookie so the server
/// renders the first paint in it.
pub fn parse_theme(cookie_header: &str) -> Option<&'static str> {
    cookie_header
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == "theme")
        .and_then(|(_, v)| match v {
            "light" => Some("light"),
            "dark" => Some("dark"),
            _ => None,
        })
}

/// The theme of the page being rendered (server: from the request's cookie;
/// browser: from the document the server sent).
pub fn current_theme() -> Option<&'static str> {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>().and_then(|p| {
            p.headers
                .get(axum::http::header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_theme)
        })
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        document()
            .document_element()
            .and_then(|e| e.get_attribute("data-theme"))
            .and_then(|t| parse_theme(&format!("theme={t}")))
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    None
}

/// Cycles the colour theme: the system's, dark, light. Remembered in a
/// cookie for a year.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(current_theme());
    let next = move || match theme.get() {
        None => Some("dark"),
        Some("dark") => Some("light"),
        _ => None,
    };
    let label = move || match theme.get() {
        None => "◐ Auto",
        Some("dark") => "☾ Dark",
        _ => "☀ Light",
    };
    let describe = move || {
        let now = match theme.get() {
            None => "follows your system",
            Some("dark") => "dark",
            _ => "light",
        };
        let to = match next() {
            None => "follow your system",
            Some("dark") => "dark",
            _ => "light",
        };
        format!("Colour theme: {now}. Switch to {to}.")
    };
    let toggle = move |_| {
        let to = next();
        theme.set(to);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(html) = document().document_element() {
                let _ = match to {
                    Some(t) => html.set_attribute("data-theme", t),
                    None => html.remove_attribute("data-theme"),
                };
            }
            if let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() {
                let cookie = match to {
                    Some(t) => format!("theme={t}; path=/; max-age=31536000; samesite=lax"),
                    None => "theme=; path=/; max-age=0; samesite=lax".to_string(),
                };
                let _ = doc.set_cookie(&cookie);
            }
        }
    };
    view! {
        <button class="theme-toggle small" data-testid="theme-toggle" aria-label=describe title=describe on:click=toggle>
            {label}
        </button>
    }
}

/// A time as people say it (`3 days ago`), the exact time on hover and for
/// machines.
#[component]
pub fn RelTime(at: Timestamp, now: Timestamp) -> impl IntoView {
    view! { <time datetime=at.rfc3339() title=at.date_time()>{at.ago(now)}</time> }
}

/// Copies `text` to the clipboard; says "Copied" for two seconds. Shown once
/// the page is interactive (the text stays selectable without it).
#[component]
pub fn CopyButton(text: String, what: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&text);
            copied.set(true);
            set_timeout(
                move || {
                    let _ = copied.try_set(false);
                },
                std::time::Duration::from_secs(2),
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <button type="button" class="copy small secondary" aria-label=format!("Copy {what}") data-testid="copy" on:click=copy>
            {move || if copied.get() { "Copied ✓" } else { "Copy" }}
        </button>
        <span class="sr-only" aria-live="polite">{move || if copied.get() { format!("{what} copied") } else { String::new() }}</span>
    }
}

/// The error a server function sent back to a plain HTML form (no
/// JavaScript): the server redirects to the form's page with `__path` (the
/// function) and `__err` (the error, base64 JSON) in the query.
pub fn url_error(path: &'static str) -> Memo<Option<AppError>> {
    let query = leptos_router::hooks::use_query_map();
    Memo::new(move |_| {
        use base64::Engine;
        let q = query.read();
        if q.get("__path").as_deref() != Some(path) {
            return None;
        }
        let raw = q.get("__err")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.as_bytes())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(raw.as_bytes()))
            .ok()?;
        crate::wire::from_json::<AppError>(&bytes).ok()
    })
}
