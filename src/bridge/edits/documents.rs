//! The mirror of the editor's open documents, kept in step with `didOpen` / `didChange` /
//! `didSave` / `didClose` (applied in order by the LSP main loop), the unsaved content the
//! agent gets to see at turn start, and per document what the file on disk held and where
//! the agent's change collided with the user's unsaved edits.

use std::collections::HashMap;
use std::ops::Range as Span;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use ropey::Rope;

use crate::text::{Document, Position, PositionEncoding, Range, TextError};

/// Unsaved buffers sent with one turn, at most this many bytes in all.
pub const UNSAVED_CONTEXT_BUDGET: usize = 64 * 1024;

pub struct OpenDocument {
    pub document: Document,
    /// The file behind the document, when its URI is a `file:` URI.
    pub path: Option<PathBuf>,
    /// How the file's bytes compare with the buffer (see [`DiskView`]).
    pub crlf_as_lf: bool,
    pub language_id: String,
    pub last_changed: Instant,
    /// The file on disk that the buffer's unsaved edits are relative to: read at open, the
    /// buffer itself at save, the agent's version once mirrored. `None`: no such file. It is
    /// the base of the three-way merge that brings the agent's change into the buffer.
    /// Whenever it reads as the buffer it is a clone of the buffer's rope, which shares its
    /// nodes: an unedited buffer's base costs next to nothing, and typing copies only the
    /// chunks it touches (see [`shared_base`]).
    base: Option<Rope>,
    /// Regions where the agent's change collided with the user's unsaved edits.
    pub conflicts: Vec<BufferConflict>,
    /// The file's length and modification time when it last read exactly as the base:
    /// while it shows them, following disk compares the buffer with the base in memory
    /// instead of reading the file on every keystroke that leaves the buffer its size.
    pub disk_stamp: Option<DiskStamp>,
    /// The chars of the buffer that may differ from the base: before this span the buffer
    /// reads as the base's start, after it as the base's end. Widened by each change, reset
    /// when the buffer is found to read as the base; so telling whether a buffer typed back
    /// to its base's length reads as the base compares only what was typed since, not the
    /// whole file on every keystroke. `None`: not known, compare everything.
    base_diff: Option<Span<usize>>,
    /// A `didChange` came with a version not above the one before (Helix 25.01 can send two
    /// keystrokes' changes out of order): (that version, the one before). The copy may then
    /// differ from the buffer, so no edit is computed on it until a full-text change or a
    /// new `didOpen` brings it back in step.
    pub out_of_order: Option<(i32, i32)>,
}

/// A file's length and modification time.
pub type DiskStamp = (u64, SystemTime);

/// A region of the buffer where the agent changed lines the user had changed too. The
/// buffer keeps `ours`; `theirs` is what the agent wrote (and disk holds).
#[derive(Debug, Clone, PartialEq)]
pub struct BufferConflict {
    pub id: u64,
    /// The buffer's lines holding `ours`, half-open; kept in step with `didChange`.
    pub lines: Span<u32>,
    pub ours: String,
    pub theirs: String,
    /// The agent's change (its hunk id) whose revert this region stands in the way of:
    /// `theirs` is then the text before the turn. `None`: the mirror's conflict, `theirs`
    /// the agent's text.
    pub reverts: Option<String>,
}

impl BufferConflict {
    pub fn range(&self) -> Range {
        Range::new(
            Position::new(self.lines.start, 0),
            Position::new(self.lines.end, 0),
        )
    }

    fn overlaps(&self, other: &Span<u32>) -> bool {
        self.lines.start < other.end.max(other.start + 1)
            && other.start < self.lines.end.max(self.lines.start + 1)
    }
}

/// What the mirror needs of one open document to merge the agent's change into it.
#[derive(Debug, Clone)]
pub struct MirrorSnapshot {
    pub version: i32,
    pub text: String,
    pub path: PathBuf,
    pub disk_text: Option<String>,
    pub view: DiskView,
}

/// The UTF-8 byte-order mark. Editors do not show it: they open such a file without it in
/// the buffer (and keep it when they save).
pub const BOM: char = '\u{FEFF}';

/// How the file's bytes look in the editor's buffer, so that an untouched buffer compares
/// equal to its file: a BOM the buffer does not hold is dropped, and for an editor that
/// turned the file's CRLF line ends into LF in its buffer (Emacs does), CRLF reads as LF.
/// Every comparison of a buffer with disk, and every merge base, is in these terms; the
/// file itself is never rewritten by codex-lsp (the editor saves it, BOM and line ends as
/// it found them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskView {
    /// The buffer holds no BOM: a leading BOM on disk is not text the user sees.
    pub strip_bom: bool,
    /// The editor normalised CRLF to LF in the buffer.
    pub crlf_as_lf: bool,
}

impl DiskView {
    /// The view for an editor buffer holding `buffer` (whose CRLF handling is `crlf_as_lf`).
    pub fn of(buffer_starts_with_bom: bool, crlf_as_lf: bool) -> Self {
        Self {
            strip_bom: !buffer_starts_with_bom,
            crlf_as_lf,
        }
    }

    /// The file's bytes as the buffer would hold them; `Err` when they are not UTF-8.
    pub fn read(self, bytes: Vec<u8>) -> Result<String, std::string::FromUtf8Error> {
        let mut text = String::from_utf8(bytes)?;
        if self.strip_bom && text.starts_with(BOM) {
            text.drain(..BOM.len_utf8());
        }
        if self.crlf_as_lf && text.contains("\r\n") {
            text = text.replace("\r\n", "\n");
        }
        Ok(text)
    }

    /// Whether reading `text` in this view changes it (a BOM stripped, CRLF made LF).
    pub fn changes(self, text: &str) -> bool {
        (self.strip_bom && text.starts_with(BOM)) || (self.crlf_as_lf && text.contains("\r\n"))
    }

    /// Whether a file of `disk_len` bytes could read as a buffer of `buffer_len` bytes
    /// holding `line_breaks` line breaks (a cheap test before reading the file).
    fn could_equal(self, disk_len: u64, buffer_len: usize, line_breaks: usize) -> bool {
        let mut expected = buffer_len as u64;
        if self.crlf_as_lf {
            expected += line_breaks as u64;
        }
        disk_len == expected || (self.strip_bom && disk_len == expected + 3)
    }
}

/// Whether an editor normalises line ends: the file has CRLF, the buffer it opened has none.
pub fn editor_normalised_crlf(disk: &[u8], buffer: &str) -> bool {
    !buffer.contains('\r') && disk.windows(2).any(|w| w == b"\r\n")
}

#[derive(Default)]
pub struct Documents {
    open: HashMap<String, OpenDocument>,
    /// How the editor spelled each document's URI in its `didOpen`, by key (the URI parsed
    /// and re-serialised, which may differ: `file://localhost/…`, `…/sub/../…`, escapes):
    /// what codex-lsp addresses it by. Kept after it closes, for diagnostics that outlive
    /// the buffer.
    spellings: HashMap<String, String>,
}

/// One unsaved buffer for the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsavedBuffer {
    pub path: PathBuf,
    pub text: String,
}

