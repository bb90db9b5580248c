//! The server-rendered transcript (issue 18.1), against the real app-server and the
//! scripted model: a turn that updates its plan, runs a command after an approval and
//! changes a file shows whole in `codex.transcript`; the `codex/transcript` updates of the
//! turn add up to exactly that text; after a restart the history still renders.

mod support;

use mock_provider::{PatchBuilder, Reply, Rule};
use serde_json::{json, Value};
use support::{ask_and_wait, Editor, Fixture};

const PROMPT: &str = "transcript work";
const REPLY: &str = "All done.\n```\nan unclosed fence\n# and a heading";

fn rules() -> Vec<Rule> {
    vec![
        Rule::new("about this line", vec![Reply::text("It is a line.")]),
        Rule::new(
            PROMPT,
            vec![
                Reply::update_plan(
                    "two steps",
                    &[
                        ("run the command", "in_progress"),
                        ("write notes", "pending"),
                    ],
                ),
                Reply::exec("touch made.txt && echo made-it"),
                PatchBuilder::new()
                    .add("notes.txt", "hello notes\n")
                    .into_reply(),
                Reply::update_plan(
                    "two steps",
                    &[
                        ("run the command", "completed"),
                        ("write notes", "completed"),
                    ],
                ),
                Reply::text(REPLY),
            ],
        ),
    ]
}

fn capabilities() -> Value {
    json!({
        "window": { "workDoneProgress": true },
        "general": { "positionEncodings": ["utf-16"] },
        "experimental": { "codexTranscript": true },
    })
}

async fn start(fixture: &Fixture) -> Editor {
    let editor = fixture
        .editor(
            // The scripted model's family offers no `update_plan` unless told to.
            json!({
                "approvalPolicy": "untrusted",
                "sandbox": "workspace-write",
                "config": { "tools.update_plan.enabled": true },
            }),
            capabilities(),
        )
        .await;
    editor.answer_with(|method, _| match method {
        "window/showMessageRequest" => json!({ "title": "Accept" }),
        _ => Value::Null,
    });
    editor
}

/// The turn's text as an integration builds it from the `codex/transcript` updates.
fn live_text(editor: &Editor, turn_id: &str) -> String {
    let mut text = String::new();
    for n in editor.notifications() {
        if n["method"] != "codex/transcript" || n["params"]["turnId"] != turn_id {
            continue;
        }
        if let Some(line) = n["params"]["replaceFromLine"].as_u64() {
            let keep: usize = text
                .split_inclusive('\n')
                .take(line as usize)
                .map(str::len)
                .sum();
            text.truncate(keep);
        }
        text.push_str(n["params"]["markdown"].as_str().expect("markdown"));
    }
    text
}

/// `codex.transcript`'s text of one turn: from its line to the next turn's.
fn turn_text(transcript: &Value, turn_id: &str) -> String {
    let turns = transcript["turns"].as_array().expect("turns");
    let at = turns
        .iter()
        .position(|t| t["turnId"] == turn_id)
        .unwrap_or_else(|| panic!("turn {turn_id} in {transcript:#}"));
    let from = turns[at]["line"].as_u64().unwrap() as usize;
    let to = turns
        .get(at + 1)
        .map_or(usize::MAX, |t| t["line"].as_u64().unwrap() as usize);
    transcript["markdown"]
        .as_str()
        .unwrap()
        .split_inclusive('\n')
        .skip(from)
        .take(to - from)
        .collect()
}

