//! A chat in any LSP editor (issue 18.2), against the real app-server and the scripted
//! model: `codex.openTranscript` writes the thread's transcript to a Markdown file in the
//! user's cache and opens it; the user writes a prompt in its ask section, runs the
//! "Codex: Send" code action's command, and the reply lands in the document through
//! versioned `workspace/applyEdit`s while the user keeps typing in the ask section.

mod support;

use std::time::Duration;

use mock_provider::{Reply, Rule};
use serde_json::{json, Value};
use support::{editing_capabilities, Editor, Fixture, Spawn};

const PROMPT: &str = "chat from the transcript";
const REPLY: &str = "The chat reply streams in, word by word, while you keep typing below. \
                     It has a second sentence too.";
const DRAFT: &str = "my next question, typed while the reply streams";

fn rules() -> Vec<Rule> {
    vec![Rule::new(
        PROMPT,
        vec![Reply::slow_text(REPLY, Duration::from_millis(150))],
    )]
}

/// codex-lsp with its cache folder in `cache` (where the transcripts go).
async fn start(fixture: &Fixture, cache: &std::path::Path) -> Editor {
    let mut spawn = Spawn::default_log();
    spawn
        .extra_env
        .push(("XDG_CACHE_HOME".into(), cache.as_os_str().to_owned()));
    let editor = fixture
        .editor_with(spawn, json!({}), editing_capabilities())
        .await;
    editor.answer_with(|method, _| match method {
        "window/showDocument" => json!({ "success": true }),
        _ => Value::Null,
    });
    editor.track_buffers();
    editor
}

/// The code actions at the end of `uri`, by title.
async fn actions(editor: &mut Editor, uri: &str) -> Vec<Value> {
    let last = line_count(&editor.buffer_text(uri)) as u32;
    let result = editor
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": last, "character": 0 }, "end": { "line": last, "character": 0 } },
                "context": { "diagnostics": [] },
            }),
        )
        .await
        .expect("code actions");
    result.as_array().cloned().unwrap_or_default()
}

fn titled<'a>(actions: &'a [Value], title: &str) -> Option<&'a Value> {
    actions.iter().find(|a| a["title"] == title)
}

