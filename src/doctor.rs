//! `codex-lsp doctor [--self-test] [--codex-path PATH]`: checks the chain codex-lsp depends on
//! and says plainly which link is broken.
//!
//! Without `--self-test` it finds the runtime, starts it, initializes, and prints the runtime
//! version, account state and models. `--self-test` also runs one real turn through the real
//! app-server against a scripted provider served here on 127.0.0.1, in a scratch `CODEX_HOME`
//! and workspace: no account, no network. It shows the streamed reply and the file the agent
//! wrote, and exits non-zero if anything in the chain fails. The scripted provider
//! (`crates/mock-provider`) comes with the default `self-test` feature; a build without it
//! answers `--self-test` with a plain "this build has no self-test".

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::app_server::client::decline_all;
#[cfg(feature = "self-test")]
use crate::app_server::protocol::{self as p, ServerNotification, ThreadItem};
use crate::app_server::{Codex, SpawnOptions};
use crate::runtime::{self, Runtime, RuntimeSource};
#[cfg(feature = "self-test")]
use mock_provider::{MockProvider, Reply, Rule};

const USAGE: &str = "usage: codex-lsp doctor [--self-test] [--codex-path PATH]";
/// What `--self-test` says in a build without the `self-test` feature.
#[cfg(not(feature = "self-test"))]
const NO_SELF_TEST: &str = "this build of codex-lsp has no self-test: it was built without \
     the `self-test` feature (rebuild with default features to get `doctor --self-test`)";
#[cfg(feature = "self-test")]
const SELF_TEST_FILE: &str = "codex-lsp-self-test.txt";
#[cfg(feature = "self-test")]
const SELF_TEST_CONTENT: &str = "Written by the agent during codex-lsp doctor --self-test.\n";
#[cfg(feature = "self-test")]
const SELF_TEST_REPLY: &str = "Self-test complete: the file is written and the reply streamed.";

struct Options {
    self_test: bool,
    codex_path: Option<PathBuf>,
}

/// What the arguments ask for: the checks, or the usage.
enum Parsed {
    Check(Options),
    Help,
}

/// Options are `--name VALUE` or `--name=VALUE`, as for the server.
fn parse(args: Vec<OsString>) -> Result<Parsed, lexopt::Error> {
    use lexopt::prelude::*;
    let mut options = Options {
        self_test: false,
        codex_path: None,
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("self-test") => options.self_test = true,
            Long("codex-path") => options.codex_path = Some(PathBuf::from(parser.value()?)),
            Short('h') | Long("help") => return Ok(Parsed::Help),
            arg => return Err(arg.unexpected()),
        }
    }
    Ok(Parsed::Check(options))
}

/// Runs the doctor with the arguments after `doctor`; the value is the process exit code.
pub async fn run(args: Vec<OsString>) -> i32 {
    let options = match parse(args) {
        Ok(Parsed::Check(options)) => options,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("codex-lsp doctor: {e}\n{USAGE}");
            return 2;
        }
    };
    #[cfg(not(feature = "self-test"))]
    if options.self_test {
        eprintln!("{NO_SELF_TEST}");
        return 2;
    }
    let mut out = std::io::stdout();
    match check(&options, &mut out).await {
        Ok(missing) if missing.is_empty() => {
            let _ = writeln!(out, "\nall checks passed");
            0
        }
        // Everything ran, but codex-lsp cannot work yet: never "all checks passed".
        Ok(missing) => {
            let _ = writeln!(out, "\nNOT READY:");
            for item in missing {
                let _ = writeln!(out, "  - {item}");
            }
            1
        }
        Err(message) => {
            let _ = writeln!(out, "\nFAILED: {message}");
            1
        }
    }
}

fn source_name(source: RuntimeSource) -> &'static str {
    match source {
        RuntimeSource::Setting => "--codex-path",
        RuntimeSource::Env => concat!("$", "CODEX_LSP_CODEX_PATH"),
        RuntimeSource::Pinned => "pinned runtime",
        RuntimeSource::SystemPath => "PATH",
        RuntimeSource::NpmGlobal => "npm global prefix",
        RuntimeSource::Homebrew => "Homebrew",
    }
}

/// Runs the checks; `Ok` lists what is missing for codex-lsp to work (e.g. a login),
/// `Err` says which check failed.
async fn check(options: &Options, out: &mut impl Write) -> Result<Vec<String>, String> {
    let mut missing = Vec::new();
    let runtime = runtime::discover(options.codex_path.as_deref()).map_err(|e| e.to_string())?;
    let _ = writeln!(
        out,
        "runtime     {} ({}; codex-lsp is pinned to {})",
        runtime.codex.display(),
        source_name(runtime.source),
        runtime::PINNED_VERSION
    );
    let _ = writeln!(
        out,
        "            {}; used because {}",
        runtime.package(),
        runtime.source.reason()
    );

    let started = Instant::now();
    let codex = Codex::spawn(&SpawnOptions::new(runtime.clone()), decline_all())
        .await
        .map_err(|e| format!("starting the app-server: {e}"))?;
    let _ = writeln!(
        out,
        "app-server  {} (initialized in {} ms)",
        codex.info().user_agent,
        started.elapsed().as_millis()
    );

    let account = codex
        .account_read()
        .await
        .map_err(|e| format!("account/read: {e}"))?;
    let account_line = match &account.account {
        Some(a) => format!("logged in ({})", a.type_name()),
        None if account.requires_openai_auth => {
            missing.push(
                "not logged in: the configured model provider needs an account. Log in from \
                 the editor (codex.login: API key, ChatGPT or device code; :CodexLogin in \
                 Neovim) or run `codex login`"
                    .to_string(),
            );
            "not logged in — use codex.login (API key, ChatGPT or device code)".to_string()
        }
        None => "no account needed by the configured provider".to_string(),
    };
    let _ = writeln!(out, "account     {account_line}");

    let models = codex
        .model_list()
        .await
        .map_err(|e| format!("model/list: {e}"))?;
    let names: Vec<String> = models
        .iter()
        .map(|m| m.id.clone())
        .filter(|id| !id.is_empty())
        .collect();
    let _ = writeln!(out, "models      {}", names.join(", "));
    drop(codex);

    if options.self_test {
        self_test(runtime, out).await?;
    }
    Ok(missing)
}

