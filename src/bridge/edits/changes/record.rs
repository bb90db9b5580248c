//! What one turn did to one file: the text before the turn, the text the agent left, the
//! line hunks between them and what the user decided about each. Pure: no I/O, no bridge.
//!
//! Reverting goes through the three-way merge the mirror uses: base is the text the record
//! says the file holds now (the agent's text with the hunks already reverted put back),
//! ours is what the file or buffer holds now (the user's later edits, later turns), theirs
//! is the base with the chosen hunks put back too. The user's edits are kept; where they
//! overlap a reverted hunk the merge reports a conflict and nothing is changed.

use std::collections::HashMap;
use std::ops::Range as Span;

use ropey::Rope;

use serde::Serialize;

use crate::text::{
    line_hunks, merge3, merge3_edits, LineTokens, Merge, Position, PositionEncoding, Range,
    TextEdit,
};

/// What the user decided about one hunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HunkStatus {
    /// Marked, waiting for the user (or for the next turn, with `reviewChanges: "keep"`).
    Pending,
    /// Kept: no longer marked, still undone with its whole turn.
    Kept,
    /// Put back to the text before the turn.
    Reverted,
}

/// One hunk of the agent's change: lines `before` of the pre-turn text became lines `after`
/// of the agent's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub before: Span<u32>,
    pub after: Span<u32>,
    /// Where the agent's lines are in [`FileRecord::added`].
    added: Span<usize>,
    pub status: HunkStatus,
}

impl Hunk {
    /// Lines the agent added and removed ("+4 −1").
    pub fn counts(&self) -> (u32, u32) {
        (self.after.len() as u32, self.before.len() as u32)
    }
}

/// One file's change in one turn: the text before the turn and the agent's lines of each
/// hunk, which is all of the agent's text there is to keep (every other line is the same in
/// both); the agent's text is rebuilt from them when it is needed whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// The text before the turn; `None` when the turn created the file.
    pub before: Option<String>,
    /// Whether the file exists after the turn (`false`: deleted or moved away).
    pub exists_after: bool,
    /// The agent's lines of every hunk, one hunk after the other.
    added: String,
    /// The length of the agent's text (0 when the turn deleted the file).
    after_len: usize,
    pub hunks: Vec<Hunk>,
}

impl FileRecord {
    pub fn new(before: Option<String>, after: Option<String>) -> Self {
        let old = LineTokens::new(before.as_deref().unwrap_or(""));
        let new = LineTokens::new(after.as_deref().unwrap_or(""));
        let mut added = String::new();
        let hunks = line_hunks(&old, &new)
            .into_iter()
            .map(|(before, after)| {
                let start = added.len();
                added.push_str(new.span(after.clone()));
                Hunk {
                    before,
                    after,
                    added: start..added.len(),
                    status: HunkStatus::Pending,
                }
            })
            .collect();
        Self {
            exists_after: after.is_some(),
            after_len: after.as_ref().map_or(0, String::len),
            before,
            added,
            hunks,
        }
    }

    pub fn before_text(&self) -> &str {
        self.before.as_deref().unwrap_or("")
    }

    /// The text the agent left, rebuilt (`""` when the turn deleted the file).
    pub fn after_text(&self) -> String {
        self.text_with(|_, _| false)
    }

    /// The text the agent left; `None` when the turn deleted (or moved away) the file.
    pub fn after(&self) -> Option<String> {
        self.exists_after.then(|| self.after_text())
    }

    /// Whether `changes` says a text the record holds would read otherwise (a view that
    /// strips a BOM or turns CRLF into LF): the pre-turn text, or the agent's lines (every
    /// other line of the agent's text is a pre-turn line).
    pub fn changed_by(&self, changes: impl Fn(&str) -> bool) -> bool {
        self.before.as_deref().is_some_and(&changes) || changes(&self.added)
    }

    /// The agent's lines of `hunk`.
    fn added_lines(&self, hunk: &Hunk) -> &str {
        &self.added[hunk.added.clone()]
    }

    /// The length of the text the agent left, without rebuilding it.
    pub fn after_len(&self) -> usize {
        self.after_len
    }

    /// What the record holds, in bytes of text.
    pub fn bytes(&self) -> usize {
        self.before_text().len() + self.added.len()
    }

    /// Whether nothing differs between the two texts (and the file neither came nor went).
    pub fn is_empty(&self) -> bool {
        self.hunks.is_empty() && self.before.is_some() == self.exists_after
    }

