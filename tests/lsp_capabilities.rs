//! LSP capabilities (issue 15.10): workspace folders are advertised (so clients send
//! `didChangeWorkspaceFolders`) and an added folder gets its own thread; code actions carry
//! kinds, honour `context.only`, and an automatic request gets only what applies there.

mod support;

use serde_json::{json, Value};
use support::{error_answer, progress_capabilities, rules, Editor, Fixture};

async fn code_actions(editor: &mut Editor, uri: &str, context: Value) -> Value {
    editor
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 3 } },
                "context": context,
            }),
        )
        .await
        .expect("codeAction")
}

/// (title, kind) of each action.
fn titles_and_kinds(actions: &Value) -> Vec<(String, String)> {
    actions
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {actions:#}"))
        .iter()
        .map(|a| {
            (
                a["title"].as_str().unwrap_or_default().to_string(),
                a["kind"].as_str().unwrap_or("<none>").to_string(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(t, k)| (t.to_string(), k.to_string()))
        .collect()
}

const GENERIC: &[(&str, &str)] = &[
    ("Codex: Explain", "refactor.rewrite.codex.explain"),
    ("Codex: Document", "refactor.rewrite.codex.document"),
    ("Codex: Add tests", "refactor.rewrite.codex.addTests"),
    ("Codex: Refactor", "refactor.rewrite.codex.refactor"),
    ("Codex: Open chat", "refactor.rewrite.codex.openChat"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_are_advertised_and_code_actions_follow_kind_and_trigger() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = support::Editor::start(fixture.env());
    let result = editor
        .request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": fixture.workspace_uri(),
                "workspaceFolders": [{ "uri": fixture.workspace_uri(), "name": "ws" }],
                "capabilities": progress_capabilities(),
            }),
        )
        .await
        .expect("initialize");
    let capabilities = &result["capabilities"];
    assert_eq!(
        capabilities["workspace"],
        json!({ "workspaceFolders": { "supported": true, "changeNotifications": true } }),
        "{capabilities:#}"
    );
    assert_eq!(
        capabilities["codeActionProvider"],
        json!({ "codeActionKinds": [
            "quickfix",
            "refactor.rewrite",
            "refactor.rewrite.codex.explain",
            "refactor.rewrite.codex.document",
            "refactor.rewrite.codex.addTests",
            "refactor.rewrite.codex.refactor",
            "refactor.rewrite.codex.openChat",
        ] }),
        "{capabilities:#}"
    );
    editor.notify("initialized", json!({})).await;
    let uri = fixture.file_uri("a.rs");
    std::fs::write(fixture.workspace.join("a.rs"), "let x = 1;\n").unwrap();
    editor.open_buffer(&uri, "let x = 1;\n").await;
    let diagnostic = json!({
        "range": { "start": { "line": 0, "character": 4 }, "end": { "line": 0, "character": 5 } },
        "message": "unused variable `x`",
        "source": "rustc",
    });

    // Invoked (or an editor that sends no trigger): everything, each with its kind.
    let invoked = code_actions(
        &mut editor,
        &uri,
        json!({ "diagnostics": [diagnostic], "triggerKind": 1 }),
    )
    .await;
    let mut expected = pairs(&[("Codex: Fix: unused variable `x`", "quickfix")]);
    expected.extend(pairs(GENERIC));
    assert_eq!(titles_and_kinds(&invoked), expected);
    assert_eq!(
        invoked[1],
        json!({
            "title": "Codex: Explain",
            "kind": "refactor.rewrite.codex.explain",
            "command": {
                "title": "Codex: Explain",
                "command": "codex.ask",
                "arguments": [{
                    "prompt": "Explain what this code does.\n\nIn a.rs line 1:\n\n```plaintext\nlet\n```",
                    "uri": uri,
                }],
            },
        })
    );
    let untriggered = code_actions(&mut editor, &uri, json!({ "diagnostics": [] })).await;
    assert_eq!(titles_and_kinds(&untriggered), pairs(GENERIC));

    // Automatic (the lightbulb on every cursor move): nothing applies here.
    for diagnostics in [json!([]), json!([diagnostic])] {
        let automatic = code_actions(
            &mut editor,
            &uri,
            json!({ "diagnostics": diagnostics, "triggerKind": 2 }),
        )
        .await;
        assert_eq!(automatic, json!([]), "{diagnostics}");
    }

    // `only` filters by kind, a parent kind letting its children through.
    for (only, expected) in [
        (
            json!(["quickfix"]),
            pairs(&[("Codex: Fix: unused variable `x`", "quickfix")]),
        ),
        (json!(["refactor"]), pairs(GENERIC)),
        (
            json!(["refactor.rewrite.codex.explain"]),
            pairs(&GENERIC[..1]),
        ),
        (json!(["source"]), vec![]),
        (json!(["refactor.rewrite.codex.ex"]), vec![]),
    ] {
        let filtered = code_actions(
            &mut editor,
            &uri,
            json!({ "diagnostics": [diagnostic], "only": only, "triggerKind": 1 }),
        )
        .await;
        assert_eq!(titles_and_kinds(&filtered), expected, "only {only}");
    }

    // A waiting approval applies anywhere: an automatic request gets its answers.
    editor.answer_with(|method, _| match method {
        "window/showMessageRequest" => error_answer(-32601, "Method not found"),
        _ => Value::Null,
    });
    let started = editor
        .command("codex.ask", json!({ "prompt": "touch accepted.txt" }))
        .await
        .expect("ask");
    let deadline = tokio::time::Instant::now() + support::WAIT;
    let automatic = loop {
        let actions = code_actions(
            &mut editor,
            &uri,
            json!({ "diagnostics": [], "triggerKind": 2, "only": ["quickfix"] }),
        )
        .await;
        if !actions.as_array().unwrap().is_empty() {
            break actions;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no approval offered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let listed = titles_and_kinds(&automatic);
    assert!(
        listed
            .iter()
            .all(|(title, kind)| kind == "quickfix" && title.contains("touch accepted.txt")),
        "{listed:#?}"
    );
    assert!(
        listed
            .iter()
            .any(|(title, _)| title == "Codex: decline `touch accepted.txt`"),
        "{listed:#?}"
    );
    editor
        .command("codex.interrupt", json!({}))
        .await
        .expect("interrupt");
    editor
        .turn_completed(started["turnId"].as_str().unwrap())
        .await;
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_workspace_folder_gets_its_own_thread() {
    let fixture = Fixture::new(rules()).await;
    let mut editor = fixture.editor(json!({}), progress_capabilities()).await;
    let other_dir = tempfile::tempdir().unwrap();
    let other = other_dir.path().canonicalize().unwrap();
    std::fs::write(other.join("b.txt"), "b\n").unwrap();
    let other_uri = format!("file://{}", other.display());
    editor
        .notify(
            "workspace/didChangeWorkspaceFolders",
            json!({ "event": { "added": [{ "uri": other_uri, "name": "other" }], "removed": [] } }),
        )
        .await;
    let first = editor
        .command("codex.ask", json!({ "prompt": "say hello", "wait": true }))
        .await
        .expect("ask in the first folder");
    let second = editor
        .command(
            "codex.ask",
            json!({ "prompt": "say hello", "uri": format!("{other_uri}/b.txt"), "wait": true }),
        )
        .await
        .expect("ask in the added folder");
    assert_eq!(second["status"], "completed", "{second:#}");
    assert_ne!(first["threadId"], second["threadId"]);
    let read = editor
        .command(
            "codex.readThread",
            json!({ "threadId": second["threadId"] }),
        )
        .await
        .expect("readThread");
    assert_eq!(
        read["thread"]["cwd"],
        other.display().to_string(),
        "{read:#}"
    );
    let status = editor.command("codex.status", json!({})).await.unwrap();
    assert_eq!(
        status["threads"][other.display().to_string()],
        second["threadId"],
        "{status:#}"
    );
    editor.shutdown().await;
}
