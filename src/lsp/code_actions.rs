//! `textDocument/codeAction`: cheap, no app-server call. Four actions for any range and a
//! quickfix per diagnostic, each a `codex.ask` command whose prompt (written by
//! `bridge::prompts`) carries the file, the lines, the selected text and the diagnostic.

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, NumberOrString, Range, Url,
};

use super::commands::{
    carrying, AnswerApprovalArgs, AskArgs, ChangeArgs, Command, DismissFindingArgs, InterruptArgs,
    OpenTranscriptArgs, ResolveConflictArgs, SendAskArgs, SetModelArgs, Take, UndoTurnArgs,
};
use super::{from_proto, to_proto};
use crate::bridge::{
    self, Finding, Selection, WaitingApproval, CHANGE_CODE, CONFLICT_CODE, REVIEW_CODE,
};

/// The fixed actions: (title, instruction, kind).
const ACTIONS: &[(&str, &str, &str)] = &[
    (
        "Codex: Explain",
        bridge::EXPLAIN,
        "refactor.rewrite.codex.explain",
    ),
    (
        "Codex: Document",
        bridge::DOCUMENT,
        "refactor.rewrite.codex.document",
    ),
    (
        "Codex: Add tests",
        bridge::ADD_TESTS,
        "refactor.rewrite.codex.addTests",
    ),
    (
        "Codex: Refactor",
        bridge::REFACTOR,
        "refactor.rewrite.codex.refactor",
    ),
];

/// "Codex: Open chat": the thread's transcript document (`codex.openTranscript`), the way
/// into the chat for editors that run a server's commands only from code actions (Zed).
const OPEN_CHAT: (&str, &str) = ("Codex: Open chat", "refactor.rewrite.codex.openChat");

/// The kinds announced in `codeActionKinds`: approvals, conflicts, review findings and
/// diagnostics are `quickfix`; the fixed actions are `refactor.rewrite.codex.*`.
pub fn kinds() -> Vec<CodeActionKind> {
    let mut kinds = vec![CodeActionKind::QUICKFIX, CodeActionKind::REFACTOR_REWRITE];
    kinds.extend(
        ACTIONS
            .iter()
            .map(|(_, _, kind)| CodeActionKind::from(kind.to_string())),
    );
    kinds.push(CodeActionKind::from(OPEN_CHAT.1.to_string()));
    kinds
}

/// Whether an action of `kind` passes `context.only`: one of them is the kind or a parent
/// of it (`refactor` lets `refactor.rewrite.codex.explain` through; `""` lets all).
pub fn wanted(kind: Option<&CodeActionKind>, only: Option<&[CodeActionKind]>) -> bool {
    let Some(only) = only else {
        return true;
    };
    let kind = kind.map(CodeActionKind::as_str).unwrap_or_default();
    only.iter().any(|want| {
        let want = want.as_str();
        want.is_empty()
            || kind == want
            || kind
                .strip_prefix(want)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// What the code actions are about.
pub struct Target<'a> {
    pub uri: &'a Url,
    /// For the prompt: relative to the workspace when possible.
    pub display_path: &'a str,
    pub language_id: &'a str,
    pub range: Range,
    pub selected_text: &'a str,
}

impl Target<'_> {
    fn selection(&self) -> Selection<'_> {
        Selection {
            display_path: self.display_path,
            language_id: self.language_id,
            range: from_proto::range(self.range),
            text: self.selected_text,
        }
    }
}

pub fn code_actions(target: &Target, diagnostics: &[Diagnostic]) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    let selection = target.selection();
    for diagnostic in diagnostics.iter().filter(|d| !is_codex_own(d)) {
        let title = format!("Codex: Fix: {}", first_line(&diagnostic.message));
        let prompt = bridge::fix_prompt(&selection, &from_proto::quoted_diagnostic(diagnostic));
        actions.push(action(
            title,
            CodeActionKind::QUICKFIX,
            target,
            prompt,
            Some(diagnostic.clone()),
        ));
    }
    for (title, instruction, kind) in ACTIONS {
        let prompt = bridge::action_prompt(instruction, &selection);
        actions.push(action(
            title.to_string(),
            CodeActionKind::from(kind.to_string()),
            target,
            prompt,
            None,
        ));
    }
    let (title, kind) = OPEN_CHAT;
    actions.push(CodeActionOrCommand::CodeAction(CodeAction {
        title: title.to_string(),
        kind: Some(CodeActionKind::from(kind.to_string())),
        command: Some(carrying(
            title.to_string(),
            Command::OpenTranscript,
            // The file's workspace folder: its thread.
            &OpenTranscriptArgs {
                uri: Some(target.uri.clone()),
                ..OpenTranscriptArgs::default()
            },
        )),
        ..CodeAction::default()
    }));
    actions
}

