//! Load, end to end: the built `codex-lsp` over stdio with eight turns streaming at once on
//! eight threads (one per workspace folder) of the real app-server and the scripted
//! provider, while the editor types at 100 `didChange`s a second.

mod support;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mock_provider::{Reply, Rule};
use serde_json::{json, Value};
use support::{progress_capabilities, Editor, Fixture};

const TURNS: usize = 8;
/// Words each turn streams, one `response.output_text.delta` each.
const WORDS: usize = 120;
/// `didChange`s sent, one every 10 ms.
const CHANGES: usize = 600;

/// What turn `i` answers: every word names its turn, so a word in another turn's progress
/// or events is a routing error.
fn reply_of(turn: usize) -> String {
    let words: Vec<String> = (0..WORDS).map(|w| format!("t{turn}w{w}")).collect();
    format!("Turn {turn} reply: {}", words.join(" "))
}

fn load_rules() -> Vec<Rule> {
    (0..TURNS)
        .map(|i| {
            Rule::new(
                format!("stream turn {i}"),
                vec![Reply::slow_text(reply_of(i), Duration::from_millis(40))],
            )
        })
        .collect()
}

/// Eight workspace folders under one scratch directory.
fn folders(root: &std::path::Path) -> Vec<PathBuf> {
    (0..TURNS)
        .map(|i| {
            let folder = root.join(format!("ws{i}"));
            std::fs::create_dir_all(&folder).unwrap();
            folder.canonicalize().unwrap()
        })
        .collect()
}

fn uri_of(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

async fn editor_on(fixture: &Fixture, folders: &[PathBuf]) -> Editor {
    let mut editor = Editor::start(fixture.env());
    let workspace_folders: Vec<Value> = folders
        .iter()
        .enumerate()
        .map(|(i, f)| json!({ "uri": uri_of(f), "name": format!("ws{i}") }))
        .collect();
    editor
        .request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": uri_of(&folders[0]),
                "workspaceFolders": workspace_folders,
                "capabilities": progress_capabilities(),
                "initializationOptions": { "streamEvents": true },
            }),
        )
        .await
        .expect("initialize");
    editor.notify("initialized", json!({})).await;
    editor
}

