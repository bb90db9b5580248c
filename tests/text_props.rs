//! Property tests for `codex_lsp::text`: minimal edits, three-way merge and incremental
//! document changes, against plain-`String` reference models.

use codex_lsp::text::{
    apply_edits, edits_between, merge3, merge3_edits, Document, Position, PositionEncoding, Range,
};
use proptest::prelude::*;

/// Pieces that stress encodings and line breaks: CJK, astral emoji, combining marks, lone and
/// paired `\r`/`\n`, and characters that look like line breaks but are not in LSP.
const PIECES: &[&str] = &[
    "a", "b", "x", " ", "\t", "中", "文", "😀", "🎉", "e\u{301}", "\u{301}", "\r", "\n", "\r\n",
    "\r\n", "\n", "\u{2028}", "\u{c}",
];

/// Decorations for line-level tests: no line breaks.
const DECOR: &[&str] = &["", "中文", "😀", "e\u{301}", " x", "\u{2028}", "\t"];
const EOLS: &[&str] = &["\n", "\r\n", "\r"];

fn text_strategy(max_pieces: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..max_pieces).prop_map(|p| p.concat())
}

fn encoding_strategy() -> impl Strategy<Value = PositionEncoding> {
    prop::sample::select(PositionEncoding::ALL.to_vec())
}

/// `old` and a `new` made from it by a few splices (or, sometimes, unrelated).
fn old_and_new() -> impl Strategy<Value = (String, String)> {
    let splice = (any::<prop::sample::Index>(), 0..6usize, text_strategy(6));
    (
        prop::collection::vec(prop::sample::select(PIECES), 0..80),
        prop::collection::vec(splice, 0..5),
        prop::option::weighted(0.1, text_strategy(40)),
    )
        .prop_map(|(old_pieces, splices, unrelated)| {
            let old = old_pieces.concat();
            if let Some(new) = unrelated {
                return (old, new);
            }
            let mut new_pieces: Vec<String> = old_pieces.iter().map(|p| p.to_string()).collect();
            for (at, delete, insert) in splices {
                let at = at.index(new_pieces.len() + 1);
                let end = (at + delete).min(new_pieces.len());
                new_pieces.splice(at..end, [insert]);
            }
            (old, new_pieces.concat())
        })
}

/// Reference LSP lines: `(start, content end)` byte offsets, by a plain char walk.
fn reference_lines(text: &str) -> Vec<(usize, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' || c == '\r' {
            lines.push((start, i));
            start = i + 1;
            if c == '\r' && chars.peek().map(|&(_, next)| next) == Some('\n') {
                chars.next();
                start = i + 2;
            }
        }
    }
    lines.push((start, text.len()));
    lines
}

fn reference_offset(text: &str, position: Position, encoding: PositionEncoding) -> usize {
    let lines = reference_lines(text);
    let Some(&(start, end)) = lines.get(position.line as usize) else {
        return text.len();
    };
    let mut units = 0;
    for (i, c) in text[start..end].char_indices() {
        if units >= position.character as usize {
            assert_eq!(
                units, position.character as usize,
                "test made a mid-char position"
            );
            return start + i;
        }
        units += encoding.width(c);
    }
    end
}

/// A valid position in `text` from two seeds: sometimes past the line end or the last line.
fn position_from_seeds(
    text: &str,
    line_seed: usize,
    char_seed: usize,
    encoding: PositionEncoding,
) -> Position {
    let lines = reference_lines(text);
    let line = line_seed % (lines.len() + 1);
    let Some(&(start, end)) = lines.get(line) else {
        return Position::new(line as u32 + 3, char_seed as u32 % 5);
    };
    let content = &text[start..end];
    let chars = content.chars().count();
    let k = char_seed % (chars + 2);
    let character = if k > chars {
        encoding.len_of(content) + 7
    } else {
        content.chars().take(k).map(|c| encoding.width(c)).sum()
    };
    Position::new(line as u32, character as u32)
}

