//! The app-server client against a scripted fake peer, for what the real app-server will not
//! do on demand: overload answers, a turn whose `turn/completed` never comes, misbehaving
//! server requests, malformed lines, a peer that vanishes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use codex_lsp::app_server::connection::{RetryPolicy, ServerAnswer};
use codex_lsp::app_server::error::{Closed, RpcErrorKind};
use codex_lsp::app_server::protocol as p;
use codex_lsp::app_server::transport::{
    JsonLinesReader, JsonLinesWriter, MessageReader, TransportParts, TransportStatus,
};
use codex_lsp::app_server::{
    Codex, Connection, Error, IncomingRequest, ServerRequestHandler, Watchdog,
};
use futures::future::BoxFuture;
use serde_json::{json, Value};
use tokio::sync::mpsc;

struct FakeStatus;

impl TransportStatus for FakeStatus {
    fn closed(&self) -> BoxFuture<'_, Closed> {
        Box::pin(async {
            Closed {
                reason: "the fake app-server hung up".into(),
                stderr_tail: "fake: goodbye\n".into(),
            }
        })
    }
}

/// The fake's side of the pipe: every message the client sent, and a way to send ours.
struct FakePeer {
    from_client: mpsc::UnboundedReceiver<Value>,
    to_client: mpsc::UnboundedSender<String>,
}

impl FakePeer {
    async fn recv(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(10), self.from_client.recv())
            .await
            .expect("the client sent nothing within 10 s")
            .expect("the client hung up")
    }

    /// The next message that is not a reply to one of ours.
    async fn recv_request(&mut self, method: &str) -> Value {
        loop {
            let message = self.recv().await;
            if message["method"] == method {
                return message;
            }
        }
    }

    fn send(&self, message: Value) {
        self.to_client.send(message.to_string()).unwrap();
    }

    fn send_raw(&self, line: &str) {
        self.to_client.send(line.to_string()).unwrap();
    }

    fn reply(&self, request: &Value, result: Value) {
        self.send(json!({ "id": request["id"], "result": result }));
    }

    fn overloaded(&self, request: &Value) {
        // The real shape: -32001 and no `data`.
        self.send(json!({
            "id": request["id"],
            "error": { "code": -32001, "message": "Server overloaded; retry later." }
        }));
    }

    fn hang_up(self) {}
}

fn fake_transport() -> (TransportParts, FakePeer) {
    let (client_io, fake_io) = tokio::io::duplex(1 << 20);
    let (client_read, client_write) = tokio::io::split(client_io);
    let (fake_read, fake_write) = tokio::io::split(fake_io);
    let (from_client_tx, from_client) = mpsc::unbounded_channel();
    let (to_client, mut to_client_rx) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let mut reader = JsonLinesReader::new(fake_read);
        while let Ok(Some(line)) = reader.next_message().await {
            let value: Value = serde_json::from_str(&line).expect("the client sends JSON");
            if from_client_tx.send(value).is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let mut fake_write = fake_write;
        while let Some(line) = to_client_rx.recv().await {
            let framed = format!("{line}\n");
            if fake_write.write_all(framed.as_bytes()).await.is_err() {
                break;
            }
        }
        // Shutting the write side down is the client's end of input: the fake has hung up.
        let _ = fake_write.shutdown().await;
    });
    let parts = TransportParts {
        reader: Box::new(JsonLinesReader::new(client_read)),
        writer: Box::new(JsonLinesWriter::new(client_write)),
        status: Arc::new(FakeStatus),
        keep_alive: Box::new(()),
        pid: None,
    };
    (
        parts,
        FakePeer {
            from_client,
            to_client,
        },
    )
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn connect(parts: TransportParts, handler: Arc<dyn ServerRequestHandler>) -> Connection {
    Connection::start_with(parts, handler, fast_retry())
}

fn decline() -> Arc<dyn ServerRequestHandler> {
    Arc::new(codex_lsp::app_server::DeclineAll)
}

