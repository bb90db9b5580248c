//! The stdio guard in front of async-lsp. async-lsp ends its main loop on a message that is
//! not valid JSON-RPC; an editor's one bad message must not kill the server. So whole
//! frames are read here, bad ones answered (-32700 / -32600) and dropped, and good ones
//! passed on. Frames from the main loop and our own answers share stdout a whole frame at
//! a time.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

/// Frames larger than this are refused (and the stream given up: we cannot resync).
const MAX_FRAME: usize = 256 * 1024 * 1024;

/// Reads one `Content-Length` frame; `None` at a clean end of stream.
pub async fn read_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut length = None;
    let mut line = String::new();
    let mut saw_header = false;
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return if saw_header {
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "stream ended inside a frame header",
                ))
            } else {
                Ok(None)
            };
        }
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = trimmed.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let length = length.filter(|&n| n <= MAX_FRAME).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "frame without a usable Content-Length",
        )
    })?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(body))
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
            Ok(Some(body)) => match check(&body) {
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
    while let Ok(Some(body)) = read_frame(&mut from_server).await {
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
            read_frame(&mut reader).await.unwrap().unwrap(),
            b"{\"a\":1}"
        );
        assert_eq!(
            read_frame(&mut reader).await.unwrap().unwrap(),
            "é".as_bytes()
        );
        assert!(read_frame(&mut reader).await.unwrap().is_none());
    }
}
