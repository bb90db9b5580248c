//! A whole editor session against `codex_lsp::lsp::serve`, played from fuzz bytes, with a fake
//! app-server in this process (a WebSocket on a unix socket: codex-lsp's `appServer =
//! "unix://…"`), so that no program is ever started.
//!
//! The fuzzed editor sends requests (ids of every kind: small, strings, past `i32`, 2^53,
//! fractions, negative, `null`, reused), notifications (text sync, settings, lifecycle out of
//! turn, cancels), raw bodies taken from the input, and replies — valid and malformed — to
//! the server's own requests (`codex/approval`, `window/showMessageRequest`,
//! `workspace/applyEdit`, `workspace/configuration`, `window/workDoneProgress/create`). The
//! fake app-server runs a turn for each `turn/start`, asking for one approval per turn; a
//! turn asked to "edit a.txt" instead rewrites the first line of the session's real file
//! `a.txt` (in a temporary workspace), so an unsaved edit there becomes a conflict with its
//! diagnostic and its "Take Codex's version" / "Keep mine" code actions; a `review/start`
//! turn ends with hostile findings on `a.txt` (a blank title, a reversed line range), which
//! become review diagnostics (pulled, when the editor pulls) and their code actions.
//!
//! Invariants, checked after `shutdown` and `exit`:
//! - every message the server writes is valid JSON-RPC;
//! - every request the editor sent is answered under its id (`null` for one whose id cannot
//!   be an LSP id), and the final `shutdown` too;
//! - the server never ends before the editor's `exit`;
//! - no approval is granted that the editor did not grant: the fake app-server records every
//!   decision it got, and each accept must match an editor reply that picked an accepting
//!   choice;
//! - every diagnostic the server sends is valid for the strictest client (VS Code refuses a
//!   diagnostic without a message, and with it the code action carrying it): those it
//!   publishes, those in answers to a pull (`textDocument/diagnostic`, and
//!   `workspace/diagnostic` reports should it ever answer one) and those embedded in
//!   `textDocument/codeAction` answers, checked by the scripted test editor's own validator
//!   (`tests/support/diagnostics.rs`).
//!
//! Shared by the `lsp_session` fuzz target and `tests/fuzz_seeds.rs` (seeds and a short
//! seeded random run inside `cargo test`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codex_lsp::logging::LogHandle;
use codex_lsp::lsp::framing::{frame, read_frame, Frame};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// The validator the scripted test editor (tests/support) checks diagnostics with.
#[path = "../../tests/support/diagnostics.rs"]
mod diagnostics;

/// How long the whole session may take after the input is played (turns waiting for
/// approvals time out after `approvalTimeout`, below).
const SETTLE: Duration = Duration::from_secs(30);

/// Plays `data` as a session; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    run_counting(data);
}

/// What a session reached (so a seed can be shown to reach what it is for).
#[derive(Debug, Default, Clone)]
pub struct Reached {
    /// Diagnostics checked: published, in pulled reports, embedded in code actions.
    pub published: usize,
    pub pulled: usize,
    pub in_code_actions: usize,
    /// Conflict diagnostics (code `codex.conflict`) published or pulled.
    pub conflicts: usize,
    /// Titles of the code actions that carried a diagnostic.
    pub code_action_titles: Vec<String>,
}

/// [`run`], telling what the session reached.
pub fn run_counting(data: &[u8]) -> Reached {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match runtime.block_on(session(data)) {
        Ok(reached) => reached,
        Err(broken) => panic!("lsp_session: {broken}"),
    }
}

/// With `LSP_SESSION_TRACE` set, every message is printed (to see what an input plays).
fn trace(direction: &str, message: &[u8]) {
    if std::env::var_os("LSP_SESSION_TRACE").is_some() {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let at = START.get_or_init(std::time::Instant::now).elapsed();
        eprintln!(
            "{at:>9.3?} {direction} {}",
            String::from_utf8_lossy(message)
        );
    }
}

/// The fuzz input, read a byte at a time; zeros once it is used up.
struct Input<'a> {
    data: &'a [u8],
    at: usize,
}

impl Input<'_> {
    fn done(&self) -> bool {
        self.at >= self.data.len()
    }
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn below(&mut self, n: usize) -> usize {
        self.byte() as usize % n.max(1)
    }
    fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }
    /// Up to 255 raw bytes.
    fn bytes(&mut self) -> &[u8] {
        let n = self.byte() as usize;
        let start = self.at.min(self.data.len());
        let end = (start + n).min(self.data.len());
        self.at = end;
        &self.data[start..end]
    }
}

// ---------------------------------------------------------------------------------------
// The fake app-server

#[derive(Default)]
struct FakeRecord {
    /// Every decision the fake got for an approval it asked for.
    decisions: Vec<Value>,
    turns: usize,
    /// Turns that change a file or review, started and ended (the editor waits for them).
    effect_turns: usize,
    effect_turns_ended: usize,
    /// The session's workspace (where `a.txt` is).
    workspace: PathBuf,
}

const THREAD_ID: &str = "01a20126-f93c-70d3-9232-758f2ae222f0";

