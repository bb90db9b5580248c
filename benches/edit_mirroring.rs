//! Edit mirroring: the three-way merge and the TextEdit computation for a 100,000-line file
//! with 100 agent hunks and 100 unsaved user edits, against GNU `diff` on the same files,
//! measured in the same run. Prints medians and ratios.
//!
//! `cargo bench --bench edit_mirroring`

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use codex_lsp::text::{edits_between, merge3, merge3_edits, PositionEncoding};

const LINES: usize = 100_000;
const HUNKS: usize = 100;
const RUNS: usize = 15;

/// A source-like file; the agent rewrites 100 spread-out lines, the user 100 others.
fn files() -> (String, String, String) {
    let base: Vec<String> = (0..LINES)
        .map(|i| {
            format!(
                "    let value_{i} = compute({i}, \"中文 {}\"); // line {i}\n",
                i % 97
            )
        })
        .collect();
    let mut ours = base.clone();
    let mut theirs = base.clone();
    let stride = LINES / HUNKS;
    for h in 0..HUNKS {
        let agent = h * stride + 7;
        theirs[agent] = format!("    let value_{agent} = improved({agent}); // agent\n");
        theirs.insert(agent + 1, "    // a line the agent added\n".into());
        let user = h * stride + stride / 2;
        ours[user] = format!("    let value_{user} = mine({user}); // 😀 user\n");
    }
    (base.concat(), ours.concat(), theirs.concat())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(mut f: impl FnMut() -> T) -> Duration {
    let samples = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    median(samples)
}

fn command_time(program: &str, args: &[&Path]) -> Option<Duration> {
    Command::new(program).arg("--version").output().ok()?;
    Some(time(|| {
        Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run")
    }))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let (base, ours, theirs) = files();
    let dir = tempfile::tempdir().unwrap();
    let (base_path, ours_path, theirs_path) = (
        dir.path().join("base"),
        dir.path().join("ours"),
        dir.path().join("theirs"),
    );
    std::fs::write(&base_path, &base).unwrap();
    std::fs::write(&ours_path, &ours).unwrap();
    std::fs::write(&theirs_path, &theirs).unwrap();

    let merged = merge3(&base, &ours, &theirs);
    assert!(merged.is_clean(), "the bench's hunks are disjoint");
    let edits = edits_between(&ours, &merged.text, PositionEncoding::Utf16);
    assert_eq!(edits.len(), HUNKS, "one minimal edit per agent hunk");

    let (_, direct) = merge3_edits(&base, &ours, &theirs, PositionEncoding::Utf16);
    assert_eq!(direct.len(), HUNKS);

    let merge = time(|| merge3(&base, &ours, &theirs));
    let text_edits = time(|| edits_between(&ours, &merged.text, PositionEncoding::Utf16));
    let ours_total = time(|| merge3_edits(&base, &ours, &theirs, PositionEncoding::Utf16));
    let diff = command_time("diff", &[&base_path, &theirs_path]).expect("GNU diff");
    let diff3 = command_time("diff3", &[&ours_path, &base_path, &theirs_path]);

    println!(
        "edit mirroring: {LINES} lines, {HUNKS} agent hunks, {HUNKS} user edits, median of {RUNS}"
    );
    println!("| step | time | ratio to GNU diff base→theirs |");
    println!("|---|---|---|");
    let ratio = |d: Duration| format!("{:.2}×", d.as_secs_f64() / diff.as_secs_f64());
    println!("| merge3 | {} | {} |", ms(merge), ratio(merge));
    println!(
        "| TextEdits by a separate diff (not used) | {} | {} |",
        ms(text_edits),
        ratio(text_edits)
    );
    println!(
        "| codex-lsp: merge3 + TextEdits from its hunks | {} | {} |",
        ms(ours_total),
        ratio(ours_total)
    );
    println!("| GNU diff base theirs | {} | 1.00× |", ms(diff));
    if let Some(diff3) = diff3 {
        println!(
            "| GNU diff3 ours base theirs | {} | {} |",
            ms(diff3),
            ratio(diff3)
        );
    }
    let verdict = if ours_total < diff { "holds" } else { "MISSED" };
    println!(
        "target (codex-lsp total faster than GNU diff): {verdict} ({})",
        ratio(ours_total)
    );
}
