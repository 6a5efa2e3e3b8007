//! The Sponsored Open Source program: eligibility, applications, one-year
//! memberships and their derived status, renewal, reminders and perks.
//! Everything in this file is pure and shared by the browser and the server.

pub mod api;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod store;
pub mod views;

use crate::core::audit::AuditEntry;
use crate::domain::clock::DAY_MS;
use crate::domain::ids::ApplicationId;
use crate::domain::{RepoSummary, Timestamp};
use serde::{Deserialize, Serialize};

pub use crate::domain::membership::{
    Membership, MembershipStatus, ProgramRules, membership_status,
};

/// Days before expiry at which owners are reminded (plus one on entering grace).
pub const REMINDER_DAYS: [i64; 4] = [45, 30, 7, 1];

/// Checks an SPDX license expression: it must parse, and every license in
/// it must be OSI-approved. The message names the licenses that are not.
pub fn check_license(expr: &str) -> Result<(), String> {
    let e = expr.trim();
    if e.is_empty() {
        return Err(
            "Enter the project's license as an SPDX expression, such as “MIT OR Apache-2.0”."
                .into(),
        );
    }
    let parsed = spdx::Expression::parse(e).map_err(|err| {
        format!("“{e}” is not a valid SPDX license expression ({}). Use identifiers from spdx.org/licenses, joined by AND / OR.", err.reason)
    })?;
    let mut bad: Vec<String> = Vec::new();
    for r in parsed.requirements() {
        match &r.req.license {
            spdx::LicenseItem::Spdx { id, .. } => {
                if !id.is_osi_approved() && !bad.contains(&id.name.to_string()) {
                    bad.push(id.name.to_string());
                }
            }
            spdx::LicenseItem::Other(other) => {
                let name = other.to_string();
                if !bad.contains(&name) {
                    bad.push(name);
                }
            }
        }
    }
    match bad.len() {
        0 => Ok(()),
        1 => Err(format!(
            "{} is not an OSI-approved license; every license in the expression must be.",
            bad[0]
        )),
        _ => Err(format!(
            "{} are not OSI-approved licenses; every license in the expression must be.",
            bad.join(", ")
        )),
    }
}

/// The eligibility checks, in the order the form shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    PublicRepository,
    OsiLicense,
    ActiveDevelopment,
    Attestations,
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub id: CheckId,
    pub passed: bool,
    /// What was checked, or why it failed.
    pub reason: String,
    /// A reviewer may approve despite this failure, with a written reason.
    pub overridable: bool,
}

/// Facts about the namespace the checklist needs (loaded by the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NamespaceFacts {
    pub public_repositories: i64,
    pub last_public_push: Option<Timestamp>,
}

/// What the applicant types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ApplicationForm {
    pub project_name: String,
    pub website: String,
    pub source_url: String,
    pub license: String,
    pub description: String,
    #[serde(default)]
    pub attest_public: bool,
    #[serde(default)]
    pub attest_osd: bool,
    #[serde(default)]
    pub attest_noncommercial: bool,
}

