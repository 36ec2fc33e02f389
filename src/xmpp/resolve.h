/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Where to connect, found without blocking the main loop (libstrophe's own lookups block):
 * a numeric Server as it is; a host name through the resolver; no Server: the domain's
 * _xmpp-client._tcp SRV record, else the domain itself.
 */
typedef void (*KithResolveFunc) (const gchar *address, guint16 port, const GError *error,
                                 gpointer user_data);

void kith_resolve_async (const gchar *server, const gchar *domain, guint16 port,
                         GCancellable *cancellable, KithResolveFunc done, gpointer user_data);

G_END_DECLS
