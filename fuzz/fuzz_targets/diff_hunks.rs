//! The unified diffs of a `fileChange` item (the `+`/`−` counts of an approval prompt) and
//! the rendered review text (findings with file and line ranges). Never panics; counts never
//! exceed the diff's lines; findings have sane line ranges.
#![no_main]

#[path = "../harness/diff_hunks.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
