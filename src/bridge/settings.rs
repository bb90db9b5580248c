//! The user's settings: `initializationOptions`, and the `codex` section of
//! `workspace/configuration`. [`Settings`] is read by its `Deserialize`, one key at a time:
//! reading never fails, a bad key is reported by name and the value below it kept.

use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::app_server::protocol as p;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalPolicy {
    Untrusted,
    OnRequest,
    Never,
}

impl ApprovalPolicy {
    pub fn as_wire(self) -> &'static str {
        match self {
            Self::Untrusted => "untrusted",
            Self::OnRequest => "on-request",
            Self::Never => "never",
        }
    }

    /// The policy as the app-server's type.
    pub fn to_protocol(self) -> p::AskForApproval {
        match self {
            Self::Untrusted => p::AskForApproval::Untrusted,
            Self::OnRequest => p::AskForApproval::OnRequest,
            Self::Never => p::AskForApproval::Never,
        }
    }
}

/// `reviewChanges`: whether the marks on the agent's changes clear when the next turn starts
/// (`keep`, the default) or stay until the user keeps or reverts each (`review`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewChanges {
    #[default]
    Keep,
    Review,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sandbox {
    ReadOnly,
    WorkspaceWrite,
    DangerFullAccess,
}

impl Sandbox {
    pub fn as_wire(self) -> &'static str {
        match self {
            Self::ReadOnly => "read-only",
            Self::WorkspaceWrite => "workspace-write",
            Self::DangerFullAccess => "danger-full-access",
        }
    }

    /// The sandbox as a thread's `sandbox` mode.
    pub fn to_protocol(self) -> p::SandboxMode {
        match self {
            Self::ReadOnly => p::SandboxMode::ReadOnly,
            Self::WorkspaceWrite => p::SandboxMode::WorkspaceWrite,
            Self::DangerFullAccess => p::SandboxMode::DangerFullAccess,
        }
    }

    /// The same sandbox as a turn's `sandboxPolicy` (the workspace stays the turn's cwd).
    pub fn to_turn_policy(self) -> p::SandboxPolicy {
        match self {
            Self::ReadOnly => p::SandboxPolicy::ReadOnly {
                network_access: None,
            },
            Self::WorkspaceWrite => p::SandboxPolicy::WorkspaceWrite {
                writable_roots: None,
                network_access: None,
                exclude_tmpdir_env_var: None,
                exclude_slash_tmp: None,
            },
            Self::DangerFullAccess => p::SandboxPolicy::DangerFullAccess,
        }
    }
}

/// Which app-server codex-lsp talks to (`appServer`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AppServerSetting {
    /// Its own `codex app-server` child on stdio (the default).
    #[default]
    Spawn,
    /// A shared local app-server on a unix socket; `None` is the daemon's default socket.
    Unix(Option<PathBuf>),
    /// A shared app-server on `ws://HOST:PORT`.
    Ws { host: String, port: u16 },
}

impl AppServerSetting {
    /// Reads `"spawn"`, `"unix://"`, `"unix://PATH"` or `"ws://HOST:PORT"`.
    pub fn parse(text: &str) -> Result<AppServerSetting, String> {
        let text = text.trim();
        if text == "spawn" {
            return Ok(Self::Spawn);
        }
        if let Some(path) = text.strip_prefix("unix://") {
            return match path {
                "" => Ok(Self::Unix(None)),
                p if p.starts_with('/') => Ok(Self::Unix(Some(PathBuf::from(p)))),
                _ => Err("unix:// takes an absolute path (unix:///run/codex.sock)".into()),
            };
        }
        if let Some(rest) = text.strip_prefix("ws://") {
            let rest = rest.strip_suffix('/').unwrap_or(rest);
            let (host, port) = match rest.rsplit_once(':') {
                Some((host, port)) => (host, port),
                None => return Err("ws:// needs a port (ws://127.0.0.1:4500)".into()),
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port: u16 = port
                .parse()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("{port:?} is not a port number"))?;
            if host.is_empty() || host.contains('/') {
                return Err("ws:// needs a host (ws://127.0.0.1:4500)".into());
            }
            return Ok(Self::Ws {
                host: host.to_string(),
                port,
            });
        }
        if text.starts_with("wss://") {
            return Err("the app-server serves plain ws:// only; reach a remote one through an SSH tunnel (ws://127.0.0.1:PORT)".into());
        }
        Err("expected \"spawn\", \"unix://[PATH]\" or \"ws://HOST:PORT\"".into())
    }

