//! Typed errors of the app-server client.
//!
//! JSON-RPC error objects become [`Error::Rpc`] with a [`RpcErrorKind`] the caller can act on.
//! The app-server sends almost every client error as -32600; overload is -32001 with no
//! `data` (the Python SDK keys overload on `data` and so never retries it).

use serde::Deserialize;
use serde_json::Value;
use std::fmt;

use crate::runtime::{RuntimeNotFound, Version};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Code of the app-server's "Server overloaded; retry later." answer.
pub const OVERLOADED_CODE: i64 = -32001;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpcErrorKind {
    Parse,
    InvalidRequest,
    MethodNotFound,
    InvalidParams,
    Internal,
    ServerBusy,
    /// The request needs a running turn and the thread has none (yet): right after
    /// `turn/start`, or while the previous turn winds down. The app-server says so only in
    /// words.
    TurnNotActive,
    Other,
}

/// A JSON-RPC error object as the app-server sends it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RpcError {
    pub code: i64,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub data: Option<Value>,
}

impl RpcError {
    pub fn kind(&self) -> RpcErrorKind {
        let turn_not_active = self.message.contains("no active turn")
            || self.message.contains("expected active turn id");
        match self.code {
            code if code != OVERLOADED_CODE && turn_not_active => RpcErrorKind::TurnNotActive,
            -32700 => RpcErrorKind::Parse,
            -32601 => RpcErrorKind::MethodNotFound,
            // The app-server rejects unknown methods as -32600 "unknown variant `x`".
            -32600 if self.message.contains("unknown variant") => RpcErrorKind::MethodNotFound,
            -32600 => RpcErrorKind::InvalidRequest,
            -32602 => RpcErrorKind::InvalidParams,
            -32603 => RpcErrorKind::Internal,
            OVERLOADED_CODE => RpcErrorKind::ServerBusy,
            _ => RpcErrorKind::Other,
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)?;
        if let Some(data) = &self.data {
            write!(f, " {data}")?;
        }
        Ok(())
    }
}

/// Why the connection to the app-server ended, with what it said last on stderr.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Closed {
    pub reason: String,
    pub stderr_tail: String,
}

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reason)?;
        if !self.stderr_tail.trim().is_empty() {
            write!(
                f,
                "; its stderr ended with:\n{}",
                self.stderr_tail.trim_end()
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{method}: {error}")]
    Rpc { method: String, error: RpcError },
    #[error("{method}: the app-server is overloaded; gave up after {attempts} attempts ({error})")]
    ServerBusy {
        method: String,
        attempts: u32,
        error: RpcError,
    },
    #[error("the app-server connection closed: {0}")]
    TransportClosed(Closed),
    #[error("could not start the app-server `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// A shared app-server could not be reached, or refused us (`reason` says which).
    #[error("could not connect to the app-server at {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
    #[error(transparent)]
    RuntimeNotFound(#[from] RuntimeNotFound),
    #[error(
        "the codex runtime is version {found}, but codex-lsp needs {needed} or newer. {}",
        crate::runtime::install_advice()
    )]
    RuntimeTooOld { found: Version, needed: Version },
    #[error("the app-server's answer to {method} did not match its schema: {error}")]
    Decode {
        method: String,
        error: serde_json::Error,
    },
    #[error("{0}")]
    Protocol(String),
    #[error("{what} timed out after {seconds} s")]
    Timeout { what: String, seconds: u64 },
}

impl Error {
    /// The JSON-RPC class of this error, when it came from the app-server.
    pub fn rpc_kind(&self) -> Option<RpcErrorKind> {
        match self {
            Error::Rpc { error, .. } => Some(error.kind()),
            Error::ServerBusy { .. } => Some(RpcErrorKind::ServerBusy),
            _ => None,
        }
    }

    pub fn is_server_busy(&self) -> bool {
        self.rpc_kind() == Some(RpcErrorKind::ServerBusy)
    }

    pub fn is_transport_closed(&self) -> bool {
        matches!(self, Error::TransportClosed(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpc(code: i64, message: &str) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    #[test]
    fn kinds_follow_the_app_servers_codes() {
        assert_eq!(
            rpc(-32001, "Server overloaded; retry later.").kind(),
            RpcErrorKind::ServerBusy
        );
        assert_eq!(
            rpc(-32600, "thread not found: x").kind(),
            RpcErrorKind::InvalidRequest
        );
        assert_eq!(
            rpc(
                -32600,
                "Invalid request: unknown variant `bogus/method`, expected one of"
            )
            .kind(),
            RpcErrorKind::MethodNotFound
        );
        assert_eq!(rpc(-32602, "too large").kind(), RpcErrorKind::InvalidParams);
        assert_eq!(rpc(-32603, "os error").kind(), RpcErrorKind::Internal);
        assert_eq!(rpc(-32700, "bad json").kind(), RpcErrorKind::Parse);
        assert_eq!(rpc(-1, "?").kind(), RpcErrorKind::Other);
    }

    #[test]
    fn overload_without_data_parses() {
        let e: RpcError = serde_json::from_str(
            r#"{"code": -32001, "message": "Server overloaded; retry later."}"#,
        )
        .unwrap();
        assert_eq!(e.kind(), RpcErrorKind::ServerBusy);
        assert_eq!(e.data, None);
    }

    #[test]
    fn closed_shows_the_stderr_tail() {
        let closed = Closed {
            reason: "the app-server exited (signal 9)".into(),
            stderr_tail: "panic: boom\n".into(),
        };
        let text = Error::TransportClosed(closed).to_string();
        assert!(
            text.contains("signal 9") && text.contains("panic: boom"),
            "{text}"
        );
    }
}
