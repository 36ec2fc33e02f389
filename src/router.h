/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "config.h"
#include "identity.h"
#include "store.h"
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
/* the identity must use the router's component; it is not owned */
void kith_router_add (KithRouter *self, KithIdentity *identity);
/* loads the devices' rosters and connects */
void kith_router_start (KithRouter *self);
/* hands a stanza received on the component's stream to its device (or answers it) */
void kith_router_receive (KithRouter *self, xmpp_stanza_t *stanza);
/* closes the stream (every device said goodbye already); done runs once it is closed */
void kith_router_stop (KithRouter *self, GSourceFunc done, gpointer user_data);

G_END_DECLS
