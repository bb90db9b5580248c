#!/usr/bin/env bash
# Installs what the VS Code test (tests/editor_vscode.rs) drives: code-server 4.100.3 (VS Code
# in a browser, from npm), Debian's chromium (driven headlessly through playwright-core), and the
# extension's own node packages (editors/vscode, from its package-lock.json).
# Idempotent: what is in place is kept; npm's cache stays under the cache folder, so a rerun is
# fast.
#
#   scripts/install-vscode.sh            # install (or confirm) everything
#   scripts/install-vscode.sh --print    # print `code_server=…`, `chromium=…`, `node=…` lines
#
# Where: $CODEX_LSP_EDITORS_DIR, else $XDG_CACHE_HOME/codex-lsp/editors, else
# ~/.cache/codex-lsp/editors (code-server under vscode/, npm's cache under vscode/npm-cache).
# apt packages go through a private apt configuration under that folder (scripts/lib/apt.sh);
# the system's own sources and package lists are never touched.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=${CODEX_LSP_EDITORS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/codex-lsp/editors}
CODE_SERVER_VERSION=4.100.3
# code-server 4.100.3's @vscode/ripgrep: its postinstall fetches this file unless it is cached.
RIPGREP_CACHE=vscode-ripgrep-cache-1.15.11
RIPGREP_TARBALL=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

vdir="$root/vscode"
cs_dir="$vdir/code-server-$CODE_SERVER_VERSION"
cs_bin="$cs_dir/node_modules/.bin/code-server"
ext_dir="$repo/editors/vscode"

print_paths() {
  echo "code_server=$cs_bin"
  echo "chromium=$(command -v chromium || true)"
  echo "node=$(command -v node || true)"
  echo "extension=$ext_dir"
}
if [ "${1:-}" = "--print" ]; then
  print_paths
  exit 0
fi

log() { echo "install-vscode: $*" >&2; }
mkdir -p "$vdir"

apt_root="$root/apt"
# shellcheck source=scripts/lib/apt.sh
. "$repo/scripts/lib/apt.sh"

# --- apt: chromium, ripgrep and what code-server's native modules build with ---------------
apt_pkgs=(chromium ripgrep build-essential pkg-config python3 libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev)
missing=()
for pkg in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt_private bookworm-security bookworm bookworm-updates bookworm-security
  apt_install "${missing[@]}"
fi

# --- node ----------------------------------------------------------------------------------
# code-server 4.100.3 runs on Node 20 (its engines field says exactly 20).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" != 20 ]; then
  log "node 20 is needed (found: $(node --version 2>/dev/null || echo none)); install Node.js 20 with npm"
  exit 1
fi
export npm_config_cache="$vdir/npm-cache"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# node-gyp builds native modules against the installed node's headers instead of downloading them.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

# --- code-server ---------------------------------------------------------------------------
# code-server writes a default config on every run; keep it (and anything else) out of ~.
export XDG_CONFIG_HOME="$vdir/xdg/config" XDG_DATA_HOME="$vdir/xdg/data"
if ! { [ -x "$cs_bin" ] && "$cs_bin" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION "; }; then
  # Its @vscode/ripgrep postinstall downloads rg from outside the registries unless the
  # tarball is already in its cache folder ($TMPDIR/…): seed it with Debian's rg.
  export TMPDIR="$vdir/tmp"
  mkdir -p "$TMPDIR/$RIPGREP_CACHE"
  if [ ! -s "$TMPDIR/$RIPGREP_CACHE/$RIPGREP_TARBALL" ]; then
    tar -czf "$TMPDIR/$RIPGREP_CACHE/$RIPGREP_TARBALL" -C "$(dirname "$(command -v rg)")" rg
  fi
  log "installing code-server $CODE_SERVER_VERSION (builds native modules; a few minutes)"
  tmp=$(mktemp -d "$vdir/.code-server.XXXXXX")
  echo '{"private":true}' > "$tmp/package.json"
  (cd "$tmp" && npm_config_yes=true npm install --no-save --unsafe-perm --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" >&2)
  rm -rf "$cs_dir"
  mv "$tmp" "$cs_dir"
  "$cs_bin" --version | head -n 1 >&2
fi

# --- the extension's node packages (typescript, vsce, languageclient, playwright-core) ----
stamp="$ext_dir/node_modules/.codex-lsp-lock"
want=$(sha256sum "$ext_dir/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "npm ci in editors/vscode"
  (cd "$ext_dir" && npm ci --loglevel=error >&2)
  echo "$want" > "$stamp"
fi

print_paths >&2
