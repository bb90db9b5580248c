//! A shared app-server reached over a socket: `unix://PATH` (the local daemon's control
//! socket) or `ws://HOST:PORT` (with a bearer token). Both speak WebSocket framing, one
//! JSON-RPC message per text frame; the socket's owner is someone else, so closing our side
//! never stops the server.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;

use super::error::{Closed, Error};
use super::transport::{MessageReader, MessageWriter, TransportParts, TransportStatus};

/// How long connecting (TCP or unix, then the WebSocket upgrade) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a shared app-server listens.
#[derive(Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Ws {
        host: String,
        port: u16,
        /// The bearer token; never printed (see the `Debug` impl).
        token: Option<String>,
    },
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let token = match self {
            Endpoint::Ws { token: Some(_), .. } => " (with a token)",
            _ => "",
        };
        write!(f, "{self}{token}")
    }
}

/// The endpoint as the user wrote it, without the token.
impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            Endpoint::Ws { host, port, .. } => write!(f, "ws://{}:{port}", bracket_v6(host)),
        }
    }
}

fn bracket_v6(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The local daemon's control socket: `$CODEX_HOME/app-server-control/app-server-control.sock`
/// (`CODEX_HOME` defaulting to `~/.codex`), where `codex app-server --listen unix://` and
/// `codex app-server daemon start` put it.
pub fn default_control_socket() -> Option<PathBuf> {
    let home = match std::env::var_os("CODEX_HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".codex"),
    };
    Some(home.join("app-server-control/app-server-control.sock"))
}

/// Whether `host` names this machine (so a token-less `ws://` never leaves it).
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Connects and upgrades to WebSocket. A refused upgrade (a wrong or missing token) is an
/// [`Error::Connect`] that says what the server answered.
pub async fn connect(endpoint: &Endpoint) -> Result<TransportParts, Error> {
    let failed = |reason: String| Error::Connect {
        endpoint: endpoint.to_string(),
        reason,
    };
    let attempt = async {
        match endpoint {
            #[cfg(unix)]
            Endpoint::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|e| failed(unix_connect_error(path, &e)))?;
                // The host is not used on a unix socket, but the upgrade request needs one.
                handshake(endpoint, "ws://localhost/", None, stream).await
            }
            #[cfg(not(unix))]
            Endpoint::Unix(_) => Err(failed(UNIX_UNSUPPORTED.into())),
            Endpoint::Ws { host, port, token } => {
                let stream = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), *port))
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                let _ = stream.set_nodelay(true);
                let url = format!("ws://{}:{port}/", bracket_v6(host));
                handshake(endpoint, &url, token.as_deref(), stream).await
            }
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(result) => result,
        Err(_) => Err(failed(format!(
            "no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// Why `unix://` cannot work here: the app-server's control socket is a unix domain socket,
/// which codex-lsp only speaks on unix.
#[cfg(not(unix))]
pub const UNIX_UNSUPPORTED: &str = "unix:// sockets are not supported on Windows; \
     run the app-server with `--listen ws://127.0.0.1:PORT` and set `appServer` to that ws:// address";

#[cfg_attr(not(unix), allow(dead_code))]
fn unix_connect_error(path: &Path, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "{} does not exist: no app-server is listening there (start one with `codex app-server daemon start` or `codex app-server --listen unix://`)",
            path.display()
        ),
        std::io::ErrorKind::ConnectionRefused => {
            "nothing is listening on the socket (the app-server that made it has stopped)".into()
        }
        _ => e.to_string(),
    }
}

async fn handshake<S>(
    endpoint: &Endpoint,
    url: &str,
    token: Option<&str>,
    stream: S,
) -> Result<TransportParts, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let failed = |reason: String| Error::Connect {
        endpoint: endpoint.to_string(),
        reason,
    };
    let mut request = url
        .into_client_request()
        .map_err(|e| failed(e.to_string()))?;
    if let Some(token) = token {
        // The WebSocket library may log the raw handshake: keep the token out of any log.
        crate::logging::register_secret(token);
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            failed("the token holds characters that cannot go in an HTTP header".into())
        })?;
        value.set_sensitive(true);
        request.headers_mut().insert("Authorization", value);
    }
    let (socket, _response) = tokio_tungstenite::client_async(request, stream)
        .await
        .map_err(|e| failed(refusal_reason(&e, token.is_some())))?;
    Ok(start_pump(endpoint.to_string(), socket))
}

/// What a failed upgrade means for the user. The server answers 401 with a body saying
/// whether the token was missing or wrong, and 403 to a browser `Origin`.
fn refusal_reason(e: &tungstenite::Error, sent_token: bool) -> String {
    let tungstenite::Error::Http(response) = e else {
        return e.to_string();
    };
    let status = response.status();
    let body = response
        .body()
        .as_deref()
        .map(|b| String::from_utf8_lossy(b).trim().to_string())
        .unwrap_or_default();
    let said = if body.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {body}")
    };
    match (status.as_u16(), sent_token) {
        (401, false) => {
            format!("it wants a token ({said}); set `appServerToken` or `appServerTokenFile`")
        }
        (401, true) => {
            format!("it refused the token ({said}); check `appServerToken` or `appServerTokenFile`")
        }
        _ => format!("it refused the connection ({said})"),
    }
}

/// Why the socket closed, set once by the pump.
#[derive(Default)]
struct SocketStatus {
    reason: Mutex<Option<String>>,
    ended: tokio::sync::Notify,
    endpoint: String,
}

