//! Logging: `tracing` to stderr (stdout is the LSP channel) at `warn` by default, or to a
//! file. `CODEX_LSP_LOG` wins over the `logLevel` setting; both are a filter of
//! comma-separated `level`, `target` and `target=level` directives (tracing-subscriber's
//! `Targets`, e.g. `warn,codex_lsp=debug`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, Registry};

pub const ENV_FILTER: &str = "CODEX_LSP_LOG";

type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

#[derive(Clone)]
struct SharedWriter(Sink);

struct SinkGuard(Sink);

/// Every secret codex-lsp was given (the API key of `codex.login`, the shared app-server's
/// token): the log writer replaces each with `***`, whatever wrote it, at any level.
static SECRETS: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Shorter values are not taken for secrets (they would blank out ordinary words).
const SECRET_MIN_LEN: usize = 6;

/// Registers `secret` so that no log line carries it from now on. Call it before the
/// secret can reach any code that logs.
pub fn register_secret(secret: &str) {
    let secret = secret.trim();
    if secret.len() < SECRET_MIN_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == secret) {
        secrets.push(secret.to_string());
        // The longest first, so one that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `line` with every registered secret replaced by `***`.
pub fn redact(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let found = secrets
        .iter()
        .any(|s| memchr::memmem::find(line, s.as_bytes()).is_some());
    if !found {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = line.to_vec();
    for secret in secrets.iter() {
        let mut replaced = Vec::with_capacity(out.len());
        let mut rest = &out[..];
        while let Some(at) = memchr::memmem::find(rest, secret.as_bytes()) {
            replaced.extend_from_slice(&rest[..at]);
            replaced.extend_from_slice(b"***");
            rest = &rest[at + secret.len()..];
        }
        replaced.extend_from_slice(rest);
        out = replaced;
    }
    std::borrow::Cow::Owned(out)
}

impl Write for SinkGuard {
    /// The formatter writes each event whole in one call, so a secret is never split across
    /// two writes; the whole buffer is taken every time.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let clean = redact(buf);
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write_all(&clean)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

impl<'a> MakeWriter<'a> for SharedWriter {
    type Writer = SinkGuard;
    fn make_writer(&'a self) -> SinkGuard {
        SinkGuard(self.0.clone())
    }
}

/// Changes the level and destination after start (settings arrive with `initialize`).
#[derive(Clone)]
pub struct LogHandle {
    filter: Option<reload::Handle<Targets, Registry>>,
    sink: Sink,
    env_set: bool,
    file: Arc<Mutex<Option<PathBuf>>>,
}

fn open(path: &Path) -> Option<Box<dyn Write + Send>> {
    match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        Ok(f) => Some(Box::new(f)),
        Err(e) => {
            eprintln!("codex-lsp: cannot open log file {}: {e}", path.display());
            None
        }
    }
}

impl LogHandle {
    /// A handle that changes nothing (tests, or when a subscriber was already set).
    pub fn inert() -> LogHandle {
        LogHandle {
            filter: None,
            sink: Arc::new(Mutex::new(Box::new(std::io::stderr()))),
            env_set: true,
            file: Arc::new(Mutex::new(None)),
        }
    }

    pub fn apply(&self, level: Option<&str>, file: Option<&Path>) {
        if let (Some(handle), Some(level), false) = (&self.filter, level, self.env_set) {
            match filter(level) {
                Ok(filter) => {
                    let _ = handle.reload(filter);
                }
                Err(e) => tracing::warn!("logLevel {level:?} is not a valid filter: {e}"),
            }
        }
        if let Some(path) = file {
            let mut current = self.file.lock().unwrap_or_else(|e| e.into_inner());
            if current.as_deref() != Some(path) {
                if let Some(writer) = open(path) {
                    *self.sink.lock().unwrap_or_else(|e| e.into_inner()) = writer;
                    *current = Some(path.to_path_buf());
                }
            }
        }
    }
}

/// Dependencies held at a level whatever the user's filter says, because below it they log
/// raw traffic: async-lsp traces every LSP message whole (`incoming msg=…`: what the user
/// typed, the buffers, the API key of `codex.login`), the WebSocket library the raw
/// handshake (`authorization: Bearer <token>`). The log writer redacts known secrets too.
const CAPPED: &[(&str, LevelFilter)] = &[
    ("async_lsp", LevelFilter::DEBUG),
    ("tungstenite", LevelFilter::INFO),
    ("tokio_tungstenite", LevelFilter::INFO),
    ("hyper", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
    ("rustls", LevelFilter::INFO),
];

/// The user's filter, with [`CAPPED`] dependencies held where they are (a directive for the
/// same target replaces the user's). Blanks around directives are allowed.
fn filter(directives: &str) -> Result<Targets, tracing_subscriber::filter::ParseError> {
    let directives: Vec<&str> = directives
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    let filter: Targets = directives.join(",").parse()?;
    Ok(filter.with_targets(CAPPED.iter().copied()))
}

/// Installs the global subscriber.
pub fn init(log_file: Option<&Path>) -> LogHandle {
    let env = std::env::var(ENV_FILTER).ok().filter(|v| !v.is_empty());
    let filter = env
        .as_deref()
        .and_then(|v| filter(v).ok())
        .unwrap_or_else(|| filter("warn").expect("a valid filter"));
    let (filter, handle) = reload::Layer::new(filter);
    let writer: Box<dyn Write + Send> = log_file
        .and_then(open)
        .unwrap_or_else(|| Box::new(std::io::stderr()));
    let sink: Sink = Arc::new(Mutex::new(writer));
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(SharedWriter(sink.clone()));
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init()
        .is_ok();
    LogHandle {
        filter: installed.then_some(handle),
        sink,
        env_set: env.is_some(),
        file: Arc::new(Mutex::new(log_file.map(Path::to_path_buf))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    /// Every form the docs show (docs/lsp.md, docs/security.md) parses, and the caps hold.
    #[test]
    fn documented_filters_parse_and_the_caps_hold() {
        let at = |filter: &Targets, target: &str, level: Level| filter.would_enable(target, &level);
        let warn = filter("warn").unwrap();
        assert!(at(&warn, "codex_lsp::bridge", Level::WARN));
        assert!(!at(&warn, "codex_lsp::bridge", Level::INFO));

        let ours = filter("codex_lsp=debug").unwrap();
        assert!(at(&ours, "codex_lsp::app_server", Level::DEBUG));
        assert!(!at(&ours, "codex_lsp::app_server", Level::TRACE));
        assert!(!at(&ours, "tokio", Level::ERROR), "other targets are off");

        let everything =
            filter("trace,async_lsp=trace,tungstenite=trace,tokio_tungstenite=trace").unwrap();
        assert!(at(&everything, "codex_lsp", Level::TRACE));
        assert!(at(&everything, "async_lsp::tracing", Level::DEBUG));
        assert!(
            !at(&everything, "async_lsp::tracing", Level::TRACE),
            "capped"
        );
        assert!(
            !at(&everything, "tungstenite::handshake", Level::DEBUG),
            "capped"
        );
        assert!(
            !at(&everything, "tokio_tungstenite", Level::DEBUG),
            "capped"
        );

        let spaced = filter(" info , codex_lsp=trace ").unwrap();
        assert!(at(&spaced, "codex_lsp", Level::TRACE));
        assert!(at(&spaced, "tokio", Level::INFO));
        assert!(filter("off").is_ok());
        assert!(filter("codex_lsp=loud").is_err());
    }

    #[test]
    fn registered_secrets_never_reach_a_log_line() {
        register_secret("tok-registered-abcdef");
        register_secret("tok-registered-abcdef-longer");
        register_secret("short");
        let line = b"authorization: Bearer tok-registered-abcdef-longer; again tok-registered-abcdef; short\n";
        assert_eq!(
            std::str::from_utf8(&redact(line)).unwrap(),
            "authorization: Bearer ***; again ***; short\n"
        );
        assert!(matches!(
            redact(b"nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
