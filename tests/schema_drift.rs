//! Checks the wire types of `codex_lsp::app_server::protocol` against the schema of the
//! pinned runtime, regenerated here with `codex app-server generate-json-schema` (the
//! binary from `scripts/install-runtime.sh --print`), so a runtime bump shows its drift:
//!
//! (a) every method we model exists in the schema's ClientRequest / ServerNotification /
//!     ServerRequest lists;
//! (b) every struct's serde field names (read from its derived `Deserialize`) are
//!     properties of its schema definition, and every property the schema requires is one
//!     of our fields; every enum knows exactly the schema's values / variant tags;
//! (c) values we serialize (request params, server-request answers, union samples)
//!     validate against the schema.
//!
//! The stable schema is authoritative; the `--experimental` one (a superset) is consulted
//! only for the few experimental fields we deliberately send (see `EXPERIMENTAL_FIELDS`).
//! Cannot find or run the runtime: the test fails (it never skips).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use codex_lsp::app_server::protocol::*;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::Serialize;
use serde_json::{json, Value};

/// Experimental-only fields (gated by `capabilities.experimentalApi`) that we model.
/// (`AskForApproval::Granular`'s fields are checked by validating samples, in (c).)
const EXPERIMENTAL_FIELDS: &[(&str, &str)] = &[
    ("TurnStartParams", "additionalContext"),
    ("TurnSteerParams", "additionalContext"),
    (
        "CommandExecutionRequestApprovalParams",
        "availableDecisions",
    ),
    (
        "CommandExecutionRequestApprovalParams",
        "additionalPermissions",
    ),
    // The `openai/userVerification` elicitation mode (received only).
    ("McpServerElicitationRequestParams", "title"),
    ("McpServerElicitationRequestParams", "description"),
    ("McpServerElicitationRequestParams", "challenge"),
];

