//! Turns: starting one with its context, following it as progress, ending it with
//! `codex/turnCompleted`, and stopping it by any path (progress cancel, a cancelled
//! waiting request, `codex.interrupt`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use super::activity::{first_line, Activity, Coalescer};
use super::documents::{differs_from_disk, fit_unsaved, UnsavedBuffer, UNSAVED_CONTEXT_BUDGET};
use super::mirror::MirrorJob;
use super::prompts::{turn_text, FileContext};
use super::{lock, Bridge, BridgeError, BridgeResult, Inner, MessageLevel};
use crate::app_server::client::TurnCollector;
use crate::app_server::{protocol as p, TurnHandle};
use crate::text::Range;

/// Progress reports per second, at most.
const REPORT_INTERVAL: Duration = Duration::from_millis(100);
/// How long the end of a turn waits for its buffers to be updated.
const MIRROR_WAIT: Duration = Duration::from_secs(10);

/// `codex.ask`, parsed.
#[derive(Debug, Clone, Default)]
pub struct AskRequest {
    pub prompt: String,
    /// The document the ask is about (its key in the mirror) and its file.
    pub uri: Option<String>,
    pub path: Option<PathBuf>,
    pub range: Option<Range>,
    pub thread_id: Option<String>,
    pub new_thread: bool,
    pub wait: bool,
}

/// What a followed turn is: its progress title, and what happens when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TurnKind {
    Ask,
    /// A `review/start` turn: its findings become diagnostics when it ends.
    Review,
    /// A turn another client started on a thread we follow (a shared app-server).
    Followed,
}

pub(super) enum Hint {
    /// `Some(what to show)` while an approval waits; `None` once it is answered.
    WaitingForApproval(Option<String>),
}

pub(super) struct ActiveTurn {
    pub thread_id: String,
    pub turn_id: String,
    pub progress_token: String,
    hints: mpsc::UnboundedSender<Hint>,
    done: watch::Receiver<Option<Value>>,
}

/// Interrupts the turn if the request waiting on it is dropped (`$/cancelRequest`).
struct InterruptOnDrop {
    bridge: Weak<Inner>,
    thread_id: String,
    turn_id: String,
    armed: bool,
}

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Some(inner) = self.bridge.upgrade() else {
            return;
        };
        let bridge = Bridge { inner };
        let (thread_id, turn_id) = (self.thread_id.clone(), self.turn_id.clone());
        tracing::info!(thread = %thread_id, turn = %turn_id, "the waiting request was cancelled; interrupting");
        tokio::spawn(async move {
            if let Err(e) = bridge.interrupt_turn(&thread_id, &turn_id).await {
                tracing::warn!("interrupt after cancel failed: {e}");
            }
        });
    }
}

impl Bridge {
    /// `codex.ask`: answers `{threadId, turnId}` once the turn started, or with `wait` the
    /// TurnResult once it ended.
    pub async fn ask(&self, request: AskRequest) -> BridgeResult<Value> {
        if request.prompt.trim().is_empty() {
            return Err(BridgeError::InvalidParams(
                "codex.ask: `prompt` must not be empty".into(),
            ));
        }
        let folder = self.workspace_for(request.path.as_deref());
        let text = turn_text(
            &request.prompt,
            self.file_context(&request, folder.as_deref())?.as_ref(),
        );
        // An app-server that died a moment ago may not be known dead yet, and one that hangs
        // answers nothing: either way the turn did not start on it, and starts once more on
        // a new one (the old one did nothing twice).
        let silence = super::settings::turn_silence();
        // Starting an app-server is not what the limit is about (it may be slow on a busy
        // machine); only the requests to one that runs are.
        self.codex().await?;
        let first = tokio::time::timeout(
            silence,
            self.start_ask_turn(&request, folder.as_deref(), &text),
        )
        .await;
        let (handle, starting) = match first {
            Ok(Err(e)) if self.app_server_died().await => {
                tracing::info!(
                    "the app-server died as the turn started ({e}); starting it on a new one"
                );
                self.start_ask_turn(&request, folder.as_deref(), &text)
                    .await?
            }
            Ok(started) => started?,
            Err(_) => {
                self.stop_hung_app_server(&format!(
                    "it stopped answering: the turn did not start within {} s, so codex-lsp stopped it",
                    silence.as_secs_f32()
                ))
                .await;
                self.codex().await?;
                tokio::time::timeout(
                    silence,
                    self.start_ask_turn(&request, folder.as_deref(), &text),
                )
                .await
                .map_err(|_| {
                    BridgeError::Failed(format!(
                        "the Codex app-server did not start the turn within {} s, twice",
                        silence.as_secs_f32()
                    ))
                })??
            }
        };
        self.follow_and_answer(handle, folder, TurnKind::Ask, request.wait, starting)
            .await
    }