#[tokio::test]
async fn overload_is_retried_for_safe_requests_then_succeeds() {
    let (parts, mut fake) = fake_transport();
    let conn = connect(parts, decline());
    let call = tokio::spawn({
        let conn = conn.clone();
        async move { conn.send(&p::ThreadListParams::default()).await }
    });
    for _ in 0..3 {
        let request = fake.recv_request("thread/list").await;
        fake.overloaded(&request);
    }
    let request = fake.recv_request("thread/list").await;
    fake.reply(&request, json!({ "data": [], "nextCursor": null }));
    let result = call.await.unwrap().expect("retried until it worked");
    assert!(result.data.is_empty());
}

#[tokio::test]
async fn overload_gives_up_with_a_clear_error() {
    let (parts, mut fake) = fake_transport();
    let conn = connect(parts, decline());
    let call = tokio::spawn({
        let conn = conn.clone();
        async move { conn.send(&p::ModelListParams::default()).await }
    });
    for _ in 0..5 {
        let request = fake.recv_request("model/list").await;
        fake.overloaded(&request);
    }
    let err = call.await.unwrap().unwrap_err();
    assert!(err.is_server_busy(), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("gave up after 5 attempts"), "{text}");
    assert!(matches!(err, Error::ServerBusy { attempts: 5, .. }));
}

#[tokio::test]
async fn overload_is_not_retried_for_requests_that_start_work() {
    let (parts, mut fake) = fake_transport();
    let conn = connect(parts, decline());
    let call = tokio::spawn({
        let conn = conn.clone();
        async move {
            conn.send(&p::TurnStartParams {
                thread_id: "t".into(),
                ..Default::default()
            })
            .await
        }
    });
    let request = fake.recv_request("turn/start").await;
    fake.overloaded(&request);
    let err = call.await.unwrap().unwrap_err();
    assert_eq!(err.rpc_kind(), Some(RpcErrorKind::ServerBusy));
    assert!(
        matches!(err, Error::Rpc { .. }),
        "one attempt only: {err:?}"
    );
    // The caller may still choose to retry explicitly, as with the SDK's retry_on_overload.
    let call = tokio::spawn({
        let conn = conn.clone();
        async move {
            conn.retry_on_overload(&p::TurnStartParams {
                thread_id: "t".into(),
                ..Default::default()
            })
            .await
        }
    });
    let request = fake.recv_request("turn/start").await;
    fake.overloaded(&request);
    let request = fake.recv_request("turn/start").await;
    fake.reply(&request, json!({"turn": {"id": "u"}}));
    assert_eq!(call.await.unwrap().unwrap().turn.id, "u");
}

#[tokio::test]
async fn a_burst_of_overloaded_requests_all_complete() {
    let (parts, mut fake) = fake_transport();
    let conn = connect(parts, decline());
    let total = 200;
    let calls: Vec<_> = (0..total)
        .map(|i| {
            let conn = conn.clone();
            tokio::spawn(async move {
                conn.send(&p::ThreadReadParams {
                    thread_id: format!("t{i}"),
                    ..Default::default()
                })
                .await
            })
        })
        .collect();
    // Reject every first attempt, answer every second one.
    let mut seen = std::collections::HashSet::new();
    let mut answered = 0;
    while answered < total {
        let request = fake.recv_request("thread/read").await;
        let thread = request["params"]["threadId"].as_str().unwrap().to_string();
        if seen.insert(thread.clone()) {
            fake.overloaded(&request);
        } else {
            fake.reply(&request, json!({ "thread": { "id": thread } }));
            answered += 1;
        }
    }
    for (i, call) in calls.into_iter().enumerate() {
        let result = call.await.unwrap().expect("no request lost");
        assert_eq!(result.thread.id, format!("t{i}"));
    }
}

#[tokio::test]
async fn params_are_always_sent() {
    let (parts, mut fake) = fake_transport();
    let conn = connect(parts, decline());
    let conn2 = conn.clone();
    tokio::spawn(async move { conn2.send(&p::NoParams).await });
    let request = fake.recv_request("account/logout").await;
    assert_eq!(request["params"], json!({}));
    conn.notify("initialized", ()).unwrap();
    let note = fake.recv_request("initialized").await;
    assert_eq!(note["params"], json!({}));
}

