//! What a user feels, each against its anchor in the same run: typing during a turn (code
//! actions while a model streams at its own speed, and while a turn floods), token to screen
//! (an app-server's delta to the editor's transcript update and progress report, against the
//! same pipe read directly), the first ask after the editor opens (against a minimal client
//! of the real app-server), a keystroke's cost by file size, and scale: many buffers, a big
//! review, long threads. Prints one table per item; with `$CODEX_LSP_BENCH_SVG` set, also
//! writes its charts there.
//!
//! `cargo bench --bench latency [-- ITEM...]` with ITEM among typing, keystroke, token,
//! first-ask, buffers, review, thread, marks, revert, undo, review-pull (default: all; marks,
//! revert and undo, issue 17's, live in `latency/changes.rs`; review-pull, the big review
//! pulled, in `latency/pull.rs`). `scripts/bench.sh latency` runs it.
//!
//! The bench binary is also the fake app-server (`benches/support/fake_app_server.rs`,
//! started with the argument `app-server`).

#[path = "latency/changes.rs"]
mod changes;
#[path = "support/fake_app_server.rs"]
mod fake;
#[path = "support/lsp_client.rs"]
mod lsp_client;
#[path = "latency/pull.rs"]
mod pull;
#[path = "support/svg.rs"]
mod svg;
#[path = "latency/transcript.rs"]
mod transcript;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lsp_client::{codex_lsp_bin, frame, mono_ns_at, proc_kib, Lsp};
use serde_json::{json, Value};
use svg::{Scale, Series};

/// A model's pace: deltas per second.
const MODEL_RATE: usize = 300;
/// The coalescing window of progress reports (`REPORT_INTERVAL` in src/bridge/turns.rs).
const REPORT_WINDOW: Duration = Duration::from_millis(100);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "app-server") {
        return fake::serve();
    }
    if args.first().map(String::as_str) == Some("relay") {
        return relay(&args[1..]);
    }
    let items: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let known = [
        "typing",
        "keystroke",
        "token",
        "first-ask",
        "buffers",
        "review",
        "thread",
        "marks",
        "revert",
        "undo",
        "review-pull",
        "transcript",
    ];
    assert!(items.iter().all(|i| known.contains(i)), "items: {known:?}");
    let wants = |item: &str| items.is_empty() || items.contains(&item);
    let started = Instant::now();
    // The clocks' anchor, taken before anything is timed.
    mono_ns_at(Instant::now());
    let mut load = [0f64; 3];
    // SAFETY: getloadavg writes at most 3 doubles.
    unsafe { libc::getloadavg(load.as_mut_ptr(), 3) };
    println!(
        "(machine: {} cores, load average {:.1} at the start; shared with other builds: read ratios)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load[0]
    );
    if wants("typing") {
        typing();
    }
    if wants("keystroke") {
        keystroke_cost();
    }
    if wants("token") {
        token_to_screen();
    }
    if wants("first-ask") {
        first_ask();
    }
    if wants("buffers") {
        buffers();
    }
    if wants("review") {
        big_review();
    }
    if wants("thread") {
        long_threads();
    }
    if wants("marks") {
        changes::typing_with_marks();
    }
    if wants("revert") {
        changes::revert_vs_patch();
    }
    if wants("undo") {
        changes::undo_many_files();
    }
    if wants("review-pull") {
        pull::big_review_pulled();
    }
    if wants("transcript") {
        transcript::transcript_document();
    }
    println!("latency: {:.0} s", started.elapsed().as_secs_f64());
}

fn me() -> String {
    std::env::current_exe()
        .expect("current exe")
        .display()
        .to_string()
}

fn workspace() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn as_ms(samples: &[Duration]) -> Vec<f64> {
    samples.iter().map(|d| d.as_secs_f64() * 1e3).collect()
}

/// codex-lsp with the fake as its app-server, started and warmed up (one small turn).
fn codex_lsp(ws: &tempfile::TempDir, env: &[(&str, String)], experimental: Value) -> Lsp {
    let mut lsp = Lsp::spawn(&codex_lsp_bin(), env);
    lsp.initialize_with(
        &ws.path().display().to_string(),
        json!({ "codexPath": me() }),
        experimental,
    );
    let (_, done) = lsp.turn(10);
    assert_eq!(done["finalResponse"], json!(fake::expected_text(10)));
    lsp
}

// ---------------------------------------------------------------------------------------
// Typing during a turn
// ---------------------------------------------------------------------------------------

const DOC_LINES: usize = 2_000;

fn source_doc() -> String {
    (0..DOC_LINES)
        .map(|i| format!("fn f{i}(x: u32) -> u32 {{ x + {i} }} // line {i}\n"))
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Turns {
    None,
    /// Turns streaming at a model's pace, back to back.
    ModelSpeed,
    /// Turns of 100,000 deltas written as fast as the pipe takes them, back to back.
    Flood,
}

impl Turns {
    fn prompt(self, length: Duration) -> String {
        match self {
            Turns::None => unreachable!(),
            Turns::ModelSpeed => format!(
                "deltas={} rate={MODEL_RATE}",
                (MODEL_RATE as f64 * length.as_secs_f64()) as usize
            ),
            Turns::Flood => "deltas=100000".to_string(),
        }
    }
}

/// The document's version, across phases (the editor's numbering never goes back).
static VERSION: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1);

