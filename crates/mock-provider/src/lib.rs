//! A scripted, offline Responses-API model provider.
//!
//! [`MockProvider`] is a tiny HTTP/1.1 server on `127.0.0.1:0` that speaks just enough of
//! the OpenAI Responses API (`POST /v1/responses`, answered with `text/event-stream`) for the
//! real `codex app-server` to run real turns with no network and no account. It is used by
//! codex-lsp's integration tests and by `codex-lsp doctor --self-test`.
//!
//! # Scripting
//!
//! A [`Rule`] matches a request when the text of the **last user message** in the request's
//! `input` contains [`Rule::when_prompt_contains`] (first matching rule wins, in the order the
//! rules were given / added). The *step* within the rule is the number of tool-call outputs
//! (`function_call_output`, `custom_tool_call_output`, any `*_call_output`) that come after
//! that last user message; the reply is `rule.replies[step]`, and past the end it is a short
//! final text reply ([`DONE_TEXT`]). No matching rule gives a text reply [`DEFAULT_TEXT`].
//!
//! Matching is stateless per request (everything is derived from the request body), so
//! concurrent turns on several threads each get their own script. Note: `turn/steer` adds a
//! user message mid-turn, which restarts the step count at 0 for the steered text.
//!
//! "User message" means an `input` item `{"type":"message","role":"user"}` whose text is not
//! one of codex's injected context fragments (text that starts with `<` and ends with `>`,
//! e.g. `<environment_context>…</environment_context>`, or starts with `# AGENTS.md`).
//!
//! # What codex-cli does with a provider
//!
//! What the app-server sends, which SSE events it needs, how tool calls and their outputs
//! travel, what an overload or an HTTP error becomes: found against the pinned runtime and
//! kept in `docs/app-server-client.md` ("The model provider as codex-cli sees it"). Read it
//! before adding a [`Reply`].
//!
//! # Review turns
//!
//! A reviewer's answer is one JSON object ([`Reply::review`]); the last user message of a
//! review of uncommitted changes is [`REVIEW_UNCOMMITTED_PROMPT`]. How the app-server runs
//! the reviewer and renders its answer: the same section of `docs/app-server-client.md`.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use mock_provider::{write_codex_home, MockProvider, Reply, Rule};
//! let provider = MockProvider::start(vec![Rule::new(
//!     "add a file",
//!     vec![Reply::apply_patch_add("new.txt", "hello\n"), Reply::text("added it")],
//! )])
//! .await?;
//! let home = tempfile::tempdir()?;
//! write_codex_home(home.path(), &provider.base_url())?;
//! // spawn `codex app-server --listen stdio://` with CODEX_HOME=home and
//! // CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG=1 (see `codex_env`), then run a turn whose
//! // prompt contains "add a file": a fileChange item, then the agent message "added it".
//! assert_eq!(provider.requests().len(), 0);
//! # Ok(()) }
//! ```
//!
//! Everything is logged with `tracing` (target `mock_provider`).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Text of the reply sent when no rule matches the last user message.
pub const DEFAULT_TEXT: &str = "mock reply";
/// Text of the reply sent when a rule has run out of scripted replies.
pub const DONE_TEXT: &str = "done.";
/// Model slug written by [`write_codex_home`]; a real catalogue slug so that codex offers
/// `apply_patch` to the model.
pub const MODEL: &str = "gpt-5.5";
/// Provider id written by [`write_codex_home`].
pub const PROVIDER_ID: &str = "mock_provider";
/// Environment variable (value `1`) the app-server needs so that no managed config interferes.
pub const DISABLE_MANAGED_CONFIG_ENV: &str = "CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG";

/// The user message of a `review/start` turn on uncommitted changes (codex-cli 0.163.0).
pub const REVIEW_UNCOMMITTED_PROMPT: &str = "Review the current code changes (staged, unstaged, and untracked files) and provide prioritized findings.";

/// Token usage reported in `response.completed` (input, output) unless the rule says
/// otherwise ([`Rule::with_usage`]).
pub const USAGE: (u64, u64) = (10, 1);

const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
/// Headers a request may carry; codex sends about a dozen.
const MAX_HEADERS: usize = 64;

