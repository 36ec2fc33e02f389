/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "iq.h"

#include "iot/stanza.h"

struct _KithIqClient {
	gchar *who; /* for the log */
	KithIqSendFunc send;
	gpointer send_data;
	GHashTable *pending; /* id -> KithPendingIq */
	guint serial;
};

typedef struct {
	KithIqClient *client;
	gchar *id;
	gchar *to;
	KithIqResultFunc done;
	gpointer user_data;
	GDestroyNotify destroy;
	guint timer_id;
} KithPendingIq;

static void
kith_pending_iq_free (KithPendingIq *pending)
{
	g_clear_handle_id (&pending->timer_id, g_source_remove);
	if (pending->destroy != NULL)
		pending->destroy (pending->user_data);
	g_free (pending->id);
	g_free (pending->to);
	g_free (pending);
}

static gboolean
kith_pending_iq_timeout_cb (gpointer user_data)
{
	KithPendingIq *pending = user_data;

	pending->timer_id = 0;
	g_hash_table_steal (pending->client->pending, pending->id);
	pending->done (NULL, pending->user_data);
	kith_pending_iq_free (pending);
	return G_SOURCE_REMOVE;
}

KithIqClient *
kith_iq_client_new (const gchar *who, KithIqSendFunc send, gpointer send_data)
{
	KithIqClient *self = g_new0 (KithIqClient, 1);
	self->who = g_strdup (who);
	self->send = send;
	self->send_data = send_data;
	self->pending = g_hash_table_new (g_str_hash, g_str_equal);
	return self;
}

void
kith_iq_client_free (KithIqClient *self)
{
	g_autoptr (GList) pending = NULL;

	if (self == NULL)
		return;
	pending = g_hash_table_get_values (self->pending);
	g_hash_table_steal_all (self->pending);
	for (GList *l = pending; l != NULL; l = l->next)
		kith_pending_iq_free (l->data);
	g_hash_table_unref (self->pending);
	g_free (self->who);
	g_free (self);
}

void
kith_iq_client_send (KithIqClient *self, xmpp_stanza_t *iq, guint timeout_ms, KithIqResultFunc done,
                     gpointer user_data, GDestroyNotify destroy)
{
	KithPendingIq *pending = g_new0 (KithPendingIq, 1);

	pending->client = self;
	pending->id = g_strdup_printf ("kith-%u-%08x", ++self->serial, g_random_int ());
	pending->to = g_strdup (xmpp_stanza_get_to (iq));
	pending->done = done;
	pending->user_data = user_data;
	pending->destroy = destroy;
	pending->timer_id = g_timeout_add (timeout_ms, kith_pending_iq_timeout_cb, pending);
	xmpp_stanza_set_id (iq, pending->id);
	g_hash_table_insert (self->pending, pending->id, pending);
	self->send (iq, self->send_data);
}

gboolean
kith_iq_client_receive (KithIqClient *self, xmpp_stanza_t *stanza)
{
	const char *id = xmpp_stanza_get_id (stanza);
	const char *from = xmpp_stanza_get_from (stanza);
	KithPendingIq *pending = g_hash_table_lookup (self->pending, id != NULL ? id : "");
	g_autofree gchar *from_bare = NULL;
	g_autofree gchar *to_bare = NULL;

	if (pending == NULL)
		return FALSE;
	/* only from the address we asked: anyone can send a result with a guessed id */
	from_bare = kith_jid_bare (from);
	to_bare = kith_jid_bare (pending->to);
	if (g_strcmp0 (from, pending->to) != 0 && g_strcmp0 (from_bare, to_bare) != 0) {
		g_info ("%s: ignoring an answer from %s to a question for %s", self->who,
		        from != NULL ? from : "the server", pending->to);
		return TRUE;
	}
	g_hash_table_steal (self->pending, pending->id);
	pending->done (stanza, pending->user_data);
	kith_pending_iq_free (pending);
	return TRUE;
}