/// Types at 100 didChange/s (a character typed, then deleted: every other change leaves the
/// buffer the size of its file) and asks for code actions every 30 ms, each in one write
/// with a didChange, for `length`; returns the code-action latencies and the turns run.
fn typing_phase(
    lsp: &mut Lsp,
    uri: &str,
    length: Duration,
    turns: Turns,
) -> (Vec<Duration>, usize) {
    let sent: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let writer = lsp.writer();
    let stop = Arc::new(AtomicBool::new(false));
    let typist = {
        let (sent, stop, uri) = (sent.clone(), stop.clone(), uri.to_string());
        std::thread::spawn(move || {
            let mut id = 1_000_000i64;
            let start = Instant::now();
            for tick in 0u64.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let due = start + Duration::from_millis(10 * tick);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let line = ((tick / 2) * 7919) % DOC_LINES as u64;
                let (end, text) = if tick % 2 == 0 { (0, "x") } else { (1, "") };
                let change = json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                    "textDocument": { "uri": uri, "version": VERSION.fetch_add(1, Ordering::Relaxed) + 1 },
                    "contentChanges": [{ "range": {
                        "start": { "line": line, "character": 0 }, "end": { "line": line, "character": end },
                    }, "text": text }],
                }});
                let mut bytes = frame(change.to_string().as_bytes());
                let code_action = tick % 3 == 0;
                if code_action {
                    id += 1;
                    let request = json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/codeAction", "params": {
                        "textDocument": { "uri": uri },
                        "range": { "start": { "line": line, "character": 0 }, "end": { "line": line + 3, "character": 0 } },
                        "context": { "diagnostics": [] },
                    }});
                    bytes.extend(frame(request.to_string().as_bytes()));
                }
                let mut w = writer.lock().unwrap();
                if code_action {
                    sent.lock().unwrap().push((id, Instant::now()));
                }
                w.write_all(&bytes).expect("write");
                w.flush().expect("flush");
            }
        })
    };
    let ask = |lsp: &mut Lsp| {
        lsp.request(
            "workspace/executeCommand",
            json!({ "command": "codex.ask", "arguments": [{ "prompt": turns.prompt(length) }] }),
        )
    };
    let mut latencies = Vec::new();
    let mut turns_done = 0;
    let start = Instant::now();
    let mut asked = (turns != Turns::None).then(|| ask(lsp));
    let mut answered = HashMap::new();
    let take = |m: &Value, at: Instant, answered: &mut HashMap<i64, Instant>| {
        if m.get("method").is_none() && m["id"].as_i64().is_some_and(|i| i >= 1_000_000) {
            answered.insert(m["id"].as_i64().unwrap(), at);
            false
        } else {
            m["method"] == "codex/turnCompleted"
        }
    };
    while start.elapsed() < length {
        let Some((at, m)) = lsp.recv(Duration::from_millis(100)) else {
            continue;
        };
        if take(&m, at, &mut answered) && turns != Turns::None {
            turns_done += 1;
            asked = (start.elapsed() < length).then(|| ask(lsp));
        }
    }
    stop.store(true, Ordering::Relaxed);
    typist.join().unwrap();
    // The last answers and a turn still running.
    let drain_until = Instant::now() + Duration::from_secs(120);
    while Instant::now() < drain_until {
        let all_answered = sent
            .lock()
            .unwrap()
            .iter()
            .all(|(id, _)| answered.contains_key(id));
        if all_answered && asked.is_none() {
            break;
        }
        if let Some((at, m)) = lsp.recv(Duration::from_millis(100)) {
            if take(&m, at, &mut answered) && turns != Turns::None {
                turns_done += 1;
                asked = None;
            }
        }
    }
    for (id, at) in sent.lock().unwrap().iter() {
        let answer = answered.get(id).expect("every code action answered");
        latencies.push(*answer - *at);
    }
    (latencies, turns_done)
}

fn typing() {
    const LENGTH: Duration = Duration::from_secs(12);
    const ROUNDS: u32 = 6;
    let ws = workspace();
    let path = ws.path().join("lib.rs");
    let text = source_doc();
    std::fs::write(&path, &text).unwrap();
    let uri = format!("file://{}", path.display());
    let mut lsp = codex_lsp(&ws, &[], json!({}));
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "rust", "version": 1, "text": text } }),
    );
    // Interleaved, in rounds, so that the machine's other work falls on every phase alike.
    let mut phases: Vec<(Turns, Vec<Duration>, usize)> = vec![
        (Turns::None, vec![], 0),
        (Turns::ModelSpeed, vec![], 0),
        (Turns::Flood, vec![], 0),
    ];
    for _ in 0..ROUNDS {
        for (turns, latencies, count) in phases.iter_mut() {
            let (l, n) = typing_phase(&mut lsp, &uri, LENGTH / ROUNDS, *turns);
            latencies.extend(l);
            *count += n;
        }
    }
    lsp.shutdown();
    println!(
        "\n## Typing during a turn: didChange at 100/s, codeAction every 30 ms, {} s per phase in {ROUNDS} rounds",
        LENGTH.as_secs()
    );
    println!("| phase | code actions | p50 | p90 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    let name = |turns: Turns, count: usize| match turns {
        Turns::None => "no turn".to_string(),
        Turns::ModelSpeed => {
            format!("{count} turns streaming at {MODEL_RATE} deltas/s (a model's pace)")
        }
        Turns::Flood => format!("{count} turns of 100000 deltas written as fast as the pipe takes"),
    };
    for (turns, l, count) in &phases {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            name(*turns, *count),
            l.len(),
            ms(percentile(l, 50.0)),
            ms(percentile(l, 90.0)),
            ms(percentile(l, 99.0)),
            ms(*l.iter().max().unwrap())
        );
    }
    let ratio = |l: &[Duration], p: f64| {
        percentile(l, p).as_secs_f64() / percentile(&phases[0].1, p).as_secs_f64()
    };
    let model = &phases[1].1;
    let flood = &phases[2].1;
    println!(
        "ratio at a model's pace / no turn: p50 {:.2}×, p99 {:.2}×; flooding / no turn: p50 {:.2}×, p99 {:.2}×",
        ratio(model, 50.0),
        ratio(model, 99.0),
        ratio(flood, 50.0),
        ratio(flood, 99.0)
    );
    let p99 = ratio(model, 99.0);
    println!(
        "target p99 at a model's pace within 1.5× of no turn: {} ({p99:.2}×)",
        if p99 <= 1.5 { "holds" } else { "MISSED" }
    );
    let series: Vec<Series> = phases
        .iter()
        .map(|(turns, l, _)| {
            let label = match turns {
                Turns::None => "no turn".to_string(),
                Turns::ModelSpeed => format!("a turn at {MODEL_RATE} deltas/s"),
                Turns::Flood => "a turn flooding the pipe".to_string(),
            };
            svg::cdf(&label, &as_ms(l))
        })
        .collect();
    svg::save(
        "typing-cdf.svg",
        &svg::chart(
            "Code action latency while typing (CDF)",
            "latency, ms (log scale)",
            "fraction of requests",
            Scale::Log,
            &series,
        ),
    );
}

