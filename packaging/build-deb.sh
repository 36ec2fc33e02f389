#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# builds the Debian package from this tree: stages a copy of the tracked (and untracked, not
# ignored) files with packaging/debian as debian/, runs dpkg-buildpackage there, then lintian.
#
# usage: packaging/build-deb.sh [--arch ARCH] [--out DIR] [--install-deps] [--force]
#   --arch ARCH     a Debian architecture (default: this machine's); another one is
#                   cross-built, its unit tests run through qemu-user when qemu-ARCH-static
#                   is there
#   --out DIR       where the packages go (default build/deb): DIR/ARCH/kith_*.deb
#   --install-deps  as root: install the build dependencies (for ARCH) with apt-get build-dep
#   --force         build even if DIR/ARCH holds packages of exactly this tree
# the last line says where the packages are; exit status 0 only if the build and lintian
# (errors and warnings) passed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arch=$(dpkg --print-architecture)
out=$root/build/deb
install_deps=0
force=0
while (($#)); do
	case $1 in
	--arch) arch=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--install-deps) install_deps=1; shift ;;
	--force) force=1; shift ;;
	*) echo "usage: $0 [--arch ARCH] [--out DIR] [--install-deps] [--force]" >&2; exit 2 ;;
	esac
done
out=$(mkdir -p "$out" && cd "$out" && pwd)
native=$(dpkg --print-architecture)
version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -SVersion)
dir=$out/$arch
stage=$dir/kith-$version

# the staged tree, byte for byte, decides whether a build is needed again
mkdir -p "$dir"
rm -rf "$stage"
mkdir -p "$stage"
(cd "$root" && git ls-files -z -co --exclude-standard) |
	(cd "$root" && tar --null -T - -cf -) | tar -x -C "$stage"
rm -rf "$stage/debian"
cp -a "$root/packaging/debian" "$stage/debian"
stamp=$( (cd "$stage" && find . -type f -print0 | LC_ALL=C sort -z |
	xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)
if ((!force)) && [[ -f $dir/stamp && $(cat "$dir/stamp") == "$stamp" ]] &&
	compgen -G "$dir/kith_${version}_$arch.deb" >/dev/null; then
	echo "up to date: $dir/kith_${version}_$arch.deb"
	exit 0
fi
rm -f "$dir"/*.deb "$dir"/*.changes "$dir"/*.buildinfo "$dir/stamp"

if ((install_deps)); then
	if [[ $arch != "$native" ]] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		dpkg --add-architecture "$arch"
		apt-get -q -o DPkg::Lock::Timeout=300 update
	fi
	(cd "$stage" && env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 \
		build-dep -y --no-install-recommends ${arch:+-a "$arch"} ./)
fi

options=(-us -uc -b)
build_options=${DEB_BUILD_OPTIONS:-}
if [[ $arch != "$native" ]]; then
	options+=(-a "$arch" -Pcross)
	cpu=$(dpkg-architecture -a "$arch" -qDEB_HOST_GNU_CPU 2>/dev/null)
	if command -v "qemu-$cpu-static" >/dev/null; then
		build_options="$build_options crossbuildcanrunhostbinaries"
	fi
fi
echo "building kith $version for $arch in $stage"
(cd "$stage" && DEB_BUILD_OPTIONS="${build_options# }" dpkg-buildpackage "${options[@]}") 2>&1 |
	tee "$dir/build.log"
changes=$dir/kith_${version}_$arch.changes
lintian --fail-on error,warning --display-info "$changes"
echo "$stamp" >"$dir/stamp"
echo "built: $dir/kith_${version}_$arch.deb"
