//! The user's settings: `initializationOptions`, and the `codex` section of
//! `workspace/configuration`. Parsing never fails: a bad key is reported by name and its
//! default kept.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub codex_path: Option<PathBuf>,
    pub model: Option<String>,
    pub effort: Option<String>,
    /// Defaults to `on-request`; `never` only when the user asked for it.
    pub approval_policy: ApprovalPolicy,
    /// Defaults to `workspace-write`; `danger-full-access` only when the user asked for it.
    pub sandbox: Sandbox,
    /// `-c key=value` overrides, the value already a TOML literal.
    pub config_overrides: Vec<(String, String)>,
    pub log_level: Option<String>,
    pub log_file: Option<PathBuf>,
    pub stream_events: bool,
}

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
        }
    }
}

impl Settings {
    /// Whether a change from `self` to `new` needs a new app-server process.
    pub fn needs_restart(&self, new: &Settings) -> bool {
        self.codex_path != new.codex_path || self.config_overrides != new.config_overrides
    }

    /// Reads settings from a JSON object; returns them with one warning per bad key.
    /// `null` or a missing object means all defaults.
    pub fn from_json(value: &Value) -> (Settings, Vec<String>) {
        let mut settings = Settings::default();
        let mut warnings = Vec::new();
        let object = match value {
            Value::Null => return (settings, warnings),
            Value::Object(object) => object,
            other => {
                warnings.push(format!(
                    "codex-lsp settings must be an object, not {}; using defaults",
                    json_kind(other)
                ));
                return (settings, warnings);
            }
        };
        for (key, value) in object {
            if value.is_null() {
                continue;
            }
            let mut bad = |expected: &str| {
                warnings.push(format!(
                    "codex-lsp setting `{key}` should be {expected}, not {}; using the default",
                    describe(value)
                ))
            };
            match key.as_str() {
                "codexPath" => match value.as_str() {
                    Some(s) if !s.is_empty() => settings.codex_path = Some(PathBuf::from(s)),
                    _ => bad("a path string"),
                },
                "model" => match value.as_str() {
                    Some(s) if !s.is_empty() => settings.model = Some(s.to_string()),
                    _ => bad("a model name"),
                },
                "effort" => match value.as_str() {
                    Some(s) if !s.is_empty() => settings.effort = Some(s.to_string()),
                    _ => bad("a reasoning effort such as \"low\", \"medium\" or \"high\""),
                },
                "approvalPolicy" => match value.as_str() {
                    Some("untrusted") => settings.approval_policy = ApprovalPolicy::Untrusted,
                    Some("on-request") => settings.approval_policy = ApprovalPolicy::OnRequest,
                    Some("never") => settings.approval_policy = ApprovalPolicy::Never,
                    _ => bad("one of \"untrusted\", \"on-request\", \"never\""),
                },
                "sandbox" => match value.as_str() {
                    Some("read-only") => settings.sandbox = Sandbox::ReadOnly,
                    Some("workspace-write") => settings.sandbox = Sandbox::WorkspaceWrite,
                    Some("danger-full-access") => settings.sandbox = Sandbox::DangerFullAccess,
                    _ => bad("one of \"read-only\", \"workspace-write\", \"danger-full-access\""),
                },
                "config" => match value.as_object() {
                    Some(map) => settings.config_overrides = config_overrides(map, &mut warnings),
                    None => bad("an object of dotted config keys"),
                },
                "logLevel" => match value.as_str() {
                    Some(s) if !s.is_empty() => settings.log_level = Some(s.to_string()),
                    _ => bad("a log level such as \"warn\" or \"debug\""),
                },
                "logFile" => match value.as_str() {
                    Some(s) if !s.is_empty() => settings.log_file = Some(PathBuf::from(s)),
                    _ => bad("a file path"),
                },
                "streamEvents" => match value.as_bool() {
                    Some(b) => settings.stream_events = b,
                    None => bad("true or false"),
                },
                _ => warnings.push(format!("unknown codex-lsp setting `{key}`; ignored")),
            }
        }
        (settings, warnings)
    }
}

fn config_overrides(map: &Map<String, Value>, warnings: &mut Vec<String>) -> Vec<(String, String)> {
    let mut overrides = Vec::new();
    for (key, value) in map {
        let valid_key = !key.is_empty()
            && key.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        match (valid_key, toml_literal(value)) {
            (true, Some(literal)) => overrides.push((key.clone(), literal)),
            (false, _) => warnings.push(format!(
                "codex-lsp setting `config.{key}`: not a dotted config key; ignored"
            )),
            (true, None) => warnings.push(format!(
                "codex-lsp setting `config.{key}`: null has no TOML form; ignored"
            )),
        }
    }
    overrides
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

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "an empty string".into(),
        Value::String(s) => format!("{s:?}"),
        other => json_kind(other).into(),
    }
}

/// How long a turn may send nothing before the watchdog looks (default 120 s).
pub const ENV_TURN_SILENCE: &str = "CODEX_LSP_TURN_SILENCE_SECS";
/// How long the editor has to answer `workspace/applyEdit` (default 15 s).
pub const ENV_APPLY_EDIT_TIMEOUT: &str = "CODEX_LSP_APPLY_EDIT_TIMEOUT_SECS";

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
    }

    #[test]
    fn bad_keys_are_named_and_defaults_kept() {
        let (s, w) = Settings::from_json(&json!({
            "sandbox": "yolo", "approvalPolicy": 3, "colour": "blue", "streamEvents": "yes",
            "config": {"bad key": 1}
        }));
        assert_eq!(s, Settings::default());
        assert_eq!(w.len(), 5, "{w:?}");
        for key in [
            "`sandbox`",
            "`approvalPolicy`",
            "`colour`",
            "`streamEvents`",
            "`config.bad key`",
        ] {
            assert!(w.iter().any(|m| m.contains(key)), "{key} in {w:?}");
        }
        let (_, w) = Settings::from_json(&json!("nope"));
        assert_eq!(w.len(), 1);
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
