//! An open buffer mirrored in a rope.
//!
//! Ropey is built with `cr_lines` only (not its default `unicode_lines`), so its lines are
//! LSP's: a break is `\n`, `\r\n` or `\r`, never U+2028, form feed or NEL.

use ropey::Rope;

use super::{Position, PositionEncoding, Range, TextEdit, TextError};

/// An open text document: its text and the version the client gave it.
#[derive(Debug, Clone)]
pub struct Document {
    /// The client's version, set by the caller; [`Document::apply_change`] leaves it alone
    /// because one `didChange` carries several changes and one version.
    pub version: i32,
    rope: Rope,
}

impl Document {
    pub fn new(text: &str, version: i32) -> Self {
        Self {
            version,
            rope: Rope::from_str(text),
        }
    }

    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    pub fn rope(&self) -> &Rope {
        &self.rope
    }

    /// Number of LSP lines; an empty document and one ending in a line break both count
    /// their (empty) last line.
    pub fn len_lines(&self) -> usize {
        self.rope.len_lines()
    }

    pub fn len_chars(&self) -> usize {
        self.rope.len_chars()
    }

    pub fn len_bytes(&self) -> usize {
        self.rope.len_bytes()
    }

    /// Applies one `didChange` content change: `range` in `encoding`, or `None` to replace
    /// the whole text. On error the document is unchanged.
    pub fn apply_change(
        &mut self,
        range: Option<Range>,
        text: &str,
        encoding: PositionEncoding,
    ) -> Result<(), TextError> {
        let Some(range) = range else {
            *self = Self::new(text, self.version);
            return Ok(());
        };
        let (start, end) = self.range_to_chars(range, encoding)?;
        self.rope.remove(start..end);
        self.rope.insert(start, text);
        Ok(())
    }

    /// The char range `range` covers; errors if start is after end or either end falls inside
    /// a character.
    pub fn range_to_chars(
        &self,
        range: Range,
        encoding: PositionEncoding,
    ) -> Result<(usize, usize), TextError> {
        if range.start > range.end {
            return Err(TextError::StartAfterEnd {
                start: range.start,
                end: range.end,
            });
        }
        Ok((
            self.position_to_char(range.start, encoding)?,
            self.position_to_char(range.end, encoding)?,
        ))
    }

    /// The char index `position` names. A `character` past the line's end clamps to the end of
    /// the line (before its break); a `line` past the last line clamps to the document's end.
    pub fn position_to_char(
        &self,
        position: Position,
        encoding: PositionEncoding,
    ) -> Result<usize, TextError> {
        let line = position.line as usize;
        if line >= self.len_lines() {
            return Ok(self.rope.len_chars());
        }
        let start = self.rope.line_to_char(line);
        let end = self.line_content_end_char(line);
        let character = position.character as usize;
        let not_boundary = TextError::NotCharBoundary { position, encoding };
        match encoding {
            PositionEncoding::Utf32 => Ok(start + character.min(end - start)),
            PositionEncoding::Utf8 => {
                let target = self.rope.char_to_byte(start) + character;
                if target >= self.rope.char_to_byte(end) {
                    return Ok(end);
                }
                let char_idx = self.rope.byte_to_char(target);
                if self.rope.char_to_byte(char_idx) == target {
                    Ok(char_idx)
                } else {
                    Err(not_boundary)
                }
            }
            PositionEncoding::Utf16 => {
                let target = self.rope.char_to_utf16_cu(start) + character;
                if target >= self.rope.char_to_utf16_cu(end) {
                    return Ok(end);
                }
                let char_idx = self.rope.utf16_cu_to_char(target);
                if self.rope.char_to_utf16_cu(char_idx) == target {
                    Ok(char_idx)
                } else {
                    Err(not_boundary)
                }
            }
        }
    }

    /// The position of char index `char_idx` (`len_chars()` names the end).
    pub fn char_to_position(
        &self,
        char_idx: usize,
        encoding: PositionEncoding,
    ) -> Result<Position, TextError> {
        let len = self.rope.len_chars();
        if char_idx > len {
            return Err(TextError::CharOutOfBounds {
                index: char_idx,
                len,
            });
        }
        let line = self.rope.char_to_line(char_idx);
        let start = self.rope.line_to_char(line);
        if char_idx > self.line_content_end_char(line) {
            // Only the `\n` of a `\r\n` lies between a line's content end and the next line.
            return Err(TextError::InsideLineBreak { index: char_idx });
        }
        let character = match encoding {
            PositionEncoding::Utf32 => char_idx - start,
            PositionEncoding::Utf8 => {
                self.rope.char_to_byte(char_idx) - self.rope.char_to_byte(start)
            }
            PositionEncoding::Utf16 => {
                self.rope.char_to_utf16_cu(char_idx) - self.rope.char_to_utf16_cu(start)
            }
        };
        Ok(Position::new(line as u32, character as u32))
    }

