//! `codex-lsp runtime install` against a package index served on 127.0.0.1: the wheel for
//! this platform is found (JSON or HTML listing), checked against the index's SHA-256,
//! unpacked with its tools executable, and other versions are cleaned; a wrong checksum or a
//! hostile archive installs nothing.
#![cfg(unix)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use codex_lsp::runtime::PINNED_VERSION;
use sha2::{Digest, Sha256};

fn wheel_name() -> String {
    let tag = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("macos", "aarch64") => "macosx_11_0_arm64".to_string(),
        ("macos", arch) => format!("macosx_10_9_{arch}"),
        (_, arch) if cfg!(target_env = "musl") => format!("musllinux_1_1_{arch}"),
        (_, arch) => format!("manylinux_2_17_{arch}"),
    };
    format!("openai_codex_cli_bin-{PINNED_VERSION}-py3-none-{tag}.whl")
}

/// A wheel shaped like the real one: `codex` (executable in the archive), a tool in
/// `codex-path/` whose archive mode is plain 0644, metadata; plus `extra` entries.
fn wheel(extra: &[(&str, &[u8])]) -> Vec<u8> {
    wheel_running(
        &format!("#!/bin/sh\necho 'codex-cli {PINNED_VERSION}'\n"),
        extra,
    )
}

/// A wheel whose `codex` is `script`.
fn wheel_running(script: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = |mode| {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode)
    };
    zip.start_file("codex_cli_bin/bin/codex", options(0o755))
        .unwrap();
    zip.write_all(script.as_bytes()).unwrap();
    zip.start_file("codex_cli_bin/codex-path/rg", options(0o644))
        .unwrap();
    zip.write_all(b"#!/bin/sh\necho rg\n").unwrap();
    zip.start_file(
        format!("openai_codex_cli_bin-{PINNED_VERSION}.dist-info/METADATA"),
        options(0o644),
    )
    .unwrap();
    zip.write_all(b"Name: openai-codex-cli-bin\n").unwrap();
    for (name, body) in extra {
        zip.start_file(*name, options(0o644)).unwrap();
        zip.write_all(body).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

enum Listing {
    Json {
        sha256: String,
    },
    /// A PEP 503 page with a relative link, as mirrors serve.
    Html {
        sha256: String,
    },
}

/// A package index on 127.0.0.1 serving `wheel` under this platform's name; counts the
/// wheel's downloads.
struct Index {
    url: String,
    downloads: Arc<AtomicUsize>,
}

fn serve(listing: Listing, wheel: Vec<u8>) -> Index {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let downloads = Arc::new(AtomicUsize::new(0));
    let counted = downloads.clone();
    let name = wheel_name();
    let (body, content_type) = match listing {
        Listing::Json { sha256 } => (
            serde_json::json!({ "files": [
                { "filename": "openai_codex_cli_bin-0.1.0-py3-none-win_amd64.whl",
                  "url": "/files/nothing.whl", "hashes": { "sha256": "00" } },
                { "filename": name, "url": format!("http://127.0.0.1:{port}/files/{name}"),
                  "hashes": { "sha256": sha256 }, "size": wheel.len() },
            ]})
            .to_string(),
            "application/vnd.pypi.simple.v1+json",
        ),
        Listing::Html { sha256 } => (
            format!(
                "<html><body><a href=\"../../files/{name}#sha256={sha256}\">{name}</a></body></html>"
            ),
            "text/html",
        ),
    };
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
            let (status, kind, payload) = if path == "/simple/openai-codex-cli-bin/" {
                ("200 OK", content_type, body.clone().into_bytes())
            } else if path == format!("/files/{name}") {
                counted.fetch_add(1, Ordering::SeqCst);
                ("200 OK", "application/octet-stream", wheel.clone())
            } else {
                ("404 Not Found", "text/plain", b"no".to_vec())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                payload.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&payload);
        }
    });
    Index {
        url: format!("http://127.0.0.1:{port}/simple"),
        downloads,
    }
}

struct Run {
    code: i32,
    stderr: String,
}

