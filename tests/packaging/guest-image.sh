#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# the guest the package is tested in: Debian bookworm bootstrapped with mmdebstrap (systemd as
# PID 1, the Debian kernel, Prosody, and the libraries the package depends on, so that
# `apt install ./kith_*.deb` needs no network), as an ext4 image plus its kernel and initrd.
# Built once and cached: the cache key covers this script, the guest's files and the
# package's dependencies.
#
# usage: tests/packaging/guest-image.sh CACHE_DIR DEB
# prints the directory holding rootfs.img, vmlinuz and initrd.img
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=$1
deb=$2

# the package's Depends, first alternatives, without versions
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' |
	grep -v '^$' | sort -u | tr '\n' ',')
packages="systemd-sysv,udev,kmod,linux-image-amd64,initramfs-tools,prosody,${depends%,}"
key=$( (cat "$0" "$here"/guest/prosody.cfg.lua "$here"/guest/kith-guest-test.service
	echo "$packages") | sha256sum | cut -c1-16)
dir=$cache/guest-$key
if [[ -f $dir/rootfs.img && -f $dir/vmlinuz && -f $dir/initrd.img ]]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache"
# older images are of no use any more
rm -rf "$cache"/guest-*
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

# the host's own sources: the same archive and versions the package was built against
sources=/etc/apt/sources.list.d/debian.sources
[[ -f $sources ]] || sources=/etc/apt/sources.list
start=$SECONDS
# the initrd only needs to find the root disk
# shellcheck disable=SC2016
mmdebstrap --variant=minbase --include="$packages" \
	--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" &&
		echo MODULES=list >"$1/etc/initramfs-tools/conf.d/kith-guest.conf" &&
		printf "virtio_pci\nvirtio_blk\next4\n" >>"$1/etc/initramfs-tools/modules"' \
	--customize-hook="cp '$here/guest/prosody.cfg.lua' \"\$1/etc/prosody/prosody.cfg.lua\"" \
	--customize-hook="cp '$here/guest/kith-guest-test.service' \"\$1/etc/systemd/system/\"" \
	--customize-hook='chroot "$1" systemctl enable kith-guest-test.service' \
	--customize-hook='chroot "$1" systemctl mask serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service' \
	--customize-hook='echo kith-guest >"$1/etc/hostname"; : >"$1/etc/fstab"; rm -f "$1/etc/machine-id"; : >"$1/etc/machine-id"' \
	bookworm "$root" "$sources" </dev/null
echo "bootstrapped in $((SECONDS - start)) s" >&2

cp "$root"/boot/vmlinuz-* "$work/vmlinuz"
cp "$root"/boot/initrd.img-* "$work/initrd.img"
# the modules the guest never loads (graphics, sound, wireless, ...) would only make the
# image bigger
modules=$(echo "$root"/lib/modules/*/kernel)
rm -rf "$modules"/drivers/{gpu,media,net/wireless,infiniband,staging,scsi,isdn,bluetooth} \
	"$modules"/sound "$modules"/net/{wireless,mac80211,bluetooth}
size=$(($(du -sm "$root" | cut -f1) + 300))
mkfs.ext4 -q -L kith-guest -d "$root" "$work/rootfs.img" "${size}M" >&2
mkdir -p "$dir"
mv "$work/rootfs.img" "$work/vmlinuz" "$work/initrd.img" "$dir/"
echo "image ${size} MB in $((SECONDS - start)) s" >&2
echo "$dir"
