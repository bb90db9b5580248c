//! The app-server slot: the one app-server we talk to — our own child on stdio, or a
//! shared one over a socket (`shared_app_server`) — started on demand, restarted after a
//! crash, a hang or a settings change, and stopped at shutdown. It owns the connection, its
//! generation (which incarnation is current: threads are resumed on a new one, and the
//! watcher of a retired one stays quiet) and the flags that decide when to restart.

mod runtime_setup;
mod shared_app_server;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use super::server_requests::Handler;
use super::settings::{self, Settings};
use super::{Bridge, BridgeError, BridgeResult, MessageLevel, StartError};
use crate::app_server::{protocol as p, Codex, Endpoint, SpawnOptions};

/// The running app-server.
struct AppServer {
    codex: Codex,
    /// Where a shared app-server listens; `None` for our own child.
    endpoint: Option<Endpoint>,
}

#[derive(Default)]
pub(super) struct AppServerSlot {
    /// Held across starting one, so that two requests never start two.
    server: tokio::sync::Mutex<Option<AppServer>>,
    /// The current incarnation: bumped when one is retired and when one starts (changed
    /// only with `server` held).
    generation: AtomicU64,
    /// New settings need a new app-server, started once no turn runs.
    restart_pending: AtomicBool,
    shutting_down: AtomicBool,
    /// What following a shared app-server needs (reconnecting, other clients' turns).
    shared: shared_app_server::SharedState,
    /// An install of the runtime from the editor (`codex.installRuntime`).
    runtime_setup: runtime_setup::RuntimeSetup,
}

impl AppServerSlot {
    /// Restart on the next request made while no turn runs.
    pub(super) fn restart_when_idle(&self) {
        self.restart_pending.store(true, Ordering::SeqCst);
    }

    /// True when the app-server we hold has stopped (it restarts on the next request).
    pub(super) async fn died(&self) -> bool {
        self.server
            .lock()
            .await
            .as_ref()
            .is_some_and(|server| server.codex.connection().is_closed())
    }

    /// Stops the app-server we hold because it answers nothing; the next request starts a
    /// new one.
    pub(super) async fn stop_hung(&self, reason: &str) {
        if let Some(server) = self.server.lock().await.as_ref() {
            tracing::warn!("the app-server is hung: {reason}");
            server.codex.connection().close_because(reason);
        }
    }

    /// The app-server we hold, if it is running (none is started for this).
    pub(super) async fn running(&self) -> Option<Codex> {
        let server = self.server.lock().await;
        server
            .as_ref()
            .filter(|s| !s.codex.connection().is_closed())
            .map(|s| s.codex.clone())
    }

    /// The app-server's part of `codex.status`.
    pub(super) async fn status_json(&self) -> Value {
        let server = self.server.lock().await;
        match server.as_ref() {
            Some(s) if !s.codex.connection().is_closed() => json!({
                "state": "running",
                "endpoint": s.endpoint.as_ref().map_or_else(|| "spawn".to_string(), |e| e.to_string()),
                "userAgent": s.codex.info().user_agent,
                "version": s.codex.info().version.as_ref().map(|v| v.to_string()),
                "codexHome": s.codex.info().codex_home,
                "runtime": s.codex.info().runtime.as_ref().map(|r| json!({
                    "path": r.codex.display().to_string(),
                    "package": r.package(),
                    "source": r.source.name(),
                    "why": r.source.reason(),
                })),
                "generation": self.generation.load(Ordering::SeqCst),
            }),
            _ if self.shared.is_reconnecting() => json!({ "state": "reconnecting" }),
            Some(_) => json!({ "state": "stopped" }),
            None => json!({ "state": "not started" }),
        }
    }
}

impl Bridge {
    /// Starts the app-server without waiting for it, so `initialize` answers at once and
    /// a missing runtime is reported early.
    pub fn start_in_background(&self) {
        self.changes_load();
        let bridge = self.clone();
        tokio::spawn(async move {
            match bridge.codex().await {
                Ok((codex, _)) => bridge.adopt_last_threads(&codex).await,
                Err(e) => tracing::warn!("the app-server did not start: {e}"),
            }
        });
    }

    /// Stops the app-server. Running turns end with the transport closed.
    pub async fn shutdown(&self) {
        let slot = &self.inner.app_server;
        slot.shutting_down.store(true, Ordering::SeqCst);
        let server = slot.server.lock().await.take();
        self.inner.turns.clear();
        // Running turn handles hold clones of the connection: close it so the app-server
        // goes now, not when the last handle is dropped.
        if let Some(server) = server {
            server.codex.connection().close();
        }
    }

    /// The app-server, started (or restarted after a crash or a settings change) on demand;
    /// with `appServer` set to a socket, connected to instead.
    pub(super) async fn codex(&self) -> BridgeResult<(Codex, u64)> {
        self.codex_or_connect(true).await
    }

