//! Sign in, sign up, the account settings page, the signed-in user as a
//! context every page reads, and the notification bell.

use super::SessionUser;
use super::api::{
    ChangePassword, CreateToken, MarkNotificationsRead, RevokeToken, SignIn, SignOut, SignUp,
};
use crate::core::notify::Inbox;
use crate::error::AppError;
use crate::ui::{ActionError, SignInFirst};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

/// The signed-in user and their notifications (the top bar's bell),
/// refetched whenever `version` is bumped (sign in/out). Both load with the
/// page on the server, so the top bar's HTML is complete without JavaScript.
#[derive(Clone, Copy)]
pub struct Auth {
    pub version: RwSignal<u32>,
    pub user: Resource<Result<Option<SessionUser>, AppError>, crate::wire::Ser>,
    pub inbox: Resource<Result<Inbox, AppError>, crate::wire::Ser>,
}

impl Auth {
    pub fn new() -> Self {
        let version = RwSignal::new(0);
        let user = crate::wire::resource(move || version.get(), |_| super::api::whoami());
        let inbox = crate::wire::resource(move || version.get(), |_| super::api::inbox_fn());
        Auth {
            version,
            user,
            inbox,
        }
    }
    /// Call after signing in or out.
    pub fn changed(&self) {
        self.version.update(|v| *v += 1);
    }
    /// The user as last loaded (None while loading or signed out).
    pub fn current(&self) -> Option<SessionUser> {
        self.user.get().and_then(|r| r.ok()).flatten()
    }
}

impl Default for Auth {
    fn default() -> Self {
        Self::new()
    }
}

/// The [`Auth`] the app root provides.
pub fn use_auth() -> Auth {
    use_context::<Auth>().unwrap_or_default()
}

/// The bell in the top bar: unread count and the latest notifications
/// ([`Auth::inbox`], rendered inside the top bar's `Transition`: a
/// browser-only resource here kept the whole user menu out of the server's
/// HTML, and a nested `Transition` broke hydration).
#[component]
pub fn NotificationBell() -> impl IntoView {
    let mark = ServerAction::<MarkNotificationsRead>::new();
    let data = use_auth().inbox;
    // Once the server has recorded them read, nothing shown is unread (a
    // refetch of the shared inbox would rebuild the top bar, and the bell's
    // open menu with it).
    let marked = move || mark.version().try_get().unwrap_or(0) > 0;
    let (open, set_open) = signal(false);
    // What the menu shows while open: the inbox as it was when opened, so
    // the new ones stay marked as new while the server records them read.
    let shown = RwSignal::new(None::<Result<Inbox, AppError>>);
    // `try_` reads: during server rendering the top bar may be rendered a
    // second time after the first render's signals were disposed.
    let unread = move || {
        if marked() {
            return 0;
        }
        data.try_get()
            .flatten()
            .and_then(|r| r.ok())
            .map(|i| i.unread)
            .unwrap_or(0)
    };
    let is_open = move || open.try_get().unwrap_or(false);
    let label = move || match unread() {
        0 => "Notifications".to_string(),
        1 => "Notifications, 1 unread".to_string(),
        n => format!("Notifications, {n} unread"),
    };
    let toggle = move |_| {
        let opening = !open.get_untracked();
        if opening {
            let read_before = marked();
            shown.set(data.get_untracked().map(|r| {
                r.map(|mut inbox| {
                    if read_before {
                        inbox.latest.iter_mut().for_each(|n| n.read = true);
                    }
                    inbox
                })
            }));
            if unread() > 0 {
                mark.dispatch(MarkNotificationsRead {});
            }
        }
        set_open.set(opening);
    };
    view! {
        <div class="bell">
            <button class="link bell-button" aria-label=label data-testid="bell" aria-expanded=move || is_open().to_string()
                aria-controls="bell-menu" on:click=toggle>
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                    <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/>
                    <path d="M13.7 21a2 2 0 0 1-3.4 0"/>
                </svg>
                <span class="count" aria-hidden="true" data-testid="unread-count" class:hidden=move || unread() == 0>{unread}</span>
            </button>
            <div class="bell-menu" id="bell-menu" data-testid="bell-menu" class:hidden=move || !is_open()
                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { set_open.set(false) }>
                <div class="bell-head">
                    <strong>"Notifications"</strong>
                    <span class="muted small">"Opening this menu marks them read."</span>
                </div>
                {move || match shown.get().or_else(|| data.get()) {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Ok(inbox)) if inbox.latest.is_empty() => view! { <p class="muted">"No notifications."</p> }.into_any(),
                    Some(Ok(inbox)) => view! {
                        <ul>
                            {inbox.latest.into_iter().map(|n| view! {
                                <li class:unread=!n.read>
                                    <a href=n.link.clone() on:click=move |_| set_open.set(false)>
                                        {(!n.read).then(|| view! { <span class="sr-only">"New: "</span> })}
                                        {n.body.clone()}
                                    </a>
                                    <span class="muted small">{n.created_at.date()}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Some(Err(e)) => view! { <p class="error">{e.message}</p> }.into_any(),
                }}
            </div>
        </div>
    }
}

/// Sign-in form.
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let auth = use_auth();
    let navigate = use_navigate();
    let next = next_param();
    let no_js_error = crate::ui::url_error("/api/sign_in");
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            auth.changed();
            // Where the visitor was going, else the signed-in home.
            let to = next.get_untracked().unwrap_or_else(|| "/".to_string());
            navigate(&to, Default::default());
        }
    });
    view! {
        <Title text="Sign in — iEchor Hub"/>
        <h1>"Sign in"</h1>
        <ActionForm action=action attr:class="form" attr:data-testid="signin-form">
            <label for="name">"User name"</label>
            <input id="name" name="name" autocomplete="username" required/>
            <label for="password">"Password"</label>
            <input id="password" type="password" name="password" autocomplete="current-password" required/>
            <ActionError value=action.value()/>
            // Sent back by the server to a form posted without JavaScript.
            {move || (action.value().get().is_none()).then(|| no_js_error.get()).flatten().map(|e| view! {
                <p class="error-box" role="alert" data-testid="action-error">{e.message}</p>
            })}
            <button type="submit">"Sign in"</button>
            <p class="muted">"New here? " <a href=move || next.get().map(|n| crate::ui::with_next("/signup", &n)).unwrap_or_else(|| "/signup".into())>"Create an account"</a></p>
        </ActionForm>
    }
}