    /// The agent's text with the hunks `put_back` chooses replaced by their pre-turn lines.
    pub fn text_with(&self, put_back: impl Fn(usize, &Hunk) -> bool) -> String {
        self.text_from(&LineTokens::new(self.before_text()), put_back)
    }

    /// [`FileRecord::text_with`] from the pre-turn text's lines, split once by the caller:
    /// the lines between hunks are the same in both texts.
    fn text_from(&self, before: &LineTokens, put_back: impl Fn(usize, &Hunk) -> bool) -> String {
        let mut out = String::with_capacity(self.before_text().len() + self.added.len());
        let mut copied_to = 0;
        for (index, hunk) in self.hunks.iter().enumerate() {
            out.push_str(before.span(copied_to..hunk.before.start));
            match put_back(index, hunk) {
                true => out.push_str(before.span(hunk.before.clone())),
                false => out.push_str(self.added_lines(hunk)),
            }
            copied_to = hunk.before.end;
        }
        out.push_str(before.span(copied_to..before.len()));
        out
    }

    /// What the file holds as far as the record knows: the agent's text with the reverted
    /// hunks put back.
    pub fn base_now(&self) -> String {
        self.text_with(|_, h| h.status == HunkStatus::Reverted)
    }

    /// Puts back the hunks `which` chooses (reverted ones stay reverted) in `current`, the
    /// text derived from [`FileRecord::base_now`] by the user's edits and later turns: the
    /// three-way merge keeps those and reports where they overlap a hunk put back.
    pub fn revert(&self, current: &str, which: impl Fn(usize, &Hunk) -> bool) -> Merge {
        let (base, theirs) = self.revert_sides(which);
        merge3(&base, current, &theirs)
    }

    /// [`FileRecord::revert`], plus the edits (positions in `current`, in `encoding`) that
    /// turn `current` into the merged text, taken from the merge's own hunks: no second diff.
    pub fn revert_edits(
        &self,
        current: &str,
        which: impl Fn(usize, &Hunk) -> bool,
        encoding: PositionEncoding,
    ) -> (Merge, Vec<TextEdit>) {
        let (base, theirs) = self.revert_sides(which);
        merge3_edits(&base, current, &theirs, encoding)
    }

    /// A revert's merge base ([`FileRecord::base_now`]) and its "theirs" (that with the
    /// hunks `which` chooses put back too), from one split of the record's texts into lines.
    fn revert_sides(&self, which: impl Fn(usize, &Hunk) -> bool) -> (String, String) {
        let before = LineTokens::new(self.before_text());
        let base = self.text_from(&before, |_, h| h.status == HunkStatus::Reverted);
        let theirs = self.text_from(&before, |i, h| {
            h.status == HunkStatus::Reverted || which(i, h)
        });
        (base, theirs)
    }

    /// The edits that put back the hunks `which` chooses where `marks` (hunk index → its
    /// lines in `current`, as the marks that followed the user's typing say) place them,
    /// when `current` shows each exactly as the agent left it: line replacements, as
    /// `patch -R` makes them, no diff of the whole text. `None` when it cannot be told that
    /// simply — a chosen hunk unmarked, edited by the user, reaching the end of the text, or
    /// a deletion whose neighbouring lines are not the agent's — and [`FileRecord::revert`]
    /// decides. Where it is `Some`, the merge would take the same lines: the user's edits
    /// are outside every chosen hunk, and an insertion touching a replaced hunk is kept
    /// beside it there too.
    pub fn revert_at_marks(
        &self,
        current: &Rope,
        marks: &HashMap<usize, Span<u32>>,
        which: impl Fn(usize, &Hunk) -> bool,
    ) -> Option<Vec<TextEdit>> {
        let (Some(before), true) = (&self.before, self.exists_after) else {
            return None;
        };
        let before = LineTokens::new(before);
        let after_len = self.hunks.iter().fold(i64::from(before.len()), |n, h| {
            n + h.after.len() as i64 - h.before.len() as i64
        }) as u32;
        let lines_now = current.len_lines();
        let line_of = |line: u32| current.line(line as usize);
        let mut edits = Vec::new();
        let mut edited_to = 0;
        for (index, hunk) in self.hunks.iter().enumerate() {
            if !which(index, hunk) {
                continue;
            }
            let at = marks.get(&index)?;
            // Lines after the hunk in both texts: its replacement ends with a line break,
            // and the range's end is a line of `current`.
            if hunk.after.end >= after_len || at.end as usize >= lines_now {
                return None;
            }
            if at.start < edited_to || at.len() != hunk.after.len() {
                return None;
            }
            let chars =
                current.line_to_char(at.start as usize)..current.line_to_char(at.end as usize);
            if current.slice(chars) != self.added_lines(hunk) {
                return None;
            }
            if hunk.after.is_empty() {
                // Put back between two lines: both must be the agent's. Hunks never touch,
                // so they are lines both texts share (the pre-turn text's around the hunk);
                // one below exists, as the hunk does not reach the end.
                let (start, end) = (hunk.before.start, hunk.before.end);
                if start == 0
                    || at.start == 0
                    || line_of(at.start - 1) != before.span(start - 1..start)
                    || line_of(at.start) != before.span(end..end + 1)
                {
                    return None;
                }
            }
            edits.push(TextEdit::new(
                Range::new(Position::new(at.start, 0), Position::new(at.end, 0)),
                before.span(hunk.before.clone()),
            ));
            edited_to = at.end;
        }
        Some(edits)
    }

