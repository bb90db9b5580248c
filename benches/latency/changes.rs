//! Issue 17's rows: what keeping or undoing the agent's changes costs. The agent's turn is
//! the fake app-server's `file-changes` turn (`benches/support/fake_app_server.rs`): it
//! writes the agent's text over each file and sends a completed `fileChange` item carrying
//! the file's real unified diff (made by GNU diff), so codex-lsp records, mirrors and marks
//! exactly as it does for the app-server; what is timed is codex-lsp's own work (and the
//! editor's echo of its edits, which the bench client sends at once).
//!
//! - `marks`: typing in a 100k-line file with 100 marked hunks against the same file with
//!   none (the same turn, its changes kept), two processes, phases interleaved.
//! - `revert`: undoing a turn of 100 hunks across 100k-line files open with unsaved edits,
//!   against GNU `patch -R` of the same diff on the same texts.
//! - `undo`: undoing a turn that changed 200 files not open.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::lsp_client::{codex_lsp_bin, frame, Lsp};
use super::{fake, me, ms, percentile, workspace};

/// Ids of the typist's requests (apart from the bench's own).
const FIRST_TYPED_ID: i64 = 3_000_000;

/// A generated source file of `lines` lines, different for each `seed`.
fn source(seed: usize, lines: usize) -> String {
    (0..lines)
        .map(|i| format!("fn f{seed}_{i}(x: u32) -> u32 {{ x + {i} }} // line {i}\n"))
        .collect()
}

/// The agent's edit: each line of `at` rewritten, and a line added after it (+2 −1 each).
fn agent_text(text: &str, at: &[usize]) -> String {
    let mut out = String::with_capacity(text.len() + 64 * at.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if at.binary_search(&i).is_ok() {
            out.push_str(
                &line
                    .replacen("x + ", "x.wrapping_add(", 1)
                    .replacen(" }", ") }", 1),
            );
            out.push_str("    // checked by the agent\n");
        } else {
            out.push_str(line);
        }
    }
    out
}

/// GNU `diff -u` of two files, both labelled `label`.
fn unified_diff(before: &Path, after: &Path, label: &str) -> String {
    let out = Command::new("diff")
        .args(["-u", "--label", label, "--label", label])
        .arg(before)
        .arg(after)
        .output()
        .expect("GNU diff");
    assert_eq!(out.status.code(), Some(1), "diff found the changes");
    String::from_utf8(out.stdout).unwrap()
}

/// A workspace whose files a `file-changes` turn edits: for each (name, pre-turn text,
/// hunk lines), the file written, the agent's text beside it and the turn's spec.
struct Turn {
    ws: tempfile::TempDir,
    home: tempfile::TempDir,
    spec: PathBuf,
    /// (path, pre-turn text, the agent's text)
    files: Vec<(PathBuf, String, String)>,
    /// Every file's diff, as one patch (`patch -p0` in the workspace).
    patch: String,
}

impl Turn {
    fn new(files: Vec<(String, String, Vec<usize>)>) -> Turn {
        let ws = workspace();
        let root = ws.path().canonicalize().unwrap();
        let agent = root.join(".agent");
        std::fs::create_dir(&agent).unwrap();
        let mut spec = vec![];
        let mut out = vec![];
        let mut patch = String::new();
        for (name, before, at) in files {
            let path = root.join(&name);
            let after = agent_text(&before, &at);
            std::fs::write(&path, &before).unwrap();
            let from = agent.join(&name);
            std::fs::write(&from, &after).unwrap();
            let diff = unified_diff(&path, &from, &name);
            patch.push_str(&diff);
            spec.push(json!({ "path": path, "from": from, "diff": diff }));
            out.push((path, before, after));
        }
        let spec_path = agent.join("spec.json");
        std::fs::write(&spec_path, Value::Array(spec).to_string()).unwrap();
        Turn {
            ws,
            home: workspace(),
            spec: spec_path,
            files: out,
            patch,
        }
    }

    fn root(&self) -> PathBuf {
        self.ws.path().canonicalize().unwrap()
    }

    fn uri(&self, file: usize) -> String {
        format!("file://{}", self.files[file].0.display())
    }