impl OpenDocument {
    pub fn view(&self) -> DiskView {
        DiskView::of(
            self.document.rope().chars().next() == Some(BOM),
            self.crlf_as_lf,
        )
    }

    /// The merge base (what disk held under the buffer), if there is a file.
    pub fn base(&self) -> Option<&Rope> {
        self.base.as_ref()
    }

    /// Makes `disk` (`None`: no file) the merge base, sharing the buffer's rope when they
    /// read alike.
    fn set_base(&mut self, disk: Option<&str>) {
        self.base = disk.map(|disk| shared_base(self.document.rope(), disk));
        self.base_diff = None;
        if self
            .base
            .as_ref()
            .is_some_and(|b| b.is_instance(self.document.rope()))
        {
            self.based_on_buffer();
        }
    }

    /// The base is now a clone of the buffer's rope.
    fn based_on_buffer(&mut self) {
        self.base = Some(self.document.rope().clone());
        self.base_diff = Some(0..0);
    }

    /// Whether the buffer reads as the base, comparing only [`OpenDocument::base_diff`]
    /// when it is known; remembers a `true`.
    fn reads_as_base(&mut self) -> bool {
        let Some(base) = &self.base else {
            return false;
        };
        let rope = self.document.rope();
        let equal = match &self.base_diff {
            Some(span) if rope.len_chars() == base.len_chars() && span.end <= rope.len_chars() => {
                rope.slice(span.clone()) == base.slice(span.clone())
            }
            Some(_) => false,
            None => rope == base,
        };
        if equal {
            self.base_diff = Some(0..0);
        }
        equal
    }

    /// Widens [`OpenDocument::base_diff`] for a change about to replace the chars
    /// `start..end` with `inserted` chars.
    fn widen_base_diff(&mut self, start: usize, end: usize, inserted: usize) {
        let reads_as_base = self
            .base
            .as_ref()
            .is_some_and(|b| b.len_chars() == self.document.len_chars());
        if let Some(span) = &mut self.base_diff {
            *span = if span.start == span.end && reads_as_base {
                start..start + inserted
            } else {
                let after = if span.end > end {
                    span.end - (end - start) + inserted
                } else {
                    start + inserted
                };
                span.start.min(start)..after
            };
        }
    }
}

/// `disk` as a merge base beside the buffer `buffer`: when they read alike, a clone of the
/// buffer's rope (ropey clones share nodes, copied only where one of them is edited), else
/// a rope of its own. One open document then costs about its text once, not twice.
fn shared_base(buffer: &Rope, disk: &str) -> Rope {
    if buffer == disk {
        buffer.clone()
    } else {
        Rope::from_str(disk)
    }
}

impl Documents {
    /// Opens a document; `disk_text` is the file's content now (`None`: no such file).
    pub fn open(
        &mut self,
        uri: String,
        path: Option<PathBuf>,
        language_id: String,
        version: i32,
        text: &str,
        disk_text: Option<String>,
    ) {
        let editor_uri = uri.clone();
        self.open_as(
            uri,
            editor_uri,
            path,
            language_id,
            version,
            text,
            disk_text,
            false,
        );
    }

    /// [`Documents::open`] under `key`, addressed as `editor_uri`; `disk_text` is read in
    /// the document's [`DiskView`] (`crlf_as_lf` being its line-end part).
    #[allow(clippy::too_many_arguments)]
    pub fn open_as(
        &mut self,
        key: String,
        editor_uri: String,
        path: Option<PathBuf>,
        language_id: String,
        version: i32,
        text: &str,
        disk_text: Option<String>,
        crlf_as_lf: bool,
    ) {
        self.spellings.insert(key.clone(), editor_uri);
        let mut doc = OpenDocument {
            document: Document::new(text, version),
            path,
            crlf_as_lf,
            language_id,
            last_changed: Instant::now(),
            base: None,
            conflicts: Vec::new(),
            disk_stamp: None,
            base_diff: None,
            out_of_order: None,
        };
        doc.set_base(disk_text.as_deref());
        self.open.insert(key, doc);
    }

    /// The file behind `key` had `stamp` when it was read for the merge base at open (the
    /// stamp taken before the read: a write in between leaves a later time, so it reads
    /// again). Lets following disk and finding unsaved buffers skip reading it.
    pub fn stamp_opened(&mut self, key: &str, stamp: DiskStamp) {
        if let Some(doc) = self.open.get_mut(key).filter(|d| d.base.is_some()) {
            doc.disk_stamp = Some(stamp);
        }
    }

    /// Applies one `didChange`, moving conflict regions with the lines around them.
    /// Returns whether a conflict region moved or was dropped (its diagnostics are then
    /// stale). An unknown document or a change that does not fit is an error; the caller
    /// logs it (the editor will resend the text on its next open).
    pub fn change(
        &mut self,
        uri: &str,
        version: i32,
        changes: impl IntoIterator<Item = (Option<Range>, String)>,
        encoding: PositionEncoding,
    ) -> Result<bool, String> {
        self.change_tracking_lines(uri, version, changes, encoding, false)
            .map(|(moved, _)| moved)
    }

    /// [`Documents::change`], also returning the changes in line terms when `track_lines`
    /// (for marks that follow lines, [`follow_lines`]); a whole-text change becomes the
    /// minimal line edits between the old and the new text.
    pub fn change_tracking_lines(
        &mut self,
        uri: &str,
        version: i32,
        changes: impl IntoIterator<Item = (Option<Range>, String)>,
        encoding: PositionEncoding,
        track_lines: bool,
    ) -> Result<(bool, Vec<LineChange>), String> {
        let doc = self
            .open
            .get_mut(uri)
            .ok_or_else(|| format!("didChange for a document that is not open: {uri}"))?;
        // All or nothing: a change that does not apply leaves the document as it was, so
        // codex-lsp never merges the agent's edits into a half-applied copy.
        let (saved_document, saved_conflicts) = (doc.document.clone(), doc.conflicts.clone());
        let saved_base_diff = doc.base_diff.clone();
        let mut changes = changes.into_iter().peekable();
        let resyncs = changes.peek().is_some_and(|(range, _)| range.is_none());
        let result = Self::apply_changes(doc, uri, changes, encoding, track_lines);
        match result {
            Ok(changed) => {
                let previous = doc.document.version;
                if resyncs {
                    doc.out_of_order = None;
                    doc.document.version = version;
                } else if version <= previous {
                    doc.out_of_order = Some((version, previous));
                    // The editor's buffer is at the newest version it sent: an edit sent at
                    // the older one would be refused as outdated for as long as the user
                    // does not type (the transcript's updates, which go on being sent).
                } else {
                    doc.document.version = version;
                }
                doc.last_changed = Instant::now();
                Ok(changed)
            }
            Err(e) => {
                doc.document = saved_document;
                doc.conflicts = saved_conflicts;
                doc.base_diff = saved_base_diff;
                Err(e)
            }
        }
    }

