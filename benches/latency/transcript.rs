//! The chat transcript document during a turn (issue 18 "Speed"): codex-lsp's CPU per
//! event over a 100,000-delta turn with the transcript document open (kept current with
//! versioned `workspace/applyEdit`s, which the client applies and echoes as `didChange`)
//! against the same turn with it closed, in one codex-lsp, interleaved round by round so
//! that the machine's load falls on both alike. Target: open ≤ 2× closed. The 1,000-turn
//! transcript's render time is the "thread" item's `codex.transcript` column.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;

use super::lsp_client::{codex_lsp_bin, proc_cpu, Lsp};
use super::{fake, me, workspace};

const DELTAS: usize = 100_000;
const ROUNDS: usize = 3;
/// How long codex-lsp must have been quiet after a turn's end before its CPU is read (the
/// document's last edits go after `codex/turnCompleted`).
const SETTLE: Duration = Duration::from_millis(300);

/// Waits until codex-lsp sent nothing for [`SETTLE`].
fn settle(lsp: &Lsp) {
    while lsp.recv(SETTLE).is_some() {}
}

/// codex-lsp's CPU over one turn of [`DELTAS`] deltas, settled, and the frames it wrote
/// the editor (the document's edits among them).
fn turn_cpu(lsp: &mut Lsp) -> (Duration, u64) {
    settle(lsp);
    let frames0 = lsp.frames.load(Ordering::Relaxed);
    let cpu0 = proc_cpu(lsp.pid);
    let (_, done) = lsp.turn(DELTAS);
    assert_eq!(done["status"], "completed", "{done}");
    settle(lsp);
    let cpu = proc_cpu(lsp.pid) - cpu0;
    (cpu, lsp.frames.load(Ordering::Relaxed) - frames0)
}

pub fn transcript_document() {
    let ws = workspace();
    let cache = tempfile::tempdir().expect("cache dir");
    let env = [("XDG_CACHE_HOME", cache.path().display().to_string())];
    let mut lsp = Lsp::spawn_editing(&codex_lsp_bin(), &env);
    lsp.initialize_editing(
        &ws.path().display().to_string(),
        json!({ "codexPath": me() }),
    );
    let (_, done) = lsp.turn(10);
    assert_eq!(done["finalResponse"], json!(fake::expected_text(10)));

    let events = fake::turn_events(DELTAS) as u32;
    let (mut closed, mut open) = (Vec::new(), Vec::new());
    let mut document_bytes = 0;
    let (mut closed_frames, mut open_frames) = (0, 0);
    for _ in 0..ROUNDS {
        let (cpu, frames) = turn_cpu(&mut lsp);
        closed.push(cpu / events);
        closed_frames = frames;

        let opened = lsp.call(
            "workspace/executeCommand",
            json!({ "command": "codex.openTranscript", "arguments": [{}] }),
        );
        let uri = opened["uri"].as_str().expect("uri").to_string();
        let path = opened["path"].as_str().expect("path");
        let text = std::fs::read_to_string(path).expect("the transcript file");
        lsp.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "markdown", "version": 1, "text": text } }),
        );
        let (cpu, frames) = turn_cpu(&mut lsp);
        open.push(cpu / events);
        open_frames = frames;
        lsp.notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": uri } }),
        );
        settle(&lsp);
        document_bytes = std::fs::read_to_string(path).map_or(0, |t| t.len());
    }
    lsp.shutdown();

    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (closed_mid, open_mid) = (median(&mut closed), median(&mut open));
    let ratio = open_mid.as_secs_f64() / closed_mid.as_secs_f64();
    let us = |d: Duration| format!("{:.2} µs", d.as_secs_f64() * 1e6);
    println!(
        "\n## Transcript document: CPU per event over a {DELTAS}-delta turn, document open vs closed (same codex-lsp, {ROUNDS} rounds interleaved, medians)"
    );
    println!(
        "| transcript document | codex-lsp CPU/event | rounds | frames to the editor (last turn) |"
    );
    println!("|---|---|---|---|");
    let all = |v: &[Duration]| v.iter().map(|d| us(*d)).collect::<Vec<_>>().join(", ");
    println!(
        "| closed | {} | {} | {closed_frames} |",
        us(closed_mid),
        all(&closed)
    );
    println!(
        "| open | {} | {} | {open_frames} |",
        us(open_mid),
        all(&open)
    );
    println!(
        "open/closed: {ratio:.2}× (target ≤ 2×: {}); the document held {:.0} KB at the end",
        if ratio <= 2.0 { "holds" } else { "MISSED" },
        document_bytes as f64 / 1024.0
    );
    println!(
        "(the 1,000-turn transcript's render time: the \"thread\" item's codex.transcript column)"
    );
}
