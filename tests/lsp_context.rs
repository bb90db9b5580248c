//! The context the user chooses (issue 18.6), against the real app-server and the scripted
//! model: `@path` / `@path#L10-20` in a prompt attach that workspace file or range (an open
//! buffer's unsaved text winning over disk), paths outside the workspace are refused, and
//! `codex.ask {images}` sends `localImage` inputs the provider receives as images. The
//! transcript shows what was attached.

mod support;

use mock_provider::{Reply, Rule};
use serde_json::{json, Value};
use support::{editing_capabilities, Editor, Fixture, Spawn};

const MENTION_PROMPT: &str = "explain the mentioned code";
const IMAGE_PROMPT: &str = "describe the image";

fn rules() -> Vec<Rule> {
    vec![
        Rule::new(MENTION_PROMPT, vec![Reply::text("explained")]),
        Rule::new(IMAGE_PROMPT, vec![Reply::text("a pixel")]),
    ]
}

/// An 8×8 red PNG (one the app-server can decode: a broken one reaches the model as
/// "image content omitted").
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x08, 0x08, 0x02, 0x00, 0x00, 0x00, 0x4B, 0x6D, 0x29,
    0xDC, 0x00, 0x00, 0x00, 0x12, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0x80,
    0x15, 0x61, 0x17, 0x1D, 0xB4, 0x12, 0x00, 0x28, 0xFF, 0x3F, 0xC1, 0x6E, 0xEC, 0xDF, 0x61, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// The provider's request for the turn whose prompt holds `needle`, as text.
