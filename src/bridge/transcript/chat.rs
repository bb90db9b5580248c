//! A chat in any LSP editor, no plugin needed: `codex.openTranscript` writes a thread's
//! transcript to a Markdown file in the user's cache (outside every repository) and opens
//! it; while the editor has it open, each turn's live updates reach it as versioned
//! `workspace/applyEdit`s above its ask section, and "Codex: Send" sends what the user
//! wrote there (`codex.sendAsk`).
//!
//! Part `ChatDocuments`: the transcript documents codex-lsp keeps current. Each has a
//! worker task that sends its edits one at a time: updates that come while an edit is in
//! flight are composed into the next one ([`Pending`]), and a refused edit (the user typed:
//! the version moved on) is computed again against the current text. Positions are found
//! from the ask heading each time, so typing in the ask section never shifts them; the
//! work per edit is what changed, not the document.
//!
//! The document is never a workspace file: it is mirrored without a path, so the agent's
//! edits, the unsaved buffers sent as context and the review never see it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Notify;

use super::chat_text::{self, line_breaks, Pending, ASK_HEADING};
use super::live::Update;
use crate::bridge::edits::documents::normalize_path;
use crate::bridge::{
    AskRequest, Bridge, BridgeError, BridgeResult, BufferEdit, EditOutcome, Inner, MessageLevel,
};
use crate::lock;
use crate::text::{Position, Range, TextEdit};

/// How long to wait for the editor's `didChange` after an edit it applied or refused.
const ECHO_WAIT: Duration = Duration::from_secs(2);
/// Refusals in a row before the document is no longer kept current.
const MAX_REFUSALS: usize = 20;

/// The transcript documents and where they live.
pub(crate) struct ChatDocuments {
    /// `codex-lsp/transcripts` in the user's cache folder (none without one).
    root: Option<PathBuf>,
    docs: Mutex<HashMap<PathBuf, ChatDoc>>,
    /// Whether any document is kept: the reply's deltas are rendered only when someone
    /// shows them.
    any: AtomicBool,
}

impl Default for ChatDocuments {
    fn default() -> Self {
        let env = |key: &str| std::env::var(key).ok();
        ChatDocuments {
            root: crate::runtime::user_cache_dir(&env)
                .map(|dir| dir.join("codex-lsp").join("transcripts")),
            docs: Mutex::default(),
            any: AtomicBool::new(false),
        }
    }
}

struct ChatDoc {
    thread_id: String,
    /// The workspace folder the thread belongs to (asks and new threads go there).
    folder: Option<PathBuf>,
    /// The mirror's key of the open document, once the editor opened it.
    key: Option<String>,
    /// Turns the file was written with (or without: running then): their updates are not
    /// this document's.
    written: HashSet<String>,
    /// Turns that ran when the file was written: each comes whole from the history when
    /// it ends (its updates so far are gone).
    catch_up: HashSet<String>,
    /// Turns followed since, in document order.
    turns: Vec<ChatTurn>,
    /// A prompt sent from the ask section: cleared from it with the next edit.
    clear_ask: Option<String>,
    wake: Arc<Notify>,
}

struct ChatTurn {
    turn_id: String,
    /// Complete lines of the turn the document holds.
    lines: usize,
    pending: Option<Pending>,
}

/// One document's edit as computed, to commit or give back.
struct Flight {
    /// (turn index when sent, turn id, what was sent)
    sent: Vec<(usize, String, Pending)>,
    cleared: Option<String>,
}

enum Flush {
    Gone,
    Idle,
    Again,
}

