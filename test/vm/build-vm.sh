#!/usr/bin/env bash
# Builds (or finds in the cache) the kernel + initramfs of kpc's test VM.
#
#   test/vm/build-vm.sh            build if needed; last stdout line: image dir
#
# The image dir holds:
#   kernel          the kernel qemu boots (-kernel): the uncompressed vmlinux
#                   ELF when it has a PVH entry note (boots ~3x faster under
#                   TCG: no in-guest decompression), else the bzImage
#   initramfs.img   busybox, kmod, ipvsadm, ipset, iptables (nft + legacy),
#                   nft, conntrack, ip, ss, kpc-echo, their libraries, the
#                   netfilter/IPVS/ipset/veth/dummy/sctp/... modules, /init
#   kernel-version  e.g. 6.1.0-56-amd64
#   info            what was built, with which flavours and sizes
#
# Idempotent and cached. Cache root: $KPC_VM_CACHE, else /var/cache/kpc-vm
# when writable (shared by clones and CI runs on this machine), else
# <repo>/.vm-cache (gitignored). The image dir name is a hash of this script,
# init.sh, kpc-echo.c, the kernel package and the host tool versions, so an
# edit to any of them rebuilds. The kernel .deb is downloaded once
# (apt-get download linux-image-amd64 and the image package it depends on;
# never installed on the host) and kept; KPC_VM_REFRESH_KERNEL=1 fetches the
# newest again. KPC_VM_IPTABLES=nft|legacy chooses what `iptables` is in the
# VM (default: the host's alternative).
#
# Host packages it installs with apt-get when missing (needs root):
#   qemu-system-x86 busybox-static ipvsadm ipset iptables iproute2 kmod cpio
#   xz-utils binutils gcc libc6-dev nftables conntrack
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
log() { echo "build-vm: $*" >&2; }
die() { echo "build-vm: ERROR: $*" >&2; exit 1; }

if [[ -n "${KPC_VM_CACHE:-}" ]]; then
  CACHE=$KPC_VM_CACHE
elif mkdir -p /var/cache/kpc-vm 2>/dev/null && [[ -w /var/cache/kpc-vm ]]; then
  CACHE=/var/cache/kpc-vm
else
  CACHE=$REPO/.vm-cache
fi
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# One build at a time per cache (other clones, parallel test runs).
exec 9>"$CACHE/.lock"
flock 9

T0=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - T0) / 1000000 ))ms"; }

# ---------------------------------------------------------------- packages
PKGS=(qemu-system-x86 busybox-static ipvsadm ipset iptables iproute2 kmod cpio
      xz-utils binutils gcc libc6-dev nftables conntrack)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
APT_UPDATED=0
apt_update() {
  if [[ $APT_UPDATED == 0 ]]; then
    log "apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
}
missing=()
for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || die "missing host packages (${missing[*]}) and not root to install them"
  log "installing: ${missing[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
fi

# ------------------------------------------------------------------ kernel
# The .deb of the kernel image package, kept in $CACHE/debs.
mkdir -p "$CACHE/debs"
chmod 755 "$CACHE/debs"
KDEB=$(ls -1 "$CACHE"/debs/linux-image-[0-9]*-amd64_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [[ -z "$KDEB" || "${KPC_VM_REFRESH_KERNEL:-0}" == 1 ]]; then
  apt_update
  tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
  chmod 755 "$tmp"
  chown _apt "$tmp" 2>/dev/null || true  # apt-get download drops to _apt
  (cd "$tmp" && apt-get download -qq linux-image-amd64 >&2) || die "apt-get download linux-image-amd64 failed"
  dep=$(dpkg-deb -f "$tmp"/linux-image-amd64_*.deb Depends | tr ',|' '\n\n' | sed 's/(.*//;s/ //g' \
        | grep -E '^linux-image-[0-9].*-amd64(-unsigned)?$' | head -1)
  [[ -n "$dep" ]] || die "cannot find the kernel image package linux-image-amd64 depends on"
  log "downloading $dep"
  (cd "$tmp" && apt-get download -qq "$dep" >&2) || die "apt-get download $dep failed"
  new=$(ls -1 "$tmp"/"$dep"_*.deb | head -1)
  rm -f "$CACHE"/debs/linux-image-*.deb
  mv "$new" "$CACHE/debs/"
  rm -rf "$tmp"
  KDEB=$CACHE/debs/$(basename "$new")
fi

# ---------------------------------------------------------------- cache key
IPT_FLAVOUR=${KPC_VM_IPTABLES:-}
if [[ -z "$IPT_FLAVOUR" ]]; then
  case $(readlink -f /usr/sbin/iptables 2>/dev/null) in
    *legacy*) IPT_FLAVOUR=legacy ;;
    *) IPT_FLAVOUR=nft ;;
  esac