fn thread_result(id: &str) -> Value {
    json!({
        "thread": {
            "id": id, "preview": "", "ephemeral": false, "modelProvider": "mock_provider",
            "createdAt": 1795315661, "updatedAt": 1795315661, "status": { "type": "idle" },
            "path": null, "cwd": "/tmp", "cliVersion": "0.163.0", "source": "vscode",
            "turns": [],
        },
        "model": "gpt-5.5", "modelProvider": "mock_provider", "cwd": "/tmp",
        "approvalPolicy": "on-request", "sandbox": { "type": "readOnly", "networkAccess": false },
    })
}

fn turn(id: &str, status: &str) -> Value {
    json!({ "id": id, "items": [], "status": status, "error": null })
}

fn accepting_decision(decision: &Value) -> bool {
    match decision {
        Value::String(s) => s != "decline" && s != "cancel",
        Value::Null => false,
        _ => true,
    }
}

/// Serves one connection: answers requests, runs a turn per `turn/start` that asks for one
/// approval, and records the decisions it gets.
async fn fake_connection(stream: tokio::net::UnixStream, record: Arc<Mutex<FakeRecord>>) {
    let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut stream) = socket.split();
    let (out, mut outgoing) = mpsc::unbounded_channel::<Value>();
    tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            if sink.send(Message::text(message.to_string())).await.is_err() {
                break;
            }
        }
    });
    let waiting: Arc<Mutex<HashMap<u64, tokio::sync::oneshot::Sender<Value>>>> = Default::default();
    let next_id = Arc::new(AtomicU64::new(1));
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        trace("app-server <-", text.as_bytes());
        let method = message["method"].as_str().map(str::to_string);
        let id = message.get("id").cloned();
        match (method, id) {
            (Some(method), Some(id)) => {
                let result = match method.as_str() {
                    "initialize" => json!({ "userAgent": "codex_lsp/0.163.0 (fuzz fake)",
                        "codexHome": "/tmp", "platformFamily": "unix", "platformOs": "linux" }),
                    "thread/start" | "thread/fork" => {
                        let n = next_id.fetch_add(1, Ordering::Relaxed);
                        thread_result(&format!("01a20126-f93c-70d3-9232-{n:012}"))
                    }
                    "thread/resume" => {
                        thread_result(message["params"]["threadId"].as_str().unwrap_or(THREAD_ID))
                    }
                    "thread/list" | "thread/loaded/list" | "model/list" => {
                        json!({ "data": [], "nextCursor": null })
                    }
                    "turn/start" | "review/start" => {
                        let n = {
                            let mut record = record.lock().unwrap();
                            record.turns += 1;
                            record.turns
                        };
                        let turn_id = format!("01a20126-f962-7f90-8124-{n:012}");
                        let thread_id = message["params"]["threadId"]
                            .as_str()
                            .unwrap_or(THREAD_ID)
                            .to_string();
                        let kind = if method == "review/start" {
                            TurnKind::Review
                        } else if message["params"].to_string().contains("edit a.txt") {
                            TurnKind::Edit
                        } else {
                            TurnKind::Plain
                        };
                        if kind != TurnKind::Plain {
                            record.lock().unwrap().effect_turns += 1;
                        }
                        tokio::spawn(run_turn(
                            thread_id.clone(),
                            turn_id.clone(),
                            kind,
                            out.clone(),
                            waiting.clone(),
                            next_id.clone(),
                            record.clone(),
                        ));
                        json!({ "turn": turn(&turn_id, "inProgress"), "reviewThreadId": thread_id })
                    }
                    "turn/interrupt" | "turn/steer" | "thread/name/set" | "thread/archive" => {
                        json!({})
                    }
                    _ => {
                        let _ = out.send(json!({ "id": id, "error": {
                            "code": -32601, "message": format!("the fuzz fake has no {method}") } }));
                        continue;
                    }
                };
                let _ = out.send(json!({ "id": id, "result": result }));
            }
            (None, Some(id)) => {
                let waiter = id
                    .as_u64()
                    .and_then(|id| waiting.lock().unwrap().remove(&id));
                if let Some(waiter) = waiter {
                    let _ = waiter.send(message);
                }
            }
            _ => {}
        }
    }
}

/// What a fake turn does besides asking its approval.
#[derive(Clone, Copy, PartialEq)]
enum TurnKind {
    Plain,
    /// Rewrites the first line of `a.txt` (a `fileChange`).
    Edit,
    /// A review whose findings name `a.txt`, hostile ones among them.
    Review,
}

