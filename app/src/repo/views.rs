//! The repository page and the new-repository form.

use super::api::{CreateRepository, PutTag, SetOverview};
use crate::account::views::use_auth;
use crate::domain::{Digest, RepoName, Rights, TagName};
use crate::ui::{
    ActionError, CopyButton, FieldError, OtherError, RelTime, RenewBanner, SignInFirst,
    SponsoredBadge, Visibility, short_digest,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// `/r/{ns}/{repo}`
#[component]
pub fn RepoPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        let p = params.read();
        (
            p.get("ns").unwrap_or_default(),
            p.get("repo").unwrap_or_default(),
        )
    });
    let put_tag = ServerAction::<PutTag>::new();
    let set_overview = ServerAction::<SetOverview>::new();
    let auth = crate::account::views::use_auth();
    // Reload after a tag or overview change that landed.
    let saved = Memo::new(move |prev: Option<&u32>| {
        prev.copied().unwrap_or(0)
            + u32::from(put_tag.value().with(|v| matches!(v, Some(Ok(_)))))
            + u32::from(set_overview.value().with(|v| matches!(v, Some(Ok(_)))))
    });
    let detail = crate::wire::resource(
        move || (key.get(), saved.get()),
        |((ns, repo), _)| async move {
            crate::ui::with_page_status(super::api::get_repository_fn(ns, repo).await)
        },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || detail.get().map(|r| match r {
                Err(e) => {
                    view! {
                    <Title text="Not found — iEchor Hub"/>
                    <h1>"Repository not found"</h1>
                    <p class="error-box">{e.message}</p>
                }.into_any()
                },
                Ok(d) => {
                    let signed_in = auth.current().is_some();
                    let full = format!("{}/{}", d.namespace, d.name);
                    let can_write = d.viewer_rights >= Rights::Write;
                    let is_admin = d.viewer_rights >= Rights::Admin;
                    let badge_md = d.badge_markdown.clone();
                    let badge_src = format!("/badge/{}/{}.svg", d.namespace, d.name);
                    view! {
                        <RenewBanner namespace=d.namespace.clone() membership=d.membership/>
                        <Title text=format!("{full} — iEchor Hub")/>
                        <p class="crumbs"><a href=format!("/u/{}", d.namespace)>{d.namespace.clone()}</a>" / "</p>
                        <div class="repo-head">
                            <crate::logo::views::LogoEditor namespace=d.namespace.clone() repository=d.name.clone() info=d.logo.clone()/>
                            <h1 data-testid="repo-name">{full.clone()}</h1>
                            <Visibility is_private=d.is_private/>
                            {d.sponsored.then(|| view! { <SponsoredBadge until=d.sponsored_until/> })}
                        </div>
                        <p class="lead" data-testid="repo-description">
                            {if d.description.is_empty() { "No description yet.".to_string() } else { d.description.clone() }}
                        </p>
                        <p class="muted">{format!("Created {} · {}", d.created_at.date(), crate::ui::plural(d.pull_count, "pull"))}
                            {signed_in.then(|| format!(" · your access: {}", d.viewer_rights))}
                            {(d.sponsored && can_write).then(|| view! {
                                " · "<a href=format!("/u/{}/insights?repo={}", d.namespace, d.name) data-testid="repo-insights-link">"Pull insights"</a>
                            })}
                        </p>
                        {super::default_tag(&d.tags).map(|t| view! {
                            <div class="panel">
                                <h2>"Pull this image"</h2>
                                <div class="copy-row">
                                    <code class="cmd" data-testid="pull-command">{format!("docker pull {}/{full}:{}", d.pull_host, t.name)}</code>
                                    <CopyButton text=format!("docker pull {}/{full}:{}", d.pull_host, t.name) what="pull command"/>
                                </div>
                            </div>
                        })}
                        <Overview html=d.overview_html.clone() markdown=d.overview.clone() can_write=can_write
                            namespace=d.namespace.clone() name=d.name.clone() action=set_overview/>
                        <h2>"Tags"</h2>
                        {if d.tags.is_empty() {
                            view! { <p class="muted">"No tags pushed yet."</p> }.into_any()
                        } else {
                            view! {
                                <table data-testid="tag-table" tabindex="0" aria-label="Tags">
                                    <thead><tr><th>"Tag"</th><th>"Digest"</th><th>"Size"</th><th>"Platforms"</th><th>"Pushed"</th><th>"Last pulled"</th></tr></thead>
                                    <tbody>
                                        {d.tags.iter().map(|t| view! {
                                            <tr>
                                                <td><code>{t.name.clone()}</code></td>
                                                <td class="digest"><code title=t.digest.clone()>{short_digest(&t.digest)}</code>" "<CopyButton text=t.digest.clone() what="digest"/></td>
                                                <td>{t.size.map(super::human_size).unwrap_or_else(|| "—".into())}</td>
                                                <td>{if t.platforms.is_empty() { "—".to_string() } else { t.platforms.join(", ") }}</td>
                                                <td><RelTime at=t.pushed_at now=d.now/></td>
                                                <td>{match t.last_pulled_at { Some(p) => view! { <RelTime at=p now=d.now/> }.into_any(), None => "never".into_any() }}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        {(!d.is_private && d.sponsored).then(|| view! {
                            <section class="panel">
                                <h2>"Badge for your README"</h2>
                                <p><img src=badge_src.clone() alt="iEchor sponsored OSS badge" data-testid="badge-img"/></p>
                                <textarea class="snippet" readonly rows="2" data-testid="badge-markdown" aria-label="Badge Markdown">{badge_md.clone()}</textarea>
                                <CopyButton text=badge_md.clone() what="badge Markdown"/>
                                <p class="muted small">"Also as JSON for shields.io: " <code>{format!("/badge/{}/{}.json", d.namespace, d.name)}</code></p>
                            </section>
                        })}
                        {can_write.then(|| view! { <TagForm action=put_tag namespace=d.namespace.clone() name=d.name.clone()/> })}
                        {is_admin.then(|| view! { <RepoSettings namespace=d.namespace.clone() name=d.name.clone() scout=d.scout_enabled/> })}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
fn TagForm(action: ServerAction<PutTag>, namespace: String, name: String) -> impl IntoView {
    let (tag, set_tag) = signal(String::new());
    let (digest, set_digest) = signal(String::new());
    let tag_hint = move || {
        let t = tag.get();
        (!t.is_empty())
            .then(|| TagName::parse(&t).err())
            .flatten()
            .map(|e| view! { <p class="verdict bad">{e}</p> })
    };
    let digest_hint = move || {
        let d = digest.get();
        (!d.is_empty())
            .then(|| Digest::parse(&d).err())
            .flatten()
            .map(|e| view! { <p class="verdict bad">{e}</p> })
    };
    view! {
        <section class="panel">
            <h2>"Add or move a tag"</h2>
            <p class="muted">"Push with " <code>"docker push"</code>" (or podman, skopeo), or point a tag at a digest here or with "
                <code>"PUT /api/v1/repositories/{ns}/{repo}/tags/{tag}"</code>"."</p>
            <ActionForm action=action attr:data-testid="tag-form">
                <input type="hidden" name="namespace" value=namespace/>
                <input type="hidden" name="name" value=name/>
                <label for="tag">"Tag"</label>
                <input id="tag" name="tag" placeholder="latest" required on:input=move |ev| set_tag.set(event_target_value(&ev))/>
                {tag_hint}
                <label for="digest">"Digest"</label>
                <input id="digest" name="digest" placeholder="sha256:…" required on:input=move |ev| set_digest.set(event_target_value(&ev))/>
                {digest_hint}
                <ActionError value=action.value()/>
                <button type="submit">"Save tag"</button>
            </ActionForm>
        </section>
    }
}

/// `/new`: create a repository in a namespace the user owns.
#[component]
pub fn NewRepoPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let preselect = Memo::new(move |_| query.read().get("namespace").unwrap_or_default());
    let action = ServerAction::<CreateRepository>::new();
    let namespaces = crate::wire::resource(
        move || auth.version.get(),
        |_| crate::org::api::my_namespaces_fn(),
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(r)) = action.value().get() {
            navigate(
                &format!("/r/{}/{}", r.namespace, r.name),
                Default::default(),
            );
        }
    });
    let (name, set_name) = signal(String::new());
    let name_hint = move || {
        let n = name.get();
        (!n.is_empty()).then(|| match RepoName::parse(&n) {
            Ok(_) => view! { <p class="verdict ok">"✓ valid name"</p> }.into_any(),
            Err(e) => {
                view! { <p class="verdict bad" data-testid="repo-name-hint">{e}</p> }.into_any()
            }
        })
    };
    view! {
        <Title text="New repository — iEchor Hub"/>
        <h1>"Create a repository"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || namespaces.get().map(|r| match r {
                Err(_) => view! { <SignInFirst/> }.into_any(),
                Ok(list) => {
                    let pre = preselect.get();
                    view! {
                        <ActionForm action=action attr:class="form" attr:data-testid="new-repo-form">
                            <label for="namespace">"Namespace"</label>
                            <select id="namespace" name="namespace">
                                {list.into_iter().map(|n| {
                                    let selected = n.name == pre;
                                    view! { <option value=n.name.clone() selected=selected>{n.name.clone()}</option> }
                                }).collect_view()}
                            </select>
                            <label for="repo-name">"Name"</label>
                            <input id="repo-name" name="name" placeholder="e.g. web-server" required
                                on:input=move |ev| set_name.set(event_target_value(&ev))/>
                            {name_hint}
                            <label for="description">"Short description"</label>
                            <input id="description" name="description" maxlength="300" placeholder="What the image is for"/>
                            <label class="check"><input type="checkbox" name="is_private" value="true"/>" Private (only you and teams you grant can see it)"</label>
                            <ActionError value=action.value()/>
                            <button type="submit">"Create repository"</button>
                        </ActionForm>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

/// Admin-only repository settings: Scout image analysis.
#[component]
fn RepoSettings(namespace: String, name: String, scout: bool) -> impl IntoView {
    view! {
        <section class="panel" data-testid="repo-settings">
            <h2>"Repository settings"</h2>
            <crate::scout::views::ScoutToggle namespace=namespace name=name enabled=scout/>
        </section>
    }
}

/// The publisher's overview (rendered and sanitized on the server), and for
/// writers an editor; an empty overview tells writers how to add one.
#[component]
fn Overview(
    html: String,
    markdown: String,
    can_write: bool,
    namespace: String,
    name: String,
    action: ServerAction<SetOverview>,
) -> impl IntoView {
    let empty = html.trim().is_empty();
    let text = RwSignal::new(markdown);
    let hint = move || super::validate_overview(&text.get()).err();
    view! {
        {(!empty).then(|| view! { <section class="panel overview" data-testid="overview" inner_html=html/> })}
        {(empty && can_write).then(|| view! {
            <p class="muted" data-testid="overview-empty">"No overview yet. Tell people what this image is, how to run it and where its source lives — Markdown works."</p>
        })}
        {can_write.then(|| view! {
            <details class="panel" data-testid="overview-editor">
                <summary>{if empty { "Write an overview" } else { "Edit the overview" }}</summary>
                <ActionForm action=action>
                    <input type="hidden" name="namespace" value=namespace/>
                    <input type="hidden" name="name" value=name/>
                    <label for="overview">"Overview (Markdown: headings, lists, links, code, tables)"</label>
                    <textarea id="overview" name="overview" rows="10" aria-describedby="overview-error"
                        prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    {move || hint().map(|m| view! { <p class="field-hint bad">{m}</p> })}
                    <FieldError value=action.value() field="overview" id="overview-error".to_string()/>
                    <OtherError value=action.value() fields=&["overview"]/>
                    <button type="submit" data-testid="save-overview" disabled=move || hint().is_some()>"Save overview"</button>
                </ActionForm>
            </details>
        })}
    }
}