impl ChatDocuments {
    pub(crate) fn any(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// Whether `path` is a transcript file (under the transcripts folder).
    pub(crate) fn holds(&self, path: &Path) -> bool {
        self.root
            .as_deref()
            .is_some_and(|root| path.starts_with(root))
    }

    fn file_for(&self, folder: Option<&Path>, thread_id: &str) -> BridgeResult<PathBuf> {
        let root = self.root.as_ref().ok_or_else(|| {
            BridgeError::InvalidParams(
                "codex.openTranscript: no cache folder to write the transcript to ($XDG_CACHE_HOME and $HOME are unset)"
                    .into(),
            )
        })?;
        let name: String = thread_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Ok(root.join(folder_hash(folder)).join(format!("{name}.md")))
    }

    fn set_any(&self, docs: &HashMap<PathBuf, ChatDoc>) {
        self.any.store(!docs.is_empty(), Ordering::Relaxed);
    }
}

/// A short stable name for a workspace folder (so two folders' threads never mix).
fn folder_hash(folder: Option<&Path>) -> String {
    use sha2::{Digest, Sha256};
    let Some(folder) = folder else {
        return "no-folder".into();
    };
    let digest = Sha256::digest(folder.to_string_lossy().as_bytes());
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect();
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    if name.is_empty() {
        hex
    } else {
        format!("{name}-{hex}")
    }
}

/// What code actions a transcript document offers.
pub struct ChatActions {
    pub thread_id: String,
    /// The folder a new thread goes to.
    pub folder: Option<PathBuf>,
    pub turn_running: bool,
}

impl Bridge {
    /// Whether someone shows the transcript live (the editor, or a transcript document).
    pub(super) fn transcript_wanted(&self) -> bool {
        self.inner.ui.wants_transcript() || self.inner.chat.any()
    }

    /// `didOpen` of a transcript file: mirrored without a path (never a workspace file);
    /// returns the path the document is mirrored under.
    pub(crate) fn chat_path_filter(&self, path: Option<PathBuf>) -> Option<PathBuf> {
        path.filter(|p| !self.inner.chat.holds(&normalize_path(p)))
    }

    /// The editor opened `path` (key `key`): a transcript document starts being kept current.
    pub(crate) fn chat_did_open(&self, key: &str, path: Option<&Path>) {
        let Some(path) = path.map(normalize_path) else {
            return;
        };
        if !self.inner.chat.holds(&path) {
            return;
        }
        let mut docs = lock(&self.inner.chat.docs);
        let doc = match docs.get_mut(&path) {
            Some(doc) => doc,
            None => {
                // A transcript file opened by hand (after a restart, say): its text stays,
                // new turns of its thread are added.
                let Some(thread_id) = path.file_stem().map(|s| s.to_string_lossy().to_string())
                else {
                    return;
                };
                let folder = path.parent().and_then(|hashed| {
                    let name = hashed.file_name()?.to_string_lossy().to_string();
                    self.folders()
                        .into_iter()
                        .find(|f| folder_hash(Some(f)) == name)
                });
                let doc = ChatDoc {
                    thread_id,
                    folder,
                    key: None,
                    written: HashSet::new(),
                    catch_up: HashSet::new(),
                    turns: Vec::new(),
                    clear_ask: None,
                    wake: Arc::new(Notify::new()),
                };
                docs.insert(path.clone(), doc);
                self.inner.chat.set_any(&docs);
                let bridge = Arc::downgrade(&self.inner);
                let wake = docs[&path].wake.clone();
                tokio::spawn(keep_current(bridge, path.clone(), wake));
                docs.get_mut(&path).expect("inserted")
            }
        };
        doc.key = Some(key.to_string());
        doc.wake.notify_one();
    }

    /// A `didChange` of a transcript document: a refused edit may go again.
    pub(crate) fn chat_did_change(&self, key: &str) {
        let docs = lock(&self.inner.chat.docs);
        if let Some(doc) = docs.values().find(|d| d.key.as_deref() == Some(key)) {
            doc.wake.notify_one();
        }
    }

    /// The editor closed a transcript document: it is no longer kept current; the file
    /// keeps what the buffer held (the transcript and an unsent prompt), for the next open.
    pub(crate) fn chat_did_close(&self, key: &str) {
        let mut docs = lock(&self.inner.chat.docs);
        let Some(path) = docs
            .iter()
            .find(|(_, d)| d.key.as_deref() == Some(key))
            .map(|(p, _)| p.clone())
        else {
            return;
        };
        if let Some(doc) = docs.remove(&path) {
            doc.wake.notify_one();
        }
        self.inner.chat.set_any(&docs);
        drop(docs);
        let text = self.documents().get(key).map(|d| d.document.text());
        if let Some(text) = text {
            if let Err(e) = std::fs::write(&path, text) {
                tracing::warn!(path = %path.display(), "could not keep the closed transcript: {e}");
            }
        }
    }

