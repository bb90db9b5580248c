//! Enums and tagged unions of the app-server wire.
//!
//! Every enum has a fallback variant that keeps a value this build does not know (a newer
//! runtime's addition) instead of failing the whole message: `Unknown(String)` for plain
//! string enums, `Unknown(serde_json::Value)` for tagged unions. The fallbacks are serde
//! variant-level `#[serde(untagged)]` variants, so they are also what a known tag with a
//! malformed body decodes to.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;

/// Declares a string enum with an `Unknown(String)` fallback, `as_str`, and the list of
/// known wire values (`KNOWN`, used by the schema-drift test).
macro_rules! string_enum {
    (
        $(#[$m:meta])*
        $name:ident { $( $(#[$vm:meta])* $var:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vm])* #[serde(rename = $wire)] $var, )+
            /// A value this build does not know; kept verbatim.
            #[serde(untagged)]
            Unknown(String),
        }

        impl Default for $name {
            /// A missing value decodes as `Unknown("")`.
            fn default() -> Self {
                Self::Unknown(String::new())
            }
        }

        impl $name {
            /// Known wire values, in schema order.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$var => $wire, )+
                    Self::Unknown(s) => s,
                }
            }
        }
    };
}

/// Implements `Default` as the `Unknown(Value::Null)` fallback (a missing tagged value).
macro_rules! default_unknown {
    ($($name:ident),+) => {
        $(impl Default for $name {
            fn default() -> Self {
                Self::Unknown(Value::Null)
            }
        })+
    };
}

/// Reasoning effort: the schema types it as a free string advertised by each model
/// (`low`, `medium`, `high`, `xhigh`, `minimal`, `none`, …).
pub type ReasoningEffort = String;

/// ChatGPT plan type (`free`, `plus`, `pro`, `team`, …); a long, fast-moving list, kept as a
/// string.
pub type PlanType = String;

string_enum! {
    /// Schema: `TurnStatus`.
    TurnStatus {
        Completed = "completed",
        Interrupted = "interrupted",
        Failed = "failed",
        InProgress = "inProgress",
    }
}

string_enum! {
    /// Schema: `ThreadActiveFlag`.
    ThreadActiveFlag {
        WaitingOnApproval = "waitingOnApproval",
        WaitingOnUserInput = "waitingOnUserInput",
    }
}

string_enum! {
    /// Status of a `fileChange` item. Schema: `PatchApplyStatus`.
    PatchApplyStatus {
        InProgress = "inProgress",
        Completed = "completed",
        Failed = "failed",
        Declined = "declined",
    }
}

string_enum! {
    /// Schema: `CommandExecutionStatus`.
    CommandExecutionStatus {
        InProgress = "inProgress",
        Completed = "completed",
        Failed = "failed",
        Declined = "declined",
    }
}

string_enum! {
    /// Schema: `McpToolCallStatus`.
    McpToolCallStatus {
        InProgress = "inProgress",
        Completed = "completed",
        Failed = "failed",
    }
}

string_enum! {
    /// Schema: `DynamicToolCallStatus`.
    DynamicToolCallStatus {
        InProgress = "inProgress",
        Completed = "completed",
        Failed = "failed",
    }
}

string_enum! {
    /// Schema: `CommandExecutionSource`.
    CommandExecutionSource {
        Agent = "agent",
        UserShell = "userShell",
        UnifiedExecStartup = "unifiedExecStartup",
        UnifiedExecInteraction = "unifiedExecInteraction",
    }
}

string_enum! {
    /// Classifies assistant text; providers do not emit it consistently. Schema: `MessagePhase`.
    MessagePhase {
        Commentary = "commentary",
        PartialAnswer = "partial_answer",
        FinalAnswer = "final_answer",
    }
}

string_enum! {
    /// How much of `Turn.items` is loaded. Schema: `TurnItemsView`.
    TurnItemsView {
        NotLoaded = "notLoaded",
        Summary = "summary",
        Full = "full",
    }
}

string_enum! {
    /// Schema: `TurnPlanStepStatus`.
    TurnPlanStepStatus {
        Pending = "pending",
        InProgress = "inProgress",
        Completed = "completed",
    }
}

string_enum! {
    /// Who reviews approval requests. Schema: `ApprovalsReviewer`.
    ApprovalsReviewer {
        User = "user",
        AutoReview = "auto_review",
        GuardianSubagent = "guardian_subagent",
    }
}

string_enum! {
    /// Thread-level sandbox mode (`thread/start` etc.; kebab-case). Schema: `SandboxMode`.
    SandboxMode {
        ReadOnly = "read-only",
        WorkspaceWrite = "workspace-write",
        DangerFullAccess = "danger-full-access",
    }
}

string_enum! {
    /// Schema: `ReviewDelivery`.
    ReviewDelivery {
        Inline = "inline",
        Detached = "detached",
    }
}

string_enum! {
    /// Deprecated by the runtime. Schema: `Personality`.
    Personality {
        None = "none",
        Friendly = "friendly",
        Pragmatic = "pragmatic",
    }
}

string_enum! {
    /// Reasoning-summary mode. Schema: `ReasoningSummary`.
    ReasoningSummary {
        Auto = "auto",
        Concise = "concise",
        Detailed = "detailed",
        None = "none",
    }
}

string_enum! {
    /// Schema: `AuthMode`.
    AuthMode {
        ApiKey = "apikey",
        Chatgpt = "chatgpt",
        ChatgptAuthTokens = "chatgptAuthTokens",
        Headers = "headers",
        AgentIdentity = "agentIdentity",
        PersonalAccessToken = "personalAccessToken",
        BedrockApiKey = "bedrockApiKey",
        BedrockAccessKeys = "bedrockAccessKeys",
    }
}

string_enum! {
    /// Schema: `CancelLoginAccountStatus`.
    CancelLoginAccountStatus {
        Canceled = "canceled",
        NotFound = "notFound",
    }
}

string_enum! {
    /// Schema: `McpServerElicitationAction`.
    McpServerElicitationAction {
        Accept = "accept",
        Decline = "decline",
        Cancel = "cancel",
    }
}

string_enum! {
    /// Schema: `PermissionGrantScope` (default `turn`).
    PermissionGrantScope {
        Turn = "turn",
        Session = "session",
    }
}

string_enum! {
    /// Schema: `NetworkPolicyRuleAction`.
    NetworkPolicyRuleAction {
        Allow = "allow",
        Deny = "deny",
    }
}

string_enum! {
    /// Trust level of an `additionalContext` entry. Schema: `AdditionalContextKind`
    /// (experimental).
    AdditionalContextKind {
        Untrusted = "untrusted",
        Application = "application",
    }
}

string_enum! {
    /// Command approval vs. input to an existing terminal. Schema: `CommandExecutionApprovalKind`.
    CommandExecutionApprovalKind {
        Command = "command",
        WriteStdin = "writeStdin",
    }
}

string_enum! {
    /// Schema: `InputModality`.
    InputModality {
        Text = "text",
        Image = "image",
        Audio = "audio",
    }
}

string_enum! {
    /// Answer to `item/fileChange/requestApproval`. Schema: `FileChangeApprovalDecision`.
    FileChangeApprovalDecision {
        /// Apply the changes.
        Accept = "accept",
        /// Apply, and stop asking for the same files this session.
        AcceptForSession = "acceptForSession",
        /// Don't apply; the agent continues the turn.
        Decline = "decline",
        /// Don't apply, and interrupt the turn.
        Cancel = "cancel",
    }
}

/// Runtime status of a thread. Schema: `ThreadStatus` (tag `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ThreadStatus {
    NotLoaded,
    Idle,
    SystemError,
    Active {
        #[serde(default, deserialize_with = "null_as_default")]
        active_flags: Vec<ThreadActiveFlag>,
    },
    /// A status this build does not know; kept verbatim.
    #[serde(untagged)]
    Unknown(Value),
}

