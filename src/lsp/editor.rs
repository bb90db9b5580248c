//! The bridge's [`EditorUi`], over async-lsp's client socket. Every request to the
//! editor is awaited by whoever asked, on its own task, never on the main loop.

use async_lsp::{ClientSocket, ErrorCode};
use futures::future::BoxFuture;
use lsp_types::notification::{Progress, ShowMessage};
use lsp_types::request::{
    ShowDocument, ShowMessageRequest, WorkDoneProgressCreate, WorkspaceDiagnosticRefresh,
};
use lsp_types::{
    AnnotatedTextEdit, ApplyWorkspaceEditParams, ChangeAnnotation, DocumentChanges,
    MessageActionItem, NumberOrString, OneOf, OptionalVersionedTextDocumentIdentifier,
    ProgressParams, ProgressParamsValue, PublishDiagnosticsParams, ShowDocumentParams,
    ShowMessageParams, ShowMessageRequestParams, TextDocumentEdit, TextEdit, Url, WorkDoneProgress,
    WorkDoneProgressBegin, WorkDoneProgressCreateParams, WorkDoneProgressEnd,
    WorkDoneProgressReport, WorkspaceEdit,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{ext, to_proto};
use crate::bridge::{
    ApprovalEnded, BufferDiagnostic, BufferEdit, ChoiceAnswer, ChoicePrompt, EditOutcome, EditorUi,
    MessageLevel, RichApproval, StatusLine, TranscriptUpdate, TurnEventForEditor, TurnOutcome,
};

/// What the editor said it can do, at `initialize`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EditorAbilities {
    pub work_done_progress: bool,
    pub rich_approvals: bool,
    /// `experimental.codexTranscript`: the editor displays `codex/transcript`.
    pub transcript: bool,
    /// `experimental.codexStatus`: the editor shows `codex/status` in its status line.
    pub status: bool,
    /// `experimental.codexChanges`: the editor draws `codex/changes`.
    pub changes: bool,
    /// `workspace.applyEdit`.
    pub apply_edit: bool,
    /// `workspace.workspaceEdit.documentChanges`: versioned edits.
    pub document_changes: bool,
    /// `workspace.workspaceEdit.changeAnnotationSupport`.
    pub change_annotations: bool,
    /// `textDocument.diagnostic`: the editor pulls diagnostics.
    pub pull_diagnostics: bool,
    /// The editor shows the server only in its status line (Helix 25.01): it prints each
    /// progress token there (`[token] message`) and drops command results.
    pub status_line_only: bool,
    /// The editor drops `workspace/executeCommand` results (Helix 25.01, kakoune-lsp).
    pub drops_command_results: bool,
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

/// `workspace/applyEdit` with params as JSON: the document's URI goes out exactly as the
/// editor spelled it (`Url` would re-spell it, and the editor would not know the buffer).
enum ApplyEditAsSpelled {}

impl lsp_types::request::Request for ApplyEditAsSpelled {
    type Params = Value;
    type Result = lsp_types::ApplyWorkspaceEditResponse;
    const METHOD: &'static str = "workspace/applyEdit";
}

/// `textDocument/publishDiagnostics`, its URI as the editor spelled it.
enum PublishDiagnosticsAsSpelled {}

impl lsp_types::notification::Notification for PublishDiagnosticsAsSpelled {
    type Params = Value;
    const METHOD: &'static str = "textDocument/publishDiagnostics";
}

/// `params` with every URI it names (`Url`-parsed from `spelled`) put back as `spelled`.
fn respelled(params: impl serde::Serialize, spelled: &str) -> Value {
    let mut value = serde_json::to_value(params).unwrap_or(Value::Null);
    let Ok(parsed) = Url::parse(spelled) else {
        return value;
    };
    let parsed = parsed.to_string();
    fn walk(value: &mut Value, parsed: &str, spelled: &str) {
        match value {
            Value::String(s) if s == parsed => *s = spelled.to_string(),
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, parsed, spelled)),
            Value::Object(map) => {
                // Keys too: the `changes` map is keyed by URI.
                if let Some(v) = map.remove(parsed) {
                    map.insert(spelled.to_string(), v);
                }
                map.values_mut().for_each(|v| walk(v, parsed, spelled));
            }
            _ => {}
        }
    }
    if parsed != spelled {
        walk(&mut value, &parsed, spelled);
    }
    value
}

