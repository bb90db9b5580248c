//! The stdio guard in front of async-lsp. async-lsp ends its main loop on a message that is
//! not valid JSON-RPC; an editor's one bad message must not kill the server. So whole
//! frames are read here, bad ones answered (-32700 / -32600) and dropped, and good ones
//! passed on. Frames from the main loop and our own answers share stdout a whole frame at
//! a time.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

/// Frames larger than this are skipped unread and answered with an error.
const MAX_FRAME: usize = 256 * 1024 * 1024;

/// Header lines are read at most this much at a time (a longer one is not a header).
const MAX_HEADER_LINE: u64 = 64 * 1024;

/// One frame from the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A body, exactly as long as its `Content-Length`.
    Body(Vec<u8>),
    /// A header block that gave no usable length (why, in words). The stream goes on: the
    /// next line holding a `Content-Length` header starts the next frame.
    BadHeader(String),
}

/// Reads one `Content-Length` frame; `None` at a clean end of stream.
///
/// Recovers from what an editor's bug can put on the wire: header bytes that are not UTF-8,
/// a header block without a number for `Content-Length`, a body longer than announced
/// (its tail runs into the next header line, which is found inside that line), a frame
/// over the size limit (skipped). An error is only the stream's end or failure.
pub async fn read_frame<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<Frame>> {
    let mut length: Option<Result<usize, String>> = None;
    let mut raw = Vec::new();
    let mut saw_header = false;
    loop {
        raw.clear();
        let read = (&mut *reader)
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut raw)
            .await?;
        if read == 0 {
            return if saw_header {
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "stream ended inside a frame header",
                ))
            } else {
                Ok(None)
            };
        }
        let line = String::from_utf8_lossy(&raw);
        let mut trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        // Whatever precedes a `Content-Length` on its line is the tail of a body that was
        // longer than announced: the header starts there.
        if let Some(at) = trimmed.to_ascii_lowercase().find("content-length:") {
            if at > 0 {
                tracing::warn!("skipped {at} stray bytes before a frame header");
                trimmed = &trimmed[at..];
            }
        }
        saw_header = true;
        if let Some((name, value)) = trimmed.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                let value = value.trim();
                length =
                    Some(value.parse::<usize>().map_err(|_| {
                        format!("Content-Length `{}` is not a number", one_line(value))
                    }));
            }
        }
    }
    let length = match length {
        None => return Ok(Some(Frame::BadHeader("no Content-Length header".into()))),
        Some(Err(why)) => return Ok(Some(Frame::BadHeader(why))),
        Some(Ok(n)) => n,
    };
    if length > MAX_FRAME {
        let skipped = tokio::io::copy(
            &mut (&mut *reader).take(length as u64),
            &mut tokio::io::sink(),
        )
        .await?;
        if skipped < length as u64 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        return Ok(Some(Frame::BadHeader(format!(
            "a message of {length} bytes is over the {} MiB limit; skipped",
            MAX_FRAME >> 20
        ))));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Frame::Body(body)))
}

/// At most 40 characters of `text`, for an error message.
fn one_line(text: &str) -> String {
    let mut short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// What the guard does with one message body from the editor.
///
/// async-lsp decodes each body into an untagged enum of three shapes — a request (`id` an
/// `i32` or a string, `method`), a response (the same `id`, an optional `result`, an optional
/// `error` whose `code` is an `i32` and `message` a string), a notification (`method`) — and
/// ends its main loop when a body fits none of them. What fits only the notification shape is
/// taken for one: a request whose `id` is not an `i32` or a string (`2147483648`, `1.5`,
/// `null`) loses its id there and is never answered. So every body is classified here by the
/// JSON-RPC rules and passed on only in a form async-lsp decodes to what it is.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Pass the body on unchanged.
    Pass,
    /// Pass this instead: the same message in a form async-lsp decodes as meant (a request
    /// under an id alias, a malformed reply turned into an error reply for its request).
    Rewrite(Vec<u8>),
    /// Answer the editor with this error response; pass nothing on.
    Answer(Value),
    /// A message with an `id` and neither `method`, `result` nor `error`: a request without
    /// its method, or a reply without its outcome. Both readings are served: the editor gets
    /// the error answer, and our request of that id (if any) is settled as an error.
    AnswerAndPass(Value, Vec<u8>),
    /// Log this and drop the message: a reply that cannot answer any request of ours.
    Drop(String),
}