/// A conflict region, a review finding or an agent's change codex-lsp marked: its own
/// diagnostics, which have their own actions (a "Fix" of them would ask Codex to fix its
/// own mark).
fn is_codex_own(diagnostic: &Diagnostic) -> bool {
    [CONFLICT_CODE, REVIEW_CODE, CHANGE_CODE]
        .iter()
        .any(|code| diagnostic.code == Some(NumberOrString::String(code.to_string())))
}

/// "Fix this finding" (a `codex.ask` whose prompt carries the finding) and "Dismiss" for
/// each review finding in range.
pub fn finding_actions(
    findings: &[Finding],
    folder: Option<&std::path::Path>,
) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    for finding in findings {
        let Ok(uri) = Url::parse(&finding.uri) else {
            continue;
        };
        let range = to_proto::range(finding.range());
        let diagnostic = to_proto::diagnostic(finding.diagnostic());
        let shown = bridge::display_path(&finding.path.display().to_string(), folder);
        let fix = bridge::finding_fix_prompt(finding, &shown);
        let title = "Codex: Fix this finding".to_string();
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: title.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            is_preferred: Some(true),
            diagnostics: Some(vec![diagnostic.clone()]),
            command: Some(carrying(
                title,
                Command::Ask,
                &AskArgs {
                    prompt: fix,
                    uri: Some(uri),
                    range: Some(range),
                    ..AskArgs::default()
                },
            )),
            ..CodeAction::default()
        }));
        let title = "Codex: Dismiss".to_string();
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: title.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic]),
            command: Some(carrying(
                title,
                Command::DismissFinding,
                &DismissFindingArgs {
                    id: finding.id.clone(),
                },
            )),
            ..CodeAction::default()
        }));
    }
    actions
}

/// Each waiting approval's answers (editors without `window/showMessageRequest`), offered
/// whatever the range: quickfixes, so that editors sorting by kind (Helix) list them first.
pub fn approval_actions(waiting: &[WaitingApproval]) -> Vec<CodeActionOrCommand> {
    waiting
        .iter()
        .flat_map(|approval| {
            approval.options.iter().map(|option| {
                CodeActionOrCommand::CodeAction(CodeAction {
                    title: option.title.clone(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    command: Some(carrying(
                        option.title.clone(),
                        Command::AnswerApproval,
                        &AnswerApprovalArgs {
                            approval_id: approval.id.clone(),
                            choice: option.choice.clone(),
                        },
                    )),
                    ..CodeAction::default()
                })
            })
        })
        .collect()
}

/// The models and efforts `codex.setModel` offers in the code actions (editors without
/// prompts), each carrying `codex.setModel` with its choice.
pub fn model_actions(options: &[bridge::ModelOption]) -> Vec<CodeActionOrCommand> {
    options
        .iter()
        .map(|option| {
            CodeActionOrCommand::CodeAction(CodeAction {
                title: option.title.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                command: Some(carrying(
                    option.title.clone(),
                    Command::SetModel,
                    &SetModelArgs {
                        model: option.model.clone(),
                        effort: option.effort.clone(),
                    },
                )),
                ..CodeAction::default()
            })
        })
        .collect()
}

/// The chat's actions in a transcript document: "Codex: Send" (its ask section as the
/// next prompt), "Codex: Interrupt" while a turn runs on its thread, "Codex: New thread".
pub fn chat_actions(uri: &Url, chat: &bridge::ChatActions) -> Vec<CodeActionOrCommand> {
    let mut actions = vec![chat_action(
        "Codex: Send",
        Command::SendAsk,
        &SendAskArgs {
            uri: Some(uri.clone()),
        },
    )];
    if chat.turn_running {
        actions.push(chat_action(
            "Codex: Interrupt",
            Command::Interrupt,
            &InterruptArgs {
                thread_id: Some(chat.thread_id.clone()),
                turn_id: None,
            },
        ));
    }
    actions.push(chat_action(
        "Codex: New thread",
        Command::OpenTranscript,
        &OpenTranscriptArgs {
            uri: chat
                .folder
                .as_deref()
                .and_then(|f| Url::from_file_path(f).ok()),
            new_thread: Some(true),
            ..OpenTranscriptArgs::default()
        },
    ));
    actions
}

fn chat_action<T: serde::Serialize>(
    title: &str,
    command: Command,
    args: &T,
) -> CodeActionOrCommand {
    // Quickfixes: editors that sort by kind (Helix) list them first.
    CodeActionOrCommand::CodeAction(CodeAction {
        title: title.to_string(),
        kind: Some(CodeActionKind::QUICKFIX),
        command: Some(carrying(title.to_string(), command, args)),
        ..CodeAction::default()
    })
}

/// "Take Codex's version" and "Keep mine" for each conflict region in range (by id; the
/// server finds the region's current lines itself); for a region a revert met (`reverting`),
/// "Keep my text" (preferred: nothing is lost) and "Revert anyway".
pub fn conflict_actions(uri: &Url, conflicts: &[(u64, Range, bool)]) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    for &(id, range, reverting) in conflicts {
        let choices = match reverting {
            false => [
                ("Codex: Take Codex's version", Take::Codex, true),
                ("Codex: Keep mine", Take::Mine, false),
            ],
            true => [
                ("Codex: Keep my text", Take::Mine, true),
                (
                    "Codex: Revert anyway (take the pre-turn text)",
                    Take::Codex,
                    false,
                ),
            ],
        };
        for (title, take, preferred) in choices {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: title.to_string(),
                kind: Some(CodeActionKind::QUICKFIX),
                is_preferred: Some(preferred),
                command: Some(carrying(
                    title.to_string(),
                    Command::ResolveConflict,
                    &ResolveConflictArgs {
                        uri: uri.clone(),
                        conflict_id: id,
                        take,
                    },
                )),
                // The published diagnostic itself: VS Code drops an action whose
                // diagnostic has no message.
                diagnostics: Some(vec![to_proto::diagnostic(bridge::conflict_diagnostic(
                    id,
                    from_proto::range(range),
                    reverting,
                ))]),
                ..CodeAction::default()
            }));
        }
    }
    actions
}

