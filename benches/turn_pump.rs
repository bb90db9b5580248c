//! codex-lsp under load, against baselines measured in the same run: the event pump (a turn
//! of 100,000 `item/agentMessage/delta` notifications) against the Python SDK, a bare
//! `serde_json::Value` loop and `cat`; coalescing; document sync; start-up; memory. Prints one
//! table per item with medians and ratios. (Typing during a turn is in benches/latency.rs.)
//!
//! `cargo bench --bench turn_pump [-- ITEM...]` with ITEM among pump, sync, startup, memory
//! (default: all). `scripts/bench.sh` runs it with the SDK baseline set up.
//!
//! The bench binary is also the fake app-server (started with the argument `app-server`,
//! as codex-lsp and the SDK start `codex app-server`), the replay source of the pipeline
//! baselines (`replay N`), and the bare Value loop (`value-loop`).

#[path = "support/fake_app_server.rs"]
mod fake;
#[path = "support/lsp_client.rs"]
mod lsp_client;

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lsp_client::{codex_lsp_bin, frame, proc_cpu, proc_kib, Lsp};
use serde_json::{json, Value};

const DELTAS: usize = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "app-server") {
        return fake::serve();
    }
    match args.first().map(String::as_str) {
        Some("replay") => return fake::replay(args[1].parse().expect("replay N")),
        Some("value-loop") => return value_loop(),
        _ => {}
    }
    let items: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |item: &str| items.is_empty() || items.contains(&item);
    let items_known = ["pump", "sync", "startup", "memory", "profile"];
    assert!(
        items.iter().all(|i| items_known.contains(i)),
        "items: {items_known:?}"
    );
    let started = Instant::now();
    if wants("pump") {
        pump();
    }
    if items.contains(&"profile") {
        // Only codex-lsp's side of the pump, for a profiler attached to it.
        let ws = workspace();
        let mut lsp = codex_lsp(&ws, false);
        println!("codex-lsp pid {}", lsp.pid);
        std::thread::sleep(Duration::from_secs(1));
        for _ in 0..10 {
            lsp_turn(&mut lsp, DELTAS);
        }
        lsp.shutdown();
    }
    if wants("sync") {
        sync();
    }
    if wants("startup") {
        startup();
    }
    if wants("memory") {
        memory();
    }
    println!("turn_pump: {:.0} s", started.elapsed().as_secs_f64());
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

