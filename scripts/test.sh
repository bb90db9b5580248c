#!/usr/bin/env bash
# Runs every test of codex-lsp, installing what the tests need first (the pinned runtime and
# the real editors the editor tests drive, VS Code included).
# This is the README's test command; CI (.ci/run) calls it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-runtime.sh
scripts/install-npm-runtime.sh
scripts/install-editors.sh
scripts/install-vscode.sh
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
# The real-app-server tests again, against npm's @openai/codex (the runtime most users have).
CODEX_LSP_TEST_CODEX=$(scripts/install-npm-runtime.sh --print) cargo test --locked --test lsp_e2e --test app_server_real
scripts/check-platforms.sh
scripts/release.sh "$(rustc -vV | sed -n 's/^host: //p')" --check