/// A [`BufferEdit`] as `workspace/applyEdit` params: a versioned `TextDocumentEdit` whose
/// edits share the turn's change annotation when the editor supports those, else the
/// plain `changes` map (no version check is possible then).
fn apply_edit_params(
    edit: BufferEdit,
    abilities: EditorAbilities,
) -> Option<ApplyWorkspaceEditParams> {
    let uri = Url::parse(&edit.uri).ok()?;
    let edits: Vec<TextEdit> = edit.edits.into_iter().map(to_proto::text_edit).collect();
    let workspace_edit = if abilities.document_changes {
        let group = edit.group.filter(|_| abilities.change_annotations);
        let annotated = edits
            .into_iter()
            .map(|text_edit| match &group {
                Some((id, _)) => OneOf::Right(AnnotatedTextEdit {
                    text_edit,
                    annotation_id: id.clone(),
                }),
                None => OneOf::Left(text_edit),
            })
            .collect();
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier {
                    uri,
                    version: Some(edit.version),
                },
                edits: annotated,
            }])),
            change_annotations: group.map(|(id, label)| {
                HashMap::from([(
                    id,
                    ChangeAnnotation {
                        label,
                        needs_confirmation: Some(false),
                        description: Some("Edits made by the Codex agent".into()),
                    },
                )])
            }),
            changes: None,
        }
    } else {
        WorkspaceEdit {
            changes: Some(HashMap::from([(uri, edits)])),
            ..Default::default()
        }
    };
    Some(ApplyWorkspaceEditParams {
        label: Some(edit.label),
        edit: workspace_edit,
    })
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
            typ: to_proto::message_type(level),
            message: crate::bridge::for_user(&message),
        });
    }

    fn ask_choice(&self, prompt: ChoicePrompt) -> BoxFuture<'static, ChoiceAnswer> {
        let client = self.client.clone();
        Box::pin(async move {
            let params = ShowMessageRequestParams {
                typ: to_proto::message_type(prompt.level),
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
                Ok(Some(item)) => ChoiceAnswer::Picked(item.title),
                Ok(None) => ChoiceAnswer::Dismissed,
                Err(e) => {
                    // Helix 25.01, say, answers "method not found".
                    tracing::info!("the editor could not show a prompt: {e}");
                    let known = matches!(
                        &e,
                        async_lsp::Error::Response(r) if r.code == ErrorCode::METHOD_NOT_FOUND
                    );
                    ChoiceAnswer::Unsupported { known }
                }
            }
        })
    }

    fn supports_rich_approvals(&self) -> bool {
        self.abilities.rich_approvals
    }

    fn status_line_only(&self) -> bool {
        self.abilities.status_line_only
    }

    fn drops_command_results(&self) -> bool {
        self.abilities.drops_command_results
    }

    fn rich_approval(
        &self,
        request: RichApproval,
    ) -> BoxFuture<'static, Result<Option<Value>, String>> {
        let client = self.client.clone();
        Box::pin(async move {
            client
                .request::<ext::CodexApproval>(request.into())
                .await
                .map(|answer| answer.and_then(|a| a.decision).filter(|d| !d.is_null()))
                .map_err(|e| {
                    tracing::info!("codex/approval failed ({e}); declining");
                    match e {
                        async_lsp::Error::Response(r) => r.message,
                        other => other.to_string(),
                    }
                })
        })
    }

    fn approval_ended(&self, ended: ApprovalEnded) {
        let _ = self.client.notify::<ext::ApprovalEnded>(ended.into());
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

    fn supports_apply_edit(&self) -> bool {
        self.abilities.apply_edit
    }

    fn apply_edit(&self, edit: BufferEdit) -> BoxFuture<'static, EditOutcome> {
        let client = self.client.clone();
        let spelled = edit.uri.clone();
        let params =
            apply_edit_params(edit, self.abilities).map(|params| respelled(params, &spelled));
        Box::pin(async move {
            let Some(params) = params else {
                return EditOutcome::Failed("the document's URI is not valid".into());
            };
            let limit = crate::bridge::apply_edit_timeout();
            let answer =
                tokio::time::timeout(limit, client.request::<ApplyEditAsSpelled>(params)).await;
            match answer {
                Ok(Ok(r)) if r.applied => EditOutcome::Applied,
                Ok(Ok(r)) => EditOutcome::Rejected(r.failure_reason),
                // Some editors (eglot) answer a stale version with an error, not
                // `applied: false`: a refusal all the same, worth one retry.
                Ok(Err(e)) => {
                    EditOutcome::Rejected(Some(format!("workspace/applyEdit failed: {e}")))
                }
                Err(_) => EditOutcome::Failed(format!(
                    "the editor did not answer workspace/applyEdit within {} s",
                    limit.as_secs_f32()
                )),
            }
        })
    }

    fn publish_diagnostics(&self, uri: &str, diagnostics: Vec<BufferDiagnostic>) {
        let Ok(parsed) = Url::parse(uri) else { return };
        let diagnostics = diagnostics.into_iter().map(to_proto::diagnostic).collect();
        let params = PublishDiagnosticsParams {
            uri: parsed,
            diagnostics,
            version: None,
        };
        let _ = self
            .client
            .notify::<PublishDiagnosticsAsSpelled>(respelled(params, uri));
    }

    fn pulls_diagnostics(&self) -> bool {
        self.abilities.pull_diagnostics
    }

    /// Sent to every pulling editor: lsp-types 0.95 reads `workspace.diagnostic`, not the
    /// spec's `workspace.diagnostics.refreshSupport`, so support cannot be told reliably; an
    /// editor without it answers with an error, which is only logged.
    fn refresh_diagnostics(&self) {
        if !self.abilities.pull_diagnostics {
            return;
        }
        let client = self.client.clone();
        tokio::spawn(async move {
            if let Err(e) = client.request::<WorkspaceDiagnosticRefresh>(()).await {
                tracing::info!("workspace/diagnostic/refresh failed: {e}");
            }
        });
    }

    fn path_to_uri(&self, path: &Path) -> Option<String> {
        Url::from_file_path(path).ok().map(|u| u.to_string())
    }

    fn show_file(&self, path: PathBuf) -> BoxFuture<'static, bool> {
        show_in_editor(self.client.clone(), path, false, None)
    }

    fn show_document(
        &self,
        path: PathBuf,
        at: Option<crate::text::Position>,
    ) -> BoxFuture<'static, bool> {
        show_in_editor(self.client.clone(), path, true, at)
    }

    fn turn_completed(&self, outcome: &TurnOutcome) {
        let _ = self
            .client
            .notify::<ext::TurnCompleted>(ext::TurnCompletedParams(outcome.clone()));
    }

    fn event(&self, event: TurnEventForEditor) {
        let _ = self.client.notify::<ext::CodexEvent>(event.into());
    }

    fn wants_transcript(&self) -> bool {
        self.abilities.transcript
    }

    fn transcript(&self, update: TranscriptUpdate) {
        let _ = self.client.notify::<ext::Transcript>(update.into());
    }

    fn wants_status(&self) -> bool {
        self.abilities.status
    }

    fn status(&self, status: StatusLine) {
        let _ = self.client.notify::<ext::CodexStatus>(status);
    }

    fn wants_changes(&self) -> bool {
        self.abilities.changes
    }

    fn changes(&self, update: crate::bridge::ChangesUpdate) {
        let _ = self.client.notify::<ext::Changes>(update.into());
    }
}

