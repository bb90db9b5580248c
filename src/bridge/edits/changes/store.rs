//! The record kept across editor restarts: one JSON file per workspace folder under
//! `$CODEX_HOME/codex-lsp/changes/` (`~/.codex` without it), never in the repository,
//! written whole (atomically) at each turn's end and after each keep or revert, bounded to
//! [`MAX_SAVED_BYTES`] of texts (oldest turns dropped first).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::record::{FileRecord, HunkStatus};
use super::{FileEntry, State, TurnRecord};

/// What the saved record may hold: each file's texts before and after, as saved.
pub const MAX_SAVED_BYTES: usize = 16 << 20;
/// Bumped when the format changes; an older file is ignored.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Saved {
    format: u32,
    folder: PathBuf,
    next_seq: u64,
    turns_per_thread: HashMap<String, u32>,
    turns: Vec<SavedTurn>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SavedTurn {
    seq: u64,
    number: u32,
    thread_id: String,
    turn_id: String,
    prompt: String,
    shown: bool,
    files: Vec<SavedFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SavedFile {
    path: PathBuf,
    before: Option<String>,
    after: Option<String>,
    statuses: Vec<HunkStatus>,
}

/// Where the record of `folder` is kept.
pub fn path_for(folder: &Path) -> Option<PathBuf> {
    let home = match std::env::var_os("CODEX_HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".codex"),
    };
    // FNV-1a: stable across builds, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in folder.as_os_str().as_encoded_bytes() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    Some(home.join(format!("codex-lsp/changes/{hash:016x}.json")))
}

/// The state saved in `file` for `folder`; an empty one when there is none (or it is of
/// another format or folder, or unreadable: the record is a convenience, never a failure).
pub fn load(file: &Path, folder: &Path) -> State {
    let Ok(bytes) = std::fs::read(file) else {
        return State::default();
    };
    let saved: Saved = match serde_json::from_slice(&bytes) {
        Ok(saved) => saved,
        Err(e) => {
            tracing::warn!(file = %file.display(), "ignoring the saved record of changes: {e}");
            return State::default();
        }
    };
    if saved.format != FORMAT || saved.folder != folder {
        return State::default();
    }
    let turns = saved
        .turns
        .into_iter()
        .map(|turn| TurnRecord {
            seq: turn.seq,
            number: turn.number,
            thread_id: turn.thread_id,
            turn_id: turn.turn_id,
            prompt: turn.prompt,
            shown: turn.shown,
            files: turn
                .files
                .into_iter()
                .map(|file| {
                    let mut record = FileRecord::new(file.before, file.after);
                    if record.hunks.len() == file.statuses.len() {
                        for (hunk, status) in record.hunks.iter_mut().zip(file.statuses) {
                            hunk.status = status;
                        }
                    }
                    FileEntry {
                        path: file.path,
                        record,
                    }
                })
                .collect(),
        })
        .collect();
    State {
        turns,
        next_seq: saved.next_seq,
        turns_per_thread: saved.turns_per_thread,
        ..State::default()
    }
}

/// Writes `state` for `folder` to `file`, newest turns first until the bound.
pub fn save(file: &Path, folder: &Path, state: &State) -> std::io::Result<()> {
    let mut budget = MAX_SAVED_BYTES;
    let mut turns: Vec<SavedTurn> = Vec::new();
    for turn in state.turns.iter().rev() {
        // Saved whole: the file holds both texts of each file.
        let size: usize = turn
            .files
            .iter()
            .map(|f| f.record.before_text().len() + f.record.after_len())
            .sum();
        if size > budget {
            break;
        }
        budget -= size;
        turns.push(SavedTurn {
            seq: turn.seq,
            number: turn.number,
            thread_id: turn.thread_id.clone(),
            turn_id: turn.turn_id.clone(),
            prompt: turn.prompt.clone(),
            shown: turn.shown,
            files: turn
                .files
                .iter()
                .map(|f| SavedFile {
                    path: f.path.clone(),
                    before: f.record.before.clone(),
                    // The agent's text rebuilt from the pre-turn text and its lines.
                    after: f.record.after(),
                    statuses: f.record.hunks.iter().map(|h| h.status).collect(),
                })
                .collect(),
        });
    }
    turns.reverse();
    let saved = Saved {
        format: FORMAT,
        folder: folder.to_path_buf(),
        next_seq: state.next_seq,
        turns_per_thread: state.turns_per_thread.clone(),
        turns,
    };
    let text = serde_json::to_string(&saved).map_err(std::io::Error::other)?;
    super::write_atomically(file, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_record_loads_back_with_its_decisions() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.json");
        let folder = Path::new("/w");
        let mut state = State::default();
        let mut record = FileRecord::new(Some("a\nb\n".into()), Some("A\nb\nC\n".into()));
        record.hunks[1].status = HunkStatus::Kept;
        state.next_seq = 4;
        state.turns.push_back(TurnRecord {
            seq: 4,
            number: 2,
            thread_id: "th".into(),
            turn_id: "tu".into(),
            prompt: "p".into(),
            shown: true,
            files: vec![FileEntry {
                path: "/w/a".into(),
                record: record.clone(),
            }],
        });
        save(&file, folder, &state).unwrap();
        let loaded = load(&file, folder);
        assert_eq!(loaded.next_seq, 4);
        assert_eq!(loaded.turns[0].files[0].record, record);
        assert_eq!(loaded.turns[0].turn_id, "tu");
        // Another folder's file, or none: empty.
        assert!(load(&file, Path::new("/other")).turns.is_empty());
        assert!(load(&dir.path().join("none"), folder).turns.is_empty());
    }
}
