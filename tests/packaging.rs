//! The VS Code extension's manifest holds what the Marketplace and Open VSX ask of a
//! submission, consistent with the crate, and declares how it behaves in an untrusted
//! folder. (The built `.vsix` itself — server inside, LICENSE, platform — is checked by
//! `scripts/release.sh --check`.)

use std::path::Path;

use serde_json::Value;

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn manifest() -> Value {
    serde_json::from_str(&repo_file("editors/vscode/package.json")).unwrap()
}

/// Cargo.toml's `[package]` value of `key` (a plain string).
fn cargo_package(key: &str) -> String {
    let cargo = repo_file("Cargo.toml");
    cargo
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)
                .and_then(|r| r.trim_start().strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("Cargo.toml has no {key}"))
}

#[test]
fn the_extension_manifest_has_what_open_vsx_and_the_marketplace_ask() {
    let m = manifest();
    // Open VSX takes the publisher as its namespace: letters, digits and hyphens.
    let publisher = m["publisher"].as_str().unwrap_or_default();
    assert!(
        !publisher.is_empty()
            && publisher
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "publisher {publisher:?}"
    );
    for key in ["name", "displayName", "description"] {
        assert!(
            m[key].as_str().is_some_and(|v| !v.trim().is_empty()),
            "{key} is missing"
        );
    }
    assert_eq!(m["version"], cargo_package("version").as_str(), "version");
    // One license everywhere, and its text at the top (package-vsix.sh puts it in the .vsix).
    assert_eq!(m["license"], cargo_package("license").as_str(), "license");
    assert!(repo_file("LICENSE").contains("Apache License"));
    assert!(m["engines"]["vscode"].as_str().is_some(), "engines.vscode");
    assert!(
        m["categories"].as_array().is_some_and(|c| !c.is_empty()),
        "categories"
    );
    // The project has no public address yet: no made-up repository or homepage ships. Once
    // there is one, it goes here (and --allow-missing-repository leaves package-vsix.sh).
    for key in ["repository", "homepage", "bugs"] {
        let text = m[key].to_string();
        assert!(
            !text.contains("OWNER"),
            "{key} is still the placeholder: {text}"
        );
    }
}

#[test]
fn untrusted_folders_get_limited_support_and_cannot_set_the_safety_settings() {
    let m = manifest();
    let untrusted = &m["capabilities"]["untrustedWorkspaces"];
    assert_eq!(untrusted["supported"], "limited", "{untrusted:#}");
    assert!(
        untrusted["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "limited support must say what is limited"
    );
    let declared = m["contributes"]["configuration"]["properties"]
        .as_object()
        .expect("contributes.configuration.properties");
    let restricted: Vec<&str> = untrusted["restrictedConfigurations"]
        .as_array()
        .expect("restrictedConfigurations")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for name in &restricted {
        assert!(declared.contains_key(*name), "{name} is not a setting");
    }
    // What a folder must never choose: the programs run, where the app-server is, and what
    // the agent may do without asking.
    for name in [
        "codex.serverPath",
        "codex.codexPath",
        "codex.approvalPolicy",
        "codex.sandbox",
        "codex.config",
        "codex.appServer",
        "codex.logFile",
    ] {
        assert!(restricted.contains(&name), "{name} is not restricted");
    }
}
