use super::api::{get_hub_stats, my_home};
use super::{MyHome, MyNamespace};
use crate::domain::MembershipStatus;
use leptos::prelude::*;
use leptos_meta::Title;

/// The landing page: the hub, the program, and live counts.
#[component]
pub fn HomePage() -> impl IntoView {
    let auth = crate::account::views::use_auth();
    let mine = crate::wire::resource(move || auth.version.get(), |_| my_home());
    view! {
        <Title text="iEchor Hub — Sponsored Open Source"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || mine.get().map(|r| match r {
                Ok(Some(home)) => view! { <SignedInHome home=home/> }.into_any(),
                _ => view! { <PublicHome/> }.into_any(),
            })}
        </Transition>
    }
}

/// The signed-in home: your namespaces with their program status (the
/// organization switcher), what waits for you, the latest notifications.
#[component]
fn SignedInHome(home: MyHome) -> impl IntoView {
    let unread: Vec<_> = home
        .inbox
        .latest
        .iter()
        .filter(|n| !n.read)
        .cloned()
        .collect();
    view! {
        <h1 data-testid="home-greeting">"Welcome back, "{home.user.clone()}</h1>
        {home.review_waiting.map(|n| view! {
            <p class="notice" data-testid="home-review">
                {crate::ui::plural(n, "application")}" waiting in the "<a href="/review">"review queue"</a>"."
            </p>
        })}
        <section class="panel">
            <h2>"Your namespaces"</h2>
            <ul class="ns-list" data-testid="home-namespaces">
                {home.namespaces.into_iter().map(|n| view! { <NamespaceRow n=n/> }).collect_view()}
            </ul>
            <p class="actions">
                <a class="button secondary" href="/new">"New repository"</a>
                <a class="button secondary" href="/settings">"New organization"</a>
            </p>
        </section>
        <section class="panel" data-testid="home-inbox">
            <h2>"Notifications"</h2>
            {if unread.is_empty() {
                view! { <p class="muted">"Nothing new. The bell at the top keeps the latest."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {unread.into_iter().map(|n| view! {
                            <li><a href=n.link.clone()>{n.body.clone()}</a>" "<span class="muted small">{n.created_at.date()}</span></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// One namespace on the signed-in home, with what its owner should do next.
#[component]
fn NamespaceRow(n: MyNamespace) -> impl IntoView {
    let program = format!("/u/{}/program", n.name);
    let (status, next): (String, Option<(&str, String)>) = match (&n.open_application, n.membership)
    {
        (Some((s, renewal)), _) if s == "changes_requested" => (
            format!(
                "{} — changes requested",
                if *renewal { "Renewal" } else { "Application" }
            ),
            Some(("Answer the reviewer", program.clone())),
        ),
        (Some((_, renewal)), _) => (
            format!(
                "{} waiting for review",
                if *renewal { "Renewal" } else { "Application" }
            ),
            None,
        ),
        (None, Some(m)) => match m.status {
            MembershipStatus::RenewalDue => (
                format!("Sponsored until {} — renewal open", m.expires_at.date()),
                Some(("Renew", program.clone())),
            ),
            MembershipStatus::Grace => (
                format!(
                    "Membership ended {} — perks end {}",
                    m.expires_at.date(),
                    m.grace_ends_at.date()
                ),
                Some(("Renew", program.clone())),
            ),
            s if s.perks_active() => (format!("Sponsored until {}", m.expires_at.date()), None),
            _ => (
                "Membership ended".to_string(),
                n.is_org.then(|| ("Apply again", program.clone())),
            ),
        },
        (None, None) if n.is_org => (
            "Not in the program".to_string(),
            Some(("Apply", program.clone())),
        ),
        (None, None) => ("Personal namespace".to_string(), None),
    };
    let sponsored = n.membership.is_some_and(|m| m.status.perks_active());
    view! {
        <li data-testid=format!("home-ns-{}", n.name)>
            <div class="ns-line">
                <a class="repo-name" href=format!("/u/{}", n.name)>{n.name.clone()}</a>
                <span class="pill">{if n.is_org { "organization" } else { "personal" }}</span>
                {sponsored.then(|| view! { <span class="pill renewal">"sponsored"</span> })}
                <span class="muted small">{if n.repositories == 1 { "1 repository".to_string() } else { format!("{} repositories", n.repositories) }}</span>
            </div>
            <div class="ns-line">
                <span data-testid="ns-status">{status}</span>
                {next.map(|(label, href)| view! { <a class="button small" href=href>{label}</a> })}
                {(sponsored && n.is_org).then(|| view! { <a href=format!("/u/{}/insights", n.name)>"Insights"</a> })}
            </div>
        </li>
    }
}

/// The public landing page.
#[component]
fn PublicHome() -> impl IntoView {
    let stats = crate::wire::resource(|| (), |_| get_hub_stats());
    view! {
        <section class="hero">
            <h1>"Container images you can trust, from projects that stay open"</h1>
            <p class="lead">
                "iEchor Hub hosts container images for teams and communities. Through the "
                <strong>"Sponsored Open Source program"</strong>
                ", non-commercial open-source projects get a verified badge, repository logos, "
                "pull analytics, free image analysis on up to 100 repositories and no pull rate "
                "limits for anyone pulling their public images — for one year at a time, renewable."
            </p>
        </section>
        <Transition fallback=|| view! { <p class="stats">"Loading numbers…"</p> }>
            {move || stats.get().map(|r| match r {
                Ok(s) => view! {
                    <ul class="stats" data-testid="hub-stats">
                        <li><strong>{s.namespaces}</strong>" namespaces"</li>
                        <li><strong>{s.public_repositories}</strong>" public repositories"</li>
                        <li><strong>{s.tags}</strong>" public tags"</li>
                    </ul>
                }.into_any(),
                Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
            })}
        </Transition>
        <section class="cards">
            <article class="card">
                <h2>"Verified badge"</h2>
                <p>"Sponsored namespaces carry a badge that says the project is active, open source and verified."</p>
            </article>
            <article class="card">
                <h2>"Repository logos"</h2>
                <p>"Give each repository its own PNG or JPEG logo, 120 to 1000 pixels on each side, up to 5 MB."</p>
            </article>
            <article class="card">
                <h2>"Insights and analytics"</h2>
                <p>"See pulls by tag and by digest, by client and by region; export a summary or the raw data."</p>
            </article>
            <article class="card">
                <h2>"No rate limits"</h2>
                <p>"Everyone pulling the project's public images gets unlimited pulls and egress."</p>
            </article>
        </section>
        <NameChecker/>
    }
}

/// Live namespace-name check: the same parser the server uses, run in wasm.
/// It only answers once the page has hydrated.
#[component]
fn NameChecker() -> impl IntoView {
    let (name, set_name) = signal(String::new());
    view! {
        <section class="checker">
            <h2>"Pick your namespace"</h2>
            <label for="ns-check">"Namespace name"</label>
            <input
                id="ns-check"
                data-testid="ns-check"
                placeholder="e.g. myproject"
                autocomplete="off"
                prop:value=name
                on:input=move |ev| set_name.set(event_target_value(&ev))
            />
            <crate::ui::NameVerdict name=name.into() empty_hint="Type a name to see whether it is free." testid="ns-verdict"/>
        </section>
    }
}