    /// A running turn's transcript changed: every document of its thread gets it.
    pub(super) fn chat_update(&self, thread_id: &str, turn_id: &str, update: &Update) {
        if !self.inner.chat.any() {
            return;
        }
        let mut docs = lock(&self.inner.chat.docs);
        for doc in docs.values_mut() {
            if doc.thread_id != thread_id || doc.written.contains(turn_id) {
                continue;
            }
            let turn = match doc.turns.iter().position(|t| t.turn_id == turn_id) {
                Some(at) => &mut doc.turns[at],
                None => {
                    doc.turns.push(ChatTurn {
                        turn_id: turn_id.to_string(),
                        lines: 0,
                        pending: None,
                    });
                    doc.turns.last_mut().expect("pushed")
                }
            };
            match &mut turn.pending {
                Some(pending) => pending.then(update, turn.lines),
                None => turn.pending = Some(Pending::from_update(update)),
            }
            doc.wake.notify_one();
        }
    }

    /// A turn ended: a document written while it ran gets it whole from the history,
    /// before the turns that started after the document was written.
    pub(super) fn chat_turn_ended(&self, thread_id: &str, turn_id: &str) {
        let waiting = lock(&self.inner.chat.docs)
            .values()
            .any(|d| d.thread_id == thread_id && d.catch_up.contains(turn_id));
        if !waiting {
            return;
        }
        let bridge = self.clone();
        let (thread_id, turn_id) = (thread_id.to_string(), turn_id.to_string());
        tokio::spawn(async move {
            let text = match bridge.render_turn(&thread_id, &turn_id).await {
                Ok(Some(text)) => text,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(turn = %turn_id, "could not read the turn for its transcript: {e}");
                    return;
                }
            };
            let mut docs = lock(&bridge.inner.chat.docs);
            for doc in docs.values_mut() {
                if doc.thread_id != thread_id || !doc.catch_up.remove(&turn_id) {
                    continue;
                }
                let pending = Pending {
                    from_line: None,
                    text: text.clone(),
                };
                doc.turns.insert(
                    0,
                    ChatTurn {
                        turn_id: turn_id.clone(),
                        lines: 0,
                        pending: Some(pending),
                    },
                );
                doc.wake.notify_one();
            }
        });
    }

    /// `codex.openTranscript`: writes the thread's transcript (default: the workspace's
    /// thread, started if it has none; `new_thread`: a new one) with an ask section to a
    /// Markdown file in the user's cache and opens it in the editor.
    pub async fn open_transcript(
        &self,
        thread_id: Option<&str>,
        path: Option<&Path>,
        new_thread: bool,
    ) -> BridgeResult<Value> {
        let folder = self.workspace_for(path);
        let id = match (thread_id, new_thread) {
            (_, true) => self.thread_for(None, true, folder.as_deref()).await?.1,
            (Some(id), false) => id.to_string(),
            (None, false) => match self.current_thread(path).await? {
                Some(id) => id,
                None => self.thread_for(None, false, folder.as_deref()).await?.1,
            },
        };
        let file = self.inner.chat.file_for(folder.as_deref(), &id)?;
        let open_key = lock(&self.inner.chat.docs)
            .get(&file)
            .and_then(|d| d.key.clone());
        // The cursor goes to the ask section's end, where the next prompt is written.
        let last_line = match open_key {
            Some(key) => self
                .documents()
                .get(&key)
                .map_or(0, |d| d.document.len_lines().saturating_sub(1)),
            None => {
                self.write_transcript_file(&id, folder, &file).await?;
                std::fs::read_to_string(&file).map_or(0, |t| line_breaks(&t))
            }
        } as u32;
        let uri = self.inner.ui.path_to_uri(&file);
        let shown = self
            .inner
            .ui
            .show_document(file.clone(), Some(Position::new(last_line, 0)))
            .await;
        if !shown {
            self.show_message(
                MessageLevel::Warning,
                format!(
                    "the editor did not open the transcript; open {} yourself",
                    file.display()
                ),
            );
        }
        Ok(json!({ "threadId": id, "uri": uri, "path": file.display().to_string() }))
    }

