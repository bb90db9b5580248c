//! The app-server's requests to us. Approvals become a question to the user (`codex/approval`,
//! else `window/showMessageRequest`, else code actions); everything else gets the protocol's
//! "no". A prompt left unanswered, dismissed or made stale by `serverRequest/resolved` is a
//! decline: we never accept for the user.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::approvals::{self, ApprovalChoice};
use super::{lock, Bridge, ChoiceAnswer, ChoicePrompt, Inner, MessageLevel};
use crate::app_server::connection::decline_answer;
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
    kind: &'static str,
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
    details: Value,
}

impl Bridge {
    async fn answer(&self, request: IncomingRequest) -> ServerAnswer {
        let approval = match request.method.as_str() {
            "item/commandExecution/requestApproval" => self.command_approval(&request.params),
            "item/fileChange/requestApproval" => self.file_approval(&request.params).await,
            other => {
                tracing::info!(
                    method = other,
                    "declining an app-server request codex-lsp does not handle"
                );
                return decline_answer(other);
            }
        };
        let turn_id = request.params["turnId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.hint_waiting_for_approval(&turn_id, Some("waiting for approval".into()));
        let approval_id = format!(
            "prompt-{}",
            self.inner.next_prompt_id.fetch_add(1, Ordering::Relaxed) + 1
        );
        let decision = tokio::select! {
            decision = self.ask_user(&approval, &request, &turn_id, &approval_id) => decision,
            _ = request.resolved.cancelled() => {
                if request.peer_gone.is_cancelled() {
                    // LSP cannot take a prompt back: say that it is void, and which one.
                    tracing::info!("the app-server stopped while an approval waited; dropping the prompt");
                    self.inner.ui.show_message(
                        MessageLevel::Warning,
                        format!(
                            "Codex: the approval prompt no longer applies (the app-server stopped); nothing was approved: {}",
                            approval.subject
                        ),
                    );
                    self.approval_ended(&approval_id, &request, "the app-server stopped");
                } else {
                    tracing::info!("approval resolved elsewhere; dropping the prompt");
                    self.approval_ended(&approval_id, &request, "answered elsewhere");
                }
                None
            }
        };
        self.hint_waiting_for_approval(&turn_id, None);
        let what = match approval.kind {
            "command" => format!("run {}", approval.subject),
            _ => approval.subject.clone(),
        };
        let answer = match &decision {
            Some(decision) => approvals::decision_title(decision),
            None => "declined (not accepted)".to_string(),
        };
        let thread_id = request.params["threadId"].as_str().unwrap_or_default();
        self.transcript_approval(thread_id, &turn_id, what, answer);
        match decision {
            Some(decision) => Ok(json!({ "decision": decision })),
            None => decline_answer(&request.method),
        }
    }

    /// Tells a `codex/approval` editor that a prompt no longer waits for an answer, so it
    /// can take it down (VS Code closes the diff views and the notification).
    fn approval_ended(&self, approval_id: &str, request: &IncomingRequest, why: &str) {
        if self.inner.ui.supports_rich_approvals() {
            self.inner.ui.approval_ended(json!({
                "approvalId": approval_id,
                "itemId": request.params["itemId"],
                "turnId": request.params["turnId"],
                "reason": why,
            }));
        }
    }

    /// Shows the approval and returns the offered decision the user picked, if any. A prompt
    /// gets `approvalTimeout` like a code-action approval; a dismissed, failed or timed-out
    /// prompt is a decline, and the user is told which.
    async fn ask_user(
        &self,
        approval: &Approval,
        request: &IncomingRequest,
        turn_id: &str,
        approval_id: &str,
    ) -> Option<Value> {
        let ui = self.inner.ui.clone();
        let timeout = self.settings().approval_timeout;
        let declined = |why: String| {
            tracing::info!("approval declined: {why}");
            ui.show_message(
                MessageLevel::Warning,
                format!("Codex: declined {}: {why}", approval.subject),
            );
            None
        };
        if ui.supports_rich_approvals() {
            let mut payload = approval.details.clone();
            payload["kind"] = json!(approval.kind);
            payload["approvalId"] = json!(approval_id);
            payload["threadId"] = request.params["threadId"].clone();
            payload["turnId"] = request.params["turnId"].clone();
            payload["itemId"] = request.params["itemId"].clone();
            payload["message"] = json!(approval.message);
            payload["timeoutSeconds"] = json!(timeout.as_secs_f64());
            payload["choices"] = json!(approval
                .choices
                .iter()
                .map(|c| json!({ "title": c.title, "decision": c.decision }))
                .collect::<Vec<_>>());
            let answer = match tokio::time::timeout(timeout, ui.rich_approval(payload)).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(e)) => {
                    return declined(format!("the editor could not show the approval ({e})"))
                }
                Err(_) => {
                    self.approval_ended(approval_id, request, "timed out");
                    return declined(format!(
                        "no answer within {}",
                        super::picker_approvals::duration_words(timeout)
                    ));
                }
            };
            // Only a decision we offered counts; anything else is a decline.
            let decision = answer
                .get("decision")
                .filter(|d| approval.choices.iter().any(|c| &c.decision == *d));
            return match decision {
                Some(d) => Some(d.clone()),
                None if answer.get("decision").is_none() || answer.is_null() => {
                    declined("the prompt was dismissed".into())
                }
                None => declined(format!(
                    "the editor answered {}, which was not offered",
                    super::activity::one_line(&answer.to_string(), 80)
                )),
            };
        }
        if !self.inner.prompts_unsupported.load(Ordering::Relaxed) {
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
                        self.inner
                            .prompts_unsupported
                            .store(true, Ordering::Relaxed);
                    }
                }
            }
        }
        self.ask_in_code_actions(turn_id, approval).await
    }

    fn command_approval(&self, params: &Value) -> Approval {
        let command = params["command"].as_str().unwrap_or("(command not given)");
        let cwd = params["cwd"].as_str();
        let reason = params["reason"].as_str();
        let available = params["availableDecisions"].as_array();
        let (subject, subject_whole) = approvals::command_subject(command);
        Approval {
            kind: "command",
            message: approvals::command_message(command, cwd, reason),
            prompt: approvals::command_message(command, cwd, reason),
            subject,
            subject_whole,
            choices: approvals::command_choices(available),
            details: json!({ "command": command, "cwd": cwd, "reason": reason }),
        }
    }

    /// The request names only the item; its paths come from the `fileChange` item seen
    /// in `item/started`, which may still be on its way.
    async fn file_approval(&self, params: &Value) -> Approval {
        let item_id = params["itemId"].as_str().unwrap_or_default();
        let mut item = None;
        for _ in 0..50 {
            item = lock(&self.inner.file_changes).get(item_id).cloned();
            if item.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let files = item
            .as_ref()
            .map(approvals::summarize_changes)
            .unwrap_or_default();
        let folder = self.workspace_for(None);
        let reason = params["reason"].as_str();
        Approval {
            kind: "fileChange",
            message: approvals::file_message(&files, reason, folder.as_deref(), false),
            prompt: approvals::file_message(&files, reason, folder.as_deref(), true),
            subject: approvals::file_subject(&files, folder.as_deref()),
            // The diff is not in the title.
            subject_whole: false,
            choices: approvals::file_choices(),
            details: json!({
                "reason": reason,
                "files": files.iter().map(|f| json!({
                    "path": f.path, "kind": f.kind, "added": f.added, "removed": f.removed, "diff": f.diff,
                })).collect::<Vec<_>>(),
            }),
        }
    }
}

#[allow(dead_code)]
fn _assert_handler_is_object_safe(h: Handler) -> Arc<dyn ServerRequestHandler> {
    Arc::new(h)
}
