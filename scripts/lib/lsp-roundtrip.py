#!/usr/bin/env python3
"""An LSP initialize/shutdown/exit round trip over stdio, as an editor starts and stops a server.

    scripts/lib/lsp-roundtrip.py [--options JSON] [--expect-message TEXT] COMMAND [ARG...]

Starts COMMAND, sends `initialize` (with JSON as initializationOptions; checking the answer
names codex-lsp and its commands), `initialized`, `shutdown` (answered with null) and `exit`,
and expects exit status 0. Notifications the server sends meanwhile (e.g. "no runtime found")
are printed to stderr; with --expect-message, one `window/showMessage` must contain TEXT
before `shutdown` is sent.
Used by scripts/check-platforms.sh for the Windows build under wine."""
import json
import subprocess
import sys
import threading

TIMEOUT = 120  # wine's first start sets up its prefix


def frame(message):
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_frame(stream):
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    if length is None:
        raise SystemExit("lsp-roundtrip: a frame without Content-Length")
    return json.loads(stream.read(length))


def main():
    args = sys.argv[1:]
    options, expect = None, None
    while args and args[0].startswith("--"):
        flag, value, args = args[0], args[1], args[2:]
        if flag == "--options":
            options = json.loads(value)
        elif flag == "--expect-message":
            expect = value
        else:
            raise SystemExit(f"lsp-roundtrip: unknown flag {flag}")
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    shown = []
    timer = threading.Timer(TIMEOUT, proc.kill)
    timer.start()
    try:
        def request(id_, method, params):
            proc.stdin.write(frame({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}))
            proc.stdin.flush()
            while True:
                message = read_frame(proc.stdout)
                if message is None:
                    raise SystemExit(f"lsp-roundtrip: the server closed its output before answering {method}")
                if message.get("id") == id_ and "method" not in message:
                    return message
                print(f"lsp-roundtrip: server sent {json.dumps(message)[:300]}", file=sys.stderr)
                if message.get("method") == "window/showMessage":
                    shown.append(message["params"]["message"])
                if "id" in message and "method" in message:
                    # A request to the editor (e.g. showMessageRequest): answer it plainly.
                    proc.stdin.write(frame({"jsonrpc": "2.0", "id": message["id"], "result": None}))
                    proc.stdin.flush()

        def notify(method, params):
            proc.stdin.write(frame({"jsonrpc": "2.0", "method": method, "params": params}))
            proc.stdin.flush()

        init = request(1, "initialize", {"processId": None, "rootUri": None, "capabilities": {},
                                         "initializationOptions": options})
        result = init.get("result") or {}
        name = (result.get("serverInfo") or {}).get("name")
        commands = ((result.get("capabilities") or {}).get("executeCommandProvider") or {}).get("commands") or []
        if name != "codex-lsp" or "codex.ask" not in commands:
            raise SystemExit(f"lsp-roundtrip: unexpected initialize answer: {json.dumps(init)[:500]}")
        notify("initialized", {})
        if expect is not None:
            # codex.status makes the server start (or connect to) its app-server and waits.
            request(3, "workspace/executeCommand", {"command": "codex.status", "arguments": []})
            if not any(expect in m for m in shown):
                # The message may trail the answer: one more round trip.
                request(4, "workspace/executeCommand", {"command": "codex.status", "arguments": []})
            if not any(expect in m for m in shown):
                raise SystemExit(f"lsp-roundtrip: no message containing {expect!r}; shown: {shown}")
        down = request(2, "shutdown", None)
        if "result" not in down or down["result"] is not None:
            raise SystemExit(f"lsp-roundtrip: unexpected shutdown answer: {down}")
        notify("exit", None)
        proc.stdin.close()
        code = proc.wait()
        if code != 0:
            raise SystemExit(f"lsp-roundtrip: the server exited with status {code}")
        print(f"lsp-roundtrip: initialize ({name}, {len(commands)} commands), shutdown, exit: ok", file=sys.stderr)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()


if __name__ == "__main__":
    main()
