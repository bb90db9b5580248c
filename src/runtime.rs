//! Finding the `codex` runtime that codex-lsp drives.
//!
//! Search order: an explicit path (setting `codexPath`, env `CODEX_LSP_CODEX_PATH`), the
//! pinned runtime installed by `scripts/install-runtime.sh`, then `codex` on `PATH`.
//! The install script and [`pinned_runtime_dir`] must agree on where the runtime lives.

use std::fmt;
use std::path::{Path, PathBuf};

/// The app-server version codex-lsp is built and tested against. Its one home is the
/// repository's `RUNTIME_VERSION` file, which the install script reads too.
pub const PINNED_VERSION: &str = include_str!("../RUNTIME_VERSION").trim_ascii();

/// The project script that installs the pinned runtime (only in a codex-lsp checkout).
pub const INSTALL_COMMAND: &str = "scripts/install-runtime.sh";

/// How a user without a codex-lsp checkout installs the runtime, quoted in every "not
/// found" error: the `codex` CLI as published (it puts `codex` on `PATH`).
pub fn user_install_command() -> String {
    format!("npm install -g @openai/codex@{PINNED_VERSION}")
}

/// What to do about a missing or unusable runtime, for people with or without a checkout.
pub fn install_advice() -> String {
    format!(
        "Install Codex {PINNED_VERSION} with `{}` (it puts `codex` on PATH), or set `codexPath` \
         to a `codex` executable; in a codex-lsp checkout, `{INSTALL_COMMAND}` installs it \
         where codex-lsp looks.",
        user_install_command()
    )
}

pub const ENV_CODEX_PATH: &str = "CODEX_LSP_CODEX_PATH";
pub const ENV_RUNTIME_DIR: &str = "CODEX_LSP_RUNTIME_DIR";

/// A `codex` executable, and the folder of helper tools (`rg`) that ships beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    pub codex: PathBuf,
    /// The runtime's bundled `codex-path/`; put first on the child's `PATH`, as the SDK does.
    pub path_dir: Option<PathBuf>,
    pub source: RuntimeSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeSource {
    Setting,
    Env,
    Pinned,
    SystemPath,
}

/// Nothing usable was found: says every place searched and how to install the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeNotFound {
    pub searched: Vec<String>,
}

impl fmt::Display for RuntimeNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the codex runtime was not found. Searched:")?;
        for place in &self.searched {
            writeln!(f, "  - {place}")?;
        }
        f.write_str(&install_advice())
    }
}

impl std::error::Error for RuntimeNotFound {}

/// Where `scripts/install-runtime.sh` puts runtimes: `$CODEX_LSP_RUNTIME_DIR`, else
/// `$XDG_CACHE_HOME/codex-lsp/runtime`, else `~/.cache/codex-lsp/runtime`.
pub fn pinned_runtime_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = env(ENV_RUNTIME_DIR).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let cache = env("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".cache")))?;
    Some(cache.join("codex-lsp").join("runtime"))
}

