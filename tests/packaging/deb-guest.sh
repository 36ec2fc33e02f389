#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# the real thing: a QEMU guest booting Debian bookworm with systemd as PID 1 (the image is
# built once and cached, tests/packaging/guest-image.sh) installs the package, starts the
# service against its own Prosody and checks it (tests/packaging/guest/guest-test.sh). The
# guest has no network; the package and the script come over 9p, the results over the
# serial console.
# shellcheck source=tests/packaging/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
pkg_require

if [[ $(dpkg --print-architecture) != amd64 ]]; then
	echo "skipped: the guest is an amd64 machine"
	exit 77
fi
pkg_build_native || {
	pkg_fail "the package did not build"
	pkg_finish
}
deb=$pkg_deb_dir/amd64/kith_$(pkg_version)_amd64.deb

start=$SECONDS
if ! image=$("$pkg_root/tests/packaging/guest-image.sh" "$pkg_cache" "$deb"); then
	pkg_fail "the guest image could not be built"
	pkg_finish
fi
pkg_ok "guest image $image ($((SECONDS - start)) s, cached)"

share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT
cp "$deb" "$pkg_root/tests/packaging/guest/guest-test.sh" "$share/"
# TCG: KVM is not there on every builder (and nested KVM refuses QEMU's CPU models on some)
accel=(-accel tcg)
start=$SECONDS
log=$pkg_cache/guest-console.log
# -snapshot: the guest writes to a throw-away overlay; the cached image stays as built
timeout 600 qemu-system-x86_64 "${accel[@]}" -M pc -cpu max -smp 2 -m 1024 \
	-nodefaults -display none -no-reboot -monitor none -serial stdio -snapshot \
	-drive "file=$image/rootfs.img,format=raw,if=virtio" \
	-kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
	-append "root=/dev/vda rw console=ttyS0 quiet loglevel=3 systemd.show_status=false panic=-1" \
	-virtfs "local,path=$share,mount_tag=share,security_model=none,id=share" \
	</dev/null 2>&1 | tr -d '\r' | tee "$log" | grep -E '^(ok|not ok) - |^SUMMARY: |^DEVICE|^sim-'
pkg_ok "guest ran for $((SECONDS - start)) s (${accel[1]})"
cp "$share/journal.txt" "$pkg_cache/guest-journal.txt" 2>/dev/null
summary=$(grep -a '^SUMMARY: ' "$log" | tail -1)
if [[ $summary =~ ^SUMMARY:\ ([0-9]+)\ passed,\ 0\ failed$ ]] && ((BASH_REMATCH[1] > 0)); then
	pkg_ok "guest: ${summary#SUMMARY: }"
else
	pkg_fail "guest: ${summary:-no summary (console in $log, journal in $pkg_cache/guest-journal.txt)}"
	tail -40 "$log"
fi
pkg_finish
