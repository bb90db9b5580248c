//! Turns: starting one with its context, following it as progress, ending it with
//! `codex/turnCompleted`, and stopping it by any path (progress cancel, a cancelled
//! waiting request, `codex.interrupt`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use super::attachments::{attach_mentions, check_image, AttachedText};
use super::registry::{ActiveTurn, Hint, StartingTurn, ThreadSlot, TurnKind};
use crate::app_server::client::TurnCollector;
use crate::app_server::protocol::{self as p, ServerNotification};
use crate::app_server::{RpcErrorKind, TurnHandle};
use crate::bridge::activity::{self, first_line, Activity, Coalescer};
use crate::bridge::edits::documents::{fit_unsaved, UNSAVED_CONTEXT_BUDGET};
use crate::bridge::edits::mirror::MirrorJob;
use crate::bridge::meters;
use crate::bridge::prompts::{turn_text, FileContext};
use crate::bridge::{
    settings, Bridge, BridgeError, BridgeResult, Inner, MessageLevel, TurnEventForEditor,
};

/// How a followed turn ended — completed, interrupted, or failed with its error; whether the
/// watchdog recovered it — typed until the edge: `lsp::ext::TurnCompletedParams` is its one
/// serialisation. A turn lost with the app-server is [`TurnOutcome::lost`].
pub type TurnOutcome = crate::app_server::TurnResult;
use crate::text::Range;

/// Progress reports per second, at most.
const REPORT_INTERVAL: Duration = Duration::from_millis(100);
/// In an editor that shows the server in one status line (Helix), how long a message stays
/// before progress replaces it: the queued notice, and a turn's end before the next queued
/// turn begins.
const STATUS_LINE_READING_TIME: Duration = Duration::from_millis(2000);
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
    /// Image files to send with the prompt (`localImage` inputs); relative to the folder.
    pub images: Vec<String>,
}

