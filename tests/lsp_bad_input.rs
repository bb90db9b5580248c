//! Bad input from the editor: the built `codex-lsp` over stdio, fed malformed frames, ill-typed
//! command arguments, ranges and URIs that do not fit. Each gets a clear, specific error and
//! the server keeps serving: the next request gets a normal answer, and a real turn (real
//! app-server, scripted provider) still runs at the end.

mod support;

use serde_json::{json, Value};
use support::{progress_capabilities, rules, Editor, Fixture};

/// A request that needs no app-server: it must get its normal answer.
async fn still_serving(editor: &mut Editor) {
    let answer = editor
        .command("codex.clearReview", json!({}))
        .await
        .expect("a normal answer after bad input");
    assert_eq!(answer, json!({ "cleared": 0 }));
}

/// The error answer to a malformed frame whose message contains `needle`; its id is null
/// unless the frame had a usable one (`id`).
async fn frame_error(editor: &Editor, needle: &str) -> Value {
    frame_error_with_id(editor, needle, Value::Null).await
}

async fn frame_error_with_id(editor: &Editor, needle: &str, id: Value) -> Value {
    let answer = editor
        .wait_notification(&format!("an error containing {needle:?}"), |n| {
            n["method"] == "<response>"
                && n["params"]["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(needle))
        })
        .await;
    assert_eq!(answer["params"]["id"], id, "{answer:#}");
    answer["params"]["error"].clone()
}

/// The warning shown for a notification that could not be used.
async fn warning(editor: &Editor, needle: &str) -> String {
    editor.wait_message(needle).await
}

fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({
        "start": { "line": start.0, "character": start.1 },
        "end": { "line": end.0, "character": end.1 },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_are_answered_and_the_server_keeps_serving() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;

    // A length that is not a number: the header block is refused, its body skipped.
    editor
        .send_bytes(b"Content-Length: twelve\r\n\r\n{\"jsonrpc\":\"2.0\"}")
        .await;
    let error = frame_error(&editor, "Content-Length `twelve` is not a number").await;
    assert_eq!(error["code"], -32700);
    assert!(error["message"]
        .as_str()
        .unwrap()
        .starts_with("malformed LSP header"));
    still_serving(&mut editor).await;

    // No Content-Length at all.
    editor
        .send_bytes(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n")
        .await;
    frame_error(&editor, "no Content-Length header").await;
    still_serving(&mut editor).await;

    // Header bytes that are not UTF-8 (and an unknown header) do not break the stream.
    editor.send_bytes(b"X-Junk: \xff\xfe\xfd\r\n").await;
    still_serving(&mut editor).await;

    // A body that is not UTF-8.
    editor
        .send_raw(
            b"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"x\",\"params\":{\"a\":\"\xc3\x28\"}}",
        )
        .await;
    let error = frame_error(&editor, "parse error").await;
    assert_eq!(error["code"], -32700);
    assert!(
        error["message"].as_str().unwrap().contains("unicode"),
        "{error}"
    );
    still_serving(&mut editor).await;

    // A truncated body: it announces more than it holds, so it swallows the start of the next
    // frame. Both are lost (one parse error), and the frame after them is found again.
    let probe = json!({ "jsonrpc": "2.0", "method": "$/noSuchNotification", "params": {} });
    let swallowed = support_frame(probe.to_string().as_bytes());
    let mut bytes = b"Content-Length: 40\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":7".to_vec();
    bytes.extend_from_slice(&swallowed);
    editor.send_bytes(&bytes).await;
    let error = frame_error(&editor, "parse error").await;
    assert_eq!(error["code"], -32700);
    still_serving(&mut editor).await;

    // A body longer than announced: the rest runs into the next header, which is found.
    editor
        .send_bytes(b"Content-Length: 2\r\n\r\n{}{\"stray\":true}")
        .await;
    frame_error(&editor, "`jsonrpc` must be \"2.0\"").await;
    still_serving(&mut editor).await;

    // Well-framed messages that are not JSON-RPC requests.
    editor.send_raw(b"[1, 2, 3]").await;
    frame_error(&editor, "not a JSON object").await;
    editor
        .send_raw(br#"{"jsonrpc":"2.0","id":8,"method":"workspace/executeCommand","params":"codex.status"}"#)
        .await;
    let error =
        frame_error_with_id(&editor, "`params` must be an object or an array", json!(8)).await;
    assert_eq!(error["code"], -32602);
    // A member twice (found by fuzzing: it used to stop the server).
    editor
        .send_raw(br#"{"jsonrpc":"2.0","id":9,"method":"workspace/executeCommand","id":10,"method":"shutdown"}"#)
        .await;
    frame_error(&editor, "a member appears twice").await;
    still_serving(&mut editor).await;
    // A request whose params do not fit its method: async-lsp's own -32602, by id.
    let ill_shaped = editor
        .request("textDocument/codeAction", json!({ "textDocument": 3 }))
        .await
        .unwrap_err();
    assert_eq!(ill_shaped["code"], -32602, "{ill_shaped}");
    still_serving(&mut editor).await;

    assert!(
        editor.stdout_garbage().is_empty(),
        "{:?}",
        editor.stdout_garbage()
    );
    editor.shutdown().await;
}

fn support_frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_names_the_argument_it_cannot_use() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let uri = fixture.file_uri("a.txt");

    // Every command: an argument that is not an object.
    for command in [
        "codex.ask",
        "codex.interrupt",
        "codex.steer",
        "codex.newThread",
        "codex.resumeThread",
        "codex.listThreads",
        "codex.readThread",
        "codex.login",
        "codex.logout",
        "codex.account",
        "codex.listModels",
        "codex.status",
        "codex.resolveConflict",
        "codex.review",
        "codex.clearReview",
        "codex.dismissFinding",
    ] {
        let error = editor.command(command, json!(42)).await.unwrap_err();
        assert_eq!(error["code"], -32602, "{command}: {error}");
        assert_eq!(
            error["message"],
            format!("{command}: the argument must be one object"),
        );
    }

    // Every typed field of every command, with the wrong type.
    let cases = [
        (
            "codex.ask",
            json!({ "prompt": 7 }),
            "`prompt`: invalid type: integer `7`, expected a string",
        ),
        (
            "codex.ask",
            json!({ "prompt": "x", "uri": 1 }),
            "`uri`: invalid type:",
        ),
        (
            "codex.ask",
            json!({ "prompt": "x", "uri": "not a uri" }),
            "`uri`: relative URL without a base",
        ),
        (
            "codex.ask",
            json!({ "prompt": "x", "uri": uri, "range": [0, 1] }),
            "`range[0]`: invalid type: integer `0`, expected struct Position",
        ),
        (
            "codex.ask",
            json!({ "prompt": "x", "range": range((0, 0), (0, 1)) }),
            "`range` needs `uri`",
        ),
        (
            "codex.ask",
            json!({ "prompt": "x", "uri": uri, "range": {
                "start": { "line": "one", "character": 0 }, "end": { "line": 1, "character": 0 } } }),
            "`range.start.line`: invalid type: string \"one\"",
        ),
        (
            "codex.ask",
            json!({ "prompt": "x", "threadId": {} }),
            "`threadId`: invalid type:",
        ),
        (
            "codex.ask",
            json!({ "prompt": "x", "newThread": "yes" }),
            "`newThread`: invalid type: string \"yes\", expected a boolean",
        ),
        (
            "codex.ask",
            json!({ "prompt": "x", "wait": 1 }),
            "`wait`: invalid type:",
        ),
        (
            "codex.ask",
            json!({ "prompt": "   " }),
            "`prompt` must not be empty",
        ),
        (
            "codex.interrupt",
            json!({ "threadId": 1 }),
            "`threadId`: invalid type:",
        ),
        (
            "codex.interrupt",
            json!({ "turnId": [] }),
            "`turnId`: invalid type: sequence, expected a string",
        ),
        ("codex.steer", json!({}), "missing field `prompt`"),
        (
            "codex.steer",
            json!({ "prompt": false }),
            "`prompt`: invalid type: boolean `false`, expected a string",
        ),
        (
            "codex.steer",
            json!({ "prompt": "x", "threadId": 3 }),
            "`threadId`: invalid type:",
        ),
        (
            "codex.newThread",
            json!({ "uri": 3 }),
            "`uri`: invalid type:",
        ),
        ("codex.resumeThread", json!({}), "missing field `threadId`"),
        (
            "codex.resumeThread",
            json!({ "threadId": 3 }),
            "`threadId`: invalid type:",
        ),
        (
            "codex.resumeThread",
            json!({ "threadId": "t", "uri": "::" }),
            "`uri`: relative URL without a base",
        ),
        (
            "codex.listThreads",
            json!({ "uri": true }),
            "`uri`: invalid type:",
        ),
        (
            "codex.readThread",
            json!({ "threadId": 9 }),
            "`threadId`: invalid type:",
        ),
        ("codex.login", json!({}), "missing field `method`"),
        (
            "codex.login",
            json!({ "method": 1 }),
            "`method`: invalid type: integer `1`",
        ),
        (
            "codex.login",
            json!({ "method": "password" }),
            "`method`: unknown variant `password`, expected one of `apiKey`, `chatgpt`, `deviceCode`",
        ),
        (
            "codex.login",
            json!({ "method": "apiKey" }),
            "missing field `apiKey`",
        ),
        (
            "codex.login",
            json!({ "method": "apiKey", "apiKey": 12 }),
            "`apiKey`: invalid type: integer `12`, expected a string",
        ),
        (
            "codex.resolveConflict",
            json!({ "conflictId": 1, "take": "mine" }),
            "missing field `uri`",
        ),
        (
            "codex.resolveConflict",
            json!({ "uri": uri, "take": "mine" }),
            "missing field `conflictId`",
        ),
        (
            "codex.resolveConflict",
            json!({ "uri": uri, "conflictId": "1", "take": "mine" }),
            "`conflictId`: invalid",
        ),
        (
            "codex.resolveConflict",
            json!({ "uri": uri, "conflictId": -1, "take": "mine" }),
            "`conflictId`: invalid",
        ),
        (
            "codex.resolveConflict",
            json!({ "uri": uri, "conflictId": 1, "take": "both" }),
            "`take`: unknown variant `both`, expected `codex` or `mine`",
        ),
        (
            "codex.review",
            json!({ "target": "everything" }),
            "`target`: invalid value: string \"everything\", expected",
        ),
        (
            "codex.review",
            json!({ "target": { "commit": 3 } }),
            "`target.commit`: invalid type: integer `3`, expected a non-empty string",
        ),
        (
            "codex.review",
            json!({ "uri": [] }),
            "`uri`: invalid type:",
        ),
        (
            "codex.review",
            json!({ "wait": "no" }),
            "`wait`: invalid type:",
        ),
        ("codex.dismissFinding", json!({}), "missing field `id`"),
        (
            "codex.dismissFinding",
            json!({ "id": 4 }),
            "`id`: invalid type: integer `4`, expected a string",
        ),
    ];
    let mut wrong = Vec::new();
    for (command, argument, needle) in cases {
        let error = editor
            .command(command, argument.clone())
            .await
            .expect_err(&format!("{command} {argument}"));
        let message = error["message"].as_str().unwrap();
        assert_eq!(error["code"], -32602, "{command} {argument}: {error}");
        if !(message.starts_with(command) && message.contains(needle)) {
            wrong.push(format!(
                "{command} {argument}: {message:?} lacks {needle:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    let unknown = editor
        .command("codex.frobnicate", json!({}))
        .await
        .unwrap_err();
    assert!(unknown["message"]
        .as_str()
        .unwrap()
        .contains("unknown command `codex.frobnicate`"));
    still_serving(&mut editor).await;
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_ranges_and_uris_that_do_not_fit_are_told_and_change_nothing() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let uri = fixture.file_uri("notes.txt");
    let text = "alpha\nbeta\n";
    editor.open_buffer(&uri, text).await;

    // didChange for a document never opened.
    let never_opened = fixture.file_uri("never-opened.txt");
    editor
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": never_opened, "version": 2 },
                    "contentChanges": [{ "text": "x" }] }),
        )
        .await;
    let told = warning(&editor, "didChange for a document that is not open").await;
    assert!(told.contains("never-opened.txt"), "{told}");

    // A change beyond the document: refused whole, even after a change that did fit.
    editor
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [
                { "range": range((0, 0), (0, 0)), "text": "fits " },
                { "range": range((40, 0), (41, 0)), "text": "does not" },
            ] }),
        )
        .await;
    let told = warning(&editor, "does not apply").await;
    assert!(
        told.contains("notes.txt") && told.contains("40:0"),
        "{told}"
    );
    assert_eq!(
        selected_text(&mut editor, &uri, range((0, 0), (2, 0))).await,
        text
    );

    // Params that do not fit the notification.
    editor
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri }, "contentChanges": "all of it" }),
        )
        .await;
    warning(
        &editor,
        "ignored textDocument/didChange with params that do not fit",
    )
    .await;
    editor
        .notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": fixture.file_uri("b.txt") } }),
        )
        .await;
    warning(
        &editor,
        "ignored textDocument/didOpen with params that do not fit",
    )
    .await;

    // A version that goes back: applied in order, and said.
    editor
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": 5 },
                    "contentChanges": [{ "range": range((1, 0), (1, 4)), "text": "BETA" }] }),
        )
        .await;
    editor
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": 3 },
                    "contentChanges": [{ "range": range((0, 0), (0, 5)), "text": "ALPHA" }] }),
        )
        .await;
    let told = warning(&editor, "has version 3, not above 5").await;
    assert!(told.contains("notes.txt"), "{told}");
    assert_eq!(
        selected_text(&mut editor, &uri, range((0, 0), (2, 0))).await,
        "ALPHA\nBETA\n"
    );

    // Ranges beyond the document, in requests: a character past a line's end clamps, as the
    // spec says; a line the document does not have is an error.
    let error = editor
        .request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri }, "range": range((9, 0), (9, 3)),
                    "context": { "diagnostics": [] } }),
        )
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32602);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("beyond the end"),
        "{error}"
    );
    let error = editor
        .command(
            "codex.ask",
            json!({ "prompt": "explain", "uri": uri, "range": range((0, 2), (7, 0)) }),
        )
        .await
        .unwrap_err();
    assert_eq!(error["code"], -32602);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("codex.ask: `range`"),
        "{error}"
    );

    // Unknown URIs.
    let error = editor
        .request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": never_opened }, "range": range((0, 0), (0, 0)),
                    "context": { "diagnostics": [] } }),
        )
        .await
        .unwrap_err();
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("the document is not open"));
    let error = editor
        .command(
            "codex.resolveConflict",
            json!({ "uri": never_opened, "conflictId": 1, "take": "codex" }),
        )
        .await
        .unwrap_err();
    assert!(
        error["message"].as_str().unwrap().contains("no conflict 1"),
        "{error}"
    );
    let error = editor
        .command("codex.dismissFinding", json!({ "id": "review-404" }))
        .await
        .unwrap_err();
    assert!(
        error["message"].as_str().unwrap().contains("review-404"),
        "{error}"
    );
    let report = editor
        .request(
            "textDocument/diagnostic",
            json!({ "textDocument": { "uri": "untitled:Untitled-1" } }),
        )
        .await
        .expect("an empty report for a document codex-lsp never saw");
    assert_eq!(report["items"], json!([]));

    // Still serving, up to a real turn on the real app-server.
    still_serving(&mut editor).await;
    let done = editor
        .command("codex.ask", json!({ "prompt": "say hello", "wait": true }))
        .await
        .expect("a turn after all that");
    assert_eq!(done["status"], "completed", "{done:#}");
    editor.shutdown().await;
}