    fn apply_changes(
        doc: &mut OpenDocument,
        uri: &str,
        changes: impl IntoIterator<Item = (Option<Range>, String)>,
        encoding: PositionEncoding,
        track_lines: bool,
    ) -> Result<(bool, Vec<LineChange>), String> {
        let mut conflicts_moved = false;
        let mut line_changes = Vec::new();
        for (range, text) in changes {
            // A character past a line's end clamps (the spec says so), but a line the
            // document does not have means the editor's buffer and ours already differ.
            if let Some(range) = range {
                let lines = doc.document.len_lines();
                if beyond_end(range, lines) {
                    return Err(format!(
                        "didChange for {uri} does not apply: range {range} is beyond the end \
                         of the document ({lines} lines); the change was ignored, so codex-lsp's \
                         copy of the document may now differ from the editor's (close and \
                         reopen it to resync)"
                    ));
                }
            }
            let before = (track_lines && range.is_none()).then(|| doc.document.text());
            match range.map(|r| doc.document.range_to_chars(r, encoding)) {
                Some(Ok((start, end))) => doc.widen_base_diff(start, end, text.chars().count()),
                // Does not apply: the error follows.
                Some(Err(_)) => {}
                None => doc.base_diff = None,
            }
            doc.document
                .apply_change(range, &text, encoding)
                .map_err(|e: TextError| {
                    format!(
                        "didChange for {uri} does not apply: {e}; the change was ignored, so \
                         codex-lsp's copy of the document may now differ from the editor's \
                         (close and reopen it to resync)"
                    )
                })?;
            if track_lines {
                match (range, before) {
                    (Some(range), _) => line_changes.push(LineChange {
                        range,
                        added_breaks: line_breaks(&text),
                    }),
                    (None, Some(before)) => {
                        let after = doc.document.text();
                        // Bottom-up, so each edit's position is still valid when it applies.
                        let edits = crate::text::edits_between(&before, &after, encoding);
                        line_changes.extend(edits.into_iter().rev().map(|e| LineChange {
                            range: e.range,
                            added_breaks: line_breaks(&e.new_text),
                        }));
                    }
                    (None, None) => {}
                }
            }
            if !doc.conflicts.is_empty() {
                conflicts_moved |= match range {
                    Some(range) => shift_conflicts(&mut doc.conflicts, range, &text),
                    None => relocate_conflicts(&mut doc.conflicts, &doc.document.text()),
                };
            }
        }
        Ok((conflicts_moved, line_changes))
    }

    /// `didSave`: the file on disk now holds the buffer.
    pub fn saved(&mut self, uri: &str) {
        if let Some(doc) = self.open.get_mut(uri) {
            doc.based_on_buffer();
            doc.disk_stamp = None;
        }
    }

    /// The open documents of the file `path` (one file may be open under two URIs).
    pub fn uris_of(&self, path: &Path) -> Vec<String> {
        self.open
            .iter()
            .filter(|(_, d)| d.path.as_deref() == Some(path))
            .map(|(uri, _)| uri.clone())
            .collect()
    }

    /// Every open document backed by a file, with what disk held when we last looked (a
    /// rope clone: no copy of the text) and how to read disk for it.
    pub fn files(&self) -> Vec<(String, PathBuf, Option<Rope>, DiskView)> {
        self.open
            .iter()
            .filter_map(|(uri, d)| Some((uri.clone(), d.path.clone()?, d.base.clone(), d.view())))
            .collect()
    }

    pub fn mirror_snapshot(&self, uri: &str) -> Option<MirrorSnapshot> {
        let doc = self.open.get(uri)?;
        Some(MirrorSnapshot {
            version: doc.document.version,
            text: doc.document.text(),
            path: doc.path.clone()?,
            disk_text: doc.base.as_ref().map(Rope::to_string),
            view: doc.view(),
        })
    }

    /// Why codex-lsp's copy of `uri` cannot be trusted for an edit, if it cannot (see
    /// [`OpenDocument::out_of_order`]).
    pub fn untrusted(&self, uri: &str) -> Option<String> {
        let doc = self.open.get(uri)?;
        let (version, previous) = doc.out_of_order?;
        let shown = doc
            .path
            .as_deref()
            .and_then(|p| p.file_name())
            .map_or_else(|| uri.to_string(), |n| n.to_string_lossy().into_owned());
        Some(format!(
            "codex-lsp's copy of {shown} may differ from your buffer: the editor sent its changes \
             out of order (version {version} after {previous}). Nothing was changed; close and \
             reopen the file, then try again"
        ))
    }

    /// The URI to address the editor with about `uri` (a key): its own spelling of it.
    pub fn editor_uri(&self, uri: &str) -> String {
        self.spellings
            .get(uri)
            .cloned()
            .unwrap_or_else(|| uri.to_string())
    }

    /// If the buffer reads exactly as `disk` (the file, in the document's view), the
    /// merge base follows, whatever it was (the editor reloaded the file, say), and no
    /// conflict is left (there are no unsaved edits). Returns whether conflicts went.
    pub fn rebase_if_equal(&mut self, uri: &str, disk: String) -> bool {
        self.rebase_if_equal_stamped(uri, disk, None)
    }

    /// [`Documents::rebase_if_equal`] with the file's `stamp` when it was read: a file that
    /// read as the merge base is stamped, so that [`Documents::rebase_if_base`] can stand in
    /// for the next read while the file keeps that stamp.
    pub fn rebase_if_equal_stamped(
        &mut self,
        uri: &str,
        disk: String,
        stamp: Option<DiskStamp>,
    ) -> bool {
        let Some(doc) = self.open.get_mut(uri) else {
            return false;
        };
        doc.disk_stamp = stamp.filter(|_| doc.base.as_ref().is_some_and(|b| b == disk.as_str()));
        // Compared chunk by chunk: no copy of the buffer.
        if doc.document.rope() != disk.as_str() {
            return false;
        }
        doc.based_on_buffer();
        doc.disk_stamp = stamp;
        let had_conflicts = !doc.conflicts.is_empty();
        doc.conflicts.clear();
        had_conflicts
    }

    /// When the file behind `uri` still shows `stamp`, the one it had when it last read as
    /// the merge base: whether the buffer now reads as the base (it is then what disk holds:
    /// conflicts are cleared, and whether there were any is returned as for
    /// [`Documents::rebase_if_equal`]). `None`: the file may have changed, read it.
    pub fn rebase_if_base(&mut self, uri: &str, stamp: DiskStamp) -> Option<bool> {
        let doc = self.open.get_mut(uri)?;
        if doc.disk_stamp != Some(stamp) {
            return None;
        }
        doc.base.as_ref()?;
        if !doc.reads_as_base() {
            return Some(false);
        }
        let had_conflicts = !doc.conflicts.is_empty();
        doc.conflicts.clear();
        Some(had_conflicts)
    }

    /// The buffer now stands on `disk_text`: the agent's change is in it, or the file went away.
    pub fn set_disk_text(&mut self, uri: &str, disk_text: Option<String>) {
        if let Some(doc) = self.open.get_mut(uri) {
            doc.set_base(disk_text.as_deref());
            doc.disk_stamp = None;
        }
    }

    /// Adds conflicts found by a merge; an older conflict on the same lines is replaced.
    /// `merged` is the text their lines are in: when the buffer moved on since, they are
    /// found again by their text (or dropped when that is gone or ambiguous).
    pub fn add_conflicts(&mut self, uri: &str, mut conflicts: Vec<BufferConflict>, merged: &str) {
        if let Some(doc) = self.open.get_mut(uri) {
            let now = doc.document.text();
            if now != merged {
                relocate_conflicts(&mut conflicts, &now);
            }
            doc.conflicts
                .retain(|old| !conflicts.iter().any(|new| old.overlaps(&new.lines)));
            doc.conflicts.extend(conflicts);
            doc.conflicts.sort_by_key(|c| c.lines.start);
        }
    }

