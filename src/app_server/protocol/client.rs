//! Client-request params and results (`initialize`, `thread/*`, `turn/*`, `review/start`, `model/list`, `account/*`).
//!
//! Field lists mirror the codex-cli 0.163.0 app-server schema definition named in each
//! type's doc (`codex app-server generate-json-schema`); `tests/schema_drift.rs` checks
//! them against the pinned runtime. Every field defaults when missing or `null`, so a
//! message never fails to decode over an absent or nulled field.

#![allow(clippy::doc_lazy_continuation)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;

// INITIALIZE

/// Schema: `InitializeParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<InitializeCapabilities>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub client_info: ClientInfo,
}

/// Schema: `ClientInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub version: String,
}

/// Client-declared capabilities negotiated during initialize.
///
/// Schema: `InitializeCapabilities`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeCapabilities {
    /// Opt into receiving experimental API methods and fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental_api: Option<bool>,
    /// Use explicit gateway OAuth login instead of automatic browser authorization. Applies to this app-server's gateway runtime; later connections cannot undo it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explicit_gateway_oauth: Option<bool>,
    /// MCP extension settings declared by the app-server client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<serde_json::Value>,
    /// Legacy opt-in for the `openai/form` MCP extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_openai_form_elicitation: Option<bool>,
    /// Exact notification method names that should be suppressed for this connection (for example `thread/started`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out_notification_methods: Option<Vec<String>>,
    /// Opt into `attestation/generate` requests for upstream `x-oai-attestation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_attestation: Option<bool>,
}

/// Schema: `InitializeResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResponse {
    /// Absolute path to the server's $CODEX_HOME directory.
    #[serde(default, deserialize_with = "null_as_default")]
    pub codex_home: String,
    /// Platform family for the running app-server target, for example `"unix"` or `"windows"`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub platform_family: String,
    /// Operating system for the running app-server target, for example `"macos"`, `"linux"`, or `"windows"`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub platform_os: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_agent: String,
}

// THREADS

/// Schema: `ThreadStartParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadStartParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<AskForApproval>,
    /// Override where approval requests are routed for review on this thread and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals_reviewer: Option<ApprovalsReviewer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_provider: Option<String>,
    /// @deprecated `friendly` and `pragmatic` no longer select a style.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personality: Option<Personality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_start_source: Option<String>,
    /// Optional client-supplied analytics source classification for this thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_source: Option<String>,
}

/// Schema: `ThreadStartResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadStartResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub approval_policy: AskForApproval,
    /// Reviewer currently used for approval requests on this thread.
    #[serde(default, deserialize_with = "null_as_default")]
    pub approvals_reviewer: ApprovalsReviewer,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cwd: String,
    /// Saved list of disabled plugin IDs. Does not yet filter plugin capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_plugin_ids: Option<Vec<String>>,
    /// Environment-native paths to instruction source files currently loaded for this thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_sources: Option<Vec<String>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model_provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Legacy sandbox policy retained for compatibility. Experimental clients should prefer `activePermissionProfile` for profile provenance.
    #[serde(default, deserialize_with = "null_as_default")]
    pub sandbox: SandboxPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread: Thread,
}

/// There are three ways to resume a thread: 1. By thread_id: load the thread from disk by thread_id and resume it. 2. By history: instantiate the thread from memory and resume it. 3. By path: load the thread from disk by path and resume it.
///
/// Schema: `ThreadResumeParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadResumeParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<AskForApproval>,
    /// Override where approval requests are routed for review on this thread and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals_reviewer: Option<ApprovalsReviewer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_instructions: Option<String>,
    /// When true, return only thread metadata and live-resume state without populating `thread.turns`. This is useful when the client plans to call `thread/turns/list` immediately after resuming. Full-history hydration is deprecated for paginated threads; use this with `thread/turns/list` and `thread/items/list` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_turns: Option<bool>,
    /// Configuration overrides for the resumed thread, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_provider: Option<String>,
    /// @deprecated `friendly` and `pragmatic` no longer select a style. Changing this does not rewrite the thread's existing instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personality: Option<Personality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
}

