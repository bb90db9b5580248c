#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("doctor") {
        std::process::exit(codex_lsp::doctor::run(&args[1..]).await);
    }
}
