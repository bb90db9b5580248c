//! The LSP half: speaks LSP to the editor over stdio (async-lsp) and knows nothing of the
//! app-server wire. Each file is one LSP concern:
//!
//! - [`server`] — state, router, lifecycle, settings, text sync, progress cancel.
//! - [`commands`] — `workspace/executeCommand`.
//! - [`code_actions`] — `textDocument/codeAction`.
//! - [`editor`] — the bridge's `EditorUi` over the client socket.
//! - [`framing`] — the stdio guard that answers malformed messages.
//! - [`ext`] — codex-lsp's own methods (`codex/turnCompleted`, `codex/event`, `codex/approval`).

pub mod code_actions;
pub mod commands;
pub mod convert;
pub mod editor;
pub mod ext;
pub mod framing;
pub mod server;

use std::num::NonZeroUsize;
use std::sync::Arc;

use async_lsp::client_monitor::ClientProcessMonitorLayer;
use async_lsp::concurrency::ConcurrencyLayer;
use async_lsp::panic::CatchUnwindLayer;
use async_lsp::server::LifecycleLayer;
use async_lsp::tracing::TracingLayer;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use tower::ServiceBuilder;

use crate::logging::LogHandle;

const MAX_REQUESTS_IN_FLIGHT: NonZeroUsize = NonZeroUsize::new(4096).unwrap();

/// Serves LSP on `input`/`output` until the editor exits, closes the stream or dies.
/// Returns the process exit code.
pub async fn serve<R, W>(input: R, output: W, log: LogHandle) -> i32
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let bridge_slot: server::BridgeSlot = Default::default();
    let slot = bridge_slot.clone();
    let (main_loop, _client) = async_lsp::MainLoop::new_server(|client| {
        ServiceBuilder::new()
            .layer(TracingLayer::default())
            .layer(LifecycleLayer::default())
            .layer(CatchUnwindLayer::default())
            // When async-lsp's limit on requests in flight (default: the number of cores) is
            // reached, its main loop waits for a free slot without polling the requests that
            // hold them: as many `codex.ask {wait: true}` as cores froze the server for good.
            // So the limit is far above what an editor sends (it also sizes a map); the layer
            // stays for `$/cancelRequest`.
            .layer(ConcurrencyLayer::new(MAX_REQUESTS_IN_FLIGHT))
            .layer(ClientProcessMonitorLayer::new(client.clone()))
            .service(server::router(client, log, slot))
    });

    let out: framing::SharedOut = Arc::new(tokio::sync::Mutex::new(Box::new(output)));
    let (to_server, server_in) = tokio::io::duplex(1 << 20);
    let (server_out, from_server) = tokio::io::duplex(1 << 20);
    tokio::spawn(framing::guard_input(
        BufReader::new(input),
        to_server,
        out.clone(),
    ));
    let forward = tokio::spawn(framing::forward_output(BufReader::new(from_server), out));

    let result = main_loop
        .run_buffered(server_in.compat(), server_out.compat_write())
        .await;
    let code = match result {
        Ok(()) => 0,
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
