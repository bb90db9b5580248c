//! A turn's transcript as it happens: each event becomes the Markdown to append (or, rarely,
//! the lines to replace), costing work in proportion to the event, not to the transcript.
//! Pure: the caller feeds the app-server's events and the turn's notes and sends the
//! updates. Once the turn ended, the updates concatenate to [`render::turn`] of the
//! turn as the history holds it.

use std::path::PathBuf;

use super::render::{self, Note, Quoter, TurnNotes};
use crate::app_server::protocol as p;

/// What to do to the turn's text: drop its lines from `replace_from_line` on (if set),
/// then append `markdown` (which may continue the last line).
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub markdown: String,
    pub replace_from_line: Option<usize>,
}

/// A reply being streamed.
#[derive(Debug)]
struct Streaming {
    item_id: String,
    /// The line its section starts on.
    start_line: usize,
    text: String,
    quoter: Quoter,
}

/// The state of one turn's transcript.
#[derive(Debug, Default)]
pub struct LiveTurn {
    /// Complete lines sent so far.
    lines: usize,
    /// Items completed so far (where a note lands).
    items: usize,
    seen_user_message: bool,
    /// The thread's folder: paths show relative to it.
    cwd: Option<PathBuf>,
    streaming: Option<Streaming>,
    /// Notes that came while a reply streamed: they follow it.
    held: Vec<(usize, Note)>,
    ended: bool,
}

impl LiveTurn {
    /// The turn started (on a thread in `cwd`): its header.
    pub fn start(cwd: Option<PathBuf>) -> (LiveTurn, Update) {
        let mut live = LiveTurn {
            cwd,
            ..LiveTurn::default()
        };
        let update = live.append(render::header());
        (live, update)
    }

    /// A reply's text streams in.
    pub fn delta(&mut self, item_id: &str, delta: &str) -> Option<Update> {
        if self.ended {
            return None;
        }
        let mut out = String::new();
        match &mut self.streaming {
            Some(s) if s.item_id == item_id => {
                s.quoter.push(delta, &mut out);
                s.text.push_str(delta);
            }
            // Another reply while one streams: it shows whole when it completes.
            Some(_) => return None,
            None => {
                let mut quoter = Quoter::default();
                out.push_str(render::REPLY_HEADING);
                quoter.push(delta, &mut out);
                self.streaming = Some(Streaming {
                    item_id: item_id.to_string(),
                    start_line: self.lines,
                    text: delta.to_string(),
                    quoter,
                });
            }
        }
        Some(self.append(out))
    }

    /// An item completed: its section (a streamed reply: its end, or whole again if it
    /// did not end as it streamed).
    pub fn item_completed(&mut self, item: &p::ThreadItem, notes: &TurnNotes) -> Option<Update> {
        if self.ended {
            return None;
        }
        let sent_with = match item {
            p::ThreadItem::UserMessage(_) if !self.seen_user_message => {
                self.seen_user_message = true;
                Some(notes)
            }
            _ => None,
        };
        self.items += 1;
        let streamed = match &self.streaming {
            Some(s) if item.id() == Some(s.item_id.as_str()) => self.streaming.take(),
            _ => None,
        };
        let mut update = match (streamed, item) {
            (Some(mut s), p::ThreadItem::AgentMessage(m)) if m.text == s.text => {
                let mut out = String::new();
                s.quoter.finish(&mut out);
                self.append(out)
            }
            (Some(s), _) => {
                self.lines = s.start_line;
                let mut update =
                    self.append(render::item_section(item, sent_with, self.cwd.as_deref()));
                update.replace_from_line = Some(s.start_line);
                update
            }
            (None, _) => self.append(render::item_section(item, sent_with, self.cwd.as_deref())),
        };
        if self.streaming.is_none() && !self.held.is_empty() {
            let held = TurnNotes {
                notes: std::mem::take(&mut self.held),
                ..TurnNotes::default()
            };
            let notes = render::notes_at(&held, self.items);
            update.markdown.push_str(&notes);
            self.lines += notes.matches('\n').count();
        }
        Some(update)
    }

    /// A note (an approval answered, a plan update): after how many items it lands, and
    /// its update (none while a reply streams: it follows the reply).
    pub fn note(&mut self, note: &Note) -> (usize, Option<Update>) {
        if self.streaming.is_some() && !self.ended {
            let at = self.items + 1;
            self.held.push((at, note.clone()));
            return (at, None);
        }
        let at = self.items;
        if self.ended {
            return (at, None);
        }
        let notes = TurnNotes {
            notes: vec![(at, note.clone())],
            ..TurnNotes::default()
        };
        (at, Some(self.append(render::notes_at(&notes, at))))
    }

    /// The turn ended: its footer.
    pub fn ended(&mut self, turn: &p::Turn, notes: &TurnNotes) -> Option<Update> {
        if self.ended {
            return None;
        }
        self.ended = true;
        let mut out = String::new();
        if let Some(mut s) = self.streaming.take() {
            // A reply that never completed ends where it stopped.
            s.quoter.finish(&mut out);
        }
        for (at, note) in std::mem::take(&mut self.held) {
            let held = TurnNotes {
                notes: vec![(at, note)],
                ..TurnNotes::default()
            };
            out.push_str(&render::notes_at(&held, at));
        }
        out.push_str(&render::footer(turn, notes.tokens.as_ref()));
        Some(self.append(out))
    }

    pub fn is_ended(&self) -> bool {
        self.ended
    }

    fn append(&mut self, markdown: String) -> Update {
        self.lines += markdown.matches('\n').count();
        Update {
            markdown,
            replace_from_line: None,
        }
    }
}
