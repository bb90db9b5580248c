//! A scripted editor for end-to-end tests: starts the built `codex-lsp` over stdio, frames
//! messages, records notifications and server requests, and answers server requests with
//! a scripted function. Every wait is bounded.
#![allow(dead_code)]

pub mod buffers;
pub mod diagnostics;
pub mod shared_server;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{oneshot, Notify};

use mock_provider::{codex_env, write_codex_home, MockProvider, Rule};

pub const WAIT: Duration = Duration::from_secs(40);

/// One finding as the reviewer model writes it (the app-server renders these as text).
pub fn review_finding(
    path: &Path,
    title: &str,
    body: &str,
    priority: u8,
    lines: (u32, u32),
) -> Value {
    json!({
        "title": title,
        "body": body,
        "confidence_score": 0.9,
        "priority": priority,
        "code_location": {
            "absolute_file_path": path,
            "line_range": { "start": lines.0, "end": lines.1 },
        },
    })
}

/// The reviewer model's whole answer: `findings` and the overall verdict.
pub fn review_reply(
    findings: Vec<Value>,
    correctness: &str,
    explanation: &str,
) -> mock_provider::Reply {
    mock_provider::Reply::review(&json!({
        "findings": findings,
        "overall_correctness": correctness,
        "overall_explanation": explanation,
        "overall_confidence_score": 0.8,
    }))
}

/// An answerer's result that means "no answer now": the test answers with `answer_later`.
pub const DEFER: &str = "<support: answer later>";

/// An answerer that leaves every `method` request to the test (the user leaves the prompt
/// open) and answers the rest as an editor would.
pub fn defer(method: &'static str) -> impl FnMut(&str, &Value) -> Value + Send + 'static {
    move |asked, _| {
        if asked == method {
            json!(DEFER)
        } else {
            Value::Null
        }
    }
}

/// An answerer's result that makes the editor answer with this JSON-RPC error instead, as
/// an editor does for a method it lacks (`error_answer(-32601, "Method not found")`).
pub fn error_answer(code: i64, message: &str) -> Value {
    json!({ ERROR_ANSWER: { "code": code, "message": message } })
}

const ERROR_ANSWER: &str = "<support: answer with this error>";

/// codex-lsp's stdin, shared by the test and the read loop (which answers server requests).
type SharedStdin = Arc<tokio::sync::Mutex<Option<ChildStdin>>>;

/// Answers a server request (method, params) with a result.
pub type Answerer = Box<dyn FnMut(&str, &Value) -> Value + Send>;

#[derive(Default)]
struct Recorded {
    notifications: Vec<Value>,
    server_requests: Vec<Value>,
    /// Anything on stdout that is not an LSP frame (a stray header line, a body that is
    /// not JSON): codex-lsp must never write it.
    stdout_garbage: Vec<String>,
}

/// How to start codex-lsp, beyond the fixture's environment.
#[derive(Debug, Clone, Default)]
pub struct Spawn {
    /// More environment for codex-lsp (and so for the app-server it starts).
    pub extra_env: Vec<(String, OsString)>,
    /// Arguments after `--stdio`.
    pub args: Vec<OsString>,
    /// `CODEX_LSP_LOG` for codex-lsp; `None` leaves it unset, so `logLevel` applies.
    /// [`Editor::start`] uses the caller's `CODEX_LSP_LOG`, else `warn`.
    pub log_env: Option<String>,
    /// Where codex-lsp's stderr goes; `None`: the test's stderr.
    pub stderr: Option<PathBuf>,
}

pub struct Editor {
    child: Child,
    /// `None` once the test closed it ([`Editor::close_stdin`]).
    stdin: SharedStdin,
    pending: Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>,
    recorded: Arc<Mutex<Recorded>>,
    changed: Arc<Notify>,
    answerer: Arc<Mutex<Answerer>>,
    /// The editor's buffers, when the test tracks them ([`Editor::track_buffers`]).
    pub buffers: Arc<Mutex<buffers::Buffers>>,
    next_id: i64,
    pub pid: u32,
}

/// The runtime the tests drive: `$CODEX_LSP_TEST_CODEX` when set (scripts/test.sh runs a
/// second pass with the npm release there), else the pinned runtime; a test fails (never
/// skips) when it is missing.
pub fn runtime_path() -> PathBuf {
    if let Some(path) = std::env::var_os("CODEX_LSP_TEST_CODEX").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "CODEX_LSP_TEST_CODEX names {}, which is not a file",
            path.display()
        );
        return path;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-runtime.sh");
    let out = std::process::Command::new(script)
        .arg("--print")
        .output()
        .expect("run install-runtime.sh --print");
    let path = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        out.status.success() && Path::new(&path).is_file(),
        "the codex runtime is missing: run scripts/install-runtime.sh"
    );
    PathBuf::from(path)
}

