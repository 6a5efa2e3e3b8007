//! The home page's server function: public counts.

use super::{HubStats, MyHome};
use crate::error::AppError;
use leptos::prelude::*;

/// Public numbers for the home page; anyone may read them.
#[server(endpoint = "hub_stats", output = crate::wire::Json)]
pub async fn get_hub_stats() -> Result<HubStats, AppError> {
    let state = crate::core::state::AppState::current()?;
    let mut tx = state.db.begin().await?;
    let stats = super::store::stats(&mut tx).await?;
    tx.commit().await?;
    Ok(stats)
}

/// The signed-in home page's data; `None` for anonymous visitors (they get
/// the public home page).
#[server(name = GetMyHome, endpoint = "my_home", output = crate::wire::Json)]
pub async fn my_home() -> Result<Option<MyHome>, AppError> {
    use crate::domain::ids::NamespaceId;
    let state = crate::core::state::AppState::current()?;
    let caller = crate::core::caller::current_caller().await?;
    let Some(me) = caller.user.as_ref() else {
        return Ok(None);
    };
    caller.require_scope(crate::domain::Rights::Read)?;
    let mut tx = state.db.begin().await?;
    let rows = super::store::my_namespaces(&mut tx, me.id.0).await?;
    let mut namespaces = Vec::with_capacity(rows.len());
    for r in rows {
        let perks = crate::core::perks::of(&state, &mut tx, NamespaceId(r.id)).await?;
        namespaces.push(super::MyNamespace {
            name: r.name,
            is_org: r.kind == "org",
            repositories: r.repositories,
            membership: perks.membership,
            open_application: r.open_status.map(|s| (s, r.open_renewal.unwrap_or(0) != 0)),
        });
    }
    let review_waiting = if me.is_staff {
        Some(super::store::review_waiting(&mut tx).await?)
    } else {
        None
    };
    let inbox = crate::core::notify::inbox(&mut tx, me.id, 5).await?;
    tx.commit().await?;
    Ok(Some(MyHome {
        user: me.name.clone(),
        namespaces,
        review_waiting,
        inbox,
    }))
}
