//! `codex.review` end to end: codex-lsp over stdio, the REAL app-server, and a scripted
//! reviewer answering review turns with the review JSON. Findings become diagnostics on the
//! files they name (open or not), follow edits, offer fix and dismiss actions, are replaced by
//! the next review and cleared on demand; pull clients pull them instead.

mod support;

use mock_provider::{Reply, Rule};
use serde_json::{json, Value};
use support::{editing_capabilities, review_finding, review_reply, Editor, Fixture};

const A_RS: &str = "fn main() {\n    let v = vec![1, 2, 3];\n    for i in 0..=v.len() {\n        println!(\"{}\", v[i]);\n    }\n}\n";

/// A workspace with `a.rs` and `b.rs`, and a reviewer whose first review flags both and whose
/// "second pass" flags `c.rs` only.
async fn fixture() -> Fixture {
    let fixture = Fixture::new(vec![]).await;
    let ws = &fixture.workspace;
    std::fs::write(ws.join("a.rs"), A_RS).unwrap();
    std::fs::write(ws.join("b.rs"), "pub fn f() {}\n").unwrap();
    std::fs::write(ws.join("c.rs"), "pub fn g() {}\n").unwrap();
    fixture.provider.add_rule(Rule::new(
        "provide prioritized findings",
        vec![review_reply(
            vec![
                review_finding(
                    &ws.join("a.rs"),
                    "[P1] Index past the end",
                    "`0..=v.len()` reads `v[v.len()]`, which panics.",
                    1,
                    (3, 4),
                ),
                review_finding(
                    &ws.join("a.rs"),
                    "[P0] Crash on start",
                    "Always panics.",
                    0,
                    (1, 1),
                ),
                review_finding(
                    &ws.join("b.rs"),
                    "[P3] Missing docs",
                    "Say what `f` does.",
                    3,
                    (1, 1),
                ),
            ],
            "patch is incorrect",
            "The loop reads past the end of the vector.",
        )],
    ));
    fixture.provider.add_rule(Rule::new(
        "second pass",
        vec![review_reply(
            vec![review_finding(
                &ws.join("c.rs"),
                "[P2] Unused",
                "`g` is never called.",
                2,
                (1, 1),
            )],
            "patch is correct",
            "Only a nit.",
        )],
    ));
    fixture.provider.add_rule(Rule::new(
        "not json please",
        vec![Reply::text(
            "I looked around and everything seems fine to me.",
        )],
    ));
    fixture.provider.add_rule(Rule::new(
        "nothing to find",
        vec![review_reply(vec![], "patch is correct", "Nothing to flag.")],
    ));
    fixture.provider.add_rule(Rule::new(
        "Fix this code review finding",
        vec![Reply::text("fixed it")],
    ));
    fixture
}

/// The diagnostics of the last `publishDiagnostics` for `uri`, if any was sent.
fn last_published(editor: &Editor, uri: &str) -> Option<Vec<Value>> {
    editor
        .notifications()
        .into_iter()
        .rev()
        .find(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri)
        .map(|n| {
            n["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
}

/// Waits until the last diagnostics published for `uri` satisfy `pred`.
async fn wait_published(
    editor: &Editor,
    uri: &str,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    editor
        .wait_for(&format!("{what} on {uri}"), || {
            last_published(editor, uri).filter(|d| pred(d))
        })
        .await
}

fn lines_of(d: &Value) -> (u64, u64) {
    (
        d["range"]["start"]["line"].as_u64().unwrap(),
        d["range"]["end"]["line"].as_u64().unwrap(),
    )
}

fn by_title<'a>(diagnostics: &'a [Value], title: &str) -> &'a Value {
    diagnostics
        .iter()
        .find(|d| d["message"].as_str().unwrap_or_default().starts_with(title))
        .unwrap_or_else(|| panic!("no diagnostic titled {title}: {diagnostics:#?}"))
}

async fn pull(editor: &mut Editor, uri: String) -> Value {
    editor
        .request(
            "textDocument/diagnostic",
            json!({ "textDocument": { "uri": uri } }),
        )
        .await
        .expect("textDocument/diagnostic")
}

async fn code_actions(editor: &mut Editor, uri: &str, line: u32) -> Vec<Value> {
    editor
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": line, "character": 0 }, "end": { "line": line, "character": 0 } },
                "context": { "diagnostics": [] },
            }),
        )
        .await
        .expect("code actions")
        .as_array()
        .cloned()
        .unwrap()
}