fi
[[ $IPT_FLAVOUR == nft || $IPT_FLAVOUR == legacy ]] || die "KPC_VM_IPTABLES must be nft or legacy"
KEY=$( {
  cat "$HERE/build-vm.sh" "$HERE/init.sh" "$HERE/kpc-echo.c"
  basename "$KDEB"
  echo "iptables=$IPT_FLAVOUR"
  dpkg-query -W -f='${Package}=${Version}\n' busybox-static ipvsadm ipset iptables iproute2 kmod \
    nftables conntrack libc6 gcc 2>/dev/null
} | sha256sum | cut -c1-16)
IMG=$CACHE/img-$KEY
if [[ -f "$IMG/ok" ]]; then
  touch "$IMG/ok"
  log "cached image $IMG ($(elapsed))"
  echo "$IMG"
  exit 0
fi

# ------------------------------------------------------------------- build
log "building image $IMG"
W=$(mktemp -d "$CACHE/build.XXXXXX")
trap '[[ "${KPC_VM_KEEP_BUILD:-0}" == 1 ]] || rm -rf "$W"' EXIT
K=$W/k     # extracted kernel package
R=$W/root  # initramfs root
OUT=$W/out
mkdir -p "$K" "$R" "$OUT"
dpkg-deb -x "$KDEB" "$K"
KV=$(ls -1 "$K/lib/modules" | head -1)
[[ -n "$KV" && -f "$K/boot/vmlinuz-$KV" ]] || die "unexpected kernel package layout in $KDEB"
log "kernel $KV"

# Kernel for qemu: the vmlinux ELF inside the bzImage if it can be booted
# through its PVH entry (XEN_ELFNOTE_PHYS32_ENTRY, note type 0x12).
VMLINUZ=$K/boot/vmlinuz-$KV
extract_vmlinux() {
  local off
  for off in $(grep -abo $'\xfd7zXZ\x00' "$VMLINUZ" | cut -d: -f1); do
    tail -c +$((off + 1)) "$VMLINUZ" | xz -dc 2>/dev/null >"$OUT/vmlinux" || true
    if readelf -h "$OUT/vmlinux" >/dev/null 2>&1; then return 0; fi
  done
  for off in $(grep -abo $'\x1f\x8b\x08' "$VMLINUZ" | cut -d: -f1); do
    tail -c +$((off + 1)) "$VMLINUZ" | gzip -dc 2>/dev/null >"$OUT/vmlinux" || true
    if readelf -h "$OUT/vmlinux" >/dev/null 2>&1; then return 0; fi
  done
  for off in $(grep -abo $'\x28\xb5\x2f\xfd' "$VMLINUZ" | cut -d: -f1); do
    tail -c +$((off + 1)) "$VMLINUZ" | zstd -dcq 2>/dev/null >"$OUT/vmlinux" || true
    if readelf -h "$OUT/vmlinux" >/dev/null 2>&1; then return 0; fi
  done
  return 1
}
if extract_vmlinux && readelf -n "$OUT/vmlinux" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
  mv "$OUT/vmlinux" "$OUT/kernel"
  KERNEL_KIND="vmlinux ELF, PVH entry"