/// One item of a turn. Schema: `ThreadItem` (tag `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ThreadItem {
    UserMessage(UserMessageItem),
    HookPrompt(HookPromptItem),
    AgentMessage(AgentMessageItem),
    FunctionCallOutput(FunctionCallOutputItem),
    Plan(PlanItem),
    Reasoning(ReasoningItem),
    CommandExecution(CommandExecutionItem),
    FileChange(FileChangeItem),
    McpToolCall(McpToolCallItem),
    DynamicToolCall(DynamicToolCallItem),
    CollabAgentToolCall(CollabAgentToolCallItem),
    SubAgentActivity(SubAgentActivityItem),
    WebSearch(WebSearchItem),
    ImageView(ImageViewItem),
    Sleep(SleepItem),
    ImageGeneration(ImageGenerationItem),
    EnteredReviewMode(ReviewModeItem),
    ExitedReviewMode(ReviewModeItem),
    ContextCompaction(ContextCompactionItem),
    /// An item type this build does not know (or a known type with a malformed body).
    #[serde(untagged)]
    Unknown(Value),
}

impl ThreadItem {
    /// Known `type` tags, in schema order (for the schema-drift test).
    pub const KNOWN_TYPES: &'static [&'static str] = &[
        "userMessage",
        "hookPrompt",
        "agentMessage",
        "functionCallOutput",
        "plan",
        "reasoning",
        "commandExecution",
        "fileChange",
        "mcpToolCall",
        "dynamicToolCall",
        "collabAgentToolCall",
        "subAgentActivity",
        "webSearch",
        "imageView",
        "sleep",
        "imageGeneration",
        "enteredReviewMode",
        "exitedReviewMode",
        "contextCompaction",
    ];

    /// The item id (every item has one; `None` only for an unknown item without `id`).
    pub fn id(&self) -> Option<&str> {
        Some(match self {
            Self::UserMessage(i) => &i.id,
            Self::HookPrompt(i) => &i.id,
            Self::AgentMessage(i) => &i.id,
            Self::FunctionCallOutput(i) => &i.id,
            Self::Plan(i) => &i.id,
            Self::Reasoning(i) => &i.id,
            Self::CommandExecution(i) => &i.id,
            Self::FileChange(i) => &i.id,
            Self::McpToolCall(i) => &i.id,
            Self::DynamicToolCall(i) => &i.id,
            Self::CollabAgentToolCall(i) => &i.id,
            Self::SubAgentActivity(i) => &i.id,
            Self::WebSearch(i) => &i.id,
            Self::ImageView(i) => &i.id,
            Self::Sleep(i) => &i.id,
            Self::ImageGeneration(i) => &i.id,
            Self::EnteredReviewMode(i) | Self::ExitedReviewMode(i) => &i.id,
            Self::ContextCompaction(i) => &i.id,
            Self::Unknown(v) => return v.get("id").and_then(Value::as_str),
        })
    }

    /// The wire `type` tag.
    pub fn type_name(&self) -> &str {
        match self {
            Self::Unknown(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
            known => {
                let i = match known {
                    Self::UserMessage(_) => 0,
                    Self::HookPrompt(_) => 1,
                    Self::AgentMessage(_) => 2,
                    Self::FunctionCallOutput(_) => 3,
                    Self::Plan(_) => 4,
                    Self::Reasoning(_) => 5,
                    Self::CommandExecution(_) => 6,
                    Self::FileChange(_) => 7,
                    Self::McpToolCall(_) => 8,
                    Self::DynamicToolCall(_) => 9,
                    Self::CollabAgentToolCall(_) => 10,
                    Self::SubAgentActivity(_) => 11,
                    Self::WebSearch(_) => 12,
                    Self::ImageView(_) => 13,
                    Self::Sleep(_) => 14,
                    Self::ImageGeneration(_) => 15,
                    Self::EnteredReviewMode(_) => 16,
                    Self::ExitedReviewMode(_) => 17,
                    Self::ContextCompaction(_) => 18,
                    Self::Unknown(_) => unreachable!(),
                };
                Self::KNOWN_TYPES[i]
            }
        }
    }
}

