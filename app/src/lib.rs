//! The iEchor Hub application: domain rules, views and server functions,
//! compiled natively for the server (`ssr`) and to wasm for the browser
//! (`hydrate`). One folder per feature.

//!
//! Layers, each importing only those below it: features (`account`, `org`,
//! `repo`, `logo`, `scout`, `program`, `badge`, `search`, `home`) → `core`
//! (access, perks, audit, notifications, limits, jobs) and `ui` (shared view
//! pieces) → `domain` (pure types and rules), `error`, `db`. A feature never
//! imports another feature's `api.rs` or `store.rs`; `scripts/check_layers.py`
//! enforces it. See docs/ARCHITECTURE.md.

/// Runs a server function body with the app state and the resolved caller.
#[cfg(feature = "ssr")]
macro_rules! with_caller {
    (|$state:ident, $caller:ident| $body:expr) => {{
        let $state = crate::core::state::AppState::current()?;
        let $caller = crate::core::caller::current_caller().await?;
        $body
    }};
}

pub mod account;
pub mod analytics;
pub mod badge;
pub mod core;
pub mod domain;
pub mod error;
pub mod home;
pub mod logo;
pub mod org;
pub mod program;
pub mod registry;
pub mod repo;
pub mod scout;
pub mod search;
pub mod ui;
pub mod wire;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "testing")]
pub mod testing;

/// Every feature's HTTP routes besides server functions and pages (REST v1,
/// badges, logo files), with their table; the server merges the router.
#[cfg(feature = "ssr")]
pub fn api() -> core::http::ApiRoutes {
    let mut all = core::http::ApiRoutes::new()
        .merge(org::api::routes())
        .merge(repo::api::routes())
        .merge(program::api::routes())
        .merge(scout::api::routes())
        .merge(logo::api::routes())
        .merge(badge::api::routes())
        .merge(registry::api::routes())
        .merge(analytics::api::routes());
    all.router = all
        .router
        .route("/api/v1", axum::routing::any(core::http::api_not_found))
        .route(
            "/api/v1/{*rest}",
            axum::routing::any(core::http::api_not_found),
        );
    all
}

/// Every registered background job; the server runs them all.
#[cfg(feature = "ssr")]
pub fn jobs() -> Vec<core::jobs::Job> {
    vec![
        program::jobs::REMINDERS,
        logo::jobs::COLLECT,
        core::limits::PRUNE,
        core::events::WRITER,
        registry::jobs::HOUSEKEEPING,
        analytics::jobs::RETENTION,
    ]
}

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, ParamSegment, SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
};

/// The HTML document around the app, rendered on the server. It also sets
/// the page's Content-Security-Policy, which allows this render's nonce.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(v) = axum::http::HeaderValue::from_str(&core::http::page_csp(&nonce))
    {
        res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, v);
    }
    let theme = ui::current_theme();
    let css = stylesheet_href(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" id="leptos" href=css/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The stylesheet's address: `/pkg/hub.<hash>.css` when the build named the
/// bundle's files after their content (the hashes are in the site's
/// `hash.txt`, the file Leptos reads for the script and the wasm), else
/// `/pkg/hub.css`.
fn stylesheet_href(options: &LeptosOptions) -> String {
    let (pkg, name) = (&options.site_pkg_dir, &options.output_name);
    #[cfg(feature = "ssr")]
    if options.hash_files {
        // Resolved as Leptos resolves it: relative to the executable.
        let path = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join(&*options.hash_file)))
            .unwrap_or_else(|| std::path::PathBuf::from(&*options.hash_file));
        let hashes = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(hash) = hashes.lines().find_map(|l| l.trim().strip_prefix("css:")) {
            return format!("/{pkg}/{name}.{}.css", hash.trim());
        }
    }
    format!("/{pkg}/{name}.css")
}

/// Marks the document once the wasm has taken over the whole page (the
/// browser entry calls it after hydration, lazy pages included), so tests
/// and scripts can wait for interactivity.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    if let Some(html) = document().document_element() {
        let _ = html.set_attribute("data-hydrated", "true");
    }
}

/// The address of the lazy page the browser went to last (see `pages`):
/// where to load afresh from the server when that page's code cannot be
/// fetched (the router changes the address bar only once it has the code).
#[cfg(feature = "hydrate")]
pub fn lazy_page_destination() -> Option<String> {
    pages::DESTINATION.with(|d| d.borrow().clone())
}

/// Whether a click landed on a link (the phone menu folds after one).
fn clicked_link(ev: &leptos::ev::MouseEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("a").ok().flatten())
            .is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

/// How every page is rendered on the server: in order, waiting at each
/// `Suspense` for its data, so the HTML holds every page's content in place
/// and a page reads complete without JavaScript. (The default out-of-order
/// streaming sends a placeholder and a script that swaps the content in;
/// `PartiallyBlocked` is not implemented by leptos_axum 0.8 and behaves the
/// same.)
const SSR: SsrMode = SsrMode::InOrder;