/// A keystroke's cost in codex-lsp by the size of its file: `EDITS` didChanges written at
/// once, then a code action; the time to its answer per edit. A replaced character leaves
/// the buffer the size of its file on disk (which codex-lsp then compares with the file, to
/// follow a reload); a typed one makes it longer.
fn keystroke_cost() {
    const EDITS: usize = 200;
    println!("\n## A keystroke's cost by file size: {EDITS} didChanges then a code action, time per edit");
    println!(
        "| file | character typed (buffer grows) | character replaced (buffer the file's size) |"
    );
    println!("|---|---|---|");
    let ws = workspace();
    let mut lsp = Lsp::spawn(&codex_lsp_bin(), &[]);
    lsp.initialize(
        &ws.path().display().to_string(),
        json!({ "codexPath": me() }),
    );
    let (mut grows, mut same) = (vec![], vec![]);
    for (k, size) in [100 * 1024, 1024 * 1024, 10 * 1024 * 1024]
        .into_iter()
        .enumerate()
    {
        let text = big_source(k, size);
        let lines = text.lines().count();
        let path = ws.path().join(format!("big{k}.rs"));
        std::fs::write(&path, &text).unwrap();
        let uri = format!("file://{}", path.display());
        lsp.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "rust", "version": 1, "text": text } }),
        );
        // Opened before the clock starts.
        lsp.call(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 1, "character": 0 } },
                "context": { "diagnostics": [] } }),
        );
        let mut version = 1;
        let mut run = |replace: bool| {
            let mut batch = vec![];
            for i in 0..EDITS {
                version += 1;
                let at = (i * 7919) % lines;
                let end = if replace { 5 } else { 4 };
                let change = json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                    "textDocument": { "uri": uri, "version": version },
                    "contentChanges": [{ "range": {
                        "start": { "line": at, "character": 4 }, "end": { "line": at, "character": end },
                    }, "text": "x" }],
                }});
                batch.extend(frame(change.to_string().as_bytes()));
            }
            let start = Instant::now();
            lsp.write_raw(&batch);
            lsp.call(
                "textDocument/codeAction",
                json!({ "textDocument": { "uri": uri },
                    "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 1, "character": 0 } },
                    "context": { "diagnostics": [] } }),
            );
            start.elapsed() / EDITS as u32
        };
        // Replaced first: the buffer is still the file's size.
        let replaced = run(true);
        let typed = run(false);
        let mb = size as f64 / (1024.0 * 1024.0);
        println!(
            "| {mb:.1} MiB | {:.1} µs | {:.1} µs |",
            typed.as_secs_f64() * 1e6,
            replaced.as_secs_f64() * 1e6
        );
        grows.push((mb, typed.as_secs_f64() * 1e6));
        same.push((mb, replaced.as_secs_f64() * 1e6));
    }
    lsp.shutdown();
    svg::save(
        "keystroke-cost.svg",
        &svg::chart(
            "A didChange's cost by file size",
            "file size, MiB",
            "µs per didChange",
            Scale::Linear,
            &[
                Series {
                    name: "character replaced (buffer the file's size)".into(),
                    points: same,
                },
                Series {
                    name: "character typed (buffer grows)".into(),
                    points: grows,
                },
            ],
        ),
    );
}

// ---------------------------------------------------------------------------------------
// Token to screen
// ---------------------------------------------------------------------------------------

/// The highest delta index (`w123` of [`fake::delta`]) in `text`.
fn newest_delta(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut best = None;
    for (i, &b) in bytes.iter().enumerate() {
        let boundary = i == 0 || matches!(bytes[i - 1], b' ' | b'>' | b'\n');
        if b != b'w' || !boundary {
            continue;
        }
        let digits: String = text[i + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let after = bytes.get(i + 1 + digits.len());
        if !digits.is_empty() && matches!(after, None | Some(b' ' | b'.' | b'\n')) {
            let n: usize = digits.parse().unwrap();
            best = best.max(Some(n));
        }
    }
    best
}

fn read_stamps(path: &std::path::Path, n: usize) -> Vec<u64> {
    let text = std::fs::read_to_string(path).expect("the fake's stamps");
    let stamps: Vec<u64> = text.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(stamps.len(), n, "one stamp per delta");
    stamps
}

/// Per delta: from its write to the first of `arrivals` (time, newest delta shown) that
/// shows it.
fn per_delta(stamps: &[u64], arrivals: &[(u64, usize)]) -> Vec<Duration> {
    let mut out = Vec::with_capacity(stamps.len());
    let mut k = 0;
    for (i, &stamp) in stamps.iter().enumerate() {
        while k < arrivals.len() && arrivals[k].1 < i {
            k += 1;
        }
        let Some(&(at, _)) = arrivals.get(k) else {
            break;
        };
        out.push(Duration::from_nanos(at.saturating_sub(stamp)));
    }
    out
}

/// A bare relay: runs `command`, passes our stdin to it and its stdout to ours, a line at a
/// time (one process between the app-server and its reader, as codex-lsp is, doing nothing).
fn relay(command: &[String]) {
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the relayed command");
    let mut to_child = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut to_child);
    });
    let mut from_child = BufReader::new(child.stdout.take().unwrap());
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    while from_child.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
        if out.write_all(&line).and_then(|_| out.flush()).is_err() {
            break;
        }
        line.clear();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The anchor: the fake app-server read over its pipe, a line at a time; `relayed`: through
/// a bare relay process.
fn direct_pipe(n: usize, stamps_path: &std::path::Path, relayed: bool) -> Vec<Duration> {
    let mut command = Command::new(me());
    if relayed {
        command.args(["relay", &me()]);
    }
    let mut child = command
        .arg("app-server")
        .env(fake::STAMPS_ENV, stamps_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the fake");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for m in [
        json!({ "id": 1, "method": "initialize", "params": {} }),
        json!({ "id": 2, "method": "thread/start", "params": {} }),
        json!({ "id": 3, "method": "turn/start", "params": { "threadId": fake::THREAD_ID,
            "input": [{ "type": "text", "text": format!("deltas={n} rate={MODEL_RATE}"), "text_elements": [] }] } }),
    ] {
        writeln!(stdin, "{m}").unwrap();
    }
    stdin.flush().unwrap();
    let mut arrivals = vec![];
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the fake ended");
        let at = mono_ns_at(Instant::now());
        if line.contains("\"item/agentMessage/delta\"") {
            let m: Value = serde_json::from_str(&line).unwrap();
            let i = newest_delta(m["params"]["delta"].as_str().unwrap()).unwrap();
            arrivals.push((at, i));
        } else if line.contains("\"turn/completed\"") {
            break;
        }
    }
    drop(stdin);
    let _ = child.wait();
    per_delta(&read_stamps(stamps_path, n), &arrivals)
}

