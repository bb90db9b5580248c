//! The app-server half: everything that speaks `codex app-server`'s JSON-RPC wire.
//! Nothing here knows LSP.
//!
//! - [`transport`]: bytes to whole messages (a spawned child's stdio).
//! - [`socket`]: a shared app-server on a unix socket or `ws://` (WebSocket frames).
//! - [`connection`]: the JSON-RPC peer — correlation, routing, answering server requests.
//! - [`protocol`]: the wire types, matched to the pinned runtime's schema.
//! - [`client`]: the SDK's concepts — threads, turn handles, `run()`/`stream()`, logins.

pub mod client;
pub mod connection;
pub mod error;
pub mod protocol;
pub mod socket;
pub mod transport;

pub use client::{
    Codex, LoginHandle, TurnCollector, TurnEnd, TurnEvent, TurnHandle, TurnResult, Watchdog,
};
pub use connection::{
    Connection, DeclineAll, IncomingRequest, Notification, RetryPolicy, ServerAnswer,
    ServerRequestHandler,
};
pub use error::{Error, Result, RpcError, RpcErrorKind};
pub use socket::Endpoint;
pub use transport::SpawnOptions;
