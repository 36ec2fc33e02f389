/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "config.h"
#include "identity.h"
#include "store.h"

G_BEGIN_DECLS

typedef struct _KithDaemon KithDaemon;

/* creates the buses and their devices from the configuration, without starting anything */
KithDaemon *kith_daemon_new (KithConfig *config, GError **error);
void kith_daemon_free (KithDaemon *self);
/* prints the buses and devices the configuration creates */
void kith_daemon_describe (KithDaemon *self, GString *out);
/* opens the state, starts the buses and every device's identity */
gboolean kith_daemon_start (KithDaemon *self, GError **error);
/* says goodbye for every device, then calls done (at the latest after a few seconds) */
void kith_daemon_stop (KithDaemon *self, GSourceFunc done, gpointer user_data);
/* reads the configuration at path again: buses added, removed or changed take effect, the
 * devices of unchanged buses keep their identities and sessions; a configuration with an
 * error changes nothing (FALSE, error set) */
gboolean kith_daemon_reload (KithDaemon *self, const gchar *path, GError **error);
guint kith_daemon_get_device_count (KithDaemon *self);
/* the identity of a device (NULL before start, or for no such device) */
KithIdentity *kith_daemon_get_identity (KithDaemon *self, const gchar *device_id);
KithConfig *kith_daemon_get_config (KithDaemon *self);
/* the state database (NULL before start) */
KithStore *kith_daemon_get_store (KithDaemon *self);
/* every device of every bus (KithDevice, new array with references) */
GPtrArray *kith_daemon_get_devices (KithDaemon *self);

/* called with every device that joins once kithd runs: a bus found it, or a reload replaced
 * its object (kithctl watch follows its values); one function at a time, NULL to stop */
typedef void (*KithDaemonDeviceFunc) (KithDevice *device, gpointer user_data);
void kith_daemon_set_device_func (KithDaemon *self, KithDaemonDeviceFunc func, gpointer user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithDaemon, kith_daemon_free)

G_END_DECLS
