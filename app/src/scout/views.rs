//! The Scout switch on a repository page and the summary on a program page.

use super::api::SetScout;
use crate::ui::ActionError;
use leptos::prelude::*;

/// Admin-only switch for one repository.
#[component]
pub fn ScoutToggle(namespace: String, name: String, enabled: bool) -> impl IntoView {
    let action = ServerAction::<SetScout>::new();
    let on = move || match action.value().get() {
        Some(Ok(s)) => s.enabled,
        _ => enabled,
    };
    view! {
        <h3>"Image analysis (iEchor Scout)"</h3>
        <p>{move || if on() { "Image analysis is enabled for this repository." } else { "Image analysis is off for this repository." }}</p>
        {move || action.value().get().and_then(|r| r.ok()).map(|s| view! {
            <p class="muted" data-testid="scout-count">{format!("{} of {} repositories in this namespace have it enabled.", s.enabled_in_namespace, s.limit)}</p>
        })}
        <ActionForm action=action>
            <input type="hidden" name="namespace" value=namespace/>
            <input type="hidden" name="repository" value=name/>
            <input type="hidden" name="enabled" value=move || (!on()).to_string()/>
            <ActionError value=action.value()/>
            <button type="submit" data-testid="scout-toggle">{move || if on() { "Disable image analysis" } else { "Enable image analysis" }}</button>
        </ActionForm>
    }
}

/// "Image analysis (Scout): n of limit repositories enabled — names".
#[component]
pub fn ScoutSummary(namespace: String) -> impl IntoView {
    let data = crate::wire::resource(move || namespace.clone(), super::api::scout_overview_fn);
    view! {
        <Transition fallback=|| ()>
            {move || data.get().and_then(|r| r.ok()).map(|o| view! {
                <p class="muted" data-testid="scout-summary">
                    {format!("Image analysis (Scout): {} of {} repositories enabled", o.enabled_in_namespace, o.limit)}
                    {(!o.enabled_repositories.is_empty()).then(|| format!(" — {}", o.enabled_repositories.join(", ")))}
                </p>
            })}
        </Transition>
    }
}
