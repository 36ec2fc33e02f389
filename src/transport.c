/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "transport.h"

#include "iot/subscription.h"

void
kith_transport_init (KithTransport *self, const KithTransportFuncs *funcs, xmpp_ctx_t *ctx,
                     const gchar *bare_jid, const gchar *full_jid)
{
	self->funcs = funcs;
	self->ref_count = 1;
	self->ctx = ctx;
	self->bare_jid = g_strdup (bare_jid);
	self->full_jid = g_strdup (full_jid);
	self->roster = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

KithTransport *
kith_transport_ref (KithTransport *self)
{
	self->ref_count++;
	return self;
}

void
kith_transport_unref (KithTransport *self)
{
	if (self == NULL || --self->ref_count > 0)
		return;
	self->funcs->finalize (self);
	g_hash_table_unref (self->roster);
	g_free (self->bare_jid);
	g_free (self->full_jid);
	g_free (self->owner);
	g_free (self);
}

void
kith_transport_set_callbacks (KithTransport *self, const KithTransportCallbacks *callbacks,
                              gpointer user_data)
{
	self->callbacks = *callbacks;
	self->user_data = user_data;
}

void
kith_transport_start (KithTransport *self)
{
	self->funcs->start (self);
}

void
kith_transport_stop (KithTransport *self)
{
	self->funcs->stop (self);
}

void
kith_transport_send (KithTransport *self, xmpp_stanza_t *stanza)
{
	self->funcs->send (self, stanza);
	xmpp_stanza_release (stanza);
}

gboolean
kith_transport_is_online (KithTransport *self)
{
	return self->funcs->is_online (self);
}

gboolean
kith_transport_roster_ready (KithTransport *self)
{
	return self->funcs->roster_ready (self);
}

void
kith_transport_remove_contact (KithTransport *self, const gchar *jid)
{
	self->funcs->remove_contact (self, jid);
}

void
kith_transport_watch (KithTransport *self, const gchar *jid)
{
	if (jid != NULL)
		self->funcs->watch (self, jid);
}

xmpp_ctx_t *
kith_transport_get_ctx (KithTransport *self)
{
	return self->ctx;
}

guint
kith_transport_get_state (KithTransport *self, const gchar *jid)
{
	return jid != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (self->roster, jid)) : 0;
}

GHashTable *
kith_transport_get_roster (KithTransport *self)
{
	return self->roster;
}

void
kith_transport_set_owner (KithTransport *self, const gchar *owner)
{
	g_free (self->owner);
	self->owner = g_strdup (owner);
}

gboolean
kith_transport_is_friend (KithTransport *self, const gchar *bare_jid)
{
	if (self->owner != NULL && g_strcmp0 (bare_jid, self->owner) == 0)
		return TRUE;
	return (kith_transport_get_state (self, bare_jid) & KITH_SUB_FROM) != 0;
}
