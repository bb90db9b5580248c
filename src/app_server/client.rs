//! The SDK's concepts in Rust: a [`Codex`] client over one app-server, threads, turn handles
//! with `stream()` and `run()`, and login handles.
//!
//! A turn is over only when `turn/completed` arrives for it. Upstream has shipped versions
//! where it never does, so every turn handle carries a watchdog that asks `thread/read` when
//! the thread has gone idle (or silent) and finishes the turn from what the server recorded.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use super::connection::{
    Connection, DeclineAll, Notification, NotificationReceiver, ServerRequestHandler,
};
use super::error::{Closed, Error, Result};
use super::protocol::{self as p, ServerNotification};
use super::transport::{spawn_stdio, SpawnOptions, TransportParts};
use crate::runtime::{version_from_user_agent, Version};

/// How codex-lsp introduces itself; the app-server puts it in `userAgent` and rollouts.
pub const CLIENT_NAME: &str = "codex_lsp";

/// What the app-server said about itself at `initialize`.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub user_agent: String,
    pub version: Option<Version>,
    pub codex_home: Option<String>,
    /// The runtime started, when this client spawned it (not for a shared app-server).
    pub runtime: Option<crate::runtime::Runtime>,
}

/// How long a turn may be silent, and how long after its thread went idle `turn/completed`
/// may lag, before the watchdog asks `thread/read`; and how long that question may go
/// unanswered before the app-server counts as hung.
#[derive(Debug, Clone, Copy)]
pub struct Watchdog {
    pub silence: Duration,
    pub idle_grace: Duration,
    /// A silent turn whose `thread/read` is not answered within this: the app-server is
    /// stuck (not just a slow model), so it is stopped and the turn fails.
    pub answer_limit: Duration,
}

impl Default for Watchdog {
    fn default() -> Self {
        Self {
            silence: Duration::from_secs(120),
            idle_grace: Duration::from_secs(3),
            answer_limit: Duration::from_secs(30),
        }
    }
}

impl Watchdog {
    /// The default watchdog with another silence; the answer limit is at most the silence.
    pub fn with_silence(silence: Duration) -> Self {
        let default = Self::default();
        Self {
            silence,
            answer_limit: default.answer_limit.min(silence),
            ..default
        }
    }
}

/// A client of one app-server: the Rust counterpart of the SDK's `Codex`.
#[derive(Clone)]
pub struct Codex {
    connection: Connection,
    info: ServerInfo,
    watchdog: Watchdog,
}

impl Codex {
    /// Spawns `codex app-server` on stdio and completes the handshake.
    pub async fn spawn(
        options: &SpawnOptions,
        handler: Arc<dyn ServerRequestHandler>,
    ) -> Result<Codex> {
        let mut codex = Self::connect(spawn_stdio(options)?, handler).await?;
        codex.info.runtime = Some(options.runtime.clone());
        Ok(codex)
    }

    /// Connects to a shared app-server (unix socket or `ws://`) and completes the handshake.
    pub async fn connect_shared(
        endpoint: &super::socket::Endpoint,
        handler: Arc<dyn ServerRequestHandler>,
    ) -> Result<Codex> {
        Self::connect(super::socket::connect(endpoint).await?, handler).await
    }

    /// Completes the handshake over any transport.
    pub async fn connect(
        parts: TransportParts,
        handler: Arc<dyn ServerRequestHandler>,
    ) -> Result<Codex> {
        Self::handshake(Connection::start(parts, handler)).await
    }

