//! A shared app-server (`appServer` = `unix://…` or `ws://…`): connecting with the user's
//! token, reconnecting with backoff when the connection drops (the editor is told once), and
//! following the workspace's threads — including turns another client started on them, whose
//! progress and edits this session shows too.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::app_server::connection::NotificationReceiver;
use crate::app_server::error::Closed;
use crate::app_server::socket::{default_control_socket, is_loopback};
use crate::app_server::{protocol as p, Codex, Endpoint};
use crate::backoff::Backoff;
use crate::bridge::conversation::registry::TurnKind;
use crate::bridge::server_requests::Handler;
use crate::bridge::settings::{AppServerSetting, Settings};
use crate::bridge::{Bridge, MessageLevel, StartError};
use crate::lock;

/// The waits before reconnecting: the first, and the longest.
const RECONNECT_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(250),
    max: Duration::from_secs(5),
};
/// How long a turn another client started waits for our own `turn/start` on the same
/// thread to answer, before it is taken for a foreign turn.
const OWN_START_WAIT: Duration = Duration::from_secs(30);

#[derive(Default)]
pub(super) struct SharedState {
    reconnecting: AtomicBool,
    /// Threads whose turns we follow, with the app-server generation they were followed in.
    followed: std::sync::Mutex<HashMap<String, u64>>,
}

impl SharedState {
    pub(super) fn is_reconnecting(&self) -> bool {
        self.reconnecting.load(Ordering::SeqCst)
    }
}

/// Where `settings` say the shared app-server is, with its token; or why we will not go.
pub(super) fn endpoint(settings: &Settings) -> Result<Endpoint, String> {
    match &settings.app_server {
        AppServerSetting::Spawn => Err("`appServer` is \"spawn\", not a socket".into()),
        AppServerSetting::Unix(Some(path)) => Ok(Endpoint::Unix(path.clone())),
        AppServerSetting::Unix(None) => default_control_socket().map(Endpoint::Unix).ok_or_else(|| {
            "`appServer` is \"unix://\" but neither CODEX_HOME nor HOME is set; give the socket's path (unix:///PATH)".into()
        }),
        AppServerSetting::Ws { host, port } => {
            let token = match (&settings.app_server_token, &settings.app_server_token_file) {
                (Some(token), _) => Some(token.0.clone()),
                (None, Some(file)) => Some(read_token_file(file)?),
                (None, None) => None,
            };
            if token.is_none() && !is_loopback(host) {
                return Err(format!(
                    "refusing to connect to ws://{host}:{port} without a token: it is not this machine, and whoever can reach that port can run commands and edit files through the agent. Set `appServerToken` or `appServerTokenFile` (the server's `--ws-auth` token), or forward the port over SSH and use ws://127.0.0.1:{port}."
                ));
            }
            Ok(Endpoint::Ws {
                host: host.clone(),
                port: *port,
                token,
            })
        }
    }
}

/// The token in `file`, trimmed (the server trims its `--ws-token-file` the same way).
fn read_token_file(file: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        format!(
            "could not read `appServerTokenFile` {}: {e}",
            file.display()
        )
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("`appServerTokenFile` {} is empty", file.display()));
    }
    Ok(token.to_string())
}

impl Bridge {
    /// Connects to the shared app-server the settings name.
    pub(super) async fn connect_app_server(
        &self,
        settings: &Settings,
        handler: Arc<Handler>,
    ) -> Result<(Codex, Option<Endpoint>), StartError> {
        let endpoint = endpoint(settings).map_err(StartError::Endpoint)?;
        match Codex::connect_shared(&endpoint, handler).await {
            Ok(codex) => Ok((codex, Some(endpoint))),
            Err(e) => Err(StartError::Connect(e)),
        }
    }

    /// The connection to a shared app-server dropped: say so once, then reconnect with
    /// backoff until it is back (or codex-lsp stops, or a request reconnected first).
    pub(super) fn reconnect(&self, endpoint: Endpoint, closed: Closed) {
        let slot = &self.inner.app_server;
        if slot.shared.reconnecting.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::warn!("lost the connection to the shared app-server: {closed}");
        self.inner.ui.show_message(
            MessageLevel::Warning,
            format!(
                "lost the connection to the shared app-server at {endpoint} ({}); reconnecting…",
                closed.reason
            ),
        );
        let bridge = self.clone();
        tokio::spawn(async move {
            let mut attempts = 0u32;
            loop {
                tokio::time::sleep(RECONNECT_BACKOFF.delay(attempts + 1)).await;
                // Stopping, or the user has since chosen another app-server.
                let slot = &bridge.inner.app_server;
                if slot.shutting_down.load(Ordering::SeqCst)
                    || !bridge.settings().app_server.is_shared()
                {
                    break;
                }
                attempts += 1;
                match bridge.codex_or_connect(false).await {
                    Ok(_) => {
                        tracing::info!(attempts, "reconnected to the shared app-server");
                        let endpoint = slot
                            .server
                            .lock()
                            .await
                            .as_ref()
                            .and_then(|s| s.endpoint.as_ref().map(ToString::to_string))
                            .unwrap_or_else(|| endpoint.to_string());
                        bridge.inner.ui.show_message(
                            MessageLevel::Info,
                            format!("reconnected to the shared app-server at {endpoint}."),
                        );
                        break;
                    }
                    Err(e) => tracing::debug!(attempts, "reconnecting failed: {e}"),
                }
            }
            let slot = &bridge.inner.app_server;
            slot.shared.reconnecting.store(false, Ordering::SeqCst);
        });
    }

