//! Program pages: the public description, a namespace's Program page with the
//! application form and live checklist, the staff review queue, the audit log.

use super::api::{DecideApplication, Renew, SubmitApplication};
use super::{
    ApplicationForm, ApplicationStatus, Check, Decision, MembershipStatus, ProgramOverview,
    reason_required,
};
use crate::account::views::use_auth;
use crate::ui::{
    ActionError, FieldError, OtherError, RenewBanner, SignInFirst, SponsoredBadge, focus_by_id,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/program`: the program as publishers read it.
#[component]
pub fn ProgramInfoPage() -> impl IntoView {
    let auth = use_auth();
    // The operator's configured day counts; the defaults until they arrive.
    let rules = crate::wire::resource(|| (), |_| super::api::program_rules());
    let rules = move || rules.get().and_then(|r| r.ok()).unwrap_or_default();
    let reminders = move || {
        let window = rules().renewal_window_days;
        let days = super::REMINDER_DAYS
            .iter()
            .filter(|d| **d <= window)
            .map(|d| d.to_string())
            .collect::<Vec<_>>();
        match days.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            Some((last, _)) => last.clone(),
            None => String::new(),
        }
    };
    view! {
        <Title text="Sponsored Open Source program — iEchor Hub"/>
        <h1>"iEchor-Sponsored Open Source program"</h1>
        <p class="lead">
            "Images in this program are published and maintained by open-source projects sponsored by iEchor. "
            "They carry a special badge, so users can tell projects iEchor has verified as trusted, secure and active open source."
        </p>
        <p><SponsoredBadge/></p>
        <section class="panel">
            <h2>"What sponsored projects get"</h2>
            <ul class="perks">
                <li><strong>"Repository logo"</strong>" — upload a PNG or JPEG logo per repository (120×120 to 1000×1000 pixels, up to 5 MB) that overrides the organization logo."</li>
                <li><strong>"Verified Sponsored OSS badge"</strong>" — on the organization, every repository, search results, and an embeddable badge for your README."</li>
                <li><strong>"Insights and analytics"</strong>" — pulls by tag and digest, by region, cloud provider and client; choose the time span and export a summary or the raw data."</li>
                <li><strong>"iEchor Scout"</strong>{format!(" — enable image analysis on up to {} repositories for free.", crate::domain::membership::SCOUT_LIMIT_SPONSORED)}</li>
                <li><strong>"No rate limits"</strong>" — program members and everyone pulling the namespace's public images get unlimited pulls and egress."</li>
                <li><strong>"Discoverability"</strong>" — a search filter for Sponsored OSS, and sponsored repositories rank first among equally relevant results."</li>
            </ul>
            <Transition fallback=|| ()>
                {move || view! {
                    <p>{format!(
                        "The benefits last one year; renew every year while the project meets the requirements. Renewal opens {} days before the end; we remind owners {} days before the end, and perks keep working for a {}-day grace period.",
                        rules().renewal_window_days,
                        reminders(),
                        rules().grace_days
                    )}</p>
                }}
            </Transition>
        </section>
        <section class="panel">
            <h2>"Who is eligible"</h2>
            <p>"A publisher qualifies when the project:"</p>
            <ul>
                <li>"shares its namespace in public repositories;"</li>
                <li>"meets the Open Source Initiative's definition: every license in its SPDX expression is OSI-approved;"</li>
                <li>{move || format!("is in active development: a tag pushed to a public repository within the last {} days;", rules().activity_days)}</li>
                <li>"has no pathway to commercialization."</li>
            </ul>
        </section>
        <section class="panel">
            <h2>"How to apply"</h2>
            <ol>
                <li>"Sign in and create an organization for the project (Settings → Create an organization)."</li>
                <li>"Publish at least one public repository."</li>
                <li>"Open the organization's page and choose " <strong>"Program"</strong> ". The form checks your eligibility as you type."</li>
                <li>"A reviewer answers in the review queue; you see the status and their messages on the Program page."</li>
            </ol>
            // Anonymous visitors create an account first and land on Settings.
            <a class="button" data-testid="get-started" href=move || {
                if auth.current().is_some() { "/settings".to_string() } else { crate::ui::with_next("/signup", "/settings") }
            }>"Get started"</a>
        </section>
    }
}

fn check_view(c: &Check) -> impl IntoView + use<> {
    let (icon, class) = if c.passed {
        ("✓", "check ok")
    } else if c.overridable {
        ("!", "check warn")
    } else {
        ("✗", "check bad")
    };
    let (key, title) = match c.id {
        super::CheckId::PublicRepository => ("PublicRepository", "Public repository"),
        super::CheckId::OsiLicense => ("OsiLicense", "OSI-approved license"),
        super::CheckId::ActiveDevelopment => ("ActiveDevelopment", "Active development"),
        super::CheckId::Attestations => ("Attestations", "Statements confirmed"),
    };
    view! {
        <li class=class data-check=key data-passed=c.passed.to_string()>
            <span class="icon" aria-hidden="true">{icon}</span>
            <span><strong>{title}</strong>" — "{c.reason.clone()}</span>
        </li>
    }
}

/// A checklist.
#[component]
pub fn Checklist(checks: Vec<Check>) -> impl IntoView {
    view! { <ul class="checklist" data-testid="checklist">{checks.iter().map(check_view).collect_view()}</ul> }
}

/// `/u/{ns}/program`
#[component]
pub fn OrgProgramPage() -> impl IntoView {
    let params = use_params_map();
    let ns = Memo::new(move |_| params.read().get("ns").unwrap_or_default());
    let submit = ServerAction::<SubmitApplication>::new();
    let renew = ServerAction::<Renew>::new();
    // Reload after a change that landed; a refused submission keeps the
    // form as typed, with the error under its field.
    let landed = Memo::new(move |prev: Option<&u32>| {
        let ok = |v: &Option<Result<_, _>>| matches!(v, Some(Ok(_)));
        prev.copied().unwrap_or(0)
            + u32::from(submit.value().with(ok))
            + u32::from(renew.value().with(ok))
    });
    let overview = crate::wire::resource(
        move || (ns.get(), landed.get()),
        |(n, _)| super::api::program_overview(n),
    );
    view! {
        {move || view! { <Title text=format!("{} · Sponsored Open Source — iEchor Hub", ns.get())/> }}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || overview.get().map(|r| match r {
                Err(e) => view! { <h1>"Program"</h1><p class="error-box">{e.message}</p> }.into_any(),
                Ok(o) => view! { <OrgProgram o=o submit=submit renew=renew/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn OrgProgram(
    o: ProgramOverview,
    submit: ServerAction<SubmitApplication>,
    renew: ServerAction<Renew>,
) -> impl IntoView {
    let ns = o.namespace.clone();
    let status = o.membership.map(|m| m.status);
    let perks_on = status.is_some_and(|s| s.perks_active());
    let can_renew =
        o.viewer_is_owner && status.is_some_and(|s| s.can_renew()) && o.open_application.is_none();
    let open = o.open_application.clone();
    let show_form = o.viewer_is_owner
        && o.is_org
        && match &open {
            Some(a) => a.status == ApplicationStatus::ChangesRequested,
            None => !matches!(
                status,
                Some(
                    MembershipStatus::Active
                        | MembershipStatus::RenewalDue
                        | MembershipStatus::Grace
                )
            ),
        };
    let prefill = open
        .as_ref()
        .map(|a| a.form.clone())
        .or_else(|| o.last_application.as_ref().map(|a| a.form.clone()))
        .unwrap_or_default();
    let last_closed = o
        .last_application
        .clone()
        .filter(|a| !a.status.is_open() && open.is_none());
    let ns_for_renew = ns.clone();
    view! {
        <p class="crumbs"><a href=format!("/u/{ns}")>{ns.clone()}</a>" / program"</p>
        <div class="ns-head">
            <h1>"Sponsored Open Source"</h1>
            {perks_on.then(|| view! { <SponsoredBadge until=o.membership.map(|m| m.expires_at)/> })}
        </div>
        <RenewBanner namespace=ns.clone() membership=o.membership renewal_pending=o.open_application.is_some()/>
        <section class="panel" data-testid="membership">
            <h2>"Membership"</h2>
            {match o.membership {
                None => view! { <p>"Not a member of the program yet. " <a href="/program">"What the program offers"</a></p> }.into_any(),
                Some(m) => view! {
                    <p><strong data-testid="membership-status">{m.status.label()}</strong></p>
                    <p class="muted">{format!(
                        "From {} to {} · renewal opens {} · perks end {}",
                        m.starts_at.date(), m.expires_at.date(), m.renewal_opens_at.date(), m.grace_ends_at.date()
                    )}</p>
                }.into_any(),
            }}
            {can_renew.then(|| view! {
                <ActionForm action=renew>
                    <input type="hidden" name="namespace" value=ns_for_renew/>
                    <p>"Renewing re-runs the eligibility checks on your last answers and sends a renewal to the reviewers. An approved renewal extends the membership by one year from its current end date."</p>
                    <ActionError value=renew.value()/>
                    <button type="submit" data-testid="renew">"Renew for another year"</button>
                </ActionForm>
            })}
            <crate::scout::views::ScoutSummary namespace=o.namespace.clone()/>
        </section>
        {open.clone().map(|a| view! {
            <section class="panel" data-testid="open-application">
                <h2>{if a.is_renewal { "Renewal application" } else { "Application" }}" #"{a.id.0}</h2>
                <p><strong data-testid="application-status">{a.status.label()}</strong></p>
                <p class="muted">{format!("Submitted {} by {} · project {}", a.created_at.date(), a.submitted_by, a.form.project_name)}</p>
                <Messages messages=a.messages.clone()/>
            </section>
        })}
        {last_closed.map(|a| view! {
            <section class="panel">
                <h2>"Last application #"{a.id.0}</h2>
                <p><strong>{a.status.label()}</strong></p>
                <Messages messages=a.messages.clone()/>
            </section>
        })}
        {(!o.is_org && o.viewer_is_owner).then(|| view! {
            <p class="notice">"The program sponsors organizations. Create an organization for the project under Settings, then apply from its Program page."</p>
        })}
        {show_form.then(|| view! { <ApplyForm o=o.clone() prefill=prefill.clone() submit=submit/> })}
        {o.viewer_is_owner.then(|| view! { <p><a href=format!("/u/{ns}/audit")>"Audit log"</a></p> })}
    }
}

#[component]
fn Messages(messages: Vec<super::AuditEntry>) -> impl IntoView {
    view! {
        <ul class="messages" data-testid="messages">
            {messages.into_iter().map(|m| view! {
                <li>
                    <span class="muted small">{m.at.date_time()}" · "{m.actor}" · "{m.action.replace('_', " ")}</span>
                    {(!m.detail.is_empty()).then(|| view! { <p>{m.detail}</p> })}
                </li>
            }).collect_view()}
        </ul>
    }
}

/// The application form with its live checklist (the shared rules, in wasm).
#[component]
fn ApplyForm(
    o: ProgramOverview,
    prefill: ApplicationForm,
    submit: ServerAction<SubmitApplication>,
) -> impl IntoView {
    let project = RwSignal::new(prefill.project_name.clone());
    let website = RwSignal::new(prefill.website.clone());
    let source = RwSignal::new(prefill.source_url.clone());
    let license = RwSignal::new(prefill.license.clone());
    let description = RwSignal::new(prefill.description.clone());
    let a_public = RwSignal::new(prefill.attest_public);
    let a_osd = RwSignal::new(prefill.attest_osd);
    let a_nc = RwSignal::new(prefill.attest_noncommercial);
    let o2 = o.clone();
    let checks = Memo::new(move |_| {
        let form = ApplicationForm {
            project_name: project.get(),
            website: website.get(),
            source_url: source.get(),
            license: license.get(),
            description: description.get(),
            attest_public: a_public.get(),
            attest_osd: a_osd.get(),
            attest_noncommercial: a_nc.get(),
        };
        super::api::live_checks(&o2, &form)
    });
    let blocked = move || !super::blocking(&checks.get()).is_empty();
    Effect::new(move |_| {
        if let Some(Err(e)) = submit.value().get()
            && let Some(f) = e.field.as_deref().filter(|f| FORM_FIELDS.contains(f))
        {
            focus_by_id(f);
        }
    });
    let ns = o.namespace.clone();
    view! {
        <section class="panel">
            <h2>"Apply to the program"</h2>
            <ActionForm action=submit attr:class="apply-form" attr:data-testid="apply-form">
                <input type="hidden" name="namespace" value=ns/>
                <label for="project_name">"Project name"</label>
                <input id="project_name" name="form[project_name]" required maxlength="100" aria-describedby="project_name-error"
                    prop:value=project on:input=move |ev| project.set(event_target_value(&ev))/>
                <FieldError value=submit.value() field="project_name" id="project_name-error".to_string()/>
                <label for="website">"Project website"</label>
                <input id="website" type="url" name="form[website]" placeholder="https://" required aria-describedby="website-error"
                    prop:value=website on:input=move |ev| website.set(event_target_value(&ev))/>
                <UrlHint value=website field="website"/>
                <FieldError value=submit.value() field="website" id="website-error".to_string()/>
                <label for="source_url">"Source repository URL"</label>
                <input id="source_url" type="url" name="form[source_url]" placeholder="https://github.com/…" required aria-describedby="source_url-error"
                    prop:value=source on:input=move |ev| source.set(event_target_value(&ev))/>
                <UrlHint value=source field="source_url"/>
                <FieldError value=submit.value() field="source_url" id="source_url-error".to_string()/>
                <label for="license">"License (SPDX expression)"</label>
                <input id="license" name="form[license]" placeholder="MIT OR Apache-2.0" required aria-describedby="license-error"
                    prop:value=license on:input=move |ev| license.set(event_target_value(&ev))/>
                <FieldError value=submit.value() field="license" id="license-error".to_string()/>
                <label for="description">"Short description"</label>
                <textarea id="description" name="form[description]" rows="3" required maxlength="1000" aria-describedby="description-error"
                    prop:value=description on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                <FieldError value=submit.value() field="description" id="description-error".to_string()/>
                <fieldset class="attest">
                    <legend>"I confirm that"</legend>
                    <label class="check"><input type="checkbox" name="form[attest_public]" value="true" prop:checked=a_public on:change=move |ev| a_public.set(event_target_checked(&ev))/>" the namespace's images are public"</label>
                    <label class="check"><input type="checkbox" name="form[attest_osd]" value="true" prop:checked=a_osd on:change=move |ev| a_osd.set(event_target_checked(&ev))/>" the project meets the Open Source Definition"</label>
                    <label class="check"><input type="checkbox" name="form[attest_noncommercial]" value="true" prop:checked=a_nc on:change=move |ev| a_nc.set(event_target_checked(&ev))/>" the project has no pathway to commercialization"</label>
                </fieldset>
                <h3>"Eligibility"</h3>
                {move || view! { <Checklist checks=checks.get()/> }}
                <OtherError value=submit.value() fields=FORM_FIELDS/>
                <button type="submit" data-testid="submit-application" disabled=blocked>"Submit application"</button>
                {move || blocked().then(|| view! { <p class="muted small">"Fix the items marked ✗ to submit. An item marked ! can be overridden by the reviewer."</p> })}
            </ActionForm>
        </section>
    }
}

/// The application form's fields, as the server's errors name them.
const FORM_FIELDS: &[&str] = &[
    "project_name",
    "website",
    "source_url",
    "license",
    "description",
];

/// What the shared rule says about a URL field while it is typed (nothing
/// while it is empty: `required` covers that).
#[component]
fn UrlHint(value: RwSignal<String>, field: &'static str) -> impl IntoView {
    move || {
        let v = value.get();
        if v.trim().is_empty() {
            return None;
        }
        super::validate_url(field, &v).err().map(
            |m| view! { <p class="field-hint bad" data-testid=format!("hint-{field}")>{m}</p> },
        )
    }
}

/// `/review`: the staff review queue. Each card owns its form state and its
/// own action (keyed by application), so nothing typed for one applicant
/// can reach another.
#[component]
pub fn ReviewQueuePage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let notice = RwSignal::new(None::<String>);
    let queue = crate::wire::resource(move || refresh.get(), |_| super::api::review_queue());
    let auth = use_auth();
    let cards = move || {
        queue
            .get()
            .and_then(|r| r.ok())
            .map(|q| q.submitted)
            .unwrap_or_default()
    };
    view! {
        <Title text="Review queue — iEchor Hub"/>
        <h1>"Program review queue"</h1>
        {move || notice.get().map(|n| view! { <p class="notice" role="status" data-testid="decision-notice">{n}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || queue.get().map(|r| match r {
                Err(e) if auth.current().is_none() => { let _ = e; view! { <SignInFirst/> }.into_any() }
                Err(e) => view! { <p class="error-box">{e.message}</p> }.into_any(),
                Ok(q) => view! {
                    <p class="muted">{format!("{} waiting for review, oldest first · {} waiting for applicants", q.submitted.len(), q.changes_requested.len())}</p>
                    {q.submitted.is_empty().then(|| view! { <p class="panel">"The queue is empty."</p> })}
                }.into_any(),
            })}
            <For each=cards key=|it| it.application.id.0 let:it>
                <ReviewCard it=it refresh=refresh notice=notice/>
            </For>
            {move || queue.get().and_then(|r| r.ok()).map(|q| q.changes_requested).filter(|w| !w.is_empty()).map(|waiting| view! {
                <h2>"Waiting for applicants"</h2>
                <ul class="plain">
                    {waiting.into_iter().map(|a| view! {
                        <li><a href=format!("/u/{}/program", a.namespace)>{a.namespace.clone()}</a>
                            <span class="muted small">{format!(" · #{} · changes requested", a.id)}</span></li>
                    }).collect_view()}
                </ul>
            })}
        </Transition>
    }
}

/// One application in the queue with its own decision form.
#[component]
fn ReviewCard(
    it: super::QueueItem,
    refresh: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let decide = ServerAction::<DecideApplication>::new();
    let a = it.application.clone();
    let id = a.id.0;
    let decision = RwSignal::new(None::<Decision>);
    let checks = it.checks.clone();
    let needs_reason =
        Memo::new(move |_| decision.get().is_some_and(|d| reason_required(d, &checks)));
    let reason_id = format!("reason-{id}");
    let reason_err = format!("reason-{id}-error");
    let decision_err = format!("decision-{id}-error");
    let first_radio = format!("decision-{id}-approve");
    // After the server answers: a decision leaves the queue (and says so at
    // the top); an error moves focus to the field it names.
    let (focus_reason, focus_decision) = (reason_id.clone(), first_radio.clone());
    Effect::new(move |_| match decide.value().get() {
        Some(Ok(done)) => {
            let what = if done.is_renewal {
                "renewal"
            } else {
                "application"
            };
            let outcome = match done.status {
                ApplicationStatus::Approved => "was approved",
                ApplicationStatus::Rejected => "was rejected",
                ApplicationStatus::ChangesRequested => "was sent back for changes",
                ApplicationStatus::Submitted => "is still waiting",
            };
            notice.set(Some(format!(
                "{}'s {what} #{} {outcome}.",
                done.namespace, done.id
            )));
            refresh.update(|n| *n += 1);
        }
        Some(Err(e)) => match e.field.as_deref() {
            Some("reason") => focus_by_id(&focus_reason),
            Some("decision") => focus_by_id(&focus_decision),
            _ => {}
        },
        None => {}
    });
    let radio = move |value: Decision, label: &'static str| {
        let v = match value {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::RequestChanges => "request_changes",
        };
        view! {
            <label class="check">
                <input type="radio" name="decision" required id=format!("decision-{id}-{v}") value=v
                    on:change=move |_| decision.set(Some(value))/>
                " "{label}
            </label>
        }
    };
    view! {
        <article class="panel review" data-testid=format!("review-{}", a.namespace)>
            <div class="ns-head">
                <h2><a href=format!("/u/{}", a.namespace)>{a.namespace.clone()}</a>" — "{a.form.project_name.clone()}</h2>
                {a.is_renewal.then(|| view! { <span class="pill renewal">"renewal"</span> })}
                <span class="pill">{format!("waiting {} day{}", it.age_days, if it.age_days == 1 { "" } else { "s" })}</span>
            </div>
            <p class="muted">{format!("#{} · submitted {} by {} · license {}", a.id, a.created_at.date(), a.submitted_by, a.form.license)}</p>
            <p>{a.form.description.clone()}</p>
            <p><a href=a.form.website.clone() rel="nofollow noopener">{a.form.website.clone()}</a>" · "
               <a href=a.form.source_url.clone() rel="nofollow noopener">{a.form.source_url.clone()}</a></p>
            <h3>"Checklist now"</h3>
            <Checklist checks=it.checks.clone()/>
            <h3>"Public repositories"</h3>
            <ul class="plain">
                {it.public_repositories.iter().map(|r| view! {
                    <li><a href=format!("/r/{}/{}", r.namespace, r.name)>{r.name.clone()}</a>
                        <span class="muted small">{format!(" · {}{}", crate::ui::plural(r.tag_count, "tag"), r.last_pushed_at.map(|t| format!(" · last push {}", t.date())).unwrap_or_default())}</span></li>
                }).collect_view()}
            </ul>
            <Messages messages=a.messages.clone()/>
            <ActionForm action=decide attr:class="decide" attr:data-testid=format!("decide-form-{id}")>
                <input type="hidden" name="id" value=id/>
                <fieldset aria-describedby=decision_err.clone()>
                    <legend>"Decision"</legend>
                    {radio(Decision::Approve, "Approve (one-year membership)")}
                    {radio(Decision::RequestChanges, "Request changes")}
                    {radio(Decision::Reject, "Reject")}
                </fieldset>
                <FieldError value=decide.value() field="decision" id=decision_err/>
                <label for=reason_id.clone()>
                    "Message to the applicant "
                    <span class="muted small">{move || if needs_reason.get() { "(required for this decision)" } else { "(optional)" }}</span>
                </label>
                <textarea id=reason_id name="reason" rows="2" maxlength=super::REASON_MAX
                    required=needs_reason aria-describedby=reason_err.clone()></textarea>
                <FieldError value=decide.value() field="reason" id=reason_err/>
                <OtherError value=decide.value() fields=&["reason", "decision"]/>
                <button type="submit" data-testid="decide" disabled=move || decide.pending().get()>"Record decision"</button>
            </ActionForm>
            <p><a href=format!("/u/{}/audit", a.namespace)>"Audit log"</a></p>
        </article>
    }
}

/// `/u/{ns}/audit`: who did what, when and why.
#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_params_map();
    let ns = Memo::new(move |_| params.read().get("ns").unwrap_or_default());
    let log = crate::wire::resource(
        move || ns.get(),
        |n| async move { crate::ui::with_page_status(super::api::audit_log_fn(n).await) },
    );
    let info = crate::wire::resource(move || ns.get(), crate::org::api::get_namespace_fn);
    view! {
        {move || view! { <Title text=format!("{} · audit log — iEchor Hub", ns.get())/> }}
        <Transition fallback=|| ()>
            {move || info.get().and_then(|r| r.ok()).map(|n| view! { <RenewBanner namespace=n.name.clone() membership=n.membership/> })}
        </Transition>
        <p class="crumbs" data-testid="audit-crumbs">
            <a href=move || format!("/u/{}", ns.get())>{move || ns.get()}</a>" / "
            <a href=move || format!("/u/{}/program", ns.get())>"program"</a>" / audit log"
        </p>
        <h1>{move || ns.get()}" · audit log"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || log.get().map(|r| match r {
                Err(e) => view! { <p class="error-box">{e.message}</p> }.into_any(),
                Ok(entries) => view! {
                    <div class="table-card">
                    <table data-testid="audit-table" class="audit" tabindex="0" aria-label="Audit log">
                        <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Why / detail"</th></tr></thead>
                        <tbody>
                            {entries.into_iter().map(|e| view! {
                                <tr>
                                    <td class="when"><time datetime=e.at.date_time() title=e.at.date_time()>{e.at.date()}</time></td>
                                    <td>{e.actor}</td>
                                    <td>{e.action.replace('_', " ")}</td>
                                    <td>{audit_detail(&e.action, &e.detail)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

/// An audit entry's detail as a person reads it: logo changes show the old
/// and new logos as thumbnails instead of their content-addressed file names.
fn audit_detail(action: &str, detail: &str) -> AnyView {
    let logo = |side: &str| -> AnyView {
        let side = side.trim();
        if crate::logo::valid_file_name(side) {
            view! { <img class="audit-logo" src=format!("/logos/{side}") width="32" height="32" alt="logo" title=side.to_string() loading="lazy"/> }.into_any()
        } else {
            view! { <span class="muted">{side.to_string()}</span> }.into_any()
        }
    };
    if action.starts_with("logo_")
        && let Some((what, change)) = detail.split_once(": ")
        && let Some((old, new)) = change.split_once(" → ")
    {
        let verb = if action == "logo_cleared" {
            "logo cleared"
        } else {
            "logo changed"
        };
        return view! {
            <span class="audit-change">{format!("{what}: {verb} ")}{logo(old)}" → "{logo(new)}</span>
        }
        .into_any();
    }
    view! { <span>{detail.to_string()}</span> }.into_any()
}
