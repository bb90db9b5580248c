//! Settings sources (issue 15.1): a source that says nothing never resets what another
//! source set. Helix and Emacs push `workspace/didChangeConfiguration` at start and answer
//! `workspace/configuration` with null; the user's `initializationOptions` must survive
//! that, all the way to the app-server (an approval is asked before a command runs).

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_provider::{Reply, Rule};
use serde_json::{json, Value};
use support::{defer, progress_capabilities, Editor, Fixture, WAIT};

const MODEL: &str = "gpt-user-chosen-7";

fn rules() -> Vec<Rule> {
    vec![
        Rule::new(
            "make the sentinel",
            vec![
                Reply::exec("touch SENTINEL"),
                Reply::text("sentinel handled"),
            ],
        ),
        Rule::new("say hello", vec![Reply::text("hello")]),
    ]
}

/// Polls `codex.status` until `pred` holds for its `settings`; bounded by WAIT.
async fn settings_become(editor: &mut Editor, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let status = editor.command("codex.status", json!({})).await.unwrap();
        if pred(&status["settings"]) {
            return status["settings"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "settings never became {what}: {:#}",
            status["settings"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asks for `touch SENTINEL` and proves the app-server asked first: the prompt comes while
/// SENTINEL does not exist, and it exists only after "Accept".
async fn sentinel_needs_approval(editor: &mut Editor, fixture: &Fixture, marker: &str) {
    editor.answer_with(defer("window/showMessageRequest"));
    let sentinel = fixture.workspace.join("SENTINEL");
    let _ = std::fs::remove_file(&sentinel);
    let before = editor.server_requests_of("window/showMessageRequest").len();
    let started = editor
        .command(
            "codex.ask",
            json!({ "prompt": format!("make the sentinel {marker}") }),
        )
        .await
        .expect("codex.ask");
    let turn = started["turnId"].as_str().unwrap().to_string();
    let prompt = editor
        .wait_for("the approval prompt", || {
            editor
                .server_requests_of("window/showMessageRequest")
                .into_iter()
                .nth(before)
        })
        .await;
    let message = prompt["params"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("touch SENTINEL"), "{prompt:#}");
    assert!(
        !sentinel.exists(),
        "the command ran before it was approved (approvalPolicy lost)"
    );
    editor
        .answer_later(&prompt["id"], json!({ "title": "Accept" }))
        .await;
    let done = editor.turn_completed(&turn).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert!(sentinel.exists(), "accepted, the command runs: {done:#}");
    // The user's model reached the provider for this turn.
    let models: Vec<String> = fixture
        .provider
        .requests()
        .iter()
        .filter(|body| body.to_string().contains(marker))
        .map(|body| body["model"].as_str().unwrap_or("<none>").to_string())
        .collect();
    assert!(
        !models.is_empty() && models.iter().all(|m| m == MODEL),
        "{models:?}"
    );
    // The app-server ran the turn in the user's sandbox: its request metadata says so.
    let bodies: Vec<String> = fixture
        .provider
        .requests()
        .iter()
        .map(|body| body.to_string())
        .filter(|body| body.contains(marker))
        .collect();
    for body in &bodies {
        assert!(
            body.contains(r#"sandbox_mode\":\"danger-full-access"#),
            "the user's sandbox in the provider request: {body}"
        );
    }
}

fn user_options() -> Value {
    json!({ "approvalPolicy": "untrusted", "model": MODEL, "sandbox": "danger-full-access",
            "approvalTimeout": 123 })
}

fn user_settings_kept(settings: &Value) {
    assert_eq!(settings["approvalPolicy"], "untrusted", "{settings:#}");
    assert_eq!(settings["model"], MODEL, "{settings:#}");
    assert_eq!(settings["sandbox"], "danger-full-access", "{settings:#}");
}

/// Answers each `workspace/configuration` with the next of `answers` (the last one again
/// once they run out).
fn answer_configuration(editor: &Editor, answers: &Arc<Mutex<Vec<Value>>>) {
    let pending = answers.clone();
    let mut last = json!(null);
    editor.answer_with(move |method, _| match method {
        "workspace/configuration" => {
            let mut pending = pending.lock().unwrap();
            if !pending.is_empty() {
                last = pending.remove(0);
            }
            last.clone()
        }
        _ => Value::Null,
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_pulled_configuration_keeps_the_initialization_options() {
    let fixture = Fixture::new(rules()).await;
    let mut capabilities = progress_capabilities();
    capabilities["workspace"] = json!({ "configuration": true });
    let mut editor = fixture.editor(user_options(), capabilities).await;
    // What Helix and Emacs answer (no `codex` section), then one explicit value.
    let answers = Arc::new(Mutex::new(vec![
        json!(null),
        json!([null]),
        json!([{}]),
        json!([{ "model": null }]),
        json!([{ "streamEvents": true }]),
    ]));
    answer_configuration(&editor, &answers);
    for pushed in [
        json!({ "settings": null }),
        json!({}),
        json!({ "settings": { "codex": null } }),
        json!({ "settings": {} }),
    ] {
        // Counted before the change: the pull may come before `notify` returns.
        let asked = editor.server_requests_of("workspace/configuration").len();
        editor
            .notify("workspace/didChangeConfiguration", pushed)
            .await;
        editor
            .wait_for("the pull", || {
                (editor.server_requests_of("workspace/configuration").len() > asked).then_some(())
            })
            .await;
    }
    let settings = settings_become(&mut editor, "untrusted after silence", |s| {
        s["approvalPolicy"] == "untrusted"
    })
    .await;
    user_settings_kept(&settings);
    // The fifth change says something: it applies, and the rest stays.
    editor
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": null }),
        )
        .await;
    let settings = settings_become(&mut editor, "streamEvents from the pull", |s| {
        s["streamEvents"] == true
    })
    .await;
    user_settings_kept(&settings);
    assert_eq!(settings["approvalTimeout"], 123.0, "{settings:#}");
    let warnings = editor.shown_messages();
    assert!(warnings.is_empty(), "nothing to warn about: {warnings:#?}");

    sentinel_needs_approval(&mut editor, &fixture, "PULLED_41a").await;

    // An explicit pulled value does change a setting.
    answer_configuration(&editor, &answers);
    answers
        .lock()
        .unwrap()
        .push(json!([{ "approvalPolicy": "on-request" }]));
    editor
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": null }),
        )
        .await;
    let settings = settings_become(&mut editor, "on-request from the pull", |s| {
        s["approvalPolicy"] == "on-request"
    })
    .await;
    assert_eq!(settings["model"], MODEL, "{settings:#}");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_pushed_settings_keep_the_initialization_options() {
    let fixture = Fixture::new(rules()).await;
    // No `workspace.configuration`: the pushed settings are all there is.
    let mut editor = fixture
        .editor(user_options(), progress_capabilities())
        .await;
    for pushed in [
        json!({ "settings": null }),
        json!({}),
        json!({ "settings": { "codex": null } }),
        json!({ "settings": { "codex": {} } }),
        json!({ "settings": { "codex": { "approvalPolicy": null, "sandbox": null } } }),
        json!({ "settings": { "codex": { "streamEvents": true } } }),
    ] {
        editor
            .notify("workspace/didChangeConfiguration", pushed)
            .await;
    }
    let settings = settings_become(&mut editor, "streamEvents pushed", |s| {
        s["streamEvents"] == true
    })
    .await;
    user_settings_kept(&settings);
    sentinel_needs_approval(&mut editor, &fixture, "PUSHED_41a").await;

    // An explicit pushed value changes the setting; a bad one leaves the value as it was.
    editor
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": { "codex": { "approvalPolicy": "on-request", "sandbox": "yolo" } } }),
        )
        .await;
    let settings = settings_become(&mut editor, "on-request pushed", |s| {
        s["approvalPolicy"] == "on-request"
    })
    .await;
    assert_eq!(settings["sandbox"], "danger-full-access", "{settings:#}");
    let warning = editor.wait_message("`sandbox`").await;
    assert!(warning.contains("\"yolo\""), "{warning}");
    editor.shutdown().await;
}

/// Two quick configuration changes whose pulls the editor answers out of order: the newer
/// answer wins, and the older one, arriving last, does not bring back what it said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_pulled_answer_never_overrides_a_newer_one() {
    let fixture = Fixture::new(rules()).await;
    let mut capabilities = progress_capabilities();
    capabilities["workspace"] = json!({ "configuration": true });
    let mut editor = fixture.editor(user_options(), capabilities).await;
    editor.answer_with(defer("workspace/configuration"));
    let mut pulls = Vec::new();
    for _ in 0..2 {
        let asked = editor.server_requests_of("workspace/configuration").len();
        editor
            .notify(
                "workspace/didChangeConfiguration",
                json!({ "settings": null }),
            )
            .await;
        let pull = editor
            .wait_for("the pull", || {
                editor
                    .server_requests_of("workspace/configuration")
                    .get(asked)
                    .cloned()
            })
            .await;
        pulls.push(pull["id"].clone());
    }
    editor
        .answer_later(&pulls[1], json!([{ "model": "gpt-newer" }]))
        .await;
    settings_become(&mut editor, "the newer pull's model", |s| {
        s["model"] == "gpt-newer"
    })
    .await;
    editor
        .answer_later(
            &pulls[0],
            json!([{ "model": "gpt-older", "approvalTimeout": 77 }]),
        )
        .await;
    // The stale answer would apply within milliseconds of arriving; watch for a while.
    let until = Instant::now() + Duration::from_millis(600);
    while Instant::now() < until {
        let status = editor.command("codex.status", json!({})).await.unwrap();
        let settings = &status["settings"];
        assert_eq!(settings["model"], "gpt-newer", "{settings:#}");
        assert_eq!(settings["approvalTimeout"], 123.0, "{settings:#}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    editor.shutdown().await;
}
