//! The turn registry: the turns we follow, the asks queued per thread behind a running
//! turn and the slot each running ask holds, our own turn starts in flight, and the
//! `fileChange` items approvals refer to. Short std locks, never held across an await.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use super::turns::TurnOutcome;
use crate::app_server::protocol as p;
use crate::lock;

/// What a followed turn is: its progress title, and what happens when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::bridge) enum TurnKind {
    Ask,
    /// A `review/start` turn: its findings become diagnostics when it ends.
    Review,
    /// A turn another client started on a thread we follow (a shared app-server).
    Followed,
}

pub(in crate::bridge) enum Hint {
    /// `Some(what to show)` while an approval waits; `None` once it is answered.
    WaitingForApproval(Option<String>),
    /// How many asks are queued behind the turn.
    Queued(usize),
}

pub(in crate::bridge) struct ActiveTurn {
    pub thread_id: String,
    pub turn_id: String,
    pub progress_token: String,
    pub(super) hints: mpsc::UnboundedSender<Hint>,
    pub(super) done: watch::Receiver<Option<Arc<TurnOutcome>>>,
}

/// The asks of each thread: whether one's turn runs, and who waits for it.
type Queues = Mutex<HashMap<String, ThreadQueue>>;

#[derive(Default)]
struct ThreadQueue {
    busy: bool,
    waiting: VecDeque<oneshot::Sender<ThreadSlot>>,
}

/// A thread's turn slot: held from an ask's start until its turn ended; dropping it hands
/// it to the next queued ask, or frees the thread.
pub(in crate::bridge) struct ThreadSlot {
    queues: Weak<Queues>,
    thread_id: String,
    armed: bool,
}

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Some(queues) = self.queues.upgrade() else {
            return;
        };
        loop {
            let next = {
                let mut queues = lock(&queues);
                let Some(queue) = queues.get_mut(&self.thread_id) else {
                    return;
                };
                match queue.waiting.pop_front() {
                    Some(next) => next,
                    None => {
                        queues.remove(&self.thread_id);
                        return;
                    }
                }
            };
            let slot = ThreadSlot {
                queues: self.queues.clone(),
                thread_id: self.thread_id.clone(),
                armed: true,
            };
            match next.send(slot) {
                Ok(()) => return,
                // That ask went away (its request was cancelled): the next one.
                Err(mut slot) => slot.armed = false,
            }
        }
    }
}

/// Our `turn/start` (or `review/start`) requests in flight, by thread: a `turn/started`
/// on such a thread may be our own turn, not yet registered.
#[derive(Default)]
struct Starting {
    by_thread: Mutex<HashMap<String, usize>>,
    settled: Notify,
}

/// Held while our own turn is being started and registered on a thread.
pub(in crate::bridge) struct StartingTurn {
    starting: Arc<Starting>,
    thread_id: String,
}

impl Drop for StartingTurn {
    fn drop(&mut self) {
        let mut by_thread = lock(&self.starting.by_thread);
        if let Some(n) = by_thread.get_mut(&self.thread_id) {
            *n -= 1;
            if *n == 0 {
                by_thread.remove(&self.thread_id);
            }
        }
        drop(by_thread);
        self.starting.settled.notify_waiters();
    }
}

#[derive(Default)]
pub(in crate::bridge) struct TurnRegistry {
    /// The turns we follow, by turn id.
    turns: Mutex<HashMap<String, Arc<ActiveTurn>>>,
    /// The asks queued per thread behind a running turn.
    queues: Arc<Queues>,
    /// The thread slot each running ask's turn holds, by turn id.
    slots: Mutex<HashMap<String, ThreadSlot>>,
    starting: Arc<Starting>,
    /// `fileChange` items seen in `item/started`, by item id: approvals carry no paths.
    file_changes: Mutex<HashMap<String, p::FileChangeItem>>,
}

impl TurnRegistry {
    /// The turn followed as `turn_id`, or the one `follow` makes, registered; true when new.
    pub(in crate::bridge) fn follow(
        &self,
        turn_id: &str,
        follow: impl FnOnce() -> ActiveTurn,
    ) -> (Arc<ActiveTurn>, bool) {
        let mut turns = lock(&self.turns);
        if let Some(active) = turns.get(turn_id) {
            return (active.clone(), false);
        }
        let active = Arc::new(follow());
        turns.insert(turn_id.to_string(), active.clone());
        (active, true)
    }

    pub(in crate::bridge) fn is_running(&self, turn_id: &str) -> bool {
        lock(&self.turns).contains_key(turn_id)
    }

    pub(in crate::bridge) fn is_empty(&self) -> bool {
        lock(&self.turns).is_empty()
    }

    /// The turn ended: no longer followed.
    pub(in crate::bridge) fn ended(&self, turn_id: &str) {
        lock(&self.turns).remove(turn_id);
    }

    /// Forgets every turn (shutdown).
    pub(in crate::bridge) fn clear(&self) {
        lock(&self.turns).clear();
    }

    /// `(thread id, turn id)` of the running turns `matches` picks.
    pub(in crate::bridge) fn running_where(
        &self,
        matches: impl Fn(&ActiveTurn) -> bool,
    ) -> Vec<(String, String)> {
        lock(&self.turns)
            .values()
            .filter(|t| matches(t))
            .map(|t| (t.thread_id.clone(), t.turn_id.clone()))
            .collect()
    }