/// Without the feature `run` refuses `--self-test` before any check runs.
#[cfg(not(feature = "self-test"))]
async fn self_test(_runtime: Runtime, _out: &mut impl Write) -> Result<(), String> {
    Err(NO_SELF_TEST.to_string())
}

#[cfg(feature = "self-test")]
async fn self_test(runtime: Runtime, out: &mut impl Write) -> Result<(), String> {
    let _ = writeln!(out, "\nself-test");
    let patch = Reply::apply_patch_add(SELF_TEST_FILE, SELF_TEST_CONTENT);
    let provider = MockProvider::start(vec![Rule::new(
        "codex-lsp self-test",
        vec![patch, Reply::text(SELF_TEST_REPLY)],
    )])
    .await
    .map_err(|e| format!("starting the scripted provider: {e}"))?;
    // Both are removed when dropped, however the self-test ends.
    let codex_home = scratch_dir("codex-home")?;
    let workspace = scratch_dir("workspace")?;
    mock_provider::write_codex_home(codex_home.path(), &provider.base_url())
        .map_err(|e| format!("writing the scratch CODEX_HOME: {e}"))?;
    let _ = writeln!(
        out,
        "  provider  scripted, at {} (nothing leaves this machine)",
        provider.base_url()
    );
    let _ = writeln!(out, "  workspace {}", workspace.path().display());

    run_self_test_turn(runtime, codex_home.path(), workspace.path(), out).await
}

#[cfg(feature = "self-test")]
async fn run_self_test_turn(
    runtime: Runtime,
    codex_home: &std::path::Path,
    workspace: &std::path::Path,
    out: &mut impl Write,
) -> Result<(), String> {
    let mut options = SpawnOptions::new(runtime).cwd(workspace);
    for (key, value) in mock_provider::codex_env(codex_home) {
        options = options.env(key, value);
    }
    let codex = Codex::spawn(&options, decline_all())
        .await
        .map_err(|e| format!("starting the self-test app-server: {e}"))?;
    let thread = codex
        .send(&p::ThreadStartParams {
            cwd: Some(workspace.display().to_string()),
            approval_policy: Some(p::AskForApproval::Never),
            sandbox: Some(p::SandboxMode::WorkspaceWrite),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("thread/start: {e}"))?
        .thread
        .id;
    let _ = writeln!(out, "  thread    {thread}");
    let params = p::TurnStartParams {
        thread_id: thread,
        input: vec![p::UserInput::text("codex-lsp self-test: write the file")],
        ..Default::default()
    };
    let mut turn = codex
        .turn_start(&params)
        .await
        .map_err(|e| format!("turn/start: {e}"))?;
    let _ = writeln!(out, "  turn      {}", turn.turn_id);
    let _ = write!(out, "  reply     ");
    let mut collector = crate::app_server::TurnCollector::new(&turn.thread_id, &turn.turn_id);
    let deadline = std::time::Duration::from_secs(60);
    let streamed = tokio::time::timeout(deadline, async {
        while let Some(event) = turn.next_event().await {
            let event = event.map_err(|e| e.to_string())?;
            collector.observe(&event);
            if let Some(delta) = event.reply_delta() {
                let _ = write!(out, "{delta}");
                let _ = out.flush();
            } else if let ServerNotification::ItemCompleted(done) = &*event.decoded() {
                if let ThreadItem::FileChange(change) = &done.item {
                    for c in &change.changes {
                        let _ = write!(out, "[{} {}] ", c.kind.type_name(), c.path);
                    }
                }
            }
        }
        Ok::<(), String>(())
    })
    .await;
    let _ = writeln!(out);
    streamed.map_err(|_| "the self-test turn did not finish within 60 s".to_string())??;
    let result = collector.finish().map_err(|e| e.to_string())?;
    if result.status != p::TurnStatus::Completed {
        let error = result.error.as_ref().map_or("", |e| e.message.as_str());
        return Err(format!(
            "the turn ended {}: {error}",
            result.status.as_str()
        ));
    }
    if result.final_response != SELF_TEST_REPLY {
        return Err(format!(
            "the final response was {:?}, expected {SELF_TEST_REPLY:?}",
            result.final_response
        ));
    }
    let written = std::fs::read_to_string(workspace.join(SELF_TEST_FILE))
        .map_err(|e| format!("the agent's file is not on disk: {e}"))?;
    if written != SELF_TEST_CONTENT {
        return Err(format!("the agent's file holds {written:?}"));
    }
    let _ = writeln!(
        out,
        "  file      {SELF_TEST_FILE} written by the agent, {} bytes, as scripted",
        written.len()
    );
    let _ = writeln!(
        out,
        "  status    completed in {} ms",
        result.duration_ms.unwrap_or(0)
    );
    Ok(())
}

#[cfg(feature = "self-test")]
/// A new folder under the system's temporary directory, named for what it holds.
fn scratch_dir(what: &str) -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix(&format!("codex-lsp-doctor-{what}-"))
        .tempdir()
        .map_err(|e| format!("creating a scratch folder for the {what}: {e}"))
}
