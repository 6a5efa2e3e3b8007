//! Demo data for a first start: enough to click through every page.

use app::account::{auth, store as accounts};
use app::core::access::{namespace_by_name, repo_by_name};
use app::core::audit::{self, Record};
use app::db::Db;
use app::domain::Timestamp;
use app::domain::ids::UserId;
use app::domain::{Rights, clock::DAY_MS};
use app::org::store as orgs;
use app::program::store as program;
use sha2::{Digest as _, Sha256};

/// The password of every demo account (listed in the README).
pub const DEMO_PASSWORD: &str = "demo-password";

/// Demo users: (name, is_staff).
pub const DEMO_USERS: &[(&str, bool)] = &[
    ("alice", false),
    ("bobby", false),
    ("carol", false),
    ("dave", false),
    ("reviewer", true),
];

const DEMO_OVERVIEW: &str = "## Fluent Bit\n\nA fast, lightweight processor and forwarder for **logs, metrics and traces**, part of the [Fluentd](https://www.fluentd.org) ecosystem.\n\n### Run it\n\n```sh\ndocker run --rm fluentorg/fluent-bit:latest -i cpu -o stdout\n```\n\n### Tags\n\n| Tag | What |\n|---|---|\n| `latest` | the newest stable release |\n| `4.0` | the 4.0 series |\n\nSource: <https://github.com/fluent/fluent-bit> · License: Apache-2.0\n";

