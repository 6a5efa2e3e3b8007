//! Program actions: apply, renew, review, the audit log; services shared by
//! server functions and REST v1, each checking rights itself.

use super::{Application, ApplicationForm, Check, ProgramOverview, ReviewQueue};
use crate::core::audit::AuditEntry;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::super::store::{self, AppRow, with_messages};
    use super::super::{
        Application, ApplicationForm, ApplicationStatus, Check, Decision, Membership,
        MembershipStatus, ProgramOverview, QueueItem, ReviewQueue, blocking, checklist,
        reason_required, validate_form, validate_reason,
    };

    use crate::core::access::{
        self, caller_owns, load_namespace, readable_repositories, require_owner,
    };
    use crate::core::audit::{self, AuditEntry, Record};
    use crate::core::caller::Caller;
    use crate::core::notify::{self, NewNotification};
    use crate::core::perks;
    use crate::core::state::AppState;
    use crate::db::Tx;
    use crate::domain::clock::DAY_MS;
    use crate::domain::ids::{ApplicationId, NamespaceId};
    use crate::domain::{NamespaceKind, Timestamp};
    use crate::error::{AppError, AppResult};

    /// The namespace's membership as of `now`, read for a decision (uncached).
    async fn membership(
        state: &AppState,
        tx: &mut Tx<'_>,
        ns: NamespaceId,
    ) -> Result<Option<Membership>, sqlx::Error> {
        let now = state.clock.now();
        Ok(store::membership(tx, ns)
            .await?
            .map(|(s, e)| Membership::derive(s, e, now, &state.settings.program)))
    }

    fn checks_error(checks: &[Check]) -> AppError {
        let text = blocking(checks)
            .iter()
            .map(|c| c.reason.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        AppError::invalid(format!("The application cannot be submitted yet. {text}"))
            .with_details(serde_json::json!({ "checks": checks }))
    }

    async fn application(tx: &mut Tx<'_>, row: Option<AppRow>) -> AppResult<Option<Application>> {
        Ok(match row {
            Some(r) => Some(with_messages(tx, &r).await?),
            None => None,
        })
    }

    /// The program page of a namespace. Owners and staff see the application.
    pub async fn overview(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
    ) -> AppResult<ProgramOverview> {
        let mut tx = state.db.begin().await?;
        let ns = load_namespace(&mut tx, namespace).await?;
        let owner = caller_owns(&mut tx, caller, &ns).await?;
        let (open, last) = if owner || caller.is_staff() {
            let open = store::open_application(&mut tx, ns.id()).await?;
            let last = store::last_application(&mut tx, ns.id()).await?;
            (
                application(&mut tx, open).await?,
                application(&mut tx, last).await?,
            )
        } else {
            (None, None)
        };
        let overview = ProgramOverview {
            namespace: ns.name.clone(),
            is_org: ns.kind == NamespaceKind::Org,
            viewer_is_owner: owner,
            membership: perks::of(state, &mut tx, ns.id()).await?.membership,
            open_application: open,
            last_application: last,
            facts: store::namespace_facts(&mut tx, ns.id()).await?,
            rules: state.settings.program,
            now: state.clock.now(),
        };
        tx.commit().await?;
        Ok(overview)
    }

    /// An application with the checklist as it stood at submission.
    #[derive(Debug, Clone, serde::Serialize)]
    pub struct Submitted {
        #[serde(flatten)]
        pub application: Application,
        pub checklist: Vec<Check>,
    }

    /// Submits (or, after "changes requested", resubmits) an application.
    pub async fn submit_application(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        form: &ApplicationForm,
    ) -> AppResult<Submitted> {
        validate_form(form).map_err(|(field, m)| AppError::invalid_field(field, m))?;
        let now = state.clock.now();
        let rules = state.settings.program;
        let mut tx = state.db.begin_write().await?;
        let ns = load_namespace(&mut tx, namespace).await?;
        let me = require_owner(&mut tx, caller, &ns, "apply to the program or renew it")
            .await?
            .id;
        if ns.kind != NamespaceKind::Org {
            return Err(AppError::invalid(
                "The program sponsors organizations: create an organization for the project and apply from it.",
            ));
        }
        let facts = store::namespace_facts(&mut tx, ns.id()).await?;
        let checks = checklist(&facts, form, now, &rules);
        if !blocking(&checks).is_empty() {
            return Err(checks_error(&checks));
        }
        let m = membership(state, &mut tx, ns.id()).await?;
        if let Some(m) = m
            && m.status == MembershipStatus::Active
        {
            return Err(AppError::conflict(format!(
                "“{}” is sponsored until {}; renewal opens on {}.",
                ns.name,
                m.expires_at.date(),
                m.renewal_opens_at.date()
            )));
        }
        let is_renewal = m.is_some_and(|m| m.status.can_renew());
        let record = |application, action, detail| Record {
            namespace: ns.id(),
            application: Some(application),
            actor: Some(me),
            action,
            detail,
        };
        let id = match store::open_application(&mut tx, ns.id()).await? {
            Some(open) if open.status == ApplicationStatus::ChangesRequested => {
                store::resubmit_application(&mut tx, open.id(), form, now).await?;
                audit::record(&mut tx, record(open.id(), "resubmitted", ""), now).await?;
                open.id()
            }
            Some(open) => {
                return Err(AppError::conflict(format!(
                    "“{}” already has an open application (#{}, submitted {}); wait for the review or edit it when changes are requested.",
                    ns.name,
                    open.id(),
                    Timestamp(open.created_at).date()
                )));
            }
            None => {
                let id = store::insert_application(&mut tx, ns.id(), is_renewal, form, me, now)
                    .await
                    .map_err(|e| {
                        if crate::db::is_unique_violation(&e) {
                            AppError::conflict(format!(
                                "“{}” already has an open application.",
                                ns.name
                            ))
                        } else {
                            e.into()
                        }
                    })?;
                let action = if is_renewal {
                    "renewal_submitted"
                } else {
                    "submitted"
                };
                audit::record(&mut tx, record(id, action, form.project_name.trim()), now).await?;
                id
            }
        };
        let row = store::application_by_id(&mut tx, id)
            .await?
            .ok_or_else(AppError::internal)?;
        let application = with_messages(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(Submitted {
            application,
            checklist: checks,
        })
    }

    /// One-click renewal: re-runs the checklist on the last application's
    /// answers and files a renewal application.
    pub async fn renew(state: &AppState, caller: &Caller, namespace: &str) -> AppResult<Submitted> {
        let rules = state.settings.program;
        let form = {
            let mut tx = state.db.begin().await?;
            let ns = load_namespace(&mut tx, namespace).await?;
            require_owner(&mut tx, caller, &ns, "apply to the program or renew it").await?;
            let m = membership(state, &mut tx, ns.id()).await?.ok_or_else(|| {
                AppError::conflict(format!(
                    "“{}” has no membership to renew; apply first.",
                    ns.name
                ))
            })?;
            match m.status {
                MembershipStatus::Active => {
                    return Err(AppError::conflict(format!(
                        "It is too early to renew: renewal opens on {} ({} days before the membership ends on {}).",
                        m.renewal_opens_at.date(),
                        rules.renewal_window_days,
                        m.expires_at.date()
                    )));
                }
                MembershipStatus::Expired => {
                    return Err(AppError::conflict(format!(
                        "The membership ended on {} and its grace period on {}; apply again.",
                        m.expires_at.date(),
                        m.grace_ends_at.date()
                    )));
                }
                MembershipStatus::RenewalDue | MembershipStatus::Grace => {}
            }
            let last = store::last_application(&mut tx, ns.id())
                .await?
                .ok_or_else(|| {
                    AppError::conflict("No earlier application to renew from; apply with the form.")
                })?;
            tx.commit().await?;
            last.form()
        };
        submit_application(state, caller, namespace, &form).await
    }

    /// A staff decision on a submitted application. Approval starts (or, for
    /// a renewal while perks are on, extends by a year) the membership.
    pub async fn decide(
        state: &AppState,
        caller: &Caller,
        id: ApplicationId,
        decision: Decision,
        reason: &str,
    ) -> AppResult<Application> {
        let me = caller.require_staff()?.id;
        validate_reason(decision, reason).map_err(|m| AppError::invalid_field("reason", m))?;
        let reason = reason.trim();
        let now = state.clock.now();
        let rules = state.settings.program;
        let mut tx = state.db.begin_write().await?;
        let row = store::application_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("There is no application #{id}.")))?;
        if row.status != ApplicationStatus::Submitted {
            return Err(AppError::conflict(format!(
                "Application #{id} is {}; only submitted applications can be decided.",
                row.status.as_str().replace('_', " ")
            )));
        }
        let ns = row.namespace_id();
        let ns_row = load_namespace(&mut tx, &row.namespace).await?;
        if access::belongs_to(&mut tx, &ns_row, me).await? {
            return Err(AppError::forbidden(format!(
                "You own or are a member of “{}”; another reviewer must decide its application.",
                row.namespace
            )));
        }
        let facts = store::namespace_facts(&mut tx, ns).await?;
        let checks = checklist(&facts, &row.form(), now, &rules);
        let (to, action) = match decision {
            Decision::Approve => {
                if !blocking(&checks).is_empty() {
                    return Err(checks_error(&checks));
                }
                let activity_fails = reason_required(Decision::Approve, &checks);
                if activity_fails && reason.is_empty() {
                    return Err(AppError::invalid_field(
                        "reason",
                        "The active-development check fails; give a written reason to approve anyway.",
                    ));
                }
                let action = if activity_fails {
                    "approved_with_override"
                } else {
                    "approved"
                };
                (ApplicationStatus::Approved, action)
            }
            Decision::Reject => (ApplicationStatus::Rejected, "rejected"),
            Decision::RequestChanges => (ApplicationStatus::ChangesRequested, "changes_requested"),
        };
        if !store::decide(&mut tx, id, ApplicationStatus::Submitted, to, me, now).await? {
            return Err(AppError::conflict(format!(
                "Application #{id} was just decided by someone else."
            )));
        }
        let mut detail = reason.to_string();
        if decision == Decision::Approve {
            let (starts, expires) = match membership(state, &mut tx, ns).await? {
                Some(m) if row.is_renewal && m.status.perks_active() => {
                    (m.starts_at, m.expires_at.plus_years(1))
                }
                _ => (now, now.plus_years(1)),
            };
            store::upsert_membership(&mut tx, ns, starts, expires, now).await?;
            let note = format!("Membership until {}.", expires.date());
            detail = if detail.is_empty() {
                note
            } else {
                format!("{detail} ({note})")
            };
        }
        let record = Record {
            namespace: ns,
            application: Some(id),
            actor: Some(me),
            action,
            detail: &detail,
        };
        audit::record(&mut tx, record, now).await?;
        let what = if row.is_renewal {
            "renewal"
        } else {
            "program application"
        };
        let body = match decision {
            Decision::Approve => format!("{}: your {what} was approved. {detail}", row.namespace),
            Decision::Reject => format!("{}: your {what} was rejected: {detail}", row.namespace),
            Decision::RequestChanges => format!(
                "{}: the reviewer asked for changes to your {what}: {detail}",
                row.namespace
            ),
        };
        let link = format!("/u/{}/program", row.namespace);
        for owner in access::owner_ids(&mut tx, ns).await? {
            let n = NewNotification {
                user: owner,
                namespace: Some(ns),
                kind: action,
                subject: "Sponsored Open Source application",
                body: &body,
                link: &link,
            };
            notify::notify(&mut tx, n, now).await?;
        }
        let row = store::application_by_id(&mut tx, id)
            .await?
            .ok_or_else(AppError::internal)?;
        let app = with_messages(&mut tx, &row).await?;
        tx.commit().await?;
        state.perks.invalidate(ns);
        Ok(app)
    }

    /// Staff review queue: submitted applications oldest first, with the
    /// checklist as it stands now; plus those waiting for the applicant.
    pub async fn queue(state: &AppState, caller: &Caller) -> AppResult<ReviewQueue> {
        caller.require_staff()?;
        let now = state.clock.now();
        let rules = state.settings.program;
        let mut tx = state.db.begin().await?;
        let mut submitted = Vec::new();
        for row in store::applications_with_status(&mut tx, ApplicationStatus::Submitted).await? {
            let facts = store::namespace_facts(&mut tx, row.namespace_id()).await?;
            let checks = checklist(&facts, &row.form(), now, &rules);
            let ns = load_namespace(&mut tx, &row.namespace).await?;
            let sponsored = perks::of(state, &mut tx, ns.id()).await?.active();
            let public_repositories = readable_repositories(&mut tx, &Caller::default(), &ns)
                .await?
                .iter()
                .map(|r| r.summary(&ns, sponsored))
                .collect();
            submitted.push(QueueItem {
                age_days: (now.0 - row.created_at) / DAY_MS,
                application: with_messages(&mut tx, &row).await?,
                checks,
                public_repositories,
            });
        }
        let mut changes_requested = Vec::new();
        for row in
            store::applications_with_status(&mut tx, ApplicationStatus::ChangesRequested).await?
        {
            changes_requested.push(with_messages(&mut tx, &row).await?);
        }
        tx.commit().await?;
        Ok(ReviewQueue {
            submitted,
            changes_requested,
        })
    }

    /// The namespace's audit log (staff, or the namespace's owners).
    pub async fn audit_log(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
    ) -> AppResult<Vec<AuditEntry>> {
        caller.require_user()?;
        let mut tx = state.db.begin().await?;
        let ns = load_namespace(&mut tx, namespace).await?;
        if !caller.is_staff() {
            require_owner(
                &mut tx,
                caller,
                &ns,
                "read its audit log; so can program staff",
            )
            .await?;
        }
        let log = audit::for_namespace(&mut tx, ns.id()).await?;
        tx.commit().await?;
        Ok(log)
    }
}

