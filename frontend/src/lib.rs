//! The browser entry point: hydrate the server-rendered page. Some pages are
//! lazy routes (their code is a separate wasm file, see `pages` in
//! app/src/lib.rs), so hydration is asynchronous: it waits for the current
//! page's file, which the server's answer already asked the browser to
//! preload. Once the whole page is hydrated, `<html>` is marked
//! `data-hydrated` (scripts and tests wait for it before they interact).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The split loader calls this when a page's file cannot be fetched
    // (splitter/src/main.rs), before the wasm panics on it.
    let failed = wasm_bindgen::closure::Closure::<dyn Fn()>::new(load_afresh_once);
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &"__hubSplitLoadFailed".into(), failed.as_ref());
    }
    failed.forget();
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body();
        let Some(body) = body else { return };
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        app::mark_hydrated();
    });
}

/// A page's code could not be fetched — most likely a new release replaced
/// the files this page was built with — and the wasm is about to stop on it
/// (a panic): load the page the browser was going to afresh from the server instead, unless that
/// was just tried (a file that stays missing would otherwise reload forever;
/// the server-rendered page and its plain HTML forms still work).
fn load_afresh_once() {
    const KEY: &str = "hub-reloaded-for-missing-code";
    let Some(window) = web_sys::window() else {
        return;
    };
    // Whole milliseconds: parsing and printing floats would add kilobytes
    // of formatting code to the bundle.
    let now = js_sys::Date::now() as u64;
    let storage = window.session_storage().ok().flatten();
    let last = storage
        .as_ref()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .and_then(|v| v.parse::<u64>().ok());
    if last.is_some_and(|t| now.saturating_sub(t) < 30_000) {
        return;
    }
    if let Some(s) = &storage {
        let _ = s.set_item(KEY, &now.to_string());
    }
    let _ = match app::lazy_page_destination() {
        Some(to) => window.location().assign(&to),
        None => window.location().reload(),
    };
}
