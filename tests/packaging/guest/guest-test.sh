#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# inside the guest (systemd as PID 1, a Prosody on 127.0.0.1): installs the package the host
# shares in /mnt/share, runs the service and checks it; prints `ok - ...` lines and
# `SUMMARY: N passed, N failed`, copies the journal to the share, powers off
share=/mnt/share
passed=0
failed=0
ok() {
	echo "ok - $*"
	passed=$((passed + 1))
}
fail() {
	echo "not ok - $*"
	failed=$((failed + 1))
}
check() {
	what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
# usage: wait_for SECONDS COMMAND...
wait_for() {
	limit=$(($1 * 10))
	shift
	i=0
	while [ $i -lt $limit ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
finish() {
	journalctl -b --no-pager -o short-monotonic >"$share/journal.txt" 2>&1
	echo "SUMMARY: $passed passed, $failed failed"
	sync
	systemctl --no-block poweroff || echo o >/proc/sysrq-trigger
	exit 0
}
export DEBIAN_FRONTEND=noninteractive

check "systemd is PID 1" test "$(readlink /proc/1/exe)" = /usr/lib/systemd/systemd
check "prosody is running" wait_for 30 systemctl is-active -q prosody

deb=$(ls "$share"/kith_*.deb)
cp "$deb" /tmp/
start=$(date +%s)
if apt-get install -y -q --no-install-recommends "/tmp/$(basename "$deb")" >/tmp/apt.log 2>&1; then
	ok "apt install ./$(basename "$deb") ($(($(date +%s) - start)) s)"
else
	fail "apt install ./$(basename "$deb")"
	tail -20 /tmp/apt.log
	finish
fi
check "kith.service is enabled" systemctl is-enabled -q kith
check "a first install does not start kithd (it needs configuring)" \
	sh -c '! systemctl is-active -q kith'

cat >/etc/kith/conf.d/guest.conf <<'CONF'
[xmpp]
Server=127.0.0.1
Domain=localhost
Tls=disabled
Register=true

[bus:sim]
Driver=sim
Thermometers=2
Relays=1
CONF
start=$(date +%s%N)
if systemctl start kith; then
	ok "systemctl start kith returned after READY=1 ($((($(date +%s%N) - start) / 1000000)) ms)"
else
	fail "systemctl start kith"
	journalctl -b -u kith --no-pager | tail -30
	finish
fi
check "kith is active" systemctl is-active -q kith
status() { systemctl show -p StatusText --value kith; }
if wait_for 60 sh -c '[ "$(systemctl show -p StatusText --value kith)" = "3 devices: 3 online, 0 not answering" ]'; then
	ok "STATUS: $(status)"
else
	fail "STATUS: $(status)"
fi
pid=$(systemctl show -p MainPID --value kith)
check "kithd runs as kith" test "$(stat -c %U /proc/"$pid")" = kith
check "no capabilities, no new privileges, seccomp" \
	sh -c "grep -q '^CapEff:.*0000000000000000' /proc/$pid/status &&
		grep -q '^NoNewPrivs:.*1' /proc/$pid/status && grep -q '^Seccomp:.*2' /proc/$pid/status"
check "the watchdog is on (WatchdogSec=60s)" test "$(systemctl show -p WatchdogUSec --value kith)" = 1min

devices=$(kithctl devices 2>&1)
echo "$devices"
for device in sim-thermometer-1 sim-thermometer-2 sim-relay-1; do
	check "kithctl devices: $device online" \
		sh -c "echo '$devices' | grep -q '^$device .*@localhost .* online '"
done
useradd -M -G kith reader && useradd -M stranger
check "a member of group kith reads" sh -c 'runuser -u reader -- kithctl status | grep -q "3 online"'
check "a member of group kith may not reload" \
	sh -c 'runuser -u reader -- kithctl reload 2>&1 | grep -q "permission denied"'
check "anybody else is told what is needed" \
	sh -c 'runuser -u stranger -- kithctl devices 2>&1 | grep -q "needs root or membership in group kith"'

check "systemctl reload kith" systemctl reload kith
check "reloaded, same process" \
	wait_for 10 sh -c "journalctl -b -u kith --no-pager | grep -q 'reloaded: ' &&
		[ \$(systemctl show -p MainPID --value kith) = $pid ] && systemctl is-active -q kith"
check "kithctl reload" sh -c 'kithctl reload | grep -q "reloaded /etc/kith/kith.conf: 3 devices"'
check "systemctl stop kith" systemctl stop kith
check "kith is inactive, stopped cleanly" \
	sh -c "! systemctl is-active -q kith && journalctl -b -u kith --no-pager | grep -q 'kithd.*stopped' &&
		[ \"\$(systemctl show -p Result --value kith)\" = success ]"
warnings=$(journalctl -b -u kith -p warning --no-pager -q)
if [ -z "$warnings" ]; then ok "no warning in the journal"; else fail "warnings: $warnings"; fi

# a stalled main loop stops feeding the watchdog: systemd restarts kithd
mkdir -p /run/systemd/system/kith.service.d
printf '[Service]\nWatchdogSec=2s\nRestartSec=1s\n' >/run/systemd/system/kith.service.d/watchdog.conf
systemctl daemon-reload
systemctl start kith
pid=$(systemctl show -p MainPID --value kith)
kill -STOP "$pid"
check "a stalled kithd is restarted by the watchdog" \
	wait_for 30 sh -c "[ \$(systemctl show -p NRestarts --value kith) -ge 1 ] &&
		systemctl is-active -q kith && [ \$(systemctl show -p MainPID --value kith) != $pid ]"
systemctl stop kith
rm -r /run/systemd/system/kith.service.d
systemctl daemon-reload

rm /etc/kith/conf.d/guest.conf
check "apt purge kith" sh -c 'apt-get purge -y -q kith >/tmp/apt.log 2>&1'
for path in /etc/kith /var/lib/kith /run/kith /lib/systemd/system/kith.service; do
	check "purged: $path is gone" test ! -e "$path"
done
finish