async fn handshake(fake: &mut FakePeer, user_agent: &str) {
    let init = fake.recv_request("initialize").await;
    assert_eq!(init["params"]["clientInfo"]["name"], "codex_lsp");
    fake.reply(
        &init,
        json!({ "userAgent": user_agent, "codexHome": "/tmp/x", "platformFamily": "unix", "platformOs": "linux" }),
    );
}

#[tokio::test]
async fn an_old_runtime_is_refused_with_both_versions() {
    let (parts, mut fake) = fake_transport();
    let conn = connect(parts, decline());
    let client = tokio::spawn(Codex::handshake(conn));
    handshake(&mut fake, "codex_lsp/0.100.2 (Debian; x86_64) xterm").await;
    let err = client.await.unwrap().err().expect("too old");
    let text = err.to_string();
    assert!(
        text.contains("0.100.2") && text.contains("0.163.0"),
        "{text}"
    );
}

#[tokio::test]
async fn a_pre_release_of_the_pinned_runtime_is_refused_and_a_newer_release_accepted() {
    for (version, accepted) in [
        ("0.163.0-alpha.1", false),
        ("0.163.0", true),
        ("0.169.0", true),
    ] {
        let (parts, mut fake) = fake_transport();
        let conn = connect(parts, decline());
        let client = tokio::spawn(Codex::handshake(conn));
        handshake(
            &mut fake,
            &format!("codex_lsp/{version} (Debian; x86_64) xterm"),
        )
        .await;
        match client.await.unwrap() {
            Ok(_) => assert!(accepted, "{version} was accepted"),
            Err(err) => {
                assert!(!accepted, "{version} was refused: {err}");
                let text = err.to_string();
                assert!(text.contains(version), "{text}");
            }
        }
    }
}

/// A handshaken client on the fake, with the given watchdog, and a turn `tu1` on thread `th1`
/// running to completion in the background.
async fn start_watched_turn(
    watchdog: Watchdog,
) -> (
    FakePeer,
    tokio::task::JoinHandle<codex_lsp::app_server::Result<codex_lsp::app_server::TurnResult>>,
) {
    let (parts, mut fake) = fake_transport();
    let conn = connect(parts, decline());
    let client = tokio::spawn(Codex::handshake(conn));
    handshake(&mut fake, "codex_lsp/0.163.0 (Debian; x86_64) xterm").await;
    fake.recv_request("initialized").await;
    let codex = client.await.unwrap().unwrap().with_watchdog(watchdog);
    let params = serde_json::from_value(json!({
        "threadId": "th1",
        "input": [{ "type": "text", "text": "hi", "text_elements": [] }],
    }))
    .unwrap();
    let run = tokio::spawn(async move { codex.turn_start(&params).await.unwrap().run().await });
    (fake, run)
}

#[tokio::test]
async fn the_watchdog_finishes_a_turn_whose_completion_never_comes() {
    let (mut fake, run) = start_watched_turn(Watchdog {
        silence: Duration::from_secs(30),
        idle_grace: Duration::from_millis(200),
        ..Watchdog::default()
    })
    .await;
    let start = fake.recv_request("turn/start").await;
    let turn = json!({ "id": "tu1", "items": [], "status": "inProgress", "error": null,
                       "startedAt": 100, "completedAt": null, "durationMs": null });
    fake.reply(&start, json!({ "turn": turn }));
    fake.send(json!({ "method": "turn/started", "params": { "threadId": "th1", "turn": turn } }));
    fake.send(
        json!({ "method": "item/completed", "params": { "threadId": "th1", "turnId": "tu1",
        "item": { "type": "agentMessage", "id": "m1", "text": "all done", "phase": null } } }),
    );
    // The thread goes idle, and turn/completed is never sent.
    fake.send(json!({ "method": "thread/status/changed",
        "params": { "threadId": "th1", "status": { "type": "idle" } } }));
    let read = fake.recv_request("thread/read").await;
    assert_eq!(read["params"]["threadId"], "th1");
    fake.reply(
        &read,
        json!({ "thread": { "id": "th1", "status": { "type": "idle" }, "turns": [
        { "id": "tu1", "items": [], "status": "completed", "error": null,
          "startedAt": 100, "completedAt": 101, "durationMs": 1000 } ] } }),
    );

    let result = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the watchdog ended the turn")
        .unwrap()
        .unwrap();
    assert!(result.recovered_by_watchdog);
    assert_eq!(
        serde_json::to_value(&result.status).unwrap(),
        json!("completed")
    );
    assert_eq!(result.final_response, "all done");
    assert_eq!(result.duration_ms, Some(1000));
}

