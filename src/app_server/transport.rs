//! How bytes reach the app-server. A transport hands the connection a reader and a writer of
//! whole JSON messages; what is underneath (a child's stdio here, a socket in
//! [`super::socket`]) stays behind the traits.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::process::{Child, Command};

use super::error::{Closed, Error};
use crate::runtime::Runtime;

/// Reads one JSON message at a time. `Ok(None)` is a clean end of stream.
pub trait MessageReader: Send {
    fn next_message(&mut self) -> BoxFuture<'_, std::io::Result<Option<String>>>;
}

/// Writes one JSON message at a time (no framing in the argument).
pub trait MessageWriter: Send {
    fn send<'a>(&'a mut self, message: &'a str) -> BoxFuture<'a, std::io::Result<()>>;
}

/// What the connection may ask of a transport after the stream has ended.
pub trait TransportStatus: Send + Sync {
    /// Why the peer went away, with whatever it printed last: used in every
    /// "transport closed" error so a crash explains itself.
    fn closed(&self) -> BoxFuture<'_, Closed>;
}

/// A live transport split into its halves. Dropping `keep_alive` ends the peer (for a child:
/// kills it).
pub struct TransportParts {
    pub reader: Box<dyn MessageReader>,
    pub writer: Box<dyn MessageWriter>,
    pub status: Arc<dyn TransportStatus>,
    pub keep_alive: Box<dyn Send + Sync>,
    /// The peer's process id, when we started it.
    pub pid: Option<u32>,
}

/// The longest line taken from the app-server: 64 MiB, the bound tungstenite puts on one
/// WebSocket message (the shared app-server's transport). Far above any real message (a
/// whole file's diff, a long thread's history), it still bounds what a broken or hostile
/// peer can make codex-lsp hold in memory for one line.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// JSONL over any byte stream: one message per line.
pub struct JsonLinesReader<R> {
    inner: BufReader<R>,
    buf: Vec<u8>,
    max_line: usize,
}

impl<R: AsyncRead + Unpin + Send> JsonLinesReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_max_line(inner, MAX_LINE_BYTES)
    }

    /// Lines longer than `max_line` bytes (without their line break) are skipped, each with
    /// an `InvalidData` error that says how long it was.
    pub fn with_max_line(inner: R, max_line: usize) -> Self {
        Self {
            inner: BufReader::with_capacity(64 * 1024, inner),
            buf: Vec::new(),
            max_line,
        }
    }
}

impl<R: AsyncRead + Unpin + Send> MessageReader for JsonLinesReader<R> {
    fn next_message(&mut self) -> BoxFuture<'_, std::io::Result<Option<String>>> {
        Box::pin(async move {
            loop {
                self.buf.clear();
                // One byte more than the bound: a line that fills it without its `\n` is over.
                let limit = self.max_line as u64 + 1;
                let n = (&mut self.inner)
                    .take(limit)
                    .read_until(b'\n', &mut self.buf)
                    .await?;
                if n == 0 {
                    return Ok(None);
                }
                if self.buf.len() > self.max_line && self.buf.last() != Some(&b'\n') {
                    let length = self.buf.len() + skip_line(&mut self.inner).await?;
                    self.buf = Vec::new();
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "a line of {length} bytes, over the limit of {} bytes",
                            self.max_line
                        ),
                    ));
                }
                let line = self.buf.trim_ascii();
                if line.is_empty() {
                    continue;
                }
                return String::from_utf8(line.to_vec()).map(Some).map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8: {e}"))
                });
            }
        })
    }
}

/// Reads past the rest of the current line (its `\n` included) without keeping it; the
/// number of bytes skipped.
async fn skip_line(reader: &mut (impl AsyncBufRead + Unpin)) -> std::io::Result<usize> {
    let mut skipped = 0;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(skipped);
        }
        let (used, line_ended) = match memchr::memchr(b'\n', available) {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        reader.consume(used);
        skipped += used;
        if line_ended {
            return Ok(skipped);
        }
    }
}

pub struct JsonLinesWriter<W> {
    inner: W,
}

