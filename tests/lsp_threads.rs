//! End to end, for the thread commands, thread resumption after an editor restart, dirty
//! buffers in the turn's context, `codex.steer` and `codex.login` with an API key: the built
//! `codex-lsp` over stdio, against the real app-server and the scripted provider.

mod support;

use std::io::{Read, Seek};
use std::os::fd::AsRawFd;
use std::time::Duration;

use mock_provider::{Reply, Rule};
use serde_json::{json, Value};
use support::{ask, progress_capabilities, rules, Editor, Fixture};

/// Asks and waits for the turn to complete; returns (threadId, turnId).
async fn ask_done(editor: &mut Editor, argument: Value) -> (String, String) {
    let (thread, turn) = ask(editor, argument).await;
    let done = editor.turn_completed(&turn).await;
    assert_eq!(done["threadId"], thread, "{done:#}");
    assert_eq!(done["status"], "completed", "{done:#}");
    (thread, turn)
}

/// Every string value somewhere in `value` under the key `key`.
fn strings_under(value: &Value, key: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_string());
                    }
                }
                strings_under(v, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| strings_under(v, key, out)),
        _ => {}
    }
}

fn ids_in(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    strings_under(value, "id", &mut out);
    out
}

/// The provider's recorded requests, as one string.
fn provider_text(fixture: &Fixture) -> String {
    serde_json::to_string(&fixture.provider.requests()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_list_read_and_resume_threads() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;

    let (first, _) = ask_done(&mut editor, json!({ "prompt": "say hello first" })).await;

    let created = editor
        .command("codex.newThread", json!({}))
        .await
        .expect("codex.newThread");
    let second = created["threadId"]
        .as_str()
        .unwrap_or_else(|| panic!("codex.newThread gave no threadId: {created:#}"))
        .to_string();
    assert_ne!(
        second, first,
        "codex.newThread must create a different thread"
    );

    // The new thread is now the workspace's thread.
    let (on_second, second_turn) =
        ask_done(&mut editor, json!({ "prompt": "say hello second" })).await;
    assert_eq!(
        on_second, second,
        "the next ask must land on the new thread"
    );

    let listed = editor
        .command("codex.listThreads", json!({}))
        .await
        .expect("codex.listThreads");
    let listed_ids = ids_in(&listed);
    assert!(
        listed_ids.contains(&second),
        "codex.listThreads lacks the new thread {second}: {listed:#}"
    );
    assert!(
        listed_ids.contains(&first),
        "codex.listThreads lacks the first thread {first}: {listed:#}"
    );

    // Default: the workspace's thread, with its turns.
    let read = editor
        .command("codex.readThread", json!({}))
        .await
        .expect("codex.readThread");
    let thread = read.get("thread").unwrap_or(&read);
    assert_eq!(thread["id"], second, "{read:#}");
    let turns = thread["turns"]
        .as_array()
        .unwrap_or_else(|| panic!("codex.readThread without turns: {read:#}"));
    assert!(
        turns.iter().any(|t| t["id"] == second_turn),
        "codex.readThread lacks turn {second_turn}: {read:#}"
    );
    // By id.
    let read_first = editor
        .command("codex.readThread", json!({ "threadId": first }))
        .await
        .expect("codex.readThread {threadId}");
    let thread_first = read_first.get("thread").unwrap_or(&read_first);
    assert_eq!(thread_first["id"], first, "{read_first:#}");
    assert_eq!(
        thread_first["turns"].as_array().map(Vec::len),
        Some(1),
        "{read_first:#}"
    );

    editor
        .command("codex.resumeThread", json!({ "threadId": first }))
        .await
        .expect("codex.resumeThread");
    let (resumed, _) = ask_done(&mut editor, json!({ "prompt": "say hello third" })).await;
    assert_eq!(
        resumed, first,
        "after codex.resumeThread the next ask must land on the resumed thread"
    );

    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_restart_resumes_the_folders_last_thread_unless_new_thread() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let (before, _) = ask_done(&mut editor, json!({ "prompt": "say hello before" })).await;
    editor.shutdown().await;

    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let (after, _) = ask_done(&mut editor, json!({ "prompt": "say hello after" })).await;
    assert_eq!(
        after, before,
        "the first ask after a restart must resume the folder's last thread"
    );
    editor.shutdown().await;

    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let (fresh, _) = ask_done(
        &mut editor,
        json!({ "prompt": "say hello fresh", "newThread": true }),
    )
    .await;
    assert_ne!(
        fresh, before,
        "newThread: true must not resume the folder's last thread"
    );
    editor.shutdown().await;
}

/// Issue 15.6: after an editor restart the folder's history reads at once, before any ask,
/// and reading it starts no thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_read_thread_shows_the_earlier_turns_before_any_ask() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let (before, turn) = ask_done(&mut editor, json!({ "prompt": "say hello HISTORY_6f0" })).await;
    editor.shutdown().await;

    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let read = editor
        .command("codex.readThread", json!({}))
        .await
        .expect("the folder's last thread reads after a restart");
    assert_eq!(read["thread"]["id"], before, "{read:#}");
    let turns = read["thread"]["turns"].as_array().expect("turns");
    assert!(
        turns.iter().any(|t| t["id"] == turn.as_str()),
        "the earlier turn: {read:#}"
    );
    assert!(read.to_string().contains("HISTORY_6f0"), "{read:#}");
    let status = editor.command("codex.status", json!({})).await.unwrap();
    assert_eq!(
        status["threads"][fixture.workspace.display().to_string()],
        before,
        "{status:#}"
    );
    let listed = editor
        .command("codex.listThreads", json!({}))
        .await
        .expect("listThreads");
    assert_eq!(
        listed["data"].as_array().map(Vec::len),
        Some(1),
        "reading started no thread: {listed:#}"
    );
    // The next ask continues it.
    let (after, _) = ask_done(&mut editor, json!({ "prompt": "say hello again" })).await;
    assert_eq!(after, before);
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsaved_buffer_content_reaches_the_agent() {
    let fixture = Fixture::new(rules()).await;
    std::fs::write(fixture.workspace.join("notes.txt"), "saved line\n").unwrap();
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let uri = fixture.file_uri("notes.txt");
    editor
        .notify(
            "textDocument/didOpen",
            json!({ "textDocument": {
                "uri": uri, "languageId": "plaintext", "version": 1, "text": "saved line\n"
            } }),
        )
        .await;
    editor
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": 2 },
                "contentChanges": [{
                    "range": { "start": { "line": 1, "character": 0 },
                               "end": { "line": 1, "character": 0 } },
                    "text": "UNSAVED_MARKER_7f3a\n"
                }]
            }),
        )
        .await;

    ask_done(
        &mut editor,
        json!({ "prompt": "say hello about my unsaved notes" }),
    )
    .await;
    let sent = provider_text(&fixture);
    assert!(
        sent.contains("UNSAVED_MARKER_7f3a"),
        "the unsaved text of an open, changed document never reached the provider"
    );
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("notes.txt")).unwrap(),
        "saved line\n",
        "the file on disk must stay unsaved"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steer_during_a_slow_turn_reaches_the_provider() {
    let mut rules = rules();
    let long = (0..60)
        .map(|i| format!("word{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    rules.push(Rule::new(
        "tell a slow story",
        vec![Reply::slow_text(long, Duration::from_millis(150))],
    ));
    let fixture = Fixture::new(rules).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;

    let (thread, turn) = ask(&mut editor, json!({ "prompt": "tell a slow story" })).await;
    let token = format!("codex-lsp/turn/{turn}");
    editor
        .wait_for("the slow turn's first report", || {
            editor
                .progress_of(&token)
                .into_iter()
                .find(|v| v["kind"] == "report")
        })
        .await;
    let steered = editor
        .command(
            "codex.steer",
            json!({ "prompt": "STEER_MARKER_b21c please be brief" }),
        )
        .await;
    assert!(steered.is_ok(), "codex.steer failed: {steered:?}");

    let done = editor.turn_completed(&turn).await;
    assert_eq!(done["threadId"], thread, "{done:#}");
    assert_eq!(done["status"], "completed", "{done:#}");
    assert!(
        provider_text(&fixture).contains("STEER_MARKER_b21c"),
        "the steer text never reached the provider"
    );
    editor.shutdown().await;
}

