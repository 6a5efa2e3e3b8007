//! `/search?q=…&image_filter=open_source&page=N`: the filter lives in the URL.

use crate::ui::RepoCard;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn url(q: &str, open_source: bool, page: usize) -> String {
    let mut s = format!("/search?q={}", urlencode(q));
    if open_source {
        s.push_str("&image_filter=open_source");
    }
    if page > 1 {
        s.push_str(&format!("&page={page}"));
    }
    s
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        let q = query.read();
        let text = q.get("q").unwrap_or_default();
        let filter =
            super::open_source_filter(q.get("image_filter").as_deref(), q.get("badges").as_deref());
        let page = q
            .get("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1);
        (text, filter, page)
    });
    let results = crate::wire::resource(
        move || params.get(),
        |(q, f, p)| super::api::search_fn(q, f, p),
    );
    view! {
        {move || {
            let (q, _, _) = params.get();
            let title = if q.is_empty() { "Search — iEchor Hub".to_string() } else { format!("{q} — search — iEchor Hub") };
            view! { <Title text=title/> }
        }}
        <h1>"Explore repositories"</h1>
        <form method="get" action="/search" class="search-form" role="search">
            <input name="q" aria-label="Search repositories" placeholder="Search by name or description"
                prop:value=move || params.get().0/>
            <label class="check">
                <input type="checkbox" name="image_filter" value="open_source" data-testid="filter-open-source"
                    prop:checked=move || params.get().1/>
                " Sponsored OSS only"
            </label>
            <button type="submit">"Search"</button>
        </form>
        <Transition fallback=|| view! { <p>"Searching…"</p> }>
            {move || results.get().map(|r| match r {
                Err(e) => view! { <p class="error-box">{e.message}</p> }.into_any(),
                Ok(page) => {
                    let (q, f) = (page.query.clone(), page.open_source_only);
                    view! {
                        <p class="muted" data-testid="result-count">{format!("{} result{}{}", page.total,
                            if page.total == 1 { "" } else { "s" },
                            if f { " · Sponsored OSS only" } else { "" })}</p>
                        {(page.total == 0).then(|| if f {
                            view! {
                                <p class="panel empty" data-testid="no-results">
                                    {format!("No sponsored repository matches “{q}”. ")}
                                    <a href=url(&q, false, 1) data-testid="drop-filter">"Search all repositories instead"</a>
                                </p>
                            }.into_any()
                        } else {
                            view! {
                                <p class="panel empty" data-testid="no-results">
                                    {format!("Nothing matches “{q}”. Try a shorter or different word, or browse ")}
                                    <a href="/search?q=&image_filter=open_source">"the Sponsored OSS projects"</a>"."
                                </p>
                            }.into_any()
                        })}
                        <ul class="repo-list" data-testid="search-results">
                            {page.results.into_iter().map(|r| view! { <RepoCard repo=r/> }).collect_view()}
                        </ul>
                        <nav class="pager" aria-label="Pages">
                            {(page.page > 1).then(|| view! { <a href=url(&q, f, page.page - 1) rel="prev">"← Previous"</a> })}
                            <span class="muted">{format!("Page {} of {}", page.page, page.pages)}</span>
                            {(page.page < page.pages).then(|| view! { <a href=url(&q, f, page.page + 1) rel="next">"Next →"</a> })}
                        </nav>
                    }.into_any()
                }
            })}
        </Transition>
    }
}
