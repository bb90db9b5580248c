//! Finding the `codex` runtime that codex-lsp drives.
//!
//! Search order: an explicit path (setting `codexPath`, env `CODEX_LSP_CODEX_PATH`), the
//! pinned runtime installed by `codex-lsp runtime install` (or, in a checkout,
//! `scripts/install-runtime.sh`), `codex` on `PATH`, then the
//! places the runtimes users already have put it when `PATH` does not say (an editor started
//! from a desktop often has a short one): npm's global prefix (`@openai/codex`), then
//! Homebrew. On Windows every name is tried with the extensions of `PATHEXT`, so `codex.exe`
//! and npm's `codex.cmd` are found.
//! The install script and [`pinned_runtime_dir`] must agree on where the runtime lives.

use std::fmt;
use std::path::{Path, PathBuf};

/// The app-server version codex-lsp is built and tested against. Its one home is the
/// repository's `RUNTIME_VERSION` file, which the install script reads too.
pub const PINNED_VERSION: &str = include_str!("../RUNTIME_VERSION").trim_ascii();

/// The command that installs the pinned runtime where codex-lsp looks, from any install of
/// codex-lsp (`scripts/install-runtime.sh` does the same in a checkout).
pub const INSTALL_COMMAND: &str = "codex-lsp runtime install";

/// How a user without a codex-lsp checkout installs the runtime, quoted in every "not
/// found" error: the `codex` CLI as published (it puts `codex` on `PATH`).
pub fn user_install_command() -> String {
    format!("npm install -g @openai/codex@{PINNED_VERSION}")
}

/// What to do about a missing or unusable runtime, for people with or without a checkout.
pub fn install_advice() -> String {
    format!(
        "Install Codex {PINNED_VERSION} with the editor command `codex.installRuntime` or \
         `{INSTALL_COMMAND}` (into codex-lsp's cache), or `{}` (it puts `codex` on PATH), or \
         set `codexPath` to a `codex` executable.",
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

/// Why this runtime was chosen: where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeSource {
    Setting,
    Env,
    Pinned,
    SystemPath,
    /// npm's global prefix (`npm install -g @openai/codex`), found without `PATH`.
    NpmGlobal,
    /// Homebrew's `bin` folder, found without `PATH`.
    Homebrew,
}

impl RuntimeSource {
    /// Why it was used, for `codex-lsp doctor` and `codex.status`.
    pub fn reason(self) -> &'static str {
        match self {
            RuntimeSource::Setting => "the `codexPath` setting names it",
            RuntimeSource::Env => "$CODEX_LSP_CODEX_PATH names it",
            RuntimeSource::Pinned => {
                "the pinned runtime (codex-lsp runtime install) is installed; it comes first"
            }
            RuntimeSource::SystemPath => {
                "the first `codex` on PATH (no setting and no pinned runtime)"
            }
            RuntimeSource::NpmGlobal => {
                "npm's global prefix has it (no setting, no pinned runtime, none on PATH)"
            }
            RuntimeSource::Homebrew => {
                "Homebrew's bin has it (no setting, no pinned runtime, none on PATH or in npm's prefix)"
            }
        }
    }

    /// A short name (`"setting"`, `"pinned"`, `"npm"` …).
    pub fn name(self) -> &'static str {
        match self {
            RuntimeSource::Setting => "setting",
            RuntimeSource::Env => "env",
            RuntimeSource::Pinned => "pinned",
            RuntimeSource::SystemPath => "path",
            RuntimeSource::NpmGlobal => "npm",
            RuntimeSource::Homebrew => "homebrew",
        }
    }
}

impl Runtime {
    /// What the executable is, from where it really lives: npm's `@openai/codex` (a Node
    /// wrapper that starts the native binary), Homebrew's, the PyPI wheel, or unknown.
    pub fn package(&self) -> &'static str {
        let real = self
            .codex
            .canonicalize()
            .unwrap_or_else(|_| self.codex.clone());
        let text = real.to_string_lossy().replace('\\', "/");
        if text.contains("node_modules/@openai/codex") {
            "npm package @openai/codex"
        } else if text.contains("/Cellar/") || text.contains("/Caskroom/") {
            "Homebrew"
        } else if text.contains("codex_cli_bin/") {
            "PyPI wheel openai-codex-cli-bin"
        } else {
            "a codex executable"
        }
    }
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