#[cfg(feature = "ssr")]
mod rest {
    use super::service::*;
    use crate::core::caller::Caller;
    use crate::core::http::{ApiRoutes, JsonBody, api_not_found};
    use crate::core::state::AppState;
    use crate::domain::ids::ApplicationId;
    use crate::error::{AppError, AppResult};
    use crate::program::{Application, ApplicationForm, Decision, ProgramStatus, ReviewQueue};
    use axum::Json;
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    async fn status(
        State(s): State<AppState>,
        caller: Caller,
        Path(ns): Path<String>,
    ) -> AppResult<Json<ProgramStatus>> {
        let o = overview(&s, &caller, &ns).await?;
        Ok(Json(ProgramStatus {
            namespace: o.namespace,
            membership: o.membership,
            open_application: o.open_application,
        }))
    }

    async fn apply(
        State(s): State<AppState>,
        caller: Caller,
        Path(ns): Path<String>,
        JsonBody(form): JsonBody<ApplicationForm>,
    ) -> AppResult<(StatusCode, Json<Submitted>)> {
        let a = submit_application(&s, &caller, &ns, &form).await?;
        Ok((StatusCode::CREATED, Json(a)))
    }

    async fn renew_route(
        State(s): State<AppState>,
        caller: Caller,
        Path(ns): Path<String>,
    ) -> AppResult<(StatusCode, Json<Submitted>)> {
        Ok((StatusCode::CREATED, Json(renew(&s, &caller, &ns).await?)))
    }