/// Request ids async-lsp cannot carry (numbers outside `i32`, fractions), and strings that
/// look like our aliases, travel through it as an alias string; the answer gets the
/// editor's id back, exactly as the editor wrote it, on its way out ([`IdAliases::restore`]).
#[derive(Debug, Default)]
pub struct IdAliases {
    /// Alias (with its quotes, as it appears in JSON) → the editor's id, as written.
    live: std::sync::Mutex<std::collections::HashMap<String, String>>,
    next: std::sync::atomic::AtomicU64,
    /// Whether `live` may be non-empty: the output path looks at nothing while it is not.
    any: std::sync::atomic::AtomicBool,
}

/// Every alias starts with this; an editor's string id that does too is aliased as well, so
/// an answer is never given the wrong id.
const ALIAS_PREFIX: &str = "codex-lsp:id-alias:";

impl IdAliases {
    fn alias(&self, raw_id: &str) -> String {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let alias = format!("{ALIAS_PREFIX}{n}");
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.insert(Value::String(alias.clone()).to_string(), raw_id.to_string());
        self.any.store(true, std::sync::atomic::Ordering::Release);
        alias
    }

    /// The alias of a request still waiting whose id the editor wrote as `raw_id`.
    fn alias_of(&self, raw_id: &str) -> Option<Value> {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.iter()
            .find(|(_, original)| original.as_str() == raw_id)
            .and_then(|(alias, _)| serde_json::from_str(alias).ok())
    }

    /// `body` with the editor's own id back, if it answers an aliased request.
    pub fn restore(&self, body: &[u8]) -> Option<Vec<u8>> {
        if !self.any.load(std::sync::atomic::Ordering::Acquire)
            || memchr::memmem::find(body, ALIAS_PREFIX.as_bytes()).is_none()
        {
            return None;
        }
        #[derive(serde::Deserialize)]
        struct Head<'a> {
            #[serde(borrow)]
            id: Option<&'a serde_json::value::RawValue>,
            method: Option<serde::de::IgnoredAny>,
        }
        let head: Head = serde_json::from_slice(body).ok()?;
        if head.method.is_some() {
            return None;
        }
        let quoted = head.id?.get();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let original = live.remove(quoted)?;
        if live.is_empty() {
            self.any.store(false, std::sync::atomic::Ordering::Release);
        }
        // async-lsp writes `id` before `result`/`error`: its first occurrence is the id.
        let at = memchr::memmem::find(body, quoted.as_bytes())?;
        let mut out = Vec::with_capacity(body.len() + original.len());
        out.extend_from_slice(&body[..at]);
        out.extend_from_slice(original.as_bytes());
        out.extend_from_slice(&body[at + quoted.len()..]);
        Some(out)
    }
}