/// The operating system's conventions: executable names and cache folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Linux,
    MacOs,
    Windows,
}

impl Platform {
    pub fn current() -> Platform {
        if cfg!(windows) {
            Platform::Windows
        } else if cfg!(target_os = "macos") {
            Platform::MacOs
        } else {
            Platform::Linux
        }
    }

    /// The names `codex` may have in a folder: on Windows one per `PATHEXT` extension
    /// (`codex.exe`, npm's `codex.cmd` …), elsewhere just `codex`.
    fn executable_names(self, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        if self != Platform::Windows {
            return vec!["codex".to_string()];
        }
        let pathext = env("PATHEXT")
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| ".COM;.EXE;.BAT;.CMD".to_string());
        pathext
            .split(';')
            .filter(|e| e.starts_with('.') && e.len() > 1)
            .map(|e| format!("codex{}", e.to_ascii_lowercase()))
            .collect()
    }

    /// The user's cache folder: Windows `%LOCALAPPDATA%`; macOS `~/Library/Caches` (or
    /// `$XDG_CACHE_HOME` when set, as the install scripts honour it); elsewhere
    /// `$XDG_CACHE_HOME`, else `~/.cache`.
    fn cache_dir(self, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let var = |key: &str| env(key).filter(|v| !v.is_empty()).map(PathBuf::from);
        match self {
            Platform::Windows => var("LOCALAPPDATA")
                .or_else(|| var("USERPROFILE").map(|h| h.join("AppData").join("Local"))),
            Platform::MacOs => var("XDG_CACHE_HOME")
                .or_else(|| var("HOME").map(|h| h.join("Library").join("Caches"))),
            Platform::Linux => {
                var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache")))
            }
        }
    }

    fn is_executable(self, path: &Path) -> bool {
        let Ok(meta) = path.metadata() else {
            return false;
        };
        if !meta.is_file() {
            return false;
        }
        #[cfg(unix)]
        if self != Platform::Windows {
            use std::os::unix::fs::PermissionsExt;
            return meta.permissions().mode() & 0o111 != 0;
        }
        true
    }

    /// The first `codex` in `dir`.
    fn codex_in(self, dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        self.executable_names(env)
            .into_iter()
            .map(|name| dir.join(name))
            .find(|candidate| self.is_executable(candidate))
    }

    /// npm's global `bin` folders, without running npm (slow, and maybe not on the editor's
    /// PATH): `$NPM_CONFIG_PREFIX`, the prefixes npm's docs and installers use, and nvm's.
    fn npm_bins(self, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
        let var = |key: &str| env(key).filter(|v| !v.is_empty()).map(PathBuf::from);
        let prefix_bin = |prefix: PathBuf| match self {
            // On Windows npm puts the shims in the prefix itself.
            Platform::Windows => prefix,
            _ => prefix.join("bin"),
        };
        let mut bins = Vec::new();
        for key in ["NPM_CONFIG_PREFIX", "npm_config_prefix"] {
            bins.extend(var(key).map(prefix_bin));
        }
        match self {
            Platform::Windows => bins.extend(var("APPDATA").map(|a| a.join("npm"))),
            _ => {
                if let Some(home) = var("HOME") {
                    bins.push(home.join(".npm-global").join("bin"));
                    bins.push(home.join(".local").join("share").join("npm").join("bin"));
                    bins.push(home.join(".volta").join("bin"));
                    // nvm: the newest Node first.
                    let nvm = var("NVM_DIR").unwrap_or_else(|| home.join(".nvm"));
                    let mut nodes: Vec<PathBuf> = std::fs::read_dir(nvm.join("versions/node"))
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|e| e.path().join("bin"))
                        .collect();
                    nodes.sort_by_key(|p| {
                        std::cmp::Reverse(
                            p.parent()
                                .and_then(|v| v.file_name())
                                .and_then(|v| v.to_str())
                                .and_then(|v| Version::parse(v.trim_start_matches('v'))),
                        )
                    });
                    bins.extend(nodes);
                }
                // Node's own installers (and Homebrew's node on Intel Macs) use /usr/local.
                bins.push(PathBuf::from("/usr/local/bin"));
            }
        }
        bins
    }

    /// Homebrew's `bin` folders (Apple silicon, Intel, Linux).
    fn homebrew_bins(self, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
        if self == Platform::Windows {
            return Vec::new();
        }
        let mut bins: Vec<PathBuf> = env("HOMEBREW_PREFIX")
            .filter(|v| !v.is_empty())
            .map(|p| PathBuf::from(p).join("bin"))
            .into_iter()
            .collect();
        bins.extend(
            [
                "/opt/homebrew/bin",
                "/usr/local/bin",
                "/home/linuxbrew/.linuxbrew/bin",
            ]
            .map(PathBuf::from),
        );
        bins
    }
}

