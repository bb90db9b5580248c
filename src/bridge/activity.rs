//! What the agent is doing now, in a few words, for progress reports; and the coalescer
//! that keeps those reports to about ten a second.
//!
//! Reads the typed app-server notifications; their decoding is lenient, so a new item type
//! or field never breaks progress (an unknown item says nothing).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::app_server::protocol::{
    ServerNotification, ThreadItem, TurnPlanStep, TurnPlanStepStatus,
};

/// How many characters of the streaming reply a report shows.
const REPLY_TAIL_CHARS: usize = 80;

/// Follows one turn's notifications and says what the agent is doing.
#[derive(Debug, Default)]
pub struct Activity {
    reply: String,
    /// Whether what the agent is doing now is writing its reply (whose tail is then shown,
    /// computed only when a report goes out), else `current` says it.
    showing_reply: bool,
    /// What to say while an approval waits (how to answer it differs by editor).
    waiting_for_approval: Option<String>,
    current: String,
    /// Where the agent's plan stands ("step 2/5: run the tests"), said before the rest.
    plan: Option<String>,
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
            None => match &self.plan {
                Some(plan) => format!("{plan} — {}", self.shown()),
                None => self.shown(),
            },
        }
    }

    fn shown(&self) -> String {
        if self.showing_reply {
            reply_tail(&self.reply)
        } else {
            self.current.clone()
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
        self.push_delta(delta).then(|| self.describe())
    }

    /// Whether a reply delta now would start showing the reply where "thinking" or a
    /// command was said (not while an approval waits, which stays said).
    pub fn delta_starts_reply(&self) -> bool {
        !self.showing_reply && self.waiting_for_approval.is_none()
    }

    /// The bulk of a turn, so it builds no text: takes one delta and says whether the
    /// description changed (appended whitespace never changes the reply's tail).
    pub fn push_delta(&mut self, delta: &str) -> bool {
        self.reply.push_str(delta);
        let changed = !self.showing_reply || !delta.trim().is_empty();
        self.showing_reply = true;
        changed
    }

    fn update(&mut self, next: String) -> Option<String> {
        let before = self.shown();
        self.showing_reply = false;
        self.current = next;
        (self.current != before).then(|| self.describe())
    }

    /// Takes one notification; returns the new description when it changed what we say.
    pub fn observe(
        &mut self,
        notification: &ServerNotification,
        workspace: Option<&Path>,
    ) -> Option<String> {
        let next = match notification {
            ServerNotification::TurnPlanUpdated(update) => {
                let plan = plan_position(&update.plan);
                if plan == self.plan {
                    return None;
                }
                self.plan = plan;
                return Some(self.describe());
            }
            ServerNotification::TurnStarted(_) => "thinking".to_string(),
            ServerNotification::ItemStarted(started) => match &started.item {
                ThreadItem::Reasoning(_) => "thinking".to_string(),
                ThreadItem::CommandExecution(command) => {
                    let command = Some(command.command.as_str())
                        .filter(|c| !c.is_empty())
                        .unwrap_or("a command");
                    format!("running `{}`", one_line(command, 60))
                }
                ThreadItem::FileChange(change) => {
                    let files: Vec<String> = change
                        .changes
                        .iter()
                        .map(|c| display_path(&c.path, workspace))
                        .collect();
                    match files.as_slice() {
                        [] => "editing files".to_string(),
                        [one] => format!("editing `{one}`"),
                        [first, rest @ ..] => {
                            format!("editing `{first}` and {} more", rest.len())
                        }
                    }
                }
                ThreadItem::McpToolCall(call) => {
                    let tool = Some(call.tool.as_str())
                        .filter(|t| !t.is_empty())
                        .unwrap_or("a tool");
                    format!("calling `{tool}`")
                }
                ThreadItem::WebSearch(_) => "searching the web".to_string(),
                _ => return None,
            },
            ServerNotification::AgentMessageDelta(delta) => {
                return self.observe_delta(&delta.delta)
            }
            ServerNotification::ItemCompleted(done) => match &done.item {
                ThreadItem::AgentMessage(message) => {
                    let before = self.shown();
                    self.reply = message.text.clone();
                    self.showing_reply = true;
                    return (self.shown() != before).then(|| self.describe());
                }
                ThreadItem::CommandExecution(_) | ThreadItem::FileChange(_) => {
                    "thinking".to_string()
                }
                _ => return None,
            },
            _ => return None,
        };
        self.update(next)
    }
}

