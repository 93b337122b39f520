#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# build.sh OUTDIR: the integration tests' QEMU guest.
#   OUTDIR/vmlinuz     Debian's cloud kernel (the package linux-image-cloud-amd64
#                      depends on: downloaded, unpacked, never installed)
#   OUTDIR/initrd.img  gzip'ed newc cpio: a static busybox, /init (this
#                      directory's init), the virtio-net modules of that
#                      kernel, /bin/vmq-guest-send (sender.c) and
#                      /bin/vmq-guest-recv (receiver.c), linked static
# Up to date (the stamp holds a hash of the sources here): prints so and
# does nothing, without the network. Installs the Debian packages it needs
# (qemu-system-x86 to run the guest; busybox-static, cpio, xz-utils, gcc,
# libc6-dev to build it) when they are missing. The guest's parameters:
# see init.
set -Eeuo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
CC=${CC:-gcc}
PKGS=(qemu-system-x86 busybox-static cpio xz-utils gcc libc6-dev)
META=linux-image-cloud-amd64
# Load order: each needs the ones before it.
MODS=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover
	net_failover virtio_net)

log() { printf '  %-8s %s\n' GUEST "$*"; }
die() {
	printf 'build.sh: %s\n' "$*" >&2
	exit 1
}

mkdir -p "$out"
out=$(cd "$out" && pwd)
hash=$(cat "$here/build.sh" "$here/init" "$here/sender.c" "$here/receiver.c" | sha256sum | cut -d' ' -f1)
if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] && [ -f "$out/stamp" ] &&
	[ "$(head -n 1 "$out/stamp")" = "$hash" ]; then
	log "$out up to date ($(sed -n 2p "$out/stamp"))"
	exit 0
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]} (root installs them)"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The kernel package: kept in OUTDIR/pkg, downloaded once.
mkdir -p "$out/pkg"
shopt -s nullglob
debs=("$out"/pkg/linux-image-*.deb)
if [ "${#debs[@]}" -eq 0 ]; then
	kpkg=$(apt-cache depends "$META" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	if [ -z "$kpkg" ]; then
		apt-get update -q >/dev/null
		kpkg=$(apt-cache depends "$META" | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	fi
	[ -n "$kpkg" ] || die "cannot resolve the kernel package $META depends on"
	log "downloading $kpkg"
	# apt's sandbox user may not write OUTDIR: download in a directory of its own.
	dl=$(mktemp -d)
	chmod 755 "$dl"
	(cd "$dl" && apt-get download -q "$kpkg" >/dev/null 2>&1) ||
		{ rm -rf "$dl"; die "apt-get download $kpkg failed"; }
	mv "$dl"/*.deb "$out/pkg/"
	rmdir "$dl"
	debs=("$out"/pkg/linux-image-*.deb)
fi
[ "${#debs[@]}" -eq 1 ] || die "expected one kernel package in $out/pkg, found ${#debs[@]}"
deb=${debs[0]}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/k"
kernels=("$work"/k/boot/vmlinuz-*)
[ "${#kernels[@]}" -eq 1 ] || die "$(basename "$deb"): expected one boot/vmlinuz-*"

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,lib/modules}
install -m 0755 /bin/busybox "$root/bin/busybox"
if ldd /bin/busybox >/dev/null 2>&1; then
	die "/bin/busybox is dynamically linked (busybox-static provides the static one)"
fi
install -m 0755 "$here/init" "$root/init"
for m in "${MODS[@]}"; do
	ko=$(find "$work/k/lib/modules" -name "$m.ko" -o -name "$m.ko.xz" | head -n 1)
	[ -n "$ko" ] || die "module $m not in $(basename "$deb")"
	case $ko in
	*.xz) xz -dc "$ko" >"$root/lib/modules/$m.ko" ;;
	*) cp "$ko" "$root/lib/modules/$m.ko" ;;
	esac
done
"$CC" -static -O2 -Wall -Wextra -Werror -o "$root/bin/vmq-guest-send" "$here/sender.c"
strip "$root/bin/vmq-guest-send"
"$CC" -static -O2 -Wall -Wextra -Werror -o "$root/bin/vmq-guest-recv" "$here/receiver.c"
strip "$root/bin/vmq-guest-recv"

(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) |
	gzip -9 >"$work/initrd.img"
cp "${kernels[0]}" "$work/vmlinuz"
mv "$work/vmlinuz" "$out/vmlinuz"
mv "$work/initrd.img" "$out/initrd.img"
printf '%s\n%s\n' "$hash" "$(basename "$deb")" >"$out/stamp"
log "$out/vmlinuz, $out/initrd.img ($(basename "$deb"))"
