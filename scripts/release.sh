#!/usr/bin/env bash
# Builds the release archive of codex-lsp for one target: the binary (profile `dist`),
# README.md, LICENSE and editors/ in `codex-lsp-VERSION-TARGET/`, as a .tar.gz (a .zip for
# Windows), with a .sha256 beside it, in target/release-archives/.
#
#   scripts/release.sh TARGET           # e.g. x86_64-unknown-linux-gnu, x86_64-pc-windows-gnu
#   scripts/release.sh TARGET --check   # then unpack it and prove it: the contents, `--version`,
#                                       # and `doctor --self-test` against the pinned runtime
#                                       # (only for a target this machine runs)
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
