//! The bridge between the two halves: it owns the state (settings, workspaces, threads,
//! active turns, open documents) and turns editor intents into app-server calls and
//! app-server events into editor UI.
//!
//! It knows the app-server client ([`crate::app_server`]) and speaks to the editor only
//! through [`EditorUi`], in plain Rust: no LSP types here.

// Every room is the crate's own; the rest of codex-lsp (and the tests) use the surface
// re-exported below.
pub(crate) mod activity;
pub(crate) mod approvals;
pub(crate) mod editor_ui;
pub(crate) mod edits;
pub(crate) mod prompts;
pub(crate) mod review;
pub(crate) mod settings;

mod account;
mod app_server_slot;
mod conversation;
mod diagnostics;
mod editor_prompts;
mod error;
mod meters;
mod picker_approvals;
mod server_requests;
mod status;
mod transcript;
mod workspace;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use crate::text::PositionEncoding;

// The bridge's surface.
pub use account::LoginMethod;
pub use activity::{display_path, one_line, Activity};
pub use conversation::turns::{AskRequest, TurnOutcome};
pub use editor_prompts::ModelOption;
pub use editor_ui::{
    ApprovalDetails, ApprovalEnded, BufferDiagnostic, BufferEdit, ChoiceAnswer, ChoicePrompt,
    EditOutcome, EditorUi, MessageLevel, RateLimitUse, RichApproval, Severity, StatusLine,
    TranscriptUpdate, TurnEventForEditor,
};
pub use edits::changes::{ChangeMark, ChangeScope, ChangesUpdate, CHANGE_CODE};
pub use edits::documents::Documents;
pub use edits::mirror::{conflict_diagnostic, ConflictChoice, CONFLICT_CODE};
pub use picker_approvals::{ApprovalOption, WaitingApproval};
pub use prompts::{
    action_prompt, finding_fix_prompt, fix_prompt, QuotedDiagnostic, Selection, ADD_TESTS,
    DOCUMENT, EXPLAIN, REFACTOR,
};
pub use review::{Finding, ReviewRequest, ReviewTarget, REVIEW_CODE};
pub use settings::{
    apply_edit_timeout, schema as settings_schema, AppServerSetting, ReviewChanges, Settings,
    SettingsSource, SettingsSources,
};
pub use transcript::chat::ChatActions;
pub use transcript::completion::MentionCompletion;

/// The approval and review text codex-lsp reads and writes, for the tests and the fuzz
/// harnesses that check it round-trips.
pub mod text_formats {
    pub use super::approvals::{
        command_message, file_message, read_command_message, read_file_diffs, summarize_changes,
    };
    pub use super::review::parse_review;
}

pub use error::{BridgeError, BridgeResult, StartError};

/// The one prefix that names codex-lsp in what the user reads.
const PREFIX: &str = "Codex: ";

/// `message` without the name prefixes some paths put in front of it ("Codex: ",
/// "codex-lsp: "), however many: an error answer carries none, as the editor adds its own
/// ("Codex: ask failed: …").
pub fn unprefixed(message: &str) -> &str {
    let mut rest = message.trim_start();
    loop {
        match rest
            .strip_prefix(PREFIX)
            .or_else(|| rest.strip_prefix("codex-lsp: "))
        {
            Some(shorter) => rest = shorter.trim_start(),
            None => return rest,
        }
    }
}

/// `message` as the user reads it in a notice codex-lsp sends on its own
/// (`window/showMessage`): named once, "Codex: …", unless it names codex-lsp or Codex itself
/// ("codex-lsp setting …", "Codex is overloaded …").
pub fn for_user(message: &str) -> String {
    let rest = unprefixed(message);
    if rest.starts_with("Codex") || rest.starts_with("codex-lsp") {
        rest.to_string()
    } else {
        format!("{PREFIX}{rest}")
    }
}

/// The bridge's parts. Each owns its state behind its own methods and lock, in its own
/// module: a line that touches a part belongs to that part's room (docs/architecture.md
/// has the table).
struct Inner {
    /// The editor, and how it counts positions: fixed at `initialize`.
    ui: Arc<dyn EditorUi>,
    encoding: PositionEncoding,
    /// Settings and workspace folders (`workspace.rs`).
    workspace: workspace::Workspace,
    /// The app-server we talk to, its generation, restart and shutdown (`app_server_slot/`).
    app_server: app_server_slot::AppServerSlot,
    /// One thread per folder (`conversation/threads.rs`): a tokio lock, held across the
    /// awaits of finding, starting or resuming a folder's thread.
    threads: tokio::sync::Mutex<conversation::threads::Threads>,
    /// Running turns, queued asks, starts in flight (`conversation/registry.rs`).
    turns: conversation::registry::TurnRegistry,
    /// What the transcript shows beyond the thread's history, per turn (`transcript/`).
    transcripts: Mutex<transcript::Transcripts>,
    /// The transcript documents kept current (`transcript/chat.rs`).
    chat: transcript::chat::ChatDocuments,
    /// Open documents and the mirror's queue (`edits/document_store.rs`).
    documents: edits::document_store::DocumentStore,
    /// Published diagnostics by document and kind (`diagnostics.rs`).
    diagnostics: diagnostics::DiagnosticsStore,
    /// The last review's findings (`review/findings.rs`).
    findings: review::Findings,
    /// Token usage and model per thread, the account's rate limits (`meters.rs`).
    meters: meters::Meters,
    /// Approvals in the code actions, prompt ids, messages reported once
    /// (`editor_prompts.rs`).
    prompts: editor_prompts::EditorPrompts,
    /// The agent's changes per turn, to keep or undo (`edits/changes/`).
    changes: edits::changes::ChangeLog,
}

