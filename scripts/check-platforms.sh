#!/usr/bin/env bash
# Proves codex-lsp builds for the platforms it does not run its tests on: `cargo check` for
# macOS (aarch64-apple-darwin); a build for Linux aarch64 (aarch64-unknown-linux-gnu, linked
# with Debian's cross gcc) run under qemu-user — `--version` and an LSP round trip; a static
# musl build for Linux x86_64 (x86_64-unknown-linux-musl) that runs here — `--version`, an LSP
# round trip and `doctor --self-test` against the pinned runtime — and a full build for Windows
# (x86_64-pc-windows-gnu, linked with mingw-w64) run under wine: `--version`, then an LSP
# initialize/shutdown/exit round trip.
# Installs what it needs itself: the rustup targets, and the cross gcc, qemu-user, mingw-w64
# and wine through a private apt configuration (scripts/lib/apt.sh).
#
#   scripts/check-platforms.sh             # install what is missing, check and build
#   scripts/check-platforms.sh --install   # only install
#
# What runs under wine and what cannot is written down in docs/platforms.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
here=$(pwd)
root=${CODEX_LSP_PLATFORMS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/codex-lsp/platforms}
log() { echo "check-platforms: $*" >&2; }
mkdir -p "$root"

# --- what it needs ------------------------------------------------------------------------
targets=(x86_64-pc-windows-gnu aarch64-apple-darwin x86_64-unknown-linux-musl aarch64-unknown-linux-gnu)
installed=$(rustup target list --installed)
for target in "${targets[@]}"; do
  grep -qx "$target" <<<"$installed" || { log "rustup target add $target"; rustup target add "$target" >&2; }
done

have_wine() { command -v wine64 >/dev/null || command -v wine >/dev/null || [ -x /usr/lib/wine/wine64 ]; }
if ! command -v x86_64-w64-mingw32-gcc >/dev/null || ! have_wine ||
  ! command -v aarch64-linux-gnu-gcc >/dev/null || [ ! -f /usr/aarch64-linux-gnu/lib/crt1.o ] ||
  ! command -v qemu-aarch64 >/dev/null; then
  apt_root="$root/apt"
  # shellcheck source=scripts/lib/apt.sh
  . scripts/lib/apt.sh
  apt_private bookworm bookworm bookworm-updates bookworm-security
  # wine64 alone: no 32-bit architecture, no desktop integration. qemu-user without
  # binfmt registration: the aarch64 binary is started through qemu-aarch64 explicitly. The
  # cross libc for linking is only recommended by the cross gcc: named here.
  apt_install gcc-mingw-w64-x86-64-posix wine64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
fi
[ "${1:-}" = "--install" ] && exit 0

wine=$(command -v wine64 || command -v wine || true)
# bookworm's wine64 package ships the loader outside PATH.
[ -z "$wine" ] && [ -x /usr/lib/wine/wine64 ] && wine=/usr/lib/wine/wine64

# --- macOS: type-check (linking needs Apple's SDK, which is not redistributable) ----------
log "cargo check --target aarch64-apple-darwin"
cargo check --locked --quiet --target aarch64-apple-darwin

# --- Linux aarch64: built with the cross gcc as linker, run under qemu-user -----------------
# The binary only (dev profile, no tests): what a release ships, at a CI cost of a few minutes.
log "cargo build --target aarch64-unknown-linux-gnu"
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
  cargo build --locked --quiet --target aarch64-unknown-linux-gnu --bin codex-lsp
arm="${CARGO_TARGET_DIR:-$here/target}/aarch64-unknown-linux-gnu/debug/codex-lsp"
file_type=$(od -An -j18 -N2 -tu2 "$arm" | tr -d ' ')
[ "$file_type" = 183 ] || { log "aarch64: $arm is not an aarch64 ELF (e_machine $file_type)"; exit 1; }
# qemu-user finds the aarch64 dynamic loader and libc of Debian's cross toolchain here.
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
version=$(qemu-aarch64 "$arm" --version)
[ "$version" = "codex-lsp $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)" ] ||
  { log "aarch64: --version printed '$version'"; exit 1; }
CODEX_LSP_CODEX_PATH=/nonexistent/codex python3 scripts/lib/lsp-roundtrip.py qemu-aarch64 "$arm" --stdio 2>&1 |
  grep '^lsp-roundtrip: initialize' >&2 || {
  log "aarch64: the LSP round trip failed:"
  CODEX_LSP_CODEX_PATH=/nonexistent/codex python3 scripts/lib/lsp-roundtrip.py qemu-aarch64 "$arm" --stdio >&2 || true
  exit 1
}
unset QEMU_LD_PREFIX
log "aarch64: --version and LSP round trip pass under qemu-user"