impl<W: AsyncWrite + Unpin + Send> JsonLinesWriter<W> {
    pub fn new(inner: W) -> Self {
        Self { inner }
    }
}

impl<W: AsyncWrite + Unpin + Send> MessageWriter for JsonLinesWriter<W> {
    fn send<'a>(&'a mut self, message: &'a str) -> BoxFuture<'a, std::io::Result<()>> {
        Box::pin(async move {
            debug_assert!(!message.contains('\n'), "JSONL messages are one line");
            self.inner.write_all(message.as_bytes()).await?;
            self.inner.write_all(b"\n").await?;
            self.inner.flush().await
        })
    }
}

/// How to start `codex app-server` as a child speaking JSONL on stdio.
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    pub runtime: Runtime,
    /// `-c key=value` overrides, passed before `app-server`.
    pub config_overrides: Vec<(String, String)>,
    /// Extra environment for the child (on top of ours).
    pub env: Vec<(OsString, OsString)>,
    pub cwd: Option<PathBuf>,
}

impl SpawnOptions {
    pub fn new(runtime: Runtime) -> Self {
        Self {
            runtime,
            config_overrides: Vec::new(),
            env: Vec::new(),
            cwd: None,
        }
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config_overrides.push((key.into(), value.into()));
        self
    }

    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// The argument vector after the program name.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for (key, value) in &self.config_overrides {
            args.push("-c".to_string());
            args.push(format!("{key}={value}"));
        }
        args.extend(["app-server", "--listen", "stdio://"].map(String::from));
        args
    }
}

/// The last lines the child printed on stderr, kept for error messages.
#[derive(Default)]
struct StderrTail {
    lines: VecDeque<String>,
}

const STDERR_TAIL_LINES: usize = 40;
const STDERR_LINE_MAX: usize = 2000;

