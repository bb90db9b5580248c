//! Codex review as diagnostics: `review/start` runs as a turn of the workspace's thread
//! (followed like an ask); its findings become diagnostics of kind `review` on the files
//! they name, and move with the lines as the user edits.
//!
//! What the app-server delivers (codex-cli 0.163.0): the reviewer model answers a JSON object
//! (`findings[]` with `title`, `body`, `confidence_score`, `priority`, `code_location
//! {absolute_file_path, line_range {start, end}}`, and `overall_correctness`,
//! `overall_explanation`, `overall_confidence_score`), but that JSON never reaches the client:
//! the turn's `exitedReviewMode` item carries it rendered as text, the overall explanation,
//! then `Full review comments:` (or `Review comment:` for one) and per finding
//! `- <title> — <absolute path>:<start>-<end>` with the body indented by two spaces. The
//! priority survives only as the `[P1]` tag the reviewer puts at the start of its titles, and
//! `overall_correctness` not at all. A reply that is not that JSON is passed through as the
//! text itself. So [`parse_review`] reads the rendered text, and takes a JSON object when the
//! text is one (another app-server version, or a reviewer reply passed through).

use std::ops::Range as Span;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{json, Value};

mod findings;

pub(super) use findings::Findings;

use crate::app_server::protocol as p;
use crate::bridge::conversation::registry::TurnKind;
use crate::bridge::conversation::turns::TurnOutcome;
use crate::bridge::editor_ui::{BufferDiagnostic, Severity};
use crate::bridge::edits::documents::{normalize_path, LineChange};
use crate::bridge::{Bridge, BridgeError, BridgeResult, MessageLevel};
use crate::text::{Position, Range};

/// The diagnostic code of a review finding.
pub const REVIEW_CODE: &str = "codex.review";
/// The diagnostics kind review findings are published under.
const KIND: &str = "review";

/// What `codex.review` reviews.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ReviewTarget {
    /// Staged, unstaged and untracked changes.
    #[default]
    UncommittedChanges,
    BaseBranch(String),
    Commit {
        sha: String,
        title: Option<String>,
    },
    /// Free-form review instructions.
    Custom(String),
}

impl ReviewTarget {
    fn to_wire(&self) -> p::ReviewTarget {
        match self {
            Self::UncommittedChanges => p::ReviewTarget::UncommittedChanges,
            Self::BaseBranch(branch) => p::ReviewTarget::BaseBranch {
                branch: branch.clone(),
            },
            Self::Commit { sha, title } => p::ReviewTarget::Commit {
                sha: sha.clone(),
                title: title.clone(),
            },
            Self::Custom(instructions) => p::ReviewTarget::Custom {
                instructions: instructions.clone(),
            },
        }
    }
}

/// `codex.review`, parsed.
#[derive(Debug, Clone, Default)]
pub struct ReviewRequest {
    pub target: ReviewTarget,
    /// A file of the workspace to review (picks the workspace folder).
    pub path: Option<PathBuf>,
    pub wait: bool,
}

/// One finding as the reviewer gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFinding {
    pub title: String,
    pub body: String,
    /// 0 (drop everything) to 3 (nice to have); `None` when the reviewer gave none.
    pub priority: Option<u8>,
    pub path: PathBuf,
    /// 1-based, inclusive, as the reviewer counts lines.
    pub start_line: u32,
    pub end_line: u32,
}

/// A review as the reviewer gave it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedReview {
    pub findings: Vec<ParsedFinding>,
    /// `patch is correct` / `patch is incorrect`, when the review carried it.
    pub correctness: Option<String>,
    pub explanation: String,
}

/// The reviewer's JSON (`ReviewOutputEvent`); every field optional, so a partial answer
/// still yields what it has.
#[derive(Deserialize)]
struct ReviewJson {
    #[serde(default)]
    findings: Vec<FindingJson>,
    #[serde(default)]
    overall_correctness: Option<String>,
    #[serde(default)]
    overall_explanation: Option<String>,
}

#[derive(Deserialize)]
struct FindingJson {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    priority: Option<i64>,
    code_location: LocationJson,
}

#[derive(Deserialize)]
struct LocationJson {
    absolute_file_path: PathBuf,
    line_range: LineRangeJson,
}

#[derive(Deserialize)]
struct LineRangeJson {
    start: i64,
    end: i64,
}