    /// Renders the thread into `file` (an unsent prompt in it stays) and starts keeping it.
    async fn write_transcript_file(
        &self,
        thread_id: &str,
        folder: Option<PathBuf>,
        file: &Path,
    ) -> BridgeResult<()> {
        let running: Vec<String> = self
            .inner
            .turns
            .running_where(|t| t.thread_id == thread_id)
            .into_iter()
            .map(|(_, turn)| turn)
            .collect();
        let rendered = match self.render_thread(thread_id, &running).await {
            Ok(rendered) => rendered,
            // A thread with no turn yet may not be readable with its turns.
            Err(e) => {
                tracing::info!(
                    thread = thread_id,
                    "thread/read failed ({e}); an empty transcript"
                );
                super::render::Rendered {
                    markdown: "# Codex thread\n\n".into(),
                    turns: Vec::new(),
                }
            }
        };
        let kept_prompt = std::fs::read_to_string(file)
            .ok()
            .and_then(|t| chat_text::prompt_of_document(&t))
            .unwrap_or_default();
        let prompt = if kept_prompt.is_empty() {
            kept_prompt
        } else {
            format!("{kept_prompt}\n")
        };
        let text = chat_text::document(&rendered.markdown, &prompt);
        let written = (|| {
            std::fs::create_dir_all(file.parent().expect("a file in a folder"))?;
            std::fs::write(file, &text)
        })();
        written.map_err(|e| {
            BridgeError::InvalidParams(format!(
                "codex.openTranscript: could not write {}: {e}",
                file.display()
            ))
        })?;
        let doc = ChatDoc {
            thread_id: thread_id.to_string(),
            folder,
            key: None,
            written: rendered
                .turns
                .into_iter()
                .map(|(id, _)| id)
                .chain(running.iter().cloned())
                .collect(),
            catch_up: running.into_iter().collect(),
            turns: Vec::new(),
            clear_ask: None,
            wake: Arc::new(Notify::new()),
        };
        let wake = doc.wake.clone();
        {
            let mut docs = lock(&self.inner.chat.docs);
            if let Some(old) = docs.insert(file.to_path_buf(), doc) {
                old.wake.notify_one();
            }
            self.inner.chat.set_any(&docs);
        }
        tokio::spawn(keep_current(
            Arc::downgrade(&self.inner),
            file.to_path_buf(),
            wake,
        ));
        Ok(())
    }

    /// The transcript document `key` (or, without one, the one the user changed last):
    /// its path and thread.
    fn chat_doc_of(&self, key: Option<&str>) -> BridgeResult<(PathBuf, String)> {
        let docs = lock(&self.inner.chat.docs);
        let open = docs.iter().filter(|(_, d)| d.key.is_some());
        let found = match key {
            Some(key) => open
                .filter(|(_, d)| d.key.as_deref() == Some(key))
                .map(|(p, d)| (p.clone(), d))
                .next(),
            None => {
                let documents = self.documents();
                open.max_by_key(|(_, d)| {
                    d.key
                        .as_deref()
                        .and_then(|k| documents.get(k))
                        .map(|o| o.last_changed)
                })
                .map(|(p, d)| (p.clone(), d))
            }
        };
        let (path, doc) = found.ok_or_else(|| {
            BridgeError::InvalidParams(match key {
                Some(key) => format!(
                    "{key} is not an open Codex transcript (open one with codex.openTranscript)"
                ),
                None => "no Codex transcript is open (open one with codex.openTranscript)".into(),
            })
        })?;
        Ok((path, doc.thread_id.clone()))
    }

    /// The code actions of a transcript document, if `key` is one.
    pub fn chat_actions(&self, key: &str) -> Option<ChatActions> {
        let (thread_id, folder) = {
            let docs = lock(&self.inner.chat.docs);
            let doc = docs.values().find(|d| d.key.as_deref() == Some(key))?;
            (doc.thread_id.clone(), doc.folder.clone())
        };
        let turn_running = !self
            .inner
            .turns
            .running_where(|t| t.thread_id == thread_id)
            .is_empty();
        Some(ChatActions {
            thread_id,
            folder,
            turn_running,
        })
    }