    pub fn conflicts(&self, uri: &str) -> Vec<BufferConflict> {
        self.open
            .get(uri)
            .map(|d| d.conflicts.clone())
            .unwrap_or_default()
    }

    /// Forgets a conflict; returns it if it was there.
    pub fn remove_conflict(&mut self, uri: &str, id: u64) -> Option<BufferConflict> {
        let doc = self.open.get_mut(uri)?;
        let index = doc.conflicts.iter().position(|c| c.id == id)?;
        Some(doc.conflicts.remove(index))
    }

    pub fn close(&mut self, uri: &str) {
        self.open.remove(uri);
    }

    pub fn get(&self, uri: &str) -> Option<&OpenDocument> {
        self.open.get(uri)
    }

    pub fn is_open(&self, uri: &str) -> bool {
        self.open.contains_key(uri)
    }

    /// The text `range` covers in the open document `uri`.
    pub fn text_in(
        &self,
        uri: &str,
        range: Range,
        encoding: PositionEncoding,
    ) -> Result<String, String> {
        let doc = self
            .get(uri)
            .ok_or_else(|| format!("document is not open: {uri}"))?;
        let lines = doc.document.len_lines();
        if beyond_end(range, lines) {
            return Err(format!(
                "range {range} is beyond the end of {uri} ({lines} lines)"
            ));
        }
        let (start, end) = doc
            .document
            .range_to_chars(range, encoding)
            .map_err(|e| format!("range {range} does not fit {uri}: {e}"))?;
        Ok(doc.document.rope().slice(start..end).to_string())
    }

    /// Open documents that may differ from the file on disk: the one at `first` first,
    /// then the most recently changed. Rope clones (no copy of any text) with the file's
    /// stamp when the buffer reads as what the file held under it (told from the span typed
    /// since, [`OpenDocument::reads_as_base`]), so that the caller checks them without the
    /// lock, reading only the files not vouched for (see
    /// [`UnsavedCandidate::differs_from_disk`]).
    pub fn candidates_for_unsaved(&mut self, first: Option<&str>) -> Vec<UnsavedCandidate> {
        let mut docs: Vec<(&String, &mut OpenDocument)> = self
            .open
            .iter_mut()
            .filter(|(_, d)| d.path.is_some())
            .collect();
        docs.sort_by(|(ua, a), (ub, b)| {
            let a_first = Some(ua.as_str()) == first;
            let b_first = Some(ub.as_str()) == first;
            b_first
                .cmp(&a_first)
                .then(b.last_changed.cmp(&a.last_changed))
        });
        docs.into_iter()
            .map(|(_, d)| UnsavedCandidate {
                path: d.path.clone().expect("filtered"),
                text: d.document.rope().clone(),
                clean_while: d.disk_stamp.filter(|_| d.reads_as_base()),
            })
            .collect()
    }
}

/// An open document that may hold unsaved edits: its text as a rope clone (sharing the
/// buffer's nodes), and the stamp under which its file holds that text, when known.
pub struct UnsavedCandidate {
    pub path: PathBuf,
    pub text: Rope,
    clean_while: Option<DiskStamp>,
}

impl UnsavedCandidate {
    /// Whether the buffer differs from the file on disk as the editor shows it. A file
    /// that still has the stamp it had when it read as the base, under a buffer that reads
    /// as the base, is not read again: asking with a thousand clean buffers open reads no
    /// file and copies no text.
    pub fn differs_from_disk(&self) -> bool {
        if self.clean_while.is_some() && file_stamp(&self.path) == self.clean_while {
            return false;
        }
        rope_differs_from_disk(&self.path, &self.text)
    }
}

/// A file's length and modification time, if it is there.
fn file_stamp(path: &Path) -> Option<DiskStamp> {
    stamp_of(&std::fs::metadata(path).ok()?)
}

fn stamp_of(meta: &std::fs::Metadata) -> Option<DiskStamp> {
    Some((meta.len(), meta.modified().ok()?))
}

/// Text sync from the editor, applied in order by the LSP main loop.
impl crate::bridge::Bridge {
    /// Sends `edit` for the open document `uri` (a key) — unless codex-lsp's copy of it may
    /// differ from the buffer, where an edit computed on it could land in the wrong place:
    /// then nothing is sent, and the outcome says why.
    pub(in crate::bridge) async fn apply_buffer_edit(
        &self,
        uri: &str,
        edit: crate::bridge::editor_ui::BufferEdit,
    ) -> crate::bridge::editor_ui::EditOutcome {
        let untrusted = self.documents().untrusted(uri);
        match untrusted {
            Some(why) => crate::bridge::editor_ui::EditOutcome::Failed(why),
            None => self.inner.ui.apply_edit(edit).await,
        }
    }

    /// `didOpen`: mirrors the buffer and notes what the file on disk holds under it, as
    /// the editor shows it (see [`DiskView`]). `uri` is the key (the URI parsed);
    /// `editor_uri` the editor's own spelling, which every message about it uses.
    pub fn did_open(
        &self,
        uri: String,
        editor_uri: String,
        path: Option<PathBuf>,
        language_id: String,
        version: i32,
        text: &str,
    ) {
        // A transcript document is no workspace file: no path, so the mirror, the unsaved
        // buffers sent as context and the review never take it for one.
        let transcript_path = path.clone();
        let path = self.chat_path_filter(path).map(|p| normalize_path(&p));
        // A small synchronous read: the merge base must be what disk held when the buffer
        // was loaded, before any later write by the agent.
        let stamp = path.as_deref().and_then(file_stamp);
        let bytes = path.as_deref().and_then(|p| std::fs::read(p).ok());
        let crlf_as_lf = bytes
            .as_deref()
            .is_some_and(|b| editor_normalised_crlf(b, text));
        let view = DiskView::of(text.starts_with(BOM), crlf_as_lf);
        let disk_text = bytes.and_then(|b| view.read(b).ok());
        let transcript = path.is_none().then(|| uri.clone());
        let uri_key = uri.clone();
        let mut documents = self.documents();
        documents.open_as(
            uri,
            editor_uri,
            path,
            language_id,
            version,
            text,
            disk_text,
            crlf_as_lf,
        );
        if let Some(stamp) = stamp {
            documents.stamp_opened(&uri_key, stamp);
        }
        drop(documents);
        if let Some(key) = transcript {
            self.chat_did_open(&key, transcript_path.as_deref());
        }
        self.changes_anchor(&uri_key);
    }