/// The root component: layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let auth = account::views::Auth::new();
    provide_context(auth);
    let menu_open = RwSignal::new(false);
    view! {
        <Title text="iEchor Hub"/>
        <Router>
            <a class="skip-link" href="#main" on:click=move |ev| {
                ev.prevent_default();
                ui::focus_by_id("main");
            }>"Skip to content"</a>
            <header class="topbar" class:menu-open=move || menu_open.get()>
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"▣"</span>
                    " iEchor Hub"
                </A>
                // On a phone the menus fold behind this button (without
                // JavaScript they stay open).
                <button class="menu-toggle" aria-controls="site-menu" data-testid="menu-toggle"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| menu_open.update(|o| *o = !*o)>"Menu"</button>
                <div id="site-menu" class="site-menu" on:click=move |ev| if clicked_link(&ev) { menu_open.set(false) }>
                    <nav aria-label="Main">
                        <A href="/search">"Explore"</A>
                        <A href="/program">"Sponsored OSS program"</A>
                    </nav>
                    <form class="search-box" role="search" action="/search" method="get">
                        <input type="search" name="q" aria-label="Search repositories" placeholder="Search repositories" data-testid="top-search"/>
                    </form>
                    <span class="spacer"></span>
                    <ui::ThemeToggle/>
                    <Transition fallback=|| ()>
                        {move || {
                        // The bell's inbox is read here too, so the server
                        // waits for both before rendering the menu; untracked,
                        // so the bell's refetch does not rebuild the menu.
                        auth.inbox.with_untracked(|_| ());
                        auth.user.get().map(|r| match r.ok().flatten() {
                            Some(u) => view! {
                                <nav class="user-menu" aria-label="Account">
                                    {u.is_staff.then(|| view! { <A href="/review">"Review queue"</A> })}
                                    <account::views::NotificationBell/>
                                    <a href=format!("/u/{}", u.name) class="who" data-testid="whoami">{u.name.clone()}</a>
                                    <A href="/new">"New repository"</A>
                                    <A href="/settings">"Settings"</A>
                                    <account::views::SignOutButton/>
                                </nav>
                            }.into_any(),
                            None => view! {
                                <nav class="user-menu" aria-label="Account">
                                    <A href="/signin">"Sign in"</A>
                                    <A href="/signup" attr:class="button small">"Sign up"</A>
                                </nav>
                            }.into_any(),
                        })
                        }}
                    </Transition>
                </div>
            </header>
            <main class="page" id="main" tabindex="-1">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route ssr=SSR path=StaticSegment("") view=home::views::HomePage/>
                    <Route ssr=SSR path=StaticSegment("signin") view={Lazy::<pages::SignIn>::new()}/>
                    <Route ssr=SSR path=StaticSegment("signup") view={Lazy::<pages::SignUp>::new()}/>
                    <Route ssr=SSR path=StaticSegment("settings") view={Lazy::<pages::Settings>::new()}/>
                    <Route ssr=SSR path=StaticSegment("new") view={Lazy::<pages::NewRepo>::new()}/>
                    <Route ssr=SSR path=StaticSegment("search") view=search::views::SearchPage/>
                    <Route ssr=SSR path=StaticSegment("program") view=program::views::ProgramInfoPage/>
                    <Route ssr=SSR path=StaticSegment("review") view={Lazy::<pages::ReviewQueue>::new()}/>
                    <Route
                        ssr=SSR
                        path=(StaticSegment("u"), ParamSegment("ns"), StaticSegment("program"))
                        view={Lazy::<pages::OrgProgram>::new()}
                    />
                    <Route
                        ssr=SSR
                        path=(StaticSegment("u"), ParamSegment("ns"), StaticSegment("audit"))
                        view={Lazy::<pages::Audit>::new()}
                    />
                    <Route
                        ssr=SSR
                        path=(StaticSegment("u"), ParamSegment("ns"), StaticSegment("insights"))
                        view={Lazy::<pages::Insights>::new()}
                    />
                    <Route ssr=SSR path=(StaticSegment("u"), ParamSegment("ns")) view=org::views::NamespacePage/>
                    <Route
                        ssr=SSR
                        path=(StaticSegment("u"), ParamSegment("ns"), StaticSegment("settings"))
                        view={Lazy::<pages::OrgSettings>::new()}
                    />
                    <Route ssr=SSR path=(StaticSegment("r"), ParamSegment("ns"), ParamSegment("repo")) view=repo::views::RepoPage/>
                </Routes>
            </main>
            <footer class="footer">
                "iEchor Hub · Sponsored Open Source program"
            </footer>
        </Router>
    }
}

