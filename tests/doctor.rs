//! `codex-lsp doctor` as a user runs it: the built binary, the pinned runtime.

mod app_support;

use std::process::Command;

fn doctor(args: &[&str], envs: &[(&str, &str)]) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    doctor_in(home.path(), args, envs)
}

/// A provider that needs no account (the scripted one's config; nothing listens there).
fn home_without_login() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    mock_provider::write_codex_home(home.path(), "http://127.0.0.1:9/v1").unwrap();
    home
}

fn doctor_in(home: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_codex-lsp"));
    command
        .arg("doctor")
        .args(args)
        .env("CODEX_HOME", home)
        .env("CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG", "1")
        .env_remove("CODEX_LSP_CODEX_PATH");
    for (key, value) in envs {
        command.env(key, value);
    }
    let out = command.output().expect("run codex-lsp doctor");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn self_test_runs_a_real_turn_and_passes() {
    let runtime = app_support::pinned_runtime();
    let codex = runtime.codex.display().to_string();
    let home = home_without_login();
    let (code, text) = doctor_in(
        home.path(),
        &["--self-test"],
        &[("CODEX_LSP_CODEX_PATH", &codex)],
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("codex_lsp/0.163.0"), "{text}");
    assert!(text.contains("models      "), "{text}");
    assert!(
        text.contains("Self-test complete"),
        "the streamed reply: {text}"
    );
    assert!(text.contains("[add "), "the file edit: {text}");
    assert!(text.contains("written by the agent"), "{text}");
    assert!(text.contains("all checks passed"), "{text}");
}

#[test]
fn a_missing_runtime_fails_and_says_how_to_install_it() {
    let (code, text) = doctor(&[], &[("CODEX_LSP_CODEX_PATH", "/nonexistent/codex")]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("/nonexistent/codex"), "{text}");
    assert!(text.contains("codex-lsp runtime install"), "{text}");
}

#[test]
fn bad_arguments_are_named() {
    let (code, text) = doctor(&["--frobnicate"], &[]);
    assert_eq!(code, 2);
    assert!(text.contains("--frobnicate"), "{text}");
}

/// Issue 15.4: not logged in is not "all checks passed": the doctor says what is missing
/// and exits non-zero (Neovim's :checkhealth shows that as an error).
#[test]
fn not_logged_in_is_not_all_checks_passed() {
    let runtime = app_support::pinned_runtime();
    let codex = runtime.codex.display().to_string();
    // A fresh CODEX_HOME: the default provider, which needs an account, and none.
    let (code, text) = doctor(&[], &[("CODEX_LSP_CODEX_PATH", &codex)]);
    assert!(text.contains("account     not logged in"), "{text}");
    assert!(!text.contains("all checks passed"), "{text}");
    assert!(
        text.contains("NOT READY:") && text.contains("codex.login"),
        "{text}"
    );
    assert_eq!(code, 1, "{text}");
}
