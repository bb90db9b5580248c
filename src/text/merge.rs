//! Line-based three-way merge of the user's buffer with the agent's edit.
//!
//! `base` is the file as the agent read it, `ours` the user's buffer, `theirs` the file after
//! the agent's edit. Each side's changes are line hunks against `base` (Myers diff).
//!
//! Two hunks from different sides *overlap* when
//! - their base line ranges share a line (an insertion strictly inside the other side's
//!   replaced lines counts), or
//! - both are insertions at the same base line (their order would be a guess), or
//! - one side's change runs to the end of its text without a final line break and the other
//!   side appends after it (concatenating them would join two lines).
//!
//! Touching is not overlapping: an edit of line 5 and an edit of line 6, or an insertion
//! right before/after the other side's replaced lines, are both applied, in base order
//! (an insertion at a replacement's first line goes before the replacement). This deviates
//! from classic diff3, which calls touching hunks a conflict; here the changed line sets are
//! disjoint and the order is unambiguous, and a false conflict would make the user resolve
//! by hand what merges cleanly.
//!
//! Overlapping hunks group (transitively) into a region. If only one side changed it, or both
//! changed it to the same text, that text is taken; otherwise the region is a [`Conflict`]
//! and the merged text keeps the user's version of it untouched.

use std::ops::Range as Span;

use imara_diff::intern::{Interner, Token};

use super::diff::{hunk_edit, intern_lines, token_hunks};
use super::lines::LineTokens;
use super::{Position, PositionEncoding, Range, TextEdit};

/// The merged text and the regions where both sides changed the same lines differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    pub text: String,
    pub conflicts: Vec<Conflict>,
}

impl Merge {
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty()
    }
}

/// A region both sides changed differently. The merged text holds `ours` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Lines of the merged text the region covers, half-open; empty (`n..n`, the region sits
    /// before line `n`) when the user deleted the region's lines.
    pub lines: Span<u32>,
    /// Bytes of the merged text holding `ours`; replace them with `theirs` to take the
    /// agent's version.
    pub merged_bytes: Span<usize>,
    pub base: String,
    pub ours: String,
    pub theirs: String,
}

impl Conflict {
    /// The region as a line-granular range: from the start of its first line to the start of
    /// the line after it (which LSP clamps to the document's end on the last line).
    pub fn range(&self) -> Range {
        Range::new(
            Position::new(self.lines.start, 0),
            Position::new(self.lines.end, 0),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours,
    Theirs,
}

#[derive(Debug, Clone)]
struct Hunk {
    side: Side,
    base: Span<u32>,
    /// The replacement lines in the side's text.
    lines: Span<u32>,
}

/// The texts being merged, split into lines.
struct Inputs<'a> {
    base: LineTokens<'a>,
    ours: LineTokens<'a>,
    theirs: LineTokens<'a>,
}

impl<'a> Inputs<'a> {
    fn side(&self, side: Side) -> &LineTokens<'a> {
        match side {
            Side::Ours => &self.ours,
            Side::Theirs => &self.theirs,
        }
    }

    fn overlap(&self, a: &Hunk, b: &Hunk) -> bool {
        let share_lines = a.base.start < b.base.end && b.base.start < a.base.end;
        let same_insertion_point = a.base.is_empty() && a.base == b.base;
        share_lines || same_insertion_point || self.joins_lines(a, b) || self.joins_lines(b, a)
    }

    /// Whether appending `after` at the base's end would follow `before`'s unterminated line.
    fn joins_lines(&self, before: &Hunk, after: &Hunk) -> bool {
        let base_end = self.base.len();
        let before_side = self.side(before.side);
        after.base == (base_end..base_end)
            && before.base.end == base_end
            && before.lines.end == before_side.len()
            && before_side.ends_unterminated()
    }
}

/// Hunks whose base ranges overlap across sides, transitively; each side's hunks in order.
struct Region {
    base: Span<u32>,
    ours: Vec<Hunk>,
    theirs: Vec<Hunk>,
}

