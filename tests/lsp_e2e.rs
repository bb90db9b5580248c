//! End to end: the built `codex-lsp` over stdio, driven as an editor would, against the
//! real app-server and the scripted provider.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{ask, progress_capabilities, rules, Fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_streams_progress_then_turn_completed_and_wait_and_shared_thread() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;

    let (thread_id, turn_id) = ask(&mut editor, json!({ "prompt": "say hello" })).await;
    let done = editor.turn_completed(&turn_id).await;
    assert_eq!(done["threadId"], thread_id);
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(done["finalResponse"], "Hello from the mock.\nSecond line.");
    for key in [
        "items",
        "usage",
        "error",
        "startedAt",
        "completedAt",
        "durationMs",
    ] {
        assert!(
            done.get(key).is_some(),
            "turnCompleted lacks {key}: {done:#}"
        );
    }
    let token = format!("codex-lsp/turn/{turn_id}");
    let created = editor
        .server_requests()
        .iter()
        .any(|r| r["method"] == "window/workDoneProgress/create" && r["params"]["token"] == token);
    assert!(created, "no workDoneProgress/create for {token}");
    let progress = editor.progress_of(&token);
    let kinds: Vec<&str> = progress
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"begin"), "{progress:#?}");
    assert_eq!(progress[0]["cancellable"], true);
    assert!(kinds.contains(&"report"), "{progress:#?}");
    assert_eq!(kinds.last(), Some(&"end"), "{progress:#?}");
    // The reply's first line, then what the turn cost (tests/lsp_status.rs checks the figures).
    let end = progress.last().unwrap()["message"].as_str().unwrap();
    assert!(
        end.starts_with("Hello from the mock. — done in ") && end.contains(" tokens"),
        "{end}"
    );

    // wait: true answers with the TurnResult.
    let result = editor
        .command(
            "codex.ask",
            json!({ "prompt": "say hello again", "wait": true }),
        )
        .await
        .unwrap();
    assert_eq!(
        result["threadId"], thread_id,
        "asks on one workspace share a thread"
    );
    assert_eq!(result["status"], "completed");
    assert!(result["finalResponse"]
        .as_str()
        .unwrap()
        .starts_with("Hello"));

    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_first_asks_share_one_thread() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let (_, a) = editor
        .start_request(
            "workspace/executeCommand",
            json!({"command": "codex.ask", "arguments": [{"prompt": "say hello one"}]}),
        )
        .await;
    let (_, b) = editor
        .start_request(
            "workspace/executeCommand",
            json!({"command": "codex.ask", "arguments": [{"prompt": "say hello two"}]}),
        )
        .await;
    let a = tokio::time::timeout(support::WAIT, a)
        .await
        .unwrap()
        .unwrap();
    let b = tokio::time::timeout(support::WAIT, b)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        a["result"]["threadId"], b["result"]["threadId"],
        "{a:#} {b:#}"
    );
    editor
        .turn_completed(a["result"]["turnId"].as_str().unwrap())
        .await;
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_by_progress_cancel_by_cancel_request_and_by_interrupt() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;

    // 1. window/workDoneProgress/cancel
    let (_, turn) = ask(&mut editor, json!({ "prompt": "hang forever 1" })).await;
    let token = format!("codex-lsp/turn/{turn}");
    editor
        .wait_for("progress begin", || {
            editor.progress_of(&token).first().cloned()
        })
        .await;
    editor
        .notify("window/workDoneProgress/cancel", json!({ "token": token }))
        .await;
    assert_eq!(editor.turn_completed(&turn).await["status"], "interrupted");
    // Let the app-server finish winding the interrupted turn down before the next one.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // 2. $/cancelRequest on a waiting ask
    let (id, rx) = editor
        .start_request("workspace/executeCommand", json!({"command": "codex.ask", "arguments": [{"prompt": "hang forever 2", "wait": true}]}))
        .await;
    let begun = editor
        .wait_for("the second turn's progress", || {
            editor
                .notifications()
                .into_iter()
                .filter(|n| n["method"] == "$/progress" && n["params"]["value"]["kind"] == "begin")
                .map(|n| n["params"]["token"].as_str().unwrap().to_string())
                .find(|t| *t != token)
        })
        .await;
    editor.notify("$/cancelRequest", json!({ "id": id })).await;
    let response = tokio::time::timeout(support::WAIT, rx)
        .await
        .unwrap()
        .unwrap();
    assert!(response.get("error").is_some(), "{response:#}");
    let turn2 = begun.strip_prefix("codex-lsp/turn/").unwrap().to_string();
    assert_eq!(editor.turn_completed(&turn2).await["status"], "interrupted");
    tokio::time::sleep(Duration::from_millis(500)).await;

    // 3. codex.interrupt
    let (thread3, turn3) = ask(&mut editor, json!({ "prompt": "hang forever 3" })).await;
    let interrupted = editor
        .command("codex.interrupt", json!({ "threadId": thread3 }))
        .await
        .unwrap();
    assert_eq!(interrupted["interrupted"][0]["turnId"], turn3);
    assert_eq!(editor.turn_completed(&turn3).await["status"], "interrupted");

    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_accepted_and_declined_through_show_message_request() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture
        .editor(json!({ "sandbox": "read-only" }), progress_capabilities())
        .await;
    editor.answer_with(|method, params| {
        if method != "window/showMessageRequest" {
            return Value::Null;
        }
        let message = params["message"].as_str().unwrap_or_default();
        if message.contains("accepted.txt") {
            json!({ "title": "Accept" })
        } else {
            Value::Null // dismissed
        }
    });

    let accepted = editor
        .command(
            "codex.ask",
            json!({ "prompt": "touch accepted.txt", "wait": true }),
        )
        .await
        .unwrap();
    assert_eq!(accepted["status"], "completed", "{accepted:#}");
    assert!(
        fixture.workspace.join("accepted.txt").exists(),
        "the accepted command ran"
    );

    let declined = editor
        .command(
            "codex.ask",
            json!({ "prompt": "touch declined.txt", "wait": true }),
        )
        .await
        .unwrap();
    assert_eq!(declined["status"], "completed", "{declined:#}");
    assert!(
        !fixture.workspace.join("declined.txt").exists(),
        "the declined command must not run"
    );

    let prompts: Vec<Value> = editor
        .server_requests()
        .into_iter()
        .filter(|r| r["method"] == "window/showMessageRequest")
        .collect();
    assert_eq!(prompts.len(), 2, "{prompts:#?}");
    let message = prompts[0]["params"]["message"].as_str().unwrap();
    assert!(
        message.contains("touch accepted.txt")
            && message.contains(fixture.workspace.to_str().unwrap()),
        "{message}"
    );
    let titles: Vec<&str> = prompts[0]["params"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Accept"), "{titles:?}");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_errors_and_the_server_keeps_serving() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture
        .editor(json!({ "colour": "blue" }), progress_capabilities())
        .await;

    editor.wait_message("`colour`").await;

    let missing = editor
        .command("codex.ask", json!({ "uri": fixture.file_uri("a.txt") }))
        .await
        .unwrap_err();
    assert_eq!(missing["code"], -32602);
    assert!(
        missing["message"].as_str().unwrap().contains("`prompt`"),
        "{missing}"
    );
    let no_args = editor.command("codex.ask", Value::Null).await.unwrap_err();
    assert_eq!(no_args["code"], -32602);
    // Editors that can send no argument (Helix) only log errors: it is shown too.
    editor.wait_message("code actions").await;
    let ill_typed = editor
        .command("codex.ask", json!({ "prompt": "x", "wait": "yes" }))
        .await
        .unwrap_err();
    assert!(
        ill_typed["message"].as_str().unwrap().contains("`wait`"),
        "{ill_typed}"
    );

    let unknown = editor
        .command("codex.frobnicate", json!({}))
        .await
        .unwrap_err();
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("codex.frobnicate"),
        "{unknown}"
    );

    editor.send_raw(b"{this is not json").await;
    let parse_error = editor
        .wait_notification("the parse error answer", |n| {
            n["method"] == "<response>" && n["params"]["error"]["code"] == -32700
        })
        .await;
    assert!(parse_error["params"]["id"].is_null());

    let action = editor
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": fixture.file_uri("never-opened.rs") },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 1 } },
                "context": { "diagnostics": [] },
            }),
        )
        .await
        .unwrap_err();
    assert!(
        action["message"].as_str().unwrap().contains("not open"),
        "{action}"
    );

    // Still serving: code actions on an open document, and a real turn.
    let uri = fixture.file_uri("a.rs");
    editor
        .notify("textDocument/didOpen", json!({ "textDocument": { "uri": uri, "languageId": "rust", "version": 1, "text": "fn main() {\n    let x = 1;\n}\n" } }))
        .await;
    editor
        .notify("textDocument/didChange", json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [
            { "range": { "start": { "line": 1, "character": 12 }, "end": { "line": 1, "character": 13 } }, "text": "2" }
        ] }))
        .await;
    let actions = editor
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": 1, "character": 4 }, "end": { "line": 1, "character": 14 } },
                "context": { "diagnostics": [{ "range": { "start": { "line": 1, "character": 8 }, "end": { "line": 1, "character": 9 } }, "message": "unused variable: `x`" }] },
            }),
        )
        .await
        .unwrap();
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Codex: Fix: unused variable: `x`",
            "Codex: Explain",
            "Codex: Document",
            "Codex: Add tests",
            "Codex: Refactor",
            "Codex: Open chat"
        ]
    );
    let prompt = actions[1]["command"]["arguments"][0]["prompt"]
        .as_str()
        .unwrap();
    assert!(
        prompt.contains("let x = 2;"),
        "the mirror saw the change: {prompt}"
    );

    let status = editor.command("codex.status", json!({})).await.unwrap();
    assert!(status["appServer"]["state"].is_string(), "{status:#}");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_server_killed_between_turns_next_ask_resumes_the_same_thread() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), json!({})).await;
    let first = editor
        .command("codex.ask", json!({ "prompt": "say hello", "wait": true }))
        .await
        .unwrap();
    assert_eq!(first["status"], "completed");
    let pids = editor.app_server_pids();
    assert!(!pids.is_empty(), "no app-server child found");
    // Each app-server leads its own process group: kill it with all it started (npm's
    // wrapper and the native binary under it).
    for pid in &pids {
        unsafe { libc::kill(-*pid, libc::SIGKILL) };
    }
    editor.wait_message("app-server stopped").await;
    let second = editor
        .command(
            "codex.ask",
            json!({ "prompt": "say hello after the crash", "wait": true }),
        )
        .await
        .unwrap();
    assert_eq!(second["status"], "completed", "{second:#}");
    assert_eq!(second["threadId"], first["threadId"]);
    // Without progress support the start and end come as messages.
    assert!(editor
        .server_requests()
        .iter()
        .all(|r| r["method"] != "window/workDoneProgress/create"));
    let restarted = editor.app_server_pids();
    assert!(
        !restarted.is_empty() && restarted != pids,
        "{restarted:?} vs {pids:?}"
    );
    editor.shutdown().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let survivors = editor_pids_alive(&restarted);
    assert!(survivors.is_empty(), "app-servers survived: {survivors:?}");
}

