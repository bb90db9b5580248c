//! The editor's byte stream through the stdio guard: `Content-Length` framing, then the
//! JSON-RPC shape check. Never panics; a frame is exactly its declared length; every
//! refusal is a JSON-RPC error response; a bad header block is reported, never fatal; what
//! is passed on to async-lsp decodes there as what it is (a request keeps an id async-lsp
//! can carry, a reply has an `i32` id and a readable error).
#![no_main]

#[path = "../harness/lsp_framing.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