async fn run_turn(
    thread_id: String,
    turn_id: String,
    kind: TurnKind,
    out: mpsc::UnboundedSender<Value>,
    waiting: Arc<Mutex<HashMap<u64, tokio::sync::oneshot::Sender<Value>>>>,
    next_id: Arc<AtomicU64>,
    record: Arc<Mutex<FakeRecord>>,
) {
    let t = thread_id.as_str();
    let notify = |method: &str, params: Value| {
        let _ = out.send(json!({ "method": method, "params": params }));
    };
    notify(
        "turn/started",
        json!({ "threadId": t, "turn": turn(&turn_id, "inProgress") }),
    );
    // Plain turns ask for an approval; a turn that changes a file or reviews does not (so
    // that an editor waiting for what it brought does not wait for the approval's timeout).
    if kind == TurnKind::Plain {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = tokio::sync::oneshot::channel();
        waiting.lock().unwrap().insert(id, tx);
        let _ = out.send(
            json!({ "id": id, "method": "item/commandExecution/requestApproval",
            "params": { "threadId": t, "turnId": turn_id, "itemId": format!("call-{id}"),
                "command": "touch fuzz-granted.txt", "cwd": "/tmp", "reason": "the fuzzer asks",
                "availableDecisions": ["accept", "decline"] } }),
        );
        if let Ok(Ok(answer)) = tokio::time::timeout(SETTLE, rx).await {
            let decision = answer
                .pointer("/result/decision")
                .cloned()
                .unwrap_or(Value::Null);
            record.lock().unwrap().decisions.push(decision);
        }
    }
    let a_txt = record.lock().unwrap().workspace.join("a.txt");
    if kind == TurnKind::Review {
        // The reviewer's JSON, as a reply passed through: a blank title (a model's empty
        // finding), a reversed line range, and a sane finding.
        let location = |start: i64, end: i64| {
            json!({ "absolute_file_path": a_txt.display().to_string(),
                    "line_range": { "start": start, "end": end } })
        };
        let review = json!({ "findings": [
            { "title": "", "body": "", "priority": 1, "code_location": location(1, 1) },
            { "title": " \n ", "body": "reversed", "code_location": location(2, 1) },
            { "title": "[P2] a real finding", "body": "why", "priority": 2,
              "code_location": location(1, 2) },
        ], "overall_correctness": "patch is incorrect", "overall_explanation": "" });
        let item = json!({ "type": "exitedReviewMode", "id": "review-1",
                           "review": review.to_string() });
        notify(
            "item/completed",
            json!({ "item": item, "threadId": t, "turnId": turn_id }),
        );
    }
    if kind == TurnKind::Edit {
        // The agent's change: the first line of `a.txt` rewritten on disk (as the app-server
        // does), told as a completed `fileChange` item; an unsaved edit of that line in the
        // editor's buffer becomes a conflict.
        let path = a_txt;
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let rest = text.split_once('\n').map_or("", |(_, rest)| rest);
        let _ = std::fs::write(&path, format!("codex {turn_id}\n{rest}"));
        let change = json!({ "type": "fileChange", "id": "patch-1", "status": "completed",
            "changes": [{ "path": path.display().to_string(), "diff": "",
                          "kind": { "type": "update", "move_path": null } }] });
        notify(
            "item/completed",
            json!({ "item": change, "threadId": t, "turnId": turn_id }),
        );
    }
    let message = json!({ "type": "agentMessage", "id": "msg-1", "text": "done" });
    notify(
        "item/completed",
        json!({ "item": message, "threadId": t, "turnId": turn_id }),
    );
    notify(
        "turn/completed",
        json!({ "threadId": t, "turn": turn(&turn_id, "completed") }),
    );
    if kind != TurnKind::Plain {
        record.lock().unwrap().effect_turns_ended += 1;
    }
}

// ---------------------------------------------------------------------------------------
// The fuzzed editor

#[derive(Default)]
struct Seen {
    /// Server requests not answered yet.
    asked: Vec<Value>,
    /// Answers by id (as JSON text).
    answers: HashMap<String, usize>,
    null_answers: usize,
    broken: Vec<String>,
    /// Diagnostics the strictest client would refuse, and where they were.
    bad_diagnostics: Vec<String>,
    /// When the server last wrote.
    last_heard: Option<tokio::time::Instant>,
    reached: Reached,
}

/// Checks every diagnostic `message` (from the server) sends or embeds; what is wrong goes
/// to `seen.bad_diagnostics`.
fn check_diagnostics(message: &Value, seen: &mut Seen) {
    let check = |diagnostics: &Value, what: &str, seen: &mut Seen| -> usize {
        let Some(list) = diagnostics.as_array() else {
            seen.bad_diagnostics.push(format!(
                "{what}: diagnostics that are not a list: {diagnostics}"
            ));
            return 0;
        };
        for d in list {
            if let Some(why) = diagnostics::invalid(d) {
                seen.bad_diagnostics
                    .push(format!("{what} carries an invalid diagnostic ({why}): {d}"));
            }
            if d["code"] == "codex.conflict" && what != "a code action" {
                seen.reached.conflicts += 1;
            }
        }
        list.len()
    };
    if message["method"] == "textDocument/publishDiagnostics" {
        let diagnostics = &message["params"]["diagnostics"];
        seen.reached.published += check(diagnostics, "textDocument/publishDiagnostics", seen);
        return;
    }
    let Some(result) = message
        .get("result")
        .filter(|_| message.get("method").is_none())
    else {
        return;
    };
    // A `textDocument/codeAction` answer: code actions, each maybe with diagnostics.
    if let Some(actions) = result.as_array() {
        for action in actions {
            if let Some(diagnostics) = action.get("diagnostics").filter(|d| !d.is_null()) {
                let n = check(diagnostics, "a code action", seen);
                seen.reached.in_code_actions += n;
                if n > 0 {
                    let title = action["title"].as_str().unwrap_or_default().to_string();
                    seen.reached.code_action_titles.push(title);
                }
            }
        }
        return;
    }
    // A pulled report: `textDocument/diagnostic` (items, related documents' items) or
    // `workspace/diagnostic` (items of documents, each with items).
    let mut reports: Vec<&Value> = vec![result];
    reports.extend(
        result["relatedDocuments"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, r)| r),
    );
    if result.get("items").is_some_and(|items| {
        items
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i.get("uri").is_some())
    }) {
        reports = result["items"].as_array().into_iter().flatten().collect();
    }
    for report in reports {
        if report["kind"] == "full" {
            seen.reached.pulled += check(&report["items"], "a pulled diagnostic report", seen);
        }
    }
}

