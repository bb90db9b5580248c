//! Neovim 0.11 (headless) with the plugin in `editors/nvim`, the built codex-lsp, the real
//! app-server and the scripted provider. The Lua side (`tests/editors/nvim/drive.lua`) runs
//! one scenario through the plugin's own commands and writes what it saw as JSON.

mod editor_support;
mod support;

use std::process::Command;
use std::time::Duration;

use editor_support::{codex_lsp, doc_snippet, editor, repo_path, run_scenario, EditorHome, Tmux};
use mock_provider::{PatchBuilder, Reply, Rule, PROVIDER_ID};
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
    rules.push(Rule::new(
        "nvim doc touch",
        vec![Reply::exec("touch doc.txt"), Reply::text("doc answered")],
    ));
    rules.push(Rule::new(
        "nvim slow first",
        vec![Reply::slow_text(
            "First reply, line one.\nFirst reply, line two, the last.",
            Duration::from_millis(150),
        )],
    ));
    rules.push(Rule::new(
        "nvim second ask",
        vec![Reply::text("Second reply.")],
    ));
    rules.push(support::transcript_rule());
    rules.push(Rule::new(
        "nvim undo me",
        vec![
            PatchBuilder::new()
                .update("undo.txt", UNDO_AGENT_OLD, UNDO_AGENT_NEW)
                .into_reply(),
            Reply::text("edited undo.txt"),
        ],
    ));
    rules.push(Rule::new(
        "nvim provider fails",
        vec![Reply::HttpError(400)],
    ));
    rules.push(Rule::new(
        "nvim provider retries",
        vec![Reply::HttpError(500)],
    ));
    rules
}

const DOC: &str = "docs/editors/neovim.md";
/// The model the doc's `nvim-setup` names.
const DOC_MODEL: &str = "gpt-5.5";

/// Runs `scenario` in headless Neovim set up as docs/editors/neovim.md's `nvim-setup` says
/// (verbatim but for the plugin's path), with codex-lsp on PATH as the doc says.
async fn run_nvim_doc(fixture: &Fixture, scenario: &str, pick: &str) -> Value {
    run_nvim_doc_snippet(fixture, "nvim-setup", scenario, pick).await
}

/// [`run_nvim_doc`] with the doc's snippet marked `mark`.
async fn run_nvim_doc_snippet(fixture: &Fixture, mark: &str, scenario: &str, pick: &str) -> Value {
    let home = EditorHome::new();
    let setup = doc_snippet(DOC, mark);
    assert!(setup.contains("/path/to/codex-lsp/editors/nvim"), "{setup}");
    let setup = setup.replace(
        "/path/to/codex-lsp/editors/nvim",
        &repo_path("editors/nvim").display().to_string(),
    );
    let file = home.path().join("setup.lua");
    std::fs::write(&file, setup).unwrap();
    let mut command = Command::new(editor("nvim"));
    command
        .args(["--headless", "--clean", "-u"])
        .arg(repo_path("tests/editors/nvim/drive.lua"))
        .env("CODEX_TEST_SETUP", &file)
        .env("PATH", path_with_codex_lsp())
        .env("CODEX_TEST_PICK", pick);
    let result = run_scenario(command, fixture.env(), &fixture.workspace, scenario, LIMIT).await;
    drop(home);
    result
}

/// PATH with the built codex-lsp first: the doc's setup finds it there.
fn path_with_codex_lsp() -> std::ffi::OsString {
    let bin = codex_lsp().parent().unwrap().to_path_buf();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap()
}

/// What every setting of the doc's snippet did at the app-server: the model the provider
/// was asked for, and the sandbox and approval policy the model was told about.
fn assert_doc_settings_reached_the_app_server(fixture: &Fixture) {
    let requests = fixture.provider.requests();
    assert!(!requests.is_empty(), "the provider was never asked");
    for request in &requests {
        assert_eq!(
            request["model"], DOC_MODEL,
            "the doc's model did not reach the app-server"
        );
    }
    let sent = serde_json::to_string(&requests).unwrap();
    assert!(
        sent.contains("`sandbox_mode` is `read-only`"),
        "the doc's sandbox (read-only) is not what the model was told"
    );
    assert!(
        sent.contains("`approval_policy` is `unless-trusted`"),
        "the doc's approvalPolicy (untrusted) is not what the model was told"
    );
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
    std::fs::write(fixture.workspace.join("undo.txt"), UNDO_BEFORE).unwrap();
    fixture
}

