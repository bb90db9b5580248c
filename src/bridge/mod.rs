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
pub(crate) mod changes;
pub(crate) mod documents;
pub(crate) mod editor_ui;
pub(crate) mod mirror;
pub(crate) mod prompts;
pub(crate) mod review;
pub(crate) mod settings;

mod account;
mod error;
mod picker_approvals;
mod server_requests;
mod shared;
mod threads;
mod transcript;
mod turns;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use crate::app_server::{protocol as p, Codex, SpawnOptions};
use crate::text::PositionEncoding;

// The bridge's surface.
pub use account::LoginMethod;
pub use activity::{display_path, one_line, Activity};
pub use changes::{ChangeMark, ChangeScope, ChangesUpdate, CHANGE_CODE};
pub use documents::Documents;
pub use editor_ui::{
    ApprovalDetails, ApprovalEnded, BufferDiagnostic, BufferEdit, ChoiceAnswer, ChoicePrompt,
    EditOutcome, EditorUi, MessageLevel, RichApproval, Severity, TranscriptUpdate,
    TurnEventForEditor,
};
pub use mirror::{conflict_diagnostic, ConflictChoice, CONFLICT_CODE};
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
pub use turns::{AskRequest, TurnOutcome};

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

/// One document's diagnostics, by the kind of finding that made them.
type DiagnosticsByKind = std::collections::BTreeMap<&'static str, Vec<BufferDiagnostic>>;

/// The running app-server and which incarnation it is (threads must be resumed on a new one).
struct AppServer {
    codex: Codex,
    generation: u64,
    /// Where a shared app-server listens; `None` for our own child.
    endpoint: Option<crate::app_server::Endpoint>,
}

