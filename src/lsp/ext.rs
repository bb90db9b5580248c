//! codex-lsp's own methods, beyond the LSP spec.

use serde_json::Value;

/// Sent when a turn ends, with the TurnResult in camelCase.
pub enum TurnCompleted {}

impl lsp_types::notification::Notification for TurnCompleted {
    type Params = Value;
    const METHOD: &'static str = "codex/turnCompleted";
}

/// One app-server notification of the client's turns (only with `streamEvents: true`).
pub enum CodexEvent {}

impl lsp_types::notification::Notification for CodexEvent {
    type Params = Value;
    const METHOD: &'static str = "codex/event";
}

/// A running turn's transcript changed: `{threadId, turnId, markdown, replaceFromLine?}`.
/// The turn's text loses its lines from `replaceFromLine` on (when set), then gets
/// `markdown` appended (which may continue its last line). Sent to editors declaring
/// `experimental.codexTranscript: true`; the first update of a turn starts it.
pub enum Transcript {}

impl lsp_types::notification::Notification for Transcript {
    type Params = Value;
    const METHOD: &'static str = "codex/transcript";
}

/// An approval with the full diff, for clients declaring `experimental.codexApprovals`.
/// The client answers `{decision}` with one of the offered `choices[].decision`, or
/// anything else to decline.
pub enum CodexApproval {}

impl lsp_types::request::Request for CodexApproval {
    type Params = Value;
    type Result = Value;
    const METHOD: &'static str = "codex/approval";
}

/// A `codex/approval` prompt no longer waits for an answer: `{approvalId, itemId, turnId,
/// reason}`. The editor may take the prompt down; an answer sent later is ignored.
pub enum ApprovalEnded {}

impl lsp_types::notification::Notification for ApprovalEnded {
    type Params = Value;
    const METHOD: &'static str = "codex/approvalEnded";
}

/// Registers a notification whose params are read leniently: async-lsp stops the main
/// loop on params that do not decode, and a bad notification must not kill the server.
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