    pub fn is_shared(&self) -> bool {
        !matches!(self, Self::Spawn)
    }
}

impl<'de> Deserialize<'de> for AppServerSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(|why| de::Error::custom(format!("{why}, not {text:?}")))
    }
}

/// A secret from the settings: compared, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Read trimmed; an error never shows the value, whatever it is.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) if !s.trim().is_empty() => Ok(Secret(s.trim().to_string())),
            _ => Err(de::Error::custom(
                "expected a non-empty string (the value is not shown)",
            )),
        }
    }
}

/// Every setting, by its JSON name; a missing key is its default. Read one key at a time
/// by [`SettingsSources`] (`deny_unknown_fields`: an unknown key is an error of its own).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    pub codex_path: Option<PathBuf>,
    pub model: Option<String>,
    pub effort: Option<String>,
    /// Defaults to `on-request`; `never` only when the user asked for it.
    pub approval_policy: ApprovalPolicy,
    /// Defaults to `workspace-write`; `danger-full-access` only when the user asked for it.
    pub sandbox: Sandbox,
    /// `-c key=value` overrides, the value already a TOML literal.
    #[serde(rename = "config", deserialize_with = "config_overrides")]
    pub config_overrides: Vec<(String, String)>,
    pub log_level: Option<String>,
    pub log_file: Option<PathBuf>,
    pub stream_events: bool,
    pub review_changes: ReviewChanges,
    /// How long an approval offered in the code actions (editors without
    /// `window/showMessageRequest`) waits for an answer before it is declined.
    #[serde(deserialize_with = "approval_timeout")]
    pub approval_timeout: Duration,
    pub app_server: AppServerSetting,
    /// The `ws://` bearer token, from `appServerToken`.
    pub app_server_token: Option<Secret>,
    /// A file holding the `ws://` bearer token (`appServerTokenFile`), read at each connect.
    pub app_server_token_file: Option<PathBuf>,
}

/// The default of `approvalTimeout`: long enough to read a diff, short enough that a
/// forgotten approval does not hold a turn for the rest of the day.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(300);

impl Default for Settings {
    fn default() -> Self {
        Self {
            codex_path: None,
            model: None,
            effort: None,
            approval_policy: ApprovalPolicy::OnRequest,
            sandbox: Sandbox::WorkspaceWrite,
            config_overrides: Vec::new(),
            log_level: None,
            log_file: None,
            stream_events: false,
            review_changes: ReviewChanges::Keep,
            approval_timeout: DEFAULT_APPROVAL_TIMEOUT,
            app_server: AppServerSetting::Spawn,
            app_server_token: None,
            app_server_token_file: None,
        }
    }
}

impl Settings {
    /// Whether a change from `self` to `new` needs a new app-server process.
    pub fn needs_restart(&self, new: &Settings) -> bool {
        self.codex_path != new.codex_path
            || self.config_overrides != new.config_overrides
            || self.app_server != new.app_server
            || self.app_server_token != new.app_server_token
            || self.app_server_token_file != new.app_server_token_file
    }

    /// Reads settings from a JSON object; returns them with one warning per bad key.
    /// `null` or a missing object means all defaults.
    pub fn from_json(value: &Value) -> (Settings, Vec<String>) {
        let mut warnings = Vec::new();
        let mut merged = Map::new();
        match value {
            Value::Null => {}
            Value::Object(object) => overlay(&mut merged, object, &mut warnings),
            other => warnings.push(format!(
                "codex-lsp settings must be an object, not {}; using defaults",
                json_kind(other)
            )),
        }
        (Settings::from_valid_keys(merged, &mut warnings), warnings)
    }

    /// The settings of keys each already read alone without an error.
    fn from_valid_keys(keys: Map<String, Value>, warnings: &mut Vec<String>) -> Settings {
        Settings::deserialize(Value::Object(keys)).unwrap_or_else(|e| {
            warnings.push(format!("codex-lsp settings: {e}; using defaults"));
            Settings::default()
        })
    }
}