/// Why a message the server wrote is not valid JSON-RPC.
fn invalid(message: &Value) -> Option<String> {
    let Some(object) = message.as_object() else {
        return Some("not an object".into());
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Some("no jsonrpc 2.0".into());
    }
    if let Some(method) = object.get("method") {
        if !method.is_string() {
            return Some("method is not a string".into());
        }
        return match object.get("id") {
            None | Some(Value::Number(_) | Value::String(_)) => None,
            Some(_) => Some("a request id that is not a number or a string".into()),
        };
    }
    match object.get("id") {
        Some(Value::Number(_) | Value::String(_) | Value::Null) => {}
        _ => return Some("a response without a usable id".into()),
    }
    match (object.get("result"), object.get("error")) {
        (Some(_), None) => None,
        (None, Some(error)) => {
            let code_ok = error["code"]
                .as_i64()
                .is_some_and(|c| i32::try_from(c).is_ok());
            (!code_ok || !error["message"].is_string()).then(|| "a malformed error".into())
        }
        _ => Some("a response needs exactly one of result and error".into()),
    }
}

struct Editor {
    to_server: tokio::io::DuplexStream,
    seen: Arc<Mutex<Seen>>,
    /// Requests sent, by id (as JSON text), and those whose id cannot be read.
    sent: HashMap<String, usize>,
    /// Raw requests whose own id or id null may answer them.
    sent_raw: Vec<String>,
    sent_null: usize,
    next: u64,
    last_id: Value,
    /// Accepting choices the editor picked in well-formed replies.
    accepts: usize,
    exited: bool,
    /// Settings the fuzzed editor answers `workspace/configuration` with.
    settings: Value,
    /// The real file `a.txt` of the session's workspace, as a URI.
    file_uri: String,
    /// What the editor's buffers hold (version, text), as far as it can tell: what
    /// `workspace/applyEdit` edits are applied to.
    buffers: HashMap<String, (i64, String)>,
    record: Arc<Mutex<FakeRecord>>,
}

impl Editor {
    async fn send(&mut self, body: &[u8]) {
        trace("editor ->", body);
        let _ = self.to_server.write_all(&frame(body)).await;
    }

    async fn send_value(&mut self, message: Value) {
        self.send(message.to_string().as_bytes()).await;
    }

    fn fresh_id(&mut self, input: &mut Input<'_>) -> Value {
        self.next += 1;
        let n = self.next;
        let id = match input.below(10) {
            0 => json!(format!("s-{n}")),
            1 => json!(2147483648u64 + n),
            2 => json!(9007199254740992u64),
            3 => json!(n as f64 + 0.5),
            4 => json!(-(n as i64) - 1),
            5 => Value::Null,
            6 => json!(format!("codex-lsp:id-alias:{n}")),
            7 => self.last_id.clone(),
            _ => json!(n),
        };
        self.last_id = id.clone();
        id
    }

