//! The mirror of the editor's open documents, kept in step with `didOpen` / `didChange` /
//! `didClose` (applied in order by the LSP main loop), and the unsaved content the agent
//! gets to see at turn start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::text::{Document, PositionEncoding, Range, TextError};

/// Unsaved buffers sent with one turn, at most this many bytes in all.
pub const UNSAVED_CONTEXT_BUDGET: usize = 64 * 1024;

pub struct OpenDocument {
    pub document: Document,
    /// The file behind the document, when its URI is a `file:` URI.
    pub path: Option<PathBuf>,
    pub language_id: String,
    pub last_changed: Instant,
}

#[derive(Default)]
pub struct Documents {
    open: HashMap<String, OpenDocument>,
}

/// One unsaved buffer for the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsavedBuffer {
    pub path: PathBuf,
    pub text: String,
}

impl Documents {
    pub fn open(
        &mut self,
        uri: String,
        path: Option<PathBuf>,
        language_id: String,
        version: i32,
        text: &str,
    ) {
        self.open.insert(
            uri,
            OpenDocument {
                document: Document::new(text, version),
                path,
                language_id,
                last_changed: Instant::now(),
            },
        );
    }

    /// Applies one `didChange`. An unknown document or a change that does not fit is an
    /// error; the caller logs it (the editor will resend the text on its next open).
    pub fn change(
        &mut self,
        uri: &str,
        version: i32,
        changes: impl IntoIterator<Item = (Option<Range>, String)>,
        encoding: PositionEncoding,
    ) -> Result<(), String> {
        let doc = self
            .open
            .get_mut(uri)
            .ok_or_else(|| format!("didChange for a document that is not open: {uri}"))?;
        for (range, text) in changes {
            doc.document
                .apply_change(range, &text, encoding)
                .map_err(|e: TextError| format!("didChange for {uri} does not apply: {e}"))?;
        }
        doc.document.version = version;
        doc.last_changed = Instant::now();
        Ok(())
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
        let (start, end) = doc
            .document
            .range_to_chars(range, encoding)
            .map_err(|e| format!("range {range} does not fit {uri}: {e}"))?;
        Ok(doc.document.rope().slice(start..end).to_string())
    }

    /// Open documents whose text differs from the file on disk: the one at `first` first,
    /// then the most recently changed. Returns (path, text) pairs, without reading disk
    /// under the caller's lock: the caller checks them with [`differs_from_disk`].
    pub fn candidates_for_unsaved(&self, first: Option<&str>) -> Vec<(PathBuf, String)> {
        let mut docs: Vec<(&String, &OpenDocument)> =
            self.open.iter().filter(|(_, d)| d.path.is_some()).collect();
        docs.sort_by(|(ua, a), (ub, b)| {
            let a_first = Some(ua.as_str()) == first;
            let b_first = Some(ub.as_str()) == first;
            b_first
                .cmp(&a_first)
                .then(b.last_changed.cmp(&a.last_changed))
        });
        docs.into_iter()
            .map(|(_, d)| (d.path.clone().expect("filtered"), d.document.text()))
            .collect()
    }
}

/// "Modified" means the buffer differs from the file on disk (a missing file counts).
pub fn differs_from_disk(path: &Path, text: &str) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => bytes != text.as_bytes(),
        Err(_) => true,
    }
}

/// Picks the unsaved buffers that fit in `budget` bytes, in order; returns those and the
/// paths left out.
pub fn fit_unsaved(
    candidates: Vec<UnsavedBuffer>,
    budget: usize,
) -> (Vec<UnsavedBuffer>, Vec<PathBuf>) {
    let mut used = 0;
    let mut kept = Vec::new();
    let mut left_out = Vec::new();
    for buffer in candidates {
        if used + buffer.text.len() <= budget {
            used += buffer.text.len();
            kept.push(buffer);
        } else {
            left_out.push(buffer.path);
        }
    }
    (kept, left_out)
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

    #[test]
    fn unsaved_buffers_fit_the_budget_in_order() {
        let b = |p: &str, n: usize| UnsavedBuffer {
            path: p.into(),
            text: "x".repeat(n),
        };
        let (kept, left) = fit_unsaved(vec![b("/first", 60), b("/big", 50), b("/small", 30)], 100);
        assert_eq!(
            kept.iter().map(|b| b.path.clone()).collect::<Vec<_>>(),
            [PathBuf::from("/first"), PathBuf::from("/small")]
        );
        assert_eq!(left, [PathBuf::from("/big")]);
    }

    #[test]
    fn asked_about_document_comes_first() {
        let mut docs = Documents::default();
        docs.open("file:///a".into(), Some("/a".into()), "t".into(), 1, "a");
        docs.open("file:///b".into(), Some("/b".into()), "t".into(), 1, "b");
        docs.open("untitled:1".into(), None, "t".into(), 1, "u");
        let order: Vec<PathBuf> = docs
            .candidates_for_unsaved(Some("file:///a"))
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(order, [PathBuf::from("/a"), PathBuf::from("/b")]);
    }
}