/// One piece of user input (`turn/start`, `turn/steer`, `userMessage` items).
/// Schema: `UserInput` (tag `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum UserInput {
    Text(TextInput),
    /// A remote image (`url`) or an uploaded file (`fileId`).
    Image(ImageInput),
    /// An image file on the app-server's machine.
    LocalImage(LocalImageInput),
    Audio(AudioInput),
    LocalAudio(LocalAudioInput),
    Skill(SkillInput),
    Mention(MentionInput),
    /// An input type this build does not know.
    #[serde(untagged)]
    Unknown(Value),
}

impl UserInput {
    /// Known `type` tags (for the schema-drift test).
    pub const KNOWN_TYPES: &'static [&'static str] = &[
        "text",
        "image",
        "localImage",
        "audio",
        "localAudio",
        "skill",
        "mention",
    ];

    /// Plain text input with no text elements.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextInput {
            text: text.into(),
            text_elements: Some(Vec::new()),
        })
    }
}

/// `{"type": "image"}` input: exactly one of `url` / `fileId`. Schema: `UserInput`
/// (`ImageUserInput`, whose `anyOf` carries `url` | `fileId`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// `ImageDetail` (`auto` / `low` / `high` / `original`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Per-turn sandbox policy (`turn/start.sandboxPolicy`, thread responses).
/// Schema: `SandboxPolicy` (tag `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SandboxPolicy {
    DangerFullAccess,
    ReadOnly {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        network_access: Option<bool>,
    },
    ExternalSandbox {
        /// `restricted` / `enabled`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        network_access: Option<String>,
    },
    WorkspaceWrite {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        writable_roots: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        network_access: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exclude_tmpdir_env_var: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exclude_slash_tmp: Option<bool>,
    },
    #[serde(untagged)]
    Unknown(Value),
}

