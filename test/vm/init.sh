#!/bin/sh
# /init of the kpc test VM (copied into the initramfs by test/vm/build-vm.sh).
#
# Sets up a minimal system, then runs /work/script.sh (put there, with the
# files it needs, by an extra cpio appended at run time: see vm.ts) with
# /work as its working directory, and powers off.
#   stdout of the script -> ttyS0 (the console), between marker lines
#   stderr of the script -> ttyS1 (qemu writes it to a file on the host)
#   exit status          -> in the end marker
# The markers carry a per-run nonce (from /work/.kpc-vm-run) so the script's
# own output can never be taken for them.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run /tmp /var/lib /root
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
[ -e /var/run ] || ln -s /run /var/run
[ -e /var/lock ] || ln -s /run /var/lock
# Kernel messages off the console: only the script's output goes there.
echo 1 >/proc/sys/kernel/printk
echo /sbin/modprobe >/proc/sys/kernel/modprobe
hostname kpc-vm
ip link set lo up

# ttyS0 is the console: no \n -> \r\n translation; ttyS1 carries stderr raw.
stty -F /dev/console -onlcr 2>/dev/null
stty -F /dev/ttyS1 raw -echo 2>/dev/null

NONCE=none
[ -r /work/.kpc-vm-run ] && . /work/.kpc-vm-run

TIMEOUT_S=${TIMEOUT_S:-600}

# Guest-side watchdog: powers off even if the host side is gone.
( sleep "$TIMEOUT_S"; echo "<<<KPC-VM-TIMEOUT $NONCE after=${TIMEOUT_S}s>>>"; poweroff -f ) &

echo "<<<KPC-VM-BOOTED $NONCE uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)>>>"
if [ -r /work/script.sh ]; then
  echo "<<<KPC-VM-STDOUT-BEGIN $NONCE>>>"
  # A script with a #! line runs with that interpreter (e.g. /bin/bash),
  # any other with /bin/sh (dash).
  if [ "$(head -c 2 /work/script.sh)" = "#!" ]; then
    chmod +x /work/script.sh
    (cd /work && exec ./script.sh) </dev/null 2>/dev/ttyS1
  else
    (cd /work && exec /bin/sh ./script.sh) </dev/null 2>/dev/ttyS1
  fi
  rc=$?
  echo "<<<KPC-VM-STDOUT-END $NONCE rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)>>>"
else
  echo "<<<KPC-VM-NO-SCRIPT $NONCE>>>"
fi
# Let the UARTs drain (stty waits for pending output with TCSADRAIN), then
# power off. qemu runs with -no-reboot, so a failed poweroff or a panic
# (panic=-1) ends qemu as well.
stty -F /dev/ttyS1 -echo 2>/dev/null
stty -F /dev/console -onlcr 2>/dev/null
sleep 0.1
poweroff -f
