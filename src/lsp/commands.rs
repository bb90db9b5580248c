//! `workspace/executeCommand`: each command takes one argument object. Arguments are
//! checked here (a bad one is -32602 naming the field); the work is the bridge's.

use async_lsp::{ErrorCode, ResponseError};
use lsp_types::Url;
use serde_json::{Map, Value};

use super::convert;
use crate::bridge::{
    AskRequest, Bridge, BridgeError, ConflictChoice, LoginMethod, MessageLevel, ReviewRequest,
    ReviewTarget,
};

pub const ASK: &str = "codex.ask";
pub const INTERRUPT: &str = "codex.interrupt";
pub const STEER: &str = "codex.steer";
pub const NEW_THREAD: &str = "codex.newThread";
pub const RESUME_THREAD: &str = "codex.resumeThread";
pub const LIST_THREADS: &str = "codex.listThreads";
pub const READ_THREAD: &str = "codex.readThread";
pub const LOGIN: &str = "codex.login";
pub const LOGOUT: &str = "codex.logout";
pub const ACCOUNT: &str = "codex.account";
pub const LIST_MODELS: &str = "codex.listModels";
pub const STATUS: &str = "codex.status";
pub const RESOLVE_CONFLICT: &str = "codex.resolveConflict";
pub const REVIEW: &str = "codex.review";
pub const CLEAR_REVIEW: &str = "codex.clearReview";
pub const DISMISS_FINDING: &str = "codex.dismissFinding";
pub const ANSWER_APPROVAL: &str = "codex.answerApproval";

/// Every command, as announced in `executeCommandProvider`.
pub const ALL: &[&str] = &[
    ASK,
    INTERRUPT,
    STEER,
    NEW_THREAD,
    RESUME_THREAD,
    LIST_THREADS,
    READ_THREAD,
    LOGIN,
    LOGOUT,
    ACCOUNT,
    LIST_MODELS,
    STATUS,
    RESOLVE_CONFLICT,
    REVIEW,
    CLEAR_REVIEW,
    DISMISS_FINDING,
    ANSWER_APPROVAL,
];

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

/// The one argument object of a command.
struct Args {
    command: String,
    fields: Map<String, Value>,
}

