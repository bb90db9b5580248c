//! Running real editors (installed by `scripts/install-editors.sh`) against the built
//! `codex-lsp`: where they are, a throwaway HOME for them, and bounded runs killed by process
//! group. A test fails, never skips, when its editor is missing.
#![allow(dead_code)]

pub mod terminal_svg;

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const INSTALL: &str = "scripts/install-editors.sh";

/// Where the editor tests write their pictures of the flow for the docs: the folder
/// `$CODEX_LSP_SCREENSHOTS` names (`scripts/screenshots.sh` sets it), created if need be;
/// `None` when unset, and then no test takes or writes a picture.
pub fn screenshots_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("CODEX_LSP_SCREENSHOTS").filter(|d| !d.is_empty())?);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    Some(dir)
}

/// The path of `name` (`nvim`, `hx`, `emacs`, `tmux`) as the install script reports it.
pub fn editor(name: &str) -> PathBuf {
    installed(INSTALL, name)
}

/// The path of `name` as `install --print` reports it (`name=path` lines); fails naming
/// `install` when it is missing.
pub fn installed(install: &str, name: &str) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(install);
    let out = Command::new(&script)
        .arg("--print")
        .output()
        .unwrap_or_else(|e| panic!("run {install} --print: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let path = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(
        out.status.success() && !path.is_empty() && Path::new(&path).is_file(),
        "{name} is missing ({path:?}): run {install}"
    );
    PathBuf::from(path)
}

/// `CARGO_MANIFEST_DIR/rel`.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The built language server.
pub fn codex_lsp() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_codex-lsp"))
}

/// A temporary HOME with XDG folders, so editors read and write nothing of the user's.
pub struct EditorHome {
    pub dir: tempfile::TempDir,
}

