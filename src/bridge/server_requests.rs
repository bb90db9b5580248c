//! The app-server's requests to us. Approvals become a question to the user (`codex/approval`,
//! else `window/showMessageRequest`, else code actions); everything else gets the protocol's
//! "no". A prompt left unanswered, dismissed or made stale by `serverRequest/resolved` is a
//! decline: we never accept for the user.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::approvals::{self, ApprovalChoice};
use super::editor_ui::{ApprovalDetails, ApprovalEnded, RichApproval};
use super::{Bridge, ChoiceAnswer, ChoicePrompt, Inner, MessageLevel};
use crate::app_server::connection::decline_answer;
use crate::app_server::protocol::{self as p, ServerRequest};
use crate::app_server::{IncomingRequest, ServerAnswer, ServerRequestHandler};

pub(super) struct Handler {
    pub bridge: Weak<Inner>,
}

impl ServerRequestHandler for Handler {
    fn handle(&self, request: IncomingRequest) -> BoxFuture<'static, ServerAnswer> {
        let bridge = self.bridge.upgrade().map(|inner| Bridge { inner });
        Box::pin(async move {
            match bridge {
                Some(bridge) => bridge.answer(request).await,
                None => decline_answer(&request.method),
            }
        })
    }
}

/// An approval, ready to show.
pub(super) struct Approval {
    /// The question with the whole command or file list (`codex/approval`'s `message`).
    pub message: String,
    /// The question as a prompt with no other place for details shows it
    /// (`window/showMessageRequest`, the picker's document): with the diffs, whole.
    pub prompt: String,
    /// Short, for code-action titles: "`touch x`", "the edit of a.txt (+2 −1)".
    pub subject: String,
    /// Whether `subject` is all there is to know (a short one-line command): else the picker
    /// shows `prompt` whole in a document before offering the code actions.
    pub subject_whole: bool,
    pub choices: Vec<ApprovalChoice>,
    details: ApprovalDetails,
}

/// What an approval is about: the thread, turn and item the request named.
struct Asked {
    thread_id: String,
    turn_id: String,
    item_id: String,
}

impl Asked {
    fn new(thread_id: &str, turn_id: &str, item_id: &str) -> Self {
        Self {
            thread_id: thread_id.into(),
            turn_id: turn_id.into(),
            item_id: item_id.into(),
        }
    }
}

impl Bridge {
    async fn answer(&self, request: IncomingRequest) -> ServerAnswer {
        let decoded = request.decode();
        let (approval, about) = match &decoded {
            ServerRequest::CommandExecutionApproval(params) => (
                self.command_approval(params),
                Asked::new(&params.thread_id, &params.turn_id, &params.item_id),
            ),
            ServerRequest::FileChangeApproval(params) => (
                self.file_approval(params).await,
                Asked::new(&params.thread_id, &params.turn_id, &params.item_id),
            ),
            other => {
                tracing::info!(
                    method = other.method(),
                    "declining an app-server request codex-lsp does not handle"
                );
                return decline_answer(other.method());
            }
        };
        let turn_id = about.turn_id.clone();
        self.hint_waiting_for_approval(&turn_id, Some("waiting for approval".into()));
        let approval_id = self.inner.prompts.next_prompt_id();
        let decision = tokio::select! {
            decision = self.ask_user(&approval, &about, &approval_id) => decision,
            _ = request.resolved.cancelled() => {
                if request.peer_gone.is_cancelled() {
                    // LSP cannot take a prompt back: say that it is void, and which one.
                    tracing::info!("the app-server stopped while an approval waited; dropping the prompt");
                    self.inner.ui.show_message(
                        MessageLevel::Warning,
                        format!(
                            "the approval prompt no longer applies (the app-server stopped); nothing was approved: {}",
                            approval.subject
                        ),
                    );
                    self.approval_ended(&approval_id, &about, "the app-server stopped");
                } else {
                    tracing::info!("approval resolved elsewhere; dropping the prompt");
                    self.approval_ended(&approval_id, &about, "answered elsewhere");
                }
                None
            }
        };
        self.hint_waiting_for_approval(&turn_id, None);
        let what = match approval.details {
            ApprovalDetails::Command { .. } => format!("run {}", approval.subject),
            ApprovalDetails::FileChange { .. } => approval.subject.clone(),
        };
        let answer = match &decision {
            Some(decision) => approvals::decision_title(decision),
            None => "declined (not accepted)".to_string(),
        };
        self.transcript_approval(&about.thread_id, &turn_id, what, answer);
        match decision {
            Some(decision) => Ok(json!({ "decision": decision })),
            None => decline_answer(&request.method),
        }
    }

    /// Tells a `codex/approval` editor that a prompt no longer waits for an answer, so it
    /// can take it down (VS Code closes the diff views and the notification).
    fn approval_ended(&self, approval_id: &str, about: &Asked, why: &str) {
        if self.inner.ui.supports_rich_approvals() {
            self.inner.ui.approval_ended(ApprovalEnded {
                approval_id: approval_id.into(),
                item_id: about.item_id.clone(),
                turn_id: about.turn_id.clone(),
                reason: why.into(),
            });
        }
    }