    async fn queue_route(
        State(s): State<AppState>,
        caller: Caller,
    ) -> AppResult<Json<ReviewQueue>> {
        Ok(Json(queue(&s, &caller).await?))
    }

    #[derive(serde::Deserialize, Default)]
    struct ReasonBody {
        #[serde(default)]
        reason: String,
    }

    async fn decide_route(
        State(s): State<AppState>,
        caller: Caller,
        Path((id, action)): Path<(String, String)>,
        body: Result<JsonBody<ReasonBody>, AppError>,
    ) -> Result<Json<Application>, Response> {
        let Ok(decision) = Decision::parse(&action) else {
            return Err(api_not_found().await.into_response());
        };
        let id: i64 = id.parse().map_err(|_| {
            AppError::not_found(format!("There is no application “{id}”.")).into_response()
        })?;
        let JsonBody(b) = body.map_err(IntoResponse::into_response)?;
        decide(&s, &caller, ApplicationId(id), decision, &b.reason)
            .await
            .map(Json)
            .map_err(IntoResponse::into_response)
    }

    /// The program's REST routes.
    pub fn routes() -> ApiRoutes {
        ApiRoutes::new()
            .get("/api/v1/namespaces/{ns}/program", status)
            .post("/api/v1/namespaces/{ns}/program/applications", apply)
            .post("/api/v1/namespaces/{ns}/program/renew", renew_route)
            .get("/api/v1/program/queue", queue_route)
            .post("/api/v1/program/applications/{id}/{action}", decide_route)
    }
}

