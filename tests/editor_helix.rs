//! Helix 25 in tmux with the recipe in `editors/helix` (languages.toml, config.toml), the
//! built codex-lsp, the real app-server and the scripted provider. Keys go in with
//! send-keys; what Helix shows is read with capture-pane.

mod editor_support;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use editor_support::{codex_lsp, doc_snippet, editor, repo_path, EditorHome, Tmux};
use mock_provider::{PatchBuilder, Reply, Rule};
use support::Fixture;

const SCREEN_WAIT: Duration = Duration::from_secs(30);

fn helix_rules() -> Vec<Rule> {
    let mut rules = support::rules();
    rules.push(Rule::new(
        "greet the helix world",
        vec![
            PatchBuilder::new()
                .add("helix-was-here.txt", "written during the Helix turn\n")
                .update("main.py", "# first line", "# first line, edited by Codex")
                .into_reply(),
            Reply::slow_text(
                "Helix turn finished.\nSecond line.",
                Duration::from_millis(30),
            ),
        ],
    ));
    rules.push(Rule::new("helix hangs", vec![Reply::Hang]));
    // A reply that streams for a few seconds, then one asked while it runs.
    rules.push(Rule::new(
        "helix slow first",
        vec![Reply::slow_text(
            "Slow first reply, streamed word by word.\nIts second line.",
            Duration::from_millis(400),
        )],
    ));
    rules.push(Rule::new(
        "helix quick second",
        vec![Reply::text("Quick second reply.\nIts second line.")],
    ));
    rules.push(Rule::new(
        HELIX_CHAT_PROMPT,
        vec![Reply::slow_text(
            "Helix chat reply, streamed into the transcript.\nIts second line.",
            Duration::from_millis(100),
        )],
    ));
    rules.push(Rule::new(
        "helix provider fails",
        vec![Reply::HttpError(400)],
    ));
    // The "Codex: Fix: …" action on clangd's diagnostic in main.c.
    rules.push(Rule::new(
        "undeclared identifier",
        vec![
            Reply::apply_patch_update(
                "main.c",
                "  return undefined_value + compute_answer();",
                "  return compute_answer();",
            ),
            Reply::text("Fixed the C file."),
        ],
    ));
    // Asked from main.py, the agent edits notes.txt, open in another buffer.
    rules.push(Rule::new(
        "helix edits the notes",
        vec![
            Reply::apply_patch_update("notes.txt", "second note", "second note, edited by Codex"),
            Reply::text("Notes edited."),
        ],
    ));
    rules.push(Rule::new(
        "helix may touch",
        vec![
            Reply::exec_escalated("touch helix-accepted.txt", "the test wants it"),
            Reply::text("made it from the picker"),
        ],
    ));
    // After the (declined) command, a pause before the reply: Helix shows one status message
    // at a time, and the reply's progress would replace the decline warning at once.
    rules.push(Rule::new(
        "helix wants to touch",
        vec![
            Reply::exec_escalated("touch declined.txt", "the test wants it"),
            Reply::Text {
                chunks: vec![String::new(), "ok, not made".into()],
                delay: Duration::from_millis(1500),
            },
        ],
    ));
    rules.push(Rule::new(
        "helix two lines",
        vec![
            Reply::exec_escalated("echo checking status\ntouch PWNED", "the test wants it"),
            Reply::Text {
                chunks: vec![String::new(), "two lines answered".into()],
                delay: Duration::from_millis(1500),
            },
        ],
    ));
    rules
}

/// A reviewer for Space c r (a review of the uncommitted changes) that flags main.py line 2.
fn add_reviewer(fixture: &Fixture) {
    fixture.provider.add_rule(Rule::new(
        mock_provider::REVIEW_UNCOMMITTED_PROMPT,
        vec![support::review_reply(
            vec![support::review_finding(
                &fixture.workspace.join("main.py"),
                "[P1] Greeting is vague",
                "Say whom to greet.",
                1,
                (2, 2),
            )],
            "patch is incorrect",
            "The greeting is vague.",
        )],
    ));
}

/// The prompt typed in the transcript's ask section.
const HELIX_CHAT_PROMPT: &str = "helix chat from the ask section";

const DOC: &str = "docs/editors/helix.md";
/// The model the doc's server entry names.
const DOC_MODEL: &str = "gpt-5.5";

/// Writes the doc's snippets into `home`'s Helix config, verbatim: the server entry and its
/// example languages as languages.toml, the keys as config.toml. The recipe files must hold
/// the same text, so the doc and the recipe cannot drift apart.
fn write_config(home: &EditorHome) {
    let dir = home.config().join("helix");
    std::fs::create_dir_all(&dir).unwrap();
    let recipe = std::fs::read_to_string(repo_path("editors/helix/languages.toml")).unwrap();
    let server = doc_snippet(DOC, "helix-server");
    let languages = doc_snippet(DOC, "helix-languages");
    assert!(
        recipe.contains(&server),
        "the recipe lacks the doc's server entry:\n{server}"
    );
    for block in languages.split("\n\n") {
        assert!(
            recipe.contains(block.trim()),
            "the recipe lacks the doc's\n{block}"
        );
    }
    std::fs::write(dir.join("languages.toml"), format!("{server}\n{languages}")).unwrap();
    let keys = doc_snippet(DOC, "helix-config");
    assert_eq!(
        std::fs::read_to_string(repo_path("editors/helix/config.toml")).unwrap(),
        keys,
        "editors/helix/config.toml and the doc's keys differ"
    );
    std::fs::write(dir.join("config.toml"), keys).unwrap();
}

struct Session {
    tmux: Tmux,
    _home: EditorHome,
}

/// Helix in a 120-column window, configured from the doc, with codex-lsp on PATH.
fn start_helix(fixture: &Fixture, file: &str) -> Session {
    start_helix_sized(fixture, file, (120, 40))
}

fn start_helix_sized(fixture: &Fixture, file: &str, size: (u16, u16)) -> Session {
    let hx = editor("hx");
    let home = EditorHome::new();
    write_config(&home);
    let mut env = fixture.env();
    env.extend(home.env());
    // codex-lsp on PATH, as the doc says.
    let bin = codex_lsp().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    env.push(("PATH".into(), path));
    let tmux = Tmux::start_sized(home.path(), env, &fixture.workspace, &hx, &[file], size);
    tmux.wait_screen("the file in Helix", SCREEN_WAIT, |s| s.contains(file));
    Session { tmux, _home: home }
}

