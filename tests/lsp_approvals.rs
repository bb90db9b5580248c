//! What an approval prompt shows and how it ends, against the real app-server and the
//! scripted model: every prompt shows the exact command (every line, nothing cut, hidden
//! characters made visible), always offers Decline, and a dismissed, failed or unanswered
//! prompt is a decline the user is told about (issues 14.1, 15.2, 15.3).

mod support;

use codex_lsp::bridge::text_formats::read_command_message;
use mock_provider::{Reply, Rule};
use serde_json::{json, Value};
use support::{ask_and_wait, defer, error_answer, progress_capabilities, Fixture};

/// `echo` on the first line, the real work on the second: the attack of issue 14.1.
const HIDDEN: &str = "echo checking status\ntouch PWNED";

fn long_command() -> String {
    format!("echo {} ; touch TAIL", "x".repeat(440))
}

fn rules() -> Vec<Rule> {
    vec![
        Rule::new(
            "hidden line",
            vec![Reply::exec(HIDDEN), Reply::text("hidden done")],
        ),
        Rule::new(
            "long command",
            vec![Reply::exec(long_command()), Reply::text("long done")],
        ),
        Rule::new(
            "disguised",
            vec![
                Reply::exec("echo ok\u{1b}[2K\r\u{202E}txt.exe\u{200B}; touch DISGUISED"),
                Reply::text("disguised done"),
            ],
        ),
        Rule::new(
            "plain touch",
            vec![Reply::exec("touch PLAIN"), Reply::text("plain done")],
        ),
    ]
}

