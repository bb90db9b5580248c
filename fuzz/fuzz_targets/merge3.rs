//! The three-way merge of the user's buffer with the agent's change (`merge3_edits`).
//!
//! Two shapes of input:
//! - raw: any three texts as base, ours (the buffer) and theirs (disk after the agent);
//! - structured: a base of unique lines and two sets of line operations, the user's and the
//!   agent's, whose new lines are unique too, so the diff has one answer.
//!
//! Invariants: never panics; the returned edits applied to `ours` give the merged text in
//! every position encoding; the merge agrees with `merge3`; a side that changed nothing takes
//! the other side whole; every line the user added is in the merge, in order (conflicts keep
//! the user's text); when the two sides' changes are a line apart or more, the merge is clean
//! and holds both.
#![no_main]

use arbitrary::Arbitrary;
use codex_lsp::text::{apply_edits, merge3, merge3_edits, PositionEncoding};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Input {
    Raw {
        base: String,
        ours: String,
        theirs: String,
    },
    Structured {
        base_lines: u8,
        user: Vec<LineOp>,
        agent: Vec<LineOp>,
        user_text: String,
        agent_text: String,
    },
}

/// At base line `at`: replace `delete` lines with `insert` new ones.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct LineOp {
    at: u8,
    delete: u8,
    insert: u8,
}

fuzz_target!(|input: Input| match input {
    Input::Raw { base, ours, theirs } => check_merge(&base, &ours, &theirs),
    Input::Structured {
        base_lines,
        user,
        agent,
        user_text,
        agent_text,
    } => check_structured(base_lines, &user, &agent, &user_text, &agent_text),
});

fn check_merge(base: &str, ours: &str, theirs: &str) {
    let plain = merge3(base, ours, theirs);
    for encoding in PositionEncoding::ALL {
        let (merge, edits) = merge3_edits(base, ours, theirs, encoding);
        assert_eq!(merge, plain, "merge3_edits and merge3 disagree");
        let applied = apply_edits(ours, &edits, encoding).expect("the merge's edits apply");
        assert_eq!(
            applied, merge.text,
            "edits do not give the merge ({encoding})"
        );
        for conflict in &merge.conflicts {
            assert_eq!(
                &merge.text[conflict.merged_bytes.clone()],
                conflict.ours,
                "a conflict does not hold the user's text"
            );
        }
    }
    if theirs == base || theirs == ours {
        assert_eq!(
            plain.text, ours,
            "the agent changed nothing new: the buffer must stay"
        );
        assert!(plain.is_clean());
    }
    if ours == base {
        assert_eq!(
            plain.text, theirs,
            "a clean buffer must take the agent's text"
        );
        assert!(plain.is_clean());
    }
}

/// Ops sorted by line, without overlaps, inside `0..=len`.
fn normalize(ops: &[LineOp], len: usize) -> Vec<(usize, usize, usize)> {
    let mut ops: Vec<(usize, usize, usize)> = ops
        .iter()
        .take(16)
        .map(|op| {
            let at = op.at as usize % (len + 1);
            (
                at,
                (op.delete as usize % 4).min(len - at),
                op.insert as usize % 4,
            )
        })
        .filter(|&(_, delete, insert)| delete + insert > 0)
        .collect();
    ops.sort();
    let mut kept: Vec<(usize, usize, usize)> = Vec::new();
    for op in ops {
        // Strictly after the previous op's deleted lines; two insertions at one line are one.
        if kept.last().is_none_or(|last| op.0 > last.0 + last.1) {
            kept.push(op);
        }
    }
    kept
}

fn one_line(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\n' | '\r'))
        .take(24)
        .collect()
}

/// The side's text and the lines it added.
fn apply_ops(
    base: &[String],
    ops: &[(usize, usize, usize)],
    tag: &str,
    text: &str,
) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut added = Vec::new();
    let mut line = 0;
    for (n, &(at, delete, insert)) in ops.iter().enumerate() {
        for kept in &base[line..at] {
            out.push_str(kept);
        }
        for i in 0..insert {
            let new = format!("{tag}{n}.{i} {text}\n");
            out.push_str(&new);
            added.push(new);
        }
        line = at + delete;
    }
    for kept in &base[line..] {
        out.push_str(kept);
    }
    (out, added)
}

/// Base lines each op touches, widened by one on both sides (an insertion touches its line).
fn touched(ops: &[(usize, usize, usize)]) -> Vec<std::ops::Range<usize>> {
    ops.iter()
        .map(|&(at, delete, _)| at.saturating_sub(1)..at + delete.max(1) + 1)
        .collect()
}

fn check_structured(
    base_lines: u8,
    user: &[LineOp],
    agent: &[LineOp],
    user_text: &str,
    agent_text: &str,
) {
    let len = base_lines as usize % 64;
    let base_list: Vec<String> = (0..len).map(|i| format!("base {i}\n")).collect();
    let base = base_list.concat();
    let user_ops = normalize(user, len);
    let agent_ops = normalize(agent, len);
    let (ours, user_added) = apply_ops(&base_list, &user_ops, "U", &one_line(user_text));
    let (theirs, _) = apply_ops(&base_list, &agent_ops, "A", &one_line(agent_text));
    check_merge(&base, &ours, &theirs);

    let merge = merge3(&base, &ours, &theirs);
    // Every line the user added survives, in order.
    let mut rest = merge.text.as_str();
    for line in &user_added {
        let found = rest
            .find(line.as_str())
            .unwrap_or_else(|| panic!("the user's line {line:?} was lost:\n{}", merge.text));
        rest = &rest[found + line.len()..];
    }
    // Far-apart changes merge cleanly, to both sides' changes.
    let user_zone = touched(&user_ops);
    let far_apart = touched(&agent_ops).iter().all(|a| {
        user_zone
            .iter()
            .all(|u| a.end <= u.start || u.end <= a.start)
    });
    if far_apart {
        assert!(merge.is_clean(), "far-apart changes conflicted");
        let mut all_ops: Vec<_> = user_ops
            .iter()
            .map(|&op| (op, "U", one_line(user_text)))
            .chain(agent_ops.iter().map(|&op| (op, "A", one_line(agent_text))))
            .collect();
        all_ops.sort_by_key(|(op, _, _)| op.0);
        let mut expected = String::new();
        let mut line = 0;
        let (mut nu, mut na) = (0, 0);
        for ((at, delete, insert), tag, text) in all_ops {
            for kept in &base_list[line..at] {
                expected.push_str(kept);
            }
            let n = if tag == "U" { &mut nu } else { &mut na };
            for i in 0..insert {
                expected.push_str(&format!("{tag}{n}.{i} {text}\n"));
            }
            *n += 1;
            line = at + delete;
        }
        for kept in &base_list[line..] {
            expected.push_str(kept);
        }
        assert_eq!(merge.text, expected, "far-apart changes merged wrong");
    }
}