const PATCH_BEFORE: &str = "old line\nsecond\n";
/// The file the keep-or-undo scenario's turn changes in two hunks (lines 2 and 4).
const UNDO_BEFORE: &str = "alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\n";
const UNDO_AGENT_OLD: &str = "beta\ngamma\ndelta";
const UNDO_AGENT_NEW: &str = "BETA by Codex\ngamma\nDELTA by Codex";

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
        .env("CODEX_TEST_APPROVALS", approvals)
        .env("CODEX_TEST_TRANSCRIPT_PROMPT", support::TRANSCRIPT_PROMPT);
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
    // Then what the turn cost, and the statusline's brackets with the model and the context.
    let history = history(&result);
    assert!(
        history.iter().any(
            |s| s.starts_with("Codex: Visual reply line one. — done in ")
                && s.contains(" 11 tokens")
        ),
        "{history:#?}"
    );
    let status = result["status"].as_str().unwrap();
    assert!(
        status.starts_with("Codex: Visual reply line one. — done in ")
            && status.ends_with(&format!("[{} · 0% of context]", mock_provider::MODEL)),
        "{status}"
    );
    // codex/event reached the plugin; the reply is in the transcript as codex-lsp
    // renders it (quoted, under the prompt).
    assert!(result["events"].as_u64().unwrap() > 0, "{result:#}");
    let transcript = result["transcript"].as_str().unwrap();
    assert!(
        transcript.contains("> nvim visual ask")
            && transcript.contains("> Visual reply line one.\n> Line two of the visual reply.")
            && transcript.contains("*completed"),
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
/// line, in the prompt; its diff in a window beside it) and answered: Accept writes the change;
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
        let diffs = result["approval_diffs"].as_str().unwrap_or_default();
        assert!(
            diffs.contains("Codex wants to change files:\nedit patch.txt")
                && diffs.contains("-old line\n+patched line"),
            "{pick:?}: the diff beside the prompt: {result:#}"
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
    assert!(
        result["status"]
            .as_str()
            .unwrap()
            .starts_with("Codex: interrupted"),
        "{result:#}"
    );
    assert!(result["transcript"]
        .as_str()
        .unwrap()
        .contains("*interrupted"));
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

/// Neovim in tmux with the doc's setup (untrusted, read-only) as a user's init.lua, codex-lsp
/// on PATH, editing `file`; `home` keeps the init file and tmux's socket.
fn nvim_in_tmux(fixture: &Fixture, home: &EditorHome, file: &str) -> Tmux {
    let init = home.path().join("init.lua");
    // The doc's setup, as a user's init.lua, and a flag for the test.
    let setup = doc_snippet(DOC, "nvim-setup").replace(
        "/path/to/codex-lsp/editors/nvim",
        &repo_path("editors/nvim").display().to_string(),
    );
    std::fs::write(
        &init,
        format!(
            r#"{setup}
vim.api.nvim_create_autocmd("LspAttach", {{
  callback = function() vim.g.codex_attached = true end,
}})
"#
        ),
    )
    .unwrap();
    let mut env = fixture.env();
    env.extend(home.env());
    env.push(("PATH".into(), path_with_codex_lsp()));
    let init_arg = init.display().to_string();
    Tmux::start(
        home.path(),
        env,
        &fixture.workspace,
        &editor("nvim"),
        &["--clean", "-u", &init_arg, file],
    )
}

/// Waits until codex-lsp is attached, then `:CodexAsk prompt`.
fn ask_in_tmux(tmux: &Tmux, prompt: &str) {
    for attempt in 0..100 {
        tmux.type_text(":lua print(vim.g.codex_attached and 'codex ' .. 'attached' or 'not yet')");
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
}

/// Waits until the last turn's final response is `reply` (asking Neovim itself; the typed
/// probe never holds the text it waits for); returns the screen.
fn turn_ended_in_tmux(tmux: &Tmux, reply: &str) -> String {
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
}

/// In a real terminal, with Neovim's own `vim.ui.select` (an `inputlist`): the file-change
/// prompt and a two-line command's prompt are on screen (every line of the command), and
/// Escape declines each: the file keeps its text, the command never runs, the user is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_in_neovims_own_prompt_declines_and_every_line_is_on_screen() {
    let fixture = fixture().await;
    let home = EditorHome::new();
    let tmux = nvim_in_tmux(&fixture, &home, "main.txt");
    let (file_prompt, command_prompt, after) = tokio::task::spawn_blocking(move || {
        let limit = Duration::from_secs(60);
        ask_in_tmux(&tmux, "nvim patch approval");
        let file_prompt = tmux.wait_screen("the file-change prompt", limit, |s| {
            s.contains("Codex wants to change files:") && s.contains("Type number and <Enter>")
        });
        tmux.keys(&["Escape"]);
        tmux.wait_screen("the decline said", limit, |s| {
            s.contains("Codex: declined: the approval prompt was dismissed")
        });
        turn_ended_in_tmux(&tmux, "patch answered");
        ask_in_tmux(&tmux, "nvim two lines");
        let command_prompt = tmux.wait_screen("the command prompt", limit, |s| {
            s.contains("│ touch PWNED'") && s.contains("Type number and <Enter>")
        });
        tmux.keys(&["Escape"]);
        let after = turn_ended_in_tmux(&tmux, "two lines answered");
        drop(tmux);
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

/// In a real terminal, the choice typed into Neovim's own prompt (its `inputlist`) is what
/// is granted: the file-change prompt shows with the transcript, the number of "Accept"
/// lets the change through, and the agent's edit lands in the open buffer and on disk.
/// (Also the docs' pictures of Neovim: the approval and the edit, `Tmux::screenshot`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_typed_into_neovims_own_prompt_lands_the_edit_in_the_buffer() {
    let fixture = fixture().await;
    let home = EditorHome::new();
    let tmux = nvim_in_tmux(&fixture, &home, "edit.txt");
    let (prompt, after) = tokio::task::spawn_blocking(move || {
        let limit = Duration::from_secs(60);
        ask_in_tmux(&tmux, "nvim edit the buffer");
        let prompt = tmux.wait_screen("the file-change prompt", limit, |s| {
            s.contains("Codex wants to change files:") && s.contains("Type number and <Enter>")
        });
        tmux.screenshot("neovim-approval");
        let accept = prompt
            .lines()
            .find_map(|l| l.trim().strip_suffix(": Accept"))
            .unwrap_or_else(|| panic!("no Accept in the prompt:\n{prompt}"))
            .trim()
            .to_string();
        tmux.type_text(&accept);
        tmux.keys(&["Enter"]);
        turn_ended_in_tmux(&tmux, "edited edit.txt");
        // The probe's echo off the screen; the buffer's first line (after the sign column,
        // where codex-lsp marks the agent's change) is the agent's.
        tmux.keys(&["Escape"]);
        tmux.type_text(":echo ''");
        tmux.keys(&["Enter"]);
        let after = tmux.wait_screen("the edit in the buffer", limit, |s| {
            s.lines()
                .next()
                .is_some_and(|l| l.trim_end().ends_with(" new line"))
        });
        tmux.screenshot("neovim-edit");
        drop(tmux);
        drop(home);
        (prompt, after)
    })
    .await
    .unwrap();
    assert!(prompt.contains("edit edit.txt (+1 −1)"), "{prompt}");
    // The diffs the prompt points to ("in the window above") are on screen with it.
    assert!(
        prompt.contains("-old line") && prompt.contains("+new line"),
        "the diff is not on screen with the prompt:\n{prompt}"
    );
    assert!(after.contains("second"), "{after}");
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("edit.txt")).unwrap(),
        "new line\nsecond\nthird\n",
        "the accepted change is on disk:\n{after}"
    );
}

/// Neovim set up as docs/editors/neovim.md says: its model, sandbox and approval policy
/// reach the app-server, and under `untrusted` a plain command (no escalation asked) is put
/// to the user; Decline keeps it from running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_setup_reaches_the_app_server() {
    let fixture = fixture().await;
    let result = run_nvim_doc(&fixture, "doc_setup", "Decline").await;
    assert_doc_command_declined_with_the_doc_settings(&fixture, &result);
}

/// The doc's setup ran `doc_setup`: one approval prompt showing the command, declined, so
/// the turn completed without running it, and the doc's settings reached the app-server.
fn assert_doc_command_declined_with_the_doc_settings(fixture: &Fixture, result: &Value) {
    let selects = result["selects"].as_array().unwrap();
    assert_eq!(selects.len(), 1, "one approval prompt: {result:#}");
    let prompt = selects[0]["prompt"].as_str().unwrap();
    assert!(
        prompt.starts_with("Codex wants to run") && prompt.contains("touch doc.txt"),
        "{prompt}"
    );
    assert_eq!(result["last_turn"]["status"], "completed", "{result:#}");
    assert!(
        !fixture.workspace.join("doc.txt").exists(),
        "declined, yet it ran"
    );
    assert_doc_settings_reached_the_app_server(fixture);
}

/// Neovim 0.11's own way, as docs/editors/neovim.md's `nvim-enable` shows it: the plugin on
/// the runtime path, `vim.lsp.config("codex", { settings = … })` and `vim.lsp.enable("codex")`,
/// no setup() — editors/nvim/lsp/codex.lua is the base configuration. The settings reach the
/// app-server, the :Codex* commands exist, and the approval prompt is the plugin's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vim_lsp_enable_codex_alone_works() {
    let fixture = fixture().await;
    let result = run_nvim_doc_snippet(&fixture, "nvim-enable", "doc_setup", "Decline").await;
    assert_doc_command_declined_with_the_doc_settings(&fixture, &result);
}