/// What codex-lsp's editor saw of one paced turn: per delta to its transcript update and to
/// its progress report; per report, the time past the coalescing window; the first delta to
/// its report.
struct Streamed {
    transcript: Vec<Duration>,
    progress: Vec<Duration>,
    beyond: Vec<Duration>,
    first_delta: Duration,
    first_in_transcript: Duration,
}

fn lsp_stream(lsp: &mut Lsp, n: usize, stamps_path: &std::path::Path) -> Streamed {
    let id = lsp.request(
        "workspace/executeCommand",
        json!({ "command": "codex.ask", "arguments": [{ "prompt": format!("deltas={n} rate={MODEL_RATE}") }] }),
    );
    let mut transcript = vec![];
    // Progress reports: (arrival, newest delta shown, if any).
    let mut reports: Vec<(u64, Option<usize>)> = vec![];
    let mut turn_id = None;
    loop {
        let (at, m) = lsp
            .recv(Duration::from_secs(120))
            .expect("the turn streams");
        let at = mono_ns_at(at);
        if m["id"] == id && m.get("method").is_none() {
            turn_id = Some(m["result"]["turnId"].clone());
        } else if m["method"] == "codex/transcript" {
            if let Some(i) = newest_delta(m["params"]["markdown"].as_str().unwrap_or("")) {
                transcript.push((at, i));
            }
        } else if m["method"] == "$/progress" && m["params"]["value"]["kind"] == "report" {
            let message = m["params"]["value"]["message"].as_str().unwrap_or("");
            reports.push((at, newest_delta(message)));
        } else if m["method"] == "codex/turnCompleted"
            && turn_id
                .as_ref()
                .is_some_and(|t| *t == m["params"]["turnId"])
        {
            break;
        }
    }
    let stamps = read_stamps(stamps_path, n);
    let through_transcript = per_delta(&stamps, &transcript);
    if let Some(dump) = std::env::var_os("CODEX_LSP_BENCH_DUMP") {
        let text: String = through_transcript
            .iter()
            .zip(&stamps)
            .map(|(l, s)| format!("{s} {}\n", l.as_micros()))
            .collect();
        std::fs::write(dump, text).unwrap();
    }
    // Running max: a report shows the reply's last line, never an older delta than before.
    let mut newest = None;
    let shown: Vec<(u64, usize)> = reports
        .iter()
        .filter_map(|&(at, i)| {
            newest = newest.max(i);
            newest.map(|n| (at, n))
        })
        .collect();
    let through_progress = per_delta(&stamps, &shown);
    // Beyond the window: a report is due at the later of its newest delta's write and the
    // previous report + the window; what it took past that is codex-lsp's (and the pipe's).
    // (The previous report's arrival stands for its sending, a little later: this errs low
    // by one delivery, about the pipe's p50.)
    let window = REPORT_WINDOW.as_nanos() as u64;
    let mut beyond = vec![];
    for k in 1..reports.len() {
        let (at, Some(i)) = reports[k] else { continue };
        let due = stamps[i].max(reports[k - 1].0 + window);
        beyond.push(Duration::from_nanos(at.saturating_sub(due)));
    }
    Streamed {
        first_delta: through_progress.first().copied().unwrap_or(Duration::MAX),
        first_in_transcript: through_transcript.first().copied().unwrap_or(Duration::MAX),
        transcript: through_transcript,
        progress: through_progress,
        beyond,
    }
}

fn token_to_screen() {
    const ROUNDS: usize = 3;
    const N: usize = MODEL_RATE * 4;
    let ws = workspace();
    let stamps_path = ws.path().join("stamps");
    let env = [(fake::STAMPS_ENV, stamps_path.display().to_string())];
    let mut lsp = codex_lsp(&ws, &env, json!({ "codexTranscript": true }));
    let (mut direct, mut relayed) = (vec![], vec![]);
    let (mut through_transcript, mut through_progress, mut beyond) = (vec![], vec![], vec![]);
    let (mut first_delta, mut first_in_transcript) = (Duration::ZERO, Duration::ZERO);
    // Interleaved, so that the machine's other work falls on both alike.
    for _ in 0..ROUNDS {
        direct.extend(direct_pipe(N, &stamps_path, false));
        relayed.extend(direct_pipe(N, &stamps_path, true));
        let round = lsp_stream(&mut lsp, N, &stamps_path);
        through_transcript.extend(round.transcript);
        through_progress.extend(round.progress);
        beyond.extend(round.beyond);
        first_delta = first_delta.max(round.first_delta);
        first_in_transcript = first_in_transcript.max(round.first_in_transcript);
    }
    lsp.shutdown();

    println!(
        "\n## Token to screen: {ROUNDS} turns of {N} deltas at {MODEL_RATE}/s, from the app-server's write to the editor's read"
    );
    println!("| path | samples | p50 | p90 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, l: &[Duration]| {
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            l.len(),
            ms(percentile(l, 50.0)),
            ms(percentile(l, 90.0)),
            ms(percentile(l, 99.0)),
            ms(*l.iter().max().unwrap())
        );
    };
    row("the pipe read directly (anchor)", &direct);
    row(
        "the pipe through a bare relay process (anchor: one hop, as codex-lsp is)",
        &relayed,
    );
    row(
        "codex-lsp → `codex/transcript` (every delta)",
        &through_transcript,
    );
    row(
        &format!(
            "codex-lsp → `$/progress` report (coalesced to one per {} ms)",
            REPORT_WINDOW.as_millis()
        ),
        &through_progress,
    );
    row(
        "… of which past the coalescing window (per report)",
        &beyond,
    );
    println!(
        "first delta of a turn (worst of {ROUNDS}): {} to the progress report, {} to the transcript (the pipe alone: p50 {})",
        ms(first_delta),
        ms(first_in_transcript),
        ms(percentile(&direct, 50.0))
    );
    let hop = percentile(&relayed, 99.0);
    let added_transcript = percentile(&through_transcript, 99.0).saturating_sub(hop);
    let added_progress = percentile(&beyond, 99.0).saturating_sub(hop);
    let first_held = first_delta.saturating_sub(hop);
    let holds = added_transcript <= Duration::from_millis(1)
        && added_progress <= Duration::from_millis(1)
        && first_held <= Duration::from_millis(1);
    println!(
        "added by codex-lsp at p99 (minus the relayed pipe's p99): transcript {}, progress beyond the window {}; first delta {} past the relayed pipe's p99",
        ms(added_transcript),
        ms(added_progress),
        ms(first_held)
    );
    println!(
        "target p99 added ≤ 1 ms beyond the window, first delta not held: {}",
        if holds { "holds" } else { "MISSED" }
    );
    svg::save(
        "token-to-screen-cdf.svg",
        &svg::chart(
            &format!("Token to screen at {MODEL_RATE} deltas/s (CDF)"),
            "latency, ms (log scale)",
            "fraction of deltas",
            Scale::Log,
            &[
                svg::cdf("the pipe read directly", &as_ms(&direct)),
                svg::cdf("the pipe through a bare relay", &as_ms(&relayed)),
                svg::cdf("codex-lsp → codex/transcript", &as_ms(&through_transcript)),
                svg::cdf(
                    "codex-lsp → $/progress (coalesced)",
                    &as_ms(&through_progress),
                ),
            ],
        ),
    );
}

