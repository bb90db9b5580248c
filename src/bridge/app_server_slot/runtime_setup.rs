//! `codex.installRuntime`: installs the pinned runtime from the editor, for users whose only
//! codex-lsp is the one inside their editor's package (the VS Code `.vsix`) and who have no
//! `codex`. The install itself is [`crate::runtime_install`]; here it runs off the editor's
//! request (the request answers at once; a 140 MB download outlives Helix's 20 s request
//! timeout) and shows as work-done progress, ending with a message.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{json, Value};

use super::super::{Bridge, BridgeError, BridgeResult, MessageLevel};
use crate::runtime::PINNED_VERSION;
use crate::runtime_install;

/// Whether an install is running (one at a time: two would race on the same folder).
#[derive(Default)]
pub(in crate::bridge) struct RuntimeSetup {
    installing: AtomicBool,
}

const PROGRESS_TOKEN: &str = "codex-lsp/runtime-install";

impl Bridge {
    /// Starts installing the pinned runtime; answers at once. The editor sees progress, then
    /// a message saying where it went (or why it failed); the next request starts it.
    pub fn install_runtime(&self) -> BridgeResult<Value> {
        let setup = &self.inner.app_server.runtime_setup;
        if setup.installing.swap(true, Ordering::SeqCst) {
            return Err(BridgeError::RuntimeInstallRunning);
        }
        let env = |key: &str| std::env::var(key).ok();
        let Some(root) = crate::runtime::pinned_runtime_dir(&env) else {
            setup.installing.store(false, Ordering::SeqCst);
            return Err(BridgeError::NoCacheFolder);
        };
        let index = runtime_install::default_index(&env);
        let bridge = self.clone();
        tokio::spawn(async move {
            let ui = bridge.inner.ui.clone();
            let title = format!("Installing Codex {PINNED_VERSION}");
            let shown = ui.supports_progress()
                && ui
                    .progress_begin(PROGRESS_TOKEN.into(), title.clone(), String::new())
                    .await;
            if !shown {
                ui.show_message(MessageLevel::Info, format!("Codex: {title}…"));
            }
            let (lines, mut line_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            let install = tokio::task::spawn_blocking(move || {
                let mut report = |line: &str, _percent: Option<u32>| {
                    let _ = lines.send(line.trim().to_string());
                };
                runtime_install::install(
                    &root,
                    &index,
                    &runtime_install::Platform::current(),
                    &mut report,
                )
            });
            while let Some(line) = line_rx.recv().await {
                if shown {
                    ui.progress_report(PROGRESS_TOKEN, line);
                }
            }
            let outcome = install
                .await
                .unwrap_or_else(|e| Err(runtime_install::InstallError::from(e.to_string())));

            let (level, message) = match outcome {
                Ok(codex) => {
                    // A runtime that was missing is told again if it goes missing again.
                    bridge.inner.prompts.forget_reports();
                    // An explicit path comes first (runtime.rs): say so, or the user waits
                    // for a runtime that will not be used.
                    let next = match bridge.settings().codex_path {
                        Some(set) => format!(
                            "the setting `codexPath` ({}) still comes first: clear it to use this one",
                            set.display()
                        ),
                        None => "the next request starts it".to_string(),
                    };
                    (
                        MessageLevel::Info,
                        format!(
                            "Codex {PINNED_VERSION} installed ({}); {next}.",
                            codex.display()
                        ),
                    )
                }
                Err(e) => (
                    MessageLevel::Error,
                    format!("Codex: installing the runtime failed: {e}"),
                ),
            };
            if shown {
                let end = match level {
                    MessageLevel::Error => "failed",
                    _ => "installed",
                };
                ui.progress_end(PROGRESS_TOKEN, end.into());
            }
            ui.show_message(level, crate::bridge::for_user(&message));
            bridge
                .inner
                .app_server
                .runtime_setup
                .installing
                .store(false, Ordering::SeqCst);
        });
        Ok(json!({ "started": true, "version": PINNED_VERSION }))
    }
}