/// The npm package's `codex` (scripts/install-npm-runtime.sh), if it is installed.
pub fn npm_runtime_path() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-npm-runtime.sh");
    let out = std::process::Command::new(script)
        .arg("--print")
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    (out.status.success() && path.is_file()).then_some(path)
}

/// A scripted provider, a CODEX_HOME pointing at it, and a workspace folder.
pub struct Fixture {
    pub provider: MockProvider,
    pub codex_home: tempfile::TempDir,
    pub workspace: PathBuf,
    _workspace_dir: tempfile::TempDir,
}

impl Fixture {
    pub async fn new(rules: Vec<Rule>) -> Fixture {
        let provider = MockProvider::start(rules).await.unwrap();
        let codex_home = tempfile::tempdir().unwrap();
        write_codex_home(codex_home.path(), &provider.base_url()).unwrap();
        let workspace_dir = tempfile::tempdir().unwrap();
        let workspace = workspace_dir.path().canonicalize().unwrap();
        Fixture {
            provider,
            codex_home,
            workspace,
            _workspace_dir: workspace_dir,
        }
    }

    pub fn env(&self) -> Vec<(String, OsString)> {
        let mut env = codex_env(self.codex_home.path());
        env.push((
            "CODEX_LSP_CODEX_PATH".into(),
            runtime_path().into_os_string(),
        ));
        env
    }

    pub fn workspace_uri(&self) -> String {
        format!("file://{}", self.workspace.display())
    }

    pub fn file_uri(&self, name: &str) -> String {
        format!("file://{}", self.workspace.join(name).display())
    }

    /// Starts codex-lsp and initializes it with `options` and `capabilities`.
    pub async fn editor(&self, options: Value, capabilities: Value) -> Editor {
        self.editor_with(Spawn::default_log(), options, capabilities)
            .await
    }

    /// [`Fixture::editor`], started as `spawn` says.
    pub async fn editor_with(&self, spawn: Spawn, options: Value, capabilities: Value) -> Editor {
        let mut env = self.env();
        env.extend(spawn.extra_env.iter().cloned());
        let mut editor = Editor::spawn_with_stderr(
            env,
            &spawn.args,
            spawn.log_env.as_deref(),
            spawn.stderr.as_deref(),
        );
        let result = editor
            .request(
                "initialize",
                json!({
                    "processId": std::process::id(),
                    "rootUri": self.workspace_uri(),
                    "workspaceFolders": [{ "uri": self.workspace_uri(), "name": "ws" }],
                    "capabilities": capabilities,
                    "initializationOptions": options,
                }),
            )
            .await
            .expect("initialize");
        assert!(result["capabilities"]["executeCommandProvider"]["commands"].is_array());
        editor.notify("initialized", json!({})).await;
        editor
    }
}

/// Capabilities of an editor with progress and versioned, annotated workspace edits.
pub fn editing_capabilities() -> Value {
    json!({
        "window": { "workDoneProgress": true, "showDocument": { "support": true } },
        "general": { "positionEncodings": ["utf-16"] },
        "workspace": {
            "applyEdit": true,
            "workspaceEdit": {
                "documentChanges": true,
                "changeAnnotationSupport": { "groupsOnLabel": true },
            },
        },
    })
}

/// Capabilities of a typical editor with progress support.
pub fn progress_capabilities() -> Value {
    json!({ "window": { "workDoneProgress": true }, "general": { "positionEncodings": ["utf-16"] } })
}

impl Spawn {
    /// The default: `CODEX_LSP_LOG` from the caller's environment, else `warn`.
    pub fn default_log() -> Spawn {
        Spawn {
            log_env: Some(std::env::var("CODEX_LSP_LOG").unwrap_or_else(|_| "warn".into())),
            ..Spawn::default()
        }
    }
}

