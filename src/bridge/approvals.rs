//! Turning the app-server's approval requests into a question with buttons, and the
//! button back into the decision the app-server offered. Never decides for the user:
//! anything but a clear pick of an offered decision is a decline.

use std::path::Path;

use serde_json::{json, Value};

use super::activity::{display_path, one_line};

/// One button of an approval prompt and the decision it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalChoice {
    pub title: String,
    pub decision: Value,
}

/// A file the agent wants to change, with its line counts.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSummary {
    pub path: String,
    pub kind: String,
    pub added: usize,
    pub removed: usize,
    pub diff: String,
}

/// The buttons for a command approval: exactly the offered decisions, in order.
pub fn command_choices(available: Option<&Vec<Value>>) -> Vec<ApprovalChoice> {
    let default = vec![
        json!("accept"),
        json!("acceptForSession"),
        json!("decline"),
        json!("cancel"),
    ];
    let offered = available.filter(|a| !a.is_empty()).unwrap_or(&default);
    offered
        .iter()
        .map(|decision| ApprovalChoice {
            title: decision_title(decision),
            decision: decision.clone(),
        })
        .collect()
}

/// File changes offer the fixed set of the schema's decisions.
pub fn file_choices() -> Vec<ApprovalChoice> {
    ["accept", "acceptForSession", "decline", "cancel"]
        .into_iter()
        .map(|d| ApprovalChoice {
            title: decision_title(&json!(d)),
            decision: json!(d),
        })
        .collect()
}

