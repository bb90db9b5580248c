//! What the user watches, against the real app-server and the scripted provider: token
//! usage and the context's fill in `codex.status`, the progress end and `codex/status`;
//! the plan in progress and in the transcript; `codex.setModel` reaching the provider.

mod support;

use mock_provider::{Reply, Rule, MODEL};
use serde_json::{json, Value};
use support::*;

fn capabilities() -> Value {
    let mut capabilities = progress_capabilities();
    capabilities["experimental"] = json!({ "codexStatus": true });
    capabilities
}

/// The `$/progress` values of every turn, in order.
fn progress_messages(editor: &Editor, turn_id: &str) -> Vec<Value> {
    editor.progress_of(&format!("codex-lsp/turn/{turn_id}"))
}

fn status_notifications(editor: &Editor) -> Vec<Value> {
    editor
        .notifications()
        .into_iter()
        .filter(|n| n["method"] == "codex/status")
        .map(|n| n["params"].clone())
        .collect()
}

/// The usage the scripted model reports for "say hello" here (input, output): enough input
/// to fill a real share of the context window, so the percentage is no rounding of zero.
const USAGE: (u64, u64) = (54_321, 1_234);

/// What the mock's usage makes of the context's fill, as codex-lsp rounds it.
fn percent_of(window: i64) -> i64 {
    let input = USAGE.0 as i64;
    ((input * 100 + window / 2) / window).min(100)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_usage_reaches_the_status_and_the_progress_end() {
    let mut rules = rules();
    rules[0] = rules[0].clone().with_usage(USAGE.0, USAGE.1);
    assert_eq!(rules[0].when_prompt_contains, "say hello");
    let fixture = Fixture::new(rules).await;
    let mut editor = fixture.editor(json!({}), capabilities()).await;
    let turn_tokens = (USAGE.0 + USAGE.1) as i64;

    for turn in 1..=2 {
        let (thread_id, turn_id) = ask(&mut editor, json!({ "prompt": "say hello" })).await;
        editor.turn_completed(&turn_id).await;
        let status = editor.command("codex.status", json!({})).await.unwrap();
        let usage = &status["tokenUsage"][&thread_id];
        // The thread's figures add up over its turns; a turn's own are the mock's usage.
        assert_eq!(usage["totalTokens"], turn_tokens * turn, "{status:#}");
        assert_eq!(usage["inputTokens"], USAGE.0 as i64 * turn, "{status:#}");
        assert_eq!(usage["outputTokens"], USAGE.1 as i64 * turn, "{status:#}");
        assert_eq!(usage["lastRequestTokens"], turn_tokens, "{status:#}");
        let window = usage["modelContextWindow"]
            .as_i64()
            .unwrap_or_else(|| panic!("no context window: {status:#}"));
        assert_eq!(usage["contextPercent"], percent_of(window), "{status:#}");
        assert!(percent_of(window) > 0, "a real share of {window}");
        assert_eq!(status["model"]["model"], MODEL, "{status:#}");
        assert_eq!(status["statusLine"]["threadTokens"], turn_tokens * turn);

        let progress = progress_messages(&editor, &turn_id);
        let end = progress.last().unwrap();
        assert_eq!(end["kind"], "end", "{progress:#?}");
        let message = end["message"].as_str().unwrap();
        assert!(
            message.starts_with("Hello from the mock. — done in ")
                && message.ends_with(&format!(
                    " s · {}k tokens · {}% of context",
                    (turn_tokens + 500) / 1000,
                    percent_of(window)
                )),
            "turn {turn}: {message}"
        );

        // The status line heard of the turn's usage.
        let heard = status_notifications(&editor);
        let last = heard.last().unwrap_or_else(|| panic!("no codex/status"));
        assert_eq!(last["threadId"], thread_id.as_str(), "{heard:#?}");
        assert_eq!(last["threadTokens"], turn_tokens * turn, "{heard:#?}");
        assert_eq!(last["model"], MODEL, "{heard:#?}");
        let text = last["text"].as_str().unwrap();
        assert!(
            text.starts_with(MODEL) && text.contains("% of context"),
            "{text}"
        );
    }
    editor.shutdown().await;
}

const PLAN_PROMPT: &str = "make a plan";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_shows_in_progress_and_as_a_checklist_in_the_transcript() {
    let fixture = Fixture::new(vec![Rule::new(
        PLAN_PROMPT,
        vec![
            Reply::update_plan(
                "three steps",
                &[
                    ("read the code", "completed"),
                    ("run the tests", "in_progress"),
                    ("fix them", "pending"),
                ],
            ),
            Reply::slow_text("Planned.", std::time::Duration::from_millis(300)),
        ],
    )])
    .await;
    let mut editor = fixture
        .editor(
            // The scripted model's family offers no `update_plan` unless told to.
            json!({ "config": { "tools.update_plan.enabled": true } }),
            capabilities(),
        )
        .await;
    let (thread_id, turn_id) = ask(&mut editor, json!({ "prompt": PLAN_PROMPT })).await;
    editor.turn_completed(&turn_id).await;
    let progress = progress_messages(&editor, &turn_id);
    assert!(
        progress.iter().any(|p| p["kind"] == "report"
            && p["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("step 2/3: run the tests"))),
        "{progress:#?}"
    );
    let transcript = editor
        .command("codex.transcript", json!({ "threadId": thread_id }))
        .await
        .unwrap();
    let text = transcript["markdown"]
        .as_str()
        .or_else(|| transcript.as_str())
        .unwrap_or_else(|| panic!("{transcript:#}"));
    assert!(
        text.contains("- [x] read the code\n- [ ] run the tests *(in progress)*\n- [ ] fix them\n"),
        "{text}"
    );
    editor.shutdown().await;
}

/// The model and effort of the provider's requests, in order.
fn requested(fixture: &Fixture) -> Vec<(String, String)> {
    fixture
        .provider
        .requests()
        .iter()
        .map(|r| {
            (
                r["model"].as_str().unwrap_or_default().to_string(),
                r["reasoning"]["effort"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_model_reaches_the_provider_at_the_next_turn() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), capabilities()).await;
    ask_and_wait(&mut editor, "say hello").await;
    assert_eq!(requested(&fixture).last().unwrap().0, MODEL);

    let (model, effort, efforts) = another_model_of(&mut editor).await;
    let set = editor
        .command(
            "codex.setModel",
            json!({ "model": model, "effort": effort }),
        )
        .await
        .unwrap();
    assert_eq!(set["model"], model.as_str(), "{set:#}");
    assert_eq!(set["effort"], effort.as_str(), "{set:#}");
    let status = editor.command("codex.status", json!({})).await.unwrap();
    assert_eq!(status["model"]["model"], model.as_str(), "{status:#}");
    assert_eq!(status["model"]["effort"], effort.as_str(), "{status:#}");
    assert_eq!(status["model"]["chosen"], true, "{status:#}");
    let heard = status_notifications(&editor);
    assert_eq!(heard.last().unwrap()["model"], model.as_str(), "{heard:#?}");

    ask_and_wait(&mut editor, "say hello").await;
    assert_eq!(
        requested(&fixture).last().unwrap(),
        &(model.clone(), effort.clone())
    );

    // Refused, with what is offered; nothing changes.
    let unknown = editor
        .command("codex.setModel", json!({ "model": "no-such-model" }))
        .await
        .unwrap_err();
    assert_eq!(unknown["code"], -32602, "{unknown:#}");
    let message = unknown["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "codex.setModel: the app-server offers no model `no-such-model`; it offers: "
        ) && message.contains(&model),
        "{message}"
    );
    let bad_effort = editor
        .command("codex.setModel", json!({ "effort": "ludicrous" }))
        .await
        .unwrap_err();
    assert_eq!(bad_effort["code"], -32602, "{bad_effort:#}");
    assert_eq!(
        bad_effort["message"],
        format!(
            "codex.setModel: `{model}` takes no effort `ludicrous`; it takes: {}",
            efforts.join(", ")
        )
    );
    let status = editor.command("codex.status", json!({})).await.unwrap();
    assert_eq!(status["model"]["model"], model.as_str(), "{status:#}");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_model_without_arguments_lets_the_user_pick() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), capabilities()).await;
    let (model, effort, _) = another_model_of(&mut editor).await;
    let (picked_model, picked_effort) = (model.clone(), effort.clone());
    editor.answer_with(move |method, params| match method {
        "window/showMessageRequest" => {
            let message = params["message"].as_str().unwrap_or_default();
            let title = if message.starts_with("Codex model") {
                &picked_model
            } else {
                &picked_effort
            };
            json!({ "title": title })
        }
        _ => Value::Null,
    });
    let set = editor.command("codex.setModel", json!({})).await.unwrap();
    assert_eq!(set["model"], model.as_str(), "{set:#}");
    assert_eq!(set["effort"], effort.as_str(), "{set:#}");
    let prompts = editor.server_requests_of("window/showMessageRequest");
    assert_eq!(prompts.len(), 2, "{prompts:#?}");
    let offered = prompts[0]["params"]["actions"].as_array().unwrap();
    assert!(
        offered.iter().any(|a| a["title"] == MODEL)
            && offered.iter().any(|a| a["title"] == model.as_str()),
        "{offered:#?}"
    );
    ask_and_wait(&mut editor, "say hello").await;
    assert_eq!(requested(&fixture).last().unwrap(), &(model, effort));
    editor.shutdown().await;
}

/// An editor without `window/showMessageRequest` (Helix 25.01): `codex.setModel` with no
/// arguments offers the models and efforts as code actions, which set them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_model_without_prompts_offers_code_actions() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), capabilities()).await;
    let (model, _, _) = another_model_of(&mut editor).await;
    editor.answer_with(|method, _| match method {
        "window/showMessageRequest" => error_answer(-32601, "Method not found"),
        _ => Value::Null,
    });
    let offered = editor.command("codex.setModel", json!({})).await.unwrap();
    assert_eq!(offered["changed"], false, "{offered:#}");
    let title = format!("Codex: use model {model}");
    assert!(
        offered["offered"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| *t == title.as_str()),
        "{offered:#}"
    );
    let uri = fixture.file_uri("a.txt");
    editor.open_buffer(&uri, "text\n").await;
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
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == title.as_str())
        .unwrap_or_else(|| panic!("no {title:?} in {actions:#}"));
    let command = &action["command"];
    let set = editor
        .request(
            "workspace/executeCommand",
            json!({ "command": command["command"], "arguments": command["arguments"] }),
        )
        .await
        .unwrap();
    assert_eq!(set["model"], model.as_str(), "{set:#}");
    ask_and_wait(&mut editor, "say hello").await;
    assert_eq!(requested(&fixture).last().unwrap().0, model);
    editor.shutdown().await;
}
