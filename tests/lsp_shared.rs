//! End to end: codex-lsp on a shared app-server (`appServer` = `unix://…` or `ws://…`) that
//! the test starts itself — the real `codex app-server --listen …` over the scripted
//! provider. Turns through each transport, tokens refused with a clear message, the server
//! killed and restarted under a session, and two sessions following one thread.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::shared_server::{free_port, Listen, SharedAppServer};
use support::{editing_capabilities, progress_capabilities, rules, Editor, Fixture};

use mock_provider::{PatchBuilder, Reply, Rule};

const TOKEN: &str = "capability-token-for-the-test-3f9a";

/// Asks with `wait: true`; returns the TurnResult.
async fn ask_and_wait(editor: &mut Editor, prompt: &str) -> Value {
    editor
        .command("codex.ask", json!({ "prompt": prompt, "wait": true }))
        .await
        .unwrap_or_else(|e| panic!("codex.ask {prompt:?} failed: {e:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_through_the_daemons_default_unix_socket() {
    let fixture = Fixture::new(rules()).await;
    let server = SharedAppServer::start(&fixture, Listen::Unix(None)).await;
    let mut editor = fixture
        .editor(json!({ "appServer": "unix://" }), progress_capabilities())
        .await;

    let done = ask_and_wait(&mut editor, "say hello").await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(done["finalResponse"], "Hello from the mock.\nSecond line.");

    let status = editor.command("codex.status", Value::Null).await.unwrap();
    let endpoint = format!("unix://{}", server.socket_path(&fixture).display());
    assert_eq!(status["appServer"]["endpoint"], endpoint, "{status:#}");
    assert!(
        editor.app_server_pids().is_empty(),
        "codex-lsp spawned an app-server of its own"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_with_a_token_runs_a_turn_and_a_wrong_or_missing_token_is_refused_clearly() {
    let fixture = Fixture::new(rules()).await;
    let token_dir = tempfile::tempdir().unwrap();
    let token_file = token_dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let port = free_port();
    let _server = SharedAppServer::start(
        &fixture,
        Listen::WsWithToken {
            port,
            token_file: token_file.clone(),
        },
    )
    .await;
    let url = format!("ws://127.0.0.1:{port}");

    let mut right = fixture
        .editor(
            json!({ "appServer": url, "appServerTokenFile": token_file }),
            progress_capabilities(),
        )
        .await;
    let done = ask_and_wait(&mut right, "say hello").await;
    assert_eq!(done["status"], "completed", "{done:#}");

    let mut missing = fixture
        .editor(json!({ "appServer": url }), progress_capabilities())
        .await;
    let error = missing
        .command("codex.ask", json!({ "prompt": "say hello" }))
        .await
        .expect_err("an ask without a token must fail");
    let text = error["message"].as_str().unwrap();
    assert!(
        text.contains(&url) && text.contains("it wants a token") && text.contains("401"),
        "{text}"
    );
    missing.wait_message("it wants a token").await;

    let mut wrong = fixture
        .editor(
            json!({ "appServer": url, "appServerToken": "not-the-token" }),
            progress_capabilities(),
        )
        .await;
    let error = wrong
        .command("codex.ask", json!({ "prompt": "say hello" }))
        .await
        .expect_err("an ask with a wrong token must fail");
    let text = error["message"].as_str().unwrap();
    assert!(
        text.contains("it refused the token") && text.contains("invalid websocket bearer token"),
        "{text}"
    );
    wrong.wait_message("it refused the token").await;

    // The token is never shown: not in messages, not in the status.
    for editor in [&right, &wrong] {
        let everything = serde_json::to_string(&editor.notifications()).unwrap();
        assert!(!everything.contains(TOKEN) && !everything.contains("not-the-token"));
    }
    let status = right.command("codex.status", Value::Null).await.unwrap();
    assert!(!status.to_string().contains(TOKEN), "{status:#}");
    assert_eq!(status["appServer"]["endpoint"], url.as_str());

    for editor in [right, missing, wrong] {
        editor.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_ws_without_a_token_is_refused_before_connecting() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture
        .editor(
            json!({ "appServer": "ws://192.0.2.10:4500" }),
            progress_capabilities(),
        )
        .await;
    let error = editor
        .command("codex.ask", json!({ "prompt": "say hello" }))
        .await
        .expect_err("a token-less remote ws:// must be refused");
    let text = error["message"].as_str().unwrap();
    assert!(
        text.contains("refusing to connect to ws://192.0.2.10:4500 without a token"),
        "{text}"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_restarted_mid_session_is_reconnected_once_and_the_thread_resumed() {
    let fixture = Fixture::new(rules()).await;
    let socket_dir = tempfile::tempdir().unwrap();
    let socket = socket_dir.path().join("codex.sock");
    let mut server = SharedAppServer::start(&fixture, Listen::Unix(Some(socket.clone()))).await;
    let mut editor = fixture
        .editor(
            json!({ "appServer": format!("unix://{}", socket.display()) }),
            progress_capabilities(),
        )
        .await;
    let first = ask_and_wait(&mut editor, "say hello").await;
    assert_eq!(first["status"], "completed", "{first:#}");
    let thread_id = first["threadId"].as_str().unwrap().to_string();

    server.kill().await;
    editor.wait_message("lost the connection").await;
    // Long enough for several failed attempts (the backoff starts at 250 ms).
    tokio::time::sleep(Duration::from_secs(3)).await;
    // An ask meanwhile fails with the reason, and shows nothing more.
    let error = editor
        .command("codex.ask", json!({ "prompt": "say hello" }))
        .await
        .expect_err("no server to ask");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("could not connect to the app-server at unix://"),
        "{error:#}"
    );
    let status = editor.command("codex.status", Value::Null).await.unwrap();
    assert_eq!(status["appServer"]["state"], "reconnecting", "{status:#}");
    server.restart().await;
    editor.wait_message("reconnected").await;

    let second = ask_and_wait(&mut editor, "say hello again").await;
    assert_eq!(second["status"], "completed", "{second:#}");
    assert_eq!(
        second["threadId"], thread_id,
        "the next ask resumes the thread"
    );
    let thread = editor
        .command("codex.readThread", json!({ "threadId": thread_id }))
        .await
        .unwrap();
    assert_eq!(
        thread["thread"]["turns"].as_array().map(Vec::len),
        Some(2),
        "both turns on one thread: {thread:#}"
    );

    let messages = editor.shown_messages();
    assert_eq!(
        editor
            .shown_messages_containing("lost the connection")
            .len(),
        1,
        "told once, not per attempt: {messages:#?}"
    );
    assert_eq!(
        editor.shown_messages_containing("reconnected").len(),
        1,
        "{messages:#?}"
    );
    assert_eq!(messages.len(), 2, "nothing else was shown: {messages:#?}");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_on_one_shared_server_follow_one_thread() {
    let mut all_rules = rules();
    all_rules.push(Rule::new(
        "edit line two",
        vec![
            PatchBuilder::new()
                .update("notes.txt", "two", "TWO")
                .into_reply(),
            Reply::text("edited notes"),
        ],
    ));
    let fixture = Fixture::new(all_rules).await;
    std::fs::write(fixture.workspace.join("notes.txt"), "one\ntwo\nthree\n").unwrap();
    let server = SharedAppServer::start(&fixture, Listen::Unix(None)).await;
    let options = json!({ "appServer": "unix://" });

    let mut first = fixture
        .editor(options.clone(), editing_capabilities())
        .await;
    let hello = ask_and_wait(&mut first, "say hello").await;
    let thread_id = hello["threadId"].as_str().unwrap().to_string();

    // The second session resumes the workspace's thread as soon as it connects.
    let mut second = fixture.editor(options, editing_capabilities()).await;
    second.track_buffers();
    let uri = fixture.file_uri("notes.txt");
    second.open_buffer(&uri, "one\ntwo\nthree\n").await;
    let deadline = tokio::time::Instant::now() + support::WAIT;
    loop {
        let status = second.command("codex.status", Value::Null).await.unwrap();
        let threads: Vec<Value> = status["threads"]
            .as_object()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        if threads.contains(&json!(thread_id)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second session never resumed {thread_id}: {status:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let edited = ask_and_wait(&mut first, "edit line two").await;
    assert_eq!(edited["status"], "completed", "{edited:#}");
    assert_eq!(edited["threadId"], thread_id);
    let turn_id = edited["turnId"].as_str().unwrap();

    // The second session followed the first one's turn: progress, end, and the edit.
    let done = second.turn_completed(turn_id).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(done["finalResponse"], "edited notes");
    let progress = second.progress_of(&format!("codex-lsp/turn/{turn_id}"));
    assert_eq!(
        progress.first().map(|p| p["title"].clone()),
        Some(json!("Codex (another session)")),
        "{progress:#?}"
    );
    assert_eq!(progress.last().unwrap()["kind"], "end", "{progress:#?}");
    second
        .wait_for("the edit mirrored into the second session's buffer", || {
            (second.buffer_text(&uri) == "one\nTWO\nthree\n").then_some(())
        })
        .await;

    // The first session's own turn was not followed twice.
    let first_progress = first.progress_of(&format!("codex-lsp/turn/{turn_id}"));
    assert_eq!(
        first_progress
            .iter()
            .filter(|p| p["kind"] == "begin")
            .count(),
        1,
        "{first_progress:#?}"
    );
    assert_eq!(first_progress[0]["title"], "Codex");

    first.shutdown().await;
    second.shutdown().await;
    // Neither session stopped the shared server on its way out.
    assert!(
        tokio::net::UnixStream::connect(server.socket_path(&fixture))
            .await
            .is_ok(),
        "the shared app-server went away with its clients"
    );
}

/// A scripted app-server on a unix socket that announces a turn (`turn/started`) before it
/// answers the `turn/start` that made it: the real one may, under load, deliver the two in
/// either order to codex-lsp's tasks. The session that started the turn must not take it
/// for another session's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_own_turn_announced_before_its_answer_is_not_taken_for_another_sessions() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let fixture = Fixture::new(rules()).await;
    let socket_dir = tempfile::tempdir().unwrap();
    let socket = socket_dir.path().join("fake.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
        let turn = json!({ "id": "turn-1", "items": [], "status": "inProgress" });
        while let Some(Ok(frame)) = ws.next().await {
            let Message::Text(text) = frame else { continue };
            let request: Value = serde_json::from_str(text.as_str()).unwrap();
            let Some(id) = request.get("id").cloned() else {
                continue;
            };
            let result = match request["method"].as_str().unwrap() {
                "initialize" => json!({
                    "userAgent": "codex_lsp/0.163.0 (fake)", "codexHome": "/fake",
                    "platformFamily": "unix", "platformOs": "linux",
                }),
                "thread/list" => json!({ "data": [], "nextCursor": null }),
                "thread/start" => json!({ "thread": { "id": "thread-1" } }),
                "turn/start" => {
                    let started = json!({ "method": "turn/started",
                        "params": { "threadId": "thread-1", "turn": turn } });
                    ws.send(Message::text(started.to_string())).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let answer = json!({ "id": id, "result": { "turn": turn } });
                    ws.send(Message::text(answer.to_string())).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let completed = json!({ "method": "turn/completed", "params": {
                        "threadId": "thread-1",
                        "turn": { "id": "turn-1", "items": [], "status": "completed" },
                    } });
                    ws.send(Message::text(completed.to_string())).await.unwrap();
                    continue;
                }
                _ => json!({}),
            };
            let answer = json!({ "id": id, "result": result });
            ws.send(Message::text(answer.to_string())).await.unwrap();
        }
    });

    let mut editor = fixture
        .editor(
            json!({ "appServer": format!("unix://{}", socket.display()) }),
            progress_capabilities(),
        )
        .await;
    let done = ask_and_wait(&mut editor, "anything").await;
    assert_eq!(done["turnId"], "turn-1", "{done:#}");
    let progress = editor.progress_of("codex-lsp/turn/turn-1");
    let begins: Vec<&Value> = progress.iter().filter(|p| p["kind"] == "begin").collect();
    assert_eq!(begins.len(), 1, "{progress:#?}");
    assert_eq!(begins[0]["title"], "Codex", "{progress:#?}");
    editor.shutdown().await;
}

/// The app-server asks every session following the thread; the first answer decides and
/// the other session's prompt is dropped (`serverRequest/resolved`), not answered for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_is_asked_in_both_sessions_and_the_first_answer_decides() {
    let fixture = Fixture::new(rules()).await;
    let _server = SharedAppServer::start(&fixture, Listen::Unix(None)).await;
    let options = json!({ "appServer": "unix://", "sandbox": "read-only" });
    let mut first = fixture
        .editor(options.clone(), progress_capabilities())
        .await;
    let hello = ask_and_wait(&mut first, "say hello").await;
    let thread_id = hello["threadId"].as_str().unwrap().to_string();

    let mut second = fixture.editor(options, progress_capabilities()).await;
    // The second user never answers.
    second.answer_with(support::defer("window/showMessageRequest"));
    second
        .command("codex.resumeThread", json!({ "threadId": thread_id }))
        .await
        .unwrap();
    first.answer_with(support::defer("window/showMessageRequest"));

    let (_, turn) = first
        .start_request(
            "workspace/executeCommand",
            json!({ "command": "codex.ask",
                    "arguments": [{ "prompt": "touch accepted.txt", "wait": true }] }),
        )
        .await;
    // Both sessions show the prompt before the first user answers (an answer before the
    // other prompt is drawn resolves it unseen, which is right but not what this shows).
    let prompt_of = |editor: &Editor| {
        let editor_prompts = editor.server_requests_of("window/showMessageRequest");
        editor_prompts.into_iter().next()
    };
    second
        .wait_for("the second session's prompt", || prompt_of(&second))
        .await;
    let prompt = first
        .wait_for("the first session's prompt", || prompt_of(&first))
        .await;
    first
        .answer_later(&prompt["id"], json!({ "title": "Accept" }))
        .await;
    let done = tokio::time::timeout(support::WAIT, turn)
        .await
        .expect("the turn ends")
        .unwrap()["result"]
        .clone();
    assert_eq!(done["status"], "completed", "{done:#}");
    assert!(fixture.workspace.join("accepted.txt").exists());
    let followed = second
        .turn_completed(done["turnId"].as_str().unwrap())
        .await;
    assert_eq!(followed["status"], "completed", "{followed:#}");
    for editor in [&first, &second] {
        let prompts = editor.server_requests_of("window/showMessageRequest");
        assert_eq!(prompts.len(), 1, "{prompts:#?}");
        assert!(prompts[0]["params"]["message"]
            .as_str()
            .unwrap()
            .contains("touch accepted.txt"));
    }
    first.shutdown().await;
    second.shutdown().await;
}

/// Switching `appServer` mid-session (spawn → the daemon's socket → the same socket by
/// path): the next ask goes to the new server, the old one (our child, then our socket) is
/// closed, and neither end is reported as a crash or a lost connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_app_server_mid_session_closes_the_old_one_quietly() {
    let fixture = Fixture::new(rules()).await;
    let server = SharedAppServer::start(&fixture, Listen::Unix(None)).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    ask_and_wait(&mut editor, "say hello").await;
    assert_eq!(editor.app_server_pids().len(), 1, "our own app-server runs");

    editor
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": { "codex": { "appServer": "unix://" } } }),
        )
        .await;
    let deadline = tokio::time::Instant::now() + support::WAIT;
    while editor.command("codex.status", Value::Null).await.unwrap()["settings"]["appServer"]
        != "unix://"
    {
        assert!(tokio::time::Instant::now() < deadline, "settings not taken");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let done = ask_and_wait(&mut editor, "say hello again").await;
    assert_eq!(done["status"], "completed", "{done:#}");
    let status = editor.command("codex.status", Value::Null).await.unwrap();
    let endpoint = format!("unix://{}", server.socket_path(&fixture).display());
    assert_eq!(status["appServer"]["endpoint"], endpoint, "{status:#}");
    while !editor.app_server_pids().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline + support::WAIT,
            "our own app-server is still running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The same socket by its path: a new setting, so a new connection; the old socket
    // closes at once, and still nobody is told it was lost.
    editor
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": { "codex": { "appServer": endpoint } } }),
        )
        .await;
    while editor.command("codex.status", Value::Null).await.unwrap()["settings"]["appServer"]
        != endpoint.as_str()
    {
        assert!(tokio::time::Instant::now() < deadline, "settings not taken");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let done = ask_and_wait(&mut editor, "say hello once more").await;
    assert_eq!(done["status"], "completed", "{done:#}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = editor.shown_messages();
    assert!(messages.is_empty(), "{messages:#?}");
    editor.shutdown().await;
}

/// One session's sandbox never loosens another's. The thread is started by a session
/// with `danger-full-access`; a read-only session then joins it (the app-server keeps a
/// loaded thread's settings, whoever resumes it), yet its turn runs in its own read-only
/// sandbox: the write fails there, and the retry it asks for is declined.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sessions_sandbox_does_not_apply_to_our_turns() {
    let mut all_rules = rules();
    all_rules.push(Rule::new(
        "write plain.txt",
        vec![Reply::exec("touch plain.txt"), Reply::text("tried")],
    ));
    let fixture = Fixture::new(all_rules).await;
    let _server = SharedAppServer::start(&fixture, Listen::Unix(None)).await;
    let mut loose = fixture
        .editor(
            json!({ "appServer": "unix://", "sandbox": "danger-full-access" }),
            progress_capabilities(),
        )
        .await;
    let hello = ask_and_wait(&mut loose, "say hello").await;
    let thread_id = hello["threadId"].as_str().unwrap().to_string();

    let mut strict = fixture
        .editor(
            json!({ "appServer": "unix://", "sandbox": "read-only" }),
            progress_capabilities(),
        )
        .await;
    // Both users dismiss every prompt: a decline.
    strict.answer_with(|_, _| Value::Null);
    loose.answer_with(|_, _| Value::Null);

    let done = ask_and_wait(&mut strict, "write plain.txt").await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(done["threadId"], thread_id, "the workspace's thread");
    assert!(
        !fixture.workspace.join("plain.txt").exists(),
        "the command ran under the other session's sandbox"
    );
    strict.shutdown().await;
    loose.shutdown().await;
}

/// The ws token never reaches a log, at `trace`, for every target, whichever way it was
/// given (`appServerTokenFile`, `appServerToken`) and wherever the log goes (stderr with
/// `CODEX_LSP_LOG`, a `logFile` with `logLevel`): the WebSocket library logs the raw
/// handshake at trace, `authorization: Bearer <token>` included (issue 14.8).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ws_token_never_reaches_a_log_at_any_level_or_target() {
    let fixture = Fixture::new(rules()).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let port = free_port();
    let _server = SharedAppServer::start(
        &fixture,
        Listen::WsWithToken {
            port,
            token_file: token_file.clone(),
        },
    )
    .await;
    let url = format!("ws://127.0.0.1:{port}");
    let every_target = "trace,tungstenite=trace,tokio_tungstenite=trace,async_lsp=trace";
    let runs = [
        ("trace", json!({ "appServerTokenFile": token_file }), false),
        (every_target, json!({ "appServerToken": TOKEN }), false),
        (
            every_target,
            json!({ "appServerTokenFile": token_file }),
            false,
        ),
        ("", json!({ "appServerToken": TOKEN }), true),
        ("", json!({ "appServerTokenFile": token_file }), true),
    ];
    for (n, (filter, token, to_file)) in runs.into_iter().enumerate() {
        let stderr = dir.path().join(format!("stderr-{n}.log"));
        let log_file = dir.path().join(format!("codex-lsp-{n}.log"));
        let mut options = token;
        options["appServer"] = json!(url);
        if to_file {
            options["logFile"] = json!(log_file);
            options["logLevel"] = json!("trace");
        }
        let mut editor = fixture
            .editor_with(
                support::Spawn {
                    log_env: (!filter.is_empty()).then(|| filter.to_string()),
                    stderr: Some(stderr.clone()),
                    ..support::Spawn::default()
                },
                options,
                progress_capabilities(),
            )
            .await;
        let done = ask_and_wait(&mut editor, "say hello").await;
        assert_eq!(done["status"], "completed", "{done:#}");
        editor.shutdown().await;
        let mut logs = vec![("stderr", std::fs::read_to_string(&stderr).unwrap())];
        if to_file {
            logs.push(("the log file", std::fs::read_to_string(&log_file).unwrap()));
        }
        let (_, verbose) = logs.last().unwrap();
        assert!(
            verbose.contains("DEBUG") && verbose.contains(&url),
            "run {n}: the log holds too little to prove anything: {verbose}"
        );
        for (what, text) in logs {
            let leaks: Vec<&str> = text.lines().filter(|l| l.contains(TOKEN)).collect();
            assert!(
                leaks.is_empty(),
                "run {n} ({filter:?}): the token is in {what}: {leaks:#?}"
            );
        }
    }
}
