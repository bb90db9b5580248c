//! `workspace/executeCommand`: each command takes one argument object. Arguments are
//! checked here (a bad one is -32602 naming the field); the work is the bridge's.

use async_lsp::{ErrorCode, ResponseError};
use lsp_types::Url;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::from_proto;
use crate::bridge::{
    AskRequest, Bridge, BridgeError, ChangeScope, ConflictChoice, LoginMethod, MessageLevel,
    ReviewRequest, ReviewTarget,
};

/// Every command, each with the struct its one argument object is read into: the list
/// announced in `executeCommandProvider`, dispatched in [`run`] and printed by [`schema`].
macro_rules! commands {
    ($($variant:ident = $name:literal => $args:ty,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Command {
            $($variant,)*
        }

        impl Command {
            pub const ALL: &'static [Command] = &[$(Command::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Command::$variant => $name,)*
                }
            }

            /// The fields of its argument object, as its struct reads them.
            pub fn fields(self) -> &'static [&'static str] {
                match self {
                    $(Command::$variant => crate::struct_fields::of::<$args>(),)*
                }
            }
        }
    };
}

commands! {
    Ask = "codex.ask" => AskArgs,
    Interrupt = "codex.interrupt" => InterruptArgs,
    Steer = "codex.steer" => SteerArgs,
    NewThread = "codex.newThread" => UriArgs,
    ResumeThread = "codex.resumeThread" => ResumeThreadArgs,
    ListThreads = "codex.listThreads" => UriArgs,
    ReadThread = "codex.readThread" => ReadThreadArgs,
    Transcript = "codex.transcript" => ReadThreadArgs,
    OpenTranscript = "codex.openTranscript" => OpenTranscriptArgs,
    SendAsk = "codex.sendAsk" => SendAskArgs,
    Login = "codex.login" => LoginArgs,
    Logout = "codex.logout" => NoArgs,
    Account = "codex.account" => NoArgs,
    ListModels = "codex.listModels" => NoArgs,
    SetModel = "codex.setModel" => SetModelArgs,
    Status = "codex.status" => NoArgs,
    ResolveConflict = "codex.resolveConflict" => ResolveConflictArgs,
    Review = "codex.review" => ReviewArgs,
    ClearReview = "codex.clearReview" => NoArgs,
    DismissFinding = "codex.dismissFinding" => DismissFindingArgs,
    AnswerApproval = "codex.answerApproval" => AnswerApprovalArgs,
    KeepChange = "codex.keepChange" => ChangeArgs,
    RevertChange = "codex.revertChange" => ChangeArgs,
    UndoTurn = "codex.undoTurn" => UndoTurnArgs,
    ListChanges = "codex.listChanges" => NoArgs,
    ChangeBase = "codex.changeBase" => ChangeBaseArgs,
    InstallRuntime = "codex.installRuntime" => NoArgs,
}

impl Command {
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// `{command: {fields: [...]}}` for every command: what docs/lsp.md's command table is
/// checked against (`tests/settings_schema.rs`).
pub fn schema() -> Value {
    Command::ALL
        .iter()
        .map(|c| {
            (
                c.name().to_string(),
                serde_json::json!({ "fields": c.fields() }),
            )
        })
        .collect::<Map<String, Value>>()
        .into()
}

pub fn invalid_params(message: impl Into<String>) -> ResponseError {
    ResponseError::new(ErrorCode::INVALID_PARAMS, message.into())
}

pub fn bridge_error(e: BridgeError) -> ResponseError {
    let code = match e.is_invalid_params() {
        true => ErrorCode::INVALID_PARAMS,
        false => ErrorCode::REQUEST_FAILED,
    };
    ResponseError::new(code, e.to_string())
}

/// The one argument object of a command: absent or null is `{}`.
fn argument_object(command: Command, arguments: Vec<Value>) -> Result<Value, ResponseError> {
    match arguments.into_iter().next() {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(object @ Value::Object(_)) => Ok(object),
        Some(_) => Err(invalid_params(format!(
            "{}: the argument must be one object",
            command.name()
        ))),
    }
}

/// Reads a command's argument object into its struct; the error names the command and the
/// field, however deep (`codex.ask: \`range.start.line\`: invalid type: …`).
fn parse<T: DeserializeOwned>(command: Command, argument: Value) -> Result<T, ResponseError> {
    serde_path_to_error::deserialize(argument).map_err(|e| {
        let path = e.path().to_string();
        let why = e.into_inner();
        invalid_params(if path == "." {
            format!("{}: {why}", command.name())
        } else {
            format!("{}: `{path}`: {why}", command.name())
        })
    })
}

// The argument structs. A field that may be left out is an `Option` (null is left out
// too); unknown fields are ignored, as an older or newer editor plugin may send them.

/// Also what the code actions send (`Serialize`): what they carry is what the command reads.
#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AskArgs {
    pub prompt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<lsp_types::Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_thread: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait: Option<bool>,
    /// Image files sent with the prompt (`localImage`); relative to the workspace folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<String>>,
}

