//! Decodes every line of the recorded app-server sessions
//! (`tests/fixtures/app-server-recordings/*.jsonl`, codex-cli 0.163.0) with the wire types of
//! `codex_lsp::app_server::protocol`:
//!
//! * every `<<` notification of a method we model decodes to its typed variant, every
//!   server request to its typed variant, every result of a request we model to its
//!   result type (correlated by id with the `>>` request), every `>>` request's params to
//!   our params type;
//! * nothing is lost in the round trip: re-serializing a typed value gives a sub-object of
//!   the recorded JSON (so a misspelt field shows up as a mismatch);
//! * no thread item decodes to `ThreadItem::Unknown`;
//! * and concrete facts of each scenario hold.
//!
//! A missing recordings directory fails the test: these fixtures are the ground truth.

use std::collections::HashMap;
use std::path::PathBuf;

use codex_lsp::app_server::protocol::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

fn recordings_dir() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/app-server-recordings");
    assert!(
        dir.is_dir(),
        "recordings directory {} is missing: these tests need the recorded app-server \
         sessions (codex-cli 0.163.0) at tests/fixtures/app-server-recordings",
        dir.display()
    );
    dir
}

#[derive(Debug, Clone)]
struct Line {
    dir: String,
    msg: Value,
}

fn load(name: &str) -> Vec<Line> {
    let path = recordings_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{name}:{}: not JSON: {e}", i + 1));
            Line {
                dir: v["dir"].as_str().unwrap_or_default().to_owned(),
                msg: v["msg"].clone(),
            }
        })
        .collect()
}

fn all_recordings() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(recordings_dir())
        .expect("read recordings dir")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.ends_with(".jsonl").then_some(name)
        })
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no *.jsonl recordings found");
    names
}

/// `ours` must be contained in `orig`: every key we serialize exists there with a
/// contained value. Tolerated: keys we omit (unknown or `None`), and a recorded `null`
/// where we hold a default (`null_as_default`).
fn assert_contained(ours: &Value, orig: &Value, path: &str) {
    match (ours, orig) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(o) => assert_contained(v, o, &p),
                    None => panic!("{p}: we serialize {v} but the wire has no such field"),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: array length");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_contained(x, y, &format!("{path}[{i}]"));
            }
        }
        (_, Value::Null) if is_default_like(ours) => {}
        _ => assert_eq!(ours, orig, "{path}"),
    }
}

