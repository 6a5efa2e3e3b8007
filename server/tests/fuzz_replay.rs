//! The fuzz targets' short run, in the test command on the stable toolchain.
//!
//! Each target in `fuzz/fuzz_targets/` is compiled here as a module (with
//! `crates/fuzz-shim` standing in for `libfuzzer-sys`, so its body becomes
//! `check(data)`), then fed its committed seeds (`fuzz/seeds/<target>/`) and
//! a fixed number of inputs mutated from them with a seeded generator: byte
//! flips, insertions, deletions, repeats, splices of two seeds and the
//! target's dictionary words (`fuzz/dicts/`). The same properties hold as
//! under libFuzzer; the long, coverage-guided runs are `scripts/fuzz.sh`. A
//! failing input is written to `target/fuzz-replay/<target>-<n>.bin`, which
//! `cargo fuzz run <target> FILE` reproduces.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

#[allow(unused_attributes, dead_code, clippy::all)]
#[path = "../../fuzz/fuzz_targets/events_array.rs"]
mod events_array;
#[allow(unused_attributes, dead_code, clippy::all)]
#[path = "../../fuzz/fuzz_targets/events_distribution.rs"]
mod events_distribution;
#[allow(unused_attributes, dead_code, clippy::all)]
#[path = "../../fuzz/fuzz_targets/events_ndjson.rs"]
mod events_ndjson;
#[allow(unused_attributes, dead_code, clippy::all)]
#[path = "../../fuzz/fuzz_targets/logo_process.rs"]
mod logo_process;
#[allow(unused_attributes, dead_code, clippy::all)]
#[path = "../../fuzz/fuzz_targets/logo_validate.rs"]
mod logo_validate;
#[allow(unused_attributes, dead_code, clippy::all)]
#[path = "../../fuzz/fuzz_targets/manifest.rs"]
mod manifest;
#[allow(unused_attributes, dead_code, clippy::all)]
#[path = "../../fuzz/fuzz_targets/names.rs"]
mod names;
#[allow(unused_attributes, dead_code, clippy::all)]
#[path = "../../fuzz/fuzz_targets/reference.rs"]
mod reference;
#[allow(unused_attributes, dead_code, clippy::all)]
#[path = "../../fuzz/fuzz_targets/user_agent.rs"]
mod user_agent;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The target's committed seeds, in name order.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = root().join("fuzz/seeds").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).expect("seed"))
        .collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// The words of libFuzzer dictionaries (`"word"` or `name="word"`, with
/// `\xNN`, `\"` and `\\` escapes).
fn dictionary(names: &[&str]) -> Vec<Vec<u8>> {
    let mut words = Vec::new();
    for name in names {
        let path = root().join("fuzz/dicts").join(format!("{name}.dict"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let (Some(start), Some(end)) = (line.find('"'), line.rfind('"')) else {
                continue;
            };
            if end <= start {
                continue;
            }
            let quoted = &line.as_bytes()[start + 1..end];
            let mut word = Vec::new();
            let mut i = 0;
            while i < quoted.len() {
                match (quoted[i], quoted.get(i + 1)) {
                    (b'\\', Some(b'x')) if i + 4 <= quoted.len() => {
                        let hex = std::str::from_utf8(&quoted[i + 2..i + 4]).unwrap_or("");
                        word.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                        i += 4;
                    }
                    (b'\\', Some(&c)) => {
                        word.push(c);
                        i += 2;
                    }
                    (c, _) => {
                        word.push(c);
                        i += 1;
                    }
                }
            }
            words.push(word);
        }
    }
    words
}

/// One input mutated from the seeds: one to four edits of a random seed.
fn mutate(rng: &mut StdRng, seeds: &[Vec<u8>], words: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.random_range(0..seeds.len())].clone();
    for _ in 0..rng.random_range(1..=4) {
        let len = data.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..=len)
        };
        match rng.random_range(0..8) {
            // Flip bits of one byte.
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                data[i] ^= 1 << rng.random_range(0..8);
            }
            // An interesting byte.
            1 => {
                let b = [
                    0u8, 0xff, 0x7f, 0x80, b'"', b'\\', b'\n', b'{', b'}', b'[', b']', b'-', b'9',
                ];
                data.insert(at, b[rng.random_range(0..b.len())]);
            }
            // Delete a run.
            2 if len > 0 => {
                let start = rng.random_range(0..len);
                let end = (start + rng.random_range(1..=16)).min(len);
                data.drain(start..end);
            }
            // Repeat a run.
            3 if len > 0 => {
                let start = rng.random_range(0..len);
                let end = (start + rng.random_range(1..=32)).min(len);
                let run = data[start..end].to_vec();
                data.splice(at..at, run);
            }
            // A dictionary word, inserted or written over.
            4 | 5 if !words.is_empty() => {
                let w = &words[rng.random_range(0..words.len())];
                if rng.random_bool(0.5) || at + w.len() > len {
                    data.splice(at..at, w.iter().copied());
                } else {
                    data[at..at + w.len()].copy_from_slice(w);
                }
            }
            // Splice: this seed's head, another seed's tail.
            6 => {
                let other = &seeds[rng.random_range(0..seeds.len())];
                let from = if other.is_empty() {
                    0
                } else {
                    rng.random_range(0..other.len())
                };
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            // Cut.
            _ => data.truncate(at),
        }
    }
    data
}