/// Reads a review: the JSON object when the text is (or holds) one, else the app-server's
/// rendering of it (see the module docs). Text with neither gives no findings and the text as
/// the explanation.
pub fn parse_review(text: &str) -> ParsedReview {
    if let Some(review) = parse_json(text) {
        return review;
    }
    parse_rendered(text)
}

fn parse_json(text: &str) -> Option<ParsedReview> {
    let candidates = [
        Some(text.trim()),
        match (text.find('{'), text.rfind('}')) {
            (Some(start), Some(end)) if start < end => text.get(start..=end),
            _ => None,
        },
    ];
    let review: ReviewJson = candidates
        .into_iter()
        .flatten()
        .find_map(|t| serde_json::from_str::<Value>(t).ok())
        .filter(|v| {
            v.get("findings").is_some()
                || v.get("overall_explanation").is_some()
                || v.get("overall_correctness").is_some()
        })
        .and_then(|v| serde_json::from_value(v).ok())?;
    let findings = review
        .findings
        .into_iter()
        .map(|f| {
            let (start, end) = line_span(
                f.code_location.line_range.start,
                f.code_location.line_range.end,
            );
            ParsedFinding {
                priority: f
                    .priority
                    .and_then(|p| u8::try_from(p).ok())
                    .filter(|p| *p <= 3)
                    .or_else(|| priority_tag(&f.title)),
                title: f.title.trim().to_string(),
                body: f.body.trim().to_string(),
                path: f.code_location.absolute_file_path,
                start_line: start,
                end_line: end,
            }
        })
        .collect();
    Some(ParsedReview {
        findings,
        correctness: review
            .overall_correctness
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
        explanation: review
            .overall_explanation
            .unwrap_or_default()
            .trim()
            .to_string(),
    })
}

/// 1-based inclusive lines, made sane: at least line 1, end not before start.
fn line_span(start: i64, end: i64) -> (u32, u32) {
    let clamp = |n: i64| u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    let start = clamp(start);
    (start, clamp(end).max(start))
}

/// The `[P0]`..`[P3]` tag at the start of a title.
fn priority_tag(title: &str) -> Option<u8> {
    let rest = title.trim_start().strip_prefix("[P")?;
    let digit = rest.chars().next()?.to_digit(10)?;
    (rest[1..].starts_with(']') && digit <= 3).then_some(digit as u8)
}

/// `- <title> — <path>:<start>-<end>`.
fn finding_header(line: &str) -> Option<(String, PathBuf, u32, u32)> {
    let rest = line.strip_prefix("- ")?;
    let (title, location) = rest.rsplit_once(" — ")?;
    let (path, lines) = location.trim_end().rsplit_once(':')?;
    let (start, end) = lines.split_once('-').unwrap_or((lines, lines));
    let (start, end) = line_span(start.trim().parse().ok()?, end.trim().parse().ok()?);
    (!path.is_empty()).then(|| (title.trim().to_string(), PathBuf::from(path), start, end))
}

fn parse_rendered(text: &str) -> ParsedReview {
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| matches!(l.trim(), "Full review comments:" | "Review comment:"));
    let Some(header) = header else {
        return ParsedReview {
            explanation: text.trim().to_string(),
            ..ParsedReview::default()
        };
    };
    let explanation = lines[..header].join("\n").trim().to_string();
    let mut findings: Vec<ParsedFinding> = Vec::new();
    let mut body: Vec<String> = Vec::new();
    let flush = |findings: &mut Vec<ParsedFinding>, body: &mut Vec<String>| {
        if let Some(last) = findings.last_mut() {
            last.body = body.join("\n").trim().to_string();
        }
        body.clear();
    };
    let mut in_finding = false;
    for line in &lines[header + 1..] {
        if let Some((title, path, start, end)) = finding_header(line) {
            flush(&mut findings, &mut body);
            findings.push(ParsedFinding {
                priority: priority_tag(&title),
                title,
                body: String::new(),
                path,
                start_line: start,
                end_line: end,
            });
            in_finding = true;
        } else if let Some(indented) = line.strip_prefix("  ") {
            if in_finding {
                body.push(indented.to_string());
            }
        } else if line.trim().is_empty() {
            // The blank line between findings.
        } else {
            // Not the rendering we know: stop rather than mislabel text as a finding's body.
            tracing::debug!(line, "unexpected line in a rendered review");
            in_finding = false;
        }
    }
    flush(&mut findings, &mut body);
    ParsedReview {
        findings,
        correctness: None,
        explanation,
    }
}