/// Puts each key of `object` that has a valid value into `merged` (over what a lower source
/// put there); a key that says nothing is skipped, a bad one is warned about and skipped:
/// the lower source's value, or the default, stays.
fn overlay(
    merged: &mut Map<String, Value>,
    object: &Map<String, Value>,
    warnings: &mut Vec<String>,
) {
    for (key, value) in object {
        if says_nothing(value) {
            continue;
        }
        if !crate::struct_fields::of::<Settings>().contains(&key.as_str()) {
            warnings.push(format!("unknown codex-lsp setting `{key}`; ignored"));
            continue;
        }
        let alone = Value::Object(Map::from_iter([(key.clone(), value.clone())]));
        match serde_path_to_error::deserialize::<_, Settings>(alone) {
            Ok(_) => {
                merged.insert(key.clone(), value.clone());
            }
            Err(e) => {
                // The value as given, so the user finds it; never a secret's.
                let given = if key == "appServerToken" {
                    String::new()
                } else {
                    format!(" = {}", shown_value(value))
                };
                warnings.push(format!(
                    "codex-lsp setting `{}`{given}: {}; ignored (the value from a lower source, or the default, applies)",
                    e.path(),
                    e.inner()
                ))
            }
        }
    }
}

/// Where the settings come from, and how they merge. From lowest to highest precedence:
/// the defaults, `initializationOptions`, the settings pushed by the last
/// `workspace/didChangeConfiguration` that carried any, the `codex` section pulled by the
/// last `workspace/configuration` answer that carried any. Per key: the highest source
/// giving the key a valid value wins. A source that says nothing (null, `{}`, `[null]`, a
/// key set to null, a missing key) never overrides what a lower one set, and a bad value
/// leaves the lower source's value in place (with a warning).
#[derive(Debug, Clone, Default)]
pub struct SettingsSources {
    initialization: Map<String, Value>,
    pushed: Map<String, Value>,
    pulled: Map<String, Value>,
}

/// Which source a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsSource {
    Initialization,
    Pushed,
    Pulled,
}

impl SettingsSources {
    /// The sources at `initialize`; warns when the options are not an object.
    pub fn new(initialization_options: &Value) -> (SettingsSources, Vec<String>) {
        let mut sources = SettingsSources::default();
        let warnings = sources.set(SettingsSource::Initialization, initialization_options);
        (sources, warnings)
    }

    /// Replaces one source when `value` says something; returns a warning when it is not
    /// an object. A pushed `{codex: {...}}` is unwrapped (Helix pushes the section itself).
    pub fn set(&mut self, source: SettingsSource, value: &Value) -> Vec<String> {
        let value = match (source, value) {
            (SettingsSource::Pushed, Value::Object(map)) if map.contains_key("codex") => {
                &map["codex"]
            }
            _ => value,
        };
        let Some(object) = saying_something(value) else {
            return match value {
                Value::Null | Value::Object(_) | Value::Array(_) => Vec::new(),
                other => vec![format!(
                    "codex-lsp settings must be an object, not {}; ignored",
                    json_kind(other)
                )],
            };
        };
        *match source {
            SettingsSource::Initialization => &mut self.initialization,
            SettingsSource::Pushed => &mut self.pushed,
            SettingsSource::Pulled => &mut self.pulled,
        } = object;
        Vec::new()
    }

    /// The merged settings, with one warning per bad key.
    pub fn settings(&self) -> (Settings, Vec<String>) {
        let mut warnings = Vec::new();
        let mut merged = Map::new();
        for layer in [&self.initialization, &self.pushed, &self.pulled] {
            overlay(&mut merged, layer, &mut warnings);
        }
        (Settings::from_valid_keys(merged, &mut warnings), warnings)
    }
}

/// A value that leaves a setting unset: null, or an empty string (VS Code's "not set").
fn says_nothing(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Who may set a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingScope {
    /// Anyone, a repository's workspace settings included.
    Any,
    /// Only the user (machine or application settings): it can run programs, weaken the
    /// sandbox or the approvals, or write files where it says. A repository must not set it.
    UserOnly,
}

/// One setting, as every editor's list must declare it.
pub struct SettingSpec {
    pub name: &'static str,
    /// The JSON type: `string`, `boolean`, `number`, `object`.
    pub kind: &'static str,
    /// The values a string may take (`""` = not set), when they are fixed.
    pub values: &'static [&'static str],
    /// The default as JSON text (`""` for an unset string).
    pub default: &'static str,
    pub scope: SettingScope,
    pub description: &'static str,
}

