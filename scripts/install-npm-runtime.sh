#!/usr/bin/env bash
# Installs the npm package `@openai/codex` (the runtime most Codex users already have: a Node
# wrapper that starts the native binary) into codex-lsp's cache, laid out as a global npm
# install (`PREFIX/bin/codex` -> `PREFIX/lib/node_modules/@openai/codex/bin/codex.js`).
# The tests run against it as well as against the pinned wheel (scripts/test.sh).
# Idempotent: a second run with the package in place does nothing.
#
#   scripts/install-npm-runtime.sh            # install (or confirm) the tested npm release
#   scripts/install-npm-runtime.sh --print    # print the path of its `codex` (fails, installing
#                                             # nothing, when it is not installed)
#
# Where: $CODEX_LSP_RUNTIME_DIR/npm-VERSION, else $XDG_CACHE_HOME/codex-lsp/runtime/npm-VERSION,
# else ~/.cache/codex-lsp/runtime/npm-VERSION
# (macOS: ~/Library/Caches/…). Needs node and npm.
set -euo pipefail
# The npm release the tests run against, besides the pinned wheel (RUNTIME_VERSION).
version=${CODEX_LSP_NPM_VERSION:-0.169.0}
# macOS keeps caches in ~/Library/Caches (src/runtime.rs looks there too).
default_cache=$HOME/.cache
[ "$(uname -s)" = Darwin ] && default_cache=$HOME/Library/Caches
root=${CODEX_LSP_RUNTIME_DIR:-${XDG_CACHE_HOME:-$default_cache}/codex-lsp/runtime}
dest="$root/npm-$version"
codex="$dest/bin/codex"

if [ -x "$codex" ] && "$codex" --version 2>/dev/null | grep -qx "codex-cli $version"; then
  [ "${1:-}" = "--print" ] && echo "$codex" || echo "npm codex $version already installed: $codex" >&2
  exit 0
fi
[ "${1:-}" = "--print" ] && exit 1
command -v npm >/dev/null && command -v node >/dev/null || {
  echo "install-npm-runtime: node and npm are needed to install @openai/codex" >&2
  exit 1
}
mkdir -p "$root"
tmp=$(mktemp -d "$root/.npm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "install-npm-runtime: npm install -g @openai/codex@$version" >&2
npm install --global --prefix "$tmp" --no-audit --no-fund --loglevel=error \
  "@openai/codex@$version" >&2
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
"$codex" --version >&2
