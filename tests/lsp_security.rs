//! Security, end to end: the built `codex-lsp` over stdio against the real app-server and the
//! scripted provider. Secrets stay out of every output; approvals are declined on any doubt;
//! the dangerous sandbox and approval policy reach the app-server only when the user set
//! them; agent edits outside the workspace folders reach buffers only with the user told.

mod support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use mock_provider::{PatchBuilder, Reply, Rule};
use serde_json::{json, Value};
use support::{
    ask_and_wait, editing_capabilities, progress_capabilities, rules, Editor, Fixture, Spawn,
};

const SECRET: &str = "sk-security-SECRET-9876-do-not-print";

/// Logs in with `SECRET`, runs a turn with `codex/event` on, and returns everything
/// codex-lsp said: every frame it wrote on stdout and every command answer.
async fn session_with_api_key_login(editor: &mut Editor) -> String {
    let login = editor
        .command(
            "codex.login",
            json!({ "method": "apiKey", "apiKey": SECRET }),
        )
        .await
        .unwrap_or_else(|e| panic!("codex.login apiKey: {e:#}"));
    editor.wait_message("logged in with an API key").await;
    let account = editor.command("codex.account", json!({})).await.unwrap();
    let done = ask_and_wait(editor, "say hello after logging in").await;
    let status = editor.command("codex.status", json!({})).await.unwrap();
    let events: Vec<Value> = editor
        .notifications()
        .into_iter()
        .filter(|n| n["method"] == "codex/event")
        .collect();
    assert!(
        events.len() > 3,
        "streamEvents sent too little to prove anything: {events:#?}"
    );
    let progress = editor
        .notifications()
        .into_iter()
        .filter(|n| n["method"] == "$/progress")
        .count();
    assert!(progress > 0, "no progress to check");
    serde_json::to_string(&json!({
        "notifications": editor.notifications(),
        "serverRequests": editor.server_requests(),
        "answers": [login, account, done, status],
        "garbage": editor.stdout_garbage(),
    }))
    .unwrap()
}