/// `window/showDocument` of a local file, the cursor at `at`; whether the editor showed it.
fn show_in_editor(
    client: ClientSocket,
    path: PathBuf,
    take_focus: bool,
    at: Option<crate::text::Position>,
) -> BoxFuture<'static, bool> {
    Box::pin(async move {
        let Ok(uri) = Url::from_file_path(&path) else {
            return false;
        };
        let params = ShowDocumentParams {
            uri,
            external: Some(false),
            take_focus: Some(take_focus),
            selection: at.map(|at| {
                let at = to_proto::position(at);
                lsp_types::Range::new(at, at)
            }),
        };
        client
            .request::<ShowDocument>(params)
            .await
            .map(|r| r.success)
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{Position, Range};
    use serde_json::json;

    fn edit_to(uri: &str) -> BufferEdit {
        BufferEdit {
            uri: uri.into(),
            version: 4,
            edits: vec![crate::text::TextEdit::new(
                Range::point(Position::new(1, 0)),
                "x",
            )],
            label: "Codex: a.txt".into(),
            group: Some(("codex-turn-1".into(), "Codex (turn 1)".into())),
        }
    }

    #[test]
    fn edits_and_diagnostics_go_out_under_the_editors_spelling_of_the_uri() {
        for spelled in [
            "file://localhost/w/a.txt",
            "file:///w/sub/../a.txt",
            "file:///w/sub/%2e%2e/a.txt",
            "file:///w/a b.txt",
            "file:///C%3a/w/a.txt",
            "file:///w/a.txt",
        ] {
            for document_changes in [true, false] {
                let abilities = EditorAbilities {
                    apply_edit: true,
                    document_changes,
                    change_annotations: true,
                    ..Default::default()
                };
                let params = respelled(
                    apply_edit_params(edit_to(spelled), abilities).unwrap(),
                    spelled,
                );
                let uri = if document_changes {
                    params["edit"]["documentChanges"][0]["textDocument"]["uri"].clone()
                } else {
                    let changes = params["edit"]["changes"].as_object().unwrap();
                    json!(changes.keys().next().unwrap())
                };
                assert_eq!(uri, spelled, "{params:#}");
            }
        }
    }
}
