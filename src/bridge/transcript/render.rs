//! The transcript as Markdown, from the app-server's own types (`Turn`, `ThreadItem`) and
//! what codex-lsp alone knows of a turn ([`TurnNotes`]). Pure: no state, no I/O.
//!
//! Model and user text never shapes the document: prose goes into block quotes (a quote
//! closes whatever fence or heading the text opens), code into fences longer than any
//! backtick run inside, one-line labels through [`one_line`]. Control characters go.
//! Every section ends with a blank line, so sections concatenate.

use std::path::Path;

use crate::app_server::protocol as p;
use crate::bridge::activity::display_path;

/// Command output longer than this is cut: its head and tail are shown.
pub const OUTPUT_LIMIT: usize = 4_000;
/// How much of a cut output's head is kept (the rest of the limit goes to the tail).
const OUTPUT_HEAD: usize = 2_500;

/// What codex-lsp knows of a turn that the thread's history does not hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnNotes {
    /// The unsaved buffers sent with the prompt, as the user reads their paths.
    pub unsaved: Vec<String>,
    /// The files (and line ranges) the prompt's `@` mentions attached: `src/a.rs#L3-9`.
    pub attached: Vec<String>,
    /// Approvals and plan updates, each after that many of the turn's items.
    pub notes: Vec<(usize, Note)>,
    /// The thread's token usage as of the turn's end.
    pub tokens: Option<p::ThreadTokenUsage>,
}

/// Something that happened in a turn between its items.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// An approval asked (`what`: "command `ls`", "the edit of a.txt") and its answer.
    Approval { what: String, answer: String },
    /// The agent's plan as it stood at that point.
    Plan {
        explanation: Option<String>,
        steps: Vec<p::TurnPlanStep>,
    },
}

/// The whole thread: a title, then each turn.
pub fn thread(thread: &p::Thread, notes_of: impl Fn(&str) -> Option<TurnNotes>) -> Rendered {
    let title = thread
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(if thread.preview.trim().is_empty() {
            "Codex thread"
        } else {
            &thread.preview
        });
    let mut markdown = format!("# {}\n\n", one_line(title, 80));
    let mut turns = Vec::with_capacity(thread.turns.len());
    let mut line = 2;
    for t in &thread.turns {
        let notes = notes_of(&t.id).unwrap_or_default();
        let text = turn(t, &notes, Some(Path::new(&thread.cwd)));
        turns.push((t.id.clone(), line));
        line += text.matches('\n').count();
        markdown.push_str(&text);
    }
    Rendered { markdown, turns }
}

/// A rendered thread and the line (0-based) where each turn starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub markdown: String,
    pub turns: Vec<(String, usize)>,
}

/// One turn: its header, its items with the notes between them, its footer. Paths show
/// relative to `cwd` (the thread's folder).
pub fn turn(turn: &p::Turn, notes: &TurnNotes, cwd: Option<&Path>) -> String {
    let mut out = header();
    let mut first_user = true;
    for (i, item) in turn.items.iter().enumerate() {
        out.push_str(&notes_at(notes, i));
        let sent_with = match item {
            p::ThreadItem::UserMessage(_) if first_user => {
                first_user = false;
                Some(notes)
            }
            _ => None,
        };
        out.push_str(&item_section(item, sent_with, cwd));
    }
    // Notes recorded past the items the history holds land at the end.
    let end = turn.items.len();
    for (_, note) in notes.notes.iter().filter(|(at, _)| *at >= end) {
        out.push_str(&note_section(note));
    }
    out.push_str(&footer(turn, notes.tokens.as_ref()));
    out
}

/// The notes recorded after `index` items.
pub fn notes_at(notes: &TurnNotes, index: usize) -> String {
    notes
        .notes
        .iter()
        .filter(|(at, _)| *at == index)
        .map(|(_, note)| note_section(note))
        .collect()
}

/// What starts every turn.
pub fn header() -> String {
    "---\n\n".to_string()
}

