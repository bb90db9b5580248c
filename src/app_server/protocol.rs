//! Wire types of `codex app-server` (codex-cli 0.163.0), the JSON-RPC-over-JSONL protocol
//! codex-lsp drives. Nothing here knows LSP.
//!
//! * Client requests: one params type per method, implementing [`ClientRequest`] (method
//!   name and result type). Serialize the params; if that gives `null` (only
//!   [`NoParams`]), omit `params`, else always send it — the server rejects a request
//!   whose all-optional params are missing (`"params": {}` is required).
//! * Server → client: [`ServerNotification::decode`] and [`ServerRequest::decode`] turn a
//!   `(method, params)` pair into a typed message; every server request must be answered
//!   ([`ServerRequest::decline`] gives the protocol's "no").
//!
//! Decoding is lenient by construction: no `deny_unknown_fields`; every struct field
//! defaults when missing or `null`; every enum keeps values it does not know in an
//! `Unknown` variant; unknown methods decode to `Unknown { method, params }`.
//! Serialization omits `None` fields and follows the schema's spelling (camelCase, with
//! the schema's own snake_case exceptions such as `text_elements`, `move_path`,
//! `execpolicy_amendment`).
//!
//! Field lists were taken from `codex app-server generate-json-schema` of the pinned
//! runtime; `tests/schema_drift.rs` re-checks them against it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

mod client;
mod data;
mod enums;
mod notifications;
mod server_requests;

pub use self::client::*;
pub use self::data::*;
pub use self::enums::*;
pub use self::notifications::*;
pub use self::server_requests::*;

/// `deserialize_with` helper: `null` decodes as the type's default (the wire sometimes
/// nulls fields the schema calls required).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A JSON-RPC request id: the server uses integers for its own requests, but the schema
/// allows strings. Schema: `RequestId`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    Integer(i64),
    String(String),
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Integer(i) => write!(f, "{i}"),
            Self::String(s) => f.write_str(s),
        }
    }
}

impl Default for RequestId {
    /// A missing id decodes as the empty string (never a real id).
    fn default() -> Self {
        Self::String(String::new())
    }
}

impl From<i64> for RequestId {
    fn from(i: i64) -> Self {
        Self::Integer(i)
    }
}

/// An object we neither read nor fill: the `{}` results of `thread/archive`,
/// `thread/name/set`, `thread/compact/start`, `turn/interrupt`, `account/logout`, and the
/// params of `attestation/generate`. Any fields present are ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyObject {}

/// Params of a method whose schema has no params (`account/logout`): serializes to
/// `null`, which means "omit `params`".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoParams;

/// A client → server request: `Self` is the params type. Sent with `Codex::send` /
/// `Connection::send`, which take the method and the retry rule from here.
pub trait ClientRequest: Serialize {
    /// The JSON-RPC method.
    const METHOD: &'static str;
    /// Whether the request can be sent again without doing anything twice, so an overload
    /// answer (-32001) is retried with backoff. Starting threads, turns, reviews or logins
    /// is not: a caller who knows better uses `Connection::retry_on_overload`.
    const SAFE_TO_REPEAT: bool;
    /// The `result` type of a successful response.
    type Response: DeserializeOwned;
}

macro_rules! client_requests {
    ($($params:ty => $method:literal, $resp:ty, $repeat:ident;)+) => {
        $(impl ClientRequest for $params {
            const METHOD: &'static str = $method;
            const SAFE_TO_REPEAT: bool = client_requests!(@repeat $repeat);
            type Response = $resp;
        })+

        /// Every client request method codex-lsp sends (for the schema-drift test).
        pub const CLIENT_REQUEST_METHODS: &[&str] = &[$($method),+];
    };
    (@repeat repeatable) => { true };
    (@repeat once) => { false };
}