else
  rm -f "$OUT/vmlinux"
  cp "$VMLINUZ" "$OUT/kernel"
  KERNEL_KIND="bzImage"
fi
log "kernel for qemu: $KERNEL_KIND ($(elapsed))"

# usrmerged layout, like the host.
mkdir -p "$R"/usr/{bin,sbin,lib,lib64} "$R"/{proc,sys,dev,run,tmp,etc,root,work,var/lib}
ln -s usr/bin "$R/bin"
ln -s usr/sbin "$R/sbin"
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"
chmod 1777 "$R/tmp"

# Copies a host file into $R at its real directory (symlinks in the
# directory part resolved, e.g. /lib -> /usr/lib), file content dereferenced.
put() {
  local src=$1 dir
  dir=$(readlink -f "$(dirname "$src")")
  mkdir -p "$R$dir"
  [[ -e "$R$dir/$(basename "$src")" ]] || cp -L "$src" "$R$dir/$(basename "$src")"
}
# Copies the shared libraries an ELF file needs (and the loader).
put_libs() {
  local f lib
  ldd "$1" 2>/dev/null | grep -oE '(/[^ ]+)' | while read -r lib; do
    [[ -e "$lib" ]] && put "$lib"
  done || true
}
# A host binary with its libraries.
put_bin() {
  local b=$1
  [[ -x "$b" ]] || die "missing host binary $b"
  put "$b"
  put_libs "$b"
}

# Busybox first (static), its applet links are added last, only where no
# real tool was installed.
BUSYBOX=$(readlink -f "$(command -v busybox || echo /bin/busybox)")
[[ -x "$BUSYBOX" ]] || die "no busybox"
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is not static (busybox-static package?)"; fi
cp "$BUSYBOX" "$R/usr/bin/busybox"

# Real tools.
for b in /usr/sbin/ipvsadm /usr/sbin/ipset /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi \
         /usr/sbin/nft /usr/sbin/conntrack /usr/bin/kmod; do
  put_bin "$b"
done
# Shells and the tools that run other programs. Debian's busybox-static
# prefers its own applets (FEATURE_PREFER_APPLETS): its sh, and its env,
# timeout, nsenter, xargs... would run busybox's `ip`, `modprobe` instead of
# iproute2's and kmod's. So /bin/sh is dash and those come from the host.
for b in dash bash timeout env nice nohup chroot nsenter unshare setsid taskset flock find xargs; do
  put_bin "$(readlink -f "$(command -v "$b")")"
