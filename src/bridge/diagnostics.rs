//! The diagnostics store: codex-lsp's diagnostics by document and by kind (conflicts, review
//! findings, …). The editor gets their union, so one kind never wipes out another. One short
//! std lock; publishing happens after it is released.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::editor_ui::BufferDiagnostic;
use super::Bridge;
use crate::lock;

/// One document's diagnostics, by the kind of finding that made them.
type ByKind = BTreeMap<&'static str, Vec<BufferDiagnostic>>;

#[derive(Default)]
pub(super) struct DiagnosticsStore {
    by_uri: Mutex<HashMap<String, ByKind>>,
}

impl DiagnosticsStore {
    /// Replaces the diagnostics of one `kind` on `uri`: `Some(the union of all kinds)` to
    /// publish, `None` when nothing changed (no diagnostics of that kind, before or after).
    fn set(
        &self,
        uri: &str,
        kind: &'static str,
        diagnostics: Vec<BufferDiagnostic>,
    ) -> Option<Vec<BufferDiagnostic>> {
        let mut by_uri = lock(&self.by_uri);
        let kinds = by_uri.entry(uri.to_string()).or_default();
        if diagnostics.is_empty() {
            kinds.remove(kind)?;
        } else {
            kinds.insert(kind, diagnostics);
        }
        let all = kinds.values().flatten().cloned().collect();
        if kinds.is_empty() {
            by_uri.remove(uri);
        }
        Some(all)
    }
}

impl Bridge {
    /// Replaces the diagnostics of one `kind` on `uri` and publishes the union of all kinds.
    pub(crate) fn set_diagnostics(
        &self,
        uri: &str,
        kind: &'static str,
        diagnostics: Vec<BufferDiagnostic>,
    ) {
        let Some(all) = self.inner.diagnostics.set(uri, kind, diagnostics) else {
            return;
        };
        // Addressed as the editor spelled the document's URI, not as codex-lsp re-spells it.
        let address = self.documents().editor_uri(uri);
        self.inner.ui.publish_diagnostics(&address, all);
    }
}