#[cfg(feature = "ssr")]
pub use rest::routes;

/// The program's configured day counts (activity, renewal window, grace).
#[server(name = GetProgramRules, endpoint = "program_rules", output = crate::wire::Json)]
pub async fn program_rules() -> Result<super::ProgramRules, AppError> {
    Ok(crate::core::state::AppState::current()?.settings.program)
}

/// The program page of a namespace.
#[server(name = ProgramOverviewFn, endpoint = "program_overview", output = crate::wire::Json)]
pub async fn program_overview(namespace: String) -> Result<ProgramOverview, AppError> {
    with_caller!(|state, caller| overview(&state, &caller, &namespace).await)
}

/// Submits or resubmits the program application of an organization. Form
/// fields are named `form[project_name]`, `form[license]`, … .
#[server(name = SubmitApplication, endpoint = "submit_application", output = crate::wire::Json)]
pub async fn submit_application_fn(
    namespace: String,
    form: ApplicationForm,
) -> Result<Application, AppError> {
    with_caller!(
        |state, caller| submit_application(&state, &caller, &namespace, &form)
            .await
            .map(|s| s.application)
    )
}

/// One-click renewal.
#[server(name = Renew, endpoint = "renew_membership", output = crate::wire::Json)]
pub async fn renew_fn(namespace: String) -> Result<Application, AppError> {
    with_caller!(|state, caller| renew(&state, &caller, &namespace)
        .await
        .map(|s| s.application))
}