    async fn request(&mut self, id: Value, method: &str, params: Value) {
        match &id {
            Value::Number(_) | Value::String(_) => {
                *self.sent.entry(id.to_string()).or_default() += 1;
            }
            _ => self.sent_null += 1,
        }
        self.send_value(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
    }

    async fn notify(&mut self, method: &str, params: Value) {
        self.send_value(json!({ "jsonrpc": "2.0", "method": method, "params": params }))
            .await;
    }

    /// Answers one of the server's waiting requests, well or badly.
    async fn reply(&mut self, input: &mut Input<'_>) {
        let asked = {
            let mut seen = self.seen.lock().unwrap();
            if seen.asked.is_empty() {
                return;
            }
            let at = input.below(seen.asked.len());
            seen.asked.remove(at)
        };
        let id = asked["id"].clone();
        let method = asked["method"].as_str().unwrap_or_default().to_string();
        // The result a sane editor gives, and whether it grants an approval.
        let (result, grants) = match method.as_str() {
            "codex/approval" => {
                let choices = asked["params"]["choices"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if choices.is_empty() || input.below(4) == 0 {
                    (json!({ "decision": null }), false)
                } else {
                    let choice = &choices[input.below(choices.len())];
                    let decision = choice["decision"].clone();
                    let grants = accepting_decision(&decision);
                    (json!({ "decision": decision }), grants)
                }
            }
            "window/showMessageRequest" => {
                let actions = asked["params"]["actions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if actions.is_empty() || input.below(4) == 0 {
                    (Value::Null, false)
                } else {
                    let action = actions[input.below(actions.len())].clone();
                    let title = action["title"].as_str().unwrap_or_default();
                    let grants = title != "Decline" && title != "Cancel turn";
                    (action, grants)
                }
            }
            "workspace/applyEdit" => (json!({ "applied": input.bool() }), false),
            "workspace/configuration" => (json!([self.settings.clone()]), false),
            _ => (Value::Null, false),
        };
        let well_formed = json!({ "jsonrpc": "2.0", "id": id, "result": result });
        let kind = input.below(12);
        let applied = method == "workspace/applyEdit" && result["applied"] == true;
        if [0, 2, 8, 9].contains(&kind) {
            // Not addressed to this request: it still waits for its answer (a user who
            // leaves the prompt open is waited for; the settling at the end answers it).
            self.seen.lock().unwrap().asked.push(asked.clone());
        }
        let reply = match kind {
            0 => json!({ "jsonrpc": "2.0", "id": null,
                         "error": { "code": -32700, "message": "Parse error" } }),
            1 => json!({ "id": id, "error": "boom" }),
            2 => json!({ "jsonrpc": "2.0", "id": 2147483648u64, "result": result }),
            3 => json!({ "jsonrpc": "2.0", "id": id, "error": { "code": "E", "message": "m" } }),
            4 => json!({ "jsonrpc": "2.0", "id": id, "result": result,
                         "error": { "code": 1, "message": "both" } }),
            5 => json!({ "id": id, "result": result }),
            6 => json!({ "jsonrpc": "2.0", "id": id }),
            7 => json!({ "jsonrpc": "2.0", "id": id,
                         "error": { "code": -32601, "message": "Method not found" } }),
            8 => json!({ "jsonrpc": "2.0", "id": 999_999, "result": result }),
            9 => json!({ "jsonrpc": "2.0", "id": id.to_string(), "result": result }),
            _ => {
                if grants {
                    self.accepts += 1;
                }
                well_formed
            }
        };
        self.send_value(reply).await;
        if applied && kind >= 10 {
            self.echo_edit(&asked).await;
        }
        // Sometimes a second answer to the same request: it settles the request when the
        // first went to another id, and it accepts.
        if input.below(8) == 0 {
            if method == "codex/approval" {
                self.accepts += 1;
            }
            self.send_value(
                json!({ "jsonrpc": "2.0", "id": id, "result": { "decision": "accept" } }),
            )
            .await;
        }
    }

    /// After answering `applied: true` to the server's `workspace/applyEdit` request
    /// `asked`: applies its edits to the buffer the editor knows and sends the `didChange`
    /// (the whole text) an editor sends for it.
    async fn echo_edit(&mut self, asked: &Value) {
        let edit = &asked["params"]["edit"];
        let mut changed: Vec<(String, Vec<Value>)> = Vec::new();
        for change in edit["documentChanges"].as_array().into_iter().flatten() {
            if let (Some(uri), Some(edits)) = (
                change["textDocument"]["uri"].as_str(),
                change["edits"].as_array(),
            ) {
                changed.push((uri.to_string(), edits.clone()));
            }
        }
        for (uri, edits) in edit["changes"].as_object().into_iter().flatten() {
            changed.push((uri.clone(), edits.as_array().cloned().unwrap_or_default()));
        }
        for (uri, mut edits) in changed {
            let Some((version, text)) = self.buffers.get_mut(&uri) else {
                continue;
            };
            // From the end, so earlier edits' positions still hold.
            edits.sort_by_key(|e| {
                let at = &e["range"]["start"];
                (at["line"].as_u64(), at["character"].as_u64())
            });
            for e in edits.iter().rev() {
                apply_text_edit(text, &e["range"], e["newText"].as_str().unwrap_or_default());
            }
            *version += 1;
            let message = json!({ "jsonrpc": "2.0", "method": "textDocument/didChange",
                "params": { "textDocument": { "uri": uri, "version": *version },
                            "contentChanges": [{ "text": text.clone() }] } });
            self.send_value(message).await;
        }
    }

    /// A raw body from the input: whatever it is, it must not stop the server.
    async fn raw(&mut self, input: &mut Input<'_>) {
        let body = input.bytes().to_vec();
        // Never let the input point codex-lsp at a program or another app-server.
        let text = String::from_utf8_lossy(&body);
        // Nor change the settings: a long approval timeout would only make the session slow.
        if text.contains("ath")
            || text.contains("ppServer")
            || text.contains("\\u")
            || text.contains("onfig")
        {
            return;
        }
        if let Ok(Value::Object(message)) = serde_json::from_slice::<Value>(&body) {
            if message.get("method").is_some_and(Value::is_string) {
                match message.get("id") {
                    Some(id @ (Value::Number(_) | Value::String(_))) => {
                        self.sent_raw.push(id.to_string())
                    }
                    Some(_) => self.sent_null += 1,
                    None if message["method"] == "exit" => self.exited = true,
                    None => {}
                }
            } else if !message.contains_key("method") && text.contains("ccept") {
                // A reply the input wrote may grant an approval: the editor said so.
                self.accepts += 1;
            }
        }
        self.send(&body).await;
    }

    async fn step(&mut self, input: &mut Input<'_>) {
        let op = input.below(16);
        let uris = [
            self.file_uri.as_str(),
            "file:///fuzz/b%20c.txt",
            "untitled:x",
        ];
        let uri = uris[input.below(3)].to_string();
        let uri = uri.as_str();
        match op {
            0 | 1 => {
                let id = self.fresh_id(input);
                let prompt = ["fix it", "", "run `ls`\nand touch x", "edit a.txt"][input.below(4)];
                self.request(
                    id,
                    "workspace/executeCommand",
                    json!({ "command": "codex.ask", "arguments": [{
                        "prompt": prompt, "wait": input.bool(), "newThread": input.bool() }] }),
                )
                .await;
            }
            2 => {
                let id = self.fresh_id(input);
                let commands = [
                    "codex.status",
                    "codex.interrupt",
                    "codex.clearReview",
                    "codex.newThread",
                    "codex.listThreads",
                    "codex.steer",
                    "codex.answerApproval",
                    "codex.resolveConflict",
                    "codex.nope",
                    "codex.review",
                ];
                let command = commands[input.below(commands.len())];
                let argument = [json!({}), json!([]), json!({ "prompt": "more" }), json!(3)]
                    [input.below(4)]
                .clone();
                self.request(
                    id,
                    "workspace/executeCommand",
                    json!({ "command": command, "arguments": [argument] }),
                )
                .await;
            }
            3 => {
                let id = self.fresh_id(input);
                let line = input.below(4) as u32;
                let params = json!({ "textDocument": { "uri": uri },
                    "range": { "start": { "line": line, "character": 0 },
                               "end": { "line": line, "character": input.below(9) } },
                    "context": { "diagnostics": [] } });
                self.request(id, "textDocument/codeAction", params).await;
            }
            4 => {
                let id = self.fresh_id(input);
                let method = [
                    "textDocument/diagnostic",
                    "textDocument/hover",
                    "initialize",
                    "shutdown",
                ][input.below(4)];
                self.request(
                    id,
                    method,
                    json!({ "textDocument": { "uri": uri }, "capabilities": {} }),
                )
                .await;
            }
            5 => {
                let text = ["alpha\nbeta\n", "", "é\r\nx", "\u{feff}bom\n"][input.below(4)];
                let version = input.below(5);
                self.buffers
                    .insert(uri.to_string(), (version as i64, text.to_string()));
                self.notify(
                    "textDocument/didOpen",
                    json!({ "textDocument": {
                    "uri": uri, "languageId": "text", "version": version, "text": text } }),
                )
                .await;
            }
            6 => {
                let line = input.below(3);
                let text = ["x", "", "\n", "ü"][input.below(4)];
                let version = input.below(50);
                let range = json!({
                    "start": { "line": line, "character": input.below(4) },
                    "end": { "line": line, "character": input.below(6) } });
                if let Some((v, buffer)) = self.buffers.get_mut(uri) {
                    *v = version as i64;
                    apply_text_edit(buffer, &range, text);
                }
                self.notify(
                    "textDocument/didChange",
                    json!({
                    "textDocument": { "uri": uri, "version": version },
                    "contentChanges": [{ "range": range, "text": text }] }),
                )
                .await;
            }
            7 => {
                let method = ["textDocument/didClose", "textDocument/didSave"][input.below(2)];
                if method == "textDocument/didClose" {
                    self.buffers.remove(uri);
                }
                self.notify(method, json!({ "textDocument": { "uri": uri } }))
                    .await;
            }
            8 => {
                // Every variant keeps approvals that wait in code actions short (the default
                // is minutes): a session must settle quickly.
                let mut settings = [
                    json!({ "codex": { "approvalPolicy": "never" } }),
                    json!({ "codex": { "model": 3 } }),
                    json!({ "codex": null }),
                    json!({ "codex": { "approvalTimeout": "soon" } }),
                ][input.below(4)]
                .clone();
                if settings["codex"].is_null() {
                    settings["codex"] = json!({});
                }
                settings["codex"]["approvalTimeout"] = json!(0.1);
                self.settings = settings["codex"].clone();
                self.notify(
                    "workspace/didChangeConfiguration",
                    json!({ "settings": settings }),
                )
                .await;
            }
            9 => {
                let method = [
                    "initialized",
                    "$/cancelRequest",
                    "window/workDoneProgress/cancel",
                    "$/setTrace",
                    "codex/nope",
                ][input.below(5)];
                let id = self.last_id.clone();
                self.notify(method, json!({ "id": id, "token": "codex-1" }))
                    .await;
            }
            10..=12 => self.reply(input).await,
            13 => self.raw(input).await,
            14 => {
                let wait = Duration::from_millis(input.below(5) as u64);
                tokio::time::sleep(wait).await;
            }
            _ => self.wait_for_quiet().await,
        }
    }

    /// Waits (at most a few seconds) until every turn of the fake app-server that changes a
    /// file or reviews has ended and the server has written nothing for a moment: what the
    /// turn brought (a conflict or findings, and their diagnostics) is then there for the
    /// next steps to act on.
    async fn wait_for_quiet(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        let quiet = Duration::from_millis(40);
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let turns_done = {
                let record = self.record.lock().unwrap();
                record.effect_turns_ended >= record.effect_turns
            };
            let last = self.seen.lock().unwrap().last_heard;
            if turns_done && last.is_none_or(|at| at.elapsed() >= quiet) {
                return;
            }
        }
    }
}

/// The byte offset of an LSP position (UTF-16 columns) in `text`, clamped to the line and
/// the text.
fn offset_of(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap_or(0) as usize;
    let character = position["character"].as_u64().unwrap_or(0) as usize;
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(at) => start += at + 1,
            None => return text.len(),
        }
    }
    let content = text[start..].split('\n').next().unwrap_or_default();
    let content = content.strip_suffix('\r').unwrap_or(content);
    let mut units = 0;
    for (at, c) in content.char_indices() {
        if units >= character {
            return start + at;
        }
        units += c.len_utf16();
    }
    start + content.len()
}