    /// `codex.sendAsk`: sends the prompt written in a transcript document's ask section
    /// as the next ask on its thread (queued behind a running turn, as every ask), then
    /// clears the section. A failed ask leaves the prompt where it was.
    pub async fn send_ask(&self, key: Option<&str>) -> BridgeResult<Value> {
        let (path, thread_id) = self.chat_doc_of(key)?;
        let key = lock(&self.inner.chat.docs)
            .get(&path)
            .and_then(|d| d.key.clone())
            .ok_or_else(|| {
                BridgeError::InvalidParams("codex.sendAsk: the transcript was just closed".into())
            })?;
        let prompt = {
            let docs = self.documents();
            let text = docs
                .get(&key)
                .map(|d| d.document.text())
                .unwrap_or_default();
            chat_text::prompt_of_document(&text)
        };
        let prompt = match prompt {
            Some(prompt) if !prompt.is_empty() => prompt,
            Some(_) => {
                return Err(BridgeError::InvalidParams(format!(
                    "codex.sendAsk: the ask section is empty: write your prompt under \"{ASK_HEADING}\" first"
                )))
            }
            None => {
                return Err(BridgeError::InvalidParams(format!(
                    "codex.sendAsk: the transcript has no \"{ASK_HEADING}\" line; add it back and write your prompt under it"
                )))
            }
        };
        let request = AskRequest {
            prompt: prompt.clone(),
            thread_id: Some(thread_id),
            // The folder routes the ask; it is no file the prompt is about.
            path: None,
            ..AskRequest::default()
        };
        let answer = self.ask(request).await?;
        if let Some(doc) = lock(&self.inner.chat.docs).get_mut(&path) {
            doc.clear_ask = Some(prompt);
            doc.wake.notify_one();
        }
        Ok(answer)
    }

    /// Sends what the document at `path` lacks, as one versioned edit.
    async fn flush_chat(&self, path: &Path, refused_before: &mut usize) -> Flush {
        // What to send, taken out (given back if the edit does not take).
        let (key, flight, lines) = {
            let mut docs = lock(&self.inner.chat.docs);
            let Some(doc) = docs.get_mut(path) else {
                return Flush::Gone;
            };
            let Some(key) = doc.key.clone() else {
                return Flush::Idle;
            };
            let sent: Vec<(usize, String, Pending)> = doc
                .turns
                .iter_mut()
                .enumerate()
                .filter_map(|(i, t)| t.pending.take().map(|p| (i, t.turn_id.clone(), p)))
                .collect();
            let cleared = doc.clear_ask.take();
            if sent.is_empty() && cleared.is_none() {
                return Flush::Idle;
            }
            let lines: Vec<usize> = doc.turns.iter().map(|t| t.lines).collect();
            (key, Flight { sent, cleared }, lines)
        };
        let computed = {
            let docs = self.documents();
            docs.get(&key).map(|open| {
                (
                    open.document.version,
                    edits_for(&open.document, &flight, &lines, self.inner.encoding),
                )
            })
        };
        let Some((version, edits)) = computed else {
            self.give_back(path, flight);
            return Flush::Idle;
        };
        let Some(edits) = edits else {
            self.give_back(path, flight);
            self.report_once(
                MessageLevel::Warning,
                format!("the Codex transcript lost its \"{ASK_HEADING}\" line: add it back (last in the document) to see new turns"),
            );
            return Flush::Idle;
        };
        if edits.is_empty() {
            self.commit(path, flight);
            return Flush::Again;
        }
        let edit = BufferEdit {
            uri: self.documents().editor_uri(&key),
            version,
            edits,
            label: "Codex: transcript".into(),
            group: None,
        };
        // Not guarded by [`Self::apply_buffer_edit`]: these edits touch only the text above
        // the ask section, which the user's typing in the draft (the keystrokes an editor may
        // send out of order) cannot move; a refused one is recomputed.
        match self.inner.ui.apply_edit(edit).await {
            EditOutcome::Applied => {
                *refused_before = 0;
                self.commit(path, flight);
                self.wait_for_chat_version(&key, version).await;
                Flush::Again
            }
            EditOutcome::Rejected(reason) => {
                self.give_back(path, flight);
                *refused_before += 1;
                if *refused_before >= MAX_REFUSALS {
                    tracing::warn!(?reason, "the editor keeps refusing the transcript's edits");
                    self.report_once(
                        MessageLevel::Warning,
                        "the editor keeps refusing the Codex transcript's updates; reopen it with codex.openTranscript".into(),
                    );
                    return Flush::Gone;
                }
                // The user typed: the next try is computed against the newer text.
                self.wait_for_chat_version(&key, version).await;
                Flush::Again
            }
            EditOutcome::Failed(why) => {
                self.give_back(path, flight);
                tracing::warn!(%why, "a transcript edit failed");
                Flush::Idle
            }
        }
    }

