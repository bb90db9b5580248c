#!/usr/bin/env bash
# Runs every benchmark of codex-lsp and prints its tables (medians and ratios measured in the
# same run): edit mirroring (benches/edit_mirroring.rs), the load items of
# benches/turn_pump.rs (event pump vs the Python SDK, a bare Value loop and cat; coalescing;
# document sync; start-up; memory) and what a user feels, benches/latency.rs (typing during a
# turn, a keystroke's cost, token to screen, the first ask, many buffers, a big review, long
# threads). docs/benchmarks.md records a run; the charts it shows are written to
# docs/benchmarks/ by that run.
#
#   scripts/bench.sh                        # everything
#   scripts/bench.sh pump sync              # only these turn_pump items (pump sync startup memory)
#   scripts/bench.sh latency typing token   # only these latency items
#                                           # (typing keystroke token first-ask buffers
#                                           #  review thread marks revert undo review-pull)
#
# Sets up, idempotently: the pinned runtime (for the start-up baseline) and a venv with the
# official Python SDK, openai-codex (same version as the runtime), for the pump's baseline,
# under $XDG_CACHE_HOME/codex-lsp/bench-venv (else ~/.cache/...). Benches are not part of
# `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$(date +%s)
version=$(tr -d '[:space:]' < RUNTIME_VERSION)
venv=${XDG_CACHE_HOME:-$HOME/.cache}/codex-lsp/bench-venv

scripts/install-runtime.sh
if ! "$venv/bin/python" -c "import openai_codex, sys; sys.exit(openai_codex.__version__ != '$version')" 2>/dev/null; then
  echo "bench: installing openai-codex==$version into $venv" >&2
  python3 -m venv "$venv"
  # The SDK is pointed at the fake app-server, so its runtime wheel is not needed.
  "$venv/bin/pip" install --quiet --no-deps "openai-codex==$version"
  # (pip notes that the runtime wheel is missing: on purpose.)
  "$venv/bin/pip" install --quiet "pydantic>=2" packaging 2>/dev/null
fi
export CODEX_LSP_BENCH_PYTHON="$venv/bin/python"

export CODEX_LSP_BENCH_SVG=$PWD/docs/benchmarks
if [ $# -eq 0 ]; then
  cargo bench --locked --bench edit_mirroring
  cargo bench --locked --bench turn_pump
  cargo bench --locked --bench latency
elif [ "$1" = latency ]; then
  shift
  cargo bench --locked --bench latency -- "$@"
else
  cargo bench --locked --bench turn_pump -- "$@"
fi
echo "scripts/bench.sh: $(( $(date +%s) - started )) s"