/// One scripted answer of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A final assistant message streamed as one `response.output_text.delta` per chunk,
    /// sleeping `delay` before each chunk after the first (the "slow stream" scenario).
    Text {
        chunks: Vec<String>,
        delay: Duration,
    },
    /// A call of the freeform `apply_patch` tool with this patch text
    /// (`*** Begin Patch` … `*** End Patch`). See [`PatchBuilder`].
    ApplyPatch { patch: String },
    /// A call of the `exec_command` tool. With `escalate`, the call asks for
    /// `sandbox_permissions: "require_escalated"` (with `justification` as the reason), so an
    /// `on-request` approval policy makes the app-server send
    /// `item/commandExecution/requestApproval`.
    Exec {
        cmd: String,
        escalate: bool,
        justification: Option<String>,
    },
    /// A call of a function tool by `name` with these JSON `arguments` (`update_plan`, …).
    Call { name: String, arguments: String },
    /// `response.failed` with `server_is_overloaded`: the turn fails with `serverOverloaded`.
    Overloaded,
    /// A plain HTTP error with this status code and a small JSON error body.
    HttpError(u16),
    /// `response.created`, then nothing until the client drops the connection.
    Hang,
}

impl Reply {
    /// A text reply, streamed word by word (each chunk keeps its trailing whitespace).
    pub fn text(text: impl AsRef<str>) -> Reply {
        Reply::Text {
            chunks: split_words(text.as_ref()),
            delay: Duration::ZERO,
        }
    }

    /// A text reply streamed word by word with `delay` between chunks.
    pub fn slow_text(text: impl AsRef<str>, delay: Duration) -> Reply {
        Reply::Text {
            chunks: split_words(text.as_ref()),
            delay,
        }
    }

    /// A reviewer's answer: the review output JSON (`findings`, `overall_correctness`,
    /// `overall_explanation`, …) as the reply's text.
    pub fn review(output: &Value) -> Reply {
        Reply::text(output.to_string())
    }

    /// An `exec_command` call running `cmd` in the default sandbox.
    pub fn exec(cmd: impl Into<String>) -> Reply {
        Reply::Exec {
            cmd: cmd.into(),
            escalate: false,
            justification: None,
        }
    }

    /// An `exec_command` call asking for escalated (unsandboxed) permissions.
    pub fn exec_escalated(cmd: impl Into<String>, justification: impl Into<String>) -> Reply {
        Reply::Exec {
            cmd: cmd.into(),
            escalate: true,
            justification: Some(justification.into()),
        }
    }

    /// An `apply_patch` call adding a file (`path` relative to the thread's cwd, or absolute).
    /// An `update_plan` call: `steps` as (step, status) with status `pending`,
    /// `in_progress` or `completed`.
    pub fn update_plan(explanation: &str, steps: &[(&str, &str)]) -> Reply {
        let plan: Vec<Value> = steps
            .iter()
            .map(|(step, status)| json!({ "step": step, "status": status }))
            .collect();
        Reply::Call {
            name: "update_plan".into(),
            arguments: json!({ "explanation": explanation, "plan": plan }).to_string(),
        }
    }

    pub fn apply_patch_add(path: &str, content: &str) -> Reply {
        PatchBuilder::new().add(path, content).into_reply()
    }

    /// An `apply_patch` call replacing the lines `old` by `new` in an existing file.
    pub fn apply_patch_update(path: &str, old: &str, new: &str) -> Reply {
        PatchBuilder::new().update(path, old, new).into_reply()
    }

    /// An `apply_patch` call deleting a file.
    pub fn apply_patch_delete(path: &str) -> Reply {
        PatchBuilder::new().delete(path).into_reply()
    }
}

fn split_words(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut cur = String::new();
    let mut in_space = false;
    for c in text.chars() {
        if !c.is_whitespace() && in_space {
            chunks.push(std::mem::take(&mut cur));
            in_space = false;
        }
        if c.is_whitespace() {
            in_space = true;
        }
        cur.push(c);
    }
    if !cur.is_empty() || chunks.is_empty() {
        chunks.push(cur);
    }
    chunks
}

/// Builds patch text in the form codex's freeform `apply_patch` tool takes.
///
/// ```
/// use mock_provider::PatchBuilder;
/// let patch = PatchBuilder::new()
///     .update("a.txt", "old line\n", "new line\n")
///     .add("b.txt", "hello\n")
///     .delete("c.txt")
///     .build();
/// assert!(patch.starts_with("*** Begin Patch\n*** Update File: a.txt\n@@\n-old line\n+new line\n"));
/// assert!(patch.ends_with("*** Delete File: c.txt\n*** End Patch\n"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct PatchBuilder {
    hunks: String,
}