/// Every setting codex-lsp reads: the one list `codex-lsp settings-schema` prints and the
/// editors' lists (VS Code's `contributes.configuration`, docs/lsp.md) are checked against.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "codexPath",
        kind: "string",
        values: &[],
        default: "\"\"",
        scope: SettingScope::UserOnly,
        description: "The `codex` executable codex-lsp runs (empty: $CODEX_LSP_CODEX_PATH, the pinned runtime, `codex` on PATH).",
    },
    SettingSpec {
        name: "model",
        kind: "string",
        values: &[],
        default: "\"\"",
        scope: SettingScope::Any,
        description: "Model for new threads and turns (empty: the runtime's default).",
    },
    SettingSpec {
        name: "effort",
        kind: "string",
        values: &["", "minimal", "low", "medium", "high", "xhigh"],
        default: "\"\"",
        scope: SettingScope::Any,
        description: "Reasoning effort for turns (empty: the model's default).",
    },
    SettingSpec {
        name: "approvalPolicy",
        kind: "string",
        values: &["untrusted", "on-request", "never"],
        default: "\"on-request\"",
        scope: SettingScope::UserOnly,
        description: "When Codex asks before acting.",
    },
    SettingSpec {
        name: "sandbox",
        kind: "string",
        values: &["read-only", "workspace-write", "danger-full-access"],
        default: "\"workspace-write\"",
        scope: SettingScope::UserOnly,
        description: "What Codex's commands may touch.",
    },
    SettingSpec {
        name: "config",
        kind: "object",
        values: &[],
        default: "{}",
        scope: SettingScope::UserOnly,
        description: "Extra Codex configuration: dotted keys to values (sent as `-c key=value`); it can name programs to run (MCP servers).",
    },
    SettingSpec {
        name: "logLevel",
        kind: "string",
        values: &[],
        default: "\"\"",
        scope: SettingScope::Any,
        description: "codex-lsp's log filter, e.g. `warn`, `debug` (empty: warn; $CODEX_LSP_LOG wins).",
    },
    SettingSpec {
        name: "logFile",
        kind: "string",
        values: &[],
        default: "\"\"",
        scope: SettingScope::UserOnly,
        description: "Log codex-lsp to this file instead of stderr.",
    },
    SettingSpec {
        name: "streamEvents",
        kind: "boolean",
        values: &[],
        default: "false",
        scope: SettingScope::Any,
        description: "Send the turns' app-server notifications as codex/event.",
    },
    SettingSpec {
        name: "reviewChanges",
        kind: "string",
        values: &["keep", "review"],
        default: "\"keep\"",
        scope: SettingScope::Any,
        description: "Marks on Codex's changes: `keep` clears them when the next turn starts (still undoable), `review` keeps them until each is kept or reverted.",
    },
    SettingSpec {
        name: "approvalTimeout",
        kind: "number",
        values: &[],
        default: "300",
        scope: SettingScope::Any,
        description: "Seconds an approval waits for an answer before it is declined.",
    },
    SettingSpec {
        name: "appServer",
        kind: "string",
        values: &[],
        default: "\"spawn\"",
        scope: SettingScope::UserOnly,
        description: "\"spawn\" (codex-lsp starts its own app-server), \"unix://\" or \"unix:///PATH\" (a shared local one), or \"ws://HOST:PORT\".",
    },
    SettingSpec {
        name: "appServerToken",
        kind: "string",
        values: &[],
        default: "\"\"",
        scope: SettingScope::UserOnly,
        description: "The bearer token of a ws:// app-server started with --ws-auth (never logged or shown).",
    },
    SettingSpec {
        name: "appServerTokenFile",
        kind: "string",
        values: &[],
        default: "\"\"",
        scope: SettingScope::UserOnly,
        description: "A file holding that token (read at each connect).",
    },
];

/// `codex-lsp settings-schema`: a JSON schema of every setting, each with its type, values,
/// default, description, and `scope`: `"machine"` for those only the user may set (a
/// repository's settings must not), `"resource"` for the rest.
pub fn schema() -> Value {
    let properties: Map<String, Value> = SETTINGS
        .iter()
        .map(|spec| {
            let mut property = serde_json::json!({
                "type": spec.kind,
                "default": serde_json::from_str::<Value>(spec.default).expect("a JSON default"),
                "description": spec.description,
                "scope": match spec.scope {
                    SettingScope::Any => "resource",
                    SettingScope::UserOnly => "machine",
                },
            });
            if !spec.values.is_empty() {
                property["enum"] = serde_json::json!(spec.values);
            }
            if spec.scope == SettingScope::UserOnly {
                property["x-codex-userOnly"] = Value::Bool(true);
            }
            (spec.name.to_string(), property)
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "codex-lsp settings",
        "description": "initializationOptions, or the `codex` section of the editor's configuration. Settings with \"x-codex-userOnly\" can run programs, weaken the sandbox or the approvals, or write files: only the user may set them, never a repository.",
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
    })
}