/// Also what the transcript's "Codex: Interrupt" action sends.
#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InterruptArgs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SteerArgs {
    prompt: String,
    thread_id: Option<String>,
}

/// `{uri?}`: the workspace folder of `uri` (else the first).
#[derive(Deserialize)]
struct UriArgs {
    uri: Option<Url>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResumeThreadArgs {
    thread_id: String,
    uri: Option<Url>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadThreadArgs {
    thread_id: Option<String>,
    uri: Option<Url>,
}

/// Also what the transcript's "Codex: New thread" action sends.
#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct OpenTranscriptArgs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_thread: Option<bool>,
}

/// `{uri?}`: the transcript document whose ask section to send (default: the one changed
/// last).
#[derive(Deserialize, Serialize, Default)]
pub struct SendAskArgs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<Url>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginArgs {
    method: LoginKind,
    /// Only with `method: "apiKey"`.
    api_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum LoginKind {
    ApiKey,
    Chatgpt,
    DeviceCode,
}

#[derive(Deserialize)]
struct NoArgs {}

/// `{model?, effort?}`: neither lets the user pick. Also what the model code actions send.
#[derive(Deserialize, Serialize)]
pub struct SetModelArgs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveConflictArgs {
    pub uri: Url,
    pub conflict_id: u64,
    pub take: Take,
}

#[derive(Deserialize, Serialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Take {
    Codex,
    Mine,
}

#[derive(Deserialize)]
struct ReviewArgs {
    target: Option<ReviewTargetArg>,
    uri: Option<Url>,
    wait: Option<bool>,
}

#[derive(Deserialize, Serialize)]
pub struct DismissFindingArgs {
    pub id: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerApprovalArgs {
    pub approval_id: String,
    pub choice: String,
}

/// `{id}` (one hunk), `{uri}` (every change in the file) or `{turnId}` (every change of
/// the turn): what `codex.keepChange` and `codex.revertChange` apply to.
#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ChangeArgs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
}

/// `{uri, turnId}`: the file whose text before the turn `codex.changeBase` returns.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeBaseArgs {
    pub uri: Url,
    pub turn_id: String,
}

/// `{turnId?}`: the turn to undo (default: the newest with changes left).
#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UndoTurnArgs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
}

/// The `lsp_types::Command` a code action carries: `command` with `args`, the struct that
/// command reads.
pub fn carrying<T: Serialize>(title: String, command: Command, args: &T) -> lsp_types::Command {
    lsp_types::Command {
        title,
        command: command.name().to_string(),
        arguments: Some(vec![serde_json::to_value(args).unwrap_or_default()]),
    }
}

/// `target`: `"uncommittedChanges"` (the default) | `{baseBranch}` | `{commit, title?}` |
/// `{instructions}`.
struct ReviewTargetArg(ReviewTarget);

const REVIEW_TARGETS: &str =
    "\"uncommittedChanges\", {baseBranch}, {commit, title?} or {instructions}";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReviewTargetObject {
    base_branch: Option<NonEmpty>,
    commit: Option<NonEmpty>,
    title: Option<NonEmpty>,
    instructions: Option<NonEmpty>,
}

