//! A realistic synthetic stream of pull events, for the demo data (a year of
//! pulls so the dashboard is alive on first run) and the benchmarks:
//! power-law popularity across repositories and tags, weekday seasonality and
//! growth, a mix of countries, clouds and real client user agents, and a pool
//! of client addresses. Deterministic for a seed.

use crate::core::events::PullEvent;
use crate::domain::Timestamp;
use crate::domain::clock::DAY_MS;
use crate::domain::ids::{NamespaceId, RepoId};
use crate::domain::pulls::Action;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::net::{IpAddr, Ipv4Addr};

/// A repository pulls are spread over, with its tags and their digests.
#[derive(Debug, Clone)]
pub struct Target {
    pub namespace: NamespaceId,
    pub repository: RepoId,
    /// `(tag, digest)`, most popular first.
    pub tags: Vec<(String, String)>,
}

const COUNTRIES: [(&str, u32); 16] = [
    ("US", 300),
    ("DE", 120),
    ("CN", 80),
    ("GB", 70),
    ("IN", 60),
    ("FR", 50),
    ("NL", 40),
    ("JP", 40),
    ("BR", 30),
    ("CA", 30),
    ("KR", 25),
    ("SG", 25),
    ("IE", 20),
    ("SE", 15),
    ("AU", 15),
    ("", 80),
];

const HOSTS: [(&str, u32); 7] = [
    ("", 550),
    ("aws", 200),
    ("gcp", 100),
    ("azure", 80),
    ("digitalocean", 30),
    ("oracle", 20),
    ("alibaba", 20),
];

const AGENTS: [(&str, u32); 12] = [
    (
        "docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.8.0-45-generic os/linux arch/amd64 UpstreamClient(Docker-Client/27.3.1 \\(linux\\))",
        300,
    ),
    (
        "docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/5.15.0-91-generic os/linux arch/amd64 UpstreamClient(Docker-Client/24.0.7 \\(linux\\))",
        150,
    ),
    ("containerd/1.7.22", 180),
    ("containerd/v1.6.33", 70),
    ("buildkit/v0.16", 80),
    ("cri-o/1.30.4 go/go1.22.5 os/linux arch/amd64", 30),
    ("containers/5.32.2 (github.com/containers/image)", 50),
    ("skopeo/1.16.1", 15),
    ("crane/v0.20.2 go-containerregistry/v0.20.2", 15),
    ("Helm/3.16.2", 10),
    ("Go-http-client/1.1", 20),
    ("curl/8.10.1", 10),
];

fn pick<'a>(rng: &mut StdRng, table: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = table.iter().map(|t| t.1).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (v, w) in table {
        if x < *w {
            return v;
        }
        x -= w;
    }
    table.last().map(|t| t.0).unwrap_or("")
}

/// Index by a power law: rank r has weight 1/(r+1)^1.3.
fn zipf(rng: &mut StdRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

fn weights(n: usize) -> Vec<f64> {
    (0..n).map(|r| 1.0 / ((r + 1) as f64).powf(1.3)).collect()
}

/// `per_day` events on average over `days` days ending the day before
/// `until`, with weekday seasonality and growth of about 2× over the span.
pub fn events(
    targets: &[Target],
    until: Timestamp,
    days: i64,
    per_day: usize,
    seed: u64,
) -> Vec<PullEvent> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(per_day * days.max(0) as usize);
    if targets.is_empty() || days <= 0 {
        return out;
    }
    let repo_w = weights(targets.len());
    let tag_w: Vec<Vec<f64>> = targets.iter().map(|t| weights(t.tags.len())).collect();
    // A pool of client addresses, also power-law: a few CI systems pull a lot.
    let pool: Vec<IpAddr> = (0..(per_day * 4).max(64))
        .map(|_| IpAddr::V4(Ipv4Addr::from(rng.random::<u32>() | 0x0100_0000)))
        .collect();
    let start_day = until.0.div_euclid(DAY_MS) - days;
    for d in 0..days {
        let growth = 0.65 + 0.7 * (d as f64 / days as f64);
        let weekday = (start_day + d + 3).rem_euclid(7); // 0 = Monday
        let season = if weekday >= 5 { 0.6 } else { 1.1 };
        let n = (per_day as f64 * growth * season) as usize;
        let day_ms = (start_day + d) * DAY_MS;
        for _ in 0..n {
            let ri = zipf(&mut rng, &repo_w);
            let t = &targets[ri];
            if t.tags.is_empty() {
                continue;
            }
            let ti = zipf(&mut rng, &tag_w[ri]);
            let (tag, digest) = &t.tags[ti];
            let roll = rng.random_range(0..100);
            let action = match roll {
                0..70 => Action::PullByTag,
                70..80 => Action::PullByDigest,
                _ => Action::VersionCheck,
            };
            let ip =
                pool[(rng.random::<f64>().powf(2.5) * pool.len() as f64) as usize % pool.len()];
            out.push(PullEvent {
                at: Timestamp(day_ms + rng.random_range(0..DAY_MS)),
                namespace: t.namespace,
                repository: t.repository,
                source_id: None,
                reference: if action == Action::PullByDigest {
                    digest.clone()
                } else {
                    tag.clone()
                },
                tag: (action != Action::PullByDigest).then(|| tag.clone()),
                digest: digest.clone(),
                action,
                http_method: if action == Action::VersionCheck {
                    "HEAD"
                } else {
                    "GET"
                },
                country: pick(&mut rng, &COUNTRIES).to_string(),
                host: pick(&mut rng, &HOSTS).to_string(),
                user_agent: pick(&mut rng, &AGENTS).to_string(),
                ip: Some(ip),
                authenticated: rng.random_range(0..100) < 35,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_deterministic_and_skewed() {
        let t = |r: i64| Target {
            namespace: NamespaceId(1),
            repository: RepoId(r),
            tags: vec![
                ("latest".into(), "sha256:a".into()),
                ("1.0".into(), "sha256:b".into()),
            ],
        };
        let targets = [t(1), t(2), t(3)];
        let a = events(&targets, Timestamp(400 * DAY_MS), 30, 200, 7);
        let b = events(&targets, Timestamp(400 * DAY_MS), 30, 200, 7);
        assert_eq!(a, b);
        assert!(a.len() > 3000);
        let first = a.iter().filter(|e| e.repository == RepoId(1)).count();
        let third = a.iter().filter(|e| e.repository == RepoId(3)).count();
        assert!(first > 2 * third, "{first} vs {third}");
        assert!(
            a.iter()
                .all(|e| e.at.0 < 400 * DAY_MS && e.at.0 >= 370 * DAY_MS)
        );
    }
}
