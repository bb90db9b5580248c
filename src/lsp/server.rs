//! The LSP state and its router: lifecycle, settings, text sync, progress cancel,
//! commands and code actions. Notifications run in order with `&mut` state; requests
//! return futures that own what they need and never hold the state.

use std::future::ready;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use async_lsp::router::Router;
use async_lsp::{ClientSocket, ErrorCode, ResponseError};
use lsp_types::notification::{
    Cancel, DidChangeConfiguration, DidChangeTextDocument, DidChangeWorkspaceFolders,
    DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument, Exit, Initialized, ShowMessage,
    WorkDoneProgressCancel,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentDiagnosticRequest, ExecuteCommand, Initialize, Shutdown,
    WorkspaceConfiguration,
};
use lsp_types::{
    CodeActionOptions, CodeActionOrCommand, CodeActionProviderCapability, CodeActionTriggerKind,
    CompletionOptions, ConfigurationItem, ConfigurationParams, DiagnosticOptions,
    DiagnosticServerCapabilities, DocumentDiagnosticReport, DocumentDiagnosticReportResult,
    ExecuteCommandOptions, FullDocumentDiagnosticReport, InitializeParams, InitializeResult,
    MessageType, NumberOrString, OneOf, PositionEncodingKind, RelatedFullDocumentDiagnosticReport,
    ServerCapabilities, ServerInfo, ShowMessageParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Url,
    WorkspaceFoldersServerCapabilities, WorkspaceServerCapabilities,
};
use serde_json::Value;

use super::code_actions::{self, Target};
use super::editor::{EditorAbilities, LspEditor};
use super::ext::{decode, Lenient};
use super::{commands, from_proto, to_proto};
use crate::bridge::{display_path, Bridge, Settings, SettingsSource, SettingsSources};
use crate::logging::LogHandle;
use crate::text::PositionEncoding;

pub struct State {
    client: ClientSocket,
    bridge: Option<Bridge>,
    /// Settings warnings from `initialize`, shown once the editor is ready.
    pending_warnings: Vec<String>,
    pull_configuration: bool,
    /// Every source of the settings, merged per key (see [`SettingsSources`]).
    settings: Arc<std::sync::Mutex<SettingsMerge>>,
    log: LogHandle,
    /// Where `serve` finds the bridge to shut it down after the main loop.
    bridge_slot: BridgeSlot,
}

pub type BridgeSlot = Arc<std::sync::Mutex<Option<Bridge>>>;

/// The settings' sources and the warnings already shown for their merge (a bad key is
/// told once, not at every configuration change).
#[derive(Default)]
struct SettingsMerge {
    sources: SettingsSources,
    shown: Vec<String>,
    /// Numbers the `workspace/configuration` pulls in the order of the changes that asked
    /// for them; an answer older than one already taken is stale and dropped (the editor
    /// may answer two quick pulls out of order).
    pulls_asked: u64,
    newest_pull_taken: u64,
}

impl SettingsMerge {
    /// The merged settings and the warnings not shown yet.
    fn merge(&mut self, mut warnings: Vec<String>) -> (Settings, Vec<String>) {
        let (settings, merged_warnings) = self.sources.settings();
        let fresh: Vec<String> = merged_warnings
            .iter()
            .filter(|w| !self.shown.contains(w))
            .cloned()
            .collect();
        self.shown = merged_warnings;
        warnings.extend(fresh);
        (settings, warnings)
    }
}

/// Prefer UTF-8 when offered (no conversion), else the LSP default UTF-16.
pub fn negotiate_encoding(offered: Option<&[PositionEncodingKind]>) -> PositionEncoding {
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => PositionEncoding::Utf8,
        _ => PositionEncoding::Utf16,
    }
}

fn workspace_folders(params: &InitializeParams) -> Vec<PathBuf> {
    let from_folders: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| f.uri.to_file_path().ok())
        .collect();
    if !from_folders.is_empty() {
        return from_folders;
    }
    #[allow(deprecated)]
    let root = params.root_uri.as_ref().and_then(|u| u.to_file_path().ok());
    root.into_iter().collect()
}