impl PatchBuilder {
    /// An empty patch.
    pub fn new() -> PatchBuilder {
        PatchBuilder::default()
    }

    /// Adds a new file with `content` (a missing final newline is tolerated).
    pub fn add(mut self, path: &str, content: &str) -> PatchBuilder {
        self.hunks.push_str(&format!("*** Add File: {path}\n"));
        for line in content.lines() {
            self.hunks.push_str(&format!("+{line}\n"));
        }
        if content.is_empty() {
            self.hunks.push_str("+\n");
        }
        self
    }

    /// Replaces the consecutive lines `old` by `new` in `path` (one `@@` hunk, no context).
    pub fn update(mut self, path: &str, old: &str, new: &str) -> PatchBuilder {
        self.hunks
            .push_str(&format!("*** Update File: {path}\n@@\n"));
        for line in old.lines() {
            self.hunks.push_str(&format!("-{line}\n"));
        }
        for line in new.lines() {
            self.hunks.push_str(&format!("+{line}\n"));
        }
        self
    }

    /// Moves `path` to `to`, replacing the lines `old` by `new` on the way.
    pub fn update_and_move(mut self, path: &str, to: &str, old: &str, new: &str) -> PatchBuilder {
        self.hunks
            .push_str(&format!("*** Update File: {path}\n*** Move to: {to}\n@@\n"));
        for line in old.lines() {
            self.hunks.push_str(&format!("-{line}\n"));
        }
        for line in new.lines() {
            self.hunks.push_str(&format!("+{line}\n"));
        }
        self
    }

    /// Deletes `path`.
    pub fn delete(mut self, path: &str) -> PatchBuilder {
        self.hunks.push_str(&format!("*** Delete File: {path}\n"));
        self
    }

    /// The patch text.
    pub fn build(&self) -> String {
        format!("*** Begin Patch\n{}*** End Patch\n", self.hunks)
    }

    /// A [`Reply::ApplyPatch`] with this patch.
    pub fn into_reply(self) -> Reply {
        Reply::ApplyPatch {
            patch: self.build(),
        }
    }
}

/// A script for the turns whose last user message contains `when_prompt_contains`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Substring of the last user message's text that selects this rule.
    pub when_prompt_contains: String,
    /// The reply for step 0, 1, … (step = tool outputs after the last user message).
    pub replies: Vec<Reply>,
    /// The token usage (input, output) each of its responses reports; `None`: [`USAGE`].
    pub usage: Option<(u64, u64)>,
}

impl Rule {
    /// A rule for prompts containing `when_prompt_contains`.
    pub fn new(when_prompt_contains: impl Into<String>, replies: Vec<Reply>) -> Rule {
        Rule {
            when_prompt_contains: when_prompt_contains.into(),
            replies,
            usage: None,
        }
    }

    /// Its responses report `input` and `output` tokens (so a test sees the context fill).
    pub fn with_usage(mut self, input: u64, output: u64) -> Rule {
        self.usage = Some((input, output));
        self
    }
}

