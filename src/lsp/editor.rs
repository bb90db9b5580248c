//! The bridge's [`EditorUi`], over async-lsp's client socket. Every request to the
//! editor is awaited by whoever asked, on its own task, never on the main loop.

use async_lsp::ClientSocket;
use futures::future::BoxFuture;
use lsp_types::notification::{Progress, ShowMessage};
use lsp_types::request::{ShowDocument, ShowMessageRequest, WorkDoneProgressCreate};
use lsp_types::{
    MessageActionItem, MessageType, NumberOrString, ProgressParams, ProgressParamsValue,
    ShowDocumentParams, ShowMessageParams, ShowMessageRequestParams, Url, WorkDoneProgress,
    WorkDoneProgressBegin, WorkDoneProgressCreateParams, WorkDoneProgressEnd,
    WorkDoneProgressReport,
};
use serde_json::Value;

use super::ext;
use crate::bridge::{ChoicePrompt, EditorUi, MessageLevel};

/// What the editor said it can do, at `initialize`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EditorAbilities {
    pub work_done_progress: bool,
    pub rich_approvals: bool,
}

pub struct LspEditor {
    client: ClientSocket,
    abilities: EditorAbilities,
}

impl LspEditor {
    pub fn new(client: ClientSocket, abilities: EditorAbilities) -> Self {
        Self { client, abilities }
    }

    fn progress(&self, token: &str, progress: WorkDoneProgress) {
        let _ = self.client.notify::<Progress>(ProgressParams {
            token: NumberOrString::String(token.to_string()),
            value: ProgressParamsValue::WorkDone(progress),
        });
    }
}

pub fn message_type(level: MessageLevel) -> MessageType {
    match level {
        MessageLevel::Error => MessageType::ERROR,
        MessageLevel::Warning => MessageType::WARNING,
        MessageLevel::Info => MessageType::INFO,
    }
}

impl EditorUi for LspEditor {
    fn supports_progress(&self) -> bool {
        self.abilities.work_done_progress
    }

    fn progress_begin(
        &self,
        token: String,
        title: String,
        message: String,
    ) -> BoxFuture<'static, bool> {
        let client = self.client.clone();
        Box::pin(async move {
            let token = NumberOrString::String(token);
            let created = client
                .request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                    token: token.clone(),
                })
                .await;
            if let Err(e) = created {
                tracing::info!("the editor refused a progress token: {e}");
                return false;
            }
            client
                .notify::<Progress>(ProgressParams {
                    token,
                    value: ProgressParamsValue::WorkDone(WorkDoneProgress::Begin(
                        WorkDoneProgressBegin {
                            title,
                            cancellable: Some(true),
                            message: Some(message),
                            percentage: None,
                        },
                    )),
                })
                .is_ok()
        })
    }

    fn progress_report(&self, token: &str, message: String) {
        self.progress(
            token,
            WorkDoneProgress::Report(WorkDoneProgressReport {
                cancellable: Some(true),
                message: Some(message),
                percentage: None,
            }),
        );
    }

    fn progress_end(&self, token: &str, message: String) {
        self.progress(
            token,
            WorkDoneProgress::End(WorkDoneProgressEnd {
                message: Some(message),
            }),
        );
    }

    fn show_message(&self, level: MessageLevel, message: String) {
        let _ = self.client.notify::<ShowMessage>(ShowMessageParams {
            typ: message_type(level),
            message,
        });
    }

    fn ask_choice(&self, prompt: ChoicePrompt) -> BoxFuture<'static, Option<String>> {
        let client = self.client.clone();
        Box::pin(async move {
            let question = prompt.message.clone();
            let params = ShowMessageRequestParams {
                typ: message_type(prompt.level),
                message: prompt.message,
                actions: Some(
                    prompt
                        .choices
                        .into_iter()
                        .map(|title| MessageActionItem {
                            title,
                            properties: Default::default(),
                        })
                        .collect(),
                ),
            };
            match client.request::<ShowMessageRequest>(params).await {
                Ok(picked) => picked.map(|item| item.title),
                Err(e) => {
                    tracing::info!("approval prompt failed ({e}); declining");
                    // Say so: the editor (Helix 25.01, say) had no way to ask the user.
                    let _ = client.notify::<ShowMessage>(ShowMessageParams {
                        typ: MessageType::WARNING,
                        message: format!(
                            "Codex: declined, as this editor cannot show approval prompts: {}",
                            question.replace('\n', " ")
                        ),
                    });
                    None
                }
            }
        })
    }

    fn supports_rich_approvals(&self) -> bool {
        self.abilities.rich_approvals
    }

    fn rich_approval(&self, request: Value) -> BoxFuture<'static, Option<Value>> {
        let client = self.client.clone();
        Box::pin(async move {
            match client.request::<ext::CodexApproval>(request).await {
                Ok(answer) => Some(answer),
                Err(e) => {
                    tracing::info!("codex/approval failed ({e}); declining");
                    None
                }
            }
        })
    }

    fn open_external(&self, url: String) -> BoxFuture<'static, bool> {
        let client = self.client.clone();
        Box::pin(async move {
            let Ok(uri) = Url::parse(&url) else {
                return false;
            };
            let params = ShowDocumentParams {
                uri,
                external: Some(true),
                take_focus: None,
                selection: None,
            };
            client
                .request::<ShowDocument>(params)
                .await
                .map(|r| r.success)
                .unwrap_or(false)
        })
    }

    fn turn_completed(&self, result: Value) {
        let _ = self.client.notify::<ext::TurnCompleted>(result);
    }

    fn event(&self, event: Value) {
        let _ = self.client.notify::<ext::CodexEvent>(event);
    }
}