fn install(root: &Path, index: &Index) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_codex-lsp"))
        .args(["runtime", "install", "--index-url", &index.url])
        .env("CODEX_LSP_RUNTIME_DIR", root)
        .env_remove("PIP_INDEX_URL")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn leftovers(root: &Path) -> Vec<String> {
    std::fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".install-"))
                .collect()
        })
        .unwrap_or_default()
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o111 == 0o111)
        .unwrap_or(false)
}

#[test]
fn installs_the_checked_wheel_and_cleans_other_versions() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    // What an older install left: another version's runtime and wheel; the install script's
    // pinned wheel and an npm test install, which stay.
    std::fs::create_dir_all(root.join("0.150.0/codex_cli_bin/bin")).unwrap();
    std::fs::create_dir_all(root.join("npm-0.169.0")).unwrap();
    std::fs::create_dir_all(root.join("wheels")).unwrap();
    let old_wheel = root.join("wheels/openai_codex_cli_bin-0.150.0-py3-none-any.whl");
    let kept_wheel = root.join("wheels").join(wheel_name());
    std::fs::write(&old_wheel, b"old").unwrap();
    std::fs::write(&kept_wheel, b"pinned").unwrap();

    let bytes = wheel(&[]);
    let index = serve(
        Listing::Json {
            sha256: sha256(&bytes),
        },
        bytes,
    );
    let run = install(root, &index);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("100%"), "progress: {}", run.stderr);
    assert!(run.stderr.contains("checksum ok"), "{}", run.stderr);

    let codex = root.join(PINNED_VERSION).join("codex_cli_bin/bin/codex");
    let rg = root
        .join(PINNED_VERSION)
        .join("codex_cli_bin/codex-path/rg");
    assert!(is_executable(&codex) && is_executable(&rg), "tools run");
    let version = Command::new(&codex).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("codex-cli {PINNED_VERSION}")
    );
    assert!(!root.join("0.150.0").exists(), "the old runtime is removed");
    assert!(!old_wheel.exists(), "the old wheel is removed");
    assert!(kept_wheel.exists() && root.join("npm-0.169.0").exists());
    assert!(leftovers(root).is_empty(), "{:?}", leftovers(root));

    // codex-lsp finds what it installed, as the pinned runtime.
    let found = codex_lsp::runtime::discover_with(None, &|key| match key {
        "CODEX_LSP_RUNTIME_DIR" => Some(root.display().to_string()),
        _ => None,
    })
    .expect("found");
    assert_eq!(found.codex, codex);
    assert_eq!(found.source, codex_lsp::runtime::RuntimeSource::Pinned);

    // Again: nothing is downloaded.
    let again = install(root, &index);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("already installed"),
        "{}",
        again.stderr
    );
    assert_eq!(index.downloads.load(Ordering::SeqCst), 1);
}

#[test]
fn a_wrong_checksum_installs_nothing() {
    let root = tempfile::tempdir().unwrap();
    let bytes = wheel(&[]);
    let mut tampered = bytes.clone();
    let last = tampered.len() - 30;
    tampered[last] ^= 0xff;
    let index = serve(
        Listing::Html {
            sha256: sha256(&bytes),
        },
        tampered,
    );
    let run = install(root.path(), &index);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("checksum mismatch") && run.stderr.contains("nothing was installed"),
        "{}",
        run.stderr
    );
    assert_eq!(
        index.downloads.load(Ordering::SeqCst),
        1,
        "the HTML link was followed"
    );
    assert!(!root.path().join(PINNED_VERSION).exists());
    assert!(leftovers(root.path()).is_empty());
}

#[test]
fn an_entry_outside_the_wheel_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let outside = root.path().join("escaped");
    let bytes = wheel(&[("../escaped", b"gotcha")]);
    let index = serve(
        Listing::Json {
            sha256: sha256(&bytes),
        },
        bytes,
    );
    let run = install(&root.path().join("runtime"), &index);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("outside its folder"), "{}", run.stderr);
    assert!(!outside.exists(), "nothing written outside");
    assert!(!root.path().join("runtime").join(PINNED_VERSION).exists());
}

