//! Background work for the program: expiry reminders. Idempotent: each
//! (membership term, stage) is stamped once in `reminder_sends`, in the same
//! transaction as its notifications, so a rerun or a restart never sends twice.

use super::store;
use super::{MembershipStatus, ProgramRules, REMINDER_DAYS, membership_status};
use crate::db::Db;
use crate::domain::Timestamp;
use crate::domain::clock::DAY_MS;
use crate::domain::ids::NamespaceId;

/// Which reminder stage is due for a membership at `now`, if any: the latest
/// of 45/30/7/1 days before expiry, or "grace" once it has expired.
pub fn due_stage(
    expires: Timestamp,
    now: Timestamp,
    rules: &ProgramRules,
) -> Option<(String, Vec<String>)> {
    let status = membership_status(expires, now, rules);
    if status == MembershipStatus::Expired {
        return None;
    }
    if status == MembershipStatus::Grace {
        let earlier = REMINDER_DAYS.iter().map(|d| format!("{d}d")).collect();
        return Some(("grace".into(), earlier));
    }
    let passed: Vec<i64> = REMINDER_DAYS
        .iter()
        .copied()
        .filter(|d| now.0 >= expires.0 - d * DAY_MS)
        .collect();
    let latest = *passed.last()?;
    let earlier = passed
        .iter()
        .filter(|d| **d != latest)
        .map(|d| format!("{d}d"))
        .collect();
    Some((format!("{latest}d"), earlier))
}

/// Sends the reminders due at `now`; returns how many notifications were created.
/// Stages that were skipped (the job did not run in time) are stamped without a
/// message, so owners get one current reminder rather than a burst.
pub async fn run_reminders(
    db: &Db,
    now: Timestamp,
    rules: &ProgramRules,
) -> Result<usize, sqlx::Error> {
    let mut tx = db.begin().await?;
    let members = store::all_memberships(&mut tx).await?;
    tx.commit().await?;
    let mut sent = 0;
    for (ns_id, ns_name, _starts, expires) in members {
        let expires = Timestamp(expires);
        let Some((stage, earlier)) = due_stage(expires, now, rules) else {
            continue;
        };
        let ns = NamespaceId(ns_id);
        let mut tx = db.begin_write().await?;
        if !store::stamp_reminder(&mut tx, ns, expires, &stage, now).await? {
            tx.rollback().await?;
            continue;
        }
        for e in &earlier {
            store::stamp_reminder(&mut tx, ns, expires, e, now).await?;
        }
        let body = if stage == "grace" {
            format!(
                "{ns_name}: the Sponsored Open Source membership ended on {}. Perks keep working until {}; renew now to keep the badge and unlimited pulls.",
                expires.date(),
                Timestamp(expires.0 + rules.grace_days * DAY_MS).date()
            )
        } else {
            format!(
                "{ns_name}: the Sponsored Open Source membership ends in {} on {}. Renew with one click on the Program page.",
                stage
                    .trim_end_matches('d')
                    .parse::<i64>()
                    .map(|d| if d == 1 {
                        "1 day".to_string()
                    } else {
                        format!("{d} days")
                    })
                    .unwrap_or_default(),
                expires.date()
            )
        };
        for owner in store::owner_ids(&mut tx, ns).await? {
            let (kind, link) = (format!("reminder_{stage}"), format!("/u/{ns_name}/program"));
            let n = store::NewNotification {
                user: owner,
                namespace: Some(ns),
                kind: &kind,
                subject: "Renew your Sponsored Open Source membership",
                body: &body,
                link: &link,
            };
            store::notify(&mut tx, n, now).await?;
            sent += 1;
        }
        store::audit(&mut tx, ns, None, None, "reminder_sent", &stage, now).await?;
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
        let at = |d: i64| due_stage(exp, Timestamp(exp.0 - d * DAY_MS), &rules).map(|s| s.0);
        assert_eq!(at(46), None);
        assert_eq!(at(45).as_deref(), Some("45d"));
        assert_eq!(at(31).as_deref(), Some("45d"));
        assert_eq!(at(30).as_deref(), Some("30d"));
        assert_eq!(at(7).as_deref(), Some("7d"));
        assert_eq!(at(1).as_deref(), Some("1d"));
        assert_eq!(at(0).as_deref(), Some("grace"));
        assert_eq!(at(-13).as_deref(), Some("grace"));
        assert_eq!(at(-14), None);
        let (stage, earlier) = due_stage(exp, Timestamp(exp.0 - 5 * DAY_MS), &rules).expect("due");
        assert_eq!(stage, "7d");
        assert_eq!(earlier, vec!["45d", "30d"]);
    }
}
