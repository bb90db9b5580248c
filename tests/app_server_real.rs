//! The app-server client against the REAL `codex app-server` (the pinned runtime) and a
//! scripted Responses-API provider on 127.0.0.1: no network, no account.

mod app_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use app_support::{within, TestEnv};
use codex_lsp::app_server::connection::ServerAnswer;
use codex_lsp::app_server::protocol::{self as p, ServerNotification, ThreadItem, TurnStartParams};
use codex_lsp::app_server::{Codex, IncomingRequest, ServerRequestHandler, TurnResult};
use futures::future::BoxFuture;
use mock_provider::{PatchBuilder, Reply, Rule};
use serde_json::{json, Value};

async fn start_thread(codex: &Codex, env: &TestEnv, approval: &str, sandbox: &str) -> String {
    let params: p::ThreadStartParams = serde_json::from_value(json!({
        "cwd": env.cwd(), "approvalPolicy": approval, "sandbox": sandbox,
    }))
    .unwrap();
    codex.send(&params).await.expect("thread/start").thread.id
}

fn turn_params(thread_id: &str, prompt: &str) -> TurnStartParams {
    serde_json::from_value(json!({
        "threadId": thread_id,
        "input": [{ "type": "text", "text": prompt, "text_elements": [] }],
    }))
    .unwrap()
}

async fn run_turn(codex: &Codex, thread_id: &str, prompt: &str) -> TurnResult {
    let handle = codex
        .turn_start(&turn_params(thread_id, prompt))
        .await
        .expect("turn/start");
    within("the turn", 60, handle.run())
        .await
        .expect("turn result")
}

