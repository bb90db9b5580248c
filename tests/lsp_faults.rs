//! Faults, end to end: the built `codex-lsp` over stdio against the real app-server (killed,
//! stopped) and the scripted provider; an editor that answers late or never, or goes away;
//! and a fake app-server that rejects a burst of requests as overloaded.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_provider::{Reply, Rule};
use serde_json::{json, Value};
use support::{ask, editing_capabilities, progress_capabilities, rules, Editor, Fixture, Spawn};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn token(turn_id: &str) -> String {
    format!("codex-lsp/turn/{turn_id}")
}

/// Polls `probe` until it holds: for states no editor message announces.
async fn poll_until(what: &str, mut probe: impl FnMut() -> bool) {
    let deadline = Instant::now() + support::WAIT;
    while !probe() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the provider has been asked for a turn whose prompt contains `prompt`: the
/// turn is then really running inside the app-server.
async fn provider_asked(fixture: &Fixture, prompt: &str) {
    poll_until(&format!("the provider to be asked {prompt:?}"), || {
        fixture
            .provider
            .requests()
            .iter()
            .any(|r| r.to_string().contains(prompt))
    })
    .await;
}

fn signal_all(pids: &[i32], signal: i32) {
    for pid in pids {
        unsafe { libc::kill(*pid, signal) };
    }
}

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.contains(") Z "),
        Err(_) => false,
    }
}

/// `pid` and every process below it.
fn process_tree(pid: i32) -> Vec<i32> {
    let mut parents: HashMap<i32, Vec<i32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The command name may hold spaces; the fields after its ')' are fixed.
        let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parents.entry(ppid).or_default().push(child);
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        tree.extend(parents.get(&tree[i]).into_iter().flatten());
        i += 1;
    }
    tree
}

/// The app-servers of `editor` and everything they started.
fn app_server_trees(editor: &Editor) -> Vec<i32> {
    editor
        .app_server_pids()
        .into_iter()
        .flat_map(process_tree)
        .collect()
}

