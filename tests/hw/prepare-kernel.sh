#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# prepares what the hardware tests boot: debian's own amd64 kernel (raw vmlinux,
# booted through its PVH note) and the modules the tests load: configfs,
# i2c-dev and i2c-stub as debian ships them, and gpio-sim, which debian's
# kernel does not build, built out of tree from debian's linux-source against
# the headers of the same ABI (see emulated-hardware.md in the shared docs).
#
# usage: prepare-kernel.sh CACHE_DIR
# prints the folder that holds vmlinux and modules/*.ko. everything comes
# from debian's archive (apt-get download) and is kept in CACHE_DIR: a
# second run with the same kernel ABI downloads and builds nothing.

set -euo pipefail

cache=$1
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

say() { printf 'prepare-kernel: %s\n' "$*" >&2; }

# the current ABI, the same for image and headers: debian drops old ABIs
# from the archive, so both are resolved from the same package lists
resolve() {
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
	kver=${kpkg#linux-image-}
}
resolve
if [[ -z ${kver:-} ]]; then
	# no package lists yet (a fresh machine): read them once
	if ((EUID == 0)); then
		apt-get -q -o DPkg::Lock::Timeout=300 update >&2
		resolve
	fi
fi
if [[ -z ${kver:-} ]]; then
	# offline with an earlier kernel in the cache: use it
	last=$(ls -1d "$cache"/*-amd64 2>/dev/null | tail -n1 || true)
	if [[ -n $last && -f $last/done ]]; then
		printf '%s\n' "$last"
		exit 0
	fi
	say "cannot resolve linux-image-amd64 (apt-cache depends found nothing)"
	exit 1
fi

# what the cache holds; a change here makes the next run prepare it again
recipe="$kver modules:configfs,i2c-dev,i2c-stub,gpio-sim,virtio-console"
out=$cache/$kver
if [[ -f $out/done && $(cat "$out/done") == "$recipe" ]]; then
	printf '%s\n' "$out"
	exit 0
fi

abi=${kver%-amd64}                # 6.1.0-57
series=${abi%%.0-*}               # 6.1
work=$cache/work-$kver
rm -rf -- "$work" "$out"
mkdir -p "$work/debs" "$out/modules"

packages=("linux-image-$kver" "linux-headers-$kver" "linux-headers-$abi-common"
	"linux-kbuild-$series" "linux-source-$series")
download() {
	(cd "$work/debs" && apt-get -q download "${packages[@]}" >&2)
}
say "downloading ${packages[*]}"
if ! download; then
	# package lists older than the archive: read them again and retry once
	if ((EUID == 0)); then
		apt-get -q -o DPkg::Lock::Timeout=300 update >&2
		resolve
		if [[ $kver != "${abi}-amd64" ]]; then
			say "the kernel ABI moved to $kver; run again"
			exit 1
		fi
	fi
	download
fi

say "unpacking"
root=$work/root
mkdir -p "$root"
for deb in "$work"/debs/*.deb; do
	case $deb in
	*linux-source-*) ;;
	*) dpkg-deb -x "$deb" "$root" ;;
	esac
done
# the source package is a 139 MB tarball: only three files are needed
dpkg-deb --fsys-tarfile "$work"/debs/linux-source-*.deb |
	tar -x -C "$work" --wildcards '*/linux-source-*.tar.xz'
tarball=$(find "$work" -name "linux-source-$series.tar.xz" | head -n1)
src=$work/gpio-sim
mkdir -p "$src"
tar -xJf "$tarball" -C "$src" --strip-components=3 \
	"linux-source-$series/drivers/gpio/gpio-sim.c" \
	"linux-source-$series/drivers/gpio/gpiolib.h"
tar -xJf "$tarball" -C "$src" --strip-components=3 \
	"linux-source-$series/kernel/irq/irq_sim.c"
mv "$src/gpio-sim.c" "$src/gpio-sim-main.c"
# irq_to_desc() is not exported to modules; generic_handle_irq() is, and
# calls the same handle_simple_irq that irq_sim installed
sed -i 's/handle_simple_irq(irq_to_desc(\([a-z_]*\)))/generic_handle_irq(\1)/' "$src/irq_sim.c"
grep -q 'generic_handle_irq(' "$src/irq_sim.c" || {
	say "irq_sim.c: the irq_to_desc patch did not apply"
	exit 1
}
printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' >"$src/Kbuild"

headers=$root/usr/src/linux-headers-$kver
# the headers' Makefile includes the common tree by its absolute path
sed -i "s|/usr/src/linux-headers-$abi-common|$root/usr/src/linux-headers-$abi-common|g" \
	"$headers/Makefile"
say "building gpio-sim.ko"
make -s -C "$headers" M="$src" modules >&2
strip --strip-debug "$src/gpio-sim.ko"

modules=$root/lib/modules/$kver/kernel
cp "$src/gpio-sim.ko" "$out/modules/"
# virtio-console: the host's channels into the guest (virtio-serial ports)
for module in fs/configfs/configfs.ko drivers/i2c/i2c-dev.ko drivers/i2c/i2c-stub.ko \
	drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko drivers/virtio/virtio_pci.ko \
	drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko \
	drivers/char/virtio_console.ko; do
	cp "$modules/$module" "$out/modules/"
done

# the raw vmlinux boots through PVH and saves decompressing xz in emulated code
vmlinuz=$root/boot/vmlinuz-$kver
offset=$(grep -abo $'\xfd7zXZ' "$vmlinuz" | head -n1 | cut -d: -f1)
tail -c +"$((offset + 1))" "$vmlinuz" | xz -dc >"$out/vmlinux" 2>/dev/null || true
if [[ ! -s $out/vmlinux ]]; then
	say "could not unpack vmlinux from $vmlinuz"
	exit 1
fi
printf '%s\n' "$recipe" >"$out/done"
rm -rf -- "$work"
# earlier ABIs are of no further use
for old in "$cache"/*-amd64; do
	[[ $old == "$out" ]] || rm -rf -- "$old"
done
say "ready: $out"
printf '%s\n' "$out"
