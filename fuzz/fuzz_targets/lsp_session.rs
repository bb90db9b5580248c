//! A whole editor session against `lsp::serve` with a fake app-server: see
//! `fuzz/harness/lsp_session.rs` for what is played and the invariants checked.
#![no_main]

#[path = "../harness/lsp_session.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
