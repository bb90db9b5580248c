//! What the agent is doing now, in a few words, for progress reports; and the coalescer
//! that keeps those reports to about ten a second.
//!
//! Reads app-server notifications as JSON (method + params) so that a new item type or
//! field never breaks progress.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How many characters of the streaming reply a report shows.
const REPLY_TAIL_CHARS: usize = 80;

/// Follows one turn's notifications and says what the agent is doing.
#[derive(Debug, Default)]
pub struct Activity {
    reply: String,
    /// What to say while an approval waits (how to answer it differs by editor).
    waiting_for_approval: Option<String>,
    current: String,
}

impl Activity {
    pub fn new() -> Self {
        Self {
            current: "thinking".into(),
            ..Self::default()
        }
    }

    /// The current description.
    pub fn describe(&self) -> String {
        match &self.waiting_for_approval {
            Some(waiting) => waiting.clone(),
            None => self.current.clone(),
        }
    }

    /// `Some(text)` while an approval waits, `None` once it is answered.
    pub fn set_waiting_for_approval(&mut self, waiting: Option<String>) -> String {
        self.waiting_for_approval = waiting;
        self.describe()
    }

    /// Takes one `item/agentMessage/delta` (its `delta` text); like [`Activity::observe`],
    /// without needing the notification's params as a `Value`.
    pub fn observe_delta(&mut self, delta: &str) -> Option<String> {
        self.reply.push_str(delta);
        self.update(reply_tail(&self.reply))
    }

    fn update(&mut self, next: String) -> Option<String> {
        if next == self.current {
            return None;
        }
        self.current = next;
        Some(self.describe())
    }

    /// Takes one notification; returns the new description when it changed what we say.
    pub fn observe(
        &mut self,
        method: &str,
        params: &Value,
        workspace: Option<&Path>,
    ) -> Option<String> {
        let item = params.get("item");
        let item_type = item.and_then(|i| i.get("type")).and_then(Value::as_str);
        let next = match (method, item_type) {
            ("turn/started", _) => "thinking".to_string(),
            ("item/started", Some("reasoning")) => "thinking".to_string(),
            ("item/started", Some("commandExecution")) => {
                let command = item
                    .and_then(|i| i.get("command"))
                    .and_then(Value::as_str)
                    .unwrap_or("a command");
                format!("running `{}`", one_line(command, 60))
            }
            ("item/started", Some("fileChange")) => {
                let files: Vec<String> = item
                    .and_then(|i| i.get("changes"))
                    .and_then(Value::as_array)
                    .map(|changes| {
                        changes
                            .iter()
                            .filter_map(|c| c.get("path").and_then(Value::as_str))
                            .map(|p| display_path(p, workspace))
                            .collect()
                    })
                    .unwrap_or_default();
                match files.as_slice() {
                    [] => "editing files".to_string(),
                    [one] => format!("editing `{one}`"),
                    [first, rest @ ..] => format!("editing `{first}` and {} more", rest.len()),
                }
            }
            ("item/started", Some("mcpToolCall")) => {
                let tool = item
                    .and_then(|i| i.get("tool"))
                    .and_then(Value::as_str)
                    .unwrap_or("a tool");
                format!("calling `{tool}`")
            }
            ("item/started", Some("webSearch")) => "searching the web".to_string(),
            ("item/agentMessage/delta", _) => {
                let delta = params.get("delta").and_then(Value::as_str);
                return self.observe_delta(delta.unwrap_or_default());
            }
            ("item/completed", Some("agentMessage")) => {
                let text = item
                    .and_then(|i| i.get("text"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.reply = text.to_string();
                reply_tail(&self.reply)
            }
            ("item/completed", Some("commandExecution" | "fileChange")) => "thinking".to_string(),
            _ => return None,
        };
        self.update(next)
    }
}

/// The last line of the reply so far, at most [`REPLY_TAIL_CHARS`] characters.
fn reply_tail(reply: &str) -> String {
    let last_line = reply.trim_end().lines().last().unwrap_or_default().trim();
    let chars: Vec<char> = last_line.chars().collect();
    if chars.len() <= REPLY_TAIL_CHARS {
        return last_line.to_string();
    }
    let tail: String = chars[chars.len() - REPLY_TAIL_CHARS..].iter().collect();
    format!("…{tail}")
}

/// `text` on one line, cut to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// A path relative to the workspace when it is inside it.
pub fn display_path(path: &str, workspace: Option<&Path>) -> String {
    let p = Path::new(path);
    match workspace.and_then(|w| p.strip_prefix(w).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.to_string(),
    }
}

/// The end-of-turn message: the first non-empty line of the final response.
pub fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| one_line(l, 120))
}

