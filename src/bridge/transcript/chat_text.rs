//! The chat document's text, pure: the transcript above, the ask section at its end
//! (`## Ask Codex`, a line saying how to send, then the user's prompt), and the live
//! updates of a turn composed into one edit while an edit is in flight.
//!
//! Layout: `transcript + "\n" + ASK_HEADING + "\n\n" + ASK_HOW + "\n\n" + prompt`. The one
//! `"\n"` before the heading separates it from a transcript that ends mid-line (a reply
//! streaming), so the transcript always ends at the end of the line above the heading.

use super::live::Update;

/// The heading of the ask section: the last line that reads exactly this.
pub const ASK_HEADING: &str = "## Ask Codex";
/// The line under the heading that says how to send.
pub const ASK_HOW: &str =
    "*Write your next prompt below, then run the code action \"Codex: Send\" \
     (command `codex.sendAsk`). \"Codex: Interrupt\" stops the running turn; \"Codex: New thread\" \
     starts another.*";

/// The ask section from its heading on, holding `prompt`.
pub fn ask_section(prompt: &str) -> String {
    format!("{ASK_HEADING}\n{}{prompt}", ask_tail())
}

/// What follows the heading line in an empty ask section.
pub fn ask_tail() -> String {
    format!("\n{ASK_HOW}\n\n")
}

/// The whole document: `transcript`, then the ask section holding `prompt`.
pub fn document(transcript: &str, prompt: &str) -> String {
    format!("{transcript}\n{}", ask_section(prompt))
}

/// The user's prompt in what follows the heading line: without the how-to line, trimmed.
pub fn prompt_in(after_heading: &str) -> String {
    let kept: Vec<&str> = after_heading
        .split_inclusive('\n')
        .filter(|line| line.trim_end() != ASK_HOW)
        .collect();
    kept.concat().trim().to_string()
}

/// The prompt written in a whole document's ask section (`None`: no ask section).
pub fn prompt_of_document(text: &str) -> Option<String> {
    let at = heading_offset(text)?;
    let after = &text[at + ASK_HEADING.len()..];
    Some(prompt_in(after))
}

/// Byte offset of the ask heading's line in `text`, if it has one (the last).
fn heading_offset(text: &str) -> Option<usize> {
    let mut end = text.len();
    loop {
        let start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        if text[start..end].trim_end_matches('\r') == ASK_HEADING {
            return Some(start);
        }
        if start == 0 {
            return None;
        }
        end = start - 1;
    }
}

/// What the document still lacks of one turn: its text from `from_line` of the turn on (or,
/// without one, appended after what the document holds of it) becomes `text`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pending {
    pub from_line: Option<usize>,
    pub text: String,
}

impl Pending {
    pub fn from_update(update: &Update) -> Pending {
        Pending {
            from_line: update.replace_from_line,
            text: update.markdown.clone(),
        }
    }

    /// Adds a later update of the turn (its lines counted in the turn's text after `self`);
    /// `base_lines` is how many complete lines of the turn the document holds before
    /// `self`. Costs what the two texts cost, never the turn's whole text.
    pub fn then(&mut self, update: &Update, base_lines: usize) {
        let Some(line) = update.replace_from_line else {
            self.text.push_str(&update.markdown);
            return;
        };
        // The first line of the turn that `self.text` starts (after a partial line when it
        // appends).
        let (first, keep_line) = match self.from_line {
            Some(from) => (from, line >= from),
            None => (base_lines, line > base_lines),
        };
        if keep_line {
            let cut = line_offset(&self.text, line - first);
            self.text.truncate(cut);
        } else {
            self.from_line = Some(line);
            self.text.clear();
        }
        self.text.push_str(&update.markdown);
    }

    /// The document's complete lines of the turn once this is applied to `base_lines`.
    pub fn lines_after(&self, base_lines: usize) -> usize {
        self.from_line.unwrap_or(base_lines) + line_breaks(&self.text)
    }
}

/// Byte offset of line `line` of `text` (after its `line`-th break; the end if it has fewer).
fn line_offset(text: &str, line: usize) -> usize {
    if line == 0 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 1)
        .map_or(text.len(), |(i, _)| i + 1)
}

pub fn line_breaks(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(markdown: &str, replace_from_line: Option<usize>) -> Update {
        Update {
            markdown: markdown.into(),
            replace_from_line,
        }
    }

    /// A turn's text after `updates`, as an integration applies them one by one.
    fn applied(mut text: String, updates: &[Update]) -> String {
        for u in updates {
            if let Some(line) = u.replace_from_line {
                text.truncate(line_offset(&text, line));
            }
            text.push_str(&u.markdown);
        }
        text
    }

    /// `pending` applied to a document holding `base` of the turn.
    fn apply_pending(base: &str, pending: &Pending) -> String {
        let mut text = base.to_string();
        if let Some(line) = pending.from_line {
            text.truncate(line_offset(&text, line));
        }
        text.push_str(&pending.text);
        text
    }

    #[test]
    fn composed_updates_equal_the_updates_one_by_one() {
        let base = "---\n\n### Codex\n\n> Hel";
        let cases: Vec<Vec<Update>> = vec![
            vec![update("lo", None), update(" world\n", None)],
            vec![
                update("lo\n", None),
                update("### Codex\n\n> Hello!\n\n", Some(2)),
            ],
            vec![update("lo\n> more", None), update("> again\n", Some(5))],
            vec![update("lo\n> more\n", None), update("x", Some(6))],
            vec![
                update("a\n", Some(2)),
                update("b\n", Some(3)),
                update("c", None),
            ],
            vec![update("a\nb\nc\n", Some(2)), update("B\n", Some(3))],
            vec![update("a\nb\n", Some(3)), update("Z\n", Some(1))],
            vec![update("lo", None), update("whole\n", Some(0))],
        ];
        for updates in cases {
            let base_lines = line_breaks(base);
            let mut pending = Pending::from_update(&updates[0]);
            for u in &updates[1..] {
                pending.then(u, base_lines);
            }
            let want = applied(base.to_string(), &updates);
            assert_eq!(apply_pending(base, &pending), want, "{updates:?}");
            assert_eq!(
                pending.lines_after(base_lines),
                line_breaks(&want),
                "{updates:?}"
            );
        }
    }

    #[test]
    fn the_prompt_is_what_follows_the_how_to_line() {
        let doc = document("# T\n\n---\n\n> reply", "fix the bug\nplease\n");
        assert!(doc.contains("> reply\n## Ask Codex\n\n*Write your next prompt"));
        assert_eq!(
            prompt_of_document(&doc).as_deref(),
            Some("fix the bug\nplease")
        );
        assert_eq!(
            prompt_of_document(&document("# T\n\n", "")).as_deref(),
            Some("")
        );
        assert_eq!(prompt_of_document("# T\n\nno section\n"), None);
        // The last heading counts (one quoted in the transcript is not the section).
        let quoted = document("> ## Ask Codex\n## Ask Codex\n\nold\n", "new");
        assert_eq!(prompt_of_document(&quoted).as_deref(), Some("new"));
    }
}
