//! Text documents, position encodings, diffs and merges (placeholder).
