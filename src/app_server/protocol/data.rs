//! Core data: threads, turns, items, user input, token usage.
//!
//! Field lists mirror the codex-cli 0.163.0 app-server schema definition named in each
//! type's doc (`codex app-server generate-json-schema`); `tests/schema_drift.rs` checks
//! them against the pinned runtime. Every field defaults when missing or `null`, so a
//! message never fails to decode over an absent or nulled field.

#![allow(clippy::doc_lazy_continuation)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;

// THREADS AND TURNS

/// Schema: `Thread`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    /// Optional random unique nickname assigned to an AgentControl-spawned sub-agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_nickname: Option<String>,
    /// Optional role (agent_role) assigned to an AgentControl-spawned sub-agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_role: Option<String>,
    /// Version of the CLI that created the thread.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cli_version: String,
    /// Unix timestamp (in seconds) when the thread was created.
    #[serde(default, deserialize_with = "null_as_default")]
    pub created_at: i64,
    /// Working directory captured for the thread.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cwd: String,
    /// Whether the thread is ephemeral and should not be materialized on disk.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ephemeral: bool,
    /// Source thread id when this thread was created by forking another thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from_id: Option<String>,
    /// Optional Git metadata captured when the thread was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_info: Option<GitInfo>,
    /// Persisted thread history contract selected when this thread was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_mode: Option<String>,
    /// Identifier for this thread. Codex-generated thread IDs are UUIDv7.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Current configured model when loaded, otherwise the latest persisted model. Null when unavailable. This is not per-turn execution telemetry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Model provider used for this thread (for example, 'openai').
    #[serde(default, deserialize_with = "null_as_default")]
    pub model_provider: String,
    /// Optional user-facing thread title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Originator recorded when the thread was created, independent of its current client or executor. Null when the recorded originator is unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originator: Option<String>,
    /// The ID of the parent thread. This will only be set if this thread is a subagent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_thread_id: Option<String>,
    /// [UNSTABLE] Path to the thread on disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Usually the first user message in the thread, if available.
    #[serde(default, deserialize_with = "null_as_default")]
    pub preview: String,
    /// Canonical project assignment owned by app-server, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// Current configured reasoning effort when loaded, otherwise the latest persisted effort. Null when unset or unavailable. This is not per-turn execution telemetry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Unix timestamp (in seconds) used for thread recency ordering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recency_at: Option<i64>,
    /// The independently persisted section selected for this thread, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<serde_json::Value>,
    /// Unix timestamp in seconds when the thread entered its current section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_entered_at: Option<i64>,
    /// Session id shared by threads that belong to the same session tree.
    #[serde(default, deserialize_with = "null_as_default")]
    pub session_id: String,
    /// Origin of the thread (CLI, VSCode, codex exec, codex app-server, etc.).
    #[serde(default, deserialize_with = "null_as_default")]
    pub source: serde_json::Value,
    /// Current runtime status for the thread.
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: ThreadStatus,
    /// Optional analytics source classification for this thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_source: Option<String>,
    /// Only populated on `thread/resume`, `thread/fork`, and `thread/read` (when `includeTurns` is true) responses. For all other responses and notifications returning a Thread, the turns field will be an empty list.
    #[serde(default, deserialize_with = "null_as_default")]
    pub turns: Vec<Turn>,
    /// Unix timestamp (in seconds) when the thread was last updated.
    #[serde(default, deserialize_with = "null_as_default")]
    pub updated_at: i64,
}

/// Schema: `Turn`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Turn {
    /// Unix timestamp (in seconds) when the turn completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<i64>,
    /// Duration between turn start and completion in milliseconds, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// Error associated with a failed or interrupted turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TurnError>,
    /// Identifier for this turn. Codex-generated turn IDs are UUIDv7.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Thread items currently included in this turn payload.
    #[serde(default, deserialize_with = "null_as_default")]
    pub items: Vec<ThreadItem>,
    /// Describes how much of `items` has been loaded for this turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_view: Option<TurnItemsView>,
    /// ID of the first turn in the chain of work that led to this turn. Pass this as `rootTurnId` when starting work on behalf of this turn. May be null in older history or a `review/start` response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_turn_id: Option<String>,
    /// Unix timestamp (in seconds) when the turn started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: TurnStatus,
}

