#!/usr/bin/env bash
# Regenerates the pictures in the README and the editors' docs from the product: the
# real-editor tests photograph the flow (the ask, its progress, the agent's edit, an
# approval) when $CODEX_LSP_SCREENSHOTS names a folder (tests/editor_support: the terminal
# editors' tmux screens as SVG; VS Code's page as PNG, from tests/editors/vscode/drive.mjs).
#
#   scripts/screenshots.sh
#
# Writes docs/screenshots/{neovim,helix,emacs}-*.svg and editors/vscode/images/vscode-*.png
# (there, so the extension's README can show them from inside the .vsix). Fixed terminal
# size and fixtures; what still varies from run to run is small (a temporary folder's
# name, a turn's duration), so commit the pictures again when the flow changed, not for that.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { echo "screenshots: $*" >&2; }

scripts/install-runtime.sh >&2
scripts/install-editors.sh >&2
scripts/install-vscode.sh >&2

shots=$(mktemp -d)
trap 'rm -rf "$shots"' EXIT
# The one scenario of each editor test that takes pictures.
run() {
  log "$1 $2"
  CODEX_LSP_SCREENSHOTS=$shots cargo test --locked --test "$1" -- --exact "$2" >&2
}
run editor_nvim accept_typed_into_neovims_own_prompt_lands_the_edit_in_the_buffer
run editor_helix a_codex_code_action_on_the_selection_runs_a_turn_with_progress
run editor_emacs ask_about_the_region_shows_progress_and_the_reply_and_merges_the_edit
run editor_vscode vscode_asks_accepts_a_diff_declines_a_command_interrupts_and_resumes

# Every picture the docs link to, so a scenario that took a different path fails here.
expected="neovim-approval.svg neovim-edit.svg helix-progress.svg helix-approval.svg
  helix-edit.svg emacs-approval.svg emacs-edit.svg vscode-diff.png vscode-edit.png
  vscode-approval.png"
for name in $expected; do
  [ -s "$shots/$name" ] || { log "the tests did not make $name"; exit 1; }
done
mkdir -p docs/screenshots editors/vscode/images
for name in $expected; do
  case $name in
    vscode-*) dest=editors/vscode/images ;;
    *) dest=docs/screenshots ;;
  esac
  cp "$shots/$name" "$dest/$name"
  log "$dest/$name ($(du -k "$dest/$name" | cut -f1) KB)"
done
