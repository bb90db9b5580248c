//! Threads: one per workspace folder, created on first use and resumed after a restart
//! (of the editor: found by `thread/list` on the folder; of the app-server: by id).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::app_server::{protocol as p, Codex};
use crate::bridge::{Bridge, BridgeError, BridgeResult};

#[derive(Default)]
pub(in crate::bridge) struct Threads {
    by_folder: HashMap<PathBuf, String>,
    /// Threads loaded in app-server incarnation `loaded_generation`.
    loaded: HashSet<String>,
    loaded_generation: u64,
}

impl Threads {
    pub(in crate::bridge) fn by_folder_json(&self) -> Value {
        let map: serde_json::Map<String, Value> = self
            .by_folder
            .iter()
            .map(|(f, t)| (f.display().to_string(), json!(t)))
            .collect();
        Value::Object(map)
    }

    pub(in crate::bridge) fn is_loaded(&mut self, generation: u64, thread_id: &str) -> bool {
        if self.loaded_generation != generation {
            self.loaded.clear();
            self.loaded_generation = generation;
        }
        self.loaded.contains(thread_id)
    }

    pub(in crate::bridge) fn mark_loaded(&mut self, generation: u64, thread_id: &str) {
        if self.loaded_generation != generation {
            self.loaded.clear();
            self.loaded_generation = generation;
        }
        self.loaded.insert(thread_id.to_string());
    }

    pub(in crate::bridge) fn set_folder_thread(&mut self, folder: PathBuf, thread_id: &str) {
        self.by_folder.insert(folder, thread_id.to_string());
    }

    pub(in crate::bridge) fn folder_thread(&self, folder: &Path) -> Option<String> {
        self.by_folder.get(folder).cloned()
    }
}

/// `thread/list` of a folder's threads (all folders: `None`), most recently updated first.
fn list_params(folder: Option<&Path>, limit: u64) -> p::ThreadListParams {
    p::ThreadListParams {
        cwd: folder.map(|f| Value::String(f.display().to_string())),
        limit: Some(limit),
        sort_key: Some("updated_at".into()),
        ..Default::default()
    }
}

impl Bridge {
    async fn start_thread(&self, codex: &Codex, folder: Option<&Path>) -> BridgeResult<String> {
        // The user's model, sandbox and approval policy (as `resume` sends them).
        let settings = self.settings();
        let params = p::ThreadStartParams {
            approval_policy: Some(settings.approval_policy.to_protocol()),
            sandbox: Some(settings.sandbox.to_protocol()),
            cwd: folder.map(|f| f.display().to_string()),
            model: settings.model,
            ..Default::default()
        };
        let id = codex.send(&params).await?.thread.id;
        if id.is_empty() {
            return Err(BridgeError::NoThreadId);
        }
        tracing::info!(thread = %id, folder = ?folder, "started a thread");
        Ok(id)
    }

    pub(in crate::bridge) async fn resume(
        &self,
        codex: &Codex,
        thread_id: &str,
        folder: Option<&Path>,
    ) -> BridgeResult<()> {
        let settings = self.settings();
        let params = p::ThreadResumeParams {
            thread_id: thread_id.into(),
            exclude_turns: Some(true),
            approval_policy: Some(settings.approval_policy.to_protocol()),
            sandbox: Some(settings.sandbox.to_protocol()),
            cwd: folder.map(|f| f.display().to_string()),
            model: settings.model,
            ..Default::default()
        };
        codex.send(&params).await?;
        tracing::info!(thread = %thread_id, "resumed a thread");
        Ok(())
    }

    /// The thread an ask runs on: `explicit`, else a new one (`new_thread`), else the
    /// folder's. Holding the lock across creation makes concurrent asks share one thread.
    pub(in crate::bridge) async fn thread_for(
        &self,
        explicit: Option<&str>,
        new_thread: bool,
        folder: Option<&Path>,
    ) -> BridgeResult<(Codex, String)> {
        let (codex, generation) = self.codex().await?;
        let mut threads = self.inner.threads.lock().await;
        if let Some(id) = explicit {
            if !threads.is_loaded(generation, id) {
                self.resume(&codex, id, None).await?;
                threads.mark_loaded(generation, id);
            }
            self.follow_thread(&codex, generation, id);
            return Ok((codex, id.to_string()));
        }
        let known = folder.and_then(|f| threads.folder_thread(f));
        let id = match (new_thread, known) {
            (false, Some(id)) => {
                if !threads.is_loaded(generation, &id) {
                    self.resume(&codex, &id, folder).await?;
                }
                id
            }
            (false, None) => match self.last_thread_of(&codex, folder).await {
                Some(id) => match self.resume(&codex, &id, folder).await {
                    Ok(()) => id,
                    Err(e) => {
                        tracing::warn!("could not resume thread {id}: {e}; starting a new one");
                        self.start_thread(&codex, folder).await?
                    }
                },
                None => self.start_thread(&codex, folder).await?,
            },
            (true, _) => self.start_thread(&codex, folder).await?,
        };
        threads.mark_loaded(generation, &id);
        if let Some(folder) = folder {
            threads.by_folder.insert(folder.to_path_buf(), id.clone());
        }
        self.follow_thread(&codex, generation, &id);
        Ok((codex, id))
    }