/// Item 5: a second ask while the first's turn runs is queued (the user told), then runs as
/// its own turn: the transcript has each reply whole under its own prompt, in order, and the
/// first's end line intact. Before the fix the second prompt's heading landed in the middle
/// of the first reply, whose rest then ran on under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ask_during_a_turn_is_queued_and_shown_as_its_own_turn() {
    let fixture = fixture().await;
    let result = run_nvim_doc(&fixture, "queued", "").await;
    let completed = result["completed"].as_array().unwrap();
    assert_eq!(completed.len(), 2, "{result:#}");
    assert_eq!(
        completed[0]["finalResponse"],
        "First reply, line one.\nFirst reply, line two, the last."
    );
    assert_eq!(completed[1]["finalResponse"], "Second reply.");
    assert_ne!(completed[0]["turnId"], completed[1]["turnId"]);
    let transcript = result["transcript"].as_str().unwrap();
    let turns = turns_of(transcript);
    assert_eq!(turns.len(), 2, "{transcript}");
    assert_turn(turns[0], "> nvim slow first", FIRST_REPLY, "*completed");
    assert_turn(
        turns[1],
        "> nvim second ask",
        "> Second reply.\n",
        "*completed",
    );
    // Told, where notifications go (not only in :messages, which progress echoes hide),
    // and the running turn's progress counted the queued ask.
    let notes = serde_json::to_string(&result["notifications"]).unwrap();
    assert!(
        notes.contains("Codex: queued: your ask \\\"nvim second ask\\\" waits"),
        "the user was not told: {notes}"
    );
    assert!(
        history(&result)
            .iter()
            .any(|s| s.contains("(1 ask queued)")),
        "{:#?}",
        history(&result)
    );
}

