#!/usr/bin/env bash
# Runs each libFuzzer target for a set time and prints what it did: executions per second,
# corpus size and crashes. Usage:
#   tests/fuzz/run.sh [-t SECONDS] [-b BUILD_DIR] [TARGET...]
# SECONDS defaults to 600, BUILD_DIR to build-fuzz (configured with -DBERTH_FUZZ=ON), and the
# targets to all of them. Each grows a working corpus in BUILD_DIR/fuzz-work/TARGET, seeded
# from tests/fuzz/corpus/TARGET (which it never writes), and leaves crashing inputs in
# BUILD_DIR/fuzz-work/TARGET-artifacts. A crash stops that target and the script goes on to
# the next one; it exits 1 when any target crashed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
seconds=600
build=$here/../../build-fuzz
while getopts t:b: opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    b) build=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in "$here"/corpus/*/; do targets+=("$(basename "$d")"); done
fi

failed=0
printf '%-22s %8s %10s %8s %12s %8s\n' target seconds execs exec/s corpus crashes
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/$t
  if [ ! -x "$bin" ]; then
    echo "$t: $bin not built (ninja -C $build $t)" >&2
    failed=1
    continue
  fi
  work=$build/fuzz-work/$t
  artifacts=$build/fuzz-work/$t-artifacts
  mkdir -p "$work" "$artifacts"
  log=$build/fuzz-work/$t.log
  stamp=$build/fuzz-work/$t.start  # tells this run's crashes from earlier ones
  touch "$stamp"
  start=$(date +%s)
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work" "$here/corpus/$t" >"$log" 2>&1
  elapsed=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus="$(find "$work" -type f | wc -l)/$(find "$work" -type f -printf "%s\n" | awk "{s+=\$1} END {printf \"%d\", s/1024}")KiB"
  crashes=$(find "$artifacts" -type f -newer "$stamp" | wc -l)
  [ "$crashes" -gt 0 ] && failed=1
  printf '%-22s %8s %10s %8s %12s %8s\n' "$t" "$elapsed" "${execs:-?}" "${rate:-?}" "$corpus" \
    "$crashes"
  [ "$crashes" -gt 0 ] && grep -m3 -E 'ERROR|runtime error|invariant|unexpected' "$log" | sed 's/^/    /'
done
exit $failed
