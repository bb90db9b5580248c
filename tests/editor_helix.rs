//! Helix 25 in tmux with the recipe in `editors/helix` (languages.toml, config.toml), the
//! built codex-lsp, the real app-server and the scripted provider. Keys go in with
//! send-keys; what Helix shows is read with capture-pane.

mod editor_support;
mod support;

use std::path::Path;
use std::time::Duration;

use codex_lsp::mock_provider::{PatchBuilder, Reply, Rule};
use editor_support::{codex_lsp, editor, repo_path, EditorHome, Tmux};
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
        codex_lsp::mock_provider::REVIEW_UNCOMMITTED_PROMPT,
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

/// Writes the recipe into `home`'s Helix config: codex-lsp is the built binary with
/// `settings` (TOML lines for `[language-server.codex.config]`) and Python files get only
/// codex (no other server to be missing here).
fn write_config(home: &EditorHome, settings: &str) {
    let dir = home.config().join("helix");
    std::fs::create_dir_all(&dir).unwrap();
    let recipe = std::fs::read_to_string(repo_path("editors/helix/languages.toml")).unwrap();
    assert!(recipe.contains("command = \"codex-lsp\""), "{recipe}");
    // The recipe's server section (before its [[language]] examples), with our binary.
    let server = recipe.split("[[language]]").next().unwrap().replace(
        "command = \"codex-lsp\"",
        &format!("command = {:?}", codex_lsp().display().to_string()),
    );
    // Each `key = value` of `settings` replaces the recipe's line for that key.
    let mut server: String = server
        .lines()
        .filter(|line| {
            !settings
                .lines()
                .filter_map(|s| s.split('=').next())
                .any(|key| line.starts_with(&format!("{} =", key.trim())))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    server = server.replace(
        "[language-server.codex.config]\n",
        &format!("[language-server.codex.config]\n{settings}\n"),
    );
    let languages =
        format!("{server}\n[[language]]\nname = \"python\"\nlanguage-servers = [\"codex\"]\n");
    std::fs::write(dir.join("languages.toml"), languages).unwrap();
    std::fs::copy(
        repo_path("editors/helix/config.toml"),
        dir.join("config.toml"),
    )
    .unwrap();
}

struct Session {
    tmux: Tmux,
    _home: EditorHome,
}

fn start_helix(fixture: &Fixture, settings: &str, file: &str) -> Session {
    let hx = editor("hx");
    let home = EditorHome::new();
    write_config(&home, settings);
    let mut env = fixture.env();
    env.extend(home.env());
    let tmux = Tmux::start(home.path(), env, &fixture.workspace, &hx, &[file]);
    tmux.wait_screen("the file in Helix", SCREEN_WAIT, |s| s.contains(file));
    Session { tmux, _home: home }
}

fn write_workspace(workspace: &Path) {
    std::fs::create_dir_all(workspace.join(".git")).unwrap();
    std::fs::write(
        workspace.join("main.py"),
        "# first line\n# please greet the helix world\n# helix wants to touch\n# helix hangs\n# helix may touch\n# helix two lines\n",
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
    let session = start_helix(&fixture, "", "main.py");
    let (session, seen, screen) = blocking(move || {
        let started = std::time::Instant::now();
        explain_line(&session, 2);
        // Progress while the turn runs (Helix shows `[token] message`), then its end: the
        // reply's first line.
        let mut seen = Vec::new();
        session
            .tmux
            .wait_screen("the turn's end message", SCREEN_WAIT, |s| {
                if let Some(l) = s.lines().find(|l| l.contains("[codex-lsp/turn/")) {
                    seen.push(l.to_string());
                }
                s.contains("Helix turn finished.")
            });
        eprintln!("helix turn: {:.1} s", started.elapsed().as_secs_f64());
        // Helix does not reload files from disk by itself: the text on screen comes from
        // codex-lsp's workspace/applyEdit.
        let screen = session
            .tmux
            .wait_screen("the agent's edit in the buffer", SCREEN_WAIT, |s| {
                s.contains("edited by Codex")
            });
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
    let tmux = &session.tmux;
    let mut menu = String::new();
    for attempt in 0.. {
        if attempt > 0 {
            escape(tmux);
        }
        tmux.keys(&["Space", "a"]);
        menu = tmux.wait_screen("the approval's code actions", SCREEN_WAIT, |s| {
            s.contains("Codex: allow `") || s.contains("Codex: Explain")
        });
        if menu.contains("Codex: allow `") || attempt == 20 {
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
        .position(|e| e == choice)
        .unwrap_or_else(|| panic!("no {choice:?} in the menu:\n{menu}"));
    for _ in 0..index {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["Enter"]);
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
    let session = start_helix(&fixture, "sandbox = \"read-only\"", "main.py");
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
    let session = start_helix(&fixture, "sandbox = \"read-only\"", "main.py");
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
    let session = start_helix(&fixture, "", "main.py");
    blocking(move || {
        let tmux = &session.tmux;
        explain_line(&session, 4);
        tmux.wait_screen("the turn's progress", SCREEN_WAIT, |s| {
            s.contains("[codex-lsp/turn/") && s.contains("thinking")
        });
        // The recipe's Space c i: codex.interrupt without arguments (every running turn).
        tmux.keys(&["Space", "c", "i"]);
        tmux.wait_screen("the interrupted turn's end", SCREEN_WAIT, |s| {
            s.lines()
                .any(|l| l.contains("[codex-lsp/turn/") && l.contains("interrupted"))
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
    let session = start_helix(&fixture, "", "main.py");
    blocking(move || {
        let tmux = &session.tmux;
        // Right after start codex-lsp may not be up yet: Space c r until the review starts.
        editor_support::poll(SCREEN_WAIT, || {
            tmux.keys(&["Space", "c", "r"]);
            editor_support::poll(Duration::from_secs(3), || {
                let s = tmux.screen();
                (s.contains("[codex-lsp/turn/") || s.contains("Codex review")).then_some(())
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
    let session = start_helix(&fixture, "sandbox = \"read-only\"", "main.py");
    let (document, menu) = blocking(move || {
        let tmux = &session.tmux;
        explain_line(&session, 6);
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