/// `:CodexReview` while an ask's turn runs is queued behind it (the user told), then runs as
/// its own turn: the transcript has the ask's reply whole with its end line, then the
/// review under its own "## Review" heading with its end line. Before the fix the plugin
/// wrote no heading for a queued review, and its text ran on under the ask's end line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_queued_behind_a_turn_gets_its_own_heading() {
    let fixture = fixture().await;
    fixture.provider.add_rule(Rule::new(
        mock_provider::REVIEW_UNCOMMITTED_PROMPT,
        vec![support::review_reply(
            vec![support::review_finding(
                &fixture.workspace.join("main.txt"),
                "[P2] Vague greeting",
                "Say whom to greet.",
                2,
                (2, 2),
            )],
            "patch is incorrect",
            "Queued review of the greeting.",
        )],
    ));
    let result = run_nvim_doc(&fixture, "queued_review", "").await;
    let completed = result["completed"].as_array().unwrap();
    assert_eq!(completed.len(), 2, "{result:#}");
    let transcript = result["transcript"].as_str().unwrap();
    let turns = turns_of(transcript);
    assert_eq!(turns.len(), 2, "{transcript}");
    assert_turn(turns[0], "> nvim slow first", FIRST_REPLY, "*completed");
    // Nothing of the review in the ask's turn; the review whole in its own.
    assert!(!turns[0].contains("greeting"), "{transcript}");
    assert_turn(
        turns[1],
        "Review started",
        "Queued review of the greeting.",
        "*completed",
    );
    let notes = serde_json::to_string(&result["notifications"]).unwrap();
    assert!(
        notes.contains("Codex: queued: your review waits"),
        "the user was not told: {notes}"
    );
}