/// Where a plan stands: the step in progress ("step 2/5: run the tests"), else how many are
/// done ("plan: 3/5 done"); `None` for an empty plan.
fn plan_position(plan: &[TurnPlanStep]) -> Option<String> {
    let total = plan.len();
    if total == 0 {
        return None;
    }
    if let Some((i, step)) = plan
        .iter()
        .enumerate()
        .find(|(_, s)| s.status == TurnPlanStepStatus::InProgress)
    {
        return Some(format!(
            "step {}/{total}: {}",
            i + 1,
            one_line(&step.step, 60)
        ));
    }
    let done = plan
        .iter()
        .filter(|s| s.status == TurnPlanStepStatus::Completed)
        .count();
    Some(format!("plan: {done}/{total} done"))
}

/// The last line of the reply so far, at most [`REPLY_TAIL_CHARS`] characters.
///
/// Looks only at the reply's last few hundred bytes, so a long reply costs no more than a
/// short one: a line that starts before them is longer than the tail anyway (a character is
/// at most 4 bytes).
fn reply_tail(reply: &str) -> String {
    let text = reply.trim_end();
    let mut window_start = text.len().saturating_sub(4 * (REPLY_TAIL_CHARS + 1));
    while !text.is_char_boundary(window_start) {
        window_start += 1;
    }
    let window = &text[window_start..];
    let (line, longer) = match window.rfind('\n') {
        Some(newline) => (window[newline + 1..].trim(), false),
        None if window_start > 0 => (window, true),
        None => (window.trim(), false),
    };
    match line.char_indices().rev().nth(REPLY_TAIL_CHARS - 1) {
        Some((start, _)) if longer || start > 0 => format!("…{}", &line[start..]),
        _ => line.to_string(),
    }
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

/// How late a tokio timer may fire: it rounds its deadline up to the next millisecond.
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

/// Keeps progress reports to at most one per `interval`, always ending on the latest state.
/// It holds no text: what goes out is the activity's description at the moment of sending,
/// so the thousands of deltas between two reports build none.
#[derive(Debug)]
pub struct Coalescer {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: bool,
}

impl Coalescer {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_sent: None,
            pending: false,
        }
    }

    /// Something changed (`now` reads the clock, when needed): true if a report may go out at
    /// once, else it is held back until [`Coalescer::deadline`].
    pub fn offer(&mut self, now: impl FnOnce() -> Instant) -> bool {
        if self.pending {
            // Already held back: the deadline stands, no need to read the clock.
            return false;
        }
        let now = now();
        match self.last_sent {
            Some(last) if now.duration_since(last) < self.interval => {
                self.pending = true;
                false
            }
            _ => {
                self.pending = false;
                self.last_sent = Some(now);
                true
            }
        }
    }

    /// A report that goes out now whatever the window (the first words of a reply: what the
    /// user waits for); the window starts again from it.
    pub fn force(&mut self, now: Instant) {
        self.pending = false;
        self.last_sent = Some(now);
    }

    /// When to wake for the held-back report: its deadline less the timer's resolution
    /// (tokio's timers round up to the next millisecond), so that it goes out by its
    /// deadline, not up to a millisecond after it.
    pub fn wake_at(&self) -> Option<Instant> {
        self.deadline()
            .map(|deadline| deadline.checked_sub(TIMER_RESOLUTION).unwrap_or(deadline))
    }

    /// When the held-back report may go out, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        if !self.pending {
            return None;
        }
        Some(
            self.last_sent
                .map_or_else(Instant::now, |last| last + self.interval),
        )
    }

    /// True if a held-back report's time has come, within the timer's resolution (it then
    /// counts as sent).
    pub fn due(&mut self, now: Instant) -> bool {
        match self.deadline() {
            Some(deadline) if now + TIMER_RESOLUTION >= deadline => {
                self.last_sent = Some(now);
                self.pending = false;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn n(method: &str, params: Value) -> ServerNotification {
        ServerNotification::decode(method, params)
    }

    #[test]
    fn describes_commands_edits_and_the_reply_tail() {
        let ws = Path::new("/w");
        let mut a = Activity::new();
        assert_eq!(a.describe(), "thinking");
        let cmd = json!({"item": {"type": "commandExecution", "command": "/bin/bash -lc 'cargo   test'"}});
        assert_eq!(
            a.observe(&n("item/started", cmd), Some(ws)).unwrap(),
            "running `/bin/bash -lc 'cargo test'`"
        );
        let edit = json!({"item": {"type": "fileChange", "changes": [{"path": "/w/src/a.rs"}, {"path": "/w/b.rs"}]}});
        assert_eq!(
            a.observe(&n("item/started", edit), Some(ws)).unwrap(),
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
        a.observe(
            &n("item/agentMessage/delta", json!({"delta": "Hello "})),
            None,
        );
        assert_eq!(
            a.observe(
                &n("item/agentMessage/delta", json!({"delta": "world"})),
                None
            )
            .unwrap(),
            "Hello world"
        );
        assert_eq!(
            a.observe(&n("thread/tokenUsage/updated", json!({})), None),
            None
        );
        let long = "x".repeat(200);
        assert!(reply_tail(&long).chars().count() <= REPLY_TAIL_CHARS + 1);
    }

    #[test]
    fn the_plan_says_which_step_runs() {
        let mut a = Activity::new();
        let plan = |statuses: [&str; 3]| {
            let steps: Vec<Value> = ["read the code", "run the tests", "fix them"]
                .iter()
                .zip(statuses)
                .map(|(step, status)| json!({"step": step, "status": status}))
                .collect();
            n("turn/plan/updated", json!({"plan": steps}))
        };
        assert_eq!(
            a.observe(&plan(["completed", "inProgress", "pending"]), None)
                .unwrap(),
            "step 2/3: run the tests — thinking"
        );
        assert_eq!(
            a.observe(&plan(["completed", "inProgress", "pending"]), None),
            None
        );
        let cmd = json!({"item": {"type": "commandExecution", "command": "cargo test"}});
        assert_eq!(
            a.observe(&n("item/started", cmd), None).unwrap(),
            "step 2/3: run the tests — running `cargo test`"
        );
        assert_eq!(
            a.observe(&plan(["completed", "completed", "pending"]), None)
                .unwrap(),
            "plan: 2/3 done — running `cargo test`"
        );
    }

    /// The windowed tail says what the whole last line would.
    #[test]
    fn reply_tail_matches_the_last_lines_tail() {
        fn expected(reply: &str) -> String {
            let last = reply.trim_end().lines().last().unwrap_or_default().trim();
            let chars: Vec<char> = last.chars().collect();
            if chars.len() <= REPLY_TAIL_CHARS {
                return last.to_string();
            }
            let tail: String = chars[chars.len() - REPLY_TAIL_CHARS..].iter().collect();
            format!("…{tail}")
        }
        let spaces = " ".repeat(100);
        let pieces = ["a", "é", "日本", "🦀", " ", "\n", "  \n ", "word ", &spaces];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..2000 {
            let reply: String = (0..rng.usize(0..400))
                .map(|_| pieces[rng.usize(0..pieces.len())])
                .collect();
            assert_eq!(reply_tail(&reply), expected(&reply), "{reply:?}");
        }
        assert_eq!(reply_tail(&"x".repeat(80)), "x".repeat(80));
        assert_eq!(reply_tail(&"x".repeat(81)), format!("…{}", "x".repeat(80)));
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
        let ms = Duration::from_millis;
        let mut c = Coalescer::new(ms(100));
        assert!(c.offer(|| t0));
        assert!(!c.offer(|| t0 + ms(10)));
        assert!(!c.offer(|| t0 + ms(20)));
        assert_eq!(c.deadline(), Some(t0 + ms(100)));
        assert!(!c.due(t0 + ms(50)));
        assert_eq!(c.wake_at(), Some(t0 + ms(99)), "woken by its deadline");
        assert!(c.due(t0 + ms(99)));
        assert_eq!(c.deadline(), None);
        assert!(!c.due(t0 + ms(300)), "nothing new, nothing to send");
        // 1000 offers over one second release at most ~10 reports.
        let mut sent = 0;
        let mut c = Coalescer::new(ms(100));
        for i in 0..1000u64 {
            let now = t0 + ms(i);
            sent += c.offer(|| now) as u32;
            sent += c.due(now) as u32;
        }
        assert!(sent <= 11, "{sent}");
    }

    /// The first words of a reply go out at once, even right after another report.
    #[test]
    fn a_forced_report_goes_out_and_restarts_the_window() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = Coalescer::new(ms(100));
        assert!(c.offer(|| t0));
        assert!(!c.offer(|| t0 + ms(5)), "held back");
        c.force(t0 + ms(6));
        assert_eq!(c.deadline(), None, "nothing held back any more");
        assert!(
            !c.offer(|| t0 + ms(50)),
            "the window runs from the forced report"
        );
        assert_eq!(c.deadline(), Some(t0 + ms(106)));
    }
}