    /// `didChange`; wakes the mirror, which may be waiting for the echo of its edit.
    pub fn did_change(
        &self,
        uri: &str,
        version: i32,
        changes: impl IntoIterator<Item = (Option<Range>, String)>,
    ) -> Result<(), String> {
        let encoding = self.encoding();
        let track_lines = self.has_findings() || self.changes_marked();
        let (outcome, path, previous) = {
            let mut docs = self.documents();
            let previous = docs.get(uri).map(|d| d.document.version);
            let outcome = docs.change_tracking_lines(uri, version, changes, encoding, track_lines);
            (
                outcome,
                docs.get(uri).and_then(|d| d.path.clone()),
                previous,
            )
        };
        if outcome.is_ok() {
            self.follow_disk(uri);
        }
        self.inner.documents.changed();
        if path.is_none() {
            self.chat_did_change(uri);
        }
        let (conflicts_moved, line_changes) = outcome?;
        if conflicts_moved {
            self.publish_conflicts(uri);
        }
        self.findings_follow(uri, path.as_deref(), &line_changes);
        self.changes_follow(uri, version, &line_changes);
        match previous {
            // Applied (the text is what the editor did), but the editor's versions are off.
            Some(previous) if version <= previous => Err(format!(
                "didChange for {uri} has version {version}, not above {previous}: applied in \
                 the order received"
            )),
            _ => Ok(()),
        }
    }

    /// When the buffer now reads exactly as its file (the editor reloaded it from disk, or
    /// the user typed back to it), the merge base becomes the file: unsaved edits are what
    /// the buffer holds beyond what disk holds, never relative to an older snapshot. The
    /// file is read only when its size could match (one `stat` per change otherwise), and
    /// not again while its length and modification time say it still reads as the base.
    fn follow_disk(&self, uri: &str) {
        let Some((path, len, breaks, view)) = self.documents().get(uri).and_then(|d| {
            let breaks = d.document.len_lines().saturating_sub(1);
            Some((
                d.path.clone()?,
                d.document.rope().len_bytes(),
                breaks,
                d.view(),
            ))
        }) else {
            return;
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            return;
        };
        if !meta.is_file() || !view.could_equal(meta.len(), len, breaks) {
            return;
        }
        let stamp = stamp_of(&meta);
        // Unchanged since it last read as the base: no need to read it again.
        let known = stamp.and_then(|stamp| self.documents().rebase_if_base(uri, stamp));
        let had_conflicts = match known {
            Some(had_conflicts) => had_conflicts,
            None => {
                let Some(disk) = std::fs::read(&path).ok().and_then(|b| view.read(b).ok()) else {
                    return;
                };
                self.documents().rebase_if_equal_stamped(uri, disk, stamp)
            }
        };
        if had_conflicts {
            self.publish_conflicts(uri);
        }
    }

    pub fn did_save(&self, uri: &str) {
        self.documents().saved(uri);
    }

    pub fn did_close(&self, uri: &str) {
        self.chat_did_close(uri);
        self.documents().close(uri);
        // Conflicts live with the buffer; other kinds (review findings) outlive it.
        self.set_diagnostics(uri, "conflict", Vec::new());
        self.inner.documents.changed();
    }
}

/// Whether `range` names a line a document of `lines` lines does not have. The start of the
/// line after the last one is allowed: editors end a whole-line selection of the last line
/// there. (A character past a line's end is not "beyond": the spec clamps it.)
fn beyond_end(range: Range, lines: usize) -> bool {
    let end = range.end;
    end.line as usize > lines || (end.line as usize == lines && end.character > 0)
}

/// Line breaks in `text` as LSP counts them (`\r\n`, `\n`, `\r`).
fn line_breaks(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut count = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            count += 1;
        }
    }
    count
}

/// Moves conflict regions for one ranged change: a change above a region shifts it by the
/// lines it added or removed; a change inside it grows or shrinks its end; a change below it
/// leaves it alone. Returns whether any region moved.
fn shift_conflicts(conflicts: &mut [BufferConflict], range: Range, text: &str) -> bool {
    let removed = range.end.line - range.start.line;
    let delta = i64::from(line_breaks(text)) - i64::from(removed);
    if delta == 0 {
        return false;
    }
    let shift = |line: u32| (i64::from(line) + delta).max(0) as u32;
    let mut moved = false;
    for conflict in conflicts.iter_mut() {
        let region_start = Position::new(conflict.lines.start, 0);
        let region_end = Position::new(conflict.lines.end, 0);
        if range.end <= region_start {
            conflict.lines = shift(conflict.lines.start)..shift(conflict.lines.end);
            moved = true;
        } else if range.start < region_end {
            conflict.lines.end = shift(conflict.lines.end).max(conflict.lines.start);
            moved = true;
        }
    }
    moved
}

/// One change of a document in line terms: `range` (in the text before it) was replaced by
/// text holding `added_breaks` line breaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineChange {
    pub range: Range,
    pub added_breaks: u32,
}

/// Where the whole lines `lines` (0-based, half-open) are after `change`, or `None` when the
/// change replaced all of them. A change above them shifts them by the lines it added or
/// removed; a change below leaves them; a change inside (or reaching into) them keeps them,
/// the end moving by the lines added or removed and the start moving down past a change
/// that ate their first lines.
pub fn follow_lines(lines: &Span<u32>, change: &LineChange) -> Option<Span<u32>> {
    let (a, b) = (change.range.start, change.range.end);
    let start = Position::new(lines.start, 0);
    let end = Position::new(lines.end.max(lines.start + 1), 0);
    let delta = i64::from(change.added_breaks) - i64::from(b.line - a.line);
    let shift = |line: u32| (i64::from(line) + delta).max(0) as u32;
    if b <= start {
        // Above, or typing at the start of the first line: added lines push the mark down.
        return Some(shift(lines.start)..shift(lines.end));
    }
    if a >= end {
        return Some(lines.clone());
    }
    if a <= start && b >= end {
        return None;
    }
    let new_start = if a < start {
        a.line + change.added_breaks
    } else {
        lines.start
    };
    Some(new_start..shift(lines.end).max(new_start + 1))
}

/// After a whole-text change, finds each region's text again by its lines; a region whose
/// text is gone, or found more than once, is dropped.
fn relocate_conflicts(conflicts: &mut Vec<BufferConflict>, text: &str) -> bool {
    let before = conflicts.clone();
    conflicts.retain_mut(|conflict| {
        if conflict.ours.is_empty() {
            return false;
        }
        let found: Vec<usize> = text
            .match_indices(conflict.ours.as_str())
            .map(|(i, _)| i)
            .collect();
        match found[..] {
            [at] if at == 0 || text[..at].ends_with(['\n', '\r']) => {
                let start = line_breaks(&text[..at]);
                let ends_with_break = conflict.ours.ends_with(['\n', '\r']);
                let count = line_breaks(&conflict.ours) + u32::from(!ends_with_break);
                conflict.lines = start..start + count;
                true
            }
            _ => false,
        }
    });
    *conflicts != before
}

/// "Modified" means the buffer differs from the file on disk as the editor shows it (a
/// missing file counts): a BOM the buffer does not hold, or CRLF line ends an LF-only
/// buffer shows as LF, are not edits (see [`DiskView`]). Compared chunk by chunk: no copy
/// of the buffer.
fn rope_differs_from_disk(path: &Path, text: &Rope) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return true;
    };
    if bytes.len() == text.len_bytes() && std::str::from_utf8(&bytes).is_ok_and(|b| *text == b) {
        return false;
    }
    let starts_with_bom = text.chars().next() == Some(BOM);
    let holds_cr = text.chunks().any(|chunk| chunk.contains('\r'));
    let crlf_as_lf = !holds_cr && bytes.windows(2).any(|w| w == b"\r\n");
    let view = DiskView::of(starts_with_bom, crlf_as_lf);
    view.read(bytes).map_or(true, |disk| *text != disk.as_str())
}