fn pinned_codex(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    pinned_runtime_dir(env).map(|dir| {
        dir.join(PINNED_VERSION)
            .join("codex_cli_bin")
            .join("bin")
            .join("codex")
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The wheel layout keeps `rg` in `codex-path/` beside `bin/`.
fn bundled_path_dir(codex: &Path) -> Option<PathBuf> {
    let dir = codex.parent()?.parent()?.join("codex-path");
    dir.is_dir().then_some(dir)
}

fn found(codex: PathBuf, source: RuntimeSource) -> Runtime {
    Runtime {
        path_dir: bundled_path_dir(&codex),
        codex,
        source,
    }
}

/// Finds the runtime using the real process environment.
pub fn discover(setting: Option<&Path>) -> Result<Runtime, RuntimeNotFound> {
    discover_with(setting, &|key| std::env::var(key).ok())
}

/// Finds the runtime; `env` stands in for the process environment so tests can vary it.
pub fn discover_with(
    setting: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Runtime, RuntimeNotFound> {
    let mut searched = Vec::new();

    // An explicit path is a promise: if it is wrong, say so rather than fall back silently.
    if let Some(path) = setting {
        if is_executable(path) {
            return Ok(found(path.to_path_buf(), RuntimeSource::Setting));
        }
        searched.push(format!(
            "setting `codexPath` = {} (not an executable file)",
            path.display()
        ));
        return Err(RuntimeNotFound { searched });
    }
    if let Some(path) = env(ENV_CODEX_PATH).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if is_executable(&path) {
            return Ok(found(path, RuntimeSource::Env));
        }
        searched.push(format!(
            "${ENV_CODEX_PATH} = {} (not an executable file)",
            path.display()
        ));
        return Err(RuntimeNotFound { searched });
    }
    searched.push(format!(
        "setting `codexPath` and ${ENV_CODEX_PATH} (not set)"
    ));

    match pinned_codex(env) {
        Some(path) if is_executable(&path) => return Ok(found(path, RuntimeSource::Pinned)),
        Some(path) => searched.push(format!("pinned runtime at {}", path.display())),
        None => searched.push("pinned runtime (no $HOME to locate the cache)".to_string()),
    }

    let path_var = env("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path_var) {
        let candidate = dir.join("codex");
        if is_executable(&candidate) {
            return Ok(found(candidate, RuntimeSource::SystemPath));
        }
    }
    searched.push("`codex` on PATH".to_string());
    Err(RuntimeNotFound { searched })
}

/// A semantic version as printed by codex (`0.163.0`, `0.116.0-alpha.1`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let core = text.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        let version = Version {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next().unwrap_or(Some(0))?,
        };
        Some(version)
    }

    pub fn pinned() -> Version {
        Version::parse(PINNED_VERSION).expect("RUNTIME_VERSION holds a valid version")
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Reads the version out of the app-server's `userAgent`, e.g.
/// `codex_lsp/0.163.0 (Debian 12.0.0; x86_64) xterm (codex_lsp; 0.1.0)`.
pub fn version_from_user_agent(user_agent: &str) -> Option<Version> {
    let first = user_agent.split_whitespace().next()?;
    let (_, version) = first.split_once('/')?;
    Version::parse(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
    }

    fn fake_runtime(root: &Path) -> PathBuf {
        let bin = root.join(PINNED_VERSION).join("codex_cli_bin").join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(bin.parent().unwrap().join("codex-path")).unwrap();
        let codex = bin.join("codex");
        std::fs::write(&codex, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&codex, std::fs::Permissions::from_mode(0o755)).unwrap();
        codex
    }

    #[test]
    fn pinned_version_is_read_from_the_version_file() {
        assert_eq!(PINNED_VERSION, "0.163.0");
        assert_eq!(Version::pinned().to_string(), "0.163.0");
    }

    #[test]
    fn setting_wins_and_a_bad_setting_is_an_error_not_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let codex = fake_runtime(dir.path());
        let env = env_of(&[(ENV_RUNTIME_DIR, dir.path().to_str().unwrap())]);
        let rt = discover_with(Some(&codex), &env).unwrap();
        assert_eq!(rt.source, RuntimeSource::Setting);
        assert!(rt.path_dir.unwrap().ends_with("codex-path"));

        let err = discover_with(Some(Path::new("/nonexistent/codex")), &env).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/codex"), "{err}");
    }

    #[test]
    fn env_then_pinned_then_path() {
        let dir = tempfile::tempdir().unwrap();
        let codex = fake_runtime(dir.path());
        let root = dir.path().to_str().unwrap();
        let env = env_of(&[
            (ENV_CODEX_PATH, codex.to_str().unwrap()),
            (ENV_RUNTIME_DIR, "/nonexistent"),
        ]);
        assert_eq!(
            discover_with(None, &env).unwrap().source,
            RuntimeSource::Env
        );

        let env = env_of(&[(ENV_RUNTIME_DIR, root)]);
        let rt = discover_with(None, &env).unwrap();
        assert_eq!(rt.source, RuntimeSource::Pinned);
        assert_eq!(rt.codex, codex);

        let on_path = codex.parent().unwrap().to_str().unwrap().to_string();
        let env = env_of(&[(ENV_RUNTIME_DIR, "/nonexistent"), ("PATH", &on_path)]);
        assert_eq!(
            discover_with(None, &env).unwrap().source,
            RuntimeSource::SystemPath
        );
    }

    #[test]
    fn not_found_names_every_place_and_the_install_command() {
        let env = env_of(&[(ENV_RUNTIME_DIR, "/nowhere/rt"), ("PATH", "/nowhere/bin")]);
        let err = discover_with(None, &env).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.searched.len(), 3, "{text}");
        assert!(text.contains(ENV_CODEX_PATH), "{text}");
        assert!(
            text.contains("/nowhere/rt/0.163.0/codex_cli_bin/bin/codex"),
            "{text}"
        );
        assert!(text.contains("`codex` on PATH"), "{text}");
        assert!(text.contains(INSTALL_COMMAND), "{text}");
        assert!(
            text.contains("npm install -g @openai/codex@0.163.0") && text.contains("`codexPath`"),
            "what works without a checkout: {text}"
        );
    }

    #[test]
    fn xdg_cache_home_then_home() {
        let env = env_of(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(
            pinned_runtime_dir(&env).unwrap(),
            Path::new("/x/codex-lsp/runtime")
        );
        let env = env_of(&[("HOME", "/h")]);
        assert_eq!(
            pinned_runtime_dir(&env).unwrap(),
            Path::new("/h/.cache/codex-lsp/runtime")
        );
    }

    #[test]
    fn versions_parse_from_user_agents() {
        let ua = "codex_lsp/0.163.0 (Debian 12.0.0; x86_64) xterm (codex_lsp; 0.1.0)";
        assert_eq!(version_from_user_agent(ua), Version::parse("0.163.0"));
        assert!(Version::parse("0.116.0-alpha.1").unwrap() < Version::pinned());
        assert!(Version::parse("0.200.1").unwrap() > Version::pinned());
        assert_eq!(version_from_user_agent("garbage"), None);
    }
}
