# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
#
# shared by the packaging tests (tests/packaging/*.sh); source it. Each test prints
# `ok - ...` / `not ok - ...` lines and exits 0 only if all its checks passed; 77 (meson's
# skip) when it may not run here, saying why.

set -uo pipefail

pkg_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# where the packages and the guest image go (meson passes its build directory's)
pkg_deb_dir=${KITH_DEB_DIR:-$pkg_root/build/deb}
pkg_cache=${KITH_PACKAGING_CACHE:-$pkg_root/build/packaging-cache}
pkg_failed=0

pkg_ok() { printf 'ok - %s\n' "$*"; }
pkg_fail() {
	printf 'not ok - %s\n' "$*"
	pkg_failed=1
}
# usage: pkg_check DESCRIPTION COMMAND...
pkg_check() {
	local what=$1
	shift
	if "$@"; then pkg_ok "$what"; else pkg_fail "$what"; fi
}
pkg_finish() {
	exit "$pkg_failed"
}

# the tier changes the machine (installs the package, adds arm64): it runs when asked
# (scripts/test.sh asks in its normal build), as root
pkg_require() {
	if [[ ${KITH_PACKAGING:-0} != 1 ]]; then
		echo "skipped: the packaging tier installs packages on this machine; KITH_PACKAGING=1 runs it (scripts/test.sh does)"
		exit 77
	fi
	if ((EUID != 0)); then
		echo "skipped: the packaging tier needs root (apt-get, dpkg, a system user)"
		exit 77
	fi
}

# the native package of this tree, built unless it is up to date
pkg_build_native() {
	"$pkg_root/packaging/build-deb.sh" --out "$pkg_deb_dir" --install-deps
}

pkg_version() {
	dpkg-parsechangelog -l "$pkg_root/packaging/debian/changelog" -SVersion
}

pkg_apt() {
	env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 "$@"
}