    /// True when the app-server we hold has stopped (it restarts on the next request).
    async fn app_server_died(&self) -> bool {
        self.inner
            .app_server
            .lock()
            .await
            .as_ref()
            .is_some_and(|server| server.codex.connection().is_closed())
    }

    /// Stops the app-server we hold because it answers nothing; the next request starts a
    /// new one.
    async fn stop_hung_app_server(&self, reason: &str) {
        if let Some(server) = self.inner.app_server.lock().await.as_ref() {
            tracing::warn!("the app-server is hung: {reason}");
            server.codex.connection().close_because(reason);
        }
    }

    /// The thread of an ask (resumed or started as needed) and its turn, started.
    async fn start_ask_turn(
        &self,
        request: &AskRequest,
        folder: Option<&Path>,
        text: &str,
    ) -> BridgeResult<(TurnHandle, super::shared::StartingTurn)> {
        let (codex, thread_id) = self
            .thread_for(request.thread_id.as_deref(), request.new_thread, folder)
            .await?;
        let settings = self.settings();
        let mut params = json!({
            "threadId": thread_id,
            "input": [{ "type": "text", "text": text, "text_elements": [] }],
            "approvalPolicy": settings.approval_policy.as_wire(),
        });
        if let Some(model) = &settings.model {
            params["model"] = json!(model);
        }
        if let Some(effort) = &settings.effort {
            params["effort"] = json!(effort);
        }
        if settings.app_server.is_shared() {
            // On a shared app-server the thread's sandbox is whatever the session that
            // loaded it asked for: ours goes with each of our turns, so that another
            // session's looser sandbox never applies to them.
            params["sandboxPolicy"] = settings.sandbox.as_turn_policy();
        }
        let unsaved = self.unsaved_context(request.uri.as_deref(), folder);
        if !unsaved.is_empty() {
            params["additionalContext"] = serde_json::to_value(unsaved).expect("serializable");
        }
        let params: p::TurnStartParams = serde_json::from_value(params)
            .map_err(|e| BridgeError::Failed(format!("could not build turn/start: {e}")))?;
        let starting = self.starting_turn(&thread_id);
        let handle = codex.turn_start(&params).await?;
        Ok((handle, starting))
    }

    /// Follows a started turn; answers `{threadId, turnId}` at once, or with `wait` the
    /// TurnResult once it ended (cancelling the waiting request interrupts the turn).
    pub(super) async fn follow_and_answer(
        &self,
        handle: TurnHandle,
        folder: Option<PathBuf>,
        kind: TurnKind,
        wait: bool,
        starting: super::shared::StartingTurn,
    ) -> BridgeResult<Value> {
        let thread_id = handle.thread_id.clone();
        let turn_id = handle.turn_id.clone();
        let active = self.follow_turn(handle, folder, kind);
        // Registered: a `turn/started` of it is no longer taken for another client's.
        drop(starting);
        let answer = json!({ "threadId": thread_id, "turnId": turn_id });
        if !wait {
            return Ok(answer);
        }
        let mut guard = InterruptOnDrop {
            bridge: Arc::downgrade(&self.inner),
            thread_id,
            turn_id,
            armed: true,
        };
        let mut done = active.done.clone();
        let result = loop {
            if let Some(result) = done.borrow().clone() {
                break result;
            }
            if done.changed().await.is_err() {
                break done.borrow().clone().unwrap_or_else(|| answer.clone());
            }
        };
        guard.armed = false;
        Ok(result)
    }

