/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

#include "config.h"
#include "device.h"
#include "iq.h"
#include "store.h"

G_BEGIN_DECLS

/*
 * The device as the services that act for it see it: its parent (XEP-0324), its thing registry
 * (XEP-0347) and service discovery. They read what they need here, speak through it, and tell
 * the device what happened only through the callbacks they were given: they never call into
 * the identity, and the identity reaches them only through their own small interfaces.
 */
typedef struct {
	KithConfig *config;
	KithStore *store;
	KithDevice *device;
	const gchar *id;       /* the device id */
	const gchar *bare_jid; /* the device's bare JID */
	xmpp_ctx_t *ctx;       /* for building stanzas */
	KithIqClient *iq;      /* questions with answers */
	/* sends a stanza from the device (consumed) */
	void (*send) (gpointer owner, xmpp_stanza_t *stanza);
	gboolean (*is_online) (gpointer owner);
	/* the owner's bare JID, and one of its full JIDs while it is online (or NULL) */
	const gchar *(*get_owner) (gpointer owner);
	const gchar *(*get_owner_resource) (gpointer owner);
	gpointer owner;
} KithAgent;

static inline void
kith_agent_send (const KithAgent *agent, xmpp_stanza_t *stanza)
{
	agent->send (agent->owner, stanza);
}

static inline gboolean
kith_agent_is_online (const KithAgent *agent)
{
	return agent->is_online (agent->owner);
}

static inline const gchar *
kith_agent_get_owner (const KithAgent *agent)
{
	return agent->get_owner (agent->owner);
}

static inline const gchar *
kith_agent_get_owner_resource (const KithAgent *agent)
{
	return agent->get_owner_resource (agent->owner);
}

G_END_DECLS