/// What codex-lsp offers; `pull_diagnostics` when the editor pulls them (review findings are
/// then answered to `textDocument/diagnostic` instead of pushed).
pub fn capabilities(encoding: PositionEncoding, pull_diagnostics: bool) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(to_proto::encoding(encoding)),
        // Saves tell the mirror what disk holds under each buffer.
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        // `@path` in a transcript document's ask section (nothing elsewhere).
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["@".into()]),
            ..Default::default()
        }),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(code_actions::kinds()),
            ..Default::default()
        })),
        // Clients send `didChangeWorkspaceFolders` only to servers that ask for it.
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: commands::Command::ALL
                .iter()
                .map(|c| c.name().to_string())
                .collect(),
            work_done_progress_options: Default::default(),
        }),
        diagnostic_provider: pull_diagnostics.then(|| {
            DiagnosticServerCapabilities::Options(DiagnosticOptions {
                identifier: Some("codex".into()),
                inter_file_dependencies: false,
                workspace_diagnostics: false,
                work_done_progress_options: Default::default(),
            })
        }),
        ..ServerCapabilities::default()
    }
}

fn not_initialized() -> ResponseError {
    ResponseError::new(
        ErrorCode::SERVER_NOT_INITIALIZED,
        "codex-lsp is not initialized",
    )
}

impl State {
    fn bridge(&self) -> Option<&Bridge> {
        self.bridge.as_ref()
    }

    fn warn(&self, message: String) {
        let _ = self.client.notify::<ShowMessage>(ShowMessageParams {
            typ: MessageType::WARNING,
            message,
        });
    }

    /// A notification's params, or `None` after telling the user what did not fit (a
    /// notification has no error response, and a dropped `didOpen` or `didChange` leaves
    /// codex-lsp's copy of a buffer wrong).
    fn decode<N: lsp_types::notification::Notification>(&self, params: Value) -> Option<N::Params> {
        match decode::<N>(params) {
            Ok(params) => Some(params),
            Err(e) => {
                tracing::warn!("{e}");
                self.warn(format!("codex-lsp: {e}"));
                None
            }
        }
    }

    fn apply_settings(&mut self, settings: &Settings) {
        self.log
            .apply(settings.log_level.as_deref(), settings.log_file.as_deref());
    }
}