    /// The most recently updated thread recorded for `folder`.
    pub(in crate::bridge) async fn last_thread_of(
        &self,
        codex: &Codex,
        folder: Option<&Path>,
    ) -> Option<String> {
        let folder = folder?;
        match codex.send(&list_params(Some(folder), 1)).await {
            Ok(list) => list.data.into_iter().next().map(|thread| thread.id),
            Err(e) => {
                tracing::warn!("thread/list failed: {e}");
                None
            }
        }
    }

    /// The thread recorded for the workspace of `path`, if any (does not start one).
    pub(in crate::bridge) async fn known_thread(&self, path: Option<&Path>) -> Option<String> {
        let folder = self.workspace_for(path)?;
        self.inner.threads.lock().await.folder_thread(&folder)
    }

    /// The workspace's thread for reading: the one recorded, else the folder's most recently
    /// updated thread on record (after an editor restart), which becomes the folder's
    /// thread. Never starts or loads one: the next ask resumes it.
    pub(in crate::bridge) async fn current_thread(
        &self,
        path: Option<&Path>,
    ) -> BridgeResult<Option<String>> {
        let Some(folder) = self.workspace_for(path) else {
            return Ok(None);
        };
        if let Some(id) = self.inner.threads.lock().await.folder_thread(&folder) {
            return Ok(Some(id));
        }
        let (codex, _) = self.codex().await?;
        Ok(self.adopt_last_thread(&codex, &folder).await)
    }

    /// Makes `folder`'s most recently updated thread its thread, unless it has one already.
    async fn adopt_last_thread(&self, codex: &Codex, folder: &Path) -> Option<String> {
        let mut threads = self.inner.threads.lock().await;
        if let Some(id) = threads.folder_thread(folder) {
            return Some(id);
        }
        let id = self.last_thread_of(codex, Some(folder)).await?;
        tracing::info!(thread = %id, folder = ?folder, "the folder's last thread is its thread");
        threads.set_folder_thread(folder.to_path_buf(), &id);
        Some(id)
    }

    /// After start: each workspace folder's last thread becomes its thread, so that its
    /// history reads before the first ask.
    pub(in crate::bridge) async fn adopt_last_threads(&self, codex: &Codex) {
        for folder in self.folders() {
            self.adopt_last_thread(codex, &folder).await;
        }
    }

    /// `codex.newThread`: a fresh thread becomes the workspace's thread.
    pub async fn new_thread(&self, path: Option<&Path>) -> BridgeResult<Value> {
        let folder = self.workspace_for(path);
        let (_, id) = self.thread_for(None, true, folder.as_deref()).await?;
        Ok(json!({ "threadId": id }))
    }

    /// `codex.resumeThread`: the given thread becomes the workspace's thread.
    pub async fn resume_thread(&self, thread_id: &str, path: Option<&Path>) -> BridgeResult<Value> {
        let folder = self.workspace_for(path);
        let (codex, generation) = self.codex().await?;
        let mut threads = self.inner.threads.lock().await;
        self.resume(&codex, thread_id, folder.as_deref()).await?;
        threads.mark_loaded(generation, thread_id);
        if let Some(folder) = folder {
            threads.by_folder.insert(folder, thread_id.to_string());
        }
        self.follow_thread(&codex, generation, thread_id);
        Ok(json!({ "threadId": thread_id }))
    }

    /// `codex.listThreads`: the threads recorded for the workspace folder.
    pub async fn list_threads(&self, path: Option<&Path>) -> BridgeResult<Value> {
        let folder = self.workspace_for(path);
        let (codex, _) = self.codex().await?;
        let list = codex.send(&list_params(folder.as_deref(), 50)).await?;
        Ok(serde_json::to_value(list).expect("wire types serialize"))
    }

    /// The thread a command names, or else the workspace's thread (an error when it has none).
    pub(in crate::bridge) async fn thread_or_current(
        &self,
        thread_id: Option<&str>,
        path: Option<&Path>,
    ) -> BridgeResult<String> {
        match thread_id {
            Some(id) => Ok(id.to_string()),
            None => self
                .current_thread(path)
                .await?
                .ok_or(BridgeError::NoThreadYet),
        }
    }

    /// `codex.readThread`: a thread with its turns (default: the workspace's thread).
    pub async fn read_thread(
        &self,
        thread_id: Option<&str>,
        path: Option<&Path>,
    ) -> BridgeResult<Value> {
        let id = self.thread_or_current(thread_id, path).await?;
        let (codex, _) = self.codex().await?;
        let params = p::ThreadReadParams {
            thread_id: id,
            include_turns: Some(true),
        };
        let read = codex.send(&params).await?;
        Ok(serde_json::to_value(read).expect("wire types serialize"))
    }
}
