//! The command line, as a user or an editor types it: the built binary, no runtime needed.
//! Every option takes its value as `--name VALUE` or `--name=VALUE`; help exits 0 with the
//! usage on stdout; a wrong argument exits 2 naming it, with the usage on stderr.

use std::process::{Command, Output, Stdio};

fn codex_lsp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_codex-lsp"))
        .args(args)
        // The server reads stdin: closed, it ends at once.
        .stdin(Stdio::null())
        .env_remove("CODEX_LSP_CODEX_PATH")
        .env_remove("CODEX_LSP_LOG")
        .output()
        .expect("run codex-lsp")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_prints_the_usage_and_exits_0() {
    for args in [&["--help"][..], &["-h"], &["--stdio", "--help"]] {
        let out = codex_lsp(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let usage = text(&out.stdout);
        assert!(
            usage.starts_with("usage: codex-lsp [--stdio] [--log-file PATH]"),
            "{usage}"
        );
        assert!(
            usage.contains("codex-lsp doctor [--self-test] [--codex-path PATH]"),
            "{usage}"
        );
    }
    let out = codex_lsp(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).starts_with("codex-lsp "),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn doctor_help_prints_the_doctors_usage_and_exits_0() {
    for args in [
        &["doctor", "--help"][..],
        &["doctor", "-h"],
        &["doctor", "--self-test", "--help"],
    ] {
        let out = codex_lsp(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(
            text(&out.stdout).trim_end(),
            "usage: codex-lsp doctor [--self-test] [--codex-path PATH]"
        );
    }
}

#[test]
fn the_codex_path_is_taken_with_or_without_an_equals_sign() {
    for args in [
        &["doctor", "--codex-path", "/nonexistent/codex-by-space"][..],
        &["doctor", "--codex-path=/nonexistent/codex-by-space"],
    ] {
        let out = codex_lsp(args);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        // Parsed, then used: the runtime is looked for there and not found (exit 1, not 2).
        assert_eq!(out.status.code(), Some(1), "{args:?}: {all}");
        assert!(
            all.contains("/nonexistent/codex-by-space"),
            "{args:?}: {all}"
        );
    }
}

#[test]
fn the_log_file_is_taken_with_or_without_an_equals_sign() {
    let dir = tempfile::tempdir().unwrap();
    let spaced = dir.path().join("spaced.log");
    let joined = dir.path().join("joined.log");
    let spaced_arg = spaced.display().to_string();
    let joined_arg = format!("--log-file={}", joined.display());
    for args in [
        vec!["--stdio", "--log-file", &spaced_arg],
        vec![&joined_arg, "--stdio"],
    ] {
        let out = codex_lsp(&args);
        // Stdin closed before `initialize`: the server ends; what matters is that it started.
        assert_ne!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(spaced.exists(), "--log-file PATH opens the log");
    assert!(joined.exists(), "--log-file=PATH opens the log");
}

#[test]
fn unknown_or_incomplete_arguments_exit_2_and_say_which() {
    let cases: &[(&[&str], &str)] = &[
        (&["--frobnicate"], "invalid option '--frobnicate'"),
        (&["--log-file"], "missing argument for option '--log-file'"),
        (&["--stdio=yes"], "unexpected argument for option '--stdio'"),
        (&["serve"], "unexpected argument \"serve\""),
        (&["settings-schema", "--all"], "invalid option '--all'"),
        (&["doctor", "--frobnicate"], "invalid option '--frobnicate'"),
        (
            &["doctor", "--codex-path"],
            "missing argument for option '--codex-path'",
        ),
        (
            &["doctor", "--self-test=yes"],
            "unexpected argument for option '--self-test'",
        ),
        (&["doctor", "now"], "unexpected argument \"now\""),
    ];
    for (args, message) in cases {
        let out = codex_lsp(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: codex-lsp"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout is the LSP channel");
    }
}