/// Schema: `ThreadResumeResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadResumeResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub approval_policy: AskForApproval,
    /// Reviewer currently used for approval requests on this thread.
    #[serde(default, deserialize_with = "null_as_default")]
    pub approvals_reviewer: ApprovalsReviewer,
    /// Effective collaboration mode. Absent when resuming from an older server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collaboration_mode: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cwd: String,
    /// Saved list of disabled plugin IDs. Does not yet filter plugin capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_plugin_ids: Option<Vec<String>>,
    /// Environment-native paths to instruction source files currently loaded for this thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_sources: Option<Vec<String>>,
    /// Opaque cursor for hydrating paginated items backwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_backwards_cursor: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model_provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Legacy sandbox policy retained for compatibility. Experimental clients should prefer `activePermissionProfile` for profile provenance.
    #[serde(default, deserialize_with = "null_as_default")]
    pub sandbox: SandboxPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread: Thread,
    /// Opaque cursor for hydrating paginated turns backwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns_backwards_cursor: Option<String>,
}

/// There are two ways to fork a thread: 1. By thread_id: load the thread from disk by thread_id and fork it into a new thread. 2. By path: load the thread from disk by path and fork it into a new thread.
///
/// Schema: `ThreadForkParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadForkParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<AskForApproval>,
    /// Override where approval requests are routed for review on this thread and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals_reviewer: Option<ApprovalsReviewer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral: Option<bool>,
    /// When true, return only thread metadata and live fork state without populating `thread.turns`. This is useful when the client plans to call `thread/turns/list` immediately after forking. Full-history hydration is deprecated for paginated threads; use this with `thread/turns/list` and `thread/items/list` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_turns: Option<bool>,
    /// Optional last turn id to fork through, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_turn_id: Option<String>,
    /// Configuration overrides for the forked thread, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    /// Optional client-supplied analytics source classification for this forked thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_source: Option<String>,
}

/// Schema: `ThreadForkResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadForkResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub approval_policy: AskForApproval,
    /// Reviewer currently used for approval requests on this thread.
    #[serde(default, deserialize_with = "null_as_default")]
    pub approvals_reviewer: ApprovalsReviewer,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cwd: String,
    /// Saved list of disabled plugin IDs. Does not yet filter plugin capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_plugin_ids: Option<Vec<String>>,
    /// Environment-native paths to instruction source files currently loaded for this thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_sources: Option<Vec<String>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model_provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Legacy sandbox policy retained for compatibility. Experimental clients should prefer `activePermissionProfile` for profile provenance.
    #[serde(default, deserialize_with = "null_as_default")]
    pub sandbox: SandboxPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread: Thread,
}

/// Schema: `ThreadListParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadListParams {
    /// Optional archived filter; when set to true, only archived threads are returned. If false or null, only non-archived threads are returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// Opaque pagination cursor returned by a previous call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Optional cwd filter or filters; when set, only threads whose session cwd exactly matches one of these paths are returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<serde_json::Value>,
    /// Thread IDs to exclude before applying the result limit. Up to 100 entries; invalid IDs or a larger list are rejected, never truncated. Send the same exclusions on each page. Omitted, null, or empty means no exclusions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_thread_ids: Option<Vec<String>>,
    /// Optional page size; defaults to a reasonable server-side value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Optional provider filter; when set, only sessions recorded under these providers are returned. When present but empty, includes all providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_providers: Option<Vec<String>>,
    /// Optional originator allowlist, matching any supplied value exactly. Supported by hosted backends only; the local app-server rejects a nonempty list. Omitted or empty lists leave originators unrestricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originators: Option<Vec<String>>,
    /// Optional substring filter for the extracted thread title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_term: Option<String>,
    /// Omit to include every section, set to `null` for unsectioned threads, or provide a section ID to return only threads in that section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_id: Option<String>,
    /// Optional sort direction; defaults to descending (newest first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_direction: Option<String>,
    /// Optional sort key; defaults to created_at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<String>,
    /// Optional source filter; when set, only sessions from these source kinds are returned. When omitted or empty, defaults to interactive sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_kinds: Option<Vec<String>>,
    /// If true, return from the state DB without scanning JSONL rollouts to repair thread metadata. Omitted or false preserves scan-and-repair behavior.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_state_db_only: Option<bool>,
}