fn titles(actions: &Value) -> Vec<String> {
    actions
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {actions:#}"))
        .iter()
        .map(|c| c["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The command item's status in a finished turn.
fn command_status(turn: &Value) -> String {
    turn["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["type"] == "commandExecution")
        .map(|i| i["status"].as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| panic!("no command item: {turn:#}"))
}

/// Under `untrusted`, through `window/showMessageRequest`: the prompt shows every line of
/// the command and all of a long one, marks hidden characters, and offers Decline though
/// the app-server does not; Decline is sent as a decline and nothing runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_message_request_shows_every_line_and_offers_decline() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture
        .editor(
            json!({ "approvalPolicy": "untrusted", "sandbox": "read-only" }),
            progress_capabilities(),
        )
        .await;
    editor.answer_with(|method, _| match method {
        "window/showMessageRequest" => json!({ "title": "Decline" }),
        _ => Value::Null,
    });

    let turn = ask_and_wait(&mut editor, "hidden line").await;
    let prompts = editor.server_requests_of("window/showMessageRequest");
    assert_eq!(prompts.len(), 1, "{prompts:#?}");
    let message = prompts[0]["params"]["message"].as_str().unwrap();
    let lines: Vec<&str> = message.lines().collect();
    assert!(
        lines[0].starts_with("Codex wants to run a multi-line command (2 lines"),
        "{message}"
    );
    assert!(
        lines[1].starts_with("│ ") && lines[1].ends_with("echo checking status"),
        "{message}"
    );
    assert_eq!(lines[2], "│ touch PWNED'", "{message}");
    let shown = read_command_message(message).expect("reads back");
    assert!(shown.ends_with(&format!("'{HIDDEN}'")), "{shown}");
    let offered = titles(&prompts[0]["params"]["actions"]);
    assert_eq!(
        offered.first().map(String::as_str),
        Some("Accept"),
        "{offered:?}"
    );
    assert!(offered.contains(&"Decline".to_string()), "{offered:?}");
    assert_eq!(
        offered.last().map(String::as_str),
        Some("Cancel turn"),
        "{offered:?}"
    );
    assert_eq!(command_status(&turn), "declined", "{turn:#}");
    assert!(!fixture.workspace.join("PWNED").exists());

    // A long command: whole, its tail included, and the header says how long it is.
    ask_and_wait(&mut editor, "long command").await;
    let prompts = editor.server_requests_of("window/showMessageRequest");
    let message = prompts[1]["params"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Codex wants to run (") && message.contains("characters, all shown"),
        "{message}"
    );
    assert!(message.contains("; touch TAIL"), "{message}");
    assert!(!message.contains('…'), "{message}");
    assert!(read_command_message(message)
        .unwrap()
        .contains(&long_command()));

    // Escape sequences, a carriage return, a bidi override, a zero-width space: visible.
    ask_and_wait(&mut editor, "disguised").await;
    let prompts = editor.server_requests_of("window/showMessageRequest");
    let message = prompts[2]["params"]["message"].as_str().unwrap();
    assert!(
        message.contains("echo ok<U+001B>[2K<U+000D><U+202E>txt.exe<U+200B>; touch DISGUISED"),
        "{message}"
    );
    assert!(
        !message.contains('\u{1b}') && !message.contains('\u{202E}'),
        "{message}"
    );
    assert!(!fixture.workspace.join("DISGUISED").exists());
    editor.shutdown().await;
}

/// `codex/approval`: its `message` reads back to its `command` exactly, Decline is among
/// the choices; an editor whose prompt fails (answers an error, as Neovim does on a Lua
/// error) gets a decline and the user is told why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_approval_message_is_the_command_and_a_failing_prompt_declines_aloud() {
    let fixture = Fixture::new(rules()).await;
    let mut capabilities = progress_capabilities();
    capabilities["experimental"] = json!({ "codexApprovals": true });
    let mut editor = fixture
        .editor(
            json!({ "approvalPolicy": "untrusted", "sandbox": "read-only" }),
            capabilities,
        )
        .await;
    editor.answer_with(|method, _| match method {
        "codex/approval" => error_answer(-32603, "Lua: attempt to index a nil value"),
        _ => Value::Null,
    });

    let turn = ask_and_wait(&mut editor, "hidden line").await;
    let approvals = editor.server_requests_of("codex/approval");
    assert_eq!(approvals.len(), 1, "{approvals:#?}");
    let params = &approvals[0]["params"];
    let command = params["command"].as_str().unwrap();
    assert!(command.contains(HIDDEN), "{params:#}");
    assert_eq!(
        read_command_message(params["message"].as_str().unwrap()).as_deref(),
        Some(command),
        "{params:#}"
    );
    assert!(
        titles(&params["choices"]).contains(&"Decline".to_string()),
        "{params:#}"
    );
    assert_eq!(command_status(&turn), "declined", "{turn:#}");
    assert!(!fixture.workspace.join("PWNED").exists());
    let told = editor
        .wait_message("could not show the approval (Lua: attempt to index a nil value)")
        .await;
    assert!(told.starts_with("Codex: declined "), "{told}");
    editor.shutdown().await;
}

/// A dismissed prompt (a null answer) is a decline, and said so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dismissed_prompt_declines_and_says_so() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture
        .editor(
            json!({ "approvalPolicy": "untrusted", "sandbox": "read-only" }),
            progress_capabilities(),
        )
        .await;
    editor.answer_with(|_, _| Value::Null);
    let turn = ask_and_wait(&mut editor, "plain touch").await;
    assert_eq!(command_status(&turn), "declined", "{turn:#}");
    assert!(!fixture.workspace.join("PLAIN").exists());
    let told = editor.wait_message("the prompt was dismissed").await;
    assert!(told.contains("declined `touch PLAIN`"), "{told}");
    editor.shutdown().await;
}

/// Prompts get `approvalTimeout` as code-action approvals do: an unanswered
/// showMessageRequest, and an unanswered `codex/approval` (which is then told it ended), are
/// declined when it passes, and the user is told; the turn goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_prompts_are_declined_after_the_approval_timeout() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture
        .editor(
            json!({ "approvalPolicy": "untrusted", "sandbox": "read-only", "approvalTimeout": 2 }),
            progress_capabilities(),
        )
        .await;
    editor.answer_with(defer("window/showMessageRequest"));
    let turn = ask_and_wait(&mut editor, "plain touch").await;
    assert_eq!(command_status(&turn), "declined", "{turn:#}");
    assert!(!fixture.workspace.join("PLAIN").exists());
    editor
        .wait_message("declined `touch PLAIN`: no answer within 2 s")
        .await;
    // The user picks Accept in the prompt still on screen: too late, nothing runs, and the
    // server goes on serving.
    let prompt = editor.server_requests_of("window/showMessageRequest")[0].clone();
    editor
        .answer_later(&prompt["id"], json!({ "title": "Accept" }))
        .await;
    let status = editor.command("codex.status", json!({})).await;
    assert!(status.is_ok(), "{status:?}");
    assert!(!fixture.workspace.join("PLAIN").exists());
    editor.shutdown().await;

    let mut capabilities = progress_capabilities();
    capabilities["experimental"] = json!({ "codexApprovals": true });
    let mut editor = fixture
        .editor(
            json!({ "approvalPolicy": "untrusted", "sandbox": "read-only", "approvalTimeout": 2 }),
            capabilities,
        )
        .await;
    editor.answer_with(defer("codex/approval"));
    let turn = ask_and_wait(&mut editor, "plain touch").await;
    assert_eq!(command_status(&turn), "declined", "{turn:#}");
    editor
        .wait_message("declined `touch PLAIN`: no answer within 2 s")
        .await;
    let asked = editor.server_requests_of("codex/approval");
    let ended = editor
        .wait_notification("codex/approvalEnded", |n| {
            n["params"]["approvalId"] == asked[0]["params"]["approvalId"]
        })
        .await;
    assert_eq!(ended["params"]["reason"], "timed out", "{ended:#}");
    assert!(!fixture.workspace.join("PLAIN").exists());
    editor.shutdown().await;
}

/// An editor with neither prompt (Helix): a code-action title never passes a part of a
/// command for the whole; the whole approval is in the message and in a private document
/// the editor is asked to show, which holds every line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn picker_titles_say_where_a_multi_line_command_is_shown_whole() {
    let fixture = Fixture::new(rules()).await;
    std::fs::write(fixture.workspace.join("notes.txt"), "notes\n").unwrap();
    let mut editor = fixture
        .editor(
            json!({ "approvalPolicy": "untrusted", "sandbox": "read-only", "approvalTimeout": 60 }),
            progress_capabilities(),
        )
        .await;
    editor.answer_with(|method, _| match method {
        "window/showMessageRequest" => error_answer(-32601, "Method not found"),
        "window/showDocument" => json!({ "success": true }),
        _ => Value::Null,
    });
    let uri = fixture.file_uri("notes.txt");
    editor.open_buffer(&uri, "notes\n").await;
    editor
        .command("codex.ask", json!({ "prompt": "hidden line" }))
        .await
        .expect("ask");
    let told = editor.wait_message("Codex asks for approval").await;
    assert!(told.contains("\n│ touch PWNED'"), "{told}");
    let shown = editor
        .wait_for("showDocument", || {
            editor
                .server_requests_of("window/showDocument")
                .first()
                .cloned()
        })
        .await;
    let path = url_path(shown["params"]["uri"].as_str().unwrap());
    let document = std::fs::read_to_string(&path).unwrap();
    let at = document.find("Codex wants to run").expect("the prompt");
    assert_eq!(
        read_command_message(&document[at..])
            .as_deref()
            .map(|c| c.contains(HIDDEN)),
        Some(true),
        "{document}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the folder is private: {mode:o}");

    let actions = editor
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
                "context": { "diagnostics": [] },
            }),
        )
        .await
        .unwrap();
    let titles: Vec<String> = actions
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["command"]["command"] == "codex.answerApproval")
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect();
    assert!(!titles.is_empty());
    for title in &titles {
        assert!(
            title.contains("a 2-line command (approval-1, shown whole in approval-1.txt)"),
            "{title}"
        );
        // (The always-allow rule the app-server proposes names its own prefix.)
        let about_this_one = title.split(", and always").next().unwrap();
        assert!(!about_this_one.contains("echo checking"), "{title}");
    }
    let decline = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .starts_with("Codex: decline a 2-line")
        })
        .cloned()
        .unwrap();
    editor
        .command(
            "codex.answerApproval",
            decline["command"]["arguments"][0].clone(),
        )
        .await
        .unwrap();
    editor
        .wait_for("the document removed", || (!path.exists()).then_some(()))
        .await;
    assert!(
        !path.parent().unwrap().exists(),
        "the empty private folder is removed"
    );
    assert!(!fixture.workspace.join("PWNED").exists());
    editor.shutdown().await;
}

fn url_path(uri: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(
        uri.strip_prefix("file://")
            .unwrap_or_else(|| panic!("not a file URI: {uri}")),
    )
}