fn median<T: Copy + PartialOrd>(samples: &[T]) -> T {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    sorted[sorted.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.3} µs", d.as_secs_f64() * 1e6)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

// ---------------------------------------------------------------------------------------
// 1 + 2. The event pump and coalescing
// ---------------------------------------------------------------------------------------

/// The bare Value loop: parse every line, serialize it again.
fn value_loop() {
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    for line in stdin.lines() {
        let line = line.expect("utf-8 line");
        let value: Value = serde_json::from_str(&line).expect("JSON line");
        serde_json::to_writer(&mut out, &value).expect("write");
        out.write_all(b"\n").expect("write");
    }
    out.flush().expect("flush");
}

#[derive(Clone, Copy)]
struct Run {
    wall: Duration,
    cpu: Duration,
    maxrss_kib: u64,
    events: usize,
}

/// `me replay N | consumer > /dev/null`; the consumer's CPU and peak RSS from wait4.
fn pipeline(consumer: &[&str], n: usize) -> Run {
    let start = Instant::now();
    let mut source = Command::new(me())
        .args(["replay", &n.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn replay");
    #[allow(clippy::zombie_processes)]
    let sink = Command::new(consumer[0])
        .args(&consumer[1..])
        .stdin(source.stdout.take().unwrap())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn consumer");
    let (status, usage) = wait4(sink.id());
    // Reaped by wait4, which std's `Child` cannot do (it has no rusage).
    std::mem::forget(sink);
    let wall = start.elapsed();
    assert!(status == 0, "{consumer:?} failed");
    source.wait().expect("replay");
    Run {
        wall,
        cpu: cpu_of(&usage),
        maxrss_kib: usage.ru_maxrss as u64,
        events: fake::turn_events(n),
    }
}

fn wait4(pid: u32) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; the pid is our own child, which no
    // one else waits for (its `Child` handle is dropped without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid as i32, &mut status, 0, &mut usage) };
    assert_eq!(r, pid as i32, "wait4");
    (status, usage)
}

fn cpu_of(usage: &libc::rusage) -> Duration {
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The Python SDK, if `CODEX_LSP_BENCH_PYTHON` names a Python with `openai-codex`.
fn sdk_run(n: usize) -> Option<Result<Run, String>> {
    let python = std::env::var("CODEX_LSP_BENCH_PYTHON").ok()?;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/sdk_stream.py");
    let out = Command::new(python)
        .arg(script)
        .args([me(), n.to_string()])
        .stderr(Stdio::inherit())
        .output();
    let out = match out {
        Ok(out) if out.status.success() => out,
        Ok(out) => return Some(Err(format!("the SDK run failed ({})", out.status))),
        Err(e) => return Some(Err(format!("could not run the SDK: {e}"))),
    };
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    if v["exact"] != json!(true) {
        return Some(Err("the SDK's streamed text was not exact".into()));
    }
    Some(Ok(Run {
        wall: Duration::from_secs_f64(v["wall"].as_f64()?),
        cpu: Duration::from_secs_f64(v["cpu"].as_f64()?),
        maxrss_kib: v["maxrss_kib"].as_u64()?,
        events: v["events"].as_u64()? as usize,
    }))
}

/// codex-lsp with the fake as its app-server, started and warmed up (one small turn).
fn codex_lsp(ws: &tempfile::TempDir, stream_events: bool) -> Lsp {
    let mut lsp = Lsp::spawn(&codex_lsp_bin(), &[]);
    lsp.initialize(
        &ws.path().display().to_string(),
        json!({ "codexPath": me(), "streamEvents": stream_events }),
    );
    let (_, done) = lsp.turn(10);
    assert_eq!(done["finalResponse"], json!(fake::expected_text(10)));
    lsp
}

struct LspTurn {
    run: Run,
    /// Messages codex-lsp sent the editor for this turn (all frames from the ask on).
    messages: u64,
    exact: bool,
}

fn lsp_turn(lsp: &mut Lsp, n: usize) -> LspTurn {
    let frames0 = lsp.frames.load(std::sync::atomic::Ordering::Relaxed);
    let cpu0 = proc_cpu(lsp.pid);
    let start = Instant::now();
    let (at, done) = lsp.turn(n);
    let wall = at - start;
    let cpu = proc_cpu(lsp.pid) - cpu0;
    let messages = lsp.frames.load(std::sync::atomic::Ordering::Relaxed) - frames0;
    LspTurn {
        run: Run {
            wall,
            cpu,
            maxrss_kib: proc_kib(lsp.pid, "VmHWM"),
            events: fake::turn_events(n),
        },
        messages,
        exact: done["finalResponse"] == json!(fake::expected_text(n))
            && done["status"] == "completed",
    }
}

fn pump() {
    const RUNS: usize = 5;
    let ws = workspace();
    let mut lsp = codex_lsp(&ws, false);
    let mut lsp_streaming = codex_lsp(&ws, true);
    let (mut ours, mut streaming, mut values, mut cats) = (vec![], vec![], vec![], vec![]);
    // Interleaved, so that the machine's noise falls on every contender alike.
    for _ in 0..RUNS {
        ours.push(lsp_turn(&mut lsp, DELTAS));
        streaming.push(lsp_turn(&mut lsp_streaming, DELTAS));
        values.push(pipeline(&[&me(), "value-loop"], DELTAS));
        cats.push(pipeline(&["cat"], DELTAS));
    }
    let sdk: Vec<Result<Run, String>> = (0..3).filter_map(|_| sdk_run(DELTAS)).collect();
    lsp.shutdown();
    lsp_streaming.shutdown();

    let summary = |runs: &[Run]| {
        let wall = median(&runs.iter().map(|r| r.wall).collect::<Vec<_>>());
        let cpu = median(&runs.iter().map(|r| r.cpu).collect::<Vec<_>>());
        let rss = runs.iter().map(|r| r.maxrss_kib).max().unwrap_or(0);
        (wall, cpu, rss, runs[0].events)
    };
    let value = summary(&values);
    let value_cpu_per_event = value.1 / value.3 as u32;
    let mut sdk_rate = None;
    println!(
        "\n## 1. Event pump: one turn of {DELTAS} deltas ({} events), median of {RUNS} (SDK: of 3)",
        fake::turn_events(DELTAS)
    );
    println!(
        "| consumer | turn time | events/s | CPU/event | CPU/event vs Value loop | peak RSS |"
    );
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, (wall, cpu, rss, events): (Duration, Duration, u64, usize)| {
        let rate = events as f64 / wall.as_secs_f64();
        let per_event = cpu / events as u32;
        println!(
            "| {name} | {} | {:.0} | {} | {:.2}× | {} |",
            ms(wall),
            rate,
            us(per_event),
            per_event.as_secs_f64() / value_cpu_per_event.as_secs_f64(),
            mib(rss)
        );
        rate
    };
    let ours_runs: Vec<Run> = ours.iter().map(|t| t.run).collect();
    let our_rate = row(
        "codex-lsp → LSP client (streamEvents off)",
        summary(&ours_runs),
    );
    let our_cpu = summary(&ours_runs).1 / summary(&ours_runs).3 as u32;
    let streaming_runs: Vec<Run> = streaming.iter().map(|t| t.run).collect();
    row(
        "codex-lsp, streamEvents on (every event forwarded)",
        summary(&streaming_runs),
    );
    let sdk_ok: Vec<Run> = sdk
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    if !sdk_ok.is_empty() {
        sdk_rate = Some(row(
            "Python SDK 0.163.0, TurnHandle.stream()",
            summary(&sdk_ok),
        ));
    }
    row("bare Rust loop: serde_json::Value parse + serialize", value);
    row("cat (the pipe's limit)", summary(&cats));
    for e in sdk.iter().filter_map(|r| r.as_ref().err()) {
        println!("SDK baseline: {e}");
    }
    if sdk.is_empty() {
        println!("SDK baseline: not run (set CODEX_LSP_BENCH_PYTHON, as scripts/bench.sh does)");
    }
    let cpu_ratio = our_cpu.as_secs_f64() / value_cpu_per_event.as_secs_f64();
    println!(
        "target CPU/event ≤ Value loop: {} ({cpu_ratio:.2}×)",
        if cpu_ratio <= 1.0 { "holds" } else { "MISSED" }
    );
    if let Some(sdk_rate) = sdk_rate {
        let ratio = our_rate / sdk_rate;
        println!(
            "target events/s ≥ 10× SDK: {} ({ratio:.1}×)",
            if ratio >= 10.0 { "holds" } else { "MISSED" }
        );
    }

    println!("\n## 2. Coalescing: LSP messages to the editor per turn of {DELTAS} deltas");
    println!("| run | turn time | messages | bound 10/s × time + 10 | finalResponse exact |");
    println!("|---|---|---|---|---|");
    let mut all_hold = true;
    for (i, t) in ours.iter().chain(&streaming).enumerate() {
        let streaming = i >= ours.len();
        let bound = (10.0 * t.run.wall.as_secs_f64()).ceil() as u64 + 10;
        let holds = t.exact && (streaming || t.messages <= bound);
        all_hold &= holds;
        println!(
            "| {}{} | {} | {} | {} | {} |",
            i % RUNS + 1,
            if streaming {
                " (streamEvents on: +1 per event)"
            } else {
                ""
            },
            ms(t.run.wall),
            t.messages,
            bound,
            if t.exact { "yes" } else { "NO" }
        );
    }
    println!(
        "target messages ≤ 10/s + constant, final text exact: {}",
        if all_hold { "holds" } else { "MISSED" }
    );
}

// ---------------------------------------------------------------------------------------
// 5. Document sync
// ---------------------------------------------------------------------------------------

fn sync() {
    const EDITS: usize = 100_000;
    const FULL: usize = 40;
    let line = "let value = compute(1234, \"some text here\"); // a comment\n";
    let lines = 10 * 1024 * 1024 / line.len();
    let text: String = line.repeat(lines);
    let ws = workspace();
    let uri = format!("file://{}/big.rs", ws.path().display());
    let mut lsp = Lsp::spawn(&codex_lsp_bin(), &[]);
    lsp.initialize(
        &ws.path().display().to_string(),
        json!({ "codexPath": me() }),
    );
    lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "rust", "version": 1, "text": text } }),
    );
    let barrier = |lsp: &mut Lsp| {
        lsp.call(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 1, "character": 0 } },
                "context": { "diagnostics": [] } }),
        );
    };
    barrier(&mut lsp);

    // Incremental: each edit types one character somewhere in the file.
    let mut batch = Vec::with_capacity(EDITS * 260);
    for i in 0..EDITS {
        let at = (i * 7919) % lines;
        let change = json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": { "uri": uri, "version": i + 2 },
            "contentChanges": [{ "range": {
                "start": { "line": at, "character": 4 }, "end": { "line": at, "character": 4 },
            }, "text": "x" }],
        }});
        batch.extend(frame(change.to_string().as_bytes()));
    }
    let cpu0 = proc_cpu(lsp.pid);
    let start = Instant::now();
    lsp.write_raw(&batch);
    barrier(&mut lsp);
    let incremental = (start.elapsed(), proc_cpu(lsp.pid) - cpu0);

    // Full text: the same kind of edit, the whole 10 MB each time.
    let mut version = EDITS + 2;
    let cpu0 = proc_cpu(lsp.pid);
    let start = Instant::now();
    let mut full_text = text.clone();
    for i in 0..FULL {
        version += 1;
        full_text.insert(((i * 7919) % lines) * line.len() + 4, 'x');
        let change = json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [{ "text": full_text }],
        }});
        lsp.write_raw(&frame(change.to_string().as_bytes()));
    }
    barrier(&mut lsp);
    let full = (start.elapsed(), proc_cpu(lsp.pid) - cpu0);
    lsp.shutdown();

    let per = |(wall, cpu): (Duration, Duration), n: usize| (wall / n as u32, cpu / n as u32);
    let (inc_wall, inc_cpu) = per(incremental, EDITS);
    let (full_wall, full_cpu) = per(full, FULL);
    println!(
        "\n## 5. Document sync: a {:.1} MB document, {EDITS} incremental edits vs {FULL} full-text resends",
        text.len() as f64 / 1e6
    );
    println!("| sync | edits | total time | per edit | codex-lsp CPU per edit | 100,000 edits would take |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| incremental didChange | {EDITS} | {} | {} | {} | {} |",
        ms(incremental.0),
        us(inc_wall),
        us(inc_cpu),
        ms(inc_wall * EDITS as u32)
    );
    println!(
        "| full text each time | {FULL} | {} | {} | {} | {:.0} s (extrapolated) |",
        ms(full.0),
        ms(full_wall),
        ms(full_cpu),
        (full_wall * EDITS as u32).as_secs_f64()
    );
    println!(
        "incremental is {:.0}× faster per edit (CPU {:.0}×)",
        full_wall.as_secs_f64() / inc_wall.as_secs_f64(),
        full_cpu.as_secs_f64() / inc_cpu.as_secs_f64().max(1e-9)
    );
}