# --- Linux musl: a static binary (Rust's own musl and linker), run on this machine --------
log "cargo build --target x86_64-unknown-linux-musl"
cargo build --locked --quiet --target x86_64-unknown-linux-musl
musl="${CARGO_TARGET_DIR:-$here/target}/x86_64-unknown-linux-musl/debug/codex-lsp"
# Static: no program interpreter, so it runs on any Linux whatever its libc.
if command -v readelf >/dev/null && readelf -l "$musl" | grep -q INTERP; then
  log "musl: $musl is dynamically linked"; exit 1
fi
version=$("$musl" --version)
[ "$version" = "codex-lsp $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)" ] ||
  { log "musl --version printed '$version'"; exit 1; }
CODEX_LSP_CODEX_PATH=/nonexistent/codex python3 scripts/lib/lsp-roundtrip.py "$musl" --stdio 2>&1 |
  grep '^lsp-roundtrip: initialize' >&2 || { log "musl: the LSP round trip failed"; exit 1; }
# One real turn through the pinned runtime (exit 1 only says "not logged in").
self_test=$(CODEX_LSP_CODEX_PATH=$(scripts/install-runtime.sh --print) "$musl" doctor --self-test 2>&1 || true)
grep -q "status    completed" <<<"$self_test" || { log "musl: doctor --self-test failed:"; echo "$self_test" >&2; exit 1; }
log "musl: --version, LSP round trip and doctor --self-test pass"

# --- Windows: build with mingw-w64, then run under wine -----------------------------------
log "cargo build --target x86_64-pc-windows-gnu"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
cargo build --locked --quiet --target x86_64-pc-windows-gnu
exe_dir="${CARGO_TARGET_DIR:-$here/target}/x86_64-pc-windows-gnu/debug"
exe="$exe_dir/codex-lsp.exe"
[ -f "$exe" ] || { log "no $exe after the build"; exit 1; }
log "built $exe"

if [ -z "$wine" ]; then
  log "wine is missing: the Windows build was not run"
  exit 1
fi
# Debian 12's wine 8 lacks bcryptprimitives.dll, where Rust's standard library gets random
# bytes (ProcessPrng); a stand-in beside the .exe (scripts/wine/) lets it start.
shim="$exe_dir/bcryptprimitives.dll"
if [ ! -f "$shim" ] || [ scripts/wine/bcryptprimitives.c -nt "$shim" ]; then
  x86_64-w64-mingw32-gcc -O2 -shared -o "$shim" \
    scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def -ladvapi32
fi
export WINEPREFIX="$root/wine" WINEDEBUG=-all
# No runtime for it: the round trip must not depend on one.
export CODEX_LSP_CODEX_PATH='C:\nonexistent\codex.exe'
version=$("$wine" "$exe" --version 2>/dev/null | tr -d '\r')
expected="codex-lsp $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
[ "$version" = "$expected" ] || { log "wine $exe --version printed '$version', not '$expected'"; exit 1; }
log "wine: --version: $version"
python3 scripts/lib/lsp-roundtrip.py "$wine" "$exe" --stdio 2>&1 | grep '^lsp-roundtrip: initialize' >&2 || {
  log "wine: the LSP round trip failed:"
  python3 scripts/lib/lsp-roundtrip.py "$wine" "$exe" --stdio >&2 || true
  exit 1
}
# A Windows-only path: `unix://` is refused with a message saying what to use instead.
python3 scripts/lib/lsp-roundtrip.py --options '{"appServer": "unix:///tmp/codex.sock"}' \
  --expect-message "unix:// sockets are not supported on Windows" "$wine" "$exe" --stdio 2>&1 |
  grep '^lsp-roundtrip: initialize' >&2 || {
  log "wine: unix:// was not refused as it should be:"
  python3 scripts/lib/lsp-roundtrip.py --options '{"appServer": "unix:///tmp/codex.sock"}' \
    --expect-message "unix:// sockets are not supported on Windows" "$wine" "$exe" --stdio >&2 || true
  exit 1
}
log "wine: unix:// refused with a clear message"
log "macOS checked; Linux aarch64 built and run under qemu; Linux musl built and run; Windows built and run under wine"