impl Args {
    fn new(command: &str, arguments: Vec<Value>) -> Result<Args, ResponseError> {
        let fields = match arguments.into_iter().next() {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(fields)) => fields,
            Some(_) => {
                return Err(invalid_params(format!(
                    "{command}: the argument must be one object"
                )));
            }
        };
        Ok(Args {
            command: command.to_string(),
            fields,
        })
    }

    fn ill_typed(&self, field: &str, expected: &str) -> ResponseError {
        invalid_params(format!("{}: `{field}` must be {expected}", self.command))
    }

    fn string(&self, field: &str) -> Result<Option<String>, ResponseError> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.ill_typed(field, "a string")),
        }
    }

    fn required_string(&self, field: &str) -> Result<String, ResponseError> {
        self.string(field)?
            .ok_or_else(|| invalid_params(format!("{}: missing field `{field}`", self.command)))
    }

    fn bool(&self, field: &str) -> Result<bool, ResponseError> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.ill_typed(field, "true or false")),
        }
    }

    fn uri(&self, field: &str) -> Result<Option<Url>, ResponseError> {
        self.string(field)?
            .map(|s| Url::parse(&s).map_err(|_| self.ill_typed(field, "a URI")))
            .transpose()
    }

    fn range(&self, field: &str) -> Result<Option<lsp_types::Range>, ResponseError> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value.clone())
                .map(Some)
                .map_err(|_| {
                    self.ill_typed(
                        field,
                        "an LSP range {start: {line, character}, end: {line, character}}",
                    )
                }),
        }
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
    let shown = bare || command == ANSWER_APPROVAL;
    // An error answer is not named: the editor adds its own "Codex: … failed: ".
    let result = run(bridge.clone(), command.clone(), arguments)
        .await
        .map_err(|mut e| {
            e.message = crate::bridge::unprefixed(&e.message).to_string();
            e
        });
    match (&result, shown, bare) {
        (Err(e), true, _) => bridge.show_message(MessageLevel::Warning, e.message.clone()),
        (Ok(Some(value)), _, true) if bridge.status_line_only() => {
            if let Some(text) = result_message(&command, value) {
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
fn result_message(command: &str, result: &Value) -> Option<String> {
    let count = |v: &Value| v.as_array().map_or(0, Vec::len);
    let text = match command {
        ASK | REVIEW | ANSWER_APPROVAL | DISMISS_FINDING | RESOLVE_CONFLICT => return None,
        STATUS => {
            let app = &result["appServer"];
            let settings = &result["settings"];
            let mut version = app["version"].as_str().unwrap_or_default().to_string();
            if !version.is_empty() {
                version = format!(" {version}");
            }
            let turns = count(&result["activeTurns"]);
            format!(
                "Codex: app-server {}{version}; {}; model {}, approvals {}, sandbox {}",
                app["state"].as_str().unwrap_or("unknown"),
                match turns {
                    0 => "no turn running".to_string(),
                    1 => "1 turn running".to_string(),
                    n => format!("{n} turns running"),
                },
                settings["model"].as_str().unwrap_or("default"),
                settings["approvalPolicy"].as_str().unwrap_or("default"),
                settings["sandbox"].as_str().unwrap_or("default"),
            )
        }
        // An interrupted turn says so as its progress ends; a message would replace that.
        INTERRUPT if count(&result["interrupted"]) > 0 => return None,
        INTERRUPT => "Codex: no turn is running".to_string(),
        NEW_THREAD => format!(
            "Codex: new thread {}",
            result["threadId"].as_str().unwrap_or("?")
        ),
        CLEAR_REVIEW => format!("Codex: cleared {} review finding(s)", result["cleared"]),
        other => {
            let text = result.to_string();
            let cut: String = text.chars().take(300).collect();
            let more = if cut.len() < text.len() { " …" } else { "" };
            format!("Codex: {other}: {cut}{more}")
        }
    };
    Some(text)
}

async fn run(
    bridge: Bridge,
    command: String,
    arguments: Vec<Value>,
) -> Result<Option<Value>, ResponseError> {
    let args = Args::new(&command, arguments)?;
    let path_of = |uri: &Option<Url>| uri.as_ref().and_then(|u| u.to_file_path().ok());
    let result = match command.as_str() {
        ASK => {
            let prompt = match args.string("prompt")? {
                Some(prompt) => prompt,
                None if args.fields.is_empty() => {
                    return Err(invalid_params(
                        "codex.ask: missing field `prompt` (the command takes one object \
                         {prompt, uri?, range?, threadId?, newThread?, wait?}; editors that cannot \
                         pass arguments can use the Codex code actions instead)",
                    ))
                }
                None => return Err(invalid_params("codex.ask: missing field `prompt`")),
            };
            let uri = args.uri("uri")?;
            let range = args.range("range")?;
            if range.is_some() && uri.is_none() {
                return Err(invalid_params("codex.ask: `range` needs `uri`"));
            }
            let request = AskRequest {
                prompt,
                path: path_of(&uri),
                uri: uri.map(|u| u.to_string()),
                range: range.map(convert::range_from_lsp),
                thread_id: args.string("threadId")?,
                new_thread: args.bool("newThread")?,
                wait: args.bool("wait")?,
            };
            bridge.ask(request).await
        }
        INTERRUPT => {
            bridge
                .interrupt(
                    args.string("threadId")?.as_deref(),
                    args.string("turnId")?.as_deref(),
                )
                .await
        }
        STEER => {
            let prompt = args.required_string("prompt")?;
            bridge
                .steer(&prompt, args.string("threadId")?.as_deref())
                .await
        }
        NEW_THREAD => {
            bridge
                .new_thread(path_of(&args.uri("uri")?).as_deref())
                .await
        }
        RESUME_THREAD => {
            let thread_id = args.required_string("threadId")?;
            bridge
                .resume_thread(&thread_id, path_of(&args.uri("uri")?).as_deref())
                .await
        }
        LIST_THREADS => {
            bridge
                .list_threads(path_of(&args.uri("uri")?).as_deref())
                .await
        }
        READ_THREAD => {
            bridge
                .read_thread(
                    args.string("threadId")?.as_deref(),
                    path_of(&args.uri("uri")?).as_deref(),
                )
                .await
        }
        LOGIN => {
            let method = match args.required_string("method")?.as_str() {
                "apiKey" => {
                    let key = args.required_string("apiKey")?;
                    crate::logging::register_secret(&key);
                    LoginMethod::ApiKey(key)
                }
                "chatgpt" => LoginMethod::Chatgpt,
                "deviceCode" => LoginMethod::DeviceCode,
                _ => {
                    return Err(
                        args.ill_typed("method", "one of \"apiKey\", \"chatgpt\", \"deviceCode\"")
                    )
                }
            };
            bridge.login(method).await
        }
        LOGOUT => bridge.logout().await,
        ACCOUNT => bridge.account().await,
        LIST_MODELS => bridge.list_models().await,
        STATUS => bridge.status().await,
        RESOLVE_CONFLICT => {
            let uri = args.uri("uri")?.ok_or_else(|| {
                invalid_params(format!("{RESOLVE_CONFLICT}: missing field `uri`"))
            })?;
            let id = match args.fields.get("conflictId") {
                Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64().unwrap_or_default(),
                None | Some(Value::Null) => {
                    return Err(invalid_params(format!(
                        "{RESOLVE_CONFLICT}: missing field `conflictId`"
                    )))
                }
                Some(_) => return Err(args.ill_typed("conflictId", "a number")),
            };
            let choice = match args.required_string("take")?.as_str() {
                "codex" => ConflictChoice::TakeCodex,
                "mine" => ConflictChoice::KeepMine,
                _ => return Err(args.ill_typed("take", "\"codex\" or \"mine\"")),
            };
            bridge.resolve_conflict(uri.as_str(), id, choice).await
        }
        REVIEW => {
            let request = ReviewRequest {
                target: review_target(&args)?,
                path: path_of(&args.uri("uri")?),
                wait: args.bool("wait")?,
            };
            bridge.review(request).await
        }
        CLEAR_REVIEW => bridge.clear_review(),
        DISMISS_FINDING => {
            let id = args.required_string("id")?;
            bridge.dismiss_finding(&id)
        }
        ANSWER_APPROVAL => {
            let id = args.required_string("approvalId")?;
            let choice = args.required_string("choice")?;
            bridge.answer_approval(&id, &choice)
        }
        other => {
            return Err(ResponseError::new(
                ErrorCode::INVALID_PARAMS,
                format!(
                    "unknown command `{other}`; codex-lsp knows: {}",
                    ALL.join(", ")
                ),
            ))
        }
    };
    result.map(Some).map_err(bridge_error)
}

/// `target`: `"uncommittedChanges"` (the default) | `{baseBranch}` | `{commit, title?}` |
/// `{instructions}`.
fn review_target(args: &Args) -> Result<ReviewTarget, ResponseError> {
    const EXPECTED: &str =
        "\"uncommittedChanges\", {baseBranch}, {commit, title?} or {instructions}";
    let text = |object: &Map<String, Value>, key: &str| match object.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        None | Some(Value::Null) => Ok(None),
        Some(_) => Err(args.ill_typed(&format!("target.{key}"), "a non-empty string")),
    };
    match args.fields.get("target") {
        None | Some(Value::Null) => Ok(ReviewTarget::UncommittedChanges),
        Some(Value::String(s)) if s == "uncommittedChanges" => Ok(ReviewTarget::UncommittedChanges),
        Some(Value::Object(object)) => {
            if let Some(branch) = text(object, "baseBranch")? {
                Ok(ReviewTarget::BaseBranch(branch))
            } else if let Some(sha) = text(object, "commit")? {
                Ok(ReviewTarget::Commit {
                    sha,
                    title: text(object, "title")?,
                })
            } else if let Some(instructions) = text(object, "instructions")? {
                Ok(ReviewTarget::Custom(instructions))
            } else {
                Err(args.ill_typed("target", EXPECTED))
            }
        }
        Some(_) => Err(args.ill_typed("target", EXPECTED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn argument_errors_name_the_field() {
        let args = Args::new(
            "codex.ask",
            vec![json!({"prompt": 3, "wait": "yes", "range": {"start": 1}})],
        )
        .unwrap();
        assert!(args
            .string("prompt")
            .unwrap_err()
            .message
            .contains("`prompt` must be a string"));
        assert!(args.bool("wait").unwrap_err().message.contains("`wait`"));
        assert!(args.range("range").unwrap_err().message.contains("`range`"));
        let missing = Args::new("codex.steer", vec![json!({})])
            .unwrap()
            .required_string("prompt")
            .unwrap_err();
        assert_eq!(missing.code, ErrorCode::INVALID_PARAMS);
        assert_eq!(missing.message, "codex.steer: missing field `prompt`");
        assert!(Args::new("codex.ask", vec![json!("text")]).is_err());
    }

    #[test]
    fn review_targets_parse_and_bad_ones_name_the_field() {
        let target = |v: Value| review_target(&Args::new("codex.review", vec![v]).unwrap());
        assert_eq!(target(json!({})).unwrap(), ReviewTarget::UncommittedChanges);
        assert_eq!(
            target(json!({"target": "uncommittedChanges"})).unwrap(),
            ReviewTarget::UncommittedChanges
        );
        assert_eq!(
            target(json!({"target": {"baseBranch": "main"}})).unwrap(),
            ReviewTarget::BaseBranch("main".into())
        );
        assert_eq!(
            target(json!({"target": {"commit": "abc", "title": "Fix"}})).unwrap(),
            ReviewTarget::Commit {
                sha: "abc".into(),
                title: Some("Fix".into())
            }
        );
        assert_eq!(
            target(json!({"target": {"instructions": "look at errors"}})).unwrap(),
            ReviewTarget::Custom("look at errors".into())
        );
        for bad in [
            json!("everything"),
            json!({"branch": "x"}),
            json!({"commit": 3}),
        ] {
            let e = target(json!({ "target": bad })).unwrap_err();
            assert!(e.message.contains("`target"), "{}", e.message);
        }
        assert!(Args::new("codex.ask", vec![]).unwrap().fields.is_empty());
    }
}