/// A cheap handle on the bridge; clones share the state.
#[derive(Clone)]
pub struct Bridge {
    inner: Arc<Inner>,
}

use crate::lock;

impl Bridge {
    pub fn new(
        ui: Arc<dyn EditorUi>,
        settings: Settings,
        folders: Vec<PathBuf>,
        encoding: PositionEncoding,
    ) -> Bridge {
        Bridge {
            inner: Arc::new(Inner {
                ui,
                encoding,
                workspace: workspace::Workspace::new(settings, folders),
                documents: Default::default(),
                diagnostics: Default::default(),
                findings: Default::default(),
                meters: Default::default(),
                app_server: app_server_slot::AppServerSlot::default(),
                threads: tokio::sync::Mutex::new(conversation::threads::Threads::default()),
                turns: conversation::registry::TurnRegistry::default(),
                transcripts: Mutex::default(),
                chat: Default::default(),
                prompts: Default::default(),
                changes: edits::changes::ChangeLog::default(),
            }),
        }
    }

    pub fn encoding(&self) -> PositionEncoding {
        self.inner.encoding
    }

    /// The document mirror. Keep the guard short: never hold it across an await.
    pub fn documents(&self) -> MutexGuard<'_, Documents> {
        self.inner.documents.lock()
    }

    pub fn settings(&self) -> Settings {
        self.inner.workspace.settings()
    }

    /// New settings from the editor; a new runtime path or config restarts the app-server
    /// once no turn is running.
    pub fn update_settings(&self, settings: Settings) {
        if self.inner.workspace.update_settings(settings) {
            self.inner.app_server.restart_when_idle();
        }
    }

    pub fn folders(&self) -> Vec<PathBuf> {
        self.inner.workspace.folders()
    }

    /// The workspace folder a file belongs to (see [`Bridge::workspace_for`]).
    pub fn workspace_of(&self, path: Option<&Path>) -> Option<PathBuf> {
        self.workspace_for(path)
    }

    pub fn set_folders(&self, folders: Vec<PathBuf>) {
        self.inner.workspace.set_folders(folders);
    }

    /// Shows a message to the user (`window/showMessage`).
    pub fn show_message(&self, level: MessageLevel, message: String) {
        self.inner.ui.show_message(level, message);
    }

    /// Whether the editor shows the server only in its status line (see
    /// [`EditorUi::status_line_only`]).
    pub fn status_line_only(&self) -> bool {
        self.inner.ui.status_line_only()
    }

    /// Whether the editor drops command results (see [`EditorUi::drops_command_results`]).
    pub fn drops_command_results(&self) -> bool {
        self.inner.ui.drops_command_results()
    }

    /// Shows a message once per distinct text.
    fn report_once(&self, level: MessageLevel, message: String) {
        if self.inner.prompts.first_report(&message) {
            self.inner.ui.show_message(level, message);
        }
    }

    /// The workspace folder holding `path`, else the first folder, else `path`'s directory.
    fn workspace_for(&self, path: Option<&Path>) -> Option<PathBuf> {
        self.inner.workspace.folder_for(path)
    }

    /// `codex.status`: what is running, for the user and for bug reports.
    pub async fn status(&self) -> BridgeResult<Value> {
        let app_server = self.inner.app_server.status_json().await;
        let threads = self.inner.threads.lock().await.by_folder_json();
        let turns = self.inner.turns.status_json();
        let meters = self.meters_json().await;
        let settings = self.settings();
        Ok(json!({
            "appServer": app_server,
            "model": meters["model"],
            "tokenUsage": meters["tokenUsage"],
            "rateLimits": meters["rateLimits"],
            "rateLimitsError": meters["rateLimitsError"],
            "statusLine": meters["statusLine"],
            "workspaceFolders": self.folders().iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "threads": threads,
            "activeTurns": turns,
            "queuedAsks": self.inner.turns.queued_asks(),
            "positionEncoding": self.inner.encoding.to_string(),
            "settings": {
                "codexPath": settings.codex_path.map(|p| p.display().to_string()),
                "model": settings.model,
                "effort": settings.effort,
                "approvalPolicy": settings.approval_policy.as_wire(),
                "sandbox": settings.sandbox.as_wire(),
                "config": settings.config_overrides.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
                "streamEvents": settings.stream_events,
                "approvalTimeout": settings.approval_timeout.as_secs_f64(),
                "appServer": match &settings.app_server {
                    AppServerSetting::Spawn => "spawn".to_string(),
                    AppServerSetting::Unix(None) => "unix://".to_string(),
                    AppServerSetting::Unix(Some(p)) => format!("unix://{}", p.display()),
                    AppServerSetting::Ws { host, port } => format!("ws://{host}:{port}"),
                },
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn named_once() {
        use super::{for_user, unprefixed};
        assert_eq!(unprefixed("Codex: Codex: codex-lsp: x"), "x");
        assert_eq!(for_user("Codex: Codex: x"), "Codex: x");
        assert_eq!(for_user("the runtime"), "Codex: the runtime");
        assert_eq!(for_user("codex-lsp setting `a`"), "codex-lsp setting `a`");
        assert_eq!(for_user("Codex is overloaded"), "Codex is overloaded");
    }
}