impl Region {
    fn new(hunk: Hunk) -> Self {
        let mut region = Self {
            base: hunk.base.clone(),
            ours: Vec::new(),
            theirs: Vec::new(),
        };
        region.add(hunk);
        region
    }

    fn add(&mut self, hunk: Hunk) {
        self.base.end = self.base.end.max(hunk.base.end);
        match hunk.side {
            Side::Ours => self.ours.push(hunk),
            Side::Theirs => self.theirs.push(hunk),
        }
    }

    fn hunks(&self, side: Side) -> &[Hunk] {
        match side {
            Side::Ours => &self.ours,
            Side::Theirs => &self.theirs,
        }
    }

    fn overlaps(&self, hunk: &Hunk, inputs: &Inputs) -> bool {
        let other = match hunk.side {
            Side::Ours => Side::Theirs,
            Side::Theirs => Side::Ours,
        };
        // The other side's hunks are disjoint and sorted: once one ends before `hunk`
        // starts, so do all earlier ones.
        self.hunks(other)
            .iter()
            .rev()
            .take_while(|earlier| earlier.base.end >= hunk.base.start)
            .any(|earlier| inputs.overlap(earlier, hunk))
    }

    /// The region's lines in `side`'s text; `shift` is that side's line count minus the
    /// base's before the region (what maps an unchanged region's base lines to the side).
    fn lines(&self, side: Side, shift: i64) -> Span<u32> {
        let hunks = self.hunks(side);
        let (Some(first), Some(last)) = (hunks.first(), hunks.last()) else {
            let map = |line: u32| (i64::from(line) + shift) as u32;
            return map(self.base.start)..map(self.base.end);
        };
        // Base lines around the side's hunks are unchanged, so they map one to one.
        let start = first.lines.start - (first.base.start - self.base.start);
        let end = last.lines.end + (self.base.end - last.base.end);
        start..end
    }

    /// The region's text as `side` has it.
    fn text<'a>(&self, side: Side, inputs: &Inputs<'a>) -> &'a str {
        if self.hunks(side).is_empty() {
            return inputs.base.span(self.base.clone());
        }
        inputs.side(side).span(self.lines(side, 0))
    }
}

/// Merges the user's `ours` and the agent's `theirs`, both derived from `base`. See the
/// module documentation for what counts as a conflict.
pub fn merge3(base: &str, ours: &str, theirs: &str) -> Merge {
    merge(base, ours, theirs, None).0
}

/// [`merge3`], plus the edits (positions in `ours`, in `encoding`) that turn `ours` into the
/// merged text: one per region taken from the agent, trimmed to the changed characters.
/// They come from the merge's own hunks, so no third diff is needed.
pub fn merge3_edits(
    base: &str,
    ours: &str,
    theirs: &str,
    encoding: PositionEncoding,
) -> (Merge, Vec<TextEdit>) {
    merge(base, ours, theirs, Some(encoding))
}

