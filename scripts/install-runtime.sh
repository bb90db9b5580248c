#!/usr/bin/env bash
# Installs the pinned `codex` runtime (PyPI wheel `openai-codex-cli-bin`) into codex-lsp's cache.
# Idempotent: a second run with the runtime already in place does nothing.
#
#   scripts/install-runtime.sh            # install (or confirm) the pinned runtime
#   scripts/install-runtime.sh --print    # print the path of the installed `codex`
#
# Where: $CODEX_LSP_RUNTIME_DIR, else $XDG_CACHE_HOME/codex-lsp/runtime, else ~/.cache/codex-lsp/runtime
# (macOS: ~/Library/Caches/codex-lsp/runtime).
# codex-lsp looks in the same place (src/runtime.rs), so the two must agree.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(tr -d '[:space:]' < "$here/RUNTIME_VERSION")
# macOS keeps caches in ~/Library/Caches (src/runtime.rs looks there too).
default_cache=$HOME/.cache
[ "$(uname -s)" = Darwin ] && default_cache=$HOME/Library/Caches
root=${CODEX_LSP_RUNTIME_DIR:-${XDG_CACHE_HOME:-$default_cache}/codex-lsp/runtime}
dest="$root/$version"
codex="$dest/codex_cli_bin/bin/codex"

if [ -x "$codex" ] && "$codex" --version 2>/dev/null | grep -qx "codex-cli $version"; then
  [ "${1:-}" = "--print" ] && echo "$codex" || echo "codex $version already installed: $codex" >&2
  exit 0
fi

python=${PYTHON:-$(command -v python3 || command -v python || true)}
[ -n "$python" ] || { echo "install-runtime: python3 (with pip) is needed to fetch the runtime wheel" >&2; exit 1; }

mkdir -p "$root/wheels"
# Keep the wheel: a later run (or CI on the same machine) unpacks it again without a download.
if ! ls "$root/wheels"/openai_codex_cli_bin-"$version"-*.whl >/dev/null 2>&1; then
  echo "install-runtime: downloading openai-codex-cli-bin==$version" >&2
  "$python" -m pip download --quiet --no-deps --only-binary=:all: \
    -d "$root/wheels" "openai-codex-cli-bin==$version"
fi
wheel=$(ls "$root/wheels"/openai_codex_cli_bin-"$version"-*.whl | head -n 1)

tmp=$(mktemp -d "$root/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# zipfile drops the executable bits; restore them from the archive's own modes.
"$python" - "$wheel" "$tmp" <<'PY'
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        path = z.extract(info, out)
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
for sub in ("bin", "codex-path", "codex-resources"):
    d = os.path.join(out, "codex_cli_bin", sub)
    for name in os.listdir(d) if os.path.isdir(d) else []:
        p = os.path.join(d, name)
        if os.path.isfile(p):
            os.chmod(p, os.stat(p).st_mode | 0o755)
PY
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
"$codex" --version >&2
[ "${1:-}" = "--print" ] && echo "$codex"
exit 0