/// An interrupt cancels the ask queued behind the running turn (codex-lsp says so): it never
/// runs, and a later queued ask's reply shows under its own prompt, not under the cancelled
/// one's (before the fix the cancelled prompt's heading stayed pending and took its place).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_drops_the_queued_ask_from_the_transcript() {
    let fixture = fixture().await;
    let result = run_nvim_doc(&fixture, "interrupt_queued", "").await;
    let completed = result["completed"].as_array().unwrap();
    assert_eq!(completed.len(), 3, "{result:#}");
    assert_eq!(completed[0]["status"], "interrupted", "{result:#}");
    assert_eq!(completed[1]["status"], "completed", "{result:#}");
    assert_eq!(completed[2]["status"], "completed", "{result:#}");
    let notes = serde_json::to_string(&result["notifications"]).unwrap();
    assert!(notes.contains("cancelled"), "{notes}");
    let transcript = result["transcript"].as_str().unwrap();
    assert!(
        !transcript.contains("nvim second ask"),
        "the cancelled ask's prompt is in the transcript:\n{transcript}"
    );
    let turns = turns_of(transcript);
    assert_eq!(turns.len(), 3, "{transcript}");
    assert_turn(
        turns[2],
        "> say hello after the interrupt",
        "> Hello from the mock.\n> Second line.\n",
        "*completed",
    );
    assert!(
        !fixture
            .provider
            .requests()
            .iter()
            .any(|r| r.to_string().contains("nvim second ask")),
        "the cancelled ask reached the model"
    );
}

/// The provider fails during the turn (HTTP 400): the user sees that it failed and why, in
/// the transcript's end line and the status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_failure_says_why_in_neovim() {
    let fixture = fixture().await;
    let result = run_nvim_doc(&fixture, "provider_fails", "").await;
    assert_eq!(result["last_turn"]["status"], "failed", "{result:#}");
    let transcript = result["transcript"].as_str().unwrap();
    let end = transcript
        .find("*failed")
        .unwrap_or_else(|| panic!("no failed end line:\n{transcript}"));
    assert!(
        transcript[end..].contains("**Error:**") && transcript[end..].contains("400"),
        "the end does not say why:\n{transcript}"
    );
    let status = result["status"].as_str().unwrap();
    assert!(status.contains("failed"), "{result:#}");
    // codex-lsp's message of the failure goes through vim.notify.
    let notes = serde_json::to_string(&result["notifications"]).unwrap();
    assert!(
        notes.contains("Codex: failed") && notes.contains("HTTP 400"),
        "{notes}"
    );
}

/// Item 6: after a restart :CodexTranscript shows the folder's earlier turn, without
/// :CodexResume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_transcript_shows_the_earlier_turn() {
    let fixture = fixture().await;
    let first = run_nvim_doc(&fixture, "history_ask", "").await;
    assert_eq!(first["last_turn"]["status"], "completed", "{first:#}");
    let second = run_nvim_doc(&fixture, "history_read", "").await;
    let transcript = second["transcript"].as_str().unwrap();
    assert!(
        transcript.contains("> say hello before the restart")
            && transcript.contains("> Hello from the mock.\n> Second line."),
        "{transcript}"
    );
}

/// Issue 16.10 / 18.1: the transcript is codex-lsp's, only displayed by the plugin. A turn
/// that runs a command and adds a file shows as the server renders it (the command's exit
/// code and output, the diff, the quoted reply, the footer) while it runs and at its end;
/// after a restart :CodexTranscript shows it again from the thread's history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transcript_is_the_servers_live_and_after_a_restart() {
    let fixture = fixture().await;
    let live = run_nvim(
        &fixture,
        "transcript_live",
        support::transcript_settings(),
        "Accept",
    )
    .await;
    assert_eq!(live["last_turn"]["status"], "completed", "{live:#}");
    assert_eq!(live["running_then"], true, "{live:#}");
    let while_running = live["while_running"].as_str().unwrap();
    assert!(
        while_running.contains("#### Ran · exit 0") && while_running.contains("> Transcript reply"),
        "not live:\n{while_running}"
    );
    let transcript = live["transcript"].as_str().unwrap();
    support::assert_server_transcript(transcript, true);
    assert_eq!(turns_of(transcript).len(), 1, "{transcript}");

    let reopened = run_nvim(&fixture, "history_read", json!({}), "").await;
    let transcript = reopened["transcript"].as_str().unwrap();
    support::assert_server_transcript(transcript, false);
    assert!(
        transcript.starts_with("# "),
        "the thread's title: {transcript}"
    );
}