/// An error response.
fn error_answer(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// What to do with `body` (see [`Verdict`]).
pub fn check(body: &[u8], aliases: &IdAliases) -> Verdict {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            return Verdict::Answer(error_answer(
                Value::Null,
                -32700,
                &format!("parse error: {e}"),
            ))
        }
    };
    let Some(object) = value.as_object() else {
        return Verdict::Answer(error_answer(
            Value::Null,
            -32600,
            "invalid request: not a JSON object",
        ));
    };
    // `Value` keeps the last of two equal keys, but async-lsp's typed decoding refuses them
    // and stops its main loop: which `id` or `method` was meant is a guess, so refuse.
    let twice = serde_json::from_slice::<MemberCount>(body).is_ok_and(|n| n.0 != object.len());
    if !object.contains_key("method")
        && (object.contains_key("result") || object.contains_key("error"))
    {
        return check_reply(object, twice);
    }
    if twice {
        return Verdict::Answer(error_answer(
            Value::Null,
            -32600,
            "invalid request: a member appears twice",
        ));
    }
    let id = object.get("id");
    let id_readable = matches!(id, Some(Value::Number(_) | Value::String(_)));
    let reply_id = match id {
        Some(id) if id_readable => id.clone(),
        _ => Value::Null,
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Verdict::Answer(error_answer(
            reply_id,
            -32600,
            "invalid request: `jsonrpc` must be \"2.0\"",
        ));
    }
    if id.is_some() && !id_readable {
        return Verdict::Answer(error_answer(
            Value::Null,
            -32600,
            "invalid request: `id` must be a number or a string",
        ));
    }
    match object.get("method") {
        Some(Value::String(method)) => {
            if let Some(params) = object.get("params") {
                if !(params.is_object() || params.is_array() || params.is_null()) {
                    return Verdict::Answer(error_answer(
                        reply_id,
                        -32602,
                        "invalid params: `params` must be an object or an array",
                    ));
                }
            }
            match id {
                Some(id) if !fits_async_lsp(id) => {
                    let mut value = value.clone();
                    value["id"] = Value::String(aliases.alias(&raw_id(body)));
                    Verdict::Rewrite(value.to_string().into_bytes())
                }
                None if method == "$/cancelRequest" => cancel_by_alias(&value, body, aliases),
                _ => Verdict::Pass,
            }
        }
        Some(_) => Verdict::Answer(error_answer(
            reply_id,
            -32600,
            "invalid request: `method` must be a string",
        )),
        None => {
            let answer = error_answer(reply_id, -32600, "invalid request: no `method`");
            match id.and_then(our_id) {
                Some(n) => Verdict::AnswerAndPass(
                    answer,
                    settle(n, "the editor's reply had neither `result` nor `error`"),
                ),
                None => Verdict::Answer(answer),
            }
        }
    }
}

/// A reply to one of our requests (no `method`; a `result` or an `error`). It is never
/// answered (JSON-RPC: a reply gets no reply). One that fits passes on in the form
/// async-lsp decodes; a malformed one settles its request as an error (never as a success,
/// whatever it holds); one whose id cannot be ours is logged and dropped.
fn check_reply(object: &serde_json::Map<String, Value>, twice: bool) -> Verdict {
    let shown = || one_line(&Value::Object(object.clone()).to_string()).to_string();
    let Some(id) = object.get("id").and_then(our_id) else {
        // `"id": null` is how an editor that could not parse one of our messages says so;
        // which one is unknown, so nothing can be settled.
        let what = match object.get("error").and_then(|e| e.get("message")) {
            Some(message) if object.get("id") == Some(&Value::Null) => {
                format!("the editor reported an error about a message it could not read: {message}")
            }
            _ => format!(
                "dropped a reply that answers no request of ours: {}",
                shown()
            ),
        };
        return Verdict::Drop(what);
    };
    let why = if twice {
        Some("a member appears twice".to_string())
    } else if object.get("jsonrpc") != Some(&json!("2.0")) {
        Some("`jsonrpc` is not \"2.0\"".into())
    } else {
        None
    };
    if let Some(why) = why {
        return Verdict::Rewrite(settle(
            id,
            &format!("malformed reply from the editor ({why}): {}", shown()),
        ));
    }
    let result = object.get("result");
    match object.get("error") {
        Some(Value::Null) | None => match result {
            Some(result) => Verdict::Rewrite(
                json!({ "jsonrpc": "2.0", "id": id, "result": result })
                    .to_string()
                    .into_bytes(),
            ),
            None => Verdict::Rewrite(settle(
                id,
                "the editor's reply had neither `result` nor `error`",
            )),
        },
        Some(error) if result.is_some_and(|r| !r.is_null()) => Verdict::Rewrite(settle(
            id,
            &format!(
                "the editor's reply had both `result` and `error`: {}",
                one_line(&error.to_string())
            ),
        )),
        Some(error) => match serde_json::from_value::<async_lsp::ResponseError>(error.clone()) {
            Ok(error) => Verdict::Rewrite(
                json!({ "jsonrpc": "2.0", "id": id, "error": error })
                    .to_string()
                    .into_bytes(),
            ),
            Err(_) => Verdict::Rewrite(settle(
                id,
                &format!(
                    "the editor answered with a malformed error: {}",
                    one_line(&error.to_string())
                ),
            )),
        },
    }
}