fn status(result: &TurnResult) -> String {
    serde_json::to_value(&result.status)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_turn_returns_a_full_turn_result() {
    let env = TestEnv::new(vec![Rule::new(
        "say hello",
        vec![Reply::text("Hello there, friend of the editor.")],
    )])
    .await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    // The version the runtime itself reports (the pinned one, or npm's in the second pass).
    let out = std::process::Command::new(&env.runtime.codex)
        .arg("--version")
        .output()
        .unwrap();
    let reported = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        Some(codex.info().version.as_ref().unwrap().to_string().as_str()),
        reported.trim().strip_prefix("codex-cli "),
    );
    let thread = start_thread(&codex, &env, "never", "workspace-write").await;
    let result = run_turn(&codex, &thread, "please say hello").await;

    assert_eq!(status(&result), "completed");
    assert_eq!(result.thread_id, thread);
    assert!(!result.turn_id.is_empty());
    assert_eq!(result.final_response, "Hello there, friend of the editor.");
    assert!(result.error.is_none());
    assert!(result.started_at.is_some() && result.completed_at.is_some());
    assert!(result.duration_ms.is_some());
    assert!(!result.recovered_by_watchdog);
    assert!(result.items.iter().any(
        |item| matches!(item, ThreadItem::AgentMessage(m) if m.text == result.final_response)
    ));
    let usage = serde_json::to_value(result.usage.as_ref().expect("usage")).unwrap();
    assert_eq!(usage["last"]["totalTokens"], 11, "{usage}");
    // The provider really was asked, with our prompt.
    let requests = env.provider.requests();
    assert!(requests
        .iter()
        .any(|r| r.to_string().contains("please say hello")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_turns_on_two_threads_stream_at_once_each_to_its_own_handle() {
    let env = TestEnv::new(vec![
        Rule::new(
            "thread A",
            vec![Reply::slow_text(
                "alpha reply for A",
                Duration::from_millis(80),
            )],
        ),
        Rule::new(
            "thread B",
            vec![Reply::slow_text(
                "beta reply for B",
                Duration::from_millis(80),
            )],
        ),
    ])
    .await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let a = start_thread(&codex, &env, "never", "workspace-write").await;
    let b = start_thread(&codex, &env, "never", "workspace-write").await;
    let turn_a = codex
        .turn_start(&turn_params(&a, "work on thread A"))
        .await
        .unwrap();
    let turn_b = codex
        .turn_start(&turn_params(&b, "work on thread B"))
        .await
        .unwrap();

    let collect = |mut handle: codex_lsp::app_server::TurnHandle| async move {
        let mut deltas = String::new();
        let mut threads = std::collections::HashSet::new();
        let mut first_delta_at = None;
        while let Some(event) = handle.next_event().await {
            let event = event.unwrap();
            threads.insert(
                event.params_value()["threadId"]
                    .as_str()
                    .map(str::to_string),
            );
            if let ServerNotification::AgentMessageDelta(d) = event.decode() {
                first_delta_at.get_or_insert_with(std::time::Instant::now);
                deltas.push_str(&d.delta);
            }
        }
        (
            deltas,
            threads,
            first_delta_at.unwrap(),
            std::time::Instant::now(),
        )
    };
    let ((text_a, threads_a, start_a, end_a), (text_b, threads_b, start_b, end_b)) =
        within("both turns", 60, async {
            tokio::join!(collect(turn_a), collect(turn_b))
        })
        .await;
    assert_eq!(text_a, "alpha reply for A");
    assert_eq!(text_b, "beta reply for B");
    assert_eq!(threads_a, [Some(a.clone())].into_iter().collect());
    assert_eq!(threads_b, [Some(b.clone())].into_iter().collect());
    // They overlapped in time: each started streaming before the other finished.
    assert!(
        start_a < end_b && start_b < end_a,
        "the turns ran one after the other"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_patch_adds_updates_and_deletes_files_on_disk() {
    let patch = PatchBuilder::new()
        .add("new.txt", "fresh line\n")
        .update("old.txt", "alpha\n", "ALPHA\n")
        .delete("gone.txt")
        .into_reply();
    let env = TestEnv::new(vec![Rule::new(
        "patch it",
        vec![patch, Reply::text("patched")],
    )])
    .await;
    std::fs::write(env.path("old.txt"), "alpha\nbeta\n").unwrap();
    std::fs::write(env.path("gone.txt"), "bye\n").unwrap();
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let thread = start_thread(&codex, &env, "never", "workspace-write").await;
    let result = run_turn(&codex, &thread, "patch it please").await;

    assert_eq!(status(&result), "completed");
    assert_eq!(result.final_response, "patched");
    let change = result
        .items
        .iter()
        .find_map(|item| match item {
            ThreadItem::FileChange(change) => Some(serde_json::to_value(change).unwrap()),
            _ => None,
        })
        .expect("a fileChange item");
    let kinds: Vec<_> = change["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"]["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds.len(), 3, "{change}");
    for kind in ["add", "update", "delete"] {
        assert!(kinds.contains(&kind.to_string()), "{change}");
    }
    assert_eq!(
        std::fs::read_to_string(env.path("new.txt")).unwrap(),
        "fresh line\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.path("old.txt")).unwrap(),
        "ALPHA\nbeta\n"
    );
    assert!(!env.path("gone.txt").exists());
}

/// Answers every approval with one decision and records what was asked.
struct Decide {
    decision: &'static str,
    asked: Mutex<Vec<(String, Value)>>,
}

impl ServerRequestHandler for Decide {
    fn handle(&self, request: IncomingRequest) -> BoxFuture<'static, ServerAnswer> {
        self.asked
            .lock()
            .unwrap()
            .push((request.method.clone(), request.params.clone()));
        let decision = self.decision;
        Box::pin(async move { Ok(json!({ "decision": decision })) })
    }
}

async fn patch_with_approval(
    decision: &'static str,
) -> (TestEnv, TurnResult, Vec<String>, Arc<Decide>) {
    let env = TestEnv::new(vec![Rule::new(
        "guarded edit",
        vec![
            Reply::apply_patch_add("guarded.txt", "written\n"),
            Reply::text("after the patch"),
        ],
    )])
    .await;
    let handler = Arc::new(Decide {
        decision,
        asked: Mutex::new(Vec::new()),
    });
    let codex = env.codex(handler.clone()).await;
    let thread = start_thread(&codex, &env, "on-request", "read-only").await;
    let mut handle = codex
        .turn_start(&turn_params(&thread, "a guarded edit"))
        .await
        .unwrap();
    let mut methods = Vec::new();
    let mut collector =
        codex_lsp::app_server::TurnCollector::new(&handle.thread_id, &handle.turn_id);
    within("the guarded turn", 60, async {
        while let Some(event) = handle.next_event().await {
            let event = event.unwrap();
            collector.observe(&event);
            let kind = event.params_value()["item"]["type"].clone();
            methods.push(format!(
                "{} {}",
                event.method(),
                kind.as_str().unwrap_or("")
            ));
        }
    })
    .await;
    (env, collector.finish().unwrap(), methods, handler)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_file_change_is_written() {
    let (env, result, _, handler) = patch_with_approval("accept").await;
    assert_eq!(
        handler.asked.lock().unwrap()[0].0,
        "item/fileChange/requestApproval"
    );
    assert_eq!(status(&result), "completed");
    assert_eq!(
        std::fs::read_to_string(env.path("guarded.txt")).unwrap(),
        "written\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_file_change_is_not_written_and_the_turn_goes_on() {
    let (env, result, _, handler) = patch_with_approval("decline").await;
    assert_eq!(handler.asked.lock().unwrap().len(), 1);
    assert_eq!(status(&result), "completed");
    assert_eq!(result.final_response, "after the patch");
    assert!(!env.path("guarded.txt").exists());
    let change = result
        .items
        .iter()
        .find_map(|item| match item {
            ThreadItem::FileChange(c) => Some(serde_json::to_value(c).unwrap()),
            _ => None,
        })
        .expect("the declined change is still an item");
    assert_eq!(change["status"], "declined", "{change}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_file_change_interrupts_the_turn_and_we_still_finish() {
    let (env, result, methods, _) = patch_with_approval("cancel").await;
    assert_eq!(status(&result), "interrupted");
    assert!(!env.path("guarded.txt").exists());
    assert!(
        methods.contains(&"item/started fileChange".to_string()),
        "{methods:?}"
    );
    assert!(
        !methods.contains(&"item/completed fileChange".to_string()),
        "cancel leaves the fileChange item without item/completed: {methods:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_approval_offers_its_decisions_and_a_decline_stops_the_command() {
    let env = TestEnv::new(vec![Rule::new(
        "make a file",
        vec![
            Reply::exec_escalated("touch escalated.txt", "needs to write"),
            Reply::text("tried"),
        ],
    )])
    .await;
    let handler = Arc::new(Decide {
        decision: "decline",
        asked: Mutex::new(Vec::new()),
    });
    let codex = env.codex(handler.clone()).await;
    let thread = start_thread(&codex, &env, "on-request", "read-only").await;
    let result = run_turn(&codex, &thread, "make a file now").await;
    assert_eq!(status(&result), "completed");
    let asked = handler.asked.lock().unwrap().clone();
    assert_eq!(asked[0].0, "item/commandExecution/requestApproval");
    assert!(
        asked[0].1["availableDecisions"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        "{:?}",
        asked[0].1
    );
    assert!(
        !env.path("escalated.txt").exists(),
        "a declined command must not run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_ends_the_turn_interrupted() {
    let env = TestEnv::new(vec![Rule::new("never ends", vec![Reply::Hang])]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let thread = start_thread(&codex, &env, "never", "workspace-write").await;
    let mut handle = codex
        .turn_start(&turn_params(&thread, "this never ends"))
        .await
        .unwrap();
    within("turn/started", 30, async {
        loop {
            let event = handle.next_event().await.unwrap().unwrap();
            if event.method() == "turn/started" {
                break;
            }
        }
    })
    .await;
    handle.interrupt().await.expect("turn/interrupt");
    let result = within("the interrupted turn", 30, handle.run())
        .await
        .unwrap();
    assert_eq!(status(&result), "interrupted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_failure_ends_the_turn_failed_with_its_error_info() {
    let env = TestEnv::new(vec![Rule::new("overload me", vec![Reply::Overloaded])]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let thread = start_thread(&codex, &env, "never", "workspace-write").await;
    let result = run_turn(&codex, &thread, "please overload me").await;
    assert_eq!(status(&result), "failed");
    let error = serde_json::to_value(result.error.as_ref().expect("an error")).unwrap();
    assert_eq!(error["codexErrorInfo"], "serverOverloaded", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("capacity"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_server_killed_mid_turn_is_a_transport_error_not_a_hang() {
    let env = TestEnv::new(vec![Rule::new("long job", vec![Reply::Hang])]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let thread = start_thread(&codex, &env, "never", "workspace-write").await;
    let mut handle = codex
        .turn_start(&turn_params(&thread, "a long job"))
        .await
        .unwrap();
    within("turn/started", 30, async {
        while handle.next_event().await.unwrap().unwrap().method() != "turn/started" {}
    })
    .await;
    // The app-server and all it started (npm's wrapper and the native binary under it): the
    // child leads its own process group.
    let pid = codex.connection().peer_pid().expect("a spawned child");
    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
    let err = within("the killed turn", 20, handle.run())
        .await
        .unwrap_err();
    assert!(err.is_transport_closed(), "{err:?}");
    assert!(err.to_string().contains("signal 9"), "{err}");
    let err = codex.model_list().await.unwrap_err();
    assert!(err.is_transport_closed(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_by_api_key_round_trip_and_logout() {
    let env = TestEnv::new(vec![]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let mut events = codex.connection().subscribe_all();
    let auth_file = env.codex_home.path().join("auth.json");
    assert!(!auth_file.exists());

    within("login", 20, codex.login_api_key("sk-test-not-a-real-key"))
        .await
        .unwrap();
    let auth_mode = |events: &mut codex_lsp::app_server::connection::NotificationReceiver| {
        let mut found = None;
        while let Ok(event) = events.try_recv() {
            if event.method == "account/updated" {
                found = Some(event.params_value()["authMode"].clone());
            }
        }
        found
    };
    within("account/updated", 10, async {
        while !auth_file.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(auth_mode(&mut events), Some(json!("apikey")));
    assert!(std::fs::read_to_string(&auth_file)
        .unwrap()
        .contains("sk-test-not-a-real-key"));

    codex.logout().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(auth_mode(&mut events), Some(Value::Null));
    assert!(!auth_file.exists(), "logout removes the stored key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_list_read_resume_and_models() {
    let env = TestEnv::new(vec![Rule::new("remember", vec![Reply::text("noted")])]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let thread = start_thread(&codex, &env, "never", "workspace-write").await;
    run_turn(&codex, &thread, "remember this").await;
    let list = codex
        .send(&p::ThreadListParams {
            cwd: Some(json!(env.cwd())),
            ..Default::default()
        })
        .await
        .unwrap();
    let listed = serde_json::to_value(&list).unwrap();
    assert!(listed.to_string().contains(&thread), "{listed}");
    let read = codex.thread_read(&thread, true).await.unwrap();
    assert_eq!(read.turns.len(), 1);
    codex
        .thread_set_name(&thread, "named by test")
        .await
        .unwrap();
    let resumed = codex
        .send(&p::ThreadResumeParams {
            thread_id: thread.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(resumed.thread.id, thread);
    let models = codex.model_list().await.unwrap();
    assert!(!models.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_turn_overrides_and_rich_inputs_reach_the_model() {
    let env = TestEnv::new(vec![Rule::new(
        "with overrides",
        vec![Reply::text("{\"ok\":true}")],
    )])
    .await;
    // A 1×1 PNG for the local image input.
    let png: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0x0D, 0x49, 0x44,
        0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xFF, 0xFF, 0x3F, 0, 0x05, 0xFE, 0x02, 0xFE, 0xA7,
        0x35, 0x81, 0x84, 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    std::fs::write(env.path("pixel.png"), png).unwrap();
    std::fs::write(env.path("notes.md"), "# notes\n").unwrap();
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let thread = start_thread(&codex, &env, "never", "workspace-write").await;
    let params: TurnStartParams = serde_json::from_value(json!({
        "threadId": thread,
        "input": [
            { "type": "text", "text": "answer with overrides", "text_elements": [] },
            { "type": "localImage", "path": env.path("pixel.png").display().to_string() },
            { "type": "mention", "name": "notes.md", "path": env.path("notes.md").display().to_string() },
        ],
        "model": "gpt-5.5",
        "effort": "high",
        "outputSchema": { "type": "object", "properties": { "ok": { "type": "boolean" } },
                          "required": ["ok"], "additionalProperties": false },
        "additionalContext": { "editor/unsaved": { "kind": "untrusted",
                               "value": "UNSAVED-BUFFER-MARKER" } },
    }))
    .unwrap();
    let handle = codex
        .turn_start(&params)
        .await
        .expect("turn/start with overrides");
    let result = within("the turn", 60, handle.run()).await.unwrap();
    assert_eq!(status(&result), "completed");
    assert_eq!(result.final_response, "{\"ok\":true}");

    let request = env
        .provider
        .requests()
        .into_iter()
        .find(|r| r.to_string().contains("answer with overrides"))
        .expect("the provider saw the turn");
    let body = request.to_string();
    assert_eq!(request["model"], "gpt-5.5");
    assert_eq!(
        request["reasoning"]["effort"], "high",
        "{}",
        request["reasoning"]
    );
    assert!(
        request["text"]["format"]["schema"]["required"] == json!(["ok"]),
        "{}",
        request["text"]
    );
    assert!(
        body.contains("UNSAVED-BUFFER-MARKER"),
        "additionalContext reached the model"
    );
    let input = request["input"].to_string();
    assert!(
        input.contains("image"),
        "the image reached the model: {}",
        &input[input.len().saturating_sub(1500)..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_fork_compact_and_archive() {
    let env = TestEnv::new(vec![Rule::new("first", vec![Reply::text("one")])]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let thread = start_thread(&codex, &env, "never", "workspace-write").await;
    run_turn(&codex, &thread, "first question").await;

    let fork = codex
        .send(&p::ThreadForkParams {
            thread_id: thread.clone(),
            ..Default::default()
        })
        .await
        .expect("thread/fork");
    assert_ne!(fork.thread.id, thread);
    assert_eq!(fork.thread.forked_from_id.as_deref(), Some(thread.as_str()));

    codex
        .thread_compact(&thread)
        .await
        .expect("thread/compact/start");
    codex
        .thread_archive(&fork.thread.id)
        .await
        .expect("thread/archive");
    let list = codex
        .send(&p::ThreadListParams {
            cwd: Some(json!(env.cwd())),
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<String> = serde_json::to_value(&list).unwrap()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&thread), "{ids:?}");
    assert!(
        !ids.contains(&fork.thread.id),
        "archived threads are not listed: {ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chatgpt_login_hands_out_its_url_and_can_be_cancelled() {
    let env = TestEnv::new(vec![]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let login = codex
        .login_chatgpt()
        .await
        .expect("account/login/start chatgpt");
    let url = login.auth_url.clone().expect("an auth URL");
    assert!(url.contains("oauth/authorize"), "{url}");
    assert!(
        url.contains("127.0.0.1%3A1455"),
        "the callback listens locally: {url}"
    );
    assert!(!login.login_id.is_empty());
    login.cancel().await.expect("account/login/cancel");
    let outcome = within("the cancelled login", 20, login.wait())
        .await
        .unwrap();
    assert!(!outcome.success);
    assert!(outcome.error.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_runs_as_a_turn_and_finishes() {
    let env = TestEnv::new(vec![]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let thread = start_thread(&codex, &env, "never", "workspace-write").await;
    let params = serde_json::from_value(json!({
        "threadId": thread,
        "target": { "type": "custom", "instructions": "look at nothing in particular" },
    }))
    .unwrap();
    let handle = codex.review_start(&params).await.expect("review/start");
    let result = within("the review", 60, handle.run()).await.unwrap();
    assert_eq!(status(&result), "completed", "{result:?}");
    assert!(
        result
            .items
            .iter()
            .any(|item| matches!(item, ThreadItem::ExitedReviewMode(_))),
        "{:?}",
        result.items
    );
}