/// The severity of a priority: P0 error, P1 warning, P2 information, P3 hint; a finding
/// without a priority counts as P2 ("normal").
pub fn severity_of(priority: Option<u8>) -> Severity {
    match priority {
        Some(0) => Severity::Error,
        Some(1) => Severity::Warning,
        Some(3) => Severity::Hint,
        _ => Severity::Information,
    }
}

/// A finding shown as a diagnostic.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: String,
    pub uri: String,
    pub path: PathBuf,
    /// 0-based, half-open whole lines; kept in step with the open buffer's `didChange`.
    pub lines: Span<u32>,
    pub title: String,
    pub body: String,
    pub priority: Option<u8>,
}

impl Finding {
    pub fn range(&self) -> Range {
        Range::new(
            Position::new(self.lines.start, 0),
            Position::new(self.lines.end, 0),
        )
    }

    /// Its diagnostic: what is published and what its code actions carry.
    pub fn diagnostic(&self) -> BufferDiagnostic {
        let message = if self.body.is_empty() {
            self.title.clone()
        } else {
            format!("{}\n\n{}", self.title, self.body)
        };
        BufferDiagnostic {
            range: self.range(),
            severity: severity_of(self.priority),
            code: REVIEW_CODE.into(),
            message,
            data: json!({ "findingId": self.id }),
        }
    }

    fn concerns(&self, uri: &str, path: Option<&Path>) -> bool {
        self.uri == uri || path.is_some_and(|p| p == self.path)
    }
}

impl Bridge {
    /// `codex.review`: starts `review/start` on the workspace's thread and follows it like an
    /// ask; the findings are published when it completes.
    pub async fn review(&self, request: ReviewRequest) -> BridgeResult<Value> {
        let folder = self.workspace_for(request.path.as_deref());
        let (_, thread_id) = self.thread_for(None, false, folder.as_deref()).await?;
        // In turn order with the asks on the thread (queued behind a running turn).
        let bridge = self.clone();
        let wait = request.wait;
        self.in_turn_order(
            &thread_id.clone(),
            wait,
            "review".into(),
            move |slot| async move {
                let (codex, _) = bridge.codex().await?;
                let params = p::ReviewStartParams {
                    delivery: Some(p::ReviewDelivery::Inline),
                    target: request.target.to_wire(),
                    thread_id,
                };
                let starting = bridge.inner.turns.starting_turn(&params.thread_id);
                let handle = codex.review_start(&params).await?;
                bridge.inner.turns.hold_slot(&handle.turn_id, slot);
                bridge
                    .follow_and_answer(handle, folder, TurnKind::Review, wait, starting)
                    .await
            },
        )
        .await
    }

    /// A review turn ended: on completion its findings replace the previous review's.
    pub(in crate::bridge) fn review_finished(&self, outcome: &TurnOutcome, folder: Option<&Path>) {
        if outcome.status != p::TurnStatus::Completed {
            // Interrupted or failed: the progress end says so; earlier findings stay.
            return;
        }
        let text = outcome
            .items
            .iter()
            .rev()
            .find_map(|item| match item {
                p::ThreadItem::ExitedReviewMode(exited) => Some(exited.review.as_str()),
                _ => None,
            })
            .unwrap_or(&outcome.final_response);
        let review = parse_review(text);
        let placed: Vec<ParsedFinding> = review
            .findings
            .iter()
            .cloned()
            .map(|mut f| {
                if f.path.is_relative() {
                    if let Some(folder) = folder {
                        f.path = folder.join(&f.path);
                    }
                }
                f.path = normalize_path(&f.path);
                f
            })
            .collect();
        let mut findings = Vec::new();
        for f in placed {
            let Some(uri) = self.inner.ui.path_to_uri(&f.path) else {
                tracing::info!(path = %f.path.display(), "a review finding names no usable file");
                continue;
            };
            findings.push(Finding {
                id: self.inner.findings.next_id(),
                uri,
                path: f.path,
                lines: f.start_line - 1..f.end_line,
                title: f.title,
                body: f.body,
                priority: f.priority,
            });
        }
        self.replace_findings(findings.clone());
        self.inner.ui.show_message(
            verdict_level(&review, &findings),
            verdict(&review, &findings, folder),
        );
    }

