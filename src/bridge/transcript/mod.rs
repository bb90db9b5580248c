//! One transcript of a thread, rendered by the server: `codex.transcript` renders the
//! thread's history (`thread/read`), and `codex/transcript` notifications carry each
//! running turn's updates. What the history does not hold (the unsaved buffers sent,
//! approvals and their answers, plan updates, token usage) is kept here per turn, for as
//! long as codex-lsp runs.

pub(crate) mod chat;
pub(crate) mod chat_text;
pub(crate) mod completion;
pub(crate) mod live;
pub(crate) mod render;

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use super::{lock, Bridge, BridgeResult, TranscriptUpdate, TurnOutcome};
use crate::app_server::protocol::{self as p, ServerNotification};
use live::{LiveTurn, Update};
pub use render::{Note, TurnNotes};

/// Per turn id: its thread, its notes, its live state while it runs.
#[derive(Default)]
pub(crate) struct Transcripts {
    turns: HashMap<String, TurnRecord>,
}

struct TurnRecord {
    thread_id: String,
    notes: TurnNotes,
    live: Option<LiveTurn>,
}

impl Transcripts {
    fn record(&mut self, thread_id: &str, turn_id: &str) -> &mut TurnRecord {
        // Looked up first: most calls find the record, and need not copy the id.
        if !self.turns.contains_key(turn_id) {
            let record = TurnRecord {
                thread_id: thread_id.to_string(),
                notes: TurnNotes::default(),
                live: None,
            };
            self.turns.insert(turn_id.to_string(), record);
        }
        self.turns.get_mut(turn_id).expect("inserted above")
    }
}

impl Bridge {
    /// The unsaved buffers and the `@` mentions' files that went with a turn's prompt
    /// (before the turn is followed).
    pub(super) fn transcript_context(
        &self,
        thread_id: &str,
        turn_id: &str,
        unsaved: Vec<String>,
        attached: Vec<String>,
    ) {
        let mut all = lock(&self.inner.transcripts);
        let notes = &mut all.record(thread_id, turn_id).notes;
        notes.unsaved = unsaved;
        notes.attached = attached;
    }

    /// A followed turn starts: its header.
    pub(super) fn transcript_begin(&self, thread_id: &str, turn_id: &str, folder: Option<&Path>) {
        let update = {
            let mut all = lock(&self.inner.transcripts);
            let record = all.record(thread_id, turn_id);
            if record.live.is_some() {
                return;
            }
            let (live, update) = LiveTurn::start(folder.map(Path::to_path_buf));
            record.live = Some(live);
            update
        };
        self.send_transcript(thread_id, turn_id, update);
    }

    /// A reply delta of a followed turn, read where it lies: the bulk of a turn, and
    /// nothing the notes need, so no cost for an editor that does not display it.
    pub(super) fn transcript_delta(
        &self,
        thread_id: &str,
        turn_id: &str,
        item_id: &str,
        delta: &str,
    ) {
        if !self.transcript_wanted() {
            return;
        }
        let update = lock(&self.inner.transcripts)
            .record(thread_id, turn_id)
            .live
            .as_mut()
            .and_then(|l| l.delta(item_id, delta));
        if let Some(update) = update {
            self.send_transcript(thread_id, turn_id, update);
        }
    }

    /// One notification of a followed turn, as the bridge decoded it.
    pub(super) fn transcript_event(
        &self,
        thread_id: &str,
        turn_id: &str,
        notification: &ServerNotification,
    ) {
        use ServerNotification as N;
        // A delta (the bulk of a turn with streamEvents on) is nothing the notes need.
        if matches!(notification, N::AgentMessageDelta(_)) && !self.transcript_wanted() {
            return;
        }
        let update = {
            let mut all = lock(&self.inner.transcripts);
            let record = all.record(thread_id, turn_id);
            match notification {
                N::AgentMessageDelta(d) => record
                    .live
                    .as_mut()
                    .and_then(|l| l.delta(&d.item_id, &d.delta)),
                N::ItemCompleted(n) => {
                    let notes = &record.notes;
                    record
                        .live
                        .as_mut()
                        .and_then(|l| l.item_completed(&n.item, notes))
                }
                N::TurnPlanUpdated(n) => {
                    let note = Note::Plan {
                        explanation: n.explanation.clone(),
                        steps: n.plan.clone(),
                    };
                    let same = record.notes.notes.last().map(|(_, last)| last) == Some(&note);
                    if same {
                        return;
                    }
                    add_note(record, note)
                }
                N::ThreadTokenUsageUpdated(n) => {
                    record.notes.tokens = Some(n.token_usage.clone());
                    None
                }
                N::TurnCompleted(n) => {
                    let notes = &record.notes;
                    record.live.as_mut().and_then(|l| l.ended(&n.turn, notes))
                }
                _ => None,
            }
        };
        if let Some(update) = update {
            self.send_transcript(thread_id, turn_id, update);
        }
    }