fn assert_no_secret(what: &str, text: &str) {
    // The whole key, and its distinctive middle (a truncated or reformatted echo).
    for needle in [SECRET, "SECRET-9876"] {
        let leaks: Vec<&str> = text.lines().filter(|l| l.contains(needle)).collect();
        assert!(leaks.is_empty(), "the API key is in {what}: {leaks:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_never_appears_in_stdout_stderr_the_log_file_progress_messages_or_events() {
    let fixture = Fixture::new(rules()).await;
    let logs = tempfile::tempdir().unwrap();

    // Logging to stderr at the most verbose level.
    let stderr_log = logs.path().join("stderr.log");
    let mut editor = fixture
        .editor_with(
            Spawn {
                log_env: Some("trace".into()),
                stderr: Some(stderr_log.clone()),
                ..Spawn::default()
            },
            json!({ "streamEvents": true }),
            progress_capabilities(),
        )
        .await;
    let said = session_with_api_key_login(&mut editor).await;
    editor.shutdown().await;
    assert_no_secret("what codex-lsp sent the editor", &said);
    let stderr = std::fs::read_to_string(&stderr_log).unwrap();
    assert!(
        stderr.contains("DEBUG") && stderr.contains("app-server started"),
        "stderr holds too little to prove anything: {stderr}"
    );
    assert_no_secret("stderr", &stderr);

    // Logging to a file (`logFile`, `logLevel`), stderr still captured.
    let log_file = logs.path().join("codex-lsp.log");
    let stderr_log = logs.path().join("stderr-2.log");
    let mut editor = fixture
        .editor_with(
            Spawn {
                log_env: None,
                stderr: Some(stderr_log.clone()),
                ..Spawn::default()
            },
            json!({
                "streamEvents": true,
                "logFile": log_file.display().to_string(),
                "logLevel": "trace",
            }),
            progress_capabilities(),
        )
        .await;
    let said = session_with_api_key_login(&mut editor).await;
    editor.shutdown().await;
    assert_no_secret("what codex-lsp sent the editor", &said);
    let log = std::fs::read_to_string(&log_file).unwrap();
    assert!(
        log.contains("DEBUG") && log.contains("app-server started"),
        "the log file holds too little to prove anything: {log}"
    );
    assert_no_secret("the log file", &log);
    assert_no_secret("stderr", &std::fs::read_to_string(&stderr_log).unwrap());

    // Every target at trace, the dependencies that log raw traffic named explicitly.
    let stderr_log = logs.path().join("stderr-3.log");
    let mut editor = fixture
        .editor_with(
            Spawn {
                log_env: Some(
                    "trace,async_lsp=trace,tungstenite=trace,tokio_tungstenite=trace".into(),
                ),
                stderr: Some(stderr_log.clone()),
                ..Spawn::default()
            },
            json!({ "streamEvents": true }),
            progress_capabilities(),
        )
        .await;
    let said = session_with_api_key_login(&mut editor).await;
    editor.shutdown().await;
    assert_no_secret("what codex-lsp sent the editor", &said);
    let stderr = std::fs::read_to_string(&stderr_log).unwrap();
    assert!(stderr.contains("DEBUG"), "{stderr}");
    assert_no_secret("stderr", &stderr);
}

/// Starts an ask that will need an approval, waits for the prompt (`method`), answers it
/// with `answer` (a JSON-RPC response without its id), and returns the turn's result.
async fn answer_approval_with(editor: &mut Editor, method: &str, answer: Value) -> Value {
    let (_, turn) = editor
        .start_request(
            "workspace/executeCommand",
            json!({ "command": "codex.ask",
                    "arguments": [{ "prompt": "touch declined.txt", "wait": true }] }),
        )
        .await;
    let prompt = editor
        .wait_for(method, || {
            editor
                .server_requests()
                .into_iter()
                .find(|r| r["method"] == method)
        })
        .await;
    let mut response = answer;
    response["jsonrpc"] = json!("2.0");
    response["id"] = prompt["id"].clone();
    editor.send(&response).await;
    let done = tokio::time::timeout(support::WAIT, turn)
        .await
        .expect("the turn ends")
        .unwrap();
    done["result"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_the_editor_cannot_show_or_answers_oddly_is_declined() {
    let fixture = Fixture::new(rules()).await;
    let declined = fixture.workspace.join("declined.txt");

    // An editor that does not implement window/showMessageRequest answers an error: the
    // approval waits in the code actions, and nobody answering it there declines it.
    let mut editor = fixture
        .editor(
            json!({ "sandbox": "read-only", "approvalTimeout": 2 }),
            progress_capabilities(),
        )
        .await;
    editor.answer_with(support::defer("window/showMessageRequest"));
    let done = answer_approval_with(
        &mut editor,
        "window/showMessageRequest",
        json!({ "error": { "code": -32601, "message": "Method not found" } }),
    )
    .await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert!(!declined.exists(), "an unanswerable prompt ran the command");
    editor.shutdown().await;

    // codex/approval: an error, then a decision that was never offered.
    for answer in [
        json!({ "error": { "code": -32603, "message": "the panel crashed" } }),
        json!({ "result": { "decision": "acceptForever" } }),
        json!({ "result": { "title": "Accept" } }),
    ] {
        let mut capabilities = progress_capabilities();
        capabilities["experimental"] = json!({ "codexApprovals": true });
        let mut editor = fixture
            .editor(json!({ "sandbox": "read-only" }), capabilities)
            .await;
        editor.answer_with(support::defer("codex/approval"));
        let done = answer_approval_with(&mut editor, "codex/approval", answer.clone()).await;
        assert_eq!(done["status"], "completed", "{answer}: {done:#}");
        assert!(!declined.exists(), "{answer} ran the command");
        editor.shutdown().await;
    }
}

/// A `codex` that records what codex-lsp sends the real one.
fn recording_codex(dir: &Path) -> PathBuf {
    let script = dir.join("codex");
    std::fs::write(
        &script,
        "#!/bin/sh\ntee -a \"$CODEX_LSP_TEST_WIRE\" | exec \"$CODEX_LSP_TEST_REAL_CODEX\" \"$@\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// The params of each `method` request codex-lsp sent the app-server.
fn sent(wire: &Path, method: &str) -> Vec<Value> {
    std::fs::read_to_string(wire)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["method"] == method)
        .map(|m| m["params"].clone())
        .collect()
}

/// `thread/start` or, for a later editor on the same folder, `thread/resume`: both carry
/// the sandbox and approval policy.
fn thread_params(wire: &Path) -> Vec<Value> {
    let mut params = sent(wire, "thread/start");
    params.extend(sent(wire, "thread/resume"));
    params
}

/// Runs one turn with `options` through the recording `codex`; returns the wire file.
async fn turn_recorded(fixture: &Fixture, dir: &Path, name: &str, options: Value) -> PathBuf {
    let wire = dir.join(format!("{name}.jsonl"));
    let spawn = Spawn {
        extra_env: vec![
            (
                "CODEX_LSP_CODEX_PATH".into(),
                recording_codex(dir).into_os_string(),
            ),
            ("CODEX_LSP_TEST_WIRE".into(), OsString::from(&wire)),
            (
                "CODEX_LSP_TEST_REAL_CODEX".into(),
                support::runtime_path().into_os_string(),
            ),
        ],
        ..Spawn::default_log()
    };
    let mut editor = fixture
        .editor_with(spawn, options, progress_capabilities())
        .await;
    ask_and_wait(&mut editor, "say hello for the record").await;
    editor.shutdown().await;
    wire
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_access_and_never_reach_the_app_server_only_when_the_user_set_them() {
    let fixture = Fixture::new(rules()).await;
    let dir = tempfile::tempdir().unwrap();

    for (name, options) in [
        ("defaults", json!({})),
        // Unknown values are warned about and fall back to the defaults, never to more access.
        (
            "unknown values",
            json!({ "sandbox": "full", "approvalPolicy": "no" }),
        ),
    ] {
        let wire = turn_recorded(&fixture, dir.path(), name, options).await;
        let threads = thread_params(&wire);
        let turns = sent(&wire, "turn/start");
        assert_eq!(threads.len(), 1, "{name}: {threads:#?}");
        assert!(!turns.is_empty(), "{name}: no turn/start recorded");
        assert_eq!(threads[0]["sandbox"], "workspace-write", "{name}");
        assert_eq!(threads[0]["approvalPolicy"], "on-request", "{name}");
        for turn in &turns {
            assert_eq!(turn["approvalPolicy"], "on-request", "{name}: {turn:#}");
        }
        let everything = std::fs::read_to_string(&wire).unwrap();
        for dangerous in ["danger-full-access", "dangerFullAccess", "\"never\""] {
            assert!(
                !everything.contains(dangerous),
                "{name}: {dangerous} was sent"
            );
        }
    }

    let wire = turn_recorded(
        &fixture,
        dir.path(),
        "chosen",
        json!({ "sandbox": "danger-full-access", "approvalPolicy": "never" }),
    )
    .await;
    let threads = thread_params(&wire);
    assert_eq!(threads[0]["sandbox"], "danger-full-access");
    assert_eq!(threads[0]["approvalPolicy"], "never");
    assert!(sent(&wire, "turn/start")
        .iter()
        .all(|turn| turn["approvalPolicy"] == "never"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_edits_outside_the_workspace_reach_buffers_only_with_the_user_told() {
    const TEXT: &str = "one\ntwo\nthree\n";
    let outside_dir = tempfile::tempdir().unwrap();
    let outside = outside_dir
        .path()
        .canonicalize()
        .unwrap()
        .join("outside.txt");
    std::fs::write(&outside, TEXT).unwrap();
    let path = outside.display().to_string();
    let fixture = Fixture::new(vec![
        Rule::new(
            "patch the outside file",
            vec![
                PatchBuilder::new()
                    .update(&path, "two\n", "TWO\n")
                    .into_reply(),
                Reply::text("patched"),
            ],
        ),
        Rule::new(
            "sed the outside file",
            vec![
                Reply::exec(format!("sed -i s/three/THREE/ {path}")),
                Reply::text("edited"),
            ],
        ),
    ])
    .await;
    // Only a user's explicit choice lets the agent write outside the workspace unasked.
    let mut editor = fixture
        .editor(
            json!({ "sandbox": "danger-full-access", "approvalPolicy": "never" }),
            editing_capabilities(),
        )
        .await;
    editor.track_buffers();
    let uri = format!("file://{path}");
    editor.open_buffer(&uri, TEXT).await;

    let outside_told = |editor: &Editor| {
        editor
            .shown_messages()
            .into_iter()
            .filter(|m| m.contains("outside the workspace folders") && m.contains("outside.txt"))
            .count()
    };

    // By a fileChange item.
    ask_and_wait(&mut editor, "patch the outside file").await;
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "one\nTWO\nthree\n"
    );
    assert_eq!(editor.buffer_text(&uri), "one\nTWO\nthree\n");
    assert_eq!(outside_told(&editor), 1, "{:#?}", editor.shown_messages());

    // By a command (mirrored at the turn's end).
    ask_and_wait(&mut editor, "sed the outside file").await;
    assert_eq!(editor.buffer_text(&uri), "one\nTWO\nTHREE\n");
    editor
        .wait_for("the second outside-workspace message", || {
            (outside_told(&editor) == 2).then_some(())
        })
        .await;
    editor.shutdown().await;
}