// `repeatable`: a read, or a request whose second arrival changes nothing (resume, archive,
// rename, interrupt, logout, login cancel). `once`: it starts something.
client_requests! {
    InitializeParams => "initialize", InitializeResponse, once;
    ThreadStartParams => "thread/start", ThreadStartResponse, once;
    ThreadResumeParams => "thread/resume", ThreadResumeResponse, repeatable;
    ThreadForkParams => "thread/fork", ThreadForkResponse, once;
    ThreadListParams => "thread/list", ThreadListResponse, repeatable;
    ThreadReadParams => "thread/read", ThreadReadResponse, repeatable;
    ThreadArchiveParams => "thread/archive", EmptyObject, repeatable;
    ThreadSetNameParams => "thread/name/set", EmptyObject, repeatable;
    ThreadCompactStartParams => "thread/compact/start", EmptyObject, once;
    ThreadLoadedListParams => "thread/loaded/list", ThreadLoadedListResponse, repeatable;
    ThreadRevertParams => "thread/revert", ThreadRevertResponse, once;
    TurnStartParams => "turn/start", TurnStartResponse, once;
    TurnSteerParams => "turn/steer", TurnSteerResponse, once;
    TurnInterruptParams => "turn/interrupt", EmptyObject, repeatable;
    ReviewStartParams => "review/start", ReviewStartResponse, once;
    ModelListParams => "model/list", ModelListResponse, repeatable;
    FuzzyFileSearchParams => "fuzzyFileSearch", FuzzyFileSearchResponse, repeatable;
    GetAccountParams => "account/read", GetAccountResponse, repeatable;
    LoginAccountParams => "account/login/start", LoginAccountResponse, once;
    CancelLoginAccountParams => "account/login/cancel", CancelLoginAccountResponse, repeatable;
    NoParams => "account/logout", EmptyObject, repeatable;
    GetAccountRateLimitsParams => "account/rateLimits/read", GetAccountRateLimitsResponse, repeatable;
}

/// The one client notification: sent once after the `initialize` response, without params.
pub const INITIALIZED_METHOD: &str = "initialized";

/// Maps `null`/absent params to `{}` so a struct of all-optional fields still decodes.
fn params_object(params: Value) -> Value {
    if params.is_null() {
        Value::Object(Default::default())
    } else {
        params
    }
}