// ---------------------------------------------------------------------------------------
// The first ask after the editor opens
// ---------------------------------------------------------------------------------------

fn real_runtime() -> Option<String> {
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/install-runtime.sh");
    let out = Command::new(script).arg("--print").output().ok()?;
    let path = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && std::path::Path::new(&path).is_file()).then_some(path)
}

/// A scripted provider of its own, a fresh `CODEX_HOME` pointing at it and an empty
/// workspace: every run starts as a user's first session in a folder.
struct FirstAskEnv {
    provider: mock_provider::MockProvider,
    home: tempfile::TempDir,
    ws: tempfile::TempDir,
}

impl FirstAskEnv {
    fn new(rt: &tokio::runtime::Runtime) -> FirstAskEnv {
        let rules = vec![mock_provider::Rule::new(
            "",
            vec![mock_provider::Reply::text("ok")],
        )];
        let provider = rt
            .block_on(mock_provider::MockProvider::start(rules))
            .expect("start the provider");
        let home = workspace();
        mock_provider::write_codex_home(home.path(), &provider.base_url()).unwrap();
        FirstAskEnv {
            provider,
            home,
            ws: workspace(),
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        mock_provider::codex_env(self.home.path())
            .into_iter()
            .map(|(k, v)| (k, v.to_string_lossy().into_owned()))
            .collect()
    }

    /// When the provider got its first request (polled every 0.2 ms).
    fn request_arrives(&self) -> Instant {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.provider.requests().is_empty() {
            assert!(Instant::now() < deadline, "no request reached the provider");
            std::thread::sleep(Duration::from_micros(200));
        }
        Instant::now()
    }
}

/// codex-lsp: `initialize`, `initialized`, `idle`, then `codex.ask`; the time from the ask to
/// the provider's request.
fn lsp_first_ask(env: &FirstAskEnv, runtime: &str, idle: Duration) -> Duration {
    let vars = env.env();
    let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let mut lsp = Lsp::spawn(&codex_lsp_bin(), &vars);
    lsp.initialize(
        &env.ws.path().display().to_string(),
        json!({ "codexPath": runtime }),
    );
    std::thread::sleep(idle);
    let asked = Instant::now();
    lsp.request(
        "workspace/executeCommand",
        json!({ "command": "codex.ask", "arguments": [{ "prompt": "hello" }] }),
    );
    let took = env.request_arrives() - asked;
    lsp.shutdown();
    took
}

/// The anchor: a minimal client that spawns the app-server and calls `initialize`,
/// `thread/start`, `turn/start` in sequence. Returns the time from spawn to the provider's
/// request, and the part of it from `turn/start`.
fn minimal_first_ask(env: &FirstAskEnv, runtime: &str) -> (Duration, Duration) {
    let start = Instant::now();
    let mut child = Command::new(runtime)
        .args(["app-server", "--listen", "stdio://"])
        .envs(env.env())
        .current_dir(env.ws.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the app-server");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut call = |id: u64, method: &str, params: Value| -> Value {
        writeln!(
            stdin,
            "{}",
            json!({ "id": id, "method": method, "params": params })
        )
        .unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "the app-server ended"
            );
            let m: Value = serde_json::from_str(&line).unwrap_or_default();
            if m["id"] == id && m.get("method").is_none() {
                assert!(m.get("error").is_none(), "{method}: {m}");
                return m["result"].clone();
            }
        }
    };
    call(
        1,
        "initialize",
        json!({ "clientInfo": { "name": "codex_lsp_bench", "title": null, "version": "0.0.1" },
            "capabilities": { "experimentalApi": true } }),
    );
    let cwd = env.ws.path().display().to_string();
    let thread = call(2, "thread/start", json!({ "cwd": cwd }));
    let thread_id = thread["thread"]["id"].as_str().unwrap().to_string();
    let turn_start = Instant::now();
    call(
        3,
        "turn/start",
        json!({ "threadId": thread_id,
            "input": [{ "type": "text", "text": "hello", "text_elements": [] }] }),
    );
    let arrived = env.request_arrives();
    let _ = child.kill();
    let _ = child.wait();
    (arrived - start, arrived - turn_start)
}