    /// `initialize` then `initialized`; refuses a runtime older than the pinned one.
    pub async fn handshake(connection: Connection) -> Result<Codex> {
        let params = json!({
            "clientInfo": {
                "name": CLIENT_NAME,
                "title": "codex-lsp",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "capabilities": { "experimentalApi": true },
        });
        let result: p::InitializeResponse = connection.request("initialize", params).await?;
        let version = version_from_user_agent(&result.user_agent);
        if let Some(found) = &version {
            let needed = Version::pinned();
            if !found.is_supported() {
                return Err(Error::RuntimeTooOld {
                    found: found.clone(),
                    needed,
                });
            }
        }
        connection.notify("initialized", json!({}))?;
        Ok(Codex {
            info: ServerInfo {
                user_agent: result.user_agent,
                version,
                codex_home: Some(result.codex_home).filter(|h| !h.is_empty()),
                runtime: None,
            },
            connection,
            watchdog: Watchdog::default(),
        })
    }

    pub fn with_watchdog(mut self, watchdog: Watchdog) -> Self {
        self.watchdog = watchdog;
        self
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    pub fn info(&self) -> &ServerInfo {
        &self.info
    }

    /// A request by method name, for anything not wrapped below.
    pub async fn request<R: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: impl Serialize,
    ) -> Result<R> {
        self.connection.request(method, params).await
    }

    // ---- threads ----

    pub async fn thread_start(
        &self,
        params: &p::ThreadStartParams,
    ) -> Result<p::ThreadStartResponse> {
        self.connection.request("thread/start", params).await
    }

    pub async fn thread_resume(
        &self,
        params: &p::ThreadResumeParams,
    ) -> Result<p::ThreadResumeResponse> {
        self.connection.request("thread/resume", params).await
    }

    pub async fn thread_fork(&self, params: &p::ThreadForkParams) -> Result<p::ThreadForkResponse> {
        self.connection.request("thread/fork", params).await
    }

    pub async fn thread_list(&self, params: &p::ThreadListParams) -> Result<p::ThreadListResponse> {
        self.connection.request("thread/list", params).await
    }

    pub async fn thread_read(&self, thread_id: &str, include_turns: bool) -> Result<p::Thread> {
        let result: p::ThreadReadResponse = self
            .connection
            .request(
                "thread/read",
                json!({ "threadId": thread_id, "includeTurns": include_turns }),
            )
            .await?;
        Ok(result.thread)
    }

    pub async fn thread_archive(&self, thread_id: &str) -> Result<()> {
        let _: Value = self
            .connection
            .request("thread/archive", json!({ "threadId": thread_id }))
            .await?;
        Ok(())
    }

    pub async fn thread_set_name(&self, thread_id: &str, name: &str) -> Result<()> {
        let _: Value = self
            .connection
            .request(
                "thread/name/set",
                json!({ "threadId": thread_id, "name": name }),
            )
            .await?;
        Ok(())
    }

    pub async fn thread_compact(&self, thread_id: &str) -> Result<()> {
        let _: Value = self
            .connection
            .request("thread/compact/start", json!({ "threadId": thread_id }))
            .await?;
        Ok(())
    }

    // ---- turns ----

    /// Starts a turn and returns its handle. The thread is subscribed before the request so
    /// the handle sees every event of the turn, even those racing the response.
    pub async fn turn_start(&self, params: &p::TurnStartParams) -> Result<TurnHandle> {
        let events = self.connection.subscribe_thread(&params.thread_id);
        let result: p::TurnStartResponse = self.connection.request("turn/start", params).await?;
        Ok(self.handle(params.thread_id.clone(), result.turn, events))
    }

    /// Starts a review; it runs as a turn of the thread (or of a detached review thread).
    pub async fn review_start(&self, params: &p::ReviewStartParams) -> Result<TurnHandle> {
        let events = self.connection.subscribe_thread(&params.thread_id);
        let result: p::ReviewStartResponse =
            self.connection.request("review/start", params).await?;
        let thread_id = if result.review_thread_id.is_empty() {
            params.thread_id.clone()
        } else {
            result.review_thread_id.clone()
        };
        let events = if thread_id == params.thread_id {
            events
        } else {
            self.connection.subscribe_thread(&thread_id)
        };
        Ok(self.handle(thread_id, result.turn, events))
    }

    /// A handle on a turn that is already running (for example one started by another client).
    pub fn attach_turn(&self, thread_id: &str, turn: p::Turn) -> TurnHandle {
        let events = self.connection.subscribe_thread(thread_id);
        self.handle(thread_id.to_string(), turn, events)
    }

    /// [`Codex::attach_turn`] over a queue already subscribed to the thread (which may
    /// hold the turn's first events, `turn/started` among them).
    pub fn attach_turn_with(
        &self,
        thread_id: &str,
        turn: p::Turn,
        events: NotificationReceiver,
    ) -> TurnHandle {
        self.handle(thread_id.to_string(), turn, events)
    }

    fn handle(&self, thread_id: String, turn: p::Turn, events: NotificationReceiver) -> TurnHandle {
        TurnHandle {
            codex: self.clone(),
            thread_id,
            turn_id: turn.id.clone(),
            events,
            finished: false,
            idle_since: None,
        }
    }

    /// Adds input to the running turn; `expected_turn_id` guards against steering a turn
    /// that has already been replaced.
    pub async fn turn_steer(
        &self,
        thread_id: &str,
        expected_turn_id: &str,
        input: Vec<p::UserInput>,
    ) -> Result<String> {
        let result: p::TurnSteerResponse = self
            .connection
            .request(
                "turn/steer",
                json!({
                    "threadId": thread_id,
                    "expectedTurnId": expected_turn_id,
                    "input": input,
                }),
            )
            .await?;
        Ok(result.turn_id)
    }

    pub async fn turn_interrupt(&self, thread_id: &str, turn_id: &str) -> Result<()> {
        let _: Value = self
            .connection
            .request(
                "turn/interrupt",
                json!({ "threadId": thread_id, "turnId": turn_id }),
            )
            .await?;
        Ok(())
    }

    // ---- models and account ----

    pub async fn model_list(&self) -> Result<Vec<p::Model>> {
        let mut models = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page: p::ModelListResponse = self
                .connection
                .request("model/list", json!({ "cursor": cursor }))
                .await?;
            models.extend(page.data);
            match page.next_cursor {
                Some(next) if !next.is_empty() => cursor = Some(next),
                _ => return Ok(models),
            }
        }
    }

