//! The document store: the open documents (one short std lock, never held across an
//! await), the wake-up the mirror waits on for the editor's `didChange`, and the mirror's
//! job queue, whose worker starts with the first job.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::Notify;

use super::documents::Documents;
use super::mirror::MirrorJob;
use crate::lock;

#[derive(Default)]
pub(in crate::bridge) struct DocumentStore {
    documents: Mutex<Documents>,
    /// Woken on every `didChange` and `didClose`: the mirror waits for the editor's echo of
    /// its edits.
    changed: Notify,
    mirror_jobs: Mutex<Option<UnboundedSender<MirrorJob>>>,
}

impl DocumentStore {
    /// The open documents. Keep the guard short: never hold it across an await.
    pub(in crate::bridge) fn lock(&self) -> MutexGuard<'_, Documents> {
        lock(&self.documents)
    }

    /// A document changed or closed: wakes whoever waits for that.
    pub(in crate::bridge) fn changed(&self) {
        self.changed.notify_waiters();
    }

    /// Resolves at the next [`DocumentStore::changed`] (enable it before reading the
    /// documents, so that no change is missed).
    pub(in crate::bridge) fn next_change(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    /// Queues a mirror job; the first one starts the worker with `start_worker`.
    pub(in crate::bridge) fn queue_mirror(
        &self,
        job: MirrorJob,
        start_worker: impl FnOnce(UnboundedReceiver<MirrorJob>),
    ) {
        let mut sender = lock(&self.mirror_jobs);
        let sender = sender.get_or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            start_worker(rx);
            tx
        });
        let _ = sender.send(job);
    }
}