impl Editor {
    pub fn start(env: Vec<(String, OsString)>) -> Editor {
        let spawn = Spawn::default_log();
        Editor::spawn(env, &spawn.args, spawn.log_env.as_deref())
    }

    /// Starts codex-lsp with `env`, `args` after `--stdio`, and `CODEX_LSP_LOG` set to
    /// `log_env` (or removed).
    pub fn spawn(env: Vec<(String, OsString)>, args: &[OsString], log_env: Option<&str>) -> Editor {
        Editor::spawn_with_stderr(env, args, log_env, None)
    }

    /// [`Editor::spawn`], with codex-lsp's stderr written to `stderr` when given.
    pub fn spawn_with_stderr(
        env: Vec<(String, OsString)>,
        args: &[OsString],
        log_env: Option<&str>,
        stderr: Option<&std::path::Path>,
    ) -> Editor {
        let stderr = match stderr {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("stderr file")),
            None => Stdio::inherit(),
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_codex-lsp"));
        command
            .arg("--stdio")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true);
        match log_env {
            Some(filter) => command.env("CODEX_LSP_LOG", filter),
            None => command.env_remove("CODEX_LSP_LOG"),
        };
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn codex-lsp");
        let pid = child.id().unwrap();
        let stdin = Arc::new(tokio::sync::Mutex::new(child.stdin.take()));
        let stdout = child.stdout.take().unwrap();
        let pending: Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>> = Default::default();
        let recorded: Arc<Mutex<Recorded>> = Default::default();
        let changed = Arc::new(Notify::new());
        let answerer: Arc<Mutex<Answerer>> = Arc::new(Mutex::new(Box::new(|_, _| Value::Null)));
        let buffers: Arc<Mutex<buffers::Buffers>> = Default::default();
        tokio::spawn(read_loop(
            BufReader::new(stdout),
            stdin.clone(),
            pending.clone(),
            recorded.clone(),
            changed.clone(),
            answerer.clone(),
            buffers.clone(),
        ));
        Editor {
            child,
            stdin,
            pending,
            recorded,
            changed,
            answerer,
            buffers,
            next_id: 1000,
            pid,
        }
    }

    pub fn answer_with(&self, answerer: impl FnMut(&str, &Value) -> Value + Send + 'static) {
        *self.answerer.lock().unwrap() = Box::new(answerer);
    }

    /// From now on this editor applies `workspace/applyEdit` to its tracked buffers.
    pub fn track_buffers(&self) {
        self.buffers.lock().unwrap().enabled = true;
    }

    /// Opens a buffer holding `text` (`didOpen`, version 1).
    pub async fn open_buffer(&self, uri: &str, text: &str) {
        self.buffers.lock().unwrap().docs.insert(
            uri.to_string(),
            buffers::SimBuffer {
                text: text.to_string(),
                version: 1,
            },
        );
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": {
                "uri": uri, "languageId": "plaintext", "version": 1, "text": text
            } }),
        )
        .await;
    }

    /// Types into a buffer: replaces `(line, character)`..`(line, character)` (UTF-16)
    /// with `text` and sends the incremental `didChange`.
    pub async fn type_into(&self, uri: &str, start: (u32, u32), end: (u32, u32), text: &str) {
        let range = json!({
            "start": { "line": start.0, "character": start.1 },
            "end": { "line": end.0, "character": end.1 },
        });
        let version = {
            let mut buffers = self.buffers.lock().unwrap();
            let buffer = buffers.docs.get_mut(uri).expect("open buffer");
            buffer.text = buffers::apply_lsp_edits(
                &buffer.text,
                &[json!({ "range": range, "newText": text })],
            );
            buffer.version += 1;
            buffer.version
        };
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{ "range": range, "text": text }],
            }),
        )
        .await;
    }

    pub fn buffer_text(&self, uri: &str) -> String {
        self.buffers.lock().unwrap().docs[uri].text.clone()
    }

    /// Answers a server request the answerer deferred (returned [`DEFER`]).
    pub async fn answer_later(&self, id: &Value, result: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "result": result }))
            .await;
    }

    pub async fn send(&self, message: &Value) {
        self.send_raw(message.to_string().as_bytes()).await;
    }

    /// Writes `bytes` to codex-lsp's stdin as they are, framed or not.
    pub async fn send_bytes(&self, bytes: &[u8]) {
        let mut stdin = self.stdin.lock().await;
        let stdin = stdin.as_mut().expect("stdin was closed by the test");
        stdin.write_all(bytes).await.unwrap();
        stdin.flush().await.unwrap();
    }

    pub async fn send_raw(&self, body: &[u8]) {
        let mut stdin = self.stdin.lock().await;
        let stdin = stdin.as_mut().expect("stdin was closed by the test");
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(body);
        stdin.write_all(&frame).await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// Closes codex-lsp's stdin, as an editor that goes away without `shutdown` does.
    pub async fn close_stdin(&self) {
        self.stdin.lock().await.take();
    }

    /// codex-lsp's exit status, if it exits `within`.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(within, self.child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    pub async fn notify(&self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }))
            .await;
    }

    /// Sends a request without waiting; returns its id and the receiver of the response.
    pub async fn start_request(
        &mut self,
        method: &str,
        params: Value,
    ) -> (i64, oneshot::Receiver<Value>) {
        self.next_id += 1;
        let id = self.next_id;
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        (id, rx)
    }

    /// A request; `Ok(result)` or `Err(error object)`.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let (_, rx) = self.start_request(method, params).await;
        let response = tokio::time::timeout(WAIT, rx)
            .await
            .unwrap_or_else(|_| panic!("no answer to {method} within {WAIT:?}"))
            .expect("codex-lsp closed");
        match method {
            "textDocument/codeAction" => {
                diagnostics::assert_valid_in_code_actions(&response["result"])
            }
            "textDocument/diagnostic" => {
                diagnostics::assert_valid(&response["result"]["items"], "a pulled report")
            }
            _ => {}
        }
        match response.get("error") {
            Some(error) if !error.is_null() => Err(error.clone()),
            _ => Ok(response["result"].clone()),
        }
    }

    pub async fn command(&mut self, command: &str, argument: Value) -> Result<Value, Value> {
        let arguments = if argument.is_null() {
            json!([])
        } else {
            json!([argument])
        };
        self.request(
            "workspace/executeCommand",
            json!({ "command": command, "arguments": arguments }),
        )
        .await
    }

    pub fn notifications(&self) -> Vec<Value> {
        self.recorded.lock().unwrap().notifications.clone()
    }

    pub fn server_requests(&self) -> Vec<Value> {
        self.recorded.lock().unwrap().server_requests.clone()
    }

    /// Server requests of `method`, in order.
    pub fn server_requests_of(&self, method: &str) -> Vec<Value> {
        self.server_requests()
            .into_iter()
            .filter(|r| r["method"] == method)
            .collect()
    }

    /// `window/showMessage` texts, in order.
    pub fn shown_messages(&self) -> Vec<String> {
        self.notifications()
            .into_iter()
            .filter(|n| n["method"] == "window/showMessage")
            .map(|n| {
                n["params"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    /// Waits for a `window/showMessage` whose text contains `needle`; returns the text.
    pub async fn wait_message(&self, needle: &str) -> String {
        self.wait_for(&format!("window/showMessage containing {needle:?}"), || {
            self.shown_messages()
                .into_iter()
                .find(|m| m.contains(needle))
        })
        .await
    }

    /// The params (`type`, `message`) of every `window/showMessage` whose message contains
    /// `needle`, in order.
    pub fn shown_messages_containing(&self, needle: &str) -> Vec<Value> {
        self.notifications()
            .into_iter()
            .filter(|n| n["method"] == "window/showMessage")
            .map(|n| n["params"].clone())
            .filter(|p| p["message"].as_str().is_some_and(|m| m.contains(needle)))
            .collect()
    }

    /// What codex-lsp wrote to stdout that was not an LSP frame.
    pub fn stdout_garbage(&self) -> Vec<String> {
        self.recorded.lock().unwrap().stdout_garbage.clone()
    }

    /// Waits for a notification matching `pred`.
    pub async fn wait_notification(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for(what, || self.notifications().into_iter().find(|n| pred(n)))
            .await
    }

    pub async fn wait_for<T>(&self, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.changed.notified();
            if let Some(found) = probe() {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "timed out waiting for {what}; notifications: {:#?}",
                    self.notifications()
                );
            }
        }
    }

    /// `codex/turnCompleted` of `turn_id`.
    pub async fn turn_completed(&self, turn_id: &str) -> Value {
        let n = self
            .wait_notification(&format!("codex/turnCompleted of {turn_id}"), |n| {
                n["method"] == "codex/turnCompleted" && n["params"]["turnId"] == turn_id
            })
            .await;
        n["params"].clone()
    }

    /// `$/progress` values for `token`, in order.
    pub fn progress_of(&self, token: &str) -> Vec<Value> {
        self.notifications()
            .into_iter()
            .filter(|n| n["method"] == "$/progress" && n["params"]["token"] == token)
            .map(|n| n["params"]["value"].clone())
            .collect()
    }

    /// The app-server processes codex-lsp started (its children).
    pub fn app_server_pids(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid))
            .into_iter()
            .flatten()
            .flatten();
        for task in tasks {
            if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
                pids.extend(
                    children
                        .split_whitespace()
                        .filter_map(|p| p.parse::<i32>().ok()),
                );
            }
        }
        pids
    }

    pub async fn shutdown(self) {
        diagnostics::assert_valid_published(&self.notifications());
        self.shutdown_and_wait(Duration::from_secs(10)).await;
    }

    /// `shutdown`, then `exit` with stdin left open (as editors do); returns the exit status
    /// if codex-lsp exited `within`, and kills it otherwise.
    pub async fn shutdown_and_wait(mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = tokio::time::timeout(
            Duration::from_secs(10),
            self.request("shutdown", Value::Null),
        )
        .await;
        self.notify("exit", Value::Null).await;
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .ok()
            .and_then(Result::ok);
        let _ = self.child.start_kill();
        status
    }
}