/// Seeds the demo into an empty database. Returns false (and writes nothing)
/// when the database already holds namespaces.
pub async fn seed(db: &Db, now: Timestamp) -> Result<bool, app::error::AppError> {
    let hash = auth::hash_password(DEMO_PASSWORD.to_string()).await?;
    let mut tx = db.begin().await?;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM namespaces")
        .fetch_one(&mut *tx)
        .await?;
    if n > 0 {
        return Ok(false);
    }
    let created = now.plus_days(-400);
    let mut users = std::collections::HashMap::<&str, UserId>::new();
    for (name, staff) in DEMO_USERS {
        let id = accounts::insert_user(&mut tx, name, &hash, *staff, created).await?;
        users.insert(name, id);
    }
    let u = |n: &str| users.get(n).copied().unwrap_or(UserId(0));

    // (org, owner, repositories: (name, description, private, tags))
    type Repo<'a> = (&'a str, &'a str, bool, &'a [&'a str]);
    let plan: &[(&str, &str, &[Repo])] = &[
        (
            "fluentorg",
            "alice",
            &[
                (
                    "fluent-bit",
                    "Fast and lightweight logs and metrics processor",
                    false,
                    &["4.0.3", "4.0", "latest"],
                ),
                (
                    "fluentd",
                    "Unified logging layer: collect, filter and route logs",
                    false,
                    &["v1.18", "latest"],
                ),
                (
                    "fluent-operator",
                    "Kubernetes operator for Fluent Bit and Fluentd",
                    false,
                    &["3.2.0"],
                ),
                (
                    "fluent-plugin-s3",
                    "Amazon S3 output plugin image for Fluentd",
                    false,
                    &["1.7.2"],
                ),
                (
                    "fluent-benchmark",
                    "Internal benchmark harness",
                    true,
                    &["nightly"],
                ),
            ],
        ),
        (
            "openlens",
            "carol",
            &[
                (
                    "lens-server",
                    "Open observability lens: the server",
                    false,
                    &["2.3.1", "latest"],
                ),
                (
                    "lens-cli",
                    "Command-line client for openlens",
                    false,
                    &["2.3.0"],
                ),
            ],
        ),
        (
            "tinyproj",
            "bobby",
            &[(
                "tiny-http",
                "A tiny static HTTP server",
                false,
                &["0.4.0", "latest"],
            )],
        ),
        (
            "acmecorp",
            "carol",
            &[
                (
                    "web",
                    "Acme storefront web server",
                    false,
                    &["2025.11", "latest"],
                ),
                (
                    "api-gateway",
                    "Edge gateway for Acme services",
                    false,
                    &["1.4.0"],
                ),
                ("worker", "Background job runner", false, &[]),
                ("internal-api", "Internal API (private)", true, &["1.0.0"]),
                ("billing", "Billing service (private)", true, &["0.9.1"]),
            ],
        ),
    ];
    // A year of pulls for the sponsored organization's public repositories.
    let mut pulled: Vec<app::analytics::synthetic::Target> = Vec::new();
    for (org, owner, repo_list) in plan {
        let ns = orgs::insert_org(&mut tx, org, u(owner), created).await?;
        for (i, (name, desc, private, tags)) in repo_list.iter().enumerate() {
            let rid =
                app::core::catalog::insert_repo(&mut tx, ns, name, desc, *private, created).await?;
            if *org == "fluentorg" && !*private && !tags.is_empty() {
                pulled.push(app::analytics::synthetic::Target {
                    namespace: ns,
                    repository: rid,
                    tags: tags
                        .iter()
                        .rev()
                        .map(|t| (t.to_string(), demo_digest(org, name, t)))
                        .collect(),
                });
            }
            for (k, tag) in tags.iter().enumerate() {
                let pushed = Timestamp(now.0 - ((i * 7 + k * 3 + 1) as i64) * DAY_MS);
                app::core::catalog::upsert_tag(
                    &mut tx,
                    rid,
                    tag,
                    &demo_digest(org, name, tag),
                    pushed,
                )
                .await?;
            }
        }
    }
    // An overview written by fluent-bit's publishers (Markdown).
    sqlx::query("UPDATE repositories SET overview = $1 WHERE name = 'fluent-bit'")
        .bind(DEMO_OVERVIEW)
        .execute(&mut *tx)
        .await?;
    // Teams: fluentorg/maintainers (bobby, admin on fluent-bit; write on fluentd),
    // fluentorg/ci (dave, write on fluentd), acmecorp/devs (bobby, read on internal-api).
    type Team<'a> = (&'a str, &'a str, &'a [&'a str], &'a [(&'a str, Rights)]);
    let grants: &[Team] = &[
        (
            "fluentorg",
            "maintainers",
            &["bobby"],
            &[("fluent-bit", Rights::Admin), ("fluentd", Rights::Write)],
        ),
        (
            "fluentorg",
            "ci",
            &["dave"],
            &[
                ("fluentd", Rights::Write),
                ("fluent-benchmark", Rights::Read),
            ],
        ),
        (
            "acmecorp",
            "devs",
            &["bobby"],
            &[("internal-api", Rights::Read)],
        ),
    ];
    for (org, team, members, team_grants) in grants {
        let Some(ns) = namespace_by_name(&mut tx, org).await? else {
            continue;
        };
        let tid = orgs::insert_team(&mut tx, ns.id(), team, created).await?;
        for m in *members {
            orgs::add_member(&mut tx, tid, u(m)).await?;
        }
        for (repo, rights) in *team_grants {
            if let Some(r) = repo_by_name(&mut tx, ns.id(), repo).await? {
                orgs::set_grant(&mut tx, tid, r.id(), *rights).await?;
            }
        }
    }
    // Personal repositories.
    for (user, name, desc, private) in [
        ("alice", "hello-world", "The smallest useful image", false),
        ("bobby", "toolbox", "Personal debugging tools", true),
    ] {
        if let Some(ns) = namespace_by_name(&mut tx, user).await? {
            let rid =
                app::core::catalog::insert_repo(&mut tx, ns.id(), name, desc, private, created)
                    .await?;
            app::core::catalog::upsert_tag(
                &mut tx,
                rid,
                "latest",
                &demo_digest(user, name, "latest"),
                now.plus_days(-3),
            )
            .await?;
        }
    }
    // The program: fluentorg is sponsored, openlens is due for renewal,
    // tinyproj has an application waiting in the review queue.
    let reviewer = u("reviewer");
    type AppPlan<'a> = (&'a str, &'a str, &'a str, &'a str, i64, Option<i64>);
    let apps: &[AppPlan] = &[
        // (org, owner, project, license, applied days ago, approved days ago)
        (
            "fluentorg",
            "alice",
            "Fluent Bit and Fluentd",
            "Apache-2.0",
            103,
            Some(100),
        ),
        (
            "openlens",
            "carol",
            "openlens",
            "MIT OR Apache-2.0",
            348,
            Some(345),
        ),
        ("tinyproj", "bobby", "tiny-http", "MIT", 3, None),
    ];
    for (org, owner, project, license, applied, approved) in apps {
        let Some(ns) = namespace_by_name(&mut tx, org).await? else {
            continue;
        };
        let form = app::program::ApplicationForm {
            project_name: project.to_string(),
            website: format!("https://{org}.example.org"),
            source_url: format!("https://github.com/{org}/{org}"),
            license: license.to_string(),
            description: format!(
                "{project}: open-source tooling maintained by the {org} community."
            ),
            attest_public: true,
            attest_osd: true,
            attest_noncommercial: true,
        };
        let at = now.plus_days(-applied);
        let id = program::insert_application(&mut tx, ns.id(), false, &form, u(owner), at).await?;
        let record = Record {
            namespace: ns.id(),
            application: Some(id),
            actor: Some(u(owner)),
            action: "submitted",
            detail: project,
        };
        audit::record(&mut tx, record, at).await?;
        if let Some(days) = approved {
            let on = now.plus_days(-days);
            let expires = on.plus_years(1);
            program::decide(
                &mut tx,
                id,
                app::program::ApplicationStatus::Submitted,
                app::program::ApplicationStatus::Approved,
                reviewer,
                on,
            )
            .await?;
            program::upsert_membership(&mut tx, ns.id(), on, expires, on).await?;
            let detail = format!(
                "Welcome to the program! (Membership until {}.)",
                expires.date()
            );
            let record = Record {
                namespace: ns.id(),
                application: Some(id),
                actor: Some(reviewer),
                action: "approved",
                detail: &detail,
            };
            audit::record(&mut tx, record, on).await?;
        }
    }
    tx.commit().await?;
    let events = app::analytics::synthetic::events(&pulled, now, 365, 250, 2026);
    let geo = app::core::geo::Geo::empty();
    for batch in events.chunks(20_000) {
        app::core::events::ingest(db, &geo, batch).await?;
    }
    Ok(true)
}

fn demo_digest(ns: &str, repo: &str, tag: &str) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(format!("{ns}/{repo}:{tag}")))
    )
}