/// What every setting of the doc's server entry did at the app-server: the model the
/// provider was asked for, and the sandbox and approval policy the model was told about.
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

fn write_workspace(workspace: &Path) {
    std::fs::create_dir_all(workspace.join(".git")).unwrap();
    std::fs::write(
        workspace.join("main.py"),
        "# first line\n# please greet the helix world\n# helix wants to touch\n# helix hangs\n# helix may touch\n# helix edits the notes\n# helix provider fails\n# helix two lines\n# helix slow first\n# helix quick second\n",
    )
    .unwrap();
}

/// Selects line `line` (1-based) and runs the first entry of the recipe's code-action key
/// (Space c a), which must be "Codex: Explain". Right after Helix starts, codex-lsp may not
/// be initialized (or have the document) yet: then Helix says so, and we try again.
fn explain_line(session: &Session, line: usize) {
    let tmux = &session.tmux;
    let mut menu = String::new();
    for attempt in 0.. {
        if attempt > 0 {
            escape(tmux);
        }
        select_line(tmux, line);
        tmux.keys(&["Space", "c", "a"]);
        menu = tmux.wait_screen("the code actions", SCREEN_WAIT, |s| {
            s.contains("Codex: Explain")
                || s.contains("No configured language server supports code actions")
                || s.contains("the document is not open")
        });
        if menu.contains("Codex: Explain") || attempt == 50 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let first = menu
        .lines()
        .find_map(|l| l.find("Codex: ").map(|i| l[i..].trim().to_string()))
        .unwrap_or_else(|| panic!("no code actions: {menu}"));
    assert_eq!(first, "Codex: Explain", "{menu}");
    tmux.keys(&["Enter"]);
}

/// Escape, alone: a terminal reads Escape followed at once by a key as Alt+key (Escape `g`
/// became Alt-g and moved the cursor to the wrong line under load).
fn escape(tmux: &Tmux) {
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
}

/// Selects line `line` (1-based) in normal mode and waits until the status line shows the
/// cursor on it; starts over (after an Escape) when a key went astray.
fn select_line(tmux: &Tmux, line: usize) {
    let on_line = format!(" sel  {line}:");
    for attempt in 0..10 {
        if attempt > 0 {
            escape(tmux);
        }
        tmux.keys(&["g", "g"]);
        for _ in 1..line {
            tmux.keys(&["j"]);
        }
        tmux.keys(&["x"]);
        let landed = editor_support::poll(Duration::from_secs(10), || {
            tmux.screen().contains(&on_line).then_some(())
        });
        if landed.is_some() {
            return;
        }
    }
    panic!("could not select line {line}:\n{}", tmux.screen());
}

/// Runs blocking tmux work off the async runtime (the provider runs on it).
/// One Helix at a time: keystrokes sent to a Helix starved of CPU by two others were seen
/// landing on the wrong line on a loaded 2-core machine.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static HELIX: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    HELIX.lock().await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_codex_code_action_on_the_selection_runs_a_turn_with_progress() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    let (session, seen, screen) = blocking(move || {
        let started = std::time::Instant::now();
        explain_line(&session, 2);
        // Progress while the turn runs (Helix shows `[token] message`), then its end: the
        // reply's first line. The doc's read-only sandbox may ask before the edit.
        let mut seen = Vec::new();
        let asked =
            |s: &str| s.contains("Codex asks for approval") || s.contains("approval needed for");
        let screen = session
            .tmux
            .wait_screen("the turn's end message", SCREEN_WAIT, |s| {
                if let Some(l) = s.lines().find(|l| l.contains("[codex#")) {
                    if seen.is_empty() {
                        session.tmux.screenshot("helix-progress");
                    }
                    seen.push(l.to_string());
                }
                s.contains("Helix turn finished.") || asked(s)
            });
        if !screen.contains("Helix turn finished.") {
            answer_in_picker_shot(
                &session,
                "Codex: allow the changes*",
                Some("helix-approval"),
            );
            session
                .tmux
                .wait_screen("the turn's end message", SCREEN_WAIT, |s| {
                    s.contains("Helix turn finished.")
                });
        }
        eprintln!("helix turn: {:.1} s", started.elapsed().as_secs_f64());
        // Helix does not reload files from disk by itself: the text on screen comes from
        // codex-lsp's workspace/applyEdit.
        let screen = session
            .tmux
            .wait_screen("the agent's edit in the buffer", SCREEN_WAIT, |s| {
                s.contains("edited by Codex")
            });
        session.tmux.screenshot("helix-edit");
        (session, seen, screen)
    })
    .await;
    assert!(
        seen.iter().any(|l| !l.contains("Helix turn finished.")),
        "no progress before the end: {seen:#?}"
    );
    assert!(
        fixture.workspace.join("helix-was-here.txt").exists(),
        "the turn's file was not written"
    );
    assert!(
        screen.contains("# first line, edited by Codex"),
        "the agent's edit of the open file is not in Helix's buffer:\n{screen}"
    );
    let asked = user_texts(&fixture);
    assert!(
        asked.contains("Explain what this code does.")
            && asked.contains("In main.py line 2:")
            && asked.contains("# please greet the helix world"),
        "the action's prompt: {asked}"
    );
    assert!(session.tmux.alive(), "Helix is still up");
}

/// Answers the waiting approval from Helix's code-action menu (Space a, as codex-lsp's
/// message says): moves to the entry titled `choice` and runs it.
fn answer_in_picker(session: &Session, choice: &str) {
    answer_in_picker_shot(session, choice, None)
}

