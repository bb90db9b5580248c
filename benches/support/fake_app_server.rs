//! A fake `codex app-server` for benchmarks and the pump test: answers the handshake and the
//! thread calls with real-shaped results (copied from the recorded 0.163.0 transcripts), and
//! answers `turn/start` with a whole scripted turn written as fast as the pipe takes it:
//! `turn/started`, the user message, an agent message of N `item/agentMessage/delta`
//! notifications, its `item/completed`, `turn/completed`.
//!
//! N comes from the prompt: the first `deltas=N` in the turn's input text (default 1000).
//! The reply text is [`expected_text`]`(N)`, so a client can check it exactly.
//!
//! `rate=R` in the prompt streams the deltas at R per second instead, as a model does, after
//! a command item (a report goes out just before the first delta, as in a real turn). With
//! `$CODEX_LSP_BENCH_STAMPS` set, the time each delta was written (CLOCK_MONOTONIC, ns, one
//! a line) goes to that file before the turn's end is written.
//!
//! Built into the bench and test binaries that use it; they run it when started with the
//! argument `app-server` (the way codex-lsp and the SDK start `codex app-server`).
#![allow(dead_code)]

use std::io::{BufRead, Write};

use serde_json::{json, Value};

pub const THREAD_ID: &str = "01a20126-f93c-70d3-9232-758f2ae222f0";
const USER_AGENT: &str = "codex_lsp/0.163.0 (fake app-server for benchmarks)";

/// The `i`-th delta: short tokens like a model's, with a line break now and then.
pub fn delta(i: usize) -> String {
    if i % 16 == 15 {
        format!("w{i}.\n")
    } else {
        format!("w{i} ")
    }
}

/// The whole reply of a turn of `n` deltas.
pub fn expected_text(n: usize) -> String {
    (0..n).map(delta).collect()
}

fn thread_result() -> Value {
    json!({
        "thread": {
            "id": THREAD_ID, "environments": [], "extra": null, "sessionId": THREAD_ID,
            "forkedFromId": null, "parentThreadId": null, "preview": "", "ephemeral": false,
            "section": null, "sectionEnteredAt": null, "projectId": null,
            "historyMode": "paginated", "modelProvider": "mock_provider", "model": "gpt-5.5",
            "reasoningEffort": null, "createdAt": 1795315661, "updatedAt": 1795315661,
            "recencyAt": 1795315661, "status": { "type": "idle" }, "path": null,
            "cwd": "/tmp", "cliVersion": "0.163.0", "originator": "bench", "source": "vscode",
            "canAcceptDirectInput": true, "threadSource": null, "agentNickname": null,
            "agentRole": null, "gitInfo": null, "name": null, "daybreakEnabled": null,
            "turns": [],
        },
        "model": "gpt-5.5", "modelProvider": "mock_provider", "serviceTier": null,
        "disabledPluginIds": [], "cwd": "/tmp", "runtimeWorkspaceRoots": ["/tmp"],
        "instructionSources": [], "approvalPolicy": "on-request", "approvalsReviewer": "user",
        "sandbox": { "type": "readOnly", "networkAccess": false },
        "activePermissionProfile": null, "reasoningEffort": null,
        "multiAgentMode": "explicitRequestOnly",
    })
}

fn turn(id: &str, status: &str, items: Value) -> Value {
    json!({
        "id": id, "rootTurnId": id, "items": items, "itemsView": "summary", "status": status,
        "error": null, "startedAt": 1795315661, "completedAt": null, "durationMs": null,
    })
}

/// The deltas a prompt asks for (`deltas=N`), default 1000.
pub fn deltas_in(text: &str) -> usize {
    text.split("deltas=")
        .nth(1)
        .and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or(1000)
}

/// Deltas per second a prompt asks for (`rate=R`); none: as fast as the pipe takes them.
pub fn rate_in(text: &str) -> Option<f64> {
    let rest = text.split("rate=").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|r: &f64| *r > 0.0)
}

/// Where a paced turn writes the times its deltas were written.
pub const STAMPS_ENV: &str = "CODEX_LSP_BENCH_STAMPS";