#[tokio::test]
async fn the_watchdog_leaves_an_active_thread_alone_and_fails_a_lost_turn() {
    let (mut fake, run) = start_watched_turn(Watchdog {
        silence: Duration::from_millis(200),
        idle_grace: Duration::from_millis(100),
        ..Watchdog::default()
    })
    .await;
    let start = fake.recv_request("turn/start").await;
    fake.reply(
        &start,
        json!({ "turn": { "id": "tu1", "items": [], "status": "inProgress" } }),
    );
    // Silent: the watchdog asks; the thread is still active, so the turn goes on.
    let read = fake.recv_request("thread/read").await;
    fake.reply(&read, json!({ "thread": { "id": "th1", "status": { "type": "active", "activeFlags": [] }, "turns": [] } }));
    // Asked again later: now idle, and the turn was never recorded as finished.
    let read = fake.recv_request("thread/read").await;
    fake.reply(
        &read,
        json!({ "thread": { "id": "th1", "status": { "type": "idle" }, "turns": [
        { "id": "tu1", "items": [], "status": "inProgress" } ] } }),
    );
    let result = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&result.status).unwrap(),
        json!("failed")
    );
    let message = serde_json::to_value(&result.error).unwrap()["message"].clone();
    assert!(
        message
            .as_str()
            .unwrap()
            .contains("turn/completed never arrived"),
        "{message}"
    );
}

struct CountingHandler {
    calls: AtomicUsize,
    behaviour: &'static str,
}

impl ServerRequestHandler for CountingHandler {
    fn handle(&self, request: IncomingRequest) -> BoxFuture<'static, ServerAnswer> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let behaviour = self.behaviour;
        Box::pin(async move {
            match behaviour {
                "panic" => panic!("handler bug"),
                "wait-for-resolved" => {
                    request.resolved.cancelled().await;
                    Ok(json!({ "decision": "accept" }))
                }
                _ => Ok(json!({ "decision": "accept" })),
            }
        })
    }
}

#[tokio::test]
async fn unhandled_server_requests_get_the_protocols_decline() {
    let (parts, mut fake) = fake_transport();
    let _conn = connect(parts, decline());
    let cases = [
        (
            "item/commandExecution/requestApproval",
            json!({ "decision": "decline" }),
        ),
        (
            "item/fileChange/requestApproval",
            json!({ "decision": "decline" }),
        ),
        (
            "execCommandApproval",
            json!({ "decision": { "denied": { "rejection": "declined by the user" } } }),
        ),
        (
            "mcpServer/elicitation/request",
            json!({ "action": "decline" }),
        ),
        ("item/tool/requestUserInput", json!({ "answers": {} })),
    ];
    for (i, (method, expected)) in cases.iter().enumerate() {
        fake.send(json!({ "id": 1000 + i, "method": method, "params": { "threadId": "t" } }));
        let answer = fake.recv().await;
        assert_eq!(answer["id"], json!(1000 + i));
        assert_eq!(&answer["result"], expected, "{method}");
        assert!(answer.get("error").is_none(), "{method}: {answer}");
    }
    // A request with no "no" in its schema gets a specific error, never silence.
    fake.send(json!({ "id": 7, "method": "account/chatgptAuthTokens/refresh", "params": {} }));
    let answer = fake.recv().await;
    assert_eq!(answer["id"], 7);
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("does not manage"), "{answer}");
    assert!(answer.get("result").is_none(), "{answer}");
}