/// [`answer_in_picker`], photographing the open menu as `shot` (see `Tmux::screenshot`).
fn answer_in_picker_shot(session: &Session, choice: &str, shot: Option<&str>) {
    let tmux = &session.tmux;
    let mut menu = String::new();
    for attempt in 0.. {
        if attempt > 0 {
            escape(tmux);
        }
        tmux.keys(&["Space", "a"]);
        menu = tmux.wait_screen("the approval's code actions", SCREEN_WAIT, |s| {
            s.contains("(approval)") || s.contains("Codex: Explain")
        });
        if menu.contains("(approval)") || attempt == 20 {
            break;
        }
        // The menu opened before the approval was offered: close it and look again.
        std::thread::sleep(Duration::from_millis(300));
    }
    let entries: Vec<String> = menu
        .lines()
        .filter_map(|l| l.find("Codex: ").map(|i| l[i..].trim().to_string()))
        .collect();
    let index = entries
        .iter()
        .position(|e| matches_choice(e, choice))
        .unwrap_or_else(|| panic!("no {choice:?} in the menu:\n{menu}"));
    if let Some(name) = shot {
        tmux.screenshot(name);
    }
    for _ in 0..index {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["Enter"]);
}

/// `entry` is `choice`, or, for a `choice` ending in `*`, starts with the rest.
fn matches_choice(entry: &str, choice: &str) -> bool {
    match choice.strip_suffix('*') {
        Some(prefix) => entry.starts_with(prefix),
        None => entry == choice,
    }
}

/// Asks about `line` (a prompt that makes the agent run a command needing approval) and
/// waits for codex-lsp to say the approval waits in the code actions.
fn ask_for_an_approval(session: &Session, line: usize) {
    explain_line(session, line);
    session
        .tmux
        .wait_screen("the approval's message", SCREEN_WAIT, |s| {
            s.contains("Codex asks for approval") || s.contains("approval needed for")
        });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_accepted_in_the_code_action_picker_runs_the_command() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    let made = fixture.workspace.join("helix-accepted.txt");
    blocking(move || {
        ask_for_an_approval(&session, 5);
        answer_in_picker(
            &session,
            "Codex: allow `touch helix-accepted.txt` (approval)",
        );
        session
            .tmux
            .wait_screen("the turn's end", SCREEN_WAIT, |s| {
                s.contains("made it from the picker")
            });
    })
    .await;
    assert!(made.exists(), "the accepted command did not run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_declined_in_the_code_action_picker_does_not_run() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    blocking(move || {
        ask_for_an_approval(&session, 3);
        answer_in_picker(&session, "Codex: decline `touch declined.txt`");
        session
            .tmux
            .wait_screen("the turn's end", SCREEN_WAIT, |s| {
                s.contains("ok, not made")
            });
    })
    .await;
    assert!(
        !fixture.workspace.join("declined.txt").exists(),
        "the declined command ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_key_stops_the_turn_and_a_bare_ask_says_what_to_do() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    blocking(move || {
        let tmux = &session.tmux;
        explain_line(&session, 4);
        tmux.wait_screen("the turn's progress", SCREEN_WAIT, |s| {
            s.contains("[codex#") && s.contains("thinking")
        });
        // The recipe's Space c i: codex.interrupt without arguments (every running turn).
        tmux.keys(&["Space", "c", "i"]);
        tmux.wait_screen("the interrupted turn's end", SCREEN_WAIT, |s| {
            s.lines()
                .any(|l| l.contains("[codex#") && l.contains("interrupted"))
        });
        // `:lsp-workspace-command codex.ask` passes no arguments: the error is shown.
        escape(tmux);
        tmux.type_text(":lsp-workspace-command codex.ask");
        tmux.keys(&["Enter"]);
        tmux.wait_screen("the bare ask's message", SCREEN_WAIT, |s| {
            s.contains("codex.ask: missing field `prompt`")
        });
    })
    .await;
}

/// Opens Helix's diagnostics picker (Space d) until its screen satisfies `until`; returns
/// that screen and closes the picker.
fn diagnostics_picker(tmux: &Tmux, until: impl Fn(&str) -> bool) -> Option<String> {
    editor_support::poll(SCREEN_WAIT, || {
        tmux.keys(&["Space", "d"]);
        let seen = editor_support::poll(Duration::from_secs(3), || {
            let s = tmux.screen();
            until(&s).then_some(s)
        });
        escape(tmux);
        seen
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recipes_review_key_marks_findings_and_the_clear_key_removes_them() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    add_reviewer(&fixture);
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    blocking(move || {
        let tmux = &session.tmux;
        // Right after start codex-lsp may not be up yet: Space c r until the review starts.
        editor_support::poll(SCREEN_WAIT, || {
            tmux.keys(&["Space", "c", "r"]);
            editor_support::poll(Duration::from_secs(3), || {
                let s = tmux.screen();
                (s.contains("[codex#") || s.contains("Codex review")).then_some(())
            })
        })
        .unwrap_or_else(|| panic!("the review did not start:\n{}", tmux.screen()));
        tmux.wait_screen("the review's summary", SCREEN_WAIT, |s| {
            s.contains("Codex review: 1 finding")
        });
        // Space d lists it: a warning (P1) with code codex.review; the gutter marks line 2.
        let listed = diagnostics_picker(tmux, |s| {
            s.contains("Greeting is vague") && s.contains("1/1")
        })
        .unwrap_or_else(|| panic!("no finding in Space d:\n{}", tmux.screen()));
        let row = listed
            .lines()
            .find(|l| l.contains("[P1] Greeting is vague"))
            .unwrap_or_default();
        assert!(
            row.contains("WARN") && row.contains("codex.review"),
            "{listed}"
        );
        tmux.wait_screen("the gutter mark on line 2", SCREEN_WAIT, |s| {
            s.lines()
                .any(|l| l.starts_with('●') && l.contains(" 2  # please greet"))
        });
        // Space c R: codex.clearReview. The mark goes.
        tmux.keys(&["Space", "c", "R"]);
        tmux.wait_screen("the finding to be cleared", SCREEN_WAIT, |s| {
            !s.lines().any(|l| l.starts_with('●')) && s.contains(" 2  # please greet")
        });
    })
    .await;
}

/// The texts of the user messages the provider received (not the system prompt).
fn user_texts(fixture: &Fixture) -> String {
    let mut texts = Vec::new();
    for request in fixture.provider.requests() {
        for item in request["input"].as_array().into_iter().flatten() {
            if item["role"] == "user" {
                for part in item["content"].as_array().into_iter().flatten() {
                    texts.push(part["text"].as_str().unwrap_or_default().to_string());
                }
            }
        }
    }
    texts.join("\n")
}

/// A two-line command in Helix (no prompt, approvals in the code actions): no title passes
/// its first line for the whole; the whole command is shown (every line) in the document
/// Helix is asked to open; declined from the picker, nothing runs (issue 14.1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_line_command_is_shown_whole_and_declined_in_helix() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    let (document, menu) = blocking(move || {
        let tmux = &session.tmux;
        explain_line(&session, 8);
        // Helix opens the document beside the file, every line of the command in it.
        let document = tmux.wait_screen("the approval document", SCREEN_WAIT, |s| {
            s.contains("approval-1.txt")
                && s.contains("│ /bin/bash -lc 'echo checking status")
                && s.contains("│ touch PWNED'")
        });
        // Back to main.py (the document has no language server), and the picker there.
        let mut menu = String::new();
        for attempt in 0..20 {
            escape(tmux);
            tmux.keys(&["C-w", "w"]);
            std::thread::sleep(Duration::from_millis(300));
            tmux.keys(&["Space", "a"]);
            menu = editor_support::poll(Duration::from_secs(3), || {
                let s = tmux.screen();
                s.contains("Codex: decline a 2-line command").then_some(s)
            })
            .unwrap_or_default();
            if !menu.is_empty() {
                break;
            }
            assert!(
                attempt < 19,
                "no approval in the picker:\n{}",
                tmux.screen()
            );
        }
        let entries: Vec<String> = menu
            .lines()
            .filter_map(|l| l.find("Codex: ").map(|i| l[i..].trim().to_string()))
            .collect();
        let index = entries
            .iter()
            .position(|e| e.starts_with("Codex: decline a 2-line command (approval-1"))
            .unwrap_or_else(|| panic!("no decline in the menu:\n{menu}"));
        for _ in 0..index {
            tmux.keys(&["Down"]);
        }
        tmux.keys(&["Enter"]);
        tmux.wait_screen("the turn's end", SCREEN_WAIT, |s| {
            s.contains("two lines answered")
        });
        (document, menu)
    })
    .await;
    // No entry names a part of the command as if it were the whole.
    for line in menu.lines().filter(|l| l.contains("Codex: ")) {
        let about_this_one = line.split(", and always").next().unwrap();
        assert!(!about_this_one.contains("echo checking"), "{menu}");
    }
    assert!(
        document.contains("Codex wants to run a multi-line command (2 lines"),
        "{document}"
    );
    assert!(
        !fixture.workspace.join("PWNED").exists(),
        "the declined command ran"
    );
}