fn assert_has(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_shows_whole_live_and_after_a_restart() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = start(&fixture).await;
    let result = ask_and_wait(&mut editor, PROMPT).await;
    let thread_id = result["threadId"].as_str().unwrap().to_string();
    let turn_id = result["turnId"].as_str().unwrap().to_string();
    assert!(fixture.workspace.join("made.txt").exists(), "{result:#}");
    editor
        .wait_notification("the turn's footer", |n| {
            n["method"] == "codex/transcript"
                && n["params"]["turnId"] == turn_id.as_str()
                && n["params"]["markdown"]
                    .as_str()
                    .is_some_and(|m| m.contains("*completed"))
        })
        .await;

    let transcript = editor
        .command("codex.transcript", json!({}))
        .await
        .expect("codex.transcript");
    assert_eq!(transcript["threadId"], thread_id.as_str());
    let whole = turn_text(&transcript, &turn_id);
    println!("{whole}");
    assert_has(
        &whole,
        &[
            "### You\n\n> transcript work\n",
            "#### Plan\n\n> two steps\n\n- [ ] run the command *(in progress)*\n- [ ] write notes\n",
            "#### Approval: run ",
            "touch made.txt",
            "→ Accept",
            "#### Ran · exit 0",
            "made-it\n",
            "notes.txt",
            "#### `notes.txt` added · completed\n\n```diff\nhello notes\n```",
            "- [x] run the command\n- [x] write notes\n",
            "### Codex\n\n> All done.\n> ```\n> an unclosed fence\n> # and a heading\n",
            "*completed · ",
        ],
    );
    // The approval comes before the command it let run, the plan's end after the change.
    let at = |part: &str| whole.find(part).unwrap();
    assert!(at("#### Approval: run ") < at("#### Ran · "), "{whole}");
    assert!(
        at("#### `notes.txt` added · completed\n\n```diff\nhello notes\n```")
            < at("- [x] run the command"),
        "{whole}"
    );

    let live = live_text(&editor, &turn_id);
    assert_eq!(live, whole, "the live updates differ from codex.transcript");
    // The reply showed as its deltas came, not only whole when its item completed.
    let reply_updates = editor
        .notifications()
        .iter()
        .filter(|n| {
            n["method"] == "codex/transcript"
                && n["params"]["turnId"] == turn_id.as_str()
                && n["params"]["markdown"]
                    .as_str()
                    .is_some_and(|m| m.contains("done.") || m.contains("heading"))
        })
        .count();
    assert!(reply_updates > 1, "the reply did not stream: {live}");

    // The context that went with a prompt: the file and lines, the unsaved buffer sent.
    std::fs::write(fixture.workspace.join("ctx.rs"), "on disk\n").unwrap();
    let uri = fixture.file_uri("ctx.rs");
    editor.open_buffer(&uri, "unsaved words\n").await;
    let second = editor
        .command(
            "codex.ask",
            json!({
                "prompt": "about this line",
                "uri": uri,
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 8 } },
                "wait": true,
            }),
        )
        .await
        .expect("the second ask");
    let second_id = second["turnId"].as_str().unwrap().to_string();
    editor
        .wait_notification("the second turn's footer", |n| {
            n["method"] == "codex/transcript"
                && n["params"]["turnId"] == second_id.as_str()
                && n["params"]["markdown"]
                    .as_str()
                    .is_some_and(|m| m.contains("*completed"))
        })
        .await;
    let transcript = editor
        .command("codex.transcript", json!({ "threadId": thread_id }))
        .await
        .expect("codex.transcript");
    let whole = turn_text(&transcript, &second_id);
    assert_has(
        &whole,
        &[
            "> about this line\n>\n> File: ctx.rs (line 1)\n",
            "*Unsaved buffers sent:* `ctx.rs`\n",
            "> It is a line.",
        ],
    );
    assert_eq!(live_text(&editor, &second_id), whole);
    // The first turn is still whole, before the second.
    assert_eq!(turn_text(&transcript, &turn_id), live);
    editor.shutdown().await;

    // A new codex-lsp on the same CODEX_HOME and folder: the history renders from
    // `thread/read` (what only the old process saw, approvals and plans, is gone).
    let mut editor = start(&fixture).await;
    let transcript = editor
        .command("codex.transcript", json!({}))
        .await
        .expect("codex.transcript after a restart");
    assert_eq!(transcript["threadId"], thread_id.as_str());
    let after = turn_text(&transcript, &turn_id);
    assert_has(
        &after,
        &[
            "> transcript work\n",
            "#### Ran · exit 0",
            "made-it\n",
            "#### `notes.txt` added · completed\n\n```diff\nhello notes\n```",
            "> All done.\n",
        ],
    );
    editor.shutdown().await;
}