/// Schema: `TurnError`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codex_error_info: Option<CodexErrorInfo>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    /// Optional public explanation and continuation instruction for a misalignment block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misalignment: Option<serde_json::Value>,
}

/// Schema: `GitInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
}

// TOKEN USAGE

/// Schema: `ThreadTokenUsage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadTokenUsage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub last: TokenUsageBreakdown,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_context_window: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub total: TokenUsageBreakdown,
}

/// Schema: `TokenUsageBreakdown`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsageBreakdown {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_input_tokens: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cached_input_tokens: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub input_tokens: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub output_tokens: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub reasoning_output_tokens: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub total_tokens: i64,
}

/// Schema: `TurnPlanStep`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnPlanStep {
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: TurnPlanStepStatus,
    #[serde(default, deserialize_with = "null_as_default")]
    pub step: String,
}

// USER INPUT

/// Schema: `UserInput` (`TextUserInput`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextInput {
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
    /// UI-defined spans within `text` used to render or persist special elements.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "text_elements"
    )]
    pub text_elements: Option<Vec<TextElement>>,
}

/// Schema: `UserInput` (`LocalImageUserInput`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalImageInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: String,
}

/// Schema: `UserInput` (`AudioUserInput`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioInput {
    #[serde(default, deserialize_with = "null_as_default")]
    pub url: String,
}

/// Schema: `UserInput` (`LocalAudioUserInput`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalAudioInput {
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: String,
}

/// Schema: `UserInput` (`SkillUserInput`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillInput {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: String,
}

/// Schema: `UserInput` (`MentionUserInput`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MentionInput {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: String,
}

/// Schema: `TextElement`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextElement {
    /// Byte range in the parent `text` buffer that this element occupies.
    #[serde(default, deserialize_with = "null_as_default")]
    pub byte_range: ByteRange,
    /// Optional human-readable placeholder for the element, displayed in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
}

/// Schema: `ByteRange`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ByteRange {
    #[serde(default, deserialize_with = "null_as_default")]
    pub end: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub start: u64,
}

// THREAD ITEMS

/// Schema: `ThreadItem` (`UserMessageThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserMessageItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: Vec<UserInput>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
}

/// Schema: `ThreadItem` (`HookPromptThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookPromptItem {
    #[serde(default, deserialize_with = "null_as_default")]
    pub fragments: Vec<HookPromptFragment>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
}

/// Schema: `HookPromptFragment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookPromptFragment {
    #[serde(default, deserialize_with = "null_as_default")]
    pub hook_run_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
}

/// Schema: `ThreadItem` (`AgentMessageThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentMessageItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_citation: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<MessagePhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<serde_json::Value>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
}

/// Schema: `ThreadItem` (`FunctionCallOutputThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCallOutputItem {
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub output: serde_json::Value,
}

/// EXPERIMENTAL - proposed plan item content. The completed plan item is authoritative and may not match the concatenation of `PlanDelta` text.
///
/// Schema: `ThreadItem` (`PlanThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanItem {
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
}

/// Schema: `ThreadItem` (`ReasoningThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<String>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Vec<String>>,
}

/// Schema: `ThreadItem` (`CommandExecutionThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecutionItem {
    /// The command's output, aggregated from stdout and stderr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregated_output: Option<String>,
    /// The command to be executed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub command: String,
    /// A best-effort parsing of the command to understand the action(s) it will perform. This returns a list of CommandAction objects because a single shell command may be composed of many commands piped together.
    #[serde(default, deserialize_with = "null_as_default")]
    pub command_actions: Vec<CommandAction>,
    /// The command's working directory.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cwd: String,
    /// The duration of the command execution in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// The command's exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Trusted first-party plugin id when this command resolves to one plugin script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_id: Option<String>,
    /// Identifier for the underlying PTY process (when available).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_id: Option<String>,
    /// Safe plugin-relative path when this command resolves to one plugin script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<CommandExecutionSource>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: CommandExecutionStatus,
}