    /// Marks the hunks `which` chooses as reverted (after a clean [`FileRecord::revert`]).
    pub fn mark_reverted(&mut self, which: impl Fn(usize, &Hunk) -> bool) {
        for (index, hunk) in self.hunks.iter_mut().enumerate() {
            if which(index, hunk) {
                hunk.status = HunkStatus::Reverted;
            }
        }
    }

    /// Where each hunk not reverted lies in `current` (derived from [`FileRecord::base_now`]
    /// by the user's edits): (index, lines of `current`, half-open; empty where the agent
    /// only deleted lines). A hunk the user rewrote maps onto the rewritten lines.
    pub fn locate(&self, current: &str) -> Vec<(usize, Span<u32>)> {
        let base = self.base_now();
        let in_base = self.spans_in_base_now();
        let diff = if base == current {
            Vec::new()
        } else {
            line_hunks(&LineTokens::new(&base), &LineTokens::new(current))
        };
        in_base
            .into_iter()
            .map(|(index, span)| {
                let start = map_start(&diff, span.start);
                let end = map_end(&diff, span.end).max(start);
                (index, start..end)
            })
            .collect()
    }

    /// The lines of [`FileRecord::base_now`] each hunk not reverted covers.
    pub fn spans_in_base_now(&self) -> Vec<(usize, Span<u32>)> {
        let mut shift: i64 = 0;
        let mut out = Vec::new();
        for (index, hunk) in self.hunks.iter().enumerate() {
            if hunk.status == HunkStatus::Reverted {
                shift += hunk.before.len() as i64 - hunk.after.len() as i64;
                continue;
            }
            let at = |line: u32| (i64::from(line) + shift) as u32;
            out.push((index, at(hunk.after.start)..at(hunk.after.end)));
        }
        out
    }
}

/// Where base line `line`, the first of a span, is in the other text of `diff`: moved by
/// the changes above it, onto the start of a change that replaced it.
fn map_start(diff: &[(Span<u32>, Span<u32>)], line: u32) -> u32 {
    let mut delta: i64 = 0;
    for (base, other) in diff {
        if line < base.start {
            break;
        }
        if line < base.end {
            return other.start;
        }
        delta = i64::from(other.end) - i64::from(base.end);
    }
    (i64::from(line) + delta) as u32
}

