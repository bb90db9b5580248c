//! The SDK's concepts in Rust: a [`Codex`] client over one app-server, threads, turn handles
//! with `stream()` and `run()`, and login handles.
//!
//! A turn is over only when `turn/completed` arrives for it. Upstream has shipped versions
//! where it never does, so every turn handle carries a watchdog that asks `thread/read` when
//! the thread has gone idle (or silent) and finishes the turn from what the server recorded.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
        let params = p::InitializeParams {
            client_info: p::ClientInfo {
                name: CLIENT_NAME.into(),
                title: Some("codex-lsp".into()),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            capabilities: Some(p::InitializeCapabilities {
                experimental_api: Some(true),
                ..Default::default()
            }),
        };
        let result = connection.send(&params).await?;
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
        connection.notify(p::INITIALIZED_METHOD, p::EmptyObject {})?;
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

    /// A typed request: `R` names the method, the result and whether an overload answer
    /// is retried (see [`p::ClientRequest`]). The methods below are shorthands for it.
    pub async fn send<R: p::ClientRequest>(&self, params: &R) -> Result<R::Response> {
        self.connection.send(params).await
    }

    // ---- threads ----

    pub async fn thread_read(&self, thread_id: &str, include_turns: bool) -> Result<p::Thread> {
        let params = p::ThreadReadParams {
            thread_id: thread_id.into(),
            include_turns: Some(include_turns),
        };
        Ok(self.send(&params).await?.thread)
    }

    pub async fn thread_archive(&self, thread_id: &str) -> Result<()> {
        let params = p::ThreadArchiveParams {
            thread_id: thread_id.into(),
        };
        self.send(&params).await?;
        Ok(())
    }

    pub async fn thread_set_name(&self, thread_id: &str, name: &str) -> Result<()> {
        let params = p::ThreadSetNameParams {
            thread_id: thread_id.into(),
            name: name.into(),
        };
        self.send(&params).await?;
        Ok(())
    }

    pub async fn thread_compact(&self, thread_id: &str) -> Result<()> {
        let params = p::ThreadCompactStartParams {
            thread_id: thread_id.into(),
        };
        self.send(&params).await?;
        Ok(())
    }

    // ---- turns ----

    /// Starts a turn and returns its handle. The thread is subscribed before the request so
    /// the handle sees every event of the turn, even those racing the response.
    pub async fn turn_start(&self, params: &p::TurnStartParams) -> Result<TurnHandle> {
        let events = self.connection.subscribe_thread(&params.thread_id);
        let result = self.send(params).await?;
        Ok(self.handle(params.thread_id.clone(), result.turn, events))
    }

    /// Starts a review; it runs as a turn of the thread (or of a detached review thread).
    pub async fn review_start(&self, params: &p::ReviewStartParams) -> Result<TurnHandle> {
        let events = self.connection.subscribe_thread(&params.thread_id);
        let result = self.send(params).await?;
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
        let params = p::TurnSteerParams {
            thread_id: thread_id.into(),
            expected_turn_id: expected_turn_id.into(),
            input,
            ..Default::default()
        };
        Ok(self.send(&params).await?.turn_id)
    }

    pub async fn turn_interrupt(&self, thread_id: &str, turn_id: &str) -> Result<()> {
        let params = p::TurnInterruptParams {
            thread_id: thread_id.into(),
            turn_id: turn_id.into(),
        };
        self.send(&params).await?;
        Ok(())
    }

    // ---- models and account ----

    pub async fn model_list(&self) -> Result<Vec<p::Model>> {
        let mut models = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let params = p::ModelListParams {
                cursor: cursor.take(),
                ..Default::default()
            };
            let page = self.send(&params).await?;
            models.extend(page.data);
            match page.next_cursor {
                Some(next) if !next.is_empty() => cursor = Some(next),
                _ => return Ok(models),
            }
        }
    }

    pub async fn account_read(&self) -> Result<p::GetAccountResponse> {
        self.send(&p::GetAccountParams {
            refresh_token: Some(false),
        })
        .await
    }

    /// Logs in with an API key and waits for the outcome. The key is sent once and never
    /// logged.
    pub async fn login_api_key(&self, api_key: &str) -> Result<()> {
        crate::logging::register_secret(api_key);
        let events = self.connection.subscribe_all();
        let params = p::LoginAccountParams::ApiKey {
            api_key: api_key.into(),
        };
        self.send(&params).await?;
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
        self.login_interactive(p::LoginAccountParams::Chatgpt {
            app_brand: None,
            codex_streamlined_login: None,
            use_hosted_login_success_page: None,
        })
        .await
    }

    /// Starts the device-code flow: show the URL and code, then `wait()`.
    pub async fn login_device_code(&self) -> Result<LoginHandle> {
        self.login_interactive(p::LoginAccountParams::ChatgptDeviceCode)
            .await
    }

    async fn login_interactive(&self, params: p::LoginAccountParams) -> Result<LoginHandle> {
        let events = self.connection.subscribe_all();
        let start = self.send(&params).await?;
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
        self.send(&p::NoParams).await?;
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
        let params = p::CancelLoginAccountParams {
            login_id: self.login_id.clone(),
        };
        self.codex.send(&params).await?;
        Ok(())
    }
}

