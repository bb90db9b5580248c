#!/usr/bin/env bash
# Re-records the app-server transcripts in tests/fixtures/app-server-recordings from the
# pinned runtime (scripts/install-runtime.sh) and the scripted provider (crates/mock-provider),
# then checks them with tests/recordings.rs.
#
#   scripts/rerecord-fixtures.sh                  # every scenario the recorder knows
#   scripts/rerecord-fixtures.sh t_cmd t_fail     # only these
#   RERECORD_OUT=DIR scripts/rerecord-fixtures.sh # write elsewhere (no check then)
#
# The scenarios are in crates/mock-provider/examples/rerecord.rs. The t_env* transcripts (an
# exec-server over WebSocket) are not re-recorded by it: they stay as recorded.
# Ids and timestamps are the runtime's own; paths and the host name are normalised.
# See tests/fixtures/app-server-recordings/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-runtime.sh >&2
codex=$(scripts/install-runtime.sh --print)
out=${RERECORD_OUT:-tests/fixtures/app-server-recordings}
cargo run --locked --quiet -p codex-lsp-mock-provider --example rerecord -- \
  --codex "$codex" --out "$out" "$@"
if [ -z "${RERECORD_OUT:-}" ]; then
  cargo test --locked --quiet --test recordings
  git status --short -- "$out"
fi
