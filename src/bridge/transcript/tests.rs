//! The renderer on hostile text, the live updates against the whole render, and the cost.

use super::live::{LiveTurn, Update};
use super::render::{self, Note, TurnNotes};
use crate::app_server::protocol as p;
use serde_json::json;

fn item(value: serde_json::Value) -> p::ThreadItem {
    serde_json::from_value(value).expect("a thread item")
}

const HOSTILE: &str = "# Not a heading of ours\n\n```rust\nfn open() {\n\n## inside\n````\nstill open?\n\x1b[31mred\x1b[0m and \r carriage\u{7}\n---\n";

/// A turn with every kind of section, with hostile model text everywhere.
fn hostile_turn() -> p::Turn {
    p::Turn {
        id: "turn-1".into(),
        status: p::TurnStatus::Completed,
        duration_ms: Some(12_300),
        items: vec![
            item(
                json!({"type": "userMessage", "id": "u1", "content": [{"type": "text", "text": "fix ``` it\n# now"}]}),
            ),
            item(json!({"type": "reasoning", "id": "r1", "summary": ["secret thinking"]})),
            item(
                json!({"type": "commandExecution", "id": "c1", "command": "echo '````' # `x`", "cwd": "/w",
                "aggregatedOutput": "`````\n# out\n", "exitCode": 0, "status": "completed", "durationMs": 5, "commandActions": []}),
            ),
            item(
                json!({"type": "fileChange", "id": "f1", "status": "completed", "changes": [
                {"path": "a`b.txt", "kind": {"type": "update", "move_path": null}, "diff": "@@ -1 +1 @@\n-```\n+# x\n"}]}),
            ),
            item(json!({"type": "agentMessage", "id": "m1", "text": HOSTILE})),
        ],
        ..Default::default()
    }
}

fn hostile_notes() -> TurnNotes {
    TurnNotes {
        unsaved: vec!["src/`odd`.rs".into()],
        attached: vec!["src/`odd`.rs#L1-3".into()],
        notes: vec![
            (
                2,
                Note::Approval {
                    what: "run `echo` # [x](y)\n## injected".into(),
                    answer: "Accept".into(),
                },
            ),
            (
                3,
                Note::Plan {
                    explanation: Some("```\n# plan".into()),
                    steps: vec![
                        p::TurnPlanStep {
                            step: "one\n# two".into(),
                            status: p::TurnPlanStepStatus::Completed,
                        },
                        p::TurnPlanStep {
                            step: "three".into(),
                            status: p::TurnPlanStepStatus::InProgress,
                        },
                    ],
                },
            ),
        ],
        tokens: Some(p::ThreadTokenUsage {
            total: p::TokenUsageBreakdown {
                total_tokens: 18_204,
                ..Default::default()
            },
            last: p::TokenUsageBreakdown {
                input_tokens: 4_300,
                ..Default::default()
            },
            model_context_window: Some(10_000),
        }),
    }
}

/// The document's block structure, as far as this renderer can break it: the headings and
/// fences at top level, outside fences and quotes.
fn top_level_structure(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<usize> = None;
    for line in markdown.lines() {
        let ticks = line.chars().take_while(|c| *c == '`').count();
        match fence {
            Some(open) if ticks >= open && line[ticks..].trim().is_empty() => {
                fence = None;
                out.push("fence end".into());
            }
            Some(_) => {}
            None if ticks >= 3 => {
                fence = Some(ticks);
                out.push("fence".into());
            }
            None if line.starts_with('#') => out.push(line.to_string()),
            None if line == "---" => out.push("---".into()),
            None => {}
        }
    }
    assert!(fence.is_none(), "a fence is left open:\n{markdown}");
    out
}

#[test]
fn hostile_text_does_not_shape_the_document() {
    let markdown = render::turn(&hostile_turn(), &hostile_notes(), None);
    println!("{markdown}");
    for c in ['\x1b', '\r', '\u{7}'] {
        assert!(!markdown.contains(c), "{c:?} reached the transcript");
    }
    assert_eq!(
        top_level_structure(&markdown),
        [
            "---",
            "### You",
            "#### Approval: run \\`echo\\` \\# \\[x\\](y) \\#\\# injected → Accept",
            "#### Ran · exit 0 · 5 ms",
            "fence",
            "fence end",
            "#### Plan",
            "#### ``a`b.txt`` changed · completed",
            "fence",
            "fence end",
            "### Codex",
        ]
    );
    assert!(markdown.contains("> # Not a heading of ours\n>\n> ```rust\n"));
    assert!(
        markdown.contains("> [31mred[0m and  carriage\n"),
        "{markdown}"
    );
    assert!(markdown.contains("- [x] one \\# two\n- [ ] three *(in progress)*\n"));
    assert!(markdown.contains("*Unsaved buffers sent:* ``src/`odd`.rs``"));
    assert!(markdown
        .ends_with("*completed · 12.3 s · 18,204 tokens in the thread · 43% of context*\n\n"));
    assert!(!markdown.contains("secret thinking"));
}