/// An id async-lsp may have given one of our requests (it counts up from 0 in an `i32`).
fn our_id(id: &Value) -> Option<i32> {
    id.as_i64().and_then(|n| i32::try_from(n).ok())
}

/// An error reply for our request `id`: it settles that request as failed.
fn settle(id: i32, why: &str) -> Vec<u8> {
    tracing::warn!("settling our request {id} to the editor as failed: {why}");
    error_answer(json!(id), -32603, why)
        .to_string()
        .into_bytes()
}

/// Whether async-lsp reads this id as itself: an `i32`, or a string that is not an alias.
fn fits_async_lsp(id: &Value) -> bool {
    match id {
        Value::String(s) => !s.starts_with(ALIAS_PREFIX),
        id => our_id(id).is_some(),
    }
}

/// The `id` member exactly as the editor wrote it.
fn raw_id(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        id: &'a serde_json::value::RawValue,
    }
    serde_json::from_slice::<Id>(body)
        .map(|i| i.id.get().to_string())
        .unwrap_or_else(|_| "null".into())
}

/// `$/cancelRequest` for an aliased request names its alias.
fn cancel_by_alias(value: &Value, body: &[u8], aliases: &IdAliases) -> Verdict {
    #[derive(serde::Deserialize)]
    struct Params<'a> {
        #[serde(borrow)]
        id: &'a serde_json::value::RawValue,
    }
    #[derive(serde::Deserialize)]
    struct Cancel<'a> {
        #[serde(borrow)]
        params: Params<'a>,
    }
    let Ok(cancel) = serde_json::from_slice::<Cancel>(body) else {
        return Verdict::Pass;
    };
    let Some(id) = value.pointer("/params/id") else {
        return Verdict::Pass;
    };
    if fits_async_lsp(id) {
        return Verdict::Pass;
    }
    match aliases.alias_of(cancel.params.id.get()) {
        Some(alias) => {
            let mut value = value.clone();
            value["params"]["id"] = alias;
            Verdict::Rewrite(value.to_string().into_bytes())
        }
        None => Verdict::Pass,
    }
}

/// How many members a JSON object has, duplicates included (0 for anything else).
struct MemberCount(usize);

impl<'de> serde::Deserialize<'de> for MemberCount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Count;
        impl<'de> serde::de::Visitor<'de> for Count {
            type Value = MemberCount;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<MemberCount, A::Error> {
                let mut members = 0;
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {
                    members += 1;
                }
                Ok(MemberCount(members))
            }
        }
        deserializer.deserialize_map(Count)
    }
}

pub type SharedOut = Arc<Mutex<Box<dyn AsyncWrite + Unpin + Send>>>;

pub async fn write_frame(out: &SharedOut, body: &[u8]) -> std::io::Result<()> {
    let mut out = out.lock().await;
    out.write_all(&frame(body)).await?;
    out.flush().await
}