impl<'de> Deserialize<'de> for ReviewTargetArg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TargetVisitor;
        impl<'de> Visitor<'de> for TargetVisitor {
            type Value = ReviewTargetArg;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(REVIEW_TARGETS)
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                match s {
                    "uncommittedChanges" => Ok(ReviewTargetArg(ReviewTarget::UncommittedChanges)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                }
            }

            // Through the map itself, so that an error inside names its key
            // (`target.commit`).
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let object =
                    ReviewTargetObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let target = if let Some(NonEmpty(branch)) = object.base_branch {
                    ReviewTarget::BaseBranch(branch)
                } else if let Some(NonEmpty(sha)) = object.commit {
                    ReviewTarget::Commit {
                        sha,
                        title: object.title.map(|t| t.0),
                    }
                } else if let Some(NonEmpty(instructions)) = object.instructions {
                    ReviewTarget::Custom(instructions)
                } else {
                    return Err(de::Error::invalid_value(de::Unexpected::Map, &self));
                };
                Ok(ReviewTargetArg(target))
            }
        }
        deserializer.deserialize_any(TargetVisitor)
    }
}

/// A string with something besides white space in it.
struct NonEmpty(String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NonEmptyVisitor;
        impl Visitor<'_> for NonEmptyVisitor {
            type Value = NonEmpty;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a non-empty string")
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<NonEmpty, E> {
                if s.trim().is_empty() {
                    Err(E::invalid_value(de::Unexpected::Str(s), &self))
                } else {
                    Ok(NonEmpty(s.to_string()))
                }
            }
        }
        deserializer.deserialize_str(NonEmptyVisitor)
    }
}

/// Runs one command; the future owns what it needs, so it may outlive the main loop's turn.
///
/// A command sent without an argument object (all Helix can send) that fails also shows its
/// error with `window/showMessage`: such editors only log a command's error response. So does
/// a failed `codex.answerApproval`, which only such editors are offered.
pub async fn execute(
    bridge: Bridge,
    command: String,
    arguments: Vec<Value>,
) -> Result<Option<Value>, ResponseError> {
    let bare = arguments.iter().all(Value::is_null);
    let known = Command::from_name(&command);
    let shown = bare || known == Some(Command::AnswerApproval);
    // An error answer is not named: the editor adds its own "Codex: … failed: ".
    let result = run(bridge.clone(), command.clone(), arguments)
        .await
        .map_err(|mut e| {
            e.message = crate::bridge::unprefixed(&e.message).to_string();
            e
        });
    match (&result, shown, bare) {
        (Err(e), true, _) => bridge.show_message(MessageLevel::Warning, e.message.clone()),
        (Ok(Some(value)), _, true) if bridge.drops_command_results() => {
            if let Some(text) = known.and_then(|c| result_message(c, value)) {
                bridge.show_message(MessageLevel::Info, text);
            }
        }
        _ => {}
    }
    result
}

/// What a command sent without arguments answered, as one line for `window/showMessage`, for
/// editors that drop command results (Helix's `:lsp-workspace-command`: without it
/// `codex.status` showed nothing). Turns (ask, review) show as their progress.
fn result_message(command: Command, result: &Value) -> Option<String> {
    let count = |v: &Value| v.as_array().map_or(0, Vec::len);
    let text = match command {
        Command::Ask
        | Command::SendAsk
        | Command::OpenTranscript
        | Command::Review
        | Command::AnswerApproval
        | Command::DismissFinding
        | Command::ResolveConflict
        | Command::InstallRuntime => return None,
        Command::Status => {
            let app = &result["appServer"];
            let settings = &result["settings"];
            let mut version = app["version"].as_str().unwrap_or_default().to_string();
            if !version.is_empty() {
                version = format!(" {version}");
            }
            let turns = count(&result["activeTurns"]);
            // The status line starts with the model: "gpt-5.5 high · 43% of context · 5h 12%".
            let figures = result["statusLine"]["text"].as_str().unwrap_or_default();
            format!(
                "Codex: app-server {}{version}; {}; model {}, approvals {}, sandbox {}",
                app["state"].as_str().unwrap_or("unknown"),
                match turns {
                    0 => "no turn running".to_string(),
                    1 => "1 turn running".to_string(),
                    n => format!("{n} turns running"),
                },
                match figures {
                    "" => settings["model"].as_str().unwrap_or("default"),
                    figures => figures,
                },
                settings["approvalPolicy"].as_str().unwrap_or("default"),
                settings["sandbox"].as_str().unwrap_or("default"),
            )
        }
        // An interrupted turn says so as its progress ends; a message would replace that.
        Command::Interrupt if count(&result["interrupted"]) > 0 => return None,
        Command::Interrupt => "Codex: no turn is running".to_string(),
        Command::NewThread => format!(
            "Codex: new thread {}",
            result["threadId"].as_str().unwrap_or("?")
        ),
        Command::SetModel if result["changed"] == false => return None,
        Command::SetModel => format!(
            "Codex: model {}{} from the next turn",
            result["model"].as_str().unwrap_or("default"),
            result["effort"]
                .as_str()
                .map(|e| format!(", effort {e}"))
                .unwrap_or_default()
        ),
        Command::ClearReview => {
            format!("Codex: cleared {} review finding(s)", result["cleared"])
        }
        other => {
            let text = result.to_string();
            let cut: String = text.chars().take(300).collect();
            let more = if cut.len() < text.len() { " …" } else { "" };
            format!("Codex: {}: {cut}{more}", other.name())
        }
    };
    Some(text)
}