    /// An approval asked in a turn, and how it was answered.
    pub(super) fn transcript_approval(
        &self,
        thread_id: &str,
        turn_id: &str,
        what: String,
        answer: String,
    ) {
        let update = {
            let mut all = lock(&self.inner.transcripts);
            add_note(
                all.record(thread_id, turn_id),
                Note::Approval { what, answer },
            )
        };
        if let Some(update) = update {
            self.send_transcript(thread_id, turn_id, update);
        }
    }

    /// A followed turn is over (ended, failed, or lost with the app-server): a footer if
    /// none was sent (the turn's end as `outcome` tells it); its live state goes.
    pub(super) fn transcript_end(&self, outcome: &TurnOutcome) {
        let (thread_id, turn_id) = (&outcome.thread_id, &outcome.turn_id);
        let update = {
            let mut all = lock(&self.inner.transcripts);
            let record = all.record(thread_id, turn_id);
            let mut live = record.live.take();
            let notes = &record.notes;
            live.as_mut().filter(|l| !l.is_ended()).and_then(|l| {
                let turn = p::Turn {
                    id: turn_id.clone(),
                    status: outcome.status.clone(),
                    error: outcome.error.clone(),
                    duration_ms: outcome.duration_ms,
                    ..Default::default()
                };
                l.ended(&turn, notes)
            })
        };
        if let Some(update) = update {
            self.send_transcript(thread_id, turn_id, update);
        }
        self.chat_turn_ended(thread_id, turn_id);
    }

    fn send_transcript(&self, thread_id: &str, turn_id: &str, update: Update) {
        self.chat_update(thread_id, turn_id, &update);
        if !self.inner.ui.wants_transcript() {
            return;
        }
        self.inner.ui.transcript(TranscriptUpdate {
            thread_id: thread_id.to_string(),
            turn_id: turn_id.to_string(),
            markdown: update.markdown,
            replace_from_line: update
                .replace_from_line
                .map(|line| u32::try_from(line).unwrap_or(u32::MAX)),
        });
    }

    /// `codex.transcript`: the thread's Markdown (default: the workspace's thread) and the
    /// line each turn starts on.
    pub async fn transcript(
        &self,
        thread_id: Option<&str>,
        path: Option<&Path>,
    ) -> BridgeResult<Value> {
        let id = self.thread_or_current(thread_id, path).await?;
        let rendered = self.render_thread(&id, &[]).await?;
        Ok(json!({
            "threadId": id,
            "markdown": rendered.markdown,
            "turns": rendered.turns.iter().map(|(turn_id, line)| json!({ "turnId": turn_id, "line": line })).collect::<Vec<_>>(),
        }))
    }
}

impl Bridge {
    /// The thread's history as Markdown, with the notes this process kept of its turns,
    /// without the turns `leave_out` names.
    pub(super) async fn render_thread(
        &self,
        id: &str,
        leave_out: &[String],
    ) -> BridgeResult<render::Rendered> {
        let (codex, _) = self.codex().await?;
        let mut thread = codex.thread_read(id, true).await?;
        thread.turns.retain(|t| !leave_out.contains(&t.id));
        let all = lock(&self.inner.transcripts);
        Ok(render::thread(&thread, |turn_id| {
            all.turns
                .get(turn_id)
                .filter(|r| r.thread_id == id)
                .map(|r| r.notes.clone())
        }))
    }
}

impl Bridge {
    /// One turn of the thread as the history holds it (`None`: it holds no such turn).
    pub(super) async fn render_turn(
        &self,
        thread_id: &str,
        turn_id: &str,
    ) -> BridgeResult<Option<String>> {
        let (codex, _) = self.codex().await?;
        let thread = codex.thread_read(thread_id, true).await?;
        let Some(turn) = thread.turns.iter().find(|t| t.id == turn_id) else {
            return Ok(None);
        };
        let notes = lock(&self.inner.transcripts)
            .turns
            .get(turn_id)
            .map(|r| r.notes.clone())
            .unwrap_or_default();
        Ok(Some(render::turn(
            turn,
            &notes,
            Some(Path::new(&thread.cwd)),
        )))
    }
}

/// Records a note where the live turn is (at the end for a turn not followed).
fn add_note(record: &mut TurnRecord, note: Note) -> Option<Update> {
    let (at, update) = match record.live.as_mut() {
        Some(live) => live.note(&note),
        None => (usize::MAX, None),
    };
    record.notes.notes.push((at, note));
    update
}

#[cfg(test)]
mod tests;
