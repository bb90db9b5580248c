//! End to end, for the parts of the LSP contract (docs/lsp.md) the other suites leave out:
//! ChatGPT and device-code login, `codex/approval` for editors declaring
//! `experimental.codexApprovals`, file-change approvals as `window/showMessageRequest`,
//! `streamEvents`, settings re-read on `workspace/didChangeConfiguration`, and `logFile`.
//! The built `codex-lsp` over stdio, against the real app-server and the scripted provider.

mod support;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_provider::{Reply, Rule, MODEL};
use serde_json::{json, Value};
use support::{ask, ask_and_wait, progress_capabilities, rules, Editor, Fixture, Spawn, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The `model` of every provider request whose body mentions `marker`.
fn models_asked_about(fixture: &Fixture, marker: &str) -> Vec<String> {
    fixture
        .provider
        .requests()
        .iter()
        .filter(|body| body.to_string().contains(marker))
        .map(|body| body["model"].as_str().unwrap_or("<none>").to_string())
        .collect()
}

/// Polls `codex.status` until `pred` holds for its `settings` (settings are applied on a
/// task after the editor answered, so there is no event to await); bounded by WAIT.
async fn settings_become(editor: &mut Editor, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let status = editor.command("codex.status", json!({})).await.unwrap();
        if pred(&status["settings"]) {
            return status["settings"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "settings never became {what}: {:#}",
            status["settings"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn titles(choices: &Value) -> Vec<String> {
    choices
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {choices:#}"))
        .iter()
        .map(|c| {
            c["title"]
                .as_str()
                .unwrap_or_else(|| panic!("a choice without title: {c:#}"))
                .to_string()
        })
        .collect()
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

/// The processes of `pids` still alive after up to 10 s (a killed app-server takes a moment
/// to go).
async fn survivors(pids: &[i32]) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pids.iter().copied().filter(|p| alive(*p)).collect()
}

// ---------------------------------------------------------------------------------------
// 1. ChatGPT login

/// The only test in this binary that makes the app-server bind 127.0.0.1:1455.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatgpt_login_opens_the_auth_url_externally_and_answers_at_once() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    editor.answer_with(|method, _| match method {
        "window/showDocument" => json!({ "success": true }),
        _ => Value::Null,
    });

    let login = editor
        .command("codex.login", json!({ "method": "chatgpt" }))
        .await
        .unwrap_or_else(|e| panic!("codex.login chatgpt: {e:#}"));
    // Answered at once: the login is still waiting for the browser.
    assert_eq!(login["method"], "chatgpt", "{login:#}");
    assert_eq!(login["status"], "started", "{login:#}");
    let url = login["authUrl"].as_str().expect("authUrl").to_string();
    assert!(
        url.starts_with("https://auth.openai.com/oauth/authorize?"),
        "{url}"
    );
    assert!(
        url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A1455%2Fauth%2Fcallback"),
        "{url}"
    );

    let show = editor
        .wait_for("window/showDocument", || {
            editor
                .server_requests_of("window/showDocument")
                .into_iter()
                .next()
        })
        .await;
    assert_eq!(show["params"]["external"], true, "{show:#}");
    assert_eq!(show["params"]["uri"], url.as_str(), "{show:#}");

    let message = editor.wait_message("ChatGPT login").await;
    assert!(message.contains("127.0.0.1:1455"), "{message}");
    assert!(message.contains("deviceCode"), "{message}");
    assert!(message.contains(&url), "{message}");
    assert_eq!(
        editor.server_requests_of("window/showDocument").len(),
        1,
        "the URL opens once"
    );
    let outcome: Vec<String> = editor
        .shown_messages()
        .into_iter()
        .filter(|m| m.contains("logged in") || m.contains("login failed"))
        .collect();
    assert!(outcome.is_empty(), "nobody logged in: {outcome:?}");

    // The pending login (and its listener) goes with the app-server.
    let pids = editor.app_server_pids();
    assert!(!pids.is_empty(), "no app-server child found");
    editor.shutdown().await;
    let survivors = survivors(&pids).await;
    assert!(survivors.is_empty(), "app-servers survived: {survivors:?}");
}

// ---------------------------------------------------------------------------------------
// 2. Device-code login against a local fake issuer

/// A fake ChatGPT auth issuer for the device-code flow: the first user-code request gets
/// 404 (device code not enabled), later ones a code; every token poll gets 500.
struct FakeIssuer {
    addr: SocketAddr,
    /// (path, JSON body) of every request, in order.
    seen: Arc<Mutex<Vec<(String, Value)>>>,
    task: tokio::task::JoinHandle<()>,
}

const USER_CODE: &str = "WXYZ-9876";
const DEVICE_AUTH_ID: &str = "dev-auth-1";

impl FakeIssuer {
    async fn start() -> FakeIssuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<(String, Value)>>> = Default::default();
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let Some((path, body)) = read_http_request(&mut stream).await else {
                        return;
                    };
                    let (status, answer) = {
                        let mut log = log.lock().unwrap();
                        log.push((path.clone(), body));
                        let usercode_asks = log
                            .iter()
                            .filter(|(p, _)| p.ends_with("/deviceauth/usercode"))
                            .count();
                        if path == "/api/accounts/deviceauth/usercode" && usercode_asks == 1 {
                            (404, json!({ "error": "not found" }))
                        } else if path == "/api/accounts/deviceauth/usercode" {
                            (
                                200,
                                json!({ "device_auth_id": DEVICE_AUTH_ID, "user_code": USER_CODE, "interval": "1" }),
                            )
                        } else {
                            (500, json!({ "error": "the fake issuer refuses" }))
                        }
                    };
                    let body = answer.to_string();
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        FakeIssuer { addr, seen, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<(String, Value)> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for FakeIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one HTTP/1.1 request: (path, JSON body or null).
async fn read_http_request(stream: &mut tokio::net::TcpStream) -> Option<(String, Value)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head.split_whitespace().nth(1)?.to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or(Value::Null);
    Some((path, body))
}

/// The pinned runtime reads `CODEX_APP_SERVER_LOGIN_ISSUER` for its ChatGPT logins, so the
/// whole device-code flow runs offline against [`FakeIssuer`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_login_shows_url_and_code_and_reports_failures_once() {
    let issuer = FakeIssuer::start().await;
    let fixture = Fixture::new(rules()).await;
    let spawn = Spawn {
        extra_env: vec![(
            "CODEX_APP_SERVER_LOGIN_ISSUER".into(),
            OsString::from(issuer.url()),
        )],
        ..Spawn::default_log()
    };
    let mut editor = fixture
        .editor_with(spawn, json!({}), progress_capabilities())
        .await;

    // 1. The issuer has no device-code login: the command's answer says so, once.
    let refused = editor
        .command("codex.login", json!({ "method": "deviceCode" }))
        .await
        .unwrap_err();
    let refusal = refused["message"].as_str().unwrap_or_default().to_string();
    assert!(
        refusal.contains("device code login is not enabled"),
        "{refused:#}"
    );
    let status = editor.command("codex.status", json!({})).await.unwrap();
    assert_eq!(status["appServer"]["state"], "running", "{status:#}");
    assert!(
        editor
            .shown_messages()
            .iter()
            .all(|m| !m.contains("not enabled")),
        "the refusal is the command's answer, not also a message: {:?}",
        editor.shown_messages()
    );

    // 2. Now it hands out a code: URL and code reach the editor; the command answers at once.
    let login = editor
        .command("codex.login", json!({ "method": "deviceCode" }))
        .await
        .unwrap_or_else(|e| panic!("codex.login deviceCode: {e:#}"));
    let verification_url = format!("{}/codex/device", issuer.url());
    assert_eq!(
        login,
        json!({
            "method": "deviceCode", "status": "started",
            "verificationUrl": verification_url, "userCode": USER_CODE,
        })
    );
    let shown = editor.wait_message(USER_CODE).await;
    assert_eq!(
        shown,
        format!("Codex: to log in, open {verification_url} and enter the code {USER_CODE}")
    );

    // 3. The issuer refuses the token: the outcome is a message naming the problem.
    let failed = editor.wait_message("login failed").await;
    assert!(
        failed.contains("device auth failed with status 500"),
        "{failed}"
    );
    let seen = issuer.seen();
    let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/accounts/deviceauth/usercode",
            "/api/accounts/deviceauth/usercode",
            "/api/accounts/deviceauth/token"
        ]
    );
    assert!(seen[1].1["client_id"].is_string(), "{:#}", seen[1].1);
    assert_eq!(
        seen[2].1,
        json!({ "device_auth_id": DEVICE_AUTH_ID, "user_code": USER_CODE })
    );
    assert_eq!(
        editor
            .shown_messages()
            .iter()
            .filter(|m| m.contains("login failed"))
            .count(),
        1
    );

    // Still serving.
    ask_and_wait(&mut editor, "say hello after the device login").await;
    editor.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// 3. and 4. Approvals

const NOTES: &str = "one\ntwo\nthree\n";
const NOTES_PATCHED: &str = "one\nTWO\n2b\nthree\n";

fn approval_rules() -> Vec<Rule> {
    vec![
        Rule::new(
            "run the marker",
            vec![Reply::exec("touch marker.txt"), Reply::text("not run then")],
        ),
        Rule::new(
            "patch the notes",
            vec![
                Reply::apply_patch_update("notes.txt", "two\n", "TWO\n2b\n"),
                Reply::text("patch handled"),
            ],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_approvals_capability_gets_rich_requests_for_commands_and_file_changes() {
    let fixture = Fixture::new(approval_rules()).await;
    std::fs::write(fixture.workspace.join("notes.txt"), NOTES).unwrap();
    let mut capabilities = progress_capabilities();
    capabilities["experimental"] = json!({ "codexApprovals": true });
    let mut editor = fixture
        .editor(
            json!({ "approvalPolicy": "untrusted", "sandbox": "read-only" }),
            capabilities,
        )
        .await;
    editor.answer_with(|method, params| match (method, params["kind"].as_str()) {
        ("codex/approval", Some("command")) => json!({ "decision": "decline" }),
        ("codex/approval", Some("fileChange")) => json!({ "decision": "accept" }),
        _ => Value::Null,
    });
    let workspace = fixture.workspace.display().to_string();

    // A command: declined, so it never runs.
    let declined = ask_and_wait(&mut editor, "run the marker").await;
    let approvals = editor.server_requests_of("codex/approval");
    assert_eq!(approvals.len(), 1, "{approvals:#?}");
    let command = &approvals[0]["params"];
    assert_eq!(command["kind"], "command", "{command:#}");
    assert_eq!(command["threadId"], declined["threadId"], "{command:#}");
    assert_eq!(command["turnId"], declined["turnId"], "{command:#}");
    assert!(
        command["itemId"].as_str().is_some_and(|s| !s.is_empty()),
        "{command:#}"
    );
    assert!(
        command["command"]
            .as_str()
            .is_some_and(|c| c.contains("touch marker.txt")),
        "{command:#}"
    );
    assert_eq!(command["cwd"], workspace.as_str(), "{command:#}");
    let message = command["message"].as_str().unwrap();
    assert!(
        message.starts_with("Codex wants to run:\n") && message.contains("touch marker.txt"),
        "{message}"
    );
    // What the app-server offers under `untrusted`, and a plain "decline", which it does not
    // offer there but always takes: the user can always say no.
    assert_eq!(
        command["choices"],
        json!([
            { "title": "Accept", "decision": "accept" },
            {
                "title": "Accept and always allow `touch marker.txt`",
                "decision": { "acceptWithExecpolicyAmendment": { "execpolicy_amendment": ["touch", "marker.txt"] } },
            },
            { "title": "Decline", "decision": "decline" },
            { "title": "Cancel turn", "decision": "cancel" },
        ]),
        "{command:#}"
    );
    let ran: Vec<&Value> = declined["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|item| item["type"] == "commandExecution")
        .collect();
    assert_eq!(ran.len(), 1, "{declined:#}");
    assert_eq!(ran[0]["status"], "declined", "{declined:#}");
    assert!(
        !fixture.workspace.join("marker.txt").exists(),
        "the declined command ran"
    );

    // A file change: the request carries the files with +/− counts; accepted, it is written.
    let accepted = ask_and_wait(&mut editor, "patch the notes").await;
    let approvals = editor.server_requests_of("codex/approval");
    assert_eq!(approvals.len(), 2, "{approvals:#?}");
    let change = &approvals[1]["params"];
    assert_eq!(change["kind"], "fileChange", "{change:#}");
    assert_eq!(change["threadId"], accepted["threadId"], "{change:#}");
    assert_eq!(change["turnId"], accepted["turnId"], "{change:#}");
    assert!(
        change["itemId"].as_str().is_some_and(|s| !s.is_empty()),
        "{change:#}"
    );
    let files = change["files"].as_array().expect("files");
    assert_eq!(files.len(), 1, "{files:#?}");
    let file = &files[0];
    assert_eq!(
        file["path"],
        fixture.workspace.join("notes.txt").display().to_string()
    );
    assert_eq!(file["kind"], "update", "{file:#}");
    assert_eq!((&file["added"], &file["removed"]), (&json!(2), &json!(1)));
    let diff = file["diff"].as_str().unwrap();
    for line in ["-two", "+TWO", "+2b"] {
        assert!(diff.lines().any(|l| l == line), "{line} in {diff}");
    }
    assert!(
        change["message"]
            .as_str()
            .unwrap()
            .contains("edit notes.txt (+2 −1)"),
        "{change:#}"
    );
    assert_eq!(
        titles(&change["choices"]),
        ["Accept", "Accept for session", "Decline", "Cancel turn"]
    );
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("notes.txt")).unwrap(),
        NOTES_PATCHED
    );

    assert!(
        editor
            .server_requests_of("window/showMessageRequest")
            .is_empty(),
        "codexApprovals editors get codex/approval only"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_change_approval_through_show_message_request_names_the_file_and_counts() {
    let fixture = Fixture::new(approval_rules()).await;
    std::fs::write(fixture.workspace.join("notes.txt"), NOTES).unwrap();
    let mut editor = fixture
        .editor(json!({ "sandbox": "read-only" }), progress_capabilities())
        .await;
    editor.answer_with(|method, _| match method {
        "window/showMessageRequest" => json!({ "title": "Decline" }),
        _ => Value::Null,
    });

    ask_and_wait(&mut editor, "patch the notes").await;
    let prompts = editor.server_requests_of("window/showMessageRequest");
    assert_eq!(prompts.len(), 1, "{prompts:#?}");
    let message = prompts[0]["params"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Codex wants to change files:\n"),
        "{message}"
    );
    assert!(message.contains("\nedit notes.txt (+2 −1)"), "{message}");
    assert_eq!(
        titles(&prompts[0]["params"]["actions"]),
        ["Accept", "Accept for session", "Decline", "Cancel turn"]
    );
    assert_eq!(
        std::fs::read_to_string(fixture.workspace.join("notes.txt")).unwrap(),
        NOTES,
        "the declined change must not be written"
    );
    assert!(editor.server_requests_of("codex/approval").is_empty());
    editor.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// 5. streamEvents

fn events_of(editor: &Editor, turn: &str) -> Vec<Value> {
    editor
        .notifications()
        .into_iter()
        .filter(|n| n["method"] == "codex/event" && n["params"]["turnId"] == turn)
        .map(|n| n["params"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_events_sends_the_turns_app_server_notifications_only_when_asked() {
    let fixture = Fixture::new(rules()).await;

    let mut editor = fixture
        .editor(json!({ "streamEvents": true }), progress_capabilities())
        .await;
    let (thread, turn) = ask(&mut editor, json!({ "prompt": "say hello" })).await;
    editor.turn_completed(&turn).await;
    // turn/completed is forwarded before codex/turnCompleted is sent.
    let events = events_of(&editor, &turn);
    for event in &events {
        assert_eq!(event["threadId"], thread.as_str(), "{event:#}");
        assert!(event["params"].is_object(), "{event:#}");
    }
    let methods: Vec<&str> = events
        .iter()
        .map(|e| e["method"].as_str().expect("method"))
        .collect();
    assert!(methods.contains(&"item/agentMessage/delta"), "{methods:?}");
    assert_eq!(methods.last(), Some(&"turn/completed"), "{methods:?}");
    let streamed: String = events
        .iter()
        .filter(|e| e["method"] == "item/agentMessage/delta")
        .map(|e| e["params"]["delta"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(streamed, "Hello from the mock.\nSecond line.");
    editor.shutdown().await;

    let mut quiet = fixture.editor(json!({}), progress_capabilities()).await;
    let (_, turn) = ask(&mut quiet, json!({ "prompt": "say hello quietly" })).await;
    quiet.turn_completed(&turn).await;
    let events: Vec<Value> = quiet
        .notifications()
        .into_iter()
        .filter(|n| n["method"] == "codex/event")
        .collect();
    assert!(
        events.is_empty(),
        "codex/event without streamEvents: {events:#?}"
    );
    quiet.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// 6. Settings re-read

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn did_change_configuration_pulls_the_codex_section_and_warns_on_bad_keys() {
    let fixture = Fixture::new(rules()).await;
    let section = Arc::new(Mutex::new(json!({})));
    let mut capabilities = progress_capabilities();
    capabilities["workspace"] = json!({ "configuration": true });
    let mut editor = fixture
        .editor(json!({ "sandbox": "read-only" }), capabilities)
        .await;
    let answer = section.clone();
    editor.answer_with(move |method, _| match method {
        "workspace/configuration" => json!([answer.lock().unwrap().clone()]),
        _ => Value::Null,
    });

    ask_and_wait(&mut editor, "say hello BEFORE_7c1").await;
    assert_eq!(models_asked_about(&fixture, "BEFORE_7c1"), [MODEL]);

    // A new model from the editor.
    *section.lock().unwrap() = json!({ "model": "gpt-from-the-editor" });
    editor
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": null }),
        )
        .await;
    let pulled = editor
        .wait_for("workspace/configuration", || {
            editor
                .server_requests_of("workspace/configuration")
                .into_iter()
                .next()
        })
        .await;
    assert_eq!(
        pulled["params"],
        json!({ "items": [{ "section": "codex" }] }),
        "{pulled:#}"
    );
    settings_become(&mut editor, "the editor's model", |s| {
        s["model"] == "gpt-from-the-editor"
    })
    .await;
    ask_and_wait(&mut editor, "say hello AFTER_7c1").await;
    assert_eq!(
        models_asked_about(&fixture, "AFTER_7c1"),
        ["gpt-from-the-editor"]
    );

    // An ill-typed key: a warning naming it, its default, and the server keeps serving.
    *section.lock().unwrap() = json!({ "sandbox": "yolo", "model": "gpt-after-yolo" });
    editor
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": {} }),
        )
        .await;
    let warning = editor.wait_message("`sandbox`").await;
    assert!(warning.contains("\"yolo\""), "{warning}");
    let warnings = editor.shown_messages_containing("`sandbox`");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0]["type"], 2, "a warning");
    let settings = settings_become(&mut editor, "the model after the bad key", |s| {
        s["model"] == "gpt-after-yolo"
    })
    .await;
    assert_eq!(
        settings["sandbox"], "read-only",
        "a bad value leaves the initializationOptions' value: {settings:#}"
    );
    ask_and_wait(&mut editor, "say hello YOLO_7c1").await;
    assert_eq!(models_asked_about(&fixture, "YOLO_7c1"), ["gpt-after-yolo"]);
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn did_change_configuration_uses_the_pushed_settings_without_workspace_configuration() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    editor
        .notify(
            "workspace/didChangeConfiguration",
            json!({ "settings": { "codex": { "model": "gpt-pushed", "streamEvents": "yes" } } }),
        )
        .await;
    let warning = editor.wait_message("`streamEvents`").await;
    assert!(warning.contains("\"yes\""), "{warning}");
    settings_become(&mut editor, "the pushed model", |s| {
        s["model"] == "gpt-pushed"
    })
    .await;
    ask_and_wait(&mut editor, "say hello PUSHED_5d2").await;
    assert_eq!(models_asked_about(&fixture, "PUSHED_5d2"), ["gpt-pushed"]);
    assert!(
        editor
            .server_requests_of("workspace/configuration")
            .is_empty(),
        "an editor without workspace.configuration is never asked"
    );
    editor.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// 7. logFile

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_file_setting_fills_the_file_keeps_stdout_lsp_only_and_hides_the_api_key() {
    const SECRET: &str = "sk-contract-SECRET-4242";
    let fixture = Fixture::new(rules()).await;
    let logs = tempfile::tempdir().unwrap();
    let log_file = logs.path().join("codex-lsp.log");
    // CODEX_LSP_LOG unset: it would win over logLevel.
    let spawn = Spawn {
        log_env: None,
        ..Spawn::default()
    };
    let mut editor = fixture
        .editor_with(
            spawn,
            json!({ "logFile": log_file.display().to_string(), "logLevel": "debug" }),
            progress_capabilities(),
        )
        .await;
    let login = editor
        .command(
            "codex.login",
            json!({ "method": "apiKey", "apiKey": SECRET }),
        )
        .await
        .unwrap_or_else(|e| panic!("codex.login apiKey: {e:#}"));
    assert_eq!(login["status"], "started", "{login:#}");
    editor.wait_message("logged in with an API key").await;
    let done = ask_and_wait(&mut editor, "say hello with a log file").await;
    let sent_to_editor = serde_json::to_string(&json!({
        "notifications": editor.notifications(),
        "serverRequests": editor.server_requests(),
        "done": done,
    }))
    .unwrap();
    let garbage = editor.stdout_garbage();
    editor.shutdown().await;

    assert!(
        garbage.is_empty(),
        "stdout carried non-LSP output: {garbage:#?}"
    );
    assert!(
        !sent_to_editor.contains(SECRET),
        "the key reached the editor"
    );
    let log = std::fs::read_to_string(&log_file).expect("the log file exists");
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines.iter().any(|l| l.contains(" DEBUG ")),
        "logLevel debug logs debug lines: {log}"
    );
    assert!(
        log.contains("app-server started"),
        "the log lacks the app-server start: {log}"
    );
    let leaks: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains(SECRET))
        .collect();
    assert!(leaks.is_empty(), "the API key is in the log: {leaks:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_file_argument_logs_to_the_file_from_the_start() {
    let fixture = Fixture::new(rules()).await;
    let logs = tempfile::tempdir().unwrap();
    let log_file = logs.path().join("from-the-argument.log");
    let spawn = Spawn {
        args: vec!["--log-file".into(), log_file.clone().into_os_string()],
        log_env: Some("codex_lsp=debug".into()),
        ..Spawn::default()
    };
    let mut editor = fixture
        .editor_with(spawn, json!({}), progress_capabilities())
        .await;
    ask_and_wait(&mut editor, "say hello with --log-file").await;
    let garbage = editor.stdout_garbage();
    editor.shutdown().await;
    assert!(
        garbage.is_empty(),
        "stdout carried non-LSP output: {garbage:#?}"
    );
    let log = std::fs::read_to_string(&log_file).expect("the log file exists");
    assert!(
        log.lines()
            .any(|l| l.contains(" DEBUG ") && l.contains("codex_lsp")),
        "{log}"
    );
    assert!(log.contains("app-server started"), "{log}");
    // Only codex_lsp's own debug lines pass the filter.
    let foreign: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" DEBUG ") && !l.contains("codex_lsp"))
        .collect();
    assert!(foreign.is_empty(), "{foreign:#?}");
}

// ---------------------------------------------------------------------------------------
// Lifecycle

/// After `shutdown` and `exit` codex-lsp exits at once with 0, though the editor keeps its
/// stdin open (tokio's stdin reader must not hold the process). Whether a stdin read is in
/// flight at `exit` is a race, so three editors go through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_ends_the_process_at_once_while_stdin_stays_open() {
    let fixture = Fixture::new(rules()).await;
    for round in 0..3 {
        let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
        if round == 0 {
            ask_and_wait(&mut editor, "say hello before exit").await;
        } else {
            editor.command("codex.status", json!({})).await.unwrap();
        }
        let pids = editor.app_server_pids();
        let status = editor.shutdown_and_wait(Duration::from_secs(5)).await;
        let status = status
            .unwrap_or_else(|| panic!("round {round}: codex-lsp still running 5 s after exit"));
        assert_eq!(status.code(), Some(0), "round {round}: {status:?}");
        let survivors = survivors(&pids).await;
        assert!(
            survivors.is_empty(),
            "round {round}: app-servers survived: {survivors:?}"
        );
    }
}