/// CLOCK_MONOTONIC in ns: comparable across processes, unlike `Instant`'s values.
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Every notification of one turn of `n` deltas, as JSONL.
pub fn turn_lines(turn_id: &str, n: usize) -> Vec<u8> {
    let mut out = turn_prelude(turn_id, false);
    out.reserve(200 * n + 4096);
    let tail = delta_tail(turn_id);
    for i in 0..n {
        delta_line(&mut out, &tail, i);
    }
    out.extend(turn_epilogue(turn_id, n));
    out
}

/// What a turn writes before its first delta; `with_command`: a command ran first.
fn turn_prelude(turn_id: &str, with_command: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    let t = THREAD_ID;
    line(
        &mut out,
        "thread/status/changed",
        json!({ "threadId": t, "status": { "type": "active", "activeFlags": [] } }),
    );
    line(
        &mut out,
        "turn/started",
        json!({ "threadId": t, "turn": turn(turn_id, "inProgress", json!([])) }),
    );
    let user = json!({ "type": "userMessage", "id": "u-1", "clientId": null,
        "content": [{ "type": "text", "text": "bench", "text_elements": [] }] });
    line(
        &mut out,
        "item/started",
        json!({ "item": user, "threadId": t, "turnId": turn_id, "startedAtMs": 1795315661201u64 }),
    );
    line(
        &mut out,
        "item/completed",
        json!({ "item": user, "threadId": t, "turnId": turn_id, "completedAtMs": 1795315661201u64 }),
    );
    let message = |text: &str| {
        json!({ "type": "agentMessage", "id": "msg-1", "text": text, "phase": null,
            "memoryCitation": null, "delivery": null, "questions": null })
    };
    if with_command {
        let command = |status: &str| {
            json!({ "type": "commandExecution", "id": "cmd-1", "command": "cargo test",
                "cwd": "/tmp", "processId": null, "source": "agent", "status": status,
                "commandActions": [], "aggregatedOutput": null, "exitCode": null,
                "durationMs": null })
        };
        line(
            &mut out,
            "item/started",
            json!({ "item": command("inProgress"), "threadId": t, "turnId": turn_id, "startedAtMs": 1795315661201u64 }),
        );
        line(
            &mut out,
            "item/completed",
            json!({ "item": command("completed"), "threadId": t, "turnId": turn_id, "completedAtMs": 1795315661201u64 }),
        );
    }
    line(
        &mut out,
        "item/started",
        json!({ "item": message(""), "threadId": t, "turnId": turn_id, "startedAtMs": 1795315661201u64 }),
    );
    out
}

/// The `i`-th delta's notification. The same bytes `line` would write, by template:
/// building 100,000 Values would make the fake, not the pipe, the limit of the `cat`
/// baseline.
fn delta_line(out: &mut Vec<u8>, tail: &str, i: usize) {
    let head =
        r#"{"emittedAtMs":1795315661180,"method":"item/agentMessage/delta","params":{"delta":"#;
    out.extend_from_slice(head.as_bytes());
    serde_json::to_writer(&mut *out, &delta(i)).expect("serializable");
    out.extend_from_slice(tail.as_bytes());
    out.push(b'\n');
}

/// What follows the delta text in every delta of `turn_id`.
fn delta_tail(turn_id: &str) -> String {
    let t = THREAD_ID;
    format!(r#","itemId":"msg-1","threadId":"{t}","turnId":"{turn_id}"}}}}"#)
}

/// What a turn of `n` deltas writes after its last delta.
fn turn_epilogue(turn_id: &str, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096 + 12 * n);
    let t = THREAD_ID;
    let message = |text: &str| {
        json!({ "type": "agentMessage", "id": "msg-1", "text": text, "phase": null,
            "memoryCitation": null, "delivery": null, "questions": null })
    };
    let text = expected_text(n);
    line(
        &mut out,
        "item/completed",
        json!({ "item": message(&text), "threadId": t, "turnId": turn_id, "completedAtMs": 1795315661301u64 }),
    );
    line(
        &mut out,
        "thread/status/changed",
        json!({ "threadId": t, "status": { "type": "idle" } }),
    );
    let mut done = turn(turn_id, "completed", json!([message(&text)]));
    done["completedAt"] = json!(1795315662);
    done["durationMs"] = json!(100);
    line(
        &mut out,
        "turn/completed",
        json!({ "threadId": t, "turn": done }),
    );
    out
}

