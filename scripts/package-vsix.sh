#!/usr/bin/env bash
# Builds the VS Code extension package for one platform with codex-lsp inside, as
# rust-analyzer ships its server: `vsce package --target PLATFORM` over editors/vscode with
# the binary at `server/codex-lsp` (`server/codex-lsp.exe` on Windows), which the extension
# runs unless `codex.serverPath` names another. scripts/release.sh calls it with the release
# binary; tests/editor_vscode.rs with the binary the tests built.
#
#   scripts/package-vsix.sh RUST_TARGET BINARY OUT.vsix
#   scripts/package-vsix.sh --platform RUST_TARGET     # print its VS Code platform only
#
# RUST_TARGET (e.g. x86_64-unknown-linux-gnu) picks the VS Code platform (linux-x64, …).
# Needs the extension's node packages (scripts/install-vscode.sh, or `npm ci` in
# editors/vscode). The LICENSE goes in too (Open VSX and the Marketplace show it).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { echo "package-vsix: $*" >&2; }

# The Rust target → VS Code's platform name (`vsce package --target`).
vsce_target() {
  case $1 in
    x86_64-unknown-linux-gnu) echo linux-x64 ;;
    aarch64-unknown-linux-gnu) echo linux-arm64 ;;
    x86_64-unknown-linux-musl) echo alpine-x64 ;;
    aarch64-unknown-linux-musl) echo alpine-arm64 ;;
    x86_64-apple-darwin) echo darwin-x64 ;;
    aarch64-apple-darwin) echo darwin-arm64 ;;
    x86_64-pc-windows-gnu | x86_64-pc-windows-msvc) echo win32-x64 ;;
    aarch64-pc-windows-msvc) echo win32-arm64 ;;
    *) return 1 ;;
  esac
}
if [ "${1:-}" = --platform ] && [ $# = 2 ]; then
  vsce_target "$2" || { log "no VS Code platform for $2"; exit 2; }
  exit 0
fi
[ $# = 3 ] || { echo "usage: scripts/package-vsix.sh RUST_TARGET BINARY OUT.vsix" >&2; exit 2; }
target=$1 binary=$2 out=$3
platform=$(vsce_target "$target") || { log "no VS Code platform for $target"; exit 2; }
exe=codex-lsp
case $platform in win32-*) exe=codex-lsp.exe ;; esac
[ -f "$binary" ] || { log "no server binary at $binary"; exit 1; }

ext="$repo/editors/vscode"
for needed in node_modules/.bin/tsc node_modules/.bin/vsce; do
  [ -e "$ext/$needed" ] || { log "editors/vscode/$needed is missing: run scripts/install-vscode.sh"; exit 1; }
done

# vsce packages the folder it runs in, so the server and LICENSE are put there for the build
# only (both are git-ignored) and removed after, whatever happens.
cleanup() { rm -rf "$ext/server" "$ext/LICENSE"; }
trap cleanup EXIT
cleanup
mkdir -p "$ext/server"
cp "$binary" "$ext/server/$exe"
chmod 755 "$ext/server/$exe"
# A debug build's DWARF is most of its size and no use to an editor (the `dist` profile has
# none already); drop it where the host's strip understands the binary.
case $platform in
  linux-x64 | alpine-x64) strip --strip-debug "$ext/server/$exe" 2>/dev/null || true ;;
esac
cp "$repo/LICENSE" "$ext/LICENSE"

# The README's pictures are relative links into the package (images/). vsce rewrites them to
# the repository's URLs (what the Marketplace wants) when package.json names a repository, and
# refuses to package them when it names none: then they stay relative, and VS Code shows them
# from the installed package.
links=()
grep -q '"repository"' "$ext/package.json" || links=(--no-rewrite-relative-links)

out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
(cd "$ext" && node_modules/.bin/tsc -p . && node_modules/.bin/vsce package --target "$platform" \
  --allow-missing-repository "${links[@]}" --out "$out_abs" >&2)
log "$out ($platform, $(du -h "$out_abs" | cut -f1))"