/// The `?next=` of the sign-in and sign-up pages, when it is a path on this site.
fn next_param() -> Memo<Option<String>> {
    let query = leptos_router::hooks::use_query_map();
    Memo::new(move |_| {
        query
            .read()
            .get("next")
            .and_then(|n| crate::ui::safe_next(&n))
    })
}

/// Sign-up form with live name and password checks.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let auth = use_auth();
    let navigate = use_navigate();
    let next = next_param();
    let (name, set_name) = signal(String::new());
    let (pw, set_pw) = signal(String::new());
    Effect::new(move |_| {
        if let Some(Ok(u)) = action.value().get() {
            auth.changed();
            let to = next
                .get_untracked()
                .unwrap_or_else(|| format!("/u/{}", u.name));
            navigate(&to, Default::default());
        }
    });
    let pw_hint = move || {
        let p = pw.get();
        (!p.is_empty())
            .then(|| super::validate_password(&p).err())
            .flatten()
            .map(|e| view! { <p class="verdict bad">{e}</p> })
    };
    view! {
        <Title text="Sign up — iEchor Hub"/>
        <h1>"Create your account"</h1>
        <ActionForm action=action attr:class="form" attr:data-testid="signup-form">
            <label for="name">"User name"</label>
            <input id="name" name="name" autocomplete="username" required
                on:input=move |ev| set_name.set(event_target_value(&ev))/>
            <crate::ui::NameVerdict name=name.into() empty_hint="4–30 lowercase letters and digits." testid="name-hint"/>
            <p class="muted">"Your user name is also your personal namespace: 4–30 lowercase letters and digits."</p>
            <label for="password">"Password"</label>
            <input id="password" type="password" name="password" autocomplete="new-password" required
                on:input=move |ev| set_pw.set(event_target_value(&ev))/>
            {pw_hint}
            <ActionError value=action.value()/>
            <button type="submit">"Create account"</button>
            <p class="muted">"Already have an account? " <a href=move || next.get().map(|n| crate::ui::with_next("/signin", &n)).unwrap_or_else(|| "/signin".into())>"Sign in"</a></p>
        </ActionForm>
    }
}

