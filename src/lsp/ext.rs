//! codex-lsp's own methods, beyond the LSP spec.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bridge::{
    self, ApprovalDetails, RichApproval, TranscriptUpdate, TurnEventForEditor, TurnOutcome,
};

/// Sent when a turn ends.
pub enum TurnCompleted {}

impl lsp_types::notification::Notification for TurnCompleted {
    type Params = TurnCompletedParams;
    const METHOD: &'static str = "codex/turnCompleted";
}

/// How a turn ended, camelCase: `{threadId, turnId, status, finalResponse, items, usage,
/// error, startedAt, completedAt, durationMs, recoveredByWatchdog}`. The bridge's
/// [`TurnOutcome`] is serialised here and nowhere else (`codex.ask` with `wait` answers
/// the same params).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TurnCompletedParams(pub TurnOutcome);

/// One app-server notification of the client's turns (only with `streamEvents: true`).
pub enum CodexEvent {}

impl lsp_types::notification::Notification for CodexEvent {
    type Params = CodexEventParams;
    const METHOD: &'static str = "codex/event";
}

/// `{threadId, turnId, method, params}`: `params` are the app-server's, as they came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodexEventParams {
    pub thread_id: String,
    pub turn_id: String,
    pub method: String,
    pub params: Value,
}

impl From<TurnEventForEditor> for CodexEventParams {
    fn from(event: TurnEventForEditor) -> Self {
        Self {
            thread_id: event.thread_id,
            turn_id: event.turn_id,
            method: event.method,
            params: event.params,
        }
    }
}

/// A running turn's transcript changed. Sent to editors declaring
/// `experimental.codexTranscript: true`; the first update of a turn starts its text.
pub enum Transcript {}

impl lsp_types::notification::Notification for Transcript {
    type Params = TranscriptParams;
    const METHOD: &'static str = "codex/transcript";
}

/// `{threadId, turnId, markdown, replaceFromLine?}`: the turn's text loses its lines from
/// `replaceFromLine` on (when set), then gets `markdown` appended (which may continue its
/// last line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptParams {
    pub thread_id: String,
    pub turn_id: String,
    pub markdown: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_from_line: Option<u32>,
}

impl From<TranscriptUpdate> for TranscriptParams {
    fn from(update: TranscriptUpdate) -> Self {
        Self {
            thread_id: update.thread_id,
            turn_id: update.turn_id,
            markdown: update.markdown,
            replace_from_line: update.replace_from_line,
        }
    }
}

/// `codex/status`: what the editor's status line shows of Codex (the model and effort, the
/// context's fill, the rate limits), for clients declaring `experimental.codexStatus: true`.
/// Sent when any of it changes.
pub enum CodexStatus {}

impl lsp_types::notification::Notification for CodexStatus {
    type Params = crate::bridge::StatusLine;
    const METHOD: &'static str = "codex/status";
}

/// The agent's marked changes in one file changed. Sent to editors declaring
/// `experimental.codexChanges: true`, which draw them (gutter signs, decorations); every
/// editor gets them as diagnostics of code `codex.change` too.
pub enum Changes {}

impl lsp_types::notification::Notification for Changes {
    type Params = ChangesParams;
    const METHOD: &'static str = "codex/changes";
}

/// `{uri, path, hunks}`: every marked hunk of the file now (none: no marks left).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesParams {
    pub uri: String,
    pub path: String,
    pub hunks: Vec<ChangeHunk>,
}

/// One marked hunk: its id (what `codex.keepChange` / `codex.revertChange` take), its
/// turn, where it is now (`range`: whole lines; empty where the agent deleted lines),
/// what it did and its status (`pending` | `kept` | `reverted`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeHunk {
    pub id: String,
    pub thread_id: String,
    pub turn_id: String,
    pub turn: u32,
    pub prompt: String,
    pub range: lsp_types::Range,
    pub added: u32,
    pub removed: u32,
    pub status: String,
}