/// Kind of one file change in a `fileChange` item. Schema: `PatchChangeKind` (tag `type`).
/// Note the wire spells `move_path` in snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PatchChangeKind {
    Add,
    Delete,
    Update {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        move_path: Option<String>,
    },
    #[serde(untagged)]
    Unknown(Value),
}

impl PatchChangeKind {
    /// The wire's `type` (`add`, `delete`, `update`, or what an unknown kind said).
    pub fn type_name(&self) -> &str {
        match self {
            Self::Add => "add",
            Self::Delete => "delete",
            Self::Update { .. } => "update",
            Self::Unknown(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// Parsed shape of a command. Schema: `CommandAction` (tag `type`). The wire's own
/// `"unknown"` type is [`CommandAction::Unknown`]; types this build does not know are
/// [`CommandAction::Other`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum CommandAction {
    Read {
        #[serde(default, deserialize_with = "null_as_default")]
        command: String,
        #[serde(default, deserialize_with = "null_as_default")]
        name: String,
        #[serde(default, deserialize_with = "null_as_default")]
        path: String,
    },
    ListFiles {
        #[serde(default, deserialize_with = "null_as_default")]
        command: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    Search {
        #[serde(default, deserialize_with = "null_as_default")]
        command: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        query: Option<String>,
    },
    Unknown {
        #[serde(default, deserialize_with = "null_as_default")]
        command: String,
    },
    #[serde(untagged)]
    Other(Value),
}

/// Schema: `WebSearchAction` (tag `type`). The wire's own `"other"` is
/// [`WebSearchAction::Other`]; types this build does not know are `Unknown`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum WebSearchAction {
    Search {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        query: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queries: Option<Vec<String>>,
    },
    OpenPage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    FindInPage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<String>,
    },
    Other,
    #[serde(untagged)]
    Unknown(Value),
}

/// Machine-readable error class of a `TurnError`. Schema: `CodexErrorInfo`: a string, or
/// a one-key object for the HTTP-ish classes. The wire's own `"other"` is
/// [`CodexErrorInfo::Other`]; values this build does not know are `Unknown`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum CodexErrorInfo {
    ContextWindowExceeded,
    SessionBudgetExceeded,
    UsageLimitExceeded,
    RateLimitExceeded,
    FlexUnavailable,
    ServerOverloaded,
    CyberPolicy,
    MisalignmentPolicyViolation,
    TooManyDenials,
    InternalServerError,
    Unauthorized,
    BadRequest,
    ThreadRollbackFailed,
    SandboxError,
    Other,
    HttpConnectionFailed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        http_status_code: Option<u16>,
    },
    ResponseStreamConnectionFailed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        http_status_code: Option<u16>,
    },
    ResponseStreamDisconnected {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        http_status_code: Option<u16>,
    },
    ResponseTooManyFailedAttempts {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        http_status_code: Option<u16>,
    },
    ActiveTurnNotSteerable {
        /// `review` / `compact`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        turn_kind: Option<String>,
    },
    #[serde(untagged)]
    Unknown(Value),
}