    /// The file and selection an ask points at.
    fn file_context(
        &self,
        request: &AskRequest,
        folder: Option<&Path>,
    ) -> BridgeResult<Option<FileContext>> {
        let Some(path) = &request.path else {
            return Ok(None);
        };
        let display = super::activity::display_path(&path.display().to_string(), folder);
        let docs = self.documents();
        let doc = request.uri.as_deref().and_then(|u| docs.get(u));
        let language_id = doc.map(|d| d.language_id.clone()).unwrap_or_default();
        let (lines, selection) = match (request.range, &request.uri) {
            (Some(range), Some(uri)) if doc.is_some() => {
                let text = docs
                    .text_in(uri, range, self.inner.encoding)
                    .map_err(|e| BridgeError::InvalidParams(format!("codex.ask: `range`: {e}")))?;
                let end_line = if range.end.character == 0 && range.end.line > range.start.line {
                    range.end.line
                } else {
                    range.end.line + 1
                };
                (Some((range.start.line + 1, end_line)), Some(text))
            }
            (Some(range), _) => (Some((range.start.line + 1, range.end.line + 1)), None),
            _ => (None, None),
        };
        Ok(Some(FileContext {
            path: display,
            language_id,
            lines,
            selection,
        }))
    }

    /// Unsaved content of open, modified documents, the asked-about one first, within
    /// the budget; what was left out is logged.
    fn unsaved_context(
        &self,
        first: Option<&str>,
        folder: Option<&Path>,
    ) -> BTreeMap<String, Value> {
        let candidates = self.documents().candidates_for_unsaved(first);
        let modified: Vec<UnsavedBuffer> = candidates
            .into_iter()
            .filter(|(path, text)| differs_from_disk(path, text))
            .map(|(path, text)| UnsavedBuffer { path, text })
            .collect();
        let (kept, left_out) = fit_unsaved(modified, UNSAVED_CONTEXT_BUDGET);
        if !left_out.is_empty() {
            tracing::info!(
                budget = UNSAVED_CONTEXT_BUDGET,
                ?left_out,
                "unsaved buffers left out of the turn's context (over the budget)"
            );
        }
        kept.into_iter()
            .map(|buffer| {
                let shown = super::activity::display_path(&buffer.path.display().to_string(), folder);
                let value = format!(
                    "Unsaved editor buffer of {shown} (the file on disk differs; this is what the user sees):\n{}",
                    buffer.text
                );
                (
                    format!("codex-lsp:unsaved:{}", buffer.path.display()),
                    json!({ "kind": "untrusted", "value": value }),
                )
            })
            .collect()
    }