    /// [`Bridge::codex`]; `report` shows a failure to the user (once per text).
    async fn codex_or_connect(&self, report: bool) -> BridgeResult<(Codex, u64)> {
        let this = &self.inner.app_server;
        if this.shutting_down.load(Ordering::SeqCst) {
            return Err(BridgeError::ShuttingDown);
        }
        let mut slot = this.server.lock().await;
        let restart = this.restart_pending.load(Ordering::SeqCst) && self.inner.turns.is_empty();
        if let Some(server) = slot.as_ref() {
            if !server.codex.connection().is_closed() && !restart {
                return Ok((server.codex.clone(), this.generation.load(Ordering::SeqCst)));
            }
        }
        this.restart_pending.store(false, Ordering::SeqCst);
        if let Some(old) = slot
            .take()
            .filter(|old| !old.codex.connection().is_closed())
        {
            // Settings changed: the old process (or socket) goes now, not when the last
            // clone of its connection does. Retired first, so that its watcher neither
            // reports it stopped nor reconnects it.
            this.generation.fetch_add(1, Ordering::SeqCst);
            old.codex.connection().close();
        }
        let settings = self.settings();
        let handler = Arc::new(Handler {
            bridge: Arc::downgrade(&self.inner),
        });
        let started = match settings.app_server.is_shared() {
            false => self.spawn_app_server(&settings, handler).await,
            true => self.connect_app_server(&settings, handler).await,
        };
        let (codex, endpoint) = match started {
            Ok(started) => started,
            Err(why) => {
                // While reconnecting, the editor has been told already: the request's
                // error carries the reason.
                if report && !this.shared.is_reconnecting() {
                    self.report_once(MessageLevel::Error, why.to_string());
                }
                return Err(BridgeError::NotStarted(why));
            }
        };
        // An app-server that answers nothing for as long as a turn may stay silent is hung.
        codex
            .connection()
            .set_answer_timeout(settings::turn_silence());
        let codex = match settings::seconds_from_env(settings::ENV_TURN_SILENCE) {
            Some(silence) => {
                codex.with_watchdog(crate::app_server::Watchdog::with_silence(silence))
            }
            None => codex,
        };
        let generation = this.generation.fetch_add(1, Ordering::SeqCst) + 1;
        tracing::info!(generation, version = ?codex.info().version, endpoint = ?endpoint, "app-server started");
        self.watch_app_server(codex.clone(), generation, endpoint.clone());
        self.watch_rate_limits(&codex);
        let shared = endpoint.is_some();
        *slot = Some(AppServer {
            codex: codex.clone(),
            endpoint,
        });
        drop(slot);
        if shared {
            self.follow_workspace_threads(codex.clone(), generation);
        }
        Ok((codex, generation))
    }

    /// Our own `codex app-server` child on stdio.
    async fn spawn_app_server(
        &self,
        settings: &Settings,
        handler: Arc<Handler>,
    ) -> Result<(Codex, Option<Endpoint>), StartError> {
        let runtime = crate::runtime::discover(settings.codex_path.as_deref())
            .map_err(|e| StartError::Runtime(e.to_string()))?;
        let mut options = SpawnOptions::new(runtime);
        options.config_overrides = settings.config_overrides.clone();
        options.cwd = self.inner.workspace.first_folder();
        match Codex::spawn(&options, handler).await {
            Ok(codex) => Ok((codex, None)),
            Err(e) => Err(StartError::Spawn(e)),
        }
    }

    /// Records `fileChange` items for approvals, and says so once when the app-server dies
    /// (a shared one: reconnects).
    fn watch_app_server(&self, codex: Codex, generation: u64, endpoint: Option<Endpoint>) {
        let mut events = codex.connection().subscribe_method("item/started");
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let p::ServerNotification::ItemStarted(p::ItemStartedNotification {
                    item: p::ThreadItem::FileChange(item),
                    ..
                }) = event.decode()
                {
                    let Some(inner) = weak.upgrade() else { return };
                    inner.turns.remember_file_change(item);
                }
            }
            let closed = codex.connection().wait_closed().await;
            let Some(inner) = weak.upgrade() else { return };
            let bridge = Bridge { inner };
            let slot = &bridge.inner.app_server;
            let current = slot.generation.load(Ordering::SeqCst) == generation;
            if current && !slot.shutting_down.load(Ordering::SeqCst) {
                if let Some(endpoint) = endpoint {
                    bridge.reconnect(endpoint, closed);
                    return;
                }
                tracing::warn!("the app-server stopped: {closed}");
                bridge.inner.ui.show_message(
                    MessageLevel::Error,
                    super::error::app_server_stopped(&closed.reason),
                );
            }
        });
    }
}