/// Schema: `ThreadListResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadListResponse {
    /// Opaque cursor to pass as `cursor` when reversing `sortDirection`. This is only populated when the page contains at least one thread. Use it with the opposite `sortDirection`; for timestamp sorts it anchors at the start of the page timestamp so same-second updates are not skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backwards_cursor: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Vec<Thread>,
    /// Opaque cursor to pass to the next call to continue after the last item. if None, there are no more items to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Schema: `ThreadReadParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadReadParams {
    /// When true, include turns and their items from rollout history. Full-history hydration is deprecated for paginated threads; prefer a metadata-only read and page with `thread/turns/list` and `thread/items/list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_turns: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
}

/// Schema: `ThreadReadResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadReadResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread: Thread,
}

/// Schema: `ThreadArchiveParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadArchiveParams {
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
}

/// Schema: `ThreadSetNameParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadSetNameParams {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
}

/// Schema: `ThreadCompactStartParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadCompactStartParams {
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
}

/// Schema: `ThreadRevertParams`. History only: the app-server reverts no file (codex-lsp
/// does, from its record of the turn).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRevertParams {
    /// The turn left out of the history, with every later one.
    #[serde(default, deserialize_with = "null_as_default")]
    pub before_turn_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
}

/// Schema: `ThreadRevertResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRevertResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_backwards_cursor: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread: Thread,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns_backwards_cursor: Option<String>,
}

/// Schema: `ThreadLoadedListParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadLoadedListParams {
    /// Opaque pagination cursor returned by a previous call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Optional page size; defaults to no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// Schema: `ThreadLoadedListResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadLoadedListResponse {
    /// Thread ids for sessions currently loaded in memory.
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Vec<String>,
    /// Opaque cursor to pass to the next call to continue after the last item. if None, there are no more items to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

// TURNS

/// Schema: `TurnStartParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnStartParams {
    /// Optional client-provided context fragments keyed by an opaque source identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_context: Option<BTreeMap<String, AdditionalContextEntry>>,
    /// Override the approval policy for this turn and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<AskForApproval>,
    /// Override where approval requests are routed for review on this turn and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals_reviewer: Option<ApprovalsReviewer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_user_message_id: Option<String>,
    /// Override the working directory for this turn and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Replace this thread's disabled plugin IDs. Omitted/null preserves the list; [] clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_plugin_ids: Option<Vec<String>>,
    /// Override the reasoning effort for this turn and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<ReasoningEffort>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub input: Vec<UserInput>,
    /// Override the model for this turn and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Optional JSON Schema used to constrain the final assistant message for this turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<serde_json::Value>,
    /// ID of the turn that caused this new turn to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_turn_id: Option<String>,
    /// @deprecated `friendly` and `pragmatic` no longer select a style. Changing this does not rewrite the thread's existing instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personality: Option<Personality>,
    /// ID of the first turn in the chain of work that led to this new turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_turn_id: Option<String>,
    /// Override the sandbox policy for this turn and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_policy: Option<SandboxPolicy>,
    /// Override the service tier for this turn and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Override the service tier only when this request starts a new turn. Use "default" for standard speed. Omitted or null inherits the thread's tier. Does not change the thread's tier or a turn being steered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier_for_turn: Option<String>,
    /// Override the reasoning summary for this turn and subsequent turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<ReasoningSummary>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_output: Option<serde_json::Value>,
    /// Optional source classification for the caller that starts this turn. Ignored when this request steers an already-active turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_trigger: Option<String>,
}

/// Schema: `AdditionalContextEntry`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalContextEntry {
    #[serde(default, deserialize_with = "null_as_default")]
    pub kind: AdditionalContextKind,
    #[serde(default, deserialize_with = "null_as_default")]
    pub value: String,
}

/// Schema: `TurnStartResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnStartResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn: Turn,
}

/// Schema: `TurnSteerParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnSteerParams {
    /// Optional client-provided context fragments keyed by an opaque source identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_context: Option<BTreeMap<String, AdditionalContextEntry>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_user_message_id: Option<String>,
    /// Required active turn id precondition. The request fails when it does not match the currently active turn.
    #[serde(default, deserialize_with = "null_as_default")]
    pub expected_turn_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub input: Vec<UserInput>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
}