/// One item; `sent_with`: the notes of the turn whose prompt this is (what went with it).
pub fn item_section(
    item: &p::ThreadItem,
    sent_with: Option<&TurnNotes>,
    cwd: Option<&Path>,
) -> String {
    use p::ThreadItem as I;
    match item {
        I::UserMessage(m) => {
            let mut text = String::new();
            for input in &m.content {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                match input {
                    p::UserInput::Text(t) => text.push_str(&t.text),
                    p::UserInput::LocalImage(i) => text.push_str(&format!("[image: {}]", i.path)),
                    p::UserInput::Image(i) => text.push_str(&format!(
                        "[image: {}]",
                        i.url.as_deref().or(i.file_id.as_deref()).unwrap_or("")
                    )),
                    p::UserInput::Mention(m) => text.push_str(&format!("[{}: {}]", m.name, m.path)),
                    p::UserInput::Skill(_) => text.push_str("[skill]"),
                    _ => text.push_str("[input codex-lsp does not show]"),
                }
            }
            let mut out = format!("### You\n\n{}\n\n", quote(&text));
            let (attached, unsaved) = sent_with
                .map(|n| (n.attached.as_slice(), n.unsaved.as_slice()))
                .unwrap_or_default();
            if !attached.is_empty() {
                let files: Vec<String> = attached.iter().map(|f| code(f)).collect();
                out.push_str(&format!("*Attached:* {}\n\n", files.join(", ")));
            }
            if !unsaved.is_empty() {
                let files: Vec<String> = unsaved.iter().map(|f| code(f)).collect();
                out.push_str(&format!("*Unsaved buffers sent:* {}\n\n", files.join(", ")));
            }
            out
        }
        I::AgentMessage(m) => agent_message(&m.text),
        I::Plan(plan) => format!("### Plan\n\n{}\n\n", quote(&plan.text)),
        I::CommandExecution(c) => command(c),
        I::FileChange(f) => file_change(f, cwd),
        I::McpToolCall(t) => format!(
            "#### Tool {} · {}\n\n",
            code(&format!("{}.{}", t.server, t.tool)),
            t.status.as_str()
        ),
        I::DynamicToolCall(_) | I::CollabAgentToolCall(_) | I::SubAgentActivity(_) => {
            format!("#### {}\n\n", one_line(item.type_name(), 60))
        }
        I::WebSearch(w) => format!("#### Web search: {}\n\n", one_line(&w.query, 200)),
        I::ImageView(_) | I::ImageGeneration(_) => {
            format!("#### {}\n\n", one_line(item.type_name(), 60))
        }
        I::EnteredReviewMode(_) => "#### Review started\n\n".into(),
        I::ExitedReviewMode(r) => format!("### Review\n\n{}\n\n", quote(&r.review)),
        I::ContextCompaction(_) => "*Context compacted.*\n\n".into(),
        // Thinking, hooks, tool plumbing: not part of the conversation.
        I::Reasoning(_) | I::HookPrompt(_) | I::FunctionCallOutput(_) | I::Sleep(_) => {
            String::new()
        }
        I::Unknown(_) => format!(
            "*An item codex-lsp does not know: {}*\n\n",
            one_line(item.type_name(), 60)
        ),
    }
}

/// The heading of the agent's reply; [`Quoter`] streams its body.
pub const REPLY_HEADING: &str = "### Codex\n\n";

/// The agent's reply, quoted.
pub fn agent_message(text: &str) -> String {
    let mut out = REPLY_HEADING.to_string();
    let mut quoter = Quoter::default();
    quoter.push(text, &mut out);
    quoter.finish(&mut out);
    out
}

/// Quotes text as it streams: the same output whatever the chunks. Each line gets `> `
/// (a blank one `>`), so the quote holds blank lines and closes whatever the text opens.
#[derive(Debug, Clone, Default)]
pub struct Quoter {
    started: bool,
    /// After a line's `>`, before its first character.
    at_line_start: bool,
}

impl Quoter {
    pub fn push(&mut self, text: &str, out: &mut String) {
        if !self.started {
            self.started = true;
            self.at_line_start = true;
            out.push('>');
        }
        for c in text.chars() {
            if c == '\n' {
                out.push_str("\n>");
                self.at_line_start = true;
            } else if hidden(c) {
                continue;
            } else {
                if self.at_line_start {
                    out.push(' ');
                    self.at_line_start = false;
                }
                out.push(c);
            }
        }
    }

    /// Ends the quote and its section.
    pub fn finish(&mut self, out: &mut String) {
        if !self.started {
            self.push("", out);
        }
        out.push_str("\n\n");
    }
}

/// `text` quoted (without the section's blank line).
pub fn quote(text: &str) -> String {
    let mut out = String::new();
    let mut quoter = Quoter::default();
    quoter.push(text, &mut out);
    out
}

fn command(c: &p::CommandExecutionItem) -> String {
    let mut facts = Vec::new();
    match c.exit_code {
        Some(code) => facts.push(format!("exit {code}")),
        None => facts.push(c.status.as_str().to_string()),
    }
    if matches!(c.status, p::CommandExecutionStatus::Declined) && c.exit_code.is_some() {
        facts.push("declined".into());
    }
    if let Some(ms) = c.duration_ms {
        facts.push(duration(ms));
    }
    let output = c.aggregated_output.as_deref().unwrap_or("");
    let (shown, cut_note) = cut_output(&clean(output));
    let mut body = format!("$ {}\n", clean(&c.command));
    body.push_str(&shown);
    let mut out = format!(
        "#### Ran · {}\n\n{}\n\n",
        facts.join(" · "),
        fenced("text", &body)
    );
    if let Some(note) = cut_note {
        out.push_str(&format!("*{note}*\n\n"));
    }
    out
}