    /// `(thread id, turn id)` of the first running turn `matches` picks.
    pub(in crate::bridge) fn first_where(
        &self,
        matches: impl Fn(&ActiveTurn) -> bool,
    ) -> Option<(String, String)> {
        lock(&self.turns)
            .values()
            .find(|t| matches(t))
            .map(|t| (t.thread_id.clone(), t.turn_id.clone()))
    }

    /// Tells the turn's progress something.
    pub(in crate::bridge) fn hint(&self, turn_id: &str, hint: Hint) {
        if let Some(active) = lock(&self.turns).get(turn_id) {
            let _ = active.hints.send(hint);
        }
    }

    /// The running turns for `codex.status`.
    pub(in crate::bridge) fn status_json(&self) -> Vec<Value> {
        lock(&self.turns)
            .values()
            .map(|t| json!({ "threadId": t.thread_id, "turnId": t.turn_id }))
            .collect()
    }

    /// The thread's turn slot, or (when an ask's turn holds it) a place in its queue: the
    /// receiver gets the slot when it is this ask's turn, or an error when the queue is
    /// cancelled; and how many wait, this one included.
    pub(in crate::bridge) fn take_slot(
        &self,
        thread_id: &str,
    ) -> Result<ThreadSlot, (oneshot::Receiver<ThreadSlot>, usize)> {
        let mut queues = lock(&self.queues);
        let queue = queues.entry(thread_id.to_string()).or_default();
        if !queue.busy {
            queue.busy = true;
            return Ok(ThreadSlot {
                queues: Arc::downgrade(&self.queues),
                thread_id: thread_id.to_string(),
                armed: true,
            });
        }
        let (tx, rx) = oneshot::channel();
        queue.waiting.push_back(tx);
        let position = queue.waiting.len();
        drop(queues);
        self.hint_queued(thread_id);
        Err((rx, position))
    }

    /// Gives the thread's slot to the turn: held until it ended, so the next queued
    /// request waits for it.
    pub(in crate::bridge) fn hold_slot(&self, turn_id: &str, slot: ThreadSlot) {
        lock(&self.slots).insert(turn_id.to_string(), slot);
    }

    /// The slot the ended turn held; dropping it starts the next queued ask.
    pub(in crate::bridge) fn release_slot(&self, turn_id: &str) -> Option<ThreadSlot> {
        lock(&self.slots).remove(turn_id)
    }

    /// How many asks wait on the thread.
    pub(in crate::bridge) fn queued_on(&self, thread_id: &str) -> usize {
        lock(&self.queues)
            .get(thread_id)
            .map_or(0, |q| q.waiting.iter().filter(|w| !w.is_closed()).count())
    }

    /// `{threadId: how many asks wait}` for `codex.status`.
    pub(in crate::bridge) fn queued_asks(&self) -> Value {
        let threads: Vec<String> = lock(&self.queues).keys().cloned().collect();
        let counts: serde_json::Map<String, Value> = threads
            .into_iter()
            .map(|thread| {
                let count = self.queued_on(&thread);
                (thread, json!(count))
            })
            .filter(|(_, count)| count != &json!(0))
            .collect();
        Value::Object(counts)
    }

    /// Tells the thread's running turns how many asks wait behind them.
    pub(in crate::bridge) fn hint_queued(&self, thread_id: &str) {
        let queued = self.queued_on(thread_id);
        for active in lock(&self.turns).values() {
            if active.thread_id == thread_id {
                let _ = active.hints.send(Hint::Queued(queued));
            }
        }
    }

    /// Drops the asks queued on the thread (an interrupt): each is told it was cancelled.
    pub(in crate::bridge) fn cancel_queue(&self, thread_id: &str) -> usize {
        let dropped = lock(&self.queues)
            .get_mut(thread_id)
            .map(|q| std::mem::take(&mut q.waiting))
            .unwrap_or_default();
        let count = dropped.len();
        drop(dropped);
        if count > 0 {
            tracing::info!(thread = %thread_id, count, "an interrupt cancelled the queued asks");
            self.hint_queued(thread_id);
        }
        count
    }

    /// Marks our own turn as being started on `thread_id` until the guard is dropped.
    pub(in crate::bridge) fn starting_turn(&self, thread_id: &str) -> StartingTurn {
        *lock(&self.starting.by_thread)
            .entry(thread_id.to_string())
            .or_default() += 1;
        StartingTurn {
            starting: self.starting.clone(),
            thread_id: thread_id.to_string(),
        }
    }

    /// Whether one of our own turn starts on the thread has not settled yet.
    pub(in crate::bridge) fn start_in_flight(&self, thread_id: &str) -> bool {
        lock(&self.starting.by_thread)
            .get(thread_id)
            .is_some_and(|n| *n > 0)
    }

    /// Resolves when one of our turn starts settles (take it before checking
    /// [`TurnRegistry::start_in_flight`], so that no settling is missed).
    pub(in crate::bridge) fn starts_settled(&self) -> tokio::sync::futures::Notified<'_> {
        self.starting.settled.notified()
    }

    /// Keeps a `fileChange` item for the approval that may ask about it.
    pub(in crate::bridge) fn remember_file_change(&self, item: p::FileChangeItem) {
        let mut changes = lock(&self.file_changes);
        if changes.len() > 256 {
            changes.clear();
        }
        changes.insert(item.id.clone(), item);
    }

    pub(in crate::bridge) fn file_change(&self, item_id: &str) -> Option<p::FileChangeItem> {
        lock(&self.file_changes).get(item_id).cloned()
    }
}