// ---------------------------------------------------------------------------------------
// 6. Start-up
// ---------------------------------------------------------------------------------------

/// Spawns `program args`, sends `initialize` in `framing`, returns the time to its answer.
fn time_to_initialize(
    program: &str,
    args: &[&str],
    env: &[(&str, String)],
    lsp_framing: bool,
) -> Duration {
    let start = Instant::now();
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    if lsp_framing {
        let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": { "processId": null, "rootUri": null, "capabilities": {} } });
        stdin
            .write_all(&frame(init.to_string().as_bytes()))
            .unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "no answer to initialize"
            );
            if line.trim().is_empty() {
                break;
            }
        }
    } else {
        let init = json!({ "id": 1, "method": "initialize", "params": {
            "clientInfo": { "name": "codex_lsp_bench", "title": null, "version": "0.0.1" },
            "capabilities": { "experimentalApi": true } } });
        writeln!(stdin, "{init}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "no answer to initialize"
            );
            if line.contains("\"id\":1") {
                break;
            }
        }
    }
    let elapsed = start.elapsed();
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn real_runtime() -> Option<String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/install-runtime.sh");
    let out = Command::new(script).arg("--print").output().ok()?;
    let path = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && std::path::Path::new(&path).is_file()).then_some(path)
}

fn startup() {
    const RUNS: usize = 15;
    let home = workspace();
    let env = [("CODEX_HOME", home.path().display().to_string())];
    let real = real_runtime();
    let (mut ours, mut theirs, mut fakes) = (vec![], vec![], vec![]);
    for _ in 0..RUNS {
        ours.push(time_to_initialize(
            &codex_lsp_bin(),
            &["--stdio"],
            &[],
            true,
        ));
        if let Some(real) = &real {
            theirs.push(time_to_initialize(
                real,
                &["app-server", "--listen", "stdio://"],
                &env,
                false,
            ));
        }
        fakes.push(time_to_initialize(&me(), &["app-server"], &[], false));
    }
    println!("\n## 6. Start-up: spawn to the answer to `initialize`, median of {RUNS}");
    println!("| process | time | ratio to the app-server |");
    println!("|---|---|---|");
    let reference = if theirs.is_empty() {
        median(&fakes)
    } else {
        median(&theirs)
    };
    let ratio = |d: Duration| d.as_secs_f64() / reference.as_secs_f64();
    println!(
        "| codex-lsp --stdio | {} | {:.3}× |",
        ms(median(&ours)),
        ratio(median(&ours))
    );
    if !theirs.is_empty() {
        println!(
            "| codex app-server 0.163.0 (real runtime, fresh CODEX_HOME) | {} | 1.000× |",
            ms(median(&theirs))
        );
    } else {
        println!("| codex app-server | not installed (scripts/install-runtime.sh); the fake stands in | |");
    }
    println!(
        "| the fake app-server (a process that only answers) | {} | {:.3}× |",
        ms(median(&fakes)),
        ratio(median(&fakes))
    );
    let r = ratio(median(&ours));
    println!(
        "target ≤ 0.1× the app-server's: {} ({r:.3}×)",
        if r <= 0.1 && !theirs.is_empty() {
            "holds"
        } else {
            "MISSED"
        }
    );
}

