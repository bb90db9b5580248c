//! Logging: `tracing` to stderr (stdout is the LSP channel) at `warn` by default, or to a
//! file. `CODEX_LSP_LOG` (an env-filter) wins over the `logLevel` setting.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

pub const ENV_FILTER: &str = "CODEX_LSP_LOG";

type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

#[derive(Clone)]
struct SharedWriter(Sink);

struct SinkGuard(Sink);

impl Write for SinkGuard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(buf)
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
    filter: Option<reload::Handle<EnvFilter, Registry>>,
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

/// The user's filter, with async-lsp held at `debug` whatever it says: async-lsp traces
/// every LSP message whole (`incoming msg=…`), and those carry what the user typed, the
/// buffers and the API key of `codex.login`.
fn filter(directives: &str) -> Result<EnvFilter, tracing_subscriber::filter::ParseError> {
    Ok(EnvFilter::try_new(directives)?
        .add_directive("async_lsp=debug".parse().expect("a valid directive")))
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
