//! The agent's edits in the editor's buffers. The app-server writes files itself; for every
//! file the editor has open, the buffer is brought to "the user's unsaved edits + the
//! agent's change" by a three-way merge (base: what disk held under the buffer; ours: the
//! buffer; theirs: disk now) sent as minimal, versioned edits. Overlaps keep the user's
//! text and become conflicts the user resolves with a code action.
//!
//! Jobs run one at a time, in the order the turn's events came, on a task of their own: a
//! slow editor never holds up the turn's progress, and two merges never race on one buffer.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::documents::{normalize_path, BufferConflict, DiskView, MirrorSnapshot};
use crate::app_server::protocol as p;
use crate::bridge::activity::display_path;
use crate::bridge::editor_ui::{BufferDiagnostic, BufferEdit, EditOutcome, Severity};
use crate::bridge::{Bridge, BridgeError, BridgeResult, Inner, MessageLevel};
use crate::text::{edits_between, merge3_edits, Position, Range};

/// How many times one change is sent to a buffer before the user is told it could not be.
const MAX_SENDS: usize = 2;
/// How long the editor has to send the `didChange` for an edit it said it applied. After
/// that the edit is taken as applied (never sent again: a double edit is worse).
const APPLIED_ECHO_WAIT: Duration = Duration::from_secs(5);
/// How long to wait for the newer buffer after the editor refused an edit as stale.
const REJECTED_ECHO_WAIT: Duration = Duration::from_secs(1);

/// The diagnostic code of a conflict region.
pub const CONFLICT_CODE: &str = "codex.conflict";

static NEXT_CONFLICT_ID: AtomicU64 = AtomicU64::new(1);

/// A new conflict's id (unique in the process, whichever kind).
pub(in crate::bridge) fn next_conflict_id() -> u64 {
    NEXT_CONFLICT_ID.fetch_add(1, Ordering::Relaxed)
}

pub(in crate::bridge) enum MirrorJob {
    /// A completed `fileChange` item.
    FileChange {
        turn_id: String,
        changes: Vec<p::FileUpdateChange>,
    },
    /// The turn ended: every open file is compared with disk once more (the agent may have
    /// changed files by running commands, or a mirror may have failed). `done` fires after.
    TurnEnded {
        turn_id: String,
        done: tokio::sync::oneshot::Sender<()>,
    },
}

/// Which side of a conflict the user keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictChoice {
    TakeCodex,
    KeepMine,
}