/// What codex-lsp holds for `range` of `uri`, read back through the selection its code
/// actions quote.
async fn selected_text(editor: &mut Editor, uri: &str, range: Value) -> String {
    let actions = editor
        .request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri }, "range": range,
                    "context": { "diagnostics": [] } }),
        )
        .await
        .expect("code actions");
    let prompt = actions
        .as_array()
        .unwrap()
        .iter()
        .find_map(|a| a["command"]["arguments"][0]["prompt"].as_str())
        .unwrap_or_else(|| panic!("no action with a prompt: {actions:#}"))
        .to_string();
    // "```<language>\n<selection>```"
    let (_, fenced) = prompt
        .split_once("```")
        .unwrap_or_else(|| panic!("no quoted selection in {prompt:?}"));
    let (_, quoted) = fenced.split_once('\n').unwrap();
    quoted.rsplit_once("```").unwrap().0.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_waiting_on_turns_never_stop_the_server_answering() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    // More waiting requests than cores: async-lsp's default limit froze the server here.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut waiting = Vec::new();
    for _ in 0..=cores {
        let (_, answer) = editor
            .start_request(
                "workspace/executeCommand",
                json!({ "command": "codex.ask",
                        "arguments": [{ "prompt": "hang forever", "wait": true, "newThread": true }] }),
            )
            .await;
        waiting.push(answer);
    }
    editor
        .wait_for("every turn running", || {
            let started = editor
                .notifications()
                .iter()
                .filter(|n| n["method"] == "$/progress" && n["params"]["value"]["kind"] == "begin")
                .count();
            (started > cores).then_some(())
        })
        .await;
    still_serving(&mut editor).await;
    let interrupted = editor
        .command("codex.interrupt", json!({}))
        .await
        .expect("interrupt");
    assert_eq!(
        interrupted["interrupted"].as_array().map(Vec::len),
        Some(cores + 1),
        "{interrupted:#}"
    );
    for answer in waiting {
        let done = tokio::time::timeout(support::WAIT, answer)
            .await
            .expect("the waiting ask ends")
            .unwrap();
        assert_eq!(done["result"]["status"], "interrupted", "{done:#}");
    }
    editor.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Issue 14: replies, ids and lifecycle messages that used to stop the server or go unanswered.