    /// Starts following a turn (once per turn, even if two asks joined it).
    pub(super) fn follow_turn(
        &self,
        handle: TurnHandle,
        folder: Option<PathBuf>,
        kind: TurnKind,
    ) -> Arc<ActiveTurn> {
        let mut turns = lock(&self.inner.turns);
        if let Some(active) = turns.get(&handle.turn_id) {
            return active.clone();
        }
        let (hints_tx, hints_rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = watch::channel(None);
        let active = Arc::new(ActiveTurn {
            thread_id: handle.thread_id.clone(),
            turn_id: handle.turn_id.clone(),
            progress_token: progress_token(self.inner.ui.status_line_only(), &handle.turn_id),
            hints: hints_tx,
            done: done_rx,
        });
        turns.insert(handle.turn_id.clone(), active.clone());
        tokio::spawn(self.clone().drive_turn(
            handle,
            active.clone(),
            hints_rx,
            done_tx,
            folder,
            kind,
        ));
        active
    }

    async fn drive_turn(
        self,
        mut handle: TurnHandle,
        active: Arc<ActiveTurn>,
        mut hints: mpsc::UnboundedReceiver<Hint>,
        done: watch::Sender<Option<Value>>,
        folder: Option<PathBuf>,
        kind: TurnKind,
    ) {
        let ui = self.inner.ui.clone();
        let token = active.progress_token.clone();
        let title = match kind {
            TurnKind::Ask => "Codex",
            TurnKind::Review => "Codex review",
            TurnKind::Followed => "Codex (another session)",
        };
        let with_progress = ui.supports_progress()
            && ui
                .progress_begin(token.clone(), title.into(), "thinking".into())
                .await;
        if !with_progress {
            ui.show_message(MessageLevel::Info, format!("{title} is working…"));
        }
        let mut activity = Activity::new();
        let mut coalescer = Coalescer::new(REPORT_INTERVAL);
        let mut collector = TurnCollector::new(&active.thread_id, &active.turn_id);
        let stream_events = self.settings().stream_events;
        let mut failure: Option<String> = None;
        // One timer for the held-back report, moved only when its deadline moves: a timer
        // made per event would cost more than the event.
        let report_timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(report_timer);
        let mut timer_deadline: Option<Instant> = None;
        /// What woke the loop: news (which may or may not change what progress says), or
        /// the held-back report's timer.
        enum Wake {
            News { changed: bool },
            ReportDue,
        }
        loop {
            let deadline = coalescer.deadline();
            if deadline != timer_deadline {
                if let Some(deadline) = deadline {
                    report_timer.as_mut().reset(deadline.into());
                }
                timer_deadline = deadline;
            }
            let wake = tokio::select! {
                event = handle.next_event() => match event {
                    None => break,
                    Some(Err(e)) => {
                        failure = Some(super::user_message(&e));
                        break;
                    }
                    Some(Ok(event)) if !stream_events && event.method == "item/agentMessage/delta" => {
                        // The bulk of a turn: read the delta text where it lies, no `Value`.
                        collector.observe(&event);
                        let changed = match serde_json::from_str::<DeltaParams>(event.params.get()) {
                            Ok(params) => activity.push_delta(&params.delta),
                            Err(_) => activity.observe(&event.method, &event.params_value(), None).is_some(),
                        };
                        Wake::News { changed }
                    }
                    Some(Ok(event)) => {
                        collector.observe(&event);
                        let params = event.params_value();
                        if let Some(changes) = completed_file_changes(&event.method, &params) {
                            self.queue_mirror(MirrorJob::FileChange {
                                turn_id: active.turn_id.clone(),
                                changes,
                            });
                        }
                        if stream_events {
                            ui.event(json!({
                                "threadId": active.thread_id,
                                "turnId": active.turn_id,
                                "method": event.method,
                                "params": params,
                            }));
                        }
                        let changed = activity.observe(&event.method, &params, folder.as_deref()).is_some();
                        Wake::News { changed }
                    }
                },
                Some(hint) = hints.recv() => match hint {
                    Hint::WaitingForApproval(waiting) => {
                        activity.set_waiting_for_approval(waiting);
                        Wake::News { changed: true }
                    }
                },
                _ = &mut report_timer, if timer_deadline.is_some() => {
                    // Fired: re-arm on whatever the deadline is next.
                    timer_deadline = None;
                    Wake::ReportDue
                }
            };
            let report = match wake {
                Wake::News { changed } => changed && coalescer.offer(Instant::now),
                Wake::ReportDue => coalescer.due(Instant::now()),
            };
            if report && with_progress {
                ui.progress_report(&token, activity.describe());
            }
        }
        // An approval still offered in the code actions is moot once its turn is over.
        self.withdraw_approvals(&active.turn_id);
        let result = match (failure, collector.finish()) {
            (None, Ok(result)) => serde_json::to_value(&result).expect("serializable"),
            (failure, outcome) => {
                let message = failure.unwrap_or_else(|| match outcome {
                    Err(e) => e.to_string(),
                    Ok(_) => unreachable!(),
                });
                json!({
                    "threadId": active.thread_id,
                    "turnId": active.turn_id,
                    "status": "failed",
                    "finalResponse": "",
                    "items": [],
                    "usage": null,
                    "error": { "message": message },
                    "startedAt": null,
                    "completedAt": null,
                    "durationMs": null,
                })
            }
        };
        // Buffers first, so that an editor seeing the turn end sees its work in them.
        let (mirrored_tx, mirrored) = tokio::sync::oneshot::channel();
        self.queue_mirror(MirrorJob::TurnEnded {
            turn_id: active.turn_id.clone(),
            done: mirrored_tx,
        });
        if tokio::time::timeout(MIRROR_WAIT, mirrored).await.is_err() {
            tracing::info!(turn = %active.turn_id, "ending the turn before its buffers are updated (slow editor)");
        }
        let end = end_message(&result);
        if with_progress {
            ui.progress_end(&token, end.clone());
        } else {
            let level = if result["status"] == "failed" {
                MessageLevel::Error
            } else {
                MessageLevel::Info
            };
            ui.show_message(level, format!("{title}: {end}"));
        }
        if kind == TurnKind::Review {
            self.review_finished(&result, folder.as_deref());
        }
        ui.turn_completed(result.clone());
        lock(&self.inner.turns).remove(&active.turn_id);
        let _ = done.send(Some(result));
    }

    /// Tells the turn's progress that an approval is (`Some(what to show)`) or no longer is
    /// waiting.
    pub(super) fn hint_waiting_for_approval(&self, turn_id: &str, waiting: Option<String>) {
        if let Some(active) = lock(&self.inner.turns).get(turn_id) {
            let _ = active.hints.send(Hint::WaitingForApproval(waiting));
        }
    }

    /// `turn/interrupt`. Right after `turn/start` the app-server may not count the turn as
    /// active yet ("no active turn"); while we still follow the turn, try again briefly.
    pub(super) async fn interrupt_turn(&self, thread_id: &str, turn_id: &str) -> BridgeResult<()> {
        let (codex, _) = self.codex().await?;
        let mut attempts = 0;
        loop {
            match codex.turn_interrupt(thread_id, turn_id).await {
                Ok(()) => return Ok(()),
                Err(e)
                    if attempts < 40
                        && not_active_yet(&e)
                        && lock(&self.inner.turns).contains_key(turn_id) =>
                {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `codex.interrupt`: the given turn, or the running turns of the given thread, or
    /// every running turn.
    pub async fn interrupt(
        &self,
        thread_id: Option<&str>,
        turn_id: Option<&str>,
    ) -> BridgeResult<Value> {
        let targets: Vec<(String, String)> = lock(&self.inner.turns)
            .values()
            .filter(|t| turn_id.is_none_or(|id| t.turn_id == id))
            .filter(|t| thread_id.is_none_or(|id| t.thread_id == id))
            .map(|t| (t.thread_id.clone(), t.turn_id.clone()))
            .collect();
        let targets = match (targets.is_empty(), thread_id, turn_id) {
            // A turn we are not following (started elsewhere): interrupt it anyway.
            (true, Some(thread), Some(turn)) => vec![(thread.to_string(), turn.to_string())],
            (true, _, _) => return Err(BridgeError::Failed("no Codex turn is running".into())),
            (false, _, _) => targets,
        };
        let mut interrupted = Vec::new();
        for (thread, turn) in targets {
            self.interrupt_turn(&thread, &turn).await?;
            interrupted.push(json!({ "threadId": thread, "turnId": turn }));
        }
        Ok(json!({ "interrupted": interrupted }))
    }

    /// `window/workDoneProgress/cancel` on a turn's progress.
    pub fn cancel_progress(&self, token: &str) {
        let target = lock(&self.inner.turns)
            .values()
            .find(|t| t.progress_token == token)
            .map(|t| (t.thread_id.clone(), t.turn_id.clone()));
        let Some((thread, turn)) = target else {
            tracing::debug!(token, "cancel for a progress that is not a running turn");
            return;
        };
        let bridge = self.clone();
        tokio::spawn(async move {
            if let Err(e) = bridge.interrupt_turn(&thread, &turn).await {
                tracing::warn!("interrupt after progress cancel failed: {e}");
            }
        });
    }

    /// `codex.steer`: adds to the running turn of the thread.
    pub async fn steer(&self, prompt: &str, thread_id: Option<&str>) -> BridgeResult<Value> {
        if prompt.trim().is_empty() {
            return Err(BridgeError::InvalidParams(
                "codex.steer: `prompt` must not be empty".into(),
            ));
        }
        let thread = match thread_id {
            Some(id) => Some(id.to_string()),
            None => self.known_thread(None).await,
        };
        let running = lock(&self.inner.turns)
            .values()
            .find(|t| thread.as_ref().is_none_or(|id| &t.thread_id == id))
            .map(|t| (t.thread_id.clone(), t.turn_id.clone()));
        let Some((thread, turn)) = running else {
            return Err(BridgeError::Failed(
                "no Codex turn is running to steer; use codex.ask".into(),
            ));
        };
        let (codex, _) = self.codex().await?;
        let input: Vec<p::UserInput> = serde_json::from_value(
            json!([{ "type": "text", "text": prompt, "text_elements": [] }]),
        )
        .map_err(|e| BridgeError::Failed(e.to_string()))?;
        let turn_id = codex.turn_steer(&thread, &turn, input).await?;
        Ok(json!({ "threadId": thread, "turnId": turn_id }))
    }
}

/// The one field of `item/agentMessage/delta` progress needs, borrowed when it has no escapes.
#[derive(serde::Deserialize)]
struct DeltaParams<'a> {
    #[serde(borrow)]
    delta: std::borrow::Cow<'a, str>,
}

/// The changes of a `fileChange` item the app-server finished applying.
fn completed_file_changes(method: &str, params: &Value) -> Option<Vec<p::FileUpdateChange>> {
    if method != "item/completed" || params.pointer("/item/type")? != "fileChange" {
        return None;
    }
    let item: p::FileChangeItem = serde_json::from_value(params["item"].clone()).ok()?;
    (item.status == p::PatchApplyStatus::Completed).then_some(item.changes)
}

/// The app-server does not (yet) see our turn as the thread's active one: right after
/// `turn/start`, or while the previous turn is still winding down.
fn not_active_yet(e: &crate::app_server::Error) -> bool {
    let text = e.to_string();
    text.contains("no active turn") || text.contains("expected active turn id")
}

/// The progress end text: the first line of the reply, or what went wrong.
pub fn end_message(result: &Value) -> String {
    let status = result["status"].as_str().unwrap_or("unknown");
    let error = result
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match status {
        "completed" => first_line(result["finalResponse"].as_str().unwrap_or_default())
            .unwrap_or_else(|| "done".into()),
        "interrupted" => "interrupted".into(),
        _ => {
            let info = result.pointer("/error/codexErrorInfo");
            let hint = match info.and_then(Value::as_str) {
                Some("unauthorized") => " — Codex is not logged in: run the command codex.login",
                Some("serverOverloaded") => {
                    " — the model is overloaded; codex gave up retrying, try again later"
                }
                _ => "",
            };
            format!("failed: {}{hint}", super::activity::one_line(error, 200))
        }
    }
}

/// A turn's work-done progress token: `codex-lsp/turn/<turnId>` (editors read the turn from
/// it), or `codex#<n>` for editors that print the token in their status line (Helix 25.01:
/// `[token] message`), where the 55 columns of a turn id left no room for the message.
fn progress_token(shown: bool, turn_id: &str) -> String {
    static SHOWN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    if shown {
        format!(
            "codex#{}",
            SHOWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )
    } else {
        format!("codex-lsp/turn/{turn_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_messages() {
        assert_eq!(
            end_message(&json!({"status": "completed", "finalResponse": "\nAll good.\nDetails"})),
            "All good."
        );
        assert_eq!(
            end_message(&json!({"status": "interrupted"})),
            "interrupted"
        );
        let failed = json!({"status": "failed", "error": {"message": "boom", "codexErrorInfo": "serverOverloaded"}});
        assert!(end_message(&failed).starts_with("failed: boom — the model is overloaded"));
    }
}