/// When to ask for approval. Schema: `AskForApproval`: a kebab-case string or
/// `{"granular": {…}}` (snake_case fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AskForApproval {
    Untrusted,
    OnRequest,
    Never,
    Granular(GranularApproval),
    #[serde(untagged)]
    Unknown(Value),
}

/// Fine-grained approval switches (`AskForApproval::Granular`); snake_case on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GranularApproval {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_approval: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_approval: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_permissions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_elicitations: Option<bool>,
}

/// What `review/start` reviews. Schema: `ReviewTarget` (tag `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ReviewTarget {
    /// Staged, unstaged and untracked changes.
    UncommittedChanges,
    /// Changes against a base branch.
    BaseBranch { branch: String },
    /// One commit; `title` is display-only.
    Commit {
        sha: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// Free-form review instructions.
    Custom { instructions: String },
    #[serde(untagged)]
    Unknown(Value),
}

/// The signed-in account (`account/read`). Schema: `Account` (tag `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Account {
    ApiKey,
    Chatgpt {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan_type: Option<PlanType>,
    },
    AmazonBedrock {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        uses_codex_managed_credentials: Option<bool>,
    },
    #[serde(untagged)]
    Unknown(Value),
}

impl Account {
    /// The wire's `type` (`apiKey`, `chatgpt`, `amazonBedrock`, or an unknown one's).
    pub fn type_name(&self) -> &str {
        match self {
            Self::ApiKey => "apiKey",
            Self::Chatgpt { .. } => "chatgpt",
            Self::AmazonBedrock { .. } => "amazonBedrock",
            Self::Unknown(v) => v.get("type").and_then(Value::as_str).unwrap_or("unknown"),
        }
    }
}

/// `account/login/start` params. Schema: `LoginAccountParams` (tag `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum LoginAccountParams {
    /// Store an OpenAI API key; completes synchronously (then `account/login/completed`).
    ApiKey {
        api_key: String,
    },
    /// Browser login: the result carries `authUrl` to open.
    Chatgpt {
        /// `codex` / `chatgpt`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app_brand: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        codex_streamlined_login: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        use_hosted_login_success_page: Option<bool>,
    },
    /// Device-code login: the result carries `verificationUrl` and `userCode`.
    ChatgptDeviceCode,
    /// Externally managed ChatGPT tokens (OpenAI-internal; not for us).
    ChatgptAuthTokens {
        access_token: String,
        chatgpt_account_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chatgpt_plan_type: Option<String>,
    },
    AmazonBedrock {
        api_key: String,
        region: String,
    },
    AmazonBedrockAccessKeys {
        access_key_id: String,
        secret_access_key: String,
        region: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_token: Option<String>,
    },
    #[serde(untagged)]
    Unknown(Value),
}