/// The answer recorded for a request the test sent by hand (raw), by its id.
async fn answer_to(editor: &Editor, id: Value) -> Value {
    editor
        .wait_notification(&format!("an answer with id {id}"), |n| {
            n["method"] == "<response>" && n["params"]["id"] == id
        })
        .await["params"]
        .clone()
}

/// Item 2: malformed replies — unsolicited ones, and the one answering a pending
/// `codex/approval` — while a turn runs. The server keeps serving, the approval is declined
/// (a malformed reply never grants), and the turn completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_replies_stop_nothing_and_never_grant_an_approval() {
    let fixture = Fixture::new(rules()).await;
    let mut capabilities = progress_capabilities();
    capabilities["experimental"] = json!({ "codexApprovals": true });
    let mut editor = fixture.editor(json!({}), capabilities).await;
    editor.answer_with(support::defer("codex/approval"));
    let (_, asked) = editor
        .start_request(
            "workspace/executeCommand",
            json!({ "command": "codex.ask",
                    "arguments": [{ "prompt": "touch accepted.txt", "wait": true, "newThread": true }] }),
        )
        .await;
    let approval = editor
        .wait_for("the approval prompt", || {
            editor
                .server_requests_of("codex/approval")
                .into_iter()
                .next()
        })
        .await;
    // Replies to nothing, each of which stopped the server (JSON-RPC's own answer to an
    // unreadable message; an error that is a string; an id async-lsp cannot hold; an error
    // code that is not a number; an id never sent; both result and error; no jsonrpc).
    for reply in [
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
        r#"{"id":1000000,"error":"boom"}"#,
        r#"{"id":2147483648,"result":null}"#,
        r#"{"id":1000001,"error":{"code":"E","message":"m"}}"#,
        r#"{"jsonrpc":"2.0","id":"nobody-asked","result":{}}"#,
        r#"{"jsonrpc":"2.0","id":1000002,"result":{},"error":{"code":1,"message":"m"}}"#,
        r#"{"jsonrpc":"2.0","id":-5,"result":1.5}"#,
    ] {
        editor.send_raw(reply.as_bytes()).await;
        still_serving(&mut editor).await;
    }
    // The approval's own reply: "accept" with an error beside it. Malformed, so a decline.
    let reply =
        json!({ "id": approval["id"], "result": { "decision": "accept" }, "error": "boom" });
    editor.send(&reply).await;
    let done = tokio::time::timeout(support::WAIT, asked)
        .await
        .expect("the turn completes")
        .unwrap();
    assert_eq!(done["result"]["status"], "completed", "{done:#}");
    assert!(
        !fixture.workspace.join("accepted.txt").exists(),
        "a malformed reply granted the approval"
    );
    still_serving(&mut editor).await;
    // Nothing was answered to a reply (JSON-RPC: a reply gets no reply).
    let answered: Vec<Value> = editor
        .notifications()
        .into_iter()
        .filter(|n| n["method"] == "<response>")
        .collect();
    assert!(answered.is_empty(), "{answered:#?}");
    editor.shutdown().await;
}

