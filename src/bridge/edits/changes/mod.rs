//! Keep or undo what the agent did: per turn, per file, the text before the turn and the
//! text the agent left ([`record::FileRecord`]), shown as marks (diagnostics of code
//! `codex.change` and the `codex/changes` notification) that follow the user's edits, and
//! reverted hunk by hunk, file by file or turn by turn through the three-way merge.
//!
//! Where the pre-turn text comes from: a `fileChange` item's diff read backwards from the
//! file it left (an added file had none, a deleted one's diff is its text); for a file the
//! agent changed by running a command, only an open buffer's base (what disk held under it)
//! is known, so those changes are recorded for open files only.
//!
//! The state is this part's own ([`ChangeLog`], its own lock); the bridge calls it at a
//! turn's start, at each completed `fileChange`, at the turn's end, when the mirror settled
//! a buffer and on `didOpen`/`didChange`.

pub(crate) mod record;
mod store;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range as Span;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use self::record::{FileRecord, HunkStatus};
use super::documents::{follow_lines, normalize_path, BufferConflict, DiskView, LineChange};
use super::mirror::{next_conflict_id, ConflictChoice};
use crate::app_server::protocol as p;
use crate::bridge::activity::display_path;
use crate::bridge::editor_ui::{BufferDiagnostic, BufferEdit, EditOutcome, Severity};
use crate::bridge::settings::ReviewChanges;
use crate::bridge::{lock, Bridge, BridgeError, BridgeResult, MessageLevel};
use crate::text::{Position, Range, TextEdit};

/// The diagnostic code of a change the agent made.
pub const CHANGE_CODE: &str = "codex.change";
/// The diagnostics kind (see `Bridge::set_diagnostics`).
const KIND: &str = "change";
/// What the records may hold in memory (each file's text before the turn and the agent's
/// lines of its hunks) before the oldest turns go.
const MAX_RECORD_BYTES: usize = 64 << 20;
/// How long a revert waits for the editor's `didChange` of its edit before it re-marks.
const ECHO_WAIT: Duration = Duration::from_secs(2);
/// Marks moved by the user's typing are republished once the typing pauses this long, at
/// their lines then. Every editor moves the diagnostics (and signs, overlays, decorations)
/// it holds with the text the user types, so the republishing only corrects where a mark
/// cannot be moved by the editor alone (a line split inside a hunk); 100 marks rebuilt,
/// sent and parsed while the user types would slow each keystroke that meets them. The
/// code actions read the marks' current lines meanwhile, so they stay exact.
const MOVED_MARKS_QUIET: Duration = Duration::from_millis(200);
/// ... and at least this often while the user keeps typing without such a pause.
const MOVED_MARKS_MAX_HELD: Duration = Duration::from_secs(2);

/// A hunk's id as commands carry it: `<turn seq>:<file>:<hunk>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HunkId {
    turn: u64,
    file: usize,
    hunk: usize,
}

impl std::fmt::Display for HunkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.turn, self.file, self.hunk)
    }
}

impl std::str::FromStr for HunkId {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let mut parts = s.split(':').map(str::parse::<u64>);
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(turn)), Some(Ok(file)), Some(Ok(hunk)), None) => Ok(HunkId {
                turn,
                file: file as usize,
                hunk: hunk as usize,
            }),
            _ => Err(()),
        }
    }
}

/// What a keep or revert applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeScope {
    /// One hunk (its id).
    Hunk(String),
    /// Every change in one file, of every turn.
    File(PathBuf),
    /// Every change of one turn (its id); `None`: the newest turn with changes left.
    Turn(Option<String>),
}

/// One marked hunk as an editor draws it (`codex/changes`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeMark {
    pub id: String,
    pub thread_id: String,
    pub turn_id: String,
    /// The turn's number on its thread, as codex-lsp counted them (from 1).
    pub turn: u32,
    pub prompt: String,
    /// Lines of the document, half-open; empty where the agent only deleted lines.
    #[serde(serialize_with = "lines_as_pair")]
    pub lines: Span<u32>,
    pub added: u32,
    pub removed: u32,
    pub status: HunkStatus,
}

fn lines_as_pair<S: serde::Serializer>(lines: &Span<u32>, s: S) -> Result<S::Ok, S::Error> {
    [lines.start, lines.end].serialize(s)
}

impl ChangeMark {
    pub fn range(&self) -> Range {
        Range::new(
            Position::new(self.lines.start, 0),
            Position::new(self.lines.end.max(self.lines.start), 0),
        )
    }

    /// The published diagnostic (and what the code actions embed).
    pub fn diagnostic(&self) -> BufferDiagnostic {
        let prompt = crate::bridge::one_line(&self.prompt, 40);
        let turn = match prompt.is_empty() {
            true => format!("turn {}", self.turn),
            false => format!("turn {}: \"{prompt}\"", self.turn),
        };
        let mut range = self.range();
        if range.is_empty() {
            // Lines deleted: marked on the line after them, zero-width.
            range.end = range.start;
        }
        BufferDiagnostic {
            range,
            severity: Severity::Hint,
            code: CHANGE_CODE.into(),
            message: format!(
                "Codex changed this ({turn}): +{} −{}",
                self.added, self.removed
            ),
            data: json!({ "changeId": self.id, "turnId": self.turn_id }),
        }
    }
}

/// The marks of one document or file (`codex/changes`); no hunks: none left.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangesUpdate {
    pub uri: String,
    pub path: PathBuf,
    pub hunks: Vec<ChangeMark>,
}

struct FileEntry {
    path: PathBuf,
    record: FileRecord,
}

struct TurnRecord {
    seq: u64,
    number: u32,
    thread_id: String,
    turn_id: String,
    prompt: String,
    files: Vec<FileEntry>,
    /// Marked in the editor (with `reviewChanges: "keep"`, until the next turn starts).
    shown: bool,
}

impl TurnRecord {
    fn bytes(&self) -> usize {
        self.files.iter().map(|f| f.record.bytes()).sum()
    }
}

/// A mark in an open document: which hunk, and its lines now (following the user's edits).
#[derive(Debug, Clone, PartialEq)]
struct Mark {
    id: HunkId,
    lines: Span<u32>,
}

/// A document's moved marks held back while the user types.
struct HeldMarks {
    /// When the first move not yet republished came.
    since: Instant,
    /// When the latest came.
    last: Instant,
}

impl HeldMarks {
    /// When they go out: once the typing paused, or when held too long.
    fn due(&self) -> Instant {
        (self.last + MOVED_MARKS_QUIET).min(self.since + MOVED_MARKS_MAX_HELD)
    }
}

#[derive(Default)]
struct State {
    turns: VecDeque<TurnRecord>,
    next_seq: u64,
    turns_per_thread: HashMap<String, u32>,
    /// The marks of open documents, by URI key.
    marks: HashMap<String, Vec<Mark>>,
    /// The document version each document's marks were placed or last followed at.
    marked_at: HashMap<String, i32>,
    /// What the agent is told at its thread's next turn.
    notes: HashMap<String, Vec<String>>,
    /// Moved marks waiting to be republished, by URI key (see [`MOVED_MARKS_QUIET`]).
    moved: HashMap<String, HeldMarks>,
}

