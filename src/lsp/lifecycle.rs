//! The LSP lifecycle, in place of async-lsp's `LifecycleLayer`, which ends the main loop on an
//! `initialized` out of turn (before `initialize`, or a second one) and exits 0 on an `exit`
//! that no `shutdown` preceded.
//!
//! - Before `initialize`: requests get -32002 (ServerNotInitialized); notifications are
//!   dropped, except `exit` (LSP 3.17, "Initialize Request").
//! - `initialize` again, or any request after `shutdown`: -32600. An `initialize` that fails
//!   (params it cannot read) leaves the server uninitialized, so the editor can try again.
//! - `initialized` out of turn is logged and dropped.
//! - `exit` ends the main loop; [`Lifecycle::exit_code`] is 0 after `shutdown`, else 1
//!   (LSP 3.17, "Exit Notification").

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use async_lsp::{AnyEvent, AnyNotification, AnyRequest, ErrorCode, LspService, ResponseError};
use futures::future::BoxFuture;
use lsp_types::notification::{self, Notification};
use lsp_types::request::{self, Request};
use tower::{Layer, Service};

const UNINITIALIZED: u8 = 0;
const INITIALIZING: u8 = 1;
const READY: u8 = 2;
const SHUTTING_DOWN: u8 = 3;
const EXITED_AFTER_SHUTDOWN: u8 = 4;
const EXITED_WITHOUT_SHUTDOWN: u8 = 5;

/// Where the lifecycle stands; shared with `serve`, which reads the exit code from it.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle(Arc<AtomicU8>);

impl Lifecycle {
    /// The process exit code `exit` asked for; `None` if no `exit` came.
    pub fn exit_code(&self) -> Option<i32> {
        match self.0.load(Ordering::Acquire) {
            EXITED_AFTER_SHUTDOWN => Some(0),
            EXITED_WITHOUT_SHUTDOWN => Some(1),
            _ => None,
        }
    }

    fn get(&self) -> u8 {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, state: u8) {
        self.0.store(state, Ordering::Release);
    }
}

impl<S> Layer<S> for Lifecycle {
    type Service = LifecycleService<S>;

    fn layer(&self, service: S) -> Self::Service {
        LifecycleService {
            service,
            state: self.clone(),
        }
    }
}

pub struct LifecycleService<S> {
    service: S,
    state: Lifecycle,
}

fn refuse<T: Send + 'static, E: From<ResponseError> + Send + 'static>(
    code: ErrorCode,
    message: &str,
) -> BoxFuture<'static, Result<T, E>> {
    let error = ResponseError::new(code, message);
    Box::pin(std::future::ready(Err(error.into())))
}

impl<S> Service<AnyRequest> for LifecycleService<S>
where
    S: LspService,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: From<ResponseError> + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, req: AnyRequest) -> Self::Future {
        let is_initialize = req.method == request::Initialize::METHOD;
        match self.state.get() {
            UNINITIALIZED if is_initialize => {
                self.state.set(INITIALIZING);
                let state = self.state.clone();
                let answer = self.service.call(req);
                Box::pin(async move {
                    let answer = answer.await;
                    if answer.is_err() {
                        // Nothing was set up: the editor may try again.
                        let _ = state.0.compare_exchange(
                            INITIALIZING,
                            UNINITIALIZED,
                            Ordering::AcqRel,
                            Ordering::Acquire,
                        );
                    }
                    answer
                })
            }
            UNINITIALIZED | INITIALIZING if !is_initialize => refuse(
                ErrorCode::SERVER_NOT_INITIALIZED,
                &format!("codex-lsp is not initialized yet: `{}` must wait for `initialize` and `initialized`", req.method),
            ),
            READY if !is_initialize => {
                if req.method == request::Shutdown::METHOD {
                    self.state.set(SHUTTING_DOWN);
                }
                Box::pin(self.service.call(req))
            }
            _ if is_initialize => refuse(
                ErrorCode::INVALID_REQUEST,
                "codex-lsp is already initialized",
            ),
            _ => refuse(
                ErrorCode::INVALID_REQUEST,
                &format!(
                    "codex-lsp is shutting down: `{}` is refused (only `exit` is expected now)",
                    req.method
                ),
            ),
        }
    }
}

impl<S> LspService for LifecycleService<S>
where
    S: LspService,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: From<ResponseError> + Send + 'static,
{
    fn notify(&mut self, notif: AnyNotification) -> ControlFlow<async_lsp::Result<()>> {
        let state = self.state.get();
        match notif.method.as_str() {
            notification::Exit::METHOD => {
                if state != SHUTTING_DOWN {
                    tracing::warn!("`exit` without `shutdown`: exiting with code 1");
                }
                self.state.set(if state == SHUTTING_DOWN {
                    EXITED_AFTER_SHUTDOWN
                } else {
                    EXITED_WITHOUT_SHUTDOWN
                });
                self.service.notify(notif)?;
                ControlFlow::Break(Ok(()))
            }
            notification::Initialized::METHOD if state != INITIALIZING => {
                let when = match state {
                    UNINITIALIZED => "before `initialize`",
                    READY => "a second time",
                    _ => "after `shutdown`",
                };
                tracing::warn!("ignored `initialized` {when}");
                ControlFlow::Continue(())
            }
            notification::Initialized::METHOD => {
                self.state.set(READY);
                self.service.notify(notif)
            }
            method if state == UNINITIALIZED => {
                tracing::warn!("ignored `{method}` before `initialize`");
                ControlFlow::Continue(())
            }
            _ => self.service.notify(notif),
        }
    }

    fn emit(&mut self, event: AnyEvent) -> ControlFlow<async_lsp::Result<()>> {
        self.service.emit(event)
    }
}
