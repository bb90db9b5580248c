//! Why a bridge call failed, typed, and the one place that says it to the user.
//!
//! Paths build a [`BridgeError`] (or a [`StartError`] inside one); only `Display` here turns
//! it into words. The words never start with "Codex: ": an error answer is named by the
//! editor ("Codex: ask failed: …"), a notice by `for_user`.

use std::fmt;

/// Why a bridge call failed, in the terms the editor answers with.
#[derive(Debug)]
pub enum BridgeError {
    /// The caller's arguments are wrong; the message names the field.
    InvalidParams(String),
    /// The app-server failed the request, or was lost under it.
    AppServer(crate::app_server::Error),
    /// No app-server to ask: ours did not start, or the shared one is not reachable.
    NotStarted(StartError),
    ShuttingDown,
    /// `thread/start` answered without a thread id.
    NoThreadId,
    /// `codex.readThread` without `threadId` in a workspace that has no thread yet.
    NoThreadYet,
    /// `codex.interrupt` with no turn running.
    NoTurnRunning,
    /// `codex.steer` with no turn running.
    NoTurnToSteer,
    /// A queued ask was dropped by an interrupt before it ran.
    QueueCancelled,
    /// The app-server took no turn, on two app-servers in a row.
    TurnDidNotStart {
        seconds: f32,
    },
    /// `codex.answerApproval` for an approval that was answered, withdrawn or timed out.
    ApprovalNotWaiting {
        id: String,
        why: String,
    },
    /// `codex.answerApproval` for an id never offered; `waiting` are the ones that are.
    NoSuchApproval {
        id: String,
        waiting: Vec<String>,
    },
    /// "Take Codex's version" of a conflict whose lines changed since.
    ConflictChanged {
        uri: String,
        theirs: String,
    },
    /// The editor refused an edit (`workspace/applyEdit` answered not applied).
    EditRefused(Option<String>),
    /// An edit could not be sent or applied; the text says why.
    EditFailed(String),
    /// `codex.setModel` with a model `model/list` does not offer.
    UnknownModel {
        model: String,
        offered: Vec<String>,
    },
    /// `codex.setModel` with an effort the model does not support.
    UnsupportedEffort {
        effort: String,
        model: String,
        offered: Vec<String>,
    },
    /// `codex.installRuntime` while an install runs.
    RuntimeInstallRunning,
    /// No cache folder to install the runtime into (no `HOME`).
    NoCacheFolder,
}

pub type BridgeResult<T> = Result<T, BridgeError>;

impl From<crate::app_server::Error> for BridgeError {
    fn from(e: crate::app_server::Error) -> Self {
        BridgeError::AppServer(e)
    }
}

impl BridgeError {
    /// Whether the caller's arguments are at fault (JSON-RPC "invalid params").
    pub fn is_invalid_params(&self) -> bool {
        matches!(
            self,
            Self::InvalidParams(_) | Self::UnknownModel { .. } | Self::UnsupportedEffort { .. }
        )
    }
}

/// Why there is no app-server to talk to.
#[derive(Debug)]
pub enum StartError {
    /// No runtime found (or not the pinned one); the text says where we looked.
    Runtime(String),
    /// The runtime did not start or complete the handshake.
    Spawn(crate::app_server::Error),
    /// The settings name no socket we may connect to; the text says why.
    Endpoint(String),
    /// The shared app-server did not answer at its socket.
    Connect(crate::app_server::Error),
}

/// What the user reads when the app-server stopped: said by the error of a request it
/// took down (`why` with its stderr) and by the notice when it goes (the reason only).
pub fn app_server_stopped(why: &dyn fmt::Display) -> String {
    format!(
        "the app-server stopped ({why}). It restarts on the next request; the next ask resumes the same thread."
    )
}

/// An app-server error, said so that the user knows what to do.
fn app_server_error(f: &mut fmt::Formatter<'_>, e: &crate::app_server::Error) -> fmt::Result {
    use crate::app_server::Error;
    match e {
        Error::ServerBusy { .. } => write!(
            f,
            "Codex is overloaded and gave up retrying: {e}. Try again in a moment."
        ),
        Error::TransportClosed(closed) => f.write_str(&app_server_stopped(closed)),
        other => write!(f, "{other}"),
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Runtime(why) | Self::Endpoint(why) => f.write_str(why),
            Self::Spawn(e) => {
                f.write_str("the app-server did not start: ")?;
                app_server_error(f, e)
            }
            Self::Connect(e) => app_server_error(f, e),
        }
    }
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidParams(m) | Self::EditFailed(m) => f.write_str(m),
            Self::AppServer(e) => app_server_error(f, e),
            Self::NotStarted(e) => write!(f, "{e}"),
            Self::ShuttingDown => f.write_str("codex-lsp is shutting down"),
            Self::NoThreadId => f.write_str("the app-server answered without a thread id"),
            Self::NoThreadYet => f.write_str(
                "this workspace has no Codex thread yet; ask something first or pass `threadId`",
            ),
            Self::NoTurnRunning => f.write_str("no Codex turn is running"),
            Self::NoTurnToSteer => f.write_str("no Codex turn is running to steer; use codex.ask"),
            Self::QueueCancelled => f.write_str(QUEUE_CANCELLED),
            Self::TurnDidNotStart { seconds } => write!(
                f,
                "the Codex app-server did not start the turn within {seconds} s, twice"
            ),
            Self::ApprovalNotWaiting { id, why } => {
                write!(f, "approval {id} is no longer waiting ({why})")
            }
            Self::NoSuchApproval { id, waiting } => {
                let waiting = match waiting.is_empty() {
                    true => "none".to_string(),
                    false => waiting.join(", "),
                };
                write!(f, "there is no approval {id}; waiting: {waiting}")
            }
            Self::ConflictChanged { uri, theirs } => write!(
                f,
                "the conflicting lines of {uri} changed since; edit them by hand. Codex's version:\n{theirs}"
            ),
            Self::UnknownModel { model, offered } => write!(
                f,
                "codex.setModel: the app-server offers no model `{model}`; it offers: {}",
                offered.join(", ")
            ),
            Self::UnsupportedEffort {
                effort,
                model,
                offered,
            } => write!(
                f,
                "codex.setModel: `{model}` takes no effort `{effort}`; it takes: {}",
                offered.join(", ")
            ),
            Self::RuntimeInstallRunning => {
                f.write_str("the Codex runtime is already being installed")
            }
            Self::NoCacheFolder => f.write_str(
                "no cache folder to install the runtime into (set HOME, or CODEX_LSP_RUNTIME_DIR)",
            ),
            Self::EditRefused(reason) => write!(
                f,
                "the editor refused the edit ({}); try again",
                reason.as_deref().unwrap_or("no reason given")
            ),
        }
    }
}

/// What a queued ask is told when an interrupt cancels it.
pub const QUEUE_CANCELLED: &str =
    "the queued request was cancelled (the running turn was interrupted) and did not run";