/// Runs the four checks. The same function runs live in the browser and again
/// on the server at submit.
pub fn checklist(
    facts: &NamespaceFacts,
    form: &ApplicationForm,
    now: Timestamp,
    rules: &ProgramRules,
) -> Vec<Check> {
    let public = facts.public_repositories > 0;
    let license = check_license(&form.license);
    let active = facts
        .last_public_push
        .is_some_and(|t| now.0 - t.0 <= rules.activity_days * DAY_MS);
    let attest_missing: Vec<&str> = [
        (form.attest_public, "the namespace's images are public"),
        (
            form.attest_osd,
            "the project meets the Open Source Definition",
        ),
        (
            form.attest_noncommercial,
            "there is no pathway to commercialization",
        ),
    ]
    .iter()
    .filter(|(given, _)| !given)
    .map(|(_, what)| *what)
    .collect();
    vec![
        Check {
            id: CheckId::PublicRepository,
            passed: public,
            reason: if public {
                format!(
                    "{} public repositor{}.",
                    facts.public_repositories,
                    if facts.public_repositories == 1 {
                        "y"
                    } else {
                        "ies"
                    }
                )
            } else {
                "The namespace has no public repository: make at least one repository public."
                    .into()
            },
            overridable: false,
        },
        Check {
            id: CheckId::OsiLicense,
            passed: license.is_ok(),
            reason: match license {
                Ok(()) => format!("“{}” is OSI-approved.", form.license.trim()),
                Err(e) => e,
            },
            overridable: false,
        },
        Check {
            id: CheckId::ActiveDevelopment,
            passed: active,
            reason: match facts.last_public_push {
                Some(t) if active => format!("Last push to a public repository: {}.", t.date()),
                Some(t) => format!(
                    "The last push to a public repository was on {}, more than {} days ago. A reviewer may still approve with a written reason.",
                    t.date(),
                    rules.activity_days
                ),
                None => format!(
                    "No tag has been pushed to a public repository yet (needed within the last {} days). A reviewer may still approve with a written reason.",
                    rules.activity_days
                ),
            },
            overridable: true,
        },
        Check {
            id: CheckId::Attestations,
            passed: attest_missing.is_empty(),
            reason: if attest_missing.is_empty() {
                "All three statements confirmed.".into()
            } else {
                format!("Confirm that {}.", attest_missing.join("; that "))
            },
            overridable: false,
        },
    ]
}

/// The checks that block a submission (all failures but overridable ones).
pub fn blocking(checks: &[Check]) -> Vec<&Check> {
    checks
        .iter()
        .filter(|c| !c.passed && !c.overridable)
        .collect()
}

/// Checks one of the form's address fields (`website`, `source_url`): a
/// full http(s) address. The form runs it as the user types.
pub fn validate_url(field: &str, url: &str) -> Result<(), String> {
    let what = if field == "website" {
        "project website"
    } else {
        "source repository URL"
    };
    let u = url.trim();
    if !(u.starts_with("https://") || u.starts_with("http://"))
        || u.len() < 12
        || u.len() > 300
        || u.contains(char::is_whitespace)
    {
        return Err(format!(
            "Enter the {what} as a full http(s) address, such as https://example.org/project."
        ));
    }
    Ok(())
}

/// Checks the free-text fields of the form.
pub fn validate_form(form: &ApplicationForm) -> Result<(), (&'static str, String)> {
    let name = form.project_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err((
            "project_name",
            "Give the project's name (up to 100 characters).".into(),
        ));
    }
    for (field, url) in [("website", &form.website), ("source_url", &form.source_url)] {
        validate_url(field, url).map_err(|m| (field, m))?;
    }
    if form.license.trim().chars().count() > 200 {
        return Err((
            "license",
            "Keep the license expression to 200 characters.".into(),
        ));
    }
    let d = form.description.trim();
    if d.chars().count() < 10 || d.chars().count() > 1000 {
        return Err((
            "description",
            "Describe the project in 10 to 1000 characters.".into(),
        ));
    }
    Ok(())
}

/// An application's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Submitted,
    ChangesRequested,
    Approved,
    Rejected,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::ChangesRequested => "changes_requested",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
        }
    }
    /// Reads a stored status; an unknown one is an error, never "submitted".
    pub fn parse(s: &str) -> Result<ApplicationStatus, String> {
        match s {
            "submitted" => Ok(ApplicationStatus::Submitted),
            "changes_requested" => Ok(ApplicationStatus::ChangesRequested),
            "approved" => Ok(ApplicationStatus::Approved),
            "rejected" => Ok(ApplicationStatus::Rejected),
            other => Err(format!("unknown application status “{other}”")),
        }
    }
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Submitted | ApplicationStatus::ChangesRequested
        )
    }
    pub fn label(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "Submitted — waiting for review",
            ApplicationStatus::ChangesRequested => "Changes requested",
            ApplicationStatus::Approved => "Approved",
            ApplicationStatus::Rejected => "Rejected",
        }
    }
}

impl TryFrom<String> for ApplicationStatus {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        ApplicationStatus::parse(&s)
    }
}

/// A reviewer's decision on a submitted application. Parsed here and only
/// here, for the server function and REST alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
    RequestChanges,
}