/// The user's cache folder on this platform (Linux: `$XDG_CACHE_HOME`, else `~/.cache`;
/// macOS: `~/Library/Caches`; Windows: `%LOCALAPPDATA%`): where codex-lsp keeps what it
/// makes for the user (runtimes, chat transcripts).
pub fn user_cache_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    Platform::current().cache_dir(env)
}

/// Where `codex-lsp runtime install` and `scripts/install-runtime.sh` put runtimes: `$CODEX_LSP_RUNTIME_DIR`, else
/// `codex-lsp/runtime` in the platform's cache folder (Linux: `$XDG_CACHE_HOME`, else
/// `~/.cache`; macOS: `~/Library/Caches`; Windows: `%LOCALAPPDATA%`).
pub fn pinned_runtime_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    pinned_runtime_dir_on(Platform::current(), env)
}

pub fn pinned_runtime_dir_on(
    platform: Platform,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<PathBuf> {
    if let Some(dir) = env(ENV_RUNTIME_DIR).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    Some(platform.cache_dir(env)?.join("codex-lsp").join("runtime"))
}

fn pinned_codex(platform: Platform, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let exe = if platform == Platform::Windows {
        "codex.exe"
    } else {
        "codex"
    };
    pinned_runtime_dir_on(platform, env).map(|dir| {
        dir.join(PINNED_VERSION)
            .join("codex_cli_bin")
            .join("bin")
            .join(exe)
    })
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
    discover_on(Platform::current(), setting, env)
}

/// [`discover_with`] under `platform`'s conventions.
pub fn discover_on(
    platform: Platform,
    setting: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Runtime, RuntimeNotFound> {
    let mut searched = Vec::new();

    // An explicit path is a promise: if it is wrong, say so rather than fall back silently.
    if let Some(path) = setting {
        if platform.is_executable(path) {
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
        if platform.is_executable(&path) {
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

    match pinned_codex(platform, env) {
        Some(path) if platform.is_executable(&path) => {
            return Ok(found(path, RuntimeSource::Pinned))
        }
        Some(path) => searched.push(format!("pinned runtime at {}", path.display())),
        None => searched.push("pinned runtime (no $HOME to locate the cache)".to_string()),
    }

    let path_var = env("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path_var) {
        if let Some(candidate) = platform.codex_in(&dir, env) {
            return Ok(found(candidate, RuntimeSource::SystemPath));
        }
    }
    searched.push("`codex` on PATH".to_string());

    for (bins, source, what) in [
        (
            platform.npm_bins(env),
            RuntimeSource::NpmGlobal,
            "npm's global prefix",
        ),
        (
            platform.homebrew_bins(env),
            RuntimeSource::Homebrew,
            "Homebrew",
        ),
    ] {
        if bins.is_empty() {
            continue;
        }
        for dir in &bins {
            if let Some(candidate) = platform.codex_in(dir, env) {
                return Ok(found(candidate, source));
            }
        }
        let places: Vec<String> = bins.iter().map(|b| b.display().to_string()).collect();
        searched.push(format!("{what} ({})", places.join(", ")));
    }
    Err(RuntimeNotFound { searched })
}

/// A semantic version as printed by codex (`0.163.0`, `0.116.0-alpha.1`), compared by the
/// SemVer rules: a pre-release comes before its release (`0.163.0-alpha.1` < `0.163.0`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub semver::Version);

impl Version {
    /// Reads `MAJOR.MINOR.PATCH[-PRE][+BUILD]`; a missing patch (`1.2`) reads as `.0`.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        if let Ok(version) = semver::Version::parse(text) {
            return Some(Version(version));
        }
        let core_end = text.find(['-', '+']).unwrap_or(text.len());
        let (core, rest) = text.split_at(core_end);
        if core.split('.').count() == 2 {
            return semver::Version::parse(&format!("{core}.0{rest}"))
                .ok()
                .map(Version);
        }
        None
    }

    pub fn pinned() -> Version {
        Version::parse(PINNED_VERSION).expect("RUNTIME_VERSION holds a valid version")
    }

    /// Whether codex-lsp can drive this runtime: the pinned release or newer. A
    /// pre-release of the pinned version is older than it, so it is refused.
    pub fn is_supported(&self) -> bool {
        *self >= Version::pinned()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
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
        let env = env_of(&[
            (ENV_RUNTIME_DIR, "/nowhere/rt"),
            ("PATH", "/nowhere/bin"),
            ("HOME", "/nowhere/home"),
        ]);
        let err = discover_on(Platform::Linux, None, &env).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.searched.len(), 5, "{text}");
        assert!(text.contains(ENV_CODEX_PATH), "{text}");
        assert!(
            text.contains("/nowhere/rt/0.163.0/codex_cli_bin/bin/codex"),
            "{text}"
        );
        assert!(text.contains("`codex` on PATH"), "{text}");
        assert!(
            text.contains("npm's global prefix (/nowhere/home/.npm-global/bin"),
            "{text}"
        );
        assert!(text.contains("Homebrew (/opt/homebrew/bin"), "{text}");
        assert!(text.contains(INSTALL_COMMAND), "{text}");
        assert!(
            text.contains("npm install -g @openai/codex@0.163.0") && text.contains("`codexPath`"),
            "what works without a checkout: {text}"
        );
    }

    /// Lays out a global npm install as `npm install -g --prefix PREFIX @openai/codex` does.
    fn fake_npm_install(prefix: &Path) -> PathBuf {
        let package = prefix.join("lib/node_modules/@openai/codex/bin");
        std::fs::create_dir_all(&package).unwrap();
        let script = package.join("codex.js");
        std::fs::write(&script, "#!/usr/bin/env node\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(prefix.join("bin")).unwrap();
        let codex = prefix.join("bin/codex");
        std::os::unix::fs::symlink("../lib/node_modules/@openai/codex/bin/codex.js", &codex)
            .unwrap();
        codex
    }

    #[test]
    fn npm_global_prefix_is_found_without_path_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let codex = fake_npm_install(&home.join(".npm-global"));
        let env = env_of(&[
            (ENV_RUNTIME_DIR, "/nowhere/rt"),
            ("PATH", "/nowhere/bin"),
            ("HOME", home.to_str().unwrap()),
        ]);
        let rt = discover_on(Platform::Linux, None, &env).unwrap();
        assert_eq!(rt.source, RuntimeSource::NpmGlobal);
        assert_eq!(rt.codex, codex);
        assert_eq!(rt.package(), "npm package @openai/codex");
        assert!(rt.source.reason().contains("npm"), "{}", rt.source.reason());

        // $NPM_CONFIG_PREFIX first; the same install on PATH is a PATH find.
        let other = dir.path().join("prefix");
        let codex = fake_npm_install(&other);
        let env = env_of(&[
            (ENV_RUNTIME_DIR, "/nowhere/rt"),
            ("HOME", home.to_str().unwrap()),
            ("NPM_CONFIG_PREFIX", other.to_str().unwrap()),
        ]);
        assert_eq!(
            discover_on(Platform::Linux, None, &env).unwrap().codex,
            codex
        );
        let bin = other.join("bin");
        let env = env_of(&[
            (ENV_RUNTIME_DIR, "/nowhere/rt"),
            ("PATH", bin.to_str().unwrap()),
        ]);
        let rt = discover_on(Platform::Linux, None, &env).unwrap();
        assert_eq!(rt.source, RuntimeSource::SystemPath);
        assert_eq!(rt.package(), "npm package @openai/codex");
    }

    #[test]
    fn nvm_prefers_the_newest_node() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        fake_npm_install(&home.join(".nvm/versions/node/v9.11.2"));
        let newest = fake_npm_install(&home.join(".nvm/versions/node/v22.1.0"));
        fake_npm_install(&home.join(".nvm/versions/node/v20.20.2"));
        let env = env_of(&[
            (ENV_RUNTIME_DIR, "/nowhere/rt"),
            ("HOME", home.to_str().unwrap()),
        ]);
        assert_eq!(
            discover_on(Platform::Linux, None, &env).unwrap().codex,
            newest
        );
    }

    #[test]
    fn windows_names_come_from_pathext_and_npm_shims_from_appdata() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        // Not executable by unix rules: Windows has no such bit.
        std::fs::write(bin.join("codex.cmd"), "@echo off\r\n").unwrap();
        let env = env_of(&[
            (ENV_RUNTIME_DIR, "/nowhere/rt"),
            ("PATH", bin.to_str().unwrap()),
            ("PATHEXT", ".COM;.EXE;.BAT;.CMD"),
        ]);
        let rt = discover_on(Platform::Windows, None, &env).unwrap();
        assert_eq!(rt.codex, bin.join("codex.cmd"));
        // `.exe` comes before `.cmd` in PATHEXT.
        std::fs::write(bin.join("codex.exe"), "MZ").unwrap();
        let rt = discover_on(Platform::Windows, None, &env).unwrap();
        assert_eq!(rt.codex, bin.join("codex.exe"));
        // The same folder under unix rules has no `codex` at all.
        assert!(discover_on(Platform::Linux, None, &env).is_err());

        let appdata = dir.path().join("Roaming");
        std::fs::create_dir_all(appdata.join("npm")).unwrap();
        std::fs::write(appdata.join("npm").join("codex.cmd"), "@echo off\r\n").unwrap();
        let env = env_of(&[
            (ENV_RUNTIME_DIR, "/nowhere/rt"),
            ("APPDATA", appdata.to_str().unwrap()),
        ]);
        let rt = discover_on(Platform::Windows, None, &env).unwrap();
        assert_eq!(rt.source, RuntimeSource::NpmGlobal);
        assert_eq!(rt.codex, appdata.join("npm").join("codex.cmd"));
    }

    #[test]
    fn cache_folders_follow_each_platform() {
        let env = env_of(&[
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
            ("LOCALAPPDATA", "C:/Users/u/AppData/Local"),
        ]);
        let on = |p| pinned_runtime_dir_on(p, &env).unwrap();
        assert_eq!(on(Platform::Linux), Path::new("/x/codex-lsp/runtime"));
        assert_eq!(on(Platform::MacOs), Path::new("/x/codex-lsp/runtime"));
        assert_eq!(
            on(Platform::Windows),
            Path::new("C:/Users/u/AppData/Local/codex-lsp/runtime")
        );
        let env = env_of(&[("HOME", "/h"), ("USERPROFILE", "C:/Users/u")]);
        let on = |p| pinned_runtime_dir_on(p, &env).unwrap();
        assert_eq!(
            on(Platform::Linux),
            Path::new("/h/.cache/codex-lsp/runtime")
        );
        assert_eq!(
            on(Platform::MacOs),
            Path::new("/h/Library/Caches/codex-lsp/runtime")
        );
        assert_eq!(
            on(Platform::Windows),
            Path::new("C:/Users/u/AppData/Local/codex-lsp/runtime")
        );
        assert!(pinned_codex(Platform::Windows, &env)
            .unwrap()
            .ends_with("codex_cli_bin/bin/codex.exe"));
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
        assert_eq!(Version::parse("1.2"), Version::parse("1.2.0"));
        assert_eq!(version_from_user_agent("garbage"), None);
    }

    #[test]
    fn a_pre_release_of_the_pinned_version_is_refused_and_newer_releases_accepted() {
        let v = |s| Version::parse(s).unwrap();
        assert!(!v("0.163.0-alpha.1").is_supported());
        assert!(!v("0.163.0-rc.2").is_supported());
        assert!(!v("0.162.9").is_supported());
        assert!(v("0.163.0").is_supported());
        assert!(v("0.163.0+build.7").is_supported());
        assert!(v("0.164.0-alpha.1").is_supported());
        assert!(v("0.169.0").is_supported());
        assert!(v("1.0.0").is_supported());
    }
}
