//! Issue 20 target 5, pulled: a big review's findings taken by an editor that pulls
//! diagnostics (`textDocument/diagnostic`, as VS Code does) instead of having them pushed.
//! codex-lsp tells a pulling editor to pull again (`workspace/diagnostic/refresh`) when a
//! review ends; the editor then pulls each document it shows. codex-lsp does not offer
//! `workspace/diagnostic`, so the bench pulls every file of the review, as an editor with
//! all of them open would.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use super::lsp_client::{codex_lsp_bin, frame, Lsp};
use super::{fake, me, ms, source_doc, workspace};

/// Ids of the pulls (apart from the bench's own requests).
const FIRST_PULL_ID: i64 = 4_000_000;

/// `codex.review` with `findings` over `files` files, pulled: the time from the ask to the
/// last file's pulled report, the messages the editor got, and the diagnostics pulled.
fn pulled_review(findings: usize, files: usize) -> (Duration, u64, usize) {
    let ws = workspace();
    let dir = ws.path().canonicalize().unwrap().display().to_string();
    for f in 0..files {
        std::fs::write(ws.path().join(format!("f{f}.rs")), source_doc()).unwrap();
    }
    let env = [(fake::REVIEW_ENV, format!("{findings},{files},{dir}"))];
    let mut lsp = Lsp::spawn(&codex_lsp_bin(), &env);
    lsp.initialize_pulling(&dir, json!({ "codexPath": me() }));
    let (_, done) = lsp.turn(10);
    assert_eq!(done["finalResponse"], json!(fake::expected_text(10)));
    let frames0 = lsp.frames.load(Ordering::Relaxed);
    let start = Instant::now();
    // The review's end (its findings in), then every file pulled in one write.
    lsp.call(
        "workspace/executeCommand",
        json!({ "command": "codex.review", "arguments": [{ "wait": true }] }),
    );
    let mut pulls = Vec::new();
    for f in 0..files {
        let pull = json!({ "jsonrpc": "2.0", "id": FIRST_PULL_ID + f as i64,
            "method": "textDocument/diagnostic",
            "params": { "textDocument": { "uri": format!("file://{dir}/f{f}.rs") } } });
        pulls.extend(frame(pull.to_string().as_bytes()));
    }
    lsp.write_raw(&pulls);
    let (mut answered, mut pulled) = (0, 0);
    let mut last = start;
    while answered < files {
        let (at, m) = lsp
            .recv(Duration::from_secs(60))
            .expect("every pull answered");
        if m.get("method").is_none() && m["id"].as_i64().is_some_and(|i| i >= FIRST_PULL_ID) {
            answered += 1;
            pulled += m["result"]["items"].as_array().map_or(0, Vec::len);
            last = at;
        }
    }
    let messages = lsp.frames.load(Ordering::Relaxed) - frames0;
    lsp.shutdown();
    (last - start, messages, pulled)
}

pub fn big_review_pulled() {
    const FILES: usize = 500;
    println!(
        "\n## A big review pulled: `codex.review` with N findings over {FILES} files, every file pulled (`textDocument/diagnostic`) after the review"
    );
    println!("| findings | diagnostics pulled | ask → last file's pulled report | messages to the editor |");
    println!("|---|---|---|---|");
    for findings in [500usize, 1000, 2000] {
        let (took, messages, pulled) = pulled_review(findings, FILES);
        assert_eq!(pulled, findings, "every finding pulled");
        println!("| {findings} | {pulled} | {} | {messages} |", ms(took));
    }
}
