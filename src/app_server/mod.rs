//! The app-server half: everything that speaks `codex app-server`'s JSON-RPC wire.
//! Nothing here knows LSP.

pub mod protocol;