impl State {
    fn turn(&self, seq: u64) -> Option<&TurnRecord> {
        self.turns.iter().find(|t| t.seq == seq)
    }

    fn turn_mut(&mut self, seq: u64) -> Option<&mut TurnRecord> {
        self.turns.iter_mut().find(|t| t.seq == seq)
    }

    fn by_id(&self, turn_id: &str) -> Option<&TurnRecord> {
        self.turns.iter().find(|t| t.turn_id == turn_id)
    }

    fn mark_of(&self, id: HunkId, lines: Span<u32>) -> Option<ChangeMark> {
        let turn = self.turn(id.turn)?;
        let hunk = turn.files.get(id.file)?.record.hunks.get(id.hunk)?;
        let (added, removed) = hunk.counts();
        Some(ChangeMark {
            id: id.to_string(),
            thread_id: turn.thread_id.clone(),
            turn_id: turn.turn_id.clone(),
            turn: turn.number,
            prompt: turn.prompt.clone(),
            lines,
            added,
            removed,
            status: hunk.status,
        })
    }

    /// The hunks of `path` to mark (pending, of shown turns), located in `current` (the
    /// buffer, in its view) or, for a file not open, where the record says they are.
    fn locate(&self, path: &Path, current: Option<(&str, DiskView)>) -> Vec<Mark> {
        let mut marks = Vec::new();
        for turn in self.turns.iter().filter(|t| t.shown) {
            for (file, entry) in turn.files.iter().enumerate() {
                if entry.path != path {
                    continue;
                }
                let spans = match current {
                    Some((text, view)) => in_view(&entry.record, view).locate(text),
                    None => entry.record.spans_in_base_now(),
                };
                for (hunk, lines) in spans {
                    if entry.record.hunks[hunk].status == HunkStatus::Pending {
                        let id = HunkId {
                            turn: turn.seq,
                            file,
                            hunk,
                        };
                        marks.push(Mark { id, lines });
                    }
                }
            }
        }
        marks.sort_by_key(|m| (m.lines.start, m.lines.end));
        marks
    }
}

/// The agent's changes, per turn; its own lock (never held across an await).
#[derive(Default)]
pub(crate) struct ChangeLog {
    state: Mutex<State>,
    /// Held from reading the marks' statuses to sending them, so that of two publishes of a
    /// file's marks (a moved-marks task and a keep, say) the one computed last goes out last:
    /// a kept hunk's mark never comes back from a task that read it just before.
    publishing: Mutex<()>,
    /// Where the record is kept across restarts, and for which folder (set on first use).
    store: std::sync::OnceLock<Option<(PathBuf, PathBuf)>>,
}

impl ChangeLog {
    /// Loads the record kept for `folder` (once, on first use).
    fn load_once(&self, folder: impl FnOnce() -> Option<PathBuf>) {
        self.store.get_or_init(|| {
            let folder = folder()?;
            let file = store::path_for(&folder)?;
            let loaded = store::load(&file, &folder);
            let mut state = lock(&self.state);
            if state.turns.is_empty() {
                let notes = std::mem::take(&mut state.notes);
                *state = loaded;
                state.notes = notes;
            }
            Some((file, folder))
        });
    }

    /// Writes the record where it is kept (a failure is logged: it is a convenience).
    fn save(&self) {
        let Some(Some((file, folder))) = self.store.get() else {
            return;
        };
        let state = lock(&self.state);
        if let Err(e) = store::save(file, folder, &state) {
            tracing::warn!(file = %file.display(), "could not keep the record of changes: {e}");
        }
    }

    /// A turn started: numbered on its thread; with `keep`, earlier turns' marks go.
    /// Returns the files whose marks changed.
    fn turn_started(
        &self,
        thread_id: &str,
        turn_id: &str,
        prompt: Option<&str>,
        mode: ReviewChanges,
    ) -> Vec<PathBuf> {
        let mut state = lock(&self.state);
        if let Some(turn) = state.turns.iter_mut().find(|t| t.turn_id == turn_id) {
            if turn.prompt.is_empty() {
                turn.prompt = prompt.unwrap_or_default().to_string();
            }
            return Vec::new();
        }
        let mut cleared = Vec::new();
        if mode == ReviewChanges::Keep {
            for turn in state.turns.iter_mut().filter(|t| t.shown) {
                turn.shown = false;
                cleared.extend(turn.files.iter().map(|f| f.path.clone()));
            }
        }
        state.next_seq += 1;
        let seq = state.next_seq;
        let number = {
            let n = state
                .turns_per_thread
                .entry(thread_id.to_string())
                .or_default();
            *n += 1;
            *n
        };
        state.turns.push_back(TurnRecord {
            seq,
            number,
            thread_id: thread_id.to_string(),
            turn_id: turn_id.to_string(),
            prompt: prompt.unwrap_or_default().to_string(),
            files: Vec::new(),
            shown: true,
        });
        cleared.sort();
        cleared.dedup();
        cleared
    }

    /// Records that `turn_id` left `path` as `after`; `before` is the text before this
    /// change (the turn's first change of the file keeps its own). `None`: no file.
    fn record(&self, turn_id: &str, path: PathBuf, before: Option<String>, after: Option<String>) {
        let mut state = lock(&self.state);
        let Some(turn) = state.turns.iter_mut().find(|t| t.turn_id == turn_id) else {
            return;
        };
        match turn.files.iter_mut().find(|f| f.path == path) {
            Some(entry) => entry.record = FileRecord::new(entry.record.before.take(), after),
            None => turn.files.push(FileEntry {
                path,
                record: FileRecord::new(before, after),
            }),
        }
        // Oldest turns go first; the newest stays whatever its size.
        let mut total: usize = state.turns.iter().map(TurnRecord::bytes).sum();
        while total > MAX_RECORD_BYTES && state.turns.len() > 1 {
            if let Some(old) = state.turns.pop_front() {
                total -= old.bytes();
            }
        }
    }

    fn has_file(&self, turn_id: &str, path: &Path) -> bool {
        lock(&self.state)
            .by_id(turn_id)
            .is_some_and(|t| t.files.iter().any(|f| f.path == path))
    }
}

/// `record` with its texts as a buffer in `view` shows them (the hunks' decisions kept:
/// a BOM or line ends never change which lines a hunk has).
fn in_view(record: &FileRecord, view: DiskView) -> Cow<'_, FileRecord> {
    if !record.changed_by(|text| view.changes(text)) {
        // Borrowed: no copy of its two texts, nor a diff, on every re-anchoring and revert.
        return Cow::Borrowed(record);
    }
    let shown = |text: &Option<String>| {
        text.as_ref().map(|t| {
            view.read(t.clone().into_bytes())
                .unwrap_or_else(|_| t.clone())
        })
    };
    let mut out = FileRecord::new(shown(&record.before), shown(&record.after()));
    if out.hunks.len() == record.hunks.len() {
        for (new, old) in out.hunks.iter_mut().zip(&record.hunks) {
            new.status = old.status;
        }
    }
    Cow::Owned(out)
}

