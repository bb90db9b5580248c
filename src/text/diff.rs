//! Minimal edits between two texts, and applying edits with LSP semantics.

use std::ops::Range as Span;

use imara_diff::intern::{Interner, Token};
use imara_diff::{diff_with_tokens, Algorithm};

use super::lines::{count_breaks, LineIndex, LineTokens};
use super::{Position, PositionEncoding, Range, TextEdit, TextError};

/// Interns the lines of `text` into `interner`: equal lines get equal tokens, across every
/// text interned into the same table.
pub(crate) fn intern_lines<'a>(
    interner: &mut Interner<&'a str>,
    lines: &LineTokens<'a>,
) -> Vec<Token> {
    lines.iter().map(|line| interner.intern(line)).collect()
}

/// Line hunks `(before lines, after lines)` turning `before` into `after`, in order. Myers,
/// as GNU diff and git use by default: on a 100,000-line file with 100 hunks it is several
/// times faster than Histogram (see `benches/edit_mirroring.rs`), and both are exact.
pub(crate) fn token_hunks(
    before: &[Token],
    after: &[Token],
    num_tokens: u32,
) -> Vec<(Span<u32>, Span<u32>)> {
    let mut hunks = Vec::new();
    diff_with_tokens(
        Algorithm::Myers,
        before,
        after,
        num_tokens,
        |before: Span<u32>, after: Span<u32>| hunks.push((before, after)),
    );
    hunks
}

/// Line hunks `(before lines, after lines)` turning `before` into `after`, in order.
pub(crate) fn line_hunks(before: &LineTokens, after: &LineTokens) -> Vec<(Span<u32>, Span<u32>)> {
    let mut interner = Interner::new((before.len() + after.len()) as usize);
    let before_tokens = intern_lines(&mut interner, before);
    let after_tokens = intern_lines(&mut interner, after);
    token_hunks(&before_tokens, &after_tokens, interner.num_tokens())
}

