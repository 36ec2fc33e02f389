# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
#
# helpers shared by scripts/test.sh and scripts/demo.sh; source it, do not run it.

# debian packages needed to build kithd and run it against a local prosody
# (both lists are used by the scripts that source this file)
# shellcheck disable=SC2034
KITH_BUILD_PACKAGES=(
	meson ninja-build pkg-config gcc libc6-dev
	libglib2.0-dev libstrophe-dev libsqlite3-dev libjson-glib-dev libqrencode-dev libpng-dev
	libmosquitto-dev libgpiod-dev libmodbus-dev
	prosody python3-slixmpp python3-lxml openssl ca-certificates
)
# the packaging tier (tests/packaging): building the .deb natively and for arm64 (its :arm64
# build dependencies come from `apt-get build-dep -a arm64`), running arm64 programs, the
# QEMU guest with systemd and the tools the checks use
# shellcheck disable=SC2034
KITH_PACKAGING_PACKAGES=(
	dpkg-dev debhelper lintian crossbuild-essential-arm64 qemu-user-static
	qemu-system-x86 mmdebstrap e2fsprogs procps util-linux systemd
)
# the fuzz tier (tests/fuzz): clang with its sanitizer runtimes and libFuzzer
# shellcheck disable=SC2034
KITH_FUZZ_PACKAGES=(clang libclang-rt-14-dev libfuzzer-14-dev)
# and on top of those, what the test suites use (ejabberd: a second real
# server for the component mode tests, run privately like prosody; the
# hardware tier, tests/hw: qemu, the guest's busybox and i2c-tools, and what
# building gpio-sim against debian's kernel headers needs: make, libelf1 for
# the kbuild tools, cpio and xz-utils. the kernel itself, its headers and
# source are fetched from debian's archive with apt-get download and cached
# in the build directory)
# shellcheck disable=SC2034
KITH_TEST_PACKAGES=(
	"${KITH_BUILD_PACKAGES[@]}"
	sqlite3 valgrind zbar-tools ejabberd mosquitto
	qemu-system-x86 busybox-static i2c-tools cpio xz-utils make libelf1
	python3-pymodbus python3-serial python3-serial-asyncio socat faketime
	"${KITH_PACKAGING_PACKAGES[@]}"
	"${KITH_FUZZ_PACKAGES[@]}"
)

kith_log() {
	printf '==> %s\n' "$*"
}

kith_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# the repository root, whatever the caller's working directory
kith_repo_root() {
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	printf '%s\n' "${here%/scripts}"
}

kith_package_installed() {
	local status
	status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
	[[ $status == installed ]]
}

# install the debian packages given as arguments that are not installed yet.
# as root: apt-get update + apt-get install; as another user with nothing
# missing: nothing to do; as another user with something missing: sudo -n if
# it works without a password, else say what to run and fail.
kith_ensure_packages() {
	local missing=() package sudo=()
	for package in "$@"; do
		kith_package_installed "$package" || missing+=("$package")
	done
	if ((${#missing[@]} == 0)); then
		kith_log "all ${#} debian packages present"
		return 0
	fi
	if ((EUID != 0)); then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			sudo=(sudo -n)
		else
			printf 'error: missing debian packages: %s\n' "${missing[*]}" >&2
			printf 'run as root: apt-get install --no-install-recommends %s\n' "${missing[*]}" >&2
			return 1
		fi
	fi
	kith_log "installing: ${missing[*]}"
	# services that come with a package (prosody, ejabberd, erlang's epmd)
	# must not start on install: the tests and the demo start their own on a
	# free port. invoke-rc.d and deb-systemd-invoke both ask policy-rc.d:
	# keep an existing one, else add one for the duration of the install.
	local policy=/usr/sbin/policy-rc.d added_policy=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null &&
			"${sudo[@]}" chmod 755 "$policy" && added_policy=1
	fi
	local rc=0
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update || rc=$?
	if ((rc == 0)); then
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get -q -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" || rc=$?
	fi
	if ((added_policy)); then
		"${sudo[@]}" rm -f "$policy"
	fi
	if ((rc != 0)); then
		printf 'error: apt-get failed (exit %d)\n' "$rc" >&2
		return 1
	fi
	return 0
}

# configure a meson build directory: reconfigure an existing one with these
# options, wipe it if that fails, set it up from scratch otherwise.
# usage: kith_meson_setup DIR [meson options...]
kith_meson_setup() {
	local dir=$1
	shift
	if [[ -f $dir/meson-private/coredata.dat ]]; then
		meson setup --reconfigure "$@" "$dir" ||
			meson setup --wipe "$@" "$dir"
	else
		# the leftovers of a setup that failed half way
		if [[ -d $dir/meson-private || -d $dir/meson-logs ]]; then
			rm -rf -- "$dir"
		fi
		meson setup "$@" "$dir"
	fi
}

# print a tcp port on 127.0.0.1 that is free right now
kith_free_port() {
	/usr/bin/python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# wait until something accepts connections on 127.0.0.1:PORT, or PID exits,
# or SECONDS pass. usage: kith_wait_port PORT PID SECONDS
kith_wait_port() {
	local port=$1 pid=$2 seconds=$3 i
	for ((i = 0; i < seconds * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
