//! A minimal blocking LSP client for benchmarks and the pump test: starts `codex-lsp`, writes
//! frames, and reads every frame on a thread of its own that answers server requests at once
//! (`null`) and hands everything else, stamped with its arrival time, to the caller. Spawned
//! with [`Lsp::spawn_editing`], it takes `workspace/applyEdit` as an editor does: answers
//! `applied` and sends the `didChange` the edit makes (the request is handed on too).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub struct Lsp {
    pub child: Child,
    pub pid: u32,
    writer: Arc<Mutex<ChildStdin>>,
    rx: Receiver<(Instant, Value)>,
    next_id: i64,
    /// Every frame codex-lsp wrote, server requests included.
    pub frames: Arc<AtomicU64>,
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn read_frame(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some(v) = trimmed.strip_prefix("Content-Length: ") {
            length = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

impl Lsp {
    /// Starts `codex-lsp --stdio` with `env` added.
    pub fn spawn(program: &str, env: &[(&str, String)]) -> Lsp {
        Self::spawn_with(program, env, false)
    }

    /// [`Lsp::spawn`] for a client that applies `workspace/applyEdit` (initialize it with
    /// [`Lsp::initialize_editing`]).
    pub fn spawn_editing(program: &str, env: &[(&str, String)]) -> Lsp {
        Self::spawn_with(program, env, true)
    }

    fn spawn_with(program: &str, env: &[(&str, String)], apply_edits: bool) -> Lsp {
        let mut command = Command::new(program);
        command
            .arg("--stdio")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env("CODEX_LSP_LOG", "warn");
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn codex-lsp");
        let pid = child.id();
        let writer = Arc::new(Mutex::new(child.stdin.take().unwrap()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let frames = Arc::new(AtomicU64::new(0));
        let (reply_to, counter) = (writer.clone(), frames.clone());
        std::thread::spawn(move || {
            let mut reader = BufReader::with_capacity(1 << 16, stdout);
            while let Some(body) = read_frame(&mut reader) {
                let at = Instant::now();
                counter.fetch_add(1, Ordering::Relaxed);
                let Ok(message) = serde_json::from_slice::<Value>(&body) else {
                    continue;
                };
                if let (Some(id), Some(method)) = (message.get("id"), message.get("method")) {
                    let apply = apply_edits && method == "workspace/applyEdit";
                    let result = if apply {
                        json!({ "applied": true })
                    } else {
                        Value::Null
                    };
                    let answer = json!({ "jsonrpc": "2.0", "id": id, "result": result });
                    let mut bytes = frame(answer.to_string().as_bytes());
                    if apply {
                        for change in edit_echoes(&message["params"]["edit"]) {
                            bytes.extend(frame(change.to_string().as_bytes()));
                        }
                    }
                    let mut w = reply_to.lock().unwrap();
                    let _ = w.write_all(&bytes).and_then(|_| w.flush());
                    if apply {
                        // Handed on too: the bench times the edits.
                        let _ = tx.send((at, message));
                    }
                    continue;
                }
                if tx.send((at, message)).is_err() {
                    break;
                }
            }
        });
        Lsp {
            child,
            pid,
            writer,
            rx,
            next_id: 0,
            frames,
        }
    }

    pub fn write_raw(&self, bytes: &[u8]) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(bytes).expect("write to codex-lsp");
        w.flush().expect("flush to codex-lsp");
    }

    pub fn writer(&self) -> Arc<Mutex<ChildStdin>> {
        self.writer.clone()
    }

    pub fn send(&self, message: &Value) {
        self.write_raw(&frame(message.to_string().as_bytes()));
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request; returns its id.
    pub fn request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        id
    }

    /// The next message (a notification or a response) with its arrival time.
    pub fn recv(&self, timeout: Duration) -> Option<(Instant, Value)> {
        match self.rx.recv_timeout(timeout) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("codex-lsp closed its output"),
        }
    }

    /// Waits for the first message matching `pred` (others are dropped).
    pub fn wait(&self, what: &str, pred: impl Fn(&Value) -> bool) -> (Instant, Value) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left) {
                Some((at, m)) if pred(&m) => return (at, m),
                Some(_) => {}
                None => panic!("no {what} within 120 s"),
            }
        }
    }

    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params);
        let (_, m) = self.wait(method, |m| m["id"] == id && m.get("method").is_none());
        assert!(m.get("error").is_none_or(Value::is_null), "{method}: {m}");
        m["result"].clone()
    }

    /// `initialize` + `initialized`, with progress support and `options`.
    pub fn initialize(&mut self, root: &str, options: Value) {
        self.initialize_with(root, options, json!({}));
    }

    /// [`Lsp::initialize`] with `experimental` client capabilities (`codexTranscript`).
    pub fn initialize_with(&mut self, root: &str, options: Value, experimental: Value) {
        self.initialize_capable(root, options, experimental, json!({}), json!({}));
    }

    /// [`Lsp::initialize`] for an editor that applies versioned workspace edits.
    pub fn initialize_editing(&mut self, root: &str, options: Value) {
        let workspace = json!({ "applyEdit": true, "workspaceEdit": { "documentChanges": true } });
        self.initialize_capable(root, options, json!({}), workspace, json!({}));
    }

    /// [`Lsp::initialize`] for an editor that pulls diagnostics (`textDocument/diagnostic`,
    /// as VS Code does) instead of taking them pushed.
    pub fn initialize_pulling(&mut self, root: &str, options: Value) {
        let text_document = json!({ "diagnostic": { "dynamicRegistration": false } });
        self.initialize_capable(root, options, json!({}), json!({}), text_document);
    }

    fn initialize_capable(
        &mut self,
        root: &str,
        options: Value,
        experimental: Value,
        workspace: Value,
        text_document: Value,
    ) {
        let uri = format!("file://{root}");
        self.call(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": uri,
                "workspaceFolders": [{ "uri": uri, "name": "bench" }],
                "capabilities": {
                    "window": { "workDoneProgress": true },
                    "general": { "positionEncodings": ["utf-16"] },
                    "experimental": experimental,
                    "workspace": workspace,
                    "textDocument": text_document,
                },
                "initializationOptions": options,
            }),
        );
        self.notify("initialized", json!({}));
    }

    /// Asks for a turn of `deltas` deltas; returns its `codex/turnCompleted` params and
    /// arrival time. Only the turn's own messages are read.
    pub fn turn(&mut self, deltas: usize) -> (Instant, Value) {
        let id = self.request(
            "workspace/executeCommand",
            json!({ "command": "codex.ask", "arguments": [{ "prompt": format!("deltas={deltas}") }] }),
        );
        let mut turn_id = None;
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (at, m) = self.recv(left).expect("the turn ended within 300 s");
            if m["id"] == id && m.get("method").is_none() {
                assert!(m.get("error").is_none_or(Value::is_null), "codex.ask: {m}");
                turn_id = Some(m["result"]["turnId"].clone());
            } else if m["method"] == "codex/turnCompleted"
                && turn_id.as_ref().is_none_or(|t| *t == m["params"]["turnId"])
            {
                return (at, m["params"].clone());
            }
        }
    }

    pub fn shutdown(mut self) {
        let id = self.request("shutdown", Value::Null);
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some((_, m)) = self.recv(deadline.saturating_duration_since(Instant::now())) {
            if m["id"] == id {
                break;
            }
        }
        self.notify("exit", Value::Null);
        let _ = self.child.wait();
    }
}

