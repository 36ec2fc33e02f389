#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# sets up and runs all tests.
#
# on a fresh debian 12 machine as root it installs what the build and the
# tests need from debian's archive; as another user it only checks that it
# is all there. then it builds twice and runs every meson test suite in each:
#   build/       the normal build, warnings are errors
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer; the
#                integration tests get kithd from meson, so they run this one
# and a third time with clang for the fuzz suite only:
#   build-fuzz/  -Dfuzzing=true: each libFuzzer harness of tests/fuzz runs
#                for fuzz_seconds (20), then its corpus and regressions once
# the last line it prints is `N passed, N failed` (`, N skipped` when
# anything skipped), counted over all builds; a setup or build step that
# breaks counts as one failure. exit status 0 only if nothing failed.
#
# environment: KITH_TEST_ARGS extra arguments for every `meson test` run
# (e.g. "--suite unit" or a test name); KITH_SKIP_ASAN=1 skips build-asan/,
# KITH_SKIP_FUZZ=1 skips build-fuzz/; KITH_PACKAGING=0 skips the packaging
# tier (tests/packaging), which the normal build runs (as root: it installs
# the package on this machine).

set -uo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(kith_repo_root)
cd "$root" || exit 1

failed_steps=()
testlogs=()

# usage: step NAME COMMAND...; runs it and records a failure by name
step() {
	local name=$1
	shift
	kith_log "$name"
	if "$@"; then
		return 0
	fi
	failed_steps+=("$name")
	return 1
}

finish() {
	local name
	for name in "${failed_steps[@]}"; do
		printf 'step failed: %s\n' "$name"
	done
	/usr/bin/python3 "$root/scripts/count-tests.py" \
		--failed "${#failed_steps[@]}" "${testlogs[@]}"
	exit $?
}

# usage: build_and_test DIR "SETUP OPTIONS" "TEST OPTIONS" [VAR=VALUE...]
# the variables are set for meson test only
build_and_test() {
	local dir=$1
	local -a setup_options test_args
	read -r -a setup_options <<<"$2"
	read -r -a test_args <<<"$3 ${KITH_TEST_ARGS:-}"
	shift 3

	# a testlog from an earlier run must not be counted again
	rm -f -- "$dir/meson-logs/testlog.json"
	step "$dir: meson setup" kith_meson_setup "$dir" "${setup_options[@]}" || return
	step "$dir: meson compile" meson compile -C "$dir" || return
	testlogs+=("$dir/meson-logs/testlog.json")
	kith_log "$dir: meson test"
	env "$@" meson test -C "$dir" --print-errorlogs "${test_args[@]}"
	local rc=$?
	# meson itself broke (not a test failing) if it left no log behind
	if ((rc != 0)) && [[ ! -s $dir/meson-logs/testlog.json ]]; then
		failed_steps+=("$dir: meson test exited $rc without a test log")
	fi
	return 0
}

# the failure line has to come out even if we are stopped half way
trap 'failed_steps+=("interrupted"); finish' INT TERM

if ! step "install debian packages" kith_ensure_packages "${KITH_TEST_PACKAGES[@]}"; then
	finish
fi

# the packaging tier (build the .deb, install it, arm64, the QEMU guest) runs once, here
build_and_test build "--werror" "" KITH_PACKAGING="${KITH_PACKAGING:-1}"

if [[ ${KITH_SKIP_ASAN:-0} != 1 ]]; then
	# no --werror here: gcc's sanitizer instrumentation brings false positives
	# (-Wmaybe-uninitialized, -Wstringop-overflow) that the plain build lacks.
	# the sanitized binary is slower, hence the timeout multiplier.
	build_and_test build-asan "-Db_sanitize=address,undefined -Db_lundef=false" \
		"--timeout-multiplier 3 --no-suite packaging" \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
fi

if [[ ${KITH_SKIP_FUZZ:-0} != 1 ]]; then
	# the sanitizers' options come with each test (tests/fuzz/meson.build)
	CC=clang build_and_test build-fuzz "-Dfuzzing=true" "--suite fuzz"
fi

finish