#[tokio::test]
async fn a_panicking_handler_still_answers_with_a_decline() {
    let (parts, mut fake) = fake_transport();
    let handler = Arc::new(CountingHandler {
        calls: AtomicUsize::new(0),
        behaviour: "panic",
    });
    let _conn = connect(parts, handler.clone());
    fake.send(
        json!({ "id": "abc", "method": "item/fileChange/requestApproval",
                      "params": { "threadId": "t", "turnId": "u", "itemId": "i" } }),
    );
    let answer = fake.recv().await;
    assert_eq!(
        answer,
        json!({ "id": "abc", "result": { "decision": "decline" } })
    );
    assert_eq!(handler.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_request_resolved_elsewhere_is_not_answered() {
    let (parts, mut fake) = fake_transport();
    let handler = Arc::new(CountingHandler {
        calls: AtomicUsize::new(0),
        behaviour: "wait-for-resolved",
    });
    let conn = connect(parts, handler);
    fake.send(
        json!({ "id": 5, "method": "item/fileChange/requestApproval",
                      "params": { "threadId": "t", "turnId": "u", "itemId": "i" } }),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    fake.send(json!({ "method": "serverRequest/resolved", "params": { "threadId": "t", "requestId": 5 } }));
    // Nothing may be sent for request 5; the next thing the fake sees is our own request.
    let conn2 = conn.clone();
    tokio::spawn(async move { conn2.send(&p::ModelListParams::default()).await });
    let next = fake.recv().await;
    assert_eq!(
        next["method"], "model/list",
        "a stale answer was sent: {next}"
    );
}

#[tokio::test]
async fn malformed_lines_are_skipped_and_the_connection_goes_on() {
    let (parts, mut fake) = fake_transport();
    let conn = connect(parts, decline());
    let mut all = conn.subscribe_all();
    fake.send_raw("this is not json");
    fake.send_raw("{\"neither\": \"id nor method\"}");
    fake.send_raw("[1,2,3]");
    fake.send(
        json!({ "method": "some/futureNotification", "params": { "x": 1 }, "emittedAtMs": 1 }),
    );
    let event = tokio::time::timeout(Duration::from_secs(5), all.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.method, "some/futureNotification");
    let call = tokio::spawn({
        let conn = conn.clone();
        async move { conn.send(&p::ModelListParams::default()).await }
    });
    let request = fake.recv_request("model/list").await;
    fake.reply(&request, json!({ "data": [] }));
    assert!(call.await.unwrap().is_ok());
}

#[tokio::test]
async fn notifications_are_routed_per_thread_in_order() {
    let (parts, fake) = fake_transport();
    let conn = connect(parts, decline());
    let mut a = conn.subscribe_thread("A");
    let mut b = conn.subscribe_thread("B");
    for i in 0..100 {
        let thread = if i % 2 == 0 { "A" } else { "B" };
        fake.send(json!({ "method": "item/agentMessage/delta",
            "params": { "threadId": thread, "turnId": "t", "itemId": "m", "delta": i.to_string() } }));
    }
    // B is never read while A drains: one slow subscriber does not hold up another.
    for i in (0..100).step_by(2) {
        let event = tokio::time::timeout(Duration::from_secs(5), a.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(event.thread_id.as_deref(), Some("A"));
        assert_eq!(event.params_value()["delta"], json!(i.to_string()));
    }
    for i in (1..100).step_by(2) {
        let event = b.recv().await.unwrap();
        assert_eq!(event.params_value()["delta"], json!(i.to_string()));
    }
}

#[tokio::test]
async fn a_vanished_peer_fails_pending_requests_with_the_reason() {
    let (parts, mut fake) = fake_transport();
    let conn = connect(parts, decline());
    let mut events = conn.subscribe_thread("t");
    let call = tokio::spawn({
        let conn = conn.clone();
        async move {
            conn.send(&p::ThreadReadParams {
                thread_id: "t".into(),
                ..Default::default()
            })
            .await
        }
    });
    fake.recv_request("thread/read").await;
    fake.hang_up();
    let err = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(err.is_transport_closed(), "{err:?}");
    assert!(err.to_string().contains("fake: goodbye"), "{err}");
    assert!(
        events.recv().await.is_none(),
        "streams end when the peer goes"
    );
    let err = conn.send(&p::ModelListParams::default()).await.unwrap_err();
    assert!(err.is_transport_closed());
}