/// Replaces `range` (LSP positions) of `text` with `new_text`.
fn apply_text_edit(text: &mut String, range: &Value, new_text: &str) {
    let start = offset_of(text, &range["start"]);
    let end = offset_of(text, &range["end"]).max(start);
    text.replace_range(start..end, new_text);
}

static SESSIONS: AtomicU64 = AtomicU64::new(0);

async fn session(data: &[u8]) -> Result<Reached, String> {
    let socket: PathBuf = std::env::temp_dir().join(format!(
        "codex-lsp-fuzz-{}-{}.sock",
        std::process::id(),
        SESSIONS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&socket);
    let listener = tokio::net::UnixListener::bind(&socket).map_err(|e| e.to_string())?;
    // The workspace: one real file, which a turn may change under an open buffer.
    let workspace = socket.with_extension("workspace");
    let _ = std::fs::remove_dir_all(&workspace);
    std::fs::create_dir_all(&workspace).map_err(|e| e.to_string())?;
    std::fs::write(workspace.join("a.txt"), "alpha\nbeta\n").map_err(|e| e.to_string())?;
    let record: Arc<Mutex<FakeRecord>> = Arc::new(Mutex::new(FakeRecord {
        workspace: workspace.clone(),
        ..Default::default()
    }));
    let fake = {
        let record = record.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(fake_connection(stream, record.clone()));
            }
        })
    };
    let result = play(data, &socket, &record).await;
    fake.abort();
    let _ = std::fs::remove_file(&socket);
    let _ = std::fs::remove_dir_all(&workspace);
    result
}