impl TransportStatus for SocketStatus {
    fn closed(&self) -> BoxFuture<'_, Closed> {
        Box::pin(async move {
            loop {
                let ended = self.ended.notified();
                if let Some(reason) = crate::lock(&self.reason).clone() {
                    return Closed {
                        reason,
                        stderr_tail: String::new(),
                    };
                }
                // The pump records the reason right after it hands over the end of stream.
                if tokio::time::timeout(Duration::from_secs(2), ended)
                    .await
                    .is_err()
                {
                    return Closed {
                        reason: format!(
                            "the connection to the app-server at {} ended",
                            self.endpoint
                        ),
                        stderr_tail: String::new(),
                    };
                }
            }
        })
    }
}

/// Dropping it closes our end of the socket (with a Close frame); the server lives on.
struct CloseOnDrop(CancellationToken);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

struct FrameReader(mpsc::UnboundedReceiver<String>);

impl MessageReader for FrameReader {
    fn next_message(&mut self) -> BoxFuture<'_, std::io::Result<Option<String>>> {
        Box::pin(async move { Ok(self.0.recv().await) })
    }
}

struct FrameWriter(mpsc::UnboundedSender<String>);

impl MessageWriter for FrameWriter {
    fn send<'a>(&'a mut self, message: &'a str) -> BoxFuture<'a, std::io::Result<()>> {
        let sent = self.0.send(message.to_string()).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the app-server connection is closed",
            )
        });
        Box::pin(async move { sent })
    }
}

/// One task owns the socket: frames in become messages for the reader, messages from the
/// writer become text frames, and the end (either side's) is recorded once.
fn start_pump<S>(endpoint: String, socket: WebSocketStream<S>) -> TransportParts
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (incoming_tx, incoming_rx) = mpsc::unbounded_channel();
    let (outgoing_tx, outgoing_rx) = mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    let status = Arc::new(SocketStatus {
        endpoint: endpoint.clone(),
        ..SocketStatus::default()
    });
    tokio::spawn(pump(
        socket,
        incoming_tx,
        outgoing_rx,
        stop.clone(),
        status.clone(),
    ));
    TransportParts {
        reader: Box::new(FrameReader(incoming_rx)),
        writer: Box::new(FrameWriter(outgoing_tx)),
        status,
        keep_alive: Box::new(CloseOnDrop(stop)),
        pid: None,
    }
}

async fn pump<S>(
    mut socket: WebSocketStream<S>,
    incoming: mpsc::UnboundedSender<String>,
    mut outgoing: mpsc::UnboundedReceiver<String>,
    stop: CancellationToken,
    status: Arc<SocketStatus>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let endpoint = status.endpoint.clone();
    let reason = loop {
        tokio::select! {
            _ = stop.cancelled() => {
                let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
                break "codex-lsp closed the connection".to_string();
            }
            message = outgoing.recv() => match message {
                Some(text) => {
                    if let Err(e) = socket.send(Message::text(text)).await {
                        break format!("the connection to the app-server at {endpoint} failed: {e}");
                    }
                }
                // Every writer is gone: the connection is being dropped.
                None => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
                    break "codex-lsp closed the connection".to_string();
                }
            },
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let _ = incoming.send(text.as_str().to_string());
                }
                Some(Ok(Message::Binary(bytes))) => match String::from_utf8(bytes.to_vec()) {
                    Ok(text) => { let _ = incoming.send(text); }
                    Err(_) => tracing::warn!("skipping a binary frame that is not UTF-8 JSON"),
                },
                // tungstenite answers pings itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(frame))) => {
                    break match frame {
                        Some(frame) if !frame.reason.is_empty() => format!(
                            "the app-server at {endpoint} closed the connection ({}: {})",
                            u16::from(frame.code), frame.reason
                        ),
                        _ => format!("the app-server at {endpoint} closed the connection"),
                    };
                }
                Some(Err(e)) => break format!("the connection to the app-server at {endpoint} broke: {e}"),
                None => break format!("the connection to the app-server at {endpoint} ended"),
            },
        }
    };
    tracing::debug!("{reason}");
    *crate::lock(&status.reason) = Some(reason);
    status.ended.notify_waiters();
    // Dropping `incoming` ends the reader: the connection then asks `closed()` why.
    drop(incoming);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.3.2.1", "::1", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["10.0.0.5", "example.com", "0.0.0.0", "192.168.1.2", "::"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn the_token_never_shows() {
        let endpoint = Endpoint::Ws {
            host: "127.0.0.1".into(),
            port: 4500,
            token: Some("s3cr3t".into()),
        };
        assert_eq!(endpoint.to_string(), "ws://127.0.0.1:4500");
        assert!(!format!("{endpoint:?}").contains("s3cr3t"));
    }

    #[tokio::test]
    async fn frames_round_trip_and_the_peer_closing_is_reported() {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move {
            let mut ws = tokio_tungstenite::accept_async(theirs).await.unwrap();
            let Some(Ok(Message::Text(text))) = ws.next().await else {
                panic!("no text frame")
            };
            ws.send(Message::text(format!("{{\"echo\":{text}}}")))
                .await
                .unwrap();
            ws.close(None).await.unwrap();
        });
        let endpoint = Endpoint::Unix("/test.sock".into());
        let mut parts = handshake(&endpoint, "ws://localhost/", None, ours)
            .await
            .unwrap();
        parts.writer.send("{\"id\":1}").await.unwrap();
        assert_eq!(
            parts.reader.next_message().await.unwrap().unwrap(),
            "{\"echo\":{\"id\":1}}"
        );
        assert!(parts.reader.next_message().await.unwrap().is_none());
        let closed = parts.status.closed().await;
        assert!(
            closed.reason.contains("closed the connection"),
            "{}",
            closed.reason
        );
        server.await.unwrap();
    }
}
