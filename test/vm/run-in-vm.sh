#!/usr/bin/env bash
# Runs a shell script in kpc's test VM (see README.md), from the command line.
#
#   test/vm/run-in-vm.sh SCRIPT [FILE...]
#
# SCRIPT becomes /work/script.sh in the VM (run by /bin/sh = dash, or by its
# #! interpreter), each FILE is copied to /work/<its basename>. The script's
# stdout and stderr come out on this command's stdout and stderr, its exit
# status is this command's. Harness failures (no image, qemu died, timeout)
# exit 125 with a message on stderr.
# Env: KPC_VM_TIMEOUT (seconds, default 120), KPC_VM_DEBUG=1 (show the whole
# console on stderr), KPC_VM_CACHE (see build-vm.sh).
# The TypeScript API with the same behaviour is vm.ts (runInVm).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "run-in-vm: $*" >&2; exit 125; }
[[ $# -ge 1 && -f "$1" ]] || { echo "usage: $0 SCRIPT [FILE...]" >&2; exit 125; }
TIMEOUT=${KPC_VM_TIMEOUT:-120}

IMG=$("$HERE/build-vm.sh" | tail -1) || fail "build-vm.sh failed"
[[ -f "$IMG/kernel" && -f "$IMG/initramfs.img" ]] || fail "no image in '$IMG'"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kpc-vm-XXXXXX")
QPID=
cleanup() { [[ -n "$QPID" ]] && kill -KILL "$QPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
mkdir "$TMP/work"
cp "$1" "$TMP/work/script.sh"
chmod 755 "$TMP/work/script.sh"
shift
for f in "$@"; do
  b=$(basename "$f")
  [[ $b != script.sh && $b != .kpc-vm-run ]] || fail "file name $b is reserved"
  cp "$f" "$TMP/work/$b"
done
NONCE=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
printf 'NONCE=%s\nTIMEOUT_S=%s\n' "$NONCE" "$((TIMEOUT + 5))" >"$TMP/work/.kpc-vm-run"
{
  cat "$IMG/initramfs.img"
  # pad the base archive to a multiple of 4 bytes: each cpio must start 4-aligned
  head -c $(( (4 - $(stat -c %s "$IMG/initramfs.img") % 4) % 4 )) /dev/zero
  (cd "$TMP" && find work | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet)
} >"$TMP/initrd.img"

start=$(date +%s%N)
qemu-system-x86_64 -accel tcg -nodefaults -no-user-config -nographic -no-reboot \
  -m 512 -smp 1 -nic none -monitor none \
  -serial stdio -serial "file:$TMP/stderr.txt" \
  -kernel "$IMG/kernel" -initrd "$TMP/initrd.img" \
  -append "console=ttyS0 panic=-1 quiet" </dev/null >"$TMP/console.txt" 2>"$TMP/qemu.err" &
QPID=$!
timed_out=0
( sleep "$TIMEOUT"; kill -KILL "$QPID" 2>/dev/null ) &
WPID=$!
wait "$QPID" 2>/dev/null || true
if ! kill "$WPID" 2>/dev/null; then timed_out=1; fi
wait "$WPID" 2>/dev/null || true
QPID=
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[[ "${KPC_VM_DEBUG:-0}" == 1 ]] && cat "$TMP/console.txt" >&2

[[ $timed_out == 0 ]] || fail "VM timed out after ${TIMEOUT}s (qemu killed); console tail:
$(tail -c 2000 "$TMP/console.txt")"
grep -q "<<<KPC-VM-TIMEOUT $NONCE" "$TMP/console.txt" && fail "script timed out (guest watchdog)"
end=$(grep -ao "<<<KPC-VM-STDOUT-END $NONCE rc=[0-9]*" "$TMP/console.txt" | tail -1 || true)
[[ -n "$end" ]] || fail "VM did not report the script's end; qemu: $(cat "$TMP/qemu.err"); console tail:
$(tail -c 2000 "$TMP/console.txt")"
rc=${end##*rc=}
boot=$(grep -ao "<<<KPC-VM-BOOTED $NONCE uptime=[0-9.]*" "$TMP/console.txt" | sed 's/.*uptime=//')
# stdout: between the begin marker line and the end marker.
awk -v b="<<<KPC-VM-STDOUT-BEGIN $NONCE>>>" -v e="<<<KPC-VM-STDOUT-END $NONCE " '
  BEGIN { RS = "\0" }
  { i = index($0, b); if (!i) exit; s = substr($0, i + length(b) + 1);
    j = index(s, e); if (j) s = substr(s, 1, j - 1); gsub(/\r\n/, "\n", s); printf "%s", s }
' "$TMP/console.txt"
[[ -f "$TMP/stderr.txt" ]] && sed 's/\r$//' "$TMP/stderr.txt" >&2
echo "run-in-vm: exit $rc, guest booted at ${boot}s uptime, whole run ${ms} ms" >&2
exit "$rc"
