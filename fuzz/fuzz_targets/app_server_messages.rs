//! The app-server's JSONL stream as codex-lsp reads it: the connection's reader, router and
//! server-request handling, the typed decoding of every notification, server request and a
//! response, and what the bridge derives from events (turn results, progress text, approval
//! summaries). Never panics, whatever the lines hold; every server request gets an answer.
#![no_main]

#[path = "../harness/app_server_messages.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
