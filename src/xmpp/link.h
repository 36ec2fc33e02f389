/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

G_BEGIN_DECLS

/*
 * What a device's client session and the component stream share: the wait before the next
 * connection attempt, the socket set-up, and the outbox that keeps stanzas while the link is
 * down (libstrophe drops what is sent while disconnected and frees what it had not written
 * on the next connect).
 */

/* exponential backoff with jitter: 0.5-1 s, 1-2 s, 2-4 s, … up to max_s/2-max_s; counts the
 * failure in *failures */
guint kith_link_backoff_ms (guint *failures, guint max_s);

/* libstrophe's socket callback, shared: refuses a socket select() cannot watch (numbered
 * FD_SETSIZE or more: libstrophe would abort the process), sets TCP_NODELAY and TCP keepalive;
 * 0 or -1 as libstrophe wants, *fd_out the socket on success */
int kith_link_setup_socket (xmpp_conn_t *conn, void *sock, const gchar *who, int *fd_out);

/* what of a libstrophe debug line may be logged: NULL when all of it, else a copy without the
 * secrets it carried (a password, SASL credentials, the component handshake, a claim KEY) */
gchar *kith_link_redact (const gchar *msg);

typedef struct {
	GQueue queue; /* gchar*: serialised stanzas, oldest first */
	guint max;
	const gchar *why; /* why stanzas pile up, for the log */
	gboolean overflowed;
} KithOutbox;

void kith_outbox_init (KithOutbox *self, guint max, const gchar *why);
void kith_outbox_clear (KithOutbox *self);
/* keeps a serialised stanza (consumed); past max the oldest is dropped, and said once */
void kith_outbox_push (KithOutbox *self, gchar *text, const gchar *who);
/* keeps a stanza (not consumed) */
void kith_outbox_push_stanza (KithOutbox *self, xmpp_stanza_t *stanza, const gchar *who);
/* writes everything kept to conn, oldest first; returns how many */
guint kith_outbox_flush (KithOutbox *self, xmpp_conn_t *conn);
/* takes back the stanzas libstrophe queued on conn but did not write, ahead of the rest */
void kith_outbox_rescue (KithOutbox *self, xmpp_conn_t *conn, xmpp_ctx_t *ctx);
guint kith_outbox_length (KithOutbox *self);

G_END_DECLS