#[test]
fn long_output_is_cut_with_a_note() {
    let output: String = (0..2000).map(|i| format!("line {i}\n")).collect();
    let turn = p::Turn {
        items: vec![item(
            json!({"type": "commandExecution", "id": "c1", "command": "seq", "cwd": "/",
            "aggregatedOutput": output, "exitCode": 1, "status": "failed", "commandActions": []}),
        )],
        ..Default::default()
    };
    let markdown = render::turn(&turn, &TurnNotes::default(), None);
    assert!(markdown.contains("line 0\n") && markdown.contains("line 1999\n"));
    assert!(!markdown.contains("line 1000\n"));
    assert!(
        markdown.contains("*Output cut: ") && markdown.contains(" not shown.*"),
        "{markdown}"
    );
    assert!(markdown.len() < render::OUTPUT_LIMIT + 500);
}

/// Applies updates as an integration does.
fn apply(text: &mut String, update: &Update) {
    if let Some(line) = update.replace_from_line {
        let cut = text
            .match_indices('\n')
            .nth(line.wrapping_sub(1))
            .map_or(0, |(i, _)| i + 1);
        let cut = if line == 0 { 0 } else { cut };
        text.truncate(cut);
    }
    text.push_str(&update.markdown);
}

#[test]
fn live_updates_add_up_to_the_whole_turn() {
    let turn = hostile_turn();
    let mut notes = hostile_notes();
    let (mut live, first) = LiveTurn::start(None);
    let mut text = String::new();
    apply(&mut text, &first);
    let all_notes = std::mem::take(&mut notes.notes);
    let mut recorded = TurnNotes {
        unsaved: notes.unsaved.clone(),
        attached: notes.attached.clone(),
        ..TurnNotes::default()
    };
    for (i, it) in turn.items.iter().enumerate() {
        for (at, note) in all_notes.iter().filter(|(at, _)| *at == i) {
            let (landed, update) = live.note(note);
            assert_eq!(landed, *at);
            recorded.notes.push((landed, note.clone()));
            apply(&mut text, &update.expect("shown at once"));
        }
        if let p::ThreadItem::AgentMessage(m) = it {
            // Streamed in odd chunks, one of them changed at the end: it is replaced.
            let chars: Vec<char> = m.text.chars().collect();
            for chunk in chars.chunks(3) {
                let chunk: String = chunk.iter().collect();
                apply(&mut text, &live.delta(&m.id, &chunk).unwrap());
            }
        }
        apply(&mut text, &live.item_completed(it, &recorded).unwrap());
    }
    recorded.tokens = notes.tokens.clone();
    apply(&mut text, &live.ended(&turn, &recorded).unwrap());
    assert_eq!(text, render::turn(&turn, &recorded, None));
}

#[test]
fn a_reply_that_ends_otherwise_than_it_streamed_is_replaced() {
    let (mut live, first) = LiveTurn::start(None);
    let mut text = String::new();
    apply(&mut text, &first);
    apply(&mut text, &live.delta("m1", "draft\nmore").unwrap());
    let final_item = item(json!({"type": "agentMessage", "id": "m1", "text": "final"}));
    let update = live
        .item_completed(&final_item, &TurnNotes::default())
        .unwrap();
    assert_eq!(update.replace_from_line, Some(2));
    apply(&mut text, &update);
    let turn = p::Turn {
        items: vec![final_item],
        status: p::TurnStatus::Completed,
        ..Default::default()
    };
    apply(
        &mut text,
        &live.ended(&turn, &TurnNotes::default()).unwrap(),
    );
    assert_eq!(text, render::turn(&turn, &TurnNotes::default(), None));
}

/// Not asserted: how rendering scales, printed for the report.
#[test]
fn cost_of_a_thousand_turns() {
    let one = hostile_turn();
    let thread = p::Thread {
        turns: (0..1000)
            .map(|i| p::Turn {
                id: format!("t{i}"),
                ..one.clone()
            })
            .collect(),
        ..Default::default()
    };
    let notes = hostile_notes();
    let started = std::time::Instant::now();
    let rendered = render::thread(&thread, |_| Some(notes.clone()));
    let whole = started.elapsed();
    let (mut live, _) = LiveTurn::start(None);
    let started = std::time::Instant::now();
    for _ in 0..100_000 {
        live.delta("m", "word ");
    }
    let per_delta = started.elapsed() / 100_000;
    println!(
        "1,000-turn thread: {} KB in {whole:?}; one streamed delta: {per_delta:?}",
        rendered.markdown.len() / 1000
    );
    assert_eq!(rendered.turns.len(), 1000);
}

#[test]
fn a_note_during_a_streaming_reply_follows_it_in_both() {
    let (mut live, first) = LiveTurn::start(None);
    let mut text = String::new();
    apply(&mut text, &first);
    apply(&mut text, &live.delta("m1", "thinking out loud").unwrap());
    let note = Note::Approval {
        what: "run `ls`".into(),
        answer: "Decline".into(),
    };
    let (at, update) = live.note(&note);
    assert!(update.is_none(), "not inside the quote");
    let reply = item(json!({"type": "agentMessage", "id": "m1", "text": "thinking out loud"}));
    let notes = TurnNotes {
        notes: vec![(at, note)],
        ..TurnNotes::default()
    };
    apply(&mut text, &live.item_completed(&reply, &notes).unwrap());
    let turn = p::Turn {
        items: vec![reply],
        status: p::TurnStatus::Completed,
        ..Default::default()
    };
    apply(&mut text, &live.ended(&turn, &notes).unwrap());
    assert_eq!(text, render::turn(&turn, &notes, None));
    assert!(text.find("> thinking").unwrap() < text.find("#### Approval").unwrap());
}
