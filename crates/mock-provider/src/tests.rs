use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn user(text: &str) -> Value {
    json!({ "type": "message", "role": "user", "content": [{ "type": "input_text", "text": text }] })
}

fn body_with(input: Vec<Value>) -> Value {
    json!({ "model": MODEL, "stream": true, "input": input })
}

fn env_context() -> Value {
    user("<environment_context>\n  <cwd>/tmp/x</cwd>\n</environment_context>")
}

/// Sends raw request bytes and reads the whole response (the server closes the connection).
async fn raw(provider: &MockProvider, request: &[u8]) -> String {
    let mut s = TcpStream::connect(provider.addr()).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("response did not finish")
        .unwrap();
    String::from_utf8(out).unwrap()
}

fn post(body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Splits a response into (head, SSE events), checking the framing of every event.
fn parse_sse(response: &str) -> (String, Vec<Value>) {
    let (head, body) = response.split_once("\r\n\r\n").expect("no header end");
    assert!(
        body.ends_with("\n\n"),
        "body must end with a blank line: {body:?}"
    );
    let events = body
        .trim_end_matches('\n')
        .split("\n\n")
        .map(|frame| {
            let mut lines = frame.lines();
            let event = lines
                .next()
                .unwrap()
                .strip_prefix("event: ")
                .expect("event line");
            let data = lines
                .next()
                .unwrap()
                .strip_prefix("data: ")
                .expect("data line");
            assert!(lines.next().is_none(), "one data line per frame");
            let v: Value = serde_json::from_str(data).unwrap();
            assert_eq!(v["type"], event, "event name matches data.type");
            v
        })
        .collect();
    (head.to_string(), events)
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn raw_post_streams_text_as_sse() {
    let provider = MockProvider::start(vec![Rule::new(
        "greet",
        vec![Reply::text("hello there world")],
    )])
    .await
    .unwrap();
    assert_eq!(
        provider.base_url(),
        format!("http://{}/v1", provider.addr())
    );
    let body = body_with(vec![env_context(), user("please greet me")]);
    let response = raw(&provider, &post(&body)).await;
    let (head, events) = parse_sse(&response);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Type: text/event-stream"), "{head}");
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.output_item.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let deltas: Vec<&str> = events[2..5]
        .iter()
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, ["hello ", "there ", "world"]);
    let done = &events[5]["item"];
    assert_eq!(done["type"], "message");
    assert_eq!(done["role"], "assistant");
    assert_eq!(done["content"][0]["text"], "hello there world");
    assert_eq!(done["id"], events[2]["item_id"]);
    let completed = &events[6]["response"];
    assert_eq!(completed["id"], events[0]["response"]["id"]);
    assert_eq!(completed["usage"]["total_tokens"], 11);
    assert_eq!(provider.requests(), vec![body]);
}

#[tokio::test]
async fn chunked_request_body_is_accepted() {
    let provider = MockProvider::start(vec![]).await.unwrap();
    let body = body_with(vec![user("anything")]).to_string();
    let (a, b) = body.split_at(body.len() / 2);
    let request = format!(
        "POST /v1/responses HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let (_, events) = parse_sse(&raw(&provider, request.as_bytes()).await);
    let done = events
        .iter()
        .find(|e| e["type"] == "response.output_item.done")
        .unwrap();
    assert_eq!(done["item"]["content"][0]["text"], DEFAULT_TEXT);
    assert_eq!(
        provider.requests()[0]["input"][0]["content"][0]["text"],
        "anything"
    );
}

#[tokio::test]
async fn tool_calls_have_the_shapes_codex_expects() {
    let provider = MockProvider::start(vec![
        Rule::new("patch", vec![Reply::apply_patch_add("a.txt", "x\n")]),
        Rule::new("run", vec![Reply::exec_escalated("touch f", "need it")]),
    ])
    .await
    .unwrap();
    let (_, events) = parse_sse(&raw(&provider, &post(&body_with(vec![user("patch")]))).await);
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.output_item.added",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let item = &events[2]["item"];
    assert_eq!(item["type"], "custom_tool_call");
    assert_eq!(item["name"], "apply_patch");
    assert_eq!(
        item["input"],
        "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\n"
    );
    let patch_call_id = item["call_id"].as_str().unwrap().to_string();

    let (_, events) = parse_sse(&raw(&provider, &post(&body_with(vec![user("run")]))).await);
    let item = &events[2]["item"];
    assert_eq!(item["type"], "function_call");
    assert_eq!(item["name"], "exec_command");
    assert_ne!(
        item["call_id"],
        patch_call_id.as_str(),
        "call ids are unique"
    );
    let args: Value = serde_json::from_str(item["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        args,
        json!({ "cmd": "touch f", "sandbox_permissions": "require_escalated", "justification": "need it" })
    );
}

#[tokio::test]
async fn failures_and_other_endpoints() {
    let provider = MockProvider::start(vec![
        Rule::new("busy", vec![Reply::Overloaded]),
        Rule::new("boom", vec![Reply::HttpError(500)]),
    ])
    .await
    .unwrap();
    let (_, events) = parse_sse(&raw(&provider, &post(&body_with(vec![user("busy")]))).await);
    assert_eq!(types(&events), ["response.created", "response.failed"]);
    assert_eq!(
        events[1]["response"]["error"]["code"],
        "server_is_overloaded"
    );

    let response = raw(&provider, &post(&body_with(vec![user("boom")]))).await;
    assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(serde_json::from_str::<Value>(body).unwrap()["error"].is_object());

    let response = raw(&provider, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(response.starts_with("HTTP/1.1 404 "), "{response}");
    assert_eq!(
        provider.requests().len(),
        2,
        "only /responses bodies are recorded"
    );
}

#[tokio::test]
async fn hang_holds_the_stream_until_the_provider_is_dropped() {
    let provider = MockProvider::start(vec![Rule::new("wait", vec![Reply::Hang])])
        .await
        .unwrap();
    let mut s = TcpStream::connect(provider.addr()).await.unwrap();
    s.write_all(&post(&body_with(vec![user("wait")])))
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // The head and response.created arrive, then nothing.
    while !String::from_utf8_lossy(&got).contains("response.created\ndata") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let more = tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await;
    assert!(more.is_err(), "a hung stream must not send more");
    assert_eq!(provider.requests().len(), 1, "recorded before replying");
    drop(provider);
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("dropping the provider closes hung streams")
        .unwrap_or(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn slow_text_waits_between_chunks() {
    let provider = MockProvider::start(vec![Rule::new(
        "slow",
        vec![Reply::slow_text("a b c", Duration::from_millis(100))],
    )])
    .await
    .unwrap();
    let started = std::time::Instant::now();
    raw(&provider, &post(&body_with(vec![user("slow")]))).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[test]
fn step_counts_tool_outputs_after_the_last_user_message() {
    let rules = vec![
        Rule::new(
            "edit",
            vec![Reply::apply_patch_delete("x"), Reply::exec("ls")],
        ),
        Rule::new("edit", vec![Reply::text("shadowed by the first rule")]),
    ];
    let call =
        json!({ "type": "custom_tool_call", "call_id": "c1", "name": "apply_patch", "input": "" });
    let out = json!({ "type": "custom_tool_call_output", "call_id": "c1", "output": "ok" });
    let fout = json!({ "type": "function_call_output", "call_id": "c2", "output": "ok" });

    let step0 = body_with(vec![env_context(), user("please edit")]);
    assert_eq!(choose_reply(&step0, &rules), Reply::apply_patch_delete("x"));

    let step1 = body_with(vec![user("please edit"), call.clone(), out.clone()]);
    assert_eq!(choose_reply(&step1, &rules), Reply::exec("ls"));

    let step2 = body_with(vec![user("please edit"), call, out.clone(), fout.clone()]);
    assert_eq!(choose_reply(&step2, &rules), Reply::text(DONE_TEXT));

    // Earlier turns' outputs do not count; injected context after the prompt is skipped.
    let next_turn = body_with(vec![
        user("please edit"),
        out,
        fout,
        user("now edit again"),
        user("<turn_aborted>\ninterrupted\n</turn_aborted>"),
    ]);
    assert_eq!(
        choose_reply(&next_turn, &rules),
        Reply::apply_patch_delete("x")
    );

    let unmatched = body_with(vec![user("something else")]);
    assert_eq!(choose_reply(&unmatched, &rules), Reply::text(DEFAULT_TEXT));
    assert_eq!(choose_reply(&json!({}), &rules), Reply::text(DEFAULT_TEXT));
}

#[test]
fn a_rule_scripts_its_usage() {
    let rules = vec![
        Rule::new("big", vec![Reply::text("x")]).with_usage(50_000, 700),
        Rule::new("small", vec![Reply::text("y")]),
    ];
    let body = |prompt| body_with(vec![user(prompt)]);
    assert_eq!(choose_usage(&body("a big one"), &rules), (50_000, 700));
    assert_eq!(choose_usage(&body("a small one"), &rules), USAGE);
    assert_eq!(choose_usage(&body("unmatched"), &rules), USAGE);
}

#[test]
fn text_is_split_into_word_chunks() {
    assert_eq!(split_words("a  b\nc "), ["a  ", "b\n", "c "]);
    assert_eq!(split_words(""), [""]);
    assert_eq!(split_words("one"), ["one"]);
}

#[test]
fn patch_builder_covers_add_update_delete() {
    let patch = PatchBuilder::new()
        .add("n.txt", "1\n2")
        .update("a.txt", "old\n", "new\nnewer\n")
        .delete("d.txt")
        .build();
    assert_eq!(
        patch,
        "*** Begin Patch\n\
         *** Add File: n.txt\n+1\n+2\n\
         *** Update File: a.txt\n@@\n-old\n+new\n+newer\n\
         *** Delete File: d.txt\n\
         *** End Patch\n"
    );
}

#[test]
fn codex_home_config_names_the_provider() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("codex-home");
    write_codex_home(&dir, "http://127.0.0.1:1234/v1").unwrap();
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(config.contains("model = \"gpt-5.5\"\n"));
    assert!(config.contains("model_provider = \"mock_provider\"\n"));
    assert!(config.contains("[model_providers.mock_provider]\n"));
    assert!(config.contains("base_url = \"http://127.0.0.1:1234/v1\"\n"));
    assert!(config.contains("wire_api = \"responses\"\n"));
    assert!(config.contains("request_max_retries = 0\n"));
    assert!(config.contains("stream_max_retries = 0\n"));
}

#[test]
fn request_head_is_parsed_by_httparse() {
    let head = b"POST /v1/responses?x=1 HTTP/1.1\r\nHost: a\r\ncontent-LENGTH: 12\r\nTransfer-Encoding: gzip, Chunked\r\n\r\nbody";
    let parsed = parse_head(head).unwrap().expect("a complete head");
    assert_eq!(parsed.method, "POST");
    assert_eq!(parsed.path, "/v1/responses?x=1");
    assert_eq!(parsed.content_length, 12);
    assert!(parsed.chunked);
    assert_eq!(&head[parsed.len..], b"body");
    // Every prefix short of the blank line is "not all there yet".
    let end = head.len() - 4;
    for cut in 0..end {
        assert!(parse_head(&head[..cut]).unwrap().is_none(), "cut at {cut}");
    }
    assert!(parse_head(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n").is_err());
    assert!(parse_head(b"POST / HTTP/1.1\r\nBad Header\r\n\r\n").is_err());
    assert!(parse_head(b"\x01\x02 garbage\r\n\r\n").is_err());
}

#[tokio::test]
async fn a_head_split_across_reads_is_served() {
    let provider = MockProvider::start(vec![]).await.unwrap();
    let request = post(&body_with(vec![user("hello")]));
    let mut s = TcpStream::connect(provider.addr()).await.unwrap();
    let (first, rest) = request.split_at(20);
    s.write_all(first).await.unwrap();
    s.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.write_all(rest).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("response did not finish")
        .unwrap();
    let (head, events) = parse_sse(&String::from_utf8(out).unwrap());
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert_eq!(events.last().unwrap()["type"], "response.completed");
}

#[tokio::test]
async fn a_malformed_head_gets_400_and_the_provider_keeps_serving() {
    let provider = MockProvider::start(vec![]).await.unwrap();
    let response = raw(&provider, b"\x01\x02 garbage\r\n\r\n").await;
    assert!(
        response.starts_with("HTTP/1.1 400 Bad Request"),
        "{response}"
    );
    assert!(response.contains("bad request head"), "{response}");
    let response = raw(&provider, &post(&body_with(vec![user("hello")]))).await;
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
}
