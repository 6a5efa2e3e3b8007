//! The namespace page and the organization's owners-and-teams page.

use super::NamespaceKind;
use super::api::{
    AddOwner, AddTeamMember, CreateOrg, CreateTeam, DeleteTeam, RemoveTeamMember, SetTeamGrant,
};
use crate::domain::namespace::DEFAULT_LOGO_PATH;
use crate::domain::{NamespaceName, Rights, TeamName};
use crate::ui::{ActionError, RenewBanner, RepoCard, SponsoredBadge};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn ns_param() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("ns").unwrap_or_default())
}

/// `/u/{ns}`: a user's or organization's namespace with its repositories.
#[component]
pub fn NamespacePage() -> impl IntoView {
    let ns = ns_param();
    let info = crate::wire::resource(
        move || ns.get(),
        |n| async move { crate::ui::with_page_status(super::api::get_namespace_fn(n).await) },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || info.get().map(|r| match r {
                Err(e) => {
                    view! {
                    <Title text="Not found — iEchor Hub"/>
                    <h1>"Namespace not found"</h1>
                    <p class="error-box">{e.message}</p>
                }.into_any()
                },
                Ok(n) => {
                    let is_owner = n.viewer_rights == Rights::Admin;
                    let is_org = n.kind == NamespaceKind::Org;
                    let name = n.name.clone();
                    let sponsored = n.membership.is_some_and(|m| m.status.perks_active());
                    view! {
                        <Title text=format!("{} — iEchor Hub", n.name)/>
                        <RenewBanner namespace=n.name.clone() membership=n.membership/>
                        <div class="ns-head">
                            {is_org.then(|| view! { <OrgLogo namespace=n.name.clone()/> })}
                            <h1 data-testid="ns-name">{n.name.clone()}</h1>
                            <span class="pill">{if is_org { "organization" } else { "user" }}</span>
                            {sponsored.then(|| view! { <SponsoredBadge until=n.membership.map(|m| m.expires_at)/> })}
                        </div>
                        <p class="muted">
                            {format!("Since {}", n.created_at.date())}
                            {is_org.then(|| format!(" · {}", crate::ui::plural(n.members_count, "member")))}
                            {is_org.then(|| format!(" · owners: {}", n.owners.join(", ")))}
                        </p>
                        <div class="actions">
                            {is_owner.then(|| view! {
                                <a class="button" href=format!("/new?namespace={name}")>"New repository"</a>
                            })}
                            {(is_owner && is_org).then(|| view! {
                                <a class="button secondary" href=format!("/u/{}/settings", n.name)>"Owners and teams"</a>
                            })}
                            {(is_owner && sponsored).then(|| view! {
                                <a class="button secondary" href=format!("/u/{}/insights", n.name) data-testid="insights-link">"Insights"</a>
                            })}
                            {is_org.then(|| view! {
                                <a class="button secondary" href=format!("/u/{}/program", n.name) data-testid="program-link">
                                    {if is_owner && !sponsored { "Apply to the Sponsored OSS program" } else { "Program" }}
                                </a>
                            })}
                        </div>
                        <h2>"Repositories"</h2>
                        {if n.repositories.is_empty() && is_owner {
                            view! {
                                <div class="panel empty" data-testid="no-repos">
                                    <p><strong>"No repositories yet."</strong></p>
                                    <p>"Create one with " <a href=format!("/new?namespace={}", n.name)>"New repository"</a>
                                        ", then push an image to it with docker, podman or skopeo: the repository's page shows the exact "
                                        <code>"docker push"</code>" command for this hub."</p>
                                </div>
                            }.into_any()
                        } else if n.repositories.is_empty() {
                            view! { <p class="muted" data-testid="no-repos">{format!("{} has no public repositories yet.", n.name)}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="repo-list" data-testid="repo-list">
                                    {n.repositories.into_iter().map(|r| view! { <RepoCard repo=r/> }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

/// `/u/{ns}/settings`: owners manage owners, teams, members and grants.
#[component]
pub fn OrgSettingsPage() -> impl IntoView {
    let ns = ns_param();
    let add_owner = ServerAction::<AddOwner>::new();
    let create_team = ServerAction::<CreateTeam>::new();
    let delete_team = ServerAction::<DeleteTeam>::new();
    let add_member = ServerAction::<AddTeamMember>::new();
    let remove_member = ServerAction::<RemoveTeamMember>::new();
    let set_grant = ServerAction::<SetTeamGrant>::new();
    let versions = move || {
        (
            add_owner.version().get(),
            create_team.version().get(),
            delete_team.version().get(),
            add_member.version().get(),
            remove_member.version().get(),
            set_grant.version().get(),
        )
    };
    let info = crate::wire::resource(
        move || (ns.get(), versions()),
        |(n, _)| super::api::get_namespace_fn(n),
    );
    let teams = crate::wire::resource(
        move || (ns.get(), versions()),
        |(n, _)| super::api::list_teams_fn(n),
    );
    let (team_name, set_team_name) = signal(String::new());
    let team_hint = move || {
        let t = team_name.get();
        (!t.is_empty())
            .then(|| TeamName::parse(&t).err())
            .flatten()
            .map(|e| view! { <p class="verdict bad">{e}</p> })
    };
    view! {
        {move || view! { <Title text=format!("{} · owners and teams — iEchor Hub", ns.get())/> }}
        <Transition fallback=|| ()>
            {move || info.get().and_then(|r| r.ok()).map(|n| view! { <RenewBanner namespace=n.name.clone() membership=n.membership/> })}
        </Transition>
        <h1>{move || ns.get()} " · owners and teams"</h1>
        <p><a href=move || format!("/u/{}", ns.get())>"← back to the namespace"</a></p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || teams.get().map(|r| match r {
                Err(e) => view! { <p class="error-box" data-testid="teams-error">{e.message}</p> }.into_any(),
                Ok(teams) => {
                    let org = ns.get();
                    let org_for_owner = org.clone();
                    let org_for_team = org.clone();
                    let repos: Vec<String> = info.get().and_then(|r| r.ok())
                        .map(|n| n.repositories.into_iter().map(|r| r.name).collect())
                        .unwrap_or_default();
                    let owners = info.get().and_then(|r| r.ok()).map(|n| n.owners).unwrap_or_default();
                    view! {
                        <section class="panel">
                            <h2>"Owners"</h2>
                            <p>{owners.join(", ")}</p>
                            <ActionForm action=add_owner>
                                <input type="hidden" name="org" value=org_for_owner/>
                                <label for="owner-user">"Add an owner (user name)"</label>
                                <input id="owner-user" name="user" required/>
                                <ActionError value=add_owner.value()/>
                                <button type="submit">"Add owner"</button>
                            </ActionForm>
                        </section>
                        <section class="panel">
                            <h2>"Teams"</h2>
                            {teams.is_empty().then(|| view! { <p class="muted">"No teams yet."</p> })}
                            <div class="teams" data-testid="teams">
                            {teams.into_iter().map(|t| view! {
                                <TeamCard org=org.clone() team=t repos=repos.clone()
                                    add_member=add_member remove_member=remove_member
                                    set_grant=set_grant delete_team=delete_team/>
                            }).collect_view()}
                            </div>
                            <ActionError value=add_member.value()/>
                            <ActionError value=remove_member.value()/>
                            <ActionError value=set_grant.value()/>
                            <ActionError value=delete_team.value()/>
                            <h3>"Create a team"</h3>
                            <ActionForm action=create_team attr:data-testid="create-team-form">
                                <input type="hidden" name="org" value=org_for_team/>
                                <label for="team-name">"Team name"</label>
                                <input id="team-name" name="team" placeholder="e.g. maintainers" required
                                    on:input=move |ev| set_team_name.set(event_target_value(&ev))/>
                                {team_hint}
                                <ActionError value=create_team.value()/>
                                <button type="submit">"Create team"</button>
                            </ActionForm>
                        </section>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

/// Two hidden fields naming the organization and team a form acts on.
#[component]
fn TeamFields(org: String, team: String) -> impl IntoView {
    view! {
        <input type="hidden" name="org" value=org/>
        <input type="hidden" name="team" value=team/>
    }
}

#[component]
fn TeamCard(
    org: String,
    team: super::TeamInfo,
    repos: Vec<String>,
    add_member: ServerAction<AddTeamMember>,
    remove_member: ServerAction<RemoveTeamMember>,
    set_grant: ServerAction<SetTeamGrant>,
    delete_team: ServerAction<DeleteTeam>,
) -> impl IntoView {
    let name = team.name.clone();
    let (o1, o2, o3, o4) = (org.clone(), org.clone(), org.clone(), org);
    let (t1, t2, t3, t4) = (name.clone(), name.clone(), name.clone(), name.clone());
    let members = if team.members.is_empty() {
        "none".to_string()
    } else {
        team.members.join(", ")
    };
    let grants = if team.grants.is_empty() {
        "none".to_string()
    } else {
        team.grants
            .iter()
            .map(|g| format!("{} ({})", g.repository, g.rights))
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <article class="team" data-testid=format!("team-{name}")>
            <h3>{name.clone()}</h3>
            <p><strong>"Members: "</strong>{members}</p>
            <p><strong>"Permissions: "</strong>{grants}</p>
            <div class="row">
                <ActionForm action=add_member attr:class="inline-form">
                    <TeamFields org=o1 team=t1/>
                    <input name="user" placeholder="user name" aria-label="user to add" required/>
                    <button type="submit" class="small">"Add member"</button>
                </ActionForm>
                <ActionForm action=remove_member attr:class="inline-form">
                    <TeamFields org=o2 team=t2/>
                    <input name="user" placeholder="user name" aria-label="user to remove" required/>
                    <button type="submit" class="small secondary">"Remove member"</button>
                </ActionForm>
            </div>
            <ActionForm action=set_grant attr:class="inline-form">
                <TeamFields org=o3 team=t3/>
                <select name="repository" aria-label="repository">
                    {repos.into_iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()}
                </select>
                <select name="rights" aria-label="permission">
                    <option value="read">"read"</option>
                    <option value="write">"write"</option>
                    <option value="admin">"admin"</option>
                    <option value="none">"none (remove)"</option>
                </select>
                <button type="submit" class="small">"Set permission"</button>
            </ActionForm>
            <ActionForm action=delete_team attr:class="inline-form">
                <TeamFields org=o4 team=t4/>
                <button type="submit" class="small danger">"Delete team"</button>
            </ActionForm>
        </article>
    }
}

/// The organization logo with its editor (owners).
#[component]
fn OrgLogo(namespace: String) -> impl IntoView {
    let ns = namespace.clone();
    let info = crate::wire::resource(
        move || ns.clone(),
        |n| crate::logo::api::get_logo(n, String::new()),
    );
    view! {
        <Transition fallback=|| view! { <img class="logo" src=DEFAULT_LOGO_PATH alt=""/> }>
            {move || info.get().map(|r| match r {
                Ok(i) => view! { <crate::logo::views::LogoEditor namespace=namespace.clone() repository=String::new() info=i/> }.into_any(),
                Err(_) => view! { <img class="logo" src=DEFAULT_LOGO_PATH alt=""/> }.into_any(),
            })}
        </Transition>
    }
}

/// The settings page's section: namespaces the user owns, and a form to
/// create an organization.
#[component]
pub fn YourNamespaces() -> impl IntoView {
    let create = ServerAction::<CreateOrg>::new();
    let mine = crate::wire::resource(
        move || create.version().get(),
        |_| super::api::my_namespaces_fn(),
    );
    let (name, set_name) = signal(String::new());
    let hint = move || {
        let n = name.get();
        (!n.is_empty())
            .then(|| NamespaceName::parse(&n).err())
            .flatten()
            .map(|e| view! { <p class="verdict bad">{e}</p> })
    };
    view! {
        <section class="panel">
            <h2>"Your namespaces"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || mine.get().map(|r| match r {
                    Ok(list) => view! {
                        <ul class="plain" data-testid="my-namespaces">
                            {list.into_iter().map(|n| view! {
                                <li>
                                    <a href=format!("/u/{}", n.name)>{n.name.clone()}</a>
                                    " " <span class="pill">{n.kind.as_str()}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                })}
            </Transition>
            <h3>"Create an organization"</h3>
            <ActionForm action=create attr:data-testid="create-org-form">
                <label for="org-name">"Organization name"</label>
                <input id="org-name" name="name" placeholder="e.g. myproject" required
                    on:input=move |ev| set_name.set(event_target_value(&ev))/>
                {hint}
                <ActionError value=create.value()/>
                {move || create.value().get().and_then(|r| r.ok()).map(|n| view! {
                    <p class="notice">"Created " <a href=format!("/u/{}", n.name)>{n.name.clone()}</a> "."</p>
                })}
                <button type="submit">"Create organization"</button>
            </ActionForm>
        </section>
    }
}
