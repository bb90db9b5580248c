//! A second ask while a turn runs (issue 15.5): it is queued behind the running turn on
//! that thread (answered at once with `status: "queued"`), starts when the first ends, and
//! each turn ends whole with its own `codex/turnCompleted`; an interrupt cancels the queue.

mod support;

use std::time::Duration;

use mock_provider::{Reply, Rule};
use serde_json::{json, Value};
use support::{progress_capabilities, Editor, Fixture};

const FIRST: &str = "First reply, line one.\nFirst reply, the end line.";
const SECOND: &str = "Second reply, whole.";

fn rules() -> Vec<Rule> {
    vec![
        Rule::new(
            "the first ask",
            vec![Reply::slow_text(FIRST, Duration::from_millis(400))],
        ),
        Rule::new("the second ask", vec![Reply::text(SECOND)]),
        Rule::new("hang forever", vec![Reply::Hang]),
    ]
}

fn completions(editor: &Editor) -> Vec<Value> {
    editor
        .notifications()
        .into_iter()
        .filter(|n| n["method"] == "codex/turnCompleted")
        .map(|n| n["params"].clone())
        .collect()
}

/// Waits until the turn's progress began (the turn runs).
async fn running(editor: &Editor, turn: &str) {
    let token = format!("codex-lsp/turn/{turn}");
    editor
        .wait_for("the first turn's progress", || {
            (!editor.progress_of(&token).is_empty()).then_some(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ask_during_a_turn_is_queued_and_both_end_whole_in_order() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let first = editor
        .command("codex.ask", json!({ "prompt": "the first ask" }))
        .await
        .expect("first ask");
    let first_turn = first["turnId"].as_str().unwrap().to_string();
    running(&editor, &first_turn).await;

    let second = editor
        .command("codex.ask", json!({ "prompt": "the second ask" }))
        .await
        .expect("second ask");
    assert_eq!(
        second,
        json!({ "threadId": first["threadId"], "status": "queued", "position": 1 }),
        "answered at once, queued"
    );
    editor
        .wait_message("queued: your ask \"the second ask\" waits")
        .await;
    let status = editor.command("codex.status", json!({})).await.unwrap();
    assert_eq!(
        status["queuedAsks"],
        json!({ first["threadId"].as_str().unwrap(): 1 }),
        "{status:#}"
    );
    let token = format!("codex-lsp/turn/{first_turn}");
    editor
        .wait_for("the queue in the first turn's progress", || {
            editor
                .progress_of(&token)
                .iter()
                .any(|v| {
                    v["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("1 ask queued"))
                })
                .then_some(())
        })
        .await;

    let done_first = editor.turn_completed(&first_turn).await;
    assert_eq!(done_first["status"], "completed", "{done_first:#}");
    assert_eq!(done_first["finalResponse"], FIRST, "the first reply whole");
    let done = editor
        .wait_for("two codex/turnCompleted", || {
            let done = completions(&editor);
            (done.len() >= 2).then_some(done)
        })
        .await;
    assert_eq!(done.len(), 2, "{done:#?}");
    assert_eq!(done[0]["turnId"], first_turn.as_str(), "in order");
    let done_second = &done[1];
    assert_ne!(done_second["turnId"], first_turn.as_str());
    assert_eq!(done_second["threadId"], first["threadId"], "same thread");
    assert_eq!(done_second["status"], "completed", "{done_second:#}");
    assert_eq!(
        done_second["finalResponse"], SECOND,
        "the second reply whole"
    );
    // The second turn started only after the first ended: its own progress, begun after the
    // first's end.
    let notes = editor.notifications();
    let position = |pred: &dyn Fn(&Value) -> bool| notes.iter().position(pred).unwrap();
    let first_end = position(&|n| {
        n["method"] == "codex/turnCompleted" && n["params"]["turnId"] == first_turn.as_str()
    });
    let second_token = format!("codex-lsp/turn/{}", done_second["turnId"].as_str().unwrap());
    let second_begin = position(&|n| {
        n["method"] == "$/progress"
            && n["params"]["token"] == second_token.as_str()
            && n["params"]["value"]["kind"] == "begin"
    });
    assert!(
        first_end < second_begin,
        "the second turn began after the first ended"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ask_waiting_in_the_queue_answers_when_its_turn_ended_and_an_interrupt_cancels_the_queue(
) {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;

    // `wait: true` in the queue: the answer is the queued ask's own TurnResult.
    let first = editor
        .command("codex.ask", json!({ "prompt": "the first ask" }))
        .await
        .expect("first ask");
    let first_turn = first["turnId"].as_str().unwrap().to_string();
    running(&editor, &first_turn).await;
    let waited = editor
        .command(
            "codex.ask",
            json!({ "prompt": "the second ask", "wait": true }),
        )
        .await
        .expect("queued ask with wait");
    assert_eq!(waited["status"], "completed", "{waited:#}");
    assert_eq!(waited["finalResponse"], SECOND);
    assert_ne!(waited["turnId"], first_turn.as_str());
    assert_eq!(
        editor.turn_completed(&first_turn).await["finalResponse"],
        FIRST
    );

    // An interrupt stops the running turn and cancels what waits behind it.
    let hanging = editor
        .command("codex.ask", json!({ "prompt": "hang forever" }))
        .await
        .expect("hanging ask");
    let hanging_turn = hanging["turnId"].as_str().unwrap().to_string();
    running(&editor, &hanging_turn).await;
    let queued = editor
        .command(
            "codex.ask",
            json!({ "prompt": "the second ask CANCELLED_3b" }),
        )
        .await
        .expect("queued");
    assert_eq!(queued["status"], "queued", "{queued:#}");
    editor
        .command("codex.interrupt", json!({}))
        .await
        .expect("interrupt");
    let done = editor.turn_completed(&hanging_turn).await;
    assert_eq!(done["status"], "interrupted", "{done:#}");
    editor.wait_message("queued request was cancelled").await;
    // Nothing else starts: the thread is free for the next ask, which runs at once.
    let next = editor
        .command(
            "codex.ask",
            json!({ "prompt": "the second ask", "wait": true }),
        )
        .await
        .expect("next ask");
    assert_eq!(next["status"], "completed", "{next:#}");
    assert!(
        !serde_json::to_string(&fixture.provider.requests())
            .unwrap()
            .contains("CANCELLED_3b"),
        "the cancelled ask reached the model"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_during_a_turn_waits_its_turn_too() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let first = editor
        .command("codex.ask", json!({ "prompt": "the first ask" }))
        .await
        .expect("first ask");
    let first_turn = first["turnId"].as_str().unwrap().to_string();
    running(&editor, &first_turn).await;
    let review = editor
        .command("codex.review", json!({}))
        .await
        .expect("review");
    assert_eq!(review["status"], "queued", "{review:#}");
    editor.wait_message("queued: your review waits").await;
    assert_eq!(
        editor.turn_completed(&first_turn).await["finalResponse"],
        FIRST
    );
    let done = editor
        .wait_for("the review's codex/turnCompleted", || {
            let done = completions(&editor);
            (done.len() >= 2).then_some(done)
        })
        .await;
    assert_eq!(done[0]["turnId"], first_turn.as_str(), "in order");
    assert_eq!(done[1]["status"], "completed", "{:#}", done[1]);
    assert_ne!(done[1]["turnId"], first_turn.as_str());
    editor.shutdown().await;
}
