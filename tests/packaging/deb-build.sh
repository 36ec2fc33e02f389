#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# the native package builds from this tree (its unit tests run in the build) and lintian
# finds no error or warning in it
# shellcheck source=tests/packaging/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
pkg_require

start=$SECONDS
if pkg_build_native; then
	pkg_ok "kith $(pkg_version) built and lintian-clean ($((SECONDS - start)) s)"
else
	pkg_fail "build or lintian (see above)"
fi
arch=$(dpkg --print-architecture)
deb=$pkg_deb_dir/$arch/kith_$(pkg_version)_$arch.deb
if [[ -f $deb ]]; then
	pkg_ok "$(basename "$deb"): $(stat -c %s "$deb") bytes"
	# every driver of the tree is built in
	for driver in $(awk -F"'" '/^option/ && $2 ~ /^driver_/ { print substr($2, 8) }' \
		"$pkg_root/meson_options.txt"); do
		pkg_check "driver $driver built in" \
			grep -q "bus drivers enabled:.*driver_$driver" "$pkg_deb_dir/$arch/build.log"
	done
fi
pkg_finish
