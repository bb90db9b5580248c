//! Approvals for an editor without `window/showMessageRequest` (it answers "method not
//! found", as Helix 25.01 does): each waiting approval is offered in the code actions and
//! answered with `codex.answerApproval`; a late, repeated or unknown answer is an error; a
//! turn's end withdraws its approvals; an unanswered one is declined after `approvalTimeout`.
//! The built `codex-lsp` over stdio, against the real app-server and the scripted provider.

mod support;

use serde_json::{json, Value};
use support::{error_answer, progress_capabilities, rules, Editor, Fixture};

const NOTES: &str = "notes.txt";

async fn ask(editor: &mut Editor, prompt: &str) -> String {
    let started = editor
        .command("codex.ask", json!({ "prompt": prompt }))
        .await
        .expect("codex.ask");
    started["turnId"].as_str().expect("turnId").to_string()
}

/// The code actions on the first line of the open notes file.
async fn code_actions(editor: &mut Editor, fixture: &Fixture) -> Vec<Value> {
    let answer = editor
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": fixture.file_uri(NOTES) },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
                "context": { "diagnostics": [] },
            }),
        )
        .await
        .expect("code actions");
    answer.as_array().cloned().unwrap_or_default()
}

/// The approval actions among `actions`.
fn approval_actions(actions: &[Value]) -> Vec<Value> {
    actions
        .iter()
        .filter(|a| a["command"]["command"] == "codex.answerApproval")
        .cloned()
        .collect()
}

fn titled<'a>(actions: &'a [Value], start: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"].as_str().unwrap_or_default().starts_with(start))
        .unwrap_or_else(|| panic!("no action titled {start:?}: {actions:#?}"))
}

async fn answer(editor: &mut Editor, action: &Value) -> Result<Value, Value> {
    editor
        .command(
            "codex.answerApproval",
            action["command"]["arguments"][0].clone(),
        )
        .await
}

