//! What the bridge needs from the editor, in plain Rust. The LSP layer implements
//! [`EditorUi`] over its client socket; tests can implement it in memory.

use futures::future::BoxFuture;
use serde_json::Value;

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

    /// Asks the user to pick one of `prompt.choices`; `None` when dismissed, unanswered or
    /// unsupported.
    fn ask_choice(&self, prompt: ChoicePrompt) -> BoxFuture<'static, Option<String>>;

    /// Whether the editor declared `experimental.codexApprovals`.
    fn supports_rich_approvals(&self) -> bool;

    /// Sends a `codex/approval` request; resolves to the editor's answer (`None` on error).
    fn rich_approval(&self, request: Value) -> BoxFuture<'static, Option<Value>>;

    /// Opens `url` outside the editor (a browser). Resolves to whether the editor did.
    fn open_external(&self, url: String) -> BoxFuture<'static, bool>;

    /// `codex/turnCompleted` with a camelCase TurnResult.
    fn turn_completed(&self, result: Value);

    /// `codex/event` with one app-server notification (only when the editor opted in).
    fn event(&self, event: Value);
}