async fn wait_gone(pids: &[i32], within: Duration) -> Vec<i32> {
    let deadline = Instant::now() + within;
    loop {
        let survivors: Vec<i32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if survivors.is_empty() || Instant::now() > deadline {
            return survivors;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The turn's progress ended with a message; returns it.
fn progress_end(editor: &Editor, turn_id: &str) -> String {
    let progress = editor.progress_of(&token(turn_id));
    let last = progress.last().cloned().unwrap_or_default();
    assert_eq!(last["kind"], "end", "{progress:#?}");
    last["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_server_crash_mid_turn_or_between_turns_fails_the_turn_and_the_thread_goes_on() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;

    // Mid-turn: the model is still answering when the app-server dies.
    let (thread_id, turn_id) = ask(&mut editor, json!({ "prompt": "hang forever" })).await;
    provider_asked(&fixture, "hang forever").await;
    let first_servers = editor.app_server_pids();
    assert!(!first_servers.is_empty(), "no app-server child found");
    signal_all(&first_servers, libc::SIGKILL);
    let done = editor.turn_completed(&turn_id).await;
    assert_eq!(done["status"], "failed", "{done:#}");
    let error = done["error"]["message"].as_str().unwrap_or_default();
    assert!(
        error.contains("app-server stopped") && error.contains("resumes the same thread"),
        "the failure says what happened and what comes next: {error}"
    );
    let end = progress_end(&editor, &turn_id);
    assert!(
        end.starts_with("failed:") && end.contains("app-server stopped"),
        "{end}"
    );

    // The next ask runs on the same thread, on a new app-server.
    let (next_thread, next_turn) = ask(&mut editor, json!({ "prompt": "say hello" })).await;
    assert_eq!(next_thread, thread_id, "the thread survives the crash");
    let done = editor.turn_completed(&next_turn).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    let second_servers = editor.app_server_pids();
    assert!(
        !second_servers.is_empty() && second_servers != first_servers,
        "restarted: {second_servers:?} vs {first_servers:?}"
    );

    // Between turns: nothing is running; the next ask restarts it and resumes the thread.
    signal_all(&second_servers, libc::SIGKILL);
    editor.wait_message("app-server stopped").await;
    let (after_thread, after_turn) =
        ask(&mut editor, json!({ "prompt": "say hello once more" })).await;
    assert_eq!(after_thread, thread_id);
    let done = editor.turn_completed(&after_turn).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(done["finalResponse"], "Hello from the mock.\nSecond line.");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_server_crash_during_an_approval_prompt_withdraws_it_and_grants_nothing() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture
        .editor(json!({ "sandbox": "read-only" }), progress_capabilities())
        .await;
    editor.answer_with(support::defer("window/showMessageRequest"));
    let (thread_id, turn_id) = ask(&mut editor, json!({ "prompt": "touch accepted.txt" })).await;
    let prompt = editor
        .wait_for("the approval prompt", || {
            editor
                .server_requests_of("window/showMessageRequest")
                .into_iter()
                .next()
        })
        .await;
    signal_all(&editor.app_server_pids(), libc::SIGKILL);
    let done = editor.turn_completed(&turn_id).await;
    assert_eq!(done["status"], "failed", "{done:#}");
    let withdrawn = editor.wait_message("no longer applies").await;
    assert!(
        withdrawn.contains("touch accepted.txt") && withdrawn.contains("nothing was approved"),
        "the user learns which prompt is void: {withdrawn}"
    );

    // The user clicks Accept on the void prompt; the next ask runs on the same thread.
    editor
        .answer_later(&prompt["id"], json!({ "title": "Accept" }))
        .await;
    let (next_thread, next_turn) = ask(&mut editor, json!({ "prompt": "say hello" })).await;
    assert_eq!(next_thread, thread_id);
    assert_eq!(
        editor.turn_completed(&next_turn).await["status"],
        "completed"
    );
    assert!(
        !fixture.workspace.join("accepted.txt").exists(),
        "an approval the user gave to a dead app-server must never run the command"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_app_server_is_stopped_by_the_watchdog_and_the_thread_goes_on() {
    let fixture = Fixture::new(rules()).await;
    let spawn = Spawn {
        extra_env: vec![("CODEX_LSP_TURN_SILENCE_SECS".into(), "6".into())],
        ..Spawn::default_log()
    };
    let mut editor = fixture
        .editor_with(spawn, json!({}), progress_capabilities())
        .await;
    let (thread_id, turn_id) = ask(&mut editor, json!({ "prompt": "hang forever" })).await;
    provider_asked(&fixture, "hang forever").await;
    let frozen = editor.app_server_pids();
    // The app-server freezes: no event, no answer, but its pipes stay open.
    signal_all(&frozen, libc::SIGSTOP);
    let started = Instant::now();
    let done = editor.turn_completed(&turn_id).await;
    let waited = started.elapsed();
    assert_eq!(done["status"], "failed", "{done:#}");
    let error = done["error"]["message"].as_str().unwrap_or_default();
    assert!(error.contains("stopped answering"), "{error}");
    assert!(
        waited >= Duration::from_secs(5),
        "not before the silence is up: {waited:?}"
    );
    let end = progress_end(&editor, &turn_id);
    assert!(end.contains("stopped answering"), "{end}");
    let survivors = wait_gone(&frozen, Duration::from_secs(10)).await;
    assert!(
        survivors.is_empty(),
        "the frozen app-server is gone: {survivors:?}"
    );

    let (next_thread, next_turn) = ask(&mut editor, json!({ "prompt": "say hello" })).await;
    assert_eq!(next_thread, thread_id);
    assert_eq!(
        editor.turn_completed(&next_turn).await["status"],
        "completed"
    );

    // Frozen between turns: the next ask finds it answering nothing, stops it and starts
    // the turn on a new one.
    let frozen = editor.app_server_pids();
    signal_all(&frozen, libc::SIGSTOP);
    let (after_thread, after_turn) = ask(
        &mut editor,
        json!({ "prompt": "say hello after the freeze" }),
    )
    .await;
    assert_eq!(after_thread, thread_id);
    assert_eq!(
        editor.turn_completed(&after_turn).await["status"],
        "completed"
    );
    let survivors = wait_gone(&frozen, Duration::from_secs(10)).await;
    assert!(
        survivors.is_empty(),
        "the frozen app-server is gone: {survivors:?}"
    );

    // Frozen under a request that is not a turn: it fails when the silence is up, naming
    // why, the hung app-server is stopped, and the next request gets a new one.
    let frozen = editor.app_server_pids();
    signal_all(&frozen, libc::SIGSTOP);
    let started = Instant::now();
    let listed = tokio::time::timeout(
        Duration::from_secs(60),
        editor.command("codex.listThreads", json!({})),
    )
    .await
    .expect("codex.listThreads is answered");
    let waited = started.elapsed();
    let error = listed
        .expect_err("a frozen app-server lists nothing")
        .to_string();
    assert!(error.contains("timed out after 6 s"), "{error}");
    assert!(waited >= Duration::from_secs(5), "{waited:?}");
    let survivors = wait_gone(&frozen, Duration::from_secs(10)).await;
    assert!(
        survivors.is_empty(),
        "the frozen app-server is gone: {survivors:?}"
    );
    let threads = editor
        .command("codex.listThreads", json!({}))
        .await
        .expect("a new app-server lists the threads");
    assert!(threads.to_string().contains(&thread_id), "{threads}");
    editor.shutdown().await;
}

fn edit_rules() -> Vec<Rule> {
    let mut rules = rules();
    rules.push(Rule::new(
        "edit notes",
        vec![
            Reply::apply_patch_update("notes.txt", "two", "TWO by codex"),
            Reply::text("edited notes"),
        ],
    ));
    rules
}

/// A turn edits an open buffer while the editor sits on `workspace/applyEdit`; meanwhile
/// everything else is served. Returns the id of the unanswered applyEdit.
async fn edit_while_the_editor_sits_on_apply_edit(fixture: &Fixture, editor: &mut Editor) -> Value {
    let uri = fixture.file_uri("notes.txt");
    std::fs::write(fixture.workspace.join("notes.txt"), "one\ntwo\nthree\n").unwrap();
    editor.answer_with(|method, _| match method {
        "workspace/applyEdit" => json!(support::DEFER),
        _ => Value::Null,
    });
    editor.open_buffer(&uri, "one\ntwo\nthree\n").await;
    let (_, turn_id) = ask(editor, json!({ "prompt": "edit notes" })).await;
    let apply = editor
        .wait_for("workspace/applyEdit", || {
            editor
                .server_requests_of("workspace/applyEdit")
                .into_iter()
                .next()
        })
        .await;
    // Nothing else waits on the editor's answer.
    let started = Instant::now();
    editor.type_into(&uri, (2, 5), (2, 5), " and a half").await;
    editor
        .command("codex.status", Value::Null)
        .await
        .expect("served while applyEdit waits");
    editor
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 1 } },
                "context": { "diagnostics": [] },
            }),
        )
        .await
        .expect("code actions while applyEdit waits");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered promptly: {:?}",
        started.elapsed()
    );
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("notes.txt")).unwrap(),
        "one\nTWO by codex\nthree\n",
        "disk has the agent's change"
    );
    // The turn ends, and the next one starts and ends, without the editor's answer.
    assert_eq!(editor.turn_completed(&turn_id).await["status"], "completed");
    let (_, next) = ask(editor, json!({ "prompt": "say hello" })).await;
    assert_eq!(editor.turn_completed(&next).await["status"], "completed");
    apply["id"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_that_never_answers_apply_edit_stalls_nothing_and_is_told() {
    let fixture = Fixture::new(edit_rules()).await;
    let spawn = Spawn {
        extra_env: vec![("CODEX_LSP_APPLY_EDIT_TIMEOUT_SECS".into(), "3".into())],
        ..Spawn::default_log()
    };
    let mut editor = fixture
        .editor_with(spawn, json!({}), editing_capabilities())
        .await;
    edit_while_the_editor_sits_on_apply_edit(&fixture, &mut editor).await;
    let told = editor.wait_message("could not be updated").await;
    assert!(
        told.contains("notes.txt") && told.contains("within 3 s"),
        "{told}"
    );
    editor
        .command("codex.status", Value::Null)
        .await
        .expect("still serving");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_answering_apply_edit_after_30_seconds_stalls_nothing_and_is_told() {
    let fixture = Fixture::new(edit_rules()).await;
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    let asked = Instant::now();
    let apply_id = edit_while_the_editor_sits_on_apply_edit(&fixture, &mut editor).await;
    // The default limit (15 s) passes first: the user is told.
    let told = editor.wait_message("could not be updated").await;
    assert!(told.contains("within 15 s"), "{told}");
    tokio::time::sleep(Duration::from_secs(30).saturating_sub(asked.elapsed())).await;
    editor
        .answer_later(&apply_id, json!({ "applied": true }))
        .await;
    editor
        .command("codex.status", Value::Null)
        .await
        .expect("a late answer changes nothing");
    editor.shutdown().await;
}

/// Initializes with `process_id` as the editor's process.
async fn editor_with_process_id(fixture: &Fixture, process_id: u32) -> Editor {
    let mut editor = Editor::start(fixture.env());
    editor
        .request(
            "initialize",
            json!({
                "processId": process_id,
                "rootUri": fixture.workspace_uri(),
                "workspaceFolders": [{ "uri": fixture.workspace_uri(), "name": "ws" }],
                "capabilities": progress_capabilities(),
            }),
        )
        .await
        .expect("initialize");
    editor.notify("initialized", json!({})).await;
    editor
}

/// Starts a turn that keeps running and returns the app-server tree that runs it.
async fn running_turn(fixture: &Fixture, editor: &mut Editor) -> Vec<i32> {
    ask(editor, json!({ "prompt": "hang forever" })).await;
    provider_asked(fixture, "hang forever").await;
    let tree = app_server_trees(editor);
    assert!(!tree.is_empty(), "no app-server child found");
    tree
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_stdin_ends_codex_lsp_and_its_app_server() {
    let fixture = Fixture::new(rules()).await;
    // Idle.
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    poll_until("the app-server to start", || {
        !editor.app_server_pids().is_empty()
    })
    .await;
    let tree = app_server_trees(&editor);
    editor.close_stdin().await;
    assert!(
        editor.wait_exit(Duration::from_secs(15)).await.is_some(),
        "codex-lsp exits when stdin closes"
    );
    let survivors = wait_gone(&tree, Duration::from_secs(10)).await;
    assert!(survivors.is_empty(), "left behind: {survivors:?}");

    // With a turn running.
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let tree = running_turn(&fixture, &mut editor).await;
    editor.close_stdin().await;
    assert!(
        editor.wait_exit(Duration::from_secs(15)).await.is_some(),
        "codex-lsp exits when stdin closes during a turn"
    );
    let survivors = wait_gone(&tree, Duration::from_secs(10)).await;
    assert!(survivors.is_empty(), "left behind: {survivors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_process_dying_ends_codex_lsp_and_its_app_server() {
    let fixture = Fixture::new(rules()).await;
    let mut fake_editor = tokio::process::Command::new("sleep")
        .arg("600")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut editor =
        editor_with_process_id(&fixture, fake_editor.id().expect("the editor's pid")).await;
    let tree = running_turn(&fixture, &mut editor).await;
    // The editor dies; its pipe to codex-lsp stays open (the test holds it).
    fake_editor.kill().await.unwrap();
    assert!(
        editor.wait_exit(Duration::from_secs(15)).await.is_some(),
        "codex-lsp exits when the editor's process is gone"
    );
    let survivors = wait_gone(&tree, Duration::from_secs(10)).await;
    assert!(survivors.is_empty(), "left behind: {survivors:?}");

    // And when codex-lsp itself is killed, its app-server still goes (parent-death signal).
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let tree = running_turn(&fixture, &mut editor).await;
    signal_all(&[editor.pid as i32], libc::SIGKILL);
    editor.wait_exit(Duration::from_secs(15)).await;
    let survivors = wait_gone(&tree, Duration::from_secs(10)).await;
    assert!(survivors.is_empty(), "left behind: {survivors:?}");
}

/// Rejections per request before the fake app-server accepts it.
const REJECTIONS: usize = 3;
const BURST: usize = 2_000;

/// A fake app-server behind a small script that joins the script's stdio to a local socket:
/// it completes the handshake, rejects every `thread/read` [`REJECTIONS`] times with -32001,
/// then answers it with the thread it names. Returns the script and the attempts per thread.
async fn overloaded_app_server(
    dir: &Path,
) -> (std::path::PathBuf, Arc<Mutex<HashMap<String, usize>>>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = dir.join("codex");
    std::fs::write(
        &script,
        format!("#!/bin/bash\nexec 3<>/dev/tcp/127.0.0.1/{port}\ncat <&3 &\nexec cat >&3\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let attempts: Arc<Mutex<HashMap<String, usize>>> = Default::default();
    let counted = attempts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let Ok(message) = serde_json::from_str::<Value>(&line) else {
                        continue;
                    };
                    let (Some(id), Some(method)) = (message.get("id"), message["method"].as_str())
                    else {
                        continue;
                    };
                    let reply = match method {
                        "initialize" => json!({ "id": id, "result": {
                            "userAgent": "codex_lsp/0.163.0 (fake; x86_64)",
                            "codexHome": "/nonexistent",
                        } }),
                        "thread/read" => {
                            let thread = message["params"]["threadId"]
                                .as_str()
                                .unwrap_or("")
                                .to_string();
                            let attempt = {
                                let mut counted = counted.lock().unwrap();
                                let n = counted.entry(thread.clone()).or_default();
                                *n += 1;
                                *n
                            };
                            if attempt <= REJECTIONS {
                                json!({ "id": id, "error": { "code": -32001, "message": "Server overloaded; retry later." } })
                            } else {
                                json!({ "id": id, "result": { "thread": { "id": thread, "turns": [] } } })
                            }
                        }
                        _ => json!({ "id": id, "result": { "data": [] } }),
                    };
                    let mut line = reply.to_string();
                    line.push('\n');
                    if write.write_all(line.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (script, attempts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_2000_requests_answered_overloaded_is_retried_and_none_is_lost() {
    let fixture = Fixture::new(rules()).await;
    let scratch = tempfile::tempdir().unwrap();
    let (fake, attempts) = overloaded_app_server(scratch.path()).await;
    let spawn = Spawn {
        extra_env: vec![("CODEX_LSP_CODEX_PATH".into(), fake.into_os_string())],
        ..Spawn::default_log()
    };
    let mut editor = fixture
        .editor_with(spawn, json!({}), progress_capabilities())
        .await;
    let started = Instant::now();
    let mut answers = Vec::with_capacity(BURST);
    for i in 0..BURST {
        let thread = format!("thread-{i}");
        let (_, rx) = editor
            .start_request(
                "workspace/executeCommand",
                json!({ "command": "codex.readThread", "arguments": [{ "threadId": thread }] }),
            )
            .await;
        answers.push((thread, rx));
    }
    let sent = started.elapsed();
    let mut wrong = Vec::new();
    for (thread, rx) in answers {
        let response = tokio::time::timeout(Duration::from_secs(180), rx)
            .await
            .unwrap_or_else(|_| panic!("no answer for {thread} within 180 s"))
            .expect("codex-lsp closed");
        if response["result"]["thread"]["id"] != thread.as_str() {
            wrong.push((thread, response));
        }
    }
    let took = started.elapsed();
    assert!(
        wrong.is_empty(),
        "{} wrong answers, first: {:#?}",
        wrong.len(),
        wrong.first()
    );
    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(
        attempts.len(),
        BURST,
        "every request reached the app-server"
    );
    assert!(
        attempts.values().all(|n| *n == REJECTIONS + 1),
        "each retried until accepted, never more"
    );
    eprintln!("{BURST} requests × {REJECTIONS} overload answers: sent in {sent:?}, all answered in {took:?}");
    assert!(took < Duration::from_secs(120), "took {took:?}");
    editor.shutdown().await;
}