/// One frame; `Err` carries what was not a frame (recorded, then reading goes on).
async fn read_frame<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> Option<Result<Value, String>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = v.parse::<usize>().ok();
        } else if !line.starts_with("Content-Type: ") {
            return Some(Err(format!("not an LSP header line: {line:?}")));
        }
    }
    let Some(length) = length else {
        return Some(Err("a header without Content-Length".into()));
    };
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.ok()?;
    Some(serde_json::from_slice(&body).map_err(|e| {
        format!(
            "a body that is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&body)
        )
    }))
}

async fn read_loop(
    mut stdout: BufReader<tokio::process::ChildStdout>,
    stdin: SharedStdin,
    pending: Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>,
    recorded: Arc<Mutex<Recorded>>,
    changed: Arc<Notify>,
    answerer: Arc<Mutex<Answerer>>,
    buffers: Arc<Mutex<buffers::Buffers>>,
) {
    while let Some(frame) = read_frame(&mut stdout).await {
        let message = match frame {
            Ok(message) => message,
            Err(garbage) => {
                recorded.lock().unwrap().stdout_garbage.push(garbage);
                changed.notify_waiters();
                continue;
            }
        };
        let has_method = message.get("method").is_some();
        let id = message.get("id").cloned().filter(|id| !id.is_null());
        match (has_method, id) {
            (true, Some(id)) => {
                recorded
                    .lock()
                    .unwrap()
                    .server_requests
                    .push(message.clone());
                let method = message["method"].as_str().unwrap_or_default().to_string();
                let mut before = Vec::new();
                let result = {
                    let mut buffers = buffers.lock().unwrap();
                    if method == "workspace/applyEdit" && buffers.enabled {
                        let (result, notifications) = buffers.apply(&message["params"]);
                        before = notifications;
                        result
                    } else {
                        drop(buffers);
                        (answerer.lock().unwrap())(&method, &message["params"])
                    }
                };
                if result == json!(DEFER) {
                    // The test answers this request itself, later (see `answer_later`).
                    changed.notify_waiters();
                    continue;
                }
                let response = match result.get(ERROR_ANSWER) {
                    Some(error) => json!({ "jsonrpc": "2.0", "id": id, "error": error }),
                    None => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
                };
                let body = response.to_string();
                let mut stdin = stdin.lock().await;
                let Some(stdin) = stdin.as_mut() else {
                    continue;
                };
                for notification in before {
                    let body = notification.to_string();
                    let _ = stdin
                        .write_all(
                            format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes(),
                        )
                        .await;
                }
                let _ = stdin
                    .write_all(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
                    .await;
                let _ = stdin.flush().await;
            }
            (true, None) => recorded.lock().unwrap().notifications.push(message),
            (false, id) => {
                let id = id.and_then(|i| i.as_i64());
                let waiter = id.and_then(|id| pending.lock().unwrap().remove(&id));
                match waiter {
                    Some(tx) => {
                        let _ = tx.send(message);
                    }
                    // Answers to requests we never made (e.g. to malformed input).
                    None => recorded
                        .lock()
                        .unwrap()
                        .notifications
                        .push(json!({ "method": "<response>", "params": message })),
                }
            }
        }
        changed.notify_waiters();
    }
}

/// Rules most tests share.
pub fn rules() -> Vec<Rule> {
    use mock_provider::Reply;
    vec![
        Rule::new(
            "say hello",
            vec![Reply::slow_text(
                "Hello from the mock.\nSecond line.",
                Duration::from_millis(30),
            )],
        ),
        Rule::new("hang forever", vec![Reply::Hang]),
        Rule::new(
            "touch accepted.txt",
            vec![
                Reply::exec_escalated("touch accepted.txt", "the test wants it"),
                Reply::text("made it"),
            ],
        ),
        Rule::new(
            "touch declined.txt",
            vec![
                Reply::exec_escalated("touch declined.txt", "the test wants it"),
                Reply::text("ok, not made"),
            ],
        ),
    ]
}

/// `codex.ask` with `argument`; its `(threadId, turnId)`.
pub async fn ask(editor: &mut Editor, argument: Value) -> (String, String) {
    let started = editor
        .command("codex.ask", argument)
        .await
        .expect("codex.ask");
    let id = |key: &str| {
        started[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {started:#}"))
            .to_string()
    };
    (id("threadId"), id("turnId"))
}

/// `codex.ask {prompt, wait: true}`, which must complete; its result.
pub async fn ask_and_wait(editor: &mut Editor, prompt: &str) -> Value {
    let result = editor
        .command("codex.ask", json!({ "prompt": prompt, "wait": true }))
        .await
        .unwrap_or_else(|e| panic!("codex.ask {prompt:?}: {e:#}"));
    assert_eq!(result["status"], "completed", "{prompt:?}: {result:#}");
    result
}

/// The prompt of [`transcript_rule`]'s turn, for the editor tests of the server's transcript.
pub const TRANSCRIPT_PROMPT: &str = "editor transcript turn";

/// A turn that runs a command, adds a file and streams a reply of two lines: what every
/// editor's transcript must show as codex-lsp renders it.
pub fn transcript_rule() -> Rule {
    use mock_provider::{PatchBuilder, Reply};
    Rule::new(
        TRANSCRIPT_PROMPT,
        vec![
            Reply::exec("echo ran-the-command"),
            PatchBuilder::new()
                .add("notes.txt", "hello notes\n")
                .into_reply(),
            Reply::slow_text(
                "Transcript reply, line one.\nTranscript reply, line two.",
                // Slow enough (2 s) for an editor's test to see it stream.
                Duration::from_millis(250),
            ),
        ],
    )
}

/// The settings [`transcript_rule`]'s turn runs with: the command asks (the editor
/// accepts), the file change does not.
pub fn transcript_settings() -> Value {
    json!({ "approvalPolicy": "untrusted", "sandbox": "workspace-write" })
}

/// What only codex-lsp's rendering of [`transcript_rule`]'s turn holds (an editor's own
/// renderer never wrote these): the prompt quoted under "You", the command with its exit
/// code and output, the file change with its diff, the reply quoted, the footer.
pub fn assert_server_transcript(text: &str, live: bool) {
    let mut parts = vec![
        "---\n\n### You\n\n> editor transcript turn",
        "#### Ran · exit 0",
        "$ ",
        "echo ran-the-command",
        "ran-the-command\n",
        "#### `notes.txt` added · completed\n\n```diff\nhello notes\n```",
        "### Codex\n\n> Transcript reply, line one.\n> Transcript reply, line two.\n",
        "*completed · ",
    ];
    if live {
        // Only the process that saw the approval knows it.
        parts.push("#### Approval: ");
    }
    for part in parts {
        assert!(
            text.contains(part),
            "the transcript lacks {part:?} of codex-lsp's rendering:\n{text}"
        );
    }
    let at = |part: &str| text.find(part).unwrap();
    assert!(
        at("### You") < at("#### Ran")
            && at("#### Ran") < at("`notes.txt` added")
            && at("`notes.txt` added") < at("### Codex")
            && at("### Codex") < at("*completed · "),
        "out of order:\n{text}"
    );
}