/// Staff: approve (reason optional, required to override the activity check),
/// reject (reason required) or request changes (message required).
#[server(name = DecideApplication, endpoint = "decide_application", output = crate::wire::Json)]
pub async fn decide_application(
    id: i64,
    decision: String,
    reason: String,
) -> Result<Application, AppError> {
    let d =
        super::Decision::parse(&decision).map_err(|m| AppError::invalid_field("decision", m))?;
    with_caller!(|state, caller| decide(
        &state,
        &caller,
        crate::domain::ids::ApplicationId(id),
        d,
        &reason
    )
    .await)
}

/// Staff: the review queue and the applications waiting for their applicants.
#[server(name = GetReviewQueue, endpoint = "review_queue", output = crate::wire::Json)]
pub async fn review_queue() -> Result<ReviewQueue, AppError> {
    with_caller!(|state, caller| queue(&state, &caller).await)
}

/// Staff and owners: a namespace's audit log, newest first.
#[server(name = AuditLog, endpoint = "audit_log", output = crate::wire::Json)]
pub async fn audit_log_fn(namespace: String) -> Result<Vec<AuditEntry>, AppError> {
    with_caller!(|state, caller| audit_log(&state, &caller, &namespace).await)
}

/// Live checklist for the application form (server-side facts + shared rules).
pub fn live_checks(overview: &ProgramOverview, form: &ApplicationForm) -> Vec<Check> {
    super::checklist(&overview.facts, form, overview.now, &overview.rules)
}
