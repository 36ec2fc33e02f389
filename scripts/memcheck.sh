#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# runs the integration suite once with every kithd under valgrind memcheck
# and sorts what valgrind reported into kith's own (a frame of the stack in
# src/ or drivers/) and the libraries'.  not part of scripts/test.sh: under
# valgrind the suite takes about an hour on two cores.
#
# usage: scripts/memcheck.sh [meson test arguments, e.g. a test name]
# the reports stay in build-memcheck/memcheck/; exit status 0 only if kith's
# code has no error and no leak.

set -uo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(kith_repo_root)
cd "$root" || exit 1
dir=build-memcheck
reports=$root/$dir/memcheck

command -v valgrind >/dev/null || {
	echo "memcheck: valgrind is not installed (apt-get install valgrind)" >&2
	exit 1
}
kith_meson_setup "$dir" -Dbuildtype=debug -Db_sanitize=none || exit 1
meson compile -C "$dir" || exit 1
rm -rf -- "$reports"
mkdir -p -- "$reports"
# meson's timeouts stretch; the tests' own waits are generous enough
KITH_VALGRIND=$reports meson test -C "$dir" --suite integration \
	--timeout-multiplier 6 --print-errorlogs "$@"
/usr/bin/python3 "$root/scripts/memcheck-summary.py" "$reports"