    pub async fn account_read(&self) -> Result<p::GetAccountResponse> {
        self.connection
            .request("account/read", json!({ "refreshToken": false }))
            .await
    }

    /// Logs in with an API key and waits for the outcome. The key is sent once and never
    /// logged.
    pub async fn login_api_key(&self, api_key: &str) -> Result<()> {
        crate::logging::register_secret(api_key);
        let events = self.connection.subscribe_all();
        let _: Value = self
            .connection
            .request(
                "account/login/start",
                json!({ "type": "apiKey", "apiKey": api_key }),
            )
            .await?;
        let outcome = wait_login_completed(events, None).await?;
        match outcome.success {
            true => Ok(()),
            false => Err(Error::Protocol(format!(
                "login failed: {}",
                outcome.error.unwrap_or_else(|| "no reason given".into())
            ))),
        }
    }

    /// Starts the ChatGPT browser flow: open [`LoginHandle::auth_url`], then `wait()`.
    pub async fn login_chatgpt(&self) -> Result<LoginHandle> {
        self.login_interactive(json!({ "type": "chatgpt" })).await
    }

    /// Starts the device-code flow: show the URL and code, then `wait()`.
    pub async fn login_device_code(&self) -> Result<LoginHandle> {
        self.login_interactive(json!({ "type": "chatgptDeviceCode" }))
            .await
    }

    async fn login_interactive(&self, params: Value) -> Result<LoginHandle> {
        let events = self.connection.subscribe_all();
        let start: p::LoginAccountResponse = self
            .connection
            .request("account/login/start", params)
            .await?;
        let (login_id, auth_url, verification_url, user_code) = match start {
            p::LoginAccountResponse::Chatgpt { login_id, auth_url } => {
                (login_id, Some(auth_url), None, None)
            }
            p::LoginAccountResponse::ChatgptDeviceCode {
                login_id,
                verification_url,
                user_code,
            } => (login_id, None, Some(verification_url), Some(user_code)),
            other => {
                return Err(Error::Protocol(format!(
                    "unexpected answer to account/login/start: {other:?}"
                )))
            }
        };
        Ok(LoginHandle {
            codex: self.clone(),
            login_id,
            auth_url,
            verification_url,
            user_code,
            events,
        })
    }