async fn run_action(editor: &mut Editor, action: &Value) -> Value {
    let command = &action["command"];
    editor
        .request(
            "workspace/executeCommand",
            json!({ "command": command["command"], "arguments": command["arguments"] }),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e:#}", action["title"]))
}

fn line_count(text: &str) -> usize {
    text.matches('\n').count()
}

/// Types `text` at the end of the buffer (the ask section).
async fn type_at_end(editor: &Editor, uri: &str, text: &str) {
    let buffer = editor.buffer_text(uri);
    let line = line_count(&buffer) as u32;
    let column = buffer
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .encode_utf16()
        .count() as u32;
    editor
        .type_into(uri, (line, column), (line, column), text)
        .await;
}

/// What the user wrote under the ask section's how-to line.
fn ask_text(buffer: &str) -> String {
    let (_, section) = buffer
        .rsplit_once("## Ask Codex\n")
        .unwrap_or_else(|| panic!("no ask section in:\n{buffer}"));
    section
        .lines()
        .filter(|l| !l.starts_with("*Write your next prompt below"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_sent_from_the_transcripts_ask_section_gets_its_reply_in_the_document() {
    let fixture = Fixture::new(rules()).await;
    let cache = tempfile::tempdir().unwrap();
    let mut editor = start(&fixture, cache.path()).await;

    let opened = editor
        .command("codex.openTranscript", json!({}))
        .await
        .expect("codex.openTranscript");
    let thread_id = opened["threadId"].as_str().expect("threadId").to_string();
    let path = std::path::PathBuf::from(opened["path"].as_str().expect("path"));
    let uri = opened["uri"].as_str().expect("uri").to_string();
    // In the user's cache, outside the workspace.
    assert!(
        path.starts_with(cache.path().join("codex-lsp").join("transcripts")),
        "{path:?}"
    );
    assert!(!path.starts_with(&fixture.workspace), "{path:?}");
    let shown = editor.server_requests_of("window/showDocument");
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(shown[0]["params"]["uri"], uri.as_str());
    assert_eq!(shown[0]["params"]["takeFocus"], true);
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("\n## Ask Codex\n"), "{written}");

    // The editor opens it (as it does on showDocument); the user writes a prompt.
    editor.open_buffer(&uri, &written).await;
    type_at_end(&editor, &uri, PROMPT).await;
    let offered = actions(&mut editor, &uri).await;
    let titles: Vec<&str> = offered.iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(titles, ["Codex: Send", "Codex: New thread"], "{offered:#?}");
    let send = titled(&offered, "Codex: Send").unwrap().clone();
    let started = run_action(&mut editor, &send).await;
    assert_eq!(started["threadId"], thread_id.as_str(), "{started:#}");
    let turn_id = started["turnId"].as_str().expect("turnId").to_string();

    // While the reply streams, the user keeps typing in the ask section, and can interrupt.
    editor
        .wait_for("the reply streaming into the document", || {
            editor
                .buffer_text(&uri)
                .contains("> The chat reply")
                .then_some(())
        })
        .await;
    let offered = actions(&mut editor, &uri).await;
    let interrupt = titled(&offered, "Codex: Interrupt").expect("Interrupt while the turn runs");
    assert_eq!(
        interrupt["command"]["arguments"][0]["threadId"],
        thread_id.as_str()
    );
    // The first words land just as codex-lsp's next edit is on its way: that edit is
    // stale, refused, and must be computed again against the text with them.
    let (first, rest) = DRAFT.split_at(DRAFT.find(',').unwrap() + 1);
    editor
        .buffers
        .lock()
        .unwrap()
        .type_first
        .insert(uri.clone(), first.to_string());
    editor
        .wait_for("the user's typing during an edit", || {
            editor.buffer_text(&uri).contains(first).then_some(())
        })
        .await;
    for word in rest.split_inclusive(' ') {
        type_at_end(&editor, &uri, word).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    editor.turn_completed(&turn_id).await;
    let buffer = editor
        .wait_for("the turn's footer in the document", || {
            let text = editor.buffer_text(&uri);
            text.contains("*completed").then_some(text)
        })
        .await;
    println!("{buffer}");

    // The user's draft is whole, the sent prompt gone from the ask section.
    assert_eq!(ask_text(&buffer), DRAFT, "{buffer}");
    // The transcript part holds the turn as codex.transcript renders it.
    let transcript = editor
        .command("codex.transcript", json!({ "threadId": thread_id }))
        .await
        .expect("codex.transcript");
    let rendered = transcript["markdown"].as_str().unwrap();
    let turn_start = transcript["turns"][0]["line"].as_u64().unwrap() as usize;
    let turn: String = rendered.split_inclusive('\n').skip(turn_start).collect();
    let (above, _) = buffer.rsplit_once("\n## Ask Codex\n").unwrap();
    assert!(
        above.ends_with(&turn),
        "the document's transcript:\n{above}\ncodex.transcript's turn:\n{turn}"
    );
    assert!(turn.contains(&format!("### You\n\n> {PROMPT}\n")), "{turn}");
    assert!(turn.contains("> The chat reply streams in"), "{turn}");
    // Every edit was versioned; the ones refused as stale (the user typed) went again.
    let answers = editor.buffers.lock().unwrap().answers.clone();
    let refused = answers.iter().filter(|(_, applied)| !applied).count();
    println!(
        "applyEdits: {} applied, {refused} refused as stale and sent again",
        answers.len() - refused
    );
    assert!(refused >= 1, "no edit was ever stale: {answers:?}");
    assert!(answers.iter().all(|(u, _)| u == &uri), "{answers:?}");
    for edit in editor.server_requests_of("workspace/applyEdit") {
        let document = &edit["params"]["edit"]["documentChanges"][0]["textDocument"];
        assert!(
            document["version"].is_i64(),
            "an unversioned edit: {edit:#}"
        );
    }
    // The transcript is no workspace file: never sent as an unsaved buffer.
    let sent = serde_json::to_string(&fixture.provider.requests()).unwrap();
    assert!(
        !sent.contains("Ask Codex"),
        "the transcript reached the model"
    );

    // "Codex: New thread": another thread, its own transcript, opened.
    let offered = actions(&mut editor, &uri).await;
    assert!(
        titled(&offered, "Codex: Interrupt").is_none(),
        "{offered:#?}"
    );
    let new = titled(&offered, "Codex: New thread").unwrap().clone();
    let opened = run_action(&mut editor, &new).await;
    assert_ne!(opened["threadId"], thread_id.as_str(), "{opened:#}");
    assert_ne!(opened["uri"], uri.as_str());
    let shown = editor.server_requests_of("window/showDocument");
    assert_eq!(shown.last().unwrap()["params"]["uri"], opened["uri"]);

    // Closed, the file keeps what the buffer held: the transcript and the unsent draft.
    editor
        .notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": uri } }),
        )
        .await;
    // The file is written as the close is handled: a later request is answered after it.
    editor
        .command("codex.status", json!({}))
        .await
        .expect("status");
    let kept = std::fs::read_to_string(&path).unwrap();
    assert!(kept.contains(DRAFT), "{kept}");
    assert!(kept.contains("> The chat reply streams in"), "{kept}");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_without_a_prompt_says_what_to_do_and_loses_nothing() {
    let fixture = Fixture::new(rules()).await;
    let cache = tempfile::tempdir().unwrap();
    let mut editor = start(&fixture, cache.path()).await;
    let error = editor
        .command("codex.sendAsk", json!({}))
        .await
        .expect_err("no transcript open");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("codex.openTranscript")),
        "{error:#}"
    );
    // The way in from any file: the code action "Codex: Open chat".
    let source = fixture.file_uri("a.rs");
    std::fs::write(fixture.workspace.join("a.rs"), "fn main() {}\n").unwrap();
    editor.open_buffer(&source, "fn main() {}\n").await;
    let offered = actions(&mut editor, &source).await;
    let open_chat = titled(&offered, "Codex: Open chat")
        .unwrap_or_else(|| panic!("{offered:#?}"))
        .clone();
    let opened = run_action(&mut editor, &open_chat).await;
    let uri = opened["uri"].as_str().unwrap().to_string();
    assert_eq!(
        editor.server_requests_of("window/showDocument")[0]["params"]["uri"],
        uri.as_str()
    );
    let text = std::fs::read_to_string(opened["path"].as_str().unwrap()).unwrap();
    editor.open_buffer(&uri, &text).await;
    let error = editor
        .command("codex.sendAsk", json!({ "uri": uri }))
        .await
        .expect_err("an empty ask section");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("the ask section is empty")),
        "{error:#}"
    );
    assert!(fixture.provider.requests().is_empty());
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_running_when_the_transcript_opens_shows_whole_when_it_ends() {
    let fixture = Fixture::new(rules()).await;
    let cache = tempfile::tempdir().unwrap();
    let mut editor = start(&fixture, cache.path()).await;
    let started = editor
        .command("codex.ask", json!({ "prompt": PROMPT }))
        .await
        .expect("codex.ask");
    let turn_id = started["turnId"].as_str().expect("turnId").to_string();
    editor
        .wait_notification("the reply streaming", |n| {
            n["method"] == "$/progress"
                && n["params"]["value"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("chat reply"))
        })
        .await;
    let opened = editor
        .command("codex.openTranscript", json!({}))
        .await
        .expect("codex.openTranscript");
    assert_eq!(opened["threadId"], started["threadId"]);
    let uri = opened["uri"].as_str().unwrap().to_string();
    let written = std::fs::read_to_string(opened["path"].as_str().unwrap()).unwrap();
    // (The title is the thread's preview, its first prompt; the turn itself is not there.)
    assert!(
        !written.contains("### You"),
        "the running turn was written:\n{written}"
    );
    editor.open_buffer(&uri, &written).await;
    editor.turn_completed(&turn_id).await;
    let buffer = editor
        .wait_for("the turn, whole, in the document", || {
            let text = editor.buffer_text(&uri);
            text.contains("*completed").then_some(text)
        })
        .await;
    let transcript = editor
        .command(
            "codex.transcript",
            json!({ "threadId": opened["threadId"] }),
        )
        .await
        .expect("codex.transcript");
    let rendered = transcript["markdown"].as_str().unwrap();
    let turn_start = transcript["turns"][0]["line"].as_u64().unwrap() as usize;
    let turn: String = rendered.split_inclusive('\n').skip(turn_start).collect();
    let (above, _) = buffer.rsplit_once("\n## Ask Codex\n").unwrap();
    assert!(
        above.ends_with(&turn),
        "the document's transcript:\n{above}\ncodex.transcript's turn:\n{turn}"
    );
    assert_eq!(above.matches("### You").count(), 1, "{above}");
    editor.shutdown().await;
}