fn request_with(fixture: &Fixture, needle: &str) -> Value {
    fixture
        .provider
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.to_string().contains(needle))
        .unwrap_or_else(|| panic!("no provider request holds {needle:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_attach_workspace_files_and_ranges() {
    let fixture = Fixture::new(rules()).await;
    std::fs::create_dir_all(fixture.workspace.join("src")).unwrap();
    let numbered: String = (1..=30)
        .map(|n| format!("numbered line {n:02}\n"))
        .collect();
    std::fs::write(fixture.workspace.join("src/lib.rs"), &numbered).unwrap();
    std::fs::write(fixture.workspace.join("notes.md"), "DISK-NOTES\n").unwrap();
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;
    // The open buffer's unsaved text wins over disk.
    editor
        .open_buffer(&fixture.file_uri("notes.md"), "UNSAVED-NOTES\n")
        .await;

    let prompt = format!(
        "{MENTION_PROMPT}: @src/lib.rs#L10-12 and @notes.md. Mail me@example.com, not \
         `@decorator`; @here is a word."
    );
    let result = editor
        .command("codex.ask", json!({ "prompt": prompt, "wait": true }))
        .await
        .expect("codex.ask with mentions");
    assert_eq!(result["status"], "completed", "{result:#}");
    let body = request_with(&fixture, MENTION_PROMPT).to_string();
    for line in ["numbered line 10", "numbered line 11", "numbered line 12"] {
        assert!(body.contains(line), "{line} reached the provider");
    }
    for line in ["numbered line 09", "numbered line 13"] {
        assert!(!body.contains(line), "{line} is outside the range");
    }
    assert!(body.contains("File src/lib.rs, lines 10-12"));
    assert!(body.contains("UNSAVED-NOTES"), "the buffer's text went");
    assert!(!body.contains("DISK-NOTES"), "not the disk's");

    let transcript = editor
        .command("codex.transcript", json!({}))
        .await
        .expect("codex.transcript");
    let markdown = transcript["markdown"].as_str().unwrap();
    assert!(
        markdown.contains("*Attached:* `src/lib.rs#L10-12`, `notes.md`\n"),
        "{markdown}"
    );

    // Outside the workspace, missing, or a bad range: refused, saying why; nothing sent.
    let requests_before = fixture.provider.requests().len();
    for (prompt, why) in [
        ("read @/etc/passwd", "outside the workspace folders"),
        (
            "read @../../../../etc/passwd",
            "outside the workspace folders",
        ),
        ("read @src/missing.rs", "no such file"),
        ("read @src/lib.rs#L40-50", "the file has 30 lines"),
    ] {
        let error = editor
            .command("codex.ask", json!({ "prompt": prompt }))
            .await
            .expect_err(prompt);
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{prompt}: {error:#}");
    }
    assert_eq!(fixture.provider.requests().len(), requests_before);
    editor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_reach_the_provider_as_input_images() {
    let fixture = Fixture::new(rules()).await;
    std::fs::write(fixture.workspace.join("pixel.png"), PNG).unwrap();
    std::fs::write(fixture.workspace.join("fake.png"), "not an image").unwrap();
    let mut editor = fixture.editor(json!({}), editing_capabilities()).await;

    let result = editor
        .command(
            "codex.ask",
            json!({ "prompt": IMAGE_PROMPT, "images": ["pixel.png"], "wait": true }),
        )
        .await
        .expect("codex.ask with an image");
    assert_eq!(result["status"], "completed", "{result:#}");
    let request = request_with(&fixture, IMAGE_PROMPT);
    let images: Vec<&Value> = request["input"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|item| item["content"].as_array().into_iter().flatten())
        .filter(|part| part["type"] == "input_image")
        .collect();
    let body = request["input"].to_string();
    let near = body.find("describe the image").map_or("", |at| {
        &body[at.saturating_sub(300)..(at + 300).min(body.len())]
    });
    assert_eq!(images.len(), 1, "{near}");
    assert!(
        images[0]["image_url"]
            .as_str()
            .is_some_and(|url| url.starts_with("data:image/png;base64,")),
        "{:#}",
        images[0]
    );

    let transcript = editor
        .command("codex.transcript", json!({}))
        .await
        .expect("codex.transcript");
    let markdown = transcript["markdown"].as_str().unwrap();
    assert!(markdown.contains("[image: "), "{markdown}");
    assert!(markdown.contains("pixel.png]"), "{markdown}");

    for (images, why) in [
        (json!(["fake.png"]), "is not a PNG, JPEG, GIF or WebP image"),
        (json!(["gone.png"]), "image `gone.png`"),
    ] {
        let error = editor
            .command(
                "codex.ask",
                json!({ "prompt": IMAGE_PROMPT, "images": images }),
            )
            .await
            .expect_err("a refused image");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{error:#}");
    }
    editor.shutdown().await;
}

/// The chat document's ask section takes mentions as `codex.ask` does; a refused one leaves
/// the prompt where the user wrote it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_in_the_chat_ask_section() {
    let fixture = Fixture::new(rules()).await;
    std::fs::write(
        fixture.workspace.join("one.txt"),
        "first\nCHAT-LINE-TWO\nthird\n",
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut spawn = Spawn::default_log();
    spawn
        .extra_env
        .push(("XDG_CACHE_HOME".into(), cache.path().as_os_str().to_owned()));
    let mut editor = fixture
        .editor_with(spawn, json!({}), editing_capabilities())
        .await;
    editor.answer_with(|method, _| match method {
        "window/showDocument" => json!({ "success": true }),
        _ => Value::Null,
    });
    editor.track_buffers();
    let opened = editor
        .command("codex.openTranscript", json!({}))
        .await
        .expect("codex.openTranscript");
    let uri = opened["uri"].as_str().expect("uri").to_string();
    let path = opened["path"].as_str().expect("path");
    editor
        .open_buffer(&uri, &std::fs::read_to_string(path).unwrap())
        .await;

    let refused = "read @secret/../../x.txt";
    let (line, column) = end_of(&editor.buffer_text(&uri));
    editor
        .type_into(&uri, (line, column), (line, column), refused)
        .await;
    let error = editor
        .command("codex.sendAsk", json!({ "uri": uri }))
        .await
        .expect_err("a mention outside the workspace");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("secret/../../x.txt"),
        "{error:#}"
    );
    assert!(
        editor.buffer_text(&uri).ends_with(refused),
        "the prompt stays"
    );

    let (line, column) = end_of(&editor.buffer_text(&uri));
    let prompt = format!("{MENTION_PROMPT} @one.txt#L2");
    editor
        .type_into(&uri, (line, 0), (line, column), &prompt)
        .await;
    editor
        .command("codex.sendAsk", json!({ "uri": uri }))
        .await
        .expect("codex.sendAsk with a mention");
    editor
        .wait_for("the provider's request", || {
            fixture
                .provider
                .requests()
                .iter()
                .any(|r| r.to_string().contains(MENTION_PROMPT))
                .then_some(())
        })
        .await;
    let body = request_with(&fixture, MENTION_PROMPT).to_string();
    assert!(body.contains("CHAT-LINE-TWO"), "line 2 went");
    assert!(!body.contains("first\\n"), "line 1 did not");
    editor.shutdown().await;
}

/// The line and UTF-16 column of `buffer`'s end.
fn end_of(buffer: &str) -> (u32, u32) {
    let line = buffer.matches('\n').count() as u32;
    let column = buffer
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .encode_utf16()
        .count() as u32;
    (line, column)
}

/// `textDocument/completion` at `(line, character)` of `uri`: the items' labels and the
/// first item's edit range (`null` answers: `None`).
async fn complete(
    editor: &mut Editor,
    uri: &str,
    (line, character): (u32, u32),
) -> Option<(Vec<String>, Value)> {
    let answer = editor
        .request(
            "textDocument/completion",
            json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } }),
        )
        .await
        .expect("textDocument/completion");
    if answer.is_null() {
        return None;
    }
    let items = answer["items"]
        .as_array()
        .expect("a completion list")
        .clone();
    let labels = items
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect();
    let range = items
        .first()
        .map_or(Value::Null, |i| i["textEdit"]["range"].clone());
    Some((labels, range))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mention_completion_in_the_ask_section_only() {
    let fixture = Fixture::new(rules()).await;
    for file in [
        "src/lib.rs",
        "src/main.rs",
        "target/debug/lib.rs",
        "README.md",
    ] {
        let path = fixture.workspace.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "x\n").unwrap();
    }
    let cache = tempfile::tempdir().unwrap();
    let mut spawn = Spawn::default_log();
    spawn
        .extra_env
        .push(("XDG_CACHE_HOME".into(), cache.path().as_os_str().to_owned()));
    let mut editor = fixture
        .editor_with(spawn, json!({}), editing_capabilities())
        .await;
    editor.answer_with(|method, _| match method {
        "window/showDocument" => json!({ "success": true }),
        _ => Value::Null,
    });
    editor.track_buffers();
    let opened = editor
        .command("codex.openTranscript", json!({}))
        .await
        .expect("codex.openTranscript");
    let uri = opened["uri"].as_str().expect("uri").to_string();
    let path = opened["path"].as_str().expect("path");
    editor
        .open_buffer(&uri, &std::fs::read_to_string(path).unwrap())
        .await;

    let (line, column) = end_of(&editor.buffer_text(&uri));
    editor
        .type_into(&uri, (line, column), (line, column), "look at @lib")
        .await;
    let (labels, range) = complete(&mut editor, &uri, (line, column + 12))
        .await
        .expect("completions in the ask section");
    assert_eq!(
        labels.first().map(String::as_str),
        Some("src/lib.rs"),
        "{labels:?}"
    );
    assert!(labels.len() <= 50);
    // The edit replaces what follows the `@`.
    assert_eq!(
        range,
        json!({ "start": { "line": line, "character": column + 9 }, "end": { "line": line, "character": column + 12 } })
    );

    // Just after `@`: the walk of the folder, without build output.
    editor
        .type_into(&uri, (line, column + 12), (line, column + 12), " @")
        .await;
    let (labels, _) = complete(&mut editor, &uri, (line, column + 14))
        .await
        .expect("completions after a bare @");
    assert!(labels.contains(&"src/lib.rs".to_string()), "{labels:?}");
    assert!(
        labels.iter().all(|l| !l.starts_with("target/")),
        "{labels:?}"
    );

    // Above the ask section, in a word without `@`, or in another document: nothing.
    assert_eq!(complete(&mut editor, &uri, (0, 0)).await, None);
    assert_eq!(complete(&mut editor, &uri, (line, column + 4)).await, None);
    let other = fixture.file_uri("notes.md");
    editor.open_buffer(&other, "@lib").await;
    assert_eq!(complete(&mut editor, &other, (0, 4)).await, None);
    editor.shutdown().await;
}