    pub async fn logout(&self) -> Result<()> {
        let _: Value = self.connection.request("account/logout", json!({})).await?;
        Ok(())
    }
}

async fn wait_login_completed(
    mut events: NotificationReceiver,
    login_id: Option<&str>,
) -> Result<p::AccountLoginCompletedNotification> {
    while let Some(event) = events.recv().await {
        if let ServerNotification::AccountLoginCompleted(done) = event.decode() {
            if login_id.is_none() || done.login_id.as_deref() == login_id {
                return Ok(done);
            }
        }
    }
    Err(Error::TransportClosed(Default::default()))
}

/// An interactive login in progress (ChatGPT browser flow or device code).
pub struct LoginHandle {
    codex: Codex,
    pub login_id: String,
    pub auth_url: Option<String>,
    pub verification_url: Option<String>,
    pub user_code: Option<String>,
    events: NotificationReceiver,
}

impl LoginHandle {
    /// Waits for `account/login/completed` of this login.
    pub async fn wait(self) -> Result<p::AccountLoginCompletedNotification> {
        let codex = self.codex.clone();
        wait_login_completed(self.events, Some(&self.login_id))
            .await
            .map_err(|e| match codex.connection.closed_reason() {
                Some(closed) => Error::TransportClosed(closed),
                None => e,
            })
    }

    /// Stops this login attempt.
    pub async fn cancel(&self) -> Result<()> {
        let _: Value = self
            .codex
            .connection
            .request("account/login/cancel", json!({ "loginId": self.login_id }))
            .await?;
        Ok(())
    }
}

/// What a finished turn produced, collected as the SDK collects it: items from
/// `item/completed`, usage from the last `thread/tokenUsage/updated`, and status, error and
/// times from `turn/completed`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnResult {
    pub thread_id: String,
    pub turn_id: String,
    pub status: p::TurnStatus,
    pub error: Option<p::TurnError>,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub final_response: String,
    pub items: Vec<p::ThreadItem>,
    pub usage: Option<p::ThreadTokenUsage>,
    /// True when `turn/completed` never came and the watchdog finished the turn from
    /// `thread/read`.
    pub recovered_by_watchdog: bool,
}

/// The SDK's rule: the last agent message in the `final_answer` phase, else the last one
/// with no phase.
pub fn final_response(items: &[p::ThreadItem]) -> String {
    let mut fallback = None;
    for item in items.iter().rev() {
        if let p::ThreadItem::AgentMessage(message) = item {
            match &message.phase {
                Some(p::MessagePhase::FinalAnswer) => return message.text.clone(),
                None if fallback.is_none() => fallback = Some(message.text.clone()),
                _ => {}
            }
        }
    }
    fallback.unwrap_or_default()
}

/// A running turn. `next_event()` / `stream()` yield this turn's notifications through
/// `turn/completed`; `run()` collects them into a [`TurnResult`].
pub struct TurnHandle {
    codex: Codex,
    pub thread_id: String,
    pub turn_id: String,
    events: NotificationReceiver,
    finished: bool,
    idle_since: Option<tokio::time::Instant>,
}

impl TurnHandle {
    pub fn codex(&self) -> &Codex {
        &self.codex
    }

