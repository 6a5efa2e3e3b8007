//! Background work for the program: expiry reminders. Idempotent: each
//! (membership term, stage) is stamped once in `reminder_sends`, in the same
//! transaction as its notifications, so a rerun or a restart never sends twice.

use super::store;
use super::{Membership, MembershipStatus, ProgramRules, REMINDER_DAYS, ReminderStage};
use crate::core::access;
use crate::core::audit::{self, Record};
use crate::core::jobs::{Job, JobResult};
use crate::core::notify::{self, NewNotification};
use crate::core::state::AppState;
use crate::db::Db;
use crate::domain::Timestamp;
use crate::domain::clock::DAY_MS;
use crate::domain::ids::NamespaceId;

/// The registered reminder job.
pub const REMINDERS: Job = Job {
    name: "program-reminders",
    every: |s| s.settings.reminder_interval,
    run: |s: AppState| {
        Box::pin(async move { Ok(run_reminders(&s.db, s.clock.now(), &s.settings.program).await?) })
            as futures::future::BoxFuture<'static, JobResult>
    },
};

/// A due reminder: the stage to send, and earlier stages to stamp silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub stage: ReminderStage,
    pub earlier: Vec<ReminderStage>,
}

/// Which reminder stage is due for a membership at `now`, if any: the latest
/// of 45/30/7/1 days before expiry, or "grace" once it has expired.
pub fn due_stage(expires: Timestamp, now: Timestamp, rules: &ProgramRules) -> Option<Due> {
    let status = super::membership_status(expires, now, rules);
    let all = REMINDER_DAYS.iter().map(|d| ReminderStage::DaysBefore(*d));
    match status {
        MembershipStatus::Expired => None,
        MembershipStatus::Grace => Some(Due {
            stage: ReminderStage::Grace,
            earlier: all.collect(),
        }),
        MembershipStatus::Active | MembershipStatus::RenewalDue => {
            // A reminder asks owners to renew, so none before renewal opens.
            let passed: Vec<ReminderStage> = REMINDER_DAYS
                .iter()
                .filter(|d| **d <= rules.renewal_window_days)
                .filter(|d| now.0 >= expires.0 - *d * DAY_MS)
                .map(|d| ReminderStage::DaysBefore(*d))
                .collect();
            let (stage, earlier) = passed.split_last()?;
            Some(Due {
                stage: *stage,
                earlier: earlier.to_vec(),
            })
        }
    }
}

fn plural_days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

/// Sends the reminders due at `now`; returns how many notifications were created.
/// Stages that were skipped (the job did not run in time) are stamped without a
/// message, so owners get one current reminder rather than a burst. The days
/// left come from the real dates, not from the stage's name.
pub async fn run_reminders(
    db: &Db,
    now: Timestamp,
    rules: &ProgramRules,
) -> Result<usize, sqlx::Error> {
    let mut tx = db.begin().await?;
    let members = store::all_memberships(&mut tx).await?;
    tx.commit().await?;
    let mut sent = 0;
    for m in members {
        let expires = Timestamp(m.expires_at);
        let Some(due) = due_stage(expires, now, rules) else {
            continue;
        };
        let ns = NamespaceId(m.namespace_id);
        let mut tx = db.begin_write().await?;
        if !store::stamp_reminder(&mut tx, ns, expires, due.stage, now).await? {
            tx.rollback().await?;
            continue;
        }
        for e in &due.earlier {
            store::stamp_reminder(&mut tx, ns, expires, *e, now).await?;
        }
        let membership = Membership::derive(Timestamp(m.starts_at), expires, now, rules);
        let name = &m.namespace;
        let body = match due.stage {
            ReminderStage::Grace => format!(
                "{name}: the Sponsored Open Source membership ended on {}. Perks keep working until {}; renew now to keep the badge and unlimited pulls.",
                expires.date(),
                membership.grace_ends_at.date()
            ),
            ReminderStage::DaysBefore(_) => format!(
                "{name}: the Sponsored Open Source membership ends in {} on {}. Renew with one click on the Program page.",
                plural_days(membership.days_left(now)),
                expires.date()
            ),
        };
        let (kind, link) = (
            format!("reminder_{}", due.stage.as_str()),
            format!("/u/{name}/program"),
        );
        for owner in access::owner_ids(&mut tx, ns).await? {
            let n = NewNotification {
                user: owner,
                namespace: Some(ns),
                kind: &kind,
                subject: "Renew your Sponsored Open Source membership",
                body: &body,
                link: &link,
            };
            notify::notify(&mut tx, n, now).await?;
            sent += 1;
        }
        let stage = due.stage.as_str();
        let record = Record {
            namespace: ns,
            application: None,
            actor: None,
            action: "reminder_sent",
            detail: &stage,
        };
        audit::record(&mut tx, record, now).await?;
        tx.commit().await?;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages() {
        let rules = ProgramRules::default();
        let exp = Timestamp(1_000 * DAY_MS);
        let at = |d: i64| {
            due_stage(exp, Timestamp(exp.0 - d * DAY_MS), &rules).map(|s| s.stage.as_str())
        };
        assert_eq!(at(46), None);
        assert_eq!(at(45).as_deref(), Some("45d"));
        assert_eq!(at(31).as_deref(), Some("45d"));
        assert_eq!(at(30).as_deref(), Some("30d"));
        assert_eq!(at(7).as_deref(), Some("7d"));
        assert_eq!(at(1).as_deref(), Some("1d"));
        assert_eq!(at(0).as_deref(), Some("grace"));
        assert_eq!(at(-13).as_deref(), Some("grace"));
        assert_eq!(at(-14), None);
        let due = due_stage(exp, Timestamp(exp.0 - 5 * DAY_MS), &rules).expect("due");
        assert_eq!(due.stage, ReminderStage::DaysBefore(7));
        assert_eq!(
            due.earlier,
            vec![ReminderStage::DaysBefore(45), ReminderStage::DaysBefore(30)]
        );
        // A shorter renewal window: no reminder before renewal opens.
        let short = ProgramRules {
            renewal_window_days: 30,
            ..rules
        };
        assert_eq!(due_stage(exp, Timestamp(exp.0 - 40 * DAY_MS), &short), None);
        let due = due_stage(exp, Timestamp(exp.0 - 30 * DAY_MS), &short).expect("due");
        assert_eq!(due.stage, ReminderStage::DaysBefore(30));
    }
}