/// The object a source gives, if it gives any key a value: `null`, `{}`, an object of
/// nulls, `[null]` and `[{}]` say nothing. A one-item array is its item (a
/// `workspace/configuration` answer).
fn saying_something(value: &Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => {
            let said: Map<String, Value> = map
                .iter()
                .filter(|(_, v)| !says_nothing(v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (!said.is_empty()).then_some(said)
        }
        Value::Array(items) if items.len() == 1 => saying_something(&items[0]),
        _ => None,
    }
}

/// `config`: an object of dotted keys to values, each becoming `-c key=value` with the value
/// as a TOML literal. One bad entry makes the whole object bad (it falls back whole).
fn config_overrides<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, String)>, D::Error> {
    let map = Map::<String, Value>::deserialize(deserializer)?;
    let mut overrides = Vec::new();
    for (key, value) in map {
        let valid_key = !key.is_empty()
            && key.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if !valid_key {
            return Err(de::Error::custom(format!(
                "`{key}` is not a dotted config key"
            )));
        }
        let Some(literal) = toml_literal(&value) else {
            return Err(de::Error::custom(format!("`{key}`: null has no TOML form")));
        };
        overrides.push((key, literal));
    }
    Ok(overrides)
}

/// `approvalTimeout`: seconds, more than 0 and at most a day.
fn approval_timeout<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let seconds = f64::deserialize(deserializer)?;
    if seconds > 0.0 && seconds <= 86_400.0 {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(de::Error::invalid_value(
            de::Unexpected::Float(seconds),
            &"a number of seconds between 0 and 86400",
        ))
    }
}

/// A JSON value as a TOML literal, for `-c key=value`.
pub fn toml_literal(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        // A JSON string literal is a valid TOML basic string (both escape \" \\ \n \uXXXX).
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(items) => {
            let items: Option<Vec<String>> = items.iter().map(toml_literal).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Object(map) => {
            let entries: Option<Vec<String>> = map
                .iter()
                .map(|(k, v)| {
                    Some(format!(
                        "{} = {}",
                        Value::String(k.clone()),
                        toml_literal(v)?
                    ))
                })
                .collect();
            format!("{{{}}}", entries?.join(", "))
        }
    })
}