/// 15.7: `Space c s` shows codex.status (Helix drops command results).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_key_shows_the_status() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    let line = blocking(move || {
        let tmux = &session.tmux;
        // Right after start codex-lsp may not be up yet: Space c s until it answers.
        editor_support::poll(SCREEN_WAIT, || {
            tmux.keys(&["Space", "c", "s"]);
            editor_support::poll(Duration::from_secs(3), || {
                let s = tmux.screen();
                s.lines()
                    .find(|l| l.contains("Codex: app-server running"))
                    .map(str::to_string)
            })
        })
        .unwrap_or_else(|| panic!("no status shown:\n{}", tmux.screen()))
    })
    .await;
    assert!(line.contains("no turn running; model "), "{line}");
}

/// The doc's settings (`untrusted`, `read-only`, a model) reach codex-lsp (`Space c s`) and
/// the app-server (the provider's request; an approval asked for a plain command). Helix
/// answers codex-lsp's `workspace/configuration` with null, which resets them to the
/// defaults until issue 15 item 1 (a source that says nothing overrides nothing) is merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_settings_reach_the_app_server() {
    let _one_helix = one_at_a_time().await;
    let mut rules = helix_rules();
    rules.push(Rule::new(
        "helix plain touch",
        vec![
            Reply::exec("touch plain.txt"),
            Reply::text("plain touch done"),
        ],
    ));
    let fixture = Fixture::new(rules).await;
    write_workspace(&fixture.workspace);
    std::fs::write(fixture.workspace.join("ask.py"), "# helix plain touch\n").unwrap();
    let session = start_helix(&fixture, "ask.py");
    blocking(move || {
        let tmux = &session.tmux;
        editor_support::poll(SCREEN_WAIT, || {
            tmux.keys(&["Space", "c", "s"]);
            editor_support::poll(Duration::from_secs(3), || {
                let s = tmux.screen();
                s.contains("model gpt-5.5, approvals untrusted, sandbox read-only")
                    .then_some(())
            })
        })
        .unwrap_or_else(|| panic!("the doc's settings are not codex-lsp's:\n{}", tmux.screen()));
        // Under `untrusted` a plain `touch` asks.
        ask_for_an_approval(&session, 1);
        answer_in_picker(&session, "Codex: decline `touch plain.txt`");
        tmux.wait_screen("the turn's end", SCREEN_WAIT, |s| {
            s.contains("plain touch done")
        });
    })
    .await;
    assert!(!fixture.workspace.join("plain.txt").exists());
    assert_doc_settings_reached_the_app_server(&fixture);
}

/// 15.7: in an 80-column Helix the turn's progress is readable: the token Helix prints in
/// brackets is short, so the message fits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_progress_fits_an_80_column_status_line() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix_sized(&fixture, "main.py", (80, 24));
    let line = blocking(move || {
        ask_for_an_approval(&session, 5);
        let screen = session
            .tmux
            .wait_screen("the approval's progress", SCREEN_WAIT, |s| {
                s.contains("approval needed for `touch helix-accepted.txt`")
            });
        let line = screen
            .lines()
            .find(|l| l.contains("approval needed for"))
            .unwrap()
            .to_string();
        answer_in_picker(&session, "Codex: decline `touch helix-accepted.txt`");
        line
    })
    .await;
    assert!(line.trim_start().starts_with("[codex#"), "{line}");
}

fn write_c_workspace(workspace: &Path) {
    std::fs::write(workspace.join("compile_flags.txt"), "-std=c11\n").unwrap();
    std::fs::write(
        workspace.join("main.c"),
        "int compute_answer(void) { return 42; }\n\nint main(void) {\n  return undefined_value + compute_answer();\n}\n",
    )
    .unwrap();
}