    /// codex-lsp with the fake as its app-server, its record kept in a home of its own, in
    /// an editor that applies edits (and echoes them as `didChange`).
    fn editor(&self) -> Editor {
        let env = [
            (fake::FILE_CHANGES_ENV, self.spec.display().to_string()),
            ("CODEX_HOME", self.home.path().display().to_string()),
        ];
        let mut lsp = Lsp::spawn_editing(&codex_lsp_bin(), &env);
        lsp.initialize_editing(
            &self.root().display().to_string(),
            json!({ "codexPath": me() }),
        );
        Editor {
            lsp,
            versions: HashMap::new(),
            marks: HashMap::new(),
            edits: 0,
            published: 0,
        }
    }
}

/// The bench's editor: what it saw of codex-lsp's messages.
struct Editor {
    lsp: Lsp,
    /// Each document's version (after the echoes of applied edits).
    versions: HashMap<String, i64>,
    /// Each document's `codex.change` marks as last published.
    marks: HashMap<String, usize>,
    edits: usize,
    published: usize,
}

impl Editor {
    fn absorb(&mut self, m: &Value) {
        if m["method"] == "workspace/applyEdit" {
            self.edits += 1;
            for doc in m["params"]["edit"]["documentChanges"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let uri = doc["textDocument"]["uri"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let version = doc["textDocument"]["version"].as_i64().unwrap_or(0) + 1;
                self.versions.insert(uri, version);
            }
        } else if m["method"] == "textDocument/publishDiagnostics" {
            self.published += 1;
            let marks = m["params"]["diagnostics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["code"] == "codex.change")
                .count();
            let uri = m["params"]["uri"].as_str().unwrap_or("").to_string();
            self.marks.insert(uri, marks);
        }
    }

    /// Reads messages until `done` says so; returns the message that ended it, if one did.
    fn until(&mut self, what: &str, done: impl Fn(&Editor, &Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (_, m) = self
                .lsp
                .recv(left)
                .unwrap_or_else(|| panic!("no {what} within 300 s"));
            self.absorb(&m);
            if done(self, &m) {
                return m;
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.lsp.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "rust", "version": 1, "text": text } }),
        );
        self.versions.insert(uri.to_string(), 1);
    }

    /// Runs the fake's `file-changes` turn to its end.
    fn turn(&mut self) -> String {
        let id = self.lsp.request(
            "workspace/executeCommand",
            json!({ "command": "codex.ask", "arguments": [{ "prompt": "file-changes" }] }),
        );
        // The answer and the turn's end, in either order (one turn runs at a time).
        let (mut turn_id, mut ended) = (None, false);
        while turn_id.is_none() || !ended {
            let m = self.until("the turn", |_, m| {
                (m["id"] == id && m.get("method").is_none()) || m["method"] == "codex/turnCompleted"
            });
            if m["method"] == "codex/turnCompleted" {
                ended = true;
            } else {
                assert!(m.get("error").is_none(), "codex.ask: {m}");
                turn_id = Some(m["result"]["turnId"].as_str().unwrap_or("").to_string());
            }
        }
        turn_id.unwrap()
    }

    /// Calls `method`, reading (and absorbing) what comes before its answer.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.lsp.request(method, params);
        let m = self.until(method, |_, m| m["id"] == id && m.get("method").is_none());
        assert!(m.get("error").is_none_or(Value::is_null), "{method}: {m}");
        m["result"].clone()
    }

    fn wait_marks(&mut self, uri: &str, count: usize) {
        if self.marks.get(uri).copied().unwrap_or(0) == count {
            return;
        }
        self.until(&format!("{count} marks on {uri}"), |e, _| {
            e.marks.get(uri).copied().unwrap_or(0) == count
        });
    }

    /// Types `text` at the start of each of `lines` (in that order) into `uri`, one
    /// `didChange`.
    fn type_at(&mut self, uri: &str, lines: &[u32], text: &str) {
        let version = self.versions.get(uri).copied().unwrap_or(1) + 1;
        self.versions.insert(uri.to_string(), version);
        let changes: Vec<Value> = lines
            .iter()
            .map(|&line| {
                json!({ "range": { "start": { "line": line, "character": 0 },
                    "end": { "line": line, "character": 0 } }, "text": text })
            })
            .collect();
        self.lsp.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": changes }),
        );
    }

    fn shutdown(self) {
        self.lsp.shutdown();
    }
}