const FIRST_REPLY: &str = "> First reply, line one.\n> First reply, line two, the last.\n";

/// The transcript's turns (each starts with codex-lsp's `---` line).
fn turns_of(transcript: &str) -> Vec<&str> {
    let text = transcript.strip_prefix("---\n").unwrap_or(transcript);
    let mut turns: Vec<&str> = text.split("\n---\n").collect();
    if !transcript.starts_with("---\n") {
        turns.remove(0); // the title of a thread's history
    }
    turns
}

/// A turn holds `prompt`, then `reply`, then `end`.
fn assert_turn(turn: &str, prompt: &str, reply: &str, end: &str) {
    let at = |part: &str| {
        turn.find(part)
            .unwrap_or_else(|| panic!("no {part:?} in the turn:\n{turn}"))
    };
    assert!(
        at(prompt) < at(reply) && at(reply) < at(end),
        "out of order:\n{turn}"
    );
}

/// :CodexTranscript where the folder has no thread yet: the user is told why it is empty
/// (before the fix the error was dropped and the window stayed blank).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_transcript_says_why() {
    let fixture = fixture().await;
    let result = run_nvim_doc(&fixture, "transcript_empty", "").await;
    let notes = serde_json::to_string(&result["notifications"]).unwrap();
    assert!(notes.contains("Codex: "), "{notes}");
    assert!(notes.contains("thread"), "{notes}");
}

/// HTTP 500 on every attempt (three stream retries configured): the statusline shows the
/// retries as they happen ("can't reach the model: retrying n/3 — …"), and the turn ends
/// failed: why in the transcript's end line, what to do in the status and a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_retries_show_in_the_status_and_the_end_says_what_to_do() {
    let fixture = fixture().await;
    let settings = json!({ "config": {
        format!("model_providers.{PROVIDER_ID}.stream_max_retries"): 3,
        format!("model_providers.{PROVIDER_ID}.request_max_retries"): 0,
    } });
    let result = run_nvim(&fixture, "provider_retries", settings, "").await;
    assert_eq!(result["last_turn"]["status"], "failed", "{result:#}");
    let history = history(&result);
    assert!(
        history
            .iter()
            .any(|s| s.starts_with("Codex: can't reach the model: retrying ")),
        "{history:#?}"
    );
    let transcript = result["transcript"].as_str().unwrap();
    let end = transcript
        .find("*failed")
        .unwrap_or_else(|| panic!("no failed end line:\n{transcript}"));
    assert!(
        transcript[end..].contains("**Error:**") && transcript[end..].contains("high demand"),
        "the end does not say why:\n{transcript}"
    );
    let status = result["status"].as_str().unwrap();
    assert!(
        status.starts_with("Codex: failed: ") && status.contains("check the network"),
        "{status}"
    );
    let notes = serde_json::to_string(&result["notifications"]).unwrap();
    assert!(notes.contains("check the network"), "{notes}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_model_picks_the_model_and_the_statusline_shows_it() {
    let fixture = fixture().await;
    let (model, effort) = support::another_model(&fixture).await;
    let result = run_nvim(
        &fixture,
        "pick_model",
        json!({}),
        &format!("{model}|{effort}"),
    )
    .await;
    assert_eq!(result["last_turn"]["status"], "completed", "{result:#}");
    let selects = result["selects"].as_array().unwrap();
    assert_eq!(selects.len(), 2, "{result:#}");
    assert!(
        selects[0]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == mock_provider::MODEL),
        "{result:#}"
    );
    let request = fixture.provider.requests().last().cloned().unwrap();
    assert_eq!(request["model"], model.as_str());
    assert_eq!(request["reasoning"]["effort"], effort.as_str());
    let status = result["status"].as_str().unwrap();
    assert!(
        status.ends_with(&format!("[{model} {effort} · 0% of context]")),
        "{status}"
    );
}

