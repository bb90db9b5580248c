//! Every prompt codex-lsp writes to the agent: the user's prompt plus the context they
//! pointed at ([`turn_text`]), and the prompts the code actions carry (the fixed actions,
//! "Fix: …" of another server's diagnostic, "Fix this finding"). The LSP half only puts
//! them into commands.

use crate::text::Range;

use super::review::Finding;

/// Selected text beyond this many bytes is cut (the agent can read the file itself).
pub const SELECTION_LIMIT: usize = 32 * 1024;

/// The file (and selection) an ask is about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileContext {
    /// Relative to the workspace when inside it.
    pub path: String,
    pub language_id: String,
    /// One-based, inclusive line numbers of the selection.
    pub lines: Option<(u32, u32)>,
    pub selection: Option<String>,
}

/// The prompt with its context, as sent in the turn's text input.
pub fn turn_text(prompt: &str, file: Option<&FileContext>) -> String {
    let Some(file) = file else {
        return prompt.to_string();
    };
    let mut text = prompt.trim_end().to_string();
    text.push_str("\n\n");
    match file.lines {
        Some((a, b)) if a == b => text.push_str(&format!("File: {} (line {a})", file.path)),
        Some((a, b)) => text.push_str(&format!("File: {} (lines {a}-{b})", file.path)),
        None => text.push_str(&format!("File: {}", file.path)),
    }
    if let Some(selection) = file.selection.as_deref().filter(|s| !s.trim().is_empty()) {
        let (shown, cut) = cut_at(selection, SELECTION_LIMIT);
        let fence = fence_for(shown);
        text.push_str(&format!(
            "\nSelected text:\n{fence}{}\n{shown}{}{fence}",
            file.language_id,
            if shown.ends_with('\n') { "" } else { "\n" }
        ));
        if cut {
            text.push_str(&format!("\n(selection cut at {SELECTION_LIMIT} bytes)"));
        }
    }
    text
}

/// A code fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat(longest.max(2) + 1)
}

/// The longest prefix of `text` of at most `limit` bytes, on a char boundary.
pub fn cut_at(text: &str, limit: usize) -> (&str, bool) {
    if text.len() <= limit {
        return (text, false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

/// The fixed code actions' instructions.
pub const EXPLAIN: &str = "Explain what this code does.";
pub const DOCUMENT: &str = "Write documentation comments for this code.";
pub const ADD_TESTS: &str = "Add tests for this code.";
pub const REFACTOR: &str = "Refactor this code to be clearer, keeping its behaviour.";

/// What a code action is about: a range of an open document.
pub struct Selection<'a> {
    /// Relative to the workspace when possible.
    pub display_path: &'a str,
    pub language_id: &'a str,
    pub range: Range,
    pub text: &'a str,
}

/// A diagnostic the editor has from another server, as a fix prompt quotes it.
pub struct QuotedDiagnostic<'a> {
    pub message: &'a str,
    pub source: Option<&'a str>,
    pub code: Option<String>,
    /// 0-based.
    pub line: u32,
}

/// A fixed action's prompt: the instruction, then the file, lines and selected text.
pub fn action_prompt(instruction: &str, selection: &Selection) -> String {
    format!(
        "{instruction}\n\nIn {}:{}",
        location(selection),
        selection_block(selection)
    )
}

/// "Codex: Fix: …": the diagnostic (source, message, code, line), then the selection.
pub fn fix_prompt(selection: &Selection, diagnostic: &QuotedDiagnostic) -> String {
    let mut about = diagnostic.message.to_string();
    if let Some(source) = diagnostic.source {
        about = format!("{source}: {about}");
    }
    if let Some(code) = &diagnostic.code {
        about = format!("{about} [{code}]");
    }
    format!(
        "Fix this diagnostic at {} line {}:\n{about}\n\nIn {}:{}",
        selection.display_path,
        diagnostic.line + 1,
        location(selection),
        selection_block(selection)
    )
}

/// "Fix this finding": the finding's title, body, file and lines.
pub fn finding_fix_prompt(finding: &Finding, shown_path: &str) -> String {
    let (start, end) = (
        finding.lines.start + 1,
        finding.lines.end.max(finding.lines.start + 1),
    );
    let lines = if start == end {
        format!("line {start}")
    } else {
        format!("lines {start}-{end}")
    };
    let mut prompt = format!(
        "Fix this code review finding in {shown_path} {lines}:\n\n{}",
        finding.title
    );
    if !finding.body.is_empty() {
        prompt.push_str(&format!("\n\n{}", finding.body));
    }
    prompt
}

fn location(selection: &Selection) -> String {
    let range = selection.range;
    let (start, mut end) = (range.start.line + 1, range.end.line + 1);
    // A whole-line selection (Helix's `x`) ends at the start of the next line.
    if range.end.character == 0 && end > start {
        end -= 1;
    }
    if start == end {
        format!("{} line {start}", selection.display_path)
    } else {
        format!("{} lines {start}-{end}", selection.display_path)
    }
}

fn selection_block(selection: &Selection) -> String {
    if selection.text.trim().is_empty() {
        return String::new();
    }
    let (shown, cut) = cut_at(selection.text, SELECTION_LIMIT);
    format!(
        "\n\n```{}\n{}{}```{}",
        selection.language_id,
        shown,
        if shown.ends_with('\n') { "" } else { "\n" },
        if cut { "\n(selection cut)" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_carries_file_lines_and_selection() {
        let file = FileContext {
            path: "src/lib.rs".into(),
            language_id: "rust".into(),
            lines: Some((3, 4)),
            selection: Some("fn a() {}\nlet s = \"```\";".into()),
        };
        let text = turn_text("Explain this", Some(&file));
        assert!(
            text.starts_with(
                "Explain this\n\nFile: src/lib.rs (lines 3-4)\nSelected text:\n````rust\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("\";\n````"), "{text}");
        assert_eq!(turn_text("hi", None), "hi");
    }

    #[test]
    fn a_whole_line_selection_names_its_one_line() {
        use crate::text::Position;
        let selection = Selection {
            display_path: "a.py",
            language_id: "python",
            range: Range::new(Position::new(1, 0), Position::new(2, 0)),
            text: "x = 1\n",
        };
        assert_eq!(location(&selection), "a.py line 2");
    }

    #[test]
    fn a_finding_fix_carries_the_finding() {
        let finding = Finding {
            id: "review-7".into(),
            uri: "file:///w/src/a.rs".into(),
            path: "/w/src/a.rs".into(),
            lines: 2..4,
            title: "[P1] Off by one".into(),
            body: "The loop skips the last element.".into(),
            priority: Some(1),
        };
        assert_eq!(
            finding_fix_prompt(&finding, "src/a.rs"),
            "Fix this code review finding in src/a.rs lines 3-4:\n\n[P1] Off by one\n\nThe loop skips the last element."
        );
    }

    #[test]
    fn cut_respects_char_boundaries() {
        assert_eq!(cut_at("héllo", 2), ("h", true));
        assert_eq!(cut_at("abc", 10), ("abc", false));
    }
}