/// `account/login/start` result. Schema: `LoginAccountResponse` (tag `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum LoginAccountResponse {
    ApiKey,
    Chatgpt {
        #[serde(default, deserialize_with = "null_as_default")]
        auth_url: String,
        #[serde(default, deserialize_with = "null_as_default")]
        login_id: String,
    },
    ChatgptDeviceCode {
        #[serde(default, deserialize_with = "null_as_default")]
        login_id: String,
        #[serde(default, deserialize_with = "null_as_default")]
        user_code: String,
        #[serde(default, deserialize_with = "null_as_default")]
        verification_url: String,
    },
    ChatgptAuthTokens,
    AmazonBedrock,
    #[serde(untagged)]
    Unknown(Value),
}

/// Answer to `item/commandExecution/requestApproval`.
/// Schema: `CommandExecutionApprovalDecision`: a string or a one-key object (whose inner
/// fields are snake_case on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecutionApprovalDecision {
    /// Run the command.
    Accept,
    /// Run it, and stop asking for it this session.
    AcceptForSession,
    /// Run it, and add an execpolicy rule allowing the given command prefix from now on.
    AcceptWithExecpolicyAmendment { execpolicy_amendment: Vec<String> },
    /// Persist a network policy rule for the host.
    ApplyNetworkPolicyAmendment {
        network_policy_amendment: NetworkPolicyAmendment,
    },
    /// Don't run it; the agent continues the turn.
    Decline,
    /// Don't run it, and interrupt the turn.
    Cancel,
    /// A decision this build does not know; kept verbatim.
    #[serde(untagged)]
    Unknown(Value),
}

/// Legacy (v1) approval answer for `applyPatchApproval` / `execCommandApproval`.
/// Schema: `ReviewDecision` (snake_case; object variants are one-key objects).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approved,
    ApprovedExecpolicyAmendment {
        proposed_execpolicy_amendment: Vec<String>,
    },
    ApprovedForSession,
    ApprovedMcpPolicyAmendment,
    NetworkPolicyAmendment {
        network_policy_amendment: NetworkPolicyAmendment,
    },
    /// Don't do it, but continue the session (the "decline").
    Denied {
        rejection: String,
    },
    TimedOut,
    /// Don't do it, and stop until the user's next message.
    Abort,
    #[serde(untagged)]
    Unknown(Value),
}

/// One content item of a dynamic tool call's output.
/// Schema: `DynamicToolCallOutputContentItem` (tag `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum DynamicToolCallOutputContentItem {
    InputText {
        text: String,
    },
    InputImage {
        image_url: String,
    },
    InputAudio {
        audio_url: String,
    },
    #[serde(untagged)]
    Unknown(Value),
}

/// One file of a legacy (v1) `applyPatchApproval`. Schema: `FileChange` (tag `type`;
/// snake_case fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LegacyFileChange {
    Add {
        #[serde(default, deserialize_with = "null_as_default")]
        content: String,
    },
    Delete {
        #[serde(default, deserialize_with = "null_as_default")]
        content: String,
    },
    Update {
        #[serde(default, deserialize_with = "null_as_default")]
        unified_diff: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        move_path: Option<String>,
    },
    #[serde(untagged)]
    Unknown(Value),
}

default_unknown!(
    ThreadStatus,
    ThreadItem,
    UserInput,
    SandboxPolicy,
    PatchChangeKind,
    WebSearchAction,
    CodexErrorInfo,
    AskForApproval,
    ReviewTarget,
    Account,
    LoginAccountResponse,
    CommandExecutionApprovalDecision,
    ReviewDecision,
    DynamicToolCallOutputContentItem,
    LegacyFileChange
);

impl Default for CommandAction {
    fn default() -> Self {
        Self::Other(Value::Null)
    }
}