impl StderrTail {
    fn push(&mut self, mut line: String) {
        if line.len() > STDERR_LINE_MAX {
            let mut cut = STDERR_LINE_MAX;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            line.push('…');
        }
        if self.lines.len() == STDERR_TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    fn text(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

struct ChildStatus {
    child: Arc<tokio::sync::Mutex<Child>>,
    stderr: Arc<Mutex<StderrTail>>,
    stderr_done: tokio::sync::watch::Receiver<bool>,
}

impl TransportStatus for ChildStatus {
    fn closed(&self) -> BoxFuture<'_, Closed> {
        Box::pin(async move {
            // The exit status and the last stderr lines arrive a moment after stdout closes.
            let reason = {
                let mut child = self.child.lock().await;
                let waited = tokio::time::timeout(std::time::Duration::from_secs(2), child.wait());
                match waited.await {
                    Ok(Ok(status)) => describe_exit(status),
                    Ok(Err(e)) => format!("the app-server's exit status is unknown ({e})"),
                    Err(_) => "the app-server closed its output but is still running".into(),
                }
            };
            let mut done = self.stderr_done.clone();
            let _ =
                tokio::time::timeout(std::time::Duration::from_millis(500), done.wait_for(|d| *d))
                    .await;
            let stderr_tail = self.stderr.lock().expect("stderr tail lock").text();
            Closed {
                reason,
                stderr_tail,
            }
        })
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    let signal = {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    };
    #[cfg(not(unix))]
    let signal: Option<i32> = None;
    match (status.code(), signal) {
        (Some(code), _) => format!("the app-server exited with status {code}"),
        (None, Some(signal)) => format!("the app-server was killed by signal {signal}"),
        _ => "the app-server exited".to_string(),
    }
}

/// Ends the app-server's whole process tree when the connection is dropped. The runtime may
/// be a wrapper (npm's `codex` is a Node script that starts the native binary as its child),
/// so killing the child alone would leave the real app-server running, holding the pipes.
/// Unix: the child leads its own process group, killed as a group (Linux adds the
/// parent-death signal for codex-lsp itself being killed). Windows: the child is in a Job
/// Object that kills every process in it when its last handle closes, which is also what
/// happens when codex-lsp dies.
struct ChildGuard {
    child: Arc<tokio::sync::Mutex<Child>>,
    tree: ProcessTree,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.tree.kill();
        if let Ok(mut child) = self.child.try_lock() {
            let _ = child.start_kill();
        }
    }
}

/// The processes a spawned app-server may start, as one unit the guard can kill.
#[cfg(unix)]
struct ProcessTree {
    /// The process group id (the child's pid, as it leads the group).
    group: Option<i32>,
}

#[cfg(unix)]
impl ProcessTree {
    fn prepare(command: &mut Command) {
        command.process_group(0);
    }

    fn adopt(child: &Child) -> ProcessTree {
        ProcessTree {
            group: child.id().and_then(|pid| i32::try_from(pid).ok()),
        }
    }

    fn kill(&mut self) {
        if let Some(group) = self.group.take().filter(|g| *g > 1) {
            // SAFETY: kill(2) with a negative pid signals the process group; no memory is
            // touched. The group outlives its leader while any member runs, so a wrapper's
            // orphaned child is reached too.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
    }
}

#[cfg(windows)]
struct ProcessTree {
    job: Option<windows_sys::Win32::Foundation::HANDLE>,
}

// SAFETY: a job handle is a kernel handle, usable from any thread.
#[cfg(windows)]
unsafe impl Send for ProcessTree {}
#[cfg(windows)]
unsafe impl Sync for ProcessTree {}

#[cfg(windows)]
impl ProcessTree {
    fn prepare(_command: &mut Command) {}

    /// Puts the child in a new Job Object that kills its processes when the job's last
    /// handle closes. Processes the child started before this ran (it has barely begun)
    /// would escape; `codex.cmd` and Node take far longer than that to start anything.
    fn adopt(child: &Child) -> ProcessTree {
        use windows_sys::Win32::Foundation::CloseHandle;
        use windows_sys::Win32::System::JobObjects::{
            AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
            SetInformationJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
            JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        };
        let Some(process) = child.raw_handle() else {
            return ProcessTree { job: None };
        };
        // SAFETY: plain Win32 calls on handles we own; `info` outlives the call that reads it.
        unsafe {
            let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if job.is_null() {
                tracing::warn!(
                    "could not create a job object for the app-server: {}",
                    std::io::Error::last_os_error()
                );
                return ProcessTree { job: None };
            }
            let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
            info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            let set = SetInformationJobObject(
                job,
                JobObjectExtendedLimitInformation,
                (&info as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
                std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            );
            if set == 0 || AssignProcessToJobObject(job, process as _) == 0 {
                tracing::warn!(
                    "could not tie the app-server's processes to codex-lsp: {}",
                    std::io::Error::last_os_error()
                );
                CloseHandle(job);
                return ProcessTree { job: None };
            }
            ProcessTree { job: Some(job) }
        }
    }

    fn kill(&mut self) {
        if let Some(job) = self.job.take() {
            // SAFETY: closing the last handle of a KILL_ON_JOB_CLOSE job ends its processes.
            unsafe {
                windows_sys::Win32::Foundation::CloseHandle(job);
            }
        }
    }
}

#[cfg(windows)]
impl Drop for ProcessTree {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `codex [-c k=v…] app-server --listen stdio://`.
pub fn spawn_stdio(options: &SpawnOptions) -> Result<TransportParts, Error> {
    let program = options.runtime.codex.clone();
    let mut command = Command::new(&program);
    command
        .args(options.args())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(cwd) = &options.cwd {
        command.current_dir(cwd);
    }
    if let Some(path_dir) = &options.runtime.path_dir {
        let mut paths = vec![path_dir.clone()];
        if let Some(existing) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&existing));
        }
        if let Ok(joined) = std::env::join_paths(paths) {
            command.env("PATH", joined);
        }
    }
    for (key, value) in &options.env {
        command.env(key, value);
    }
    ProcessTree::prepare(&mut command);
    // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGKILL the child
    // when the thread that forked it dies. Note: the *thread*, not the process — spawn from
    // a long-lived thread (a tokio worker), never from `spawn_blocking`, whose idle threads
    // retire and would take the app-server with them. Closing stdin is the second guard: the
    // app-server exits when its input ends.
    #[cfg(target_os = "linux")]
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }

    let mut child = command.spawn().map_err(|source| Error::Spawn {
        program: program.display().to_string(),
        source,
    })?;
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let tree = ProcessTree::adopt(&child);

    let tail = Arc::new(Mutex::new(StderrTail::default()));
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let tail_writer = tail.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::debug!(target: "codex_lsp::app_server::stderr", "{line}");
            tail_writer.lock().expect("stderr tail lock").push(line);
        }
        let _ = done_tx.send(true);
    });

    let pid = child.id();
    let child = Arc::new(tokio::sync::Mutex::new(child));
    Ok(TransportParts {
        pid,
        reader: Box::new(JsonLinesReader::new(stdout)),
        writer: Box::new(JsonLinesWriter::new(stdin)),
        status: Arc::new(ChildStatus {
            child: child.clone(),
            stderr: tail,
            stderr_done: done_rx,
        }),
        keep_alive: Box::new(ChildGuard { child, tree }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn json_lines_skip_blank_lines_and_report_eof() {
        let data: &[u8] = b"{\"a\":1}\n\n  \n{\"b\":2}\r\n";
        let mut reader = JsonLinesReader::new(data);
        assert_eq!(reader.next_message().await.unwrap().unwrap(), "{\"a\":1}");
        assert_eq!(reader.next_message().await.unwrap().unwrap(), "{\"b\":2}");
        assert!(reader.next_message().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn invalid_utf8_is_an_error_not_a_panic() {
        let data: &[u8] = b"{\"a\":\"\xff\"}\n{}\n";
        let mut reader = JsonLinesReader::new(data);
        assert!(reader.next_message().await.is_err());
        assert_eq!(reader.next_message().await.unwrap().unwrap(), "{}");
    }

    #[tokio::test]
    async fn a_line_over_the_bound_is_skipped_with_its_length_and_reading_goes_on() {
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(100));
        let data = format!("{{}}\n{long}\n{}\n{{\"b\":2}}\n{long}", "y".repeat(32));
        // A small buffer, so the long lines span several reads.
        let mut reader = JsonLinesReader::with_max_line(
            tokio::io::BufReader::with_capacity(7, data.as_bytes()),
            32,
        );
        assert_eq!(reader.next_message().await.unwrap().unwrap(), "{}");
        let over = reader.next_message().await.unwrap_err();
        assert_eq!(over.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(
            over.to_string(),
            format!(
                "a line of {} bytes, over the limit of 32 bytes",
                long.len() + 1
            )
        );
        // Exactly at the bound is fine.
        assert_eq!(
            reader.next_message().await.unwrap().unwrap(),
            "y".repeat(32)
        );
        assert_eq!(reader.next_message().await.unwrap().unwrap(), "{\"b\":2}");
        // Over the bound at the end of the stream, without a line break.
        let over = reader.next_message().await.unwrap_err();
        assert!(
            over.to_string().contains(&format!("{} bytes", long.len())),
            "{over}"
        );
        assert!(reader.next_message().await.unwrap().is_none());
    }

    #[test]
    fn stderr_tail_keeps_the_last_lines_and_cuts_long_ones() {
        let mut tail = StderrTail::default();
        for i in 0..100 {
            tail.push(format!("line {i}"));
        }
        tail.push("é".repeat(STDERR_LINE_MAX));
        let text = tail.text();
        assert!(!text.contains("line 60\n") && text.contains("line 99\n"));
        assert_eq!(text.lines().count(), STDERR_TAIL_LINES);
    }

    #[test]
    fn args_put_overrides_before_the_subcommand() {
        let rt = Runtime {
            codex: "/bin/codex".into(),
            path_dir: None,
            source: crate::runtime::RuntimeSource::Setting,
        };
        let opts = SpawnOptions::new(rt).config("model", "\"gpt-5.5\"");
        assert_eq!(
            opts.args(),
            [
                "-c",
                "model=\"gpt-5.5\"",
                "app-server",
                "--listen",
                "stdio://"
            ]
        );
    }
}