/// The text before a `fileChange` update, from the text it left and its unified diff;
/// `None` when the diff does not fit the text (changed again since).
fn text_before_diff(after: &str, diff: &str) -> Option<String> {
    let after_lines: Vec<&str> = after.split_inclusive('\n').collect();
    let eol = if after.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(after.len());
    let mut at = 0usize; // next line of `after` to copy
    let mut lines = diff.lines().peekable();
    let mut saw_hunk = false;
    while let Some(line) = lines.next() {
        let Some(header) = line.strip_prefix("@@ ") else {
            continue;
        };
        saw_hunk = true;
        // "@@ -a,b +c,d @@"
        let new_part = header.split_whitespace().nth(1)?.strip_prefix('+')?;
        let mut nums = new_part.split(',');
        let start: usize = nums.next()?.parse().ok()?;
        let count: usize = nums.next().map_or(Ok(1), str::parse).ok()?;
        let first = if count == 0 {
            start
        } else {
            start.checked_sub(1)?
        };
        if first < at || first > after_lines.len() {
            return None;
        }
        for copied in &after_lines[at..first] {
            out.push_str(copied);
        }
        at = first;
        // (old text of the line, whether the old line is terminated)
        let mut old: Vec<(String, bool)> = Vec::new();
        let mut last: Option<char> = None;
        while let Some(&body) = lines.peek() {
            if body.starts_with("@@ ") {
                break;
            }
            lines.next();
            let (tag, text) = body.split_at(body.len().min(1));
            match tag {
                " " | "+" => {
                    let have = after_lines.get(at)?;
                    if have.trim_end_matches(['\n', '\r']) != text {
                        return None;
                    }
                    at += 1;
                    if tag == " " {
                        old.push((text.to_string(), true));
                    }
                }
                "-" => old.push((text.to_string(), true)),
                "\\" => {
                    if matches!(last, Some(' ') | Some('-')) {
                        if let Some(l) = old.last_mut() {
                            l.1 = false;
                        }
                    }
                }
                _ => {}
            }
            if tag != "\\" {
                last = tag.chars().next();
            }
        }
        for (text, terminated) in old {
            out.push_str(&text);
            if terminated {
                out.push_str(eol);
            }
        }
    }
    if !saw_hunk {
        return None;
    }
    for copied in &after_lines[at.min(after_lines.len())..] {
        out.push_str(copied);
    }
    Some(out)
}

/// Reads a file as raw text: `Ok(None)` when it does not exist.
fn read_file(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| "it is not UTF-8 text".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Replaces `path` with `text` in one step (a file beside it, renamed over it), keeping its
/// permissions.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(file.path(), meta.permissions());
    }
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// What reverting one file's hunks came to.
enum Reverted {
    /// Done (or nothing was left to do).
    Done,
    /// Done in an open buffer by line replacements where its marks are: the marks left are
    /// where they are, with no need to place them again.
    AtMarks,
    /// The user's edits overlap: nothing changed; why, for the user.
    Conflict(String),
    /// In an open buffer, the user's edits overlap some hunks: the others were reverted
    /// (`some`: there were others), and each overlap is a conflict region in the buffer,
    /// resolved with its code actions; why, for the user.
    Marked { why: String, some: bool },
    /// The editor refused the edit because the buffer moved on (the user typed while it
    /// was computed): compute it again from the buffer as it is now.
    Stale,
}

/// How many times a revert is computed again when the user keeps typing under it.
const STALE_RETRIES: usize = 3;

impl Bridge {
    fn changes(&self) -> &ChangeLog {
        &self.inner.changes
    }

    /// Loads the record kept for the first workspace folder (once): at the server's start,
    /// at a turn's start and before a command reads it — never from the text sync alone,
    /// so a bridge driven without an app-server reads nothing outside its folders.
    pub(in crate::bridge) fn changes_load(&self) {
        self.inner
            .changes
            .load_once(|| self.folders().first().cloned());
    }

    /// The turn ended (after its buffers were mirrored): the record is kept.
    pub(in crate::bridge) fn changes_save(&self) {
        self.changes().save();
    }

    /// A turn started (ours or, on a shared app-server, another client's).
    pub(in crate::bridge) fn changes_turn_started(
        &self,
        thread_id: &str,
        turn_id: &str,
        prompt: Option<&str>,
    ) {
        self.changes_load();
        let mode = self.settings().review_changes;
        let cleared = self
            .changes()
            .turn_started(thread_id, turn_id, prompt, mode);
        for path in cleared {
            self.publish_changes(&path);
        }
    }

    /// What the agent is told at the start of its thread's next turn, taken.
    pub(in crate::bridge) fn changes_take_note(&self, thread_id: &str) -> Option<String> {
        let notes = lock(&self.changes().state).notes.remove(thread_id)?;
        Some(format!(
            "Note from the editor (codex-lsp): since your last turn the user reverted some of \
             your changes. Do not make them again unless asked.\n- {}",
            notes.join("\n- ")
        ))
    }

    /// A completed `fileChange` item: each file's text before and after, recorded.
    pub(in crate::bridge) fn changes_record_items(
        &self,
        turn_id: &str,
        changes: &[p::FileUpdateChange],
    ) {
        for change in changes {
            let path = normalize_path(Path::new(&change.path));
            match &change.kind {
                p::PatchChangeKind::Add => {
                    let after = read_file(&path).ok().flatten();
                    self.changes().record(turn_id, path.clone(), None, after);
                    self.publish_if_closed(&path);
                }
                p::PatchChangeKind::Delete => {
                    let before = self.before_from_buffer(&path).or(Some(change.diff.clone()));
                    self.changes().record(turn_id, path.clone(), before, None);
                    self.publish_if_closed(&path);
                }
                p::PatchChangeKind::Update { move_path } => {
                    let target = move_path
                        .as_deref()
                        .map(|m| normalize_path(Path::new(m)))
                        .unwrap_or_else(|| path.clone());
                    let Ok(Some(after)) = read_file(&target) else {
                        continue;
                    };
                    let before = text_before_diff(&after, &change.diff)
                        .or_else(|| self.before_from_buffer(&path));
                    let Some(before) = before else {
                        tracing::info!(path = %path.display(), "the text before the agent's change is unknown: not recorded");
                        continue;
                    };
                    if target == path {
                        self.changes()
                            .record(turn_id, path.clone(), Some(before), Some(after));
                    } else {
                        self.changes()
                            .record(turn_id, path.clone(), Some(before), None);
                        self.changes()
                            .record(turn_id, target.clone(), None, Some(after));
                        self.publish_if_closed(&target);
                    }
                    self.publish_if_closed(&path);
                }
                p::PatchChangeKind::Unknown(_) => {}
            }
        }
    }

    /// The turn ended and an open file changed under its buffer without a `fileChange`
    /// (a command the agent ran): recorded from the buffer's base, before the mirror.
    pub(in crate::bridge) fn changes_record_command(
        &self,
        turn_id: &str,
        path: &Path,
        before: Option<String>,
        after: String,
    ) {
        if !self.changes().has_file(turn_id, path) {
            self.changes()
                .record(turn_id, path.to_path_buf(), before, Some(after));
        }
    }

