//! LSP types to and from the text core's plain types.

use crate::text;

pub fn position_from_lsp(p: lsp_types::Position) -> text::Position {
    text::Position::new(p.line, p.character)
}

pub fn range_from_lsp(r: lsp_types::Range) -> text::Range {
    text::Range::new(position_from_lsp(r.start), position_from_lsp(r.end))
}

pub fn encoding_to_lsp(e: text::PositionEncoding) -> lsp_types::PositionEncodingKind {
    match e {
        text::PositionEncoding::Utf8 => lsp_types::PositionEncodingKind::UTF8,
        text::PositionEncoding::Utf16 => lsp_types::PositionEncodingKind::UTF16,
        text::PositionEncoding::Utf32 => lsp_types::PositionEncodingKind::UTF32,
    }
}