// ---------------------------------------------------------------------------------------
// Typing in a file with marked hunks
// ---------------------------------------------------------------------------------------

/// What one typing phase measured.
#[derive(Default)]
struct Typed {
    /// `didChange` + `textDocument/codeAction` on the typed line, in one write: to the answer.
    actions: Vec<Duration>,
    /// `didChange` + a request codex-lsp answers at once (an unknown method), in one write.
    changes: Vec<Duration>,
    /// `publishDiagnostics` the editor got.
    published: usize,
}

/// Types at 100 didChange/s on the lines `at` (a character typed and deleted, a line
/// opened above and removed: every other change moves the lines below), each change sent
/// with a code action on its line or with a ping, for `length`.
fn typing_phase(editor: &mut Editor, uri: &str, at: &[u32], length: Duration) -> Typed {
    let sent: Arc<Mutex<Vec<(i64, bool, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = editor.lsp.writer();
    let first_version = editor.versions[uri];
    let version = Arc::new(std::sync::atomic::AtomicI64::new(first_version));
    let typist = {
        let (sent, stop, uri, at, version) = (
            sent.clone(),
            stop.clone(),
            uri.to_string(),
            at.to_vec(),
            version.clone(),
        );
        std::thread::spawn(move || {
            let mut id = FIRST_TYPED_ID;
            let start = Instant::now();
            for tick in 0u64.. {
                // Stops after a whole cycle: the buffer is as it was.
                if tick % 4 == 0 && stop.load(Ordering::Relaxed) {
                    break;
                }
                let due = start + Duration::from_millis(10 * tick);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let line = at[((tick / 4) * 37) as usize % at.len()];
                let (end, text) = match tick % 4 {
                    0 => ((line, 0), "x"),
                    1 => ((line, 1), ""),
                    2 => ((line, 0), "\n"),
                    _ => ((line + 1, 0), ""),
                };
                let v = version.fetch_add(1, Ordering::Relaxed) + 1;
                let change = json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                    "textDocument": { "uri": uri, "version": v },
                    "contentChanges": [{ "range": {
                        "start": { "line": line, "character": 0 },
                        "end": { "line": end.0, "character": end.1 },
                    }, "text": text }],
                }});
                let mut bytes = frame(change.to_string().as_bytes());
                id += 1;
                let action = tick % 2 == 0;
                let request = if action {
                    json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/codeAction", "params": {
                        "textDocument": { "uri": uri },
                        "range": { "start": { "line": line, "character": 0 }, "end": { "line": line + 1, "character": 0 } },
                        "context": { "diagnostics": [] },
                    }})
                } else {
                    json!({ "jsonrpc": "2.0", "id": id, "method": "codexBench/ping", "params": {} })
                };
                bytes.extend(frame(request.to_string().as_bytes()));
                let mut w = writer.lock().unwrap();
                sent.lock().unwrap().push((id, action, Instant::now()));
                use std::io::Write as _;
                w.write_all(&bytes).expect("write");
                w.flush().expect("flush");
            }
        })
    };
    let mut answered = HashMap::new();
    let published0 = editor.published;
    let start = Instant::now();
    let mut stopped = false;
    let deadline = start + length + Duration::from_secs(120);
    loop {
        if !stopped && start.elapsed() >= length {
            stop.store(true, Ordering::Relaxed);
            stopped = true;
        }
        if stopped && typist.is_finished() {
            let all = sent
                .lock()
                .unwrap()
                .iter()
                .all(|(id, _, _)| answered.contains_key(id));
            if all {
                break;
            }
        }
        assert!(Instant::now() < deadline, "every request answered");
        let Some((at, m)) = editor.lsp.recv(Duration::from_millis(50)) else {
            continue;
        };
        editor.absorb(&m);
        if m.get("method").is_none() && m["id"].as_i64().is_some_and(|i| i > FIRST_TYPED_ID) {
            answered.insert(m["id"].as_i64().unwrap(), at);
        }
    }
    typist.join().unwrap();
    editor
        .versions
        .insert(uri.to_string(), version.load(Ordering::Relaxed));
    let mut typed = Typed {
        published: editor.published - published0,
        ..Typed::default()
    };
    for (id, action, at) in sent.lock().unwrap().iter() {
        let took = answered[id] - *at;
        match action {
            true => typed.actions.push(took),
            false => typed.changes.push(took),
        }
    }
    typed
}