fn is_default_like(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

fn typed<T: DeserializeOwned + Serialize>(v: &Value, what: &str) -> T {
    let t: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{what}: does not decode: {e}\n{v}"));
    let back = serde_json::to_value(&t).expect("serialize");
    assert_contained(&back, v, what);
    t
}

/// Decodes (and checks) a client request's params and its result, by method.
fn check_exchange(method: &str, params: &Value, result: &Value, what: &str) -> bool {
    fn go<P: ClientRequest + DeserializeOwned>(params: &Value, result: &Value, what: &str)
    where
        P::Response: Serialize,
    {
        let params = if params.is_null() {
            json!({})
        } else {
            params.clone()
        };
        let _: P = typed(&params, &format!("{what} params"));
        let _: P::Response = typed(result, &format!("{what} result"));
    }
    match method {
        "initialize" => go::<InitializeParams>(params, result, what),
        "thread/start" => go::<ThreadStartParams>(params, result, what),
        "thread/resume" => go::<ThreadResumeParams>(params, result, what),
        "thread/fork" => go::<ThreadForkParams>(params, result, what),
        "thread/list" => go::<ThreadListParams>(params, result, what),
        "thread/read" => go::<ThreadReadParams>(params, result, what),
        "thread/archive" => go::<ThreadArchiveParams>(params, result, what),
        "thread/name/set" => go::<ThreadSetNameParams>(params, result, what),
        "thread/compact/start" => go::<ThreadCompactStartParams>(params, result, what),
        "thread/loaded/list" => go::<ThreadLoadedListParams>(params, result, what),
        "turn/start" => go::<TurnStartParams>(params, result, what),
        "turn/steer" => go::<TurnSteerParams>(params, result, what),
        "turn/interrupt" => go::<TurnInterruptParams>(params, result, what),
        "review/start" => go::<ReviewStartParams>(params, result, what),
        "model/list" => go::<ModelListParams>(params, result, what),
        "account/read" => go::<GetAccountParams>(params, result, what),
        "account/login/start" => go::<LoginAccountParams>(params, result, what),
        "account/login/cancel" => go::<CancelLoginAccountParams>(params, result, what),
        "account/logout" => {
            let _: EmptyObject = typed(result, what);
        }
        _ => return false,
    }
    true
}

/// Every item reachable from a decoded notification, for the "no unknown items" check.
fn items_of(n: &ServerNotification) -> Vec<&ThreadItem> {
    match n {
        ServerNotification::ItemStarted(n) => vec![&n.item],
        ServerNotification::ItemCompleted(n) => vec![&n.item],
        ServerNotification::TurnStarted(n) => n.turn.items.iter().collect(),
        ServerNotification::TurnCompleted(n) => n.turn.items.iter().collect(),
        ServerNotification::ThreadStarted(n) => {
            n.thread.turns.iter().flat_map(|t| &t.items).collect()
        }
        _ => vec![],
    }
}

/// A decoded recording.
#[derive(Default)]
struct Session {
    notifications: Vec<ServerNotification>,
    server_requests: Vec<(Value, ServerRequest)>,
    /// (method, params, result) of every client request we model that succeeded.
    exchanges: Vec<(String, Value, Value)>,
    /// (method, error object) of every client request that failed.
    errors: Vec<(String, Value)>,
    /// Client answers to server requests, by id.
    answers: HashMap<String, Value>,
}

fn decode_session(name: &str) -> Session {
    let mut s = Session::default();
    let mut pending: HashMap<String, (String, Value)> = HashMap::new();
    for (i, line) in load(name).into_iter().enumerate() {
        let at = format!("{name}:{}", i + 1);
        let m = &line.msg;
        let method = m.get("method").and_then(Value::as_str);
        let id = m.get("id").map(|id| id.to_string());
        match line.dir.as_str() {
            ">>" => match (method, id) {
                (Some(method), Some(id)) => {
                    let params = m.get("params").cloned().unwrap_or(Value::Null);
                    pending.insert(id, (method.to_owned(), params));
                }
                (Some(method), None) => assert_eq!(method, INITIALIZED_METHOD, "{at}"),
                (None, Some(id)) => {
                    let result = m.get("result").cloned();
                    let result = result.unwrap_or_else(|| panic!("{at}: answer without result"));
                    s.answers.insert(id, result);
                }
                (None, None) => panic!("{at}: neither request nor response"),
            },
            "<<" => match (method, id) {
                (Some(method), None) => {
                    let params = m.get("params").cloned().unwrap_or(Value::Null);
                    let n = ServerNotification::decode(method, params.clone());
                    if SERVER_NOTIFICATION_METHODS.contains(&method) {
                        assert!(
                            !matches!(
                                n,
                                ServerNotification::Unknown { .. }
                                    | ServerNotification::Malformed { .. }
                            ),
                            "{at}: {method} did not decode: {n:?}"
                        );
                        assert_eq!(n.method(), method);
                        // Round trip: the typed params re-serialize into the recorded ones.
                        let back = notification_params(&n);
                        assert_contained(&back, &params, &format!("{at} {method}"));
                    } else {
                        assert!(
                            matches!(n, ServerNotification::Unknown { .. }),
                            "{at}: {n:?}"
                        );
                    }
                    for item in items_of(&n) {
                        assert!(
                            !matches!(item, ThreadItem::Unknown(_)),
                            "{at}: unknown item {item:?}"
                        );
                    }
                    s.notifications.push(n);
                }
                (Some(method), Some(_)) => {
                    let params = m.get("params").cloned().unwrap_or(Value::Null);
                    let r = ServerRequest::decode(method, params.clone());
                    assert!(
                        SERVER_REQUEST_METHODS.contains(&method),
                        "{at}: server request {method} is not one we model"
                    );
                    assert!(
                        !matches!(
                            r,
                            ServerRequest::Unknown { .. } | ServerRequest::Malformed { .. }
                        ),
                        "{at}: {method} did not decode: {r:?}"
                    );
                    let back = server_request_params(&r);
                    assert_contained(&back, &params, &format!("{at} {method}"));
                    s.server_requests.push((m["id"].clone(), r));
                }
                (None, Some(id)) => {
                    let Some((method, params)) = pending.remove(&id) else {
                        panic!("{at}: response to unknown id {id}")
                    };
                    if let Some(result) = m.get("result") {
                        if check_exchange(&method, &params, result, &format!("{at} {method}")) {
                            s.exchanges.push((method, params, result.clone()));
                        }
                    } else {
                        let err = m.get("error").cloned().expect("result or error");
                        assert!(err["code"].is_i64(), "{at}: error code {err}");
                        assert!(err["message"].is_string(), "{at}: error message {err}");
                        s.errors.push((method, err));
                    }
                }
                (None, None) => panic!("{at}: neither request nor response"),
            },
            // The t_env*_execserver_ws recordings also hold the exec-server's own
            // JSON-RPC traffic, a different protocol: check the envelope only.
            other => {
                assert!(
                    other.contains("exec") || other.contains("harness"),
                    "{at}: unexpected dir {other:?}"
                );
                assert!(
                    m.get("method").is_some()
                        || m.get("result").is_some()
                        || m.get("error").is_some(),
                    "{at}: not JSON-RPC"
                );
            }
        }
    }
    s
}

fn notification_params(n: &ServerNotification) -> Value {
    use ServerNotification as N;
    let v = match n {
        N::Error(p) => serde_json::to_value(p),
        N::ThreadStarted(p) => serde_json::to_value(p),
        N::ThreadStatusChanged(p) => serde_json::to_value(p),
        N::ThreadTokenUsageUpdated(p) => serde_json::to_value(p),
        N::ThreadNameUpdated(p) => serde_json::to_value(p),
        N::ThreadCompacted(p) => serde_json::to_value(p),
        N::TurnStarted(p) => serde_json::to_value(p),
        N::TurnCompleted(p) => serde_json::to_value(p),
        N::TurnDiffUpdated(p) => serde_json::to_value(p),
        N::TurnPlanUpdated(p) => serde_json::to_value(p),
        N::ItemStarted(p) => serde_json::to_value(p),
        N::ItemCompleted(p) => serde_json::to_value(p),
        N::AgentMessageDelta(p) => serde_json::to_value(p),
        N::ReasoningSummaryTextDelta(p) => serde_json::to_value(p),
        N::ReasoningTextDelta(p) => serde_json::to_value(p),
        N::CommandExecutionOutputDelta(p) => serde_json::to_value(p),
        N::FileChangeOutputDelta(p) => serde_json::to_value(p),
        N::PlanDelta(p) => serde_json::to_value(p),
        N::ServerRequestResolved(p) => serde_json::to_value(p),
        N::AccountLoginCompleted(p) => serde_json::to_value(p),
        N::AccountUpdated(p) => serde_json::to_value(p),
        N::AccountRateLimitsUpdated(p) => serde_json::to_value(p),
        N::Warning(p) => serde_json::to_value(p),
        N::ConfigWarning(p) => serde_json::to_value(p),
        N::DeprecationNotice(p) => serde_json::to_value(p),
        N::Unknown { params, .. } | N::Malformed { params, .. } => Ok(params.clone()),
    };
    v.expect("serialize")
}

fn server_request_params(r: &ServerRequest) -> Value {
    use ServerRequest as R;
    let v = match r {
        R::FileChangeApproval(p) => serde_json::to_value(p),
        R::CommandExecutionApproval(p) => serde_json::to_value(p),
        R::ToolRequestUserInput(p) => serde_json::to_value(p),
        R::McpServerElicitation(p) => serde_json::to_value(p),
        R::PermissionsApproval(p) => serde_json::to_value(p),
        R::DynamicToolCall(p) => serde_json::to_value(p),
        R::ChatgptAuthTokensRefresh(p) => serde_json::to_value(p),
        R::AttestationGenerate(p) => serde_json::to_value(p),
        R::ApplyPatchApproval(p) => serde_json::to_value(p),
        R::ExecCommandApproval(p) => serde_json::to_value(p),
        R::Unknown { params, .. } | R::Malformed { params, .. } => Ok(params.clone()),
    };
    v.expect("serialize")
}

#[test]
fn every_line_of_every_recording_decodes() {
    let mut notifications = 0;
    let mut exchanges = 0;
    let mut requests = 0;
    for name in all_recordings() {
        let s = decode_session(&name);
        notifications += s.notifications.len();
        exchanges += s.exchanges.len();
        requests += s.server_requests.len();
        // Every server request was answered, and the answer decodes as its response type.
        for (id, r) in &s.server_requests {
            let answer = s
                .answers
                .get(&id.to_string())
                .unwrap_or_else(|| panic!("{name}: server request {id} unanswered"));
            match r {
                ServerRequest::FileChangeApproval(_) if answer != &json!({}) => {
                    let _: FileChangeRequestApprovalResponse = typed(answer, &name);
                }
                ServerRequest::CommandExecutionApproval(_) => {
                    let _: CommandExecutionRequestApprovalResponse = typed(answer, &name);
                }
                _ => {}
            }
        }
    }
    assert!(notifications > 200, "only {notifications} notifications");
    assert!(exchanges > 40, "only {exchanges} typed exchanges");
    assert!(requests >= 7, "only {requests} server requests");
}

#[test]
fn t_fail_overload_error_then_failed_turn() {
    let s = decode_session("t_fail.jsonl");
    let err = s
        .notifications
        .iter()
        .find_map(|n| match n {
            ServerNotification::Error(e) => Some(e),
            _ => None,
        })
        .expect("an error notification");
    assert_eq!(
        err.error.codex_error_info,
        Some(CodexErrorInfo::ServerOverloaded)
    );
    assert!(!err.will_retry);
    assert!(err.error.message.contains("capacity"));
    let ServerNotification::TurnCompleted(done) = s.notifications.last().unwrap() else {
        panic!("last notification is not turn/completed")
    };
    assert_eq!(done.turn.id, err.turn_id);
    assert_eq!(done.turn.status, TurnStatus::Failed);
    assert_eq!(
        done.turn.error.as_ref().unwrap().codex_error_info,
        Some(CodexErrorInfo::ServerOverloaded)
    );
}

fn file_change_started(s: &Session) -> &FileChangeItem {
    s.notifications
        .iter()
        .find_map(|n| match n {
            ServerNotification::ItemStarted(ItemStartedNotification {
                item: ThreadItem::FileChange(fc),
                ..
            }) => Some(fc),
            _ => None,
        })
        .expect("a fileChange item/started")
}

fn completed_items(s: &Session) -> Vec<&ThreadItem> {
    s.notifications
        .iter()
        .filter_map(|n| match n {
            ServerNotification::ItemCompleted(c) => Some(&c.item),
            _ => None,
        })
        .collect()
}

fn last_turn_status(s: &Session) -> TurnStatus {
    s.notifications
        .iter()
        .rev()
        .find_map(|n| match n {
            ServerNotification::TurnCompleted(t) => Some(t.turn.status.clone()),
            _ => None,
        })
        .expect("turn/completed")
}

#[test]
fn t_cancel_has_no_item_completed_for_the_file_change() {
    let s = decode_session("t_cancel.jsonl");
    let fc = file_change_started(&s);
    let (_, ServerRequest::FileChangeApproval(req)) = &s.server_requests[0] else {
        panic!("first server request is not a fileChange approval")
    };
    assert_eq!(
        req.item_id, fc.id,
        "approval correlates to the item by itemId"
    );
    assert!(completed_items(&s)
        .iter()
        .all(|i| i.id() != Some(fc.id.as_str())));
    assert_eq!(last_turn_status(&s), TurnStatus::Interrupted);
    assert!(s
        .answers
        .values()
        .any(|a| a == &json!({"decision": "cancel"})));
}

#[test]
fn t_decline_ends_item_declined_and_turn_goes_on() {
    let s = decode_session("t_decline.jsonl");
    let fc = file_change_started(&s);
    let done = completed_items(&s)
        .into_iter()
        .find_map(|i| match i {
            ThreadItem::FileChange(c) if c.id == fc.id => Some(c),
            _ => None,
        })
        .expect("item/completed for the fileChange");
    assert_eq!(done.status, PatchApplyStatus::Declined);
    assert_eq!(last_turn_status(&s), TurnStatus::Completed);
    assert_eq!(
        serde_json::to_value(FileChangeRequestApprovalResponse::decline()).unwrap(),
        *s.answers.values().next().unwrap(),
        "our decline is what the recording sent"
    );
}

#[test]
fn t_patch_accept_file_changes_and_turn_diff() {
    let s = decode_session("t_patch_accept.jsonl");
    let fc = file_change_started(&s);
    let update = fc
        .changes
        .iter()
        .find(|c| c.path.ends_with("/a.txt"))
        .expect("a.txt change");
    assert!(matches!(
        update.kind,
        PatchChangeKind::Update { move_path: None }
    ));
    assert!(update.diff.starts_with("@@"), "update diff is hunks only");
    assert!(!update.diff.contains("---"));
    let add = fc
        .changes
        .iter()
        .find(|c| c.path.ends_with("/b.txt"))
        .expect("b.txt change");
    assert_eq!(add.kind, PatchChangeKind::Add);
    assert!(!add.diff.starts_with("@@"), "add diff is the whole content");
    assert!(fc.changes.iter().all(|c| c.path.starts_with('/')));
    let diffs: Vec<_> = s
        .notifications
        .iter()
        .filter_map(|n| match n {
            ServerNotification::TurnDiffUpdated(d) => Some(d),
            _ => None,
        })
        .collect();
    assert!(!diffs.is_empty());
    assert!(diffs.last().unwrap().diff.contains("a.txt"));
    assert!(s.notifications.iter().any(|n| matches!(
        n,
        ServerNotification::ServerRequestResolved(r) if r.request_id == RequestId::Integer(0)
    )));
    assert_eq!(last_turn_status(&s), TurnStatus::Completed);
}

#[test]
fn t_cmd_approval_has_available_decisions() {
    let s = decode_session("t_cmd.jsonl");
    let (_, ServerRequest::CommandExecutionApproval(req)) = &s.server_requests[0] else {
        panic!("first server request is not a command approval")
    };
    assert_eq!(req.kind, Some(CommandExecutionApprovalKind::Command));
    assert_eq!(
        req.proposed_execpolicy_amendment.as_deref(),
        Some(&["touch".to_owned(), "escalated.txt".to_owned()][..])
    );
    assert_eq!(
        req.available_decisions.as_deref(),
        Some(
            &[
                CommandExecutionApprovalDecision::Accept,
                CommandExecutionApprovalDecision::AcceptWithExecpolicyAmendment {
                    execpolicy_amendment: vec!["touch".into(), "escalated.txt".into()],
                },
                CommandExecutionApprovalDecision::Cancel,
            ][..]
        )
    );
    assert!(matches!(
        req.command_actions.as_deref(),
        Some([CommandAction::Unknown { .. }])
    ));
    let exec = s
        .notifications
        .iter()
        .find_map(|n| match n {
            ServerNotification::ItemCompleted(ItemCompletedNotification {
                item: ThreadItem::CommandExecution(c),
                ..
            }) => Some(c),
            _ => None,
        })
        .expect("commandExecution item/completed");
    assert_eq!(exec.id, req.item_id);
    assert_eq!(exec.status, CommandExecutionStatus::Completed);
}

#[test]
fn t_controls_results() {
    let s = decode_session("t_controls.jsonl");
    let result = |method: &str| {
        s.exchanges
            .iter()
            .find(|(m, _, _)| m == method)
            .unwrap_or_else(|| panic!("no {method} result"))
            .2
            .clone()
    };
    let models: ModelListResponse = serde_json::from_value(result("model/list")).unwrap();
    assert!(!models.data.is_empty());
    assert!(models
        .data
        .iter()
        .all(|m| !m.id.is_empty() && !m.supported_reasoning_efforts.is_empty()));
    let steer: TurnSteerResponse = serde_json::from_value(result("turn/steer")).unwrap();
    assert!(!steer.turn_id.is_empty());
    let review: ReviewStartResponse = serde_json::from_value(result("review/start")).unwrap();
    assert_eq!(review.turn.status, TurnStatus::InProgress);
    let login: LoginAccountResponse =
        serde_json::from_value(result("account/login/start")).unwrap();
    assert_eq!(login, LoginAccountResponse::ApiKey);
    let account: GetAccountResponse = serde_json::from_value(result("account/read")).unwrap();
    assert!(account.account.is_none());
    let read: ThreadReadResponse = serde_json::from_value(result("thread/read")).unwrap();
    assert!(!read.thread.turns.is_empty());
    assert!(s.notifications.iter().any(|n| matches!(
        n,
        ServerNotification::ItemStarted(ItemStartedNotification {
            item: ThreadItem::EnteredReviewMode(_),
            ..
        })
    )));
    assert!(s.notifications.iter().any(|n| matches!(
        n,
        ServerNotification::AccountUpdated(AccountUpdatedNotification {
            auth_mode: Some(AuthMode::ApiKey),
            ..
        })
    )));
    // The review/start request we would send serializes exactly as recorded.
    let (_, params, _) = s
        .exchanges
        .iter()
        .find(|(m, _, _)| m == "review/start")
        .unwrap();
    let ours = ReviewStartParams {
        thread_id: params["threadId"].as_str().unwrap().into(),
        target: ReviewTarget::UncommittedChanges,
        delivery: Some(ReviewDelivery::Inline),
    };
    assert_eq!(&serde_json::to_value(ours).unwrap(), params);
    // Wrong-turn steer and unknown thread are -32600.
    assert!(s
        .errors
        .iter()
        .any(|(m, e)| m == "turn/steer" && e["code"] == json!(-32600)));
}

#[test]
fn t_login_chatgpt_auth_url_then_failed_completion() {
    let s = decode_session("t_login.jsonl");
    let (_, params, result) = s
        .exchanges
        .iter()
        .find(|(m, _, _)| m == "account/login/start")
        .expect("login/start");
    assert_eq!(
        serde_json::from_value::<LoginAccountParams>(params.clone()).unwrap(),
        LoginAccountParams::Chatgpt {
            app_brand: None,
            codex_streamlined_login: None,
            use_hosted_login_success_page: None
        }
    );
    let LoginAccountResponse::Chatgpt { auth_url, login_id } =
        serde_json::from_value(result.clone()).unwrap()
    else {
        panic!("not a chatgpt login result: {result}")
    };
    assert!(auth_url.starts_with("https://"));
    let done = s
        .notifications
        .iter()
        .find_map(|n| match n {
            ServerNotification::AccountLoginCompleted(c) => Some(c),
            _ => None,
        })
        .expect("account/login/completed");
    assert!(!done.success);
    assert_eq!(done.login_id.as_deref(), Some(login_id.as_str()));
    assert!(done.error.is_some());
}

#[test]
fn notifications_carry_emitted_at_ms_which_is_tolerated() {
    let lines = load("t_patch_accept.jsonl");
    let n = lines
        .iter()
        .find(|l| l.dir == "<<" && l.msg.get("emittedAtMs").is_some())
        .expect("a notification with emittedAtMs");
    let method = n.msg["method"].as_str().unwrap();
    assert!(ServerNotification::decode(method, n.msg["params"].clone()).is_known());
}

#[test]
fn overload_is_minus_32001_without_data() {
    // The JSON-RPC overload error shape (README fact) — recorded in t_big / t_err if present.
    for name in all_recordings() {
        for line in load(&name) {
            if let Some(err) = line.msg.get("error") {
                if err["code"] == json!(-32001) {
                    assert_eq!(err["message"], json!("Server overloaded; retry later."));
                    assert!(err.get("data").is_none());
                }
            }
        }
    }
}