/// Copies frames from `input` to `to_server`, answering bad ones on `out`. Ends at the end
/// of `input` (then `to_server` is dropped, which ends the main loop).
pub async fn guard_input<R, W>(
    mut input: R,
    mut to_server: W,
    out: SharedOut,
    aliases: Arc<IdAliases>,
) where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        let body = match read_frame(&mut input).await {
            Ok(Some(Frame::BadHeader(why))) => {
                tracing::warn!("answered a malformed header from the editor: {why}");
                let answer = json!({ "jsonrpc": "2.0", "id": null, "error": {
                    "code": -32700, "message": format!("malformed LSP header: {why}") } });
                let _ = write_frame(&out, answer.to_string().as_bytes()).await;
                continue;
            }
            Ok(Some(Frame::Body(body))) => body,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("the editor's stream is broken ({e}); stopping");
                return;
            }
        };
        let (answer, pass) = match check(&body, &aliases) {
            Verdict::Pass => (None, Some(body)),
            Verdict::Rewrite(rewritten) => (None, Some(rewritten)),
            Verdict::Answer(answer) => (Some(answer), None),
            Verdict::AnswerAndPass(answer, rewritten) => (Some(answer), Some(rewritten)),
            Verdict::Drop(why) => {
                tracing::warn!("{why}");
                (None, None)
            }
        };
        if let Some(answer) = answer {
            tracing::warn!(
                "answered a malformed message from the editor: {}",
                answer["error"]["message"]
            );
            let _ = write_frame(&out, answer.to_string().as_bytes()).await;
        }
        if let Some(pass) = pass {
            if to_server.write_all(&frame(&pass)).await.is_err() || to_server.flush().await.is_err()
            {
                return;
            }
        }
    }
}

/// How much of the main loop's output one write to stdout carries at most.
const MAX_BATCH: usize = 1 << 20;

/// Copies the main loop's frames to `out`, whole. Ends when the main loop closes its side.
///
/// Frames that are already waiting when one is written go out with it in one write: each
/// write to stdout is a round trip to a blocking thread, which would otherwise cost more than
/// everything else done for a streamed event.
pub async fn forward_output<R: AsyncBufRead + Unpin>(
    mut from_server: R,
    out: SharedOut,
    aliases: Arc<IdAliases>,
) {
    let mut batch = Vec::new();
    while let Ok(Some(next)) = read_frame(&mut from_server).await {
        let Frame::Body(body) = next else {
            continue;
        };
        batch.clear();
        match aliases.restore(&body) {
            Some(restored) => batch.extend_from_slice(&frame(&restored)),
            None => batch.extend_from_slice(&frame(&body)),
        }
        while batch.len() < MAX_BATCH && take_buffered_frame(&mut from_server, &mut batch, &aliases)
        {
        }
        let mut out = out.lock().await;
        if out.write_all(&batch).await.is_err() || out.flush().await.is_err() {
            return;
        }
    }
}