/// What goes to the model with an ask: the prompt's text (with the file it is about), the
/// files its `@` mentions attach and its images, all checked before the turn starts.
#[derive(Debug, Clone, Default)]
struct AskInput {
    text: String,
    attached: Vec<AttachedText>,
    images: Vec<PathBuf>,
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
    /// TurnResult once it ended. While a turn of this ask runs on the thread, the ask is
    /// queued behind it: answered at once with `{threadId, status: "queued", position}`
    /// (with `wait`, answered when its own turn ended), started when the running one ends.
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
        let input = AskInput {
            text,
            attached: self.attached_mentions(&request.prompt, folder.as_deref())?,
            images: request
                .images
                .iter()
                .map(|image| check_image(image, folder.as_deref()))
                .collect::<Result<_, _>>()
                .map_err(|e| BridgeError::InvalidParams(format!("codex.ask: {e}")))?,
        };
        // Starting an app-server is not what the silence limit is about (it may be slow on a
        // busy machine); only the requests to one that runs are.
        self.codex().await?;
        // The thread first: the queue is per thread.
        let (_, thread_id) = self
            .thread_for(
                request.thread_id.as_deref(),
                request.new_thread,
                folder.as_deref(),
            )
            .await?;
        let mut request = request;
        request.thread_id = Some(thread_id.clone());
        request.new_thread = false;
        let wait = request.wait;
        let label = format!("ask \"{}\"", activity::one_line(&request.prompt, 60));
        let bridge = self.clone();
        self.in_turn_order(&thread_id, wait, label, move |slot| async move {
            bridge.run_ask(request, folder, input, slot).await
        })
        .await
    }

    /// Runs `start` (which starts a turn on the thread and hands the slot to it) once the
    /// thread's slot is free: at once, or queued behind the running turn — answered at once
    /// with `{threadId, status: "queued", position}`, or with `wait` when `start` answered.
    pub(in crate::bridge) async fn in_turn_order<F, Fut>(
        &self,
        thread_id: &str,
        wait: bool,
        label: String,
        start: F,
    ) -> BridgeResult<Value>
    where
        F: FnOnce(ThreadSlot) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = BridgeResult<Value>> + Send + 'static,
    {
        let (ready, position) = match self.inner.turns.take_slot(thread_id) {
            Ok(slot) => return start(slot).await,
            Err(queued) => queued,
        };
        tracing::info!(thread = %thread_id, position, "a turn runs on the thread: the {label} is queued");
        self.show_message(
            MessageLevel::Info,
            format!(
                "queued: your {label} waits for the running turn to end ({position} waiting; codex.steer adds to the running turn instead, an interrupt cancels the queue)"
            ),
        );
        if wait {
            let slot = ready.await.map_err(|_| BridgeError::QueueCancelled)?;
            return start(slot).await;
        }
        let bridge = self.clone();
        tokio::spawn(async move {
            match ready.await {
                Ok(slot) => {
                    if let Err(e) = start(slot).await {
                        bridge.show_message(
                            MessageLevel::Error,
                            format!("the queued {label} failed: {e}"),
                        );
                    }
                }
                Err(_) => bridge.show_message(
                    MessageLevel::Info,
                    format!("{}: {label}", BridgeError::QueueCancelled),
                ),
            }
        });
        Ok(json!({ "threadId": thread_id, "status": "queued", "position": position }))
    }

    /// Starts an ask's turn on its thread (which `slot` holds) and follows it.
    async fn run_ask(
        &self,
        request: AskRequest,
        folder: Option<PathBuf>,
        input: AskInput,
        slot: ThreadSlot,
    ) -> BridgeResult<Value> {
        // An app-server that died a moment ago may not be known dead yet, and one that hangs
        // answers nothing: either way the turn did not start on it, and starts once more on
        // a new one (the old one did nothing twice).
        let silence = settings::turn_silence();
        self.codex().await?;
        let first = tokio::time::timeout(
            silence,
            self.start_ask_turn(&request, folder.as_deref(), &input),
        )
        .await;
        let (handle, starting) = match first {
            Ok(Err(e)) if self.inner.app_server.died().await => {
                tracing::info!(
                    "the app-server died as the turn started ({e}); starting it on a new one"
                );
                self.start_ask_turn(&request, folder.as_deref(), &input)
                    .await?
            }
            Ok(started) => started?,
            Err(_) => {
                self.inner.app_server.stop_hung(&format!(
                    "it stopped answering: the turn did not start within {} s, so codex-lsp stopped it",
                    silence.as_secs_f32()
                ))
                .await;
                self.codex().await?;
                tokio::time::timeout(
                    silence,
                    self.start_ask_turn(&request, folder.as_deref(), &input),
                )
                .await
                .map_err(|_| BridgeError::TurnDidNotStart {
                    seconds: silence.as_secs_f32(),
                })??
            }
        };
        self.inner.turns.hold_slot(&handle.turn_id, slot);
        self.follow_and_answer(handle, folder, TurnKind::Ask, request.wait, starting)
            .await
    }

    /// The thread of an ask (resumed or started as needed) and its turn, started.
    async fn start_ask_turn(
        &self,
        request: &AskRequest,
        folder: Option<&Path>,
        input: &AskInput,
    ) -> BridgeResult<(TurnHandle, StartingTurn)> {
        let (codex, thread_id) = self
            .thread_for(request.thread_id.as_deref(), request.new_thread, folder)
            .await?;
        let settings = self.settings();
        let mut context = self.unsaved_context(request.uri.as_deref(), folder);
        // The buffers sent, as the transcript names them.
        let sent: Vec<String> = context
            .keys()
            .map(|key| {
                let path = key.trim_start_matches("codex-lsp:unsaved:");
                activity::display_path(path, folder)
            })
            .collect();
        let attached: Vec<String> = input.attached.iter().map(|a| a.label.clone()).collect();
        for attachment in &input.attached {
            context.insert(
                attachment.key.clone(),
                p::AdditionalContextEntry {
                    kind: p::AdditionalContextKind::Untrusted,
                    value: attachment.value.clone(),
                },
            );
        }
        let images = input.images.iter().map(|path| {
            p::UserInput::LocalImage(p::LocalImageInput {
                detail: None,
                path: path.display().to_string(),
            })
        });
        let params = p::TurnStartParams {
            thread_id: thread_id.clone(),
            input: self
                .changes_take_note(&thread_id)
                .map(p::UserInput::text)
                .into_iter()
                .chain([p::UserInput::text(&input.text)])
                .chain(images)
                .collect(),
            approval_policy: Some(settings.approval_policy.to_protocol()),
            model: settings.model.clone(),
            effort: settings.effort.clone(),
            // On a shared app-server the thread's sandbox is whatever the session that
            // loaded it asked for: ours goes with each of our turns, so that another
            // session's looser sandbox never applies to them.
            sandbox_policy: settings
                .app_server
                .is_shared()
                .then(|| settings.sandbox.to_turn_policy()),
            additional_context: (!context.is_empty()).then_some(context),
            ..Default::default()
        };
        let starting = self.inner.turns.starting_turn(&thread_id);
        let handle = codex.turn_start(&params).await?;
        self.turn_model_asked(&handle.thread_id, params.model, params.effort);
        self.changes_turn_started(&handle.thread_id, &handle.turn_id, Some(&request.prompt));
        self.transcript_context(&handle.thread_id, &handle.turn_id, sent, attached);
        Ok((handle, starting))
    }

    /// Follows a started turn; answers `{threadId, turnId}` at once, or with `wait` the
    /// TurnResult once it ended (cancelling the waiting request interrupts the turn).
    pub(in crate::bridge) async fn follow_and_answer(
        &self,
        handle: TurnHandle,
        folder: Option<PathBuf>,
        kind: TurnKind,
        wait: bool,
        starting: StartingTurn,
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
        let outcome = loop {
            if let Some(outcome) = done.borrow().clone() {
                break Some(outcome);
            }
            if done.changed().await.is_err() {
                break done.borrow().clone();
            }
        };
        guard.armed = false;
        // The same serialisation as `codex/turnCompleted` (`TurnOutcome`'s).
        Ok(outcome.map_or(answer, |outcome| {
            serde_json::to_value(&*outcome).expect("wire types serialize")
        }))
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
        let display = activity::display_path(&path.display().to_string(), folder);
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

    /// The files the prompt's `@` mentions attach (see `attachments`), or why the ask is
    /// refused.
    fn attached_mentions(
        &self,
        prompt: &str,
        folder: Option<&Path>,
    ) -> BridgeResult<Vec<AttachedText>> {
        let mut folders = self.inner.workspace.folders();
        if let Some(folder) = folder {
            folders.sort_by_key(|f| f.as_path() != folder);
        }
        // The documents' lock is taken per lookup, not across the reads from disk.
        let open_text = |path: &Path| {
            let docs = self.documents();
            let uri = docs.uris_of(path).into_iter().next()?;
            docs.get(&uri).map(|d| d.document.text())
        };
        attach_mentions(prompt, &folders, open_text)
            .map_err(|e| BridgeError::InvalidParams(format!("codex.ask: {e}")))
    }

    /// Unsaved content of open, modified documents, the asked-about one first, within
    /// the budget; what was left out is logged.
    fn unsaved_context(
        &self,
        first: Option<&str>,
        folder: Option<&Path>,
    ) -> BTreeMap<String, p::AdditionalContextEntry> {
        let candidates = self.documents().candidates_for_unsaved(first);
        let (kept, left_out) = fit_unsaved(candidates, UNSAVED_CONTEXT_BUDGET);
        if !left_out.is_empty() {
            tracing::info!(
                budget = UNSAVED_CONTEXT_BUDGET,
                ?left_out,
                "unsaved buffers left out of the turn's context (over the budget)"
            );
        }
        kept.into_iter()
            .map(|buffer| {
                let shown = activity::display_path(&buffer.path.display().to_string(), folder);
                let value = format!(
                    "Unsaved editor buffer of {shown} (the file on disk differs; this is what the user sees):\n{}",
                    buffer.text
                );
                (
                    format!("codex-lsp:unsaved:{}", buffer.path.display()),
                    p::AdditionalContextEntry {
                        kind: p::AdditionalContextKind::Untrusted,
                        value,
                    },
                )
            })
            .collect()
    }

    /// Starts following a turn (once per turn, even if two asks joined it).
    pub(in crate::bridge) fn follow_turn(
        &self,
        handle: TurnHandle,
        folder: Option<PathBuf>,
        kind: TurnKind,
    ) -> Arc<ActiveTurn> {
        let (hints_tx, hints_rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = watch::channel(None);
        let (active, new) = self.inner.turns.follow(&handle.turn_id, || ActiveTurn {
            thread_id: handle.thread_id.clone(),
            turn_id: handle.turn_id.clone(),
            progress_token: progress_token(self.inner.ui.status_line_only(), &handle.turn_id),
            hints: hints_tx,
            done: done_rx,
        });
        if !new {
            return active;
        }
        self.changes_turn_started(&handle.thread_id, &handle.turn_id, None);
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
        done: watch::Sender<Option<Arc<TurnOutcome>>>,
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
        self.transcript_begin(&active.thread_id, &active.turn_id, folder.as_deref());
        // The thread's tokens before this turn: the turn's own are the rest.
        let tokens_before = self
            .inner
            .meters
            .usage(&active.thread_id)
            .map(|u| u.total.total_tokens);
        let mut activity = Activity::new();
        let mut coalescer = Coalescer::new(REPORT_INTERVAL);
        let mut collector = TurnCollector::new(&active.thread_id, &active.turn_id);
        let stream_events = self.settings().stream_events;
        let mut failure: Option<String> = None;
        let mut queued = self.inner.turns.queued_on(&active.thread_id);
        let status_line = ui.status_line_only();
        // While set, progress reports wait (see STATUS_LINE_READING_TIME).
        let mut quiet_until: Option<Instant> = None;
        // "can't reach the model: retrying 2/5 — …" while the app-server retries the
        // provider; cleared by the next sign of progress.
        let mut retrying: Option<String> = None;
        let mut told_offline = false;
        // One timer for the held-back report, moved only when its deadline moves: a timer
        // made per event would cost more than the event.
        let report_timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(report_timer);
        let mut timer_deadline: Option<Instant> = None;
        /// What woke the loop: news (which may or may not change what progress says), or
        /// the held-back report's timer.
        enum Wake {
            /// `first_words`: the reply starts showing, which no window holds back.
            News {
                changed: bool,
                first_words: bool,
            },
            ReportDue,
        }
        loop {
            let deadline = coalescer.wake_at();
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
                        failure = Some(BridgeError::from(e).to_string());
                        break;
                    }
                    Some(Ok(event)) => {
                        collector.observe(&event);
                        // The bulk of a turn: read the delta text where it lies, no `Value`.
                        let delta = if stream_events { None } else { event.reply_delta_in_item() };
                        if let Some(delta) = delta {
                            self.transcript_delta(&active.thread_id, &active.turn_id, &delta.item_id, &delta.delta);
                            let first_words = activity.delta_starts_reply();
                            let changed = activity.push_delta(&delta.delta) || retrying.take().is_some();
                            Wake::News { changed, first_words }
                        } else {
                            let notification = event.decoded();
                            let first_words = matches!(*notification, ServerNotification::AgentMessageDelta(_))
                                && activity.delta_starts_reply();
                            self.transcript_event(&active.thread_id, &active.turn_id, &notification);
                            if let ServerNotification::ThreadTokenUsageUpdated(usage) = &*notification {
                                self.usage_updated(&active.thread_id, &usage.token_usage);
                            }
                            if let Some(changes) = completed_file_changes(&notification) {
                                self.changes_record_items(&active.turn_id, &changes);
                                self.queue_mirror(MirrorJob::FileChange {
                                    turn_id: active.turn_id.clone(),
                                    changes,
                                });
                            }
                            if stream_events {
                                ui.event(TurnEventForEditor {
                                    thread_id: active.thread_id.clone(),
                                    turn_id: active.turn_id.clone(),
                                    method: event.method().to_string(),
                                    params: event.params_value(),
                                });
                            }
                            let changed = match retry_text(&notification) {
                                Some(text) => {
                                    tracing::info!(turn = %active.turn_id, "{text}");
                                    if !with_progress && retrying.is_none() {
                                        ui.show_message(MessageLevel::Warning, text.clone());
                                    }
                                    if text.contains("waiting for the network") && !told_offline {
                                        // No end in sight: say what to do, once per turn.
                                        told_offline = true;
                                        ui.show_message(
                                            MessageLevel::Warning,
                                            format!("{text}. The app-server keeps retrying until it can reach the model provider: check the network and the provider, or interrupt the turn (codex.interrupt)."),
                                        );
                                    }
                                    retrying = Some(text);
                                    true
                                }
                                None => {
                                    let changed = activity.observe(&notification, folder.as_deref()).is_some();
                                    if changed {
                                        retrying = None;
                                    }
                                    changed
                                }
                            };
                            Wake::News { changed, first_words }
                        }
                    }
                },
                Some(hint) = hints.recv() => match hint {
                    Hint::WaitingForApproval(waiting) => {
                        activity.set_waiting_for_approval(waiting);
                        Wake::News { changed: true, first_words: false }
                    }
                    Hint::Queued(count) => {
                        queued = count;
                        if status_line && count > 0 {
                            // One status line: a report now would replace the queued
                            // notice at once; the count comes with the next report.
                            quiet_until = Some(Instant::now() + STATUS_LINE_READING_TIME);
                        } else if with_progress {
                            // Said at once: it answers the ask the user just made.
                            let now = retrying.clone().unwrap_or_else(|| activity.describe());
                            ui.progress_report(&token, with_queue(now, queued));
                        }
                        Wake::News { changed: false, first_words: false }
                    }
                },
                _ = &mut report_timer, if timer_deadline.is_some() => {
                    // Fired: re-arm on whatever the deadline is next.
                    timer_deadline = None;
                    Wake::ReportDue
                }
            };
            let report = match wake {
                Wake::News {
                    changed: true,
                    first_words: true,
                } => {
                    coalescer.force(Instant::now());
                    true
                }
                Wake::News { changed, .. } => changed && coalescer.offer(Instant::now),
                Wake::ReportDue => coalescer.due(Instant::now()),
            };
            let quiet = quiet_until.is_some_and(|until| Instant::now() < until);
            if report && with_progress && !quiet {
                let now = retrying.clone().unwrap_or_else(|| activity.describe());
                ui.progress_report(&token, with_queue(now, queued));
            }
        }
        // An approval still offered in the code actions is moot once its turn is over.
        self.withdraw_approvals(&active.turn_id);
        // A turn the app-server failed (the provider, the login, a limit), not one lost
        // with the app-server (that is told when it stops).
        let turn_failed = failure.is_none();
        let outcome: TurnOutcome = match (failure, collector.finish()) {
            (None, Ok(result)) => result,
            (Some(message), _) => TurnOutcome::lost(&active.thread_id, &active.turn_id, message),
            (None, Err(e)) => TurnOutcome::lost(&active.thread_id, &active.turn_id, e.to_string()),
        };
        let failed = outcome.status == p::TurnStatus::Failed;
        // Buffers first, so that an editor seeing the turn end sees its work in them.
        let (mirrored_tx, mirrored) = tokio::sync::oneshot::channel();
        self.queue_mirror(MirrorJob::TurnEnded {
            turn_id: active.turn_id.clone(),
            done: mirrored_tx,
        });
        if tokio::time::timeout(MIRROR_WAIT, mirrored).await.is_err() {
            tracing::info!(turn = %active.turn_id, "ending the turn before its buffers are updated (slow editor)");
        }
        let usage = outcome.usage.as_ref();
        let turn_tokens = usage.map(|u| match tokens_before {
            Some(before) => u.total.total_tokens - before,
            // A thread resumed and not yet measured: the turn's last request is what is known.
            None => u.last.total_tokens,
        });
        let figures = meters::turn_figures(outcome.duration_ms, turn_tokens, usage);
        let end = end_message(&outcome, &figures);
        if with_progress {
            ui.progress_end(&token, end.clone());
            if turn_failed && failed {
                // The progress end goes by in a moment: say it where it stays.
                ui.show_message(MessageLevel::Error, format!("{title}: {end}"));
            }
        } else {
            let level = if failed {
                MessageLevel::Error
            } else {
                MessageLevel::Info
            };
            ui.show_message(level, format!("{title}: {end}"));
        }
        self.transcript_end(&outcome);
        if kind == TurnKind::Review {
            self.review_finished(&outcome, folder.as_deref());
        }
        ui.turn_completed(&outcome);
        self.inner.turns.ended(&active.turn_id);
        let _ = done.send(Some(Arc::new(outcome)));
        // The next queued ask on the thread starts now, after this turn's end was told.
        let slot = self.inner.turns.release_slot(&active.turn_id);
        if slot.is_some() && status_line && self.inner.turns.queued_on(&active.thread_id) > 0 {
            // One status line: the next turn's progress would replace this end at once.
            tokio::time::sleep(STATUS_LINE_READING_TIME).await;
        }
        drop(slot);
    }

    /// Tells the turn's progress that an approval is (`Some(what to show)`) or no longer is
    /// waiting.
    pub(in crate::bridge) fn hint_waiting_for_approval(
        &self,
        turn_id: &str,
        waiting: Option<String>,
    ) {
        self.inner
            .turns
            .hint(turn_id, Hint::WaitingForApproval(waiting));
    }

    /// `turn/interrupt`. Right after `turn/start` the app-server may not count the turn as
    /// active yet ("no active turn"); while we still follow the turn, try again briefly.
    pub(in crate::bridge) async fn interrupt_turn(
        &self,
        thread_id: &str,
        turn_id: &str,
    ) -> BridgeResult<()> {
        let (codex, _) = self.codex().await?;
        let mut attempts = 0;
        loop {
            match codex.turn_interrupt(thread_id, turn_id).await {
                Ok(()) => return Ok(()),
                Err(e)
                    if attempts < 40
                        && e.rpc_kind() == Some(RpcErrorKind::TurnNotActive)
                        && self.inner.turns.is_running(turn_id) =>
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
        let targets = self.inner.turns.running_where(|t| {
            turn_id.is_none_or(|id| t.turn_id == id) && thread_id.is_none_or(|id| t.thread_id == id)
        });
        let targets = match (targets.is_empty(), thread_id, turn_id) {
            // A turn we are not following (started elsewhere): interrupt it anyway.
            (true, Some(thread), Some(turn)) => vec![(thread.to_string(), turn.to_string())],
            (true, _, _) => return Err(BridgeError::NoTurnRunning),
            (false, _, _) => targets,
        };
        let mut interrupted = Vec::new();
        for (thread, turn) in targets {
            self.inner.turns.cancel_queue(&thread);
            self.interrupt_turn(&thread, &turn).await?;
            interrupted.push(json!({ "threadId": thread, "turnId": turn }));
        }
        Ok(json!({ "interrupted": interrupted }))
    }

    /// `window/workDoneProgress/cancel` on a turn's progress.
    pub fn cancel_progress(&self, token: &str) {
        let target = self.inner.turns.first_where(|t| t.progress_token == token);
        let Some((thread, turn)) = target else {
            tracing::debug!(token, "cancel for a progress that is not a running turn");
            return;
        };
        self.inner.turns.cancel_queue(&thread);
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
        let running = self
            .inner
            .turns
            .first_where(|t| thread.as_ref().is_none_or(|id| &t.thread_id == id));
        let Some((thread, turn)) = running else {
            return Err(BridgeError::NoTurnToSteer);
        };
        let (codex, _) = self.codex().await?;
        let input = vec![p::UserInput::text(prompt)];
        let turn_id = codex.turn_steer(&thread, &turn, input).await?;
        Ok(json!({ "threadId": thread, "turnId": turn_id }))
    }
}

/// The changes of a `fileChange` item the app-server finished applying.
fn completed_file_changes(notification: &ServerNotification) -> Option<Vec<p::FileUpdateChange>> {
    match notification {
        ServerNotification::ItemCompleted(p::ItemCompletedNotification {
            item: p::ThreadItem::FileChange(item),
            ..
        }) if item.status == p::PatchApplyStatus::Completed => Some(item.changes.clone()),
        _ => None,
    }
}

/// What to do when the model provider could not be reached or kept failing.
const PROVIDER_HINT: &str = " — the model provider could not be reached or kept failing: check the network, the provider's status and your login (`codex-lsp doctor`), then ask again";

/// The progress text of an app-server `error` notification that will be retried ("can't
/// reach the model: retrying 2/5 — connection refused"); `None` for anything else.
fn retry_text(notification: &ServerNotification) -> Option<String> {
    let ServerNotification::Error(p::ErrorNotification {
        error,
        will_retry: true,
        ..
    }) = notification
    else {
        return None;
    };
    let message = error.message.as_str();
    let reason = error
        .additional_details
        .as_deref()
        .filter(|d| !d.trim().is_empty());
    // "Reconnecting... 2/5": the attempt and the limit.
    let attempt = message.split_whitespace().find(|word| {
        word.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
        })
    });
    // "Reconnecting... waiting for network": no limit, it retries until the network is back.
    let mut text = if message.contains("waiting for network") {
        "can't reach the model: waiting for the network".to_string()
    } else {
        "can't reach the model: retrying".to_string()
    };
    if let Some(attempt) = attempt {
        text.push_str(&format!(" {attempt}"));
    }
    let reason = reason.unwrap_or(message);
    if !reason.is_empty() {
        text.push_str(&format!(" — {}", activity::one_line(reason, 120)));
    }
    Some(text)
}

