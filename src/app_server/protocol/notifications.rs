//! Server-notification params.
//!
//! Field lists mirror the codex-cli 0.163.0 app-server schema definition named in each
//! type's doc (`codex app-server generate-json-schema`); `tests/schema_drift.rs` checks
//! them against the pinned runtime. Every field defaults when missing or `null`, so a
//! message never fails to decode over an absent or nulled field.

#![allow(clippy::doc_lazy_continuation)]

use serde::{Deserialize, Serialize};

use super::*;

/// Schema: `ErrorNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub error: TurnError,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub will_retry: bool,
}

/// Schema: `ThreadStartedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadStartedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread: Thread,
}

/// Schema: `ThreadStatusChangedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadStatusChangedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: ThreadStatus,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
}

/// Schema: `ThreadTokenUsageUpdatedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadTokenUsageUpdatedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub token_usage: ThreadTokenUsage,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `ThreadNameUpdatedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadNameUpdatedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_name: Option<String>,
}

/// Deprecated: Use `ContextCompaction` item type instead.
///
/// Schema: `ContextCompactedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextCompactedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `TurnStartedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnStartedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn: Turn,
}

/// Schema: `TurnCompletedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnCompletedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn: Turn,
}

/// Notification that the turn-level unified diff has changed. Contains the latest aggregated diff across all file changes in the turn.
///
/// Schema: `TurnDiffUpdatedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnDiffUpdatedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub diff: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `TurnPlanUpdatedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnPlanUpdatedNotification {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub plan: Vec<TurnPlanStep>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `ItemStartedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemStartedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub item: ThreadItem,
    /// Unix timestamp (in milliseconds) when this item lifecycle started.
    #[serde(default, deserialize_with = "null_as_default")]
    pub started_at_ms: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `ItemCompletedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemCompletedNotification {
    /// Unix timestamp (in milliseconds) when this item lifecycle completed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub completed_at_ms: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item: ThreadItem,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `AgentMessageDeltaNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentMessageDeltaNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `ReasoningSummaryTextDeltaNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningSummaryTextDeltaNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub summary_index: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `ReasoningTextDeltaNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningTextDeltaNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub content_index: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `CommandExecutionOutputDeltaNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecutionOutputDeltaNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Deprecated legacy notification for `apply_patch` textual output.
///
/// Schema: `FileChangeOutputDeltaNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChangeOutputDeltaNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// EXPERIMENTAL - proposed plan streaming deltas for plan items. Clients should not assume concatenated deltas match the completed plan item content.
///
/// Schema: `PlanDeltaNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanDeltaNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub turn_id: String,
}

/// Schema: `ServerRequestResolvedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerRequestResolvedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub request_id: RequestId,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
}

/// Schema: `AccountLoginCompletedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountLoginCompletedNotification {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onboarding_entrypoint: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub success: bool,
}

/// Schema: `AccountUpdatedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountUpdatedNotification {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<AuthMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_type: Option<PlanType>,
}

/// Sparse rolling rate-limit update: merge into the last `account/rateLimits/read`.
///
/// Schema: `AccountRateLimitsUpdatedNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRateLimitsUpdatedNotification {
    #[serde(default, deserialize_with = "null_as_default")]
    pub rate_limits: RateLimitSnapshot,
}

/// Schema: `WarningNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WarningNotification {
    /// Concise warning message for the user.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    /// Optional thread target when the warning applies to a specific thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
}

/// Schema: `ConfigWarningNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigWarningNotification {
    /// Optional extra guidance or error details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Optional path to the config file that triggered the warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Optional range for the error location inside the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<TextRange>,
    /// Concise summary of the warning.
    #[serde(default, deserialize_with = "null_as_default")]
    pub summary: String,
}

/// Schema: `TextRange`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextRange {
    #[serde(default, deserialize_with = "null_as_default")]
    pub end: TextPosition,
    #[serde(default, deserialize_with = "null_as_default")]
    pub start: TextPosition,
}

/// Schema: `TextPosition`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextPosition {
    /// 1-based column number (in Unicode scalar values).
    #[serde(default, deserialize_with = "null_as_default")]
    pub column: u64,
    /// 1-based line number.
    #[serde(default, deserialize_with = "null_as_default")]
    pub line: u64,
}

/// Schema: `DeprecationNoticeNotification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeprecationNoticeNotification {
    /// Optional extra guidance, such as migration steps or rationale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Concise summary of what is deprecated.
    #[serde(default, deserialize_with = "null_as_default")]
    pub summary: String,
}
