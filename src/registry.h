/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <strophe.h>

#include "agent.h"
#include "device.h"
#include "store.h"

G_BEGIN_DECLS

/*
 * A device's life in a thing registry (XEP-0347): it registers itself unclaimed with its meta
 * tags and a random KEY; its owner claims it (scanning the commissioning URI as a QR code);
 * the owner is then befriended and trusted; disowned, it gets a new KEY and registers again.
 */

typedef struct _KithRegistry KithRegistry;

/* what the registry tells the device */
typedef struct {
	/* claimed by owner (a bare JID): the device trusts and befriends it */
	void (*claimed) (const gchar *owner, gpointer user_data);
	/* disowned by owner (may be NULL): the device forgets it */
	void (*disowned) (const gchar *owner, gpointer user_data);
} KithRegistryCallbacks;

/* TRUE if the device takes part in a registry: configured, or registered with one before */
gboolean kith_registry_wanted (KithConfig *config, KithStore *store, const gchar *device_id);
/* the owner who claimed the device in an earlier run, or NULL */
gchar *kith_registry_get_claimed_owner (KithStore *store, const gchar *device_id);
KithRegistry *kith_registry_new (const KithAgent *agent, const KithRegistryCallbacks *callbacks,
                                 gpointer user_data);
void kith_registry_free (KithRegistry *self);
void kith_registry_online (KithRegistry *self);
/* claimed / disowned / removed pushes; TRUE if the stanza was for the registry logic */
gboolean kith_registry_handle_stanza (KithRegistry *self, xmpp_stanza_t *stanza);

/* the device's KEY, made and stored on first use */
gchar *kith_registry_ensure_key (KithStore *store, const gchar *device_id, GError **error);
/* the commissioning URI: iotdisco:SN=…;MAN=…;MODEL=…;CLASS=…;#V=…;KEY=…[;R=registry] */
gchar *kith_registry_uri (KithDevice *device, const gchar *key, const gchar *registry);

G_END_DECLS
