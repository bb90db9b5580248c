//! One source of truth for the settings (issue 15.9): `codex-lsp settings-schema` prints
//! every setting; VS Code's `contributes.configuration` and docs/lsp.md's settings table are
//! checked against it, and the settings a repository must not set are user-only.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn schema() -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_codex-lsp"))
        .arg("settings-schema")
        .output()
        .expect("run codex-lsp settings-schema");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("settings-schema prints JSON")
}

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn properties(schema: &Value) -> &serde_json::Map<String, Value> {
    schema["properties"].as_object().expect("properties")
}

/// The settings whose value can run programs, weaken the sandbox or the approvals, or
/// write files: the list.
const USER_ONLY: &[&str] = &[
    "sandbox",
    "approvalPolicy",
    "config",
    "logFile",
    "codexPath",
    "appServer",
    "appServerToken",
    "appServerTokenFile",
];

#[test]
fn the_schema_is_a_json_schema_that_takes_the_defaults_and_marks_the_safety_settings() {
    let schema = schema();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON schema");
    let defaults: serde_json::Map<String, Value> = properties(&schema)
        .iter()
        .map(|(name, p)| (name.clone(), p["default"].clone()))
        .collect();
    assert!(validator.is_valid(&Value::Object(defaults)));
    assert!(!validator.is_valid(&serde_json::json!({ "sandbox": "yolo" })));
    assert!(!validator.is_valid(&serde_json::json!({ "colour": "blue" })));
    for (name, property) in properties(&schema) {
        for field in ["type", "default", "description", "scope"] {
            assert!(property.get(field).is_some(), "{name} lacks {field}");
        }
        let user_only = USER_ONLY.contains(&name.as_str());
        assert_eq!(
            property["scope"],
            if user_only { "machine" } else { "resource" },
            "{name}"
        );
        assert_eq!(
            property.get("x-codex-userOnly") == Some(&Value::Bool(true)),
            user_only,
            "{name}"
        );
    }
    for name in USER_ONLY {
        assert!(properties(&schema).contains_key(*name), "{name}");
    }
}

/// Settings the VS Code extension always sends itself instead of offering them.
const SET_BY_THE_VSCODE_EXTENSION: &[&str] = &["streamEvents"];

/// VS Code's settings are the schema's: each one there (`codex.<name>`), with the same
/// type, values and default; the user-only ones scoped so that a workspace cannot set them.
#[test]
fn vscode_declares_every_setting_as_the_schema_does() {
    let schema = schema();
    let package: Value = serde_json::from_str(&repo_file("editors/vscode/package.json")).unwrap();
    let declared = package["contributes"]["configuration"]["properties"]
        .as_object()
        .expect("contributes.configuration.properties");
    // The extension sets these itself (its transcript needs `codex/event`): a user setting
    // that did nothing would mislead. It must really send them.
    let logic = repo_file("editors/vscode/src/logic.ts");
    for name in SET_BY_THE_VSCODE_EXTENSION {
        assert!(
            logic.contains(&format!("out.{name} = true;")),
            "editors/vscode/src/logic.ts no longer sets {name}: declare the setting"
        );
    }
    let mut wrong = Vec::new();
    for (name, want) in properties(&schema) {
        let key = format!("codex.{name}");
        if SET_BY_THE_VSCODE_EXTENSION.contains(&name.as_str()) {
            continue;
        }
        let Some(have) = declared.get(&key) else {
            wrong.push(format!("{key}: missing"));
            continue;
        };
        for field in ["type", "default", "enum"] {
            if have.get(field) != want.get(field) {
                wrong.push(format!(
                    "{key}: {field} is {}, the schema says {}",
                    have.get(field).unwrap_or(&Value::Null),
                    want.get(field).unwrap_or(&Value::Null)
                ));
            }
        }
        if want["x-codex-userOnly"] == true {
            let scope = have["scope"].as_str().unwrap_or("(none: window)");
            if !["machine", "application"].contains(&scope) {
                wrong.push(format!(
                    "{key}: scope {scope}; a repository's settings must not set it (machine or application)"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "editors/vscode/package.json differs from `codex-lsp settings-schema`:\n{}",
        wrong.join("\n")
    );
}

/// docs/lsp.md's table has one `setting` row per setting, no other, and names each
/// setting's fixed values.
#[test]
fn the_docs_table_lists_every_setting_of_the_schema() {
    let schema = schema();
    let doc = repo_file("docs/lsp.md");
    let rows: Vec<(&str, &str)> = doc
        .lines()
        .filter_map(|line| line.strip_prefix("| setting | `"))
        .filter_map(|rest| rest.split_once('`'))
        .collect();
    let documented: Vec<&str> = rows.iter().map(|(name, _)| *name).collect();
    let names: Vec<&str> = properties(&schema).keys().map(String::as_str).collect();
    for name in &names {
        assert!(documented.contains(name), "docs/lsp.md lacks `{name}`");
    }
    for name in &documented {
        assert!(
            names.contains(name),
            "docs/lsp.md documents `{name}`, which is not a setting"
        );
    }
    for (name, row) in &rows {
        let property = &properties(&schema)[*name];
        for value in property["enum"].as_array().into_iter().flatten() {
            let value = value.as_str().unwrap();
            assert!(
                value.is_empty() || row.contains(&format!("`{value}`")),
                "docs/lsp.md's `{name}` row lacks `{value}`: {row}"
            );
        }
        if property["x-codex-userOnly"] == true {
            assert!(
                row.to_lowercase().contains("user only"),
                "docs/lsp.md's `{name}` row does not say only the user may set it: {row}"
            );
        }
    }
}
