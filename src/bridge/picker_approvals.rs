//! Approvals for editors that cannot show a prompt (Helix 25.01 has no
//! `window/showMessageRequest`): a waiting approval is offered in every code-action answer,
//! one action per decision the app-server offered plus a decline, and answered with
//! `codex.answerApproval`. It ends answered, withdrawn (its turn ended, or the app-server
//! resolved it) or declined after `approvalTimeout`. Nothing is granted without a pick.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::activity::one_line;
use super::approvals::{decision_title, ApprovalChoice};
use super::server_requests::Approval;
use super::{Bridge, BridgeError, BridgeResult, MessageLevel};

/// The `choice` that declines; always offered, even where the app-server's own set lacks a
/// "decline" (under `untrusted` a command gets only accept, always-allow and cancel).
pub const DECLINE: &str = "decline";

/// How many ended approvals are remembered, so a late answer is told why it is too late.
const ENDED_KEPT: usize = 64;

/// One waiting approval, as the code actions show it.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingApproval {
    /// `approval-<n>`: what `codex.answerApproval` takes as `approvalId`.
    pub id: String,
    /// What is asked: "`touch x`", "the edit of a.txt (+2 −1)".
    pub subject: String,
    pub options: Vec<ApprovalOption>,
}

/// One answer to a waiting approval: a code action.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalOption {
    /// What `codex.answerApproval` takes as `choice`.
    pub choice: String,
    /// The code action's title.
    pub title: String,
}

struct Entry {
    turn_id: String,
    /// The document showing the approval whole, removed when it ends.
    document: Option<std::path::PathBuf>,
    shown: WaitingApproval,
    /// The decision each choice sends; `None` is the protocol's decline.
    decisions: Vec<(String, Option<Value>)>,
    answer: oneshot::Sender<Option<Value>>,
}

/// The approvals waiting in the code actions, and why recent ones stopped waiting.
#[derive(Default)]
pub(super) struct PickerApprovals {
    next_id: u64,
    waiting: Vec<Entry>,
    ended: std::collections::VecDeque<(String, String)>,
}

impl PickerApprovals {
    fn end(&mut self, id: &str, why: String) -> Option<Entry> {
        let at = self.waiting.iter().position(|e| e.shown.id == id)?;
        if self.ended.len() == ENDED_KEPT {
            self.ended.pop_front();
        }
        self.ended.push_back((id.to_string(), why));
        let entry = self.waiting.remove(at);
        if let Some(path) = &entry.document {
            let _ = std::fs::remove_file(path);
            // The private folder goes with its last document.
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir(dir);
            }
        }
        Some(entry)
    }
}

/// The `choice` naming a decision: the decision itself, or an object decision's one key.
pub fn choice_of(decision: &Value) -> String {
    match decision {
        Value::String(s) => s.clone(),
        Value::Object(map) => map.keys().next().cloned().unwrap_or_default(),
        other => other.to_string(),
    }
}

/// The code actions for an approval of `subject`: one per offered decision, in order, then
/// a decline when none was offered.
pub fn options_for(
    subject: &str,
    choices: &[ApprovalChoice],
) -> Vec<(ApprovalOption, Option<Value>)> {
    let mut options: Vec<(ApprovalOption, Option<Value>)> = choices
        .iter()
        .map(|c| {
            let choice = choice_of(&c.decision);
            let title = match choice.as_str() {
                "accept" => format!("Codex: allow {subject} (approval)"),
                "acceptForSession" => format!("Codex: allow for this session: {subject}"),
                DECLINE => format!("Codex: decline {subject}"),
                "cancel" => format!("Codex: decline {subject} and stop the turn"),
                "acceptWithExecpolicyAmendment" => {
                    match c.title.strip_prefix("Accept and always allow ") {
                        Some(prefix) => format!("Codex: allow {subject}, and always {prefix}"),
                        None => format!("Codex: {} — {subject}", c.title),
                    }
                }
                _ => format!("Codex: {} — {subject}", c.title),
            };
            (ApprovalOption { choice, title }, Some(c.decision.clone()))
        })
        .collect();
    if !options.iter().any(|(o, _)| o.choice == DECLINE) {
        options.push((
            ApprovalOption {
                choice: DECLINE.into(),
                title: format!("Codex: decline {subject}"),
            },
            None,
        ));
    }
    options
}

/// Writes the whole approval to `<temp>/codex-lsp-<pid>-approvals/<id>.txt`, a folder
/// only this user can read; `None` when that fails (the message still has it whole).
fn approval_document(id: &str, prompt: &str) -> Option<std::path::PathBuf> {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("codex-lsp-{}-approvals", std::process::id()));
    if !make_private_dir(&dir) {
        tracing::warn!(
            "{} is not a private folder; the approval is shown in the message only",
            dir.display()
        );
        return None;
    }
    let path = dir.join(format!("{id}.txt"));
    let mut file = open_private_file(&path)?;
    let text = format!(
        "Codex asks for approval ({id}). Answer in the code actions (Helix: space a).\n\
         Below is the request whole: every line, nothing cut; <U+XXXX> marks an invisible or\n\
         control character. Editing this file changes nothing.\n\n{prompt}\n"
    );
    file.write_all(text.as_bytes()).ok()?;
    Some(path)
}

