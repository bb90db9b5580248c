//! The JSON-RPC peer: request/response correlation, notification routing, and answering the
//! app-server's own requests.
//!
//! One task reads messages and never waits on anyone: responses complete their callers,
//! notifications go to unbounded per-subscriber queues (so a slow consumer of one turn never
//! stalls another), and each server-to-client request is handled on a task of its own and is
//! always answered — by the handler, or with the protocol's "no" if the handler fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::error::{Closed, Error, Result, RpcError, RpcErrorKind};
use super::protocol;
use super::transport::{MessageReader, MessageWriter, TransportParts, TransportStatus};
use crate::backoff::Backoff;

/// A notification from the app-server. Params stay raw until someone asks for them typed:
/// routing reads only the thread and turn ids.
#[derive(Debug)]
pub struct Notification {
    pub method: String,
    pub params: Box<RawValue>,
    pub thread_id: Option<String>,
    pub turn_id: Option<String>,
}

impl Notification {
    /// Decodes into the typed notification; unknown methods and shapes become `Unknown`.
    pub fn decode(&self) -> protocol::ServerNotification {
        protocol::ServerNotification::decode(&self.method, self.params_value())
    }

    pub fn params_value(&self) -> Value {
        serde_json::from_str(self.params.get()).unwrap_or(Value::Null)
    }
}

/// A request the app-server sent us, waiting for an answer.
#[derive(Debug, Clone)]
pub struct IncomingRequest {
    pub id: Value,
    pub method: String,
    pub params: Value,
    pub thread_id: Option<String>,
    pub turn_id: Option<String>,
    /// Cancelled when the app-server says the request was resolved elsewhere
    /// (`serverRequest/resolved`): a prompt still showing is stale and must go. Also
    /// cancelled when the connection ends.
    pub resolved: CancellationToken,
    /// Cancelled when the connection ends: the app-server that asked is gone, and no answer
    /// can reach it.
    pub peer_gone: CancellationToken,
}

impl IncomingRequest {
    pub fn decode(&self) -> protocol::ServerRequest {
        protocol::ServerRequest::decode(&self.method, self.params.clone())
    }
}

/// The answer to a server request: the JSON-RPC `result`, or an error object.
pub type ServerAnswer = std::result::Result<Value, RpcError>;

/// Answers the app-server's requests.
pub trait ServerRequestHandler: Send + Sync + 'static {
    fn handle(&self, request: IncomingRequest) -> BoxFuture<'static, ServerAnswer>;
}

/// The safe default: every request gets the protocol's "no".
pub struct DeclineAll;

impl ServerRequestHandler for DeclineAll {
    fn handle(&self, request: IncomingRequest) -> BoxFuture<'static, ServerAnswer> {
        let answer = decline_answer(&request.method);
        Box::pin(async move { answer })
    }
}

/// The protocol's own "no" for each server request, so an unhandled request is declined the
/// way the app-server understands, not failed: a JSON-RPC error on an approval is read as
/// neither yes nor no. The answers live with the wire types
/// ([`protocol::ServerRequest::decline`]); requests with no "no" in their schema (token
/// refresh, attestation) and unknown methods get an error, the only honest answer.
pub fn decline_answer(method: &str) -> ServerAnswer {
    let request = protocol::ServerRequest::decode(method, Value::Object(Default::default()));
    match request.decline() {
        protocol::Reply::Result(result) => Ok(result),
        protocol::Reply::Error { code, message } => Err(RpcError {
            code,
            message,
            data: None,
        }),
    }
}

/// How overload (-32001) answers are retried: up to `max_attempts`, waiting per
/// [`Backoff`] from `initial_delay` up to `max_delay`.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempt + 1` (attempt counts from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        Backoff {
            first: self.initial_delay,
            max: self.max_delay,
        }
        .delay(attempt)
    }
}

type Pending = oneshot::Sender<std::result::Result<Box<RawValue>, RpcError>>;

#[derive(Default)]
struct PendingRequests {
    waiting: HashMap<u64, Pending>,
    /// Set once the stream has ended; no new request may wait after that.
    closed: bool,
}

/// A queue of notifications for one subscriber.
pub type NotificationReceiver = mpsc::UnboundedReceiver<Arc<Notification>>;

