//! A whole editor session against `codex_lsp::lsp::serve`, played from fuzz bytes, with a fake
//! app-server in this process (a WebSocket on a unix socket: codex-lsp's `appServer =
//! "unix://…"`), so that no program is ever started.
//!
//! The fuzzed editor sends requests (ids of every kind: small, strings, past `i32`, 2^53,
//! fractions, negative, `null`, reused), notifications (text sync, settings, lifecycle out of
//! turn, cancels), raw bodies taken from the input, and replies — valid and malformed — to
//! the server's own requests (`codex/approval`, `window/showMessageRequest`,
//! `workspace/applyEdit`, `workspace/configuration`, `window/workDoneProgress/create`). The
//! fake app-server runs a turn for each `turn/start`, asking for one approval per turn.
//!
//! Invariants, checked after `shutdown` and `exit`:
//! - every message the server writes is valid JSON-RPC;
//! - every request the editor sent is answered under its id (`null` for one whose id cannot
//!   be an LSP id), and the final `shutdown` too;
//! - the server never ends before the editor's `exit`;
//! - no approval is granted that the editor did not grant: the fake app-server records every
//!   decision it got, and each accept must match an editor reply that picked an accepting
//!   choice.
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

/// How long the whole session may take after the input is played (turns waiting for
/// approvals time out after `approvalTimeout`, below).
const SETTLE: Duration = Duration::from_secs(30);

/// Plays `data` as a session; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(broken) = runtime.block_on(session(data)) {
        panic!("lsp_session: {broken}");
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
                    "turn/start" => {
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
                        tokio::spawn(run_turn(
                            thread_id,
                            turn_id.clone(),
                            out.clone(),
                            waiting.clone(),
                            next_id.clone(),
                            record.clone(),
                        ));
                        json!({ "turn": turn(&turn_id, "inProgress") })
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

async fn run_turn(
    thread_id: String,
    turn_id: String,
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
    let message = json!({ "type": "agentMessage", "id": "msg-1", "text": "done" });
    notify(
        "item/completed",
        json!({ "item": message, "threadId": t, "turnId": turn_id }),
    );
    notify(
        "turn/completed",
        json!({ "threadId": t, "turn": turn(&turn_id, "completed") }),
    );
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
        let uri = ["file:///fuzz/a.txt", "file:///fuzz/b%20c.txt", "untitled:x"][input.below(3)];
        match op {
            0 | 1 => {
                let id = self.fresh_id(input);
                let prompt = ["fix it", "", "run `ls`\nand touch x"][input.below(3)];
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
                self.notify(
                    "textDocument/didOpen",
                    json!({ "textDocument": {
                    "uri": uri, "languageId": "text", "version": input.below(5), "text": text } }),
                )
                .await;
            }
            6 => {
                let line = input.below(3);
                let text = ["x", "", "\n", "ü"][input.below(4)];
                self.notify(
                    "textDocument/didChange",
                    json!({
                    "textDocument": { "uri": uri, "version": input.below(50) },
                    "contentChanges": [{ "range": {
                        "start": { "line": line, "character": input.below(4) },
                        "end": { "line": line, "character": input.below(6) } },
                        "text": text }] }),
                )
                .await;
            }
            7 => {
                let method = ["textDocument/didClose", "textDocument/didSave"][input.below(2)];
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
            _ => {
                let wait = Duration::from_millis(input.below(5) as u64);
                tokio::time::sleep(wait).await;
            }
        }
    }
}

static SESSIONS: AtomicU64 = AtomicU64::new(0);

async fn session(data: &[u8]) -> Result<(), String> {
    let socket: PathBuf = std::env::temp_dir().join(format!(
        "codex-lsp-fuzz-{}-{}.sock",
        std::process::id(),
        SESSIONS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&socket);
    let listener = tokio::net::UnixListener::bind(&socket).map_err(|e| e.to_string())?;
    let record: Arc<Mutex<FakeRecord>> = Default::default();
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
    result
}

async fn play(
    data: &[u8],
    socket: &std::path::Path,
    record: &Arc<Mutex<FakeRecord>>,
) -> Result<(), String> {
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
    if input.bool() {
        capabilities["workspace"] = json!({ "configuration": true, "applyEdit": true,
            "workspaceEdit": { "documentChanges": true } });
    }
    editor
        .request(
            json!("init"),
            "initialize",
            json!({ "processId": null, "rootUri": "file:///fuzz", "capabilities": capabilities,
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
                    Some("workspace/applyEdit") => json!({ "applied": false }),
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
    Ok(())
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