impl Decision {
    /// `approve`, `reject`, `request_changes` (or `request-changes`, as in REST paths).
    pub fn parse(raw: &str) -> Result<Decision, String> {
        match raw.trim() {
            "approve" => Ok(Decision::Approve),
            "reject" => Ok(Decision::Reject),
            "request_changes" | "request-changes" => Ok(Decision::RequestChanges),
            other => Err(format!(
                "“{other}” is not a decision: approve, reject or request_changes."
            )),
        }
    }
    /// A written reason is required (to the applicant).
    pub fn needs_reason(self) -> bool {
        !matches!(self, Decision::Approve)
    }
}

/// Whether a decision needs a written message to the applicant: rejecting
/// and requesting changes always; approving when a check a reviewer may
/// override fails. The review queue (wasm) and the server both ask this.
pub fn reason_required(decision: Decision, checks: &[Check]) -> bool {
    decision.needs_reason()
        || (decision == Decision::Approve && checks.iter().any(|c| !c.passed && c.overridable))
}

/// The longest message a reviewer may send with a decision.
pub const REASON_MAX: usize = 2000;

/// Checks a reviewer's message for a decision: at most [`REASON_MAX`]
/// characters, and present when the decision needs one. The same rule runs
/// in the review queue (wasm) and on the server.
pub fn validate_reason(decision: Decision, reason: &str) -> Result<(), String> {
    let r = reason.trim();
    if r.chars().count() > REASON_MAX {
        return Err(format!("Keep the message under {REASON_MAX} characters."));
    }
    if decision.needs_reason() && r.is_empty() {
        return Err(match decision {
            Decision::Reject => "Give the applicant a reason for the rejection.".into(),
            _ => "Tell the applicant what to change.".into(),
        });
    }
    Ok(())
}

/// A stage of the expiry reminders: some days before expiry, or on entering grace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReminderStage {
    DaysBefore(i64),
    Grace,
}

impl ReminderStage {
    /// The stored stamp: `45d` … `1d`, `grace`.
    pub fn as_str(self) -> String {
        match self {
            ReminderStage::DaysBefore(d) => format!("{d}d"),
            ReminderStage::Grace => "grace".into(),
        }
    }
}

/// An application as the applicant and reviewers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub id: ApplicationId,
    pub namespace: String,
    pub is_renewal: bool,
    pub status: ApplicationStatus,
    #[serde(flatten)]
    pub form: ApplicationForm,
    pub submitted_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub messages: Vec<AuditEntry>,
}

/// The program page of one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramOverview {
    pub namespace: String,
    pub is_org: bool,
    pub viewer_is_owner: bool,
    pub membership: Option<Membership>,
    pub open_application: Option<Application>,
    pub last_application: Option<Application>,
    pub facts: NamespaceFacts,
    pub rules: ProgramRules,
    pub now: Timestamp,
}

/// A review-queue entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    #[serde(flatten)]
    pub application: Application,
    #[serde(rename = "checklist")]
    pub checks: Vec<Check>,
    pub public_repositories: Vec<RepoSummary>,
    pub age_days: i64,
}

/// A namespace's program status for automation (`GET …/program`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgramStatus {
    pub namespace: String,
    /// Dates and derived status, when the namespace ever had a membership.
    #[serde(flatten)]
    pub membership: Option<Membership>,
    /// Shown to owners and staff only.
    pub open_application: Option<Application>,
}

