/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "config.h"
#include "device.h"
#include "iot/policy.h"
#include "store.h"
#include "xmpp/session.h"

G_BEGIN_DECLS

/* one device's XMPP identity: its session, friends, readouts and control */
typedef struct _KithIdentity KithIdentity;
typedef void (*KithIdentityFunc) (KithIdentity *identity, gpointer user_data);

/* online: called each time the device's session comes online (user_data as given) */
KithIdentity *kith_identity_new (KithConfig *config, KithStore *store, KithPolicy *policy,
                                 KithConnectGate *gate, KithDevice *device, KithIdentityFunc online,
                                 gpointer user_data);
void kith_identity_free (KithIdentity *self);
void kith_identity_start (KithIdentity *self);
/* sends unavailable and closes the stream; done runs once the stream is closed */
void kith_identity_stop (KithIdentity *self, KithIdentityFunc done, gpointer user_data);
KithSession *kith_identity_get_session (KithIdentity *self);
KithDevice *kith_identity_get_device (KithIdentity *self);

G_END_DECLS
