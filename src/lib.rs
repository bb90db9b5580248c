//! codex-lsp: a language server that drives the Codex agent through `codex app-server`.
//!
//! Two halves with one seam: [`app_server`] speaks the app-server wire and knows nothing of
//! LSP; `lsp` speaks LSP and knows nothing of the app-server wire. The bridge between
//! them owns the state.

pub mod app_server;
pub mod backoff;
pub mod bridge;
pub mod doctor;
pub mod logging;
pub mod lsp;
pub mod runtime;
pub mod runtime_install;
mod struct_fields;
pub mod text;

/// Locks a std mutex, the one way codex-lsp does. A panic while it was held is caught where
/// it happened (a request's handler, a task) and the server keeps serving; no lock is held
/// across a step that could leave its data half-changed, so the data is taken as it is.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