async fn run(
    bridge: Bridge,
    command: String,
    arguments: Vec<Value>,
) -> Result<Option<Value>, ResponseError> {
    let Some(command) = Command::from_name(&command) else {
        let known: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
        return Err(invalid_params(format!(
            "unknown command `{command}`; codex-lsp knows: {}",
            known.join(", ")
        )));
    };
    let argument = argument_object(command, arguments)?;
    let path_of = |uri: &Option<Url>| uri.as_ref().and_then(|u| u.to_file_path().ok());
    let result = match command {
        Command::Ask => {
            if argument.as_object().is_some_and(Map::is_empty) {
                return Err(invalid_params(
                    "codex.ask: missing field `prompt` (the command takes one object \
                     {prompt, uri?, range?, threadId?, newThread?, wait?, images?}; editors that cannot \
                     pass arguments can use the Codex code actions instead)",
                ));
            }
            let args: AskArgs = parse(command, argument)?;
            if args.range.is_some() && args.uri.is_none() {
                return Err(invalid_params("codex.ask: `range` needs `uri`"));
            }
            let request = AskRequest {
                prompt: args.prompt,
                path: path_of(&args.uri),
                uri: args.uri.map(|u| u.to_string()),
                range: args.range.map(from_proto::range),
                thread_id: args.thread_id,
                new_thread: args.new_thread.unwrap_or(false),
                wait: args.wait.unwrap_or(false),
                images: args.images.unwrap_or_default(),
            };
            bridge.ask(request).await
        }
        Command::Interrupt => {
            let args: InterruptArgs = parse(command, argument)?;
            bridge
                .interrupt(args.thread_id.as_deref(), args.turn_id.as_deref())
                .await
        }
        Command::Steer => {
            let args: SteerArgs = parse(command, argument)?;
            bridge.steer(&args.prompt, args.thread_id.as_deref()).await
        }
        Command::NewThread => {
            let args: UriArgs = parse(command, argument)?;
            bridge.new_thread(path_of(&args.uri).as_deref()).await
        }
        Command::ResumeThread => {
            let args: ResumeThreadArgs = parse(command, argument)?;
            bridge
                .resume_thread(&args.thread_id, path_of(&args.uri).as_deref())
                .await
        }
        Command::ListThreads => {
            let args: UriArgs = parse(command, argument)?;
            bridge.list_threads(path_of(&args.uri).as_deref()).await
        }
        Command::ReadThread => {
            let args: ReadThreadArgs = parse(command, argument)?;
            bridge
                .read_thread(args.thread_id.as_deref(), path_of(&args.uri).as_deref())
                .await
        }
        Command::Transcript => {
            let args: ReadThreadArgs = parse(command, argument)?;
            bridge
                .transcript(args.thread_id.as_deref(), path_of(&args.uri).as_deref())
                .await
        }
        Command::OpenTranscript => {
            let args: OpenTranscriptArgs = parse(command, argument)?;
            bridge
                .open_transcript(
                    args.thread_id.as_deref(),
                    path_of(&args.uri).as_deref(),
                    args.new_thread.unwrap_or(false),
                )
                .await
        }
        Command::SendAsk => {
            let args: SendAskArgs = parse(command, argument)?;
            bridge.send_ask(args.uri.as_ref().map(Url::as_str)).await
        }
        Command::Login => {
            let args: LoginArgs = parse(command, argument)?;
            let method = match args.method {
                LoginKind::ApiKey => {
                    let key = args
                        .api_key
                        .ok_or_else(|| invalid_params("codex.login: missing field `apiKey`"))?;
                    crate::logging::register_secret(&key);
                    LoginMethod::ApiKey(key)
                }
                LoginKind::Chatgpt => LoginMethod::Chatgpt,
                LoginKind::DeviceCode => LoginMethod::DeviceCode,
            };
            bridge.login(method).await
        }
        Command::InstallRuntime => {
            let NoArgs {} = parse(command, argument)?;
            bridge.install_runtime()
        }
        Command::Logout | Command::Account | Command::ListModels | Command::Status => {
            let NoArgs {} = parse(command, argument)?;
            match command {
                Command::Logout => bridge.logout().await,
                Command::Account => bridge.account().await,
                Command::ListModels => bridge.list_models().await,
                _ => bridge.status().await,
            }
        }
        Command::SetModel => {
            let args: SetModelArgs = parse(command, argument)?;
            let given = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
            bridge
                .set_model(given(args.model), given(args.effort))
                .await
        }
        Command::ResolveConflict => {
            let args: ResolveConflictArgs = parse(command, argument)?;
            let choice = match args.take {
                Take::Codex => ConflictChoice::TakeCodex,
                Take::Mine => ConflictChoice::KeepMine,
            };
            bridge
                .resolve_conflict(args.uri.as_str(), args.conflict_id, choice)
                .await
        }
        Command::KeepChange | Command::RevertChange => {
            let args: ChangeArgs = parse(command, argument)?;
            let scope = match (args.id, args.uri, args.turn_id) {
                (Some(id), _, _) => ChangeScope::Hunk(id),
                (None, Some(uri), _) => ChangeScope::File(uri.to_file_path().map_err(|_| {
                    invalid_params(format!("{}: `uri` is not a file URI", command.name()))
                })?),
                (None, None, Some(turn)) => ChangeScope::Turn(Some(turn)),
                (None, None, None) => {
                    return Err(invalid_params(format!(
                        "{}: give `id` (one change), `uri` (a file) or `turnId` (a turn)",
                        command.name()
                    )))
                }
            };
            match command {
                Command::KeepChange => bridge.keep_changes(scope),
                _ => bridge.revert_and_tell(scope).await,
            }
        }
        Command::UndoTurn => {
            let args: UndoTurnArgs = parse(command, argument)?;
            bridge.undo_turn(args.turn_id.as_deref()).await
        }
        Command::ListChanges => {
            let NoArgs {} = parse(command, argument)?;
            bridge.list_changes()
        }
        Command::ChangeBase => {
            let args: ChangeBaseArgs = parse(command, argument)?;
            let path = args.uri.to_file_path().map_err(|_| {
                invalid_params(format!("{}: `uri` is not a file URI", command.name()))
            })?;
            bridge.change_base(&path, &args.turn_id)
        }
        Command::Review => {
            let args: ReviewArgs = parse(command, argument)?;
            let request = ReviewRequest {
                target: args.target.map(|t| t.0).unwrap_or_default(),
                path: path_of(&args.uri),
                wait: args.wait.unwrap_or(false),
            };
            bridge.review(request).await
        }
        Command::ClearReview => {
            let NoArgs {} = parse(command, argument)?;
            bridge.clear_review()
        }
        Command::DismissFinding => {
            let args: DismissFindingArgs = parse(command, argument)?;
            bridge.dismiss_finding(&args.id)
        }
        Command::AnswerApproval => {
            let args: AnswerApprovalArgs = parse(command, argument)?;
            bridge.answer_approval(&args.approval_id, &args.choice)
        }
    };
    result.map(Some).map_err(bridge_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error_of<T: DeserializeOwned>(command: Command, argument: Value) -> String {
        match parse::<T>(command, argument.clone()) {
            Ok(_) => panic!("{argument} parsed"),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
                e.message
            }
        }
    }

    #[test]
    fn argument_errors_name_the_command_and_the_field() {
        let ask = |v| error_of::<AskArgs>(Command::Ask, v);
        assert_eq!(
            ask(json!({"prompt": 3})),
            "codex.ask: `prompt`: invalid type: integer `3`, expected a string"
        );
        assert!(ask(json!({"prompt": "x", "wait": "yes"})).starts_with("codex.ask: `wait`: "));
        assert!(
            ask(json!({"prompt": "x", "range": {"start": {"line": "x", "character": 0}}}))
                .starts_with("codex.ask: `range.start.line`: invalid type: string"),
        );
        assert_eq!(
            error_of::<SteerArgs>(Command::Steer, json!({})),
            "codex.steer: missing field `prompt`"
        );
        assert!(argument_object(Command::Ask, vec![json!("text")]).is_err());
        assert_eq!(
            argument_object(Command::Ask, vec![]).unwrap(),
            json!({}),
            "no argument is an empty object"
        );
    }

    #[test]
    fn null_is_left_out() {
        let args: AskArgs = parse(
            Command::Ask,
            json!({"prompt": "p", "uri": null, "wait": null, "threadId": null}),
        )
        .unwrap();
        assert!(args.uri.is_none() && args.wait.is_none() && args.thread_id.is_none());
    }

    #[test]
    fn review_targets_parse_and_bad_ones_name_the_field() {
        let target = |v: Value| {
            parse::<ReviewArgs>(Command::Review, json!({ "target": v }))
                .map(|a| a.target.map(|t| t.0).unwrap_or_default())
        };
        assert_eq!(
            target(json!(null)).unwrap(),
            ReviewTarget::UncommittedChanges
        );
        assert_eq!(
            target(json!("uncommittedChanges")).unwrap(),
            ReviewTarget::UncommittedChanges
        );
        assert_eq!(
            target(json!({"baseBranch": "main"})).unwrap(),
            ReviewTarget::BaseBranch("main".into())
        );
        assert_eq!(
            target(json!({"commit": "abc", "title": "Fix"})).unwrap(),
            ReviewTarget::Commit {
                sha: "abc".into(),
                title: Some("Fix".into())
            }
        );
        assert_eq!(
            target(json!({"instructions": "look at errors"})).unwrap(),
            ReviewTarget::Custom("look at errors".into())
        );
        for (bad, path) in [
            (json!("everything"), "`target`"),
            (json!({"branch": "x"}), "`target`"),
            (json!({"commit": 3}), "`target.commit`"),
            (json!({"commit": " "}), "`target.commit`"),
        ] {
            let e = target(bad).unwrap_err();
            assert!(
                e.message.starts_with(&format!("codex.review: {path}: ")),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn what_a_code_action_carries_is_what_the_command_reads() {
        let uri = Url::parse("file:///w/a.rs").unwrap();
        let sent = carrying(
            "t".into(),
            Command::Ask,
            &AskArgs {
                prompt: "p".into(),
                uri: Some(uri.clone()),
                ..AskArgs::default()
            },
        );
        let argument = sent.arguments.unwrap().remove(0);
        assert_eq!(argument, json!({"prompt": "p", "uri": "file:///w/a.rs"}));
        let read: AskArgs = parse(Command::Ask, argument).unwrap();
        assert_eq!((read.prompt.as_str(), read.uri), ("p", Some(uri)));
    }

    #[test]
    fn every_command_has_its_fields() {
        let names: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "each name once: {names:?}");
        assert!(names.iter().all(|n| n.starts_with("codex.")), "{names:?}");
        assert_eq!(Command::KeepChange.fields(), ["id", "uri", "turnId"]);
        assert_eq!(Command::UndoTurn.fields(), ["turnId"]);
        assert_eq!(Command::SetModel.fields(), ["model", "effort"]);
        assert_eq!(Command::from_name("codex.status"), Some(Command::Status));
        assert_eq!(
            Command::Ask.fields(),
            [
                "prompt",
                "uri",
                "range",
                "threadId",
                "newThread",
                "wait",
                "images"
            ]
        );
        assert_eq!(
            Command::ResolveConflict.fields(),
            ["uri", "conflictId", "take"]
        );
        assert!(Command::Status.fields().is_empty());
        assert_eq!(
            schema()["codex.login"]["fields"],
            json!(["method", "apiKey"])
        );
    }
}