#[derive(Default)]
struct Router {
    by_thread: HashMap<String, Vec<mpsc::UnboundedSender<Arc<Notification>>>>,
    by_method: HashMap<String, Vec<mpsc::UnboundedSender<Arc<Notification>>>>,
    all: Vec<mpsc::UnboundedSender<Arc<Notification>>>,
}

impl Router {
    fn route(&mut self, notification: Arc<Notification>) {
        if let Some(thread_id) = &notification.thread_id {
            send_to(&mut self.by_thread, thread_id, &notification);
        }
        send_to(&mut self.by_method, &notification.method, &notification);
        self.all.retain(|tx| tx.send(notification.clone()).is_ok());
    }
}

fn send_to(
    subscribers: &mut HashMap<String, Vec<mpsc::UnboundedSender<Arc<Notification>>>>,
    key: &str,
    notification: &Arc<Notification>,
) {
    if let Some(queues) = subscribers.get_mut(key) {
        queues.retain(|tx| tx.send(notification.clone()).is_ok());
        if queues.is_empty() {
            subscribers.remove(key);
        }
    }
}

struct Shared {
    outgoing: mpsc::UnboundedSender<String>,
    pending: Mutex<PendingRequests>,
    next_id: AtomicU64,
    router: Mutex<Router>,
    closed: OnceLock<Closed>,
    closed_notify: tokio::sync::Notify,
    in_flight_server_requests: Mutex<HashMap<String, CancellationToken>>,
    /// Cancelled when the connection ends (see [`IncomingRequest::peer_gone`]).
    peer_gone: CancellationToken,
    retry: RetryPolicy,
    /// How long a request may wait for its answer (milliseconds); see
    /// [`Connection::set_answer_timeout`].
    answer_timeout_ms: AtomicU64,
}

/// The default of [`Connection::set_answer_timeout`].
pub const DEFAULT_ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// A live JSON-RPC connection to one app-server. Cheap to clone; the peer (for a spawned
/// child: the process) lives while any clone does.
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
    keep_alive: Arc<Mutex<Option<Box<dyn Send + Sync>>>>,
    pid: Option<u32>,
}

/// The fields routing needs, read without decoding the rest of the params: the thread id
/// (`threadId`, or `conversationId`) and the turn id (`turnId`, or `turn.id`).
#[derive(Default)]
struct RoutingKeys {
    thread_id: Option<String>,
    turn_id: Option<String>,
}

#[derive(Deserialize)]
struct TurnKey {
    id: Option<String>,
}

