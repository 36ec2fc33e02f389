#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Instructions per request of the protocol layer (parse, decide, build the answer, serialise),
# counted by callgrind: repeatable on a shared, noisy machine. Usage: bench/callgrind.sh [build]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build}
meson compile -C "$build" bench-protocol >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
instructions() { # $1 request kind, $2 count
	valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$build/bench/bench-protocol" "$1" "$2" \
		2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '| request | instructions per request |\n|---|---|\n'
for kind in readout control ping chat; do
	# the difference between 1100 and 100 requests removes start-up costs
	a=$(instructions "$kind" 100)
	b=$(instructions "$kind" 1100)
	printf '| %s | %d |\n' "$kind" $(( (b - a) / 1000 ))
done
