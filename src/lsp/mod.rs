//! The LSP half: speaks LSP to the editor over stdio (async-lsp) and knows nothing of the
//! app-server wire. Each file is one LSP concern:
//!
//! - [`server`] — state, router, lifecycle, settings, text sync, progress cancel.
//! - [`commands`] — `workspace/executeCommand`.
//! - [`code_actions`] — `textDocument/codeAction`.
//! - [`editor`] — the bridge's `EditorUi` over the client socket.
//! - [`to_proto`] / [`from_proto`] — plain values to LSP types and back: every conversion.
//! - [`framing`] — the stdio guard that answers malformed messages.
//! - [`lifecycle`] — `initialize` … `shutdown`, `exit` and the exit code.
//! - [`ext`] — codex-lsp's own methods (`codex/turnCompleted`, `codex/event`, `codex/approval`).

pub mod code_actions;
pub mod commands;
pub mod editor;
pub mod ext;
pub mod framing;
pub mod from_proto;
pub mod lifecycle;
pub mod server;
pub mod to_proto;

use std::sync::Arc;

use async_lsp::client_monitor::ClientProcessMonitorLayer;
use async_lsp::concurrency::ConcurrencyLayer;
use async_lsp::panic::CatchUnwindLayer;
use async_lsp::tracing::TracingLayer;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use tower::ServiceBuilder;

use crate::logging::LogHandle;

/// Requests served at once. async-lsp's default (one per CPU) is far too few: past the limit
/// its main loop stops reading — typing, replies to our own prompts, and the completion of
/// the requests already running — so a few requests waiting on the app-server (`wait: true`
/// asks, a burst of commands) would deadlock the server. Each running request costs a few
/// hundred bytes; the layer keeps up to twice this many finished ones before purging.
const MAX_CONCURRENT_REQUESTS: std::num::NonZeroUsize = match std::num::NonZeroUsize::new(4096) {
    Some(n) => n,
    None => unreachable!(),
};

/// Serves LSP on `input`/`output` until the editor exits, closes the stream or dies.
/// Returns the process exit code.
pub async fn serve<R, W>(input: R, output: W, log: LogHandle) -> i32
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let bridge_slot: server::BridgeSlot = Default::default();
    let slot = bridge_slot.clone();
    let lifecycle = lifecycle::Lifecycle::default();
    let layer = lifecycle.clone();
    let (main_loop, _client) = async_lsp::MainLoop::new_server(|client| {
        ServiceBuilder::new()
            .layer(TracingLayer::default())
            .layer(layer)
            .layer(CatchUnwindLayer::default())
            .layer(ConcurrencyLayer::new(MAX_CONCURRENT_REQUESTS))
            .layer(ClientProcessMonitorLayer::new(client.clone()))
            .service(server::router(client, log, slot))
    });

    let out: framing::SharedOut = Arc::new(tokio::sync::Mutex::new(Box::new(output)));
    let (to_server, server_in) = tokio::io::duplex(1 << 20);
    let (server_out, from_server) = tokio::io::duplex(1 << 20);
    let aliases = Arc::new(framing::IdAliases::default());
    tokio::spawn(framing::guard_input(
        BufReader::new(input),
        to_server,
        out.clone(),
        aliases.clone(),
    ));
    let forward = tokio::spawn(framing::forward_output(
        BufReader::with_capacity(1 << 16, from_server),
        out,
        aliases,
    ));

    let result = main_loop
        .run_buffered(server_in.compat(), server_out.compat_write())
        .await;
    let code = match result {
        // `exit`: 0 after `shutdown`, else 1.
        Ok(()) => lifecycle.exit_code().unwrap_or(0),
        Err(async_lsp::Error::Eof) => {
            tracing::info!("the editor closed stdin");
            0
        }
        Err(e) => {
            tracing::error!("the LSP main loop stopped: {e}");
            1
        }
    };
    // The main loop dropped its output: wait until everything it wrote is on stdout.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), forward).await;
    // Leave no app-server behind (the child also gets SIGKILL when we exit).
    let bridge = bridge_slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(bridge) = bridge {
        bridge.shutdown().await;
    }
    code
}
