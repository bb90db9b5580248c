//! `codex-lsp`: the language server on stdio (the default), or a subcommand.

use std::path::PathBuf;

fn usage() -> &'static str {
    "usage: codex-lsp [--stdio] [--log-file PATH]\n       codex-lsp doctor [--self-test]\n       codex-lsp settings-schema"
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("doctor") => match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime.block_on(codex_lsp::doctor::run(&args[1..])),
            Err(e) => {
                eprintln!("codex-lsp doctor: cannot start the async runtime: {e}");
                1
            }
        },
        // Every setting as a JSON schema: the one list the editors' lists are checked against.
        Some("settings-schema") => {
            let schema = codex_lsp::bridge::settings_schema();
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).expect("a schema prints")
            );
            0
        }
        Some("--help" | "-h") => {
            println!("{}", usage());
            0
        }
        Some("--version" | "-V") => {
            println!("codex-lsp {}", env!("CARGO_PKG_VERSION"));
            0
        }
        _ => match parse_server_args(&args) {
            Ok(log_file) => run_server(log_file),
            Err(e) => {
                eprintln!("codex-lsp: {e}\n{}", usage());
                2
            }
        },
    };
    std::process::exit(code);
}

/// `--stdio` is accepted and ignored (VS Code passes it); stdio is the only transport.
fn parse_server_args(args: &[String]) -> Result<Option<PathBuf>, String> {
    let mut log_file = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--stdio" => {}
            "--log-file" => {
                let path = iter.next().ok_or("--log-file needs a path")?;
                log_file = Some(PathBuf::from(path));
            }
            other => match other.strip_prefix("--log-file=") {
                Some(path) => log_file = Some(PathBuf::from(path)),
                None => return Err(format!("unknown argument `{other}`")),
            },
        }
    }
    Ok(log_file)
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