fn action<'a>(actions: &'a [Value], title: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no action {title}: {actions:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_become_diagnostics_that_follow_edits_and_offer_fix_and_dismiss() {
    let fixture = fixture().await;
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    editor.track_buffers();
    let (a, b, c) = (
        fixture.file_uri("a.rs"),
        fixture.file_uri("b.rs"),
        fixture.file_uri("c.rs"),
    );
    editor.open_buffer(&a, A_RS).await;

    let started = editor
        .command("codex.review", json!({}))
        .await
        .expect("codex.review");
    let turn_id = started["turnId"].as_str().expect("turnId").to_string();
    assert!(started["threadId"].is_string(), "{started}");
    let completed = editor.turn_completed(&turn_id).await;
    assert_eq!(completed["status"], "completed", "{completed}");

    // Both files, the open one and the one that is not, on the reviewer's lines.
    let on_a = wait_published(&editor, &a, "two findings", |d| d.len() == 2).await;
    let index = by_title(&on_a, "[P1] Index past the end");
    assert_eq!(lines_of(index), (2, 4));
    assert_eq!(index["severity"], 2, "P1 is a warning");
    assert_eq!(index["source"], "codex");
    assert_eq!(index["code"], "codex.review");
    assert_eq!(
        index["message"],
        "[P1] Index past the end\n\n`0..=v.len()` reads `v[v.len()]`, which panics."
    );
    let index_id = index["data"]["findingId"]
        .as_str()
        .expect("finding id")
        .to_string();
    let crash = by_title(&on_a, "[P0] Crash on start");
    assert_eq!((lines_of(crash), &crash["severity"]), ((0, 1), &json!(1)));
    let on_b = wait_published(&editor, &b, "one finding", |d| d.len() == 1).await;
    assert_eq!(
        (lines_of(&on_b[0]), &on_b[0]["severity"]),
        ((0, 1), &json!(4))
    );
    // The overall verdict, as a message. The pinned app-server sends the explanation but not
    // `overall_correctness`.
    let verdict = editor.wait_message("Codex review: 3 findings").await;
    assert!(verdict.contains("a.rs, b.rs"), "{verdict}");
    assert!(
        verdict.contains("The loop reads past the end of the vector."),
        "{verdict}"
    );
    // The review ran with its own progress title.
    let token = format!("codex-lsp/turn/{turn_id}");
    assert_eq!(editor.progress_of(&token)[0]["title"], "Codex review");

    // A line typed above moves the findings down with their lines.
    editor.type_into(&a, (0, 0), (0, 0), "// note\n").await;
    let moved = wait_published(&editor, &a, "findings moved down", |d| {
        d.len() == 2 && d.iter().any(|d| lines_of(d) == (3, 5))
    })
    .await;
    assert_eq!(lines_of(by_title(&moved, "[P0] Crash on start")), (1, 2));

    // "Fix this finding" asks Codex with the finding in the prompt, at its current lines.
    let actions = code_actions(&mut editor, &a, 3).await;
    let fix = action(&actions, "Codex: Fix this finding");
    assert_eq!(fix["diagnostics"][0]["data"]["findingId"], index_id);
    let mut args = fix["command"]["arguments"][0].clone();
    assert_eq!(fix["command"]["command"], "codex.ask");
    args["wait"] = json!(true);
    let fixed = editor
        .command("codex.ask", args)
        .await
        .expect("the fix turn");
    assert_eq!(fixed["finalResponse"], "fixed it", "{fixed}");
    let seen = serde_json::to_string(&fixture.provider.requests()).unwrap();
    let expected = "Fix this code review finding in a.rs lines 4-5:\\n\\n[P1] Index past the end\\n\\n`0..=v.len()` reads `v[v.len()]`, which panics.";
    assert!(
        seen.contains(expected),
        "the provider never saw the finding: {seen}"
    );

    // "Dismiss" removes that one diagnostic.
    let actions = code_actions(&mut editor, &a, 3).await;
    let dismiss = action(&actions, "Codex: Dismiss");
    assert_eq!(dismiss["command"]["command"], "codex.dismissFinding");
    editor
        .command(
            "codex.dismissFinding",
            dismiss["command"]["arguments"][0].clone(),
        )
        .await
        .expect("dismiss");
    let left = wait_published(&editor, &a, "one finding left", |d| d.len() == 1).await;
    assert_ne!(
        by_title(&left, "[P0] Crash on start")["data"]["findingId"],
        json!(index_id)
    );
    let again = editor
        .command("codex.dismissFinding", json!({ "id": index_id }))
        .await
        .expect_err("dismissing twice");
    assert!(
        again["message"].as_str().unwrap().contains("no finding"),
        "{again}"
    );

    // A second review replaces the first: a.rs and b.rs are cleared, c.rs is marked.
    let second = editor
        .command(
            "codex.review",
            json!({ "target": { "instructions": "second pass" }, "wait": true }),
        )
        .await
        .expect("the second review");
    assert_eq!(second["status"], "completed", "{second}");
    let on_c = wait_published(&editor, &c, "the second review's finding", |d| d.len() == 1).await;
    assert_eq!(on_c[0]["severity"], 3, "P2 is information");
    assert_eq!(last_published(&editor, &a), Some(vec![]));
    assert_eq!(last_published(&editor, &b), Some(vec![]));

    // Clear removes them.
    let cleared = editor
        .command("codex.clearReview", json!({}))
        .await
        .expect("clear");
    assert_eq!(cleared["cleared"], 1);
    wait_published(&editor, &c, "cleared", |d| d.is_empty()).await;
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_without_json_or_findings_says_so_and_marks_nothing() {
    let fixture = fixture().await;
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;

    let done = editor
        .command(
            "codex.review",
            json!({ "target": { "instructions": "not json please" }, "wait": true }),
        )
        .await
        .expect("the review");
    assert_eq!(done["status"], "completed", "{done}");
    let said = editor
        .wait_message("Codex review: no findings to mark")
        .await;
    assert!(said.contains("everything seems fine to me"), "{said}");

    editor
        .command(
            "codex.review",
            json!({ "target": { "instructions": "nothing to find" }, "wait": true }),
        )
        .await
        .expect("the empty review");
    let said = editor
        .wait_message("Codex review: no findings to mark; the reviewer said: Nothing to flag.")
        .await;
    assert!(!said.contains("1 finding"), "{said}");
    // The messages come after any diagnostics the reviews would publish: there were none.
    let published: Vec<Value> = editor
        .notifications()
        .into_iter()
        .filter(|n| n["method"] == "textDocument/publishDiagnostics")
        .collect();
    assert!(published.is_empty(), "{published:#?}");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_client_pulls_the_findings_and_gets_none_pushed() {
    let fixture = fixture().await;
    let mut capabilities = editing_capabilities();
    capabilities["textDocument"] = json!({ "diagnostic": { "dynamicRegistration": false } });
    let mut editor = fixture.editor(json!({}), capabilities).await;
    let (a, b) = (fixture.file_uri("a.rs"), fixture.file_uri("b.rs"));
    editor.open_buffer(&a, A_RS).await;

    let before = pull(&mut editor, a.clone()).await;
    assert_eq!(before, json!({ "kind": "full", "items": [] }));

    editor
        .command("codex.review", json!({ "wait": true }))
        .await
        .expect("the review");
    editor.wait_message("Codex review: 3 findings").await;
    // Told to pull again.
    editor
        .wait_for("workspace/diagnostic/refresh", || {
            (!editor
                .server_requests_of("workspace/diagnostic/refresh")
                .is_empty())
            .then_some(())
        })
        .await;
    let on_a = pull(&mut editor, a.clone()).await;
    assert_eq!(on_a["kind"], "full");
    let items = on_a["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{on_a}");
    assert_eq!(lines_of(by_title(items, "[P1] Index past the end")), (2, 4));
    let on_b = pull(&mut editor, b.clone()).await;
    assert_eq!(on_b["items"].as_array().unwrap().len(), 1, "{on_b}");
    assert_eq!(on_b["items"][0]["severity"], 4);
    // Nothing pushed: a pull client would otherwise see each finding twice.
    let pushed: Vec<Value> = editor
        .notifications()
        .into_iter()
        .filter(|n| n["method"] == "textDocument/publishDiagnostics")
        .collect();
    assert!(pushed.is_empty(), "{pushed:#?}");

    editor
        .command("codex.clearReview", json!({}))
        .await
        .expect("clear");
    let after = pull(&mut editor, b).await;
    assert_eq!(after["items"], json!([]));
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_announces_pull_diagnostics_only_to_pull_clients() {
    let fixture = Fixture::new(vec![]).await;
    let mut push = Editor::start(fixture.env());
    let answer = push
        .request(
            "initialize",
            json!({ "processId": null, "rootUri": fixture.workspace_uri(), "capabilities": {} }),
        )
        .await
        .unwrap();
    assert!(
        answer["capabilities"].get("diagnosticProvider").is_none(),
        "{answer}"
    );
    let commands = answer["capabilities"]["executeCommandProvider"]["commands"].to_string();
    for command in ["codex.review", "codex.clearReview", "codex.dismissFinding"] {
        assert!(commands.contains(command), "{commands}");
    }
    push.shutdown().await;
    let mut pull = Editor::start(fixture.env());
    let answer = pull
        .request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": fixture.workspace_uri(),
                "capabilities": { "textDocument": { "diagnostic": {} } },
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        answer["capabilities"]["diagnosticProvider"],
        json!({ "identifier": "codex", "interFileDependencies": false, "workspaceDiagnostics": false })
    );
    pull.shutdown().await;
}