struct Schemas {
    _dir: tempfile::TempDir,
    stable: PathBuf,
    /// Flattened `definitions` of the stable and experimental bundles.
    stable_defs: BTreeMap<String, Value>,
    exp_defs: BTreeMap<String, Value>,
    /// The experimental bundle, for validation (its `$ref`s are `#/definitions/v2/X`).
    exp_bundle: Value,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn codex_binary() -> PathBuf {
    let dir = manifest_dir();
    let out = Command::new("bash")
        .arg(dir.join("scripts/install-runtime.sh"))
        .arg("--print")
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/install-runtime.sh --print: {e}"));
    assert!(
        out.status.success(),
        "scripts/install-runtime.sh --print failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let path = PathBuf::from(path.lines().last().unwrap_or_default());
    assert!(
        path.is_file(),
        "install-runtime.sh printed {path:?}, which is not a file"
    );
    path
}

fn generate(codex: &Path, out: &Path, experimental: bool) {
    let mut cmd = Command::new(codex);
    cmd.args(["app-server", "generate-json-schema", "--out"])
        .arg(out);
    if experimental {
        cmd.arg("--experimental");
    }
    let res = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", codex.display()));
    assert!(
        res.status.success(),
        "{} app-server generate-json-schema failed ({}): {}",
        codex.display(),
        res.status,
        String::from_utf8_lossy(&res.stderr)
    );
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bundle's definitions with the `v2` namespace flattened in (v2 wins on clashes).
fn flatten(bundle: &Value) -> BTreeMap<String, Value> {
    let defs = bundle["definitions"].as_object().expect("definitions");
    let mut out: BTreeMap<String, Value> = defs
        .get("v2")
        .and_then(Value::as_object)
        .map(|v2| v2.clone().into_iter().collect())
        .unwrap_or_default();
    for (k, v) in defs {
        if k != "v2" {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    out
}

fn schemas() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(|| {
        let codex = codex_binary();
        let dir = tempfile::tempdir().expect("tempdir");
        let stable = dir.path().join("stable");
        let exp = dir.path().join("experimental");
        generate(&codex, &stable, false);
        generate(&codex, &exp, true);
        let bundle = "codex_app_server_protocol.schemas.json";
        let exp_bundle = read_json(&exp.join(bundle));
        Schemas {
            stable_defs: flatten(&read_json(&stable.join(bundle))),
            exp_defs: flatten(&exp_bundle),
            exp_bundle,
            stable,
            _dir: dir,
        }
    })
}

fn def<'a>(defs: &'a BTreeMap<String, Value>, name: &str) -> &'a Value {
    defs.get(name)
        .unwrap_or_else(|| panic!("DRIFT: schema definition `{name}` no longer exists"))
}

// ---------------------------------------------------------------------------------------
// (a) methods

fn schema_methods(file: &str) -> BTreeSet<String> {
    let v = read_json(&schemas().stable.join(file));
    v["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: no oneOf"))
        .iter()
        .filter_map(|m| {
            m["properties"]["method"]["enum"][0]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn a_methods_exist_in_the_schema() {
    let mut drift = Vec::new();
    for (file, ours) in [
        ("ClientRequest.json", CLIENT_REQUEST_METHODS),
        ("ServerNotification.json", SERVER_NOTIFICATION_METHODS),
        ("ServerRequest.json", SERVER_REQUEST_METHODS),
    ] {
        let theirs = schema_methods(file);
        for m in ours {
            if !theirs.contains(*m) {
                drift.push(format!("{file}: method `{m}` is gone"));
            }
        }
        if file == "ServerRequest.json" {
            // Every server request must be answerable: we must model all of them.
            for m in &theirs {
                if !ours.contains(&m.as_str()) {
                    drift.push(format!("{file}: new server request `{m}` is not modelled"));
                }
            }
        }
    }
    assert!(
        schema_methods("ClientNotification.json").contains(INITIALIZED_METHOD),
        "ClientNotification.json: `initialized` is gone"
    );
    assert!(drift.is_empty(), "DRIFT:\n{}", drift.join("\n"));
}

// ---------------------------------------------------------------------------------------
// (b) struct fields, read from the derived `Deserialize` impl

/// A `Deserializer` that only records the field list passed to `deserialize_struct`.
struct FieldsOf;

#[derive(Debug)]
struct Captured(Result<&'static [&'static str], String>);

impl std::fmt::Display for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl std::error::Error for Captured {}
impl de::Error for Captured {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Captured(Err(msg.to_string()))
    }
}

impl<'de> Deserializer<'de> for FieldsOf {
    type Error = Captured;
    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Captured> {
        Err(Captured(Err("not a struct".into())))
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Captured> {
        Err(Captured(Ok(fields)))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

fn fields_of<'de, T: Deserialize<'de>>() -> BTreeSet<String> {
    match T::deserialize(FieldsOf) {
        Err(Captured(Ok(fields))) => fields.iter().map(|f| f.to_string()).collect(),
        Err(Captured(Err(e))) => panic!("{}: {e}", std::any::type_name::<T>()),
        Ok(_) => unreachable!(),
    }
}

/// (properties, required) of a definition, or of one `oneOf`/`anyOf` member (by `title`).
/// Properties of nested `oneOf`/`anyOf` members count as properties (not as required).
fn shape(
    defs: &BTreeMap<String, Value>,
    name: &str,
    variant: Option<&str>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut d = def(defs, name);
    if let Some(title) = variant {
        d = d["oneOf"]
            .as_array()
            .into_iter()
            .chain(d["anyOf"].as_array())
            .flatten()
            .find(|m| m["title"] == title)
            .unwrap_or_else(|| panic!("DRIFT: `{name}` has no member `{title}` any more"));
    }
    let keys = |v: &Value| -> BTreeSet<String> {
        v["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut props = keys(d);
    for nested in ["oneOf", "anyOf"] {
        for m in d[nested].as_array().into_iter().flatten() {
            props.extend(keys(m));
        }
    }
    let required = d["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    (props, required)
}

fn check_struct(
    drift: &mut Vec<String>,
    ours: BTreeSet<String>,
    name: &str,
    variant: Option<&str>,
) {
    let s = schemas();
    let label = match variant {
        Some(v) => format!("{name} ({v})"),
        None => name.to_owned(),
    };
    let (props, required) = shape(&s.stable_defs, name, variant);
    let (exp_props, _) = shape(&s.exp_defs, name, variant);
    let tag = if variant.is_some() {
        Some("type")
    } else {
        None
    };
    for f in &ours {
        if props.contains(f) {
            continue;
        }
        let allowed = EXPERIMENTAL_FIELDS.contains(&(name, f.as_str()));
        if allowed && exp_props.contains(f) {
            continue;
        }
        if allowed {
            drift.push(format!("{label}: experimental field `{f}` is gone"));
        } else if exp_props.contains(f) {
            drift.push(format!("{label}: field `{f}` is experimental-only now"));
        } else {
            drift.push(format!("{label}: field `{f}` is not in the schema"));
        }
    }
    for r in &required {
        if !ours.contains(r) && Some(r.as_str()) != tag {
            drift.push(format!(
                "{label}: schema requires `{r}`, which we do not model"
            ));
        }
    }
    let missing: Vec<_> = props
        .iter()
        .filter(|p| !ours.contains(*p) && Some(p.as_str()) != tag)
        .collect();
    if !missing.is_empty() {
        // Informational: fields we do not read are fine (lenient decoding drops them).
        eprintln!("note: {label}: unmodelled optional fields {missing:?}");
    }
}

macro_rules! structs {
    ($drift:ident; $( $ty:ty => $def:literal $(/ $variant:literal)? ),+ $(,)?) => {
        $( check_struct(&mut $drift, fields_of::<$ty>(), $def, None $(.or(Some($variant)))?); )+
    };
}

#[test]
fn b_struct_fields_match_the_schema() {
    let mut drift = Vec::new();
    structs! { drift;
        // client requests
        InitializeParams => "InitializeParams",
        ClientInfo => "ClientInfo",
        InitializeCapabilities => "InitializeCapabilities",
        InitializeResponse => "InitializeResponse",
        ThreadStartParams => "ThreadStartParams",
        ThreadStartResponse => "ThreadStartResponse",
        ThreadResumeParams => "ThreadResumeParams",
        ThreadResumeResponse => "ThreadResumeResponse",
        ThreadForkParams => "ThreadForkParams",
        ThreadForkResponse => "ThreadForkResponse",
        ThreadListParams => "ThreadListParams",
        ThreadListResponse => "ThreadListResponse",
        ThreadReadParams => "ThreadReadParams",
        ThreadReadResponse => "ThreadReadResponse",
        ThreadArchiveParams => "ThreadArchiveParams",
        ThreadSetNameParams => "ThreadSetNameParams",
        ThreadCompactStartParams => "ThreadCompactStartParams",
        ThreadLoadedListParams => "ThreadLoadedListParams",
        ThreadLoadedListResponse => "ThreadLoadedListResponse",
        ThreadRevertParams => "ThreadRevertParams",
        ThreadRevertResponse => "ThreadRevertResponse",
        TurnStartParams => "TurnStartParams",
        AdditionalContextEntry => "AdditionalContextEntry",
        TurnStartResponse => "TurnStartResponse",
        TurnSteerParams => "TurnSteerParams",
        TurnSteerResponse => "TurnSteerResponse",
        TurnInterruptParams => "TurnInterruptParams",
        ReviewStartParams => "ReviewStartParams",
        ReviewStartResponse => "ReviewStartResponse",
        ModelListParams => "ModelListParams",
        ModelListResponse => "ModelListResponse",
        FuzzyFileSearchParams => "FuzzyFileSearchParams",
        FuzzyFileSearchResponse => "FuzzyFileSearchResponse",
        FuzzyFileSearchResult => "FuzzyFileSearchResult",
        Model => "Model",
        ReasoningEffortOption => "ReasoningEffortOption",
        ModelUpgradeInfo => "ModelUpgradeInfo",
        GetAccountParams => "GetAccountParams",
        GetAccountResponse => "GetAccountResponse",
        CancelLoginAccountParams => "CancelLoginAccountParams",
        CancelLoginAccountResponse => "CancelLoginAccountResponse",
        GetAccountRateLimitsParams => "GetAccountRateLimitsParams",
        GetAccountRateLimitsResponse => "GetAccountRateLimitsResponse",
        RateLimitSnapshot => "RateLimitSnapshot",
        RateLimitWindow => "RateLimitWindow",
        CreditsSnapshot => "CreditsSnapshot",
        // core data
        Thread => "Thread",
        Turn => "Turn",
        TurnError => "TurnError",
        GitInfo => "GitInfo",
        ThreadTokenUsage => "ThreadTokenUsage",
        TokenUsageBreakdown => "TokenUsageBreakdown",
        TurnPlanStep => "TurnPlanStep",
        TextElement => "TextElement",
        ByteRange => "ByteRange",
        FileUpdateChange => "FileUpdateChange",
        McpToolCallError => "McpToolCallError",
        HookPromptFragment => "HookPromptFragment",
        TextInput => "UserInput" / "TextUserInput",
        ImageInput => "UserInput" / "ImageUserInput",
        LocalImageInput => "UserInput" / "LocalImageUserInput",
        AudioInput => "UserInput" / "AudioUserInput",
        LocalAudioInput => "UserInput" / "LocalAudioUserInput",
        SkillInput => "UserInput" / "SkillUserInput",
        MentionInput => "UserInput" / "MentionUserInput",
        UserMessageItem => "ThreadItem" / "UserMessageThreadItem",
        HookPromptItem => "ThreadItem" / "HookPromptThreadItem",
        AgentMessageItem => "ThreadItem" / "AgentMessageThreadItem",
        FunctionCallOutputItem => "ThreadItem" / "FunctionCallOutputThreadItem",
        PlanItem => "ThreadItem" / "PlanThreadItem",
        ReasoningItem => "ThreadItem" / "ReasoningThreadItem",
        CommandExecutionItem => "ThreadItem" / "CommandExecutionThreadItem",
        FileChangeItem => "ThreadItem" / "FileChangeThreadItem",
        McpToolCallItem => "ThreadItem" / "McpToolCallThreadItem",
        DynamicToolCallItem => "ThreadItem" / "DynamicToolCallThreadItem",
        CollabAgentToolCallItem => "ThreadItem" / "CollabAgentToolCallThreadItem",
        SubAgentActivityItem => "ThreadItem" / "SubAgentActivityThreadItem",
        WebSearchItem => "ThreadItem" / "WebSearchThreadItem",
        ImageViewItem => "ThreadItem" / "ImageViewThreadItem",
        SleepItem => "ThreadItem" / "SleepThreadItem",
        ImageGenerationItem => "ThreadItem" / "ImageGenerationThreadItem",
        ReviewModeItem => "ThreadItem" / "EnteredReviewModeThreadItem",
        ReviewModeItem => "ThreadItem" / "ExitedReviewModeThreadItem",
        ContextCompactionItem => "ThreadItem" / "ContextCompactionThreadItem",
        // notifications
        ErrorNotification => "ErrorNotification",
        ThreadStartedNotification => "ThreadStartedNotification",
        ThreadStatusChangedNotification => "ThreadStatusChangedNotification",
        ThreadTokenUsageUpdatedNotification => "ThreadTokenUsageUpdatedNotification",
        ThreadNameUpdatedNotification => "ThreadNameUpdatedNotification",
        ContextCompactedNotification => "ContextCompactedNotification",
        TurnStartedNotification => "TurnStartedNotification",
        TurnCompletedNotification => "TurnCompletedNotification",
        TurnDiffUpdatedNotification => "TurnDiffUpdatedNotification",
        TurnPlanUpdatedNotification => "TurnPlanUpdatedNotification",
        ItemStartedNotification => "ItemStartedNotification",
        ItemCompletedNotification => "ItemCompletedNotification",
        AgentMessageDeltaNotification => "AgentMessageDeltaNotification",
        ReasoningSummaryTextDeltaNotification => "ReasoningSummaryTextDeltaNotification",
        ReasoningTextDeltaNotification => "ReasoningTextDeltaNotification",
        CommandExecutionOutputDeltaNotification => "CommandExecutionOutputDeltaNotification",
        FileChangeOutputDeltaNotification => "FileChangeOutputDeltaNotification",
        PlanDeltaNotification => "PlanDeltaNotification",
        ServerRequestResolvedNotification => "ServerRequestResolvedNotification",
        AccountLoginCompletedNotification => "AccountLoginCompletedNotification",
        AccountUpdatedNotification => "AccountUpdatedNotification",
        AccountRateLimitsUpdatedNotification => "AccountRateLimitsUpdatedNotification",
        WarningNotification => "WarningNotification",
        ConfigWarningNotification => "ConfigWarningNotification",
        TextRange => "TextRange",
        TextPosition => "TextPosition",
        DeprecationNoticeNotification => "DeprecationNoticeNotification",
        // server requests
        CommandExecutionRequestApprovalParams => "CommandExecutionRequestApprovalParams",
        NetworkApprovalContext => "NetworkApprovalContext",
        NetworkPolicyAmendment => "NetworkPolicyAmendment",
        CommandExecutionRequestApprovalResponse => "CommandExecutionRequestApprovalResponse",
        FileChangeRequestApprovalParams => "FileChangeRequestApprovalParams",
        FileChangeRequestApprovalResponse => "FileChangeRequestApprovalResponse",
        ToolRequestUserInputParams => "ToolRequestUserInputParams",
        ToolRequestUserInputQuestion => "ToolRequestUserInputQuestion",
        ToolRequestUserInputOption => "ToolRequestUserInputOption",
        ToolRequestUserInputResponse => "ToolRequestUserInputResponse",
        ToolRequestUserInputAnswer => "ToolRequestUserInputAnswer",
        McpServerElicitationRequestParams => "McpServerElicitationRequestParams",
        McpServerElicitationRequestResponse => "McpServerElicitationRequestResponse",
        PermissionsRequestApprovalParams => "PermissionsRequestApprovalParams",
        PermissionsRequestApprovalResponse => "PermissionsRequestApprovalResponse",
        GrantedPermissionProfile => "GrantedPermissionProfile",
        DynamicToolCallParams => "DynamicToolCallParams",
        DynamicToolCallResponse => "DynamicToolCallResponse",
        ChatgptAuthTokensRefreshParams => "ChatgptAuthTokensRefreshParams",
        ChatgptAuthTokensRefreshResponse => "ChatgptAuthTokensRefreshResponse",
        AttestationGenerateResponse => "AttestationGenerateResponse",
        ApplyPatchApprovalParams => "ApplyPatchApprovalParams",
        ApplyPatchApprovalResponse => "ApplyPatchApprovalResponse",
        ExecCommandApprovalParams => "ExecCommandApprovalParams",
        ExecCommandApprovalResponse => "ExecCommandApprovalResponse",
    }
    assert!(drift.is_empty(), "DRIFT:\n{}", drift.join("\n"));
}

/// Values of a string-enum definition (plain `enum`, or `oneOf` of one-value enums).
fn enum_values(name: &str) -> BTreeSet<String> {
    let d = def(&schemas().stable_defs, name);
    let mut out = BTreeSet::new();
    let mut take = |v: &Value| {
        for e in v["enum"].as_array().into_iter().flatten() {
            out.insert(e.as_str().expect("string enum").to_owned());
        }
    };
    take(d);
    for m in d["oneOf"].as_array().into_iter().flatten() {
        take(m);
    }
    for m in d["anyOf"].as_array().into_iter().flatten() {
        take(m);
    }
    out
}

fn check_enum(drift: &mut Vec<String>, name: &str, known: &[&str]) {
    let ours: BTreeSet<String> = known.iter().map(|s| s.to_string()).collect();
    let theirs = enum_values(name);
    for v in theirs.difference(&ours) {
        drift.push(format!("{name}: new value `{v}` (decodes as Unknown)"));
    }
    for v in ours.difference(&theirs) {
        drift.push(format!("{name}: value `{v}` is gone"));
    }
}

#[test]
fn b_string_enums_match_the_schema() {
    let mut drift = Vec::new();
    for (name, known) in [
        ("TurnStatus", TurnStatus::KNOWN),
        ("ThreadActiveFlag", ThreadActiveFlag::KNOWN),
        ("PatchApplyStatus", PatchApplyStatus::KNOWN),
        ("CommandExecutionStatus", CommandExecutionStatus::KNOWN),
        ("McpToolCallStatus", McpToolCallStatus::KNOWN),
        ("DynamicToolCallStatus", DynamicToolCallStatus::KNOWN),
        ("CommandExecutionSource", CommandExecutionSource::KNOWN),
        ("MessagePhase", MessagePhase::KNOWN),
        ("TurnItemsView", TurnItemsView::KNOWN),
        ("TurnPlanStepStatus", TurnPlanStepStatus::KNOWN),
        ("ApprovalsReviewer", ApprovalsReviewer::KNOWN),
        ("SandboxMode", SandboxMode::KNOWN),
        ("ReviewDelivery", ReviewDelivery::KNOWN),
        ("Personality", Personality::KNOWN),
        ("ReasoningSummary", ReasoningSummary::KNOWN),
        ("AuthMode", AuthMode::KNOWN),
        ("CancelLoginAccountStatus", CancelLoginAccountStatus::KNOWN),
        (
            "McpServerElicitationAction",
            McpServerElicitationAction::KNOWN,
        ),
        ("PermissionGrantScope", PermissionGrantScope::KNOWN),
        ("NetworkPolicyRuleAction", NetworkPolicyRuleAction::KNOWN),
        (
            "CommandExecutionApprovalKind",
            CommandExecutionApprovalKind::KNOWN,
        ),
        ("InputModality", InputModality::KNOWN),
        (
            "FileChangeApprovalDecision",
            FileChangeApprovalDecision::KNOWN,
        ),
    ] {
        check_enum(&mut drift, name, known);
    }
    // Experimental-only enum.
    let d = def(&schemas().exp_defs, "AdditionalContextKind");
    let theirs: BTreeSet<&str> = d["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let ours: BTreeSet<&str> = AdditionalContextKind::KNOWN.iter().copied().collect();
    if theirs != ours {
        drift.push(format!(
            "AdditionalContextKind: schema {theirs:?}, ours {ours:?}"
        ));
    }
    assert!(drift.is_empty(), "DRIFT:\n{}", drift.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Unions: one sample per variant. Their tags must cover the schema's, and (c) each sample
// must validate against the schema.

/// The tag of a union member in the schema: `properties.type.enum[0]`, a string `enum`
/// value, or the single required key of an externally tagged object member.
fn schema_tags(name: &str) -> BTreeSet<String> {
    let d = def(&schemas().stable_defs, name);
    let mut out = BTreeSet::new();
    for m in d["oneOf"]
        .as_array()
        .into_iter()
        .chain(d["anyOf"].as_array())
        .flatten()
    {
        if let Some(t) = m["properties"]["type"]["enum"][0].as_str() {
            out.insert(t.to_owned());
        } else if let Some(values) = m["enum"].as_array() {
            out.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
        } else if let Some([key]) = m["required"].as_array().map(Vec::as_slice) {
            out.insert(key.as_str().unwrap().to_owned());
        }
    }
    out
}

fn sample_tag(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some(t) => t.to_owned(),
            None => o.keys().next().cloned().unwrap_or_default(),
        },
        other => other.to_string(),
    }
}

fn to_json<T: Serialize>(t: T) -> Value {
    serde_json::to_value(t).expect("serialize")
}

fn union_samples() -> Vec<(&'static str, Vec<Value>)> {
    let amendment = NetworkPolicyAmendment {
        action: NetworkPolicyRuleAction::Allow,
        host: "example.com".into(),
    };
    vec![
        (
            "ThreadStatus",
            vec![
                to_json(ThreadStatus::NotLoaded),
                to_json(ThreadStatus::Idle),
                to_json(ThreadStatus::SystemError),
                to_json(ThreadStatus::Active {
                    active_flags: vec![ThreadActiveFlag::WaitingOnApproval],
                }),
            ],
        ),
        (
            "UserInput",
            vec![
                to_json(UserInput::text("hi")),
                to_json(UserInput::Image(ImageInput {
                    url: Some("https://x/y.png".into()),
                    ..Default::default()
                })),
                to_json(UserInput::LocalImage(LocalImageInput {
                    path: "/a.png".into(),
                    detail: None,
                })),
                to_json(UserInput::Audio(AudioInput {
                    url: "https://x/a.wav".into(),
                })),
                to_json(UserInput::LocalAudio(LocalAudioInput {
                    path: "/a.wav".into(),
                })),
                to_json(UserInput::Skill(SkillInput {
                    name: "s".into(),
                    path: "/s".into(),
                })),
                to_json(UserInput::Mention(MentionInput {
                    name: "m".into(),
                    path: "/m".into(),
                })),
            ],
        ),
        (
            "SandboxPolicy",
            vec![
                to_json(SandboxPolicy::DangerFullAccess),
                to_json(SandboxPolicy::ReadOnly {
                    network_access: Some(false),
                }),
                to_json(SandboxPolicy::ExternalSandbox {
                    network_access: Some("restricted".into()),
                }),
                to_json(SandboxPolicy::WorkspaceWrite {
                    writable_roots: Some(vec!["/w".into()]),
                    network_access: Some(false),
                    exclude_tmpdir_env_var: Some(false),
                    exclude_slash_tmp: Some(false),
                }),
            ],
        ),
        (
            "PatchChangeKind",
            vec![
                to_json(PatchChangeKind::Add),
                to_json(PatchChangeKind::Delete),
                to_json(PatchChangeKind::Update {
                    move_path: Some("/b".into()),
                }),
            ],
        ),
        (
            "CommandAction",
            vec![
                to_json(CommandAction::Read {
                    command: "cat a".into(),
                    name: "a".into(),
                    path: "/a".into(),
                }),
                to_json(CommandAction::ListFiles {
                    command: "ls".into(),
                    path: None,
                }),
                to_json(CommandAction::Search {
                    command: "rg x".into(),
                    path: None,
                    query: Some("x".into()),
                }),
                to_json(CommandAction::Unknown {
                    command: "x".into(),
                }),
            ],
        ),
        (
            "WebSearchAction",
            vec![
                to_json(WebSearchAction::Search {
                    query: Some("q".into()),
                    queries: None,
                }),
                to_json(WebSearchAction::OpenPage { url: None }),
                to_json(WebSearchAction::FindInPage {
                    url: None,
                    pattern: None,
                }),
                to_json(WebSearchAction::Other),
            ],
        ),
        (
            "CodexErrorInfo",
            [
                CodexErrorInfo::ContextWindowExceeded,
                CodexErrorInfo::SessionBudgetExceeded,
                CodexErrorInfo::UsageLimitExceeded,
                CodexErrorInfo::RateLimitExceeded,
                CodexErrorInfo::FlexUnavailable,
                CodexErrorInfo::ServerOverloaded,
                CodexErrorInfo::CyberPolicy,
                CodexErrorInfo::MisalignmentPolicyViolation,
                CodexErrorInfo::TooManyDenials,
                CodexErrorInfo::InternalServerError,
                CodexErrorInfo::Unauthorized,
                CodexErrorInfo::BadRequest,
                CodexErrorInfo::ThreadRollbackFailed,
                CodexErrorInfo::SandboxError,
                CodexErrorInfo::Other,
                CodexErrorInfo::HttpConnectionFailed {
                    http_status_code: Some(502),
                },
                CodexErrorInfo::ResponseStreamConnectionFailed {
                    http_status_code: None,
                },
                CodexErrorInfo::ResponseStreamDisconnected {
                    http_status_code: None,
                },
                CodexErrorInfo::ResponseTooManyFailedAttempts {
                    http_status_code: None,
                },
                CodexErrorInfo::ActiveTurnNotSteerable {
                    turn_kind: Some("review".into()),
                },
            ]
            .into_iter()
            .map(to_json)
            .collect(),
        ),
        (
            "AskForApproval",
            vec![
                to_json(AskForApproval::Untrusted),
                to_json(AskForApproval::OnRequest),
                to_json(AskForApproval::Never),
                to_json(AskForApproval::Granular(GranularApproval {
                    sandbox_approval: Some(true),
                    rules: Some(true),
                    skill_approval: Some(false),
                    request_permissions: Some(true),
                    mcp_elicitations: Some(false),
                })),
            ],
        ),
        (
            "ReviewTarget",
            vec![
                to_json(ReviewTarget::UncommittedChanges),
                to_json(ReviewTarget::BaseBranch {
                    branch: "main".into(),
                }),
                to_json(ReviewTarget::Commit {
                    sha: "abc".into(),
                    title: Some("t".into()),
                }),
                to_json(ReviewTarget::Custom {
                    instructions: "look".into(),
                }),
            ],
        ),
        (
            "Account",
            vec![
                to_json(Account::ApiKey),
                to_json(Account::Chatgpt {
                    email: Some("a@b".into()),
                    plan_type: Some("plus".into()),
                }),
                to_json(Account::AmazonBedrock {
                    uses_codex_managed_credentials: Some(true),
                }),
            ],
        ),
        (
            "LoginAccountParams",
            vec![
                to_json(LoginAccountParams::ApiKey {
                    api_key: "sk".into(),
                }),
                to_json(LoginAccountParams::Chatgpt {
                    app_brand: Some("codex".into()),
                    codex_streamlined_login: Some(false),
                    use_hosted_login_success_page: Some(false),
                }),
                to_json(LoginAccountParams::ChatgptDeviceCode),
                to_json(LoginAccountParams::ChatgptAuthTokens {
                    access_token: "t".into(),
                    chatgpt_account_id: "a".into(),
                    chatgpt_plan_type: None,
                }),
                to_json(LoginAccountParams::AmazonBedrock {
                    api_key: "k".into(),
                    region: "us-east-1".into(),
                }),
                to_json(LoginAccountParams::AmazonBedrockAccessKeys {
                    access_key_id: "a".into(),
                    secret_access_key: "s".into(),
                    region: "us-east-1".into(),
                    session_token: None,
                }),
            ],
        ),
        (
            "LoginAccountResponse",
            vec![
                to_json(LoginAccountResponse::ApiKey),
                to_json(LoginAccountResponse::Chatgpt {
                    auth_url: "https://x".into(),
                    login_id: "l".into(),
                }),
                to_json(LoginAccountResponse::ChatgptDeviceCode {
                    login_id: "l".into(),
                    user_code: "U".into(),
                    verification_url: "https://x".into(),
                }),
                to_json(LoginAccountResponse::ChatgptAuthTokens),
                to_json(LoginAccountResponse::AmazonBedrock),
            ],
        ),
        (
            "CommandExecutionApprovalDecision",
            vec![
                to_json(CommandExecutionApprovalDecision::Accept),
                to_json(CommandExecutionApprovalDecision::AcceptForSession),
                to_json(
                    CommandExecutionApprovalDecision::AcceptWithExecpolicyAmendment {
                        execpolicy_amendment: vec!["touch".into()],
                    },
                ),
                to_json(
                    CommandExecutionApprovalDecision::ApplyNetworkPolicyAmendment {
                        network_policy_amendment: amendment.clone(),
                    },
                ),
                to_json(CommandExecutionApprovalDecision::Decline),
                to_json(CommandExecutionApprovalDecision::Cancel),
            ],
        ),
        (
            "ReviewDecision",
            vec![
                to_json(ReviewDecision::Approved),
                to_json(ReviewDecision::ApprovedExecpolicyAmendment {
                    proposed_execpolicy_amendment: vec!["ls".into()],
                }),
                to_json(ReviewDecision::ApprovedForSession),
                to_json(ReviewDecision::ApprovedMcpPolicyAmendment),
                to_json(ReviewDecision::NetworkPolicyAmendment {
                    network_policy_amendment: amendment,
                }),
                to_json(ReviewDecision::Denied {
                    rejection: "no".into(),
                }),
                to_json(ReviewDecision::TimedOut),
                to_json(ReviewDecision::Abort),
            ],
        ),
        (
            "DynamicToolCallOutputContentItem",
            vec![
                to_json(DynamicToolCallOutputContentItem::InputText { text: "t".into() }),
                to_json(DynamicToolCallOutputContentItem::InputImage {
                    image_url: "data:".into(),
                }),
                to_json(DynamicToolCallOutputContentItem::InputAudio {
                    audio_url: "data:".into(),
                }),
            ],
        ),
        (
            "FileChange",
            vec![
                to_json(LegacyFileChange::Add {
                    content: "x".into(),
                }),
                to_json(LegacyFileChange::Delete {
                    content: "x".into(),
                }),
                to_json(LegacyFileChange::Update {
                    unified_diff: "@@".into(),
                    move_path: None,
                }),
            ],
        ),
    ]
}

#[test]
fn b_union_variants_match_the_schema() {
    let mut drift = Vec::new();
    let mut check = |name: &str, ours: BTreeSet<String>| {
        let theirs = schema_tags(name);
        for t in theirs.difference(&ours) {
            drift.push(format!("{name}: new variant `{t}` (decodes as Unknown)"));
        }
        for t in ours.difference(&theirs) {
            drift.push(format!("{name}: variant `{t}` is gone"));
        }
    };
    for (name, samples) in union_samples() {
        check(name, samples.iter().map(sample_tag).collect());
    }
    check(
        "ThreadItem",
        ThreadItem::KNOWN_TYPES
            .iter()
            .map(|s| s.to_string())
            .collect(),
    );
    check(
        "UserInput",
        UserInput::KNOWN_TYPES
            .iter()
            .map(|s| s.to_string())
            .collect(),
    );
    assert!(drift.is_empty(), "DRIFT:\n{}", drift.join("\n"));
}

// ---------------------------------------------------------------------------------------
// (c) what we send validates against the schema

fn validate(drift: &mut Vec<String>, name: &str, instance: &Value) {
    let s = schemas();
    let in_v2 = s.exp_bundle["definitions"]["v2"].get(name).is_some();
    let pointer = if in_v2 {
        format!("#/definitions/v2/{name}")
    } else {
        format!("#/definitions/{name}")
    };
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": s.exp_bundle["definitions"],
        "$ref": pointer,
    });
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("cannot compile the schema of {name}: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    if !errors.is_empty() {
        drift.push(format!(
            "{name}: {instance} is invalid: {}",
            errors.join("; ")
        ));
    }
}

fn request_samples() -> Vec<(&'static str, Value)> {
    let thread_id = "01a20127-7409-7d12-89d3-8549da4c4772".to_owned();
    let mut context = BTreeMap::new();
    context.insert(
        "codex-lsp/diagnostics".to_owned(),
        AdditionalContextEntry {
            kind: AdditionalContextKind::Application,
            value: "no errors".into(),
        },
    );
    vec![
        (
            "InitializeParams",
            to_json(InitializeParams {
                client_info: ClientInfo {
                    name: "codex_lsp".into(),
                    title: Some("codex-lsp".into()),
                    version: "0.1.0".into(),
                },
                capabilities: Some(InitializeCapabilities {
                    experimental_api: Some(true),
                    ..Default::default()
                }),
            }),
        ),
        (
            "ThreadStartParams",
            to_json(ThreadStartParams {
                cwd: Some("/w".into()),
                approval_policy: Some(AskForApproval::OnRequest),
                sandbox: Some(SandboxMode::WorkspaceWrite),
                model: Some("gpt-5.5".into()),
                ephemeral: Some(false),
                ..Default::default()
            }),
        ),
        (
            "ThreadResumeParams",
            to_json(ThreadResumeParams {
                thread_id: thread_id.clone(),
                exclude_turns: Some(true),
                ..Default::default()
            }),
        ),
        (
            "ThreadForkParams",
            to_json(ThreadForkParams {
                thread_id: thread_id.clone(),
                ..Default::default()
            }),
        ),
        (
            "ThreadListParams",
            to_json(ThreadListParams {
                limit: Some(20),
                cursor: None,
                ..Default::default()
            }),
        ),
        (
            "ThreadReadParams",
            to_json(ThreadReadParams {
                thread_id: thread_id.clone(),
                include_turns: Some(false),
            }),
        ),
        (
            "ThreadArchiveParams",
            to_json(ThreadArchiveParams {
                thread_id: thread_id.clone(),
            }),
        ),
        (
            "ThreadSetNameParams",
            to_json(ThreadSetNameParams {
                thread_id: thread_id.clone(),
                name: "n".into(),
            }),
        ),
        (
            "ThreadCompactStartParams",
            to_json(ThreadCompactStartParams {
                thread_id: thread_id.clone(),
            }),
        ),
        (
            "ThreadLoadedListParams",
            to_json(ThreadLoadedListParams::default()),
        ),
        (
            "ThreadRevertParams",
            to_json(ThreadRevertParams {
                thread_id: thread_id.clone(),
                before_turn_id: "turn-1".into(),
            }),
        ),
        (
            "TurnStartParams",
            to_json(TurnStartParams {
                thread_id: thread_id.clone(),
                input: vec![
                    UserInput::text("hi"),
                    UserInput::Image(ImageInput {
                        url: Some("https://x/y.png".into()),
                        ..Default::default()
                    }),
                    UserInput::LocalImage(LocalImageInput {
                        path: "/a.png".into(),
                        detail: None,
                    }),
                    UserInput::Mention(MentionInput {
                        name: "a.rs".into(),
                        path: "/w/a.rs".into(),
                    }),
                ],
                model: Some("gpt-5.5".into()),
                effort: Some("high".into()),
                summary: Some(ReasoningSummary::Auto),
                approval_policy: Some(AskForApproval::Never),
                sandbox_policy: Some(SandboxPolicy::WorkspaceWrite {
                    writable_roots: Some(vec!["/w".into()]),
                    network_access: Some(false),
                    exclude_tmpdir_env_var: None,
                    exclude_slash_tmp: None,
                }),
                cwd: Some("/w".into()),
                output_schema: Some(json!({"type": "object"})),
                additional_context: Some(context.clone()),
                ..Default::default()
            }),
        ),
        (
            "TurnSteerParams",
            to_json(TurnSteerParams {
                thread_id: thread_id.clone(),
                expected_turn_id: "u".into(),
                input: vec![UserInput::text("also")],
                additional_context: Some(context),
                ..Default::default()
            }),
        ),
        (
            "TurnInterruptParams",
            to_json(TurnInterruptParams {
                thread_id: thread_id.clone(),
                turn_id: "u".into(),
            }),
        ),
        (
            "ReviewStartParams",
            to_json(ReviewStartParams {
                thread_id: thread_id.clone(),
                target: ReviewTarget::BaseBranch {
                    branch: "main".into(),
                },
                delivery: Some(ReviewDelivery::Detached),
            }),
        ),
        (
            "ModelListParams",
            to_json(ModelListParams {
                include_hidden: Some(false),
                ..Default::default()
            }),
        ),
        (
            "FuzzyFileSearchParams",
            to_json(FuzzyFileSearchParams {
                query: "lib".into(),
                roots: vec!["/w".into()],
                cancellation_token: Some("c".into()),
            }),
        ),
        (
            "GetAccountParams",
            to_json(GetAccountParams {
                refresh_token: Some(false),
            }),
        ),
        (
            "LoginAccountParams",
            to_json(LoginAccountParams::ChatgptDeviceCode),
        ),
        (
            "CancelLoginAccountParams",
            to_json(CancelLoginAccountParams {
                login_id: "l".into(),
            }),
        ),
    ]
}

#[test]
fn c_what_we_send_validates() {
    let mut drift = Vec::new();
    for (name, v) in request_samples() {
        validate(&mut drift, name, &v);
    }
    // The decline answers to every server request that has one.
    for (method, name) in [
        (
            "item/fileChange/requestApproval",
            "FileChangeRequestApprovalResponse",
        ),
        (
            "item/commandExecution/requestApproval",
            "CommandExecutionRequestApprovalResponse",
        ),
        ("item/tool/requestUserInput", "ToolRequestUserInputResponse"),
        (
            "mcpServer/elicitation/request",
            "McpServerElicitationRequestResponse",
        ),
        (
            "item/permissions/requestApproval",
            "PermissionsRequestApprovalResponse",
        ),
        ("item/tool/call", "DynamicToolCallResponse"),
        ("applyPatchApproval", "ApplyPatchApprovalResponse"),
        ("execCommandApproval", "ExecCommandApprovalResponse"),
    ] {
        match ServerRequest::decode(method, json!({})).decline() {
            Reply::Result(v) => validate(&mut drift, name, &v),
            Reply::Error { .. } => drift.push(format!("{method}: decline is an error")),
        }
    }
    for (name, samples) in union_samples() {
        for v in samples {
            validate(&mut drift, name, &v);
        }
    }
    assert!(drift.is_empty(), "DRIFT:\n{}", drift.join("\n"));
}