async fn play(
    data: &[u8],
    socket: &std::path::Path,
    record: &Arc<Mutex<FakeRecord>>,
) -> Result<Reached, String> {
    let workspace = record.lock().unwrap().workspace.clone();
    let file_uri = format!("file://{}", workspace.join("a.txt").display());
    let mut input = Input { data, at: 0 };
    let (to_server, server_in) = tokio::io::duplex(1 << 20);
    let (server_out, from_server) = tokio::io::duplex(1 << 20);
    let server = tokio::spawn(codex_lsp::lsp::serve(
        server_in,
        server_out,
        LogHandle::inert(),
    ));
    let seen: Arc<Mutex<Seen>> = Default::default();
    let reader = {
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(from_server);
            while let Ok(Some(next)) = read_frame(&mut reader).await {
                let Frame::Body(body) = next else {
                    seen.lock()
                        .unwrap()
                        .broken
                        .push("a bad frame header".into());
                    continue;
                };
                trace("editor <-", &body);
                let mut seen = seen.lock().unwrap();
                let message: Value = match serde_json::from_slice(&body) {
                    Ok(message) => message,
                    Err(e) => {
                        seen.broken.push(format!("not JSON ({e})"));
                        continue;
                    }
                };
                if let Some(why) = invalid(&message) {
                    seen.broken.push(format!("{why}: {message}"));
                }
                seen.last_heard = Some(tokio::time::Instant::now());
                check_diagnostics(&message, &mut seen);
                match (message.get("method"), message.get("id")) {
                    (Some(_), Some(_)) => seen.asked.push(message),
                    (None, Some(Value::Null)) => seen.null_answers += 1,
                    (None, Some(id)) => *seen.answers.entry(id.to_string()).or_default() += 1,
                    _ => {}
                }
            }
        })
    };
    let mut editor = Editor {
        to_server,
        seen: seen.clone(),
        sent: HashMap::new(),
        sent_raw: Vec::new(),
        sent_null: 0,
        next: 0,
        last_id: json!(0),
        accepts: 0,
        exited: false,
        settings: json!({ "approvalTimeout": 0.1 }),
        file_uri,
        buffers: HashMap::new(),
        record: record.clone(),
    };

    // Lifecycle messages out of turn before `initialize`, now and then.
    if input.below(4) == 0 {
        editor.notify("initialized", json!({})).await;
        let id = editor.fresh_id(&mut input);
        editor
            .request(
                id,
                "workspace/executeCommand",
                json!({ "command": "codex.status" }),
            )
            .await;
    }
    let mut capabilities = json!({ "general": { "positionEncodings": ["utf-16"] } });
    if input.bool() {
        capabilities["window"] = json!({ "workDoneProgress": true });
    }
    if input.bool() {
        capabilities["experimental"] = json!({ "codexApprovals": true });
    }
    // One byte: bit 0, the workspace capabilities (applyEdit: the agent's edits reach open
    // buffers); bit 1, pull diagnostics (conflicts and findings are then pulled, with a
    // refresh, rather than published).
    let abilities = input.byte();
    if abilities & 1 == 1 {
        capabilities["workspace"] = json!({ "configuration": true, "applyEdit": true,
            "workspaceEdit": { "documentChanges": true }, "diagnostics": { "refreshSupport": true } });
    }
    if abilities & 2 == 2 {
        capabilities["textDocument"] = json!({ "diagnostic": { "dynamicRegistration": false } });
    }
    editor
        .request(
            json!("init"),
            "initialize",
            json!({ "processId": null, "rootUri": format!("file://{}", workspace.display()),
                "capabilities": capabilities,
                "initializationOptions": { "appServer": format!("unix://{}", socket.display()),
                    "approvalTimeout": 0.1, "approvalPolicy": "on-request" } }),
        )
        .await;
    editor.notify("initialized", json!({})).await;

    while !input.done() && !editor.exited {
        editor.step(&mut input).await;
        tokio::task::yield_now().await;
        if server.is_finished() && !editor.exited {
            return Err(format!(
                "the server ended before `exit` (after {} input bytes)",
                input.at
            ));
        }
    }
    // Let the session settle: answer what is still asked (declining), then shut down.
    let deadline = tokio::time::Instant::now() + SETTLE;
    if !editor.exited {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let asked: Vec<Value> = std::mem::take(&mut seen.lock().unwrap().asked);
            for request in asked {
                let result = match request["method"].as_str() {
                    Some("codex/approval") => json!({ "decision": "decline" }),
                    // Applied, as an editor does, with the `didChange` it makes (refused, the
                    // mirror would wait for a newer buffer to try again: slow sessions).
                    Some("workspace/applyEdit") => {
                        editor
                            .send_value(json!({ "jsonrpc": "2.0", "id": request["id"],
                                "result": { "applied": true } }))
                            .await;
                        editor.echo_edit(&request).await;
                        continue;
                    }
                    Some("workspace/configuration") => json!([{ "approvalTimeout": 0.1 }]),
                    _ => Value::Null,
                };
                editor
                    .send_value(json!({ "jsonrpc": "2.0", "id": request["id"], "result": result }))
                    .await;
            }
            if server.is_finished() {
                return Err("the server ended before `exit`, while settling".into());
            }
            if all_answered(&editor, &seen.lock().unwrap()).is_none() {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                let missing = all_answered(&editor, &seen.lock().unwrap()).unwrap_or_default();
                return Err(format!("requests never answered: {missing}"));
            }
        }
        editor
            .request(json!("final-shutdown"), "shutdown", Value::Null)
            .await;
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            if seen
                .lock()
                .unwrap()
                .answers
                .contains_key("\"final-shutdown\"")
            {
                break;
            }
            if server.is_finished() {
                return Err("the server ended before `exit`, at shutdown".into());
            }
            if tokio::time::Instant::now() > deadline {
                return Err("`shutdown` was never answered".into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        editor.notify("exit", Value::Null).await;
        editor.exited = true;
    }
    let ended = tokio::time::timeout(SETTLE, server).await;
    if ended.is_err() {
        return Err("the server did not end after `exit`".into());
    }
    // The editor closes its side: the stdio guard ends, and with it the server's output.
    let _ = editor.to_server.shutdown().await;
    let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;

    let seen = seen.lock().unwrap();
    if let Some(broken) = seen.broken.first() {
        return Err(format!("the server wrote invalid JSON-RPC: {broken}"));
    }
    if let Some(bad) = seen.bad_diagnostics.first() {
        return Err(format!(
            "a diagnostic the strictest client refuses (VS Code drops it, and the code action \
             carrying it): {bad}"
        ));
    }
    // An `exit` among the raw bodies ends the session early: then what was sent after
    // the server stopped reading may go unanswered, by design.
    if input.done() || !editor.exited {
        if let Some(missing) = all_answered(&editor, &seen) {
            return Err(format!("requests never answered: {missing}"));
        }
    }
    let record = record.lock().unwrap();
    let granted = record
        .decisions
        .iter()
        .filter(|d| accepting_decision(d))
        .count();
    if granted > editor.accepts {
        return Err(format!(
            "the app-server got {granted} accepting decisions ({:?}) but the editor accepted {} time(s)",
            record.decisions, editor.accepts
        ));
    }
    Ok(seen.reached.clone())
}

