//! Program actions: apply, renew, review, notifications, Scout settings.
//! Services are shared by server functions and REST v1; each checks rights.

use super::{Application, ApplicationForm, Check, Notification, ProgramOverview, QueueItem};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::super::store;
    use super::super::{
        Application, ApplicationForm, ApplicationStatus, AuditEntry, Check, Membership,
        MembershipStatus, Notification, ProgramOverview, ProgramRules, QueueItem, blocking,
        check_scout_quota, checklist, scout_limit, validate_form,
    };
    use crate::account::auth::Caller;
    use crate::db::Tx;
    use crate::domain::ids::{NamespaceId, UserId};
    use crate::domain::{Rights, Timestamp};
    use crate::error::{AppError, AppResult, ErrorKind};
    use crate::org::NamespaceKind;
    use crate::org::api::load_namespace;
    use crate::org::store::{NsRow, is_owner};
    use crate::state::AppState;

    /// The namespace's membership as of `now`, if it ever had one.
    pub async fn membership(
        tx: &mut Tx<'_>,
        ns: NamespaceId,
        now: Timestamp,
        rules: &ProgramRules,
    ) -> Result<Option<Membership>, sqlx::Error> {
        Ok(store::membership(tx, ns)
            .await?
            .map(|(s, e)| Membership::derive(s, e, now, rules)))
    }

    /// Are the program's perks on for this namespace now? The one function
    /// every perk asks: badge, logos, insights, Scout quota, rate-limit exemption.
    pub async fn perks_active(
        tx: &mut Tx<'_>,
        ns: NamespaceId,
        now: Timestamp,
        rules: &ProgramRules,
    ) -> Result<bool, sqlx::Error> {
        Ok(membership(tx, ns, now, rules)
            .await?
            .is_some_and(|m| m.status.perks_active()))
    }

    /// The sponsored-until date shown with a badge: the expiry while perks are on.
    pub async fn sponsored_until(
        tx: &mut Tx<'_>,
        ns: NamespaceId,
        now: Timestamp,
        rules: &ProgramRules,
    ) -> Result<Option<Timestamp>, sqlx::Error> {
        if !perks_active(tx, ns, now, rules).await? {
            return Ok(None);
        }
        Ok(store::membership(tx, ns).await?.map(|(_, e)| e))
    }

    async fn require_owner(tx: &mut Tx<'_>, caller: &Caller, ns: &NsRow) -> AppResult<UserId> {
        let me = caller.require_user()?;
        if !is_owner(tx, ns, me.id).await? {
            return Err(AppError::forbidden(format!(
                "Only owners of “{}” can apply to the program or renew it.",
                ns.name
            )));
        }
        caller.require_scope(Rights::Admin)?;
        Ok(me.id)
    }

    fn require_staff(caller: &Caller) -> AppResult<UserId> {
        let me = caller.require_user()?;
        if !me.is_staff {
            return Err(AppError::forbidden(
                "Only program reviewers (staff) can review applications.",
            ));
        }
        caller.require_scope(Rights::Write)?;
        Ok(me.id)
    }

    async fn with_messages(tx: &mut Tx<'_>, row: &store::AppRow) -> AppResult<Application> {
        let messages = store::audit_for_application(tx, row.id).await?;
        Ok(row.application(messages))
    }

    fn checks_error(checks: &[Check]) -> AppError {
        let failing: Vec<&Check> = blocking(checks);
        let text = failing
            .iter()
            .map(|c| c.reason.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        AppError::invalid(format!("The application cannot be submitted yet. {text}"))
            .with_details(serde_json::json!({ "checks": checks }))
    }

    /// The program page of a namespace. Owners and staff see the application.
    pub async fn overview(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
    ) -> AppResult<ProgramOverview> {
        let now = state.clock.now();
        let rules = state.settings.program;
        let mut tx = state.db.begin().await?;
        let ns = load_namespace(&mut tx, namespace).await?;
        let owner = match caller.user_id() {
            Some(u) => is_owner(&mut tx, &ns, u).await?,
            None => false,
        };
        let staff = caller.user.as_ref().is_some_and(|u| u.is_staff);
        let (open, last) = if owner || staff {
            let open = match store::open_application(&mut tx, ns.id()).await? {
                Some(r) => Some(with_messages(&mut tx, &r).await?),
                None => None,
            };
            let last = match store::last_application(&mut tx, ns.id()).await? {
                Some(r) => Some(with_messages(&mut tx, &r).await?),
                None => None,
            };
            (open, last)
        } else {
            (None, None)
        };
        let perks = perks_active(&mut tx, ns.id(), now, &rules).await?;
        let overview = ProgramOverview {
            namespace: ns.name.clone(),
            is_org: ns.kind() == NamespaceKind::Org,
            viewer_is_owner: owner,
            membership: membership(&mut tx, ns.id(), now, &rules).await?,
            open_application: open,
            last_application: last,
            facts: store::namespace_facts(&mut tx, ns.id()).await?,
            rules,
            now,
            scout_enabled: store::scout_enabled_names(&mut tx, ns.id()).await?,
            scout_limit: scout_limit(perks),
        };
        tx.commit().await?;
        Ok(overview)
    }

    /// Submits (or, after "changes requested", resubmits) an application.
    pub async fn submit_application(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        form: &ApplicationForm,
    ) -> AppResult<(Application, Vec<Check>)> {
        validate_form(form).map_err(|(field, m)| AppError::invalid_field(field, m))?;
        let now = state.clock.now();
        let rules = state.settings.program;
        let mut tx = state.db.begin_write().await?;
        let ns = load_namespace(&mut tx, namespace).await?;
        let me = require_owner(&mut tx, caller, &ns).await?;
        if ns.kind() != NamespaceKind::Org {
            return Err(AppError::invalid(
                "The program sponsors organizations: create an organization for the project and apply from it.",
            ));
        }
        let facts = store::namespace_facts(&mut tx, ns.id()).await?;
        let checks = checklist(&facts, form, now, &rules);
        if !blocking(&checks).is_empty() {
            return Err(checks_error(&checks));
        }
        let m = membership(&mut tx, ns.id(), now, &rules).await?;
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
        let id = match store::open_application(&mut tx, ns.id()).await? {
            Some(open) if open.status() == ApplicationStatus::ChangesRequested => {
                store::resubmit_application(&mut tx, open.id, form, now).await?;
                store::audit(
                    &mut tx,
                    ns.id(),
                    Some(open.id),
                    Some(me),
                    "resubmitted",
                    "",
                    now,
                )
                .await?;
                open.id
            }
            Some(open) => {
                return Err(AppError::conflict(format!(
                    "“{}” already has an open application (#{}, submitted {}); wait for the review or edit it when changes are requested.",
                    ns.name,
                    open.id,
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
                store::audit(
                    &mut tx,
                    ns.id(),
                    Some(id),
                    Some(me),
                    action,
                    form.project_name.trim(),
                    now,
                )
                .await?;
                id
            }
        };
        let row = store::application_by_id(&mut tx, id)
            .await?
            .ok_or_else(AppError::internal)?;
        let app = with_messages(&mut tx, &row).await?;
        tx.commit().await?;
        Ok((app, checks))
    }

    /// One-click renewal: re-runs the checklist on the last application's
    /// answers and files a renewal application.
    pub async fn renew(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
    ) -> AppResult<(Application, Vec<Check>)> {
        let now = state.clock.now();
        let rules = state.settings.program;
        let form = {
            let mut tx = state.db.begin().await?;
            let ns = load_namespace(&mut tx, namespace).await?;
            require_owner(&mut tx, caller, &ns).await?;
            let m = membership(&mut tx, ns.id(), now, &rules)
                .await?
                .ok_or_else(|| {
                    AppError::conflict(format!(
                        "“{}” has no membership to renew; apply first.",
                        ns.name
                    ))
                })?;
            match m.status {
                MembershipStatus::Active => {
                    return Err(AppError::conflict(format!(
                        "It is too early to renew: renewal opens on {} (45 days before the membership ends on {}).",
                        m.renewal_opens_at.date(),
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
                _ => {}
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

    /// A staff decision on a submitted application.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Decision {
        Approve,
        Reject,
        RequestChanges,
    }

    pub async fn decide(
        state: &AppState,
        caller: &Caller,
        id: i64,
        decision: Decision,
        reason: &str,
    ) -> AppResult<Application> {
        let me = require_staff(caller)?;
        let reason = reason.trim();
        if reason.chars().count() > 2000 {
            return Err(AppError::invalid_field(
                "reason",
                "Keep the message under 2000 characters.",
            ));
        }
        if matches!(decision, Decision::Reject | Decision::RequestChanges) && reason.is_empty() {
            return Err(AppError::invalid_field(
                "reason",
                match decision {
                    Decision::Reject => "Give the applicant a reason for the rejection.",
                    _ => "Tell the applicant what to change.",
                },
            ));
        }
        let now = state.clock.now();
        let rules = state.settings.program;
        let mut tx = state.db.begin_write().await?;
        let row = store::application_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("There is no application #{id}.")))?;
        if row.status() != ApplicationStatus::Submitted {
            return Err(AppError::conflict(format!(
                "Application #{id} is {}; only submitted applications can be decided.",
                row.status().as_str().replace('_', " ")
            )));
        }
        let ns = NamespaceId(row.namespace_id);
        let facts = store::namespace_facts(&mut tx, ns).await?;
        let checks = checklist(&facts, &row.form(), now, &rules);
        let (to, action) = match decision {
            Decision::Approve => {
                if !blocking(&checks).is_empty() {
                    return Err(checks_error(&checks));
                }
                let activity_fails = checks.iter().any(|c| !c.passed && c.overridable);
                if activity_fails && reason.is_empty() {
                    return Err(AppError::invalid_field(
                        "reason",
                        "The active-development check fails; give a written reason to approve anyway.",
                    ));
                }
                (
                    ApplicationStatus::Approved,
                    if activity_fails {
                        "approved_with_override"
                    } else {
                        "approved"
                    },
                )
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
            let (starts, expires) = match store::membership(&mut tx, ns).await? {
                Some((s, e))
                    if row.is_renewal
                        && super::super::membership_status(e, now, &rules).perks_active() =>
                {
                    (s, e.plus_years(1))
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
        store::audit(&mut tx, ns, Some(id), Some(me), action, &detail, now).await?;
        let body = match decision {
            Decision::Approve => format!(
                "{}: your program application was approved. {detail}",
                row.namespace
            ),
            Decision::Reject => format!(
                "{}: your program application was rejected: {detail}",
                row.namespace
            ),
            Decision::RequestChanges => format!(
                "{}: the reviewer asked for changes: {detail}",
                row.namespace
            ),
        };
        for owner in store::owner_ids(&mut tx, ns).await? {
            let link = format!("/u/{}/program", row.namespace);
            let n = store::NewNotification {
                user: owner,
                namespace: Some(ns),
                kind: action,
                subject: "Sponsored Open Source application",
                body: &body,
                link: &link,
            };
            store::notify(&mut tx, n, now).await?;
        }
        let row = store::application_by_id(&mut tx, id)
            .await?
            .ok_or_else(AppError::internal)?;
        let app = with_messages(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(app)
    }

    /// Staff review queue: submitted applications oldest first, with the
    /// checklist as it stands now; plus those waiting for the applicant.
    pub async fn queue(
        state: &AppState,
        caller: &Caller,
    ) -> AppResult<(Vec<QueueItem>, Vec<Application>)> {
        require_staff(caller)?;
        let now = state.clock.now();
        let rules = state.settings.program;
        let mut tx = state.db.begin().await?;
        let mut items = Vec::new();
        for row in store::applications_with_status(&mut tx, ApplicationStatus::Submitted).await? {
            let ns = NamespaceId(row.namespace_id);
            let facts = store::namespace_facts(&mut tx, ns).await?;
            let checks = checklist(&facts, &row.form(), now, &rules);
            let repos = crate::repo::store::summaries(&mut tx, ns)
                .await?
                .into_iter()
                .filter(|r| !r.is_private)
                .map(|r| r.summary(&row.namespace))
                .collect();
            let app = with_messages(&mut tx, &row).await?;
            items.push(QueueItem {
                age_days: (now.0 - row.created_at) / crate::domain::clock::DAY_MS,
                application: app,
                checks,
                public_repositories: repos,
            });
        }
        let mut waiting = Vec::new();
        for row in
            store::applications_with_status(&mut tx, ApplicationStatus::ChangesRequested).await?
        {
            waiting.push(with_messages(&mut tx, &row).await?);
        }
        tx.commit().await?;
        Ok((items, waiting))
    }

    /// The namespace's audit log (staff, or the namespace's owners).
    pub async fn audit_log(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
    ) -> AppResult<Vec<AuditEntry>> {
        let me = caller.require_user()?;
        let mut tx = state.db.begin().await?;
        let ns = load_namespace(&mut tx, namespace).await?;
        if !me.is_staff && !is_owner(&mut tx, &ns, me.id).await? {
            return Err(AppError::forbidden(
                "Only staff and the namespace's owners can read its audit log.",
            ));
        }
        let log = store::audit_for_namespace(&mut tx, ns.id()).await?;
        tx.commit().await?;
        Ok(log)
    }

    pub async fn notifications(
        state: &AppState,
        caller: &Caller,
    ) -> AppResult<(i64, Vec<Notification>)> {
        let me = caller.require_user()?;
        let mut tx = state.db.begin().await?;
        let unread = store::unread_count(&mut tx, me.id).await?;
        let list = store::notifications(&mut tx, me.id, 20).await?;
        tx.commit().await?;
        Ok((unread, list))
    }

    pub async fn mark_notifications_read(state: &AppState, caller: &Caller) -> AppResult<()> {
        let me = caller.require_user()?;
        let mut tx = state.db.begin().await?;
        store::mark_all_read(&mut tx, me.id, state.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enables or disables Scout image analysis on a repository (admins).
    /// The quota is counted under a namespace lock, so two concurrent enables
    /// cannot both pass the limit.
    pub async fn set_scout(
        state: &AppState,
        caller: &Caller,
        namespace: &str,
        repository: &str,
        enabled: bool,
    ) -> AppResult<(bool, i64, i64)> {
        caller.require_user()?;
        let now = state.clock.now();
        let rules = state.settings.program;
        let mut tx = state.db.begin_write().await?;
        let (ns, repo, rights) =
            crate::repo::api::load_repo(&mut tx, caller, namespace, repository).await?;
        if rights < Rights::Admin {
            caller.require_scope(Rights::Admin)?;
            return Err(AppError::forbidden(format!(
                "Only admins of “{}/{}” can change its image analysis setting.",
                ns.name, repo.name
            )));
        }
        store::lock_namespace(&mut tx, state.db.backend, ns.id()).await?;
        let perks = perks_active(&mut tx, ns.id(), now, &rules).await?;
        let already = store::scout_enabled(&mut tx, repo.id()).await?;
        if enabled && !already {
            let count = store::scout_count(&mut tx, ns.id()).await?;
            check_scout_quota(count, perks).map_err(|m| AppError::new(ErrorKind::Conflict, m))?;
        }
        if enabled != already {
            store::set_scout(&mut tx, repo.id(), enabled).await?;
            let action = if enabled {
                "scout_enabled"
            } else {
                "scout_disabled"
            };
            store::audit(
                &mut tx,
                ns.id(),
                None,
                caller.user_id(),
                action,
                &repo.name,
                now,
            )
            .await?;
        }
        let count = store::scout_count(&mut tx, ns.id()).await?;
        tx.commit().await?;
        Ok((enabled, count, super::super::scout_limit(perks)))
    }
}

/// The program page of a namespace.
#[server(name = ProgramOverviewFn, endpoint = "program_overview")]
pub async fn program_overview(namespace: String) -> Result<ProgramOverview, AppError> {
    with_caller!(|state, caller| overview(&state, &caller, &namespace).await)
}

/// Submits or resubmits the program application of an organization. Form
/// fields are named `form[project_name]`, `form[license]`, … .
#[server(name = SubmitApplication, endpoint = "submit_application")]
pub async fn submit_application_fn(
    namespace: String,
    form: ApplicationForm,
) -> Result<Application, AppError> {
    with_caller!(
        |state, caller| submit_application(&state, &caller, &namespace, &form)
            .await
            .map(|(a, _)| a)
    )
}

/// One-click renewal.
#[server(name = Renew, endpoint = "renew_membership")]
pub async fn renew_fn(namespace: String) -> Result<Application, AppError> {
    with_caller!(|state, caller| renew(&state, &caller, &namespace).await.map(|(a, _)| a))
}

/// Staff: approve (reason optional, required to override the activity check),
/// reject (reason required) or request changes (message required).
#[server(name = DecideApplication, endpoint = "decide_application")]
pub async fn decide_application(
    id: i64,
    decision: String,
    reason: String,
) -> Result<Application, AppError> {
    let d = match decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        "request_changes" | "request-changes" => Decision::RequestChanges,
        other => {
            return Err(AppError::invalid_field(
                "decision",
                format!("“{other}” is not a decision: approve, reject or request_changes."),
            ));
        }
    };
    with_caller!(|state, caller| decide(&state, &caller, id, d, &reason).await)
}

/// Staff: the review queue and the applications waiting for their applicants.
#[server(name = ReviewQueue, endpoint = "review_queue")]
pub async fn review_queue() -> Result<(Vec<QueueItem>, Vec<Application>), AppError> {
    with_caller!(|state, caller| queue(&state, &caller).await)
}

/// Staff and owners: a namespace's audit log, newest first.
#[server(name = AuditLog, endpoint = "audit_log")]
pub async fn audit_log_fn(namespace: String) -> Result<Vec<super::AuditEntry>, AppError> {
    with_caller!(|state, caller| audit_log(&state, &caller, &namespace).await)
}

/// The caller's unread count and latest notifications.
#[server(name = Notifications, endpoint = "notifications")]
pub async fn notifications_fn() -> Result<(i64, Vec<Notification>), AppError> {
    with_caller!(|state, caller| notifications(&state, &caller).await)
}

/// Marks all the caller's notifications read.
#[server(name = MarkNotificationsRead, endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read_fn() -> Result<(), AppError> {
    with_caller!(|state, caller| mark_notifications_read(&state, &caller).await)
}

/// Enables or disables Scout image analysis on a repository.
#[server(name = SetScout, endpoint = "set_scout")]
pub async fn set_scout_fn(
    namespace: String,
    repository: String,
    enabled: bool,
) -> Result<(bool, i64, i64), AppError> {
    with_caller!(|state, caller| set_scout(&state, &caller, &namespace, &repository, enabled).await)
}

/// Live checklist for the application form (server-side facts + shared rules).
pub fn live_checks(overview: &ProgramOverview, form: &ApplicationForm) -> Vec<Check> {
    super::checklist(&overview.facts, form, overview.now, &overview.rules)
}
