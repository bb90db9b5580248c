# shellcheck shell=bash
# The private apt configuration that install-editors.sh and install-vscode.sh share: extra
# Debian suites through apt-get with their own sources, lists and archives under
# $apt_root/<name>, on the system's own mirror and keyring. The system's sources and package
# lists are never touched. Source it after setting `apt_root` and defining `log`.

apt_keyring=/usr/share/keyrings/debian-archive-keyring.gpg

apt_sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { log "apt-get needs root (or sudo)"; exit 1; }
  apt_sudo="sudo"
fi

# The mirror the system's own sources use: `apt_mirror main`, or `apt_mirror security` for
# the security archive.
apt_mirror() {
  local uri="" match='!~'
  [ "$1" = security ] && match='~'
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk "/^URIs:/ && \$2 $match /security/ { print \$2; exit }" /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk "/^deb / && \$0 $match /security/ { for (i = 2; i <= NF; i++) if (\$i ~ /:\\/\\//) { print \$i; exit } }" /etc/apt/sources.list)
  fi
  if [ -z "$uri" ]; then
    if [ "$1" = security ]; then uri=http://deb.debian.org/debian-security; else uri=http://deb.debian.org/debian; fi
  fi
  echo "$uri"
}

# The sources line of a suite (`bookworm-security` comes from the security mirror).
apt_deb_line() {
  local archive=main
  case $1 in *-security) archive=security ;; esac
  echo "deb [signed-by=$apt_keyring] $(apt_mirror $archive) $1 main"
}

# `apt_private NAME SUITE…`: sets APT_OPTS to the private configuration NAME holding SUITEs,
# and fetches its package lists once (kept for later runs).
apt_private() {
  local name=$1
  shift
  local dir="$apt_root/$name" suite
  mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/etc/sources.list.d" "$dir/etc/preferences.d"
  : > "$dir/etc/sources.list"
  for suite in "$@"; do apt_deb_line "$suite" >> "$dir/etc/sources.list"; done
  : > "$dir/etc/preferences"
  APT_OPTS=(
    -o "Dir::Etc::SourceList=$dir/etc/sources.list"
    -o "Dir::Etc::SourceParts=$dir/etc/sources.list.d"
    -o "Dir::Etc::Preferences=$dir/etc/preferences"
    -o "Dir::Etc::PreferencesParts=$dir/etc/preferences.d"
    -o "Dir::State::Lists=$dir/lists"
    -o "Dir::Cache::Archives=$dir/archives"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Get::List-Cleanup=false"
    -o "Acquire::Languages=none"
    -o "APT::Sandbox::User=root"
  )
  if ! ls "$dir/lists/"*_Packages* >/dev/null 2>&1; then
    log "apt-get update ($name: $*)"
    $apt_sudo apt-get "${APT_OPTS[@]}" -q update >&2
  fi
}

# Runs `$@`; when it fails, the lists may be stale (a newer version replaced the one they
# name): refreshes them and runs it once more.
apt_retry_stale() {
  "$@" || {
    $apt_sudo apt-get "${APT_OPTS[@]}" -q update >&2
    "$@"
  }
}

# `apt_install [apt-get options] PACKAGE…` from the configuration of the last apt_private.
apt_install() {
  log "installing $*"
  apt_retry_stale $apt_sudo env DEBIAN_FRONTEND=noninteractive \
    apt-get "${APT_OPTS[@]}" -q -y --no-install-recommends install "$@" >&2
}

# `apt_download DIR PACKAGE`: the package's .deb into DIR, unless one is there.
apt_download() {
  if ! ls "$1/${2}_"*.deb >/dev/null 2>&1; then
    log "downloading $2"
    apt_retry_stale _apt_download_in "$1" "$2"
  fi
}

_apt_download_in() {
  (cd "$1" && apt-get "${APT_OPTS[@]}" -q download "$2" >&2)
}
