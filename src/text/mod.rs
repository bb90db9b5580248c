//! The pure text core: open documents, LSP position encodings, minimal edits and three-way
//! merges.
//!
//! Nothing here knows LSP types; the LSP layer converts [`Position`], [`Range`] and
//! [`TextEdit`] to and from `lsp-types`. Lines follow LSP: `\n`, `\r\n` and `\r` end a line,
//! nothing else does (not U+2028, not form feed).

mod diff;
mod document;
mod lines;
mod merge;

use std::fmt;

/// Line hunks and line spans, for records that keep hunks of their own (the agent's changes).
pub(crate) use diff::line_hunks;
pub use diff::{apply_edits, edits_between};
pub use document::Document;
pub(crate) use lines::LineTokens;
pub use merge::{merge3, merge3_edits, Conflict, Merge};

/// A zero-based line and a zero-based offset within that line, counted in the units of the
/// negotiated [`PositionEncoding`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

impl Position {
    pub const fn new(line: u32, character: u32) -> Self {
        Self { line, character }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.character)
    }
}

/// A half-open range `[start, end)` between two positions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

impl Range {
    pub const fn new(start: Position, end: Position) -> Self {
        Self { start, end }
    }

    pub const fn point(at: Position) -> Self {
        Self { start: at, end: at }
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// What `Position::character` counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PositionEncoding {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units; the LSP default.
    #[default]
    Utf16,
    /// Unicode scalar values (Rust `char`s).
    Utf32,
}

impl PositionEncoding {
    pub const ALL: [PositionEncoding; 3] = [Self::Utf8, Self::Utf16, Self::Utf32];

    /// How many units of this encoding `c` occupies.
    pub fn width(self, c: char) -> usize {
        match self {
            Self::Utf8 => c.len_utf8(),
            Self::Utf16 => c.len_utf16(),
            Self::Utf32 => 1,
        }
    }

    /// How many units of this encoding `s` occupies.
    pub fn len_of(self, s: &str) -> usize {
        match self {
            Self::Utf8 => s.len(),
            Self::Utf16 => s.chars().map(char::len_utf16).sum(),
            Self::Utf32 => s.chars().count(),
        }
    }
}

impl fmt::Display for PositionEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Utf8 => "UTF-8",
            Self::Utf16 => "UTF-16",
            Self::Utf32 => "UTF-32",
        })
    }
}

/// Replace `range` (in the document the edit applies to) with `new_text`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextEdit {
    pub range: Range,
    pub new_text: String,
}

impl TextEdit {
    pub fn new(range: Range, new_text: impl Into<String>) -> Self {
        Self {
            range,
            new_text: new_text.into(),
        }
    }
}

/// Why a position, range or edit could not be applied. Positions print as `line:character`,
/// zero-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("invalid range: start {start} is after end {end}")]
    StartAfterEnd { start: Position, end: Position },
    #[error("position {position} falls inside a character (not a {encoding} character boundary)")]
    NotCharBoundary {
        position: Position,
        encoding: PositionEncoding,
    },
    #[error("char index {index} is past the end of the document ({len} chars)")]
    CharOutOfBounds { index: usize, len: usize },
    #[error("byte offset {offset} is past the end of the document ({len} bytes)")]
    ByteOutOfBounds { offset: usize, len: usize },
    #[error("byte offset {offset} falls inside a UTF-8 sequence")]
    ByteNotCharBoundary { offset: usize },
    #[error(
        "char index {index} falls between the \\r and \\n of a line break; no position names it"
    )]
    InsideLineBreak { index: usize },
    #[error("edits overlap: {first} and {second}")]
    OverlappingEdits { first: Range, second: Range },
}