    /// Shows the approval and returns the offered decision the user picked, if any. A prompt
    /// gets `approvalTimeout` like a code-action approval; a dismissed, failed or timed-out
    /// prompt is a decline, and the user is told which.
    async fn ask_user(
        &self,
        approval: &Approval,
        about: &Asked,
        approval_id: &str,
    ) -> Option<Value> {
        let turn_id = about.turn_id.as_str();
        let ui = self.inner.ui.clone();
        let timeout = self.settings().approval_timeout;
        let declined = |why: String| {
            tracing::info!("approval declined: {why}");
            ui.show_message(
                MessageLevel::Warning,
                format!("declined {}: {why}", approval.subject),
            );
            None
        };
        if ui.supports_rich_approvals() {
            let request = RichApproval {
                approval_id: approval_id.into(),
                thread_id: about.thread_id.clone(),
                turn_id: about.turn_id.clone(),
                item_id: about.item_id.clone(),
                message: approval.message.clone(),
                timeout,
                choices: approval.choices.clone(),
                details: approval.details.clone(),
            };
            let answer = match tokio::time::timeout(timeout, ui.rich_approval(request)).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(e)) => {
                    return declined(format!("the editor could not show the approval ({e})"))
                }
                Err(_) => {
                    self.approval_ended(approval_id, about, "timed out");
                    return declined(format!(
                        "no answer within {}",
                        super::picker_approvals::duration_words(timeout)
                    ));
                }
            };
            // Only a decision we offered counts; anything else is a decline.
            return match answer {
                Some(d) if approval.choices.iter().any(|c| c.decision == d) => Some(d),
                None => declined("the prompt was dismissed".into()),
                Some(other) => declined(format!(
                    "the editor answered {}, which was not offered",
                    super::activity::one_line(&json!({ "decision": other }).to_string(), 80)
                )),
            };
        }
        if self.inner.prompts.prompts_supported() {
            let prompt = ui.ask_choice(ChoicePrompt {
                level: MessageLevel::Warning,
                message: approval.prompt.clone(),
                choices: approval.choices.iter().map(|c| c.title.clone()).collect(),
            });
            let answer = match tokio::time::timeout(timeout, prompt).await {
                Ok(answer) => answer,
                Err(_) => {
                    return declined(format!(
                        "no answer within {}",
                        super::picker_approvals::duration_words(timeout)
                    ))
                }
            };
            match answer {
                ChoiceAnswer::Picked(title) => {
                    return match approvals::decision_for(&approval.choices, Some(&title)) {
                        Some(d) => Some(d),
                        None => declined(format!(
                            "the editor answered {:?}, which was not offered",
                            super::activity::one_line(&title, 80)
                        )),
                    }
                }
                ChoiceAnswer::Dismissed => {
                    return declined("the prompt was dismissed".into());
                }
                // Learnt once: later approvals go straight to the code actions.
                ChoiceAnswer::Unsupported { known } => {
                    if known {
                        self.inner.prompts.prompts_are_unsupported();
                    }
                }
            }
        }
        self.ask_in_code_actions(turn_id, approval).await
    }

    fn command_approval(&self, params: &p::CommandExecutionRequestApprovalParams) -> Approval {
        let command = params.command.as_deref().unwrap_or("(command not given)");
        let cwd = params.cwd.as_deref();
        let reason = params.reason.as_deref();
        // The buttons carry each offered decision as the answer will send it.
        let available: Option<Vec<Value>> = params.available_decisions.as_ref().map(|offered| {
            offered
                .iter()
                .map(|d| serde_json::to_value(d).expect("wire types serialize"))
                .collect()
        });
        let available = available.as_ref();
        let (subject, subject_whole) = approvals::command_subject(command);
        Approval {
            message: approvals::command_message(command, cwd, reason),
            prompt: approvals::command_message(command, cwd, reason),
            subject,
            subject_whole,
            choices: approvals::command_choices(available),
            details: ApprovalDetails::Command {
                command: command.into(),
                cwd: cwd.map(str::to_string),
                reason: reason.map(str::to_string),
            },
        }
    }

    /// The request names only the item; its paths come from the `fileChange` item seen
    /// in `item/started`, which may still be on its way.
    async fn file_approval(&self, params: &p::FileChangeRequestApprovalParams) -> Approval {
        let mut item = None;
        for _ in 0..50 {
            item = self.inner.turns.file_change(&params.item_id);
            if item.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let files = item
            .map(|item| approvals::summarize_file_changes(&item.changes))
            .unwrap_or_default();
        let folder = self.workspace_for(None);
        let reason = params.reason.as_deref();
        Approval {
            message: approvals::file_message(&files, reason, folder.as_deref(), false),
            prompt: approvals::file_message(&files, reason, folder.as_deref(), true),
            subject: approvals::file_subject(&files, folder.as_deref()),
            // The diff is not in the title.
            subject_whole: false,
            choices: approvals::file_choices(),
            details: ApprovalDetails::FileChange {
                reason: reason.map(str::to_string),
                files,
            },
        }
    }
}

#[allow(dead_code)]
fn _assert_handler_is_object_safe(h: Handler) -> Arc<dyn ServerRequestHandler> {
    Arc::new(h)
}