struct Shared {
    rules: Mutex<Vec<Rule>>,
    requests: Mutex<Vec<Value>>,
    next_id: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running provider. Dropping it stops the server and ends every open connection
/// (including [`Reply::Hang`] streams).
pub struct MockProvider {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept_task: JoinHandle<()>,
    _stop: watch::Sender<()>,
}

impl std::fmt::Debug for MockProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockProvider")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockProvider {
    /// Binds `127.0.0.1:0` and starts serving with `rules`. Must run inside a tokio runtime.
    pub async fn start(rules: Vec<Rule>) -> std::io::Result<MockProvider> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            rules: Mutex::new(rules),
            requests: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        });
        let (stop, stop_rx) = watch::channel(());
        let accept_task = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
        tracing::debug!(%addr, "mock provider listening");
        Ok(MockProvider {
            shared,
            addr,
            accept_task,
            _stop: stop,
        })
    }

    /// `http://127.0.0.1:PORT/v1`, the `base_url` for codex's provider config.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// JSON bodies of every `/responses` request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Value> {
        lock(&self.shared.requests).clone()
    }

    /// Appends a rule (it matches after all earlier rules).
    pub fn add_rule(&self, rule: Rule) {
        lock(&self.shared.rules).push(rule);
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

/// Writes `dir/config.toml` pointing codex at the provider at `base_url`
/// (model [`MODEL`], provider [`PROVIDER_ID`], no retries). Creates `dir` if needed.
pub fn write_codex_home(dir: &Path, base_url: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let base_url = toml_string(base_url);
    let config = format!(
        "model = \"{MODEL}\"\n\
         model_provider = \"{PROVIDER_ID}\"\n\
         \n\
         [model_providers.{PROVIDER_ID}]\n\
         name = \"mock\"\n\
         base_url = {base_url}\n\
         wire_api = \"responses\"\n\
         request_max_retries = 0\n\
         stream_max_retries = 0\n"
    );
    std::fs::write(dir.join("config.toml"), config)
}

/// Environment for a `codex app-server` child using `codex_home` (besides `PATH`):
/// `CODEX_HOME` and [`DISABLE_MANAGED_CONFIG_ENV`]`=1`.
pub fn codex_env(codex_home: &Path) -> Vec<(String, std::ffi::OsString)> {
    vec![
        ("CODEX_HOME".to_string(), codex_home.as_os_str().to_owned()),
        (DISABLE_MANAGED_CONFIG_ENV.to_string(), "1".into()),
    ]
}

fn toml_string(s: &str) -> String {
    // A JSON string literal is a valid TOML basic string for the characters we care about.
    Value::String(s.to_string()).to_string()
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: watch::Receiver<()>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "mock provider accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                res = handle_connection(stream, &shared) => {
                    if let Err(e) = res {
                        tracing::debug!(%peer, error = %e, "mock provider connection ended");
                    }
                }
                _ = stop.changed() => {}
            }
        });
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn invalid(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_string())
}

/// The request line and the headers the provider acts on, as `httparse` found them.
struct Head {
    method: String,
    path: String,
    content_length: usize,
    chunked: bool,
    /// Bytes of the head, the blank line included: the body starts here.
    len: usize,
}

/// Parses the request head at the start of `buf`; `None` if it is not all there yet.
fn parse_head(buf: &[u8]) -> std::io::Result<Option<Head>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid(&format!("bad request head: {e}"))),
    };
    let mut content_length = 0usize;
    let mut chunked = false;
    for header in request.headers.iter() {
        let value = std::str::from_utf8(header.value)
            .map_err(|_| invalid("header value is not UTF-8"))?
            .trim();
        if header.name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().map_err(|_| invalid("bad content-length"))?;
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    Ok(Some(Head {
        method: request.method.unwrap_or_default().to_string(),
        path: request.path.unwrap_or_default().to_string(),
        content_length,
        chunked,
        len,
    }))
}

/// Reads one HTTP/1.1 request (Content-Length or chunked body). `None` on a clean EOF.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16 * 1024];
    let head = loop {
        if let Some(head) = parse_head(&buf)? {
            break head;
        }
        if buf.len() > MAX_HEADER_BYTES {
            return Err(invalid("headers too large"));
        }
        let n = stream.read(&mut tmp).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(invalid("eof in headers"))
            };
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let mut rest = buf.split_off(head.len);
    let body = if head.chunked {
        read_chunked(stream, rest).await?
    } else {
        if head.content_length > MAX_BODY_BYTES {
            return Err(invalid("body too large"));
        }
        while rest.len() < head.content_length {
            let n = stream.read(&mut tmp).await?;
            if n == 0 {
                return Err(invalid("eof in body"));
            }
            rest.extend_from_slice(&tmp[..n]);
        }
        rest.truncate(head.content_length);
        rest
    };
    Ok(Some(Request {
        method: head.method,
        path: head.path,
        body,
    }))
}

