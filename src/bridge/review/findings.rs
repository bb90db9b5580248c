//! The review's findings: the last review's, by id order, following the lines of their
//! documents as the user edits. One short std lock, never held across an await.

use std::path::Path;
use std::sync::Mutex;

use super::Finding;
use crate::bridge::edits::documents::{follow_lines, LineChange};
use crate::lock;
use crate::text::Range;

#[derive(Default)]
pub(in crate::bridge) struct Findings {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    findings: Vec<Finding>,
    next_id: u64,
}

impl Findings {
    /// A new finding's id (`review-N`), never given before.
    pub(super) fn next_id(&self) -> String {
        let mut state = lock(&self.state);
        state.next_id += 1;
        format!("review-{}", state.next_id)
    }

    /// Replaces every finding; the documents that had or have one.
    pub(super) fn replace(&self, findings: Vec<Finding>) -> Vec<String> {
        let mut state = lock(&self.state);
        let old = std::mem::replace(&mut state.findings, findings);
        let mut uris: Vec<String> = old.into_iter().map(|f| f.uri).collect();
        uris.extend(state.findings.iter().map(|f| f.uri.clone()));
        uris
    }

    /// Removes every finding, and says which.
    pub(super) fn take_all(&self) -> Vec<Finding> {
        std::mem::take(&mut lock(&self.state).findings)
    }

    /// Removes the finding `id`, if there is one.
    pub(super) fn remove(&self, id: &str) -> Option<Finding> {
        let mut state = lock(&self.state);
        let index = state.findings.iter().position(|f| f.id == id);
        index.map(|i| state.findings.remove(i))
    }

    /// The findings of a document (`path` already normalised).
    pub(super) fn of_document(&self, uri: &str, path: Option<&Path>) -> Vec<Finding> {
        lock(&self.state)
            .findings
            .iter()
            .filter(|f| f.concerns(uri, path))
            .cloned()
            .collect()
    }

    /// The findings of a document whose lines meet `range`.
    pub(super) fn in_range(&self, uri: &str, path: Option<&Path>, range: Range) -> Vec<Finding> {
        let lines = range.start.line..range.end.line + 1;
        lock(&self.state)
            .findings
            .iter()
            .filter(|f| f.concerns(uri, path))
            .filter(|f| {
                f.lines.start < lines.end && lines.start < f.lines.end.max(f.lines.start + 1)
            })
            .cloned()
            .collect()
    }

    /// The document's findings follow its lines (see [`follow_lines`]); a finding whose
    /// lines were deleted goes. `Some(the documents to publish again)` when any changed.
    pub(super) fn follow(
        &self,
        uri: &str,
        path: Option<&Path>,
        changes: &[LineChange],
    ) -> Option<Vec<String>> {
        let mut state = lock(&self.state);
        // Told while following, not by comparing with a copy of every finding: this runs on
        // every keystroke in a file with findings.
        let mut moved = false;
        state.findings.retain_mut(|f| {
            if !f.concerns(uri, path) {
                return true;
            }
            let mut lines = Some(f.lines.clone());
            for change in changes {
                lines = lines.and_then(|l| follow_lines(&l, change));
            }
            match lines {
                Some(lines) => {
                    moved |= lines != f.lines;
                    f.lines = lines;
                    true
                }
                None => {
                    moved = true;
                    false
                }
            }
        });
        if !moved {
            return None;
        }
        Some(
            state
                .findings
                .iter()
                .filter(|f| f.concerns(uri, path))
                .map(|f| f.uri.clone())
                .chain([uri.to_string()])
                .collect(),
        )
    }

    pub(super) fn is_empty(&self) -> bool {
        lock(&self.state).findings.is_empty()
    }
}
