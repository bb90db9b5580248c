//! Editor prompts bookkeeping: what codex-lsp learnt and keeps about asking the user — the
//! approvals waiting in the code actions (editors without prompts), whether the editor has
//! `window/showMessageRequest` at all, the numbering of `codex/approval` prompts, and the
//! messages already shown once. Atomics and short std locks.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::picker_approvals::PickerApprovals;
use crate::lock;

#[derive(Default)]
pub(super) struct EditorPrompts {
    /// Approvals offered in the code actions (editors without `showMessageRequest`).
    picker: Mutex<PickerApprovals>,
    /// Set once the editor said it has no `window/showMessageRequest`.
    prompts_unsupported: AtomicBool,
    /// Numbers `codex/approval` prompts (`approvalId`).
    next_prompt_id: AtomicU64,
    /// Messages already shown, so a repeated failure reaches the editor once.
    reported: Mutex<HashSet<String>>,
    /// `codex.setModel`'s choices offered in the code actions (editors without prompts),
    /// until when.
    model_options: Mutex<Option<(Vec<ModelOption>, Instant)>>,
}

/// A model or effort `codex.setModel` offers as a code action: its title and what the
/// action sets.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelOption {
    pub title: String,
    pub model: Option<String>,
    pub effort: Option<String>,
}

impl EditorPrompts {
    /// The approvals waiting in the code actions. Keep the guard short: never hold it
    /// across an await.
    pub(super) fn picker(&self) -> MutexGuard<'_, PickerApprovals> {
        lock(&self.picker)
    }

    /// False once the editor said it has no `window/showMessageRequest`.
    pub(super) fn prompts_supported(&self) -> bool {
        !self.prompts_unsupported.load(Ordering::Relaxed)
    }

    /// Learnt once: later approvals go straight to the code actions.
    pub(super) fn prompts_are_unsupported(&self) {
        self.prompts_unsupported.store(true, Ordering::Relaxed);
    }

    /// The next `codex/approval` prompt's id.
    pub(super) fn next_prompt_id(&self) -> String {
        let n = self.next_prompt_id.fetch_add(1, Ordering::Relaxed) + 1;
        format!("prompt-{n}")
    }

    /// Offers `options` in the code actions until `until` (or the next choice).
    pub(super) fn offer_models(&self, options: Vec<ModelOption>, until: Instant) {
        *lock(&self.model_options) = Some((options, until));
    }

    pub(super) fn withdraw_models(&self) {
        *lock(&self.model_options) = None;
    }

    /// The model choices still offered.
    pub(super) fn model_options(&self) -> Vec<ModelOption> {
        let mut offered = lock(&self.model_options);
        match offered.as_ref() {
            Some((options, until)) if Instant::now() < *until => options.clone(),
            _ => {
                *offered = None;
                Vec::new()
            }
        }
    }

    /// Reported messages are told again (what they said has been dealt with).
    pub(super) fn forget_reports(&self) {
        lock(&self.reported).clear();
    }

    /// True the first time `message` is reported.
    pub(super) fn first_report(&self, message: &str) -> bool {
        lock(&self.reported).insert(message.to_string())
    }
}
