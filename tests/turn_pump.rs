//! A fast end-to-end check of the event pump's two promises, against the fake app-server the
//! benchmarks use: progress stays coalesced (LSP messages per turn bounded by ~10 per second
//! of turn time + a constant, not one per delta), and `codex/turnCompleted.finalResponse` is
//! exactly the streamed text. 20,000 deltas keep it well under a few seconds in a debug build.
//!
//! No libtest harness: this binary is also the fake, started by codex-lsp as
//! `<this binary> app-server --listen stdio://`.

#[path = "../benches/support/fake_app_server.rs"]
mod fake;
#[path = "../benches/support/lsp_client.rs"]
mod lsp_client;

use serde_json::json;
use std::time::Instant;

const DELTAS: usize = 20_000;

fn main() {
    if std::env::args().any(|a| a == "app-server") {
        return fake::serve();
    }
    let me = std::env::current_exe().unwrap().display().to_string();
    let ws = tempfile::tempdir().unwrap();
    let mut lsp = lsp_client::Lsp::spawn(env!("CARGO_BIN_EXE_codex-lsp"), &[]);
    lsp.initialize(&ws.path().display().to_string(), json!({ "codexPath": me }));
    lsp.turn(10);
    let before = lsp.frames.load(std::sync::atomic::Ordering::Relaxed);
    let start = Instant::now();
    let (at, done) = lsp.turn(DELTAS);
    let seconds = (at - start).as_secs_f64();
    let messages = lsp.frames.load(std::sync::atomic::Ordering::Relaxed) - before;
    lsp.shutdown();

    assert_eq!(done["status"], "completed", "{done}");
    assert!(
        done["finalResponse"] == json!(fake::expected_text(DELTAS)),
        "finalResponse is not the streamed text"
    );
    let bound = (10.0 * seconds).ceil() as u64 + 10;
    assert!(
        messages <= bound,
        "{messages} LSP messages for a turn of {DELTAS} deltas in {seconds:.2} s (bound {bound})"
    );
    println!(
        "turn_pump: {DELTAS} deltas in {seconds:.2} s, {messages} LSP messages (bound {bound}), final text exact"
    );
    println!("1 passed, 0 failed");
}