/// Issue 17 in Neovim: after a turn changed two hunks of an open file, the first is reverted
/// from Neovim's own code-action menu (`vim.lsp.buf.code_action`, "Codex: Revert this
/// change") and the buffer shows the text before the turn there, while the user's unsaved
/// edit of the last line stays; `:CodexChanges` lists both hunks in the quickfix list (file,
/// line, "turn N: +a −b", the reverted one said so); `:CodexUndoTurn` undoes the rest, again
/// keeping the unsaved edit, and the file on disk is left to the buffer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hunk_reverted_from_the_code_action_menu_and_the_turn_undone_in_neovim() {
    let fixture = fixture().await;
    let result = run_nvim(&fixture, "undo_changes", json!({}), "").await;
    assert_undo_changes(&fixture, &result);
}

fn assert_undo_changes(fixture: &Fixture, result: &Value) {
    let menu = result["selects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i == "Codex: Revert this change")
        })
        .unwrap_or_else(|| panic!("no code-action menu with the revert: {result:#}"));
    let items = serde_json::to_string(&menu["items"]).unwrap();
    for title in [
        "Codex: Keep this change",
        "Codex: Keep all changes in undo.txt",
        "Codex: Revert all changes in undo.txt",
        "Codex: Keep everything from this turn",
        "Codex: Undo this turn",
    ] {
        assert!(items.contains(title), "{title}: {items}");
    }
    assert_eq!(
        result["after_revert"],
        json!([
            "alpha",
            "beta",
            "gamma",
            "DELTA by Codex",
            "epsilon",
            "zeta",
            "eta mine"
        ]),
        "{result:#}"
    );
    assert_eq!(result["quickfix_title"], "Codex changes", "{result:#}");
    let quickfix = result["quickfix"].as_array().unwrap();
    assert_eq!(quickfix.len(), 2, "{result:#}");
    assert_eq!(quickfix[0]["file"], "undo.txt");
    assert_eq!(
        (&quickfix[0]["lnum"], &quickfix[1]["lnum"]),
        (&json!(2), &json!(4)),
        "{result:#}"
    );
    let first = quickfix[0]["text"].as_str().unwrap();
    assert!(
        first.starts_with("turn 1: +1 −1 (reverted)") && first.contains("nvim undo me"),
        "{first}"
    );
    assert!(
        quickfix[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("turn 1: +1 −1 \""),
        "{result:#}"
    );
    assert_eq!(
        result["after_undo"],
        json!(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta mine"]),
        "{result:#}"
    );
    assert_eq!(result["undo"]["conflicts"], json!([]), "{result:#}");
    // Open buffers change, not their files: disk keeps the agent's text until the user saves.
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("undo.txt")).unwrap(),
        UNDO_BEFORE
            .replace("beta", "BETA by Codex")
            .replace("delta", "DELTA by Codex")
    );
}

/// Issue 17's signs in Neovim: after a turn changed lines 2 and 4 of an open file, the plugin
/// (declaring `experimental.codexChanges`) draws a sign on each (extmarks of its namespace);
/// `:CodexKeep` on line 2 clears that sign and its hint while the text stays the agent's;
/// `:CodexRevert` on line 4 puts the line back and clears the last sign; `:CodexKeep` where
/// there is no change says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_signs_drawn_and_a_hunk_kept_from_neovim() {
    let fixture = fixture().await;
    let result = run_nvim(&fixture, "change_signs", json!({}), "").await;
    assert!(result["error"].is_null(), "{result:#}");
    assert_eq!(
        result["signs_after_turn"],
        json!([{"row": 1, "sign": "▎"}, {"row": 3, "sign": "▎"}]),
        "{result:#}"
    );
    let agent = json!([
        "alpha",
        "BETA by Codex",
        "gamma",
        "DELTA by Codex",
        "epsilon",
        "zeta",
        "eta"
    ]);
    assert_eq!(result["lines_after_turn"], agent, "{result:#}");
    assert_eq!(
        result["signs_after_keep"],
        json!([{"row": 3, "sign": "▎"}]),
        "{result:#}"
    );
    assert_eq!(result["hints_after_keep"], json!([3]), "{result:#}");
    assert_eq!(result["lines_after_keep"], agent, "{result:#}");
    assert_eq!(
        result["lines_after_revert"],
        json!([
            "alpha",
            "BETA by Codex",
            "gamma",
            "delta",
            "epsilon",
            "zeta",
            "eta"
        ]),
        "{result:#}"
    );
    assert_eq!(result["signs_after_revert"], json!([]), "{result:#}");
    assert_eq!(
        result["keep_outside"]["message"], "Codex: no pending Codex change here",
        "{result:#}"
    );
}