fn merge(
    base: &str,
    ours: &str,
    theirs: &str,
    edits_in: Option<PositionEncoding>,
) -> (Merge, Vec<TextEdit>) {
    let inputs = Inputs {
        base: LineTokens::new(base),
        ours: LineTokens::new(ours),
        theirs: LineTokens::new(theirs),
    };
    // One table for all three texts: base is hashed once, not once per side.
    let mut interner = Interner::new((inputs.base.len() + inputs.ours.len() + 64) as usize);
    let base_tokens = intern_lines(&mut interner, &inputs.base);
    let ours_tokens = intern_lines(&mut interner, &inputs.ours);
    let theirs_tokens = intern_lines(&mut interner, &inputs.theirs);
    let side_hunks = |side: Side, tokens: &[Token]| {
        token_hunks(&base_tokens, tokens, interner.num_tokens())
            .into_iter()
            .map(move |(base, lines)| Hunk { side, base, lines })
    };
    let mut hunks: Vec<Hunk> = side_hunks(Side::Ours, &ours_tokens)
        .chain(side_hunks(Side::Theirs, &theirs_tokens))
        .collect();
    // Stable, so ours goes first among equal keys; insertions sort before replacements
    // starting at the same line, which is the order they are emitted in.
    hunks.sort_by_key(|hunk| (hunk.base.start, hunk.base.end));

    let mut regions: Vec<Region> = Vec::new();
    for hunk in hunks {
        match regions.last_mut() {
            Some(region) if region.overlaps(&hunk, &inputs) => region.add(hunk),
            _ => regions.push(Region::new(hunk)),
        }
    }

    let mut text = String::with_capacity(ours.len().max(theirs.len()));
    let mut conflicts = Vec::new();
    let mut edits = Vec::new();
    let mut copied_to = 0;
    // Lines of `ours` minus lines of `base` before the current region.
    let mut ours_shift: i64 = 0;
    for region in &regions {
        text.push_str(inputs.base.span(copied_to..region.base.start));
        copied_to = region.base.end;
        let ours_lines = region.lines(Side::Ours, ours_shift);
        ours_shift = i64::from(ours_lines.end) - i64::from(region.base.end);
        let ours_text = inputs.ours.span(ours_lines.clone());
        let theirs_text = region.text(Side::Theirs, &inputs);
        let start = text.len();
        if region.theirs.is_empty() || ours_text == theirs_text {
            text.push_str(ours_text);
        } else if region.ours.is_empty() {
            text.push_str(theirs_text);
            if let Some(encoding) = edits_in {
                edits.push(hunk_edit(
                    ours,
                    ours_lines.start,
                    inputs.ours.byte_range(ours_lines),
                    theirs_text,
                    encoding,
                ));
            }
        } else {
            text.push_str(ours_text);
            conflicts.push(Conflict {
                lines: 0..0,
                merged_bytes: start..text.len(),
                base: inputs.base.span(region.base.clone()).to_owned(),
                ours: ours_text.to_owned(),
                theirs: theirs_text.to_owned(),
            });
        }
    }
    text.push_str(inputs.base.span(copied_to..inputs.base.len()));

    set_conflict_lines(&text, &mut conflicts);
    (Merge { text, conflicts }, edits)
}

