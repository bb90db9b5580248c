//! Neovim 0.11 (headless) with the plugin in `editors/nvim`, the built codex-lsp, the real
//! app-server and the scripted provider. The Lua side (`tests/editors/nvim/drive.lua`) runs
//! one scenario through the plugin's own commands and writes what it saw as JSON.

mod editor_support;
mod support;

use std::process::Command;
use std::time::Duration;

use codex_lsp::mock_provider::{Reply, Rule};
use editor_support::{codex_lsp, editor, repo_path, run_scenario, EditorHome, Tmux};
use serde_json::{json, Value};
use support::Fixture;

const LIMIT: Duration = Duration::from_secs(90);

fn nvim_rules() -> Vec<Rule> {
    let mut rules = support::rules();
    rules.push(Rule::new(
        "nvim visual ask",
        vec![Reply::slow_text(
            "Visual reply line one.\nLine two of the visual reply.",
            Duration::from_millis(40),
        )],
    ));
    rules.push(Rule::new(
        "nvim edit the buffer",
        vec![
            Reply::apply_patch_update("edit.txt", "old line", "new line"),
            Reply::text("edited edit.txt"),
        ],
    ));
    rules.push(Rule::new(
        "nvim patch approval",
        vec![
            Reply::apply_patch_update("patch.txt", "old line", "patched line"),
            Reply::text("patch answered"),
        ],
    ));
    rules.push(Rule::new(
        "nvim two lines",
        vec![
            Reply::exec("echo checking status\ntouch PWNED"),
            Reply::text("two lines answered"),
        ],
    ));
    rules
}

async fn fixture() -> Fixture {
    let fixture = Fixture::new(nvim_rules()).await;
    std::fs::create_dir_all(fixture.workspace.join(".git")).unwrap();
    std::fs::write(
        fixture.workspace.join("main.txt"),
        "first line\nplease greet the nvim world\nthird line\n",
    )
    .unwrap();
    std::fs::write(
        fixture.workspace.join("edit.txt"),
        "old line\nsecond\nthird\n",
    )
    .unwrap();
    std::fs::write(fixture.workspace.join("patch.txt"), PATCH_BEFORE).unwrap();
    fixture
}

const PATCH_BEFORE: &str = "old line\nsecond\n";

/// Runs `scenario` in headless Neovim; returns the driver's result.
async fn run_nvim(fixture: &Fixture, scenario: &str, settings: Value, pick: &str) -> Value {
    run_nvim_with(fixture, scenario, settings, pick, "codex").await
}

/// `approvals`: the plugin's `approvals` option (`codex` or `message`).
async fn run_nvim_with(
    fixture: &Fixture,
    scenario: &str,
    settings: Value,
    pick: &str,
    approvals: &str,
) -> Value {
    let mut command = Command::new(editor("nvim"));
    command
        .args(["--headless", "--clean", "-u"])
        .arg(repo_path("tests/editors/nvim/drive.lua"))
        .env("CODEX_TEST_PLUGIN", repo_path("editors/nvim"))
        .env("CODEX_TEST_SETTINGS", settings.to_string())
        .env("CODEX_TEST_PICK", pick)
        .env("CODEX_TEST_APPROVALS", approvals);
    run_scenario(command, fixture.env(), &fixture.workspace, scenario, LIMIT).await
}