/// A value as JSON, cut at 80 characters.
fn shown_value(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((at, _)) => format!("{} …", &text[..at]),
        None => text,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// How long a turn may send nothing before the watchdog looks (default 120 s).
pub const ENV_TURN_SILENCE: &str = "CODEX_LSP_TURN_SILENCE_SECS";
/// How long the editor has to answer `workspace/applyEdit` (default 15 s).
pub const ENV_APPLY_EDIT_TIMEOUT: &str = "CODEX_LSP_APPLY_EDIT_TIMEOUT_SECS";

/// How long the editor has to answer `workspace/applyEdit` (unless
/// `$CODEX_LSP_APPLY_EDIT_TIMEOUT_SECS` says otherwise). Past it the edit is reported as
/// failed (disk has the agent's change either way) and nothing else waited on it.
pub fn apply_edit_timeout() -> Duration {
    seconds_from_env(ENV_APPLY_EDIT_TIMEOUT).unwrap_or(Duration::from_secs(15))
}

/// How long the app-server may stay silent: a running turn's events, or the answer to
/// starting one.
pub fn turn_silence() -> Duration {
    seconds_from_env(ENV_TURN_SILENCE).unwrap_or(crate::app_server::Watchdog::default().silence)
}

/// A positive number of seconds from the environment; anything else is logged and ignored.
pub fn seconds_from_env(key: &str) -> Option<Duration> {
    let text = std::env::var(key).ok()?;
    let seconds = text
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|secs| *secs > 0.0)
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok());
    if seconds.is_none() {
        tracing::warn!("ignoring ${key}={text:?}: not a positive number of seconds");
    }
    seconds
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_the_safe_ones() {
        let (s, w) = Settings::from_json(&Value::Null);
        assert!(w.is_empty());
        assert_eq!(s.approval_policy, ApprovalPolicy::OnRequest);
        assert_eq!(s.sandbox, Sandbox::WorkspaceWrite);
        assert!(!s.stream_events);
    }

    #[test]
    fn every_key_is_read() {
        let (s, w) = Settings::from_json(&json!({
            "codexPath": "/opt/codex", "model": "gpt-5.5", "effort": "high",
            "approvalPolicy": "never", "sandbox": "danger-full-access",
            "config": {"model_reasoning_summary": "none", "tools.web_search": false, "n": 3},
            "logLevel": "debug", "logFile": "/tmp/x.log", "streamEvents": true,
            "approvalTimeout": 2.5,
        }));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s.codex_path, Some(PathBuf::from("/opt/codex")));
        assert_eq!(s.approval_policy, ApprovalPolicy::Never);
        assert_eq!(s.sandbox, Sandbox::DangerFullAccess);
        assert_eq!(
            s.config_overrides,
            vec![
                ("model_reasoning_summary".into(), "\"none\"".into()),
                ("n".into(), "3".into()),
                ("tools.web_search".into(), "false".into()),
            ]
        );
        assert!(s.stream_events);
        assert_eq!(s.approval_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn bad_keys_are_named_and_defaults_kept() {
        let (s, w) = Settings::from_json(&json!({
            "sandbox": "yolo", "approvalPolicy": 3, "colour": "blue", "streamEvents": "yes",
            "config": {"bad key": 1}, "approvalTimeout": -1
        }));
        assert_eq!(s, Settings::default());
        assert_eq!(w.len(), 6, "{w:?}");
        for key in [
            "`approvalTimeout`",
            "`sandbox`",
            "`approvalPolicy`",
            "`colour`",
            "`streamEvents`",
            "`bad key` is not a dotted config key",
        ] {
            assert!(w.iter().any(|m| m.contains(key)), "{key} in {w:?}");
        }
        let (_, w) = Settings::from_json(&json!("nope"));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn sources_that_say_nothing_override_nothing() {
        let (mut sources, w) = SettingsSources::new(&json!({
            "approvalPolicy": "untrusted", "model": "m1", "sandbox": "read-only"
        }));
        assert!(w.is_empty());
        for silent in [
            json!(null),
            json!({}),
            json!({ "codex": null }),
            json!({ "codex": {} }),
            json!({ "model": null }),
            json!([null]),
            json!([{}]),
        ] {
            for source in [SettingsSource::Pushed, SettingsSource::Pulled] {
                if source == SettingsSource::Pulled && silent.get("codex").is_some() {
                    continue; // a pulled answer is the section itself
                }
                assert!(sources.set(source, &silent).is_empty(), "{silent}");
                let (s, w) = sources.settings();
                assert!(w.is_empty(), "{w:?}");
                assert_eq!(s.approval_policy, ApprovalPolicy::Untrusted, "{silent}");
                assert_eq!(s.sandbox, Sandbox::ReadOnly, "{silent}");
                assert_eq!(s.model.as_deref(), Some("m1"), "{silent}");
            }
        }
        // Per key: pushed over init, pulled over pushed; a bad value keeps the lower one.
        sources.set(
            SettingsSource::Pushed,
            &json!({ "codex": { "model": "m2", "effort": "high" } }),
        );
        sources.set(
            SettingsSource::Pulled,
            &json!([{ "model": "m3", "sandbox": "yolo" }]),
        );
        let (s, w) = sources.settings();
        assert_eq!(s.model.as_deref(), Some("m3"));
        assert_eq!(s.effort.as_deref(), Some("high"));
        assert_eq!(s.sandbox, Sandbox::ReadOnly);
        assert_eq!(s.approval_policy, ApprovalPolicy::Untrusted);
        assert!(w.len() == 1 && w[0].contains("`sandbox`"), "{w:?}");
        // A layer that says something replaces that layer whole: a key removed from it
        // falls back to the source below.
        sources.set(SettingsSource::Pulled, &json!([{ "effort": "low" }]));
        let (s, _) = sources.settings();
        assert_eq!(s.model.as_deref(), Some("m2"));
        assert_eq!(s.effort.as_deref(), Some("low"));
        assert_eq!(
            sources.set(SettingsSource::Pushed, &json!("text")).len(),
            1,
            "a non-object is warned about"
        );
    }

    #[test]
    fn the_schema_lists_exactly_the_settings_read() {
        let schema = schema();
        let properties = schema["properties"].as_object().unwrap();
        assert_eq!(properties.len(), SETTINGS.len());
        let names: Vec<&str> = SETTINGS.iter().map(|spec| spec.name).collect();
        assert_eq!(
            names,
            crate::struct_fields::of::<Settings>(),
            "the spec follows the struct"
        );
        for spec in SETTINGS {
            // Each setting's default (and each value) is read without a warning, and a
            // value of the wrong type is warned about by name: the parser knows the key.
            let default = &properties[spec.name]["default"];
            let (_, w) = Settings::from_json(&json!({ spec.name: default }));
            assert!(w.is_empty(), "{}: {w:?}", spec.name);
            for value in spec.values {
                let (_, w) = Settings::from_json(&json!({ spec.name: value }));
                assert!(w.is_empty(), "{} = {value}: {w:?}", spec.name);
            }
            let wrong = if spec.kind == "boolean" {
                json!([1])
            } else {
                json!(true)
            };
            let (_, w) = Settings::from_json(&json!({ spec.name: wrong }));
            assert!(
                w.len() == 1
                    && w[0].contains(&format!("`{}`", spec.name))
                    && !w[0].contains("unknown"),
                "{}: {w:?}",
                spec.name
            );
        }
        // The defaults are the parser's defaults.
        let defaults: Map<String, Value> = properties
            .iter()
            .map(|(k, v)| (k.clone(), v["default"].clone()))
            .collect();
        let (s, w) = Settings::from_json(&Value::Object(defaults));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s, Settings::default());
        for name in [
            "sandbox",
            "approvalPolicy",
            "config",
            "logFile",
            "codexPath",
            "appServer",
            "appServerToken",
            "appServerTokenFile",
        ] {
            assert_eq!(properties[name]["scope"], "machine", "{name}");
        }
    }

    #[test]
    fn app_server_modes() {
        use AppServerSetting as A;
        assert_eq!(A::parse("spawn"), Ok(A::Spawn));
        assert_eq!(A::parse("unix://"), Ok(A::Unix(None)));
        assert_eq!(
            A::parse("unix:///run/c.sock"),
            Ok(A::Unix(Some("/run/c.sock".into())))
        );
        assert_eq!(
            A::parse("ws://127.0.0.1:4500"),
            Ok(A::Ws {
                host: "127.0.0.1".into(),
                port: 4500
            })
        );
        assert_eq!(
            A::parse("ws://[::1]:4500/"),
            Ok(A::Ws {
                host: "::1".into(),
                port: 4500
            })
        );
        for bad in [
            "unix://rel.sock",
            "ws://host",
            "ws://:80",
            "ws://h:0",
            "wss://h:1",
            "tcp://h:1",
            "",
        ] {
            assert!(A::parse(bad).is_err(), "{bad}");
        }
        let (s, w) = Settings::from_json(&json!({"appServer": "ws://nope"}));
        assert_eq!(s.app_server, A::Spawn);
        assert!(
            w[0].contains("`appServer`") && w[0].contains("port"),
            "{w:?}"
        );
    }

    #[test]
    fn the_token_is_never_printed() {
        let (s, w) = Settings::from_json(&json!({
            "appServer": "ws://127.0.0.1:4500", "appServerToken": "s3cr3t-value",
            "appServerTokenFile": "/run/token",
        }));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s.app_server_token, Some(Secret("s3cr3t-value".into())));
        assert!(!format!("{s:?}").contains("s3cr3t"));
        let (_, w) = Settings::from_json(&json!({ "appServerToken": 4242 }));
        assert_eq!(w.len(), 1);
        assert!(!w[0].contains("4242"), "{w:?}");
        let (_, w) = Settings::from_json(&json!({ "sandbox": "yolo" }));
        assert!(
            w[0].starts_with("codex-lsp setting `sandbox` = \"yolo\": "),
            "{w:?}"
        );
        let changed = Settings {
            app_server_token: None,
            ..s.clone()
        };
        assert!(s.needs_restart(&changed));
    }

    #[test]
    fn toml_literals() {
        assert_eq!(toml_literal(&json!("a\"b")).unwrap(), r#""a\"b""#);
        assert_eq!(toml_literal(&json!([1, "x"])).unwrap(), r#"[1, "x"]"#);
        assert_eq!(
            toml_literal(&json!({"k": true})).unwrap(),
            r#"{"k" = true}"#
        );
        assert_eq!(toml_literal(&Value::Null), None);
    }
}
