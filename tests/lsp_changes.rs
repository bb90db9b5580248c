//! End to end: keep or undo what the agent did (issue 17). The real app-server writes the
//! files; codex-lsp marks each hunk (`codex.change` diagnostics), reverts hunks, files and
//! turns through the three-way merge (the user's later edits kept, overlaps reported) and
//! tells the agent (`thread/revert`, or a note in the next turn's input).

mod support;

use serde_json::{json, Value};
use support::{editing_capabilities, Editor, Fixture};

use mock_provider::{PatchBuilder, Reply, Rule};

const FILE: &str = "one\ntwo\nthree\nfour\nfive\n";

fn patch_rule(prompt: &str, patch: PatchBuilder) -> Rule {
    Rule::new(prompt, vec![patch.into_reply(), Reply::text("edited")])
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

fn disk(fixture: &Fixture, name: &str) -> Option<String> {
    std::fs::read_to_string(fixture.workspace.join(name)).ok()
}

/// The `codex.change` diagnostics of the last `publishDiagnostics` for `uri`.
fn change_marks(editor: &Editor, uri: &str) -> Vec<Value> {
    editor
        .notifications()
        .into_iter()
        .rfind(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri)
        .map(|n| {
            n["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["code"] == "codex.change")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_marks(editor: &Editor, uri: &str, count: usize) -> Vec<Value> {
    wait_marks_at(editor, uri, count, None).await
}

/// Waits until the marks of `uri` are `count`, the first starting at `first_line` if given.
async fn wait_marks_at(
    editor: &Editor,
    uri: &str,
    count: usize,
    first_line: Option<u32>,
) -> Vec<Value> {
    editor
        .wait_for(
            &format!("{count} change marks on {uri} from {first_line:?}"),
            || {
                let marks = change_marks(editor, uri);
                let placed =
                    first_line.is_none_or(|line| marks[0]["range"]["start"]["line"] == line);
                (marks.len() == count && placed).then_some(marks)
            },
        )
        .await
}

async fn actions_at(editor: &mut Editor, uri: &str, line: u32) -> Vec<Value> {
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
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

async fn run_action(editor: &mut Editor, actions: &[Value], title: &str) -> Result<Value, Value> {
    let action = actions
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no action {title:?} in {actions:#?}"));
    let command = &action["command"];
    editor
        .request(
            "workspace/executeCommand",
            json!({ "command": command["command"], "arguments": command["arguments"] }),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hunk_is_marked_reverted_around_an_unsaved_edit_and_an_overlap_is_a_conflict() {
    let fixture = Fixture::new(vec![
        patch_rule(
            "edit two and four",
            PatchBuilder::new().update("a.txt", "two\nthree\nfour", "TWO\nthree\nFOUR"),
        ),
        Rule::new("go on", vec![Reply::text("going on")]),
    ])
    .await;
    std::fs::write(fixture.workspace.join("a.txt"), FILE).unwrap();
    let mut capabilities = editing_capabilities();
    capabilities["experimental"] = json!({ "codexChanges": true });
    let mut editor = fixture.editor(json!({}), capabilities).await;
    editor.track_buffers();
    let uri = fixture.file_uri("a.txt");
    editor.open_buffer(&uri, FILE).await;
    ask_done(&mut editor, "edit two and four").await;
    assert_eq!(editor.buffer_text(&uri), "one\nTWO\nthree\nFOUR\nfive\n");
    // The editor that draws them gets the hunks.
    let drawn = editor
        .wait_notification("codex/changes", |n| {
            n["method"] == "codex/changes"
                && n["params"]["hunks"]
                    .as_array()
                    .is_some_and(|h| h.len() == 2)
        })
        .await;
    let hunk = &drawn["params"]["hunks"][0];
    assert_eq!(drawn["params"]["uri"], uri.as_str());
    assert_eq!(hunk["prompt"], "edit two and four");
    assert_eq!(hunk["status"], "pending");
    assert_eq!((&hunk["added"], &hunk["removed"]), (&json!(1), &json!(1)));
    assert_eq!(hunk["range"]["start"]["line"], 1);

    let marks = wait_marks(&editor, &uri, 2).await;
    assert_eq!(marks[0]["source"], "codex");
    assert_eq!(marks[0]["severity"], 4);
    assert_eq!(
        marks[0]["message"],
        "Codex changed this (turn 1: \"edit two and four\"): +1 −1"
    );
    assert_eq!(marks[0]["range"]["start"]["line"], 1);
    assert_eq!(marks[1]["range"]["start"]["line"], 3);

    // An unsaved edit above both: the marks follow it.
    editor.type_into(&uri, (0, 0), (0, 0), "zero\n").await;
    let marks = wait_marks_at(&editor, &uri, 2, Some(2)).await;
    assert_eq!(marks[1]["range"]["start"]["line"], 4, "{marks:#?}");

    let actions = actions_at(&mut editor, &uri, 2).await;
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    for title in [
        "Codex: Keep this change",
        "Codex: Revert this change",
        "Codex: Keep all changes in a.txt",
        "Codex: Revert all changes in a.txt",
        "Codex: Keep everything from this turn",
        "Codex: Undo this turn",
    ] {
        assert!(titles.contains(&title), "{title}: {titles:#?}");
    }
    let answer = run_action(&mut editor, &actions, "Codex: Revert this change")
        .await
        .expect("revert");
    assert_eq!(answer["conflicts"], json!([]), "{answer:#}");
    assert_eq!(
        editor.buffer_text(&uri),
        "zero\none\ntwo\nthree\nFOUR\nfive\n",
        "the hunk reverted, the unsaved line kept"
    );
    assert_eq!(
        disk(&fixture, "a.txt").unwrap(),
        "one\nTWO\nthree\nFOUR\nfive\n",
        "an open buffer changes, not its file"
    );
    let marks = wait_marks(&editor, &uri, 1).await;
    assert_eq!(marks[0]["range"]["start"]["line"], 4);

    // The user rewrites the agent's line: reverting it is a conflict; nothing changes.
    editor.type_into(&uri, (4, 4), (4, 4), " (mine)").await;
    let actions = actions_at(&mut editor, &uri, 4).await;
    let answer = run_action(&mut editor, &actions, "Codex: Revert this change")
        .await
        .expect("the answer reports the conflict");
    assert_eq!(answer["reverted"], json!([]), "{answer:#}");
    assert!(
        answer["conflicts"][0]["why"]
            .as_str()
            .unwrap()
            .contains("your edits overlap the change at line 5"),
        "{answer:#}"
    );
    assert_eq!(
        editor.buffer_text(&uri),
        "zero\none\ntwo\nthree\nFOUR (mine)\nfive\n"
    );
    editor
        .wait_for("the conflict told", || {
            editor
                .shown_messages()
                .into_iter()
                .find(|m| m.contains("not reverted"))
        })
        .await;

    // Keeping it clears the last mark.
    let actions = actions_at(&mut editor, &uri, 4).await;
    run_action(&mut editor, &actions, "Codex: Keep this change")
        .await
        .expect("keep");
    wait_marks(&editor, &uri, 0).await;
    let listed = editor
        .command("codex.listChanges", json!({}))
        .await
        .expect("list");
    let statuses: Vec<&Value> = listed["turns"][0]["files"][0]["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &h["status"])
        .collect();
    assert_eq!(statuses, [&json!("reverted"), &json!("kept")], "{listed:#}");

    // The agent is told of the reverted hunk at its next turn.
    ask_done(&mut editor, "go on").await;
    let request = fixture
        .provider
        .requests()
        .into_iter()
        .rfind(|r| r.to_string().contains("go on"))
        .unwrap()
        .to_string();
    assert!(
        request.contains("the user reverted some of your changes")
            && request.contains("one hunk of your change to a.txt in turn 1"),
        "{request}"
    );
    editor.shutdown().await;
}

/// The `codex.conflict` diagnostics of the last `publishDiagnostics` for `uri`.
/// The user types while a revert's edit is on its way: the editor refuses it as stale, and
/// the revert is computed again against the buffer with the typing in it (real Helix raced
/// this way and the revert failed with "the editor refused the edit").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_refused_as_stale_is_computed_again_with_the_users_typing() {
    let fixture = Fixture::new(vec![patch_rule(
        "edit two and four",
        PatchBuilder::new().update("a.txt", "two\nthree\nfour", "TWO\nthree\nFOUR"),
    )])
    .await;
    std::fs::write(fixture.workspace.join("a.txt"), FILE).unwrap();
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    editor.track_buffers();
    let uri = fixture.file_uri("a.txt");
    editor.open_buffer(&uri, FILE).await;
    ask_done(&mut editor, "edit two and four").await;
    wait_marks(&editor, &uri, 2).await;
    editor
        .buffers
        .lock()
        .unwrap()
        .type_first
        .insert(uri.clone(), "six\n".into());
    let actions = actions_at(&mut editor, &uri, 1).await;
    let answer = run_action(&mut editor, &actions, "Codex: Revert this change")
        .await
        .expect("revert");
    assert_eq!(answer["conflicts"], json!([]), "{answer:#}");
    assert_eq!(
        editor.buffer_text(&uri),
        "one\ntwo\nthree\nFOUR\nfive\nsix\n",
        "the hunk reverted, the line typed meanwhile kept"
    );
    let answers = editor.buffers.lock().unwrap().answers.clone();
    let last_two: Vec<bool> = answers.iter().rev().take(2).rev().map(|a| a.1).collect();
    assert_eq!(
        last_two,
        [false, true],
        "refused as stale, then applied: {answers:?}"
    );
    editor.shutdown().await;
}

fn conflict_marks(editor: &Editor, uri: &str) -> Vec<Value> {
    editor
        .notifications()
        .into_iter()
        .rfind(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri)
        .map(|n| {
            n["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["code"] == "codex.conflict")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_overlapping_an_edit_leaves_a_conflict_each_fix_resolves() {
    let fixture = Fixture::new(vec![patch_rule(
        "edit two and four",
        PatchBuilder::new()
            .update("a.txt", "two\nthree\nfour", "TWO\nthree\nFOUR")
            .update("b.txt", "two\nthree\nfour", "TWO\nthree\nFOUR"),
    )])
    .await;
    std::fs::write(fixture.workspace.join("a.txt"), FILE).unwrap();
    std::fs::write(fixture.workspace.join("b.txt"), FILE).unwrap();
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    editor.track_buffers();
    let (a, b) = (fixture.file_uri("a.txt"), fixture.file_uri("b.txt"));
    editor.open_buffer(&a, FILE).await;
    editor.open_buffer(&b, FILE).await;
    ask_done(&mut editor, "edit two and four").await;
    // In both: a line typed above (elsewhere) and the agent's FOUR rewritten (an overlap).
    for uri in [&a, &b] {
        wait_marks(&editor, uri, 2).await;
        editor.type_into(uri, (0, 0), (0, 0), "zero\n").await;
        editor.type_into(uri, (4, 4), (4, 4), " (mine)").await;
        assert_eq!(
            editor.buffer_text(uri),
            "zero\none\nTWO\nthree\nFOUR (mine)\nfive\n"
        );
    }

    let answer = editor
        .command("codex.undoTurn", json!({}))
        .await
        .expect("undo");
    // The hunk not overlapped is reverted; the overlapped one is a conflict region.
    assert_eq!(
        answer["reverted"].as_array().map(Vec::len),
        Some(2),
        "{answer:#}"
    );
    assert_eq!(answer["conflicts"][0]["resolvable"], true, "{answer:#}");
    assert_eq!(answer["threadReverted"], false, "{answer:#}");
    for uri in [&a, &b] {
        assert_eq!(
            editor.buffer_text(uri),
            "zero\none\ntwo\nthree\nFOUR (mine)\nfive\n"
        );
        let conflicts = editor
            .wait_for("the revert's conflict", || {
                Some(conflict_marks(&editor, uri)).filter(|c| c.len() == 1)
            })
            .await;
        assert_eq!(conflicts[0]["range"]["start"]["line"], 4, "{conflicts:#?}");
        assert_eq!(conflicts[0]["range"]["end"]["line"], 5, "{conflicts:#?}");
    }
    editor
        .wait_for("the conflict told", || {
            editor
                .shown_messages()
                .into_iter()
                .find(|m| m.contains("not reverted where your edits overlap"))
        })
        .await;

    // a.txt: revert anyway takes the text before the turn there; the line typed above stays.
    let actions = actions_at(&mut editor, &a, 4).await;
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    assert!(titles.contains(&"Codex: Keep my text"), "{titles:#?}");
    run_action(
        &mut editor,
        &actions,
        "Codex: Revert anyway (take the pre-turn text)",
    )
    .await
    .expect("revert anyway");
    assert_eq!(
        editor.buffer_text(&a),
        "zero\none\ntwo\nthree\nfour\nfive\n"
    );
    // b.txt: keep my text changes nothing.
    let actions = actions_at(&mut editor, &b, 4).await;
    run_action(&mut editor, &actions, "Codex: Keep my text")
        .await
        .expect("keep my text");
    assert_eq!(
        editor.buffer_text(&b),
        "zero\none\ntwo\nthree\nFOUR (mine)\nfive\n"
    );
    for uri in [&a, &b] {
        editor
            .wait_for("the conflict gone", || {
                conflict_marks(&editor, uri).is_empty().then_some(())
            })
            .await;
        wait_marks(&editor, uri, 0).await;
    }
    let listed = editor
        .command("codex.listChanges", json!({}))
        .await
        .expect("list");
    let statuses = |name: &str| -> Vec<Value> {
        let files = listed["turns"][0]["files"].as_array().unwrap();
        let file = files
            .iter()
            .find(|f| f["shown"] == name)
            .unwrap_or_else(|| panic!("{name} in {listed:#}"));
        file["hunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["status"].clone())
            .collect()
    };
    assert_eq!(
        statuses("a.txt"),
        [json!("reverted"), json!("reverted")],
        "{listed:#}"
    );
    assert_eq!(
        statuses("b.txt"),
        [json!("reverted"), json!("kept")],
        "{listed:#}"
    );
    // Disk was never touched: open buffers change, not their files.
    assert_eq!(
        disk(&fixture, "a.txt").unwrap(),
        "one\nTWO\nthree\nFOUR\nfive\n"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undoing_a_turn_restores_edited_created_deleted_and_moved_files_and_the_model_forgets_it() {
    let fixture = Fixture::new(vec![
        patch_rule(
            "reorganise everything",
            PatchBuilder::new()
                .update("a.txt", "two", "TWO")
                .update("b.txt", "beta", "BETA")
                .add("new.txt", "fresh\n")
                .delete("gone.txt")
                .update_and_move("old.txt", "moved.txt", "old", "moved"),
        ),
        Rule::new("afterwards", vec![Reply::text("fine")]),
    ])
    .await;
    let write =
        |name: &str, text: &str| std::fs::write(fixture.workspace.join(name), text).unwrap();
    write("a.txt", FILE);
    write("b.txt", "alpha\nbeta\ngamma\n");
    write("gone.txt", "bye\n");
    write("old.txt", "old\n");
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    editor.track_buffers();
    editor.answer_with(|method, _| match method {
        "window/showDocument" => json!({ "success": true }),
        _ => Value::Null,
    });
    let a = fixture.file_uri("a.txt");
    editor.open_buffer(&a, FILE).await;
    editor.type_into(&a, (4, 4), (4, 4), " (mine)").await;
    ask_done(&mut editor, "reorganise everything").await;
    assert_eq!(
        editor.buffer_text(&a),
        "one\nTWO\nthree\nfour\nfive (mine)\n"
    );
    assert_eq!(disk(&fixture, "new.txt").as_deref(), Some("fresh\n"));
    assert_eq!(disk(&fixture, "gone.txt"), None);
    assert_eq!(disk(&fixture, "old.txt"), None);
    // A closed file's change is marked too.
    wait_marks(&editor, &fixture.file_uri("b.txt"), 1).await;

    let answer = editor
        .command("codex.undoTurn", json!({}))
        .await
        .expect("undo");
    assert_eq!(answer["conflicts"], json!([]), "{answer:#}");
    assert_eq!(answer["threadReverted"], true, "{answer:#}");
    assert_eq!(
        editor.buffer_text(&a),
        "one\ntwo\nthree\nfour\nfive (mine)\n",
        "the open buffer is back, with the user's unsaved edit"
    );
    assert_eq!(
        disk(&fixture, "b.txt").as_deref(),
        Some("alpha\nbeta\ngamma\n")
    );
    assert_eq!(
        disk(&fixture, "new.txt"),
        None,
        "the created file is removed"
    );
    assert_eq!(disk(&fixture, "gone.txt").as_deref(), Some("bye\n"));
    assert_eq!(disk(&fixture, "old.txt").as_deref(), Some("old\n"));
    assert_eq!(disk(&fixture, "moved.txt"), None);
    wait_marks(&editor, &a, 0).await;
    wait_marks(&editor, &fixture.file_uri("b.txt"), 0).await;

    // The model's next request no longer holds the undone turn.
    ask_done(&mut editor, "afterwards").await;
    let request = fixture
        .provider
        .requests()
        .into_iter()
        .rfind(|r| r.to_string().contains("afterwards"))
        .unwrap()
        .to_string();
    assert!(
        !request.contains("reorganise everything"),
        "the undone turn is still in the history: {request}"
    );
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_is_undone_after_the_app_server_died_and_the_new_one_forgets_it() {
    let fixture = Fixture::new(vec![
        patch_rule(
            "change file b",
            PatchBuilder::new().update("b.txt", "beta", "BETA"),
        ),
        Rule::new("one more thing", vec![Reply::text("fine")]),
    ])
    .await;
    std::fs::write(fixture.workspace.join("b.txt"), "alpha\nbeta\n").unwrap();
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    ask_done(&mut editor, "change file b").await;
    assert_eq!(disk(&fixture, "b.txt").as_deref(), Some("alpha\nBETA\n"));

    let servers = editor.app_server_pids();
    assert!(!servers.is_empty(), "no app-server child found");
    for pid in &servers {
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    editor.wait_message("app-server stopped").await;

    let answer = editor
        .command("codex.undoTurn", json!({}))
        .await
        .expect("undo");
    assert_eq!(answer["conflicts"], json!([]), "{answer:#}");
    assert_eq!(answer["threadReverted"], true, "{answer:#}");
    assert_eq!(disk(&fixture, "b.txt").as_deref(), Some("alpha\nbeta\n"));

    ask_done(&mut editor, "one more thing").await;
    let request = fixture
        .provider
        .requests()
        .into_iter()
        .rfind(|r| r.to_string().contains("one more thing"))
        .unwrap()
        .to_string();
    assert!(!request.contains("change file b"), "{request}");
    editor.shutdown().await;
}

/// With `reviewChanges: "keep"` (the default) the marks go when the next turn starts; with
/// `"review"` they stay until kept or reverted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_clear_at_the_next_turn_unless_changes_are_reviewed() {
    for (mode, left) in [("keep", 0), ("review", 1)] {
        let fixture = Fixture::new(vec![
            patch_rule(
                "edit two",
                PatchBuilder::new().update("a.txt", "two", "TWO"),
            ),
            Rule::new("just talk", vec![Reply::text("talking")]),
        ])
        .await;
        std::fs::write(fixture.workspace.join("a.txt"), FILE).unwrap();
        let mut editor = fixture
            .editor(json!({ "reviewChanges": mode }), editing_capabilities())
            .await;
        editor.track_buffers();
        let uri = fixture.file_uri("a.txt");
        editor.open_buffer(&uri, FILE).await;
        ask_done(&mut editor, "edit two").await;
        wait_marks(&editor, &uri, 1).await;
        ask_done(&mut editor, "just talk").await;
        wait_marks(&editor, &uri, left).await;
        // Either way the turn is still undoable.
        let answer = editor
            .command("codex.undoTurn", json!({}))
            .await
            .expect("undo");
        assert_eq!(
            answer["reverted"].as_array().unwrap().len(),
            1,
            "{mode}: {answer:#}"
        );
        assert_eq!(editor.buffer_text(&uri), FILE, "{mode}");
        editor.shutdown().await;
    }
}

/// The record outlives the editor: a new codex-lsp on the same workspace undoes the last
/// turn (the thread forgets it too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_is_undone_after_the_editor_restarted() {
    let fixture = Fixture::new(vec![
        patch_rule(
            "rename the greek letter",
            PatchBuilder::new().update("b.txt", "beta", "BETA"),
        ),
        Rule::new("next question", vec![Reply::text("fine")]),
    ])
    .await;
    std::fs::write(fixture.workspace.join("b.txt"), "alpha\nbeta\n").unwrap();
    let mut first = fixture.editor(json!({}), editing_capabilities()).await;
    ask_done(&mut first, "rename the greek letter").await;
    assert_eq!(disk(&fixture, "b.txt").as_deref(), Some("alpha\nBETA\n"));
    first.shutdown().await;

    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    let listed = editor
        .command("codex.listChanges", json!({}))
        .await
        .expect("list");
    assert_eq!(
        listed["turns"][0]["prompt"], "rename the greek letter",
        "{listed:#}"
    );
    let answer = editor
        .command("codex.undoTurn", json!({}))
        .await
        .expect("undo");
    assert_eq!(answer["conflicts"], json!([]), "{answer:#}");
    assert_eq!(answer["threadReverted"], true, "{answer:#}");
    assert_eq!(disk(&fixture, "b.txt").as_deref(), Some("alpha\nbeta\n"));
    ask_done(&mut editor, "next question").await;
    let request = fixture
        .provider
        .requests()
        .into_iter()
        .rfind(|r| r.to_string().contains("next question"))
        .unwrap()
        .to_string();
    assert!(!request.contains("rename the greek letter"), "{request}");
    editor.shutdown().await;
}

/// `codex.changeBase {uri, turnId}`: the text of a file before the turn (what a diff view
/// shows on its left, VS Code's "Review Changes"), `null` for a file the turn created; a turn
/// or file it does not know is an invalid-params error naming it, and the server goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_before_a_turn_is_fetched_for_a_diff_view() {
    let fixture = Fixture::new(vec![patch_rule(
        "edit a and add b",
        PatchBuilder::new()
            .update("a.txt", "two", "TWO")
            .add("b.txt", "new file\n"),
    )])
    .await;
    std::fs::write(fixture.workspace.join("a.txt"), FILE).unwrap();
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    let done = ask_done(&mut editor, "edit a and add b").await;
    let turn_id = done["turnId"].as_str().unwrap().to_string();
    assert_eq!(
        disk(&fixture, "a.txt").unwrap(),
        "one\nTWO\nthree\nfour\nfive\n"
    );
    let a = fixture.file_uri("a.txt");
    let base = editor
        .command("codex.changeBase", json!({ "uri": a, "turnId": turn_id }))
        .await
        .expect("the base of a.txt");
    assert_eq!(base["before"], FILE, "{base:#}");
    assert_eq!(base["turn"], 1, "{base:#}");
    let b = fixture.file_uri("b.txt");
    let base = editor
        .command("codex.changeBase", json!({ "uri": b, "turnId": turn_id }))
        .await
        .expect("the base of b.txt");
    assert_eq!(base["before"], Value::Null, "{base:#}");

    let unknown_turn = editor
        .command(
            "codex.changeBase",
            json!({ "uri": a, "turnId": "no-such-turn" }),
        )
        .await
        .expect_err("an unknown turn");
    assert_eq!(unknown_turn["code"], -32602, "{unknown_turn:#}");
    assert!(
        unknown_turn["message"]
            .as_str()
            .unwrap()
            .contains("no-such-turn"),
        "{unknown_turn:#}"
    );
    let other = fixture.file_uri("other.txt");
    let unknown_file = editor
        .command(
            "codex.changeBase",
            json!({ "uri": other, "turnId": turn_id }),
        )
        .await
        .expect_err("a file the turn did not change");
    assert!(
        unknown_file["message"]
            .as_str()
            .unwrap()
            .contains("other.txt"),
        "{unknown_file:#}"
    );
    // Still serving.
    editor
        .command("codex.listChanges", json!({}))
        .await
        .expect("list after the errors");
}

/// An editor that pulls diagnostics and draws `codex/changes` (VS Code's client does both):
/// when the user's edit moves the marks, the hunks are sent again at their new lines, so the
/// signs and lenses drawn from them follow (the diagnostics are pulled; these are not).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pulling_editor_is_told_where_the_marked_hunks_moved() {
    let fixture = Fixture::new(vec![patch_rule(
        "edit two and four",
        PatchBuilder::new().update("a.txt", "two\nthree\nfour", "TWO\nthree\nFOUR"),
    )])
    .await;
    std::fs::write(fixture.workspace.join("a.txt"), FILE).unwrap();
    let mut capabilities = editing_capabilities();
    capabilities["experimental"] = json!({ "codexChanges": true });
    capabilities["textDocument"]["diagnostic"] = json!({ "dynamicRegistration": false });
    let mut editor = fixture.editor(json!({}), capabilities).await;
    editor.track_buffers();
    let uri = fixture.file_uri("a.txt");
    editor.open_buffer(&uri, FILE).await;
    ask_done(&mut editor, "edit two and four").await;
    let starts = |n: &Value| -> Vec<Value> {
        n["params"]["hunks"]
            .as_array()
            .map(|h| {
                h.iter()
                    .map(|h| h["range"]["start"]["line"].clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    editor
        .wait_notification("codex/changes at lines 1 and 3", |n| {
            n["method"] == "codex/changes" && starts(n) == [json!(1), json!(3)]
        })
        .await;
    editor.type_into(&uri, (0, 0), (0, 0), "zero\n").await;
    let moved = editor
        .wait_notification("codex/changes at lines 2 and 4", |n| {
            n["method"] == "codex/changes" && starts(n) == [json!(2), json!(4)]
        })
        .await;
    assert_eq!(moved["params"]["uri"], uri.as_str(), "{moved:#}");
}

/// Fast typing that moves the marks does not republish them on every keystroke: at most
/// once per short window, and the last publish always says where they are now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_moved_by_fast_typing_are_republished_coalesced_ending_where_they_are() {
    let fixture = Fixture::new(vec![patch_rule(
        "edit two and four",
        PatchBuilder::new().update("a.txt", "two\nthree\nfour", "TWO\nthree\nFOUR"),
    )])
    .await;
    std::fs::write(fixture.workspace.join("a.txt"), FILE).unwrap();
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    editor.track_buffers();
    let uri = fixture.file_uri("a.txt");
    editor.open_buffer(&uri, FILE).await;
    ask_done(&mut editor, "edit two and four").await;
    wait_marks_at(&editor, &uri, 2, Some(1)).await;
    let publishes = |editor: &Editor| {
        editor
            .notifications()
            .iter()
            .filter(|n| {
                n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
            })
            .count()
    };
    let before = publishes(&editor);
    let typed = 20;
    for _ in 0..typed {
        editor.type_into(&uri, (0, 0), (0, 0), "zero\n").await;
    }
    let marks = wait_marks_at(&editor, &uri, 2, Some(1 + typed)).await;
    assert_eq!(marks[1]["range"]["start"]["line"], 3 + typed, "{marks:#?}");
    let republished = publishes(&editor) - before;
    assert!(
        republished < typed as usize / 2,
        "{republished} publishes for {typed} changes"
    );
    // Nothing stale comes after the latest.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let marks = change_marks(&editor, &uri);
    assert_eq!(marks[0]["range"]["start"]["line"], 1 + typed, "{marks:#?}");
}