/// A line-level change of `base` lines `start..end` to `new_lines`, by one side.
#[derive(Debug, Clone)]
struct LineEdit {
    start: usize,
    end: usize,
    new_lines: Vec<String>,
}

fn is_noop(edit: &LineEdit) -> bool {
    edit.start == edit.end && edit.new_lines.is_empty()
}

/// Renders `base` with `edits` (sorted, non-overlapping, inserts before a replacement at the
/// same line) applied.
fn render(base: &[String], edits: &[&LineEdit]) -> String {
    let mut sorted = edits.to_vec();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::new();
    let mut copied_to = 0;
    for edit in sorted {
        assert!(edit.start >= copied_to, "test generated overlapping edits");
        out.extend(base[copied_to..edit.start].iter().cloned());
        out.extend(edit.new_lines.iter().cloned());
        copied_to = edit.end;
    }
    out.extend(base[copied_to..].iter().cloned());
    out
}

fn make_lines(label: &str, decor: &[(usize, usize)]) -> Vec<String> {
    decor
        .iter()
        .enumerate()
        .map(|(i, &(d, e))| format!("{label}{i}{}{}", DECOR[d], EOLS[e]))
        .collect()
}

fn decor_strategy(max: usize) -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop::collection::vec((0..DECOR.len(), 0..EOLS.len()), 0..max)
}

/// One step of walking the base: keep a line, or change `len` lines to `new` lines.
#[derive(Debug, Clone)]
struct Step {
    change: bool,
    by_user: bool,
    len: usize,
    new: Vec<(usize, usize)>,
}

fn step_strategy() -> impl Strategy<Value = Step> {
    (
        prop::bool::weighted(0.35),
        any::<bool>(),
        0..3usize,
        decor_strategy(3),
    )
        .prop_map(|(change, by_user, len, new)| Step {
            change,
            by_user,
            len,
            new,
        })
}

/// Walks `base` with `steps` into disjoint user and agent edits: regions never share a base
/// line, two insertions never land on the same line, and an insertion never sits between two
/// touching regions of the other side (their diff is one hunk, so it would be inside it).
fn disjoint_edits(base_len: usize, steps: &[Step]) -> (Vec<LineEdit>, Vec<LineEdit>) {
    let (mut user, mut agent) = (Vec::new(), Vec::new());
    let mut at = 0;
    let mut after_insert = false;
    // The side of the region that ended at `at`, if any.
    let mut touching_side: Option<bool> = None;
    // The side that may not start a region at `at`.
    let mut forbidden_side: Option<bool> = None;
    for (n, step) in steps.iter().enumerate() {
        let len = step.len.min(base_len - at);
        let is_insert = len == 0;
        let allowed = step.change
            && forbidden_side != Some(step.by_user)
            && !(is_insert && (after_insert || step.new.is_empty()));
        if !allowed {
            if at == base_len {
                break;
            }
            at += 1;
            after_insert = false;
            touching_side = None;
            forbidden_side = None;
            continue;
        }
        if is_insert {
            forbidden_side = touching_side.filter(|&side| side != step.by_user);
        } else {
            forbidden_side = None;
            touching_side = Some(step.by_user);
        }
        let label = format!("{}{n}_", if step.by_user { "U" } else { "A" });
        let edit = LineEdit {
            start: at,
            end: at + len,
            new_lines: make_lines(&label, &step.new),
        };
        if step.by_user {
            user.push(edit);
        } else {
            agent.push(edit);
        }
        at += len;
        after_insert = is_insert;
    }
    (user, agent)
}