/// Byte lengths of the common prefix and suffix of `old` and `new`, whole chars only and never
/// overlapping. Cuts between the `\r` and `\n` of a line break in `old` are moved outwards,
/// because no position can name them.
fn common_affixes(old: &str, new: &str) -> (usize, usize) {
    let mut prefix: usize = old
        .chars()
        .zip(new.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let mut suffix: usize = old[prefix..]
        .chars()
        .rev()
        .zip(new[prefix..].chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let splits_crlf = |at: usize| old[..at].ends_with('\r') && old[at..].starts_with('\n');
    if splits_crlf(prefix) {
        prefix -= 1;
    }
    if splits_crlf(old.len() - suffix) {
        suffix -= 1;
    }
    (prefix, suffix)
}

/// Position of byte `offset` of `text`, given that `anchor` (<= `offset`) is at `anchor_pos`
/// with `anchor_line_start` the byte offset where `anchor_pos.line` starts.
fn advance(
    text: &str,
    anchor: usize,
    anchor_line: u32,
    anchor_line_start: usize,
    offset: usize,
    encoding: PositionEncoding,
) -> (Position, usize) {
    let (breaks, last_start) = count_breaks(&text[anchor..offset]);
    let line_start = if breaks == 0 {
        anchor_line_start
    } else {
        anchor + last_start
    };
    let character = encoding.len_of(&text[line_start..offset]) as u32;
    (Position::new(anchor_line + breaks, character), line_start)
}

/// A short list of sorted, non-overlapping edits (positions in `old`, LSP semantics) that
/// turns `old` into `new`: a line diff (Myers) whose hunks are trimmed to the changed
/// characters.
pub fn edits_between(old: &str, new: &str, encoding: PositionEncoding) -> Vec<TextEdit> {
    if old == new {
        return Vec::new();
    }
    let old_lines = LineTokens::new(old);
    let new_lines = LineTokens::new(new);
    line_hunks(&old_lines, &new_lines)
        .into_iter()
        .map(|(before, after)| {
            hunk_edit(
                old,
                before.start,
                old_lines.byte_range(before),
                &new[new_lines.byte_range(after)],
                encoding,
            )
        })
        .collect()
}

/// The edit replacing the bytes `hunk_old` of `old` (whole lines, the first of them line
/// `first_line`) with `replacement`, trimmed to the characters that differ.
pub(crate) fn hunk_edit(
    old: &str,
    first_line: u32,
    hunk_old: Span<usize>,
    replacement: &str,
    encoding: PositionEncoding,
) -> TextEdit {
    let (prefix, suffix) = common_affixes(&old[hunk_old.clone()], replacement);
    let old_start = hunk_old.start + prefix;
    let old_end = hunk_old.end - suffix;
    let (start, start_line_begin) = advance(
        old,
        hunk_old.start,
        first_line,
        hunk_old.start,
        old_start,
        encoding,
    );
    let (end, _) = advance(
        old,
        old_start,
        start.line,
        start_line_begin,
        old_end,
        encoding,
    );
    TextEdit::new(
        Range::new(start, end),
        &replacement[prefix..replacement.len() - suffix],
    )
}

/// Applies `edits` to `text` with LSP semantics: every range refers to `text`, edits must not
/// overlap, and inserts at the same position keep their order in `edits`.
pub fn apply_edits(
    text: &str,
    edits: &[TextEdit],
    encoding: PositionEncoding,
) -> Result<String, TextError> {
    let index = LineIndex::new(text);
    let mut spans = Vec::with_capacity(edits.len());
    for edit in edits {
        let Range { start, end } = edit.range;
        if start > end {
            return Err(TextError::StartAfterEnd { start, end });
        }
        let span = index.offset(text, start, encoding)?..index.offset(text, end, encoding)?;
        spans.push((span, edit));
    }
    // Stable: inserts before a replacement at the same start, equal spans in given order.
    spans.sort_by_key(|(span, _)| (span.start, span.end));
    for pair in spans.windows(2) {
        if pair[0].0.end > pair[1].0.start {
            return Err(TextError::OverlappingEdits {
                first: pair[0].1.range,
                second: pair[1].1.range,
            });
        }
    }
    let inserted: usize = edits.iter().map(|edit| edit.new_text.len()).sum();
    let mut out = String::with_capacity(text.len() + inserted);
    let mut copied_to = 0;
    for (span, edit) in spans {
        out.push_str(&text[copied_to..span.start]);
        out.push_str(&edit.new_text);
        copied_to = span.end;
    }
    out.push_str(&text[copied_to..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionEncoding::{Utf16, Utf32, Utf8};

    fn edit(sl: u32, sc: u32, el: u32, ec: u32, text: &str) -> TextEdit {
        TextEdit::new(
            Range::new(Position::new(sl, sc), Position::new(el, ec)),
            text,
        )
    }

    fn roundtrip(old: &str, new: &str) -> Vec<TextEdit> {
        let mut utf16 = Vec::new();
        for encoding in PositionEncoding::ALL {
            let edits = edits_between(old, new, encoding);
            assert_eq!(
                apply_edits(old, &edits, encoding).as_deref(),
                Ok(new),
                "{encoding}: {edits:?}"
            );
            if encoding == Utf16 {
                utf16 = edits;
            }
        }
        utf16
    }

    #[test]
    fn identical_texts_need_no_edits() {
        assert!(edits_between("same\n", "same\n", Utf16).is_empty());
        assert!(edits_between("", "", Utf16).is_empty());
    }

    #[test]
    fn edits_are_trimmed_to_changed_characters() {
        let edits = roundtrip(
            "fn a() {}\nlet x = 1;\nend\n",
            "fn a() {}\nlet x = 42;\nend\n",
        );
        assert_eq!(edits, [edit(1, 8, 1, 9, "42")]);
    }

    #[test]
    fn scattered_changes_give_separate_edits() {
        let old: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 10\n", "line ten\n")
            .replace("line 90\n", "");
        let edits = roundtrip(&old, &new);
        assert_eq!(edits, [edit(10, 5, 10, 7, "ten"), edit(90, 0, 91, 0, "")]);
    }

    #[test]
    fn empty_sides_and_eof() {
        assert_eq!(roundtrip("", "hello\n"), [edit(0, 0, 0, 0, "hello\n")]);
        assert_eq!(roundtrip("hello\n", ""), [edit(0, 0, 1, 0, "")]);
        assert_eq!(roundtrip("a\nb", "a\nb\n"), [edit(1, 1, 1, 1, "\n")]);
        assert_eq!(roundtrip("a\nb\n", "a\nb"), [edit(1, 1, 2, 0, "")]);
        assert_eq!(roundtrip("a\n", "a\nz\n"), [edit(1, 0, 1, 0, "z\n")]);
    }

    #[test]
    fn never_splits_crlf() {
        // The common prefix "a\r" would end between `\r` and `\n`.
        assert_eq!(roundtrip("a\r\nb", "a\rX\nb"), [edit(0, 1, 1, 0, "\rX\n")]);
        roundtrip("x\r\n", "x\r");
        roundtrip("x\r", "x\r\n");
        roundtrip("a\r\nb\r\n", "a\nb\r\n");
    }

    #[test]
    fn non_ascii_positions_per_encoding() {
        let old = "😀中é\n";
        let new = "😀中e\u{301}\n";
        assert_eq!(
            edits_between(old, new, Utf16),
            [edit(0, 3, 0, 4, "e\u{301}")]
        );
        assert_eq!(
            edits_between(old, new, Utf8),
            [edit(0, 7, 0, 9, "e\u{301}")]
        );
        assert_eq!(
            edits_between(old, new, Utf32),
            [edit(0, 2, 0, 3, "e\u{301}")]
        );
        roundtrip(old, new);
    }

    #[test]
    fn apply_edits_lsp_semantics() {
        let text = "ab\ncd";
        let edits = [
            edit(1, 0, 1, 0, "1"),
            edit(0, 0, 0, 1, "A"),
            edit(1, 0, 1, 0, "2"),
            edit(1, 9, 4, 0, "!"),
        ];
        assert_eq!(apply_edits(text, &edits, Utf16).unwrap(), "Ab\n12cd!");
        let overlapping = [edit(0, 0, 0, 2, "x"), edit(0, 1, 1, 0, "y")];
        assert!(matches!(
            apply_edits(text, &overlapping, Utf16),
            Err(TextError::OverlappingEdits { .. })
        ));
        assert!(matches!(
            apply_edits(text, &[edit(1, 0, 0, 0, "")], Utf16),
            Err(TextError::StartAfterEnd { .. })
        ));
        assert!(matches!(
            apply_edits("😀", &[edit(0, 1, 0, 1, "")], Utf16),
            Err(TextError::NotCharBoundary { .. })
        ));
    }
}