fn first_ask() {
    const RUNS: usize = 11;
    const IDLE: Duration = Duration::from_millis(1500);
    println!("\n## The first ask after the editor opens: to the model provider's request, median of {RUNS}");
    let Some(runtime) = real_runtime() else {
        println!("not run: the pinned runtime is not installed (scripts/install-runtime.sh)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (mut at_once, mut after_idle, mut cold, mut warm) = (vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        at_once.push(lsp_first_ask(
            &FirstAskEnv::new(&rt),
            &runtime,
            Duration::ZERO,
        ));
        after_idle.push(lsp_first_ask(&FirstAskEnv::new(&rt), &runtime, IDLE));
        let (all, turn) = minimal_first_ask(&FirstAskEnv::new(&rt), &runtime);
        cold.push(all);
        warm.push(turn);
    }
    let med = |v: &[Duration]| percentile(v, 50.0);
    println!(
        "| client | from | to the provider's request | vs the minimal client's spawn → request |"
    );
    println!("|---|---|---|---|");
    let anchor = med(&cold);
    let vs = |d: Duration| format!("{:+.1} ms", (d.as_secs_f64() - anchor.as_secs_f64()) * 1e3);
    println!(
        "| codex-lsp, asked right after `initialized` | the ask | {} | {} |",
        ms(med(&at_once)),
        vs(med(&at_once))
    );
    println!(
        "| codex-lsp, asked {:.1} s after `initialized` | the ask | {} | {} |",
        IDLE.as_secs_f64(),
        ms(med(&after_idle)),
        vs(med(&after_idle))
    );
    println!(
        "| minimal client: spawn, initialize, thread/start, turn/start (anchor) | the spawn | {} | 0 |",
        ms(anchor)
    );
    println!(
        "| minimal client, its `turn/start` alone | turn/start | {} | {} |",
        ms(med(&warm)),
        vs(med(&warm))
    );
    let worst = med(&at_once).max(med(&after_idle));
    let over = worst.as_secs_f64() - anchor.as_secs_f64();
    println!(
        "target ≤ the minimal client + 10 ms: {} ({:+.1} ms)",
        if over <= 0.010 { "holds" } else { "MISSED" },
        over * 1e3
    );
}

// ---------------------------------------------------------------------------------------
// Many buffers
// ---------------------------------------------------------------------------------------

/// A source file of about `bytes` bytes, different for each `seed`.
fn big_source(seed: usize, bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 100);
    let mut i = 0;
    while text.len() < bytes {
        use std::fmt::Write as _;
        let _ = writeln!(
            text,
            "    let value_{i} = compute({seed}, {i}, \"some text here\"); // a comment"
        );
        i += 1;
    }
    text
}

fn buffers() {
    const DOC_BYTES: usize = 100 * 1024;
    let counts = [100usize, 300, 1000];
    println!(
        "\n## Many buffers: N documents of {} KB each opened (each `didOpen` followed by a code action in one write)",
        DOC_BYTES / 1024
    );
    println!("| documents | text | codex-lsp RSS growth | RSS / text | didOpen p50 | didOpen p99 | total |");
    println!("|---|---|---|---|---|---|---|");
    let mut rss_points = vec![];
    let mut p50_points = vec![];
    let mut p99_points = vec![];
    let mut worst_ratio: f64 = 0.0;
    for &count in &counts {
        let ws = workspace();
        let mut lsp = Lsp::spawn(&codex_lsp_bin(), &[]);
        lsp.initialize(
            &ws.path().display().to_string(),
            json!({ "codexPath": me() }),
        );
        std::thread::sleep(Duration::from_millis(300));
        let rss0 = proc_kib(lsp.pid, "VmRSS");
        let mut text_bytes = 0usize;
        let mut latencies = vec![];
        let start = Instant::now();
        for d in 0..count {
            let text = big_source(d, DOC_BYTES);
            let path = ws.path().join(format!("f{d}.rs"));
            std::fs::write(&path, &text).unwrap();
            text_bytes += text.len();
            let uri = format!("file://{}", path.display());
            let open = json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
                "textDocument": { "uri": uri, "languageId": "rust", "version": 1, "text": text } } });
            let id = 2_000_000 + d as i64;
            let action = json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/codeAction", "params": {
                "textDocument": { "uri": uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 1, "character": 0 } },
                "context": { "diagnostics": [] } } });
            let mut bytes = frame(open.to_string().as_bytes());
            bytes.extend(frame(action.to_string().as_bytes()));
            let sent = Instant::now();
            lsp.write_raw(&bytes);
            let (at, _) = lsp.wait("code action", |m| m["id"] == id);
            latencies.push(at - sent);
        }
        let total = start.elapsed();
        std::thread::sleep(Duration::from_millis(300));
        let rss = proc_kib(lsp.pid, "VmRSS");
        lsp.shutdown();
        let growth = rss.saturating_sub(rss0) as f64 * 1024.0;
        let ratio = growth / text_bytes as f64;
        worst_ratio = worst_ratio.max(ratio);
        let mb = text_bytes as f64 / 1e6;
        println!(
            "| {count} | {mb:.1} MB | {:.1} MB | {ratio:.2}× | {} | {} | {} |",
            growth / 1e6,
            ms(percentile(&latencies, 50.0)),
            ms(percentile(&latencies, 99.0)),
            ms(total)
        );
        rss_points.push((mb, growth / 1e6));
        p50_points.push((
            count as f64,
            percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        ));
        p99_points.push((
            count as f64,
            percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        ));
    }
    println!(
        "target RSS ≤ 1.3× the text: {} ({worst_ratio:.2}× at worst)",
        if worst_ratio <= 1.3 {
            "holds"
        } else {
            "MISSED"
        }
    );
    let text_line = Series {
        name: "the text itself (1.0×)".into(),
        points: rss_points.iter().map(|&(mb, _)| (mb, mb)).collect(),
    };
    svg::save(
        "buffers-rss.svg",
        &svg::chart(
            "codex-lsp memory vs open documents' text",
            "text of the open documents, MB",
            "RSS growth, MB",
            Scale::Linear,
            &[
                Series {
                    name: "codex-lsp RSS growth".into(),
                    points: rss_points,
                },
                text_line,
            ],
        ),
    );
    svg::save(
        "buffers-didopen.svg",
        &svg::chart(
            "didOpen of a 100 KB document vs documents open",
            "documents open",
            "didOpen + code action, ms",
            Scale::Linear,
            &[
                Series {
                    name: "p50".into(),
                    points: p50_points,
                },
                Series {
                    name: "p99".into(),
                    points: p99_points,
                },
            ],
        ),
    );
    mirror_into_buffers(1000, 200, DOC_BYTES);
}