    /// What disk held under an open buffer of `path` (the mirror's base), when no diff says.
    fn before_from_buffer(&self, path: &Path) -> Option<String> {
        let docs = self.documents();
        let uri = docs.uris_of(path).into_iter().next()?;
        docs.mirror_snapshot(&uri)?.disk_text
    }

    fn publish_if_closed(&self, path: &Path) {
        if self.documents().uris_of(path).is_empty() {
            self.publish_changes(path);
        }
    }

    /// Forgets the conflicts of `uri` that a revert met whose change `settled` says.
    fn drop_revert_conflicts(&self, uri: &str, settled: impl Fn(&str) -> bool) {
        let conflicts = self.documents().conflicts(uri);
        let gone: Vec<u64> = conflicts
            .into_iter()
            .filter(|c| c.reverts.as_deref().is_some_and(&settled))
            .map(|c| c.id)
            .collect();
        if gone.is_empty() {
            return;
        }
        {
            let mut docs = self.documents();
            for id in gone {
                docs.remove_conflict(uri, id);
            }
        }
        self.publish_conflicts(uri);
    }

    /// A conflict a revert met was resolved: with "Revert anyway" the region took the text
    /// before the turn (an edit sent at `version`), so the change is reverted; with "Keep my
    /// text" it is kept (no longer marked; still undone with its turn).
    pub(in crate::bridge) async fn changes_conflict_resolved(
        &self,
        uri: &str,
        change: &str,
        choice: ConflictChoice,
        version: i32,
    ) {
        let Ok(id) = change.parse::<HunkId>() else {
            return;
        };
        let path = {
            let mut state = lock(&self.changes().state);
            let Some(entry) = state
                .turn_mut(id.turn)
                .and_then(|t| t.files.get_mut(id.file))
            else {
                return;
            };
            if let Some(hunk) = entry.record.hunks.get_mut(id.hunk) {
                hunk.status = match choice {
                    ConflictChoice::TakeCodex => HunkStatus::Reverted,
                    ConflictChoice::KeepMine => HunkStatus::Kept,
                };
            }
            entry.path.clone()
        };
        if choice == ConflictChoice::TakeCodex {
            // The marks are placed on the buffer holding the edit.
            self.wait_for_change(uri, version).await;
        }
        self.publish_changes(&path);
        self.changes().save();
    }

    /// Places the marks of an open document on its text as it is now (after the mirror
    /// settled it, at `didOpen`, after a revert) and publishes them.
    pub(in crate::bridge) fn changes_anchor(&self, uri: &str) {
        // Conflicts a revert met whose change is reverted (or gone) since: settled.
        self.drop_revert_conflicts(uri, |change| {
            let state = lock(&self.changes().state);
            change
                .parse::<HunkId>()
                .ok()
                .and_then(|id| {
                    let entry = state.turn(id.turn)?.files.get(id.file)?;
                    entry.record.hunks.get(id.hunk).map(|h| h.status)
                })
                .is_none_or(|status| status == HunkStatus::Reverted)
        });
        let Some(snapshot) = self.documents().mirror_snapshot(uri) else {
            return;
        };
        let marks = {
            let mut state = lock(&self.changes().state);
            let marks = state.locate(&snapshot.path, Some((&snapshot.text, snapshot.view)));
            let had = state.marks.contains_key(uri);
            if marks.is_empty() {
                state.marks.remove(uri);
                state.marked_at.remove(uri);
                if !had {
                    return;
                }
            } else {
                state.marks.insert(uri.to_string(), marks);
                state.marked_at.insert(uri.to_string(), snapshot.version);
            }
            state.marks.get(uri).cloned().unwrap_or_default()
        };
        self.publish_marks(uri, &snapshot.path, &marks);
    }

    /// Whether any document has marks (then `didChange` tracks lines for them).
    pub(in crate::bridge) fn changes_marked(&self) -> bool {
        !lock(&self.changes().state).marks.is_empty()
    }