macro_rules! message_enum {
    (
        $(#[$m:meta])*
        $name:ident, $methods:ident {
            $( $(#[$vm:meta])* $method:literal => $var:ident($ty:ty), )+
        }
    ) => {
        $(#[$m])*
        // Messages are short-lived; boxing the big variants would only cost ergonomics.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $( $(#[$vm])* $var($ty), )+
            /// A method this build does not model.
            Unknown { method: String, params: Value },
            /// A modelled method whose params did not fit its type (wrong JSON types, not
            /// missing or extra fields, which are tolerated).
            Malformed { method: String, params: Value, error: String },
        }

        /// The methods [`
        #[doc = stringify!($name)]
        /// `] models.
        pub const $methods: &[&str] = &[$($method),+];

        impl $name {
            /// Decodes a message from its method and raw params (`Value::Null` when absent,
            /// which is kept as `{}`). Never fails: see `Unknown` and `Malformed`.
            pub fn decode(method: &str, params: Value) -> Self {
                let params = params_object(params);
                match method {
                    $( $method => match <$ty>::deserialize(&params) {
                        Ok(p) => Self::$var(p),
                        Err(e) => Self::Malformed {
                            method: method.to_owned(),
                            params,
                            error: e.to_string(),
                        },
                    }, )+
                    _ => Self::Unknown { method: method.to_owned(), params },
                }
            }

            /// Decodes from borrowed raw params (`None` when absent).
            pub fn decode_raw(method: &str, params: Option<&serde_json::value::RawValue>) -> Self {
                let value = match params.map(|p| serde_json::from_str::<Value>(p.get())) {
                    None => Value::Null,
                    Some(Ok(v)) => v,
                    Some(Err(e)) => {
                        return Self::Malformed {
                            method: method.to_owned(),
                            params: Value::Null,
                            error: e.to_string(),
                        }
                    }
                };
                Self::decode(method, value)
            }

            /// The JSON-RPC method.
            pub fn method(&self) -> &str {
                match self {
                    $( Self::$var(_) => $method, )+
                    Self::Unknown { method, .. } | Self::Malformed { method, .. } => method,
                }
            }

            /// Whether the method is one this build models (decoded or malformed).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown { .. })
            }
        }
    };
}

message_enum! {
    /// A server → client notification.
    ServerNotification, SERVER_NOTIFICATION_METHODS {
        /// A turn error; `willRetry: false` means the turn will end `failed`.
        "error" => Error(ErrorNotification),
        "thread/started" => ThreadStarted(ThreadStartedNotification),
        "thread/status/changed" => ThreadStatusChanged(ThreadStatusChangedNotification),
        "thread/tokenUsage/updated" => ThreadTokenUsageUpdated(ThreadTokenUsageUpdatedNotification),
        "thread/name/updated" => ThreadNameUpdated(ThreadNameUpdatedNotification),
        /// Deprecated in favour of the `contextCompaction` item.
        "thread/compacted" => ThreadCompacted(ContextCompactedNotification),
        "turn/started" => TurnStarted(TurnStartedNotification),
        "turn/completed" => TurnCompleted(TurnCompletedNotification),
        /// A whole-turn diff snapshot: replace, never append.
        "turn/diff/updated" => TurnDiffUpdated(TurnDiffUpdatedNotification),
        "turn/plan/updated" => TurnPlanUpdated(TurnPlanUpdatedNotification),
        "item/started" => ItemStarted(ItemStartedNotification),
        "item/completed" => ItemCompleted(ItemCompletedNotification),
        "item/agentMessage/delta" => AgentMessageDelta(AgentMessageDeltaNotification),
        "item/reasoning/summaryTextDelta" => ReasoningSummaryTextDelta(ReasoningSummaryTextDeltaNotification),
        "item/reasoning/textDelta" => ReasoningTextDelta(ReasoningTextDeltaNotification),
        "item/commandExecution/outputDelta" => CommandExecutionOutputDelta(CommandExecutionOutputDeltaNotification),
        /// Deprecated; the 0.163.0 server no longer emits it.
        "item/fileChange/outputDelta" => FileChangeOutputDelta(FileChangeOutputDeltaNotification),
        "item/plan/delta" => PlanDelta(PlanDeltaNotification),
        /// Follows the client's answer to a server request.
        "serverRequest/resolved" => ServerRequestResolved(ServerRequestResolvedNotification),
        "account/login/completed" => AccountLoginCompleted(AccountLoginCompletedNotification),
        "account/updated" => AccountUpdated(AccountUpdatedNotification),
        /// Sparse: merge into the last `account/rateLimits/read`.
        "account/rateLimits/updated" => AccountRateLimitsUpdated(AccountRateLimitsUpdatedNotification),
        "warning" => Warning(WarningNotification),
        "configWarning" => ConfigWarning(ConfigWarningNotification),
        "deprecationNotice" => DeprecationNotice(DeprecationNoticeNotification),
    }
}

message_enum! {
    /// A server → client request. Every one must be answered, with a result or an error.
    ServerRequest, SERVER_REQUEST_METHODS {
        /// Carries no paths or diff: correlate by `itemId` with the `fileChange` item.
        "item/fileChange/requestApproval" => FileChangeApproval(FileChangeRequestApprovalParams),
        "item/commandExecution/requestApproval" => CommandExecutionApproval(CommandExecutionRequestApprovalParams),
        "item/tool/requestUserInput" => ToolRequestUserInput(ToolRequestUserInputParams),
        "mcpServer/elicitation/request" => McpServerElicitation(McpServerElicitationRequestParams),
        "item/permissions/requestApproval" => PermissionsApproval(PermissionsRequestApprovalParams),
        "item/tool/call" => DynamicToolCall(DynamicToolCallParams),
        "account/chatgptAuthTokens/refresh" => ChatgptAuthTokensRefresh(ChatgptAuthTokensRefreshParams),
        "attestation/generate" => AttestationGenerate(EmptyObject),
        "applyPatchApproval" => ApplyPatchApproval(ApplyPatchApprovalParams),
        "execCommandApproval" => ExecCommandApproval(ExecCommandApprovalParams),
    }
}

/// How to answer a server request: a JSON-RPC `result` or `error`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Result(Value),
    Error { code: i64, message: String },
}

/// JSON-RPC "method not found".
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC "invalid params".
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC "internal error".
pub const INTERNAL_ERROR: i64 = -32603;

fn to_result<T: Serialize>(t: T) -> Reply {
    Reply::Result(serde_json::to_value(t).expect("wire types serialize"))
}

impl ServerRequest {
    /// The protocol's "no" to this request: what to answer when the user declines, or when
    /// nobody can answer (no editor UI, shutdown). Requests with no natural "no"
    /// (token refresh, attestation) and unmodelled ones get a JSON-RPC error.
    pub fn decline(&self) -> Reply {
        match self {
            Self::FileChangeApproval(_) => to_result(FileChangeRequestApprovalResponse::decline()),
            Self::CommandExecutionApproval(_) => {
                to_result(CommandExecutionRequestApprovalResponse::decline())
            }
            Self::ToolRequestUserInput(_) => to_result(ToolRequestUserInputResponse::decline()),
            Self::McpServerElicitation(_) => {
                to_result(McpServerElicitationRequestResponse::decline())
            }
            Self::PermissionsApproval(_) => {
                to_result(PermissionsRequestApprovalResponse::decline())
            }
            Self::DynamicToolCall(_) => to_result(DynamicToolCallResponse::decline(
                "codex-lsp does not provide dynamic tools",
            )),
            Self::ApplyPatchApproval(_) => to_result(ApplyPatchApprovalResponse::decline()),
            Self::ExecCommandApproval(_) => to_result(ExecCommandApprovalResponse::decline()),
            Self::ChatgptAuthTokensRefresh(_) => Reply::Error {
                code: INTERNAL_ERROR,
                message: "codex-lsp does not manage external ChatGPT auth tokens".into(),
            },
            Self::AttestationGenerate(_) => Reply::Error {
                code: INTERNAL_ERROR,
                message: "codex-lsp cannot generate attestations".into(),
            },
            Self::Malformed { method, error, .. } => Reply::Error {
                code: INVALID_PARAMS,
                message: format!("codex-lsp could not read `{method}` params: {error}"),
            },
            Self::Unknown { method, .. } => Reply::Error {
                code: METHOD_NOT_FOUND,
                message: format!("codex-lsp does not handle `{method}`"),
            },
        }
    }

    /// The thread the request belongs to, when it names one.
    pub fn thread_id(&self) -> Option<&str> {
        match self {
            Self::FileChangeApproval(p) => Some(&p.thread_id),
            Self::CommandExecutionApproval(p) => Some(&p.thread_id),
            Self::ToolRequestUserInput(p) => Some(&p.thread_id),
            Self::McpServerElicitation(p) => Some(&p.thread_id),
            Self::PermissionsApproval(p) => Some(&p.thread_id),
            Self::DynamicToolCall(p) => Some(&p.thread_id),
            Self::ApplyPatchApproval(p) => Some(&p.conversation_id),
            Self::ExecCommandApproval(p) => Some(&p.conversation_id),
            Self::ChatgptAuthTokensRefresh(_)
            | Self::AttestationGenerate(_)
            | Self::Malformed { .. }
            | Self::Unknown { .. } => None,
        }
    }
}

impl FileChangeRequestApprovalResponse {
    /// `{"decision": "decline"}`: the item ends `declined`, the turn goes on.
    pub fn decline() -> Self {
        Self {
            decision: FileChangeApprovalDecision::Decline,
        }
    }
}

impl CommandExecutionRequestApprovalResponse {
    /// `{"decision": "decline"}`: the command does not run, the turn goes on. (Valid per the
    /// response schema even when the request's `availableDecisions` does not list it.)
    pub fn decline() -> Self {
        Self {
            decision: CommandExecutionApprovalDecision::Decline,
        }
    }
}

impl ToolRequestUserInputResponse {
    /// `{"answers": {}}`: no answer to any question.
    pub fn decline() -> Self {
        Self::default()
    }
}

impl McpServerElicitationRequestResponse {
    /// `{"action": "decline"}` (no `content`).
    pub fn decline() -> Self {
        Self {
            action: McpServerElicitationAction::Decline,
            content: None,
            meta: None,
        }
    }
}

impl PermissionsRequestApprovalResponse {
    /// `{"permissions": {}, "scope": "turn"}`: grant nothing, for this turn only.
    pub fn decline() -> Self {
        Self {
            permissions: GrantedPermissionProfile::default(),
            scope: Some(PermissionGrantScope::Turn),
            strict_auto_review: None,
        }
    }
}

impl DynamicToolCallResponse {
    /// `{"success": false, "contentItems": [{"type": "inputText", "text": reason}]}`.
    pub fn decline(reason: impl Into<String>) -> Self {
        Self {
            success: false,
            content_items: vec![DynamicToolCallOutputContentItem::InputText {
                text: reason.into(),
            }],
        }
    }
}

impl ApplyPatchApprovalResponse {
    /// `{"decision": {"denied": {"rejection": …}}}`: not applied, the session goes on.
    pub fn decline() -> Self {
        Self {
            decision: ReviewDecision::Denied {
                rejection: "declined by the user".into(),
            },
        }
    }
}

impl ExecCommandApprovalResponse {
    /// `{"decision": {"denied": {"rejection": …}}}`: not run, the session goes on.
    pub fn decline() -> Self {
        Self {
            decision: ReviewDecision::Denied {
                rejection: "declined by the user".into(),
            },
        }
    }
}

/// `mcpServer/elicitation/request` params. Schema: `McpServerElicitationRequestParams`:
/// common fields plus a `mode`-tagged body (`form`, `url`, `openai/form`, `openaiForm`,
/// `openai/userVerification`); the bodies are flattened into optional fields here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpServerElicitationRequestParams {
    #[serde(default, deserialize_with = "null_as_default")]
    pub server_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
    /// `form`, `url`, `openai/form`, `openaiForm`, `openai/userVerification`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// JSON Schema of the requested form (form modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_schema: Option<Value>,
    /// `url` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `url` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation_id: Option<String>,
    /// `openai/userVerification` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `openai/userVerification` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `openai/userVerification` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// Answer to `mcpServer/elicitation/request`. Schema: `McpServerElicitationRequestResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpServerElicitationRequestResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub action: McpServerElicitationAction,
    /// The form answers, for `accept` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_methods_and_values_are_tolerated() {
        let n = ServerNotification::decode(
            "turn/completed",
            json!({"threadId": "t", "turn": {"id": "u", "status": "someNewStatus", "brandNew": 1,
                    "items": [{"type": "hologram", "id": "h"}, {"type": "plan", "id": "p", "text": null}]}}),
        );
        let ServerNotification::TurnCompleted(n) = n else {
            panic!("{n:?}")
        };
        assert_eq!(n.turn.status, TurnStatus::Unknown("someNewStatus".into()));
        assert_eq!(n.turn.items[0].id(), Some("h"));
        assert!(matches!(n.turn.items[0], ThreadItem::Unknown(_)));
        assert!(matches!(&n.turn.items[1], ThreadItem::Plan(p) if p.text.is_empty()));

        let u = ServerNotification::decode("thread/hologram", json!({"x": 1}));
        assert!(
            matches!(u, ServerNotification::Unknown { ref method, .. } if method == "thread/hologram")
        );
        assert!(!u.is_known());

        let bad = ServerNotification::decode("turn/started", json!({"turn": 5}));
        assert!(matches!(bad, ServerNotification::Malformed { .. }));
        assert!(bad.is_known());

        // Absent params decode to all-default structs.
        assert!(matches!(
            ServerNotification::decode("warning", Value::Null),
            ServerNotification::Warning(_)
        ));
    }

    #[test]
    fn file_change_kinds_keep_snake_case_move_path() {
        let c: FileUpdateChange = serde_json::from_value(json!({
            "path": "/p/a", "diff": "@@", "kind": {"type": "update", "move_path": "/p/b"}
        }))
        .unwrap();
        assert_eq!(
            c.kind,
            PatchChangeKind::Update {
                move_path: Some("/p/b".into())
            }
        );
        assert_eq!(
            serde_json::to_value(&c.kind).unwrap(),
            json!({"type": "update", "move_path": "/p/b"})
        );
    }

    #[test]
    fn decisions_round_trip() {
        let d: Vec<CommandExecutionApprovalDecision> = serde_json::from_value(json!([
            "accept",
            {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch", "x"]}},
            "cancel",
            "somethingNew"
        ]))
        .unwrap();
        assert_eq!(d[0], CommandExecutionApprovalDecision::Accept);
        assert_eq!(
            d[1],
            CommandExecutionApprovalDecision::AcceptWithExecpolicyAmendment {
                execpolicy_amendment: vec!["touch".into(), "x".into()]
            }
        );
        assert_eq!(
            d[3],
            CommandExecutionApprovalDecision::Unknown(json!("somethingNew"))
        );
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!([
                "accept",
                {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch", "x"]}},
                "cancel",
                "somethingNew"
            ])
        );
        let info: CodexErrorInfo =
            serde_json::from_value(json!({"httpConnectionFailed": {"httpStatusCode": 502}}))
                .unwrap();
        assert_eq!(
            info,
            CodexErrorInfo::HttpConnectionFailed {
                http_status_code: Some(502)
            }
        );
        assert_eq!(
            serde_json::from_value::<CodexErrorInfo>(json!("serverOverloaded")).unwrap(),
            CodexErrorInfo::ServerOverloaded
        );
    }

    #[test]
    fn declines() {
        let cases = [
            (
                "item/fileChange/requestApproval",
                json!({"decision": "decline"}),
            ),
            (
                "item/commandExecution/requestApproval",
                json!({"decision": "decline"}),
            ),
            ("item/tool/requestUserInput", json!({"answers": {}})),
            (
                "mcpServer/elicitation/request",
                json!({"action": "decline"}),
            ),
            (
                "item/permissions/requestApproval",
                json!({"permissions": {}, "scope": "turn"}),
            ),
            (
                "applyPatchApproval",
                json!({"decision": {"denied": {"rejection": "declined by the user"}}}),
            ),
            (
                "execCommandApproval",
                json!({"decision": {"denied": {"rejection": "declined by the user"}}}),
            ),
        ];
        for (method, want) in cases {
            let r = ServerRequest::decode(method, json!({}));
            assert!(r.is_known(), "{method}");
            assert_eq!(r.decline(), Reply::Result(want), "{method}");
        }
        let Reply::Result(tool) = ServerRequest::decode("item/tool/call", json!({})).decline()
        else {
            panic!()
        };
        assert_eq!(tool["success"], json!(false));
        assert_eq!(tool["contentItems"][0]["type"], json!("inputText"));
        for method in [
            "account/chatgptAuthTokens/refresh",
            "attestation/generate",
            "x/y",
        ] {
            assert!(matches!(
                ServerRequest::decode(method, json!({})).decline(),
                Reply::Error { .. }
            ));
        }
    }

    #[test]
    fn requests_serialize_per_schema() {
        let p = TurnStartParams {
            thread_id: "t".into(),
            input: vec![
                UserInput::text("hi"),
                UserInput::LocalImage(LocalImageInput {
                    path: "/a.png".into(),
                    detail: None,
                }),
            ],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"threadId": "t", "input": [
                {"type": "text", "text": "hi", "text_elements": []},
                {"type": "localImage", "path": "/a.png"}
            ]})
        );
        assert_eq!(serde_json::to_value(NoParams).unwrap(), Value::Null);
        assert_eq!(
            serde_json::to_value(LoginAccountParams::ChatgptDeviceCode).unwrap(),
            json!({"type": "chatgptDeviceCode"})
        );
        assert_eq!(
            serde_json::to_value(AskForApproval::OnRequest).unwrap(),
            json!("on-request")
        );
        assert_eq!(<ThreadListParams as ClientRequest>::METHOD, "thread/list");
        const { assert!(<ThreadReadParams as ClientRequest>::SAFE_TO_REPEAT) };
        const { assert!(!<TurnStartParams as ClientRequest>::SAFE_TO_REPEAT) };
    }
}
