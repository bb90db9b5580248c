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

pub fn position_to_lsp(p: text::Position) -> lsp_types::Position {
    lsp_types::Position::new(p.line, p.character)
}

pub fn range_to_lsp(r: text::Range) -> lsp_types::Range {
    lsp_types::Range::new(position_to_lsp(r.start), position_to_lsp(r.end))
}

pub fn edit_to_lsp(e: text::TextEdit) -> lsp_types::TextEdit {
    lsp_types::TextEdit::new(range_to_lsp(e.range), e.new_text)
}

pub fn severity_to_lsp(s: crate::bridge::Severity) -> lsp_types::DiagnosticSeverity {
    use crate::bridge::Severity;
    match s {
        Severity::Error => lsp_types::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp_types::DiagnosticSeverity::WARNING,
        Severity::Information => lsp_types::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp_types::DiagnosticSeverity::HINT,
    }
}