/// What is not answered yet, if anything.
fn all_answered(editor: &Editor, seen: &Seen) -> Option<String> {
    let mut missing = Vec::new();
    for (id, sent) in &editor.sent {
        let got = seen.answers.get(id).copied().unwrap_or(0);
        if got < *sent {
            missing.push(format!("{id} ({got} of {sent})"));
        }
    }
    // Raw requests: their own id, or null when their shape was refused.
    let mut nulls_left = seen.null_answers.saturating_sub(editor.sent_null);
    let mut raw_expected: HashMap<&String, usize> = HashMap::new();
    for id in &editor.sent_raw {
        *raw_expected.entry(id).or_default() += 1;
    }
    for (id, expected) in raw_expected {
        let got = seen
            .answers
            .get(id)
            .copied()
            .unwrap_or(0)
            .saturating_sub(editor.sent.get(id).copied().unwrap_or(0));
        let short = expected.saturating_sub(got);
        if short > nulls_left {
            missing.push(format!("raw {id}"));
        }
        nulls_left = nulls_left.saturating_sub(short);
    }
    if seen.null_answers < editor.sent_null {
        missing.push(format!(
            "{} of {} requests with an unreadable id",
            editor.sent_null - seen.null_answers,
            editor.sent_null
        ));
    }
    (!missing.is_empty()).then(|| missing.join(", "))
}
