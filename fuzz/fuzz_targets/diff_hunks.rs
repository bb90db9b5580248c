//! The unified diffs of a `fileChange` item (the `+`/`−` counts of an approval prompt) and
//! the rendered review text (findings with file and line ranges). Never panics; counts never
//! exceed the diff's lines; findings have sane line ranges; an approval prompt shows the
//! bytes (as a diff, and as a command) exactly: read back, they are what it was given.
#![no_main]

#[path = "../harness/diff_hunks.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
