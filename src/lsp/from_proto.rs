//! LSP types as plain values (the text core's, the bridge's): everything codex-lsp reads
//! from the editor goes through here (rust-analyzer's `from_proto`).

use lsp_types::NumberOrString;

use crate::bridge::QuotedDiagnostic;
use crate::text;

pub fn position(p: lsp_types::Position) -> text::Position {
    text::Position::new(p.line, p.character)
}

pub fn range(r: lsp_types::Range) -> text::Range {
    text::Range::new(position(r.start), position(r.end))
}

/// Another server's diagnostic, as a fix prompt quotes it.
pub fn quoted_diagnostic(d: &lsp_types::Diagnostic) -> QuotedDiagnostic<'_> {
    QuotedDiagnostic {
        message: &d.message,
        source: d.source.as_deref(),
        code: d.code.as_ref().map(|code| match code {
            NumberOrString::Number(n) => n.to_string(),
            NumberOrString::String(s) => s.clone(),
        }),
        line: d.range.start.line,
    }
}
