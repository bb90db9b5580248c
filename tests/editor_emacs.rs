//! Emacs 30, interactive in tmux, set up with the snippets of docs/editors/emacs.md as its
//! init file (codex.el, and eglot for the user's own language server), the built codex-lsp
//! on PATH, the real app-server and the scripted provider. Keys go in as a user types them;
//! `tests/editors/emacs/drive.el` records what happened, read with emacsclient.

mod editor_support;
mod support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use editor_support::{codex_lsp, doc_snippet, editor, repo_path, EditorHome, Tmux};
use mock_provider::{PatchBuilder, Reply, Rule};
use serde_json::Value;
use support::{review_finding, review_reply, Fixture};

const WAIT: Duration = Duration::from_secs(60);
const DOC: &str = "docs/editors/emacs.md";
/// The model the doc's `codex-settings` names.
const DOC_MODEL: &str = "gpt-5.5";

/// One Emacs at a time: keys sent to an Emacs starved of CPU by others arrive late.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static EMACS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    EMACS.lock().await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

struct Emacs {
    tmux: Tmux,
    home: EditorHome,
    result: PathBuf,
}

impl Emacs {
    /// Emacs in tmux with `snippets` (names of the doc's `<!-- test: … -->` blocks) as
    /// ~/.emacs.d/init.el, visiting `file` in `workspace`. The only change to a snippet: the
    /// doc's placeholder for where codex-lsp is checked out.
    fn start(
        env: Vec<(String, OsString)>,
        workspace: &Path,
        snippets: &[&str],
        file: &str,
    ) -> Emacs {
        let home = EditorHome::new();
        let mut init = String::new();
        for name in snippets {
            init.push_str(&doc_snippet(DOC, name));
        }
        assert!(init.contains("/path/to/codex-lsp/editors/emacs"), "{init}");
        let init = init.replace(
            "/path/to/codex-lsp/editors/emacs",
            &repo_path("editors/emacs").display().to_string(),
        );
        std::fs::create_dir_all(home.path().join(".emacs.d")).unwrap();
        std::fs::write(home.path().join(".emacs.d/init.el"), init).unwrap();
        let server_dir = home.path().join("emacs-server");
        std::fs::create_dir_all(&server_dir).unwrap();
        std::fs::set_permissions(
            &server_dir,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let result = home.path().join("state.json");
        // codex-lsp on PATH, as the doc says.
        let bin = codex_lsp().parent().unwrap().to_path_buf();
        let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .unwrap();
        let mut env = env;
        env.extend(home.env());
        env.push(("PATH".into(), path));
        env.push(("CODEX_TEST_RESULT".into(), result.clone().into_os_string()));
        env.push(("CODEX_TEST_SERVER_DIR".into(), server_dir.into_os_string()));
        let drive = repo_path("tests/editors/emacs/drive.el");
        let tmux = Tmux::start(
            home.path(),
            env,
            workspace,
            &editor("emacs"),
            &["-nw", "-l", drive.to_str().unwrap(), file],
        );
        let emacs = Emacs { tmux, home, result };
        emacs.wait_state("Emacs with codex-mode on in the file", |s| {
            buffer(s, file).is_some_and(|b| b["codex"] == true)
        });
        emacs
    }

    /// Evaluates `form` in Emacs (emacsclient) through drive.el and returns its state.
    fn eval(&self, form: &str) -> Value {
        let _ = std::fs::remove_file(&self.result);
        let out = Command::new(editor("emacsclient"))
            .arg("-s")
            .arg(self.home.path().join("emacs-server/server"))
            .arg("--eval")
            .arg(format!("(drive-eval {})", lisp_string(form)))
            .output()
            .expect("run emacsclient");
        if !out.status.success() {
            return Value::Null;
        }
        std::fs::read_to_string(&self.result)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null)
    }

    fn state(&self) -> Value {
        self.eval("nil")
    }