/// Item 7: every request is answered. Ids async-lsp cannot hold (past `i32`, fractions) are
/// answered under the editor's own id, with the real result; an id that cannot be an LSP id
/// (`null`) gets -32600 with id null. A turn runs meanwhile and completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_with_any_id_are_answered_under_that_id() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let (_, asked) = editor
        .start_request(
            "workspace/executeCommand",
            json!({ "command": "codex.ask",
                    "arguments": [{ "prompt": "say hello", "wait": true, "newThread": true }] }),
        )
        .await;
    for id in [
        "2147483648",
        "9007199254740992",
        "-2147483649",
        "1.5",
        "\"codex-lsp:id-alias:0\"",
    ] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"workspace/executeCommand","params":{{"command":"codex.clearReview","arguments":[{{}}]}}}}"#
        );
        editor.send_raw(body.as_bytes()).await;
        let id: Value = serde_json::from_str(id).unwrap();
        let answer = answer_to(&editor, id.clone()).await;
        assert_eq!(answer["result"], json!({ "cleared": 0 }), "{id}: {answer}");
    }
    editor
        .send_raw(br#"{"jsonrpc":"2.0","id":null,"method":"workspace/executeCommand","params":{"command":"codex.status"}}"#)
        .await;
    let error = frame_error(&editor, "`id` must be a number or a string").await;
    assert_eq!(error["code"], -32600);
    let done = tokio::time::timeout(support::WAIT, asked)
        .await
        .expect("the turn completes")
        .unwrap();
    assert_eq!(done["result"]["status"], "completed", "{done:#}");
    editor.shutdown().await;
}