/// A turn that changes `edited` of `open` open documents (one `fileChange` item each, the
/// user having typed a line into each buffer first): codex-lsp merges each three ways and
/// sends one `workspace/applyEdit`, which the client applies and echoes. Against GNU
/// `diff -r` of the same files before and after (best of 3).
fn mirror_into_buffers(open: usize, edited: usize, doc_bytes: usize) {
    let ws = workspace();
    let dir = ws.path().join("src");
    std::fs::create_dir(&dir).unwrap();
    let env = [(fake::EDITS_ENV, format!("{edited},{}", dir.display()))];
    let mut lsp = Lsp::spawn_editing(&codex_lsp_bin(), &env);
    lsp.initialize_editing(
        &ws.path().display().to_string(),
        json!({ "codexPath": me() }),
    );
    let before = ws.path().join("before");
    std::fs::create_dir(&before).unwrap();
    let mut text_bytes = 0;
    for d in 0..open {
        let text = big_source(d, doc_bytes);
        let path = dir.join(format!("f{d}.rs"));
        std::fs::write(&path, &text).unwrap();
        text_bytes += text.len();
        let uri = format!("file://{}", path.display());
        lsp.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "rust", "version": 1, "text": text } }),
        );
        if d < edited {
            std::fs::write(before.join(format!("f{d}.rs")), &text).unwrap();
            // Unsaved: the merge keeps this line beside the agent's change.
            lsp.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": uri, "version": 2 },
                    "contentChanges": [{ "range": { "start": { "line": 0, "character": 0 },
                        "end": { "line": 0, "character": 0 } }, "text": "// typed by the user\n" }] }),
            );
        }
    }
    // Every document is in: a request answered after them all.
    lsp.call(
        "workspace/executeCommand",
        json!({ "command": "codex.status", "arguments": [] }),
    );
    let rss_before = proc_kib(lsp.pid, "VmRSS");
    let id = lsp.request(
        "workspace/executeCommand",
        json!({ "command": "codex.ask", "arguments": [{ "prompt": "edit-files deltas=10" }] }),
    );
    let asked = Instant::now();
    let mut edits = vec![];
    // The ask's answer comes once the turn started: finding the unsaved buffers among all
    // open ones (to send them as context) is in it.
    let mut answered = None;
    let done = loop {
        let (at, m) = lsp
            .recv(Duration::from_secs(300))
            .expect("the turn ended within 300 s");
        if m["method"] == "workspace/applyEdit" {
            edits.push(at);
        } else if m["id"] == id && m.get("error").is_some_and(|e| !e.is_null()) {
            panic!("codex.ask: {m}");
        } else if m["id"] == id {
            answered = Some(at);
        } else if m["method"] == "codex/turnCompleted" {
            break at;
        }
    };
    // A turn ends without waiting past its limit for slow buffers: any edit still to come.
    while edits.len() < edited {
        match lsp.recv(Duration::from_secs(30)) {
            Some((at, m)) if m["method"] == "workspace/applyEdit" => edits.push(at),
            Some(_) => {}
            None => break,
        }
    }
    let rss_after = proc_kib(lsp.pid, "VmRSS");
    lsp.shutdown();
    assert_eq!(edits.len(), edited, "one applyEdit per changed file");
    let after = ws.path().join("after");
    std::fs::create_dir(&after).unwrap();
    for d in 0..edited {
        let name = format!("f{d}.rs");
        std::fs::copy(dir.join(&name), after.join(&name)).unwrap();
    }
    let diff = (0..3)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new("diff")
                .arg("-r")
                .arg(&before)
                .arg(&after)
                .stdout(Stdio::null())
                .status()
                .expect("GNU diff");
            assert_eq!(status.code(), Some(1), "diff found the changes");
            start.elapsed()
        })
        .min()
        .unwrap();
    let total = done.max(edits[edits.len() - 1]) - asked;
    let first_to_last = edits[edits.len() - 1] - edits[0];
    let gaps: Vec<Duration> = edits.windows(2).map(|w| w[1] - w[0]).collect();
    let per_file = first_to_last / (edited as u32 - 1).max(1);
    let diff_per_file = diff / edited as u32;
    println!(
        "\n## A turn changing {edited} of {open} open documents ({:.0} MB of text): one `workspace/applyEdit` each, against GNU `diff -r` of the same files",
        text_bytes as f64 / 1e6
    );
    println!("| files | ask answered (turn started; unsaved buffers found) | ask → turn completed (and every edit in) | first → last applyEdit | per file (mean) | gap p50 | gap p99 | GNU diff -r | diff per file | codex-lsp / diff per file | RSS before → after the turn |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {edited} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1}× | {:.1} → {:.1} MB |",
        ms(answered.expect("codex.ask answered") - asked),
        ms(total),
        ms(first_to_last),
        ms(per_file),
        ms(percentile(&gaps, 50.0)),
        ms(percentile(&gaps, 99.0)),
        ms(diff),
        ms(diff_per_file),
        per_file.as_secs_f64() / diff_per_file.as_secs_f64(),
        rss_before as f64 * 1024.0 / 1e6,
        rss_after as f64 * 1024.0 / 1e6,
    );
}

// ---------------------------------------------------------------------------------------
// Long threads
// ---------------------------------------------------------------------------------------

/// The anchor: the fake's own `thread/read` answer, read and parsed by a bare client.
fn direct_thread_read(turns: usize) -> Duration {
    let mut child = Command::new(me())
        .arg("app-server")
        .env(fake::HISTORY_ENV, turns.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the fake");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut call = |id: u64, method: &str| {
        let start = Instant::now();
        writeln!(stdin, "{}", json!({ "id": id, "method": method, "params": { "threadId": fake::THREAD_ID, "includeTurns": true } })).unwrap();
        stdin.flush().unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["id"], id);
        start.elapsed()
    };
    call(1, "initialize");
    let took = (2..5).map(|i| call(i, "thread/read")).min().unwrap();
    drop(stdin);
    let _ = child.wait();
    took
}