/// Runs `check` on every seed and on `runs` mutated inputs; the first input
/// that panics is kept on disk and named in the failure.
fn replay(target: &str, dicts: &[&str], runs: usize, check: fn(&[u8])) {
    let seeds = seeds(target);
    let words = dictionary(dicts);
    // The same inputs every run: a failure reproduces.
    let mut rng = StdRng::seed_from_u64(0x005e_ed0f_f022);
    let inputs = seeds
        .iter()
        .cloned()
        .chain((0..runs).map(|_| mutate(&mut rng, &seeds, &words)));
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failure = None;
    let mut n = 0;
    for (i, input) in inputs.enumerate() {
        n = i + 1;
        if let Err(p) = std::panic::catch_unwind(|| check(&input)) {
            let why = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failure = Some((i, input, why));
            break;
        }
    }
    std::panic::set_hook(quiet);
    if let Some((i, input, why)) = failure {
        let dir = root().join("target/fuzz-replay");
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!("{target}-{i}.bin"));
        let _ = std::fs::write(&file, &input);
        panic!(
            "fuzz target {target}: input {i} failed: {why}\n  input ({} bytes) kept in {}\n  starts: {:?}",
            input.len(),
            file.display(),
            String::from_utf8_lossy(&input[..input.len().min(200)])
        );
    }
    assert_eq!(n, seeds.len() + runs, "{target}: every input ran");
}

#[test]
fn names_survive_mutated_input() {
    replay("names", &["names"], 100_000, names::check);
}

#[test]
fn references_survive_mutated_input() {
    replay("reference", &["names"], 100_000, reference::check);
}

#[test]
fn manifests_survive_mutated_input() {
    replay("manifest", &["json", "manifest"], 30_000, manifest::check);
}

#[test]
fn ndjson_batches_survive_mutated_input() {
    replay(
        "events_ndjson",
        &["json", "events"],
        30_000,
        events_ndjson::check,
    );
}

#[test]
fn json_array_batches_survive_mutated_input() {
    replay(
        "events_array",
        &["json", "events"],
        30_000,
        events_array::check,
    );
}

#[test]
fn distribution_envelopes_survive_mutated_input() {
    replay(
        "events_distribution",
        &["json", "events"],
        30_000,
        events_distribution::check,
    );
}

#[test]
fn user_agents_survive_mutated_input() {
    replay("user_agent", &["user_agent"], 100_000, user_agent::check);
}

#[test]
fn logo_validation_survives_mutated_input() {
    replay("logo_validate", &["logo"], 30_000, logo_validate::check);
}

#[test]
fn logo_processing_survives_mutated_input() {
    replay("logo_process", &["logo"], 3_000, logo_process::check);
}