async fn read_chunked(stream: &mut TcpStream, mut buf: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut tmp = [0u8; 16 * 1024];
    let mut pos = 0usize;
    loop {
        // Size line.
        let line_end = loop {
            if let Some(i) = find(&buf[pos..], b"\r\n") {
                break pos + i;
            }
            let n = stream.read(&mut tmp).await?;
            if n == 0 {
                return Err(invalid("eof in chunk size"));
            }
            buf.extend_from_slice(&tmp[..n]);
        };
        let size_text = String::from_utf8_lossy(&buf[pos..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| invalid("bad chunk size"))?;
        pos = line_end + 2;
        if size == 0 {
            // Trailers are ignored (we never reuse the connection).
            return Ok(body);
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err(invalid("body too large"));
        }
        while buf.len() < pos + size + 2 {
            let n = stream.read(&mut tmp).await?;
            if n == 0 {
                return Err(invalid("eof in chunk"));
            }
            buf.extend_from_slice(&tmp[..n]);
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size + 2;
    }
}

async fn handle_connection(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let req = match read_request(&mut stream).await {
        Ok(Some(req)) => req,
        Ok(None) => return Ok(()),
        // A request codex would never send: say what is wrong with it, then close.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            tracing::warn!(error = %e, "mock provider: bad request");
            let body = json!({ "error": { "message": format!("mock provider: {e}") } });
            return write_plain(
                &mut stream,
                400,
                "application/json",
                body.to_string().as_bytes(),
            )
            .await;
        }
        Err(e) => return Err(e),
    };
    let path = req.path.split('?').next().unwrap_or_default();
    tracing::debug!(method = %req.method, path = %req.path, "mock provider request");
    if req.method != "POST" || !path.ends_with("/responses") {
        tracing::debug!(method = %req.method, path = %req.path, "mock provider: 404");
        return write_plain(
            &mut stream,
            404,
            "application/json",
            br#"{"error":{"message":"not found"}}"#,
        )
        .await;
    }
    let body: Value = serde_json::from_slice(&req.body).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "mock provider: request body is not JSON");
        json!({ "_raw": String::from_utf8_lossy(&req.body) })
    });
    let (reply, usage) = {
        let rules = lock(&shared.rules);
        (choose_reply(&body, &rules), choose_usage(&body, &rules))
    };
    lock(&shared.requests).push(body);
    tracing::debug!(?reply, "mock provider reply");
    serve_reply(&mut stream, shared, reply, usage).await
}

/// Text of an `input` item if it is a real (not injected-context) user message.
fn user_message_text(item: &Value) -> Option<String> {
    if item.get("role")?.as_str()? != "user" {
        return None;
    }
    if item
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message")
        != "message"
    {
        return None;
    }
    let text = match item.get("content")? {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    };
    let t = text.trim();
    let injected = (t.starts_with('<') && t.ends_with('>')) || t.starts_with("# AGENTS.md");
    (!injected).then_some(text)
}

/// Picks the reply for a request body: see the module docs.
pub fn choose_reply(body: &Value, rules: &[Rule]) -> Reply {
    match find_rule(body, rules) {
        Some((Some(rule), step)) => rule
            .replies
            .get(step)
            .cloned()
            .unwrap_or_else(|| Reply::text(DONE_TEXT)),
        _ => Reply::text(DEFAULT_TEXT),
    }
}

/// The token usage the response to a request body reports: its rule's, else [`USAGE`].
pub fn choose_usage(body: &Value, rules: &[Rule]) -> (u64, u64) {
    match find_rule(body, rules) {
        Some((Some(rule), _)) => rule.usage.unwrap_or(USAGE),
        _ => USAGE,
    }
}

/// The rule for the last user message (`None` inside: no rule matches) and the step
/// (tool outputs after it); `None`: no user message.
fn find_rule<'r>(body: &Value, rules: &'r [Rule]) -> Option<(Option<&'r Rule>, usize)> {
    let input = body
        .get("input")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let (index, text) = input
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, item)| user_message_text(item).map(|t| (i, t)))?;
    let step = input[index + 1..]
        .iter()
        .filter(|item| {
            item.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("call_output"))
        })
        .count();
    let rule = rules
        .iter()
        .find(|r| text.contains(r.when_prompt_contains.as_str()));
    Some((rule, step))
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

