/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "config.h"
#include "device.h"
#include "store.h"
#include "transport.h"
#include "xmpp/component.h"

G_BEGIN_DECLS

/*
 * Component mode: one XEP-0114 stream speaks for every device. The router hands each received
 * stanza to the device it is addressed to, answers for the component's own domain and for
 * devices that do not exist, and brings the devices online at a pace the server can take
 * whenever the stream comes up.
 */
typedef struct _KithRouter KithRouter;

KithRouter *kith_router_new (KithConfig *config, KithStore *store);
void kith_router_free (KithRouter *self);
KithComponent *kith_router_get_component (KithRouter *self);
/* a device on the stream: returns its transport (a new reference; the router keeps one until
 * kith_router_remove_device) */
KithTransport *kith_router_add_device (KithRouter *self, KithDevice *device);
void kith_router_remove_device (KithRouter *self, const gchar *id);
/* the device's object was replaced by one with the same id (a reload) */
void kith_router_set_device (KithRouter *self, KithDevice *device);
/* loads the devices' rosters and connects */
void kith_router_start (KithRouter *self);
/* hands a stanza received on the component's stream to its device (or answers it) */
void kith_router_receive (KithRouter *self, xmpp_stanza_t *stanza);
/* closes the stream (every device said goodbye already); done runs once it is closed */
void kith_router_stop (KithRouter *self, GSourceFunc done, gpointer user_data);

G_END_DECLS
