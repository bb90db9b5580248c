//! Completion of `@path` in the ask section of a transcript document: the workspace files
//! whose path matches what follows the `@`, from the app-server's `fuzzyFileSearch`, or a
//! bounded walk of the folder when the app-server does not answer it (or the query is
//! empty). Any other document, or a position above the ask section, gets nothing, found
//! without reading the document.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use super::chat_text::ASK_HEADING;
use crate::app_server::protocol as p;
use crate::bridge::Bridge;
use crate::text::{Position, Range};

/// The most completions offered (the editor filters further as the user types).
pub const MAX_COMPLETIONS: usize = 50;
/// The most directory entries the fallback walk looks at.
const WALK_LIMIT: usize = 20_000;
/// Folders the walk never enters: build output and dependencies nobody mentions.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules"];

/// What completing a mention at a position offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionCompletion {
    /// What the chosen path replaces: from after the `@` to the cursor.
    pub replace: Range,
    /// Workspace-relative paths, best first.
    pub paths: Vec<String>,
}

impl Bridge {
    /// The mention completions at `position` in the document `key`: `None` unless it is a
    /// transcript document and `position` is in its ask section, just after `@` and a
    /// partial path.
    pub async fn complete_mention(
        &self,
        key: &str,
        position: Position,
    ) -> Option<MentionCompletion> {
        if !self.inner.chat.any() {
            return None;
        }
        let folder = self
            .chat_actions(key)?
            .folder
            .or_else(|| self.inner.workspace.first_folder())?;
        let (query, replace) = self.mention_at(key, position)?;
        let paths = match self.fuzzy_file_search(&query, &folder).await {
            Some(paths) if !query.is_empty() => paths,
            _ => walk_matching(&folder, &query),
        };
        Some(MentionCompletion { replace, paths })
    }

    /// The partial path typed after an `@` before `position` in the ask section, and the
    /// range it spans.
    fn mention_at(&self, key: &str, position: Position) -> Option<(String, Range)> {
        let docs = self.documents();
        let document = &docs.get(key)?.document;
        let rope = document.rope();
        let line = position.line as usize;
        if line >= rope.len_lines() {
            return None;
        }
        // The ask section: below the last heading line (few lines from the end).
        let heading = (0..rope.len_lines())
            .rev()
            .find(|&l| rope.line(l).to_string().trim_end() == ASK_HEADING)?;
        if line <= heading {
            return None;
        }
        let cursor = document
            .position_to_char(position, self.inner.encoding)
            .ok()?;
        let before: String = rope.slice(rope.line_to_char(line)..cursor).to_string();
        let word_start = before.rfind(char::is_whitespace).map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
        let query = before[word_start..].strip_prefix('@')?.to_string();
        let start = document
            .char_to_position(cursor - query.chars().count(), self.inner.encoding)
            .ok()?;
        Some((
            query,
            Range {
                start,
                end: position,
            },
        ))
    }

    /// `fuzzyFileSearch` in `folder`: the files that match, relative to it (`None`: the
    /// app-server did not answer it).
    async fn fuzzy_file_search(&self, query: &str, folder: &Path) -> Option<Vec<String>> {
        if query.is_empty() {
            return None;
        }
        let (codex, _) = self.codex().await.ok()?;
        let params = p::FuzzyFileSearchParams {
            query: query.to_string(),
            roots: vec![folder.display().to_string()],
            // A newer search from this server replaces an older one still running.
            cancellation_token: Some("codex-lsp-mention-completion".into()),
        };
        match codex.send(&params).await {
            Ok(found) => Some(
                found
                    .files
                    .into_iter()
                    .filter(|f| f.match_type != "directory")
                    .map(|f| f.path)
                    .take(MAX_COMPLETIONS)
                    .collect(),
            ),
            Err(e) => {
                tracing::debug!("fuzzyFileSearch failed ({e}); walking the folder instead");
                None
            }
        }
    }
}

/// The files under `folder` whose relative path holds `query`'s characters in order
/// (case-insensitive), breadth first, bounded by [`WALK_LIMIT`] entries and
/// [`MAX_COMPLETIONS`] results.
pub fn walk_matching(folder: &Path, query: &str) -> Vec<String> {
    let query: Vec<char> = query.to_lowercase().chars().collect();
    let mut found = Vec::new();
    let mut seen = 0;
    let mut queue: VecDeque<PathBuf> = VecDeque::from([folder.to_path_buf()]);
    while let Some(dir) = queue.pop_front() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            seen += 1;
            if seen > WALK_LIMIT || found.len() >= MAX_COMPLETIONS {
                return found;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                let name = entry.file_name();
                if !SKIPPED_DIRS.iter().any(|s| name == *s) {
                    queue.push_back(path);
                }
            } else if kind.is_file() {
                let Ok(relative) = path.strip_prefix(folder) else {
                    continue;
                };
                let relative = relative.display().to_string();
                if is_subsequence(&query, &relative.to_lowercase()) {
                    found.push(relative);
                }
            }
        }
    }
    found
}

fn is_subsequence(query: &[char], text: &str) -> bool {
    let mut wanted = query.iter().peekable();
    for c in text.chars() {
        if wanted.peek() == Some(&&c) {
            wanted.next();
        }
    }
    wanted.peek().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_skips_build_output_and_matches_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "src/lib.rs",
            "src/main.rs",
            "target/debug/lib.rs",
            "node_modules/x/lib.js",
            ".git/lib",
            "README.md",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        assert_eq!(walk_matching(root, "lib"), ["src/lib.rs"]);
        assert_eq!(walk_matching(root, "SRCmain"), ["src/main.rs"]);
        assert_eq!(walk_matching(root, "").len(), 3);
    }
}