pub fn router(client: ClientSocket, log: LogHandle, bridge_slot: BridgeSlot) -> Router<State> {
    let mut router = Router::new(State {
        client,
        bridge: None,
        pending_warnings: Vec::new(),
        pull_configuration: false,
        settings: Default::default(),
        log,
        bridge_slot,
    });
    router
        .request::<Initialize, _>(|state, params| ready(Ok(initialize(state, params))))
        .notification::<Lenient<Initialized>>(|state, _| {
            for warning in std::mem::take(&mut state.pending_warnings) {
                state.warn(warning);
            }
            if let Some(bridge) = state.bridge() {
                bridge.start_in_background();
            }
            ControlFlow::Continue(())
        })
        .request::<Shutdown, _>(|state, _| {
            let bridge = state.bridge.clone();
            async move {
                if let Some(bridge) = bridge {
                    bridge.shutdown().await;
                }
                Ok(())
            }
        })
        .notification::<Lenient<Exit>>(|_, _| ControlFlow::Continue(()))
        .notification::<Lenient<DidOpenTextDocument>>(|state, params| {
            // The editor's own spelling of the URI (parsing re-spells it: `localhost`, `..`,
            // escapes): what every message about the document must use.
            let spelled = params["textDocument"]["uri"].as_str().map(str::to_owned);
            if let (Some(bridge), Some(p)) =
                (state.bridge(), state.decode::<DidOpenTextDocument>(params))
            {
                let doc = p.text_document;
                let path = doc.uri.to_file_path().ok();
                bridge.did_open(
                    doc.uri.to_string(),
                    spelled.unwrap_or_else(|| doc.uri.to_string()),
                    path,
                    doc.language_id,
                    doc.version,
                    &doc.text,
                );
            }
            ControlFlow::Continue(())
        })
        .notification::<Lenient<DidChangeTextDocument>>(|state, params| {
            if let (Some(bridge), Some(p)) = (
                state.bridge(),
                state.decode::<DidChangeTextDocument>(params),
            ) {
                let changes = p
                    .content_changes
                    .into_iter()
                    .map(|c| (c.range.map(from_proto::range), c.text));
                if let Err(e) = bridge.did_change(
                    p.text_document.uri.as_str(),
                    p.text_document.version,
                    changes,
                ) {
                    tracing::warn!("{e}");
                    state.warn(format!("codex-lsp: {e}"));
                }
            }
            ControlFlow::Continue(())
        })
        .notification::<Lenient<DidCloseTextDocument>>(|state, params| {
            if let (Some(bridge), Some(p)) =
                (state.bridge(), state.decode::<DidCloseTextDocument>(params))
            {
                bridge.did_close(p.text_document.uri.as_str());
            }
            ControlFlow::Continue(())
        })
        .notification::<Lenient<DidSaveTextDocument>>(|state, params| {
            if let (Some(bridge), Some(p)) =
                (state.bridge(), state.decode::<DidSaveTextDocument>(params))
            {
                bridge.did_save(p.text_document.uri.as_str());
            }
            ControlFlow::Continue(())
        })
        .notification::<Lenient<DidChangeWorkspaceFolders>>(|state, params| {
            if let (Some(bridge), Some(p)) = (
                state.bridge(),
                state.decode::<DidChangeWorkspaceFolders>(params),
            ) {
                let mut folders: Vec<PathBuf> = bridge.folders();
                let removed: Vec<PathBuf> = p
                    .event
                    .removed
                    .iter()
                    .filter_map(|f| f.uri.to_file_path().ok())
                    .collect();
                folders.retain(|f| !removed.contains(f));
                folders.extend(
                    p.event
                        .added
                        .iter()
                        .filter_map(|f| f.uri.to_file_path().ok()),
                );
                bridge.set_folders(folders);
            }
            ControlFlow::Continue(())
        })
        .notification::<Lenient<DidChangeConfiguration>>(|state, params| {
            did_change_configuration(state, params);
            ControlFlow::Continue(())
        })
        .notification::<Lenient<WorkDoneProgressCancel>>(|state, params| {
            if let (Some(bridge), Some(p)) = (
                state.bridge(),
                state.decode::<WorkDoneProgressCancel>(params),
            ) {
                let token = match p.token {
                    NumberOrString::String(s) => s,
                    NumberOrString::Number(n) => n.to_string(),
                };
                bridge.cancel_progress(&token);
            }
            ControlFlow::Continue(())
        })
        .notification::<Lenient<Cancel>>(|_, _| ControlFlow::Continue(()))
        .request::<ExecuteCommand, _>(|state, params| {
            let bridge = state.bridge.clone();
            async move {
                let bridge = bridge.ok_or_else(not_initialized)?;
                commands::execute(bridge, params.command, params.arguments).await
            }
        })
        .request::<DocumentDiagnosticRequest, _>(|state, params| {
            let answer = match state.bridge() {
                Some(bridge) => Ok(document_diagnostics(bridge, &params.text_document.uri)),
                None => Err(not_initialized()),
            };
            ready(answer)
        })
        .request::<Completion, _>(|state, params| {
            let bridge = state.bridge.clone();
            async move {
                let bridge = bridge.ok_or_else(not_initialized)?;
                Ok(mention_completion(&bridge, params).await)
            }
        })
        .request::<CodeActionRequest, _>(|state, params| {
            let answer = match state.bridge() {
                Some(bridge) => code_action(bridge, params),
                None => Err(not_initialized()),
            };
            ready(answer)
        })
        // Unknown notifications are ignored (async-lsp would stop the main loop on them).
        .unhandled_notification(|_, notification| {
            tracing::debug!("ignoring notification {}", notification.method);
            ControlFlow::Continue(())
        });
    router
}