/// Where the end (exclusive) of a span is: an insertion right after the span stays outside
/// it; a change reaching into the span's last line takes its whole replacement.
fn map_end(diff: &[(Span<u32>, Span<u32>)], end: u32) -> u32 {
    let mut delta: i64 = 0;
    for (base, other) in diff {
        if end <= base.start {
            break;
        }
        if end < base.end {
            return other.end;
        }
        delta = i64::from(other.end) - i64::from(base.end);
    }
    (i64::from(end) + delta) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hunks_and_counts() {
        let record = FileRecord::new(Some("a\nb\nc\nd\n".into()), Some("a\nB\nB2\nc\n".into()));
        let counts: Vec<_> = record.hunks.iter().map(Hunk::counts).collect();
        assert_eq!(counts, [(2, 1), (0, 1)]);
        assert_eq!(record.text_with(|i, _| i == 0), "a\nb\nc\n");
        assert_eq!(record.text_with(|i, _| i == 1), "a\nB\nB2\nc\nd\n");
        assert_eq!(record.text_with(|_, _| true), "a\nb\nc\nd\n");
    }

    #[test]
    fn reverting_a_hunk_keeps_the_users_edit_elsewhere() {
        let mut record = FileRecord::new(
            Some("one\ntwo\nthree\nfour\n".into()),
            Some("one\nTWO\nthree\nFOUR\n".into()),
        );
        let current = "one\nTWO\nthree (mine)\nFOUR\n";
        let merge = record.revert(current, |i, _| i == 0);
        assert!(merge.is_clean());
        assert_eq!(merge.text, "one\ntwo\nthree (mine)\nFOUR\n");
        record.mark_reverted(|i, _| i == 0);
        assert_eq!(record.locate(&merge.text), [(1, 3..4)]);
        // Then the other one, on top of the first.
        let merge = record.revert(&merge.text, |i, _| i == 1);
        assert_eq!(merge.text, "one\ntwo\nthree (mine)\nfour\n");
    }

    #[test]
    fn an_overlapping_user_edit_is_a_conflict_and_nothing_changes() {
        let record = FileRecord::new(Some("a\nb\nc\n".into()), Some("a\nB\nc\n".into()));
        let merge = record.revert("a\nB (mine)\nc\n", |_, _| true);
        assert!(!merge.is_clean());
        assert_eq!(merge.text, "a\nB (mine)\nc\n");
    }

    #[test]
    fn marks_follow_the_users_lines() {
        let record = FileRecord::new(Some("a\nb\nc\nd\n".into()), Some("a\nB\nc\nd\nE\n".into()));
        assert_eq!(record.locate(&record.after_text()), [(0, 1..2), (1, 4..5)]);
        // Two lines typed above, the second hunk's line rewritten.
        assert_eq!(
            record.locate("new\nnew\na\nB\nc\nd\nE!\n"),
            [(0, 3..4), (1, 6..7)]
        );
        // A deletion hunk is an empty span where the lines were.
        let deleted = FileRecord::new(Some("a\nb\nc\n".into()), Some("a\nc\n".into()));
        assert_eq!(deleted.locate("a\nc\n"), [(0, 1..1)]);
    }

    #[test]
    fn created_and_deleted_files() {
        let created = FileRecord::new(None, Some("x\n".into()));
        assert_eq!(created.hunks.len(), 1);
        assert_eq!(created.text_with(|_, _| true), "");
        let deleted = FileRecord::new(Some("x\n".into()), None);
        assert_eq!(deleted.text_with(|_, _| true), "x\n");
        assert!(!FileRecord::new(None, Some(String::new())).is_empty());
        assert!(FileRecord::new(Some("s".into()), Some("s".into())).is_empty());
    }

    /// A stretch of the file between two unique anchor lines: left alone, changed by the
    /// agent, changed by the user afterwards, or changed by both (the user rewrote the
    /// agent's lines).
    #[derive(Debug, Clone)]
    enum Segment {
        Same(Vec<String>),
        Agent(Vec<String>, Vec<String>),
        User(Vec<String>, Vec<String>),
        Both(Vec<String>, Vec<String>, Vec<String>),
    }

    fn lines(tag: &'static str) -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec("[a-z]{0,3}", 0..4).prop_map(move |words| {
            words
                .into_iter()
                .enumerate()
                .map(|(i, w)| format!("{tag}{i} {w}"))
                .collect()
        })
    }

    fn segment() -> impl Strategy<Value = Segment> {
        prop_oneof![
            lines("s").prop_map(Segment::Same),
            (lines("o"), lines("a")).prop_map(|(o, a)| Segment::Agent(o, a)),
            (lines("o"), lines("u")).prop_map(|(o, u)| Segment::User(o, u)),
            (lines("o"), lines("a"), lines("u")).prop_map(|(o, a, u)| Segment::Both(o, a, u)),
        ]
    }

    /// Texts: (before the turn, the agent's, the agent's + the user's edits, the user's
    /// edits on the pre-turn text), made unique per segment so the diffs cannot align
    /// lines of different segments.
    fn texts(segments: &[Segment]) -> (String, String, String, String) {
        let mut out = (String::new(), String::new(), String::new(), String::new());
        for (n, segment) in segments.iter().enumerate() {
            let anchor = format!("anchor {n}\n");
            let put = |s: &mut String, lines: &[String]| {
                s.push_str(&anchor);
                for line in lines {
                    s.push_str(&format!("{n}:{line}\n"));
                }
            };
            let (base, agent, user, user_on_base) = match segment {
                Segment::Same(s) => (s, s, s, s),
                Segment::Agent(o, a) => (o, a, a, o),
                Segment::User(o, u) => (o, o, u, u),
                // The user typing the agent's lines again is no edit of theirs.
                Segment::Both(o, a, u) if u == a => (o, a, u, o),
                Segment::Both(o, a, u) => (o, a, u, u),
            };
            put(&mut out.0, base);
            put(&mut out.1, agent);
            put(&mut out.2, user);
            put(&mut out.3, user_on_base);
        }
        out
    }

    /// Whether the user's lines differ from both the agent's and the pre-turn ones (else a
    /// "both" segment merges cleanly).
    fn truly_both(segments: &[Segment]) -> bool {
        segments
            .iter()
            .any(|s| matches!(s, Segment::Both(o, a, u) if o != a && u != a && u != o))
    }

    #[test]
    fn a_record_holds_the_pre_turn_text_and_only_the_agents_lines() {
        let before: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let after = before.replace("line 500\n", "the agent's line\n");
        let record = FileRecord::new(Some(before.clone()), Some(after.clone()));
        assert_eq!(record.bytes(), before.len() + "the agent's line\n".len());
        assert_eq!(record.after_text(), after, "the agent's text rebuilt");
        assert_eq!(record.after_len(), after.len());
        assert_eq!(record.after(), Some(after));
        let created = FileRecord::new(None, Some("new\n".into()));
        assert_eq!((created.bytes(), created.after_text()), (4, "new\n".into()));
        let deleted = FileRecord::new(Some("old\n".into()), None);
        assert_eq!((deleted.bytes(), deleted.after()), (4, None));
    }

    /// `edits` (whole lines, as [`FileRecord::revert_at_marks`] makes them) applied.
    fn apply_line_edits(text: &str, edits: &[TextEdit]) -> String {
        let mut rope = Rope::from_str(text);
        for edit in edits.iter().rev() {
            let start = rope.line_to_char(edit.range.start.line as usize);
            let end = rope.line_to_char(edit.range.end.line as usize);
            rope.remove(start..end);
            rope.insert(start, &edit.new_text);
        }
        rope.to_string()
    }

    fn marks_in(record: &FileRecord, current: &str) -> HashMap<usize, Span<u32>> {
        record.locate(current).into_iter().collect()
    }

    #[test]
    fn reverting_at_marks_replaces_the_agents_lines_where_they_are() {
        let record = FileRecord::new(
            Some("a\nb\nc\nd\ne\nf\n".into()),
            Some("a\nB\nc\nd\nf\n".into()),
        );
        // The user typed a line at the top and one between the hunks.
        let current = "top\na\nB\nc\nmine\nd\nf\n";
        let marks = marks_in(&record, current);
        assert_eq!(marks, HashMap::from([(0, 2..3), (1, 6..6)]));
        let edits = record.revert_at_marks(&Rope::from_str(current), &marks, |_, _| true);
        let edits = edits.expect("both hunks are where their marks say");
        assert_eq!(
            apply_line_edits(current, &edits),
            "top\na\nb\nc\nmine\nd\ne\nf\n"
        );
        assert_eq!(
            apply_line_edits(current, &edits),
            record.revert(current, |_, _| true).text
        );
        // One hunk only.
        let one = record
            .revert_at_marks(&Rope::from_str(current), &marks, |i, _| i == 1)
            .unwrap();
        assert_eq!(
            apply_line_edits(current, &one),
            "top\na\nB\nc\nmine\nd\ne\nf\n"
        );
    }

    #[test]
    fn reverting_at_marks_leaves_to_the_merge_what_it_cannot_tell() {
        let record = FileRecord::new(
            Some("a\nb\nc\nd\ne\nf\n".into()),
            Some("a\nB\nc\nd\nf\n".into()),
        );
        let at = |current: &str, marks: HashMap<usize, Span<u32>>| {
            record.revert_at_marks(&Rope::from_str(current), &marks, |_, _| true)
        };
        // The user edited the agent's line.
        assert_eq!(
            at("a\nB!\nc\nd\nf\n", HashMap::from([(0, 1..2), (1, 4..4)])),
            None
        );
        // Lines typed where the agent deleted one: the merge calls that a conflict.
        assert_eq!(
            at(
                "a\nB\nc\nd\nnew\nf\n",
                HashMap::from([(0, 1..2), (1, 4..4)])
            ),
            None
        );
        assert_eq!(
            at(
                "a\nB\nc\nd\nnew\nf\n",
                HashMap::from([(0, 1..2), (1, 5..5)])
            ),
            None
        );
        // A mark missing, or not where the lines are.
        assert_eq!(at("a\nB\nc\nd\nf\n", HashMap::from([(0, 1..2)])), None);
        assert_eq!(
            at("a\nB\nc\nd\nf\n", HashMap::from([(0, 2..3), (1, 4..4)])),
            None
        );
        // The last line changed: left to the merge.
        let at_end = FileRecord::new(Some("a\nb".into()), Some("a\nB".into()));
        let marks = marks_in(&at_end, "a\nB");
        assert_eq!(
            at_end.revert_at_marks(&Rope::from_str("a\nB"), &marks, |_, _| true),
            None
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// undo(turn) restores the pre-turn text plus every user edit made since, or
        /// reports a conflict (and then the file is left as it is).
        #[test]
        fn undoing_a_turn_keeps_the_users_edits_or_reports_a_conflict(
            segments in prop::collection::vec(segment(), 0..8),
        ) {
            let (before, agent, current, expected) = texts(&segments);
            let record = FileRecord::new(Some(before), Some(agent));
            let merge = record.revert(&current, |_, _| true);
            if merge.is_clean() {
                prop_assert_eq!(&merge.text, &expected);
                prop_assert!(!truly_both(&segments));
            } else {
                // The caller then changes nothing (see `Bridge::revert_changes`).
                prop_assert!(truly_both(&segments));
            }
        }

        /// Where the marks let a revert be made by line replacements, it is the merge's
        /// own result, for any user edits, any hunks chosen and marks off by a line.
        #[test]
        fn reverting_at_marks_is_the_merge_or_nothing(
            segments in prop::collection::vec(segment(), 0..8),
            chosen in prop::collection::vec(any::<bool>(), 8),
            nudge in (any::<prop::sample::Index>(), -1i64..=1),
        ) {
            let (before, agent, current, _) = texts(&segments);
            let record = FileRecord::new(Some(before), Some(agent));
            let mut marks = marks_in(&record, &current);
            if let Some(key) = (!marks.is_empty()).then(|| nudge.0.index(marks.len())) {
                let span = marks.get_mut(&key).unwrap();
                let moved = |l: u32| (i64::from(l) + nudge.1).max(0) as u32;
                *span = moved(span.start)..moved(span.end);
            }
            let which = |i: usize, _: &Hunk| chosen[i % chosen.len()];
            if let Some(edits) = record.revert_at_marks(&Rope::from_str(&current), &marks, which) {
                let merge = record.revert(&current, which);
                prop_assert!(merge.is_clean());
                prop_assert_eq!(apply_line_edits(&current, &edits), merge.text);
            }
        }

        /// Reverting hunks one by one in any order ends where undoing the turn does, and
        /// the marks of the hunks left sit on the agent's lines in the current text.
        #[test]
        fn reverting_hunk_by_hunk_composes(
            segments in prop::collection::vec(segment(), 0..8),
            order in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            prop_assume!(!truly_both(&segments));
            let (before, agent, mut current, expected) = texts(&segments);
            let mut record = FileRecord::new(Some(before), Some(agent));
            for pick in order {
                let left: Vec<usize> = (0..record.hunks.len())
                    .filter(|&i| record.hunks[i].status != HunkStatus::Reverted)
                    .collect();
                if left.is_empty() {
                    break;
                }
                let chosen = left[pick.index(left.len())];
                let merge = record.revert(&current, |i, _| i == chosen);
                prop_assert!(merge.is_clean());
                current = merge.text;
                record.mark_reverted(|i, _| i == chosen);
                let base = LineTokens::new(&current);
                let agent = record.after_text();
                let agent_lines = LineTokens::new(&agent);
                for (index, span) in record.locate(&current) {
                    let hunk = &record.hunks[index];
                    // Lines of a hunk nobody rewrote are the agent's.
                    let theirs = agent_lines.span(hunk.after.clone());
                    if !span.is_empty() && base.span(span.clone()).contains(theirs) {
                        prop_assert_eq!(base.span(span), theirs);
                    }
                }
            }
            let merge = record.revert(&current, |_, _| true);
            prop_assert!(merge.is_clean());
            prop_assert_eq!(merge.text, expected);
        }
    }
}
