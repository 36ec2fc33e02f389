#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# the package cross-built for arm64 (Raspberry Pi OS 64-bit) with its unit tests run under
# qemu-user, lintian-clean; its kithd and kithctl start under qemu-aarch64-static and serve
# the sim devices against a Prosody on this machine
# shellcheck source=tests/packaging/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
pkg_require

version=$(pkg_version)
dir=$pkg_deb_dir/arm64
start=$SECONDS
if "$pkg_root/packaging/build-deb.sh" --arch arm64 --out "$pkg_deb_dir" --install-deps; then
	pkg_ok "kith $version cross-built for arm64 and lintian-clean ($((SECONDS - start)) s)"
else
	pkg_fail "the arm64 build or lintian (see above)"
	pkg_finish
fi
deb=$dir/kith_${version}_arm64.deb
pkg_ok "$(basename "$deb"): $(stat -c %s "$deb") bytes"
# meson's summary of the unit suite run through qemu-user in the build
ran=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$dir/build.log" | tail -1)
skipped=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$dir/build.log" | tail -1)
pkg_check "the unit tests ran under qemu-user in the build (${ran:-0} ok, ${skipped:-?} skipped)" \
	test "${ran:-0}" -gt 0 -a "${skipped:-1}" = 0

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
dpkg-deb -x "$deb" "$tree"
pkg_check "kithd and kithctl are AArch64 programs" \
	bash -c "readelf -h '$tree/usr/sbin/kithd' | grep -q AArch64 &&
		readelf -h '$tree/usr/bin/kithctl' | grep -q AArch64"
qemu=(qemu-aarch64-static)
pkg_check "kithd --version under qemu-aarch64-static is the package version" \
	test "$("${qemu[@]}" "$tree/usr/sbin/kithd" --version)" = "kithd $version"
pkg_check "kithctl --version under qemu-aarch64-static" \
	test "$("${qemu[@]}" "$tree/usr/bin/kithctl" --version)" = "kithctl $version"
pkg_check "kithd --check-config accepts the shipped configuration" \
	"${qemu[@]}" "$tree/usr/sbin/kithd" --check-config --config "$tree/etc/kith/kith.conf"
/usr/bin/python3 "$pkg_root/tests/packaging/run-service.py" --kithd "$tree/usr/sbin/kithd" \
	--kithctl "$tree/usr/bin/kithctl" --wrapper qemu-aarch64-static --timeout 60 ||
	pkg_fail "the arm64 kithd against Prosody"
pkg_finish
