//! End to end: the agent's edits reach the editor's open buffers (the real app-server writes
//! the file; codex-lsp merges the change into the buffer with `workspace/applyEdit`), and
//! nothing the user has not saved is lost.

mod support;

use serde_json::{json, Value};
use support::{editing_capabilities, Editor, Fixture};

use mock_provider::{PatchBuilder, Reply, Rule};

const FILE: &str = "one\ntwo\nthree\nfour\nfive\n";

fn patch_rule(prompt: &str, patch: PatchBuilder) -> Rule {
    Rule::new(prompt, vec![patch.into_reply(), Reply::text("edited")])
}

async fn setup(rules: Vec<Rule>) -> (Fixture, Editor, String) {
    let fixture = Fixture::new(rules).await;
    std::fs::write(fixture.workspace.join("a.txt"), FILE).unwrap();
    let editor = fixture.editor(json!({}), editing_capabilities()).await;
    editor.track_buffers();
    let uri = fixture.file_uri("a.txt");
    editor.open_buffer(&uri, FILE).await;
    (fixture, editor, uri)
}

/// Asks and waits for `codex/turnCompleted` (sent after the buffers were updated).
async fn ask_done(editor: &mut Editor, prompt: &str) -> Value {
    let started = editor
        .command("codex.ask", json!({ "prompt": prompt }))
        .await
        .expect("codex.ask");
    let done = editor
        .turn_completed(started["turnId"].as_str().unwrap())
        .await;
    assert_eq!(done["status"], "completed", "{done:#}");
    done
}

fn disk(fixture: &Fixture, name: &str) -> String {
    std::fs::read_to_string(fixture.workspace.join(name)).unwrap()
}