struct Inner {
    ui: Arc<dyn EditorUi>,
    encoding: PositionEncoding,
    settings: Mutex<Settings>,
    restart_pending: Mutex<bool>,
    folders: Mutex<Vec<PathBuf>>,
    documents: Mutex<Documents>,
    /// codex-lsp's diagnostics by URI and by kind (conflicts, review findings, …): the
    /// editor gets their union, so one kind never wipes out another.
    diagnostics: Mutex<HashMap<String, DiagnosticsByKind>>,
    /// The findings of the last review.
    review: Mutex<review::ReviewState>,
    /// The agent's changes per turn, to keep or undo.
    changes: changes::ChangeLog,
    /// Woken on every `didChange`: the mirror waits for the editor's echo of its edits.
    documents_changed: tokio::sync::Notify,
    /// The mirror's job queue; its worker starts with the first job.
    mirror_jobs: Mutex<Option<tokio::sync::mpsc::UnboundedSender<mirror::MirrorJob>>>,
    app_server: tokio::sync::Mutex<Option<AppServer>>,
    generation: Mutex<u64>,
    threads: tokio::sync::Mutex<threads::Threads>,
    turns: Mutex<HashMap<String, Arc<turns::ActiveTurn>>>,
    /// The asks queued per thread behind a running turn.
    queues: Mutex<HashMap<String, turns::ThreadQueue>>,
    /// The thread slot each running ask's turn holds, by turn id.
    slots: Mutex<HashMap<String, turns::ThreadSlot>>,
    /// What the transcript shows beyond the thread's history, per turn.
    transcripts: Mutex<transcript::Transcripts>,
    /// `fileChange` items seen in `item/started`, by item id: approvals carry no paths.
    file_changes: Mutex<HashMap<String, p::FileChangeItem>>,
    /// Approvals offered in the code actions (editors without `showMessageRequest`).
    picker_approvals: Mutex<picker_approvals::PickerApprovals>,
    /// Set once the editor said it has no `window/showMessageRequest`.
    prompts_unsupported: std::sync::atomic::AtomicBool,
    /// Numbers `codex/approval` prompts (`approvalId`).
    next_prompt_id: std::sync::atomic::AtomicU64,
    /// Messages already shown, so a repeated failure reaches the editor once.
    reported: Mutex<HashSet<String>>,
    shutting_down: Mutex<bool>,
    /// What following a shared app-server needs (reconnecting, other clients' turns).
    shared: shared::SharedState,
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
        let folders = folders
            .into_iter()
            .map(|f| f.canonicalize().unwrap_or(f))
            .collect();
        Bridge {
            inner: Arc::new(Inner {
                ui,
                encoding,
                settings: Mutex::new(settings),
                restart_pending: Mutex::new(false),
                folders: Mutex::new(folders),
                documents: Mutex::new(Documents::default()),
                diagnostics: Mutex::new(HashMap::new()),
                review: Mutex::new(review::ReviewState::default()),
                changes: changes::ChangeLog::default(),
                documents_changed: tokio::sync::Notify::new(),
                mirror_jobs: Mutex::new(None),
                app_server: tokio::sync::Mutex::new(None),
                generation: Mutex::new(0),
                threads: tokio::sync::Mutex::new(threads::Threads::default()),
                turns: Mutex::new(HashMap::new()),
                queues: Mutex::default(),
                slots: Mutex::default(),
                transcripts: Mutex::default(),
                file_changes: Mutex::new(HashMap::new()),
                picker_approvals: Mutex::default(),
                prompts_unsupported: Default::default(),
                next_prompt_id: Default::default(),
                reported: Mutex::new(HashSet::new()),
                shutting_down: Mutex::new(false),
                shared: shared::SharedState::default(),
            }),
        }
    }

    pub fn encoding(&self) -> PositionEncoding {
        self.inner.encoding
    }

    /// The document mirror. Keep the guard short: never hold it across an await.
    pub fn documents(&self) -> MutexGuard<'_, Documents> {
        lock(&self.inner.documents)
    }

    pub fn settings(&self) -> Settings {
        lock(&self.inner.settings).clone()
    }

    /// New settings from the editor; a new runtime path or config restarts the app-server
    /// once no turn is running.
    pub fn update_settings(&self, settings: Settings) {
        let mut current = lock(&self.inner.settings);
        if current.needs_restart(&settings) {
            *lock(&self.inner.restart_pending) = true;
        }
        *current = settings;
    }

    pub fn folders(&self) -> Vec<PathBuf> {
        lock(&self.inner.folders).clone()
    }

    /// The workspace folder a file belongs to (see [`Bridge::workspace_for`]).
    pub fn workspace_of(&self, path: Option<&Path>) -> Option<PathBuf> {
        self.workspace_for(path)
    }

    pub fn set_folders(&self, folders: Vec<PathBuf>) {
        *lock(&self.inner.folders) = folders
            .into_iter()
            .map(|f| f.canonicalize().unwrap_or(f))
            .collect();
    }

    /// Starts the app-server without waiting for it, so `initialize` answers at once and
    /// a missing runtime is reported early.
    pub fn start_in_background(&self) {
        self.changes_load();
        let bridge = self.clone();
        tokio::spawn(async move {
            match bridge.codex().await {
                Ok((codex, _)) => bridge.adopt_last_threads(&codex).await,
                Err(e) => tracing::warn!("the app-server did not start: {e}"),
            }
        });
    }

    /// Stops the app-server. Running turns end with the transport closed.
    pub async fn shutdown(&self) {
        *lock(&self.inner.shutting_down) = true;
        let server = self.inner.app_server.lock().await.take();
        lock(&self.inner.turns).clear();
        // Running turn handles hold clones of the connection: close it so the app-server
        // goes now, not when the last handle is dropped.
        if let Some(server) = server {
            server.codex.connection().close();
        }
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

    /// Replaces the diagnostics of one `kind` on `uri` and publishes the union of all kinds.
    pub(crate) fn set_diagnostics(
        &self,
        uri: &str,
        kind: &'static str,
        diagnostics: Vec<BufferDiagnostic>,
    ) {
        let all: Vec<BufferDiagnostic> = {
            let mut by_uri = lock(&self.inner.diagnostics);
            let kinds = by_uri.entry(uri.to_string()).or_default();
            if diagnostics.is_empty() {
                if kinds.remove(kind).is_none() {
                    return;
                }
            } else {
                kinds.insert(kind, diagnostics);
            }
            let all = kinds.values().flatten().cloned().collect();
            if kinds.is_empty() {
                by_uri.remove(uri);
            }
            all
        };
        // Addressed as the editor spelled the document's URI, not as codex-lsp re-spells it.
        let address = self.documents().editor_uri(uri);
        self.inner.ui.publish_diagnostics(&address, all);
    }

    /// Shows a message once per distinct text.
    fn report_once(&self, level: MessageLevel, message: String) {
        if lock(&self.inner.reported).insert(message.clone()) {
            self.inner.ui.show_message(level, message);
        }
    }

    /// The workspace folder holding `path`, else the first folder, else `path`'s directory.
    fn workspace_for(&self, path: Option<&Path>) -> Option<PathBuf> {
        let folders = lock(&self.inner.folders).clone();
        if let Some(path) = path {
            let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            let best = folders
                .iter()
                .filter(|f| path.starts_with(f))
                .max_by_key(|f| f.components().count());
            if let Some(best) = best {
                return Some(best.clone());
            }
            if folders.is_empty() {
                return path.parent().map(Path::to_path_buf);
            }
        }
        folders
            .first()
            .cloned()
            .or_else(|| std::env::current_dir().ok())
    }

    /// The app-server, started (or restarted after a crash or a settings change) on demand;
    /// with `appServer` set to a socket, connected to instead.
    async fn codex(&self) -> BridgeResult<(Codex, u64)> {
        self.codex_or_connect(true).await
    }

    /// [`Bridge::codex`]; `report` shows a failure to the user (once per text).
    async fn codex_or_connect(&self, report: bool) -> BridgeResult<(Codex, u64)> {
        if *lock(&self.inner.shutting_down) {
            return Err(BridgeError::ShuttingDown);
        }
        let mut slot = self.inner.app_server.lock().await;
        let restart = *lock(&self.inner.restart_pending) && lock(&self.inner.turns).is_empty();
        if let Some(server) = slot.as_ref() {
            if !server.codex.connection().is_closed() && !restart {
                return Ok((server.codex.clone(), server.generation));
            }
        }
        *lock(&self.inner.restart_pending) = false;
        if let Some(old) = slot
            .take()
            .filter(|old| !old.codex.connection().is_closed())
        {
            // Settings changed: the old process (or socket) goes now, not when the last
            // clone of its connection does. Retired first, so that its watcher neither
            // reports it stopped nor reconnects it.
            *lock(&self.inner.generation) += 1;
            old.codex.connection().close();
        }
        let settings = self.settings();
        let handler = Arc::new(server_requests::Handler {
            bridge: Arc::downgrade(&self.inner),
        });
        let started = match settings.app_server.is_shared() {
            false => self.spawn_app_server(&settings, handler).await,
            true => self.connect_app_server(&settings, handler).await,
        };
        let (codex, endpoint) = match started {
            Ok(started) => started,
            Err(why) => {
                // While reconnecting, the editor has been told already: the request's
                // error carries the reason.
                if report && !self.inner.shared.is_reconnecting() {
                    self.report_once(MessageLevel::Error, why.to_string());
                }
                return Err(BridgeError::NotStarted(why));
            }
        };
        // An app-server that answers nothing for as long as a turn may stay silent is hung.
        codex
            .connection()
            .set_answer_timeout(settings::turn_silence());
        let codex = match settings::seconds_from_env(settings::ENV_TURN_SILENCE) {
            Some(silence) => {
                codex.with_watchdog(crate::app_server::Watchdog::with_silence(silence))
            }
            None => codex,
        };
        let generation = {
            let mut g = lock(&self.inner.generation);
            *g += 1;
            *g
        };
        tracing::info!(generation, version = ?codex.info().version, endpoint = ?endpoint, "app-server started");
        self.watch_app_server(codex.clone(), generation, endpoint.clone());
        let shared = endpoint.is_some();
        *slot = Some(AppServer {
            codex: codex.clone(),
            generation,
            endpoint,
        });
        drop(slot);
        if shared {
            self.follow_workspace_threads(codex.clone(), generation);
        }
        Ok((codex, generation))
    }

    /// Our own `codex app-server` child on stdio.
    async fn spawn_app_server(
        &self,
        settings: &Settings,
        handler: Arc<server_requests::Handler>,
    ) -> Result<(Codex, Option<crate::app_server::Endpoint>), StartError> {
        let runtime = crate::runtime::discover(settings.codex_path.as_deref())
            .map_err(|e| StartError::Runtime(e.to_string()))?;
        let mut options = SpawnOptions::new(runtime);
        options.config_overrides = settings.config_overrides.clone();
        options.cwd = lock(&self.inner.folders).first().cloned();
        match Codex::spawn(&options, handler).await {
            Ok(codex) => Ok((codex, None)),
            Err(e) => Err(StartError::Spawn(e)),
        }
    }

    /// Records `fileChange` items for approvals, and says so once when the app-server dies
    /// (a shared one: reconnects).
    fn watch_app_server(
        &self,
        codex: Codex,
        generation: u64,
        endpoint: Option<crate::app_server::Endpoint>,
    ) {
        let mut events = codex.connection().subscribe_method("item/started");
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let p::ServerNotification::ItemStarted(p::ItemStartedNotification {
                    item: p::ThreadItem::FileChange(item),
                    ..
                }) = event.decode()
                {
                    let Some(inner) = weak.upgrade() else { return };
                    let mut changes = lock(&inner.file_changes);
                    if changes.len() > 256 {
                        changes.clear();
                    }
                    changes.insert(item.id.clone(), item);
                }
            }
            let closed = codex.connection().wait_closed().await;
            let Some(inner) = weak.upgrade() else { return };
            let bridge = Bridge { inner };
            let current = *lock(&bridge.inner.generation) == generation;
            if current && !*lock(&bridge.inner.shutting_down) {
                if let Some(endpoint) = endpoint {
                    bridge.reconnect(endpoint, closed);
                    return;
                }
                tracing::warn!("the app-server stopped: {closed}");
                bridge.inner.ui.show_message(
                    MessageLevel::Error,
                    error::app_server_stopped(&closed.reason),
                );
            }
        });
    }

    /// `codex.status`: what is running, for the user and for bug reports.
    pub async fn status(&self) -> BridgeResult<Value> {
        let server = self.inner.app_server.lock().await;
        let app_server = match server.as_ref() {
            Some(s) if !s.codex.connection().is_closed() => json!({
                "state": "running",
                "endpoint": s.endpoint.as_ref().map_or_else(|| "spawn".to_string(), |e| e.to_string()),
                "userAgent": s.codex.info().user_agent,
                "version": s.codex.info().version.as_ref().map(|v| v.to_string()),
                "codexHome": s.codex.info().codex_home,
                "runtime": s.codex.info().runtime.as_ref().map(|r| json!({
                    "path": r.codex.display().to_string(),
                    "package": r.package(),
                    "source": r.source.name(),
                    "why": r.source.reason(),
                })),
                "generation": s.generation,
            }),
            _ if self.inner.shared.is_reconnecting() => json!({ "state": "reconnecting" }),
            Some(_) => json!({ "state": "stopped" }),
            None => json!({ "state": "not started" }),
        };
        drop(server);
        let threads = self.inner.threads.lock().await.by_folder_json();
        let turns: Vec<Value> = lock(&self.inner.turns)
            .values()
            .map(|t| json!({ "threadId": t.thread_id, "turnId": t.turn_id }))
            .collect();
        let settings = self.settings();
        Ok(json!({
            "appServer": app_server,
            "workspaceFolders": lock(&self.inner.folders).iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "threads": threads,
            "activeTurns": turns,
            "queuedAsks": self.queued_asks(),
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