/// The words `t<turn>w…` in `text`, by turn.
fn turns_named_in(text: &str) -> HashSet<usize> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(|word| word.strip_prefix('t')?.split_once('w')?.0.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_turns_stream_on_eight_threads_while_the_editor_types_at_100_changes_a_second() {
    let fixture = Fixture::new(load_rules()).await;
    let scratch = tempfile::tempdir().unwrap();
    let folders = folders(scratch.path());
    let mut editor = editor_on(&fixture, &folders).await;
    let typed_uri = uri_of(&folders[0].join("typed.txt"));
    editor.open_buffer(&typed_uri, "").await;

    let started = Instant::now();
    let mut asks = Vec::new();
    for (i, folder) in folders.iter().enumerate() {
        let (_, rx) = editor
            .start_request(
                "workspace/executeCommand",
                json!({ "command": "codex.ask", "arguments": [{
                    "prompt": format!("stream turn {i}"),
                    "uri": uri_of(&folder.join("main.rs")),
                }] }),
            )
            .await;
        asks.push(rx);
    }

    // Type while the turns start and stream: each change adds a numbered line at the end.
    let mut expected = String::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    for line in 0..CHANGES as u32 {
        tick.tick().await;
        let text = format!("line {line}\n");
        editor
            .type_into(&typed_uri, (line, 0), (line, 0), &text)
            .await;
        expected.push_str(&text);
    }
    let typed_in = started.elapsed();

    let mut turns = Vec::new();
    for (i, rx) in asks.into_iter().enumerate() {
        let answer = tokio::time::timeout(support::WAIT, rx)
            .await
            .unwrap_or_else(|_| panic!("ask {i} not answered"))
            .expect("codex-lsp closed");
        let result = &answer["result"];
        assert!(result["turnId"].is_string(), "ask {i}: {answer:#}");
        turns.push((
            result["threadId"].as_str().unwrap().to_string(),
            result["turnId"].as_str().unwrap().to_string(),
        ));
    }
    let threads: HashSet<&String> = turns.iter().map(|(thread, _)| thread).collect();
    assert_eq!(threads.len(), TURNS, "one thread per folder: {turns:?}");

    for (i, (thread, turn)) in turns.iter().enumerate() {
        let done = editor.turn_completed(turn).await;
        assert_eq!(done["status"], "completed", "turn {i}: {done:#}");
        assert_eq!(done["threadId"], thread.as_str());
        assert_eq!(done["finalResponse"], reply_of(i), "turn {i}'s whole reply");
    }
    let streamed_in = started.elapsed();

    let notifications = editor.notifications();
    for (i, (thread, turn)) in turns.iter().enumerate() {
        // Its progress: one begin, one end, and reports that speak only of this turn.
        let progress = editor.progress_of(&format!("codex-lsp/turn/{turn}"));
        let kinds: Vec<&str> = progress.iter().filter_map(|v| v["kind"].as_str()).collect();
        assert_eq!(kinds.first(), Some(&"begin"), "turn {i}: {kinds:?}");
        assert_eq!(kinds.last(), Some(&"end"), "turn {i}: {kinds:?}");
        assert_eq!(kinds.iter().filter(|k| **k == "begin").count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == "end").count(), 1);
        for value in &progress {
            let message = value["message"].as_str().unwrap_or_default();
            let named = turns_named_in(message);
            assert!(
                named.iter().all(|t| *t == i),
                "turn {i}'s progress speaks of turns {named:?}: {message}"
            );
        }
        assert!(
            progress.last().unwrap()["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with(&format!("Turn {i} reply")),
            "{:#}",
            progress.last().unwrap()
        );
        // Its events: every delta, in order, on its own thread.
        let events: Vec<&Value> = notifications
            .iter()
            .filter(|n| n["method"] == "codex/event" && n["params"]["turnId"] == turn.as_str())
            .collect();
        assert!(events
            .iter()
            .all(|e| e["params"]["threadId"] == thread.as_str()));
        let streamed: String = events
            .iter()
            .filter(|e| e["params"]["method"] == "item/agentMessage/delta")
            .map(|e| e["params"]["params"]["delta"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(streamed, reply_of(i), "turn {i}: every delta, in order");
    }
    let turn_ids: HashSet<&str> = turns.iter().map(|(_, turn)| turn.as_str()).collect();
    let strays: Vec<&Value> = notifications
        .iter()
        .filter(|n| n["method"] == "codex/event")
        .filter(|n| !turn_ids.contains(n["params"]["turnId"].as_str().unwrap_or_default()))
        .collect();
    assert!(strays.is_empty(), "events of no turn: {strays:#?}");
    let completions = notifications
        .iter()
        .filter(|n| n["method"] == "codex/turnCompleted")
        .count();
    assert_eq!(completions, TURNS, "one codex/turnCompleted per turn");

    // The server's copy of the typed buffer: an ask about all of it sends it to the model.
    assert_eq!(editor.buffer_text(&typed_uri), expected);
    let echo = editor
        .command(
            "codex.ask",
            json!({
                "prompt": "echo the typed buffer",
                "uri": typed_uri,
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": CHANGES, "character": 0 } },
                "wait": true,
            }),
        )
        .await
        .expect("ask about the typed buffer");
    assert_eq!(echo["status"], "completed", "{echo:#}");
    let selection = serde_json::to_string(&format!("```plaintext\n{expected}```")).unwrap();
    let selection = selection.trim_matches('"');
    let sent = fixture
        .provider
        .requests()
        .into_iter()
        .map(|r| r.to_string())
        .find(|r| r.contains("echo the typed buffer"))
        .expect("the provider got the echo ask");
    assert!(
        sent.contains(selection),
        "every didChange applied, in order: the server's buffer is what the editor typed"
    );

    eprintln!(
        "{TURNS} turns × {WORDS} deltas, {CHANGES} didChanges: typed in {typed_in:?}, all turns done in {streamed_in:?}"
    );
    assert!(
        typed_in < Duration::from_secs(60),
        "typing never blocked: {typed_in:?}"
    );
    assert!(
        streamed_in < Duration::from_secs(180),
        "all turns done in {streamed_in:?}"
    );
    editor.shutdown().await;
}