/// Moves one whole frame from `reader`'s buffer to `batch`, if the buffer holds one in the
/// exact form async-lsp writes (`Content-Length: N` and a blank line); anything else is left
/// for [`read_frame`], which never blocks halfway through a frame here.
fn take_buffered_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    batch: &mut Vec<u8>,
    aliases: &IdAliases,
) -> bool {
    const PREFIX: &[u8] = b"Content-Length: ";
    let buffered = match std::pin::Pin::new(&mut *reader)
        .poll_fill_buf(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(Ok(buffered)) => buffered,
        _ => return false,
    };
    let Some(rest) = buffered.strip_prefix(PREFIX) else {
        return false;
    };
    let Some(end) = rest.iter().position(|&b| b == b'\r') else {
        return false;
    };
    let Some(length) = std::str::from_utf8(&rest[..end])
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return false;
    };
    if !rest[end..].starts_with(b"\r\n\r\n") {
        return false;
    }
    let whole = PREFIX.len() + end + 4 + length;
    if buffered.len() < whole {
        return false;
    }
    match aliases.restore(&buffered[whole - length..whole]) {
        Some(restored) => batch.extend_from_slice(&frame(&restored)),
        None => batch.extend_from_slice(&buffered[..whole]),
    }
    std::pin::Pin::new(reader).consume(whole);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &[u8]) -> Value {
        match check(body, &IdAliases::default()) {
            Verdict::Answer(answer) => answer,
            other => panic!("not answered: {other:?}"),
        }
    }

    fn passed(body: &[u8], aliases: &IdAliases) -> Value {
        match check(body, aliases) {
            Verdict::Pass => serde_json::from_slice(body).unwrap(),
            Verdict::Rewrite(bytes) => serde_json::from_slice(&bytes).unwrap(),
            other => panic!("not passed on: {other:?}"),
        }
    }

    #[test]
    fn bad_messages_get_the_right_errors() {
        assert_eq!(answer(b"{nope")["error"]["code"], -32700);
        assert_eq!(answer(br#"[1]"#)["error"]["code"], -32600);
        assert_eq!(
            answer(br#"{"jsonrpc":"2.0","id":{},"method":"x"}"#)["error"]["code"],
            -32600
        );
        assert_eq!(
            answer(br#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#)["error"]["code"],
            -32602
        );
        let aliases = IdAliases::default();
        assert_eq!(
            check(
                br#"{"jsonrpc":"2.0","id":1,"method":"x","params":{}}"#,
                &aliases
            ),
            Verdict::Pass
        );
        assert_eq!(
            check(br#"{"jsonrpc":"2.0","method":"n"}"#, &aliases),
            Verdict::Pass
        );
        // Found by the lsp_dispatch fuzz target: async-lsp stopped its main loop on these.
        let twice = answer(br#"{"jsonrpc":"2.0","id":4,"method":"a","id":1,"method":"b"}"#);
        assert_eq!(
            twice["error"]["message"],
            "invalid request: a member appears twice"
        );
        assert_eq!(
            check(
                br#"{"jsonrpc":"2.0","method":"n","params":{"a":1,"a":2}}"#,
                &aliases
            ),
            Verdict::Pass
        );
    }

    #[test]
    fn a_request_without_a_method_is_answered_and_settles_a_reply_of_that_id() {
        let Verdict::AnswerAndPass(answer, pass) =
            check(br#"{"jsonrpc":"2.0","id":7}"#, &IdAliases::default())
        else {
            panic!()
        };
        assert_eq!(
            (&answer["id"], &answer["error"]["code"]),
            (&json!(7), &json!(-32600))
        );
        let pass: Value = serde_json::from_slice(&pass).unwrap();
        assert_eq!(
            (&pass["id"], &pass["error"]["code"]),
            (&json!(7), &json!(-32603))
        );
    }

    /// Issue 14 item 7: these used to be taken for notifications and never answered.
    #[test]
    fn requests_with_ids_async_lsp_cannot_carry_are_answered_under_their_own_id() {
        let aliases = IdAliases::default();
        let ids = [
            "2147483648",
            "9007199254740992",
            "-2147483649",
            "1.5",
            "1e2",
            "18446744073709551616",
            "\"codex-lsp:id-alias:0\"",
        ];
        for id in ids {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"shutdown"}}"#);
            let passed = passed(body.as_bytes(), &aliases);
            let alias = passed["id"].as_str().expect("an alias string").to_string();
            assert!(alias.starts_with(ALIAS_PREFIX), "{alias}");
            assert!(serde_json::from_value::<async_lsp::AnyRequest>(passed).is_ok());
            // async-lsp's answer, as it writes it.
            let out = format!(r#"{{"jsonrpc":"2.0","id":"{alias}","result":null}}"#);
            let restored = aliases.restore(out.as_bytes()).expect("restored");
            assert_eq!(
                String::from_utf8(restored).unwrap(),
                format!(r#"{{"jsonrpc":"2.0","id":{id},"result":null}}"#)
            );
            assert_eq!(aliases.restore(out.as_bytes()), None, "restored once");
        }
        // Ids async-lsp carries as they are go through untouched.
        for id in ["0", "2147483647", "-2147483648", "\"a\"", "\"\""] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"shutdown"}}"#);
            assert_eq!(check(body.as_bytes(), &aliases), Verdict::Pass, "{id}");
        }
        // An id that cannot be read (JSON-RPC: answer with id null).
        for id in ["null", "true", "[1]", "{}"] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"shutdown"}}"#);
            let answer = answer(body.as_bytes());
            assert_eq!(
                (&answer["id"], &answer["error"]["code"]),
                (&Value::Null, &json!(-32600))
            );
        }
    }

    #[test]
    fn a_cancel_names_the_alias_of_the_request() {
        let aliases = IdAliases::default();
        let request = passed(
            br#"{"jsonrpc":"2.0","id":4294967296,"method":"x"}"#,
            &aliases,
        );
        let cancel = passed(
            br#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":4294967296}}"#,
            &aliases,
        );
        assert_eq!(cancel["params"]["id"], request["id"]);
    }

    /// Issue 14 item 2: each of these stopped async-lsp's main loop.
    #[test]
    fn no_reply_is_answered_and_a_malformed_one_settles_its_request_as_an_error() {
        let aliases = IdAliases::default();
        let settled = |body: &str| -> Value {
            match check(body.as_bytes(), &aliases) {
                Verdict::Rewrite(bytes) => serde_json::from_slice(&bytes).unwrap(),
                other => panic!("{body}: {other:?}"),
            }
        };
        for (body, id) in [
            (r#"{"id":1,"error":"boom"}"#, 1),
            (r#"{"id":5,"error":{"code":"E","message":"m"}}"#, 5),
            (
                r#"{"jsonrpc":"2.0","id":5,"error":{"code":1.5,"message":"m"}}"#,
                5,
            ),
            (r#"{"jsonrpc":"2.0","id":5,"error":{"code":1}}"#, 5),
            (
                r#"{"jsonrpc":"2.0","id":3,"result":{"applied":true},"error":{"code":1,"message":"m"}}"#,
                3,
            ),
            (
                r#"{"jsonrpc":"2.0","id":3,"result":{"applied":true},"result":null}"#,
                3,
            ),
            (r#"{"jsonrpc":"2.0","id":3,"result":null,"error":null}"#, 3),
            (r#"{"jsonrpc":"2.0","id":3,"error":null}"#, 3),
            (r#"{"jsonrpc":"1.0","id":3,"result":{"applied":true}}"#, 3),
        ] {
            let reply = settled(body);
            assert_eq!(reply["id"], json!(id), "{body}");
            if body.contains(r#""result":null,"error":null"#) {
                assert_eq!(reply["result"], Value::Null, "{body}");
                continue;
            }
            assert_eq!(reply["error"]["code"], -32603, "{body}: {reply}");
            assert!(reply.get("result").is_none(), "{body}");
        }
        // A well-formed error keeps its code, message and data.
        let kept = settled(
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32800,"message":"gone","data":[1]}}"#,
        );
        assert_eq!(
            kept["error"],
            json!({"code": -32800, "message": "gone", "data": [1]})
        );
        for body in [
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
            r#"{"id":2147483648,"result":null}"#,
            r#"{"jsonrpc":"2.0","id":"0","result":null}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"result":null}"#,
            r#"{"jsonrpc":"2.0","result":null}"#,
        ] {
            assert!(
                matches!(check(body.as_bytes(), &aliases), Verdict::Drop(_)),
                "{body}"
            );
        }
    }

    /// Whatever the guard passes on, async-lsp decodes to what it is: a request with an id it
    /// carries, a notification, or a reply whose id and error it can read.
    #[test]
    fn what_passes_decodes_in_async_lsp_as_what_it_is() {
        let aliases = IdAliases::default();
        let mut rng = fastrand::Rng::with_seed(14);
        let ids = [
            "1",
            "-3",
            "2147483648",
            "1.5",
            "null",
            "\"s\"",
            "{}",
            "9007199254740993",
        ];
        let members = [
            r#""jsonrpc":"2.0""#,
            r#""jsonrpc":"1.0""#,
            r#""method":"m""#,
            r#""method":7"#,
            r#""params":{}"#,
            r#""params":3"#,
            r#""result":null"#,
            r#""result":{"a":1}"#,
            r#""error":{"code":1,"message":"m"}"#,
            r#""error":"e""#,
            r#""error":null"#,
        ];
        for _ in 0..5000 {
            let mut parts: Vec<String> = Vec::new();
            for _ in 0..rng.usize(0..5) {
                parts.push(members[rng.usize(..members.len())].to_string());
            }
            if rng.bool() {
                parts.push(format!(r#""id":{}"#, ids[rng.usize(..ids.len())]));
            }
            rng.shuffle(&mut parts);
            let body = format!("{{{}}}", parts.join(","));
            let bytes = match check(body.as_bytes(), &aliases) {
                Verdict::Pass => body.clone().into_bytes(),
                Verdict::Rewrite(bytes) | Verdict::AnswerAndPass(_, bytes) => bytes,
                Verdict::Answer(answer) => {
                    assert!(answer["error"]["code"].is_i64(), "{body}");
                    continue;
                }
                Verdict::Drop(_) => continue,
            };
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(value["jsonrpc"], "2.0", "{body}");
            let decoded_as_request = serde_json::from_value::<async_lsp::AnyRequest>(value.clone());
            match (value.get("method"), value.get("id")) {
                (Some(_), Some(_)) => assert!(decoded_as_request.is_ok(), "{body}"),
                (Some(_), None) => {
                    assert!(decoded_as_request.is_err(), "{body}");
                    assert!(serde_json::from_value::<async_lsp::AnyNotification>(value).is_ok());
                }
                (None, id) => {
                    assert!(id.and_then(our_id).is_some(), "{body}");
                    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
                        assert!(
                            serde_json::from_value::<async_lsp::ResponseError>(error.clone())
                                .is_ok(),
                            "{body}"
                        );
                        assert!(value.get("result").is_none(), "{body}");
                    }
                }
            }
        }
    }

    /// Counts the writes that reach it, keeping the bytes.
    struct CountingWriter(Arc<std::sync::Mutex<(usize, Vec<u8>)>>);

    impl AsyncWrite for CountingWriter {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let mut seen = self.0.lock().unwrap();
            seen.0 += 1;
            seen.1.extend_from_slice(buf);
            std::task::Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn waiting_frames_go_out_whole_in_order_and_batched() {
        let bodies: Vec<String> = (0..500)
            .map(|i| format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 37)))
            .collect();
        let input: Vec<u8> = bodies.iter().flat_map(|b| frame(b.as_bytes())).collect();
        for capacity in [64, 1000, 1 << 16] {
            let seen = Arc::new(std::sync::Mutex::new((0, Vec::new())));
            let out: SharedOut = Arc::new(Mutex::new(Box::new(CountingWriter(seen.clone()))));
            let reader = tokio::io::BufReader::with_capacity(capacity, &input[..]);
            forward_output(reader, out, Arc::default()).await;
            let (writes, bytes) = std::mem::take(&mut *seen.lock().unwrap());
            assert_eq!(bytes, input, "capacity {capacity}");
            if capacity > 64 {
                assert!(writes < bodies.len() / 4, "{writes} writes for {capacity}");
            }
        }
    }

    #[tokio::test]
    async fn frames_round_trip() {
        let data = [frame(b"{\"a\":1}"), frame("é".as_bytes())].concat();
        let mut reader = tokio::io::BufReader::new(&data[..]);
        assert_eq!(
            read_frame(&mut reader).await.unwrap(),
            Some(Frame::Body(b"{\"a\":1}".to_vec()))
        );
        assert_eq!(
            read_frame(&mut reader).await.unwrap(),
            Some(Frame::Body("é".as_bytes().to_vec()))
        );
        assert!(read_frame(&mut reader).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn bad_headers_are_reported_and_the_next_frame_is_found() {
        let data = [
            b"Content-Length: ten\r\n\r\n{}".to_vec(),
            frame(b"[1]"),
            b"Content-Type: x\r\n\r\n".to_vec(),
            b"X-\xff\xfe: 1\r\n".to_vec(),
            frame(b"{}"),
        ]
        .concat();
        let mut reader = tokio::io::BufReader::new(&data[..]);
        let mut frames = Vec::new();
        while let Some(frame) = read_frame(&mut reader).await.unwrap() {
            frames.push(frame);
        }
        assert_eq!(
            frames,
            [
                Frame::BadHeader("Content-Length `ten` is not a number".into()),
                Frame::Body(b"[1]".to_vec()),
                Frame::BadHeader("no Content-Length header".into()),
                Frame::Body(b"{}".to_vec()),
            ]
        );
    }
}
