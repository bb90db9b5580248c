//! The model provider failing (issue 15.4): the app-server's retries show in the turn's
//! progress ("can't reach the model: retrying 1/3 — …"), and the turn ends failed with the
//! error and what to do, in the progress end, a `window/showMessage` and
//! `codex/turnCompleted`. The scripted provider answers 500s, or goes away mid-turn (the
//! stream is cut and the port closed).

mod support;

use std::time::{Duration, Instant};

use mock_provider::{Reply, Rule, PROVIDER_ID};
use serde_json::{json, Value};
use support::{progress_capabilities, Editor, Fixture};

/// Three stream retries, no silent request retries: each attempt is told.
fn retrying_options() -> Value {
    json!({ "config": {
        format!("model_providers.{PROVIDER_ID}.stream_max_retries"): 3,
        format!("model_providers.{PROVIDER_ID}.request_max_retries"): 0,
    } })
}

fn progress_messages(editor: &Editor, turn: &str) -> Vec<String> {
    editor
        .progress_of(&format!("codex-lsp/turn/{turn}"))
        .iter()
        .filter_map(|v| v["message"].as_str().map(str::to_string))
        .collect()
}

/// The turn failed, said with what to do in the progress end, a message and turnCompleted.
async fn ends_failed_with_advice(editor: &Editor, turn: &str) -> Value {
    let done = editor.turn_completed(turn).await;
    assert_eq!(done["status"], "failed", "{done:#}");
    let error = done["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !error.is_empty(),
        "the error in codex/turnCompleted: {done:#}"
    );
    let progress = progress_messages(editor, turn);
    let end = progress.last().cloned().unwrap_or_default();
    assert!(
        end.starts_with("failed: ") && end.contains("codex-lsp doctor"),
        "the progress end says what to do: {progress:#?}"
    );
    let told = editor
        .wait_message("could not be reached or kept failing")
        .await;
    assert!(told.starts_with("Codex: failed: "), "{told}");
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_show_the_retries_and_end_the_turn_with_what_to_do() {
    let fixture = Fixture::new(vec![Rule::new(
        "ask the model",
        vec![Reply::HttpError(500)],
    )])
    .await;
    let mut editor = fixture
        .editor(retrying_options(), progress_capabilities())
        .await;
    let started = Instant::now();
    let asked = editor
        .command("codex.ask", json!({ "prompt": "ask the model" }))
        .await
        .expect("ask");
    let turn = asked["turnId"].as_str().unwrap().to_string();
    ends_failed_with_advice(&editor, &turn).await;
    let progress = progress_messages(&editor, &turn);
    // Each retry is reported; reports closer than 100 ms apart are coalesced, so on a busy
    // machine one may be replaced by the next: at least one, in order, with its reason.
    let attempts: Vec<&str> = progress
        .iter()
        .filter_map(|m| m.strip_prefix("can't reach the model: retrying "))
        .map(|rest| {
            assert!(
                rest.contains(" — ") && rest.contains("high demand"),
                "{rest}"
            );
            rest.split(' ').next().unwrap()
        })
        .collect();
    assert!(!attempts.is_empty(), "{progress:#?}");
    let mut sorted = attempts.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(attempts, sorted, "in order: {progress:#?}");
    assert!(
        attempts.iter().all(|a| ["1/3", "2/3", "3/3"].contains(a)),
        "{attempts:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "ended in {:?}",
        started.elapsed()
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_goes_away_mid_turn_is_told_with_what_to_do() {
    let fixture = Fixture::new(vec![Rule::new("ask the model", vec![Reply::Hang])]).await;
    let mut editor = fixture
        .editor(retrying_options(), progress_capabilities())
        .await;
    let asked = editor
        .command("codex.ask", json!({ "prompt": "ask the model" }))
        .await
        .expect("ask");
    let turn = asked["turnId"].as_str().unwrap().to_string();
    let deadline = Instant::now() + support::WAIT;
    while fixture.provider.requests().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the request never reached the provider"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The provider goes down: the open stream is cut and the port closed.
    let Fixture {
        provider,
        codex_home: _home,
        workspace: _,
        ..
    } = fixture;
    drop(provider);
    // The cut stream is retried (counted); then the port is closed, and the app-server waits
    // for the network without end: the user is told so, and what to do.
    let told = editor.wait_message("waiting for the network").await;
    assert!(
        told.contains("Connection failed") && told.contains("codex.interrupt"),
        "{told}"
    );
    // Progress reports are held back up to 100 ms: wait for it.
    editor
        .wait_for("waiting for the network in the progress", || {
            progress_messages(&editor, &turn)
                .iter()
                .any(|m| m.starts_with("can't reach the model: waiting for the network — "))
                .then_some(())
        })
        .await;
    let progress = progress_messages(&editor, &turn);
    assert!(
        progress.iter().any(|m| m.starts_with(
            "can't reach the model: retrying 1/3 — stream disconnected before completion"
        )),
        "{progress:#?}"
    );
    editor
        .command("codex.interrupt", json!({}))
        .await
        .expect("interrupt");
    let done = editor.turn_completed(&turn).await;
    assert_eq!(done["status"], "interrupted", "{done:#}");
    editor.shutdown().await;
}
