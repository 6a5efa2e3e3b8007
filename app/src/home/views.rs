use super::api::get_hub_stats;
use leptos::prelude::*;
use leptos_meta::Title;

/// The landing page: the hub, the program, and live counts.
#[component]
pub fn HomePage() -> impl IntoView {
    let stats = Resource::new_blocking(|| (), |_| get_hub_stats());
    view! {
        <Title text="iEchor Hub — Sponsored Open Source"/>
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
