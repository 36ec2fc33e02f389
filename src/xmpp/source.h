/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

G_BEGIN_DECLS

/*
 * Drives one libstrophe context (holding one connection) from the GLib main loop.
 *
 * libstrophe has no event-loop API: xmpp_run_once() reads at most 4 KiB per call and OpenSSL may
 * hold the rest of a TLS record where no fd watch sees it, and protocol writes it queues itself
 * are invisible to xmpp_conn_send_queue_len(). So a dispatch runs xmpp_run_once() until nothing
 * was readable and no stanza arrived, with extra passes on TLS links, and a 1 s tick runs only
 * while the connection negotiates or closes (libstrophe's own timeouts need it).
 */
typedef struct _KithXmppSource KithXmppSource;

KithXmppSource *kith_xmpp_source_new (xmpp_ctx_t *ctx, xmpp_conn_t *conn);
void kith_xmpp_source_free (KithXmppSource *self);
/* the connection whose socket is watched (a context may hold several over time) */
void kith_xmpp_source_set_conn (KithXmppSource *self, xmpp_conn_t *conn);
/* watch the connection's socket (after xmpp_connect_*() returned XMPP_EOK) */
void kith_xmpp_source_set_fd (KithXmppSource *self, int fd);
/* stop watching: libstrophe closed (or is about to close) the socket */
void kith_xmpp_source_clear_fd (KithXmppSource *self);
/* settled: connected and negotiated, or fully disconnected; no tick needed */
void kith_xmpp_source_set_settled (KithXmppSource *self, gboolean settled);
/* dispatch on the next loop iteration */
void kith_xmpp_source_kick (KithXmppSource *self);
/* call after every xmpp_send () / xmpp_send_raw () of a stanza on the negotiated stream */
void kith_xmpp_source_note_sent (KithXmppSource *self);
/* call from a catch-all stanza handler: a stanza arrived */
void kith_xmpp_source_count_rx (KithXmppSource *self);
/* who the connection is, for the log */
void kith_xmpp_source_set_name (KithXmppSource *self, const gchar *name);
guint64 kith_xmpp_source_get_dispatches (KithXmppSource *self);

G_END_DECLS