    /// The byte offset `position` names, with the clamping of [`Document::position_to_char`].
    pub fn position_to_byte(
        &self,
        position: Position,
        encoding: PositionEncoding,
    ) -> Result<usize, TextError> {
        Ok(self
            .rope
            .char_to_byte(self.position_to_char(position, encoding)?))
    }

    /// The position of byte offset `offset`, which must be a char boundary.
    pub fn byte_to_position(
        &self,
        offset: usize,
        encoding: PositionEncoding,
    ) -> Result<Position, TextError> {
        let len = self.rope.len_bytes();
        if offset > len {
            return Err(TextError::ByteOutOfBounds { offset, len });
        }
        let char_idx = self.rope.byte_to_char(offset);
        if self.rope.char_to_byte(char_idx) != offset {
            return Err(TextError::ByteNotCharBoundary { offset });
        }
        self.char_to_position(char_idx, encoding)
    }

    /// The edits that turn this document into `new_text`, in this document's positions.
    pub fn edits_to(&self, new_text: &str, encoding: PositionEncoding) -> Vec<TextEdit> {
        super::edits_between(&self.text(), new_text, encoding)
    }

    /// The char just past LSP line `line`'s content, before its break.
    fn line_content_end_char(&self, line: usize) -> usize {
        if line + 1 >= self.len_lines() {
            return self.rope.len_chars();
        }
        let next = self.rope.line_to_char(line + 1);
        let crlf =
            next >= 2 && self.rope.char(next - 1) == '\n' && self.rope.char(next - 2) == '\r';
        next - if crlf { 2 } else { 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionEncoding::{Utf16, Utf32, Utf8};

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    fn range(sl: u32, sc: u32, el: u32, ec: u32) -> Option<Range> {
        Some(Range::new(pos(sl, sc), pos(el, ec)))
    }

    #[test]
    fn ropey_breaks_lines_where_lsp_does_and_nowhere_else() {
        // `cr_lines`: `\r` and `\r\n` are breaks.
        assert_eq!(Rope::from_str("a\rb\r\nc\nd").len_lines(), 4);
        // Not `unicode_lines` (which a dependency asking for ropey's default features would
        // switch back on): the line index is used as-is.
        assert_eq!(
            Rope::from_str("a\u{2028}b\u{2029}c\u{b}d\u{c}e\u{85}f").len_lines(),
            1
        );
    }

    #[test]
    fn empty_document() {
        let mut doc = Document::new("", 1);
        assert_eq!(doc.len_lines(), 1);
        assert_eq!(doc.position_to_char(pos(0, 0), Utf16), Ok(0));
        assert_eq!(doc.position_to_char(pos(5, 5), Utf16), Ok(0));
        assert_eq!(doc.char_to_position(0, Utf16), Ok(pos(0, 0)));
        doc.apply_change(range(0, 0, 0, 0), "hi", Utf16).unwrap();
        assert_eq!(doc.text(), "hi");
    }

    #[test]
    fn crlf_lines_and_clamping() {
        let mut doc = Document::new("ab\r\ncd\r\n", 0);
        assert_eq!(doc.len_lines(), 3);
        // Past the line end clamps before the `\r\n`, never between `\r` and `\n`.
        assert_eq!(doc.position_to_char(pos(0, 9), Utf16), Ok(2));
        assert_eq!(doc.position_to_char(pos(1, 1), Utf16), Ok(5));
        assert_eq!(doc.position_to_char(pos(9, 0), Utf16), Ok(8));
        assert_eq!(doc.char_to_position(4, Utf16), Ok(pos(1, 0)));
        assert_eq!(
            doc.char_to_position(3, Utf16),
            Err(TextError::InsideLineBreak { index: 3 })
        );
        doc.apply_change(range(0, 2, 1, 0), "X", Utf16).unwrap();
        assert_eq!(doc.text(), "abXcd\r\n");
        doc.apply_change(range(1, 0, 1, 0), "end", Utf16).unwrap();
        assert_eq!(doc.text(), "abXcd\r\nend");
    }

    #[test]
    fn lone_cr_is_a_break_and_crlf_forms_on_insert() {
        let mut doc = Document::new("a\rb", 0);
        assert_eq!(doc.len_lines(), 2);
        assert_eq!(doc.position_to_char(pos(1, 0), Utf32), Ok(2));
        doc.apply_change(range(1, 0, 1, 0), "\n", Utf32).unwrap();
        assert_eq!(doc.text(), "a\r\nb");
        assert_eq!(doc.len_lines(), 2);
        assert_eq!(doc.char_to_position(3, Utf32), Ok(pos(1, 0)));
    }

    #[test]
    fn edit_at_eof_and_beyond() {
        let mut doc = Document::new("x\n", 0);
        doc.apply_change(range(1, 0, 1, 0), "y", Utf8).unwrap();
        doc.apply_change(range(7, 3, 8, 0), "!", Utf8).unwrap();
        assert_eq!(doc.text(), "x\ny!");
    }

    #[test]
    fn emoji_in_utf16_and_utf8() {
        let mut doc = Document::new("a😀b", 0);
        assert_eq!(doc.position_to_char(pos(0, 3), Utf16), Ok(2));
        assert_eq!(doc.position_to_char(pos(0, 5), Utf8), Ok(2));
        assert_eq!(doc.position_to_char(pos(0, 2), Utf32), Ok(2));
        assert_eq!(doc.char_to_position(2, Utf16), Ok(pos(0, 3)));
        assert_eq!(doc.char_to_position(2, Utf8), Ok(pos(0, 5)));
        let err = doc.position_to_char(pos(0, 2), Utf16).unwrap_err();
        assert_eq!(
            err,
            TextError::NotCharBoundary {
                position: pos(0, 2),
                encoding: Utf16
            }
        );
        assert!(err.to_string().contains("0:2"), "{err}");
        assert!(doc.position_to_char(pos(0, 3), Utf8).is_err());
        // A failed change leaves the document untouched.
        assert!(doc.apply_change(range(0, 2, 0, 3), "", Utf16).is_err());
        assert_eq!(doc.text(), "a😀b");
        doc.apply_change(range(0, 1, 0, 3), "🎉", Utf16).unwrap();
        assert_eq!(doc.text(), "a🎉b");
    }

    #[test]
    fn cjk_and_combining_marks() {
        // "e" + COMBINING ACUTE is two chars; positions may fall between them.
        let mut doc = Document::new("中文e\u{301}x", 0);
        assert_eq!(doc.position_to_char(pos(0, 3), Utf16), Ok(3));
        assert_eq!(doc.position_to_char(pos(0, 6), Utf8), Ok(2));
        assert!(doc.position_to_char(pos(0, 4), Utf8).is_err());
        assert_eq!(doc.char_to_position(4, Utf8), Ok(pos(0, 9)));
        doc.apply_change(range(0, 3, 0, 4), "", Utf16).unwrap();
        assert_eq!(doc.text(), "中文ex");
    }

    #[test]
    fn start_after_end_is_an_error() {
        let mut doc = Document::new("abc\ndef", 0);
        let err = doc.apply_change(range(1, 0, 0, 2), "", Utf16).unwrap_err();
        assert!(matches!(err, TextError::StartAfterEnd { .. }));
        assert!(err.to_string().contains("1:0"), "{err}");
        assert_eq!(doc.text(), "abc\ndef");
    }

    #[test]
    fn full_replace_and_version_untouched() {
        let mut doc = Document::new("old", 3);
        doc.apply_change(None, "new\ntext", Utf16).unwrap();
        assert_eq!(doc.text(), "new\ntext");
        assert_eq!(doc.version, 3);
        assert_eq!(doc.len_lines(), 2);
    }

    #[test]
    fn unicode_separators_are_not_lsp_lines() {
        let mut doc = Document::new("a\u{2028}b\u{c}c\nd\u{85}e\nf", 0);
        assert_eq!(doc.len_lines(), 3);
        assert_eq!(doc.position_to_char(pos(1, 0), Utf32), Ok(6));
        assert_eq!(doc.position_to_char(pos(1, 2), Utf32), Ok(8));
        assert_eq!(doc.position_to_char(pos(2, 0), Utf32), Ok(10));
        assert_eq!(doc.position_to_char(pos(0, 99), Utf32), Ok(5));
        assert_eq!(doc.char_to_position(4, Utf32), Ok(pos(0, 4)));
        assert_eq!(doc.char_to_position(9, Utf16), Ok(pos(1, 3)));
        doc.apply_change(range(0, 1, 0, 4), "\u{2029}\u{2029}", Utf32)
            .unwrap();
        assert_eq!(doc.text(), "a\u{2029}\u{2029}c\nd\u{85}e\nf");
        assert_eq!(doc.len_lines(), 3);
        assert_eq!(doc.position_to_char(pos(1, 3), Utf32), Ok(8));
        doc.apply_change(range(1, 0, 2, 0), "", Utf32).unwrap();
        assert_eq!(doc.text(), "a\u{2029}\u{2029}c\nf");
        assert_eq!(doc.char_to_position(6, Utf32), Ok(pos(1, 1)));
    }

    #[test]
    fn byte_conversions() {
        let doc = Document::new("é\nz", 0);
        assert_eq!(doc.position_to_byte(pos(1, 0), Utf16), Ok(3));
        assert_eq!(doc.byte_to_position(3, Utf16), Ok(pos(1, 0)));
        assert_eq!(
            doc.byte_to_position(1, Utf16),
            Err(TextError::ByteNotCharBoundary { offset: 1 })
        );
        assert!(matches!(
            doc.byte_to_position(9, Utf16),
            Err(TextError::ByteOutOfBounds { .. })
        ));
        assert!(matches!(
            doc.char_to_position(9, Utf16),
            Err(TextError::CharOutOfBounds { .. })
        ));
    }
}
