//! Arbitrary JSON-RPC bodies through the whole language server (`lsp::serve`): the stdio
//! guard, async-lsp's router and every handler, after a normal `initialize`/`initialized`.
//!
//! The input is a list of message bodies separated by 0xFF (a byte UTF-8 never uses). No
//! app-server runs: `codexPath` names a file that does not exist, and bodies that set
//! `codexPath` are dropped, so the fuzzer can never make codex-lsp start a program.
//!
//! Invariants: never panics, never hangs; and the server still answers a request sent
//! after the fuzzed ones.
#![no_main]

#[path = "../harness/lsp_dispatch.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