/// On a marked change: keep or revert it; all of the file's; all of its turn's.
pub fn change_actions(
    uri: &Url,
    shown: &str,
    changes: &[bridge::ChangeMark],
) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    let quickfix = |title: String, command: lsp_types::Command, mark: &bridge::ChangeMark| {
        CodeActionOrCommand::CodeAction(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            command: Some(command),
            diagnostics: Some(vec![to_proto::diagnostic(mark.diagnostic())]),
            ..CodeAction::default()
        })
    };
    for mark in changes {
        let this = ChangeArgs {
            id: Some(mark.id.clone()),
            ..ChangeArgs::default()
        };
        for (title, command) in [
            ("Codex: Keep this change", Command::KeepChange),
            ("Codex: Revert this change", Command::RevertChange),
        ] {
            let carried = carrying(title.to_string(), command, &this);
            actions.push(quickfix(title.to_string(), carried, mark));
        }
    }
    let Some(first) = changes.first() else {
        return actions;
    };
    let file = ChangeArgs {
        uri: Some(uri.clone()),
        ..ChangeArgs::default()
    };
    for (title, command) in [
        (
            format!("Codex: Keep all changes in {shown}"),
            Command::KeepChange,
        ),
        (
            format!("Codex: Revert all changes in {shown}"),
            Command::RevertChange,
        ),
    ] {
        let carried = carrying(title.clone(), command, &file);
        actions.push(quickfix(title, carried, first));
    }
    let mut turns: Vec<&bridge::ChangeMark> = Vec::new();
    for mark in changes {
        if !turns.iter().any(|m| m.turn_id == mark.turn_id) {
            turns.push(mark);
        }
    }
    let several = turns.len() > 1;
    for mark in turns {
        let which = if several {
            format!(" (turn {})", mark.turn)
        } else {
            String::new()
        };
        let keep = ChangeArgs {
            turn_id: Some(mark.turn_id.clone()),
            ..ChangeArgs::default()
        };
        let title = format!("Codex: Keep everything from this turn{which}");
        actions.push(quickfix(
            title.clone(),
            carrying(title, Command::KeepChange, &keep),
            mark,
        ));
        let title = format!("Codex: Undo this turn{which}");
        let undo = UndoTurnArgs {
            turn_id: Some(mark.turn_id.clone()),
        };
        actions.push(quickfix(
            title.clone(),
            carrying(title, Command::UndoTurn, &undo),
            mark,
        ));
    }
    actions
}

