//! LSP line splitting over plain `&str`.

use super::{Position, PositionEncoding, TextError};

/// Byte length of the line break `text` ends with: 2 for `\r\n`, 1 for `\n` or `\r`, else 0.
pub(crate) fn trailing_break_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    match bytes {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n' | b'\r'] => 1,
        _ => 0,
    }
}

/// Byte length of the first line of `text`, including its break.
fn first_line_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    match memchr::memchr2(b'\n', b'\r', bytes) {
        None => bytes.len(),
        Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => i + 2,
        Some(i) => i + 1,
    }
}

/// The text split into lines that keep their breaks, the unit of line diffs. Unlike LSP's
/// line count, a text ending with a break has no empty last token: `"a\n"` is one token.
pub(crate) struct LineTokens<'a> {
    text: &'a str,
    /// Byte offset of each token's start, plus `text.len()` at the end.
    starts: Vec<usize>,
}

impl<'a> LineTokens<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = Vec::with_capacity(text.len() / 32 + 2);
        if !text.is_empty() {
            starts.push(0);
        }
        // One pass over the breaks; the `\r` of a `\r\n` is not a line end of its own.
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let next = i + 1;
            if bytes[i] == b'\r' && bytes.get(next) == Some(&b'\n') {
                continue;
            }
            if next < bytes.len() {
                starts.push(next);
            }
        }
        starts.push(text.len());
        Self { text, starts }
    }

    pub(crate) fn len(&self) -> u32 {
        (self.starts.len() - 1) as u32
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.starts.windows(2).map(|w| &self.text[w[0]..w[1]])
    }

    pub(crate) fn byte_range(&self, lines: std::ops::Range<u32>) -> std::ops::Range<usize> {
        self.starts[lines.start as usize]..self.starts[lines.end as usize]
    }

    pub(crate) fn span(&self, lines: std::ops::Range<u32>) -> &'a str {
        &self.text[self.byte_range(lines)]
    }

    /// True when the last token has no line break, so nothing can follow it on a new line.
    pub(crate) fn ends_unterminated(&self) -> bool {
        !self.text.is_empty() && trailing_break_len(self.text) == 0
    }
}

/// Counts LSP line breaks in `text`; a `\r\n` pair counts once. Returns the count and the
/// byte offset where the last line of `text` starts.
pub(crate) fn count_breaks(text: &str) -> (u32, usize) {
    let bytes = text.as_bytes();
    let mut breaks = 0;
    let mut last_line_start = 0;
    for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        let ends_line = bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n');
        if ends_line {
            breaks += 1;
            last_line_start = i + 1;
        }
    }
    (breaks, last_line_start)
}

/// Byte offset inside one line's content (no break) of `character` units; past the end clamps
/// to the end, the middle of a character is `None`.
pub(crate) fn offset_in_line(
    content: &str,
    character: u32,
    encoding: PositionEncoding,
) -> Option<usize> {
    let target = character as usize;
    if encoding == PositionEncoding::Utf8 {
        return if target >= content.len() {
            Some(content.len())
        } else {
            content.is_char_boundary(target).then_some(target)
        };
    }
    let mut units = 0;
    for (offset, c) in content.char_indices() {
        if units == target {
            return Some(offset);
        }
        units += encoding.width(c);
        if units > target {
            return None;
        }
    }
    Some(content.len())
}

/// LSP line starts of a plain string, for converting positions to byte offsets.
pub(crate) struct LineIndex {
    /// Byte offset of each LSP line's start; never empty.
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let mut offset = 0;
        while offset < text.len() {
            let len = first_line_len(&text[offset..]);
            offset += len;
            if trailing_break_len(&text[..offset]) > 0 {
                starts.push(offset);
            }
        }
        Self { starts }
    }

    #[cfg(test)]
    pub(crate) fn len_lines(&self) -> usize {
        self.starts.len()
    }

    /// Byte offset of `position` in `text` (the text this index was built from), with LSP
    /// clamping of overlong lines and line numbers.
    pub(crate) fn offset(
        &self,
        text: &str,
        position: Position,
        encoding: PositionEncoding,
    ) -> Result<usize, TextError> {
        let line = position.line as usize;
        let Some(&start) = self.starts.get(line) else {
            return Ok(text.len());
        };
        let end = match self.starts.get(line + 1) {
            Some(&next) => next - trailing_break_len(&text[start..next]),
            None => text.len(),
        };
        offset_in_line(&text[start..end], position.character, encoding)
            .map(|offset| start + offset)
            .ok_or(TextError::NotCharBoundary { position, encoding })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_breaks_and_pair_crlf() {
        let tokens = LineTokens::new("a\r\nb\rc\n\nd");
        let lines: Vec<_> = tokens.iter().collect();
        assert_eq!(lines, ["a\r\n", "b\r", "c\n", "\n", "d"]);
        assert!(tokens.ends_unterminated());
        assert_eq!(LineTokens::new("").len(), 0);
        assert_eq!(LineTokens::new("x\n").len(), 1);
    }

    #[test]
    fn count_breaks_treats_crlf_as_one() {
        assert_eq!(count_breaks("a\r\nb\rc\nd"), (3, 7));
        assert_eq!(count_breaks("abc"), (0, 0));
        assert_eq!(count_breaks("\r"), (1, 1));
    }

    #[test]
    fn line_index_counts_lsp_lines() {
        assert_eq!(LineIndex::new("").len_lines(), 1);
        assert_eq!(LineIndex::new("a\n").len_lines(), 2);
        assert_eq!(LineIndex::new("a\r\nb\rc").len_lines(), 3);
        // Unicode separators are not LSP line breaks.
        assert_eq!(LineIndex::new("a\u{2028}b\u{c}c\u{85}").len_lines(), 1);
    }

    #[test]
    fn offset_in_line_handles_units_and_clamping() {
        let s = "a😀é";
        assert_eq!(offset_in_line(s, 1, PositionEncoding::Utf16), Some(1));
        assert_eq!(offset_in_line(s, 2, PositionEncoding::Utf16), None);
        assert_eq!(offset_in_line(s, 3, PositionEncoding::Utf16), Some(5));
        assert_eq!(
            offset_in_line(s, 99, PositionEncoding::Utf16),
            Some(s.len())
        );
        assert_eq!(offset_in_line(s, 2, PositionEncoding::Utf32), Some(5));
        assert_eq!(offset_in_line(s, 3, PositionEncoding::Utf8), None);
        assert_eq!(offset_in_line(s, 5, PositionEncoding::Utf8), Some(5));
    }
}