/// What a finished turn produced, collected as the SDK collects it: items from
/// `item/completed`, usage from the last `thread/tokenUsage/updated`, and status, error and
/// times from `turn/completed`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
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

impl TurnResult {
    /// A turn whose outcome was never learned (the app-server was lost under it): failed,
    /// with `message` as its error and nothing else known.
    pub fn lost(thread_id: &str, turn_id: &str, message: String) -> Self {
        Self {
            thread_id: thread_id.into(),
            turn_id: turn_id.into(),
            status: p::TurnStatus::Failed,
            error: Some(p::TurnError {
                message,
                ..Default::default()
            }),
            started_at: None,
            completed_at: None,
            duration_ms: None,
            final_response: String::new(),
            items: Vec::new(),
            usage: None,
            recovered_by_watchdog: false,
        }
    }
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

/// The wire method of the reply's deltas, the bulk of every turn.
const REPLY_DELTA: &str = "item/agentMessage/delta";

/// One event of a turn, as [`TurnHandle::next_event`] yields it.
#[derive(Debug, Clone)]
pub enum TurnEvent {
    /// `item/agentMessage/delta`, left undecoded: a turn is mostly these, and
    /// [`TurnEvent::reply_delta`] reads the text where it lies.
    ReplyDelta(Arc<Notification>),
    /// Any other notification of the turn, decoded; `raw` is what came, to pass it on.
    /// (Boxed: the deltas, the bulk, then stay small.)
    Notification {
        decoded: Box<ServerNotification>,
        raw: Arc<Notification>,
    },
    /// The end: `turn/completed`, or the watchdog's finding from `thread/read`.
    Completed(Box<TurnEnd>),
}

/// How a turn ended, as the app-server recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnEnd {
    pub thread_id: String,
    pub turn: p::Turn,
    /// `turn/completed` never came: the watchdog finished the turn from `thread/read`.
    pub recovered_by_watchdog: bool,
}

/// A reply delta's text and the item it belongs to, borrowed from the raw params when
/// they hold no escapes.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyDeltaText<'a> {
    #[serde(borrow, default)]
    pub item_id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub delta: std::borrow::Cow<'a, str>,
}

impl TurnEvent {
    /// The JSON-RPC method (`turn/completed` for the end, recovered or not).
    pub fn method(&self) -> &str {
        match self {
            Self::ReplyDelta(raw) | Self::Notification { raw, .. } => &raw.method,
            Self::Completed(_) => "turn/completed",
        }
    }

    /// A reply delta's text, borrowed from the raw params when it holds no escapes; `None`
    /// for other events (and for a delta whose params do not fit).
    pub fn reply_delta(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.reply_delta_in_item().map(|d| d.delta)
    }