#[test]
fn an_index_without_this_platform_says_what_else_works() {
    let root = tempfile::tempdir().unwrap();
    let index = serve(
        Listing::Json {
            sha256: "00".into(),
        },
        Vec::new(),
    );
    // The listing names the wheel under this platform's name; ask for a version it lacks by
    // pointing at a page that lists nothing.
    let empty = Index {
        url: format!("{}/nothing", index.url),
        downloads: index.downloads.clone(),
    };
    let run = install(root.path(), &empty);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot read"), "{}", run.stderr);
    // And a reachable listing without our wheel.
    let listing = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listing.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listing.incoming().flatten() {
            let mut stream = stream;
            let mut head = [0u8; 1024];
            let _ = stream.read(&mut head);
            let body = r#"{"files":[]}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let bare = Index {
        url: format!("http://127.0.0.1:{port}/simple"),
        downloads: Arc::default(),
    };
    let run = install(root.path(), &bare);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no openai-codex-cli-bin")
            && run.stderr.contains("npm install -g @openai/codex@"),
        "{}",
        run.stderr
    );
}

/// An editor without any runtime runs `codex.installRuntime`: it answers at once, the
/// download shows as progress, a message says where the runtime went, and the next ask runs
/// a real turn on it. (The wheel's `codex` starts the pinned runtime the tests use.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_installs_a_missing_runtime_and_the_next_ask_uses_it() {
    use serde_json::json;
    let fixture = support::Fixture::new(support::rules()).await;
    let root = tempfile::tempdir().unwrap();
    let real = support::runtime_path();
    let bytes = wheel_running(
        &format!("#!/bin/sh\nexec '{}' \"$@\"\n", real.display()),
        &[],
    );
    let index = serve(
        Listing::Json {
            sha256: sha256(&bytes),
        },
        bytes,
    );
    let spawn = support::Spawn {
        extra_env: vec![
            ("CODEX_LSP_CODEX_PATH".into(), "".into()),
            ("CODEX_LSP_RUNTIME_DIR".into(), root.path().into()),
            ("PIP_INDEX_URL".into(), index.url.clone().into()),
            ("PATH".into(), "/usr/bin:/bin".into()),
        ],
        ..Default::default()
    };
    let mut editor = fixture
        .editor_with(spawn, json!({}), support::progress_capabilities())
        .await;
    let error = editor
        .command("codex.ask", json!({ "prompt": "say hello" }))
        .await
        .expect_err("no runtime yet");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("`codex.installRuntime`"),
        "the error names the editor command: {error:#}"
    );

    let started = editor
        .command("codex.installRuntime", json!({}))
        .await
        .expect("codex.installRuntime");
    assert_eq!(
        started,
        json!({ "started": true, "version": PINNED_VERSION })
    );
    let told = editor.wait_message("installed").await;
    assert!(
        told.contains(&root.path().join(PINNED_VERSION).display().to_string()),
        "{told}"
    );
    let progress = editor.progress_of("codex-lsp/runtime-install");
    let kinds: Vec<_> = progress.iter().map(|v| v["kind"].clone()).collect();
    assert_eq!(kinds.first(), Some(&json!("begin")), "{progress:#?}");
    assert_eq!(kinds.last(), Some(&json!("end")), "{progress:#?}");
    assert!(
        progress.iter().any(|v| v["message"]
            .as_str()
            .is_some_and(|m| m.contains("checksum ok"))),
        "{progress:#?}"
    );
    assert_eq!(index.downloads.load(Ordering::SeqCst), 1);

    let result = support::ask_and_wait(&mut editor, "say hello").await;
    assert_eq!(result["status"], "completed", "{result:#}");
    let status = editor.command("codex.status", json!({})).await.unwrap();
    assert_eq!(
        status["appServer"]["runtime"]["source"], "pinned",
        "{status:#}"
    );
    editor.shutdown().await;
}