impl From<crate::bridge::ChangesUpdate> for ChangesParams {
    fn from(update: crate::bridge::ChangesUpdate) -> Self {
        Self {
            uri: update.uri,
            path: update.path.display().to_string(),
            hunks: update
                .hunks
                .into_iter()
                .map(|mark| ChangeHunk {
                    range: super::to_proto::range(mark.range()),
                    status: serde_json::to_value(mark.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    id: mark.id,
                    thread_id: mark.thread_id,
                    turn_id: mark.turn_id,
                    turn: mark.turn,
                    prompt: mark.prompt,
                    added: mark.added,
                    removed: mark.removed,
                })
                .collect(),
        }
    }
}

/// An approval with the full diff, for clients declaring `experimental.codexApprovals`.
/// The client answers `{decision}` with one of the offered `choices[].decision`, or
/// anything else to decline.
pub enum CodexApproval {}

impl lsp_types::request::Request for CodexApproval {
    type Params = CodexApprovalParams;
    type Result = Option<CodexApprovalResult>;
    const METHOD: &'static str = "codex/approval";
}

/// `codex/approval` params: what the approval is about, the question and its buttons, and
/// the command (`command`, `cwd`, `reason`) or the files (`reason`, `files`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodexApprovalParams {
    /// `command` or `fileChange`.
    pub kind: String,
    pub approval_id: String,
    pub thread_id: String,
    pub turn_id: String,
    pub item_id: String,
    pub message: String,
    pub timeout_seconds: f64,
    pub choices: Vec<ApprovalChoiceParams>,
    #[serde(flatten)]
    pub details: ApprovalDetailsParams,
}

/// One button: its title and the decision it answers (the app-server's, as it offered it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalChoiceParams {
    pub title: String,
    pub decision: Value,
}

/// The command or the files of a `codex/approval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ApprovalDetailsParams {
    Command {
        command: String,
        cwd: Option<String>,
        reason: Option<String>,
    },
    FileChange {
        reason: Option<String>,
        files: Vec<ApprovalFileParams>,
    },
}

/// A file of a file-change approval: `kind` is `add`, `delete` or `update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalFileParams {
    pub path: String,
    pub kind: String,
    pub added: usize,
    pub removed: usize,
    pub diff: String,
}

/// The client's answer to `codex/approval`; a missing or unoffered `decision` declines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CodexApprovalResult {
    #[serde(default)]
    pub decision: Option<Value>,
}

impl From<RichApproval> for CodexApprovalParams {
    fn from(approval: RichApproval) -> Self {
        let (kind, details) = match approval.details {
            ApprovalDetails::Command {
                command,
                cwd,
                reason,
            } => (
                "command",
                ApprovalDetailsParams::Command {
                    command,
                    cwd,
                    reason,
                },
            ),
            ApprovalDetails::FileChange { reason, files } => (
                "fileChange",
                ApprovalDetailsParams::FileChange {
                    reason,
                    files: files
                        .into_iter()
                        .map(|f| ApprovalFileParams {
                            path: f.path,
                            kind: f.kind,
                            added: f.added,
                            removed: f.removed,
                            diff: f.diff,
                        })
                        .collect(),
                },
            ),
        };
        Self {
            kind: kind.into(),
            approval_id: approval.approval_id,
            thread_id: approval.thread_id,
            turn_id: approval.turn_id,
            item_id: approval.item_id,
            message: approval.message,
            timeout_seconds: approval.timeout.as_secs_f64(),
            choices: approval
                .choices
                .into_iter()
                .map(|c| ApprovalChoiceParams {
                    title: c.title,
                    decision: c.decision,
                })
                .collect(),
            details,
        }
    }
}

/// A `codex/approval` prompt no longer waits for an answer: `{approvalId, itemId, turnId,
/// reason}`. The editor may take the prompt down; an answer sent later is ignored.
pub enum ApprovalEnded {}

impl lsp_types::notification::Notification for ApprovalEnded {
    type Params = ApprovalEndedParams;
    const METHOD: &'static str = "codex/approvalEnded";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalEndedParams {
    pub approval_id: String,
    pub item_id: String,
    pub turn_id: String,
    pub reason: String,
}

impl From<bridge::ApprovalEnded> for ApprovalEndedParams {
    fn from(ended: bridge::ApprovalEnded) -> Self {
        Self {
            approval_id: ended.approval_id,
            item_id: ended.item_id,
            turn_id: ended.turn_id,
            reason: ended.reason,
        }
    }
}

/// Registers a notification whose params are read leniently: async-lsp stops the main
/// loop on params that do not decode, and a bad notification must not kill the server.
/// (The one `Params = Value`: the typed params are decoded after, by [`decode`].)
pub struct Lenient<N>(std::marker::PhantomData<N>);

impl<N: lsp_types::notification::Notification> lsp_types::notification::Notification
    for Lenient<N>
{
    type Params = Value;
    const METHOD: &'static str = N::METHOD;
}

/// Decodes lenient params; the error names the method and what did not fit.
pub fn decode<N: lsp_types::notification::Notification>(
    params: Value,
) -> Result<N::Params, String> {
    serde_json::from_value(params)
        .map_err(|e| format!("ignored {} with params that do not fit: {e}", N::METHOD))
}
