//! The scripted editor's buffers: it opens and edits them as an editor does (`didOpen`,
//! versioned `didChange`), and applies the server's `workspace/applyEdit` to them the way
//! VS Code does: a stale version is refused, an applied edit is echoed as a `didChange`
//! before the answer. Positions are UTF-16, the encoding these tests negotiate.

use std::collections::HashMap;

use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct SimBuffer {
    pub text: String,
    pub version: i32,
}

#[derive(Default)]
pub struct Buffers {
    /// Whether `workspace/applyEdit` is handled here (else by the test's answerer).
    pub enabled: bool,
    pub docs: HashMap<String, SimBuffer>,
    /// URIs whose buffer reloads from this file on disk just before the next applyEdit is
    /// looked at (an editor that noticed the file changed).
    pub reload_first: HashMap<String, std::path::PathBuf>,
    /// Text the user types at the end of a buffer just before the next applyEdit to it is
    /// looked at (typing while the server's edit was on its way: the edit is then stale).
    pub type_first: HashMap<String, String>,
    /// Every applyEdit answer given, in order: (uri, applied).
    pub answers: Vec<(String, bool)>,
}

/// Byte offset of an LSP position (UTF-16 character) in `text`.
pub fn offset_of(text: &str, line: u32, character: u32) -> usize {
    let mut offset = 0;
    for _ in 0..line {
        match text[offset..].find('\n') {
            Some(i) => offset += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let mut units = 0;
    for (i, c) in text[offset..line_end].char_indices() {
        if units >= character {
            return offset + i;
        }
        units += c.len_utf16() as u32;
    }
    line_end
}

pub fn position(range: &Value, end: &str) -> (u32, u32) {
    (
        range[end]["line"].as_u64().unwrap() as u32,
        range[end]["character"].as_u64().unwrap() as u32,
    )
}

/// Applies LSP text edits (all against the same text, non-overlapping) to `text`.
pub fn apply_lsp_edits(text: &str, edits: &[Value]) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .rev()
        .map(|e| {
            let edit = if e.get("textEdit").is_some() {
                &e["textEdit"]
            } else {
                e
            };
            let (sl, sc) = position(&edit["range"], "start");
            let (el, ec) = position(&edit["range"], "end");
            (
                offset_of(text, sl, sc),
                offset_of(text, el, ec),
                edit["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Last first (stable, over the reversed list): inserts at one position keep the
    // array's order, as the spec says.
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (start, end, new_text) in spans {
        out.replace_range(start..end, &new_text);
    }
    out
}

impl Buffers {
    /// Handles one `workspace/applyEdit`: returns the answer and the notifications to send
    /// before it.
    pub fn apply(&mut self, params: &Value) -> (Value, Vec<Value>) {
        let mut before = Vec::new();
        let Some(document_edit) = params["edit"]["documentChanges"].get(0) else {
            return (
                json!({ "applied": false, "failureReason": "no documentChanges" }),
                before,
            );
        };
        let uri = document_edit["textDocument"]["uri"]
            .as_str()
            .unwrap()
            .to_string();
        if let Some(path) = self.reload_first.remove(&uri) {
            let disk = std::fs::read_to_string(path).unwrap();
            before.push(self.replace_all(&uri, &disk));
        }
        if let Some(typed) = self.type_first.remove(&uri) {
            before.push(self.type_at_end(&uri, &typed));
        }
        let Some(buffer) = self.docs.get_mut(&uri) else {
            self.answers.push((uri.clone(), false));
            return (
                json!({ "applied": false, "failureReason": format!("{uri} is not open") }),
                before,
            );
        };
        let version = document_edit["textDocument"]["version"].as_i64();
        if version != Some(buffer.version as i64) {
            self.answers.push((uri.clone(), false));
            return (
                json!({
                    "applied": false,
                    "failureReason": format!("version {version:?} is stale, the buffer is at {}", buffer.version),
                }),
                before,
            );
        }
        let edits = document_edit["edits"].as_array().unwrap();
        buffer.text = apply_lsp_edits(&buffer.text, edits);
        buffer.version += 1;
        // Echoed incrementally, last edit first, so each range holds when applied in turn.
        let mut changes: Vec<Value> = edits
            .iter()
            .rev()
            .map(|e| json!({ "range": e["range"], "text": e["newText"] }))
            .collect();
        changes.sort_by_key(|c| std::cmp::Reverse(position(&c["range"], "start")));
        before.push(json!({
            "jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": {
                "textDocument": { "uri": uri, "version": buffer.version },
                "contentChanges": changes,
            }
        }));
        self.answers.push((uri, true));
        (json!({ "applied": true }), before)
    }

    /// Types `typed` at the end of a buffer; returns the `didChange` to send.
    pub fn type_at_end(&mut self, uri: &str, typed: &str) -> Value {
        let buffer = self.docs.get_mut(uri).expect("open buffer");
        let line = buffer.text.matches('\n').count();
        let character = buffer
            .text
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .encode_utf16()
            .count();
        buffer.text.push_str(typed);
        buffer.version += 1;
        let at = json!({ "line": line, "character": character });
        json!({
            "jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": {
                "textDocument": { "uri": uri, "version": buffer.version },
                "contentChanges": [{ "range": { "start": at, "end": at }, "text": typed }],
            }
        })
    }

    /// Replaces a buffer's text (a reload); returns the `didChange` to send.
    pub fn replace_all(&mut self, uri: &str, text: &str) -> Value {
        let buffer = self.docs.get_mut(uri).expect("open buffer");
        buffer.text = text.to_string();
        buffer.version += 1;
        json!({
            "jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": {
                "textDocument": { "uri": uri, "version": buffer.version },
                "contentChanges": [{ "text": text }],
            }
        })
    }
}