fn action(
    title: String,
    kind: CodeActionKind,
    target: &Target,
    prompt: String,
    diagnostic: Option<Diagnostic>,
) -> CodeActionOrCommand {
    // `uri` routes the ask to the file's workspace; the selection is already in the prompt.
    let arguments = AskArgs {
        prompt,
        uri: Some(target.uri.clone()),
        ..AskArgs::default()
    };
    CodeActionOrCommand::CodeAction(CodeAction {
        title: title.clone(),
        kind: Some(kind),
        diagnostics: diagnostic.map(|d| vec![d]),
        command: Some(carrying(title, Command::Ask, &arguments)),
        ..CodeAction::default()
    })
}

fn first_line(text: &str) -> String {
    bridge::one_line(text.lines().next().unwrap_or_default(), 80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::Position;

    #[test]
    fn actions_carry_prompts_with_file_selection_and_diagnostic() {
        let uri = Url::parse("file:///w/src/a.rs").unwrap();
        let range = Range::new(Position::new(2, 0), Position::new(3, 5));
        let target = Target {
            uri: &uri,
            display_path: "src/a.rs",
            language_id: "rust",
            range,
            selected_text: "let x = 1;\nx + y",
        };
        let diagnostic = Diagnostic {
            range: Range::new(Position::new(3, 4), Position::new(3, 5)),
            message: "cannot find value `y`\nhelp: ...".into(),
            source: Some("rustc".into()),
            code: Some(NumberOrString::String("E0425".into())),
            ..Diagnostic::default()
        };
        let actions = code_actions(&target, &[diagnostic]);
        let titles: Vec<String> = actions
            .iter()
            .map(|a| match a {
                CodeActionOrCommand::CodeAction(a) => a.title.clone(),
                CodeActionOrCommand::Command(c) => c.title.clone(),
            })
            .collect();
        assert_eq!(
            titles,
            [
                "Codex: Fix: cannot find value `y`",
                "Codex: Explain",
                "Codex: Document",
                "Codex: Add tests",
                "Codex: Refactor",
                "Codex: Open chat"
            ]
        );
        let CodeActionOrCommand::CodeAction(fix) = &actions[0] else {
            panic!()
        };
        assert_eq!(fix.kind, Some(CodeActionKind::QUICKFIX));
        let command = fix.command.as_ref().unwrap();
        assert_eq!(command.command, "codex.ask");
        let prompt = command.arguments.as_ref().unwrap()[0]["prompt"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(prompt.contains("rustc: cannot find value `y`"), "{prompt}");
        assert!(
            prompt.contains("[E0425]") && prompt.contains("src/a.rs lines 3-4"),
            "{prompt}"
        );
        assert!(
            prompt.contains("```rust\nlet x = 1;\nx + y\n```"),
            "{prompt}"
        );
    }

    #[test]
    fn a_finding_offers_a_fix_carrying_it_and_a_dismiss() {
        let finding = Finding {
            id: "review-7".into(),
            uri: "file:///w/src/a.rs".into(),
            path: "/w/src/a.rs".into(),
            lines: 2..4,
            title: "[P1] Off by one".into(),
            body: "The loop skips the last element.".into(),
            priority: Some(1),
        };
        let actions = finding_actions(&[finding], Some(std::path::Path::new("/w")));
        let [CodeActionOrCommand::CodeAction(fix), CodeActionOrCommand::CodeAction(dismiss)] =
            &actions[..]
        else {
            panic!("{actions:?}")
        };
        assert_eq!(fix.title, "Codex: Fix this finding");
        let command = fix.command.as_ref().unwrap();
        assert_eq!(command.command, "codex.ask");
        let args = &command.arguments.as_ref().unwrap()[0];
        assert_eq!(
            args["prompt"],
            "Fix this code review finding in src/a.rs lines 3-4:\n\n[P1] Off by one\n\nThe loop skips the last element."
        );
        assert_eq!(args["range"]["start"]["line"], 2);
        let dismiss = dismiss.command.as_ref().unwrap();
        assert_eq!(dismiss.command, "codex.dismissFinding");
        assert_eq!(dismiss.arguments.as_ref().unwrap()[0]["id"], "review-7");
        // Its own diagnostic gets no generic "Fix:" action.
        let own = Diagnostic {
            code: Some(NumberOrString::String(REVIEW_CODE.into())),
            ..Diagnostic::default()
        };
        assert!(is_codex_own(&own));
        // Nor does the mark of a change the agent made.
        let change = Diagnostic {
            code: Some(NumberOrString::String(CHANGE_CODE.into())),
            ..Diagnostic::default()
        };
        assert!(is_codex_own(&change));
    }
}