/// Schema: `TurnSteerResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnSteerResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `TurnInterruptParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnInterruptParams {
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `ReviewStartParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewStartParams {
    /// Where to run the review: inline (default) on the current thread or detached on a new thread (returned in `reviewThreadId`). Detached delivery is deprecated and emits `deprecationNotice`. Use `thread/start` followed by an inline review for a separate review thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<ReviewDelivery>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub target: ReviewTarget,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
}

/// Schema: `ReviewStartResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewStartResponse {
    /// Identifies the thread where the review runs.
    #[serde(default, deserialize_with = "null_as_default")]
    pub review_thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn: Turn,
}

// FILE SEARCH

/// Schema: `FuzzyFileSearchParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FuzzyFileSearchParams {
    #[serde(default, deserialize_with = "null_as_default")]
    pub query: String,
    /// The folders to search in (absolute).
    #[serde(default, deserialize_with = "null_as_default")]
    pub roots: Vec<String>,
    /// A later search with the same token cancels this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_token: Option<String>,
}

/// Schema: `FuzzyFileSearchResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FuzzyFileSearchResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub files: Vec<FuzzyFileSearchResult>,
}

/// Schema: `FuzzyFileSearchResult` (its fields are snake_case on the wire).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FuzzyFileSearchResult {
    #[serde(default, deserialize_with = "null_as_default")]
    pub file_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indices: Option<Vec<u32>>,
    /// `file` or `directory`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub match_type: String,
    /// Relative to `root`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub root: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub score: u32,
}

// MODELS

/// Schema: `ModelListParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelListParams {
    /// Opaque pagination cursor returned by a previous call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// When true, include models that are hidden from the default picker list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_hidden: Option<bool>,
    /// Optional page size; defaults to a reasonable server-side value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// Schema: `ModelListResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelListResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: Vec<Model>,
    /// Opaque cursor to pass to the next call to continue after the last item. If None, there are no more items to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Schema: `Model`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// Deprecated: use `serviceTiers` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_speed_tiers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_nux: Option<serde_json::Value>,
    /// Null when the catalog does not provide access-program metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_access_programs: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub default_reasoning_effort: ReasoningEffort,
    /// Catalog default service tier id for this model, when one is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_service_tier: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub display_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub hidden: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_modalities: Option<Vec<InputModality>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_default: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_specialty: Option<String>,
    /// Multi-agent runtime declared by this model, when available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_agent_version: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tiers: Option<Vec<serde_json::Value>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub supported_reasoning_efforts: Vec<ReasoningEffortOption>,
    /// @deprecated Always false; models no longer support personality selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_personality: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_info: Option<ModelUpgradeInfo>,
}

/// Schema: `ReasoningEffortOption`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningEffortOption {
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub reasoning_effort: ReasoningEffort,
}

/// Schema: `ModelUpgradeInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelUpgradeInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_markdown: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_link: Option<String>,
    /// Informational Unix timestamp for this upgrade's scheduled retirement, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retirement_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_copy: Option<String>,
}

// ACCOUNT

/// Schema: `GetAccountParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAccountParams {
    /// When `true`, requests a proactive token refresh before returning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<bool>,
}

/// Schema: `GetAccountResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAccountResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub requires_openai_auth: bool,
}

/// Schema: `CancelLoginAccountParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelLoginAccountParams {
    #[serde(default, deserialize_with = "null_as_default")]
    pub login_id: String,
}

/// Schema: `CancelLoginAccountResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelLoginAccountResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: CancelLoginAccountStatus,
}

// RATE LIMITS

/// Schema: `GetAccountRateLimitsParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAccountRateLimitsParams {
    /// Skip the separate reset-credit detail lookup (a background poll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_reset_credit_details: Option<bool>,
}

/// Schema: `GetAccountRateLimitsResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAccountRateLimitsResponse {
    /// Backward-compatible single-bucket view.
    #[serde(default, deserialize_with = "null_as_default")]
    pub rate_limits: RateLimitSnapshot,
}

/// Schema: `RateLimitSnapshot`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitSnapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<CreditsSnapshot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_type: Option<PlanType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<RateLimitWindow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<RateLimitWindow>,
}

/// Schema: `RateLimitWindow`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitWindow {
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub used_percent: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_duration_mins: Option<i64>,
}

/// Schema: `CreditsSnapshot`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditsSnapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub has_credits: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub unlimited: bool,
}
