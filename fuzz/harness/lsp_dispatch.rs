//! Arbitrary JSON-RPC bodies through the whole language server (`lsp::serve`): the stdio
//! guard, async-lsp's router and every handler, after a normal `initialize`/`initialized`.
//!
//! The input is a list of message bodies separated by 0xFF (a byte UTF-8 never uses). No
//! app-server runs: `codexPath` names a file that does not exist, and bodies that set
//! `codexPath` are dropped, so the fuzzer can never make codex-lsp start a program.
//!
//! Invariants: never panics, never hangs; and the server still answers a request sent
//! after the fuzzed ones.
//!
//! Shared by the `lsp_dispatch` fuzz target and `tests/fuzz_seeds.rs` (its seeds and a short seeded
//! random run inside `cargo test`).

use codex_lsp::logging::LogHandle;
use codex_lsp::lsp::framing::{frame, read_frame, Frame};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

fn names_codex_path(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key == "codexPath" || names_codex_path(value)),
        Value::Array(values) => values.iter().any(names_codex_path),
        _ => false,
    }
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
        "processId": null,
        "rootUri": "file:///nonexistent-fuzz-workspace",
        "capabilities": {
            "general": {"positionEncodings": ["utf-16"]},
            "window": {"workDoneProgress": true},
            "workspace": {"applyEdit": true, "workspaceEdit": {"documentChanges": true}}
        },
        "initializationOptions": {"codexPath": "/nonexistent/codex-for-fuzzing"}
    }})
}

/// One input; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    let mut input = Vec::new();
    input.extend(frame(initialize().to_string().as_bytes()));
    input.extend(frame(
        br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
    ));
    for body in data.split(|&b| b == 0xFF) {
        if serde_json::from_slice::<Value>(body).is_ok_and(|v| names_codex_path(&v)) {
            continue;
        }
        // A body mentioning codexPath through escapes would still decode to it: drop those.
        if body.windows(2).any(|w| w == b"\\u") && String::from_utf8_lossy(body).contains("ath") {
            continue;
        }
        input.extend(frame(body));
    }
    // The probe: the server must still answer it.
    input.extend(frame(
        br#"{"jsonrpc":"2.0","id":"probe","method":"workspace/executeCommand","params":{"command":"codex.clearReview","arguments":[]}}"#,
    ));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (mut editor, server_in) = tokio::io::duplex(1 << 16);
        let (server_out, from_server) = tokio::io::duplex(1 << 16);
        let server = tokio::spawn(codex_lsp::lsp::serve(
            server_in,
            server_out,
            LogHandle::inert(),
        ));
        let (close_stdin, closed) = tokio::sync::oneshot::channel::<()>();
        let writer = tokio::spawn(async move {
            let _ = editor.write_all(&input).await;
            let _ = closed.await;
        });
        let mut reader = tokio::io::BufReader::new(from_server);
        let answered = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                let Ok(Some(Frame::Body(body))) = read_frame(&mut reader).await else {
                    return false;
                };
                let message: Value = serde_json::from_slice(&body).expect("the server writes JSON");
                if message["id"] == "probe" {
                    return true;
                }
            }
        })
        .await
        .expect("the server hung");
        // An `exit` among the fuzzed bodies ends the server before the probe: fine.
        let exited = String::from_utf8_lossy(data).contains("exit");
        assert!(answered || exited, "the server stopped answering");
        // Closing stdin ends the server (the writer may be stuck if it stopped reading).
        drop(close_stdin);
        writer.abort();
        drop(reader);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(20), server).await;
        assert!(ended.is_ok(), "the server did not end when stdin closed");
    });
}
