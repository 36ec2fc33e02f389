/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith-xmpp"

#include "xmpp/connect-gate.h"

typedef struct {
	gpointer owner;
	KithConnectGateFunc func;
} KithConnectGateWaiter;

struct _KithConnectGate {
	guint max;
	GHashTable *holders; /* owners holding a slot */
	GQueue waiting;      /* KithConnectGateWaiter */
};

KithConnectGate *
kith_connect_gate_new (guint max_connecting)
{
	KithConnectGate *self = g_new0 (KithConnectGate, 1);
	self->max = MAX (max_connecting, 1);
	self->holders = g_hash_table_new (g_direct_hash, g_direct_equal);
	g_queue_init (&self->waiting);
	return self;
}

void
kith_connect_gate_free (KithConnectGate *self)
{
	if (self == NULL)
		return;
	g_queue_clear_full (&self->waiting, g_free);
	g_hash_table_unref (self->holders);
	g_free (self);
}

static gboolean
kith_connect_gate_unqueue (KithConnectGate *self, gpointer owner)
{
	for (GList *l = self->waiting.head; l != NULL; l = l->next) {
		KithConnectGateWaiter *waiter = l->data;
		if (waiter->owner == owner) {
			g_free (waiter);
			g_queue_delete_link (&self->waiting, l);
			return TRUE;
		}
	}
	return FALSE;
}

void
kith_connect_gate_request (KithConnectGate *self, gpointer owner, KithConnectGateFunc func)
{
	KithConnectGateWaiter *waiter;

	if (g_hash_table_contains (self->holders, owner) ||
	    g_hash_table_size (self->holders) < self->max) {
		g_hash_table_add (self->holders, owner);
		func (owner);
		return;
	}
	kith_connect_gate_unqueue (self, owner);
	waiter = g_new0 (KithConnectGateWaiter, 1);
	waiter->owner = owner;
	waiter->func = func;
	g_queue_push_tail (&self->waiting, waiter);
}

void
kith_connect_gate_forget (KithConnectGate *self, gpointer owner)
{
	kith_connect_gate_unqueue (self, owner);
	g_hash_table_remove (self->holders, owner);
}

void
kith_connect_gate_release (KithConnectGate *self, gpointer owner)
{
	kith_connect_gate_unqueue (self, owner);
	if (!g_hash_table_remove (self->holders, owner))
		return;
	while (g_hash_table_size (self->holders) < self->max &&
	       !g_queue_is_empty (&self->waiting)) {
		KithConnectGateWaiter *waiter = g_queue_pop_head (&self->waiting);
		gpointer next = waiter->owner;
		KithConnectGateFunc func = waiter->func;
		g_free (waiter);
		g_hash_table_add (self->holders, next);
		func (next);
	}
}

guint
kith_connect_gate_get_active (KithConnectGate *self)
{
	return g_hash_table_size (self->holders);
}
