/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

G_BEGIN_DECLS

/*
 * The IQ requests one device sends (to its parent, its registry, the server's services): each
 * gets an id, waits for the answer from the address it went to, or for its timeout.
 */
typedef struct _KithIqClient KithIqClient;

/* the answer to an IQ; reply is NULL when none came in time */
typedef void (*KithIqResultFunc) (xmpp_stanza_t *reply, gpointer user_data);
/* how the IQ leaves (consumes the stanza) */
typedef void (*KithIqSendFunc) (xmpp_stanza_t *stanza, gpointer user_data);

KithIqClient *kith_iq_client_new (const gchar *who, KithIqSendFunc send, gpointer send_data);
/* questions still open end silently: their user data is freed, done never runs */
void kith_iq_client_free (KithIqClient *self);
/* sends iq (consumed; its id is set here); done runs with the answer from its addressee, or
 * with NULL after timeout_ms; destroy frees user_data in every case */
void kith_iq_client_send (KithIqClient *self, xmpp_stanza_t *iq, guint timeout_ms,
                          KithIqResultFunc done, gpointer user_data, GDestroyNotify destroy);
/* an IQ result or error received: TRUE if it was for one of our questions (answered, or an
 * answer from the wrong address, ignored) */
gboolean kith_iq_client_receive (KithIqClient *self, xmpp_stanza_t *stanza);

G_END_DECLS
