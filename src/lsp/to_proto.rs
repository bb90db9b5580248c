//! Plain values (the text core's, the bridge's) as LSP types: every value codex-lsp sends
//! the editor is made here (rust-analyzer's `to_proto`).

use lsp_types::{Diagnostic, MessageType, NumberOrString};

use crate::bridge::{BufferDiagnostic, MessageLevel, Severity};
use crate::text;

pub fn position(p: text::Position) -> lsp_types::Position {
    lsp_types::Position::new(p.line, p.character)
}

pub fn range(r: text::Range) -> lsp_types::Range {
    lsp_types::Range::new(position(r.start), position(r.end))
}

pub fn text_edit(e: text::TextEdit) -> lsp_types::TextEdit {
    lsp_types::TextEdit::new(range(e.range), e.new_text)
}

pub fn encoding(e: text::PositionEncoding) -> lsp_types::PositionEncodingKind {
    match e {
        text::PositionEncoding::Utf8 => lsp_types::PositionEncodingKind::UTF8,
        text::PositionEncoding::Utf16 => lsp_types::PositionEncodingKind::UTF16,
        text::PositionEncoding::Utf32 => lsp_types::PositionEncodingKind::UTF32,
    }
}

pub fn severity(s: Severity) -> lsp_types::DiagnosticSeverity {
    match s {
        Severity::Error => lsp_types::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp_types::DiagnosticSeverity::WARNING,
        Severity::Information => lsp_types::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp_types::DiagnosticSeverity::HINT,
    }
}

pub fn message_type(level: MessageLevel) -> MessageType {
    match level {
        MessageLevel::Error => MessageType::ERROR,
        MessageLevel::Warning => MessageType::WARNING,
        MessageLevel::Info => MessageType::INFO,
    }
}

/// A bridge diagnostic as LSP's (source `codex`). Every diagnostic codex-lsp publishes,
/// answers to a pull or embeds in a code action is made here, valid for the strictest
/// client ([`check_diagnostic`]): a blank message (a model's empty finding title, say)
/// gets one, a reversed range is put in order, an empty code gets one.
pub fn diagnostic(d: BufferDiagnostic) -> Diagnostic {
    let code = if d.code.trim().is_empty() {
        "codex".to_string()
    } else {
        d.code
    };
    let message = if d.message.trim().is_empty() {
        format!("Codex marked these lines ({code}).")
    } else {
        d.message
    };
    let range = if d.range.start <= d.range.end {
        d.range
    } else {
        text::Range::new(d.range.end, d.range.start)
    };
    Diagnostic {
        range: self::range(range),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(code)),
        source: Some("codex".into()),
        message,
        data: Some(d.data),
        ..Default::default()
    }
}

/// What the strictest client asks of a diagnostic (VS Code refuses one without a message,
/// and with it the code action carrying it): a non-blank message, an ordered range, a
/// severity from the spec, non-empty source and string code.
pub fn check_diagnostic(d: &Diagnostic) -> Result<(), String> {
    if d.message.trim().is_empty() {
        return Err("message must be set (non-blank)".into());
    }
    let (start, end) = (d.range.start, d.range.end);
    if (start.line, start.character) > (end.line, end.character) {
        return Err(format!("range starts after it ends: {:?}", d.range));
    }
    if let Some(severity) = d.severity {
        let known = [
            lsp_types::DiagnosticSeverity::ERROR,
            lsp_types::DiagnosticSeverity::WARNING,
            lsp_types::DiagnosticSeverity::INFORMATION,
            lsp_types::DiagnosticSeverity::HINT,
        ];
        if !known.contains(&severity) {
            return Err(format!("severity {severity:?} is not in the spec"));
        }
    }
    if d.source.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err("source is empty".into());
    }
    if matches!(&d.code, Some(NumberOrString::String(code)) if code.trim().is_empty()) {
        return Err("code is empty".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{Position, Range};
    use proptest::prelude::*;
    use serde_json::json;

    fn severity() -> impl Strategy<Value = Severity> {
        prop::sample::select(vec![
            Severity::Error,
            Severity::Warning,
            Severity::Information,
            Severity::Hint,
        ])
    }

    proptest! {
        /// The one point every diagnostic passes: whatever the bridge (or a model's text)
        /// put in, what goes out is valid for the strictest client.
        #[test]
        fn every_diagnostic_made_is_valid(
            lines in (0u32..50, 0u32..50),
            chars in (0u32..9, 0u32..9),
            message in prop::sample::select(vec!["", " ", "\n\t", "x", "[P1] Off by one"]),
            code in prop::sample::select(vec!["", "codex.conflict", "codex.review"]),
            severity in severity(),
        ) {
            let d = diagnostic(BufferDiagnostic {
                range: Range::new(Position::new(lines.0, chars.0), Position::new(lines.1, chars.1)),
                severity,
                code: code.into(),
                message: message.into(),
                data: json!({}),
            });
            prop_assert_eq!(check_diagnostic(&d), Ok(()));
            if !message.trim().is_empty() {
                prop_assert_eq!(d.message, message);
            }
        }
    }

    #[test]
    fn the_conflict_and_finding_diagnostics_are_valid() {
        for reverting in [false, true] {
            let conflict = crate::bridge::conflict_diagnostic(
                7,
                Range::new(Position::new(1, 0), Position::new(2, 0)),
                reverting,
            );
            assert_eq!(check_diagnostic(&diagnostic(conflict)), Ok(()));
        }
        let finding = crate::bridge::Finding {
            id: "review-1".into(),
            uri: "file:///w/a.rs".into(),
            path: "/w/a.rs".into(),
            lines: 2..2,
            title: String::new(),
            body: String::new(),
            priority: None,
        };
        assert_eq!(check_diagnostic(&diagnostic(finding.diagnostic())), Ok(()));
        let empty = Diagnostic::default();
        assert!(check_diagnostic(&empty).is_err(), "the check itself bites");
    }
}
