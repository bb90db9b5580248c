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
struct Approval {
    kind: &'static str,
    message: String,
    /// Short, for code-action titles: "`touch x`", "the edit of a.txt (+2 −1)".
    subject: String,
    choices: Vec<ApprovalChoice>,
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
        let decision = tokio::select! {
            decision = self.ask_user(&approval, &request, &turn_id) => decision,
            _ = request.resolved.cancelled() => {
                if request.peer_gone.is_cancelled() {
                    // LSP cannot take a prompt back: say that it is void, and which one.
                    tracing::info!("the app-server stopped while an approval waited; dropping the prompt");
                    self.inner.ui.show_message(
                        MessageLevel::Warning,
                        format!(
                            "Codex: the approval prompt no longer applies (the app-server stopped); nothing was approved: {}",
                            super::activity::one_line(&approval.message, 300)
                        ),
                    );
                } else {
                    tracing::info!("approval resolved elsewhere; dropping the prompt");
                }
                None
            }
        };
        self.hint_waiting_for_approval(&turn_id, None);
        match decision {
            Some(decision) => Ok(json!({ "decision": decision })),
            None => decline_answer(&request.method),
        }
    }

    /// Shows the approval and returns the offered decision the user picked, if any.
    async fn ask_user(
        &self,
        approval: &Approval,
        request: &IncomingRequest,
        turn_id: &str,
    ) -> Option<Value> {
        let ui = self.inner.ui.clone();
        if ui.supports_rich_approvals() {
            let mut payload = approval.details.clone();
            payload["kind"] = json!(approval.kind);
            payload["threadId"] = request.params["threadId"].clone();
            payload["turnId"] = request.params["turnId"].clone();
            payload["itemId"] = request.params["itemId"].clone();
            payload["message"] = json!(approval.message);
            payload["choices"] = json!(approval
                .choices
                .iter()
                .map(|c| json!({ "title": c.title, "decision": c.decision }))
                .collect::<Vec<_>>());
            let answer = ui.rich_approval(payload).await?;
            let decision = answer.get("decision")?;
            // Only a decision we offered counts; anything else is a decline.
            return approval
                .choices
                .iter()
                .any(|c| &c.decision == decision)
                .then(|| decision.clone());
        }
        if !self.inner.prompts_unsupported.load(Ordering::Relaxed) {
            let answer = ui
                .ask_choice(ChoicePrompt {
                    level: MessageLevel::Warning,
                    message: approval.message.clone(),
                    choices: approval.choices.iter().map(|c| c.title.clone()).collect(),
                })
                .await;
            match answer {
                ChoiceAnswer::Picked(title) => {
                    return approvals::decision_for(&approval.choices, Some(&title))
                }
                ChoiceAnswer::Dismissed => return None,
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
        self.ask_in_code_actions(turn_id, &approval.subject, &approval.choices)
            .await
    }

    fn command_approval(&self, params: &Value) -> Approval {
        let command = params["command"].as_str().unwrap_or("(command not given)");
        let cwd = params["cwd"].as_str();
        let reason = params["reason"].as_str();
        let available = params["availableDecisions"].as_array();
        Approval {
            kind: "command",
            message: approvals::command_message(command, cwd, reason),
            subject: approvals::command_subject(command),
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
            message: approvals::file_message(&files, reason, folder.as_deref()),
            subject: approvals::file_subject(&files, folder.as_deref()),
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
