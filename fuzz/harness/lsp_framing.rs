//! The editor's byte stream through the stdio guard: `Content-Length` framing, then the
//! JSON-RPC shape check. Never panics; a frame is exactly its declared length; every
//! refusal is a JSON-RPC error response; a bad header block is reported, never fatal; what
//! is passed on to async-lsp decodes there as what it is (a request keeps an id async-lsp
//! can carry, a reply has an `i32` id and a readable error).
//!
//! Shared by the `lsp_framing` fuzz target and `tests/fuzz_seeds.rs` (its seeds and a short seeded
//! random run inside `cargo test`).

use codex_lsp::lsp::framing::{check, frame, read_frame, Frame, IdAliases, Verdict};
use serde_json::Value;

/// One input; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut reader = tokio::io::BufReader::new(data);
        let mut consumed = 0usize;
        let aliases = IdAliases::default();
        while let Ok(Some(next)) = read_frame(&mut reader).await {
            let body = match next {
                Frame::Body(body) => body,
                Frame::BadHeader(why) => {
                    assert!(!why.is_empty());
                    continue;
                }
            };
            consumed += body.len();
            assert!(consumed <= data.len(), "a frame longer than the input");
            let (answer, passed) = match check(&body, &aliases) {
                Verdict::Pass => (None, Some(body.clone())),
                Verdict::Rewrite(bytes) => (None, Some(bytes)),
                Verdict::Answer(answer) => (Some(answer), None),
                Verdict::AnswerAndPass(answer, bytes) => (Some(answer), Some(bytes)),
                Verdict::Drop(why) => {
                    assert!(!why.is_empty());
                    (None, None)
                }
            };
            if let Some(answer) = answer {
                assert_eq!(answer["jsonrpc"], "2.0");
                let code = answer["error"]["code"].as_i64().expect("error code");
                assert!([-32700, -32600, -32602].contains(&code), "code {code}");
                assert!(answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()));
            }
            if let Some(passed) = passed {
                let value: Value = serde_json::from_slice(&passed).expect("JSON passes on");
                let request = serde_json::from_value::<async_lsp::AnyRequest>(value.clone());
                match (value.get("method"), value.get("id")) {
                    (Some(_), Some(_)) => assert!(request.is_ok(), "{value}"),
                    (Some(_), None) => assert!(request.is_err(), "{value}"),
                    (None, id) => {
                        let id = id
                            .and_then(Value::as_i64)
                            .expect("a reply has an integer id");
                        assert!(i32::try_from(id).is_ok(), "{value}");
                        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
                            assert!(
                                serde_json::from_value::<async_lsp::ResponseError>(error.clone())
                                    .is_ok(),
                                "{value}"
                            );
                        }
                    }
                }
            }
            // What we frame, we read back whole.
            let framed = frame(&body);
            let mut again = tokio::io::BufReader::new(&framed[..]);
            assert_eq!(
                read_frame(&mut again).await.ok().flatten(),
                Some(Frame::Body(body))
            );
        }
    });
}