/// 15.7: the recipe keeps Helix's own servers: clangd runs beside codex-lsp in a C buffer.
/// clangd's error is offered as "Codex: Fix: …" (codex-lsp got it from Helix), the fix
/// (approved in the menu, as the doc's read-only sandbox asks) lands in the buffer, and
/// clangd's error goes away (clangd saw the edit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clangd_runs_beside_codex_in_a_c_buffer() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    write_c_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.c");
    blocking(move || {
        let tmux = &session.tmux;
        // clangd's error: the gutter marks line 4.
        let marked = |s: &str| {
            s.lines()
                .any(|l| l.starts_with('●') && l.contains(" 4    return"))
        };
        tmux.wait_screen("clangd's mark on line 4", SCREEN_WAIT, marked);
        // Space a on line 4: codex's fix of clangd's diagnostic.
        let fix = "Codex: Fix: Use of undeclared identifier 'undefined_value'";
        let menu = editor_support::poll(SCREEN_WAIT, || {
            select_line(tmux, 4);
            tmux.keys(&["Space", "a"]);
            let seen = editor_support::poll(Duration::from_secs(3), || {
                let s = tmux.screen();
                s.contains(fix).then_some(s)
            });
            if seen.is_none() {
                escape(tmux);
            }
            seen
        })
        .unwrap_or_else(|| panic!("no codex fix of clangd's diagnostic:\n{}", tmux.screen()));
        pick(tmux, &menu, fix);
        approve_if_asked(
            &session,
            "Codex: allow the edit of main.c (+1 −1)*",
            "Fixed the C file.",
        );
        tmux.wait_screen("the fix in the buffer", SCREEN_WAIT, |s| {
            s.contains("  return compute_answer();")
        });
        // clangd saw the edit: its error goes; the gutter mark left on line 4 is Codex's
        // own (issue 17: the agent's change, a hint of code codex.change).
        tmux.wait_screen(
            "clangd's mark gone, Codex's change marked",
            SCREEN_WAIT,
            |s| {
                !s.contains("undeclared")
                    && s.contains(" 4    return compute_answer();")
                    && s.contains("Codex changed this")
            },
        );
    })
    .await;
}

/// 15.7: a .txt file open in Helix gets the agent's edit in its buffer (the recipe's `text`
/// language attaches codex-lsp), so writing it keeps the agent's change beside the user's
/// edit. (Without codex on .txt the buffer kept the old text and `:w!`, the only way past
/// Helix's "modified by an external process", wrote the agent's change away.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_edit_reaches_an_open_txt_buffer_and_writing_keeps_it() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    std::fs::write(
        fixture.workspace.join("notes.txt"),
        "first note\nsecond note\n",
    )
    .unwrap();
    let session = start_helix(&fixture, "notes.txt");
    let notes = fixture.workspace.join("notes.txt");
    blocking(move || {
        let tmux = &session.tmux;
        tmux.keys(&[":"]);
        tmux.type_text("open main.py");
        tmux.keys(&["Enter"]);
        tmux.wait_screen("main.py", SCREEN_WAIT, |s| {
            s.contains("# helix edits the notes")
        });
        explain_line(&session, 6);
        approve_if_asked(
            &session,
            "Codex: allow the edit of notes.txt (+1 −1)*",
            "Notes edited.",
        );
        // Back to notes.txt: the buffer has the agent's edit.
        tmux.keys(&[":"]);
        tmux.type_text("open notes.txt");
        tmux.keys(&["Enter"]);
        tmux.wait_screen("the edit in the notes buffer", SCREEN_WAIT, |s| {
            s.contains("second note, edited by Codex")
        });
        // A change of the user's, then :w. Helix 25.01 refuses any :w of a file changed on
        // disk since it was opened (it compares times, not text); the buffer holds the
        // user's edit and the agent's, so :w! is right and keeps both.
        tmux.keys(&["g", "g", "i"]);
        tmux.type_text("my ");
        escape(tmux);
        tmux.keys(&[":"]);
        tmux.type_text("w");
        tmux.keys(&["Enter"]);
        tmux.wait_screen(":w's refusal", SCREEN_WAIT, |s| {
            s.contains("file modified by an external process, use :w! to overwrite")
        });
        tmux.keys(&[":"]);
        tmux.type_text("w!");
        tmux.keys(&["Enter"]);
        tmux.wait_screen(":w! writing", SCREEN_WAIT, |s| s.contains("written"));
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(notes).unwrap(),
        "my first note\nsecond note, edited by Codex\n"
    );
}

/// Escape on the code-action menu answers nothing: the approval keeps waiting (offered again)
/// and the command does not run until it is answered; declining it then ends the turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_dismissed_with_escape_keeps_waiting_and_grants_nothing() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    let made = fixture.workspace.join("declined.txt");
    let made_too = made.clone();
    blocking(move || {
        let tmux = &session.tmux;
        ask_for_an_approval(&session, 3);
        tmux.keys(&["Space", "a"]);
        tmux.wait_screen("the approval in the menu", SCREEN_WAIT, |s| {
            s.contains("Codex: allow `touch declined.txt`")
        });
        escape(tmux);
        std::thread::sleep(Duration::from_secs(2));
        assert!(!made_too.exists(), "Escape ran the command");
        answer_in_picker(&session, "Codex: decline `touch declined.txt`");
        tmux.wait_screen("the turn's end", SCREEN_WAIT, |s| {
            s.contains("ok, not made")
        });
    })
    .await;
    assert!(!made.exists(), "the dismissed, then declined, command ran");
}

/// Moves down the open menu `menu` (a screen) to the entry `choice` and runs it.
fn pick(tmux: &Tmux, menu: &str, choice: &str) {
    let entries: Vec<String> = menu
        .lines()
        .filter_map(|l| l.find("Codex: ").map(|i| l[i..].trim().to_string()))
        .collect();
    let index = entries
        .iter()
        .position(|e| e == choice)
        .unwrap_or_else(|| panic!("no {choice:?} in the menu:\n{menu}"));
    for _ in 0..index {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["Enter"]);
}

/// Waits for the turn to end with `end`; when the agent asks for approval first (the doc's
/// read-only sandbox asks for every edit), answers it with `choice` from the menu.
fn approve_if_asked(session: &Session, choice: &str, end: &str) {
    let screen = session
        .tmux
        .wait_screen("an approval or the turn's end", SCREEN_WAIT, |s| {
            s.contains("Codex asks for approval")
                || s.contains("approval needed for")
                || s.contains(end)
        });
    if !screen.contains(end) {
        answer_in_picker(session, choice);
        session
            .tmux
            .wait_screen("the turn's end", SCREEN_WAIT, |s| s.contains(end));
    }
}