/// Creates `dir` (mode 0700) if needed; whether it is a real folder of this user's that
/// no one else can read (a shared temp folder could hold someone else's, or a link).
#[cfg(unix)]
fn make_private_dir(dir: &std::path::Path) -> bool {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let _ = std::fs::DirBuilder::new().mode(0o700).create(dir);
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return false;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    meta.is_dir() && meta.uid() == me && meta.mode() & 0o077 == 0
}

/// Windows: the temp folder is the user's own (under the profile, which only the user and
/// administrators can read), so a real folder there, not a link, is private.
#[cfg(not(unix))]
fn make_private_dir(dir: &std::path::Path) -> bool {
    let _ = std::fs::create_dir(dir);
    std::fs::symlink_metadata(dir).is_ok_and(|meta| meta.is_dir())
}

/// Opens `path` for writing, readable by this user only, never through a link.
#[cfg(unix)]
fn open_private_file(path: &std::path::Path) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()
}

#[cfg(not(unix))]
fn open_private_file(path: &std::path::Path) -> Option<std::fs::File> {
    if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
        return None;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .ok()
}

/// "5 min", "90 s".
pub(super) fn duration_words(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 60.0 && secs % 60.0 == 0.0 {
        format!("{} min", secs as u64 / 60)
    } else {
        format!("{} s", (secs * 10.0).round() / 10.0)
    }
}

/// Removes a still-waiting approval when its wait is dropped (the app-server resolved the
/// request, or went away).
struct WithdrawOnDrop {
    bridge: Bridge,
    id: String,
}

impl Drop for WithdrawOnDrop {
    fn drop(&mut self) {
        let why =
            "withdrawn: the app-server no longer waits for it (its turn was interrupted or ended)";
        if self
            .bridge
            .inner
            .prompts
            .picker()
            .end(&self.id, why.into())
            .is_some()
        {
            tracing::info!(id = %self.id, "approval withdrawn from the code actions");
        }
    }
}

impl Bridge {
    /// The approvals waiting in the code actions, oldest first.
    pub fn waiting_approvals(&self) -> Vec<WaitingApproval> {
        self.inner
            .prompts
            .picker()
            .waiting
            .iter()
            .map(|e| e.shown.clone())
            .collect()
    }