/// Keeps progress reports to at most one per `interval`, always ending on the latest text.
#[derive(Debug)]
pub struct Coalescer {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: Option<String>,
}

impl Coalescer {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_sent: None,
            pending: None,
        }
    }

    /// Offers a new report at `now`; returns it if it may go out at once.
    pub fn offer(&mut self, now: Instant, message: String) -> Option<String> {
        match self.last_sent {
            Some(last) if now.duration_since(last) < self.interval => {
                self.pending = Some(message);
                None
            }
            _ => {
                self.pending = None;
                self.last_sent = Some(now);
                Some(message)
            }
        }
    }

    /// When the held-back report may go out, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.as_ref()?;
        Some(
            self.last_sent
                .map_or_else(Instant::now, |last| last + self.interval),
        )
    }

    /// The held-back report, if its time has come.
    pub fn due(&mut self, now: Instant) -> Option<String> {
        let deadline = self.deadline()?;
        if now < deadline {
            return None;
        }
        self.last_sent = Some(now);
        self.pending.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn describes_commands_edits_and_the_reply_tail() {
        let ws = Path::new("/w");
        let mut a = Activity::new();
        assert_eq!(a.describe(), "thinking");
        let cmd = json!({"item": {"type": "commandExecution", "command": "/bin/bash -lc 'cargo   test'"}});
        assert_eq!(
            a.observe("item/started", &cmd, Some(ws)).unwrap(),
            "running `/bin/bash -lc 'cargo test'`"
        );
        let edit = json!({"item": {"type": "fileChange", "changes": [{"path": "/w/src/a.rs"}, {"path": "/w/b.rs"}]}});
        assert_eq!(
            a.observe("item/started", &edit, Some(ws)).unwrap(),
            "editing `src/a.rs` and 1 more"
        );
        assert_eq!(
            a.set_waiting_for_approval(Some("waiting for approval".into())),
            "waiting for approval"
        );
        assert_eq!(
            a.set_waiting_for_approval(None),
            "editing `src/a.rs` and 1 more"
        );
        a.observe("item/agentMessage/delta", &json!({"delta": "Hello "}), None);
        assert_eq!(
            a.observe("item/agentMessage/delta", &json!({"delta": "world"}), None)
                .unwrap(),
            "Hello world"
        );
        assert_eq!(
            a.observe("thread/tokenUsage/updated", &json!({}), None),
            None
        );
        let long = "x".repeat(200);
        assert!(reply_tail(&long).chars().count() <= REPLY_TAIL_CHARS + 1);
    }

    #[test]
    fn first_line_skips_blank_lines() {
        assert_eq!(
            first_line("\n\n  Done: fixed it.\nmore").unwrap(),
            "Done: fixed it."
        );
        assert_eq!(first_line("  \n"), None);
    }

    #[test]
    fn coalescer_holds_back_then_releases_the_latest() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(Duration::from_millis(100));
        assert_eq!(c.offer(t0, "a".into()).as_deref(), Some("a"));
        assert_eq!(c.offer(t0 + Duration::from_millis(10), "b".into()), None);
        assert_eq!(c.offer(t0 + Duration::from_millis(20), "c".into()), None);
        assert_eq!(c.deadline(), Some(t0 + Duration::from_millis(100)));
        assert_eq!(c.due(t0 + Duration::from_millis(50)), None);
        assert_eq!(c.due(t0 + Duration::from_millis(100)).as_deref(), Some("c"));
        assert_eq!(c.deadline(), None);
        // 1000 offers over one second release at most ~10 reports.
        let mut sent = 0;
        let mut c = Coalescer::new(Duration::from_millis(100));
        for i in 0..1000u64 {
            let now = t0 + Duration::from_millis(i);
            sent += c.offer(now, i.to_string()).is_some() as u32;
            sent += c.due(now).is_some() as u32;
        }
        assert!(sent <= 11, "{sent}");
    }
}
