#!/usr/bin/env bash
# Runs each cargo-fuzz target under fuzz/ for a fixed time, one after another, one process
# each, and prints a summary: target, seconds, executions, crashes.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default: 60 s, every target)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
# The corpus grows in fuzz/corpus/<target> (seeded from fuzz/seeds/<target>); crashes land in
# fuzz/artifacts/<target>; each run's libFuzzer output is in fuzz/logs/<target>.log.
# Reproduce a crash with `cargo +nightly fuzz run <target> <artifact>`.
set -euo pipefail

seconds="${1:-60}"
shift || true
cd "$(dirname "$0")/../fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

cargo +nightly fuzz build -O

mkdir -p logs
printf '%-22s %8s %12s %8s\n' target seconds executions crashes
status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "seeds/$target" "artifacts/$target"
    before=$(find "artifacts/$target" -type f | wc -l)
    # -rss_limit_mb: the dispatch target runs a whole server per input.
    if ! cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 -timeout=60 \
        >"logs/$target.log" 2>&1; then
        status=1
    fi
    after=$(find "artifacts/$target" -type f | wc -l)
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$target.log" | tail -1)
    printf '%-22s %8s %12s %8s\n' "$target" "$seconds" "${executions:-?}" "$((after - before))"
done
exit "$status"