/// 15.7: the recipe keeps Helix's own servers for a language and adds codex: Helix itself
/// (`hx --health python`, with the doc's languages.toml) lists ruff, jedi and pylsp beside
/// codex-lsp, as Helix 25.01 configures Python by default (the old recipe left only pylsp).
#[test]
fn the_recipe_keeps_helixs_default_servers_beside_codex() {
    let home = EditorHome::new();
    write_config(&home);
    let out = std::process::Command::new(editor("hx"))
        .args(["--health", "python"])
        .envs(home.env())
        .env("PATH", codex_lsp().parent().unwrap())
        .output()
        .expect("run hx --health");
    // Without its colours (ESC [ … m).
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut text = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            text.push(c);
        }
    }
    // One line per server: `  ✘ ruff: 'ruff' not found in $PATH`, by its command.
    let servers: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Configured language servers"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split(':').next())
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert_eq!(
        servers,
        ["ruff", "jedi-language-server", "pylsp", "codex-lsp"],
        "{text}"
    );
}

/// The status line's one message after a failed turn: the progress's end, or the message
/// that replaced it (Helix shows one at a time).
fn failed_turn_line(line: &str) -> bool {
    line.contains("failed") && (line.contains("[codex#") || line.contains("Codex: failed"))
}

/// The provider fails during the turn: the status line says the turn failed and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_failure_shows_in_the_status_line() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    let line = blocking(move || {
        explain_line(&session, 7);
        let screen = session
            .tmux
            .wait_screen("the failed turn's end", SCREEN_WAIT, |s| {
                s.lines().any(failed_turn_line)
            });
        screen
            .lines()
            .find(|l| failed_turn_line(l))
            .unwrap()
            .to_string()
    })
    .await;
    assert!(
        line.contains("400"),
        "the status line does not say why: {line}"
    );
}

/// What Helix's message line (the screen's last) shows of codex-lsp, if anything.
fn message_line(screen: &str) -> Option<String> {
    let line = screen.lines().last()?.trim();
    (line.contains("[codex#") || line.contains("Codex")).then(|| line.to_string())
}

/// A second ask (another Codex code action) while a turn runs: codex-lsp queues it and says
/// so, and the status line shows the queued notice, then each turn's end with its own reply
/// (by its own progress token), neither reply glued to the other or to the notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ask_during_a_turn_is_queued_and_both_replies_show() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    let seen = blocking(move || {
        let tmux = &session.tmux;
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            // Every message shown, in order, and when it appeared: each may show only briefly.
            let recorder = scope.spawn(|| {
                let mut seen: Vec<(String, Instant)> = Vec::new();
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    if let Some(line) = message_line(&tmux.screen()) {
                        if seen.last().map(|(l, _)| l) != Some(&line) {
                            seen.push((line, Instant::now()));
                        }
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                seen.push(("(end)".into(), Instant::now()));
                seen
            });
            explain_line(&session, 9);
            tmux.wait_screen("the first reply streaming", SCREEN_WAIT, |s| {
                s.contains("Slow first")
            });
            escape(tmux);
            explain_line(&session, 10);
            let ended = editor_support::poll(SCREEN_WAIT, || {
                tmux.screen().contains("Quick second reply.").then_some(())
            });
            std::thread::sleep(Duration::from_millis(500));
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            let seen = recorder.join().unwrap();
            assert!(ended.is_some(), "the second reply never showed: {seen:#?}");
            // Each line with how long it stayed.
            seen.windows(2)
                .map(|w| (w[0].0.clone(), w[1].1 - w[0].1))
                .collect::<Vec<(String, Duration)>>()
        })
    })
    .await;
    eprintln!("message lines: {seen:#?}");
    let find = |what: &str| {
        seen.iter()
            .position(|(l, _)| l.contains(what))
            .unwrap_or_else(|| panic!("{what:?} never showed: {seen:#?}"))
    };
    let queued = find("queued: your ask");
    let first_end = find("[codex#1] Slow first reply, streamed word by word.");
    let second_end = find("[codex#2] Quick second reply.");
    assert!(queued < first_end && first_end < second_end, "{seen:#?}");
    // Long enough to read: before the fix the next progress replaced each at once.
    for at in [queued, first_end] {
        assert!(
            seen[at].1 >= Duration::from_millis(1000),
            "{:?} showed for {:?} only: {seen:#?}",
            seen[at].0,
            seen[at].1
        );
    }
    for (line, _) in &seen {
        assert!(
            !(line.contains("Slow first") && line.contains("Quick second")),
            "two replies in one line: {line}"
        );
        if line.contains("queued: your ask") {
            assert!(
                !line.contains("reply"),
                "the queued notice carries a reply: {line}"
            );
        }
    }
}

/// Helix has no message prompt: `:lsp-workspace-command codex.setModel` offers the models as
/// code actions (Space a); picking one makes it the next turns' (the provider gets it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_model_offers_the_models_in_the_code_actions() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let (model, _) = support::another_model(&fixture).await;
    let session = start_helix(&fixture, "main.py");
    let title = format!("Codex: use model {model}");
    blocking(move || {
        let tmux = &session.tmux;
        // Until codex-lsp is up, Helix has no server to send the command to.
        let offered = editor_support::poll(SCREEN_WAIT, || {
            escape(tmux);
            tmux.type_text(":lsp-workspace-command codex.setModel");
            tmux.keys(&["Enter"]);
            editor_support::poll(Duration::from_secs(5), || {
                let s = tmux.screen();
                s.contains("pick the model or effort in the code actions")
                    .then_some(())
            })
        });
        assert!(offered.is_some(), "no offer:\n{}", tmux.screen());
        escape(tmux);
        tmux.keys(&["Space", "a"]);
        let menu = tmux.wait_screen("the model code actions", SCREEN_WAIT, |s| {
            s.contains("Codex: use model")
        });
        let entries: Vec<String> = menu
            .lines()
            .filter_map(|l| l.find("Codex: ").map(|i| l[i..].trim().to_string()))
            .collect();
        let index = entries
            .iter()
            // Less the menu's scrollbar.
            .position(|e| e.trim_end_matches('▐').trim() == title)
            .unwrap_or_else(|| panic!("no {title:?} in the menu:\n{menu}"));
        for _ in 0..index {
            tmux.keys(&["Down"]);
        }
        tmux.keys(&["Enter"]);
        escape(tmux);
        tmux.type_text(":lsp-workspace-command codex.status");
        tmux.keys(&["Enter"]);
        let wanted = format!("model {model}");
        tmux.wait_screen("the status with the model", SCREEN_WAIT, |s| {
            s.contains(&wanted)
        });
    })
    .await;
}