    /// The next notification of this turn; `None` after `turn/completed`.
    pub async fn next_event(&mut self) -> Option<Result<Arc<Notification>>> {
        if self.finished {
            return None;
        }
        let watchdog = self.codex.watchdog;
        loop {
            let wait = match self.idle_since {
                Some(since) => (since + watchdog.idle_grace)
                    .saturating_duration_since(tokio::time::Instant::now()),
                None => watchdog.silence,
            };
            match tokio::time::timeout(wait, self.events.recv()).await {
                Ok(Some(event)) => {
                    if !self.belongs_to_turn(&event) {
                        continue;
                    }
                    self.note_thread_status(&event);
                    if event.method == "turn/completed" {
                        self.finished = true;
                    }
                    return Some(Ok(event));
                }
                Ok(None) => {
                    self.finished = true;
                    let closed = self.codex.connection.wait_closed().await;
                    return Some(Err(Error::TransportClosed(closed)));
                }
                Err(_elapsed) => {
                    match tokio::time::timeout(watchdog.answer_limit, self.check_with_thread_read())
                        .await
                        .unwrap_or_else(|_| Err(self.stop_hung_app_server(watchdog)))
                    {
                        Ok(Some(completed)) => {
                            self.finished = true;
                            return Some(Ok(completed));
                        }
                        Ok(None) => self.idle_since = None,
                        Err(e) if e.is_transport_closed() => {
                            self.finished = true;
                            return Some(Err(e));
                        }
                        Err(e) => {
                            tracing::debug!("turn watchdog could not read the thread: {e}");
                            self.idle_since = None;
                        }
                    }
                }
            }
        }
    }

    /// The app-server sent nothing for the whole silence and does not answer: it is hung.
    /// Stop it, so that every caller learns why and the next request starts a new one.
    fn stop_hung_app_server(&self, watchdog: Watchdog) -> Error {
        let reason = format!(
            "it stopped answering: no event for {} s and no answer to thread/read within {} s, so codex-lsp stopped it",
            watchdog.silence.as_secs_f32(),
            watchdog.answer_limit.as_secs_f32()
        );
        tracing::warn!(thread = %self.thread_id, turn = %self.turn_id, "the app-server is hung: {reason}");
        self.codex.connection.close_because(&reason);
        Error::TransportClosed(self.codex.connection.closed_reason().unwrap_or(Closed {
            reason,
            stderr_tail: String::new(),
        }))
    }

    /// Events of other turns on the same thread (a review's child turn, a turn another
    /// client started) are not ours; thread-wide events are.
    fn belongs_to_turn(&self, event: &Notification) -> bool {
        match &event.turn_id {
            None => true,
            Some(turn_id) if *turn_id == self.turn_id => true,
            Some(_) if event.method == "turn/completed" || event.method == "turn/started" => {
                // Reviews report a child turn whose rootTurnId is the turn we started.
                root_turn_id(event).as_deref() == Some(self.turn_id.as_str())
            }
            Some(_) => true,
        }
    }

