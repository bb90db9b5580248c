//! Emacs 30 (batch) with eglot and `editors/emacs/codex.el`, the built codex-lsp, the real
//! app-server and the scripted provider. `tests/editors/emacs/drive.el` runs one scenario
//! through codex.el's commands and writes what it saw as JSON.

mod editor_support;
mod support;

use std::process::Command;
use std::time::Duration;

use codex_lsp::mock_provider::{Reply, Rule};
use editor_support::{editor, repo_path, run_scenario};
use serde_json::Value;
use support::{review_finding, review_reply, Fixture};

const LIMIT: Duration = Duration::from_secs(90);

async fn fixture() -> Fixture {
    let mut rules = support::rules();
    rules.push(Rule::new(
        "emacs region ask",
        vec![
            Reply::apply_patch_update("main.py", "# third line", "# third line, edited by Codex"),
            Reply::slow_text(
                "Emacs reply line one.\nLine two.",
                Duration::from_millis(40),
            ),
        ],
    ));
    let fixture = Fixture::new(rules).await;
    let main_py = fixture.workspace.join("main.py");
    // The reviewer of `codex-review` (a review of uncommitted changes) flags main.py.
    fixture.provider.add_rule(Rule::new(
        "provide prioritized findings",
        vec![review_reply(
            vec![
                review_finding(
                    &main_py,
                    "[P1] Debug print left in",
                    "Remove the print.",
                    1,
                    (2, 2),
                ),
                review_finding(
                    &main_py,
                    "[P3] Vague comment",
                    "Say what the line is for.",
                    3,
                    (3, 3),
                ),
            ],
            "patch is incorrect",
            "A debug print is left in.",
        )],
    ));
    std::fs::create_dir_all(fixture.workspace.join(".git")).unwrap();
    std::fs::write(
        fixture.workspace.join("main.py"),
        "# first line\nprint('emacs region text')\n# third line\n",
    )
    .unwrap();
    fixture
}

async fn run_emacs(fixture: &Fixture, scenario: &str) -> Value {
    let mut command = Command::new(editor("emacs"));
    command
        .args(["--batch", "-Q", "-l"])
        .arg(repo_path("tests/editors/emacs/drive.el"))
        .env("CODEX_TEST_EL", repo_path("editors/emacs/codex.el"));
    run_scenario(command, fixture.env(), &fixture.workspace, scenario, LIMIT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_about_the_region_shows_progress_and_the_reply() {
    let fixture = fixture().await;
    let result = run_emacs(&fixture, "ask").await;
    let turn = &result["last_turn"];
    assert_eq!(turn["status"], "completed", "{result:#}");
    assert_eq!(turn["finalResponse"], "Emacs reply line one.\nLine two.");
    // eglot handled the turn's work-done progress: begin … end with the reply's first line.
    let progress = result["progress"].as_array().unwrap();
    let kinds: Vec<&str> = progress.iter().filter_map(|v| v["kind"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"begin"), "{progress:#?}");
    assert_eq!(kinds.last(), Some(&"end"), "{progress:#?}");
    assert_eq!(progress.last().unwrap()["message"], "Emacs reply line one.");
    assert_eq!(result["status"], "Codex: Emacs reply line one.");
    let transcript = result["transcript"].as_str().unwrap();
    assert!(
        transcript.contains("## emacs region ask")
            && transcript.contains("Emacs reply line one.\nLine two.")
            && transcript.contains("-- completed"),
        "{transcript}"
    );
    // The agent's edit is in the buffer (Emacs does not revert it from disk here): it
    // came by workspace/applyEdit, beside the unsaved edit the scenario made.
    assert_eq!(
        result["buffer"],
        "# first line (unsaved)\nprint('emacs region text')\n# third line, edited by Codex\n",
        "{result:#}"
    );
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("main.py")).unwrap(),
        "# first line\nprint('emacs region text')\n# third line, edited by Codex\n"
    );
    // The region went along as context.
    let sent = serde_json::to_string(&fixture.provider.requests()).unwrap();
    assert!(
        sent.contains("main.py") && sent.contains("print('emacs region text')"),
        "no region in the context"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_interrupt_stops_the_turn() {
    let fixture = fixture().await;
    let result = run_emacs(&fixture, "interrupt").await;
    assert_eq!(result["last_turn"]["status"], "interrupted", "{result:#}");
    assert_eq!(result["status"], "Codex: interrupted", "{result:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_shows_as_flymake_diagnostics_with_actions_and_clears() {
    let fixture = fixture().await;
    let result = run_emacs(&fixture, "review").await;
    assert_eq!(result["last_turn"]["status"], "completed", "{result:#}");
    // eglot turned each finding into a Flymake diagnostic on its line, by priority.
    let diagnostics = result["diagnostics"].as_array().unwrap();
    let mut seen: Vec<(u64, &str, &str)> = diagnostics
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["type"].as_str().unwrap(),
                d["text"].as_str().unwrap(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen.len(), 2, "{result:#}");
    assert_eq!((seen[0].0, seen[0].1), (2, "eglot-warning"), "{seen:?}");
    assert!(
        seen[0]
            .2
            .starts_with("codex [codex.review]: [P1] Debug print left in"),
        "{seen:?}"
    );
    assert_eq!((seen[1].0, seen[1].1), (3, "eglot-note"), "{seen:?}");
    let actions: Vec<&str> = result["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        actions.contains(&"Codex: Fix this finding") && actions.contains(&"Codex: Dismiss"),
        "{actions:?}"
    );
    // codex-clear-review emptied them (drive.el waited for it).
    assert_eq!(result["cleared"]["cleared"], 2, "{result:#}");
}

/// Issue 14, item 4, in the editor that normalises: Emacs opens a file with a UTF-8 BOM and
/// CRLF line ends as a buffer without the BOM and with LF (eglot sends that text). Compared
/// with the raw bytes, the untouched lines looked like unsaved edits, the agent's change
/// became a conflict and never reached the buffer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bom_and_crlf_file_takes_the_agents_edit_like_any_other() {
    let fixture = fixture().await;
    let main_py = fixture.workspace.join("main.py");
    std::fs::write(
        &main_py,
        "\u{FEFF}# first line\r\nprint('emacs region text')\r\n# third line\r\n",
    )
    .unwrap();
    let result = run_emacs(&fixture, "ask").await;
    assert_eq!(result["last_turn"]["status"], "completed", "{result:#}");
    assert_eq!(
        result["buffer"],
        "# first line (unsaved)\nprint('emacs region text')\n# third line, edited by Codex\n",
        "{result:#}"
    );
    let on_disk = std::fs::read_to_string(&main_py).unwrap();
    assert!(
        on_disk.starts_with('\u{FEFF}') && on_disk.contains("# third line, edited by Codex"),
        "{on_disk:?}"
    );
    let messages = result["messages"].as_str().unwrap_or_default();
    assert!(
        !messages.contains("unsaved edits") && !messages.contains("could not be updated"),
        "{messages}"
    );
    let sent = serde_json::to_string(&fixture.provider.requests()).unwrap();
    assert!(
        sent.contains("(unsaved)"),
        "the real unsaved edit still goes to the model"
    );
}