/// A plain title for a decision.
pub fn decision_title(decision: &Value) -> String {
    match decision {
        Value::String(s) => match s.as_str() {
            "accept" => "Accept".into(),
            "acceptForSession" => "Accept for session".into(),
            "decline" => "Decline".into(),
            "cancel" => "Cancel turn".into(),
            other => other.to_string(),
        },
        Value::Object(map) => match map.iter().next() {
            Some((key, body)) if key == "acceptWithExecpolicyAmendment" => {
                let prefix = body
                    .get("execpolicy_amendment")
                    .and_then(Value::as_array)
                    .map(|words| {
                        words
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                format!("Accept and always allow `{}`", one_line(&prefix, 40))
            }
            Some((key, body)) if key == "applyNetworkPolicyAmendment" => {
                let host = body
                    .pointer("/network_policy_amendment/host")
                    .and_then(Value::as_str)
                    .unwrap_or("host");
                let action = body
                    .pointer("/network_policy_amendment/action")
                    .and_then(Value::as_str)
                    .unwrap_or("allow");
                format!(
                    "{} network access to {host}",
                    if action == "deny" { "Deny" } else { "Allow" }
                )
            }
            Some((key, _)) => key.clone(),
            None => "?".into(),
        },
        other => other.to_string(),
    }
}

/// The question for a command approval.
pub fn command_message(command: &str, cwd: Option<&str>, reason: Option<&str>) -> String {
    let mut text = format!("Codex wants to run:\n{}", one_line(command, 400));
    if let Some(cwd) = cwd.filter(|c| !c.is_empty()) {
        text.push_str(&format!("\nin {cwd}"));
    }
    if let Some(reason) = reason.filter(|r| !r.is_empty()) {
        text.push_str(&format!("\nReason: {}", one_line(reason, 200)));
    }
    text
}

/// A command approval in a few words: "`touch x`" (for `/bin/bash -lc 'touch x'` too: the
/// full command is in the approval's message).
pub fn command_subject(command: &str) -> String {
    format!(
        "`{}`",
        one_line(shell_script(command).unwrap_or(command), 60)
    )
}

/// The script of `<shell> -lc '<script>'` (how the app-server runs commands), when the script
/// is one plain single-quoted word.
fn shell_script(command: &str) -> Option<&str> {
    let (shell, rest) = command.split_once(' ')?;
    let shell_name = shell.rsplit('/').next()?;
    if !["bash", "sh", "zsh"].contains(&shell_name) {
        return None;
    }
    let quoted = rest
        .strip_prefix("-lc ")
        .or_else(|| rest.strip_prefix("-c "))?;
    let script = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    (!script.contains('\'')).then_some(script)
}

/// A file-change approval in a few words: "the edit of a.txt (+2 −1)".
pub fn file_subject(files: &[FileSummary], workspace: Option<&Path>) -> String {
    if files.is_empty() {
        return "a file change".into();
    }
    let named: Vec<String> = files
        .iter()
        .map(|f| {
            format!(
                "{} (+{} −{})",
                display_path(&f.path, workspace),
                f.added,
                f.removed
            )
        })
        .collect();
    let what = match files[0].kind.as_str() {
        _ if files.len() > 1 => "the changes to",
        "add" => "adding",
        "delete" => "deleting",
        _ => "the edit of",
    };
    one_line(&format!("{what} {}", named.join(", ")), 80)
}

/// The question for a file-change approval; `files` may be empty when the item was never
/// seen (the request itself carries no paths).
pub fn file_message(
    files: &[FileSummary],
    reason: Option<&str>,
    workspace: Option<&Path>,
) -> String {
    let mut text = String::from("Codex wants to change files:");
    if files.is_empty() {
        text.push_str("\n(the file list was not available)");
    }
    for file in files {
        text.push_str(&format!(
            "\n{} {} (+{} −{})",
            match file.kind.as_str() {
                "add" => "add",
                "delete" => "delete",
                _ => "edit",
            },
            display_path(&file.path, workspace),
            file.added,
            file.removed
        ));
    }
    if let Some(reason) = reason.filter(|r| !r.is_empty()) {
        text.push_str(&format!("\nReason: {}", one_line(reason, 200)));
    }
    text
}

/// Summaries of a `fileChange` item's `changes`. Update diffs are hunks; adds carry the
/// whole new content, deletes the whole old one.
pub fn summarize_changes(item: &Value) -> Vec<FileSummary> {
    let Some(changes) = item.get("changes").and_then(Value::as_array) else {
        return Vec::new();
    };
    changes
        .iter()
        .map(|change| {
            let path = change
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            let kind = change
                .pointer("/kind/type")
                .and_then(Value::as_str)
                .unwrap_or("update")
                .to_string();
            let diff = change
                .get("diff")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let (added, removed) = match kind.as_str() {
                "add" => (diff.lines().count(), 0),
                "delete" => (0, diff.lines().count()),
                _ => count_hunk_lines(&diff),
            };
            FileSummary {
                path,
                kind,
                added,
                removed,
                diff,
            }
        })
        .collect()
}

fn count_hunk_lines(diff: &str) -> (usize, usize) {
    let mut added = 0;
    let mut removed = 0;
    for line in diff.lines() {
        if line.starts_with("+++") || line.starts_with("---") {
            continue;
        }
        if line.starts_with('+') {
            added += 1;
        } else if line.starts_with('-') {
            removed += 1;
        }
    }
    (added, removed)
}

/// The decision for the title the user picked; `None` (a decline) for anything else.
pub fn decision_for(choices: &[ApprovalChoice], picked: Option<&str>) -> Option<Value> {
    let picked = picked?;
    choices
        .iter()
        .find(|c| c.title == picked)
        .map(|c| c.decision.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_buttons_are_exactly_the_offered_decisions() {
        let offered = vec![
            json!("accept"),
            json!({"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch", "x.txt"]}}),
            json!("cancel"),
        ];
        let choices = command_choices(Some(&offered));
        let titles: Vec<&str> = choices.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Accept",
                "Accept and always allow `touch x.txt`",
                "Cancel turn"
            ]
        );
        assert_eq!(
            decision_for(&choices, Some("Cancel turn")),
            Some(json!("cancel"))
        );
        assert_eq!(
            decision_for(&choices, Some("Accept and always allow `touch x.txt`")),
            Some(offered[1].clone())
        );
        assert_eq!(decision_for(&choices, None), None);
        assert_eq!(decision_for(&choices, Some("Sure")), None);
        let defaults: Vec<String> = command_choices(None).into_iter().map(|c| c.title).collect();
        assert_eq!(
            defaults,
            ["Accept", "Accept for session", "Decline", "Cancel turn"]
        );
    }

    #[test]
    fn subjects_are_short() {
        assert_eq!(
            command_subject("/bin/bash -lc 'touch a.txt'"),
            "`touch a.txt`"
        );
        assert_eq!(command_subject("bash -c 'ls'"), "`ls`");
        assert_eq!(
            command_subject("/bin/bash -lc 'echo '\\''x'\\'''"),
            "`/bin/bash -lc 'echo '\\''x'\\'''`"
        );
        assert_eq!(command_subject("cargo test"), "`cargo test`");
        let files = summarize_changes(&json!({"changes": [
            {"path": "/w/a.txt", "kind": {"type": "update"}, "diff": "@@ -1 +1 @@\n-a\n+b\n"},
        ]}));
        assert_eq!(
            file_subject(&files, Some(Path::new("/w"))),
            "the edit of a.txt (+1 −1)"
        );
        assert_eq!(file_subject(&[], None), "a file change");
    }

    #[test]
    fn messages_show_command_cwd_and_file_counts() {
        let m = command_message("/bin/bash -lc 'touch a'", Some("/w"), Some("needs write"));
        assert_eq!(
            m,
            "Codex wants to run:\n/bin/bash -lc 'touch a'\nin /w\nReason: needs write"
        );
        let item = json!({"changes": [
            {"path": "/w/a.txt", "kind": {"type": "update", "move_path": null}, "diff": "@@ -1 +1,2 @@\n-old\n+new\n+more\n"},
            {"path": "/w/b.txt", "kind": {"type": "add"}, "diff": "one\ntwo\n"},
        ]});
        let files = summarize_changes(&item);
        assert_eq!((files[0].added, files[0].removed), (2, 1));
        assert_eq!((files[1].added, files[1].removed), (2, 0));
        let m = file_message(&files, None, Some(Path::new("/w")));
        assert_eq!(
            m,
            "Codex wants to change files:\nedit a.txt (+2 −1)\nadd b.txt (+2 −0)"
        );
    }
}
