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

/// `Ok` for a message async-lsp can take; else the error response to send instead.
pub fn check(body: &[u8]) -> Result<(), Value> {
    let error = |id: Value, code: i64, message: &str| json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } });
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => return Err(error(Value::Null, -32700, &format!("parse error: {e}"))),
    };
    let Some(object) = value.as_object() else {
        return Err(error(
            Value::Null,
            -32600,
            "invalid request: not a JSON object",
        ));
    };
    // `Value` keeps the last of two equal keys, but async-lsp's typed decoding refuses them
    // and stops its main loop: which `id` or `method` was meant is a guess, so refuse.
    if serde_json::from_slice::<MemberCount>(body).is_ok_and(|n| n.0 != object.len()) {
        return Err(error(
            Value::Null,
            -32600,
            "invalid request: a member appears twice",
        ));
    }
    let id = object.get("id").cloned();
    let id_ok = matches!(id, None | Some(Value::Null | Value::String(_)))
        || id.as_ref().is_some_and(|i| i.as_i64().is_some());
    let reply_id = if id_ok {
        id.clone().unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(error(
            reply_id,
            -32600,
            "invalid request: `jsonrpc` must be \"2.0\"",
        ));
    }
    if !id_ok {
        return Err(error(
            Value::Null,
            -32600,
            "invalid request: `id` must be a number or a string",
        ));
    }
    match object.get("method") {
        Some(Value::String(_)) => {
            if let Some(params) = object.get("params") {
                if !(params.is_object() || params.is_array() || params.is_null()) {
                    return Err(error(
                        reply_id,
                        -32602,
                        "invalid params: `params` must be an object or an array",
                    ));
                }
            }
            Ok(())
        }
        Some(_) => Err(error(
            reply_id,
            -32600,
            "invalid request: `method` must be a string",
        )),
        None if id.is_some() && (object.contains_key("result") || object.contains_key("error")) => {
            Ok(())
        }
        None => Err(error(reply_id, -32600, "invalid request: no `method`")),
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
pub async fn guard_input<R, W>(mut input: R, mut to_server: W, out: SharedOut)
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        match read_frame(&mut input).await {
            Ok(Some(Frame::BadHeader(why))) => {
                tracing::warn!("answered a malformed header from the editor: {why}");
                let answer = json!({ "jsonrpc": "2.0", "id": null, "error": {
                    "code": -32700, "message": format!("malformed LSP header: {why}") } });
                let _ = write_frame(&out, answer.to_string().as_bytes()).await;
            }
            Ok(Some(Frame::Body(body))) => match check(&body) {
                Ok(()) => {
                    if to_server.write_all(&frame(&body)).await.is_err()
                        || to_server.flush().await.is_err()
                    {
                        return;
                    }
                }
                Err(answer) => {
                    tracing::warn!(
                        "answered a malformed message from the editor: {}",
                        answer["error"]["message"]
                    );
                    let _ = write_frame(&out, answer.to_string().as_bytes()).await;
                }
            },
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("the editor's stream is broken ({e}); stopping");
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
pub async fn forward_output<R: AsyncBufRead + Unpin>(mut from_server: R, out: SharedOut) {
    let mut batch = Vec::new();
    while let Ok(Some(next)) = read_frame(&mut from_server).await {
        let Frame::Body(body) = next else {
            continue;
        };
        batch.clear();
        batch.extend_from_slice(&frame(&body));
        while batch.len() < MAX_BATCH && take_buffered_frame(&mut from_server, &mut batch) {}
        let mut out = out.lock().await;
        if out.write_all(&batch).await.is_err() || out.flush().await.is_err() {
            return;
        }
    }
}

/// Moves one whole frame from `reader`'s buffer to `batch`, if the buffer holds one in the
/// exact form async-lsp writes (`Content-Length: N` and a blank line); anything else is left
/// for [`read_frame`], which never blocks halfway through a frame here.
fn take_buffered_frame<R: AsyncBufRead + Unpin>(reader: &mut R, batch: &mut Vec<u8>) -> bool {
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
    batch.extend_from_slice(&buffered[..whole]);
    std::pin::Pin::new(reader).consume(whole);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_messages_get_the_right_errors() {
        assert_eq!(check(b"{nope").unwrap_err()["error"]["code"], -32700);
        let e = check(br#"{"jsonrpc":"2.0","id":7}"#).unwrap_err();
        assert_eq!(
            (e["id"].clone(), e["error"]["code"].clone()),
            (json!(7), json!(-32600))
        );
        assert_eq!(check(br#"[1]"#).unwrap_err()["error"]["code"], -32600);
        assert_eq!(
            check(br#"{"jsonrpc":"2.0","id":{},"method":"x"}"#).unwrap_err()["error"]["code"],
            -32600
        );
        assert_eq!(
            check(br#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#).unwrap_err()["error"]
                ["code"],
            -32602
        );
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"method":"x","params":{}}"#).is_ok());
        assert!(check(br#"{"jsonrpc":"2.0","method":"n"}"#).is_ok());
        assert!(check(br#"{"jsonrpc":"2.0","id":"a","result":null}"#).is_ok());
        // Found by the lsp_dispatch fuzz target: async-lsp stopped its main loop on these.
        let twice = check(br#"{"jsonrpc":"2.0","id":4,"method":"a","id":1,"method":"b"}"#);
        assert_eq!(
            twice.unwrap_err()["error"]["message"],
            "invalid request: a member appears twice"
        );
        assert!(check(br#"{"jsonrpc":"2.0","method":"n","params":{"a":1,"a":2}}"#).is_ok());
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
            forward_output(reader, out).await;
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