/// Sign-out button for the top bar.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let action = ServerAction::<SignOut>::new();
    let auth = use_auth();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            auth.changed();
            navigate("/", Default::default());
        }
    });
    view! {
        <ActionForm action=action attr:class="inline">
            <button type="submit" class="link" data-testid="sign-out">"Sign out"</button>
        </ActionForm>
    }
}

/// Account settings: what the page composes in (the namespaces section),
/// access tokens, password.
#[component]
pub fn SettingsPage(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text="Settings — iEchor Hub"/>
        <h1>"Settings"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || auth.user.get().map(|r| match r.ok().flatten() {
                None => view! { <SignInFirst/> }.into_any(),
                Some(u) => view! {
                    <p class="muted">"Signed in as " <strong>{u.name.clone()}</strong>
                        {u.is_staff.then_some(" · program reviewer (staff)")}</p>
                    {children()}
                    <Tokens/>
                    <PasswordForm/>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let list = crate::wire::resource(
        move || (create.version().get(), revoke.version().get()),
        |_| super::api::list_tokens_fn(),
    );
    view! {
        <section class="panel">
            <h2>"Access tokens"</h2>
            <p class="muted">"Tokens authenticate the API and the registry: "
                <code>"Authorization: Bearer <token>"</code>
                ". A read token can pull, a write token can push, an admin token can also manage settings; an ingest token can only send pull events to the analytics."</p>
            <ActionForm action=create attr:data-testid="create-token-form">
                <label for="token-name">"Name"</label>
                <input id="token-name" name="name" placeholder="e.g. ci" required/>
                <label for="token-scope">"Scope"</label>
                <select id="token-scope" name="scope">
                    <option value="read">"read"</option>
                    <option value="write" selected>"write"</option>
                    <option value="admin">"admin"</option>
                    <option value="ingest">"ingest"</option>
                </select>
                <label for="token-exp">"Expires after (days, empty for never)"</label>
                <input id="token-exp" name="expires_in_days" placeholder="90"/>
                <ActionError value=create.value()/>
                {move || create.value().get().and_then(|r| r.ok()).map(|t| view! {
                    <div class="notice">
                        <p>"Copy the token now; it will not be shown again:"</p>
                        <code class="secret" data-testid="new-token">{t.secret}</code>
                    </div>
                })}
                <button type="submit">"Create token"</button>
            </ActionForm>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok(tokens) if tokens.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                    Ok(tokens) => view! {
                        <table data-testid="token-table">
                            <thead><tr><th>"Name"</th><th>"Scope"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
                            <tbody>
                            {tokens.into_iter().map(|t| {
                                let revoked = t.revoked_at;
                                view! {
                                    <tr>
                                        <td>{t.name.clone()}</td>
                                        <td>{t.scope.as_str()}</td>
                                        <td>{t.created_at.date()}</td>
                                        <td>{t.expires_at.map(|e| e.date()).unwrap_or_else(|| "never".into())}</td>
                                        <td>{t.last_used_at.map(|e| e.date_time()).unwrap_or_else(|| "never".into())}</td>
                                        <td>{match revoked {
                                            Some(at) => view! { <span class="pill">{format!("revoked {}", at.date())}</span> }.into_any(),
                                            None => view! {
                                                <ActionForm action=revoke attr:class="inline">
                                                    <input type="hidden" name="id" value=t.id.0/>
                                                    <button type="submit" class="danger small">"Revoke"</button>
                                                </ActionForm>
                                            }.into_any(),
                                        }}</td>
                                    </tr>
                                }
                            }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    view! {
        <section class="panel">
            <h2>"Change password"</h2>
            <ActionForm action=action>
                <label for="cur-pw">"Current password"</label>
                <input id="cur-pw" type="password" name="current_password" autocomplete="current-password" required/>
                <label for="new-pw">"New password (at least 8 characters)"</label>
                <input id="new-pw" type="password" name="new_password" autocomplete="new-password" required/>
                <ActionError value=action.value()/>
                {move || matches!(action.value().get(), Some(Ok(()))).then(|| view! {
                    <p class="notice">"Password changed. Other sessions were signed out."</p>
                })}
                <button type="submit">"Change password"</button>
            </ActionForm>
        </section>
    }
}