    /// `didChange` to `version`: the document's marks follow its lines.
    pub(in crate::bridge) fn changes_follow(
        &self,
        uri: &str,
        version: i32,
        changes: &[LineChange],
    ) {
        let moved = {
            let mut state = lock(&self.changes().state);
            if let Some(at) = state.marked_at.get_mut(uri) {
                *at = version;
            }
            let Some(marks) = state.marks.get_mut(uri) else {
                return;
            };
            let before = marks.clone();
            for mark in marks.iter_mut() {
                for change in changes {
                    let deleted_lines = mark.lines.is_empty();
                    match follow_lines(&mark.lines, change) {
                        // A deletion's mark stays a point (follow_lines widens it to a line).
                        Some(lines) if deleted_lines => {
                            mark.lines = lines.start..lines.start;
                        }
                        Some(lines) => mark.lines = lines,
                        // The user rewrote every line of it: the mark sits where they are.
                        None => {
                            let at = change.range.start.line;
                            mark.lines = at..at + change.added_breaks.max(1);
                        }
                    }
                }
            }
            if *marks == before {
                return;
            }
            let now = Instant::now();
            if let Some(held) = state.moved.get_mut(uri) {
                // A task is waiting already; it publishes them once the typing pauses.
                held.last = now;
                None
            } else if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                state.moved.insert(
                    uri.to_string(),
                    HeldMarks {
                        since: now,
                        last: now,
                    },
                );
                let bridge = self.clone();
                let uri = uri.to_string();
                runtime.spawn(async move { bridge.publish_moved_marks_when_due(&uri).await });
                None
            } else {
                // No runtime to wait in: published now.
                state.marks.get(uri).cloned()
            }
        };
        if let Some(marks) = moved {
            self.publish_moved_marks(uri, &marks);
        }
    }

    /// Waits until `uri`'s moved marks are due (see [`HeldMarks::due`]), then publishes
    /// them as they are then.
    async fn publish_moved_marks_when_due(&self, uri: &str) {
        loop {
            let due = match lock(&self.changes().state).moved.get(uri) {
                Some(held) => held.due(),
                // Gone (kept, reverted, closed): whoever removed them published that.
                None => return,
            };
            // tokio's timers round up to the next millisecond: due within that is due.
            if due <= Instant::now() + Duration::from_millis(1) {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        let marks = {
            let mut state = lock(&self.changes().state);
            state.moved.remove(uri);
            state.marks.get(uri).cloned()
        };
        if let Some(marks) = marks {
            self.publish_moved_marks(uri, &marks);
        }
    }

    fn publish_moved_marks(&self, uri: &str, marks: &[Mark]) {
        let path = self.documents().get(uri).and_then(|d| d.path.clone());
        if let Some(path) = path {
            match self.inner.ui.pulls_diagnostics() {
                // The editor pulls the diagnostics after its change; what it draws from
                // `codex/changes` (signs, lenses) is only told.
                true => {
                    let _publishing = lock(&self.changes().publishing);
                    self.send_changes(uri, &path, self.change_marks(marks));
                }
                false => self.publish_marks(uri, &path, marks),
            }
        }
    }

    /// Republishes the marks of `path`: its open documents re-anchored, or the file's own.
    fn publish_changes(&self, path: &Path) {
        let uris = self.documents().uris_of(path);
        if !uris.is_empty() {
            for uri in uris {
                self.changes_anchor(&uri);
            }
            return;
        }
        let Some(uri) = self.inner.ui.path_to_uri(path) else {
            return;
        };
        let marks = lock(&self.changes().state).locate(path, None);
        self.publish_marks(&uri, path, &marks);
    }

    /// Republishes the marks of `path`'s open documents where they are (they followed
    /// every change), without placing them on the text again.
    fn publish_marks_of(&self, path: &Path) {
        let uris = self.documents().uris_of(path);
        for uri in uris {
            let marks = {
                let mut state = lock(&self.changes().state);
                let marks = state.marks.get(&uri).cloned().unwrap_or_default();
                if marks.is_empty() {
                    state.marks.remove(&uri);
                    state.marked_at.remove(&uri);
                }
                marks
            };
            self.publish_marks(&uri, path, &marks);
        }
    }

    fn publish_marks(&self, uri: &str, path: &Path, marks: &[Mark]) {
        let _publishing = lock(&self.changes().publishing);
        let hunks = self.change_marks(marks);
        self.set_diagnostics(
            uri,
            KIND,
            hunks.iter().map(ChangeMark::diagnostic).collect(),
        );
        self.send_changes(uri, path, hunks);
    }

    /// The marks as the editor is told them.
    fn change_marks(&self, marks: &[Mark]) -> Vec<ChangeMark> {
        let state = lock(&self.changes().state);
        marks
            .iter()
            .filter_map(|m| state.mark_of(m.id, m.lines.clone()))
            .collect()
    }

    /// `codex/changes` to an editor that draws them.
    fn send_changes(&self, uri: &str, path: &Path, hunks: Vec<ChangeMark>) {
        if self.inner.ui.wants_changes() {
            self.inner.ui.changes(ChangesUpdate {
                uri: self.documents().editor_uri(uri),
                path: path.to_path_buf(),
                hunks,
            });
        }
    }

    /// The marked hunks of `uri` whose lines meet `range` (for the code actions).
    pub fn changes_in(&self, uri: &str, range: Range) -> Vec<ChangeMark> {
        let state = lock(&self.changes().state);
        let Some(marks) = state.marks.get(uri) else {
            return Vec::new();
        };
        marks
            .iter()
            .filter(|m| {
                // A mark of deleted lines sits on the line after them.
                let first = m.lines.start;
                let last = m.lines.end.max(first + 1) - 1;
                range.start.line <= last && range.end.line >= first
            })
            .filter_map(|m| state.mark_of(m.id, m.lines.clone()))
            .collect()
    }

    /// `codex.listChanges`: every recorded turn, newest first, with its files and hunks.
    pub fn list_changes(&self) -> BridgeResult<Value> {
        self.changes_load();
        let state = lock(&self.changes().state);
        let turns: Vec<Value> = state
            .turns
            .iter()
            .rev()
            .filter(|t| !t.files.is_empty())
            .map(|turn| {
                let files: Vec<Value> = turn
                    .files
                    .iter()
                        .enumerate()
                    .filter(|(_, entry)| !entry.record.is_empty())
                    .map(|(file, entry)| {
                        let folder = self.workspace_of(Some(&entry.path));
                        let kind = match (&entry.record.before, entry.record.exists_after) {
                            (None, _) => "add",
                            (_, false) => "delete",
                            _ => "update",
                        };
                        let hunks: Vec<Value> = entry
                            .record
                            .hunks
                            .iter()
                            .enumerate()
                            .map(|(hunk, h)| {
                                let (added, removed) = h.counts();
                                json!({
                                    "id": HunkId { turn: turn.seq, file, hunk }.to_string(),
                                    "status": h.status,
                                    "beforeLines": [h.before.start, h.before.end],
                                    "afterLines": [h.after.start, h.after.end],
                                    "added": added,
                                    "removed": removed,
                                })
                            })
                            .collect();
                        json!({
                            "path": entry.path.display().to_string(),
                            "shown": display_path(&entry.path.display().to_string(), folder.as_deref()),
                            "uri": self.inner.ui.path_to_uri(&entry.path),
                            "kind": kind,
                            "hunks": hunks,
                        })
                    })
                    .collect();
                json!({
                    "threadId": turn.thread_id,
                    "turnId": turn.turn_id,
                    "turn": turn.number,
                    "prompt": turn.prompt,
                    "files": files,
                })
            })
            .collect();
        Ok(json!({ "turns": turns }))
    }

    /// `codex.changeBase`: the text of `path` before turn `turn_id` (what a diff view shows
    /// on its left), `null` when the turn created the file.
    pub fn change_base(&self, path: &Path, turn_id: &str) -> BridgeResult<Value> {
        self.changes_load();
        let state = lock(&self.changes().state);
        let turn = state.by_id(turn_id).ok_or_else(|| {
            BridgeError::InvalidParams(format!("no recorded changes of turn {turn_id}"))
        })?;
        let path = normalize_path(path);
        let entry = turn.files.iter().find(|f| f.path == path).ok_or_else(|| {
            BridgeError::InvalidParams(format!("turn {turn_id} changed no file {}", path.display()))
        })?;
        Ok(json!({ "before": entry.record.before, "turn": turn.number }))
    }

    /// The (turn seq, file, hunks or all) a scope names; hunks already reverted are skipped
    /// later.
    fn resolve_scope(&self, scope: &ChangeScope) -> BridgeResult<Vec<(u64, usize, Option<usize>)>> {
        self.changes_load();
        let state = lock(&self.changes().state);
        let picks = match scope {
            ChangeScope::Hunk(id) => {
                let parsed: HunkId = id.parse().map_err(|_| {
                    BridgeError::InvalidParams(format!(
                        "`{id}` is not a change id (turn:file:hunk)"
                    ))
                })?;
                let exists = state
                    .turn(parsed.turn)
                    .and_then(|t| t.files.get(parsed.file))
                    .is_some_and(|f| parsed.hunk < f.record.hunks.len());
                if !exists {
                    return Err(BridgeError::InvalidParams(format!(
                        "no change {id} (the record of its turn is gone?)"
                    )));
                }
                vec![(parsed.turn, parsed.file, Some(parsed.hunk))]
            }
            ChangeScope::File(path) => {
                let path = normalize_path(path);
                // Newest turn first: a later change is undone before the one under it.
                state
                    .turns
                    .iter()
                    .rev()
                    .flat_map(|t| {
                        t.files
                            .iter()
                            .enumerate()
                            .filter(|(_, f)| f.path == path)
                            .map(|(i, _)| (t.seq, i, None))
                    })
                    .collect()
            }
            ChangeScope::Turn(turn_id) => {
                let turn = match turn_id {
                    Some(id) => state.by_id(id).ok_or_else(|| {
                        BridgeError::InvalidParams(format!("no recorded changes of turn {id}"))
                    })?,
                    None => state
                        .turns
                        .iter()
                        .rev()
                        .find(|t| {
                            t.files.iter().any(|f| {
                                f.record
                                    .hunks
                                    .iter()
                                    .any(|h| h.status != HunkStatus::Reverted)
                            })
                        })
                        .ok_or_else(|| {
                            BridgeError::InvalidParams("no turn has changes left to undo".into())
                        })?,
                };
                (0..turn.files.len()).map(|i| (turn.seq, i, None)).collect()
            }
        };
        Ok(picks)
    }

    /// `codex.keepChange`: the hunks are kept (no longer marked; a turn's undo still
    /// undoes them).
    pub fn keep_changes(&self, scope: ChangeScope) -> BridgeResult<Value> {
        let picks = self.resolve_scope(&scope)?;
        let mut kept = Vec::new();
        let mut paths = Vec::new();
        {
            let mut state = lock(&self.changes().state);
            for (seq, file, hunk) in picks {
                let Some(entry) = state.turn_mut(seq).and_then(|t| t.files.get_mut(file)) else {
                    continue;
                };
                for (i, h) in entry.record.hunks.iter_mut().enumerate() {
                    if hunk.is_none_or(|only| only == i) && h.status == HunkStatus::Pending {
                        h.status = HunkStatus::Kept;
                        kept.push(
                            HunkId {
                                turn: seq,
                                file,
                                hunk: i,
                            }
                            .to_string(),
                        );
                    }
                }
                paths.push(entry.path.clone());
            }
        }
        paths.sort();
        paths.dedup();
        for path in &paths {
            // A conflict a revert of a kept change met is settled: the user's text stays.
            let uris = self.documents().uris_of(path);
            for uri in uris {
                self.drop_revert_conflicts(&uri, |change| kept.iter().any(|k| k == change));
            }
            self.publish_changes(path);
        }
        let kept = kept.len();
        self.changes().save();
        Ok(json!({ "kept": kept }))
    }

    /// `codex.revertChange`: puts the hunks back to the text before their turn, keeping
    /// the user's later edits; where they overlap, that file is left as it is and told.
    pub async fn revert_changes(&self, scope: ChangeScope) -> BridgeResult<Value> {
        let picks = self.resolve_scope(&scope)?;
        let mut reverted = Vec::new();
        let mut conflicts = Vec::new();
        let mut paths = Vec::new();
        let mut notes: HashMap<String, Vec<String>> = HashMap::new();
        // Files whose marks are placed on their text again (a diff), not only republished.
        let mut place_again = HashSet::new();
        for (seq, file, hunk) in picks {
            let Some((path, thread_id, number, prompt)) = ({
                let state = lock(&self.changes().state);
                state.turn(seq).and_then(|t| {
                    let f = t.files.get(file)?;
                    Some((
                        f.path.clone(),
                        t.thread_id.clone(),
                        t.number,
                        t.prompt.clone(),
                    ))
                })
            }) else {
                continue;
            };
            let shown = self.shown_path(&path);
            paths.push(path.clone());
            let mut outcome = self.revert_file(seq, file, hunk, &shown).await;
            for _ in 0..STALE_RETRIES {
                if !matches!(outcome, Ok(Reverted::Stale)) {
                    break;
                }
                outcome = self.revert_file(seq, file, hunk, &shown).await;
            }
            if !matches!(outcome, Ok(Reverted::AtMarks)) {
                place_again.insert(path.clone());
            }
            match outcome {
                Ok(Reverted::Stale) => conflicts.push(json!({
                    "path": path.display().to_string(),
                    "why": format!("{shown} kept changing while it was reverted; try again"),
                    "resolvable": false,
                })),
                Ok(Reverted::Done | Reverted::AtMarks) => {
                    reverted.push(json!({ "path": path.display().to_string(), "turn": number }));
                    notes.entry(thread_id).or_default().push(format!(
                        "{} of your change to {shown} in turn {number} (\"{}\")",
                        if hunk.is_some() { "one hunk" } else { "all" },
                        crate::bridge::one_line(&prompt, 60)
                    ));
                }
                Ok(Reverted::Marked { why, some }) => {
                    if some {
                        reverted
                            .push(json!({ "path": path.display().to_string(), "turn": number }));
                        notes.entry(thread_id).or_default().push(format!(
                            "part of your change to {shown} in turn {number} (\"{}\")",
                            crate::bridge::one_line(&prompt, 60)
                        ));
                    }
                    conflicts.push(json!({ "path": path.display().to_string(), "why": why, "resolvable": true }));
                }
                Ok(Reverted::Conflict(why)) | Err(why) => {
                    conflicts.push(json!({ "path": path.display().to_string(), "why": why, "resolvable": false }));
                }
            }
        }
        paths.sort();
        paths.dedup();
        for path in &paths {
            match place_again.contains(path) {
                true => self.publish_changes(path),
                false => self.publish_marks_of(path),
            }
        }
        self.changes().save();
        let whys = |resolvable: bool| -> Vec<String> {
            conflicts
                .iter()
                .filter(|c| c["resolvable"] == resolvable)
                .map(|c| c["why"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        let (marked, untouched) = (whys(true), whys(false));
        if !marked.is_empty() {
            self.inner.ui.show_message(
                MessageLevel::Warning,
                format!(
                    "Codex: not reverted where your edits overlap: {}. Your text is kept there \
                     (the rest is reverted); on the marked lines, the code action \"Codex: Keep \
                     my text\" or \"Codex: Revert anyway (take the pre-turn text)\" resolves it.",
                    marked.join("; ")
                ),
            );
        }
        if !untouched.is_empty() {
            self.inner.ui.show_message(
                MessageLevel::Warning,
                format!(
                    "Codex: not reverted, nothing changed there: {}.",
                    untouched.join("; ")
                ),
            );
        }
        Ok(json!({ "reverted": reverted, "conflicts": conflicts, "notes": notes }))
    }

    /// `codex.undoTurn`: reverts every change of the turn (kept ones too); when it was its
    /// thread's last turn and every file came back, the thread forgets it (`thread/revert`),
    /// else the agent is told at its next turn.
    pub async fn undo_turn(&self, turn_id: Option<&str>) -> BridgeResult<Value> {
        let scope = ChangeScope::Turn(turn_id.map(str::to_string));
        let picks = self.resolve_scope(&scope)?;
        let (thread_id, turn_id, last) = {
            let state = lock(&self.changes().state);
            let turn = picks
                .first()
                .and_then(|(seq, _, _)| state.turn(*seq))
                .or_else(|| turn_id.and_then(|id| state.by_id(id)))
                .ok_or_else(|| BridgeError::InvalidParams("no such turn".into()))?;
            let last = state
                .turns
                .iter()
                .rev()
                .find(|t| t.thread_id == turn.thread_id)
                .is_some_and(|t| t.seq == turn.seq);
            (turn.thread_id.clone(), turn.turn_id.clone(), last)
        };
        let mut answer = self.revert_changes(scope).await?;
        let clean = answer["conflicts"].as_array().is_none_or(Vec::is_empty);
        let running = self
            .inner
            .turns
            .first_where(|t| t.thread_id == thread_id)
            .is_some();
        let mut forgotten = false;
        if last && clean && !running && !thread_id.is_empty() {
            let params = p::ThreadRevertParams {
                thread_id: thread_id.clone(),
                before_turn_id: turn_id.clone(),
            };
            // The thread loaded first: after an app-server restart it is resumed by id.
            match self.thread_for(Some(&thread_id), false, None).await {
                Ok((codex, _)) => match codex.send(&params).await {
                    Ok(_) => forgotten = true,
                    Err(e) => tracing::warn!("thread/revert failed: {e}"),
                },
                Err(e) => tracing::warn!("thread/revert: the thread is not loaded: {e}"),
            }
        }
        let notes = answer
            .as_object_mut()
            .and_then(|o| o.remove("notes"))
            .unwrap_or_default();
        if !forgotten {
            if let Some(list) = notes.get(&thread_id).and_then(Value::as_array) {
                let mut state = lock(&self.changes().state);
                let pending = state.notes.entry(thread_id.clone()).or_default();
                pending.extend(list.iter().filter_map(|n| n.as_str().map(str::to_string)));
            }
        }
        answer["threadReverted"] = json!(forgotten);
        answer["turnId"] = json!(turn_id);
        Ok(answer)
    }

    /// `codex.revertChange`: reverts, and tells the agent at its next turn.
    pub async fn revert_and_tell(&self, scope: ChangeScope) -> BridgeResult<Value> {
        let mut answer = self.revert_changes(scope).await?;
        let notes = answer.as_object_mut().and_then(|o| o.remove("notes"));
        if let Some(notes) = notes.as_ref().and_then(Value::as_object) {
            let mut state = lock(&self.changes().state);
            for (thread, list) in notes {
                let pending = state.notes.entry(thread.clone()).or_default();
                pending.extend(
                    list.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|n| n.as_str().map(str::to_string)),
                );
            }
        }
        Ok(answer)
    }

    fn shown_path(&self, path: &Path) -> String {
        let folder = self.workspace_of(Some(path));
        display_path(&path.display().to_string(), folder.as_deref())
    }

    /// Reverts hunk `only` (else every hunk not reverted) of one file of one turn.
    async fn revert_file(
        &self,
        seq: u64,
        file: usize,
        only: Option<usize>,
        shown: &str,
    ) -> Result<Reverted, String> {
        let Some((path, record)) = ({
            let state = lock(&self.changes().state);
            state
                .turn(seq)
                .and_then(|t| t.files.get(file))
                .map(|f| (f.path.clone(), f.record.clone()))
        }) else {
            return Ok(Reverted::Done);
        };
        let chosen = |i: usize, h: &record::Hunk| {
            h.status != HunkStatus::Reverted && only.is_none_or(|o| o == i)
        };
        if !record.hunks.iter().enumerate().any(|(i, h)| chosen(i, h)) {
            return Ok(Reverted::Done);
        }
        // Marks the chosen hunks reverted, but those in `left` (overlapped by the user).
        let mark = |this: &Self, left: &[usize]| {
            let mut state = lock(&this.changes().state);
            if let Some(entry) = state.turn_mut(seq).and_then(|t| t.files.get_mut(file)) {
                entry
                    .record
                    .mark_reverted(|i, h| chosen(i, h) && !left.contains(&i));
            }
        };
        let uri = self.documents().uris_of(&path).into_iter().next();
        if let Some(uri) = uri.as_deref() {
            if let Some((version, edits)) = self.revert_at_marks(uri, seq, file, &record, chosen) {
                if let Some(not_done) = self.send_revert(uri, version, edits, shown).await? {
                    return Ok(not_done);
                }
                mark(self, &[]);
                {
                    let mut state = lock(&self.changes().state);
                    if let Some(marks) = state.marks.get_mut(uri) {
                        marks.retain(|m| {
                            m.id.turn != seq
                                || m.id.file != file
                                || !chosen(m.id.hunk, &record.hunks[m.id.hunk])
                        });
                    }
                }
                self.wait_for_change(uri, version).await;
                let echoed = self
                    .documents()
                    .get(uri)
                    .is_some_and(|d| d.document.version != version);
                // Without the echo the marks did not follow the edit: placed again.
                return Ok(if echoed {
                    Reverted::AtMarks
                } else {
                    Reverted::Done
                });
            }
        }
        let snapshot = uri
            .as_deref()
            .and_then(|u| self.documents().mirror_snapshot(u));
        // A file the turn created: removed, unless the user changed it since.
        if record.before.is_none() {
            let current = match &snapshot {
                Some(s) => Some(s.text.clone()),
                None => read_file(&path)?,
            };
            match current {
                None => {}
                Some(text)
                    if text
                        == in_view(
                            &record,
                            snapshot.as_ref().map_or_else(DiskView::default, |s| s.view),
                        )
                        .base_now() =>
                {
                    if path.exists() {
                        std::fs::remove_file(&path).map_err(|e| format!("{shown}: {e}"))?;
                    }
                    if snapshot.is_some() {
                        self.inner.ui.show_message(
                            MessageLevel::Info,
                            format!("Codex: removed {shown}, which the turn created; its buffer is still open."),
                        );
                    }
                }
                Some(_) => {
                    return Ok(Reverted::Conflict(format!(
                        "{shown} was created by the turn and changed since; it is kept"
                    )))
                }
            }
            mark(self, &[]);
            return Ok(Reverted::Done);
        }
        // A file the turn deleted (or moved away): written back.
        if !record.exists_after {
            match read_file(&path)? {
                None => write_atomically(&path, record.before_text())
                    .map_err(|e| format!("{shown}: {e}"))?,
                Some(now) if now == record.before_text() => {}
                Some(_) => {
                    return Ok(Reverted::Conflict(format!(
                        "{shown} was deleted by the turn and exists again with other text"
                    )))
                }
            }
            mark(self, &[]);
            return Ok(Reverted::Done);
        }
        match (uri, snapshot) {
            (Some(uri), Some(snapshot)) => {
                let mut record = in_view(&record, snapshot.view);
                let encoding = self.inner.encoding;
                let (mut merge, mut edits) = record.revert_edits(&snapshot.text, chosen, encoding);
                // The hunks the user's edits overlap (each tried on its own): left as the
                // user has them, as conflict regions; the others are reverted.
                let mut left = Vec::new();
                let mut why = String::new();
                if !merge.is_clean() {
                    left = (0..record.hunks.len())
                        .filter(|&i| {
                            chosen(i, &record.hunks[i])
                                && !record.revert(&snapshot.text, |j, _| j == i).is_clean()
                        })
                        .collect();
                    let rest = record.revert_edits(
                        &snapshot.text,
                        |i, h| chosen(i, h) && !left.contains(&i),
                        encoding,
                    );
                    if left.is_empty() || !rest.0.is_clean() {
                        return Ok(Reverted::Conflict(conflict_text(shown, &merge)));
                    }
                    why = conflict_text(shown, &merge);
                    (merge, edits) = rest;
                }
                let some = record
                    .hunks
                    .iter()
                    .enumerate()
                    .any(|(i, h)| chosen(i, h) && !left.contains(&i));
                if !edits.is_empty() {
                    if let Some(not_done) = self
                        .send_revert(&uri, snapshot.version, edits, shown)
                        .await?
                    {
                        return Ok(not_done);
                    }
                    mark(self, &left);
                    self.wait_for_change(&uri, snapshot.version).await;
                } else {
                    mark(self, &left);
                }
                if !left.is_empty() {
                    record
                        .to_mut()
                        .mark_reverted(|i, h| chosen(i, h) && !left.contains(&i));
                    let found: Vec<BufferConflict> = left
                        .iter()
                        .flat_map(|&hunk| {
                            let reverts = HunkId {
                                turn: seq,
                                file,
                                hunk,
                            }
                            .to_string();
                            record
                                .revert(&merge.text, |j, _| j == hunk)
                                .conflicts
                                .into_iter()
                                .map(move |c| BufferConflict {
                                    id: next_conflict_id(),
                                    lines: c.lines,
                                    ours: c.ours,
                                    theirs: c.theirs,
                                    reverts: Some(reverts.clone()),
                                })
                        })
                        .collect();
                    self.documents().add_conflicts(&uri, found, &merge.text);
                    self.publish_conflicts(&uri);
                    return Ok(Reverted::Marked { why, some });
                }
            }
            _ => {
                let Some(current) = read_file(&path)? else {
                    return Ok(Reverted::Conflict(format!("{shown} no longer exists")));
                };
                let merge = record.revert(&current, chosen);
                if !merge.is_clean() {
                    // No buffer to hold a conflict region: open the file and revert again.
                    return Ok(Reverted::Conflict(format!(
                        "{} (the file is not open: open it and revert again to resolve)",
                        conflict_text(shown, &merge)
                    )));
                }
                if merge.text != current {
                    write_atomically(&path, &merge.text).map_err(|e| format!("{shown}: {e}"))?;
                }
                mark(self, &[]);
            }
        }
        Ok(Reverted::Done)
    }

    /// [`FileRecord::revert_at_marks`] on the buffer `uri` as it is now, with the marks
    /// of file `file` of turn `seq`, when they were followed up to its current version and
    /// the record's texts read in the buffer as they are (no BOM or CRLF to translate):
    /// the buffer's version and the edits.
    fn revert_at_marks(
        &self,
        uri: &str,
        seq: u64,
        file: usize,
        record: &FileRecord,
        which: impl Fn(usize, &record::Hunk) -> bool,
    ) -> Option<(i32, Vec<TextEdit>)> {
        let (marked_at, marks) = {
            let state = lock(&self.changes().state);
            let marks: HashMap<usize, Span<u32>> = state
                .marks
                .get(uri)?
                .iter()
                .filter(|m| m.id.turn == seq && m.id.file == file)
                .map(|m| (m.id.hunk, m.lines.clone()))
                .collect();
            (*state.marked_at.get(uri)?, marks)
        };
        let (version, rope, view) = {
            let docs = self.documents();
            let doc = docs.get(uri)?;
            (
                doc.document.version,
                doc.document.rope().clone(),
                doc.view(),
            )
        };
        if version != marked_at || record.changed_by(|text| view.changes(text)) {
            return None;
        }
        let edits = record.revert_at_marks(&rope, &marks, which)?;
        Some((version, edits))
    }

    /// Sends a revert's edits to the buffer `uri` at `version`, as one undo step. `None`
    /// when applied; `Stale` when the editor refused it because the user typed meanwhile.
    async fn send_revert(
        &self,
        uri: &str,
        version: i32,
        edits: Vec<TextEdit>,
        shown: &str,
    ) -> Result<Option<Reverted>, String> {
        if edits.is_empty() {
            return Ok(None);
        }
        let edit = BufferEdit {
            uri: self.documents().editor_uri(uri),
            version,
            edits,
            label: format!("Codex: revert {shown}"),
            group: Some(("codex-revert".into(), "Codex: revert".into())),
        };
        match self.apply_buffer_edit(uri, edit).await {
            EditOutcome::Applied => Ok(None),
            EditOutcome::Rejected(why) => {
                // A versioned edit is refused when the buffer moved on; its didChange may
                // still be on its way.
                self.wait_for_change(uri, version).await;
                let moved = self
                    .documents()
                    .get(uri)
                    .is_some_and(|d| d.document.version != version);
                if moved {
                    return Ok(Some(Reverted::Stale));
                }
                Err(format!(
                    "{shown}: the editor refused the edit ({})",
                    why.unwrap_or_else(|| "the buffer changed".into())
                ))
            }
            EditOutcome::Failed(why) => Err(format!("{shown}: {why}")),
        }
    }

    /// Waits (briefly) for the `didChange` that carries an edit the editor applied.
    async fn wait_for_change(&self, uri: &str, version: i32) {
        let deadline = tokio::time::Instant::now() + ECHO_WAIT;
        loop {
            let changed = self.inner.documents.next_change();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.documents().get(uri) {
                Some(doc) if doc.document.version != version => return,
                None => return,
                Some(_) => {}
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return;
            }
        }
    }
}

/// "a.rs: your edits overlap lines 3–4" for a merge with conflicts.
fn conflict_text(shown: &str, merge: &crate::text::Merge) -> String {
    let lines: Vec<String> = merge
        .conflicts
        .iter()
        .map(|c| {
            if c.lines.len() <= 1 {
                format!("line {}", c.lines.start + 1)
            } else {
                format!("lines {}–{}", c.lines.start + 1, c.lines.end)
            }
        })
        .collect();
    format!(
        "{shown}: your edits overlap the change at {}",
        lines.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_before_an_update_comes_from_its_diff() {
        let after = "one\nTWO\nthree\nfour\nFIVE\n";
        let diff = "@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n@@ -5 +5 @@\n-five\n+FIVE\n";
        assert_eq!(
            text_before_diff(after, diff).as_deref(),
            Some("one\ntwo\nthree\nfour\nfive\n")
        );
        // Lines added only, and a diff that does not fit.
        assert_eq!(
            text_before_diff("a\nnew\nb\n", "@@ -1,2 +1,3 @@\n a\n+new\n b\n").as_deref(),
            Some("a\nb\n")
        );
        assert_eq!(text_before_diff("x\n", "@@ -1 +1 @@\n-a\n+b\n"), None);
        // No final newline on the old side.
        assert_eq!(
            text_before_diff(
                "a\nb\n",
                "@@ -1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n"
            )
            .as_deref(),
            Some("a")
        );
    }

    #[test]
    fn hunk_ids_round_trip() {
        let id = HunkId {
            turn: 3,
            file: 1,
            hunk: 7,
        };
        assert_eq!(id.to_string().parse::<HunkId>(), Ok(id));
        assert!("3:1".parse::<HunkId>().is_err());
    }
}
