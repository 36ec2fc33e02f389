-- SPDX-License-Identifier: GPL-3.0-or-later
-- the guest's XMPP server: loopback only, in-band registration, no TLS (nothing leaves the
-- guest, which has no network)
admins = { }
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "register"; "version"; "posix" }
modules_disabled = { "s2s"; "tls" }
allow_registration = true
min_seconds_between_registrations = 0
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
interfaces = { "127.0.0.1" }
c2s_ports = { 5222 }
pidfile = "/run/prosody/prosody.pid"
authentication = "internal_hashed"
storage = "internal"
log = { info = "/var/log/prosody/prosody.log"; error = "/var/log/prosody/prosody.err" }
VirtualHost "localhost"
