//! The cargo-fuzz targets under `fuzz/`, as a short seeded run inside `cargo test` (CI does
//! not run cargo-fuzz): each target's harness (`fuzz/harness/<target>.rs`, the same code the
//! fuzz target runs) replays every seed in `fuzz/seeds/<target>`, then a bounded number of
//! inputs made from the seeds by random mutation (a fixed seed, so a failure reproduces;
//! `FUZZ_SEEDS_CASES=N` runs N per target instead).
//!
//! A failing input is written to `target/fuzz-seeds-failures/<target>-<n>`: replay it with
//! `FUZZ_INPUT=FILE cargo test --test fuzz_seeds <target>` (`LSP_SESSION_TRACE=1` prints a
//! session's messages) or `cargo +nightly fuzz run <target> FILE`, and add it to
//! `fuzz/seeds/<target>` once fixed.

#[path = "../fuzz/harness/app_server_messages.rs"]
mod app_server_messages;
#[path = "../fuzz/harness/diff_hunks.rs"]
mod diff_hunks;
#[path = "../fuzz/harness/lsp_dispatch.rs"]
mod lsp_dispatch;
#[path = "../fuzz/harness/lsp_framing.rs"]
mod lsp_framing;
#[path = "../fuzz/harness/lsp_session.rs"]
mod lsp_session;

use std::path::PathBuf;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// A random change of `input`, with parts of `other` now and then (as libFuzzer's
/// mutations do, roughly).
fn mutate(rng: &mut fastrand::Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.usize(1..6) {
        match rng.u8(0..6) {
            0 if !out.is_empty() => {
                let at = rng.usize(..out.len());
                out[at] ^= 1 << rng.u8(0..8);
            }
            1 => {
                let at = rng.usize(..=out.len());
                out.insert(at, rng.u8(..));
            }
            2 if !out.is_empty() => {
                let at = rng.usize(..out.len());
                let end = (at + rng.usize(1..16)).min(out.len());
                out.drain(at..end);
            }
            3 if !other.is_empty() => {
                let from = rng.usize(..other.len());
                let end = (from + rng.usize(1..64)).min(other.len());
                let at = rng.usize(..=out.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            4 => {
                let at = rng.usize(..=out.len());
                let interesting: &[&[u8]] = &[
                    b"2147483648",
                    b"null",
                    b"\xff",
                    b"\"id\":",
                    b"-1",
                    b"{}",
                    b"\"error\":\"x\"",
                ];
                let piece = interesting[rng.usize(..interesting.len())];
                out.splice(at..at, piece.iter().copied());
            }
            _ => out.extend((0..rng.usize(1..32)).map(|_| rng.u8(..))),
        }
    }
    out
}

fn cases(default: usize) -> usize {
    std::env::var("FUZZ_SEEDS_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Runs `run` on every seed of `target`, then on `random` mutated inputs.
fn replay(target: &str, random: usize, run: fn(&[u8])) {
    // `FUZZ_INPUT=FILE cargo test --test fuzz_seeds TARGET`: that one input only.
    if let Some(file) = std::env::var_os("FUZZ_INPUT") {
        run(&std::fs::read(&file).unwrap());
        return;
    }
    let seeds = seeds(target);
    let failed = |name: &str, input: &[u8], panic: Box<dyn std::any::Any + Send>| -> ! {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-seeds-failures");
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!("{target}-{name}"));
        let _ = std::fs::write(&file, input);
        eprintln!(
            "{target}: input {name} failed; written to {}",
            file.display()
        );
        std::panic::resume_unwind(panic)
    };
    for (name, input) in &seeds {
        let start = std::time::Instant::now();
        if let Err(panic) = std::panic::catch_unwind(|| run(input)) {
            failed(name, input, panic);
        }
        eprintln!("{target}: seed {name} in {:.2?}", start.elapsed());
    }
    let mut rng = fastrand::Rng::with_seed(0x1414 ^ target.len() as u64);
    for n in 0..cases(random) {
        let (_, input) = &seeds[rng.usize(..seeds.len())];
        let (_, other) = &seeds[rng.usize(..seeds.len())];
        let input = mutate(&mut rng, input, other);
        if let Err(panic) = std::panic::catch_unwind(|| run(&input)) {
            failed(&format!("random-{n}"), &input, panic);
        }
    }
}

#[test]
fn lsp_framing() {
    replay("lsp_framing", 2000, lsp_framing::run);
}

#[test]
fn lsp_dispatch() {
    replay("lsp_dispatch", 200, lsp_dispatch::run);
}

#[test]
fn app_server_messages() {
    replay("app_server_messages", 300, app_server_messages::run);
}

#[test]
fn diff_hunks() {
    replay("diff_hunks", 2000, diff_hunks::run);
}

#[test]
fn lsp_session() {
    replay("lsp_session", 100, lsp_session::run);
}

/// The seed for issue 14 item 10 reaches what it is for: the fake app-server's turn changes
/// a line the editor has an unsaved edit on, the conflict is published and the code-action
/// answer carries "Take Codex's version" and "Keep mine" with the conflict's diagnostic; a
/// review whose findings include a blank title and a reversed range is pulled (the editor
/// pulls diagnostics, as VS Code does) and offered as code actions. Every one of those
/// diagnostics is checked valid for the strictest client by the session's invariant.
#[test]
fn lsp_session_conflict_seed_reaches_the_conflict_code_actions() {
    let seed = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/seeds/lsp_session/issue14_conflict_code_actions"),
    )
    .unwrap();
    let reached = lsp_session::run_counting(&seed);
    assert!(reached.conflicts > 0, "{reached:?}");
    let titles = &reached.code_action_titles;
    assert!(
        titles.iter().any(|t| t == "Codex: Take Codex's version")
            && titles.iter().any(|t| t == "Codex: Keep mine")
            && titles.iter().any(|t| t == "Codex: Fix this finding"),
        "{reached:?}"
    );
    assert!(
        reached.pulled > 0,
        "no pulled report had a diagnostic: {reached:?}"
    );
}