fn initialize(state: &mut State, params: InitializeParams) -> InitializeResult {
    let encoding = negotiate_encoding(
        params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_deref()),
    );
    let options = params.initialization_options.clone().unwrap_or(Value::Null);
    let (settings, warnings) = {
        let mut merge = state.settings.lock().unwrap_or_else(|e| e.into_inner());
        let (sources, warnings) = SettingsSources::new(&options);
        merge.sources = sources;
        merge.merge(warnings)
    };
    state.pending_warnings = warnings;
    state.apply_settings(&settings);
    let window = params.capabilities.window.as_ref();
    let mut abilities = EditorAbilities {
        work_done_progress: window.and_then(|w| w.work_done_progress).unwrap_or(false),
        rich_approvals: params
            .capabilities
            .experimental
            .as_ref()
            .and_then(|e| e.get("codexApprovals"))
            .is_some_and(|v| v.as_bool() != Some(false) && !v.is_null()),
        transcript: params
            .capabilities
            .experimental
            .as_ref()
            .and_then(|e| e.get("codexTranscript"))
            .is_some_and(|v| v.as_bool() == Some(true)),
        status: params
            .capabilities
            .experimental
            .as_ref()
            .and_then(|e| e.get("codexStatus"))
            .is_some_and(|v| v.as_bool() == Some(true)),
        changes: params
            .capabilities
            .experimental
            .as_ref()
            .and_then(|e| e.get("codexChanges"))
            .is_some_and(|v| v.as_bool() == Some(true)),
        ..Default::default()
    };
    let workspace = params.capabilities.workspace.as_ref();
    let workspace_edit = workspace.and_then(|w| w.workspace_edit.as_ref());
    abilities.apply_edit = workspace.and_then(|w| w.apply_edit).unwrap_or(false);
    abilities.document_changes = workspace_edit
        .and_then(|w| w.document_changes)
        .unwrap_or(false);
    abilities.change_annotations = workspace_edit
        .and_then(|w| w.change_annotation_support.as_ref())
        .is_some();
    // Helix prints `[token] message` in its status line and drops command results;
    // kakoune-lsp drops them too.
    let client_name = params.client_info.as_ref().map(|c| c.name.as_str());
    abilities.status_line_only = client_name.is_some_and(|n| n.eq_ignore_ascii_case("helix"));
    abilities.drops_command_results = abilities.status_line_only
        || client_name.is_some_and(|n| n.eq_ignore_ascii_case("kakoune-lsp"));
    abilities.pull_diagnostics = params
        .capabilities
        .text_document
        .as_ref()
        .and_then(|t| t.diagnostic.as_ref())
        .is_some();
    state.pull_configuration = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.configuration)
        .unwrap_or(false);
    let editor = Arc::new(LspEditor::new(state.client.clone(), abilities));
    let bridge = Bridge::new(editor, settings, workspace_folders(&params), encoding);
    *state.bridge_slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(bridge.clone());
    state.bridge = Some(bridge);
    InitializeResult {
        capabilities: capabilities(encoding, abilities.pull_diagnostics),
        server_info: Some(ServerInfo {
            name: "codex-lsp".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    }
}

/// Re-reads the `codex` section: the pushed `settings` are taken at once, then the section
/// is pulled with `workspace/configuration` when the editor supports it (on a task: the
/// main loop never waits on the editor). Each source that says something replaces its
/// layer; the layers merge per key (see [`SettingsSources`]).
fn did_change_configuration(state: &mut State, params: Value) {
    let Some(bridge) = state.bridge.clone() else {
        return;
    };
    let client = state.client.clone();
    let log = state.log.clone();
    let pushed = params.get("settings").cloned().unwrap_or(Value::Null);
    let merge = state.settings.clone();
    let pushed_warnings = merge
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .sources
        .set(SettingsSource::Pushed, &pushed);
    let pull = state.pull_configuration.then(|| {
        let mut merge = merge.lock().unwrap_or_else(|e| e.into_inner());
        merge.pulls_asked += 1;
        merge.pulls_asked
    });
    tokio::spawn(async move {
        let mut warnings = pushed_warnings;
        let pulled = match pull {
            Some(number) => {
                let items = ConfigurationParams {
                    items: vec![ConfigurationItem {
                        scope_uri: None,
                        section: Some("codex".into()),
                    }],
                };
                match client.request::<WorkspaceConfiguration>(items).await {
                    Ok(values) => Some((number, values)),
                    Err(e) => {
                        tracing::warn!("workspace/configuration failed: {e}");
                        None
                    }
                }
            }
            None => None,
        };
        // Merged and handed over under one lock, so two changes' tasks cannot hand the
        // bridge their merges in the opposite order.
        let mut merge = merge.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((number, values)) = pulled {
            if number > merge.newest_pull_taken {
                merge.newest_pull_taken = number;
                warnings.extend(
                    merge
                        .sources
                        .set(SettingsSource::Pulled, &Value::Array(values)),
                );
            } else {
                tracing::debug!("dropped a stale workspace/configuration answer (pull {number})");
            }
        }
        let (settings, warnings) = merge.merge(warnings);
        log.apply(settings.log_level.as_deref(), settings.log_file.as_deref());
        bridge.update_settings(settings);
        drop(merge);
        for message in warnings {
            let _ = client.notify::<ShowMessage>(ShowMessageParams {
                typ: MessageType::WARNING,
                message,
            });
        }
    });
}

/// `textDocument/diagnostic`: the review findings of the document (open or not).
fn document_diagnostics(bridge: &Bridge, uri: &Url) -> DocumentDiagnosticReportResult {
    let path = uri.to_file_path().ok();
    let items = bridge
        .review_diagnostics(uri.as_str(), path.as_deref())
        .into_iter()
        .map(to_proto::diagnostic)
        .collect();
    DocumentDiagnosticReportResult::Report(DocumentDiagnosticReport::Full(
        RelatedFullDocumentDiagnosticReport {
            related_documents: None,
            full_document_diagnostic_report: FullDocumentDiagnosticReport {
                result_id: None,
                items,
            },
        },
    ))
}

/// `textDocument/completion`: workspace paths after an `@` in a transcript document's ask
/// section; `null` anywhere else.
async fn mention_completion(
    bridge: &Bridge,
    params: lsp_types::CompletionParams,
) -> Option<lsp_types::CompletionResponse> {
    let at = params.text_document_position;
    let found = bridge
        .complete_mention(
            at.text_document.uri.as_str(),
            from_proto::position(at.position),
        )
        .await?;
    let range = to_proto::range(found.replace);
    let items = found
        .paths
        .into_iter()
        .map(|path| lsp_types::CompletionItem {
            label: path.clone(),
            kind: Some(lsp_types::CompletionItemKind::FILE),
            filter_text: Some(path.clone()),
            text_edit: Some(lsp_types::CompletionTextEdit::Edit(lsp_types::TextEdit {
                range,
                new_text: path,
            })),
            ..Default::default()
        })
        .collect();
    // Incomplete: the next character asks again (the search depends on the query).
    Some(lsp_types::CompletionResponse::List(
        lsp_types::CompletionList {
            is_incomplete: true,
            items,
        },
    ))
}

fn code_action(
    bridge: &Bridge,
    params: lsp_types::CodeActionParams,
) -> Result<Option<lsp_types::CodeActionResponse>, ResponseError> {
    let uri: &Url = &params.text_document.uri;
    // A transcript document: the chat's actions (and waiting approvals), nothing about code.
    if let Some(chat) = bridge.chat_actions(uri.as_str()) {
        let mut actions = code_actions::approval_actions(&bridge.waiting_approvals());
        actions.extend(code_actions::chat_actions(uri, &chat));
        let only = params.context.only.as_deref();
        actions.retain(|action| match action {
            CodeActionOrCommand::CodeAction(action) => {
                code_actions::wanted(action.kind.as_ref(), only)
            }
            CodeActionOrCommand::Command(_) => only.is_none(),
        });
        return Ok(Some(actions));
    }
    let docs = bridge.documents();
    let Some(doc) = docs.get(uri.as_str()) else {
        return Err(ResponseError::new(
            ErrorCode::INVALID_PARAMS,
            format!("textDocument/codeAction: the document is not open: {uri}"),
        ));
    };
    let language_id = doc.language_id.clone();
    let path = doc.path.clone();
    let selected = docs
        .text_in(
            uri.as_str(),
            from_proto::range(params.range),
            bridge.encoding(),
        )
        .map_err(|e| {
            ResponseError::new(
                ErrorCode::INVALID_PARAMS,
                format!("textDocument/codeAction: {e}"),
            )
        })?;
    drop(docs);
    let folder = bridge.workspace_of(path.as_deref());
    let shown = match &path {
        Some(p) => display_path(&p.display().to_string(), folder.as_deref()),
        None => uri.to_string(),
    };
    let target = Target {
        uri,
        display_path: &shown,
        language_id: &language_id,
        range: params.range,
        selected_text: &selected,
    };
    let conflicts: Vec<(u64, lsp_types::Range, bool)> = bridge
        .conflicts_in(uri.as_str(), from_proto::range(params.range))
        .into_iter()
        .map(|(id, range, reverting)| (id, to_proto::range(range), reverting))
        .collect();
    let mut actions = code_actions::approval_actions(&bridge.waiting_approvals());
    actions.extend(code_actions::model_actions(&bridge.model_options()));
    actions.extend(code_actions::conflict_actions(uri, &conflicts));
    let changes = bridge.changes_in(uri.as_str(), from_proto::range(params.range));
    actions.extend(code_actions::change_actions(uri, &shown, &changes));
    let findings = bridge.findings_in(
        uri.as_str(),
        path.as_deref(),
        from_proto::range(params.range),
    );
    actions.extend(code_actions::finding_actions(&findings, folder.as_deref()));
    // An automatic request (VS Code's lightbulb, on every cursor move) gets only what
    // applies here: a waiting approval, a conflict, a finding.
    let automatic = params.context.trigger_kind == Some(CodeActionTriggerKind::AUTOMATIC);
    if !automatic {
        actions.extend(code_actions::code_actions(
            &target,
            &params.context.diagnostics,
        ));
    }
    let only = params.context.only.as_deref();
    actions.retain(|action| match action {
        CodeActionOrCommand::CodeAction(action) => code_actions::wanted(action.kind.as_ref(), only),
        CodeActionOrCommand::Command(_) => only.is_none(),
    });
    Ok(Some(actions))
}
