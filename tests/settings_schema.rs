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
/// write files: the issue's list.
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
        // Declared is not enough: the extension forwards only what SERVER_SETTINGS names.
        if !logic.contains(&format!("  \"{name}\",\n")) {
            wrong.push(format!(
                "{name}: not in SERVER_SETTINGS of editors/vscode/src/logic.ts (never sent)"
            ));
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

/// A setting some editor file names: where, the key, and the value it gives (if it gives one).
struct Named {
    place: String,
    key: String,
    value: Option<Value>,
}

/// Checks every named setting against the schema: the key is a setting, and the value it
/// gives is one the schema takes (its type, its fixed values).
fn check_named(schema: &Value, named: &[Named]) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).expect("a valid JSON schema");
    let mut wrong = Vec::new();
    for Named { place, key, value } in named {
        if !properties(schema).contains_key(key) {
            wrong.push(format!("{place}: `{key}` is not a setting"));
        } else if let Some(value) = value {
            if !validator.is_valid(&serde_json::json!({ key: value })) {
                wrong.push(format!("{place}: `{key}` = {value} is not a valid value"));
            }
        }
    }
    wrong
}

/// A literal as Lua, Emacs Lisp and TOML write it: a double-quoted string, a number,
/// `true`/`false` (Lua, TOML) or `t`/`nil` (Lisp). Anything else (a name, a call) is not
/// a literal: `None`.
fn literal(text: &str) -> Option<Value> {
    let text = text.trim().trim_end_matches(',').trim();
    match text {
        "true" | "t" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        "nil" => Some(Value::Null),
        _ if text.starts_with('"') => {
            let end = text[1..].find('"')? + 1;
            Some(Value::String(text[1..end].to_string()))
        }
        _ => text.parse::<f64>().ok().map(|n| serde_json::json!(n)),
    }
}

