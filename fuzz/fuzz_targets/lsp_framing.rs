//! The editor's byte stream through the stdio guard: `Content-Length` framing, then the
//! JSON-RPC shape check. Never panics; a frame is exactly its declared length; every
//! refusal is a JSON-RPC error response; a bad header block is reported, never fatal.
#![no_main]

use codex_lsp::lsp::framing::{check, frame, read_frame, Frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut reader = tokio::io::BufReader::new(data);
        let mut consumed = 0usize;
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
            if let Err(answer) = check(&body) {
                assert_eq!(answer["jsonrpc"], "2.0");
                let code = answer["error"]["code"].as_i64().expect("error code");
                assert!([-32700, -32600, -32602].contains(&code), "code {code}");
                assert!(answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()));
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
});