// ---------------------------------------------------------------------------------------
// 7. Memory
// ---------------------------------------------------------------------------------------

fn memory() {
    const SMALL: usize = 10_000;
    let ws = workspace();
    let mut lsp = Lsp::spawn(&codex_lsp_bin(), &[]);
    lsp.initialize(
        &ws.path().display().to_string(),
        json!({ "codexPath": me() }),
    );
    std::thread::sleep(Duration::from_millis(200));
    let idle = proc_kib(lsp.pid, "VmRSS");
    lsp.turn(10);
    let warm = proc_kib(lsp.pid, "VmRSS");
    lsp.turn(DELTAS);
    std::thread::sleep(Duration::from_millis(200));
    let big = proc_kib(lsp.pid, "VmRSS");
    let mut after = Vec::new();
    for i in 1..=200 {
        let (_, done) = lsp.turn(SMALL);
        assert_eq!(done["status"], "completed");
        if [1, 10, 100, 200].contains(&i) {
            std::thread::sleep(Duration::from_millis(100));
            after.push((i, proc_kib(lsp.pid, "VmRSS")));
        }
    }
    let peak = proc_kib(lsp.pid, "VmHWM");
    lsp.shutdown();
    println!("\n## 7. Memory (codex-lsp's RSS; the fake app-server is its child, not counted)");
    println!("| when | RSS |");
    println!("|---|---|");
    println!("| idle after initialize | {} |", mib(idle));
    println!(
        "| after a first small turn (app-server started) | {} |",
        mib(warm)
    );
    println!("| after the {DELTAS}-delta turn | {} |", mib(big));
    for (i, rss) in &after {
        println!("| then after {i} turns of {SMALL} deltas | {} |", mib(*rss));
    }
    println!("| peak (VmHWM) | {} |", mib(peak));
    let at = |n: usize| {
        after
            .iter()
            .find(|(i, _)| *i == n)
            .map(|(_, r)| *r)
            .unwrap_or(0)
    };
    let growth = at(200) as i64 - at(10) as i64;
    println!(
        "target no growth from turn 10 to turn 200: {} ({:+.1} MiB)",
        if growth < 2 * 1024 { "holds" } else { "MISSED" },
        growth as f64 / 1024.0
    );
}
