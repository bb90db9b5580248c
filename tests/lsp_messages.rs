//! What the user reads (issue 15.12): every error path reachable from an editor is named
//! once — an error answer carries no "Codex:" (the editor adds "Codex: ask failed: "), a
//! `window/showMessage` starts with it exactly once — and a missing runtime says what works
//! without a codex-lsp checkout.

mod support;

use serde_json::{json, Value};
use support::{progress_capabilities, Editor, Fixture, Spawn};

/// No shown message names codex-lsp twice.
fn assert_named_once(editor: &Editor) {
    for message in editor.shown_messages() {
        let rest = message.strip_prefix("Codex: ").unwrap_or(&message);
        assert!(
            !rest.starts_with("Codex: ") && !rest.starts_with("codex-lsp: "),
            "named twice: {message:?}"
        );
        assert!(!message.contains("Codex: Codex:"), "{message:?}");
    }
}

/// An error answer's message, checked to carry no name prefix.
fn unnamed(error: &Value) -> String {
    let message = error["message"].as_str().unwrap_or_default().to_string();
    assert!(
        !message.starts_with("Codex: ") && !message.starts_with("codex-lsp: "),
        "an error answer is named (the editor adds the name): {message:?}"
    );
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_runtime_is_said_once_with_what_works_without_a_checkout() {
    let fixture = Fixture::new(vec![]).await;
    let spawn = Spawn {
        extra_env: vec![("CODEX_LSP_CODEX_PATH".into(), "/nonexistent/codex".into())],
        ..Spawn::default_log()
    };
    let mut editor = fixture
        .editor_with(spawn, json!({}), progress_capabilities())
        .await;
    let error = editor
        .command("codex.ask", json!({ "prompt": "say hello" }))
        .await
        .expect_err("no runtime");
    let message = unnamed(&error);
    assert!(
        message.contains("npm install -g @openai/codex@0.163.0") && message.contains("`codexPath`"),
        "says what works for a user without the repository: {message}"
    );
    // The same failure through a command without arguments (shown, as Helix only logs
    // error answers) and the start-up notice.
    let error = editor
        .command("codex.listThreads", Value::Null)
        .await
        .expect_err("no runtime");
    unnamed(&error);
    editor.wait_message("npm install -g @openai/codex").await;
    assert_named_once(&editor);
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_approval_errors_are_named_once() {
    let fixture = Fixture::new(vec![]).await;
    let mut editor = fixture
        .editor(
            json!({ "appServer": "ws://192.0.2.1:4500", "sandbox": 3 }),
            progress_capabilities(),
        )
        .await;
    // A remote app-server without a token is refused.
    let error = editor
        .command("codex.ask", json!({ "prompt": "say hello" }))
        .await
        .expect_err("refused");
    assert!(unnamed(&error).contains("without a token"), "{error:#}");
    editor.wait_message("without a token").await;
    // A token file that is not there.
    editor
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": { "codex": {
                "appServer": "ws://127.0.0.1:9", "appServerTokenFile": "/nonexistent/token" } } }),
        )
        .await;
    let deadline = tokio::time::Instant::now() + support::WAIT;
    loop {
        let error = editor
            .command("codex.ask", json!({ "prompt": "say hello" }))
            .await
            .expect_err("no token file");
        if unnamed(&error).contains("appServerTokenFile") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{error:#}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // An approval that does not exist, answered from a code action (shown too).
    let error = editor
        .command(
            "codex.answerApproval",
            json!({ "approvalId": "nope", "choice": "accept" }),
        )
        .await
        .expect_err("unknown approval");
    assert!(unnamed(&error).contains("nope"), "{error:#}");
    editor.wait_message("nope").await;
    editor.wait_message("`sandbox`").await;
    assert_named_once(&editor);
    editor.shutdown().await;
}
