//! `codex-lsp`: the language server on stdio (the default), or a subcommand.

use std::ffi::OsString;
use std::path::PathBuf;

const USAGE: &str = "usage: codex-lsp [--stdio] [--log-file PATH]
       codex-lsp doctor [--self-test] [--codex-path PATH]
       codex-lsp runtime install [--index-url URL]
       codex-lsp settings-schema
       codex-lsp --help | --version";

/// What the command line asks for.
enum Command {
    Serve { log_file: Option<PathBuf> },
    Doctor(Vec<OsString>),
    Runtime(Vec<OsString>),
    SettingsSchema,
    Help,
    Version,
}

/// Options are `--name VALUE` or `--name=VALUE`; a subcommand comes first and parses the
/// rest itself. `--stdio` is accepted and ignored (VS Code passes it); stdio is the only
/// transport.
fn parse(args: Vec<OsString>) -> Result<Command, lexopt::Error> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut log_file = None;
    let mut first = true;
    while let Some(arg) = parser.next()? {
        match arg {
            Value(sub) if first => match sub.to_str() {
                Some("doctor") => return Ok(Command::Doctor(parser.raw_args()?.collect())),
                Some("runtime") => return Ok(Command::Runtime(parser.raw_args()?.collect())),
                Some("settings-schema") => {
                    return match parser.next()? {
                        None => Ok(Command::SettingsSchema),
                        Some(Short('h') | Long("help")) => Ok(Command::Help),
                        Some(arg) => Err(arg.unexpected()),
                    }
                }
                _ => return Err(lexopt::Error::UnexpectedArgument(sub)),
            },
            Long("stdio") => {}
            Long("log-file") => log_file = Some(PathBuf::from(parser.value()?)),
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            arg => return Err(arg.unexpected()),
        }
        first = false;
    }
    Ok(Command::Serve { log_file })
}

fn main() {
    let code = match parse(std::env::args_os().skip(1).collect()) {
        Ok(Command::Serve { log_file }) => run_server(log_file),
        Ok(Command::Doctor(args)) => match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime.block_on(codex_lsp::doctor::run(args)),
            Err(e) => {
                eprintln!("codex-lsp doctor: cannot start the async runtime: {e}");
                1
            }
        },
        Ok(Command::Runtime(args)) => codex_lsp::runtime_install::run(args),
        // Every setting as a JSON schema: the one list the editors' lists are checked against.
        Ok(Command::SettingsSchema) => {
            let schema = codex_lsp::bridge::settings_schema();
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).expect("a schema prints")
            );
            0
        }
        Ok(Command::Help) => {
            println!("{USAGE}");
            0
        }
        Ok(Command::Version) => {
            println!("codex-lsp {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Err(e) => {
            eprintln!("codex-lsp: {e}\n{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

fn run_server(log_file: Option<PathBuf>) -> i32 {
    let log = codex_lsp::logging::init(log_file.as_deref());
    // One thread: an event from the app-server is read, routed and reported without being
    // handed to another thread (a wake-up that cost more than the event itself), and the
    // reader yields every 128 messages so typing keeps its turn. Nothing here blocks the
    // thread waiting for another task; stdin and stdout use tokio's blocking pool.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = runtime.block_on(async move {
        // async-lsp's PipeStdin/PipeStdout are not `Send`, and our stdio guard runs on tasks;
        // tokio's stdio is fine here (we exit the process when serving ends).
        let (input, output) = (tokio::io::stdin(), tokio::io::stdout());
        codex_lsp::lsp::serve(input, output, log).await
    });
    // Exit with the runtime still up. Dropping it would wait for the blocking thread that
    // reads stdin (an editor that keeps our stdin open after `exit` would wait for us until
    // it killed us), and cancelling that read would log a spurious "stream is broken".
    std::process::exit(code)
}
