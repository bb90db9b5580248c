//! The workspace: the editor's settings and its workspace folders, as the editor last said
//! them. Each behind its own short lock; nothing else keeps them.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::settings::Settings;
use crate::lock;

pub(super) struct Workspace {
    settings: Mutex<Settings>,
    /// Canonical where they exist, so that paths compare with `starts_with`.
    folders: Mutex<Vec<PathBuf>>,
}

impl Workspace {
    pub(super) fn new(settings: Settings, folders: Vec<PathBuf>) -> Workspace {
        Workspace {
            settings: Mutex::new(settings),
            folders: Mutex::new(canonical(folders)),
        }
    }

    pub(super) fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Takes the editor's new settings; true when they need a new app-server (a new
    /// runtime path or config).
    pub(super) fn update_settings(&self, settings: Settings) -> bool {
        let mut current = lock(&self.settings);
        let restart = current.needs_restart(&settings);
        *current = settings;
        restart
    }

    pub(super) fn folders(&self) -> Vec<PathBuf> {
        lock(&self.folders).clone()
    }

    pub(super) fn set_folders(&self, folders: Vec<PathBuf>) {
        *lock(&self.folders) = canonical(folders);
    }

    /// The first folder: where our own app-server runs.
    pub(super) fn first_folder(&self) -> Option<PathBuf> {
        lock(&self.folders).first().cloned()
    }

    /// Whether `path` lies in a workspace folder (any path does when there is none).
    pub(super) fn contains(&self, path: &Path) -> bool {
        let folders = lock(&self.folders);
        folders.is_empty() || folders.iter().any(|f| path.starts_with(f))
    }

    /// The workspace folder holding `path`, else the first folder, else `path`'s directory.
    pub(super) fn folder_for(&self, path: Option<&Path>) -> Option<PathBuf> {
        let folders = self.folders();
        if let Some(path) = path {
            let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            let best = folders
                .iter()
                .filter(|f| path.starts_with(f))
                .max_by_key(|f| f.components().count());
            if let Some(best) = best {
                return Some(best.clone());
            }
            if folders.is_empty() {
                return path.parent().map(Path::to_path_buf);
            }
        }
        folders
            .first()
            .cloned()
            .or_else(|| std::env::current_dir().ok())
    }
}

fn canonical(folders: Vec<PathBuf>) -> Vec<PathBuf> {
    folders
        .into_iter()
        .map(|f| f.canonicalize().unwrap_or(f))
        .collect()
}