    fn wait_state(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let state = self.state();
            if !state.is_null() && pred(&state) {
                return state;
            }
            if started.elapsed() > WAIT {
                panic!(
                    "timed out waiting for {what}; the screen:\n{}\nthe state: {state:#}",
                    self.tmux.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `M-x codex-ask`, typed.
    fn ask(&self, prompt: &str) {
        self.tmux.keys(&["M-x"]);
        self.tmux.wait_screen("M-x", WAIT, |s| s.contains("M-x"));
        self.tmux.type_text("codex-ask");
        self.tmux.keys(&["Enter"]);
        self.tmux
            .wait_screen("codex-ask's prompt", WAIT, |s| s.contains("Ask Codex:"));
        self.tmux.type_text(prompt);
        self.tmux.keys(&["Enter"]);
    }

    /// Waits for the approval question in the minibuffer.
    fn wait_approval(&self, subject: &str) -> String {
        self.tmux.wait_screen("the approval question", WAIT, |s| {
            s.contains("Codex asks to allow")
                && s.contains(subject)
                && s.contains("(default Decline)")
        })
    }

    /// Types `answer` into the approval question and, once it shows, Enter.
    fn answer(&self, answer: &str) {
        self.tmux.type_text(answer);
        self.tmux.wait_screen("the typed answer", WAIT, |s| {
            s.lines()
                .any(|l| l.contains("(default Decline):") && l.trim_end().ends_with(answer))
        });
        self.tmux.keys(&["Enter"]);
    }

    /// Waits until `n` turns completed and returns the last.
    fn wait_turns(&self, n: usize) -> Value {
        let state = self.wait_state(&format!("{n} completed turn(s)"), |s| {
            s["turns"].as_array().is_some_and(|t| t.len() >= n)
        });
        state["turns"][n - 1].clone()
    }
}

/// `text` as an Emacs Lisp string literal.
fn lisp_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The state of the buffer visiting `name` (its buffer name).
fn buffer<'a>(state: &'a Value, name: &str) -> Option<&'a Value> {
    state["buffers"]
        .as_array()?
        .iter()
        .find(|b| b["name"] == name)
}

/// The texts of the user messages the provider received.
fn provider_text(fixture: &Fixture) -> String {
    serde_json::to_string(&fixture.provider.requests()).unwrap()
}

/// What every setting of the doc's snippet did at the app-server: the model the provider
/// was asked for, and the sandbox and approval policy the model was told about (`untrusted`
/// also shows as the approvals each test answers).
fn assert_doc_settings_reached_the_app_server(fixture: &Fixture) {
    let requests = fixture.provider.requests();
    assert!(!requests.is_empty(), "the provider was never asked");
    for request in &requests {
        assert_eq!(
            request["model"], DOC_MODEL,
            "the doc's model did not reach the app-server"
        );
    }
    let sent = provider_text(fixture);
    assert!(
        sent.contains("`sandbox_mode` is `read-only`"),
        "the doc's sandbox (read-only) is not what the model was told"
    );
    assert!(
        sent.contains("`approval_policy` is `unless-trusted`"),
        "the doc's approvalPolicy (untrusted) is not what the model was told"
    );
}

fn approval_rules() -> Vec<Rule> {
    let mut rules = support::rules();
    for (prompt, file, reply) in [
        ("emacs touch quit", "quit.txt", "after the quit"),
        ("emacs touch enter", "enter.txt", "after the enter"),
        ("emacs touch timeout", "timeout.txt", "after the timeout"),
    ] {
        rules.push(Rule::new(
            prompt,
            vec![Reply::exec(format!("touch {file}")), Reply::text(reply)],
        ));
    }
    // Accepted, a plain command may still run inside the doc's read-only sandbox (whether
    // the app-server then asks to retry outside it varied from run to run): the one that
    // must write asks to run outside the sandbox, so "Accept" has one meaning.
    rules.push(Rule::new(
        "emacs touch accept",
        vec![
            Reply::exec_escalated("touch accepted.txt", "the test writes a file"),
            Reply::text("after the accept"),
        ],
    ));
    rules.push(Rule::new(
        "emacs patch quit",
        vec![
            Reply::apply_patch_update("notes.txt", "two", "TWO"),
            Reply::text("after the patch quit"),
        ],
    ));
    rules
}

fn command_status(turn: &Value) -> Vec<String> {
    turn["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["type"] == "commandExecution")
        .map(|i| i["status"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// 15.3: C-g on the approval question and Enter on its empty answer both decline (the
/// command does not run and the turn goes on); typing "Accept" runs it. Under the doc's
/// `untrusted`, a plain `touch` asks at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_are_declined_by_quit_and_by_enter_and_accepted_when_chosen() {
    let _one = one_at_a_time().await;
    let fixture = Fixture::new(approval_rules()).await;
    let ws = fixture.workspace.clone();
    std::fs::create_dir_all(ws.join(".git")).unwrap();
    std::fs::write(ws.join("notes.txt"), "one\ntwo\n").unwrap();
    let env = fixture.env();
    let (quit, enter, accept, patch, state) = blocking(move || {
        let emacs = Emacs::start(env, &ws, &["emacs-init"], "notes.txt");
        emacs.ask("emacs touch quit");
        emacs.wait_approval("touch quit.txt");
        emacs.tmux.keys(&["C-g"]);
        let quit = emacs.wait_turns(1);

        emacs.ask("emacs touch enter");
        emacs.wait_approval("touch enter.txt");
        emacs.tmux.keys(&["Enter"]);
        let enter = emacs.wait_turns(2);

        emacs.ask("emacs touch accept");
        emacs.wait_approval("touch accepted.txt");
        emacs.answer("Accept");
        let accept = emacs.wait_turns(3);

        // A file change, its diff shown, quit.
        emacs.ask("emacs patch quit");
        emacs.wait_approval("notes.txt");
        emacs
            .tmux
            .wait_screen("the diff in *codex-approval*", WAIT, |s| {
                s.contains("+TWO") && s.contains("*codex-approval*")
            });
        emacs.tmux.keys(&["C-g"]);
        let patch = emacs.wait_turns(4);
        let state = emacs.state();
        (quit, enter, accept, patch, state)
    })
    .await;
    let ws = &fixture.workspace;
    assert_eq!(quit["status"], "completed", "{quit:#}");
    assert_eq!(command_status(&quit), ["declined"], "{quit:#}");
    assert!(!ws.join("quit.txt").exists(), "C-g ran the command");
    assert_eq!(enter["status"], "completed", "{enter:#}");
    assert_eq!(command_status(&enter), ["declined"], "{enter:#}");
    assert!(!ws.join("enter.txt").exists(), "Enter ran the command");
    assert_eq!(accept["status"], "completed", "{accept:#}");
    assert!(
        ws.join("accepted.txt").exists(),
        "the accepted command did not run: {:?}\nmessages: {}\nthe turn: {accept:#}",
        command_status(&accept),
        state["messages"]
    );
    assert_eq!(patch["status"], "completed", "{patch:#}");
    assert_eq!(
        std::fs::read_to_string(ws.join("notes.txt")).unwrap(),
        "one\ntwo\n",
        "C-g let the file change through"
    );
    let approvals = state["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 4, "{state:#}");
    assert_doc_settings_reached_the_app_server(&fixture);
}

/// 15: `approvalTimeout` passes while the approval question is still open in the
/// minibuffer: codex-lsp declines it, and the question closes (an answer typed later could
/// grant nothing), the echo area says it was declined on timeout, the command does not run
/// and the turn goes on. The user changes a setting as the doc says: `codex-settings`, then
/// `codex-send-settings`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_question_closes_when_approval_timeout_declines_it() {
    let _one = one_at_a_time().await;
    let fixture = Fixture::new(approval_rules()).await;
    let ws = fixture.workspace.clone();
    std::fs::create_dir_all(ws.join(".git")).unwrap();
    std::fs::write(ws.join("notes.txt"), "one\ntwo\n").unwrap();
    let env = fixture.env();
    let (turn, state, screen) = blocking(move || {
        let emacs = Emacs::start(env, &ws, &["emacs-init"], "notes.txt");
        emacs.eval(
            "(progn (setq codex-settings (plist-put (copy-sequence codex-settings) :approvalTimeout 2)) (codex-send-settings))",
        );
        emacs.ask("emacs touch timeout");
        emacs.wait_approval("touch timeout.txt");
        let turn = emacs.wait_turns(1);
        let state = emacs.wait_state("the approval question to close", |s| {
            s["minibuffer"] == false
        });
        let screen = emacs.tmux.screen();
        (turn, state, screen)
    })
    .await;
    assert_eq!(turn["status"], "completed", "{turn:#}");
    assert_eq!(command_status(&turn), ["declined"], "{turn:#}");
    assert!(!fixture.workspace.join("timeout.txt").exists());
    let messages = state["messages"].as_str().unwrap_or_default();
    assert!(
        messages.contains("Codex: declined the command")
            && messages.contains("touch timeout.txt")
            && messages.contains("no answer within approvalTimeout; nothing was approved"),
        "codex.el did not say the question closed on timeout: {messages}"
    );
    assert!(
        messages.contains("no answer within 2 s"),
        "codex-lsp's reason is not shown: {messages}"
    );
    assert!(
        !screen.contains("Codex asks to allow"),
        "the question is still on screen:\n{screen}"
    );
}

/// 15.8: eglot runs clangd in a C buffer and codex.el runs codex-lsp in the same buffer:
/// clangd's diagnostics and completions work, an agent's edit (approved in the minibuffer)
/// lands in the buffer, and clangd sees it (its error goes away).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_runs_beside_clangd_in_the_same_c_buffer() {
    let _one = one_at_a_time().await;
    let mut rules = support::rules();
    rules.push(Rule::new(
        "fix the undefined value",
        vec![
            Reply::apply_patch_update(
                "main.c",
                "  return undefined_value + compute_answer();",
                "  return compute_answer();",
            ),
            Reply::text("Fixed the C file."),
        ],
    ));
    let fixture = Fixture::new(rules).await;
    let ws = fixture.workspace.clone();
    std::fs::create_dir_all(ws.join(".git")).unwrap();
    std::fs::write(ws.join("compile_flags.txt"), "-std=c11\n").unwrap();
    std::fs::write(
        ws.join("main.c"),
        "int compute_answer(void) { return 42; }\n\nint main(void) {\n  return undefined_value + compute_answer();\n}\n",
    )
    .unwrap();
    let env = fixture.env();
    let (before, completions, after) = blocking(move || {
        let emacs = Emacs::start(env, &ws, &["emacs-init", "emacs-eglot"], "main.c");
        let before = emacs.wait_state("clangd's diagnostic in main.c", |s| {
            buffer(s, "main.c").is_some_and(|b| {
                b["eglot"].as_str().is_some_and(|n| n.contains("clangd"))
                    && b["diagnostics"].to_string().contains("undefined_value")
            })
        });
        let completions = emacs
            .eval("(drive-completions \"main.c\" \"+ compute_a\")")
            .get("value")
            .cloned()
            .unwrap_or(Value::Null);
        emacs.ask("fix the undefined value");
        emacs.wait_approval("main.c");
        emacs.answer("Accept");
        emacs.wait_turns(1);
        let after = emacs.wait_state("the edit in the buffer and clangd's error gone", |s| {
            buffer(s, "main.c").is_some_and(|b| {
                b["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("  return compute_answer();")
                    && !b["diagnostics"].to_string().contains("undefined_value")
                    && b["eglot"].as_str().is_some_and(|n| n.contains("clangd"))
                    && b["codex"] == true
            })
        });
        (before, completions, after)
    })
    .await;
    let main = buffer(&before, "main.c").unwrap();
    assert_eq!(main["codex"], true, "{main:#}");
    assert!(
        completions.to_string().contains("compute_answer"),
        "clangd's completions: {completions:#}"
    );
    let main = buffer(&after, "main.c").unwrap();
    assert_eq!(main["modified"], false, "{main:#}");
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("main.c")).unwrap(),
        main["text"].as_str().unwrap()
    );
    assert_eq!(after["last_turn"]["status"], "completed", "{after:#}");
    assert_doc_settings_reached_the_app_server(&fixture);
}

fn python_fixture_rules() -> Vec<Rule> {
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
    rules
}

fn write_python_workspace(ws: &Path) {
    std::fs::create_dir_all(ws.join(".git")).unwrap();
    std::fs::write(
        ws.join("main.py"),
        "# first line\nprint('emacs region text')\n# third line\n",
    )
    .unwrap();
}

/// The region goes along as context; the reply streams into *codex* and the progress into
/// `codex-status`; the agent's edit (approved) merges with an unsaved edit of the buffer.
/// In main.py: types an unsaved edit on line 1, asks about line 2, accepts the agent's edit
/// and waits until it is in the buffer; the state once it is. `photograph`: take the docs'
/// pictures of the approval and the edit (`Tmux::screenshot`).
async fn ask_the_region_beside_an_unsaved_edit(fixture: &Fixture, photograph: bool) -> Value {
    let ws = fixture.workspace.clone();
    let env = fixture.env();
    blocking(move || {
        let emacs = Emacs::start(env, &ws, &["emacs-init"], "main.py");
        emacs.eval(
            "(with-current-buffer \"main.py\"
               (goto-char (point-min)) (end-of-line) (insert \" (unsaved)\")
               (forward-line 1)
               (let ((beg (point))) (end-of-line)
                 (drive-later #'codex-ask \"emacs region ask\" beg (point))))",
        );
        emacs.wait_approval("main.py");
        if photograph {
            emacs.tmux.screenshot("emacs-approval");
        }
        emacs.answer("Accept");
        emacs.wait_turns(1);
        let state = emacs.wait_state("the edit in the buffer", |s| {
            buffer(s, "main.py").is_some_and(|b| {
                b["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("edited by Codex")
            })
        });
        if photograph {
            emacs.tmux.screenshot("emacs-edit");
        }
        state
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_about_the_region_shows_progress_and_the_reply_and_merges_the_edit() {
    let _one = one_at_a_time().await;
    let fixture = Fixture::new(python_fixture_rules()).await;
    write_python_workspace(&fixture.workspace);
    let state = ask_the_region_beside_an_unsaved_edit(&fixture, true).await;
    let turn = &state["last_turn"];
    assert_eq!(turn["status"], "completed", "{state:#}");
    assert_eq!(turn["finalResponse"], "Emacs reply line one.\nLine two.");
    let progress = state["progress"].as_array().unwrap();
    let kinds: Vec<&str> = progress.iter().filter_map(|v| v["kind"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"begin"), "{progress:#?}");
    assert_eq!(kinds.last(), Some(&"end"), "{progress:#?}");
    // The reply's first line and what the turn cost; the model and the context in the mode
    // line (codex/status).
    let status = state["status"].as_str().unwrap();
    assert!(
        status.starts_with("Codex: Emacs reply line one. — done in ") && status.contains(" tokens"),
        "{status}"
    );
    // The doc's mode-line entry shows it as it is (`0% of context` keeps its `%`).
    assert!(
        state["misc_shown"]
            .as_str()
            .is_some_and(|shown| shown.contains(status) && status.contains("0% of context")),
        "{state:#}"
    );
    assert_eq!(
        state["mode_line"],
        format!("{} · 0% of context", mock_provider::MODEL),
        "{state:#}"
    );
    // As shown: the mode line reads `%` as a construct unless it is doubled.
    assert_eq!(
        state["lighter_shown"],
        format!(" Codex[{} · 0% of context]", mock_provider::MODEL),
        "{state:#}"
    );
    let transcript = state["transcript"].as_str().unwrap();
    assert!(
        transcript.contains("> emacs region ask")
            && transcript.contains("> Emacs reply line one.\n> Line two.")
            && transcript.contains("*completed"),
        "{transcript}"
    );
    assert_eq!(
        buffer(&state, "main.py").unwrap()["text"],
        "# first line (unsaved)\nprint('emacs region text')\n# third line, edited by Codex\n",
        "{state:#}"
    );
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("main.py")).unwrap(),
        "# first line\nprint('emacs region text')\n# third line, edited by Codex\n"
    );
    let sent = provider_text(&fixture);
    assert!(
        sent.contains("main.py") && sent.contains("print('emacs region text')"),
        "no region in the context"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_interrupt_stops_the_turn() {
    let _one = one_at_a_time().await;
    let fixture = Fixture::new(python_fixture_rules()).await;
    let ws = fixture.workspace.clone();
    write_python_workspace(&ws);
    let env = fixture.env();
    let state = blocking(move || {
        let emacs = Emacs::start(env, &ws, &["emacs-init"], "main.py");
        emacs.ask("hang forever");
        emacs.wait_state("the turn's progress", |s| {
            s["progress"].to_string().contains("\"begin\"")
        });
        emacs.tmux.keys(&["M-x"]);
        emacs.tmux.type_text("codex-interrupt");
        emacs.tmux.keys(&["Enter"]);
        emacs.wait_turns(1);
        emacs.state()
    })
    .await;
    assert_eq!(state["last_turn"]["status"], "interrupted", "{state:#}");
    assert_eq!(state["status"], "Codex: interrupted", "{state:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_shows_as_flymake_diagnostics_with_actions_and_clears() {
    let _one = one_at_a_time().await;
    let fixture = Fixture::new(python_fixture_rules()).await;
    let ws = fixture.workspace.clone();
    write_python_workspace(&ws);
    let main_py = ws.join("main.py");
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
    let env = fixture.env();
    let (state, actions, cleared) = blocking(move || {
        let emacs = Emacs::start(env, &ws, &["emacs-init"], "main.py");
        emacs.tmux.keys(&["M-x"]);
        emacs.tmux.type_text("codex-review");
        emacs.tmux.keys(&["Enter"]);
        emacs.wait_turns(1);
        let state = emacs.wait_state("the findings in Flymake", |s| {
            buffer(s, "main.py").is_some_and(|b| b["diagnostics"].as_array().is_some_and(|d| d.len() == 2))
        });
        // The actions codex-code-actions offers on line 2.
        let actions = emacs.eval(
            "(with-current-buffer \"main.py\"
               (goto-char (point-min)) (forward-line 1)
               (mapcar (lambda (a) (plist-get a :title))
                       (jsonrpc-request (codex--server) :textDocument/codeAction
                         (list :textDocument (list :uri codex--uri)
                               :range (list :start (codex--pos-to-lsp (line-beginning-position))
                                            :end (codex--pos-to-lsp (line-end-position)))
                               :context (list :diagnostics (codex--lsp-diagnostics-in
                                                             (line-beginning-position) (line-end-position)))))))",
        );
        emacs.tmux.keys(&["M-x"]);
        emacs.tmux.type_text("codex-clear-review");
        emacs.tmux.keys(&["Enter"]);
        let cleared = emacs.wait_state("the findings cleared", |s| {
            buffer(s, "main.py").is_some_and(|b| b["diagnostics"].as_array().is_some_and(|d| d.is_empty()))
        });
        (state, actions, cleared)
    })
    .await;
    let mut seen: Vec<(u64, String, String)> = buffer(&state, "main.py").unwrap()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["type"].as_str().unwrap().to_string(),
                d["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!((seen[0].0, seen[0].1.as_str()), (2, ":warning"), "{seen:?}");
    assert!(
        seen[0]
            .2
            .starts_with("codex [codex.review]: [P1] Debug print left in"),
        "{seen:?}"
    );
    assert_eq!((seen[1].0, seen[1].1.as_str()), (3, ":note"), "{seen:?}");
    let actions = actions["value"].to_string();
    assert!(
        actions.contains("Codex: Fix this finding") && actions.contains("Codex: Dismiss"),
        "{actions}"
    );
    assert!(buffer(&cleared, "main.py").is_some());
}

fn turn_rules() -> Vec<Rule> {
    let mut rules = support::rules();
    rules.push(Rule::new(
        "emacs provider fails",
        vec![Reply::exec("ls"), Reply::HttpError(400)],
    ));
    rules.push(Rule::new(
        "emacs slow first",
        vec![Reply::slow_text(
            "First reply, streamed slowly to its very end.",
            Duration::from_millis(150),
        )],
    ));
    rules.push(Rule::new(
        "emacs quick second",
        vec![Reply::text("Second reply.")],
    ));
    rules
}

/// The provider fails mid-turn (after a command ran): the turn ends `failed`, and the user
/// sees why in *codex*, in `codex-status` and in the echo area.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_failing_mid_turn_ends_the_turn_saying_why() {
    let _one = one_at_a_time().await;
    let fixture = Fixture::new(turn_rules()).await;
    let ws = fixture.workspace.clone();
    write_python_workspace(&ws);
    let env = fixture.env();
    let state = blocking(move || {
        let emacs = Emacs::start(env, &ws, &["emacs-init"], "main.py");
        emacs.ask("emacs provider fails");
        // `ls` runs (the doc's `untrusted` asks first), then the provider fails.
        emacs.wait_approval("ls");
        emacs.answer("Accept");
        emacs.wait_turns(1);
        emacs.state()
    })
    .await;
    let turn = &state["last_turn"];
    assert_eq!(turn["status"], "failed", "{state:#}");
    let status = state["status"].as_str().unwrap();
    assert!(status.starts_with("Codex: failed"), "{status}");
    let transcript = state["transcript"].as_str().unwrap();
    let end = transcript
        .find("*failed")
        .unwrap_or_else(|| panic!("no failed end:\n{transcript}"));
    assert!(
        transcript[end..].contains("**Error:**") && transcript[end..].contains("400"),
        "the transcript does not say why: {transcript}"
    );
    assert!(
        state["messages"]
            .as_str()
            .unwrap()
            .contains("Codex: the turn failed"),
        "{state:#}"
    );
}

/// A second ask while a turn streams: each reply stays under its own prompt in *codex*,
/// each with its end line (the first reply no longer runs into the second's header).
/// Today the server starts the second ask into the running turn and the first never ends;
/// issue 15 item 5 (what a second ask does) is another helper's, server-side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ask_during_a_turn_keeps_each_reply_under_its_prompt() {
    let _one = one_at_a_time().await;
    let fixture = Fixture::new(turn_rules()).await;
    let ws = fixture.workspace.clone();
    write_python_workspace(&ws);
    let env = fixture.env();
    let state = blocking(move || {
        let emacs = Emacs::start(env, &ws, &["emacs-init"], "main.py");
        emacs.ask("emacs slow first");
        emacs.wait_state("the first reply streaming", |s| {
            s["transcript"]
                .as_str()
                .is_some_and(|t| t.contains("First reply"))
        });
        emacs.ask("emacs quick second");
        emacs.wait_turns(2);
        emacs.state()
    })
    .await;
    let transcript = state["transcript"].as_str().unwrap();
    let first = transcript.find("> emacs slow first").expect(transcript);
    let second = transcript.find("> emacs quick second").expect(transcript);
    let first_reply = transcript
        .find("> First reply, streamed slowly to its very end.")
        .unwrap_or_else(|| panic!("the first reply is broken up: {transcript}"));
    let second_reply = transcript.find("> Second reply.").expect(transcript);
    assert!(first < first_reply && first_reply < second, "{transcript}");
    assert!(second < second_reply, "{transcript}");
    assert_eq!(transcript.matches("*completed").count(), 2, "{transcript}");
}

/// codex.el byte-compiles in Emacs 30 without a warning (an unbalanced form, a free
/// variable or a misnamed function shows here before a user loads it).
#[test]
fn codex_el_byte_compiles_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("codex.el");
    std::fs::copy(repo_path("editors/emacs/codex.el"), &copy).unwrap();
    let out = Command::new(editor("emacs"))
        .args([
            "--batch",
            "-Q",
            "--eval",
            "(setq byte-compile-error-on-warn t)",
        ])
        .args(["-f", "batch-byte-compile"])
        .arg(&copy)
        .output()
        .expect("run emacs");
    assert!(
        out.status.success() && dir.path().join("codex.elc").exists(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// After Emacs restarts, `M-x codex-history` shows the workspace's thread: the earlier
/// prompt and reply are back in *codex*.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_codex_history_shows_the_thread() {
    let _one = one_at_a_time().await;
    let mut rules = support::rules();
    rules.push(Rule::new(
        "emacs remember this",
        vec![Reply::text("I will remember it.")],
    ));
    let fixture = Fixture::new(rules).await;
    let ws = fixture.workspace.clone();
    write_python_workspace(&ws);
    let env = fixture.env();
    let state = blocking(move || {
        let first = Emacs::start(env.clone(), &ws, &["emacs-init"], "main.py");
        first.ask("emacs remember this");
        first.wait_turns(1);
        drop(first);
        let second = Emacs::start(env, &ws, &["emacs-init"], "main.py");
        second.tmux.keys(&["M-x"]);
        second.tmux.type_text("codex-history");
        second.tmux.keys(&["Enter"]);
        second.wait_state("the thread in *codex*", |s| {
            s["transcript"]
                .as_str()
                .is_some_and(|t| t.contains("I will remember it."))
        })
    })
    .await;
    let transcript = state["transcript"].as_str().unwrap();
    assert!(
        transcript.contains("> emacs remember this") && transcript.contains("*completed"),
        "{transcript}"
    );
}

/// Issue 16.10 / 18.1: *codex* shows codex-lsp's transcript, only displayed by codex.el. A
/// turn that runs a command and adds a file shows as the server renders it (the command's
/// exit code and output, the diff, the quoted reply, the footer) while it runs and at its
/// end; after Emacs restarts `M-x codex-history` shows it again from the thread's history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transcript_is_the_servers_live_and_after_a_restart() {
    let _one = one_at_a_time().await;
    let mut rules = support::rules();
    rules.push(support::transcript_rule());
    let fixture = Fixture::new(rules).await;
    let ws = fixture.workspace.clone();
    write_python_workspace(&ws);
    let env = fixture.env();
    let (live, reopened) = blocking(move || {
        let first = Emacs::start(env.clone(), &ws, &["emacs-init"], "main.py");
        first.ask(support::TRANSCRIPT_PROMPT);
        // The doc's cautious settings ask for the command and for the file.
        first.wait_approval("ran-the-command");
        first.answer("Accept");
        first.wait_approval("notes.txt");
        first.answer("Accept");
        let streaming = first.wait_state("the reply streaming into *codex*", |s| {
            s["transcript"]
                .as_str()
                .is_some_and(|t| t.contains("> Transcript reply"))
        });
        first.wait_turns(1);
        let live = first.state();
        assert!(
            streaming["turns"].as_array().unwrap().is_empty()
                && streaming["transcript"]
                    .as_str()
                    .unwrap()
                    .contains("#### Ran · exit 0"),
            "not live: {streaming:#}"
        );
        drop(first);
        let second = Emacs::start(env, &ws, &["emacs-init"], "main.py");
        second.tmux.keys(&["M-x"]);
        second.tmux.type_text("codex-history");
        second.tmux.keys(&["Enter"]);
        let reopened = second.wait_state("the thread in *codex*", |s| {
            s["transcript"]
                .as_str()
                .is_some_and(|t| t.contains("*completed"))
        });
        (live, reopened)
    })
    .await;
    assert_eq!(live["last_turn"]["status"], "completed", "{live:#}");
    support::assert_server_transcript(live["transcript"].as_str().unwrap(), true);
    let transcript = reopened["transcript"].as_str().unwrap();
    support::assert_server_transcript(transcript, false);
    assert!(
        transcript.starts_with("# "),
        "the thread's title: {transcript}"
    );
}

/// Issue 14, item 4, in the editor that normalises: Emacs opens a file with a UTF-8 BOM and
/// CRLF line ends as a buffer without the BOM and with LF (eglot sends that text). Compared
/// with the raw bytes, the untouched lines looked like unsaved edits, the agent's change
/// became a conflict and never reached the buffer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bom_and_crlf_file_takes_the_agents_edit_like_any_other() {
    let _one = one_at_a_time().await;
    let fixture = Fixture::new(python_fixture_rules()).await;
    write_python_workspace(&fixture.workspace);
    let main_py = fixture.workspace.join("main.py");
    std::fs::write(
        &main_py,
        "\u{FEFF}# first line\r\nprint('emacs region text')\r\n# third line\r\n",
    )
    .unwrap();
    let state = ask_the_region_beside_an_unsaved_edit(&fixture, false).await;
    assert_eq!(state["last_turn"]["status"], "completed", "{state:#}");
    assert_eq!(
        buffer(&state, "main.py").unwrap()["text"],
        "# first line (unsaved)\nprint('emacs region text')\n# third line, edited by Codex\n",
        "{state:#}"
    );
    let on_disk = std::fs::read_to_string(&main_py).unwrap();
    assert!(
        on_disk.starts_with('\u{FEFF}') && on_disk.contains("# third line, edited by Codex"),
        "{on_disk:?}"
    );
    let messages = state.to_string();
    assert!(
        !messages.contains("unsaved edits") && !messages.contains("could not be updated"),
        "{state:#}"
    );
    let sent = provider_text(&fixture);
    assert!(
        sent.contains("(unsaved)"),
        "the real unsaved edit still goes to the model"
    );
}

/// codex.el is a proper package (issue 19): `package-install-file` on it, in a fresh
/// package directory with no archive reachable, installs it (its headers parse, the
/// `Package-Requires` are met by what Emacs ships: jsonrpc), byte-compiles it without a
/// warning, and makes `global-codex-mode` an autoload before `(require 'codex)` works; and
/// checkdoc finds nothing to say.
#[test]
fn codex_el_installs_with_package_install_file() {
    let home = EditorHome::new();
    let elpa = home.path().join("elpa");
    let form = format!(
        r#"(progn
  (setq package-user-dir {elpa} package-archives nil)
  (package-initialize)
  (package-install-file {file})
  (let ((desc (cadr (assq 'codex package-alist))))
    (princ (format "installed %s\n" (package-version-join (package-desc-version desc))))
    (princ (format "requires %S\n" (package-desc-reqs desc))))
  (princ (format "autoload %S\n" (autoloadp (symbol-function 'global-codex-mode))))
  (require 'codex)
  (princ (format "feature %S\n" (featurep 'codex)))
  (require 'checkdoc)
  (checkdoc-file {file}))"#,
        elpa = lisp_string(&elpa.display().to_string()),
        file = lisp_string(&repo_path("editors/emacs/codex.el").display().to_string()),
    );
    let out = Command::new(editor("emacs"))
        .args(["-Q", "--batch", "--eval", &form])
        .env("HOME", home.path())
        .output()
        .expect("run emacs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for line in [
        "installed 0.1.0",
        "autoload t",
        "feature t",
        "requires ((emacs (29 1)) (jsonrpc (1 0 16)))",
    ] {
        assert!(stdout.contains(line), "no `{line}`:\n{stdout}\n{stderr}");
    }
    // The byte compiler's and checkdoc's warnings for codex.el itself (not the generated
    // -pkg.el).
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("codex.el:"))
        .collect();
    assert!(warned.is_empty(), "{}", warned.join("\n"));
    assert!(
        elpa.join("codex-0.1.0/codex.elc").is_file(),
        "not compiled:\n{stderr}"
    );
}

/// The file the keep-or-undo test's turn changes in two hunks (lines 2 and 4).
const UNDO_BEFORE: &str = "alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\n";

/// The text of `name`'s buffer in `state`.
fn buffer_text(state: &Value, name: &str) -> String {
    buffer(state, name)
        .and_then(|b| b["text"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Issue 17 in Emacs: after a turn changed two hunks of the open undo.txt, the user edits its
/// last line (unsaved); `M-x codex-code-actions` on the first hunk, "Codex: Revert this
/// change" picked in the minibuffer, brings its line back while the user's edit stays;
/// `M-x codex-changes` lists both hunks (file:line, "turn 1: +1 −1", the reverted one said so)
/// in *codex-changes*; `M-x codex-undo-turn` undoes the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hunk_reverted_from_the_code_actions_and_the_turn_undone_in_emacs() {
    let _one = one_at_a_time().await;
    let mut rules = support::rules();
    rules.push(Rule::new(
        "emacs undo me",
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
    let fixture = Fixture::new(rules).await;
    let ws = fixture.workspace.clone();
    std::fs::create_dir_all(ws.join(".git")).unwrap();
    std::fs::write(ws.join("undo.txt"), UNDO_BEFORE).unwrap();
    let env = fixture.env();
    let (reverted, listed, undone) = blocking(move || {
        let emacs = Emacs::start(env, &ws, &["emacs-init"], "undo.txt");
        emacs.ask("emacs undo me");
        emacs.wait_approval("undo.txt");
        emacs.answer("Accept");
        emacs.wait_turns(1);
        emacs.wait_state("the agent's edit in the buffer", |s| {
            buffer_text(s, "undo.txt").contains("DELTA by Codex")
        });
        emacs.eval(
            "(with-current-buffer \"undo.txt\"
               (goto-char (point-min)) (forward-line 6) (end-of-line) (insert \" mine\"))",
        );
        emacs.eval(
            "(drive-later (lambda ()
               (select-window (get-buffer-window \"undo.txt\"))
               (goto-char (point-min)) (forward-line 1)
               (call-interactively #'codex-code-actions)))",
        );
        emacs
            .tmux
            .wait_screen("the code actions", WAIT, |s| s.contains("Codex action:"));
        emacs.tmux.type_text("Codex: Revert this change");
        emacs.tmux.keys(&["Enter"]);
        let reverted = emacs.wait_state("the hunk reverted", |s| {
            !buffer_text(s, "undo.txt").contains("BETA by Codex")
        });
        emacs.tmux.keys(&["M-x"]);
        emacs.tmux.type_text("codex-changes");
        emacs.tmux.keys(&["Enter"]);
        let started = Instant::now();
        let listed = loop {
            let state = emacs.eval(
                "(if (get-buffer \"*codex-changes*\")
                     (with-current-buffer \"*codex-changes*\" (buffer-string)) \"\")",
            );
            let text = state["value"].as_str().unwrap_or_default().to_string();
            if text.contains("turn 1") || started.elapsed() > WAIT {
                break text;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        emacs.tmux.keys(&["M-x"]);
        emacs.tmux.type_text("codex-undo-turn");
        emacs.tmux.keys(&["Enter"]);
        let undone = emacs.wait_state("the turn undone", |s| {
            !buffer_text(s, "undo.txt").contains("DELTA by Codex")
        });
        (reverted, listed, undone)
    })
    .await;
    assert_eq!(
        buffer_text(&reverted, "undo.txt"),
        "alpha\nbeta\ngamma\nDELTA by Codex\nepsilon\nzeta\neta mine\n",
        "{reverted:#}"
    );
    let path = fixture.workspace.join("undo.txt");
    let path = path.display();
    assert!(
        listed.contains(&format!(
            "{path}:2: turn 1: +1 −1 (reverted) \"emacs undo me\""
        )) && listed.contains(&format!("{path}:4: turn 1: +1 −1 \"emacs undo me\"")),
        "{listed}"
    );
    assert_eq!(
        buffer_text(&undone, "undo.txt"),
        "alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta mine\n",
        "{undone:#}"
    );
}

/// The lines (1-based) of the `codex-change` overlays in `undo.txt`, sorted, and where their
/// bars are drawn (the `before-string`'s display: `margin` in a terminal) and the left
/// margin of the buffer's window.
const CHANGE_OVERLAYS: &str = "(with-current-buffer \"undo.txt\"
   (let ((ovs (seq-filter (lambda (o) (overlay-get o 'codex-change))
                          (overlays-in (point-min) (point-max)))))
     (list :lines (vconcat (sort (mapcar (lambda (o) (line-number-at-pos (overlay-start o))) ovs) #'<))
           :bars (vconcat (mapcar (lambda (o)
                                    (format \"%S\" (car (get-text-property 0 'display (overlay-get o 'before-string)))))
                                  ovs))
           :margin (or (car (window-margins (get-buffer-window \"undo.txt\"))) 0))))";

/// Issue 17's overlays in Emacs (in a terminal, as a user runs it): after a turn changed
/// lines 2 and 4 of the open undo.txt, codex.el (declaring `experimental.codexChanges`)
/// puts an overlay with a margin bar on each (the bars on screen beside those lines);
/// `M-x codex-keep-change`
/// on line 2 clears its overlay, the text staying the agent's; `M-x codex-revert-change` on
/// line 4 puts the line back and leaves no overlay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_overlays_drawn_and_a_hunk_kept_in_emacs() {
    let _one = one_at_a_time().await;
    let mut rules = support::rules();
    rules.push(Rule::new(
        "emacs keep me",
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
    let fixture = Fixture::new(rules).await;
    let ws = fixture.workspace.clone();
    std::fs::create_dir_all(ws.join(".git")).unwrap();
    std::fs::write(ws.join("undo.txt"), UNDO_BEFORE).unwrap();
    let env = fixture.env();
    let (drawn, screen, kept, reverted) = blocking(move || {
        let emacs = Emacs::start(env, &ws, &["emacs-init"], "undo.txt");
        emacs.ask("emacs keep me");
        emacs.wait_approval("undo.txt");
        emacs.answer("Accept");
        emacs.wait_turns(1);
        let overlays = |what: &str, lines: Value| {
            let started = Instant::now();
            loop {
                let state = emacs.eval(CHANGE_OVERLAYS);
                if state["value"]["lines"] == lines {
                    return state;
                }
                if started.elapsed() > WAIT {
                    panic!("timed out waiting for {what}: {state:#}");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        let drawn = overlays("the two changes' overlays", serde_json::json!([2, 4]));
        let screen = emacs.tmux.wait_screen("the bars in the margin", WAIT, |s| {
            s.matches('▎').count() == 2
        });
        let at_line = |line: u32| {
            emacs.eval(&format!(
                "(drive-later (lambda ()
                   (select-window (get-buffer-window \"undo.txt\"))
                   (goto-char (point-min)) (forward-line {})))",
                line - 1
            ));
        };
        at_line(2);
        emacs
            .tmux
            .wait_screen("point on line 2", WAIT, |s| s.contains(" L2 "));
        emacs.tmux.keys(&["M-x"]);
        emacs.tmux.type_text("codex-keep-change");
        emacs.tmux.keys(&["Enter"]);
        overlays("the kept change's overlay to go", serde_json::json!([4]));
        let kept = emacs.state();
        at_line(4);
        emacs
            .tmux
            .wait_screen("point on line 4", WAIT, |s| s.contains(" L4 "));
        emacs.tmux.keys(&["M-x"]);
        emacs.tmux.type_text("codex-revert-change");
        emacs.tmux.keys(&["Enter"]);
        emacs.wait_state("the change reverted", |s| {
            !buffer_text(s, "undo.txt").contains("DELTA by Codex")
        });
        let reverted = overlays("no overlay left", serde_json::json!([]));
        (drawn, screen, kept, reverted)
    })
    .await;
    assert_eq!(
        drawn["value"]["bars"],
        serde_json::json!(["(margin left-margin)", "(margin left-margin)"]),
        "{drawn:#}"
    );
    // Widened for the bars (Flymake may have widened it already in a terminal).
    assert!(drawn["value"]["margin"].as_u64() >= Some(1), "{drawn:#}");
    let bar_lines: Vec<&str> = screen.lines().filter(|l| l.contains('▎')).collect();
    assert!(
        bar_lines[0].contains("BETA by Codex") && bar_lines[1].contains("DELTA by Codex"),
        "{screen}"
    );
    assert_eq!(
        buffer_text(&kept, "undo.txt"),
        "alpha\nBETA by Codex\ngamma\nDELTA by Codex\nepsilon\nzeta\neta\n",
        "{kept:#}"
    );
    assert_eq!(
        buffer_text(&reverted, "undo.txt"),
        "alpha\nBETA by Codex\ngamma\ndelta\nepsilon\nzeta\neta\n",
        "{reverted:#}"
    );
}

/// codex.el as a package archive checks a submission: package-lint (Debian's
/// elpa-package-lint), checkdoc and a byte-compile with warnings as errors, all clean
/// (`tests/editors/emacs/lint.el` prints each finding).
#[test]
fn codex_el_passes_package_lint_checkdoc_and_a_strict_byte_compile() {
    let package_lint = editor("package-lint");
    let out = Command::new(editor("emacs"))
        .args(["--batch", "-Q", "-l"])
        .arg(repo_path("tests/editors/emacs/lint.el"))
        .arg(package_lint.parent().unwrap())
        .arg(repo_path("editors/emacs/codex.el"))
        .output()
        .expect("run emacs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // package-lint's own compile warnings as it loads are not findings about codex.el.
    let findings: Vec<&str> = stderr.lines().filter(|l| l.contains("codex.el:")).collect();
    assert!(
        out.status.success() && findings.is_empty(),
        "{:?}\n{}",
        out.status,
        findings.join("\n")
    );
}