/// Picks the candidates that differ from disk and fit in `budget` bytes, in order; returns
/// those (their text copied, the only copy made) and the unsaved ones left out.
pub fn fit_unsaved(
    candidates: Vec<UnsavedCandidate>,
    budget: usize,
) -> (Vec<UnsavedBuffer>, Vec<PathBuf>) {
    let mut used = 0;
    let mut kept = Vec::new();
    let mut left_out = Vec::new();
    for candidate in candidates {
        if !candidate.differs_from_disk() {
            continue;
        }
        let len = candidate.text.len_bytes();
        if used + len <= budget {
            used += len;
            kept.push(UnsavedBuffer {
                path: candidate.path,
                text: candidate.text.to_string(),
            });
        } else {
            left_out.push(candidate.path);
        }
    }
    (kept, left_out)
}

/// A file path as documents are matched to files (the mirror, review findings): absolute and with symlinks resolved, also for a
/// file that does not exist (yet, or any more).
pub fn normalize_path(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .map(|p| p.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Position;

    #[test]
    fn changes_apply_in_utf16_and_selection_reads_back() {
        let mut docs = Documents::default();
        docs.open(
            "file:///a".into(),
            Some("/a".into()),
            "rust".into(),
            1,
            "héllo 𝄞 world\n",
            None,
        );
        let range = Range::new(Position::new(0, 8), Position::new(0, 9));
        docs.change(
            "file:///a",
            2,
            [(Some(range), "!".to_string())],
            PositionEncoding::Utf16,
        )
        .unwrap();
        assert_eq!(
            docs.get("file:///a").unwrap().document.text(),
            "héllo 𝄞!world\n"
        );
        let sel = Range::new(Position::new(0, 6), Position::new(0, 8));
        assert_eq!(
            docs.text_in("file:///a", sel, PositionEncoding::Utf16)
                .unwrap(),
            "𝄞"
        );
        assert!(docs
            .change("file:///nope", 1, [], PositionEncoding::Utf16)
            .is_err());
    }

    /// Whether a buffer reads as its base, told from the span typed since they last read
    /// alike, agrees with comparing them whole, through typing away from and back to the
    /// base in many places (multi-byte text included).
    #[test]
    fn the_span_typed_since_the_base_tells_whether_the_buffer_reads_as_it() {
        let mut docs = Documents::default();
        let uri = "file:///a";
        let text: String = (0..40).map(|i| format!("line {i} é𝄞\n")).collect();
        docs.open(
            uri.into(),
            Some("/a".into()),
            "rust".into(),
            1,
            &text,
            Some(text.clone()),
        );
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut undo: Vec<(Range, String)> = Vec::new();
        let mut equal_seen = 0;
        for version in 2..2000 {
            let doc = docs.open.get(uri).unwrap();
            let lines = doc.document.len_lines() as u64;
            // Mostly undo the last edit (back to the base), sometimes a new one.
            let (range, new_text, undoing) = match undo.pop() {
                Some((range, text)) if next(3) > 0 => (range, text, true),
                popped => {
                    undo.extend(popped);
                    let line = next(lines) as u32;
                    let start = Position::new(line, next(4) as u32);
                    let end_line = (line + next(2) as u32).min(lines as u32 - 1);
                    let end = Position::new(end_line, next(4) as u32);
                    let end = end.max(start);
                    let inserted = ["", "x", "é", "𝄞\n", "ab\ncd"][next(5) as usize];
                    (Range::new(start, end), inserted.to_string(), false)
                }
            };
            let doc = docs.open.get_mut(uri).unwrap();
            let (start, end) = doc
                .document
                .range_to_chars(range, PositionEncoding::Utf32)
                .unwrap();
            let removed = doc.document.rope().slice(start..end).to_string();
            docs.change(
                uri,
                version,
                [(Some(range), new_text.clone())],
                PositionEncoding::Utf32,
            )
            .unwrap();
            let doc = docs.open.get(uri).unwrap();
            let inserted_start = doc
                .document
                .char_to_position(start, PositionEncoding::Utf32)
                .unwrap();
            let inserted_end = doc
                .document
                .char_to_position(start + new_text.chars().count(), PositionEncoding::Utf32)
                .unwrap();
            if !undoing {
                undo.push((Range::new(inserted_start, inserted_end), removed));
            }
            let doc = docs.open.get_mut(uri).unwrap();
            let whole = doc.document.rope() == doc.base.as_ref().unwrap();
            equal_seen += usize::from(whole);
            assert_eq!(doc.reads_as_base(), whole, "after change {version}");
        }
        assert!(
            equal_seen > 100,
            "the buffer came back to its base {equal_seen} times"
        );
    }

    /// A file that read as the merge base is stamped; while it keeps the stamp, the buffer is
    /// compared with the base instead of the file being read; any new base drops the stamp.
    #[test]
    fn a_stamped_file_is_compared_in_memory_until_the_base_changes() {
        let mut docs = Documents::default();
        let uri = "file:///a";
        docs.open(
            uri.into(),
            Some("/a".into()),
            "rust".into(),
            1,
            "ab\n",
            Some("ab\n".into()),
        );
        let stamp = (3, SystemTime::UNIX_EPOCH);
        let later = (
            3,
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1),
        );
        assert_eq!(docs.rebase_if_base(uri, stamp), None, "never read: read it");
        let replace = |docs: &mut Documents, version, text: &str| {
            let range = Range::new(Position::new(0, 0), Position::new(0, 1));
            docs.change(
                uri,
                version,
                [(Some(range), text.to_string())],
                PositionEncoding::Utf16,
            )
            .unwrap();
        };
        replace(&mut docs, 2, "x");
        assert!(!docs.rebase_if_equal_stamped(uri, "ab\n".into(), Some(stamp)));
        assert_eq!(
            docs.rebase_if_base(uri, stamp),
            Some(false),
            "differs, file unread"
        );
        assert_eq!(
            docs.rebase_if_base(uri, later),
            None,
            "the file changed: read it"
        );
        replace(&mut docs, 3, "a");
        assert_eq!(
            docs.rebase_if_base(uri, stamp),
            Some(false),
            "equal, no conflicts"
        );
        docs.set_disk_text(uri, Some("xb\n".into()));
        assert_eq!(
            docs.rebase_if_base(uri, stamp),
            None,
            "a new base drops the stamp"
        );
        // A file read as something else than the base is not stamped.
        assert!(!docs.rebase_if_equal_stamped(uri, "zz\n".into(), Some(stamp)));
        assert_eq!(docs.rebase_if_base(uri, stamp), None);
    }

    #[test]
    fn a_change_sent_out_of_order_keeps_the_newest_version() {
        let mut docs = Documents::default();
        let uri = "file:///a";
        docs.open(uri.into(), Some("/a".into()), "t".into(), 1, "ab\n", None);
        let at = |character| {
            Some(Range::new(
                Position::new(0, character),
                Position::new(0, character),
            ))
        };
        let utf16 = PositionEncoding::Utf16;
        docs.change(uri, 3, [(at(2), "d".to_string())], utf16)
            .unwrap();
        docs.change(uri, 2, [(at(2), "c".to_string())], utf16)
            .unwrap();
        let doc = docs.get(uri).unwrap();
        assert_eq!(
            doc.document.version, 3,
            "the editor's buffer is at version 3"
        );
        assert_eq!(doc.out_of_order, Some((2, 3)));
        // A whole-text change brings the copy back in step, at the version it carries.
        docs.change(uri, 2, [(None, "abcd\n".to_string())], utf16)
            .unwrap();
        let doc = docs.get(uri).unwrap();
        assert_eq!((doc.document.version, doc.out_of_order), (2, None));
    }

    #[test]
    fn unsaved_buffers_fit_the_budget_in_order() {
        // Paths with no file behind them: every one differs from disk.
        let b = |p: &str, n: usize| UnsavedCandidate {
            path: p.into(),
            text: Rope::from_str(&"x".repeat(n)),
            clean_while: None,
        };
        let (kept, left) = fit_unsaved(vec![b("/first", 60), b("/big", 50), b("/small", 30)], 100);
        assert_eq!(
            kept.iter().map(|b| b.path.clone()).collect::<Vec<_>>(),
            [PathBuf::from("/first"), PathBuf::from("/small")]
        );
        assert_eq!(left, [PathBuf::from("/big")]);
    }

    #[test]
    fn a_clean_buffer_vouched_for_by_its_stamp_is_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "a\n").unwrap();
        let stamp = file_stamp(&file).unwrap();
        let uri = "file:///a.txt";
        let mut docs = Documents::default();
        docs.open(
            uri.into(),
            Some(file.clone()),
            "t".into(),
            1,
            "a\n",
            Some("a\n".into()),
        );
        docs.rebase_if_equal_stamped(uri, "a\n".into(), Some(stamp));
        let differs =
            |docs: &mut Documents| docs.candidates_for_unsaved(None)[0].differs_from_disk();
        assert!(!differs(&mut docs));
        // Same length and modification time: the stamp vouches, the file is not read (it
        // would say otherwise). Editors and tools always move the time when they write.
        std::fs::write(&file, "b\n").unwrap();
        let handle = std::fs::File::options().write(true).open(&file).unwrap();
        handle.set_modified(stamp.1).unwrap();
        assert!(!differs(&mut docs));
        // A new time: read, and found to differ.
        handle
            .set_modified(stamp.1 + std::time::Duration::from_secs(5))
            .unwrap();
        assert!(differs(&mut docs));
    }

    #[test]
    fn asked_about_document_comes_first() {
        let mut docs = Documents::default();
        docs.open(
            "file:///a".into(),
            Some("/a".into()),
            "t".into(),
            1,
            "a",
            None,
        );
        docs.open(
            "file:///b".into(),
            Some("/b".into()),
            "t".into(),
            1,
            "b",
            None,
        );
        docs.open("untitled:1".into(), None, "t".into(), 1, "u", None);
        let order: Vec<PathBuf> = docs
            .candidates_for_unsaved(Some("file:///a"))
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert_eq!(order, [PathBuf::from("/a"), PathBuf::from("/b")]);
    }

    fn conflict(lines: Span<u32>, ours: &str) -> BufferConflict {
        BufferConflict {
            id: 1,
            lines,
            ours: ours.into(),
            theirs: "THEIRS\n".into(),
            reverts: None,
        }
    }

    #[test]
    fn conflict_regions_follow_the_lines_around_them() {
        let at = |l, c| Position::new(l, c);
        let mut conflicts = vec![conflict(3..5, "c\nd\n")];
        // Typing on a line above, without adding lines: nothing moves.
        assert!(!shift_conflicts(
            &mut conflicts,
            Range::new(at(0, 0), at(0, 1)),
            "x"
        ));
        // Two lines added above.
        assert!(shift_conflicts(
            &mut conflicts,
            Range::point(at(1, 0)),
            "p\nq\n"
        ));
        assert_eq!(conflicts[0].lines, 5..7);
        // A line joined inside the region shrinks it.
        assert!(shift_conflicts(
            &mut conflicts,
            Range::new(at(5, 1), at(6, 0)),
            ""
        ));
        assert_eq!(conflicts[0].lines, 5..6);
        // Below it: nothing moves; a CRLF counts once.
        assert!(!shift_conflicts(
            &mut conflicts,
            Range::point(at(9, 0)),
            "z\r\n"
        ));
        assert!(shift_conflicts(
            &mut conflicts,
            Range::point(at(0, 0)),
            "z\r\n"
        ));
        assert_eq!(conflicts[0].lines, 6..7);
    }

    #[test]
    fn marked_lines_follow_edits_around_and_inside_them() {
        let at = |l, c| Position::new(l, c);
        let change = |a, b, added_breaks| LineChange {
            range: Range::new(a, b),
            added_breaks,
        };
        let lines = 4..6;
        // Two lines added above; one removed above; typing on a line above.
        assert_eq!(
            follow_lines(&lines, &change(at(1, 0), at(1, 0), 2)),
            Some(6..8)
        );
        assert_eq!(
            follow_lines(&lines, &change(at(1, 0), at(2, 0), 0)),
            Some(3..5)
        );
        assert_eq!(
            follow_lines(&lines, &change(at(0, 1), at(0, 3), 0)),
            Some(4..6)
        );
        // A line inserted at the start of the first marked line pushes the mark down.
        assert_eq!(
            follow_lines(&lines, &change(at(4, 0), at(4, 0), 1)),
            Some(5..7)
        );
        // Below: nothing moves, also right at the line after the mark.
        assert_eq!(
            follow_lines(&lines, &change(at(6, 0), at(6, 0), 3)),
            Some(4..6)
        );
        // Inside: typing keeps it; a new line grows it; joining two lines shrinks it.
        assert_eq!(
            follow_lines(&lines, &change(at(4, 2), at(4, 3), 0)),
            Some(4..6)
        );
        assert_eq!(
            follow_lines(&lines, &change(at(5, 2), at(5, 2), 1)),
            Some(4..7)
        );
        assert_eq!(
            follow_lines(&lines, &change(at(4, 9), at(5, 0), 0)),
            Some(4..5)
        );
        // Deleting every marked line drops it; a deletion eating its first line moves it.
        assert_eq!(follow_lines(&lines, &change(at(4, 0), at(6, 0), 0)), None);
        assert_eq!(follow_lines(&lines, &change(at(2, 0), at(7, 0), 0)), None);
        assert_eq!(
            follow_lines(&lines, &change(at(2, 0), at(5, 0), 0)),
            Some(2..3)
        );
    }

    #[test]
    fn a_whole_text_change_becomes_line_changes() {
        let mut docs = Documents::default();
        docs.open(
            "file:///a".into(),
            Some("/a".into()),
            "t".into(),
            1,
            "a\nb\nc\n",
            None,
        );
        let (_, changes) = docs
            .change_tracking_lines(
                "file:///a",
                2,
                [(None, "new\na\nb\nc\n".to_string())],
                PositionEncoding::Utf16,
                true,
            )
            .unwrap();
        let moved = changes
            .iter()
            .try_fold(2..3, |lines, c| follow_lines(&lines, c));
        assert_eq!(moved, Some(3..4), "{changes:?}");
    }

    #[test]
    fn a_whole_text_change_finds_the_region_again_or_drops_it() {
        let mut conflicts = vec![conflict(1..2, "mine\n")];
        assert!(relocate_conflicts(&mut conflicts, "a\nb\nmine\nc\n"));
        assert_eq!(conflicts[0].lines, 2..3);
        assert!(!relocate_conflicts(&mut conflicts, "a\nb\nmine\nc\n"));
        // Gone, or ambiguous: dropped rather than marking the wrong lines.
        assert!(relocate_conflicts(&mut conflicts, "mine\nmine\n"));
        assert!(conflicts.is_empty());
    }

    /// The base shares the buffer's rope while they read alike; edits to either side after
    /// that never show through on the other (ropey copies a shared chunk before changing it).
    #[test]
    fn a_shared_base_keeps_what_disk_held_while_the_buffer_is_edited() {
        let uri = "file:///a";
        let original: String = (0..2000).map(|i| format!("line {i}\n")).collect();
        let mut docs = Documents::default();
        docs.open(
            uri.into(),
            Some("/a".into()),
            "t".into(),
            1,
            &original,
            Some(original.clone()),
        );
        let base = |docs: &Documents| docs.mirror_snapshot(uri).unwrap().disk_text.unwrap();
        let at = |l, c| Position::new(l, c);
        let typed = [
            (Range::new(at(0, 0), at(0, 4)), "LINE"),
            (Range::point(at(1000, 3)), "typed\n"),
            (Range::new(at(1500, 0), at(1990, 0)), ""),
        ];
        for (version, (range, text)) in typed.iter().enumerate() {
            docs.change(
                uri,
                2 + version as i32,
                [(Some(*range), text.to_string())],
                PositionEncoding::Utf16,
            )
            .unwrap();
            assert_eq!(base(&docs), original, "edit {version} reached the base");
        }
        let edited = docs.get(uri).unwrap().document.text();
        assert!(edited.starts_with("LINE 0\n") && edited.len() < original.len());
        // Saved: the base is the buffer again; typing on leaves it as saved.
        docs.saved(uri);
        docs.change(
            uri,
            9,
            [(Some(Range::point(at(5, 0))), "more\n".to_string())],
            PositionEncoding::Utf16,
        )
        .unwrap();
        assert_eq!(base(&docs), edited);
        // The agent's version as the new base, equal to the buffer or not.
        let now = docs.get(uri).unwrap().document.text();
        docs.set_disk_text(uri, Some(now.clone()));
        assert_eq!(base(&docs), now);
        docs.set_disk_text(uri, Some("agent\n".into()));
        assert_eq!(base(&docs), "agent\n");
        assert_eq!(docs.get(uri).unwrap().document.text(), now);
    }

    #[test]
    fn saving_makes_the_buffer_the_merge_base() {
        let mut docs = Documents::default();
        docs.open(
            "file:///a".into(),
            Some("/a".into()),
            "t".into(),
            1,
            "x\n",
            Some("x\n".into()),
        );
        docs.change(
            "file:///a",
            2,
            [(None, "y\n".to_string())],
            PositionEncoding::Utf16,
        )
        .unwrap();
        assert_eq!(
            docs.mirror_snapshot("file:///a")
                .unwrap()
                .disk_text
                .as_deref(),
            Some("x\n")
        );
        docs.saved("file:///a");
        assert_eq!(
            docs.mirror_snapshot("file:///a")
                .unwrap()
                .disk_text
                .as_deref(),
            Some("y\n")
        );
    }
}

