//! codex-lsp: a language server that drives the Codex agent through `codex app-server`.
//!
//! Two halves with one seam: [`app_server`] speaks the app-server wire and knows nothing of
//! LSP; `lsp` speaks LSP and knows nothing of the app-server wire. The bridge between
//! them owns the state.

pub mod app_server;
pub mod bridge;
pub mod doctor;
pub mod logging;
pub mod lsp;
pub mod runtime;
pub mod text;
