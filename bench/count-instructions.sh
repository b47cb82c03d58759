#!/usr/bin/env bash
# Counts the instructions one node process executes, in millions: a measure of
# CPU work that this machine's noise (wall times differ by 30-50% from minute
# to minute) does not move. Two runs of the same code agree to about 0.1%, so
# it tells whether a change to a hot loop helps before any timing could.
#
#   bench/count-instructions.sh SCRIPT [ARGS...]
#   e.g. bench/count-instructions.sh bin/kpc generate -f cluster.yaml --mode iptables -o /tmp/out
#
# V8 runs single-threaded (--single-threaded: garbage collection and
# compilation on the main thread, so they are counted too, and counted the
# same way every run). Needs valgrind (Debian: apt-get install valgrind); a
# 10,000-port generate takes about three minutes under it.
set -euo pipefail
if ! command -v valgrind >/dev/null; then
  echo "count-instructions: valgrind is not installed (apt-get install valgrind)" >&2
  exit 2
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
valgrind --tool=cachegrind --cache-sim=no --smc-check=all-non-file --cachegrind-out-file=/dev/null --log-file="$report" \
  node --single-threaded "$@" >/dev/null
awk '/I *refs/ { gsub(",", "", $4); printf "%.0f\n", $4 / 1e6 }' "$report"
