//! The browser entry point: hydrate the server-rendered page. Some pages are
//! lazy routes (their code is a separate wasm file, see `pages` in
//! app/src/lib.rs), so hydration is asynchronous: it waits for the current
//! page's file, which the server's HTML already asked the browser to preload.
//! Once the whole page is hydrated, `<html>` is marked `data-hydrated`
//! (scripts and tests wait for it before they interact).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body();
        let Some(body) = body else { return };
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        app::mark_hydrated();
    });
}