/// The chat in Helix, no plugin: Space c t (`codex.openTranscript`) opens the thread's
/// transcript document; a prompt typed under "## Ask Codex" goes with the code action
/// "Codex: Send"; the reply appears in the buffer through codex-lsp's applyEdits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_sent_from_the_transcripts_ask_section_appears_in_helix() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_helix(&fixture, "main.py");
    let screen = blocking(move || {
        let tmux = &session.tmux;
        // Right after start codex-lsp may not be up yet: Space c t until the document opens.
        editor_support::poll(SCREEN_WAIT, || {
            escape(tmux);
            tmux.keys(&["Space", "c", "t"]);
            editor_support::poll(Duration::from_secs(5), || {
                tmux.screen().contains("## Ask Codex").then_some(())
            })
        })
        .unwrap_or_else(|| panic!("the transcript did not open:\n{}", tmux.screen()));
        // The last line is the ask section's: type the prompt there.
        escape(tmux);
        tmux.keys(&["g", "e"]);
        tmux.keys(&["o"]);
        tmux.type_text(HELIX_CHAT_PROMPT);
        escape(tmux);
        // Space c a in the transcript: the chat's actions, "Codex: Send" first (the
        // document's how-to line names it too: only whole menu entries count).
        let entries = |s: &str| -> Vec<String> {
            s.lines()
                .filter_map(|l| l.find("Codex: ").map(|i| l[i..].trim().to_string()))
                .filter(|e| {
                    ["Codex: Send", "Codex: Interrupt", "Codex: New thread"].contains(&e.as_str())
                })
                .collect()
        };
        let mut menu = Vec::new();
        for _ in 0..10 {
            tmux.keys(&["Space", "c", "a"]);
            let screen = tmux.wait_screen("the transcript's code actions", SCREEN_WAIT, |s| {
                !entries(s).is_empty()
                    || s.contains("No code actions")
                    || s.contains("supports code actions")
            });
            menu = entries(&screen);
            if !menu.is_empty() {
                break;
            }
            escape(tmux);
            std::thread::sleep(Duration::from_millis(300));
        }
        assert_eq!(
            menu,
            ["Codex: Send", "Codex: New thread"],
            "{}",
            tmux.screen()
        );
        tmux.keys(&["Enter"]);
        // The reply lands in the buffer (quoted), not only in the status line.
        tmux.wait_screen("the reply in the transcript buffer", SCREEN_WAIT, |s| {
            s.contains("> Helix chat reply, streamed into the transcript.")
                && s.contains("> Its second line.")
                && s.contains("*completed")
        })
    })
    .await;
    assert!(
        screen.contains(&format!("> {HELIX_CHAT_PROMPT}")),
        "the prompt is not in the transcript:\n{screen}"
    );
    assert!(
        user_texts(&fixture).contains(HELIX_CHAT_PROMPT),
        "the prompt did not reach the model"
    );
    // Sent, the prompt left the ask section: it shows once, quoted under "### You".
    assert_eq!(
        screen.matches(HELIX_CHAT_PROMPT).count(),
        1,
        "the prompt is still in the ask section:\n{screen}"
    );
}

/// The file the keep-or-undo test's turn changes in two hunks (lines 2 and 4); its first line
/// is the prompt ("Codex: Explain" on it asks the agent).
const UNDO_BEFORE: &str = "helix undo me\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\n";

/// Issue 17 in Helix: after a turn changed two hunks of the open undo.txt, the user edits its
/// last line (unsaved); "Codex: Revert this change" from the code-action menu (Space a) on
/// the first hunk brings its line back while the user's edit stays; the recipe's undo key
/// (Space c u) undoes the rest of the turn. `:w!` then writes exactly the text before the turn plus the
/// user's edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hunk_reverted_and_the_turn_undone_from_helixs_code_action_menu() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    fixture.provider.add_rule(Rule::new(
        "helix undo me",
        vec![
            PatchBuilder::new()
                .update(
                    "undo.txt",
                    "beta\ngamma\ndelta",
                    "BETA by Codex\ngamma\nDELTA by Codex",
                )
                .into_reply(),
            Reply::text("Undo file edited."),
        ],
    ));
    write_workspace(&fixture.workspace);
    let file = fixture.workspace.join("undo.txt");
    std::fs::write(&file, UNDO_BEFORE).unwrap();
    let session = start_helix(&fixture, "undo.txt");
    let (reverted, undone) = blocking(move || {
        let tmux = &session.tmux;
        explain_line(&session, 1);
        approve_if_asked(
            &session,
            "Codex: allow the edit of undo.txt*",
            "Undo file edited.",
        );
        tmux.wait_screen("the agent's edit in the buffer", SCREEN_WAIT, |s| {
            s.contains("BETA by Codex") && s.contains("DELTA by Codex")
        });
        // The approval's diff may have opened beside it, with the focus: back to undo.txt,
        // alone.
        tmux.keys(&[":"]);
        tmux.type_text("open undo.txt");
        tmux.keys(&["Enter"]);
        tmux.keys(&["C-w", "o"]);
        tmux.wait_screen("undo.txt alone", SCREEN_WAIT, |s| {
            !s.contains("approval") && s.contains("undo.txt")
        });
        // The user's unsaved edit, after the turn.
        // In one transaction (`:append-output`, no quoting needed): Helix 25.01 lets each
        // keystroke's didChange race the next, and under load they reach the server out of
        // order (version 6, then 5); the revert's versioned edit is then refused by Helix
        // (nothing lost, nothing reverted) — a Helix bug, not the flow under test.
        select_line(tmux, 7);
        tmux.keys(&["g", "l"]);
        tmux.keys(&[":"]);
        tmux.type_text("append-output printf _mine");
        tmux.keys(&["Enter"]);
        tmux.wait_screen("the user's edit", SCREEN_WAIT, |s| s.contains("eta_mine"));
        change_action(&session, 2, "Codex: Revert this change");
        let reverted = tmux.wait_screen("the hunk reverted", SCREEN_WAIT, |s| {
            !s.contains("BETA by Codex") && s.contains("DELTA by Codex")
        });
        // The recipe's key for :lsp-workspace-command codex.undoTurn (the newest turn).
        escape(tmux);
        tmux.keys(&["Space", "c", "u"]);
        let undone = tmux.wait_screen("the turn undone", SCREEN_WAIT, |s| {
            !s.contains("DELTA by Codex") && s.contains("delta")
        });
        tmux.keys(&[":"]);
        tmux.type_text("w!");
        tmux.keys(&["Enter"]);
        tmux.wait_screen(":w! writing", SCREEN_WAIT, |s| s.contains("written"));
        (reverted, undone)
    })
    .await;
    assert!(reverted.contains("eta_mine"), "{reverted}");
    assert!(undone.contains("eta_mine"), "{undone}");
    assert_eq!(
        std::fs::read_to_string(file).unwrap(),
        "helix undo me\nbeta\ngamma\ndelta\nepsilon\nzeta\neta_mine\n"
    );
}