    /// Replaces every finding, clearing the documents that no longer have any.
    fn replace_findings(&self, findings: Vec<Finding>) {
        let uris = self.inner.findings.replace(findings);
        self.publish_findings(uris);
    }

    /// Publishes the review diagnostics of `uris` (pushed, or a refresh for pulling editors).
    fn publish_findings(&self, uris: impl IntoIterator<Item = String>) {
        let mut uris: Vec<String> = uris.into_iter().collect();
        uris.sort();
        uris.dedup();
        if self.inner.ui.pulls_diagnostics() {
            if !uris.is_empty() {
                self.inner.ui.refresh_diagnostics();
            }
            return;
        }
        for uri in uris {
            let diagnostics = self.review_diagnostics(&uri, None);
            self.set_diagnostics(&uri, KIND, diagnostics);
        }
    }

    /// The review diagnostics of a document (what a pulling editor is answered).
    pub fn review_diagnostics(&self, uri: &str, path: Option<&Path>) -> Vec<BufferDiagnostic> {
        let path = path.map(normalize_path);
        self.inner
            .findings
            .of_document(uri, path.as_deref())
            .iter()
            .map(Finding::diagnostic)
            .collect()
    }

    /// The findings of a document whose lines meet `range`.
    pub fn findings_in(&self, uri: &str, path: Option<&Path>, range: Range) -> Vec<Finding> {
        let path = path.map(normalize_path);
        self.inner.findings.in_range(uri, path.as_deref(), range)
    }

    /// `codex.clearReview`: removes every finding.
    pub fn clear_review(&self) -> BridgeResult<Value> {
        let old = self.inner.findings.take_all();
        let cleared = old.len();
        self.publish_findings(old.into_iter().map(|f| f.uri));
        Ok(json!({ "cleared": cleared }))
    }

    /// `codex.dismissFinding`: removes one finding.
    pub fn dismiss_finding(&self, id: &str) -> BridgeResult<Value> {
        let Some(removed) = self.inner.findings.remove(id) else {
            return Err(BridgeError::InvalidParams(format!(
                "codex.dismissFinding: no finding `{id}` (already dismissed, or replaced by a newer review?)"
            )));
        };
        self.publish_findings([removed.uri]);
        Ok(json!({ "dismissed": id }))
    }

    /// The open document `path` changed: its findings follow the lines (see
    /// [`crate::bridge::edits::documents::follow_lines`]); push editors get the moved ones
    /// again.
    pub(in crate::bridge) fn findings_follow(
        &self,
        uri: &str,
        path: Option<&Path>,
        changes: &[LineChange],
    ) {
        if changes.is_empty() {
            return;
        }
        // A pulling editor pulls again after its own change; only push editors are told.
        if let Some(uris) = self.inner.findings.follow(uri, path, changes) {
            if !self.inner.ui.pulls_diagnostics() {
                self.publish_findings(uris);
            }
        }
    }

    /// Whether there are findings at all (a cheap check before tracking lines).
    pub(in crate::bridge) fn has_findings(&self) -> bool {
        !self.inner.findings.is_empty()
    }
}

fn verdict_level(review: &ParsedReview, findings: &[Finding]) -> MessageLevel {
    let incorrect = review
        .correctness
        .as_deref()
        .is_some_and(|c| c.contains("incorrect"));
    if incorrect || findings.iter().any(|f| f.priority.is_some_and(|p| p <= 1)) {
        MessageLevel::Warning
    } else {
        MessageLevel::Info
    }
}