impl RoutingKeys {
    fn read(params: &RawValue) -> (Option<String>, Option<String>) {
        use serde::de::DeserializeSeed;
        let mut keys = RoutingKeys::default();
        let mut input = serde_json::Deserializer::from_str(params.get());
        // Stops at the first moment both ids are known: the app-server puts them first, so
        // the rest of a delta's params (its text) is not scanned a second time. The parser
        // then reports the object unfinished, which is expected and ignored.
        let _ = (&mut keys).deserialize(&mut input);
        (keys.thread_id, keys.turn_id)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for &mut RoutingKeys {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        input: D,
    ) -> std::result::Result<(), D::Error> {
        input.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for &mut RoutingKeys {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<(), A::Error> {
        let mut conversation_id = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "threadId" => self.thread_id = map.next_value()?,
                "turnId" => self.turn_id = map.next_value()?,
                "turn" => {
                    if let Some(turn) = map.next_value::<Option<TurnKey>>()? {
                        self.turn_id = self.turn_id.take().or(turn.id);
                    }
                }
                "conversationId" => conversation_id = map.next_value()?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            if self.thread_id.is_some() && self.turn_id.is_some() {
                return Ok(());
            }
        }
        if self.thread_id.is_none() {
            self.thread_id = conversation_id;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct IncomingMessage {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Box<RawValue>>,
    #[serde(default)]
    result: Option<Box<RawValue>>,
    #[serde(default)]
    error: Option<RpcError>,
}

fn empty_params() -> Box<RawValue> {
    RawValue::from_string("{}".to_string()).expect("valid JSON")
}

impl Connection {
    /// Starts the reader and writer tasks over a transport. Must run inside a tokio runtime.
    pub fn start(parts: TransportParts, handler: Arc<dyn ServerRequestHandler>) -> Connection {
        Self::start_with(parts, handler, RetryPolicy::default())
    }

    pub fn start_with(
        parts: TransportParts,
        handler: Arc<dyn ServerRequestHandler>,
        retry: RetryPolicy,
    ) -> Connection {
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            outgoing,
            pending: Mutex::new(PendingRequests::default()),
            next_id: AtomicU64::new(1),
            router: Mutex::new(Router::default()),
            closed: OnceLock::new(),
            closed_notify: tokio::sync::Notify::new(),
            in_flight_server_requests: Mutex::new(HashMap::new()),
            peer_gone: CancellationToken::new(),
            retry,
            answer_timeout_ms: AtomicU64::new(DEFAULT_ANSWER_TIMEOUT.as_millis() as u64),
        });
        tokio::spawn(write_loop(parts.writer, outgoing_rx));
        tokio::spawn(read_loop(
            parts.reader,
            parts.status,
            Arc::downgrade(&shared),
            handler,
        ));
        Connection {
            shared,
            keep_alive: Arc::new(Mutex::new(Some(parts.keep_alive))),
            pid: parts.pid,
        }
    }

    /// Ends the peer now, whatever clones of this connection (turn handles, login handles)
    /// are still held: for a spawned app-server, kills its process tree. Pending requests and
    /// streams end with `TransportClosed` at once: they never wait for the peer's pipes to
    /// close, which a process outside our reach (a wrapper's orphaned child) may hold open.
    pub fn close(&self) {
        let keep_alive = crate::lock(&self.keep_alive).take();
        drop(keep_alive);
        let closed = self.shared.closed.get().cloned().unwrap_or_else(|| Closed {
            reason: "codex-lsp closed the connection to the app-server".into(),
            stderr_tail: String::new(),
        });
        close(&self.shared, closed);
    }

    /// [`Connection::close`], with the reason every pending request and stream reports
    /// (the peer's exit status would only say that it was killed).
    pub fn close_because(&self, reason: &str) {
        let _ = self.shared.closed.set(Closed {
            reason: reason.to_string(),
            stderr_tail: String::new(),
        });
        self.close();
    }

    /// How long a request may go unanswered. A peer that leaves one unanswered that long is
    /// taken for hung: the connection is closed (a spawned app-server is killed), so every
    /// caller learns it at once and the next request starts afresh, instead of each waiting
    /// for ever on a process that answers nothing.
    pub fn set_answer_timeout(&self, timeout: Duration) {
        let ms = timeout.as_millis().clamp(1, u64::MAX as u128) as u64;
        self.shared.answer_timeout_ms.store(ms, Ordering::Relaxed);
    }

    /// The app-server's process id, when this connection spawned it.
    pub fn peer_pid(&self) -> Option<u32> {
        self.pid
    }

    /// Why the connection ended, once it has.
    pub fn closed_reason(&self) -> Option<Closed> {
        self.shared.closed.get().cloned()
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.get().is_some()
    }

    /// Resolves when the connection has ended.
    pub async fn wait_closed(&self) -> Closed {
        loop {
            let notified = self.shared.closed_notify.notified();
            if let Some(closed) = self.shared.closed.get() {
                return closed.clone();
            }
            notified.await;
        }
    }

    fn closed_error(&self) -> Error {
        Error::TransportClosed(self.closed_reason().unwrap_or_else(|| Closed {
            reason: "the app-server connection is closed".into(),
            stderr_tail: String::new(),
        }))
    }

    /// Every notification on the connection, in order.
    pub fn subscribe_all(&self) -> NotificationReceiver {
        let (tx, rx) = mpsc::unbounded_channel();
        crate::lock(&self.shared.router).all.push(tx);
        rx
    }

    /// Notifications of one method, in order: for a watcher of one kind of event, which then
    /// is not woken for every delta of every turn.
    pub fn subscribe_method(&self, method: &str) -> NotificationReceiver {
        let (tx, rx) = mpsc::unbounded_channel();
        crate::lock(&self.shared.router)
            .by_method
            .entry(method.to_string())
            .or_default()
            .push(tx);
        rx
    }

    /// Notifications of one thread, in order. Subscribe before starting a turn so that no
    /// event of it can slip by between the request and the subscription.
    pub fn subscribe_thread(&self, thread_id: &str) -> NotificationReceiver {
        let (tx, rx) = mpsc::unbounded_channel();
        crate::lock(&self.shared.router)
            .by_thread
            .entry(thread_id.to_string())
            .or_default()
            .push(tx);
        rx
    }

    /// Sends a notification (`params` always present, `{}` when empty).
    pub fn notify(&self, method: &str, params: impl Serialize) -> Result<()> {
        let params = params_value(method, params)?;
        let message = serde_json::json!({ "method": method, "params": params });
        self.send_text(message.to_string())
    }

    fn send_text(&self, text: String) -> Result<()> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        self.shared
            .outgoing
            .send(text)
            .map_err(|_| self.closed_error())
    }

    /// One request, one attempt; the raw result.
    pub async fn request_once(&self, method: &str, params: &Value) -> Result<Box<RawValue>> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = crate::lock(&self.shared.pending);
            if pending.closed {
                drop(pending);
                return Err(self.closed_error());
            }
            pending.waiting.insert(id, tx);
        }
        let message = serde_json::json!({ "id": id, "method": method, "params": params });
        if let Err(e) = self.send_text(message.to_string()) {
            crate::lock(&self.shared.pending).waiting.remove(&id);
            return Err(e);
        }
        let timeout = Duration::from_millis(self.shared.answer_timeout_ms.load(Ordering::Relaxed));
        let Ok(answer) = tokio::time::timeout(timeout, rx).await else {
            crate::lock(&self.shared.pending).waiting.remove(&id);
            let seconds = timeout.as_secs();
            tracing::warn!(
                method,
                seconds,
                "the app-server left a request unanswered; closing it as hung"
            );
            self.close_because(&format!(
                "it stopped answering: {method} went unanswered for {seconds} s, so codex-lsp stopped it"
            ));
            return Err(Error::Timeout {
                what: format!("the app-server's answer to {method}"),
                seconds,
            });
        };
        match answer {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(error)) => Err(Error::Rpc {
                method: method.to_string(),
                error,
            }),
            Err(_) => Err(self.closed_error()),
        }
    }

    /// A typed request: the method, its result type and whether an overload answer is
    /// retried with backoff all come from `R` ([`protocol::ClientRequest::SAFE_TO_REPEAT`]).
    pub async fn send<R: protocol::ClientRequest>(&self, params: &R) -> Result<R::Response> {
        let method = R::METHOD;
        let params = params_value(method, params)?;
        let raw = if R::SAFE_TO_REPEAT {
            self.with_overload_retry(method, || self.request_once(method, &params))
                .await?
        } else {
            self.request_once(method, &params).await?
        };
        decode_result(method, &raw)
    }

    /// Like [`Connection::send`], but retries overload whatever the request: for callers
    /// that know the request was rejected before it did anything.
    pub async fn retry_on_overload<R: protocol::ClientRequest>(
        &self,
        params: &R,
    ) -> Result<R::Response> {
        let method = R::METHOD;
        let params = params_value(method, params)?;
        let raw = self
            .with_overload_retry(method, || self.request_once(method, &params))
            .await?;
        decode_result(method, &raw)
    }

    async fn with_overload_retry<'a, F, Fut>(
        &'a self,
        method: &str,
        attempt: F,
    ) -> Result<Box<RawValue>>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Box<RawValue>>> + 'a,
    {
        let policy = self.shared.retry;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match attempt().await {
                Err(Error::Rpc { error, .. }) if error.kind() == RpcErrorKind::ServerBusy => {
                    if attempts >= policy.max_attempts {
                        return Err(Error::ServerBusy {
                            method: method.to_string(),
                            attempts,
                            error,
                        });
                    }
                    let delay = policy.delay(attempts);
                    tracing::debug!(method, attempts, ?delay, "app-server overloaded; retrying");
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }
}

fn params_value(method: &str, params: impl Serialize) -> Result<Value> {
    let value = serde_json::to_value(params).map_err(|error| Error::Decode {
        method: method.to_string(),
        error,
    })?;
    // The app-server rejects a missing `params`, even for methods whose params are optional.
    Ok(if value.is_null() {
        Value::Object(Default::default())
    } else {
        value
    })
}

fn decode_result<R: DeserializeOwned>(method: &str, raw: &RawValue) -> Result<R> {
    serde_json::from_str(raw.get()).map_err(|error| Error::Decode {
        method: method.to_string(),
        error,
    })
}

async fn write_loop(mut writer: Box<dyn MessageWriter>, mut rx: mpsc::UnboundedReceiver<String>) {
    while let Some(message) = rx.recv().await {
        if let Err(e) = writer.send(&message).await {
            tracing::debug!("app-server write failed: {e}");
            break;
        }
    }
}

async fn read_loop(
    mut reader: Box<dyn MessageReader>,
    status: Arc<dyn TransportStatus>,
    shared: std::sync::Weak<Shared>,
    handler: Arc<dyn ServerRequestHandler>,
) {
    loop {
        let message = match reader.next_message().await {
            Ok(Some(message)) => message,
            Ok(None) => break,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                tracing::warn!("skipping an app-server message: {e}");
                continue;
            }
            Err(e) => {
                tracing::debug!("app-server read failed: {e}");
                break;
            }
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        dispatch(&shared, &handler, &message);
        drop(shared);
        // Lines served from the read buffer never touch the pipe, so tokio's budget would
        // let a flood of notifications hold this worker for tens of milliseconds: count each
        // message, so the LSP main loop (typing, code actions) gets its turn every 128.
        tokio::task::coop::consume_budget().await;
    }
    let closed = status.closed().await;
    if let Some(shared) = shared.upgrade() {
        close(&shared, closed);
    }
}

fn close(shared: &Shared, closed: Closed) {
    tracing::debug!("app-server connection closed: {closed}");
    let _ = shared.closed.set(closed);
    let waiting = {
        let mut pending = crate::lock(&shared.pending);
        pending.closed = true;
        std::mem::take(&mut pending.waiting)
    };
    // Dropping the senders fails every waiting request with the closed reason.
    drop(waiting);
    // Dropping the subscriber queues ends every stream.
    *crate::lock(&shared.router) = Router::default();
    // Before the requests' own tokens, so their handlers can tell why they were cancelled.
    shared.peer_gone.cancel();
    for (_, token) in crate::lock(&shared.in_flight_server_requests).drain() {
        token.cancel();
    }
    shared.closed_notify.notify_waiters();
}

fn dispatch(shared: &Arc<Shared>, handler: &Arc<dyn ServerRequestHandler>, text: &str) {
    let message: IncomingMessage = match serde_json::from_str(text) {
        Ok(message) => message,
        Err(e) => {
            tracing::warn!("skipping a malformed app-server message: {e}");
            return;
        }
    };
    match (message.id, message.method) {
        (Some(id), Some(method)) => {
            let params = message.params.unwrap_or_else(empty_params);
            handle_server_request(shared, handler, id, method, params);
        }
        (None, Some(method)) => {
            let params = message.params.unwrap_or_else(empty_params);
            if method == "serverRequest/resolved" {
                mark_resolved(shared, &params);
            }
            let (thread_id, turn_id) = RoutingKeys::read(&params);
            let notification = Arc::new(Notification {
                method,
                params,
                thread_id,
                turn_id,
            });
            crate::lock(&shared.router).route(notification);
        }
        (Some(id), None) => {
            let Some(id) = id.as_u64() else {
                tracing::warn!("app-server answered an id we never sent: {id}");
                return;
            };
            let waiter = crate::lock(&shared.pending).waiting.remove(&id);
            let Some(waiter) = waiter else {
                tracing::warn!("app-server answered request {id}, which nobody is waiting for");
                return;
            };
            let outcome = match (message.result, message.error) {
                (_, Some(error)) => Err(error),
                (Some(result), None) => Ok(result),
                (None, None) => Ok(RawValue::from_string("null".into()).expect("valid JSON")),
            };
            let _ = waiter.send(outcome);
        }
        (None, None) => tracing::warn!("skipping an app-server message with neither id nor method"),
    }
}

fn request_key(id: &Value) -> String {
    id.to_string()
}

fn mark_resolved(shared: &Shared, params: &RawValue) {
    #[derive(Deserialize)]
    struct Resolved {
        #[serde(rename = "requestId")]
        request_id: Value,
    }
    if let Ok(resolved) = serde_json::from_str::<Resolved>(params.get()) {
        if let Some(token) = crate::lock(&shared.in_flight_server_requests)
            .remove(&request_key(&resolved.request_id))
        {
            token.cancel();
        }
    }
}

fn handle_server_request(
    shared: &Arc<Shared>,
    handler: &Arc<dyn ServerRequestHandler>,
    id: Value,
    method: String,
    params: Box<RawValue>,
) {
    let (thread_id, turn_id) = RoutingKeys::read(&params);
    let resolved = CancellationToken::new();
    crate::lock(&shared.in_flight_server_requests).insert(request_key(&id), resolved.clone());
    let request = IncomingRequest {
        id: id.clone(),
        params: serde_json::from_str(params.get()).unwrap_or(Value::Null),
        method,
        thread_id,
        turn_id,
        resolved: resolved.clone(),
        peer_gone: shared.peer_gone.clone(),
    };
    let decline = decline_answer(&request.method);
    let method = request.method.clone();
    let answer = handler.handle(request);
    let shared = Arc::downgrade(shared);
    tokio::spawn(async move {
        // A panicking handler must not leave the app-server waiting forever.
        let result = match tokio::spawn(answer).await {
            Ok(result) => result,
            Err(e) => {
                tracing::warn!("the handler of {method} failed ({e}); declining");
                decline
            }
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        crate::lock(&shared.in_flight_server_requests).remove(&request_key(&id));
        if resolved.is_cancelled() {
            // Resolved elsewhere (or the connection closed): nobody is waiting for this answer.
            return;
        }
        let message = match result {
            Ok(result) => serde_json::json!({ "id": id, "result": result }),
            Err(error) => serde_json::json!({
                "id": id,
                "error": { "code": error.code, "message": error.message, "data": error.data },
            }),
        };
        let _ = shared.outgoing.send(message.to_string());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_and_stay_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let first = policy.delay(1);
            assert!(first >= Duration::from_millis(50) && first < Duration::from_millis(150));
            let late = policy.delay(9);
            assert!(late >= Duration::from_millis(500) && late < Duration::from_millis(1500));
        }
    }

    #[test]
    fn method_subscribers_get_their_method_only() {
        let mut router = Router::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        router
            .by_method
            .entry("item/started".into())
            .or_default()
            .push(tx);
        for method in ["item/agentMessage/delta", "item/started", "turn/completed"] {
            router.route(Arc::new(Notification {
                method: method.into(),
                params: empty_params(),
                thread_id: Some("t".into()),
                turn_id: None,
            }));
        }
        assert_eq!(rx.try_recv().unwrap().method, "item/started");
        assert!(rx.try_recv().is_err());
        drop(rx);
        router.route(Arc::new(Notification {
            method: "item/started".into(),
            params: empty_params(),
            thread_id: None,
            turn_id: None,
        }));
        assert!(router.by_method.is_empty(), "closed queues are dropped");
    }

    #[test]
    fn routing_keys_come_from_thread_turn_and_nested_turn_ids() {
        let raw = RawValue::from_string(
            r#"{"threadId":"t1","turn":{"id":"u1","items":[]},"x":1}"#.into(),
        )
        .unwrap();
        assert_eq!(
            RoutingKeys::read(&raw),
            (Some("t1".into()), Some("u1".into()))
        );
        let raw = RawValue::from_string(r#"{"threadId":"t1","turnId":"u2"}"#.into()).unwrap();
        assert_eq!(
            RoutingKeys::read(&raw),
            (Some("t1".into()), Some("u2".into()))
        );
        let raw = RawValue::from_string(r#"[1,2]"#.into()).unwrap();
        assert_eq!(RoutingKeys::read(&raw), (None, None));
        let read = |json: &str| RoutingKeys::read(&RawValue::from_string(json.into()).unwrap());
        assert_eq!(
            read(r#"{"delta":"x","conversationId":"c1","turn":{"id":"u3"}}"#),
            (Some("c1".into()), Some("u3".into()))
        );
        assert_eq!(
            read(r#"{"conversationId":"c1","threadId":"t1"}"#),
            (Some("t1".into()), None)
        );
        assert_eq!(
            read(r#"{"turn":{"id":"nested"},"turnId":"flat","threadId":"t"}"#),
            (Some("t".into()), Some("flat".into()))
        );
        assert_eq!(
            read(r#"{"threadId":"t","turnId":"u","delta":"never read"}"#),
            (Some("t".into()), Some("u".into()))
        );
    }

    #[test]
    fn params_are_never_null() {
        assert_eq!(params_value("m", ()).unwrap(), serde_json::json!({}));
        assert_eq!(
            params_value("m", serde_json::json!({"a": 1})).unwrap(),
            serde_json::json!({"a": 1})
        );
    }
}