#[cfg(test)]
mod view_tests {
    use super::*;

    #[test]
    fn disk_reads_as_the_editor_shows_it() {
        let plain = DiskView::of(false, false);
        assert_eq!(plain.read("\u{FEFF}a\r\nb".into()).unwrap(), "a\r\nb");
        let emacs = DiskView::of(false, true);
        assert_eq!(emacs.read("\u{FEFF}a\r\nb\r\n".into()).unwrap(), "a\nb\n");
        // A buffer that shows the BOM keeps it.
        assert_eq!(
            DiskView::of(true, false).read("\u{FEFF}a".into()).unwrap(),
            "\u{FEFF}a"
        );
        assert!(plain.read(vec![0xff, 0xfe]).is_err());
        assert!(editor_normalised_crlf(b"a\r\nb", "a\nb"));
        assert!(!editor_normalised_crlf(b"a\r\nb", "a\r\nb"));
        assert!(!editor_normalised_crlf(b"a\nb", "a\nb"));
        assert!(plain.could_equal(7, 4, 1) && plain.could_equal(4, 4, 1));
        assert!(!plain.could_equal(5, 4, 1));
        // "a\nb\n" (4 bytes, 2 breaks) is "a\r\nb\r\n" (6), or 9 with a BOM.
        assert!(emacs.could_equal(6, 4, 2) && emacs.could_equal(9, 4, 2));
        assert!(!emacs.could_equal(5, 4, 2));
    }