/// The pages only members and reviewers use, and the sign-in and sign-up
/// forms (reached from another page, rarely landed on), are lazy routes: in
/// the browser each one's code is a separate wasm file (cut out by
/// `splitter` in scripts/lib.sh), fetched on the first visit to the page; on
/// a full load the server names the page's files in a `Link` preload header.
/// Pages people land on (home, search, program, namespace, repository) stay
/// in the main module: made lazy too, they would need many small shared
/// files each (docs/BENCHMARKS.md, "Lazy member pages").
mod pages {
    use leptos::prelude::*;
    use leptos_router::{LazyRoute, lazy_route};

    /// One lazy route per page: a unit type whose view renders the page.
    macro_rules! page {
        ($($name:ident => $view:expr;)*) => {$(
            #[derive(Debug)]
            pub struct $name;

            #[lazy_route]
            impl LazyRoute for $name {
                fn data() -> Self {
                    #[cfg(feature = "hydrate")]
                    remember_destination();
                    $name
                }

                fn view(_this: Self) -> AnyView {
                    #[cfg(feature = "ssr")]
                    preload(&stringify!($name).to_lowercase());
                    $view.into_any()
                }
            }
        )*};
    }

    /// Asks the browser, in the response's `Link` header, to preload a lazy
    /// page's files (the build lists them per split point in
    /// `pkg/__wasm_split_manifest.json`) while the main module loads, so
    /// hydration does not wait for another round trip. (Leptos' own preload
    /// tags are collected before an in-order render reaches the page, so
    /// they never appear here.) `page` is the route type's name, lowercased.
    #[cfg(feature = "ssr")]
    fn preload(page: &str) {
        use std::{collections::HashMap, sync::OnceLock};
        static MANIFEST: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
        let (Some(state), Some(res)) = (
            use_context::<crate::core::state::AppState>(),
            use_context::<leptos_axum::ResponseOptions>(),
        ) else {
            return;
        };
        let options = &state.leptos_options;
        let manifest = MANIFEST.get_or_init(|| {
            let path = std::path::Path::new(&*options.site_root)
                .join(&*options.site_pkg_dir)
                .join("__wasm_split_manifest.json");
            std::fs::read_to_string(path)
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default()
        });
        // Split points are named `__<snake_name>_view_<hash>`.
        let files = manifest.iter().find_map(|(split, files)| {
            let name = split
                .strip_prefix("__")?
                .rsplit_once('_')?
                .0
                .strip_suffix("_view")?;
            (name.replace('_', "") == page).then_some(files)
        });
        let links = files.into_iter().flatten().map(|file| {
            format!(
                "</{}/{file}.wasm>; rel=preload; as=fetch; crossorigin=anonymous",
                options.site_pkg_dir
            )
        });
        if let Ok(value) = axum::http::HeaderValue::from_str(&links.collect::<Vec<_>>().join(", "))
            && !value.is_empty()
        {
            res.append_header(axum::http::header::LINK, value);
        }
    }

    #[cfg(feature = "hydrate")]
    thread_local! {
        /// Where the browser is going when it loads a lazy page's code.
        pub(super) static DESTINATION: std::cell::RefCell<Option<String>> =
            const { std::cell::RefCell::new(None) };
    }

    /// Notes the address of the lazy page being loaded (the router matched it
    /// and asks for its data before it fetches the page's code), for
    /// [`crate::lazy_page_destination`].
    #[cfg(feature = "hydrate")]
    fn remember_destination() {
        let url = leptos_router::hooks::use_url().get_untracked();
        let mut to = url.path().to_string();
        let search = url.search().trim_start_matches('?');
        if !search.is_empty() {
            to = format!("{to}?{search}");
        }
        let hash = url.hash().trim_start_matches('#');
        if !hash.is_empty() {
            to = format!("{to}#{hash}");
        }
        DESTINATION.with(|d| *d.borrow_mut() = Some(to));
    }

    page! {
        SignIn => view! { <crate::account::views::SignInPage/> };
        SignUp => view! { <crate::account::views::SignUpPage/> };
        Settings => view! {
            <crate::account::views::SettingsPage>
                <crate::org::views::YourNamespaces/>
            </crate::account::views::SettingsPage>
        };
        NewRepo => view! { <crate::repo::views::NewRepoPage/> };
        ReviewQueue => view! { <crate::program::views::ReviewQueuePage/> };
        OrgProgram => view! { <crate::program::views::OrgProgramPage/> };
        Audit => view! { <crate::program::views::AuditPage/> };
        Insights => view! { <crate::analytics::views::InsightsPage/> };
        OrgSettings => view! { <crate::org::views::OrgSettingsPage/> };
    }
}

/// Shown for unknown paths.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Not found — iEchor Hub"/>
        <h1>"Page not found"</h1>
        <p>"There is nothing at this address. " <a href="/">"Go to the home page"</a> "."</p>
    }
}
