//! The app-server's process tree. The runtime most users have, npm's `@openai/codex`, is a
//! Node wrapper that starts the native binary as its own child
//! (scripts/install-npm-runtime.sh installs the tested release): codex-lsp must end that
//! whole tree, and a turn's waiting answer must never wait on the pipes a surviving
//! process (one that left the tree) still holds.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{progress_capabilities, rules, Fixture, Spawn};

/// Every process below `pid`, from /proc.
fn descendants(pid: u32) -> BTreeSet<i32> {
    let mut found = BTreeSet::new();
    let mut queue = vec![pid as i32];
    while let Some(parent) = queue.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{parent}/task"))
            .into_iter()
            .flatten()
            .flatten();
        for task in tasks {
            let Ok(children) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            for child in children.split_whitespace().filter_map(|p| p.parse().ok()) {
                if found.insert(child) {
                    queue.push(child);
                }
            }
        }
    }
    found
}

/// Whether `pid` still runs (a zombie waiting for a reaper has ended).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "pid (comm) S …": the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

fn command_line(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

fn npm_codex() -> Option<std::path::PathBuf> {
    let found = support::npm_runtime_path();
    if found.is_none() {
        eprintln!(
            "\n\n*** SKIPPED: npm's @openai/codex is not installed; run \
             scripts/install-npm-runtime.sh (scripts/test.sh does) ***\n\n"
        );
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_turn_answers_the_waiting_ask_and_ends_the_npm_process_tree() {
    let Some(codex) = npm_codex() else { return };
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture
        .editor(
            json!({ "codexPath": codex.to_str().unwrap() }),
            progress_capabilities(),
        )
        .await;

    // A turn that runs until something ends it, with an editor request waiting on it.
    let (_, waiting) = editor
        .start_request(
            "workspace/executeCommand",
            json!({ "command": "codex.ask",
                    "arguments": [{ "prompt": "hang forever", "wait": true }] }),
        )
        .await;
    editor
        .wait_notification("the turn running", |n| {
            n["method"] == "$/progress" && n["params"]["value"]["kind"] == "begin"
        })
        .await;
    // codex.status says which runtime runs, what it is and why it was chosen.
    let status = editor.command("codex.status", json!({})).await.unwrap();
    let runtime = &status["appServer"]["runtime"];
    assert_eq!(runtime["path"], codex.to_str().unwrap(), "{status:#}");
    assert_eq!(
        runtime["package"], "npm package @openai/codex",
        "{status:#}"
    );
    assert_eq!(runtime["source"], "setting", "{status:#}");
    assert!(
        runtime["why"].as_str().unwrap().contains("codexPath"),
        "{status:#}"
    );
    assert!(
        status["appServer"]["version"]
            .as_str()
            .is_some_and(|v| v != codex_lsp::runtime::PINNED_VERSION),
        "npm's release is not the pinned one: {status:#}"
    );
    let tree = descendants(editor.pid);
    let lines: Vec<String> = tree
        .iter()
        .map(|p| format!("{p}: {}", command_line(*p)))
        .collect();
    // The wrapper (node) and the native binary it started.
    assert!(
        tree.iter().any(|p| command_line(*p).contains("node"))
            && tree
                .iter()
                .any(|p| command_line(*p).contains("vendor")
                    && command_line(*p).contains("app-server")),
        "expected node and the native codex below codex-lsp: {lines:#?}"
    );

    let (_, shutdown) = editor.start_request("shutdown", Value::Null).await;
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("shutdown leaves the waiting codex.ask unanswered")
        .unwrap();
    let took = started.elapsed();
    assert!(
        answer.get("result").is_some() || answer.get("error").is_some(),
        "{answer:#}"
    );
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown answered")
        .unwrap();
    eprintln!("the waiting ask was answered {took:?} after shutdown: {answer}");

    // Nothing codex-lsp started outlives it: not the wrapper, not the native binary.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<String> = tree
            .iter()
            .filter(|p| running(**p))
            .map(|p| format!("{p}: {}", command_line(*p)))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after shutdown: {left:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    editor.notify("exit", Value::Null).await;
    assert!(editor
        .wait_exit(Duration::from_secs(10))
        .await
        .is_some_and(|s| s.success()));
}

/// Kills the process whose pid the file holds (test cleanup, even when the test fails).
struct KillOnDrop(std::path::PathBuf);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_the_waiting_ask_even_when_an_escaped_process_holds_the_pipes() {
    let fixture = Fixture::new(rules()).await;
    // A wrapper whose helper leaves the process group (a new session) with the app-server's
    // stdout and stderr: no kill of ours reaches it, so the pipes stay open after shutdown.
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("escaped.pid");
    let _cleanup = KillOnDrop(pid_file.clone());
    let wrapper = dir.path().join("codex");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nsetsid sleep 600 </dev/null &\necho $! > '{}'\nexec '{}' \"$@\"\n",
            pid_file.display(),
            support::runtime_path().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut editor = fixture
        .editor_with(
            Spawn::default_log(),
            json!({ "codexPath": wrapper.to_str().unwrap() }),
            progress_capabilities(),
        )
        .await;
    let (_, waiting) = editor
        .start_request(
            "workspace/executeCommand",
            json!({ "command": "codex.ask",
                    "arguments": [{ "prompt": "hang forever", "wait": true }] }),
        )
        .await;
    editor
        .wait_notification("the turn running", |n| {
            n["method"] == "$/progress" && n["params"]["value"]["kind"] == "begin"
        })
        .await;
    assert!(pid_file.exists(), "the wrapper did not start its helper");

    let (_, shutdown) = editor.start_request("shutdown", Value::Null).await;
    let answer = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the waiting codex.ask waits on pipes an escaped process holds")
        .unwrap();
    assert_eq!(answer["result"]["status"], "failed", "{answer:#}");
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown answered")
        .unwrap();
    editor.notify("exit", Value::Null).await;
    assert!(editor
        .wait_exit(Duration::from_secs(10))
        .await
        .is_some_and(|s| s.success()));
}

/// `codex-lsp doctor --self-test` with npm's runtime: a real turn, and the runtime named.
#[test]
fn doctor_names_the_npm_runtime_and_passes_its_self_test() {
    let Some(codex) = npm_codex() else { return };
    // A provider that needs no account, as tests/doctor.rs does: not logged in to OpenAI is
    // "not ready", rightly, and is not what this test is about.
    let home = tempfile::tempdir().unwrap();
    mock_provider::write_codex_home(home.path(), "http://127.0.0.1:9/v1").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_codex-lsp"))
        .args(["doctor", "--self-test"])
        .env("CODEX_HOME", home.path())
        .env("CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG", "1")
        .env("CODEX_LSP_CODEX_PATH", &codex)
        .output()
        .expect("run codex-lsp doctor");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("npm package @openai/codex; used because $CODEX_LSP_CODEX_PATH names it"),
        "{text}"
    );
    assert!(text.contains("all checks passed"), "{text}");
}