/// The message that sums up a review.
fn verdict(review: &ParsedReview, findings: &[Finding], folder: Option<&Path>) -> String {
    let explanation = review.explanation.trim();
    if review.findings.is_empty() {
        let said = if explanation.is_empty() {
            "the reviewer gave no findings and no explanation".to_string()
        } else {
            format!("the reviewer said: {explanation}")
        };
        let verdict = review
            .correctness
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        return format!("Codex review: no findings to mark{verdict}; {said}");
    }
    let mut files: Vec<String> = findings
        .iter()
        .map(|f| super::activity::display_path(&f.path.display().to_string(), folder))
        .collect();
    files.sort();
    files.dedup();
    let count = match findings.len() {
        1 => "1 finding".to_string(),
        n => format!("{n} findings"),
    };
    let mut message = format!("Codex review: {count} in {}", files.join(", "));
    let unplaced = review.findings.len() - findings.len();
    if unplaced > 0 {
        message.push_str(&format!(" ({unplaced} without a usable file)"));
    }
    if let Some(correctness) = &review.correctness {
        message.push_str(&format!(". Verdict: {correctness}"));
    }
    if !explanation.is_empty() {
        message.push_str(&format!(". {explanation}"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the pinned app-server (0.163.0) put in `exitedReviewMode.review` for a reviewer
    /// JSON with two findings (recorded by running it).
    const RENDERED: &str = "It breaks iteration.\n\nFull review comments:\n\n- [P1] Off by one — /tmp/x/a.rs:3-4\n  The loop skips\n  the last element.\n\n- Untagged title — /tmp/x/b.rs:1-1\n  Body two.";

    #[test]
    fn the_app_servers_rendering_parses_into_findings() {
        let review = parse_review(RENDERED);
        assert_eq!(review.explanation, "It breaks iteration.");
        assert_eq!(review.correctness, None);
        assert_eq!(
            review.findings,
            vec![
                ParsedFinding {
                    title: "[P1] Off by one".into(),
                    body: "The loop skips\nthe last element.".into(),
                    priority: Some(1),
                    path: "/tmp/x/a.rs".into(),
                    start_line: 3,
                    end_line: 4,
                },
                ParsedFinding {
                    title: "Untagged title".into(),
                    body: "Body two.".into(),
                    priority: None,
                    path: "/tmp/x/b.rs".into(),
                    start_line: 1,
                    end_line: 1,
                },
            ]
        );
    }

    #[test]
    fn one_finding_has_its_own_header_and_titles_may_hold_dashes() {
        let text = "Review comment:\n\n- [P0] Guard — not this — /w/src/a b.rs:10-12\n  Body with\n  \n  a blank line.";
        let review = parse_review(text);
        assert_eq!(review.explanation, "");
        let f = &review.findings[0];
        assert_eq!(f.title, "[P0] Guard — not this");
        assert_eq!(f.path, PathBuf::from("/w/src/a b.rs"));
        assert_eq!((f.start_line, f.end_line, f.priority), (10, 12, Some(0)));
        assert_eq!(f.body, "Body with\n\na blank line.");
    }

    #[test]
    fn the_reviewers_json_parses_with_its_verdict() {
        let text = r#"Here you go: {"findings":[{"title":"Leak","body":"b","confidence_score":0.4,"priority":3,
            "code_location":{"absolute_file_path":"/w/a.rs","line_range":{"start":0,"end":-2}}}],
            "overall_correctness":"patch is incorrect","overall_explanation":" Leaks. ",
            "overall_confidence_score":0.5}"#;
        let review = parse_review(text);
        assert_eq!(review.correctness.as_deref(), Some("patch is incorrect"));
        assert_eq!(review.explanation, "Leaks.");
        let f = &review.findings[0];
        assert_eq!((f.priority, f.start_line, f.end_line), (Some(3), 1, 1));
    }

    #[test]
    fn text_without_a_review_has_no_findings() {
        for text in [
            "",
            "Reviewer failed to output a response.",
            "I looked and it is fine.",
            "{ not json",
            r#"{"other": 1}"#,
        ] {
            let review = parse_review(text);
            assert!(review.findings.is_empty(), "{text}");
            assert_eq!(review.explanation, text.trim(), "{text}");
        }
        let empty = parse_review(r#"{"findings": [], "overall_correctness": "patch is correct"}"#);
        assert!(empty.findings.is_empty());
        assert_eq!(empty.correctness.as_deref(), Some("patch is correct"));
    }

    #[test]
    fn a_header_without_findings_or_with_a_bad_location_yields_none() {
        let review = parse_review("Fine.\n\nFull review comments:\n\n- Title — nowhere\n  body");
        assert!(review.findings.is_empty());
        assert_eq!(review.explanation, "Fine.");
    }

    #[test]
    fn priorities_map_to_severities() {
        assert_eq!(severity_of(Some(0)), Severity::Error);
        assert_eq!(severity_of(Some(1)), Severity::Warning);
        assert_eq!(severity_of(Some(2)), Severity::Information);
        assert_eq!(severity_of(Some(3)), Severity::Hint);
        assert_eq!(severity_of(None), Severity::Information);
        assert_eq!(priority_tag("[P2] x"), Some(2));
        assert_eq!(priority_tag("[P9] x"), None);
        assert_eq!(priority_tag("P1 x"), None);
    }
}