/// A progress text, with the asks queued behind the turn.
fn with_queue(text: String, queued: usize) -> String {
    match queued {
        0 => text,
        1 => format!("{text} (1 ask queued)"),
        n => format!("{text} ({n} asks queued)"),
    }
}

/// The progress end text: the first line of the reply and what the turn cost
/// (`figures`: "done in 12 s · 18k tokens · 43% of context"), or what went wrong.
pub fn end_message(outcome: &TurnOutcome, figures: &str) -> String {
    match &outcome.status {
        p::TurnStatus::Completed => match first_line(&outcome.final_response) {
            Some(reply) => format!("{reply} — {figures}"),
            None => figures.to_string(),
        },
        p::TurnStatus::Interrupted => "interrupted".into(),
        _ => {
            let error = outcome.error.as_ref();
            let message = error.map_or("", |e| e.message.as_str());
            use p::CodexErrorInfo as Info;
            let hint = match error.and_then(|e| e.codex_error_info.as_ref()) {
                Some(Info::Unauthorized) => {
                    " — Codex is not logged in: run the command codex.login"
                }
                Some(Info::ServerOverloaded) => {
                    " — the model is overloaded; codex gave up retrying, try again later"
                }
                Some(
                    Info::InternalServerError
                    | Info::HttpConnectionFailed { .. }
                    | Info::ResponseStreamConnectionFailed { .. }
                    | Info::ResponseStreamDisconnected { .. }
                    | Info::ResponseTooManyFailedAttempts { .. },
                ) => PROVIDER_HINT,
                Some(
                    Info::UsageLimitExceeded
                    | Info::RateLimitExceeded
                    | Info::SessionBudgetExceeded,
                ) => {
                    " — a usage or rate limit was reached: wait, or check your plan (codex.account)"
                }
                Some(Info::ContextWindowExceeded) => {
                    " — the thread no longer fits the model: start a new one (codex.newThread)"
                }
                Some(_) | None => "",
            };
            format!("failed: {}{hint}", activity::one_line(message, 200))
        }
    }
}