async fn write_plain(
    stream: &mut TcpStream,
    code: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason_phrase(code),
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

/// One SSE frame: `event: TYPE\ndata: JSON\n\n`.
pub fn sse_frame(event: &Value) -> String {
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    format!("event: {kind}\ndata: {event}\n\n")
}

async fn send_event(stream: &mut TcpStream, event: Value) -> std::io::Result<()> {
    stream.write_all(sse_frame(&event).as_bytes()).await?;
    stream.flush().await
}

fn completed(response_id: &str, (input, output): (u64, u64)) -> Value {
    json!({
        "type": "response.completed",
        "response": {
            "id": response_id,
            "usage": {
                "input_tokens": input,
                "input_tokens_details": { "cached_tokens": 0 },
                "output_tokens": output,
                "output_tokens_details": { "reasoning_tokens": 0 },
                "total_tokens": input + output,
            }
        }
    })
}

async fn serve_reply(
    stream: &mut TcpStream,
    shared: &Shared,
    reply: Reply,
    usage: (u64, u64),
) -> std::io::Result<()> {
    let n = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let response_id = format!("resp_mock_{n}");
    match reply {
        Reply::HttpError(code) => {
            let body = json!({
                "error": {
                    "message": format!("mock provider: HTTP {code}"),
                    "type": "server_error",
                    "code": null,
                }
            });
            return write_plain(
                stream,
                code,
                "application/json",
                body.to_string().as_bytes(),
            )
            .await;
        }
        Reply::Text { chunks, delay } => {
            start_sse(stream, &response_id).await?;
            let id = format!("msg_mock_{n}");
            send_event(
                stream,
                json!({
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": { "type": "message", "role": "assistant", "id": id, "content": [] },
                }),
            )
            .await?;
            for (i, chunk) in chunks.iter().enumerate() {
                if i > 0 && !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                send_event(
                    stream,
                    json!({
                        "type": "response.output_text.delta",
                        "item_id": id,
                        "output_index": 0,
                        "content_index": 0,
                        "delta": chunk,
                    }),
                )
                .await?;
            }
            let text: String = chunks.concat();
            send_event(
                stream,
                json!({
                    "type": "response.output_item.done",
                    "output_index": 0,
                    "item": {
                        "type": "message",
                        "role": "assistant",
                        "id": id,
                        "content": [{ "type": "output_text", "text": text, "annotations": [] }],
                    },
                }),
            )
            .await?;
        }
        Reply::ApplyPatch { patch } => {
            start_sse(stream, &response_id).await?;
            let item = json!({
                "type": "custom_tool_call",
                "id": format!("ctc_mock_{n}"),
                "call_id": format!("call_mock_{n}"),
                "name": "apply_patch",
                "input": patch,
                "status": "completed",
            });
            send_item(stream, item).await?;
        }
        Reply::Exec {
            cmd,
            escalate,
            justification,
        } => {
            start_sse(stream, &response_id).await?;
            let mut args = json!({ "cmd": cmd });
            if escalate {
                args["sandbox_permissions"] = json!("require_escalated");
            }
            if let Some(j) = justification {
                args["justification"] = json!(j);
            }
            let item = json!({
                "type": "function_call",
                "id": format!("fc_mock_{n}"),
                "call_id": format!("call_mock_{n}"),
                "name": "exec_command",
                "arguments": args.to_string(),
                "status": "completed",
            });
            send_item(stream, item).await?;
        }
        Reply::Call { name, arguments } => {
            start_sse(stream, &response_id).await?;
            let item = json!({
                "type": "function_call",
                "id": format!("fc_mock_{n}"),
                "call_id": format!("call_mock_{n}"),
                "name": name,
                "arguments": arguments,
                "status": "completed",
            });
            send_item(stream, item).await?;
        }
        Reply::Overloaded => {
            start_sse(stream, &response_id).await?;
            send_event(
                stream,
                json!({
                    "type": "response.failed",
                    "response": {
                        "id": response_id,
                        "status": "failed",
                        "error": {
                            "code": "server_is_overloaded",
                            "message": "Selected model is at capacity. Please try a different model.",
                        }
                    }
                }),
            )
            .await?;
            return stream.shutdown().await;
        }
        Reply::Hang => {
            start_sse(stream, &response_id).await?;
            // Wait until the client goes away (codex drops the request on turn/interrupt).
            let mut tmp = [0u8; 1024];
            loop {
                match stream.read(&mut tmp).await {
                    Ok(0) | Err(_) => {
                        tracing::debug!("mock provider: hung stream dropped by client");
                        return Ok(());
                    }
                    Ok(_) => {}
                }
            }
        }
    }
    send_event(stream, completed(&response_id, usage)).await?;
    stream.shutdown().await
}

/// Writes the `200 OK` SSE response head and `response.created`.
async fn start_sse(stream: &mut TcpStream, response_id: &str) -> std::io::Result<()> {
    stream
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        )
        .await?;
    send_event(
        stream,
        json!({ "type": "response.created", "response": { "id": response_id } }),
    )
    .await
}

async fn send_item(stream: &mut TcpStream, item: Value) -> std::io::Result<()> {
    send_event(
        stream,
        json!({ "type": "response.output_item.added", "output_index": 0, "item": item }),
    )
    .await?;
    send_event(
        stream,
        json!({ "type": "response.output_item.done", "output_index": 0, "item": item }),
    )
    .await
}

#[cfg(test)]
mod tests;