/// Starts codex-lsp (debug logging) with its stderr going to `stderr_file`.
fn start_with_stderr(fixture: &Fixture, stderr_file: &std::fs::File) -> Editor {
    let mut env = fixture.env();
    env.push(("CODEX_LSP_LOG".into(), "debug".into()));
    // The harness inherits stderr: point fd 2 at the file for the spawn only.
    // SAFETY: plain fd juggling; fd 2 is restored right after the spawn.
    unsafe {
        let saved = libc::dup(2);
        assert!(saved >= 0);
        assert!(libc::dup2(stderr_file.as_raw_fd(), 2) >= 0);
        let editor = Editor::start(env);
        libc::dup2(saved, 2);
        libc::close(saved);
        editor
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_api_key_never_echoes_the_key() {
    const SECRET: &str = "sk-secret-XYZ";
    let fixture = Fixture::new(rules()).await;
    let mut stderr_file = tempfile::tempfile().unwrap();
    let mut editor = start_with_stderr(&fixture, &stderr_file);
    let mut responses = Vec::new();
    let init = editor
        .request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": fixture.workspace_uri(),
                "workspaceFolders": [{ "uri": fixture.workspace_uri(), "name": "ws" }],
                "capabilities": progress_capabilities(),
                "initializationOptions": {},
            }),
        )
        .await
        .expect("initialize");
    responses.push(init);
    editor.notify("initialized", json!({})).await;

    let login = editor
        .command(
            "codex.login",
            json!({ "method": "apiKey", "apiKey": SECRET }),
        )
        .await;
    let login = login.unwrap_or_else(|e| panic!("codex.login apiKey failed: {e:#}"));
    responses.push(login.clone());

    // The outcome is reported with window/showMessage when the login completes.
    let outcome = editor
        .wait_notification("window/showMessage reporting the login", |n| {
            n["method"] == "window/showMessage"
                && n["params"]["message"]
                    .as_str()
                    .is_some_and(|m| m.to_lowercase().contains("log"))
        })
        .await;
    let outcome = outcome["params"]["message"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(
        !outcome.contains("fail") && !outcome.contains("error"),
        "the apiKey login did not succeed: {outcome}"
    );
    if let Ok(account) = editor.command("codex.account", json!({})).await {
        responses.push(account);
    }
    if let Ok(status) = editor.command("codex.status", json!({})).await {
        responses.push(status);
    }
    // A turn after login, so progress and events are in what we check too.
    let (_, turn) = ask(&mut editor, json!({ "prompt": "say hello after login" })).await;
    let done = editor.turn_completed(&turn).await;
    responses.push(done);

    let sent_to_editor = serde_json::to_string(&json!({
        "notifications": editor.notifications(),
        "serverRequests": editor.server_requests(),
        "responses": responses,
    }))
    .unwrap();
    editor.shutdown().await;

    let mut stderr = String::new();
    stderr_file.rewind().unwrap();
    stderr_file.read_to_string(&mut stderr).unwrap();
    assert!(
        !stderr.is_empty(),
        "codex-lsp's stderr was not captured (debug logging should write to it)"
    );
    assert!(
        !sent_to_editor.contains(SECRET),
        "the API key was sent to the editor: {sent_to_editor}"
    );
    assert!(
        !stderr.contains(SECRET),
        "the API key appears in codex-lsp's stderr:\n{}",
        stderr
            .lines()
            .filter(|l| l.contains(SECRET))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