/// Waits for the `n`th (1-based) "asks for approval" message.
async fn approval_message(editor: &Editor, n: usize) -> String {
    editor
        .wait_for(&format!("approval message {n}"), || {
            editor
                .shown_messages()
                .into_iter()
                .filter(|m| m.starts_with("Codex asks for approval"))
                .nth(n - 1)
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_are_answered_from_the_code_actions_when_prompts_are_unsupported() {
    let fixture = Fixture::new(rules()).await;
    std::fs::write(fixture.workspace.join(NOTES), "notes\n").unwrap();
    let mut editor = fixture
        .editor(
            json!({ "sandbox": "read-only", "approvalTimeout": 120 }),
            progress_capabilities(),
        )
        .await;
    editor.answer_with(|method, _| match method {
        "window/showMessageRequest" => error_answer(-32601, "Method not found"),
        _ => Value::Null,
    });
    editor
        .open_buffer(&fixture.file_uri(NOTES), "notes\n")
        .await;
    assert!(
        approval_actions(&code_actions(&mut editor, &fixture).await).is_empty(),
        "no approval waits yet"
    );

    // 1. Accepted from the code actions: the command runs.
    let turn = ask(&mut editor, "touch accepted.txt").await;
    let told = approval_message(&editor, 1).await;
    assert!(
        told.contains("touch accepted.txt") && told.contains("code actions"),
        "{told}"
    );
    let actions = approval_actions(&code_actions(&mut editor, &fixture).await);
    let titles: Vec<&str> = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    // The decisions the app-server offered (here: accept, always allow, cancel), and a
    // decline before the cancel, which it did not offer but which is always the user's to
    // give.
    assert_eq!(
        titles,
        [
            "Codex: allow `touch accepted.txt` (approval)",
            "Codex: allow `touch accepted.txt`, and always `touch accepted.txt`",
            "Codex: decline `touch accepted.txt`",
            "Codex: decline `touch accepted.txt` and stop the turn",
        ]
    );
    let allow = titled(&actions, "Codex: allow").clone();
    let id = allow["command"]["arguments"][0]["approvalId"]
        .as_str()
        .unwrap()
        .to_string();
    // A choice the app-server did not offer is refused, and the approval keeps waiting.
    let not_offered = editor
        .command(
            "codex.answerApproval",
            json!({ "approvalId": id, "choice": "acceptForSession" }),
        )
        .await
        .unwrap_err();
    assert_eq!(not_offered["code"], -32602, "{not_offered:#}");
    assert!(
        not_offered["message"]
            .as_str()
            .unwrap()
            .contains("not offered"),
        "{not_offered:#}"
    );
    let answered = answer(&mut editor, &allow).await.expect("accepted");
    assert_eq!(answered["decision"], "accept", "{answered:#}");
    let done = editor.turn_completed(&turn).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert!(
        fixture.workspace.join("accepted.txt").exists(),
        "the accepted command ran"
    );
    // Answering twice, or an id never offered: clear errors, nothing runs.
    let twice = answer(&mut editor, &allow).await.unwrap_err();
    assert!(
        twice["message"].as_str().unwrap().contains(&format!(
            "approval {id} is no longer waiting (already answered"
        )),
        "{twice:#}"
    );
    let unknown = editor
        .command(
            "codex.answerApproval",
            json!({ "approvalId": "approval-999", "choice": "accept" }),
        )
        .await
        .unwrap_err();
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("there is no approval approval-999"),
        "{unknown:#}"
    );
    assert!(approval_actions(&code_actions(&mut editor, &fixture).await).is_empty());

    // 2. An interrupted turn withdraws its approval; a late accept is refused.
    let turn = ask(&mut editor, "touch declined.txt").await;
    approval_message(&editor, 2).await;
    let actions = approval_actions(&code_actions(&mut editor, &fixture).await);
    let allow = titled(&actions, "Codex: allow").clone();
    editor
        .command("codex.interrupt", json!({ "turnId": turn }))
        .await
        .expect("interrupt");
    let done = editor.turn_completed(&turn).await;
    assert_eq!(done["status"], "interrupted", "{done:#}");
    assert!(approval_actions(&code_actions(&mut editor, &fixture).await).is_empty());
    let late = answer(&mut editor, &allow).await.unwrap_err();
    assert!(
        late["message"].as_str().unwrap().contains("withdrawn"),
        "{late:#}"
    );

    // 3. Unanswered past `approvalTimeout`: declined, and the user is told.
    editor
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": { "codex": { "sandbox": "read-only", "approvalTimeout": 2 } } }),
        )
        .await;
    for _ in 0..200 {
        let status = editor.command("codex.status", Value::Null).await.unwrap();
        if status["settings"]["approvalTimeout"] == 2.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let turn = ask(&mut editor, "touch declined.txt").await;
    let told = approval_message(&editor, 3).await;
    assert!(told.contains("declined in 2 s without an answer"), "{told}");
    let timed_out = editor.wait_message("no answer within 2 s").await;
    assert!(timed_out.contains("touch declined.txt"), "{timed_out}");
    let done = editor.turn_completed(&turn).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert!(
        !fixture.workspace.join("declined.txt").exists(),
        "an unanswered approval must not run"
    );
    // Helix-like editors only log command errors: the stale answer is also shown.
    let actions_before = editor.shown_messages().len();
    let stale = editor
        .command(
            "codex.answerApproval",
            json!({ "approvalId": "approval-3", "choice": "accept" }),
        )
        .await
        .unwrap_err();
    assert!(
        stale["message"]
            .as_str()
            .unwrap()
            .contains("declined: no answer within 2 s"),
        "{stale:#}"
    );
    editor
        .wait_message("approval approval-3 is no longer")
        .await;
    assert!(editor.shown_messages().len() > actions_before);

    // The editor said once that it has no showMessageRequest; it was not asked again.
    assert_eq!(
        editor.server_requests_of("window/showMessageRequest").len(),
        1
    );
    editor.shutdown().await;
}