    /// Offers an approval in the code actions until it is answered, withdrawn or timed out;
    /// the decision picked, `None` for a decline.
    ///
    /// A title holds the approval whole only when it is a short one-line command; else the
    /// whole approval (every line of the command, or the diffs) is written to a private
    /// document the editor is asked to show, and in the message, and the titles say where.
    pub(super) async fn ask_in_code_actions(
        &self,
        turn_id: &str,
        approval: &Approval,
    ) -> Option<Value> {
        let timeout = self.settings().approval_timeout;
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut state = self.inner.prompts.picker();
            state.next_id += 1;
            format!("approval-{}", state.next_id)
        };
        let mut document = None;
        let subject = if approval.subject_whole {
            approval.subject.clone()
        } else {
            let shown = match approval_document(&id, &approval.prompt) {
                Some(path) => {
                    let opened = tokio::time::timeout(
                        Duration::from_secs(10),
                        self.inner.ui.show_file(path.clone()),
                    )
                    .await
                    .unwrap_or(false);
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let place = if opened {
                        name
                    } else {
                        format!("the message and {}", path.display())
                    };
                    document = Some(path);
                    place
                }
                None => "the message".to_string(),
            };
            format!("{} ({id}, shown whole in {shown})", approval.subject)
        };
        let subject = subject.as_str();
        let options = options_for(subject, &approval.choices);
        {
            let mut state = self.inner.prompts.picker();
            state.waiting.push(Entry {
                turn_id: turn_id.to_string(),
                document,
                shown: WaitingApproval {
                    id: id.clone(),
                    subject: subject.to_string(),
                    options: options.iter().map(|(o, _)| o.clone()).collect(),
                },
                decisions: options
                    .into_iter()
                    .map(|(o, decision)| (o.choice, decision))
                    .collect(),
                answer: tx,
            });
        }
        let _withdraw = WithdrawOnDrop {
            bridge: self.clone(),
            id: id.clone(),
        };
        let within = duration_words(timeout);
        self.inner.ui.show_message(
            MessageLevel::Warning,
            format!(
                "Codex asks for approval ({id}): {subject}. Answer in the code actions (Helix: space a): \
                 \"Codex: allow …\" or \"Codex: decline …\"; declined in {within} without an answer.\n{}",
                approval.prompt
            ),
        );
        self.hint_waiting_for_approval(
            turn_id,
            Some(format!(
                "approval needed for {subject}: answer in the code actions (space a)"
            )),
        );
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(decision)) => decision,
            // Withdrawn: the turn ended.
            Ok(Err(_)) => None,
            Err(_) => {
                let why = format!("declined: no answer within {within}");
                self.inner.prompts.picker().end(&id, why);
                tracing::info!(%id, "approval timed out; declining");
                self.inner.ui.show_message(
                    MessageLevel::Warning,
                    format!("declined {subject}: no answer within {within}"),
                );
                None
            }
        }
    }

    /// Withdraws the approvals of a turn that ended: its answers are moot.
    pub(super) fn withdraw_approvals(&self, turn_id: &str) {
        let mut state = self.inner.prompts.picker();
        let ids: Vec<String> = state
            .waiting
            .iter()
            .filter(|e| e.turn_id == turn_id)
            .map(|e| e.shown.id.clone())
            .collect();
        for id in ids {
            // Dropping the entry's sender ends its wait with a decline.
            state.end(&id, "withdrawn: its turn ended".into());
        }
    }

    /// `codex.answerApproval`: answers a waiting approval with one of its offered choices.
    pub fn answer_approval(&self, id: &str, choice: &str) -> BridgeResult<Value> {
        let mut state = self.inner.prompts.picker();
        let Some(entry) = state.waiting.iter().find(|e| e.shown.id == id) else {
            if let Some((_, why)) = state.ended.iter().rev().find(|(i, _)| i == id) {
                return Err(BridgeError::ApprovalNotWaiting {
                    id: id.into(),
                    why: why.clone(),
                });
            }
            return Err(BridgeError::NoSuchApproval {
                id: id.into(),
                waiting: state.waiting.iter().map(|e| e.shown.id.clone()).collect(),
            });
        };
        let Some((_, decision)) = entry.decisions.iter().find(|(c, _)| c == choice) else {
            let offered: Vec<&str> = entry.decisions.iter().map(|(c, _)| c.as_str()).collect();
            return Err(BridgeError::InvalidParams(format!(
                "codex.answerApproval: choice `{choice}` was not offered for {id}; offered: {}",
                offered.join(", ")
            )));
        };
        let decision = decision.clone();
        let answered = match &decision {
            Some(d) => decision_title(d),
            None => "Decline".into(),
        };
        let entry = state
            .end(id, format!("already answered: {answered}"))
            .expect("found above");
        drop(state);
        let subject = entry.shown.subject.clone();
        if entry.answer.send(decision.clone()).is_err() {
            // Its wait ended at this very moment (withdrawn or timed out): nothing granted.
            return Err(BridgeError::ApprovalNotWaiting {
                id: id.into(),
                why: "the app-server stopped waiting for it".into(),
            });
        }
        self.inner.ui.show_message(
            MessageLevel::Info,
            format!("{}: {answered}", one_line(&subject, 80)),
        );
        Ok(json!({
            "approvalId": id,
            "choice": choice,
            "decision": decision,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::approvals::command_choices;

    #[test]
    fn options_are_the_offered_decisions_and_always_a_decline() {
        let offered = vec![
            json!("accept"),
            json!({"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch"]}}),
            json!("cancel"),
        ];
        let options = options_for("`touch x`", &command_choices(Some(&offered)));
        let shown: Vec<(&str, &str)> = options
            .iter()
            .map(|(o, _)| (o.choice.as_str(), o.title.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("accept", "Codex: allow `touch x` (approval)"),
                (
                    "acceptWithExecpolicyAmendment",
                    "Codex: allow `touch x`, and always `touch`"
                ),
                ("decline", "Codex: decline `touch x`"),
                ("cancel", "Codex: decline `touch x` and stop the turn"),
            ]
        );
        // The added decline sends the protocol's decline, never a grant.
        assert_eq!(options[2].1, Some(json!("decline")));
        // Without any decline offered, the picker adds its own.
        let bare = [ApprovalChoice {
            title: "Accept".into(),
            decision: json!("accept"),
        }];
        let options = options_for("`ls`", &bare);
        assert_eq!(options[1].0.choice, "decline");
        assert_eq!(options[1].1, None);

        let defaults = options_for("`ls`", &command_choices(None));
        let choices: Vec<&str> = defaults.iter().map(|(o, _)| o.choice.as_str()).collect();
        assert_eq!(choices, ["accept", "acceptForSession", "decline", "cancel"]);
        assert_eq!(defaults[1].0.title, "Codex: allow for this session: `ls`");
        assert_eq!(defaults[2].1, Some(json!("decline")));
    }

    #[test]
    fn timeouts_read_as_words() {
        assert_eq!(duration_words(Duration::from_secs(300)), "5 min");
        assert_eq!(duration_words(Duration::from_secs(90)), "90 s");
        assert_eq!(duration_words(Duration::from_millis(2500)), "2.5 s");
    }
}
