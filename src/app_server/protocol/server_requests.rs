//! Server-request params and responses.
//!
//! Field lists mirror the codex-cli 0.163.0 app-server schema definition named in each
//! type's doc (`codex app-server generate-json-schema`); `tests/schema_drift.rs` checks
//! them against the pinned runtime. Every field defaults when missing or `null`, so a
//! message never fails to decode over an absent or nulled field.

#![allow(clippy::doc_lazy_continuation)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;

// item/commandExecution/requestApproval

/// Schema: `CommandExecutionRequestApprovalParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecutionRequestApprovalParams {
    /// Optional additional permissions requested for this command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_permissions: Option<serde_json::Value>,
    /// Unique identifier for this specific approval callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// Ordered list of decisions the client may present for this prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_decisions: Option<Vec<CommandExecutionApprovalDecision>>,
    /// The command to be executed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Best-effort parsed command actions for friendly display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_actions: Option<Vec<CommandAction>>,
    /// The command's working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Environment in which the command will run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    /// Kind of action under review. Defaults to `command` for older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CommandExecutionApprovalKind>,
    /// Optional context for a managed-network approval prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_approval_context: Option<NetworkApprovalContext>,
    /// Optional proposed execpolicy amendment to allow similar commands without prompting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_execpolicy_amendment: Option<Vec<String>>,
    /// Optional proposed network policy amendments (allow/deny host) for future requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_network_policy_amendments: Option<Vec<NetworkPolicyAmendment>>,
    /// Optional explanatory reason (e.g. request for network access).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Unix timestamp (in milliseconds) when this approval request started.
    #[serde(default, deserialize_with = "null_as_default")]
    pub started_at_ms: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `NetworkApprovalContext`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkApprovalContext {
    #[serde(default, deserialize_with = "null_as_default")]
    pub host: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub protocol: serde_json::Value,
}

/// Schema: `NetworkPolicyAmendment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyAmendment {
    #[serde(default, deserialize_with = "null_as_default")]
    pub action: NetworkPolicyRuleAction,
    #[serde(default, deserialize_with = "null_as_default")]
    pub host: String,
}

/// Schema: `CommandExecutionRequestApprovalResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecutionRequestApprovalResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub decision: CommandExecutionApprovalDecision,
}

// item/fileChange/requestApproval

/// Schema: `FileChangeRequestApprovalParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChangeRequestApprovalParams {
    /// [UNSTABLE] When set, the agent is asking the user to allow writes under this root for the remainder of the session (unclear if this is honored today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_root: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    /// Optional explanatory reason (e.g. request for extra write access).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Unix timestamp (in milliseconds) when this approval request started.
    #[serde(default, deserialize_with = "null_as_default")]
    pub started_at_ms: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `FileChangeRequestApprovalResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChangeRequestApprovalResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub decision: FileChangeApprovalDecision,
}

// item/tool/requestUserInput

/// EXPERIMENTAL. Params sent with a request_user_input event.
///
/// Schema: `ToolRequestUserInputParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolRequestUserInputParams {
    /// @deprecated Use `isBlocking` to decide whether the request should block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_resolution_ms: Option<u64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_blocking: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub questions: Vec<ToolRequestUserInputQuestion>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// EXPERIMENTAL. Represents one request_user_input question and its required options.
///
/// Schema: `ToolRequestUserInputQuestion`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolRequestUserInputQuestion {
    #[serde(default, deserialize_with = "null_as_default")]
    pub header: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_other: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_secret: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<ToolRequestUserInputOption>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub question: String,
}

/// EXPERIMENTAL. Defines a single selectable option for request_user_input.
///
/// Schema: `ToolRequestUserInputOption`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolRequestUserInputOption {
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub label: String,
}

/// EXPERIMENTAL. Response payload mapping question ids to answers.
///
/// Schema: `ToolRequestUserInputResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolRequestUserInputResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub answers: BTreeMap<String, ToolRequestUserInputAnswer>,
}

/// EXPERIMENTAL. Captures a user's answer to a request_user_input question.
///
/// Schema: `ToolRequestUserInputAnswer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolRequestUserInputAnswer {
    #[serde(default, deserialize_with = "null_as_default")]
    pub answers: Vec<String>,
}

// item/permissions/requestApproval

/// Schema: `PermissionsRequestApprovalParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionsRequestApprovalParams {
    #[serde(default, deserialize_with = "null_as_default")]
    pub cwd: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub permissions: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Unix timestamp (in milliseconds) when this approval request started.
    #[serde(default, deserialize_with = "null_as_default")]
    pub started_at_ms: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `PermissionsRequestApprovalResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionsRequestApprovalResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub permissions: GrantedPermissionProfile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<PermissionGrantScope>,
    /// Review every subsequent command in this turn before normal sandboxed execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict_auto_review: Option<bool>,
}

/// Schema: `GrantedPermissionProfile`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantedPermissionProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_system: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<serde_json::Value>,
}

// item/tool/call

/// Schema: `DynamicToolCallParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicToolCallParams {
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: serde_json::Value,
    #[serde(default, deserialize_with = "null_as_default")]
    pub call_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `DynamicToolCallResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicToolCallResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub content_items: Vec<DynamicToolCallOutputContentItem>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub success: bool,
}

// account/chatgptAuthTokens/refresh

/// Schema: `ChatgptAuthTokensRefreshParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatgptAuthTokensRefreshParams {
    /// Workspace/account identifier that Codex was previously using.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_account_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub reason: String,
}

/// Schema: `ChatgptAuthTokensRefreshResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatgptAuthTokensRefreshResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub access_token: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub chatgpt_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chatgpt_plan_type: Option<String>,
}

// attestation/generate

/// Schema: `AttestationGenerateResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationGenerateResponse {
    /// Opaque client attestation token.
    #[serde(default, deserialize_with = "null_as_default")]
    pub token: String,
}

// applyPatchApproval (legacy v1)

/// Schema: `ApplyPatchApprovalParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyPatchApprovalParams {
    /// Use to correlate this with [codex_protocol::protocol::PatchApplyBeginEvent] and [codex_protocol::protocol::PatchApplyEndEvent].
    #[serde(default, deserialize_with = "null_as_default")]
    pub call_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub conversation_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub file_changes: BTreeMap<String, LegacyFileChange>,
    /// When set, the agent is asking the user to allow writes under this root for the remainder of the session (unclear if this is honored today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_root: Option<String>,
    /// Optional explanatory reason (e.g. request for extra write access).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Schema: `ApplyPatchApprovalResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyPatchApprovalResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub decision: ReviewDecision,
}

// execCommandApproval (legacy v1)

/// Schema: `ExecCommandApprovalParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecCommandApprovalParams {
    /// Identifier for this specific approval callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// Use to correlate this with [codex_protocol::protocol::ExecCommandBeginEvent] and [codex_protocol::protocol::ExecCommandEndEvent].
    #[serde(default, deserialize_with = "null_as_default")]
    pub call_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub command: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub conversation_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cwd: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub parsed_cmd: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Schema: `ExecCommandApprovalResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecCommandApprovalResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub decision: ReviewDecision,
}