/// A turn's work-done progress token: `codex-lsp/turn/<turnId>` (unique and readable in a
/// log; editors treat it as opaque and take the turn id from the fields that carry it), or
/// `codex#<n>` for editors that print the token in their status line (Helix 25.01:
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

    fn outcome(status: &str, final_response: &str, error: Value) -> TurnOutcome {
        let mut outcome = TurnOutcome::lost("t", "u", String::new());
        outcome.status = serde_json::from_value(json!(status)).unwrap();
        outcome.final_response = final_response.into();
        outcome.error = serde_json::from_value(error).unwrap();
        outcome
    }

    fn error(params: Value) -> ServerNotification {
        ServerNotification::decode("error", params)
    }

    #[test]
    fn end_messages() {
        assert_eq!(
            end_message(
                &outcome("completed", "\nAll good.\nDetails", Value::Null),
                "done in 2 s"
            ),
            "All good. — done in 2 s"
        );
        assert_eq!(
            end_message(&outcome("completed", "", Value::Null), "done in 2 s"),
            "done in 2 s"
        );
        assert_eq!(
            end_message(&outcome("interrupted", "", Value::Null), "done"),
            "interrupted"
        );
        let failed = outcome(
            "failed",
            "",
            json!({"message": "down", "codexErrorInfo": {"httpConnectionFailed": {"httpStatusCode": null}}}),
        );
        assert!(end_message(&failed, "done")
            .starts_with("failed: down — the model provider could not be reached"));
        assert_eq!(
            retry_text(&error(
                json!({"willRetry": true, "error": {"message": "Reconnecting... 2/5", "additionalDetails": "connection refused"}})
            ))
            .as_deref(),
            Some("can't reach the model: retrying 2/5 — connection refused")
        );
        assert_eq!(
            retry_text(&error(
                json!({"willRetry": false, "error": {"message": "x"}})
            )),
            None
        );
        let failed = outcome(
            "failed",
            "",
            json!({"message": "boom", "codexErrorInfo": "serverOverloaded"}),
        );
        assert!(end_message(&failed, "done").starts_with("failed: boom — the model is overloaded"));
    }
}
