//! What the bridge needs from the editor, in plain Rust. The LSP layer implements
//! [`EditorUi`] over its client socket; tests can implement it in memory.

use futures::future::BoxFuture;
use serde_json::Value;

use super::approvals::{ApprovalChoice, FileSummary};
use super::TurnOutcome;
use crate::text::{Range, TextEdit};

/// How loud a message to the user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageLevel {
    Error,
    Warning,
    Info,
}

/// A prompt with a fixed set of answers (an approval). `choices` are button titles.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoicePrompt {
    pub level: MessageLevel,
    pub message: String,
    pub choices: Vec<String>,
}

/// What became of a [`ChoicePrompt`].
#[derive(Debug, Clone, PartialEq)]
pub enum ChoiceAnswer {
    /// The user picked this choice.
    Picked(String),
    /// Dismissed or unanswered.
    Dismissed,
    /// The editor could not show the prompt (it answered with an error). `known` is true when
    /// it said it has no such method at all, so asking again is pointless.
    Unsupported { known: bool },
}

/// Minimal edits to one open buffer, valid against `version` of it. One undo step in the
/// editor, labelled so the user sees that Codex made it.
#[derive(Debug, Clone, PartialEq)]
pub struct BufferEdit {
    pub uri: String,
    pub version: i32,
    pub edits: Vec<TextEdit>,
    /// Shown by editors that label edits (`workspace/applyEdit`'s `label`).
    pub label: String,
    /// Groups every edit of one turn (a change annotation id and its label).
    pub group: Option<(String, String)>,
}

/// What the editor did with a [`BufferEdit`].
#[derive(Debug, Clone, PartialEq)]
pub enum EditOutcome {
    /// The editor says it applied the edit.
    Applied,
    /// The editor refused it (a stale version, say); the reason when it gave one.
    Rejected(Option<String>),
    /// The request failed or was not answered in time.
    Failed(String),
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

/// A diagnostic codex-lsp publishes (source `codex`).
#[derive(Debug, Clone, PartialEq)]
pub struct BufferDiagnostic {
    pub range: Range,
    pub severity: Severity,
    /// A stable machine-readable kind (`conflict`, …).
    pub code: String,
    pub message: String,
    /// Round-trips to code actions, so an action knows which diagnostic it is about.
    pub data: Value,
}

/// The editor, as the bridge sees it. Notifications are fire-and-forget; anything that
/// waits for the user returns a future the caller awaits on its own task.
pub trait EditorUi: Send + Sync + 'static {
    /// Whether the editor shows work-done progress (`window.workDoneProgress`).
    fn supports_progress(&self) -> bool;

    /// Creates the progress `token` and begins it. Resolves to false when the editor
    /// refused the token (then the caller falls back to messages).
    fn progress_begin(
        &self,
        token: String,
        title: String,
        message: String,
    ) -> BoxFuture<'static, bool>;

    fn progress_report(&self, token: &str, message: String);

    fn progress_end(&self, token: &str, message: String);

    fn show_message(&self, level: MessageLevel, message: String);

    /// Asks the user to pick one of `prompt.choices` (`window/showMessageRequest`).
    fn ask_choice(&self, prompt: ChoicePrompt) -> BoxFuture<'static, ChoiceAnswer>;

    /// Whether the editor declared `experimental.codexApprovals`.
    fn supports_rich_approvals(&self) -> bool;

    /// Whether the editor shows the server only in its status line (Helix 25.01): it prints
    /// progress tokens there (`[token] message`, so it gets short ones) and drops command
    /// results (so argument-less commands show theirs as a message).
    fn status_line_only(&self) -> bool {
        false
    }

    /// Whether the editor drops command results (Helix, kakoune-lsp): argument-less commands
    /// then show theirs as a message.
    fn drops_command_results(&self) -> bool {
        false
    }

    /// Sends a `codex/approval` request; resolves to the decision the editor answered
    /// (`None`: dismissed, no decision), or why there is none (the editor answered with an
    /// error: its prompt failed).
    fn rich_approval(
        &self,
        request: RichApproval,
    ) -> BoxFuture<'static, Result<Option<Value>, String>>;

    /// `codex/approvalEnded`: a `codex/approval` prompt no longer waits for an answer (timed
    /// out, answered elsewhere, the app-server stopped); the editor can take it down.
    fn approval_ended(&self, ended: ApprovalEnded);

    /// Opens `url` outside the editor (a browser). Resolves to whether the editor did.
    fn open_external(&self, url: String) -> BoxFuture<'static, bool>;

    /// Whether the editor takes `workspace/applyEdit` at all.
    fn supports_apply_edit(&self) -> bool;

    /// Applies edits to an open buffer (`workspace/applyEdit`), bounded in time.
    fn apply_edit(&self, edit: BufferEdit) -> BoxFuture<'static, EditOutcome>;

