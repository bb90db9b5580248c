//! Kakoune 2022.10.31 with kakoune-lsp 22 in tmux, configured with the kakrc snippet of
//! `docs/editors/kakoune.md` (verbatim), the built codex-lsp, the real app-server and the
//! scripted provider. Keys go in with send-keys; what Kakoune shows is read with
//! capture-pane.

mod editor_support;
mod support;

use std::path::Path;
use std::time::Duration;

use editor_support::{codex_lsp, doc_snippet, editor, EditorHome, Tmux};
use mock_provider::{PatchBuilder, Reply, Rule};
use support::Fixture;

const SCREEN_WAIT: Duration = Duration::from_secs(30);
const DOC: &str = "docs/editors/kakoune.md";

fn kakoune_rules() -> Vec<Rule> {
    let mut rules = support::rules();
    rules.push(Rule::new(
        "greet the kakoune world",
        vec![
            PatchBuilder::new()
                .update("main.c", "// first line", "// first line, edited by Codex")
                .into_reply(),
            // A pause before the reply: the turn's end (an info box) comes after Kakoune's
            // question about the file changed on disk, which the test answers first.
            Reply::Text {
                chunks: vec![String::new(), "Kakoune turn finished.".into()],
                delay: Duration::from_millis(1500),
            },
        ],
    ));
    rules.push(Rule::new(
        "kakoune may touch",
        vec![
            Reply::exec_escalated("touch kakoune-accepted.txt", "the test wants it"),
            Reply::text("made it from the menu"),
        ],
    ));
    rules.push(Rule::new(
        "kakoune wants to touch",
        vec![
            Reply::exec_escalated("touch declined.txt", "the test wants it"),
            Reply::text("ok, not made"),
        ],
    ));
    rules
}

/// A C file: kakoune-lsp runs every server of a buffer's filetype and blocks the buffer when
/// one is missing, and clangd (C's default) is installed with the editors, unlike pylsp.
fn write_workspace(workspace: &Path) {
    std::fs::create_dir_all(workspace.join(".git")).unwrap();
    std::fs::write(
        workspace.join("main.c"),
        "// first line\n// please greet the kakoune world\n// kakoune may touch\nint main(void) { return 0; }\n// last line\n",
    )
    .unwrap();
}

struct Session {
    tmux: Tmux,
    home: EditorHome,
}