    /// [`TurnEvent::reply_delta`] with the reply's item id (what a transcript needs), read
    /// in the same pass.
    pub fn reply_delta_in_item(&self) -> Option<ReplyDeltaText<'_>> {
        match self {
            Self::ReplyDelta(raw) => serde_json::from_str::<ReplyDeltaText>(raw.params.get()).ok(),
            _ => None,
        }
    }

    /// The event as a typed notification: borrowed when it was decoded already; a reply
    /// delta is decoded here, on demand; the end is its `turn/completed` (the watchdog's
    /// included).
    pub fn decoded(&self) -> std::borrow::Cow<'_, ServerNotification> {
        use std::borrow::Cow;
        match self {
            Self::ReplyDelta(raw) => Cow::Owned(raw.decode()),
            Self::Notification { decoded, .. } => Cow::Borrowed(decoded),
            Self::Completed(end) => {
                Cow::Owned(ServerNotification::TurnCompleted(end.notification()))
            }
        }
    }

    /// [`TurnEvent::decoded`], owned.
    pub fn decode(&self) -> ServerNotification {
        self.decoded().into_owned()
    }

    /// The params as JSON, as they came (the end: its `turn/completed` params).
    pub fn params_value(&self) -> Value {
        match self {
            Self::ReplyDelta(raw) | Self::Notification { raw, .. } => raw.params_value(),
            Self::Completed(end) => {
                serde_json::to_value(end.notification()).expect("wire types serialize")
            }
        }
    }
}

impl TurnEnd {
    /// The `turn/completed` params this end stands for.
    pub fn notification(&self) -> p::TurnCompletedNotification {
        p::TurnCompletedNotification {
            thread_id: self.thread_id.clone(),
            turn: self.turn.clone(),
        }
    }
}