fn editor_pids_alive(pids: &[i32]) -> Vec<i32> {
    pids.iter()
        .copied()
        .filter(|p| std::path::Path::new(&format!("/proc/{p}/stat")).exists() && !is_zombie(*p))
        .collect()
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.contains(") Z "))
        .unwrap_or(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_accept_after_the_turn_was_interrupted_is_never_granted() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture
        .editor(json!({ "sandbox": "read-only" }), progress_capabilities())
        .await;
    editor.answer_with(support::defer("window/showMessageRequest"));
    let (thread_id, turn_id) = ask(&mut editor, json!({ "prompt": "touch accepted.txt" })).await;
    let prompt = editor
        .wait_for("the approval prompt", || {
            editor
                .server_requests()
                .into_iter()
                .find(|r| r["method"] == "window/showMessageRequest")
        })
        .await;
    // Typing and other requests are served while the prompt waits.
    editor
        .command("codex.status", Value::Null)
        .await
        .expect("served while a prompt waits");
    editor
        .command(
            "codex.interrupt",
            json!({ "threadId": thread_id, "turnId": turn_id }),
        )
        .await
        .expect("interrupt");
    let done = editor.turn_completed(&turn_id).await;
    assert_eq!(done["status"], "interrupted", "{done:#}");
    // The user clicks Accept on the now stale prompt.
    editor
        .answer_later(&prompt["id"], json!({ "title": "Accept" }))
        .await;
    let (_, next) = ask(&mut editor, json!({ "prompt": "say hello" })).await;
    editor.turn_completed(&next).await;
    assert!(
        !fixture.workspace.join("accepted.txt").exists(),
        "an answer to a prompt the app-server had withdrawn must never run the command"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_without_progress_gets_messages_at_start_and_end() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), json!({})).await;
    let (_, turn_id) = ask(&mut editor, json!({ "prompt": "say hello" })).await;
    editor.turn_completed(&turn_id).await;
    let messages = editor.shown_messages();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert_eq!(messages[0], "Codex is working…", "{messages:#?}");
    assert!(
        messages[1].starts_with("Codex: Hello from the mock. — done in "),
        "{messages:#?}"
    );
    assert!(
        !editor
            .server_requests()
            .iter()
            .any(|r| r["method"] == "window/workDoneProgress/create"),
        "no progress for an editor that did not ask for it"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_runtime_is_told_once_with_the_install_command() {
    let fixture = Fixture::new(rules()).await;
    let empty = tempfile::tempdir().unwrap();
    let spawn = support::Spawn {
        extra_env: vec![
            ("CODEX_LSP_CODEX_PATH".into(), "".into()),
            ("CODEX_LSP_RUNTIME_DIR".into(), empty.path().into()),
            ("PATH".into(), "/usr/bin:/bin".into()),
        ],
        ..Default::default()
    };
    let mut editor = fixture
        .editor_with(spawn, json!({}), progress_capabilities())
        .await;
    for _ in 0..2 {
        let error = editor
            .command("codex.ask", json!({ "prompt": "say hello" }))
            .await
            .expect_err("no runtime, no turn");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("`codex-lsp runtime install`"),
            "the error says how to install the runtime: {message}"
        );
    }
    let told = editor.shown_messages_containing("codex-lsp runtime install");
    assert_eq!(told.len(), 1, "told once, not per request: {told:#?}");
    // The server keeps serving.
    editor
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": fixture.file_uri("none.txt") },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
                "context": { "diagnostics": [] },
            }),
        )
        .await
        .expect_err("not open");
    editor.shutdown().await;
}