    /// Replaces codex-lsp's diagnostics of `uri` (an empty list clears them).
    fn publish_diagnostics(&self, uri: &str, diagnostics: Vec<BufferDiagnostic>);

    /// Whether the editor pulls diagnostics (`textDocument/diagnostic`): review findings are
    /// then answered to its pulls, not pushed.
    fn pulls_diagnostics(&self) -> bool;

    /// Asks a pulling editor to pull diagnostics again (`workspace/diagnostic/refresh`, when
    /// it supports that); nothing otherwise.
    fn refresh_diagnostics(&self);

    /// The editor's URI for a file.
    fn path_to_uri(&self, path: &std::path::Path) -> Option<String>;

    /// Shows a file in the editor without taking focus. Resolves to whether it did.
    fn show_file(&self, path: std::path::PathBuf) -> BoxFuture<'static, bool>;

    /// Opens a file in the editor and gives it focus, the cursor at `at` when given
    /// (`window/showDocument` with `takeFocus`). Resolves to whether it did.
    fn show_document(
        &self,
        _path: std::path::PathBuf,
        _at: Option<crate::text::Position>,
    ) -> BoxFuture<'static, bool> {
        Box::pin(async { false })
    }

    /// `codex/turnCompleted`: how a turn ended.
    fn turn_completed(&self, outcome: &TurnOutcome);

    /// `codex/event` with one app-server notification (only when the editor opted in).
    fn event(&self, event: TurnEventForEditor);

    /// Whether the editor declared `experimental.codexTranscript` (it displays the
    /// `codex/transcript` updates).
    fn wants_transcript(&self) -> bool {
        false
    }

    /// `codex/transcript`: a running turn's transcript changed.
    fn transcript(&self, _update: TranscriptUpdate) {}

    /// Whether the editor declared `experimental.codexStatus` (it shows `codex/status` in
    /// its status line).
    fn wants_status(&self) -> bool {
        false
    }

    /// `codex/status`: the model, the context's fill or the rate limits changed.
    fn status(&self, _status: StatusLine) {}

    /// Whether the editor draws the agent's changes itself (`experimental.codexChanges`).
    fn wants_changes(&self) -> bool {
        false
    }

    /// The marked changes of one file changed (`codex/changes`).
    fn changes(&self, _update: super::ChangesUpdate) {}
}

/// What an editor's status line shows of Codex (`codex/status`): `text` whole, or its
/// figures for an editor that lays them out itself.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusLine {
    /// "gpt-5.5 high · 43% of context · 5h 12% · weekly 40%".
    pub text: String,
    pub thread_id: Option<String>,
    pub model: Option<String>,
    pub effort: Option<String>,
    /// The thread's tokens so far.
    pub thread_tokens: Option<i64>,
    pub context_percent: Option<i64>,
    /// The rate limits' windows, as used percent ("5h", "weekly").
    pub rate_limits: Vec<RateLimitUse>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitUse {
    pub window_minutes: Option<i64>,
    pub used_percent: i64,
    /// Unix seconds.
    pub resets_at: Option<i64>,
}

/// An approval for an editor that shows it whole (`codex/approval`).
#[derive(Debug, Clone, PartialEq)]
pub struct RichApproval {
    /// Numbers the prompt, for [`ApprovalEnded`].
    pub approval_id: String,
    pub thread_id: String,
    pub turn_id: String,
    pub item_id: String,
    /// The question with the whole command or file list.
    pub message: String,
    /// How long the prompt waits before it counts as a decline.
    pub timeout: std::time::Duration,
    /// The buttons; the answer is one of their decisions.
    pub choices: Vec<ApprovalChoice>,
    pub details: ApprovalDetails,
}

/// What an approval is about.
#[derive(Debug, Clone, PartialEq)]
pub enum ApprovalDetails {
    Command {
        command: String,
        cwd: Option<String>,
        reason: Option<String>,
    },
    FileChange {
        reason: Option<String>,
        files: Vec<FileSummary>,
    },
}

/// A `codex/approval` prompt that no longer waits for an answer, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalEnded {
    pub approval_id: String,
    pub item_id: String,
    pub turn_id: String,
    pub reason: String,
}

/// One app-server notification of a followed turn, as it came (`streamEvents`).
#[derive(Debug, Clone, PartialEq)]
pub struct TurnEventForEditor {
    pub thread_id: String,
    pub turn_id: String,
    pub method: String,
    pub params: Value,
}

/// A running turn's transcript changed (`codex/transcript`): its lines from
/// `replace_from_line` on (when set) go, then `markdown` is appended (it may continue the
/// last line). The first update of a turn starts its text.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptUpdate {
    pub thread_id: String,
    pub turn_id: String,
    pub markdown: String,
    pub replace_from_line: Option<u32>,
}