fn is_setting_name(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Lua: the `key = value` entries of every `settings = { … }` table (comments dropped),
/// and every `settings.KEY` / `options.KEY` named (the plugin fills `options` from
/// `settings`), with the value it is set to (`options.streamEvents = true`).
fn lua_settings(place: &str, text: &str) -> Vec<Named> {
    // A trailing comment is dropped; a whole-line comment is read (it may show a setup).
    let code: String = text
        .lines()
        .map(|line| match line.trim_start().strip_prefix("--") {
            Some(comment) => comment,
            None => line.split("--").next().unwrap_or_default(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut named = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("settings = {") {
        let body = &rest[at + "settings = {".len()..];
        let end = body.find('}').unwrap_or(body.len());
        for entry in body[..end].split([',', '\n']) {
            // `settings = { codex = { model = … } }` (vim.lsp.config's form): the section.
            let entry = entry.trim_start();
            let entry = entry.strip_prefix("codex = {").unwrap_or(entry);
            let Some((key, value)) = entry.split_once('=') else {
                continue;
            };
            let key = key.trim();
            // `settings = { codex = init_options() }` nests the section: not a setting.
            if is_setting_name(key) && literal(value).is_some() {
                named.push(Named {
                    place: place.into(),
                    key: key.into(),
                    value: literal(value),
                });
            }
        }
        rest = &body[end..];
    }
    for prefix in ["settings.", "options."] {
        for (at, _) in code.match_indices(prefix) {
            let after = &code[at + prefix.len()..];
            let key: String = after
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            // `settings.codex` is the section the plugin answers with, not a setting.
            if key.is_empty() || key == "codex" {
                continue;
            }
            let value = after[key.len()..]
                .trim_start()
                .strip_prefix('=')
                .filter(|v| !v.starts_with('='))
                .and_then(|v| literal(v.lines().next().unwrap_or_default()));
            named.push(Named {
                place: place.into(),
                key,
                value,
            });
        }
    }
    named
}

/// Emacs Lisp: every `:key` of the lines that speak of `codex-settings` (the plist itself)
/// or of the plugin's own additions to it
/// (`options :streamEvents`); in a page (`any_literal`) also every `:key "literal"` (the
/// prose and comments saying how to change them: `:approvalPolicy "on-request"`).
fn elisp_settings(place: &str, text: &str) -> Vec<Named> {
    elisp_settings_in(place, text, place.ends_with(".md"))
}

fn elisp_settings_in(place: &str, text: &str, any_literal: bool) -> Vec<Named> {
    let mut named = Vec::new();
    for line in text.lines() {
        // A package spec's plist (`:url`, `:lisp-dir`) is not codex-settings.
        if line.contains("package-vc-install") || line.contains(":vc (") {
            continue;
        }
        let speaking = line.contains("codex-settings") || line.contains("options :");
        if !speaking && !any_literal {
            continue;
        }
        for (at, _) in line.match_indices(':') {
            let before = line[..at].chars().last().unwrap_or(' ');
            if !(before == ' ' || before == '(' || before == '`' || before == '\'') {
                continue;
            }
            let after = &line[at + 1..];
            let key: String = after
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            if !key.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                continue;
            }
            let value_text = after[key.len()..].trim_start();
            let token: &str = if value_text.starts_with('"') {
                value_text
            } else {
                let end = value_text
                    .find(|c: char| c.is_whitespace() || ")`'".contains(c))
                    .unwrap_or(value_text.len());
                &value_text[..end]
            };
            let value = literal(token);
            if speaking || value.is_some() {
                named.push(Named {
                    place: place.into(),
                    key,
                    value,
                });
            }
        }
    }
    named
}

/// TOML: the `key = value` lines of every `[language-server.codex.config]` table, and in
/// prose every `` `key = "value"` `` (how the Helix page says to loosen the settings).
fn toml_settings(place: &str, text: &str) -> Vec<Named> {
    let mut named = Vec::new();
    let mut in_config = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_config = line == "[language-server.codex.config]";
            continue;
        }
        if line.starts_with("```") {
            in_config = false;
        }
        if in_config {
            if let Some((key, value)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
                named.push(Named {
                    place: place.into(),
                    key: key.trim().into(),
                    value: literal(value),
                });
            }
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            let Some((key, value)) = span.split_once(" = ") else {
                continue;
            };
            if i % 2 == 1 && is_setting_name(key) {
                named.push(Named {
                    place: place.into(),
                    key: key.into(),
                    value: literal(value),
                });
            }
        }
    }
    named
}

/// Reads the settings a file names: `(place, text)`.
type Reader = fn(&str, &str) -> Vec<Named>;

/// The Neovim, Emacs and Helix pages and the plugins' own defaults name only settings that
/// exist, with values the schema takes. What is read: Neovim — every `settings = { … }`
/// table in docs/editors/neovim.md and editors/nvim (the documented setup, the defaults)
/// and every `settings.KEY` / `options.KEY`; Emacs — every `:key value` where
/// docs/editors/emacs.md or codex.el speaks of `codex-settings` (the init snippet, the
/// "loosen them with" comment, `:streamEvents t`); Helix — the
/// `[language-server.codex.config]` tables of docs/editors/helix.md and
/// editors/helix/languages.toml, and the `` `key = "value"` `` spans of the page's prose.
#[test]
fn the_editor_docs_and_defaults_name_only_settings_of_the_schema() {
    let schema = schema();
    let sources: [(&str, Reader, &[&str]); 6] = [
        (
            "docs/editors/neovim.md",
            lua_settings,
            &["model", "approvalPolicy", "sandbox", "streamEvents"],
        ),
        (
            "editors/nvim/lua/codex/init.lua",
            lua_settings,
            &["streamEvents", "model"],
        ),
        (
            "docs/editors/emacs.md",
            elisp_settings,
            &["model", "approvalPolicy", "sandbox", "streamEvents"],
        ),
        (
            "editors/emacs/codex.el",
            elisp_settings,
            &["streamEvents", "approvalPolicy"],
        ),
        (
            "docs/editors/helix.md",
            toml_settings,
            &["model", "approvalPolicy", "sandbox", "approvalTimeout"],
        ),
        (
            "editors/helix/languages.toml",
            toml_settings,
            &["model", "approvalPolicy", "sandbox", "approvalTimeout"],
        ),
    ];
    let mut wrong = Vec::new();
    for (path, read, expected) in sources {
        let named = read(path, &repo_file(path));
        // The reader must see what the file is known to name: a reader that found
        // nothing would pass any file.
        for key in expected {
            assert!(
                named.iter().any(|n| n.key == *key),
                "{path}: the check no longer finds `{key}`; found {:?}",
                named.iter().map(|n| &n.key).collect::<Vec<_>>()
            );
        }
        wrong.extend(check_named(&schema, &named));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// JSON (the Zed and Sublime pages): the block after `<!-- test: MARK -->`, every key of
/// each object named `field` in it (the server's initialization options).
fn json_settings(place: &str, text: &str, mark: &str, field: &str) -> Vec<Named> {
    let marker = format!("<!-- test: {mark} -->");
    let block = text
        .split_once(&marker)
        .and_then(|(_, after)| after.trim_start().strip_prefix("```json\n"))
        .and_then(|b| b.split_once("\n```"))
        .unwrap_or_else(|| panic!("{place}: no ```json block after `{marker}`"))
        .0;
    let value: Value = serde_json::from_str(block)
        .unwrap_or_else(|e| panic!("{place}: `{mark}` is not JSON ({e}):\n{block}"));
    fn walk(value: &Value, place: &str, field: &str, named: &mut Vec<Named>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if key == field {
                        for (setting, v) in inner.as_object().into_iter().flatten() {
                            named.push(Named {
                                place: place.into(),
                                key: setting.clone(),
                                value: Some(v.clone()),
                            });
                        }
                    } else {
                        walk(inner, place, field, named);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, place, field, named)),
            _ => {}
        }
    }
    let mut named = Vec::new();
    walk(&value, place, field, &mut named);
    named
}

/// The Zed and Sublime pages (untested recipes: the editors cannot run here) give the
/// server settings that exist, with values the schema takes.
#[test]
fn the_zed_and_sublime_recipes_name_only_settings_of_the_schema() {
    let schema = schema();
    let mut wrong = Vec::new();
    for (path, mark, field) in [
        (
            "docs/editors/zed.md",
            "zed-settings",
            "initialization_options",
        ),
        (
            "docs/editors/sublime.md",
            "sublime-settings",
            "initializationOptions",
        ),
    ] {
        let named = json_settings(path, &repo_file(path), mark, field);
        for key in ["model", "approvalPolicy", "sandbox", "approvalTimeout"] {
            assert!(
                named.iter().any(|n| n.key == key),
                "{path}: the check no longer finds `{key}`"
            );
        }
        wrong.extend(check_named(&schema, &named));
    }
    // The reader bites: a bad key and a bad value are caught.
    let bad = json_settings(
        "x.md",
        "<!-- test: x -->\n```json\n{\"lsp\": {\"initialization_options\": {\"sandox\": \"read-only\", \"approvalTimeout\": \"long\"}}}\n```\n",
        "x",
        "initialization_options",
    );
    assert_eq!(
        check_named(&schema, &bad).len(),
        2,
        "{:?}",
        check_named(&schema, &bad)
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The check itself bites: an unknown key and a bad value in each syntax are caught.
#[test]
fn the_editor_settings_check_catches_a_bad_key_and_a_bad_value() {
    let schema = schema();
    let lua = lua_settings(
        "x.lua",
        "settings = {\n  sandox = \"read-only\", -- typo\n  approvalPolicy = \"sometimes\",\n}",
    );
    let elisp = elisp_settings(
        "x.el",
        "(setq codex-settings '(:sandox \"read-only\" :streamEvents 3))",
    );
    let toml = toml_settings(
        "x.toml",
        "[language-server.codex.config]\nsandox = \"read-only\"\napprovalTimeout = \"long\"\n\nLoosen with `approvalPolicy = \"sometimes\"`.",
    );
    for (named, bad) in [(lua, 2), (elisp, 2), (toml, 3)] {
        assert_eq!(
            check_named(&schema, &named).len(),
            bad,
            "{:?}",
            check_named(&schema, &named)
        );
    }
}

/// docs/lsp.md's command rows name every command codex-lsp announces, and no other; a row
/// whose description opens with the argument object (`` `{prompt, uri?, …}` ``) lists
/// exactly the fields the command reads (`codex_lsp::lsp::commands::schema()`, from the
/// argument structs), and a row that does not is a command that reads none.
#[test]
fn the_docs_command_table_matches_the_command_schema() {
    let commands = codex_lsp::lsp::commands::schema();
    let commands = commands.as_object().expect("an object of commands");
    let doc = repo_file("docs/lsp.md");
    let mut documented = std::collections::BTreeMap::new();
    for row in doc.lines().filter_map(|l| l.strip_prefix("| command | ")) {
        let (names, what) = row
            .split_once(" | ")
            .expect("a command row has three cells");
        let fields: Vec<String> = match what.strip_prefix("`{") {
            Some(rest) => {
                let object = &rest[..rest.find("}`").expect("the argument object ends")];
                object
                    .split(',')
                    .map(|field| {
                        field
                            .split([':', '?'])
                            .next()
                            .unwrap_or_default()
                            .trim()
                            .to_string()
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        for name in names.split('`').skip(1).step_by(2) {
            documented.insert(name.to_string(), fields.clone());
        }
    }
    let mut wrong = Vec::new();
    for (name, command) in commands {
        let fields: Vec<String> = serde_json::from_value(command["fields"].clone()).unwrap();
        match documented.get(name) {
            None => wrong.push(format!("docs/lsp.md lacks a row for `{name}`")),
            Some(doc_fields) => {
                let mut have = doc_fields.clone();
                let mut want = fields.clone();
                have.sort();
                want.sort();
                if have != want {
                    wrong.push(format!(
                        "docs/lsp.md's `{name}` takes {doc_fields:?}; the command reads {fields:?}"
                    ));
                }
            }
        }
    }
    for name in documented.keys() {
        if !commands.contains_key(name) {
            wrong.push(format!(
                "docs/lsp.md documents `{name}`, which is not a command"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
