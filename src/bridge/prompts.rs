//! The text of a turn: the user's prompt plus the context they pointed at.

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
    fn cut_respects_char_boundaries() {
        assert_eq!(cut_at("héllo", 2), ("h", true));
        assert_eq!(cut_at("abc", 10), ("abc", false));
    }
}