/// Fills in each conflict's line range from its byte range (conflicts are in text order).
fn set_conflict_lines(text: &str, conflicts: &mut [Conflict]) {
    let bytes = text.as_bytes();
    let mut counted_to = 0;
    let mut line = 0;
    // Line containing byte `offset`; offsets must not decrease between calls.
    let mut line_at = |offset: usize| {
        for i in counted_to..offset {
            let ends_line =
                bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            line += u32::from(ends_line);
        }
        counted_to = offset;
        line
    };
    for conflict in conflicts {
        let Span { start, end } = conflict.merged_bytes;
        let first = line_at(start);
        conflict.lines = if start == end {
            first..first
        } else {
            first..line_at(end - 1) + 1
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(base: &str, ours: &str, theirs: &str) -> String {
        let merge = merge3(base, ours, theirs);
        assert!(merge.is_clean(), "unexpected conflicts: {merge:?}");
        merge.text
    }

    #[test]
    fn disjoint_changes_both_apply() {
        let base = "a\nb\nc\nd\ne\n";
        assert_eq!(
            clean(base, "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n"),
            "A\nb\nc\nd\nE\n"
        );
    }

    #[test]
    fn one_side_only() {
        let base = "a\nb\n";
        assert_eq!(clean(base, base, "a\nB\n"), "a\nB\n");
        assert_eq!(clean(base, "x\na\nb\n", base), "x\na\nb\n");
        assert_eq!(clean("", "", "new\n"), "new\n");
        assert_eq!(clean("", "", ""), "");
    }

    #[test]
    fn identical_changes_apply_once() {
        let base = "a\nb\nc\n";
        assert_eq!(clean(base, "a\nX\nc\n", "a\nX\nc\n"), "a\nX\nc\n");
        assert_eq!(clean(base, "a\nc\n", "a\nc\n"), "a\nc\n");
    }

    #[test]
    fn adjacent_changes_both_apply() {
        let base = "a\nb\nc\nd\n";
        assert_eq!(clean(base, "a\nB\nc\nd\n", "a\nb\nC\nd\n"), "a\nB\nC\nd\n");
        // Insertion right before and right after the other side's replaced line.
        assert_eq!(
            clean(base, "a\nnew\nb\nc\nd\n", "a\nB\nc\nd\n"),
            "a\nnew\nB\nc\nd\n"
        );
        assert_eq!(
            clean(base, "a\nb\nnew\nc\nd\n", "a\nB\nc\nd\n"),
            "a\nB\nnew\nc\nd\n"
        );
        // A deletion next to an insertion.
        assert_eq!(clean(base, "a\nc\nd\n", "a\nb\nx\nc\nd\n"), "a\nx\nc\nd\n");
    }

    #[test]
    fn overlapping_changes_conflict_and_keep_ours() {
        let base = "a\nb\nc\nd\ne\n";
        let ours = "a\nb (user)\nc\nd\ne\n";
        let theirs = "a\nb (agent)\nc\nd\nE\n";
        let merge = merge3(base, ours, theirs);
        assert_eq!(merge.text, "a\nb (user)\nc\nd\nE\n");
        assert_eq!(
            merge.conflicts,
            [Conflict {
                lines: 1..2,
                merged_bytes: 2..11,
                base: "b\n".into(),
                ours: "b (user)\n".into(),
                theirs: "b (agent)\n".into(),
            }]
        );
        assert_eq!(merge.conflicts[0].range().start, Position::new(1, 0));
        assert_eq!(merge.conflicts[0].range().end, Position::new(2, 0));
    }

    #[test]
    fn conflict_region_spans_transitive_overlaps() {
        let base = "1\n2\n3\n4\n5\n";
        let ours = "1\nX\nY\n4\n5\n"; // 2,3 changed
        let theirs = "1\n2\nP\nQ\n5\n"; // 3,4 changed
        let merge = merge3(base, ours, theirs);
        assert_eq!(merge.text, ours);
        let conflict = &merge.conflicts[0];
        assert_eq!(conflict.lines, 1..4);
        assert_eq!(conflict.base, "2\n3\n4\n");
        assert_eq!(conflict.ours, "X\nY\n4\n");
        assert_eq!(conflict.theirs, "2\nP\nQ\n");
        // Taking the agent's version yields theirs.
        let mut taken = merge.text.clone();
        taken.replace_range(conflict.merged_bytes.clone(), &conflict.theirs);
        assert_eq!(taken, theirs);
    }

    #[test]
    fn insertions_at_the_same_point_conflict() {
        let base = "a\nb\n";
        let merge = merge3(base, "a\nmine\nb\n", "a\ntheirs\nb\n");
        assert_eq!(merge.text, "a\nmine\nb\n");
        assert_eq!(merge.conflicts.len(), 1);
        assert_eq!(merge.conflicts[0].lines, 1..2);
        assert_eq!(merge.conflicts[0].base, "");
    }

    #[test]
    fn user_deletion_against_agent_edit_is_an_empty_region() {
        let base = "a\nb\nc\n";
        let merge = merge3(base, "a\nc\n", "a\nB\nc\n");
        assert_eq!(merge.text, "a\nc\n");
        assert_eq!(merge.conflicts[0].lines, 1..1);
        assert_eq!(merge.conflicts[0].merged_bytes, 2..2);
        assert_eq!(merge.conflicts[0].theirs, "B\n");
    }

    #[test]
    fn appending_after_an_unterminated_change_conflicts() {
        let base = "a\nb\n";
        let merge = merge3(base, "a\nB", "a\nb\nc\n");
        assert_eq!(merge.text, "a\nB");
        assert_eq!(merge.conflicts.len(), 1);
        assert_eq!(merge.conflicts[0].lines, 1..2);
    }

    #[test]
    fn crlf_and_non_ascii_lines() {
        let base = "α\r\nβ\r\nγ\r\n";
        let ours = "α😀\r\nβ\r\nγ\r\n";
        let theirs = "α\r\nβ\r\nγ中\r\n";
        assert_eq!(clean(base, ours, theirs), "α😀\r\nβ\r\nγ中\r\n");
    }
}