pub fn typing_with_marks() {
    const LINES: usize = 100_000;
    const HUNKS: usize = 100;
    const PAUSE: Duration = Duration::from_millis(400);
    // 832 samples a side: p99 is the 9th slowest, not the 5th.
    const LENGTH: Duration = Duration::from_secs(32);
    const ROUNDS: u32 = 16;
    let at: Vec<usize> = (0..HUNKS).map(|k| k * (LINES / HUNKS) + 500).collect();
    let pre = source(0, LINES);
    let make = || Turn::new(vec![("f0.rs".into(), pre.clone(), at.clone())]);
    let (marked, kept) = (make(), make());
    let mut with = marked.editor();
    let mut without = kept.editor();
    for (editor, turn) in [(&mut with, &marked), (&mut without, &kept)] {
        editor.open(&turn.uri(0), &pre);
        editor.turn();
        editor.wait_marks(&turn.uri(0), HUNKS);
    }
    // The same turn, its changes kept: the same text, no marks.
    without.call(
        "workspace/executeCommand",
        json!({ "command": "codex.keepChange", "arguments": [{ "uri": kept.uri(0) }] }),
    );
    without.wait_marks(&kept.uri(0), 0);
    // Typed on the agent's lines (each hunk's first line, after the turn).
    let lines: Vec<u32> = at
        .iter()
        .enumerate()
        .map(|(k, &line)| (line + k) as u32)
        .collect();
    let (mut l_with, mut l_without) = (Typed::default(), Typed::default());
    for _ in 0..ROUNDS {
        for (editor, turn, into) in [
            (&mut with, &marked, &mut l_with),
            (&mut without, &kept, &mut l_without),
        ] {
            let t = typing_phase(editor, &turn.uri(0), &lines, LENGTH / ROUNDS / 2);
            // The typist pauses before the other file's phase: the marks moved by this
            // phase go out then (codex-lsp republishes them once typing pauses), not in
            // the middle of the other process's phase.
            std::thread::sleep(PAUSE);
            into.actions.extend(t.actions);
            into.changes.extend(t.changes);
            into.published += t.published;
        }
    }
    let left = with.marks.get(&marked.uri(0)).copied().unwrap_or(0);
    with.shutdown();
    without.shutdown();
    assert_eq!(left, HUNKS, "the marks are still there");
    println!(
        "\n## Typing in a {}k-line file with {HUNKS} marked hunks (`codex.change` diagnostics) vs the same file with none: didChange at 100/s (every other one moves the lines below), {} s each in {ROUNDS} rounds",
        LINES / 1000,
        LENGTH.as_secs() / 2
    );
    println!("| file | what | samples | p50 | p90 | p99 | publishDiagnostics |");
    println!("|---|---|---|---|---|---|---|");
    for (name, t) in [
        (format!("{HUNKS} marked hunks"), &l_with),
        ("no marks (the turn's changes kept)".to_string(), &l_without),
    ] {
        for (what, l) in [
            ("didChange + codeAction on the line", &t.actions),
            ("didChange + ping", &t.changes),
        ] {
            println!(
                "| {name} | {what} | {} | {} | {} | {} | {} |",
                l.len(),
                ms(percentile(l, 50.0)),
                ms(percentile(l, 90.0)),
                ms(percentile(l, 99.0)),
                t.published
            );
        }
    }
    let ratio = |a: &[Duration], b: &[Duration]| {
        percentile(a, 99.0).as_secs_f64() / percentile(b, 99.0).as_secs_f64()
    };
    let actions = ratio(&l_with.actions, &l_without.actions);
    let changes = ratio(&l_with.changes, &l_without.changes);
    println!(
        "target p99 within 1.2× of no marks: code action {} ({actions:.2}×), didChange {} ({changes:.2}×)",
        if actions <= 1.2 { "holds" } else { "MISSED" },
        if changes <= 1.2 { "holds" } else { "MISSED" },
    );
}