    fn note_thread_status(&mut self, event: &Notification) {
        if event.method != "thread/status/changed" {
            return;
        }
        let status = event.params_value();
        let idle = status
            .pointer("/status/type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "active");
        self.idle_since = idle.then(tokio::time::Instant::now);
    }

    /// The watchdog: if the thread is no longer active, the turn is over whatever we heard.
    async fn check_with_thread_read(&self) -> Result<Option<Arc<Notification>>> {
        let thread = self.codex.thread_read(&self.thread_id, true).await?;
        let active = matches!(thread.status, p::ThreadStatus::Active { .. });
        if active {
            return Ok(None);
        }
        let recorded = thread
            .turns
            .into_iter()
            .find(|turn| turn.id == self.turn_id);
        let mut turn = match recorded {
            Some(turn) => serde_json::to_value(turn).unwrap_or(Value::Null),
            None => json!({ "id": self.turn_id, "items": [], "status": "failed" }),
        };
        if turn.get("status").and_then(Value::as_str) == Some("inProgress") {
            turn["status"] = json!("failed");
        }
        if turn["status"] == json!("failed") && turn.get("error").is_none_or(Value::is_null) {
            turn["error"] = json!({
                "message": "the thread went idle but turn/completed never arrived",
            });
        }
        turn["recoveredByWatchdog"] = json!(true);
        tracing::warn!(
            thread = %self.thread_id,
            turn = %self.turn_id,
            "turn/completed never arrived; finished the turn from thread/read"
        );
        let params = json!({ "threadId": self.thread_id, "turn": turn });
        let params = serde_json::value::to_raw_value(&params).expect("serializable");
        Ok(Some(Arc::new(Notification {
            method: "turn/completed".into(),
            params,
            thread_id: Some(self.thread_id.clone()),
            turn_id: Some(self.turn_id.clone()),
        })))
    }

    /// This turn's events as a stream, ending after `turn/completed`.
    pub fn stream(self) -> impl futures::Stream<Item = Result<Arc<Notification>>> {
        futures::stream::unfold(self, |mut handle| async move {
            handle.next_event().await.map(|event| (event, handle))
        })
    }

    /// Consumes the turn and returns its result. A failed turn is a result with status
    /// `failed` and its error, not an `Err`: `Err` is for when we could not learn the outcome.
    pub async fn run(mut self) -> Result<TurnResult> {
        let mut collector = TurnCollector::new(&self.thread_id, &self.turn_id);
        while let Some(event) = self.next_event().await {
            let event = event?;
            collector.observe(&event);
        }
        collector.finish()
    }

    pub async fn interrupt(&self) -> Result<()> {
        self.codex
            .turn_interrupt(&self.thread_id, &self.turn_id)
            .await
    }

    pub async fn steer(&self, input: Vec<p::UserInput>) -> Result<String> {
        self.codex
            .turn_steer(&self.thread_id, &self.turn_id, input)
            .await
    }
}

fn root_turn_id(event: &Notification) -> Option<String> {
    event
        .params_value()
        .pointer("/turn/rootTurnId")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Builds a [`TurnResult`] from a turn's notifications; usable on any event stream.
pub struct TurnCollector {
    thread_id: String,
    turn_id: String,
    items: Vec<p::ThreadItem>,
    usage: Option<p::ThreadTokenUsage>,
    completed: Option<(p::Turn, bool)>,
}

impl TurnCollector {
    pub fn new(thread_id: &str, turn_id: &str) -> Self {
        Self {
            thread_id: thread_id.to_string(),
            turn_id: turn_id.to_string(),
            items: Vec::new(),
            usage: None,
            completed: None,
        }
    }

    pub fn observe(&mut self, event: &Notification) {
        // Only three methods matter; the rest (deltas above all) are not worth decoding.
        if !matches!(
            event.method.as_str(),
            "item/completed" | "thread/tokenUsage/updated" | "turn/completed"
        ) {
            return;
        }
        match event.decode() {
            ServerNotification::ItemCompleted(done) => self.items.push(done.item),
            ServerNotification::ThreadTokenUsageUpdated(usage) => {
                self.usage = Some(usage.token_usage)
            }
            ServerNotification::TurnCompleted(done) => {
                let recovered = event.params_value()["turn"]["recoveredByWatchdog"] == json!(true);
                self.completed = Some((done.turn, recovered));
            }
            _ => {}
        }
    }

    pub fn finish(mut self) -> Result<TurnResult> {
        let Some((turn, recovered)) = self.completed else {
            return Err(Error::Protocol(format!(
                "turn {} ended without turn/completed",
                self.turn_id
            )));
        };
        // The watchdog's thread/read holds the items when the live events were lost.
        if self.items.is_empty() {
            self.items = turn
                .items
                .into_iter()
                .filter(|item| !matches!(item, p::ThreadItem::UserMessage(_)))
                .collect();
        }
        Ok(TurnResult {
            thread_id: self.thread_id,
            turn_id: self.turn_id,
            status: turn.status,
            error: turn.error,
            started_at: turn.started_at,
            completed_at: turn.completed_at,
            duration_ms: turn.duration_ms,
            final_response: final_response(&self.items),
            items: self.items,
            usage: self.usage,
            recovered_by_watchdog: recovered,
        })
    }
}

/// Convenience for the common case: a default handler that declines every request.
pub fn decline_all() -> Arc<dyn ServerRequestHandler> {
    Arc::new(DeclineAll)
}