/// Selects line `line` (1-based), opens the code-action menu (Space a) once codex-lsp offers
/// `choice` there (the mark may still be on its way) and runs it.
fn change_action(session: &Session, line: usize, choice: &str) {
    let tmux = &session.tmux;
    for attempt in 0..20 {
        if attempt > 0 {
            escape(tmux);
            std::thread::sleep(Duration::from_millis(300));
        }
        select_line(tmux, line);
        tmux.keys(&["Space", "a"]);
        let menu = tmux.wait_screen("the code actions", SCREEN_WAIT, |s| {
            s.contains("Codex: Explain") || s.contains(choice)
        });
        if menu.contains(choice) {
            // The menu is long enough for a scroll bar (and the diagnostic's text may show
            // past it): each entry is the text from "Codex: " up to the bar.
            let entries: Vec<&str> = menu
                .lines()
                .filter_map(|l| l.find("Codex: ").map(|i| &l[i..]))
                .map(|e| e.split(['▐', '█']).next().unwrap_or_default().trim())
                .collect();
            let index = entries
                .iter()
                .position(|e| *e == choice)
                .unwrap_or_else(|| panic!("no {choice:?} in the menu:\n{menu}"));
            for _ in 0..index {
                tmux.keys(&["Down"]);
            }
            tmux.keys(&["Enter"]);
            return;
        }
    }
    panic!(
        "{choice:?} never offered on line {line}:\n{}",
        tmux.screen()
    );
}

/// Issue 17's keep in Helix: after a turn changed lines 2 and 4 of the open undo.txt,
/// "Codex: Keep this change" from the code-action menu (Space a) on line 2 keeps it: the
/// text stays the agent's, line 2's menu no longer offers to keep or revert it, line 4's
/// still does, and the diagnostics picker (Space d) lists one mark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hunk_kept_from_helixs_code_action_menu() {
    let _one_helix = one_at_a_time().await;
    let fixture = Fixture::new(helix_rules()).await;
    fixture.provider.add_rule(Rule::new(
        "helix undo me",
        vec![
            PatchBuilder::new()
                .update(
                    "undo.txt",
                    "beta\ngamma\ndelta",
                    "BETA by Codex\ngamma\nDELTA by Codex",
                )
                .into_reply(),
            Reply::text("Undo file edited."),
        ],
    ));
    write_workspace(&fixture.workspace);
    std::fs::write(fixture.workspace.join("undo.txt"), UNDO_BEFORE).unwrap();
    let session = start_helix(&fixture, "undo.txt");
    let (kept, line_two, line_four, picker) = blocking(move || {
        let tmux = &session.tmux;
        explain_line(&session, 1);
        approve_if_asked(
            &session,
            "Codex: allow the edit of undo.txt*",
            "Undo file edited.",
        );
        tmux.wait_screen("the agent's edit in the buffer", SCREEN_WAIT, |s| {
            s.contains("BETA by Codex") && s.contains("DELTA by Codex")
        });
        tmux.keys(&[":"]);
        tmux.type_text("open undo.txt");
        tmux.keys(&["Enter"]);
        tmux.keys(&["C-w", "o"]);
        tmux.wait_screen("undo.txt alone", SCREEN_WAIT, |s| {
            !s.contains("approval") && s.contains("undo.txt")
        });
        change_action(&session, 2, "Codex: Keep this change");
        // The code-action menu of a line, once codex-lsp answered it.
        let menu_at = |line: usize| {
            escape(tmux);
            select_line(tmux, line);
            tmux.keys(&["Space", "a"]);
            let menu = tmux.wait_screen("the code actions", SCREEN_WAIT, |s| {
                s.contains("Codex: Explain")
            });
            escape(tmux);
            menu
        };
        let started = std::time::Instant::now();
        let line_two = loop {
            let menu = menu_at(2);
            if !menu.contains("Keep this change") || started.elapsed() > SCREEN_WAIT {
                break menu;
            }
            std::thread::sleep(Duration::from_millis(300));
        };
        let line_four = menu_at(4);
        let kept = tmux.screen();
        tmux.keys(&["Space", "d"]);
        // The picker, not the inline mark (which shows the same words): its count.
        let picker = tmux.wait_screen("the diagnostics picker", SCREEN_WAIT, |s| {
            s.contains("Codex changed this") && s.contains("codex.change ") && s.contains("/1")
        });
        escape(tmux);
        (kept, line_two, line_four, picker)
    })
    .await;
    assert!(
        kept.contains("BETA by Codex") && kept.contains("DELTA by Codex"),
        "{kept}"
    );
    assert!(
        !line_two.contains("Codex: Keep this change")
            && !line_two.contains("Codex: Revert this change"),
        "{line_two}"
    );
    assert!(line_four.contains("Codex: Keep this change"), "{line_four}");
    // One row in the picker ("1/1"): line 4's mark; line 2's is gone.
    assert_eq!(
        picker.matches("codex.change ").count(),
        1,
        "{picker}\n{kept}"
    );
    assert!(picker.contains("1/1"), "{picker}\n{kept}");
}