// ---------------------------------------------------------------------------------------
// Reverting a turn in open buffers with unsaved edits, against patch -R
// ---------------------------------------------------------------------------------------

/// The user's unsaved line.
const TYPED: &str = "// typed by the user\n";

pub fn revert_vs_patch() {
    const FILES: usize = 4;
    const LINES: usize = 100_000;
    const HUNKS: usize = 25;
    let step = LINES / HUNKS;
    let at: Vec<usize> = (0..HUNKS).map(|k| k * step + step / 4).collect();
    let make = || {
        Turn::new(
            (0..FILES)
                .map(|f| (format!("f{f}.rs"), source(f, LINES), at.clone()))
                .collect(),
        )
    };
    // After the turn, unsaved lines typed between the hunks (bottom up: the lines above
    // stay where they are), in every buffer.
    let typed_at: Vec<usize> = (0..HUNKS)
        .step_by(2)
        .map(|k| k * (step + 1) + step * 3 / 4)
        .rev()
        .collect();
    // The hunks still marked (reverted where their marks say), then kept first (no marks:
    // each buffer merged three ways).
    let (marked, kept) = (make(), make());
    let (at_marks, at_marks_edits) = undo_with_unsaved(&marked, &typed_at, HUNKS, false);
    let (merged, merged_edits) = undo_with_unsaved(&kept, &typed_at, HUNKS, true);

    // What the buffers held: the agent's text plus the unsaved lines.
    let now: Vec<String> = marked
        .files
        .iter()
        .map(|file| {
            let mut lines: Vec<&str> = file.2.split_inclusive('\n').collect();
            for &line in typed_at.iter().chain([&0]) {
                lines.insert(line, TYPED);
            }
            lines.concat()
        })
        .collect();
    // GNU patch -R of the same diff on the same texts (best of 3).
    let scratch = workspace();
    let patch_file = scratch.path().join("turn.diff");
    std::fs::write(&patch_file, &marked.patch).unwrap();
    let dir = scratch.path().join("w");
    std::fs::create_dir(&dir).unwrap();
    let patch = (0..3)
        .map(|_| {
            for (f, text) in now.iter().enumerate() {
                std::fs::write(dir.join(format!("f{f}.rs")), text).unwrap();
            }
            let start = Instant::now();
            let status = Command::new("patch")
                .args(["-R", "-p0", "-s", "-d"])
                .arg(&dir)
                .arg("-i")
                .arg(&patch_file)
                .status()
                .expect("GNU patch");
            let took = start.elapsed();
            assert!(status.success(), "patch -R applied");
            took
        })
        .min()
        .unwrap();
    for (f, file) in marked.files.iter().enumerate() {
        let patched = std::fs::read_to_string(dir.join(format!("f{f}.rs"))).unwrap();
        let without_typed: String = patched
            .split_inclusive('\n')
            .filter(|l| *l != TYPED)
            .collect();
        assert_eq!(without_typed, file.1, "patch -R restored the pre-turn text");
    }
    let text_mb = now.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    println!(
        "\n## Reverting a turn of {} hunks across {FILES} files of {}k lines ({text_mb:.0} MB) open with unsaved edits: `codex.undoTurn` against GNU `patch -R` of the same diff",
        FILES * HUNKS,
        LINES / 1000
    );
    println!("| | time | applyEdits | vs patch -R |");
    println!("|---|---|---|---|");
    let ratio = |took: Duration| took.as_secs_f64() / patch.as_secs_f64();
    println!(
        "| codex-lsp `codex.undoTurn`, the hunks marked (each replaced where its mark is, one versioned applyEdit a buffer, its echo awaited) | {} | {at_marks_edits} | {:.2}× |",
        ms(at_marks),
        ratio(at_marks)
    );
    println!(
        "| codex-lsp `codex.undoTurn`, the hunks kept first (no marks: each buffer merged three ways) | {} | {merged_edits} | {:.2}× |",
        ms(merged),
        ratio(merged)
    );
    println!(
        "| GNU `patch -R -p0` of the files (anchor, best of 3) | {} | — | 1.00× |",
        ms(patch)
    );
    println!(
        "target faster than patch -R: {} ({:.2}×; kept hunks, merged: {:.2}×)",
        if at_marks < patch { "holds" } else { "MISSED" },
        ratio(at_marks),
        ratio(merged)
    );
}