impl EditorHome {
    pub fn new() -> EditorHome {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["config", "data", "state", "cache", "run"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        EditorHome { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn env(&self) -> Vec<(String, OsString)> {
        let p = self.dir.path();
        vec![
            ("HOME".into(), p.as_os_str().to_owned()),
            ("XDG_CONFIG_HOME".into(), p.join("config").into_os_string()),
            ("XDG_DATA_HOME".into(), p.join("data").into_os_string()),
            ("XDG_STATE_HOME".into(), p.join("state").into_os_string()),
            ("XDG_CACHE_HOME".into(), p.join("cache").into_os_string()),
            ("XDG_RUNTIME_DIR".into(), p.join("run").into_os_string()),
        ]
    }
}

impl Default for EditorHome {
    fn default() -> Self {
        Self::new()
    }
}

/// What a bounded run left.
pub struct Run {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `command` in its own process group, killing the whole group (the editor, codex-lsp
/// and the app-server) after `limit` or once the command has exited.
pub fn run_bounded(mut command: Command, limit: Duration) -> Run {
    let out_dir = tempfile::tempdir().unwrap();
    let (out, err) = (out_dir.path().join("out"), out_dir.path().join("err"));
    command
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .process_group(0);
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn the editor");
    let pgid = child.id() as i32;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > limit {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    kill_group(pgid);
    let _ = child.wait();
    Run {
        status,
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

/// Runs one scenario of an editor's driver script (`tests/editors/<editor>/drive.*`) and
/// returns what the driver saw. `command` is the editor with its arguments and its own
/// `CODEX_TEST_*` variables; this adds `env` (the fixture's), a throwaway HOME, the workspace
/// as working directory, and `CODEX_TEST_SCENARIO`, `CODEX_TEST_RESULT` (the JSON file the
/// driver writes), `CODEX_TEST_LSP` and `CODEX_TEST_WORKSPACE`. Fails with the editor's output
/// when the driver wrote no result, reported an `error`, or the editor did not exit cleanly
/// within `limit`.
pub async fn run_scenario(
    mut command: Command,
    env: Vec<(String, OsString)>,
    workspace: &Path,
    scenario: &str,
    limit: Duration,
) -> serde_json::Value {
    let editor = Path::new(command.get_program())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let home = EditorHome::new();
    let result_file = home.path().join("result.json");
    command
        .current_dir(workspace)
        .envs(env)
        .envs(home.env())
        .env("CODEX_TEST_SCENARIO", scenario)
        .env("CODEX_TEST_RESULT", &result_file)
        .env("CODEX_TEST_LSP", codex_lsp())
        .env("CODEX_TEST_WORKSPACE", workspace);
    let run = tokio::task::spawn_blocking(move || run_bounded(command, limit))
        .await
        .unwrap();
    eprintln!("{editor} {scenario}: {:.1} s", run.elapsed.as_secs_f64());
    let text = std::fs::read_to_string(&result_file).unwrap_or_else(|_| {
        panic!(
            "{editor} wrote no result ({:?} after {:?})\nstdout: {}\nstderr: {}",
            run.status, run.elapsed, run.stdout, run.stderr
        )
    });
    let result: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        result["error"].is_null() && run.status.is_some_and(|s| s.success()),
        "{editor} scenario {scenario} failed ({:?}): {result:#}\nstderr: {}",
        run.status,
        run.stderr
    );
    result
}

pub fn kill_group(pgid: i32) {
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
}

/// Kills a process group when dropped (for editors driven in the background, like tmux).
pub struct GroupGuard(pub i32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

/// Polls `probe` every 100 ms until it gives `Some`, for at most `limit`.
pub fn poll<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    loop {
        if let Some(found) = probe() {
            return Some(found);
        }
        if started.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A terminal editor in a private tmux server (its own socket), read with capture-pane.
/// Dropping it kills the pane's process group (the editor, codex-lsp and the app-server) and
/// the tmux server.
pub struct Tmux {
    tmux: PathBuf,
    socket: PathBuf,
    pane_pid: Option<i32>,
}

impl Tmux {
    /// Starts `program args…` in a 120×40 window, with `env` and in `cwd`.
    pub fn start(
        socket_dir: &Path,
        env: Vec<(String, OsString)>,
        cwd: &Path,
        program: &Path,
        args: &[&str],
    ) -> Tmux {
        Tmux::start_sized(socket_dir, env, cwd, program, args, (120, 40))
    }

    /// Starts `program args…` in a `(width, height)` window, with `env` and in `cwd`.
    pub fn start_sized(
        socket_dir: &Path,
        env: Vec<(String, OsString)>,
        cwd: &Path,
        program: &Path,
        args: &[&str],
        (width, height): (u16, u16),
    ) -> Tmux {
        let (width, height) = (width.to_string(), height.to_string());
        let tmux = editor("tmux");
        let socket = socket_dir.join("tmux.sock");
        let mut command = Command::new(&tmux);
        command
            .arg("-S")
            .arg(&socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                &width,
                "-y",
                &height,
                "-c",
            ])
            .arg(cwd)
            .arg("--")
            .arg(program)
            .args(args)
            .current_dir(cwd)
            .env("TERM", "xterm-256color")
            .env("COLORTERM", "truecolor")
            .envs(env);
        let status = command.status().expect("start tmux");
        assert!(status.success(), "tmux new-session failed");
        let mut t = Tmux {
            tmux,
            socket,
            pane_pid: None,
        };
        let pid = t.tmux_output(&["display-message", "-p", "#{pane_pid}"]);
        t.pane_pid = pid.trim().parse().ok();
        t
    }

    fn tmux_output(&self, args: &[&str]) -> String {
        let out = Command::new(&self.tmux)
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `tmux send-keys` with tmux key names (`Enter`, `Escape`, `Space`, `C-c`) or text.
    pub fn keys(&self, keys: &[&str]) {
        self.tmux_output(&[&["send-keys", "-t", "0"][..], keys].concat());
    }

    /// Text typed literally.
    pub fn type_text(&self, text: &str) {
        self.tmux_output(&["send-keys", "-t", "0", "-l", text]);
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        self.tmux_output(&["capture-pane", "-p", "-t", "0"])
    }

    /// Waits until the screen satisfies `pred`; panics with the screen after `limit`.
    /// Polls often: a status message may show only briefly.
    pub fn wait_screen(
        &self,
        what: &str,
        limit: Duration,
        mut pred: impl FnMut(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if started.elapsed() > limit {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    /// When [`screenshots_dir`] is set, writes the screen as `NAME.svg` there (colors,
    /// attributes and the cursor, drawn by [`terminal_svg`]); otherwise does nothing.
    pub fn screenshot(&self, name: &str) {
        let Some(dir) = screenshots_dir() else {
            return;
        };
        // -N: the blanks at a line's end too (a menu's background reaches past its text).
        let capture = self.tmux_output(&["capture-pane", "-e", "-N", "-p", "-t", "0"]);
        let info = self.tmux_output(&[
            "display-message",
            "-p",
            "-t",
            "0",
            "#{pane_width} #{pane_height} #{cursor_x} #{cursor_y} #{cursor_flag}",
        ]);
        let n: Vec<usize> = info
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        let [width, height, x, y, shown] = n[..] else {
            panic!("tmux display-message: {info:?}");
        };
        let grid = terminal_svg::Grid::parse(&capture, width, height);
        let svg = grid.to_svg(name, (shown == 1).then_some((x, y)));
        let file = dir.join(format!("{name}.svg"));
        std::fs::write(&file, svg).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }

    /// Whether the pane's program still runs.
    pub fn alive(&self) -> bool {
        self.pane_pid
            .is_some_and(|p| Path::new(&format!("/proc/{p}")).exists())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        if let Some(pid) = self.pane_pid {
            kill_group(pid);
        }
        let _ = Command::new(&self.tmux)
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// The fenced code block that follows the line `<!-- test: NAME -->` in the document `doc`
/// (a path from the repository root): the editor tests take their configuration from the
/// docs, so a doc change that breaks a setup fails them. Fails naming the marker when the
/// doc has no such block.
pub fn doc_snippet(doc: &str, name: &str) -> String {
    let text = std::fs::read_to_string(repo_path(doc)).unwrap_or_else(|e| panic!("{doc}: {e}"));
    let marker = format!("<!-- test: {name} -->");
    let after = text
        .split_once(&marker)
        .unwrap_or_else(|| panic!("{doc} has no {marker}"))
        .1;
    let mut lines = after.lines().skip_while(|l| l.trim().is_empty());
    let fence = lines.next().unwrap_or_default().trim();
    assert!(
        fence.starts_with("```"),
        "{doc}: {marker} is not followed by a fenced block"
    );
    let mut block = String::new();
    for line in lines {
        if line.trim() == "```" {
            return block;
        }
        block.push_str(line);
        block.push('\n');
    }
    panic!("{doc}: the block after {marker} never ends")
}