/// The `didChange` notifications an editor sends for a workspace edit it applied: one per
/// versioned document, its version one up, its edits last to first (so that each range still
/// holds when the one before it has applied; a workspace edit's ranges all refer to the text
/// before it).
fn edit_echoes(edit: &Value) -> Vec<Value> {
    let position = |p: &Value| (p["line"].as_u64(), p["character"].as_u64());
    edit["documentChanges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|document| {
            let mut edits: Vec<&Value> =
                document["edits"].as_array().into_iter().flatten().collect();
            edits.sort_by_key(|e| std::cmp::Reverse(position(&e["range"]["start"])));
            let changes: Vec<Value> = edits
                .into_iter()
                .map(|e| json!({ "range": e["range"], "text": e["newText"] }))
                .collect();
            let version = document["textDocument"]["version"].as_i64().unwrap_or(0) + 1;
            json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": { "uri": document["textDocument"]["uri"], "version": version },
                "contentChanges": changes } })
        })
        .collect()
}

/// `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
pub fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User + system CPU time of a live process so far (its own threads, not its children).
pub fn proc_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos(ticks * 1_000_000_000 / hz)
}

/// CLOCK_MONOTONIC in ns at `at`: comparable with another process's clock reads (an
/// `Instant` is CLOCK_MONOTONIC on Linux, but does not show its value).
pub fn mono_ns_at(at: Instant) -> u64 {
    static ANCHOR: std::sync::OnceLock<(Instant, u64)> = std::sync::OnceLock::new();
    let &(anchor, anchor_ns) = ANCHOR.get_or_init(|| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        (
            Instant::now(),
            ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64,
        )
    });
    match at.checked_duration_since(anchor) {
        Some(after) => anchor_ns + after.as_nanos() as u64,
        None => anchor_ns - (anchor - at).as_nanos() as u64,
    }
}

/// The codex-lsp under test: this build's, or `$CODEX_LSP_BENCH_BIN` (to compare two builds
/// in one sitting).
pub fn codex_lsp_bin() -> String {
    std::env::var("CODEX_LSP_BENCH_BIN")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_codex-lsp").to_string())
}
