"""The Python SDK baseline for benches/turn_pump.rs: one turn of N deltas from the same fake
app-server, consumed through TurnHandle.stream(). Prints one JSON line with the turn's wall
time, this process's CPU time during the turn, its peak RSS, the event count, and whether
the streamed deltas add up to the text the fake sent.

usage: python sdk_stream.py FAKE_APP_SERVER N
"""

import json
import resource
import sys
import time

from openai_codex import Codex, CodexConfig


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def expected(n):
    return "".join(f"w{i}.\n" if i % 16 == 15 else f"w{i} " for i in range(n))


def main():
    fake, n = sys.argv[1], int(sys.argv[2])
    with Codex(CodexConfig(codex_bin=fake)) as codex:
        thread = codex.thread_start()
        # Warm-up turn: imports and first-use costs are not the stream's.
        for _ in thread.turn("deltas=10").stream():
            pass
        t0, c0 = time.perf_counter(), cpu()
        handle = thread.turn(f"deltas={n}")
        events, parts = 0, []
        for event in handle.stream():
            events += 1
            if event.method == "item/agentMessage/delta":
                parts.append(event.payload.delta)
        t1, c1 = time.perf_counter(), cpu()
    print(
        json.dumps(
            {
                "wall": t1 - t0,
                "cpu": c1 - c0,
                "events": events,
                "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "exact": "".join(parts) == expected(n),
            }
        )
    )


if __name__ == "__main__":
    main()