/// `output`, or its head and tail with a note saying how much was cut.
fn cut_output(output: &str) -> (String, Option<String>) {
    if output.len() <= OUTPUT_LIMIT {
        return (output.to_string(), None);
    }
    let head_end = floor_boundary(output, OUTPUT_HEAD);
    let tail_start = ceil_boundary(output, output.len() - (OUTPUT_LIMIT - OUTPUT_HEAD));
    let cut = &output[head_end..tail_start];
    let shown = format!(
        "{}\n[… {} cut …]\n{}",
        &output[..head_end],
        size(cut.len()),
        &output[tail_start..]
    );
    let note = format!(
        "Output cut: {} of {} ({} lines) not shown.",
        size(cut.len()),
        size(output.len()),
        cut.matches('\n').count()
    );
    (shown, Some(note))
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn size(bytes: usize) -> String {
    if bytes < 10_000 {
        format!("{bytes} bytes")
    } else {
        format!("{} KB", bytes / 1000)
    }
}

fn file_change(f: &p::FileChangeItem, cwd: Option<&Path>) -> String {
    let mut out = String::new();
    for change in &f.changes {
        let kind = match &change.kind {
            p::PatchChangeKind::Add => "added".to_string(),
            p::PatchChangeKind::Delete => "deleted".to_string(),
            p::PatchChangeKind::Update {
                move_path: Some(to),
            } => format!("moved to {}", code(&display_path(to, cwd))),
            p::PatchChangeKind::Update { move_path: None } => "changed".to_string(),
            p::PatchChangeKind::Unknown(_) => "changed".to_string(),
        };
        out.push_str(&format!(
            "#### {} {kind} · {}\n\n{}\n\n",
            code(&display_path(&change.path, cwd)),
            f.status.as_str(),
            fenced("diff", &clean(&change.diff))
        ));
    }
    if f.changes.is_empty() {
        out.push_str(&format!("#### File change · {}\n\n", f.status.as_str()));
    }
    out
}

fn note_section(note: &Note) -> String {
    match note {
        Note::Approval { what, answer } => format!(
            "#### Approval: {} → {}\n\n",
            one_line(what, 200),
            one_line(answer, 60)
        ),
        Note::Plan { explanation, steps } => {
            let mut out = "#### Plan\n\n".to_string();
            if let Some(e) = explanation.as_deref().filter(|e| !e.trim().is_empty()) {
                out.push_str(&format!("{}\n\n", quote(e)));
            }
            for step in steps {
                let mark = match step.status {
                    p::TurnPlanStepStatus::Completed => "[x]",
                    _ => "[ ]",
                };
                let now = match step.status {
                    p::TurnPlanStepStatus::InProgress => " *(in progress)*",
                    _ => "",
                };
                out.push_str(&format!("- {mark} {}{now}\n", one_line(&step.step, 200)));
            }
            out.push('\n');
            out
        }
    }
}

/// The turn's end: status, duration, tokens; its error, quoted.
pub fn footer(turn: &p::Turn, tokens: Option<&p::ThreadTokenUsage>) -> String {
    let mut facts = vec![match &turn.status {
        p::TurnStatus::Unknown(s) if s.is_empty() => "ended".to_string(),
        status => status.as_str().to_string(),
    }];
    if let Some(ms) = turn.duration_ms {
        facts.push(duration(ms));
    }
    if let Some(t) = tokens {
        facts.push(format!(
            "{} tokens in the thread",
            thousands(t.total.total_tokens)
        ));
        if let Some(window) = t.model_context_window.filter(|w| *w > 0) {
            facts.push(format!(
                "{}% of context",
                (t.last.input_tokens.max(0) * 100 / window).min(100)
            ));
        }
    }
    let mut out = format!("*{}*\n\n", facts.join(" · "));
    if let Some(error) = &turn.error {
        out.push_str(&format!("**Error:**\n\n{}\n\n", quote(&error.message)));
    }
    out
}

fn duration(ms: i64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Characters that must not reach the reader: controls (terminal escapes, `\r` that
/// rewrites a line), except the tab.
fn hidden(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

/// `text` without [`hidden`] characters.
fn clean(text: &str) -> String {
    text.chars().filter(|c| !hidden(*c)).collect()
}

/// `text` on one line, at most `max` characters, as literal text (no Markdown).
pub fn one_line(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut shown: String = line.chars().take(max).collect();
    if shown.len() < line.len() {
        shown.push('…');
    }
    escape_inline(&shown)
}

/// Backslash-escapes Markdown's inline punctuation, so a label reads as typed.
fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>#!|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as inline code on one line, whatever backticks it holds.
pub fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// `body` in a fence longer than any backtick run in it.
pub fn fenced(info: &str, body: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(body).max(2) + 1);
    let newline = if body.is_empty() || body.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    format!("{fence}{info}\n{body}{newline}{fence}")
}

fn longest_backtick_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}