/// Opens the turn's files, runs the turn, (`keep_first`: keeps all its changes), types
/// [`TYPED`] at `typed_at` and the top of every buffer, then times `codex.undoTurn` to its
/// answer; checks every file came back without conflicts, one `applyEdit` per buffer.
fn undo_with_unsaved(
    turn: &Turn,
    typed_at: &[usize],
    hunks: usize,
    keep_first: bool,
) -> (Duration, usize) {
    let files = turn.files.len();
    let mut editor = turn.editor();
    for f in 0..files {
        editor.open(&turn.uri(f), &turn.files[f].1);
    }
    let turn_id = editor.turn();
    for f in 0..files {
        let uri = turn.uri(f);
        editor.wait_marks(&uri, hunks);
        if keep_first {
            editor.call(
                "workspace/executeCommand",
                json!({ "command": "codex.keepChange", "arguments": [{ "uri": uri }] }),
            );
            editor.wait_marks(&uri, 0);
        }
        let lines: Vec<u32> = typed_at.iter().chain([&0]).map(|&l| l as u32).collect();
        editor.type_at(&uri, &lines, TYPED);
    }
    // Every change in (a request answered after them).
    editor.call(
        "workspace/executeCommand",
        json!({ "command": "codex.status", "arguments": [] }),
    );
    let edits0 = editor.edits;
    let start = Instant::now();
    let answer = editor.call(
        "workspace/executeCommand",
        json!({ "command": "codex.undoTurn", "arguments": [{ "turnId": turn_id }] }),
    );
    let took = start.elapsed();
    let edits = editor.edits - edits0;
    editor.shutdown();
    assert_eq!(answer["conflicts"], json!([]), "{answer}");
    assert_eq!(
        answer["reverted"].as_array().map(Vec::len),
        Some(files),
        "{answer}"
    );
    assert_eq!(edits, files, "one applyEdit per buffer");
    (took, edits)
}

// ---------------------------------------------------------------------------------------
// Undoing a 200-file turn
// ---------------------------------------------------------------------------------------

pub fn undo_many_files() {
    const FILES: usize = 200;
    const LINES: usize = 1_000;
    let turn = Turn::new(
        (0..FILES)
            .map(|f| (format!("f{f}.rs"), source(f, LINES), vec![100, 600]))
            .collect(),
    );
    let mut editor = turn.editor();
    let turn_id = editor.turn();
    for f in 0..FILES {
        editor.wait_marks(&turn.uri(f), 2);
    }
    let published0 = editor.published;
    let start = Instant::now();
    let answer = editor.call(
        "workspace/executeCommand",
        json!({ "command": "codex.undoTurn", "arguments": [{ "turnId": turn_id }] }),
    );
    let took = start.elapsed();
    let published = editor.published - published0;
    editor.shutdown();
    assert_eq!(answer["conflicts"], json!([]), "{answer}");
    for (path, before, _) in &turn.files {
        assert_eq!(
            &std::fs::read_to_string(path).unwrap(),
            before,
            "{} restored",
            path.display()
        );
    }
    let bytes: usize = turn.files.iter().map(|f| f.2.len()).sum();
    println!(
        "\n## Undoing a turn that changed {FILES} files not open ({LINES} lines each, {:.1} MB, 2 hunks each): `codex.undoTurn`, each file merged and rewritten atomically",
        bytes as f64 / 1e6
    );
    println!(
        "| files | undo total | per file | publishDiagnostics during it | thread forgot the turn |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {FILES} | {} | {} | {published} | {} |",
        ms(took),
        ms(took / FILES as u32),
        answer["threadReverted"]
    );
    println!(
        "target well under 1 s: {} ({})",
        if took < Duration::from_millis(500) {
            "holds"
        } else {
            "MISSED"
        },
        ms(took)
    );
}