    /// On a shared app-server, the workspace folders' threads are resumed as soon as we
    /// connect, so that turns other clients run on them show here too. Never starts one.
    pub(in crate::bridge) fn follow_workspace_threads(&self, codex: Codex, generation: u64) {
        let bridge = self.clone();
        tokio::spawn(async move {
            for folder in bridge.folders() {
                let mut threads = bridge.inner.threads.lock().await;
                let id = match threads.folder_thread(&folder) {
                    Some(id) => Some(id),
                    None => bridge.last_thread_of(&codex, Some(&folder)).await,
                };
                let Some(id) = id else { continue };
                if !threads.is_loaded(generation, &id) {
                    if let Err(e) = bridge.resume(&codex, &id, Some(&folder)).await {
                        tracing::info!(thread = %id, "could not resume the workspace's thread: {e}");
                        continue;
                    }
                    threads.mark_loaded(generation, &id);
                }
                threads.set_folder_thread(folder, &id);
                drop(threads);
                bridge.follow_thread(&codex, generation, &id);
            }
        });
    }

    /// Watches a loaded thread for turns we did not start (another client on the shared
    /// app-server) and follows them like our own. Only on a shared app-server: our own
    /// child has no other client.
    pub(in crate::bridge) fn follow_thread(&self, codex: &Codex, generation: u64, thread_id: &str) {
        if !self.settings().app_server.is_shared() || codex.connection().peer_pid().is_some() {
            return;
        }
        {
            let mut followed = lock(&self.inner.app_server.shared.followed);
            if followed.get(thread_id) == Some(&generation) {
                return;
            }
            followed.insert(thread_id.to_string(), generation);
        }
        let events = codex.connection().subscribe_thread(thread_id);
        tokio::spawn(
            self.clone()
                .watch_thread(codex.clone(), thread_id.to_string(), events),
        );
    }

    async fn watch_thread(self, codex: Codex, thread_id: String, mut events: NotificationReceiver) {
        while let Some(event) = events.recv().await {
            if event.method != "turn/started" {
                continue;
            }
            let p::ServerNotification::TurnStarted(p::TurnStartedNotification { turn, .. }) =
                event.decode()
            else {
                continue;
            };
            if turn.id.is_empty() {
                continue;
            }
            // A review's child turn is followed by whoever follows its root turn.
            if turn
                .root_turn_id
                .as_ref()
                .is_some_and(|root| *root != turn.id)
            {
                continue;
            }
            // The queue that saw `turn/started` holds the rest of that turn: it goes to
            // whoever follows the turn, and a fresh queue watches for the next one.
            let next = codex.connection().subscribe_thread(&thread_id);
            let this_turn = std::mem::replace(&mut events, next);
            tokio::spawn(self.clone().follow_foreign_turn(
                codex.clone(),
                thread_id.clone(),
                turn,
                this_turn,
            ));
        }
        tracing::debug!(thread = %thread_id, "stopped watching the thread (connection closed)");
    }

    /// Follows a turn unless it turns out to be our own (registered once our start settles).
    async fn follow_foreign_turn(
        self,
        codex: Codex,
        thread_id: String,
        turn: p::Turn,
        events: NotificationReceiver,
    ) {
        let deadline = tokio::time::Instant::now() + OWN_START_WAIT;
        loop {
            let settled = self.inner.turns.starts_settled();
            if !self.inner.turns.start_in_flight(&thread_id) {
                break;
            }
            if tokio::time::timeout_at(deadline, settled).await.is_err() {
                break;
            }
        }
        if self.inner.turns.is_running(&turn.id) {
            return;
        }
        tracing::info!(thread = %thread_id, turn = %turn.id, "following a turn another client started");
        let folder = self.folder_of_thread(&thread_id).await;
        let handle = codex.attach_turn_with(&thread_id, turn, events);
        self.follow_turn(handle, folder, TurnKind::Followed);
    }

    async fn folder_of_thread(&self, thread_id: &str) -> Option<PathBuf> {
        let threads = self.inner.threads.lock().await;
        self.folders()
            .into_iter()
            .find(|f| threads.folder_thread(f).as_deref() == Some(thread_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::settings::Secret;

    fn ws(host: &str) -> Settings {
        Settings {
            app_server: AppServerSetting::Ws {
                host: host.into(),
                port: 4500,
            },
            ..Settings::default()
        }
    }

    #[test]
    fn a_remote_ws_without_a_token_is_refused_and_says_why() {
        let why = endpoint(&ws("10.1.2.3")).unwrap_err();
        assert!(
            why.contains("refusing to connect to ws://10.1.2.3:4500 without a token")
                && why.contains("appServerToken")
                && why.contains("SSH"),
            "{why}"
        );
        assert!(endpoint(&ws("127.0.0.1")).is_ok());
        let with_token = Settings {
            app_server_token: Some(Secret("t".into())),
            ..ws("10.1.2.3")
        };
        assert!(endpoint(&with_token).is_ok());
    }

    #[test]
    fn the_token_file_is_read_trimmed_and_an_empty_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "abc\n").unwrap();
        let settings = Settings {
            app_server_token_file: Some(file.clone()),
            ..ws("10.1.2.3")
        };
        match endpoint(&settings).unwrap() {
            Endpoint::Ws { token, .. } => assert_eq!(token.as_deref(), Some("abc")),
            other => panic!("{other:?}"),
        }
        std::fs::write(&file, "\n").unwrap();
        assert!(endpoint(&settings).unwrap_err().contains("is empty"));
        std::fs::remove_file(&file).unwrap();
        assert!(endpoint(&settings).unwrap_err().contains("could not read"));
    }
}
