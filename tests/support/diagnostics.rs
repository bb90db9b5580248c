//! What the strictest client asks of a diagnostic, checked on everything codex-lsp sends:
//! VS Code's client refuses a diagnostic without a message ("message must be set") and,
//! with it, the code action that carries it.

use serde_json::Value;

/// Why `d` (an LSP `Diagnostic` as JSON) would be refused, if it would.
pub fn invalid(d: &Value) -> Option<String> {
    let blank = |v: &Value| v.as_str().is_some_and(|s| s.trim().is_empty());
    match d.get("message") {
        Some(Value::String(m)) if !m.trim().is_empty() => {}
        other => return Some(format!("message must be set, got {other:?}")),
    }
    let at = |end: &str| {
        let p = &d["range"][end];
        Some((p["line"].as_u64()?, p["character"].as_u64()?))
    };
    match (at("start"), at("end")) {
        (Some(start), Some(end)) if start <= end => {}
        _ => return Some(format!("range is not a valid range: {}", d["range"])),
    }
    if let Some(severity) = d.get("severity").filter(|s| !s.is_null()) {
        if !(1..=4).contains(&severity.as_u64().unwrap_or(0)) {
            return Some(format!("severity {severity} is not in the spec"));
        }
    }
    if let Some(code) = d.get("code").filter(|c| !c.is_null()) {
        if !code.is_string() && !code.is_i64() {
            return Some(format!("code {code} is neither a string nor an integer"));
        }
    }
    if d.get("source").is_some_and(blank) || d.get("code").is_some_and(blank) {
        return Some("source or code is blank".into());
    }
    None
}

/// Panics on the first diagnostic in `diagnostics` (a JSON array, or nothing) that is invalid.
pub fn assert_valid(diagnostics: &Value, what: &str) {
    for d in diagnostics.as_array().into_iter().flatten() {
        if let Some(why) = invalid(d) {
            panic!("{what} carries an invalid diagnostic ({why}): {d:#}");
        }
    }
}

/// Every diagnostic in a `textDocument/codeAction` answer.
pub fn assert_valid_in_code_actions(actions: &Value) {
    for action in actions.as_array().into_iter().flatten() {
        assert_valid(&action["diagnostics"], "a code action");
    }
}

/// Every diagnostic codex-lsp published (from the recorded notifications).
pub fn assert_valid_published(notifications: &[Value]) {
    for n in notifications {
        if n["method"] == "textDocument/publishDiagnostics" {
            assert_valid(
                &n["params"]["diagnostics"],
                "textDocument/publishDiagnostics",
            );
        }
    }
}
