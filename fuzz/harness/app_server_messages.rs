//! The app-server's JSONL stream as codex-lsp reads it: the connection's reader, router and
//! server-request handling, the typed decoding of every notification, server request and a
//! response, and what the bridge derives from events (turn results, progress text, approval
//! summaries). Never panics, whatever the lines hold; every server request gets an answer.
//!
//! Shared by the `app_server_messages` fuzz target and `tests/fuzz_seeds.rs` (its seeds and a short seeded
//! random run inside `cargo test`).

use std::sync::Arc;

use codex_lsp::app_server::client::decline_all;
use codex_lsp::app_server::connection::{decline_answer, Connection};
use codex_lsp::app_server::error::Closed;
use codex_lsp::app_server::protocol::{ServerRequest, ThreadStartParams};
use codex_lsp::app_server::transport::{
    JsonLinesReader, JsonLinesWriter, TransportParts, TransportStatus,
};
use codex_lsp::app_server::TurnCollector;
use codex_lsp::bridge::text_formats::summarize_changes;
use codex_lsp::bridge::Activity;
use futures::future::BoxFuture;
use tokio::io::AsyncReadExt;

struct Ended;

impl TransportStatus for Ended {
    fn closed(&self) -> BoxFuture<'_, Closed> {
        Box::pin(async {
            Closed {
                reason: "end of fuzz input".into(),
                stderr_tail: String::new(),
            }
        })
    }
}

/// One input; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // What codex-lsp writes back (answers to server requests) goes to a pipe we read.
        let (to_us, mut written) = tokio::io::duplex(1 << 20);
        let parts = TransportParts {
            reader: Box::new(JsonLinesReader::new(std::io::Cursor::new(data.to_vec()))),
            writer: Box::new(JsonLinesWriter::new(to_us)),
            status: Arc::new(Ended),
            keep_alive: Box::new(()),
            pid: None,
        };
        let connection = Connection::start(parts, decline_all());
        let mut events = connection.subscribe_all();
        // Request id 1: a response line in the input answers it.
        let request = {
            let connection = connection.clone();
            tokio::spawn(async move {
                let _ = connection.send(&ThreadStartParams::default()).await;
            })
        };
        let mut collector = TurnCollector::new("t", "u");
        let mut activity = Activity::new();
        while let Some(event) = events.recv().await {
            let params = event.params_value();
            let decoded = event.decode();
            collector.observe_notification(&decoded);
            let _ = activity.observe(&decoded, None);
            if let Some(item) = params.get("item") {
                let _ = summarize_changes(item);
            }
        }
        let _ = collector.finish();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), request).await;
        connection.close();
        drop(connection);
        let mut answers = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            written.read_to_end(&mut answers),
        )
        .await;
        // Whatever came in as a server request decodes and has a "no".
        for line in data.split(|&b| b == b'\n') {
            if let Ok(message) = serde_json::from_slice::<serde_json::Value>(line) {
                if let (Some(method), Some(_)) = (message["method"].as_str(), message.get("id")) {
                    let _ = ServerRequest::decode(method, message["params"].clone()).decline();
                    let _ = decline_answer(method);
                }
            }
        }
    });
}
