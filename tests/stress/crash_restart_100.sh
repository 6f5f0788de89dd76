#!/usr/bin/env bash
# The crash test at full length, on demand (CI runs a few cycles of the same script):
#   sudo tests/stress/crash_restart_100.sh
export CRASH_CYCLES=${CRASH_CYCLES:-100}
exec bash "$(dirname "$0")/../compat/crash_restart.sh"
