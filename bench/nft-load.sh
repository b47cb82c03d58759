#!/bin/bash
# Times `nft -f FILE` in a fresh network namespace of its own, twice: the first
# load (no table yet) and a second load of the same file (the file's own
# delete + add of the table in one transaction), then `nft -c -f` of it.
# Only namespaces this script creates are touched; each is deleted on exit.
#
#   bench/nft-load.sh FILE...      prints: file first_s second_s check_s
set -euo pipefail
ns="kpc-compact-$$"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
# A failed load is rolled back by the kernel and takes time too: say FAILED rather than a time.
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null || { echo FAILED; return; }; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
for file in "$@"; do
  ip netns add "$ns"
  first=$(seconds ip netns exec "$ns" nft -f "$file")
  second=$(seconds ip netns exec "$ns" nft -f "$file")
  check=$(seconds ip netns exec "$ns" nft -c -f "$file")
  ip netns del "$ns"
  printf '%s\t%s\t%s\t%s\n' "$(basename "$file")" "$first" "$second" "$check"
done