    fn commit(&self, path: &Path, flight: Flight) {
        if let Some(doc) = lock(&self.inner.chat.docs).get_mut(path) {
            for (_, id, sent) in flight.sent {
                if let Some(turn) = doc.turns.iter_mut().find(|t| t.turn_id == id) {
                    turn.lines = sent.lines_after(turn.lines);
                }
            }
        }
    }

    fn give_back(&self, path: &Path, flight: Flight) {
        if let Some(doc) = lock(&self.inner.chat.docs).get_mut(path) {
            for (_, id, mut sent) in flight.sent {
                let Some(turn) = doc.turns.iter_mut().find(|t| t.turn_id == id) else {
                    continue;
                };
                if let Some(later) = turn.pending.take() {
                    let later = Update {
                        markdown: later.text,
                        replace_from_line: later.from_line,
                    };
                    sent.then(&later, turn.lines);
                }
                turn.pending = Some(sent);
            }
            if doc.clear_ask.is_none() {
                doc.clear_ask = flight.cleared;
            }
        }
    }

    /// Waits (briefly) until the document moves past `version`: the echo of an edit.
    async fn wait_for_chat_version(&self, key: &str, version: i32) {
        let deadline = tokio::time::Instant::now() + ECHO_WAIT;
        loop {
            let changed = self.inner.documents.next_change();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.documents().get(key) {
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

/// The edits that bring the document up to date (`None`: it has no ask heading). `lines`
/// holds each followed turn's complete lines in the document; the turns are the last part
/// of the transcript, which ends at the end of the line above the heading.
fn edits_for(
    document: &crate::text::Document,
    flight: &Flight,
    lines: &[usize],
    encoding: crate::text::PositionEncoding,
) -> Option<Vec<TextEdit>> {
    let rope = document.rope();
    let heading = (0..rope.len_lines()).rev().find(|&i| {
        let line = rope.line(i);
        line.len_bytes() <= ASK_HEADING.len() + 2
            && line.to_string().trim_end_matches(['\n', '\r']) == ASK_HEADING
    })?;
    if heading == 0 {
        return None;
    }
    // The transcript's end: before the line break above the heading.
    let mut end_char = rope.line_to_char(heading) - 1;
    if end_char > 0 && rope.char(end_char - 1) == '\r' {
        end_char -= 1;
    }
    let end = document.char_to_position(end_char, encoding).ok()?;
    let last_line = end.line as usize;
    let mut edits = Vec::new();
    // Each turn starts where the lines of it and the turns after it begin.
    let starts: Vec<usize> = (0..lines.len())
        .map(|i| last_line.saturating_sub(lines[i..].iter().sum::<usize>()))
        .collect();
    for (i, _, pending) in &flight.sent {
        let turn_end = match starts.get(i + 1) {
            Some(&next) => Position::new(next as u32, 0),
            None => end,
        };
        let from = match pending.from_line {
            Some(line) => Position::new((starts[*i] + line) as u32, 0).min(turn_end),
            None => turn_end,
        };
        edits.push(TextEdit::new(
            Range::new(from, turn_end),
            pending.text.clone(),
        ));
    }
    if let Some(sent) = &flight.cleared {
        let after = rope.line_to_char(heading) + ASK_HEADING.chars().count();
        let written: String = rope.slice(after..).to_string();
        // Only the prompt that was sent goes: anything else the user wrote since stays.
        if chat_text::prompt_in(&written) == *sent {
            let from = document.char_to_position(after, encoding).ok()?;
            let to = document.char_to_position(rope.len_chars(), encoding).ok()?;
            edits.push(TextEdit::new(Range::new(from, to), chat_text::ask_tail()));
        }
    }
    Some(edits)
}

/// Keeps one transcript document current until it is closed or replaced.
async fn keep_current(bridge: Weak<Inner>, path: PathBuf, wake: Arc<Notify>) {
    let mut refused = 0;
    loop {
        let Some(inner) = bridge.upgrade() else {
            return;
        };
        let bridge_now = Bridge { inner };
        // Replaced by a newer open of the same file: that one's worker takes over.
        let current = lock(&bridge_now.inner.chat.docs)
            .get(&path)
            .is_some_and(|d| Arc::ptr_eq(&d.wake, &wake));
        if !current {
            return;
        }
        match bridge_now.flush_chat(&path, &mut refused).await {
            Flush::Gone => return,
            Flush::Again => continue,
            Flush::Idle => {}
        }
        drop(bridge_now);
        wake.notified().await;
    }
}