fn apply_edit_requests(editor: &Editor) -> Vec<Value> {
    editor
        .server_requests()
        .into_iter()
        .filter(|r| r["method"] == "workspace/applyEdit")
        .map(|r| r["params"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_buffer_ends_equal_to_disk_by_a_minimal_versioned_annotated_edit() {
    let (fixture, mut editor, uri) = setup(vec![patch_rule(
        "edit line two",
        PatchBuilder::new().update("a.txt", "two", "TWO"),
    )])
    .await;
    ask_done(&mut editor, "edit line two").await;

    assert_eq!(disk(&fixture, "a.txt"), "one\nTWO\nthree\nfour\nfive\n");
    assert_eq!(editor.buffer_text(&uri), disk(&fixture, "a.txt"));
    let requests = apply_edit_requests(&editor);
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let params = &requests[0];
    let document = &params["edit"]["documentChanges"][0];
    assert_eq!(document["textDocument"]["uri"], uri.as_str());
    assert_eq!(document["textDocument"]["version"], 1);
    let edits = document["edits"].as_array().unwrap();
    assert_eq!(
        edits.len(),
        1,
        "one minimal edit, not a whole-buffer one: {edits:#?}"
    );
    assert_eq!(edits[0]["range"]["start"]["line"], 1);
    assert_eq!(edits[0]["range"]["end"]["line"], 1);
    let annotation = edits[0]["annotationId"].as_str().expect("annotated edit");
    assert!(annotation.starts_with("codex-turn-"), "{annotation}");
    let label = &params["edit"]["changeAnnotations"][annotation]["label"];
    assert!(
        label.as_str().unwrap().starts_with("Codex (turn "),
        "{params:#}"
    );
    assert_eq!(params["label"], "Codex: a.txt");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsaved_edit_elsewhere_is_kept_and_disk_gets_only_the_agents_change() {
    let (fixture, mut editor, uri) = setup(vec![patch_rule(
        "edit line four",
        PatchBuilder::new().update("a.txt", "four", "FOUR"),
    )])
    .await;
    editor.type_into(&uri, (0, 3), (0, 3), " (mine)").await;
    ask_done(&mut editor, "edit line four").await;

    assert_eq!(disk(&fixture, "a.txt"), "one\ntwo\nthree\nFOUR\nfive\n");
    assert_eq!(
        editor.buffer_text(&uri),
        "one (mine)\ntwo\nthree\nFOUR\nfive\n"
    );
    assert!(
        !editor.notifications().iter().any(holds_a_conflict),
        "a clean merge reports no conflict"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlapping_unsaved_edit_is_kept_reported_and_resolvable() {
    let (fixture, mut editor, uri) = setup(vec![
        patch_rule(
            "edit line two",
            PatchBuilder::new().update("a.txt", "two", "TWO"),
        ),
        patch_rule(
            "edit line five",
            PatchBuilder::new().update("a.txt", "five", "FIVE"),
        ),
    ])
    .await;
    editor.type_into(&uri, (1, 0), (1, 3), "my two").await;
    ask_done(&mut editor, "edit line two").await;

    assert_eq!(disk(&fixture, "a.txt"), "one\nTWO\nthree\nfour\nfive\n");
    assert_eq!(
        editor.buffer_text(&uri),
        "one\nmy two\nthree\nfour\nfive\n",
        "the user's text in the conflict region is untouched"
    );
    let told = editor.shown_messages();
    assert!(
        told.iter().any(|m| m.contains("a.txt")
            && m.contains("line 2")
            && m.contains("Take Codex's version")),
        "{told:#?}"
    );
    let published = editor
        .wait_notification("conflict diagnostics", holds_a_conflict)
        .await;
    let diagnostic = published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "codex.conflict")
        .unwrap();
    assert_eq!(diagnostic["code"], "codex.conflict");
    assert_eq!(diagnostic["source"], "codex");
    assert_eq!(diagnostic["range"]["start"]["line"], 1);
    assert_eq!(diagnostic["range"]["end"]["line"], 2);

    // Typing above the region moves it; the next turn's change elsewhere merges cleanly
    // and keeps the region the user's.
    editor.type_into(&uri, (0, 0), (0, 0), "zero\n").await;
    ask_done(&mut editor, "edit line five").await;
    assert_eq!(
        editor.buffer_text(&uri),
        "zero\none\nmy two\nthree\nfour\nFIVE\n"
    );

    // The code actions on the region, then taking Codex's version.
    let actions = editor
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": 2, "character": 0 }, "end": { "line": 2, "character": 0 } },
                "context": { "diagnostics": [] },
            }),
        )
        .await
        .unwrap();
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles[..2],
        ["Codex: Take Codex's version", "Codex: Keep mine"]
    );
    let take = actions[0]["command"].clone();
    editor
        .request(
            "workspace/executeCommand",
            json!({ "command": take["command"], "arguments": take["arguments"] }),
        )
        .await
        .expect("take Codex's version");
    assert_eq!(
        editor.buffer_text(&uri),
        "zero\none\nTWO\nthree\nfour\nFIVE\n"
    );
    // Notifications and answers travel separately: wait for the clearing publish.
    editor
        .wait_for("the conflict diagnostics cleared", || {
            editor
                .notifications()
                .into_iter()
                .rfind(|n| n["method"] == "textDocument/publishDiagnostics")
                .filter(|n| !holds_a_conflict(n))
        })
        .await;
    let again = editor
        .request(
            "workspace/executeCommand",
            json!({ "command": take["command"], "arguments": take["arguments"] }),
        )
        .await
        .expect_err("a resolved conflict cannot be resolved twice");
    assert!(again["message"]
        .as_str()
        .unwrap()
        .contains("already resolved"));
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_that_reloaded_from_disk_first_gets_the_change_once() {
    let (fixture, mut editor, uri) = setup(vec![patch_rule(
        "append a line",
        PatchBuilder::new().update("a.txt", "five", "five\nsix"),
    )])
    .await;
    editor
        .buffers
        .lock()
        .unwrap()
        .reload_first
        .insert(uri.clone(), fixture.workspace.join("a.txt"));
    ask_done(&mut editor, "append a line").await;

    assert_eq!(
        disk(&fixture, "a.txt"),
        "one\ntwo\nthree\nfour\nfive\nsix\n"
    );
    assert_eq!(
        editor.buffer_text(&uri),
        disk(&fixture, "a.txt"),
        "applied once: no second `six`"
    );
    let answers = editor.buffers.lock().unwrap().answers.clone();
    assert_eq!(
        answers,
        [(uri.clone(), false)],
        "the stale edit was refused, and the retry found nothing left to do"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_deleted_and_moved_files_are_told_and_a_moved_buffer_never_silently_points_nowhere() {
    let fixture = Fixture::new(vec![patch_rule(
        "reorganise",
        PatchBuilder::new()
            .add("new.txt", "fresh\n")
            .delete("gone.txt")
            .update_and_move("old.txt", "moved.txt", "old", "moved"),
    )])
    .await;
    std::fs::write(fixture.workspace.join("gone.txt"), "bye\n").unwrap();
    std::fs::write(fixture.workspace.join("old.txt"), "old\n").unwrap();
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    editor.track_buffers();
    editor.answer_with(|method, _| match method {
        "window/showDocument" => json!({ "success": true }),
        _ => Value::Null,
    });
    let gone = fixture.file_uri("gone.txt");
    let old = fixture.file_uri("old.txt");
    editor.open_buffer(&gone, "bye\n").await;
    editor.open_buffer(&old, "old\n").await;
    editor.type_into(&old, (0, 3), (0, 3), " but mine").await;
    ask_done(&mut editor, "reorganise").await;

    assert_eq!(disk(&fixture, "moved.txt"), "moved\n");
    assert!(!fixture.workspace.join("old.txt").exists());
    let told = editor.shown_messages().join("\n");
    assert!(told.contains("created new.txt"), "{told}");
    assert!(
        told.contains("deleted gone.txt: its open buffer now names a file that does not exist"),
        "{told}"
    );
    assert!(
        told.contains("moved old.txt to moved.txt: its open buffer now names a file that does not exist and holds unsaved edits"),
        "{told}"
    );
    assert_eq!(
        editor.buffer_text(&old),
        "old but mine\n",
        "the user's text stays"
    );
    let shown = editor
        .server_requests()
        .into_iter()
        .find(|r| r["method"] == "window/showDocument")
        .expect("the moved file is shown");
    assert_eq!(shown["params"]["uri"], fixture.file_uri("moved.txt"));
    assert_eq!(shown["params"]["takeFocus"], false);
    assert!(apply_edit_requests(&editor).is_empty(), "nothing to merge");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_by_a_command_reaches_the_buffer_at_the_end_of_the_turn() {
    let (fixture, mut editor, uri) = setup(vec![Rule::new(
        "rewrite with sed",
        vec![
            Reply::exec("sed -i s/three/THREE/ a.txt"),
            Reply::text("done"),
        ],
    )])
    .await;
    editor.type_into(&uri, (4, 4), (4, 4), "!").await;
    ask_done(&mut editor, "rewrite with sed").await;

    assert_eq!(disk(&fixture, "a.txt"), "one\ntwo\nTHREE\nfour\nfive\n");
    assert_eq!(editor.buffer_text(&uri), "one\ntwo\nTHREE\nfour\nfive!\n");
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_without_apply_edit_is_told_once_and_its_buffers_left_alone() {
    let fixture = Fixture::new(vec![patch_rule(
        "edit line two",
        PatchBuilder::new().update("a.txt", "two", "TWO"),
    )])
    .await;
    std::fs::write(fixture.workspace.join("a.txt"), FILE).unwrap();
    let mut editor = fixture
        .editor(json!({}), json!({ "window": { "workDoneProgress": true } }))
        .await;
    editor.open_buffer(&fixture.file_uri("a.txt"), FILE).await;
    ask_done(&mut editor, "edit line two").await;
    assert!(apply_edit_requests(&editor).is_empty());
    let told = editor.shown_messages();
    assert_eq!(
        told.iter()
            .filter(|m| m.contains("cannot take edits from the server"))
            .count(),
        1,
        "{told:#?}"
    );
    editor.shutdown().await;
}

/// Diagnostics published with a conflict among them (the agent's changes are marked too,
/// code `codex.change`).
fn conflicts_published(editor: &Editor) -> Vec<Value> {
    editor
        .notifications()
        .into_iter()
        .filter(holds_a_conflict)
        .collect()
}

fn holds_a_conflict(n: &Value) -> bool {
    n["method"] == "textDocument/publishDiagnostics"
        && n["params"]["diagnostics"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["code"] == "codex.conflict"))
}

/// Messages telling the user of a conflict or of a buffer that could not be updated.
fn trouble_told(editor: &Editor) -> Vec<String> {
    editor
        .shown_messages()
        .into_iter()
        .filter(|m| m.contains("unsaved edits") || m.contains("could not be updated"))
        .collect()
}

/// Issue 14, item 3: the merged buffer was right, but a second merge (old base, merged
/// buffer, disk) saw the user's line and the agent's next to it as one block, reported a
/// conflict, and "Take Codex's version" then deleted the user's unsaved edit. Also for a
/// CRLF file without a final line break.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsaved_edit_next_to_the_agents_change_is_no_conflict() {
    for file in [
        "alpha\nbeta\ngamma\ndelta\n",
        "alpha\r\nbeta\r\ngamma\r\ndelta",
    ] {
        let fixture = Fixture::new(vec![patch_rule(
            "edit beta",
            PatchBuilder::new().update("a.txt", "beta", "BETA"),
        )])
        .await;
        std::fs::write(fixture.workspace.join("a.txt"), file).unwrap();
        let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
        editor.track_buffers();
        let uri = fixture.file_uri("a.txt");
        editor.open_buffer(&uri, file).await;
        editor.type_into(&uri, (0, 5), (0, 5), " (mine)").await;
        ask_done(&mut editor, "edit beta").await;

        let on_disk = disk(&fixture, "a.txt");
        assert!(
            on_disk.contains("BETA") && !on_disk.contains("mine"),
            "{on_disk:?}"
        );
        assert_eq!(
            editor.buffer_text(&uri),
            on_disk.replacen("alpha", "alpha (mine)", 1),
            "the user's edit and the agent's, both ({file:?})"
        );
        assert_eq!(
            conflicts_published(&editor),
            Vec::<Value>::new(),
            "{file:?}"
        );
        assert_eq!(trouble_told(&editor), Vec::<String>::new(), "{file:?}");
        let actions = editor
            .request(
                "textDocument/codeAction",
                json!({
                    "textDocument": { "uri": uri },
                    "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 1, "character": 0 } },
                    "context": { "diagnostics": [] },
                }),
            )
            .await
            .unwrap();
        assert!(
            !actions.to_string().contains("Take Codex's version"),
            "no conflict to resolve: {actions:#}"
        );
        editor.shutdown().await;
    }
}

/// Issue 14, item 4: editors open a file with a UTF-8 byte-order mark without it in the
/// buffer (and Emacs shows CRLF line ends as LF). Compared with the raw bytes, an
/// untouched buffer looked edited: the agent's change was not mirrored, a conflict was
/// marked, and the buffer went to the model as "unsaved" on every turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bom_or_line_ends_the_editor_normalised_are_not_unsaved_edits() {
    for (on_disk, in_buffer) in [
        ("\u{FEFF}one\ntwo\nthree\n", "one\ntwo\nthree\n"),
        ("one\r\ntwo\r\nthree\r\n", "one\ntwo\nthree\n"),
        ("\u{FEFF}one\r\ntwo\r\nthree\r\n", "one\ntwo\nthree\n"),
    ] {
        let fixture = Fixture::new(vec![
            patch_rule(
                "edit line two",
                PatchBuilder::new().update("a.txt", "two", "TWO"),
            ),
            Rule::new("just talk", vec![Reply::text("talked")]),
        ])
        .await;
        std::fs::write(fixture.workspace.join("a.txt"), on_disk).unwrap();
        let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
        editor.track_buffers();
        let uri = fixture.file_uri("a.txt");
        editor.open_buffer(&uri, in_buffer).await;
        ask_done(&mut editor, "edit line two").await;

        let now = disk(&fixture, "a.txt");
        assert!(now.contains("TWO"), "{now:?}");
        assert_eq!(
            now.starts_with('\u{FEFF}'),
            on_disk.starts_with('\u{FEFF}'),
            "the file keeps its BOM (or its lack): {now:?}"
        );
        assert_eq!(
            editor.buffer_text(&uri),
            "one\nTWO\nthree\n",
            "the change is in the buffer, no BOM or CR added ({on_disk:?})"
        );
        assert_eq!(
            conflicts_published(&editor),
            Vec::<Value>::new(),
            "{on_disk:?}"
        );
        assert_eq!(trouble_told(&editor), Vec::<String>::new(), "{on_disk:?}");
        ask_done(&mut editor, "just talk").await;
        let sent = serde_json::to_string(&fixture.provider.requests()).unwrap();
        assert!(
            !sent.contains("Unsaved editor buffer"),
            "an untouched buffer is not sent as unsaved ({on_disk:?})"
        );
        editor.shutdown().await;
    }
}

/// Issue 14, item 5: a buffer opened under another spelling of its file's URI than the one
/// codex-lsp would write got its `workspace/applyEdit` (and its diagnostics) under
/// codex-lsp's spelling, which the editor does not know: the edit was lost, and a warning
/// came at the end of every later turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buffer_is_addressed_with_the_uri_the_editor_opened_it_with() {
    let names = [
        "a.txt", "b.txt", "c d.txt", "e.txt", "f.txt", "g:h.txt", "i j.txt",
    ];
    let mut patch = PatchBuilder::new();
    for name in names {
        patch = patch.update(name, "two", "TWO");
    }
    let fixture = Fixture::new(vec![
        patch_rule("edit them all", patch),
        Rule::new("just talk", vec![Reply::text("talked")]),
    ])
    .await;
    std::fs::create_dir(fixture.workspace.join("sub")).unwrap();
    for name in names {
        std::fs::write(fixture.workspace.join(name), FILE).unwrap();
    }
    let ws = fixture.workspace.display().to_string();
    let spellings = [
        format!("file://localhost{ws}/a.txt"),
        format!("file://{ws}/sub/../b.txt"),
        format!("file://{ws}/c d.txt"),
        format!("file://{ws}/sub/%2e%2e/e.txt"),
        format!("FILE://{ws}/./f.txt"),
        format!("file://{ws}/g%3ah.txt"),
        format!("file://{ws}/i%20j.txt"),
    ];
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    editor.track_buffers();
    for uri in &spellings {
        editor.open_buffer(uri, FILE).await;
    }
    // One of them with an unsaved edit where the agent writes: its conflict is marked on it.
    editor
        .type_into(&spellings[0], (1, 0), (1, 3), "my two")
        .await;
    ask_done(&mut editor, "edit them all").await;

    let edited = "one\nTWO\nthree\nfour\nfive\n";
    for (name, uri) in names.iter().zip(&spellings).skip(1) {
        assert_eq!(disk(&fixture, name), edited);
        assert_eq!(editor.buffer_text(uri), edited, "{uri}");
    }
    let addressed: Vec<String> = apply_edit_requests(&editor)
        .iter()
        .map(|p| {
            p["edit"]["documentChanges"][0]["textDocument"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for uri in &spellings[1..] {
        assert!(
            addressed.contains(uri),
            "{uri} not addressed: {addressed:#?}"
        );
    }
    let conflicts = conflicts_published(&editor);
    assert!(!conflicts.is_empty());
    assert!(
        conflicts
            .iter()
            .all(|n| n["params"]["uri"] == spellings[0].as_str()),
        "{conflicts:#?}"
    );
    assert_eq!(
        editor.buffer_text(&spellings[0]),
        "one\nmy two\nthree\nfour\nfive\n"
    );

    ask_done(&mut editor, "just talk").await;
    let failed: Vec<String> = editor
        .shown_messages()
        .into_iter()
        .filter(|m| m.contains("could not be updated"))
        .collect();
    assert_eq!(failed, Vec::<String>::new());
    editor.shutdown().await;
}

/// Issue 14, item 9: after the editor reloaded a saved file changed on disk (`git
/// checkout`), the merge base was still the old snapshot: the user's next line and the
/// checkout looked like one unsaved block, the agent's edit next to it became a false
/// conflict and missed the buffer, and saving undid it. A reload as VS Code sends it (the
/// changed lines) and as a whole text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_editor_reloads_the_file_the_agents_edit_lands_in_the_buffer() {
    for whole_text in [false, true] {
        let (fixture, mut editor, uri) = setup(vec![patch_rule(
            "edit line two",
            PatchBuilder::new().update("a.txt", "two", "TWO"),
        )])
        .await;
        editor
            .notify(
                "textDocument/didSave",
                json!({ "textDocument": { "uri": uri } }),
            )
            .await;
        let checked_out = "one\ntwo\nTHREE (checked out)\nfour\nfive\n";
        std::fs::write(fixture.workspace.join("a.txt"), checked_out).unwrap();
        if whole_text {
            let reload = editor
                .buffers
                .lock()
                .unwrap()
                .replace_all(&uri, checked_out);
            editor.send(&reload).await;
        } else {
            editor
                .type_into(&uri, (2, 0), (2, 5), "THREE (checked out)")
                .await;
        }
        editor.type_into(&uri, (3, 4), (3, 4), " (mine)").await;
        ask_done(&mut editor, "edit line two").await;

        assert_eq!(
            disk(&fixture, "a.txt"),
            "one\nTWO\nTHREE (checked out)\nfour\nfive\n"
        );
        assert_eq!(
            editor.buffer_text(&uri),
            "one\nTWO\nTHREE (checked out)\nfour (mine)\nfive\n",
            "whole text: {whole_text}"
        );
        assert_eq!(conflicts_published(&editor), Vec::<Value>::new());
        assert_eq!(trouble_told(&editor), Vec::<String>::new());
        editor.shutdown().await;
    }
}

/// Helix 25.01 can send two keystrokes' `didChange`s out of order (seen in its real test:
/// version 6, then 5). Applied as received, codex-lsp's copy may differ from the buffer, so
/// the agent's change must not be merged into the buffer by an edit computed on it (it
/// could land in the wrong place once the versions line up again): nothing is sent to the
/// buffer, the user is told why, and a full-text change brings the copy back in step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_out_of_order_changes_no_edit_is_computed_on_the_copy() {
    let fixture = Fixture::new(vec![
        patch_rule(
            "edit line three",
            PatchBuilder::new().update("a.txt", "three", "THREE"),
        ),
        patch_rule(
            "edit line five",
            PatchBuilder::new().update("a.txt", "five", "FIVE"),
        ),
    ])
    .await;
    std::fs::write(
        fixture.workspace.join("a.txt"),
        "one\ntwo\nthree\nfour\nfive\n",
    )
    .unwrap();
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    editor.track_buffers();
    let uri = fixture.file_uri("a.txt");
    editor
        .open_buffer(&uri, "one\ntwo\nthree\nfour\nfive\n")
        .await;
    let change = |version: i32, character: u32, text: &str| {
        json!({
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [{
                "range": { "start": { "line": 0, "character": character },
                           "end": { "line": 0, "character": character } },
                "text": text
            }]
        })
    };
    // The user typed "ab" after "one"; the editor sent b's change before a's.
    editor
        .notify("textDocument/didChange", change(3, 4, "b"))
        .await;
    editor
        .notify("textDocument/didChange", change(2, 3, "a"))
        .await;
    ask_done(&mut editor, "edit line three").await;
    let answers = editor.buffers.lock().unwrap().answers.clone();
    assert!(
        answers.iter().all(|(u, _)| u != &uri),
        "no edit may be computed on a copy that may differ: {answers:?}"
    );
    let told = trouble_told(&editor).join("\n");
    assert!(told.contains("out of order"), "{told}");

    // A full-text change: in step again, and the next turn's change reaches the buffer.
    let text = "oneab\ntwo\nthree\nfour\nfive\n";
    editor
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": 4 },
                "contentChanges": [{ "text": text }]
            }),
        )
        .await;
    {
        let mut buffers = editor.buffers.lock().unwrap();
        let buffer = buffers.docs.get_mut(&uri).unwrap();
        buffer.text = text.into();
        buffer.version = 4;
    }
    ask_done(&mut editor, "edit line five").await;
    assert_eq!(
        editor.buffer_text(&uri),
        "oneab\ntwo\nTHREE\nfour\nFIVE\n",
        "{:?}",
        editor.shown_messages()
    );
    editor.shutdown().await;
}