/// A running turn. `next_event()` / `stream()` yield this turn's events through its end;
/// `run()` collects them into a [`TurnResult`].
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

    /// The next event of this turn; `None` after its end ([`TurnEvent::Completed`]).
    pub async fn next_event(&mut self) -> Option<Result<TurnEvent>> {
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
                    if event.method == REPLY_DELTA {
                        // Ours, or a review's child turn's (see `belongs_to_turn`).
                        return Some(Ok(TurnEvent::ReplyDelta(event)));
                    }
                    let decoded = event.decode();
                    if !self.belongs_to_turn(&event, &decoded) {
                        continue;
                    }
                    self.note_thread_status(&decoded);
                    if let ServerNotification::TurnCompleted(done) = decoded {
                        self.finished = true;
                        return Some(Ok(TurnEvent::Completed(Box::new(TurnEnd {
                            thread_id: done.thread_id,
                            turn: done.turn,
                            recovered_by_watchdog: false,
                        }))));
                    }
                    return Some(Ok(TurnEvent::Notification {
                        decoded: Box::new(decoded),
                        raw: event,
                    }));
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
                        Ok(Some(end)) => {
                            self.finished = true;
                            return Some(Ok(TurnEvent::Completed(Box::new(end))));
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
    fn belongs_to_turn(&self, event: &Notification, decoded: &ServerNotification) -> bool {
        match &event.turn_id {
            None => true,
            Some(turn_id) if *turn_id == self.turn_id => true,
            // Reviews report a child turn whose rootTurnId is the turn we started.
            Some(_) => match decoded {
                ServerNotification::TurnCompleted(p::TurnCompletedNotification {
                    turn, ..
                })
                | ServerNotification::TurnStarted(p::TurnStartedNotification { turn, .. }) => {
                    turn.root_turn_id.as_deref() == Some(self.turn_id.as_str())
                }
                _ => true,
            },
        }
    }

    fn note_thread_status(&mut self, decoded: &ServerNotification) {
        if let ServerNotification::ThreadStatusChanged(changed) = decoded {
            let idle = !matches!(changed.status, p::ThreadStatus::Active { .. });
            self.idle_since = idle.then(tokio::time::Instant::now);
        }
    }

    /// The watchdog: if the thread is no longer active, the turn is over whatever we heard.
    async fn check_with_thread_read(&self) -> Result<Option<TurnEnd>> {
        let thread = self.codex.thread_read(&self.thread_id, true).await?;
        if matches!(thread.status, p::ThreadStatus::Active { .. }) {
            return Ok(None);
        }
        let recorded = thread
            .turns
            .into_iter()
            .find(|turn| turn.id == self.turn_id);
        let mut turn = recorded.unwrap_or_else(|| p::Turn {
            id: self.turn_id.clone(),
            status: p::TurnStatus::Failed,
            ..Default::default()
        });
        if turn.status == p::TurnStatus::InProgress {
            turn.status = p::TurnStatus::Failed;
        }
        if turn.status == p::TurnStatus::Failed && turn.error.is_none() {
            turn.error = Some(p::TurnError {
                message: "the thread went idle but turn/completed never arrived".into(),
                ..Default::default()
            });
        }
        tracing::warn!(
            thread = %self.thread_id,
            turn = %self.turn_id,
            "turn/completed never arrived; finished the turn from thread/read"
        );
        Ok(Some(TurnEnd {
            thread_id: self.thread_id.clone(),
            turn,
            recovered_by_watchdog: true,
        }))
    }

    /// This turn's events as a stream, ending after its end.
    pub fn stream(self) -> impl futures::Stream<Item = Result<TurnEvent>> {
        futures::stream::unfold(self, |mut handle| async move {
            handle.next_event().await.map(|event| (event, handle))
        })
    }

    /// Consumes the turn and returns its result. A failed turn is a result with status
    /// `failed` and its error, not an `Err`: `Err` is for when we could not learn the outcome.
    pub async fn run(mut self) -> Result<TurnResult> {
        let mut collector = TurnCollector::new(&self.thread_id, &self.turn_id);
        while let Some(event) = self.next_event().await {
            collector.observe(&event?);
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

/// Builds a [`TurnResult`] from a turn's events.
pub struct TurnCollector {
    thread_id: String,
    turn_id: String,
    items: Vec<p::ThreadItem>,
    usage: Option<p::ThreadTokenUsage>,
    end: Option<TurnEnd>,
}

impl TurnCollector {
    pub fn new(thread_id: &str, turn_id: &str) -> Self {
        Self {
            thread_id: thread_id.to_string(),
            turn_id: turn_id.to_string(),
            items: Vec::new(),
            usage: None,
            end: None,
        }
    }

    /// Takes one event; only three kinds matter (reply deltas, the bulk, are not looked at).
    pub fn observe(&mut self, event: &TurnEvent) {
        match event {
            TurnEvent::ReplyDelta(_) => {}
            TurnEvent::Notification { decoded, .. } => self.observe_notification(decoded),
            TurnEvent::Completed(end) => self.end = Some((**end).clone()),
        }
    }

    /// Takes one decoded notification of the turn (for a stream not read through a
    /// [`TurnHandle`]); `turn/completed` ends it.
    pub fn observe_notification(&mut self, notification: &ServerNotification) {
        match notification {
            ServerNotification::ItemCompleted(done) => self.items.push(done.item.clone()),
            ServerNotification::ThreadTokenUsageUpdated(usage) => {
                self.usage = Some(usage.token_usage.clone())
            }
            ServerNotification::TurnCompleted(done) => {
                self.end = Some(TurnEnd {
                    thread_id: done.thread_id.clone(),
                    turn: done.turn.clone(),
                    recovered_by_watchdog: false,
                })
            }
            _ => {}
        }
    }

    pub fn finish(mut self) -> Result<TurnResult> {
        let Some(end) = self.end else {
            return Err(Error::Protocol(format!(
                "turn {} ended without turn/completed",
                self.turn_id
            )));
        };
        let turn = end.turn;
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
            recovered_by_watchdog: end.recovered_by_watchdog,
        })
    }
}

/// Convenience for the common case: a default handler that declines every request.
pub fn decline_all() -> Arc<dyn ServerRequestHandler> {
    Arc::new(DeclineAll)
}