fn count_lines(text: &str) -> u32 {
    reference_lines(text).len() as u32 - 1
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn edits_between_transforms_old_into_new((old, new) in old_and_new()) {
        for encoding in PositionEncoding::ALL {
            let edits = edits_between(&old, &new, encoding);
            prop_assert_eq!(&apply_edits(&old, &edits, encoding).unwrap(), &new, "{:?}", edits);
            for edit in &edits {
                prop_assert!(edit.range.start <= edit.range.end);
            }
            for pair in edits.windows(2) {
                prop_assert!(pair[0].range.end < pair[1].range.start, "{:?}", edits);
            }
            if old == new {
                prop_assert!(edits.is_empty());
            }
        }
    }

    #[test]
    fn document_changes_match_string_model(
        initial in text_strategy(40),
        encoding in encoding_strategy(),
        changes in prop::collection::vec(
            (any::<usize>(), any::<usize>(), any::<usize>(), any::<usize>(), text_strategy(5)),
            1..12,
        ),
    ) {
        let mut doc = Document::new(&initial, 1);
        let mut model = initial.clone();
        for (line_a, char_a, line_b, char_b, insert) in changes {
            let a = position_from_seeds(&model, line_a, char_a, encoding);
            let b = position_from_seeds(&model, line_b, char_b, encoding);
            let (start, end) = if a <= b { (a, b) } else { (b, a) };
            let from = reference_offset(&model, start, encoding);
            let to = reference_offset(&model, end, encoding);
            prop_assert!(from <= to);
            model.replace_range(from..to, &insert);
            doc.apply_change(Some(Range::new(start, end)), &insert, encoding).unwrap();
            prop_assert_eq!(doc.text(), model.clone());
            prop_assert_eq!(doc.len_lines(), reference_lines(&model).len());

            // Conversions agree with the model and round-trip.
            let probe = position_from_seeds(&model, line_a ^ char_b, char_a ^ line_b, encoding);
            let offset = reference_offset(&model, probe, encoding);
            let char_idx = doc.position_to_char(probe, encoding).unwrap();
            prop_assert_eq!(char_idx, model[..offset].chars().count());
            prop_assert_eq!(doc.position_to_byte(probe, encoding).unwrap(), offset);
            let back = doc.char_to_position(char_idx, encoding).unwrap();
            prop_assert_eq!(reference_offset(&model, back, encoding), offset);
            prop_assert_eq!(doc.byte_to_position(offset, encoding).unwrap(), back);
        }
    }

    #[test]
    fn merge_edits_turn_the_buffer_into_the_merged_text(
        (base, ours) in old_and_new(),
        theirs_splices in prop::collection::vec(
            (any::<prop::sample::Index>(), 0..6usize, text_strategy(6)),
            0..5,
        ),
    ) {
        // `theirs` is another set of splices of `base`: its hunks may or may not meet the
        // user's; either way the edits sent to the buffer must produce the merged text.
        let mut theirs = base.clone();
        for (at, delete, insert) in theirs_splices {
            let boundaries: Vec<usize> =
                theirs.char_indices().map(|(i, _)| i).chain([theirs.len()]).collect();
            let start = boundaries[at.index(boundaries.len())];
            let end = boundaries
                .iter()
                .copied()
                .filter(|&b| b >= start)
                .nth(delete)
                .unwrap_or(theirs.len());
            theirs.replace_range(start..end, &insert);
        }
        for encoding in PositionEncoding::ALL {
            let (merge, edits) = merge3_edits(&base, &ours, &theirs, encoding);
            prop_assert_eq!(&merge, &merge3(&base, &ours, &theirs));
            prop_assert_eq!(
                &apply_edits(&ours, &edits, encoding).unwrap(), &merge.text, "{:?}", edits
            );
            for pair in edits.windows(2) {
                prop_assert!(pair[0].range.end <= pair[1].range.start, "{:?}", edits);
            }
        }
    }

    #[test]
    fn disjoint_changes_merge_cleanly(
        base_decor in decor_strategy(25),
        steps in prop::collection::vec(step_strategy(), 0..30),
    ) {
        let base = make_lines("L", &base_decor);
        let (user, agent) = disjoint_edits(base.len(), &steps);
        let ours = render(&base, &user.iter().collect::<Vec<_>>());
        let theirs = render(&base, &agent.iter().collect::<Vec<_>>());
        let both: Vec<&LineEdit> = user.iter().chain(&agent).collect();
        let expected = render(&base, &both);
        let base_text = base.concat();

        let merge = merge3(&base_text, &ours, &theirs);
        prop_assert!(merge.conflicts.is_empty(), "{:?}", merge.conflicts);
        prop_assert_eq!(&merge.text, &expected);

        // Order of the sides does not matter for disjoint changes.
        let swapped = merge3(&base_text, &theirs, &ours);
        prop_assert!(swapped.conflicts.is_empty());
        prop_assert_eq!(&swapped.text, &expected);
    }

    #[test]
    fn overlapping_changes_conflict_and_keep_user_text(
        base_decor in prop::collection::vec((0..DECOR.len(), 0..EOLS.len()), 6..25),
        user_region in (any::<prop::sample::Index>(), 0..4usize, decor_strategy(3)),
        agent_region in (any::<prop::sample::Index>(), 0..4usize, decor_strategy(3)),
        extra_user in decor_strategy(3),
        extra_agent in decor_strategy(3),
    ) {
        let base = make_lines("L", &base_decor);
        let n = base.len();
        // Lines 0 and n-1 get one unrelated edit by each side; lines 1 and n-2 stay as
        // separators, so regions start in 2..=n-3 and end by n-2.
        let last_end = n - 2;
        let region = |(at, len, decor): &(prop::sample::Index, usize, Vec<(usize, usize)>), label| {
            let start = 2 + at.index(n - 4);
            LineEdit { start, end: (start + len).min(last_end), new_lines: make_lines(label, decor) }
        };
        let user = region(&user_region, "U");
        let mut agent = region(&agent_region, "A");
        prop_assume!(!is_noop(&user));
        let shares_line = agent.start < user.end && user.start < agent.end;
        let same_insert = agent.start == agent.end && user.start == user.end && agent.start == user.start;
        if !shares_line && !same_insert {
            // Force an overlap: the agent replaces the lines around the user's insertion, or
            // the user's lines and one more.
            if user.start == user.end {
                (agent.start, agent.end) = (user.start - 1, user.start + 1);
            } else {
                (agent.start, agent.end) = (user.start, (user.end + 1).min(last_end));
            }
        }
        let both_delete_same_lines = user.new_lines.is_empty() && agent.new_lines.is_empty()
            && (user.start, user.end) == (agent.start, agent.end);
        prop_assume!(!both_delete_same_lines && !is_noop(&agent));

        let extra_user = LineEdit { start: 0, end: 1, new_lines: make_lines("V", &extra_user) };
        let extra_agent = LineEdit { start: n - 1, end: n, new_lines: make_lines("B", &extra_agent) };
        let base_text = base.concat();
        let ours = render(&base, &[&extra_user, &user]);
        let theirs = render(&base, &[&agent, &extra_agent]);

        let merge = merge3(&base_text, &ours, &theirs);
        prop_assert_eq!(merge.conflicts.len(), 1, "{:?}", merge);
        prop_assert_eq!(&merge.text, &render(&base, &[&extra_user, &user, &extra_agent]));

        let conflict = &merge.conflicts[0];
        let (r0, r1) = (user.start.min(agent.start), user.end.max(agent.end));
        let local = |edit: &LineEdit| LineEdit {
            start: edit.start - r0,
            end: edit.end - r0,
            new_lines: edit.new_lines.clone(),
        };
        let region_base = &base[r0..r1];
        prop_assert_eq!(&conflict.base, &region_base.concat());
        prop_assert_eq!(&conflict.ours, &render(region_base, &[&local(&user)]));
        prop_assert_eq!(&conflict.theirs, &render(region_base, &[&local(&agent)]));
        // The user's version sits untouched where the conflict says.
        prop_assert_eq!(&merge.text[conflict.merged_bytes.clone()], conflict.ours.as_str());
        let lines_before = count_lines(&merge.text[..conflict.merged_bytes.start]);
        prop_assert_eq!(conflict.lines.clone(), lines_before..lines_before + count_lines(&conflict.ours));

        // Taking the agent's version of the region gives both sides' other changes.
        let mut taken = merge.text.clone();
        taken.replace_range(conflict.merged_bytes.clone(), &conflict.theirs);
        prop_assert_eq!(taken, render(&base, &[&extra_user, &agent, &extra_agent]));
    }
}