fn history(result: &Value) -> Vec<String> {
    result["status_history"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_from_a_visual_selection_streams_progress_and_the_reply() {
    let fixture = fixture().await;
    let result = run_nvim(&fixture, "ask_visual", json!({}), "").await;

    let turn = &result["last_turn"];
    assert_eq!(turn["status"], "completed", "{result:#}");
    assert_eq!(
        turn["finalResponse"],
        "Visual reply line one.\nLine two of the visual reply."
    );
    // Progress reached the statusline function: the end message is the reply's first line,
    // which only the server's `$/progress` end carries.
    let history = history(&result);
    assert!(
        history.iter().any(|s| s == "Codex: Visual reply line one."),
        "{history:#?}"
    );
    assert_eq!(result["status"], "Codex: Visual reply line one.");
    // The reply streamed into the transcript through codex/event deltas.
    assert!(result["events"].as_u64().unwrap() > 0, "{result:#}");
    let transcript = result["transcript"].as_str().unwrap();
    assert!(
        transcript.contains("## nvim visual ask")
            && transcript.contains("Visual reply line one.\nLine two of the visual reply.")
            && transcript.contains("— completed"),
        "{transcript}"
    );
    assert_eq!(result["transcript_windows"], 1, "the transcript opened");

    // The selection went to the model as context: the file, its line, the selected text
    // (and not the unselected start of the line).
    let sent = serde_json::to_string(&fixture.provider.requests()).unwrap();
    assert!(sent.contains("nvim visual ask"), "{sent}");
    assert!(sent.contains("main.txt"), "no file in the context");
    assert!(
        sent.contains("greet the nvim world"),
        "no selected text in the context"
    );
    let user_text = last_user_text(&fixture);
    assert!(
        !user_text.contains("please greet"),
        "the selection was charwise, from `greet`: {user_text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_approval_does_not_run_the_command() {
    declined_approval("codex", "Codex wants to run").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_show_message_request_approval_does_not_run_the_command() {
    declined_approval("message", "Codex wants to run").await;
}

/// Asks for a command that needs approval and picks "Decline" in vim.ui.select.
async fn declined_approval(approvals: &str, message: &str) {
    let fixture = fixture().await;
    let result = run_nvim_with(
        &fixture,
        "decline",
        json!({ "sandbox": "read-only" }),
        "Decline",
        approvals,
    )
    .await;

    let selects = result["selects"].as_array().unwrap();
    assert_eq!(selects.len(), 1, "one approval prompt: {result:#}");
    let prompt = selects[0]["prompt"].as_str().unwrap();
    assert!(
        prompt.starts_with(message) && prompt.contains("touch declined.txt"),
        "{prompt}"
    );
    let items: Vec<&str> = selects[0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert!(
        items.contains(&"Accept") && items.contains(&"Decline"),
        "{items:?}"
    );
    assert_eq!(result["last_turn"]["status"], "completed", "{result:#}");
    assert!(
        !fixture.workspace.join("declined.txt").exists(),
        "the declined command ran"
    );
    if approvals == "codex" {
        assert!(
            history(&result)
                .iter()
                .any(|s| s == "Codex: waiting for approval"),
            "{result:#}"
        );
    }
}

/// The default `approvals = "codex"`: a file-change approval is shown (its message, every
/// line, in the prompt; its diff in the transcript) and answered: Accept writes the change;
/// Decline, Escape (no pick) and a failing prompt UI decline it, and the user hears why.
/// Before the fix the message's newlines broke the transcript write, the handler failed
/// and every file change was declined unseen (issue 15.2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_change_approvals_are_shown_and_answered_in_neovim() {
    for (pick, written) in [
        ("Accept", true),
        ("Decline", false),
        ("", false),
        ("<error>", false),
    ] {
        let fixture = fixture().await;
        let result = run_nvim(
            &fixture,
            "file_change",
            json!({ "sandbox": "read-only" }),
            pick,
        )
        .await;
        let selects = result["selects"].as_array().unwrap();
        assert_eq!(
            selects.len(),
            1,
            "{pick:?}: one approval prompt: {result:#}"
        );
        let prompt = selects[0]["prompt"].as_str().unwrap();
        assert!(
            prompt.starts_with("Codex wants to change files:\nedit patch.txt (+1 −1)"),
            "{pick:?}: {prompt}"
        );
        let transcript = result["transcript"].as_str().unwrap();
        assert!(
            transcript.contains("Approval asked:\nCodex wants to change files:\nedit patch.txt")
                && transcript.contains("-old line\n+patched line"),
            "{pick:?}: the diff in the transcript: {transcript}"
        );
        assert_eq!(result["last_turn"]["status"], "completed", "{result:#}");
        let on_disk = std::fs::read_to_string(fixture.workspace.join("patch.txt")).unwrap();
        if written {
            assert_eq!(on_disk, "patched line\nsecond\n", "{result:#}");
        } else {
            assert_eq!(on_disk, PATCH_BEFORE, "{pick:?} must decline: {result:#}");
        }
        let notes = serde_json::to_string(&result["notifications"]).unwrap();
        match pick {
            "" => assert!(
                notes.contains("declined: the approval prompt was dismissed"),
                "{notes}"
            ),
            "<error>" => assert!(
                notes.contains("the approval prompt failed, so it was declined")
                    && notes.contains("select override exploded"),
                "{notes}"
            ),
            _ => {}
        }
    }
}

/// A command of two lines shows both in the prompt (and Decline is offered), in both
/// approval modes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_line_command_shows_every_line_in_neovim() {
    for approvals in ["codex", "message"] {
        let fixture = fixture().await;
        let result = run_nvim_with(
            &fixture,
            "two_lines",
            json!({ "sandbox": "read-only", "approvalPolicy": "untrusted" }),
            "Decline",
            approvals,
        )
        .await;
        let selects = result["selects"].as_array().unwrap();
        assert_eq!(selects.len(), 1, "{approvals}: {result:#}");
        let prompt = selects[0]["prompt"].as_str().unwrap();
        let lines: Vec<&str> = prompt.lines().collect();
        assert!(
            lines[0].starts_with("Codex wants to run a multi-line command (2 lines"),
            "{approvals}: {prompt}"
        );
        assert!(lines[1].ends_with("echo checking status"), "{prompt}");
        assert_eq!(lines[2], "│ touch PWNED'", "{prompt}");
        assert!(
            selects[0]["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i == "Decline"),
            "{result:#}"
        );
        assert!(!fixture.workspace.join("PWNED").exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_interrupt_stops_the_running_turn() {
    let fixture = fixture().await;
    let result = run_nvim(&fixture, "interrupt", json!({}), "").await;
    assert_eq!(result["last_turn"]["status"], "interrupted", "{result:#}");
    assert_eq!(result["status"], "Codex: interrupted", "{result:#}");
    assert!(result["transcript"]
        .as_str()
        .unwrap()
        .contains("— interrupted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_commands_review_transcript_and_checkhealth() {
    let fixture = fixture().await;
    let result = run_nvim(&fixture, "commands", json!({}), "<first>").await;
    let new_thread = result["new_thread"].as_str().unwrap();
    assert!(!new_thread.is_empty());
    assert_eq!(result["last_turn"]["threadId"], new_thread, "{result:#}");
    // :CodexResume listed the workspace's threads in vim.ui.select and resumed the pick.
    let resume = result["selects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["prompt"] == "Resume Codex thread")
        .unwrap_or_else(|| panic!("no thread picker: {result:#}"));
    assert!(!resume["items"].as_array().unwrap().is_empty());
    assert_eq!(result["resumed"], new_thread, "{result:#}");
    // :CodexReview: codex-lsp has codex.review, so the plugin starts a review and says so in
    // the transcript.
    assert_eq!(result["review_in_transcript"], true, "{result:#}");
    // :CodexClearReview answers how many findings it removed.
    let cleared = result["clear_review"].as_str().unwrap_or_default();
    assert!(
        cleared.starts_with("Codex: cleared ") && cleared.ends_with("review finding(s)"),
        "{result:#}"
    );
    assert_eq!(result["transcript_is_current"], true);
    let health = serde_json::to_string(&result["health"]).unwrap();
    assert!(
        health.contains("`codex-lsp doctor` passed") && health.contains("codex-lsp is running"),
        "{health}"
    );
}

/// The agent's change lands in the open buffer (with `autoread` off, so no reload from disk
/// can fake it), next to an unsaved edit that stays unsaved: disk gets only the agent's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_edit_lands_in_the_open_buffer_beside_an_unsaved_edit() {
    let fixture = fixture().await;
    let result = run_nvim(&fixture, "buffer_edit", json!({}), "").await;
    assert_eq!(result["last_turn"]["status"], "completed", "{result:#}");
    assert_eq!(
        result["buffer"],
        json!(["new line", "second", "third (unsaved)"]),
        "{result:#}"
    );
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("edit.txt")).unwrap(),
        "new line\nsecond\nthird\n"
    );
}

/// The text of the last user message the provider received.
fn last_user_text(fixture: &Fixture) -> String {
    let requests = fixture.provider.requests();
    let input = requests.last().unwrap()["input"]
        .as_array()
        .unwrap()
        .clone();
    input
        .iter()
        .rev()
        .filter(|i| i["role"] == "user")
        .map(|i| i["content"].to_string())
        .find(|t| t.contains("nvim visual ask"))
        .unwrap_or_default()
}

/// In a real terminal, with Neovim's own `vim.ui.select` (an `inputlist`): the file-change
/// prompt and a two-line command's prompt are on screen (every line of the command), and
/// Escape declines each: the file keeps its text, the command never runs, the user is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_in_neovims_own_prompt_declines_and_every_line_is_on_screen() {
    let fixture = fixture().await;
    let home = EditorHome::new();
    let init = home.path().join("init.lua");
    std::fs::write(
        &init,
        format!(
            r#"
vim.opt.rtp:prepend({plugin:?})
require("codex").setup({{
  cmd = {{ {lsp:?}, "--stdio" }},
  settings = {{ sandbox = "read-only", approvalPolicy = "untrusted" }},
}})
vim.api.nvim_create_autocmd("LspAttach", {{
  callback = function() vim.g.codex_attached = true end,
}})
"#,
            plugin = repo_path("editors/nvim").display().to_string(),
            lsp = codex_lsp().display().to_string(),
        ),
    )
    .unwrap();
    let mut env = fixture.env();
    env.extend(home.env());
    let nvim = editor("nvim");
    let workspace = fixture.workspace.clone();
    let init_arg = init.display().to_string();
    let (file_prompt, command_prompt, after) = tokio::task::spawn_blocking(move || {
        let tmux = Tmux::start(
            home.path(),
            env,
            &workspace,
            &nvim,
            &["--clean", "-u", &init_arg, "main.txt"],
        );
        let limit = Duration::from_secs(60);
        // Wait until codex-lsp is attached, then ask; the prompt is an inputlist.
        let ask = |prompt: &str| {
            for attempt in 0..100 {
                tmux.type_text(
                    ":lua print(vim.g.codex_attached and 'codex ' .. 'attached' or 'not yet')",
                );
                tmux.keys(&["Enter"]);
                if editor_support::poll(Duration::from_secs(1), || {
                    tmux.screen().contains("codex attached").then_some(())
                })
                .is_some()
                {
                    break;
                }
                assert!(attempt < 99, "codex-lsp never attached:\n{}", tmux.screen());
            }
            tmux.type_text(&format!(":CodexAsk {prompt}"));
            tmux.keys(&["Enter"]);
        };
        // Waits until the last turn's final response is `reply` (asking Neovim itself; the
        // typed probe never holds the text it waits for).
        let turn_ended = |reply: &str| {
            let probe = ":lua local t = require('codex').state.last_turn; \
                         print('last ' .. 'reply: ' .. tostring(t and t.finalResponse))";
            let want = format!("last reply: {reply}");
            for attempt in 0..100 {
                tmux.keys(&["Enter"]);
                tmux.type_text(probe);
                tmux.keys(&["Enter"]);
                if let Some(screen) = editor_support::poll(Duration::from_secs(1), || {
                    let s = tmux.screen();
                    s.contains(&want).then_some(s)
                }) {
                    return screen;
                }
                assert!(attempt < 99, "the turn never ended:\n{}", tmux.screen());
            }
            unreachable!()
        };
        ask("nvim patch approval");
        let file_prompt = tmux.wait_screen("the file-change prompt", limit, |s| {
            s.contains("Codex wants to change files:") && s.contains("Type number and <Enter>")
        });
        tmux.keys(&["Escape"]);
        tmux.wait_screen("the decline said", limit, |s| {
            s.contains("Codex: declined: the approval prompt was dismissed")
        });
        turn_ended("patch answered");
        ask("nvim two lines");
        let command_prompt = tmux.wait_screen("the command prompt", limit, |s| {
            s.contains("│ touch PWNED'") && s.contains("Type number and <Enter>")
        });
        tmux.keys(&["Escape"]);
        let after = turn_ended("two lines answered");
        drop(home);
        (file_prompt, command_prompt, after)
    })
    .await
    .unwrap();
    assert!(
        file_prompt.contains("edit patch.txt (+1 −1)"),
        "{file_prompt}"
    );
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("patch.txt")).unwrap(),
        PATCH_BEFORE,
        "Escape must decline the file change:\n{after}"
    );
    assert!(
        command_prompt.contains("Codex wants to run a multi-line command (2 lines")
            && command_prompt.contains("echo checking status")
            && command_prompt.contains("│ touch PWNED'"),
        "{command_prompt}"
    );
    assert!(command_prompt.contains("Decline"), "{command_prompt}");
    assert!(
        !fixture.workspace.join("PWNED").exists(),
        "Escape must decline the command"
    );
}