/// The review queue: submitted applications oldest first, and those waiting
/// for their applicants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewQueue {
    pub submitted: Vec<QueueItem>,
    pub changes_requested: Vec<Application>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_767_225_600_000);

    #[test]
    fn licenses() {
        let pass = [
            "MIT",
            "Apache-2.0",
            "MIT OR Apache-2.0",
            "(MIT OR Apache-2.0) AND BSD-3-Clause",
            "GPL-2.0-only WITH Classpath-exception-2.0",
            "GPL-3.0-or-later",
            "LGPL-2.1-only",
            "MPL-2.0",
            "BSD-2-Clause",
            "ISC",
            "AGPL-3.0-only",
            "EPL-2.0",
            "  MIT  ",
            "Apache-2.0 AND MIT",
            "Zlib",
        ];
        for e in pass {
            assert_eq!(check_license(e), Ok(()), "{e}");
        }
        let fail = [
            ("BUSL-1.1", "BUSL-1.1"),
            ("SSPL-1.0", "SSPL-1.0"),
            ("MIT OR BUSL-1.1", "BUSL-1.1"),
            ("Elastic-2.0", "Elastic-2.0"),
            ("CC-BY-NC-4.0", "CC-BY-NC-4.0"),
            ("LicenseRef-Proprietary", "LicenseRef-Proprietary"),
            ("BUSL-1.1 AND SSPL-1.0", "BUSL-1.1, SSPL-1.0"),
        ];
        for (e, named) in fail {
            let msg = check_license(e).expect_err(e);
            assert!(msg.contains(named), "{e}: {msg}");
        }
        for bad in [
            "",
            "MIT OR",
            "NotALicense-9",
            "MIT AND AND Apache-2.0",
            "(MIT",
        ] {
            assert!(check_license(bad).is_err(), "{bad:?} must not parse");
        }
        assert!(
            check_license("MIT OR")
                .expect_err("x")
                .contains("not a valid SPDX")
        );
    }

    fn form() -> ApplicationForm {
        ApplicationForm {
            project_name: "Fluent Bit".into(),
            website: "https://fluentbit.io".into(),
            source_url: "https://github.com/fluent/fluent-bit".into(),
            license: "Apache-2.0".into(),
            description: "Logs and metrics processor".into(),
            attest_public: true,
            attest_osd: true,
            attest_noncommercial: true,
        }
    }

    #[test]
    fn checklist_reasons() {
        let rules = ProgramRules::default();
        let facts = NamespaceFacts {
            public_repositories: 2,
            last_public_push: Some(T0.plus_days(-10)),
        };
        let c = checklist(&facts, &form(), T0, &rules);
        assert!(c.iter().all(|c| c.passed), "{c:?}");
        assert!(blocking(&c).is_empty());

        let stale = NamespaceFacts {
            public_repositories: 0,
            last_public_push: Some(T0.plus_days(-181)),
        };
        let mut f = form();
        f.license = "SSPL-1.0".into();
        f.attest_osd = false;
        let c = checklist(&stale, &f, T0, &rules);
        assert!(c.iter().all(|c| !c.passed));
        let b: Vec<CheckId> = blocking(&c).iter().map(|c| c.id).collect();
        assert_eq!(
            b,
            vec![
                CheckId::PublicRepository,
                CheckId::OsiLicense,
                CheckId::Attestations
            ]
        );
        assert!(c[2].reason.contains("180 days"));
        assert!(c[3].reason.contains("Open Source Definition"));
        // Exactly 180 days ago still counts.
        let edge = NamespaceFacts {
            public_repositories: 1,
            last_public_push: Some(T0.plus_days(-180)),
        };
        assert!(checklist(&edge, &form(), T0, &rules)[2].passed);
    }

    #[test]
    fn decisions_parse_in_one_place() {
        assert_eq!(Decision::parse("approve"), Ok(Decision::Approve));
        assert_eq!(
            Decision::parse("request_changes"),
            Ok(Decision::RequestChanges)
        );
        assert_eq!(
            Decision::parse("request-changes"),
            Ok(Decision::RequestChanges)
        );
        assert!(Decision::parse("maybe").is_err());
        assert!(ApplicationStatus::parse("lost").is_err());
    }

    #[test]
    fn form_fields() {
        assert!(validate_form(&form()).is_ok());
        let mut f = form();
        f.website = "fluentbit.io".into();
        assert_eq!(validate_form(&f).map_err(|e| e.0), Err("website"));
        let mut f = form();
        f.description = "short".into();
        assert_eq!(validate_form(&f).map_err(|e| e.0), Err("description"));
        let mut f = form();
        f.project_name = " ".into();
        assert_eq!(validate_form(&f).map_err(|e| e.0), Err("project_name"));
    }
}