done
ln -s dash "$R/usr/bin/sh"
IPBIN=$(readlink -f "$(command -v ip)")
SSBIN=$(readlink -f "$(command -v ss)")
put_bin "$IPBIN"
put_bin "$SSBIN"
[[ -e "$R/usr/sbin/ip" || -e "$R/usr/bin/ip" ]] || die "ip not copied"
# iptables extensions (dlopen()ed, so not in ldd's output).
XTDIR=$(dirname "$(ls -1 /usr/lib/*/xtables/libxt_mark.so | head -1)")
[[ -d "$XTDIR" ]] || die "no xtables extension directory"
mkdir -p "$R$XTDIR"
cp -a "$XTDIR/." "$R$XTDIR/"
for so in "$XTDIR"/*.so; do put_libs "$so"; done

# iptables / ip6tables / *-save / *-restore names.
for fam in iptables ip6tables; do
  for suffix in "" -save -restore; do
    ln -sf xtables-nft-multi "$R/usr/sbin/$fam-nft$suffix"
    ln -sf xtables-legacy-multi "$R/usr/sbin/$fam-legacy$suffix"
    ln -sf "xtables-$IPT_FLAVOUR-multi" "$R/usr/sbin/$fam$suffix"
  done
done
ln -sf xtables-nft-multi "$R/usr/sbin/iptables-restore-translate"
ln -sf xtables-nft-multi "$R/usr/sbin/iptables-translate"
for t in modprobe insmod rmmod lsmod modinfo depmod; do ln -sf ../bin/kmod "$R/usr/sbin/$t"; done

# kpc-echo (static).
gcc -static -O2 -Wall -o "$R/usr/bin/kpc-echo" "$HERE/kpc-echo.c" >&2 || die "cannot build kpc-echo"
strip "$R/usr/bin/kpc-echo"

# Busybox applet links where nothing real is.
"$R/usr/bin/busybox" --list-full | while read -r a; do
  case $a in
    bin/*) t=usr/$a ;;
    sbin/*) t=usr/$a ;;
    *) t=$a ;;
  esac
  [[ -e "$R/$t" || -L "$R/$t" ]] && continue
  # An applet whose name a real tool has elsewhere in PATH (e.g. ip, modprobe).
  n=$(basename "$t")
  [[ -e "$R/usr/sbin/$n" || -e "$R/usr/bin/$n" ]] && continue
  mkdir -p "$R/$(dirname "$t")"
  ln -s /usr/bin/busybox "$R/$t"
done

# /etc.
for f in /etc/protocols /etc/services /etc/ethertypes /etc/rpc; do
  [[ -f "$f" ]] && cp -L "$f" "$R/etc/"
done
for d in /etc/iproute2 /usr/share/iproute2 /usr/lib/iproute2; do
  [[ -d "$d" ]] && mkdir -p "$R$d" && cp -a "$d/." "$R$d/"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
echo "root:x:0:" >"$R/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files\nprotocols: files\nservices: files\n' >"$R/etc/nsswitch.conf"
printf '127.0.0.1 localhost kpc-vm\n::1 localhost ip6-localhost\n' >"$R/etc/hosts"
echo kpc-vm >"$R/etc/hostname"
mkdir -p "$R/etc/modprobe.d" "$R/etc/iptables"

# ----------------------------------------------------------------- modules
# The modules kube-proxy's iptables / IPVS / nftables modes use, and more:
# every netfilter, ip(6)tables, nftables, ipset and IPVS module, plus
# interfaces and protocols the test topologies need. Dependencies are
# resolved with modprobe --show-depends against the package's tree after
# depmod, and depmod runs again on the copied subset.
MODDIR=lib/modules/$KV
depmod -b "$K" "$KV"
WANT_DIRS=(kernel/net/netfilter kernel/net/ipv4/netfilter kernel/net/ipv6/netfilter
           kernel/net/bridge/netfilter kernel/net/sctp)
WANT_MODS=(ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh
           ip_vs_sed ip_vs_nq ip_vs_mh ip_vs_fo ip_vs_ovf
           nf_conntrack nf_nat nf_defrag_ipv4 nf_defrag_ipv6 nf_tables nft_compat nft_chain_nat
           nft_ct nft_nat nft_masq nft_reject_inet nft_reject_ipv4 nft_fib_inet nft_numgen
           ip_tables iptable_nat iptable_filter iptable_mangle iptable_raw ip6_tables ip6table_nat
           ip6table_filter ip6table_mangle
           xt_nat xt_MASQUERADE xt_mark xt_comment xt_conntrack xt_addrtype xt_set xt_statistic
           xt_recent xt_multiport ipt_REJECT ip6t_REJECT xt_tcpudp xt_physdev xt_ipvs
           ip_set ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet
           ip_set_hash_net ip_set_bitmap_port ip_set_list_set
           veth dummy bridge br_netfilter ipip ip6_tunnel tun macvlan sctp
           nf_conntrack_netlink nfnetlink_queue inet_diag tcp_diag udp_diag sctp_diag raw_diag)
want=()
for d in "${WANT_DIRS[@]}"; do
  [[ -d "$K/$MODDIR/$d" ]] || continue
  while read -r f; do want+=("$(basename "$f" .ko)"); done < <(find "$K/$MODDIR/$d" -name '*.ko' | sort)
done
want+=("${WANT_MODS[@]}")
missing_mods=()
: >"$W/modlist"
for m in "${want[@]}"; do
  if ! modprobe -d "$K" -S "$KV" --show-depends "$m" >>"$W/modlist" 2>/dev/null; then
    missing_mods+=("$m")
  fi
done
((${#missing_mods[@]})) && log "modules not in this kernel (skipped): ${missing_mods[*]}"
nmods=0
while read -r kind path _; do
  [[ $kind == insmod ]] || continue
  rel=${path#"$K/"}
  rel=${rel#/}
  [[ -e "$R/usr/$rel" ]] && continue
  mkdir -p "$R/usr/$(dirname "$rel")"
  cp "$path" "$R/usr/$rel"
  nmods=$((nmods + 1))
done < <(sort -u "$W/modlist")
for f in modules.order modules.builtin modules.builtin.modinfo; do
  [[ -f "$K/$MODDIR/$f" ]] && cp "$K/$MODDIR/$f" "$R/usr/$MODDIR/"
done
depmod -b "$R" "$KV"
for m in ip_vs ip_vs_rr ip_vs_mh nf_conntrack nft_compat xt_set ip_set_hash_ipport veth dummy; do
  modprobe -d "$R" -S "$KV" --show-depends "$m" >/dev/null 2>&1 || die "module $m missing from the image"
done
log "$nmods modules ($(elapsed))"

# ------------------------------------------------------------------- /init
cp "$HERE/init.sh" "$R/init"
chmod 755 "$R/init"

# Sanity: every dynamic ELF in the image finds its libraries, and the tools
# run (in a chroot; ipvsadm needs the kernel part to print anything).
while read -r f; do
  readelf -l "$f" 2>/dev/null | grep -q 'Requesting program interpreter' || continue
  out=$(chroot "$R" /lib64/ld-linux-x86-64.so.2 --list "${f#"$R"}" 2>&1) || die "$f: $out"
  [[ $out != *"not found"* ]] || die "$f: $out"
done < <(find "$R/usr/bin" "$R/usr/sbin" "$R$XTDIR" -type f)
if ! chroot "$R" /bin/sh -c '
  set -e
  [ -x /usr/bin/kpc-echo ]
  ipset --version; iptables --version; iptables-restore --version; ip6tables --version
  iptables-legacy --version; nft --version; ip -V; modprobe --version; conntrack --version
  bash --version | head -1; timeout --version | head -1
' >/dev/null 2>&1; then
  die "the image's tools do not run in a chroot"
fi

(cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) \
  | gzip -1 >"$OUT/initramfs.img"
echo "$KV" >"$OUT/kernel-version"
{
  echo "kernel_version=$KV"
  echo "kernel_package=$(basename "$KDEB")"
  echo "kernel_kind=$KERNEL_KIND"
  echo "iptables=$IPT_FLAVOUR ($(chroot "$R" /usr/sbin/iptables --version))"
  echo "ipvsadm=$(dpkg-query -W -f='${Version}' ipvsadm)"
  echo "ipset=$(chroot "$R" /usr/sbin/ipset --version | head -1)"
  echo "modules=$nmods"
  echo "initramfs_bytes=$(stat -c %s "$OUT/initramfs.img")"
  echo "kernel_bytes=$(stat -c %s "$OUT/kernel")"
  echo "build_ms=$(elapsed)"
} >"$OUT/info"
touch "$OUT/ok"
rm -rf "$IMG"
mv "$OUT" "$IMG"

# Keep the 3 newest images.
ls -1dt "$CACHE"/img-* 2>/dev/null | tail -n +4 | while read -r old; do rm -rf "$old"; done

log "built $IMG in $(elapsed)"
sed 's/^/build-vm:   /' "$IMG/info" >&2
echo "$IMG"