/// Item 6: `initialized` before `initialize` or twice, and notifications before `initialize`,
/// are dropped; requests before `initialize` get -32002; `exit` without `shutdown` exits 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_messages_out_of_turn_stop_nothing_and_exit_without_shutdown_is_1() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = Editor::start(fixture.env());
    editor.notify("initialized", json!({})).await;
    editor
        .notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": fixture.file_uri("a.txt"), "languageId": "text",
                    "version": 1, "text": "x" } }),
        )
        .await;
    let early = editor.command("codex.status", json!({})).await.unwrap_err();
    assert_eq!(early["code"], -32002, "{early}");
    let result = editor
        .request(
            "initialize",
            json!({ "processId": null, "rootUri": fixture.workspace_uri(),
                    "capabilities": progress_capabilities() }),
        )
        .await
        .expect("initialize after the early messages");
    assert!(result["capabilities"]["executeCommandProvider"].is_object());
    let again = editor
        .request(
            "initialize",
            json!({ "processId": null, "capabilities": {} }),
        )
        .await
        .unwrap_err();
    assert_eq!(again["code"], -32600, "{again}");
    editor.notify("initialized", json!({})).await;
    editor.notify("initialized", json!({})).await;
    still_serving(&mut editor).await;
    // The early didOpen was dropped: the document is not open.
    let not_open = editor
        .request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": fixture.file_uri("a.txt") },
                    "range": range((0, 0), (0, 0)), "context": { "diagnostics": [] } }),
        )
        .await
        .unwrap_err();
    assert!(
        not_open["message"].as_str().unwrap().contains("not open"),
        "{not_open}"
    );
    editor.notify("exit", Value::Null).await;
    let status = editor
        .wait_exit(support::WAIT)
        .await
        .expect("codex-lsp exits on exit");
    assert_eq!(status.code(), Some(1), "exit without shutdown: {status:?}");
}