/// kak-lsp daemonizes (a session of its own, out of the pane's process group, which the Tmux
/// kills): its process group (it, codex-lsp, clangd; the app-server dies with codex-lsp) is
/// ended here, found by the pid files it leaves in XDG_RUNTIME_DIR/kakoune-lsp/SESSION.
impl Drop for Session {
    fn drop(&mut self) {
        let sessions = self.home.path().join("run/kakoune-lsp");
        let pid_files = std::fs::read_dir(sessions)
            .into_iter()
            .flatten()
            .flatten()
            .map(|session| session.path().join("pid"));
        for pid_file in pid_files {
            let pid = std::fs::read_to_string(&pid_file).unwrap_or_default();
            if let Ok(pid) = pid.trim().parse::<i32>() {
                // Its process group is its parent's (it forks twice): end both.
                let group = unsafe { libc::getpgid(pid) };
                if group > 0 {
                    editor_support::kill_group(group);
                }
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// Kakoune on `file` with the doc's kakrc, codex-lsp and kak-lsp on PATH (as the doc says).
fn start_kakoune(fixture: &Fixture, file: &str) -> Session {
    let kak = editor("kak");
    let kak_lsp = editor("kak-lsp");
    let home = EditorHome::new();
    let dir = home.config().join("kak");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kakrc"), doc_snippet(DOC, "kakrc")).unwrap();
    let mut env = fixture.env();
    env.extend(home.env());
    let dirs = [
        codex_lsp().parent().unwrap().to_path_buf(),
        kak_lsp.parent().unwrap().to_path_buf(),
    ];
    let path = std::env::join_paths(dirs.into_iter().chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    env.push(("PATH".into(), path));
    let tmux = Tmux::start(home.path(), env, &fixture.workspace, &kak, &[file]);
    tmux.wait_screen("the file in Kakoune", SCREEN_WAIT, |s| s.contains(file));
    Session { tmux, home }
}

/// Escape, alone: a terminal reads Escape followed at once by a key as Alt+key.
fn escape(tmux: &Tmux) {
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
}

/// Selects line `line` (1-based) whole, in normal mode.
fn select_line(tmux: &Tmux, line: usize) {
    escape(tmux);
    tmux.type_text(&format!("{line}g"));
    tmux.keys(&["x"]);
}

/// The user's unsaved edit: " mine" at the end of the last line.
fn edit_last_line(tmux: &Tmux) {
    escape(tmux);
    tmux.keys(&["g", "e"]);
    tmux.keys(&["A"]);
    tmux.type_text(" mine");
    escape(tmux);
    tmux.wait_screen("the user's edit", SCREEN_WAIT, |s| {
        s.contains("// last line mine")
    });
}

/// Runs the recipe's `, c a` on line `line` until kakoune-lsp's menu offers `action` (codex-lsp
/// may not be up yet right after Kakoune starts), then picks it by typing its name.
fn code_action(tmux: &Tmux, line: usize, action: &str) {
    let offered = editor_support::poll(SCREEN_WAIT, || {
        select_line(tmux, line);
        tmux.keys(&["Space", "c", "a"]);
        let seen = editor_support::poll(Duration::from_secs(5), || {
            tmux.screen().contains(action).then_some(())
        });
        if seen.is_none() {
            escape(tmux);
        }
        seen
    });
    assert!(
        offered.is_some(),
        "{action:?} never offered:\n{}",
        tmux.screen()
    );
    pick(tmux, action);
}

/// In an open Kakoune menu, narrows it to `entry` by typing it and takes it.
fn pick(tmux: &Tmux, entry: &str) {
    tmux.type_text(entry);
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["Enter"]);
}

/// Waits for the modeline's bell (a `window/showMessageRequest` queued by kakoune-lsp),
/// opens it with the recipe's `, c y` and picks `answer` from its menu; returns the screen
/// with the question.
fn answer_the_approval(tmux: &Tmux, answer: &str) -> String {
    tmux.wait_screen("the approval's bell in the modeline", SCREEN_WAIT, |s| {
        s.contains('🔔')
    });
    escape(tmux);
    tmux.keys(&["Space", "c", "y"]);
    let asked = tmux.wait_screen("the approval's menu", SCREEN_WAIT, |s| {
        s.contains("Decline") && s.contains("Accept")
    });
    pick(tmux, answer);
    asked
}

/// Runs blocking tmux work off the async runtime (the provider runs on it), one Kakoune at a
/// time (keys sent to an editor starved of CPU have landed on the wrong line).
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static KAKOUNE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    KAKOUNE.lock().await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// "Codex: Explain" from the code-action menu runs a turn whose edit of the open file needs
/// an approval (the doc's read-only sandbox): accepted from Kakoune's menu, the edit lands in
/// the buffer through `workspace/applyEdit` and the user's unsaved edit stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_action_turns_edit_lands_in_the_buffer_beside_an_unsaved_edit() {
    let _one = one_at_a_time().await;
    let fixture = Fixture::new(kakoune_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_kakoune(&fixture, "main.c");
    let screen = blocking(move || {
        let tmux = &session.tmux;
        edit_last_line(tmux);
        code_action(tmux, 2, "Codex: Explain");
        answer_the_approval(tmux, "Accept");
        tmux.wait_screen("the agent's edit in the buffer", SCREEN_WAIT, |s| {
            s.contains("// first line, edited by Codex")
        });
        // The agent also wrote main.c on disk; Kakoune sees it and, the buffer being modified,
        // asks whether to reload: keep the buffer (it has the edit already, and the user's).
        tmux.wait_screen("Kakoune's reload question", SCREEN_WAIT, |s| {
            s.contains("was modified externally")
        });
        tmux.keys(&["n"]);
        // The turn's end, in an info box (the recipe's lsp-handle-progress).
        tmux.wait_screen("the turn's end", SCREEN_WAIT, |s| {
            s.contains("Kakoune turn finished.")
        });
        let screen = tmux.wait_screen("the kept buffer", SCREEN_WAIT, |s| {
            s.contains("// first line, edited by Codex") && s.contains("// last line mine")
        });
        assert!(session.tmux.alive(), "Kakoune is still up");
        screen
    })
    .await;
    assert!(
        screen.contains("// last line mine"),
        "the user's unsaved edit is gone:\n{screen}"
    );
    // The recipe's settings reached the app-server: the model was told its sandbox and
    // approval policy are the doc's.
    let sent = serde_json::to_string(&fixture.provider.requests()).unwrap();
    assert!(
        sent.contains("`sandbox_mode` is `read-only`")
            && sent.contains("`approval_policy` is `unless-trusted`"),
        "the recipe's sandbox and approvalPolicy did not reach the app-server"
    );
    // Unsaved: the file on disk is the agent's (it wrote it), the buffer is both.
    let on_disk = std::fs::read_to_string(fixture.workspace.join("main.c")).unwrap();
    assert!(!on_disk.contains("mine"), "{on_disk}");
}

/// The recipe's `codex-ask` (lsp-execute-command codex.ask) on the selection: the agent
/// wants to run a command; accepted from Kakoune's menu it runs, declined it does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ask_from_the_command_line_and_its_approval_answered_in_kakoune() {
    let _one = one_at_a_time().await;
    let fixture = Fixture::new(kakoune_rules()).await;
    write_workspace(&fixture.workspace);
    let session = start_kakoune(&fixture, "main.c");
    let asked = blocking(move || {
        let tmux = &session.tmux;
        // Until codex-lsp is up, kakoune-lsp has no server to send the command to: retry
        // until the approval's bell rings.
        let rang = editor_support::poll(SCREEN_WAIT, || {
            select_line(tmux, 3);
            tmux.type_text(":codex-ask do what this line says");
            tmux.keys(&["Enter"]);
            editor_support::poll(Duration::from_secs(8), || {
                tmux.screen().contains('🔔').then_some(())
            })
        });
        assert!(rang.is_some(), "no approval asked:\n{}", tmux.screen());
        let asked = answer_the_approval(tmux, "Accept");
        tmux.wait_screen("the turn's end", SCREEN_WAIT, |s| {
            s.contains("made it from the menu")
        });
        // Declined (Escape on the menu), nothing runs.
        select_line(tmux, 1);
        tmux.type_text(":codex-ask kakoune wants to touch");
        tmux.keys(&["Enter"]);
        tmux.wait_screen("the second approval's bell", SCREEN_WAIT, |s| {
            s.contains('🔔')
        });
        escape(tmux);
        tmux.keys(&["Space", "c", "y"]);
        tmux.wait_screen("the second approval's menu", SCREEN_WAIT, |s| {
            s.contains("Decline")
        });
        escape(tmux);
        tmux.wait_screen("the declined turn's end", SCREEN_WAIT, |s| {
            s.contains("ok, not made")
        });
        // The recipe's Space c s: codex.status without arguments, its answer a message.
        escape(tmux);
        tmux.keys(&["Space", "c", "s"]);
        tmux.wait_screen("the status message", SCREEN_WAIT, |s| {
            s.contains("LSP: info from server codex") && s.contains("model gpt-5.5")
        });
        asked
    })
    .await;
    assert!(
        asked.contains("touch kakoune-accepted.txt"),
        "the question does not show the command:\n{asked}"
    );
    assert!(
        fixture.workspace.join("kakoune-accepted.txt").exists(),
        "the accepted command did not run"
    );
    assert!(
        !fixture.workspace.join("declined.txt").exists(),
        "the declined command ran"
    );
    let asked_model = serde_json::to_string(&fixture.provider.requests()).unwrap();
    assert!(
        asked_model.contains("do what this line says") && asked_model.contains("kakoune may touch"),
        "the prompt or the selected line did not reach the model"
    );
}
