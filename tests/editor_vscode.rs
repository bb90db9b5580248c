//! VS Code: the extension in `editors/vscode`, packaged as a .vsix and installed into
//! code-server 4.100.3, driven in headless Chromium through playwright-core
//! (`tests/editors/vscode/drive.mjs`), with the built codex-lsp, the real app-server and the
//! scripted provider. Also runs the extension's unit tests (node's test runner).
//! Everything comes from `scripts/install-vscode.sh`; a missing piece fails the test naming it.

mod editor_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use codex_lsp::mock_provider::{Reply, Rule};
use editor_support::{codex_lsp, installed, repo_path, run_bounded, EditorHome};
use serde_json::Value;
use support::Fixture;

const INSTALL: &str = "scripts/install-vscode.sh";
/// The whole session: code-server, Chromium, three turns. The driver's own deadline is
/// shorter, so it reports what it saw before this kills it.
const LIMIT: Duration = Duration::from_secs(240);
const DRIVER_DEADLINE_MS: u64 = 210_000;
const BUILD_LIMIT: Duration = Duration::from_secs(180);

const MAIN: &str = "first line\nold line\nthird line\n";

/// Builds the .vsix (TypeScript → out/, then vsce) when it is older than its sources; one
/// build at a time, as both tests need out/.
fn build_extension() -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let _one = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let dir = repo_path("editors/vscode");
    for needed in [
        "node_modules/.bin/tsc",
        "node_modules/.bin/vsce",
        "node_modules/playwright-core",
    ] {
        assert!(
            dir.join(needed).exists(),
            "editors/vscode/{needed} is missing: run {INSTALL}"
        );
    }
    let vsix = dir.join("codex-lsp.vsix");
    let built = mtime(&vsix);
    let sources = [
        "src",
        "test",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "README.md",
    ]
    .iter()
    .map(|s| newest(&dir.join(s)))
    .max()
    .flatten();
    let stale = built.is_none() || sources > built || !dir.join("out/test/logic.test.js").exists();
    if stale {
        let npm = installed(INSTALL, "node").with_file_name("npm");
        let mut command = Command::new(npm);
        command
            .args(["run", "--silent", "package"])
            .current_dir(&dir);
        let run = run_bounded(command, BUILD_LIMIT);
        assert!(
            run.status.is_some_and(|s| s.success()) && vsix.is_file(),
            "building the .vsix failed ({:?}):\n{}\n{}",
            run.status,
            run.stdout,
            run.stderr
        );
        eprintln!("built the .vsix in {:.1} s", run.elapsed.as_secs_f64());
    }
    vsix
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn newest(path: &Path) -> Option<SystemTime> {
    if path.is_dir() {
        std::fs::read_dir(path)
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| newest(&e.path()))
            .max()
    } else {
        mtime(path)
    }
}

