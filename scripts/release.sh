#!/usr/bin/env bash
# Builds the release archive of codex-lsp for one target: the binary (profile `dist`),
# README.md, LICENSE and editors/ in `codex-lsp-VERSION-TARGET/`, as a .tar.gz (a .zip for
# Windows), with a .sha256 beside it, in target/release-archives/; and beside it the VS Code
# extension for that platform with the same binary inside, `codex-lsp-VERSION-TARGET.vsix`
# (scripts/package-vsix.sh; needs the extension's node packages: scripts/install-vscode.sh).
#
#   scripts/release.sh TARGET           # e.g. x86_64-unknown-linux-gnu, x86_64-pc-windows-gnu
#   scripts/release.sh TARGET --check   # then unpack it and prove it: the contents, `--version`,
#                                       # and `doctor --self-test` against the pinned runtime;
#                                       # the .vsix's platform and server (only for a target
#                                       # this machine runs)
#
# The target's Rust standard library must be installed (`rustup target add TARGET`), and a
# linker for it (Windows from Linux: mingw-w64, see scripts/check-platforms.sh). macOS
# archives are built on macOS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
here=$(pwd)
log() { echo "release: $*" >&2; }

target=${1:-}
[ -n "$target" ] || { echo "usage: scripts/release.sh TARGET [--check]" >&2; exit 2; }
check=false
[ "${2:-}" = "--check" ] && check=true

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
name="codex-lsp-$version-$target"
exe=codex-lsp
case $target in *windows*) exe=codex-lsp.exe ;; esac
if [ "$target" = x86_64-pc-windows-gnu ] && [ -z "${CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER:-}" ]; then
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
fi

target_dir=${CARGO_TARGET_DIR:-$here/target}
log "cargo build --profile dist --target $target"
cargo build --locked --quiet --profile dist --target "$target"
binary="$target_dir/$target/dist/$exe"
[ -f "$binary" ] || { log "no $binary after the build"; exit 1; }

out="$target_dir/release-archives"
stage=$(mktemp -d "${TMPDIR:-/tmp}/codex-lsp-release.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name" "$out"
cp "$binary" "$stage/$name/$exe"
cp README.md LICENSE "$stage/$name/"
# The editor integrations as the repository holds them (no node_modules, no built .vsix).
git ls-files -z editors | while IFS= read -r -d '' file; do
  mkdir -p "$stage/$name/$(dirname "$file")"
  cp -p "$file" "$stage/$name/$file"
done

case $target in
  *windows*)
    archive="$out/$name.zip"
    rm -f "$archive"
    (cd "$stage" && python3 - "$archive" "$name" <<'PY'
import os, sys, zipfile
archive, root = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
    for folder, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            z.write(os.path.join(folder, f))
PY
    )
    ;;
  *)
    archive="$out/$name.tar.gz"
    tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name -czf "$archive" "$name"
    ;;
esac
(cd "$out" && sha256sum "$(basename "$archive")" > "$(basename "$archive").sha256")
log "$archive ($(du -h "$archive" | cut -f1); the binary $(du -h "$binary" | cut -f1))"

# The VS Code extension for this platform with the same binary inside (scripts/package-vsix.sh).
vsix="$out/$name.vsix"
rm -f "$vsix" "$vsix.sha256"
if [ -e editors/vscode/node_modules/.bin/vsce ]; then
  scripts/package-vsix.sh "$target" "$binary" "$vsix"
  (cd "$out" && sha256sum "$(basename "$vsix")" > "$(basename "$vsix").sha256")
elif $check; then
  log "the .vsix needs the extension's node packages: run scripts/install-vscode.sh"
  exit 1
else
  log "no .vsix: the extension's node packages are not installed (scripts/install-vscode.sh)"
fi

$check || exit 0

# --- prove the archive: unpack it elsewhere and use only what it holds ----------------------
case $archive in *.zip) log "--check runs a unix archive only"; exit 2 ;; esac
(cd "$out" && sha256sum --quiet -c "$(basename "$archive").sha256")
unpacked=$(mktemp -d "${TMPDIR:-/tmp}/codex-lsp-unpacked.XXXXXX")
trap 'rm -rf "$stage" "$unpacked"' EXIT
tar -C "$unpacked" -xzf "$archive"
root="$unpacked/$name"
for expected in codex-lsp README.md LICENSE editors/nvim editors/helix editors/emacs editors/vscode/package.json; do
  [ -e "$root/$expected" ] || { log "the archive lacks $expected"; exit 1; }
done
[ -x "$root/codex-lsp" ] || { log "codex-lsp is not executable in the archive"; exit 1; }
stray=$(cd "$root" && find . -mindepth 1 -maxdepth 1 | sort | grep -vxE '\./(codex-lsp|README\.md|LICENSE|editors)' || true)
[ -z "$stray" ] || { log "unexpected files at the archive's top: $stray"; exit 1; }
if find "$root" -name node_modules -o -name '*.vsix' | grep -q .; then
  log "the archive carries build leftovers (node_modules or .vsix)"
  exit 1
fi
# The .vsix: built for this platform, with the server inside, executable, the same binary.
(cd "$out" && sha256sum --quiet -c "$(basename "$vsix").sha256")
mkdir "$unpacked/vsix"
(cd "$unpacked/vsix" && unzip -q "$vsix")
platform=$(grep -o 'TargetPlatform="[^"]*"' "$unpacked/vsix/extension.vsixmanifest" | cut -d'"' -f2)
want=$(scripts/package-vsix.sh --platform "$target")
[ "$platform" = "$want" ] || { log "the .vsix is for '${platform:-no platform}', not $want"; exit 1; }
[ -x "$unpacked/vsix/extension/server/codex-lsp" ] || { log "the .vsix lacks an executable extension/server/codex-lsp"; exit 1; }
[ -f "$unpacked/vsix/extension/LICENSE.txt" ] || { log "the .vsix lacks its LICENSE"; exit 1; }
got=$("$unpacked/vsix/extension/server/codex-lsp" --version)
[ "$got" = "codex-lsp $version" ] || { log "the .vsix's server printed '$got' for --version"; exit 1; }
log "$(basename "$vsix"): $platform, server/codex-lsp answers '$got'"

got=$("$root/codex-lsp" --version)
[ "$got" = "codex-lsp $version" ] || { log "--version printed '$got'"; exit 1; }
log "--version: $got"

codex=$(scripts/install-runtime.sh --print)
home=$(mktemp -d "${TMPDIR:-/tmp}/codex-lsp-home.XXXXXX")
trap 'rm -rf "$stage" "$unpacked" "$home"' EXIT
# A model provider that needs no account (nothing listens there; the self-test brings its own
# scripted one): without it the doctor rightly says "not logged in", which is not what this
# check is about.
cat > "$home/config.toml" <<'TOML'
model = "gpt-5.5"
model_provider = "local"

[model_providers.local]
name = "local"
base_url = "http://127.0.0.1:9/v1"
wire_api = "responses"
TOML
# A clean environment: no PATH to a checkout, the runtime named explicitly.
if ! report=$(cd "$unpacked" && env -i HOME="$home" PATH=/usr/bin:/bin CODEX_HOME="$home" \
  CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG=1 CODEX_LSP_CODEX_PATH="$codex" \
  "$root/codex-lsp" doctor --self-test 2>&1); then
  log "doctor --self-test failed:"
  echo "$report" >&2
  exit 1
fi
grep -q "all checks passed" <<<"$report" || { log "doctor --self-test did not pass:"; echo "$report" >&2; exit 1; }
log "doctor --self-test: all checks passed"
