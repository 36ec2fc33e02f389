#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# installs the native package on this machine (no systemd running here) and checks what it
# installed: files, the conffile, the user and its groups, the modes of /etc/kith and the
# state directory, --version against the package version, the unit (systemd-analyze verify
# and security), a run as the service user against Prosody with kithctl; then purges it and
# checks that only the system user stays (Debian keeps system users)
# shellcheck source=tests/packaging/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
pkg_require

pkg_build_native || {
	pkg_fail "the package did not build"
	pkg_finish
}
version=$(pkg_version)
arch=$(dpkg --print-architecture)
deb=$pkg_deb_dir/$arch/kith_${version}_$arch.deb
unit=/lib/systemd/system/kith.service

purge() {
	if dpkg-query -W kith >/dev/null 2>&1; then
		pkg_apt purge -y kith >/dev/null
	fi
}
trap purge EXIT
purge

start=$SECONDS
pkg_check "apt-get install ./$(basename "$deb")" pkg_apt install -y --no-install-recommends "$deb"
pkg_ok "installed in $((SECONDS - start)) s"

files=(/usr/sbin/kithd /usr/bin/kithctl /etc/kith/kith.conf "$unit"
	/usr/lib/sysusers.d/kith.conf /usr/lib/tmpfiles.d/kith.conf /usr/lib/modules-load.d/kith.conf
	/lib/udev/rules.d/60-kith.rules /usr/share/man/man8/kithd.8.gz
	/usr/share/man/man1/kithctl.1.gz /usr/share/man/man5/kith.conf.5.gz)
for file in "${files[@]}"; do
	pkg_check "$file belongs to kith" bash -c "dpkg -S '$file' | grep -q '^kith: '"
done
pkg_check "/etc/kith/conf.d is there" test -d /etc/kith/conf.d
if [[ -d $pkg_root/drivers/modbus/profiles ]]; then
	pkg_check "the Modbus profiles are under /usr/share/kith" \
		bash -c 'ls /usr/share/kith/modbus/*.conf >/dev/null'
fi
pkg_check "kith.conf is a conffile" \
	bash -c "dpkg-query -W -f='\${Conffiles}' kith | grep -q ' /etc/kith/kith.conf '"
pkg_check "the unit is enabled" test -L /etc/systemd/system/multi-user.target.wants/kith.service

pkg_check "user kith: system user, nologin, home /var/lib/kith" \
	bash -c '[[ $(getent passwd kith | cut -d: -f3,6,7) =~ ^[0-9]+:/var/lib/kith:/usr/sbin/nologin$ ]] &&
		(($(id -u kith) < 1000))'
for group in gpio i2c dialout; do
	pkg_check "kith is in group $group" bash -c "id -nG kith | tr ' ' '\n' | grep -qx $group"
done
pkg_check "/etc/kith is root:kith 750" test "$(stat -c %U:%G:%a /etc/kith)" = root:kith:750
pkg_check "/var/lib/kith is kith:kith 700" test "$(stat -c %U:%G:%a /var/lib/kith)" = kith:kith:700

pkg_check "kithd --version is the package version" \
	test "$(/usr/sbin/kithd --version)" = "kithd $(dpkg-query -W -f='${Version}' kith)"
pkg_check "kithctl --version is the package version" \
	test "$(/usr/bin/kithctl --version)" = "kithctl $(dpkg-query -W -f='${Version}' kith)"
pkg_check "the shipped configuration is valid (read as kith)" \
	setpriv --reuid=kith --regid=kith --init-groups -- /usr/sbin/kithd --check-config \
	--config /etc/kith/kith.conf
pkg_check "kithctl without kithd says what to do" \
	bash -c '/usr/bin/kithctl status 2>&1 | grep -q "kithd is not running.*systemctl start kith"'

verify=$(systemd-analyze verify --man=no "$unit" 2>&1)
pkg_check "systemd-analyze verify: no complaint${verify:+ ($verify)}" test -z "$verify"
security=$(systemd-analyze security --no-pager --offline=true "$unit" 2>&1)
score=$(sed -n 's/.*Overall exposure level for kith.service: \([0-9.]*\) \(.*\)/\1 \2/p' <<<"$security")
printf '%s\n' "$security" | grep -E '^(✗|\s*✗)' | head -40
pkg_check "systemd-analyze security: exposure $score (at most 2.0)" \
	awk -v s="${score%% *}" 'BEGIN { exit !(s != "" && s <= 2.0) }'

/usr/bin/python3 "$pkg_root/tests/packaging/run-service.py" --kithd /usr/sbin/kithd \
	--kithctl /usr/bin/kithctl --user kith --config /etc/kith/kith.conf \
	--dropin /etc/kith/conf.d/zz-packaging-test.conf --state /var/lib/kith ||
	pkg_fail "the installed kithd as user kith against Prosody"
pkg_check "the state is kith's, mode 0600" \
	test "$(stat -c %U:%a /var/lib/kith/kith.db)" = kith:600

trap - EXIT
pkg_check "apt-get purge kith" pkg_apt purge -y kith
for path in /etc/kith /var/lib/kith /usr/sbin/kithd "$unit" \
	/etc/systemd/system/multi-user.target.wants/kith.service; do
	pkg_check "purged: $path is gone" test ! -e "$path"
done
pkg_check "purged: no statoverride left" bash -c '! dpkg-statoverride --list /etc/kith'
pkg_check "purged: the system user stays (Debian policy)" bash -c "getent passwd kith >/dev/null"
pkg_finish