/// The extension's pure logic (settings, ask arguments, status texts, approval decisions,
/// diff sides, transcript): `node --test` over the compiled unit tests.
#[test]
fn extension_unit_tests_pass() {
    build_extension();
    let node = installed(INSTALL, "node");
    let mut command = Command::new(node);
    command
        .args(["--test", "out/test/"])
        .current_dir(repo_path("editors/vscode"));
    let run = run_bounded(command, Duration::from_secs(60));
    assert!(
        run.status.is_some_and(|s| s.success()),
        "unit tests failed ({:?}):\n{}\n{}",
        run.status,
        run.stdout,
        run.stderr
    );
    // The runner really ran them (a filter or an empty folder would pass with none).
    let passed = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("# pass "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    assert!(
        passed >= 10,
        "only {passed} unit tests passed:\n{}",
        run.stdout
    );
}

async fn fixture() -> Fixture {
    let mut rules = support::rules();
    rules.push(Rule::new(
        "vscode patch main",
        vec![
            Reply::apply_patch_update("main.txt", "old line", "new line"),
            Reply::slow_text(
                "Patched main.txt for VS Code.\nSecond line of the reply.",
                Duration::from_millis(40),
            ),
        ],
    ));
    rules.push(Rule::new(
        "vscode two-line command",
        vec![
            Reply::exec_escalated(
                "echo checking status\ntouch declined.txt",
                "the test wants it",
            ),
            Reply::text("two-line command answered"),
        ],
    ));
    let fixture = Fixture::new(rules).await;
    std::fs::create_dir_all(fixture.workspace.join(".git")).unwrap();
    std::fs::write(fixture.workspace.join("main.txt"), MAIN).unwrap();
    fixture
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the driver's `scenario` in code-server against `fixture`; returns its result.
async fn run_vscode(fixture: &Fixture, scenario: &str) -> Value {
    let vsix = build_extension();
    let code_server = installed(INSTALL, "code_server");
    let chromium = installed(INSTALL, "chromium");
    let node = installed(INSTALL, "node");
    let home = EditorHome::new();
    let scratch = home.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let result_file = home.path().join("result.json");
    let mut command = Command::new(node);
    command
        .arg(repo_path("tests/editors/vscode/drive.mjs"))
        .current_dir(&fixture.workspace)
        .envs(fixture.env())
        .envs(home.env())
        .env("CODEX_TEST_SCENARIO", scenario)
        .env("CODEX_TEST_CODE_SERVER", &code_server)
        .env("CODEX_TEST_CHROMIUM", &chromium)
        .env("CODEX_TEST_EXTENSION_DIR", repo_path("editors/vscode"))
        .env("CODEX_TEST_VSIX", &vsix)
        .env("CODEX_TEST_WORKSPACE", &fixture.workspace)
        .env("CODEX_TEST_SCRATCH", &scratch)
        .env("CODEX_TEST_LSP", codex_lsp())
        .env("CODEX_TEST_RESULT", &result_file)
        .env("CODEX_TEST_DEADLINE_MS", DRIVER_DEADLINE_MS.to_string());
    let run = tokio::task::spawn_blocking(move || run_bounded(command, LIMIT))
        .await
        .unwrap();
    eprintln!("vscode {scenario}: {:.1} s", run.elapsed.as_secs_f64());
    let logs = || {
        ["code-server.log", "codex-lsp.log"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(scratch.join(f)).unwrap_or_default();
                let tail: String = text
                    .chars()
                    .rev()
                    .take(4000)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("--- {f} (tail)\n{tail}")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let text = std::fs::read_to_string(&result_file).unwrap_or_else(|_| {
        panic!(
            "the driver wrote no result ({:?} after {:?})\nstdout: {}\nstderr: {}\n{}",
            run.status,
            run.elapsed,
            run.stdout,
            run.stderr,
            logs()
        )
    });
    let result: Value = serde_json::from_str(&text).unwrap();
    assert!(
        result["error"].is_null() && run.status.is_some_and(|s| s.success()),
        "the VS Code session failed ({:?}): {result:#}\nstderr: {}\n{}",
        run.status,
        run.stderr,
        logs()
    );
    eprintln!(
        "steps: {}\nstatus bar: {}",
        result["steps"], result["statusTexts"]
    );
    result
}

/// In one code-server session: select a line, Ask Codex (palette, input box); the file
/// change opens as a diff view and is accepted from its title bar; the agent's edit lands
/// in the open buffer beside an unsaved edit; a command approval is declined in the modal
/// and the command does not run; Review is handled whether or not codex.review exists, and
/// Clear Review answers; a
/// hanging turn is interrupted by clicking the status bar; New Thread, then Resume Thread
/// from its quick pick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vscode_asks_accepts_a_diff_declines_a_command_interrupts_and_resumes() {
    let fixture = fixture().await;
    let result = run_vscode(&fixture, "session").await;
    let state = &result["state"];

    // The selection went to the model as context: the file, the selected line and its text
    // (as codex-lsp words a ranged ask; JSON-escaped here).
    assert_eq!(
        state["asks"][0]["range"],
        serde_json::json!({ "start": { "line": 1, "character": 0 }, "end": { "line": 1, "character": 8 } }),
        "{state:#}"
    );
    let sent = serde_json::to_string(&fixture.provider.requests()).unwrap();
    assert!(
        sent.contains(r"vscode patch main\n\nFile: main.txt (line 2)\nSelected text:\n")
            && sent.contains(r"\nold line\n"),
        "no selection context: {sent}"
    );

    // The file change was shown as a diff of the real file, before and after, and was not on
    // disk before it was accepted.
    assert_eq!(result["diskBeforeAccept"], MAIN, "{result:#}");
    let opened = strings(&result["diffOpened"]);
    assert_eq!(opened, ["Codex wants to edit main.txt"], "{result:#}");
    let sides: Vec<(String, String)> = result["diffSides"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap_or("").to_string(),
                s["text"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        sides
            .iter()
            .any(|(p, t)| p.ends_with("/before/main.txt") && t == MAIN)
            && sides.iter().any(|(p, t)| p.ends_with("/after/main.txt")
                && t == "first line\nnew line\nthird line\n"),
        "diff sides: {sides:#?}"
    );
    let approvals = state["approvals"].as_array().cloned().unwrap_or_default();
    assert_eq!(approvals.len(), 2, "{state:#}");
    assert_eq!(approvals[0]["kind"], "fileChange");
    assert_eq!(approvals[1]["kind"], "command");
    assert_eq!(state["decisions"][0], "accept", "{state:#}");

    // The agent's edit reached the open buffer (through workspace/applyEdit: the buffer was
    // dirty, so VS Code could not have reloaded it from disk) and the unsaved edit stayed.
    assert_eq!(
        result["mainBuffer"]["text"], "first line\nnew line\nthird line\nunsaved tail",
        "{result:#}"
    );
    assert_eq!(result["mainBuffer"]["dirty"], true);
    assert_eq!(result["mainOnDisk"], "first line\nnew line\nthird line\n");

    // The status bar showed the turn: approval wait and a progress message, then idle.
    let shown = strings(&result["statusTexts"]);
    assert!(
        shown
            .iter()
            .any(|s| s.contains("Codex: waiting for approval")),
        "{shown:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with("Codex: ") && !s.contains("waiting for approval")),
        "no progress message in the status bar: {shown:#?}"
    );
    assert_eq!(result["idleAfterTurns"], "Codex", "{shown:#?}");

    // The file change's notification was shown while it waited, and went away once the
    // diff view answered it.
    assert_eq!(result["changeNotificationShown"], true, "{result:#}");
    assert_eq!(
        result["changeNotificationGone"], true,
        "{}",
        result["notificationCenter"]
    );

    // The command approval: a modal showing every line of the two-line command, with the
    // offered choices and Decline its default (the focused button): Enter declined it,
    // nothing ran.
    let modal = &result["modal"];
    let modal_text = modal["text"].as_str().unwrap_or("");
    assert!(
        modal_text.contains("Codex wants to run a multi-line command (2 lines")
            && modal_text.contains("echo checking status")
            && modal_text.contains("│ touch declined.txt"),
        "{modal:#}"
    );
    let buttons = strings(&modal["buttons"]);
    assert_eq!(modal["focused"], "Decline", "{modal:#}");
    assert!(buttons.iter().any(|b| b == "Decline"), "{buttons:?}");
    assert!(buttons.iter().any(|b| b == "Accept"), "{buttons:?}");
    assert_eq!(state["decisions"][1], "decline", "{state:#}");
    assert!(
        !fixture.workspace.join("declined.txt").exists(),
        "the declined command ran"
    );

    // Both turns completed, and the transcript has the streamed reply.
    let turns = state["turns"].as_array().cloned().unwrap_or_default();
    assert!(turns.len() >= 2, "{state:#}");
    assert_eq!(turns[0]["status"], "completed");
    assert_eq!(turns[1]["status"], "completed");
    assert!(state["events"].as_u64().unwrap_or(0) > 0, "no codex/event");
    let transcript = state["transcript"].as_str().unwrap_or("");
    assert!(
        transcript.contains("## vscode patch main")
            && transcript.contains("Patched main.txt for VS Code.\nSecond line of the reply.")
            && transcript.contains("— completed"),
        "{transcript}"
    );
    // The hanging turn: the status bar showed it running, and a click interrupted it.
    assert!(
        result["runningStatus"]
            .as_str()
            .is_some_and(|s| s.starts_with("Codex: ")),
        "{result:#}"
    );
    assert!(
        turns.iter().any(|t| t["status"] == "interrupted"),
        "{turns:#?}"
    );

    // New Thread, then Resume Thread's quick pick listed the workspace's threads (the two
    // turns' thread at least) and resumed the pick.
    let new_thread = transcript
        .split("(new thread ")
        .nth(1)
        .and_then(|t| t.split(')').next())
        .unwrap_or_default();
    assert!(!new_thread.is_empty(), "{transcript}");
    assert!(
        result["threadPicks"].as_array().is_some_and(|p| p
            .iter()
            .any(|r| r.as_str().unwrap_or("").contains("vscode patch main"))),
        "{result:#}"
    );
    assert!(transcript.contains("(resumed thread "), "{transcript}");

    // Review: a review turn, or the plain message that this codex-lsp has none.
    let messages = strings(&state["messages"]);
    assert!(
        messages.iter().any(|m| m == "no review command") || transcript.contains("## Review"),
        "{messages:?}"
    );
    // Clear Review: codex.clearReview, and how many findings it removed.
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("Codex: cleared ") && m.ends_with(" review finding(s).")),
        "{messages:?}"
    );
}

/// codex.serverPath names nothing: an error that names the install command (with buttons
/// to open the setting and copy the command), and the status bar says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vscode_without_codex_lsp_says_how_to_install_it() {
    let fixture = fixture().await;
    let result = run_vscode(&fixture, "missing").await;
    let toast = result["missing"]["toast"].as_str().unwrap_or("");
    assert!(
        toast.contains("no-such-codex-lsp` was not found")
            && toast.contains("cargo install --path ."),
        "{result:#}"
    );
    let buttons = strings(&result["missing"]["buttons"]);
    assert_eq!(
        buttons,
        ["Open Settings", "Copy Install Command"],
        "{result:#}"
    );
    let shown = strings(&result["statusTexts"]);
    assert!(
        shown.iter().any(|s| s == "Codex: codex-lsp not found"),
        "{shown:#?}"
    );
    assert!(
        result["state"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("cargo install --path .")),
        "{result:#}"
    );
}