fn long_threads() {
    let sizes = [10usize, 100, 300, 1000];
    println!("\n## Long threads: `codex.readThread` and `codex.transcript` of an N-turn thread, best of 3");
    println!("| turns | thread/read JSON | bare client's thread/read (anchor) | codex.readThread | codex.transcript | transcript Markdown | codex-lsp peak RSS |");
    println!("|---|---|---|---|---|---|---|");
    let (mut direct_pts, mut read_pts, mut md_pts) = (vec![], vec![], vec![]);
    for &turns in &sizes {
        let ws = workspace();
        let env = [(fake::HISTORY_ENV, turns.to_string())];
        let mut lsp = codex_lsp(&ws, &env, json!({}));
        let time = |lsp: &mut Lsp, command: &str| {
            let mut best = Duration::MAX;
            let mut result = Value::Null;
            for _ in 0..3 {
                let start = Instant::now();
                result = lsp.call(
                    "workspace/executeCommand",
                    json!({ "command": command, "arguments": [{}] }),
                );
                best = best.min(start.elapsed());
            }
            (best, result)
        };
        let (read, thread) = time(&mut lsp, "codex.readThread");
        assert_eq!(
            thread["thread"]["turns"].as_array().map(Vec::len),
            Some(turns),
            "every turn read"
        );
        let (md, transcript) = time(&mut lsp, "codex.transcript");
        let markdown = transcript["markdown"].as_str().unwrap_or("").len();
        let peak = proc_kib(lsp.pid, "VmHWM");
        lsp.shutdown();
        let direct = direct_thread_read(turns);
        let json_len = fake::history(turns).to_string().len();
        println!(
            "| {turns} | {:.0} KB | {} | {} | {} | {:.0} KB | {:.1} MiB |",
            json_len as f64 / 1024.0,
            ms(direct),
            ms(read),
            ms(md),
            markdown as f64 / 1024.0,
            peak as f64 / 1024.0
        );
        let ms_of = |d: Duration| d.as_secs_f64() * 1e3;
        direct_pts.push((turns as f64, ms_of(direct)));
        read_pts.push((turns as f64, ms_of(read)));
        md_pts.push((turns as f64, ms_of(md)));
    }
    svg::save(
        "thread-scale.svg",
        &svg::chart(
            "Reading an N-turn thread",
            "turns in the thread",
            "time, ms",
            Scale::Linear,
            &[
                Series {
                    name: "codex.transcript".into(),
                    points: md_pts,
                },
                Series {
                    name: "codex.readThread".into(),
                    points: read_pts,
                },
                Series {
                    name: "bare client's thread/read (anchor)".into(),
                    points: direct_pts,
                },
            ],
        ),
    );
}

// ---------------------------------------------------------------------------------------
// A big review
// ---------------------------------------------------------------------------------------

/// `codex.review` with `findings` over `files` files: the time from the ask to the last
/// file's diagnostics, and the messages the editor got.
fn review_run(findings: usize, files: usize) -> (Duration, u64, usize) {
    let ws = workspace();
    let dir = ws.path().canonicalize().unwrap().display().to_string();
    for f in 0..files {
        std::fs::write(ws.path().join(format!("f{f}.rs")), source_doc()).unwrap();
    }
    let env = [(fake::REVIEW_ENV, format!("{findings},{files},{dir}"))];
    let mut lsp = codex_lsp(&ws, &env, json!({}));
    let frames0 = lsp.frames.load(Ordering::Relaxed);
    let start = Instant::now();
    lsp.request(
        "workspace/executeCommand",
        json!({ "command": "codex.review", "arguments": [{}] }),
    );
    let mut published = std::collections::HashSet::new();
    let mut last = start;
    let mut ended = false;
    while !(ended && published.len() >= files.min(findings)) {
        let (at, m) = lsp.recv(Duration::from_secs(60)).expect("the review ends");
        if m["method"] == "textDocument/publishDiagnostics" {
            published.insert(m["params"]["uri"].as_str().unwrap_or("").to_string());
            last = at;
        } else if m["method"] == "codex/turnCompleted" {
            ended = true;
        }
    }
    let messages = lsp.frames.load(Ordering::Relaxed) - frames0;
    lsp.shutdown();
    (last - start, messages, published.len())
}

fn big_review() {
    const FILES: usize = 500;
    println!(
        "\n## A big review: `codex.review` with N findings over {FILES} files (push diagnostics)"
    );
    println!(
        "| findings | files published | ask → last file's diagnostics | messages to the editor |"
    );
    println!("|---|---|---|---|");
    let mut points = vec![];
    for findings in [500usize, 1000, 2000] {
        let (took, messages, files) = review_run(findings, FILES);
        println!("| {findings} | {files} | {} | {messages} |", ms(took));
        points.push((findings as f64, took.as_secs_f64() * 1e3));
    }
    svg::save(
        "review-scale.svg",
        &svg::chart(
            &format!("A review's findings published, over {FILES} files"),
            "findings",
            "ask → last file's diagnostics, ms",
            Scale::Linear,
            &[Series {
                name: "codex-lsp".into(),
                points,
            }],
        ),
    );

    // Typing in a file holding 500 findings (they follow each edit) against the same file
    // without: two codex-lsp processes, phases interleaved.
    const LENGTH: Duration = Duration::from_secs(24);
    const ROUNDS: u32 = 12;
    let ws = workspace();
    let dir = ws.path().canonicalize().unwrap().display().to_string();
    let path = ws.path().join("f0.rs");
    let text = source_doc();
    std::fs::write(&path, &text).unwrap();
    let uri = format!("file://{}/f0.rs", dir);
    let env = [(fake::REVIEW_ENV, format!("500,1,{dir}"))];
    let mut with = codex_lsp(&ws, &env, json!({}));
    let mut without = codex_lsp(&ws, &[], json!({}));
    for lsp in [&mut with, &mut without] {
        lsp.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "rust", "version": 1, "text": text } }),
        );
    }
    with.call(
        "workspace/executeCommand",
        json!({ "command": "codex.review", "arguments": [{ "wait": true }] }),
    );
    let (mut l_with, mut l_without) = (vec![], vec![]);
    for _ in 0..ROUNDS {
        l_with.extend(typing_phase(&mut with, &uri, LENGTH / ROUNDS, Turns::None).0);
        l_without.extend(typing_phase(&mut without, &uri, LENGTH / ROUNDS, Turns::None).0);
    }
    with.shutdown();
    without.shutdown();
    println!("\ntyping in a file with 500 findings (each didChange moves them) vs the same file without:");
    println!("| file | code actions | p50 | p99 |");
    println!("|---|---|---|---|");
    for (name, l) in [("500 findings", &l_with), ("no findings", &l_without)] {
        println!(
            "| {name} | {} | {} | {} |",
            l.len(),
            ms(percentile(l, 50.0)),
            ms(percentile(l, 99.0))
        );
    }
    let p99 = percentile(&l_with, 99.0).as_secs_f64() / percentile(&l_without, 99.0).as_secs_f64();
    println!(
        "target p99 within 1.2× of none: {} ({p99:.2}×)",
        if p99 <= 1.2 { "holds" } else { "MISSED" }
    );
}
