//! The unified diffs of a `fileChange` item (the `+`/`−` counts of an approval prompt) and
//! the rendered review text (findings with file and line ranges). Never panics; counts never
//! exceed the diff's lines; findings have sane line ranges; an approval prompt shows the
//! bytes (as a diff, and as a command) exactly: read back, they are what it was given.
//!
//! Shared by the `diff_hunks` fuzz target and `tests/fuzz_seeds.rs` (its seeds and a short seeded
//! random run inside `cargo test`).

use codex_lsp::bridge::text_formats::{
    command_message, file_message, parse_review, read_command_message, read_file_diffs,
    summarize_changes,
};
use serde_json::json;

/// One input; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for kind in ["update", "add", "delete"] {
        let item = json!({"changes": [{"path": "/w/a.txt", "kind": {"type": kind}, "diff": text}]});
        let files = summarize_changes(&item);
        assert_eq!(files.len(), 1);
        let lines = text.lines().count();
        assert!(files[0].added + files[0].removed <= lines);
        let _ = file_message(&files, None, Some(std::path::Path::new("/w")), false);
        let prompt = file_message(&files, None, Some(std::path::Path::new("/w")), true);
        let read = read_file_diffs(&prompt).expect("a file-change prompt reads back");
        assert_eq!(read, vec![("a.txt".to_string(), text.to_string())]);
    }
    let shown = command_message(&text, Some("/w"), Some("why"));
    assert_eq!(read_command_message(&shown).as_deref(), Some(&*text));
    // The same bytes as a JSON item: any shape is tolerated.
    if let Ok(item) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = summarize_changes(&item);
    }
    let review = parse_review(&text);
    for finding in &review.findings {
        // Turned into 0-based lines as `start_line - 1..end_line`.
        assert!(finding.start_line >= 1 && finding.start_line <= finding.end_line);
    }
}