/// Reads a file for the merge, as the buffer shows it (`view`): `Ok(None)` when it does
/// not exist; not UTF-8 is an error.
async fn read_text(path: &Path, view: DiskView) -> Result<Option<String>, String> {
    match tokio::fs::read(path).await {
        Ok(bytes) => view
            .read(bytes)
            .map(Some)
            .map_err(|_| "it is not UTF-8 text".to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

pub(in crate::bridge) async fn run_mirror(
    bridge: std::sync::Weak<Inner>,
    mut jobs: mpsc::UnboundedReceiver<MirrorJob>,
) {
    while let Some(job) = jobs.recv().await {
        let Some(inner) = bridge.upgrade() else {
            return;
        };
        Bridge { inner }.run_job(job).await;
    }
}

impl Bridge {
    /// Queues a mirror job (the worker starts with the first one).
    pub(in crate::bridge) fn queue_mirror(&self, job: MirrorJob) {
        let bridge = Arc::downgrade(&self.inner);
        self.inner.documents.queue_mirror(job, |jobs| {
            tokio::spawn(run_mirror(bridge, jobs));
        });
    }

    async fn run_job(&self, job: MirrorJob) {
        match job {
            MirrorJob::FileChange { turn_id, changes } => {
                self.mirror_file_change(&turn_id, changes).await
            }
            MirrorJob::TurnEnded { turn_id, done } => {
                self.mirror_turn_end(&turn_id).await;
                let _ = done.send(());
            }
        }
    }

    async fn mirror_file_change(&self, turn_id: &str, changes: Vec<p::FileUpdateChange>) {
        let mut notes = Vec::new();
        for change in changes {
            let path = normalize_path(Path::new(&change.path));
            let shown = self.shown(&path);
            if !self.in_workspace(&path) {
                notes.push(format!("changed {shown}, outside the workspace folders"));
            }
            let open = self.documents().uris_of(&path);
            match change.kind {
                p::PatchChangeKind::Delete => {
                    for uri in &open {
                        self.buffer_lost_its_file(uri, &format!("deleted {shown}"), &mut notes);
                    }
                    if open.is_empty() {
                        notes.push(format!("deleted {shown}"));
                    }
                }
                p::PatchChangeKind::Update {
                    move_path: Some(destination),
                } => {
                    let destination = normalize_path(Path::new(&destination));
                    let moved = format!("moved {shown} to {}", self.shown(&destination));
                    for uri in &open {
                        self.buffer_lost_its_file(uri, &moved, &mut notes);
                    }
                    if open.is_empty() {
                        notes.push(moved);
                    }
                    let destination_open = self.documents().uris_of(&destination);
                    for uri in &destination_open {
                        self.mirror_buffer(uri, turn_id).await;
                    }
                    if !open.is_empty() && destination_open.is_empty() {
                        let _ = self.inner.ui.show_file(destination).await;
                    }
                }
                kind => {
                    if matches!(kind, p::PatchChangeKind::Add) {
                        notes.push(format!("created {shown}"));
                    }
                    for uri in &open {
                        self.mirror_buffer(uri, turn_id).await;
                    }
                }
            }
        }
        if !notes.is_empty() {
            self.inner
                .ui
                .show_message(MessageLevel::Info, format!("Codex {}.", notes.join("; ")));
        }
    }

    /// Brings every open buffer of `path` to "its unsaved edits + what disk holds now", as
    /// a completed `fileChange` of it does (the mirror's property test drives this).
    pub async fn mirror_path(&self, path: &Path, turn_id: &str) {
        let open = self.documents().uris_of(&normalize_path(path));
        for uri in open {
            self.mirror_buffer(&uri, turn_id).await;
        }
    }

    /// A file the editor has open was deleted or moved away: its buffer keeps the text, and
    /// the user is told the path no longer holds it.
    fn buffer_lost_its_file(&self, uri: &str, what: &str, notes: &mut Vec<String>) {
        let unsaved = {
            let mut docs = self.documents();
            let unsaved = docs
                .mirror_snapshot(uri)
                .is_some_and(|s| s.disk_text.as_deref() != Some(s.text.as_str()));
            docs.set_disk_text(uri, None);
            unsaved
        };
        notes.push(format!(
            "{what}: its open buffer now names a file that does not exist{} (saving it writes the file again)",
            if unsaved { " and holds unsaved edits" } else { "" }
        ));
    }

    /// The safety net at the end of a turn: any open file whose disk content moved since the
    /// buffer last stood on it gets the merge (commands the agent ran, or a failed mirror).
    async fn mirror_turn_end(&self, turn_id: &str) {
        let files = self.documents().files();
        let mut outside = Vec::new();
        for (uri, path, disk_text, view) in files {
            match read_text(&path, view).await {
                Ok(Some(now)) if disk_text.as_ref().is_none_or(|base| *base != *now) => {
                    // Changed by a command, not a fileChange item (which tells its own).
                    if !self.in_workspace(&path) {
                        outside.push(self.shown(&path));
                    }
                    self.changes_record_command(turn_id, &path, disk_text.map(String::from), now);
                    self.mirror_buffer(&uri, turn_id).await
                }
                Ok(None) if disk_text.is_some() => {
                    let mut notes = Vec::new();
                    self.buffer_lost_its_file(
                        &uri,
                        &format!("{} was deleted during the turn", self.shown(&path)),
                        &mut notes,
                    );
                    self.inner
                        .ui
                        .show_message(MessageLevel::Warning, format!("{}.", notes.join("; ")));
                }
                _ => {}
            }
        }
        self.changes_save();
        if !outside.is_empty() {
            outside.dedup();
            self.inner.ui.show_message(
                MessageLevel::Info,
                format!(
                    "Codex changed {}, outside the workspace folders.",
                    outside.join(", ")
                ),
            );
        }
    }

    /// Brings one open buffer to "its unsaved edits + what disk holds now".
    async fn mirror_buffer(&self, uri: &str, turn_id: &str) {
        // The path only: the buffer is copied in the loop below, after the file is read.
        let Some((path, view)) = self
            .documents()
            .get(uri)
            .and_then(|doc| Some((doc.path.clone()?, doc.view())))
        else {
            return;
        };
        if !self.inner.ui.supports_apply_edit() {
            self.report_once(
                MessageLevel::Warning,
                "this editor cannot take edits from the server (no workspace/applyEdit); \
                 reload files Codex changed to see its work."
                    .into(),
            );
            return;
        }
        let shown = self.shown(&path);
        let theirs = match read_text(&path, view).await {
            Ok(Some(text)) => text,
            Ok(None) => return,
            Err(why) => {
                self.inner.ui.show_message(
                    MessageLevel::Warning,
                    format!("Codex changed {shown}, but its buffer was not updated: {why}."),
                );
                return;
            }
        };
        let mut sends = 0;
        let mut last_failure = String::new();
        loop {
            let Some(snapshot) = self.documents().mirror_snapshot(uri) else {
                return;
            };
            let (merge, edits) = merge3_edits(
                snapshot.disk_text.as_deref().unwrap_or(""),
                &snapshot.text,
                &theirs,
                self.inner.encoding,
            );
            if edits.is_empty() {
                self.settle(uri, &shown, theirs, &merge);
                return;
            }
            if sends == MAX_SENDS {
                break;
            }
            sends += 1;
            let edit = BufferEdit {
                uri: self.documents().editor_uri(uri),
                version: snapshot.version,
                edits,
                label: format!("Codex: {shown}"),
                group: Some((
                    format!("codex-turn-{turn_id}"),
                    format!("Codex (turn {})", short_id(turn_id)),
                )),
            };
            match self.apply_buffer_edit(uri, edit).await {
                EditOutcome::Applied => {
                    match self
                        .wait_for_edit(uri, &snapshot, &merge.text, APPLIED_ECHO_WAIT)
                        .await
                    {
                        // The buffer holds the merge (and maybe what the user typed since):
                        // it stands on `theirs` now. Merging it again with the old base
                        // would see the user's edits and the agent's as one block and call
                        // that a conflict; the conflicts are the first merge's, no others.
                        Echo::In => {
                            self.settle(uri, &shown, theirs, &merge);
                            return;
                        }
                        Echo::None => {
                            tracing::warn!(uri, "the editor applied an edit but sent no didChange; taking it as applied");
                            self.settle(uri, &shown, theirs, &merge);
                            return;
                        }
                        Echo::Closed => return,
                        // The buffer changed, but the edit is not in it: merge again.
                        Echo::Other => {}
                    }
                }
                EditOutcome::Rejected(reason) => {
                    last_failure = reason.unwrap_or_else(|| "the editor refused the edit".into());
                    self.wait_for_version_after(uri, snapshot.version, REJECTED_ECHO_WAIT)
                        .await;
                }
                EditOutcome::Failed(why) => {
                    last_failure = why;
                    break;
                }
            }
        }
        tracing::warn!(uri, %last_failure, "could not bring the agent's change into the buffer");
        self.inner.ui.show_message(
            MessageLevel::Warning,
            format!(
                "Codex changed {shown} on disk, but its open buffer could not be updated ({}). \
                 Your unsaved edits are still in the buffer; reload the file to see Codex's version.",
                if last_failure.is_empty() { "the edit did not take" } else { &last_failure }
            ),
        );
    }

    /// The buffer now holds the agent's change: it stands on `theirs`; the merge's
    /// conflicts (lines in `merge.text`) are kept, shown as diagnostics and told to the user.
    fn settle(&self, uri: &str, shown: &str, theirs: String, merge: &crate::text::Merge) {
        let found: Vec<BufferConflict> = merge
            .conflicts
            .iter()
            .map(|c| BufferConflict {
                id: next_conflict_id(),
                lines: c.lines.clone(),
                ours: c.ours.clone(),
                theirs: c.theirs.clone(),
                reverts: None,
            })
            .collect();
        {
            let mut docs = self.documents();
            docs.set_disk_text(uri, Some(theirs));
            if !found.is_empty() {
                docs.add_conflicts(uri, found.clone(), &merge.text);
            }
        }
        self.changes_anchor(uri);
        if found.is_empty() {
            return;
        }
        self.publish_conflicts(uri);
        let lines: Vec<String> = found
            .iter()
            .map(|c| {
                if c.lines.is_empty() {
                    format!("before line {}", c.lines.start + 1)
                } else if c.lines.len() == 1 {
                    format!("line {}", c.lines.start + 1)
                } else {
                    format!("lines {}–{}", c.lines.start + 1, c.lines.end)
                }
            })
            .collect();
        self.inner.ui.show_message(
            MessageLevel::Warning,
            format!(
                "Codex changed {shown} where you have unsaved edits ({}). Your version is kept in \
                 the buffer and Codex's is on disk; use the code action \"Take Codex's version\" \
                 or \"Keep mine\" on the marked lines.",
                lines.join(", ")
            ),
        );
    }

    /// After the editor said it applied the edit that turns `before` into `merged`: waits
    /// until the buffer holds it (each `didChange` is looked at; the user may type in
    /// between, and an editor may echo one edit in several notifications).
    async fn wait_for_edit(
        &self,
        uri: &str,
        before: &MirrorSnapshot,
        merged: &str,
        limit: Duration,
    ) -> Echo {
        let deadline = tokio::time::Instant::now() + limit;
        let mut seen = before.version;
        let mut moved = false;
        loop {
            if !self
                .wait_for_version_after(
                    uri,
                    seen,
                    deadline.saturating_duration_since(tokio::time::Instant::now()),
                )
                .await
            {
                return match self.documents().mirror_snapshot(uri) {
                    None => Echo::Closed,
                    Some(_) if moved => Echo::Other,
                    Some(_) => Echo::None,
                };
            }
            let Some(now) = self.documents().mirror_snapshot(uri) else {
                return Echo::Closed;
            };
            seen = now.version;
            moved = true;
            if holds_merge(&before.text, &now.text, merged) {
                return Echo::In;
            }
        }
    }

    /// Waits until the mirror of `uri` moves past `version` (the editor's `didChange`).
    /// Returns false on timeout or when the document closed.
    async fn wait_for_version_after(&self, uri: &str, version: i32, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.inner.documents.next_change();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.documents().mirror_snapshot(uri) {
                Some(s) if s.version != version => return true,
                None => return false,
                Some(_) => {}
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return false;
            }
        }
    }

    /// Republishes the conflict diagnostics of `uri`.
    pub(in crate::bridge) fn publish_conflicts(&self, uri: &str) {
        let diagnostics = self
            .documents()
            .conflicts(uri)
            .into_iter()
            .map(|c| conflict_diagnostic(c.id, c.range(), c.reverts.is_some()))
            .collect();
        self.set_diagnostics(uri, "conflict", diagnostics);
    }

    /// The conflicts of `uri` whose lines meet `range`, as (id, range, whether it stands in
    /// the way of a revert).
    pub fn conflicts_in(&self, uri: &str, range: Range) -> Vec<(u64, Range, bool)> {
        self.documents()
            .conflicts(uri)
            .into_iter()
            .filter(|c| {
                let r = c.range();
                r.start <= range.end && range.start <= r.end
            })
            .map(|c| (c.id, c.range(), c.reverts.is_some()))
            .collect()
    }

    /// `codex.resolveConflict`: take Codex's version of a region, or keep the user's. For a
    /// conflict a revert met, "Codex's version" is the text before the turn, and the change
    /// is then reverted (or, keeping the user's text, kept).
    pub async fn resolve_conflict(
        &self,
        uri: &str,
        id: u64,
        choice: ConflictChoice,
    ) -> BridgeResult<Value> {
        let conflict = self
            .documents()
            .conflicts(uri)
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| {
                BridgeError::InvalidParams(format!(
                    "codex.resolveConflict: no conflict {id} in {uri} (already resolved?)"
                ))
            })?;
        let mut version = 0;
        if choice == ConflictChoice::TakeCodex {
            let snapshot = self.documents().mirror_snapshot(uri).ok_or_else(|| {
                BridgeError::InvalidParams(format!("codex.resolveConflict: {uri} is not open"))
            })?;
            let new_text = replace_region(&snapshot, &conflict).ok_or_else(|| {
                BridgeError::ConflictChanged {
                    uri: uri.to_string(),
                    theirs: conflict.theirs.clone(),
                }
            })?;
            let edits = edits_between(&snapshot.text, &new_text, self.inner.encoding);
            version = snapshot.version;
            let edit = BufferEdit {
                uri: self.documents().editor_uri(uri),
                version: snapshot.version,
                edits,
                label: match conflict.reverts {
                    Some(_) => "Codex: revert anyway".into(),
                    None => "Codex: take Codex's version".into(),
                },
                group: None,
            };
            match self.apply_buffer_edit(uri, edit).await {
                EditOutcome::Applied => {}
                EditOutcome::Rejected(reason) => return Err(BridgeError::EditRefused(reason)),
                EditOutcome::Failed(why) => return Err(BridgeError::EditFailed(why)),
            }
        }
        self.documents().remove_conflict(uri, id);
        self.publish_conflicts(uri);
        if let Some(change) = &conflict.reverts {
            self.changes_conflict_resolved(uri, change, choice, version)
                .await;
        }
        Ok(
            json!({ "resolved": id, "kept": match (choice, &conflict.reverts) {
            (ConflictChoice::TakeCodex, None) => "codex",
            (ConflictChoice::TakeCodex, Some(_)) => "before",
            (ConflictChoice::KeepMine, _) => "mine",
        } }),
        )
    }

    fn shown(&self, path: &Path) -> String {
        let folder = self.workspace_of(Some(path));
        display_path(&path.display().to_string(), folder.as_deref())
    }

    fn in_workspace(&self, path: &Path) -> bool {
        self.inner.workspace.contains(path)
    }
}

/// The diagnostic of a conflict region: what is published and what its code actions carry;
/// `reverting`: a revert of the agent's change met it.
pub fn conflict_diagnostic(id: u64, range: Range, reverting: bool) -> BufferDiagnostic {
    let message = match reverting {
        false => {
            "Codex changed these lines too; your unsaved version is kept. Take Codex's \
             version or keep yours with a code action."
        }
        true => {
            "You edited these lines after Codex changed them, so reverting Codex's change \
             here was left out; your text is kept. Keep your text, or revert anyway (the \
             text before the turn) with a code action."
        }
    };
    BufferDiagnostic {
        range,
        severity: Severity::Warning,
        code: CONFLICT_CODE.into(),
        message: message.into(),
        data: json!({ "conflictId": id }),
    }
}

/// What became of an edit the editor said it applied.
enum Echo {
    /// The buffer holds it.
    In,
    /// The buffer changed, but not by it.
    Other,
    /// No `didChange` came.
    None,
    Closed,
}

/// Whether `now` holds every change from `before` to `merged` (with, perhaps, the user's
/// typing since): merged three ways, nothing of `merged` is left to bring in.
fn holds_merge(before: &str, now: &str, merged: &str) -> bool {
    now == merged
        || crate::text::merge3_edits(before, now, merged, crate::text::PositionEncoding::Utf32)
            .1
            .is_empty()
}

/// The buffer's text with the conflict region (found at its lines, or by its text when the
/// lines moved) replaced by the agent's version; `None` when the user's text is gone.
fn replace_region(snapshot: &MirrorSnapshot, conflict: &BufferConflict) -> Option<String> {
    let document = crate::text::Document::new(&snapshot.text, snapshot.version);
    let encoding = crate::text::PositionEncoding::Utf32;
    let start = document
        .position_to_char(Position::new(conflict.lines.start, 0), encoding)
        .ok()?;
    let end = document
        .position_to_char(Position::new(conflict.lines.end, 0), encoding)
        .ok()?;
    let rope = document.rope();
    let (start, end) = if rope.slice(start..end) == conflict.ours.as_str() {
        (rope.char_to_byte(start), rope.char_to_byte(end))
    } else {
        let mut found = snapshot.text.match_indices(conflict.ours.as_str());
        match (found.next(), found.next(), conflict.ours.is_empty()) {
            (Some((at, _)), None, false) => (at, at + conflict.ours.len()),
            _ => return None,
        }
    };
    Some(format!(
        "{}{}{}",
        &snapshot.text[..start],
        conflict.theirs,
        &snapshot.text[end..]
    ))
}

fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(text: &str) -> MirrorSnapshot {
        MirrorSnapshot {
            version: 3,
            text: text.into(),
            path: "/w/a.txt".into(),
            disk_text: None,
            view: DiskView::default(),
        }
    }

    fn conflict(lines: std::ops::Range<u32>, ours: &str) -> BufferConflict {
        BufferConflict {
            id: 1,
            lines,
            ours: ours.into(),
            theirs: "AGENT\n".into(),
            reverts: None,
        }
    }

    #[test]
    fn taking_codexs_version_replaces_the_region_where_it_is_now() {
        let text = "a\nmine 😀\nc\n";
        assert_eq!(
            replace_region(&snapshot(text), &conflict(1..2, "mine 😀\n")).as_deref(),
            Some("a\nAGENT\nc\n")
        );
        // The lines moved (stale line numbers): found by the user's text instead.
        assert_eq!(
            replace_region(
                &snapshot("new\na\nmine 😀\nc\n"),
                &conflict(1..2, "mine 😀\n")
            )
            .as_deref(),
            Some("new\na\nAGENT\nc\n")
        );
        // The user rewrote the region since: nothing is replaced blindly.
        assert_eq!(
            replace_region(&snapshot("a\nother\nc\n"), &conflict(1..2, "mine 😀\n")),
            None
        );
    }
}