    #[test]
    fn a_buffer_equal_to_its_file_stands_on_it_with_no_conflict_left() {
        let mut docs = Documents::default();
        docs.open(
            "file:///a".into(),
            Some("/a".into()),
            "t".into(),
            1,
            "x\nmine\n",
            Some("x\nold\n".into()),
        );
        let conflict = BufferConflict {
            id: 9,
            lines: 1..2,
            ours: "mine\n".into(),
            theirs: "agent\n".into(),
            reverts: None,
        };
        docs.add_conflicts("file:///a", vec![conflict], "x\nmine\n");
        assert!(!docs.rebase_if_equal("file:///a", "x\nagent\n".into()));
        assert_eq!(docs.conflicts("file:///a").len(), 1);
        assert!(docs.rebase_if_equal("file:///a", "x\nmine\n".into()));
        assert!(docs.conflicts("file:///a").is_empty());
        assert_eq!(
            docs.mirror_snapshot("file:///a")
                .unwrap()
                .disk_text
                .as_deref(),
            Some("x\nmine\n")
        );
    }

    #[test]
    fn a_bom_or_crlf_alone_is_not_an_unsaved_edit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        for (disk, buffer, differs) in [
            ("\u{FEFF}a\nb\n", "a\nb\n", false),
            ("a\r\nb\r\n", "a\nb\n", false),
            ("a\r\nb\r\n", "a\r\nb\r\n", false),
            ("\u{FEFF}a\nb\n", "a\nB\n", true),
            ("a\nb\n", "\u{FEFF}a\nb\n", true),
        ] {
            std::fs::write(&file, disk).unwrap();
            assert_eq!(
                rope_differs_from_disk(&file, &Rope::from_str(buffer)),
                differs,
                "{disk:?} {buffer:?}"
            );
        }
    }

    #[test]
    fn paths_normalize_also_when_the_file_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        let missing = dir.path().join("not-yet.txt");
        assert_eq!(normalize_path(&missing), real.join("not-yet.txt"));
    }
}