fn line(out: &mut Vec<u8>, method: &str, params: Value) {
    let message = json!({ "method": method, "params": params, "emittedAtMs": 1795315661180u64 });
    serde_json::to_writer(&mut *out, &message).expect("serializable");
    out.push(b'\n');
}

/// How many notifications [`turn_lines`] writes for `n` deltas.
pub fn turn_events(n: usize) -> usize {
    n + 9
}

/// How many turns `thread/read` answers with ([`HISTORY_ENV`], default 0).
fn history_turns() -> usize {
    std::env::var(HISTORY_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The number of turns the thread's history holds, for `thread/read`.
pub const HISTORY_ENV: &str = "CODEX_LSP_BENCH_HISTORY";

/// The thread with `turns` completed turns: each a prompt, a command with its output and a
/// reply of a few lines (about 0.8 KB of JSON a turn).
pub fn history(turns: usize) -> Value {
    let mut thread = thread_result()["thread"].clone();
    let turns: Vec<Value> = (0..turns)
        .map(|i| {
            let items = json!([
                { "type": "userMessage", "id": format!("u-{i}"), "clientId": null,
                  "content": [{ "type": "text", "text": format!("question {i}: why does the parser stall on long lines?"), "text_elements": [] }] },
                { "type": "commandExecution", "id": format!("c-{i}"), "command": "cargo test -p parser",
                  "cwd": "/tmp", "processId": null, "source": "agent", "status": "completed",
                  "commandActions": [], "aggregatedOutput": "running 12 tests\ntest result: ok. 12 passed; 0 failed\n",
                  "exitCode": 0, "durationMs": 1200 },
                { "type": "agentMessage", "id": format!("m-{i}"), "phase": null, "memoryCitation": null,
                  "delivery": null, "questions": null,
                  "text": format!("Answer {i}: the lexer rescans each line from its start.\n\nCaching the line starts makes it linear; the tests pass.") },
            ]);
            let mut t = turn(&format!("turn-{i:06}"), "completed", items);
            t["completedAt"] = json!(1795315662);
            t["durationMs"] = json!(4000);
            t
        })
        .collect();
    thread["turns"] = Value::Array(turns);
    thread
}

/// What a turn asked with `edit-files` in its prompt changes: `N,DIR`, the files DIR/f0.rs …
/// DIR/f{N-1}.rs (a few lines each, then one `fileChange` item per file), from
/// [`EDITS_ENV`]; default none.
pub const EDITS_ENV: &str = "CODEX_LSP_BENCH_EDITS";

/// What the agent does to each file of an `edit-files` turn: renames a call on ten lines
/// in its middle and adds a line at its end (the bench's `diff` anchor is given the same).
pub fn agent_edit(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let middle = lines.len() / 2;
    let mut out = String::with_capacity(text.len() + 64);
    for (i, line) in lines.iter().enumerate() {
        if (middle..middle + 10).contains(&i) {
            out.push_str(&line.replace("compute(", "compute_checked("));
        } else {
            out.push_str(line);
        }
    }
    out.push_str("// edited by the agent\n");
    out
}

/// The `edit-files` turn: each file of [`EDITS_ENV`] is rewritten by [`agent_edit`], then
/// its completed `fileChange` item goes out, as the app-server does; a short reply ends it.
fn edit_files_lines(turn_id: &str) -> Vec<u8> {
    let spec = std::env::var(EDITS_ENV).unwrap_or_default();
    let (files, dir) = spec.split_once(',').unwrap_or(("0", "/tmp"));
    let files: usize = files.parse().unwrap_or(0);
    let mut out = turn_prelude(turn_id, false);
    let t = THREAD_ID;
    for i in 0..files {
        let path = format!("{dir}/f{i}.rs");
        let Ok(before) = std::fs::read_to_string(&path) else {
            continue;
        };
        let _ = std::fs::write(&path, agent_edit(&before));
        let item = |status: &str| {
            json!({ "type": "fileChange", "id": format!("patch-{i}"), "status": status,
                "changes": [{ "path": path, "kind": { "type": "update", "move_path": null },
                              "diff": "@@ (elided by the bench) @@\n" }] })
        };
        line(
            &mut out,
            "item/started",
            json!({ "item": item("inProgress"), "threadId": t, "turnId": turn_id, "startedAtMs": 1795315661201u64 }),
        );
        line(
            &mut out,
            "item/completed",
            json!({ "item": item("completed"), "threadId": t, "turnId": turn_id, "completedAtMs": 1795315661201u64 }),
        );
    }
    let tail = delta_tail(turn_id);
    for i in 0..10 {
        delta_line(&mut out, &tail, i);
    }
    out.extend(turn_epilogue(turn_id, 10));
    out
}

/// What a turn asked with `file-changes` in its prompt does: [`FILE_CHANGES_ENV`] names a
/// JSON list of `{ "path", "from", "diff" }`; each file `from` is copied over `path` (the
/// agent's edit), then its completed `fileChange` item goes out carrying `diff` (its unified
/// diff, as the app-server sends one), then a short reply ends the turn.
pub const FILE_CHANGES_ENV: &str = "CODEX_LSP_BENCH_FILE_CHANGES";

fn file_changes_lines(turn_id: &str) -> Vec<u8> {
    let spec = std::env::var(FILE_CHANGES_ENV).unwrap_or_default();
    let changes: Vec<Value> = std::fs::read(&spec)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let mut out = turn_prelude(turn_id, false);
    let t = THREAD_ID;
    for (i, change) in changes.iter().enumerate() {
        let (Some(path), Some(from)) = (change["path"].as_str(), change["from"].as_str()) else {
            continue;
        };
        if std::fs::copy(from, path).is_err() {
            continue;
        }
        let item = |status: &str| {
            json!({ "type": "fileChange", "id": format!("patch-{i}"), "status": status,
                "changes": [{ "path": path, "kind": { "type": "update", "move_path": null },
                              "diff": change["diff"] }] })
        };
        line(
            &mut out,
            "item/started",
            json!({ "item": item("inProgress"), "threadId": t, "turnId": turn_id, "startedAtMs": 1795315661201u64 }),
        );
        line(
            &mut out,
            "item/completed",
            json!({ "item": item("completed"), "threadId": t, "turnId": turn_id, "completedAtMs": 1795315661201u64 }),
        );
    }
    let tail = delta_tail(turn_id);
    for i in 0..10 {
        delta_line(&mut out, &tail, i);
    }
    out.extend(turn_epilogue(turn_id, 10));
    out
}

/// What `review/start` finds: `FINDINGS,FILES,DIR` (FINDINGS spread over DIR/f0.rs …
/// DIR/f{FILES-1}.rs, a few lines each), from [`REVIEW_ENV`]; default none.
pub const REVIEW_ENV: &str = "CODEX_LSP_BENCH_REVIEW";

/// The review turn: its `exitedReviewMode` item carries the findings rendered as 0.163.0
/// renders them (see src/bridge/review.rs).
fn review_lines(turn_id: &str) -> Vec<u8> {
    let spec = std::env::var(REVIEW_ENV).unwrap_or_default();
    let mut parts = spec.splitn(3, ',');
    let findings: usize = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    let files: usize = parts
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let dir = parts.next().unwrap_or("/tmp");
    let mut text =
        String::from("The change mostly works; see the comments.\n\nFull review comments:\n");
    for i in 0..findings {
        let line = 1 + (i / files) * 3;
        text.push_str(&format!(
            "\n- [P2] Finding {i} — {dir}/f{}.rs:{line}-{}\n  The value computed here is never checked.\n",
            i % files,
            line + 1
        ));
    }
    let item = json!({ "type": "exitedReviewMode", "id": "review-1", "review": text });
    let t = THREAD_ID;
    let mut out = Vec::new();
    line(
        &mut out,
        "turn/started",
        json!({ "threadId": t, "turn": turn(turn_id, "inProgress", json!([])) }),
    );
    line(
        &mut out,
        "item/completed",
        json!({ "item": item, "threadId": t, "turnId": turn_id, "completedAtMs": 1795315661301u64 }),
    );
    let mut done = turn(turn_id, "completed", json!([item]));
    done["completedAt"] = json!(1795315662);
    done["durationMs"] = json!(100);
    line(
        &mut out,
        "turn/completed",
        json!({ "threadId": t, "turn": done }),
    );
    out
}

/// Serves JSONL on stdin/stdout until stdin closes.
pub fn serve() {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut turns = 0u64;
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let (Some(id), Some(method)) = (message.get("id"), message["method"].as_str()) else {
            continue;
        };
        let reply = |out: &mut std::io::StdoutLock, result: Value| {
            let text = json!({ "id": id, "result": result }).to_string();
            let _ = out.write_all(text.as_bytes());
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        };
        match method {
            "initialize" => reply(
                &mut out,
                json!({ "userAgent": USER_AGENT, "codexHome": "/tmp",
                        "platformFamily": "unix", "platformOs": "linux" }),
            ),
            "thread/start" | "thread/resume" => reply(&mut out, thread_result()),
            "thread/list" => reply(&mut out, json!({ "data": [], "nextCursor": null })),
            "thread/read" => reply(&mut out, json!({ "thread": history(history_turns()) })),
            "review/start" => {
                turns += 1;
                let turn_id = format!("01a20126-f962-7f90-8124-{turns:012}");
                reply(
                    &mut out,
                    json!({ "reviewThreadId": THREAD_ID, "turn": turn(&turn_id, "inProgress", json!([])) }),
                );
                if out
                    .write_all(&review_lines(&turn_id))
                    .and_then(|_| out.flush())
                    .is_err()
                {
                    break;
                }
            }
            "turn/start" => {
                turns += 1;
                let turn_id = format!("01a20126-f962-7f90-8124-{turns:012}");
                let text = message
                    .pointer("/params/input")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["text"].as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let n = deltas_in(&text);
                reply(
                    &mut out,
                    json!({ "turn": turn(&turn_id, "inProgress", json!([])) }),
                );
                let written = match rate_in(&text) {
                    _ if text.contains("edit-files") => out
                        .write_all(&edit_files_lines(&turn_id))
                        .and_then(|_| out.flush()),
                    _ if text.contains("file-changes") => out
                        .write_all(&file_changes_lines(&turn_id))
                        .and_then(|_| out.flush()),
                    None => out
                        .write_all(&turn_lines(&turn_id, n))
                        .and_then(|_| out.flush()),
                    Some(rate) => stream_paced(&mut out, &turn_id, n, rate),
                };
                if written.is_err() {
                    break;
                }
            }
            _ => reply(&mut out, json!({})),
        }
    }
}

/// A turn whose deltas are written at `rate` per second, each flushed on its own, the time
/// of each write noted (see [`STAMPS_ENV`]).
fn stream_paced(out: &mut impl Write, turn_id: &str, n: usize, rate: f64) -> std::io::Result<()> {
    out.write_all(&turn_prelude(turn_id, true))?;
    out.flush()?;
    let start = std::time::Instant::now();
    let mut stamps = Vec::with_capacity(n);
    let mut bytes = Vec::with_capacity(256);
    let tail = delta_tail(turn_id);
    for i in 0..n {
        let due = start + std::time::Duration::from_secs_f64(i as f64 / rate);
        std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
        bytes.clear();
        delta_line(&mut bytes, &tail, i);
        stamps.push(mono_ns());
        out.write_all(&bytes)?;
        out.flush()?;
    }
    if let Some(path) = std::env::var_os(STAMPS_ENV) {
        let text: String = stamps.iter().map(|s| format!("{s}\n")).collect();
        std::fs::write(path, text)?;
    }
    out.write_all(&turn_epilogue(turn_id, n))?;
    out.flush()
}

/// Writes one turn of `n` deltas to stdout with no handshake (for the pipeline baselines).
pub fn replay(n: usize) {
    let lines = turn_lines("01a20126-f962-7f90-8124-000000000001", n);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&lines);
    let _ = out.flush();
}