/// Schema: `ThreadItem` (`FileChangeThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChangeItem {
    #[serde(default, deserialize_with = "null_as_default")]
    pub changes: Vec<FileUpdateChange>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: PatchApplyStatus,
}

/// Schema: `FileUpdateChange`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileUpdateChange {
    #[serde(default, deserialize_with = "null_as_default")]
    pub diff: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub kind: PatchChangeKind,
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: String,
}

/// Schema: `ThreadItem` (`McpToolCallThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpToolCallItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_context: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: serde_json::Value,
    /// The duration of the MCP tool call in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<McpToolCallError>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Legacy compatibility field; prefer `mcpAppUi.resourceUri` when available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_app_resource_uri: Option<String>,
    /// Presentation captured from the invoked descriptor; absent in older history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_app_ui: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub server: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: McpToolCallStatus,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool: String,
}

/// Schema: `McpToolCallError`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpToolCallError {
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
}

/// Schema: `ThreadItem` (`DynamicToolCallThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicToolCallItem {
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_items: Option<Vec<DynamicToolCallOutputContentItem>>,
    /// The duration of the dynamic tool call in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: DynamicToolCallStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool: String,
}

/// Schema: `ThreadItem` (`CollabAgentToolCallThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollabAgentToolCallItem {
    /// Last known status of the target agents, when available.
    #[serde(default, deserialize_with = "null_as_default")]
    pub agents_states: BTreeMap<String, serde_json::Value>,
    /// Unique identifier for this collab tool call.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Model requested for the spawned agent, when applicable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Prompt text sent as part of the collab tool call, when available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Reasoning effort requested for the spawned agent, when applicable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Thread ID of the receiving agent, when applicable. In case of spawn operation, this corresponds to the newly spawned agent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub receiver_thread_ids: Vec<String>,
    /// Thread ID of the agent issuing the collab request.
    #[serde(default, deserialize_with = "null_as_default")]
    pub sender_thread_id: String,
    /// Current status of the collab tool call.
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: serde_json::Value,
    /// Name of the collab tool that was invoked.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool: serde_json::Value,
}

/// Schema: `ThreadItem` (`SubAgentActivityThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubAgentActivityItem {
    #[serde(default, deserialize_with = "null_as_default")]
    pub agent_path: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub agent_thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub kind: serde_json::Value,
    /// Resolved model at sub-agent creation; absent from older records and other activities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Resolved reasoning effort at sub-agent creation, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
}

/// Schema: `ThreadItem` (`WebSearchThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSearchItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<WebSearchAction>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub query: String,
    /// Structured search results returned out-of-band by standalone web search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<serde_json::Value>>,
}

/// Schema: `ThreadItem` (`ImageViewThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageViewItem {
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: String,
}

/// Display item emitted by the interruptible `clock.sleep` tool.
///
/// Schema: `ThreadItem` (`SleepThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SleepItem {
    #[serde(default, deserialize_with = "null_as_default")]
    pub duration_ms: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
}

/// Schema: `ThreadItem` (`ImageGenerationThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageGenerationItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub result: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_path: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transparent_background: Option<bool>,
}

/// Entering or leaving review mode (`enteredReviewMode` / `exitedReviewMode`; same shape).
///
/// Schema: `ThreadItem` (`EnteredReviewModeThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewModeItem {
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub review: String,
}

/// Schema: `ThreadItem` (`ContextCompactionThreadItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextCompactionItem {
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
}
