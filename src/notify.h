/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The service manager's notification protocol (sd_notify(3)): KEY=VALUE lines in one datagram
 * to the Unix socket named by $NOTIFY_SOCKET (a path, or '@' and a name in the abstract
 * namespace). systemd sets it for Type=notify units, and $WATCHDOG_USEC when WatchdogSec= is
 * set. Without $NOTIFY_SOCKET (kithd started by hand) every call does nothing.
 */

typedef struct _KithNotify KithNotify;

/* the status line shown by systemctl status (a new string) */
typedef gchar *(*KithNotifyStatusFunc) (gpointer user_data);

/* reads the environment; status: asked for the STATUS= line (may be NULL) */
KithNotify *kith_notify_new (KithNotifyStatusFunc status, gpointer user_data);
void kith_notify_free (KithNotify *self);
/* TRUE when a service manager listens */
gboolean kith_notify_is_enabled (KithNotify *self);

/* READY=1 with the status. From then on the watchdog is fed from the default main context
 * every half $WATCHDOG_USEC (a stalled main loop stops feeding it and the service manager
 * restarts kithd), and the status is sent again when it changed: every second for a while
 * after start and after a reload (devices coming online), else with the watchdog */
void kith_notify_ready (KithNotify *self);
/* RELOADING=1: kithd reads its configuration again; kith_notify_ready () ends it */
void kith_notify_reloading (KithNotify *self);
/* STOPPING=1 with the reason as status; the watchdog is fed until kithd exits */
void kith_notify_stopping (KithNotify *self, const gchar *status);
/* sends the status now if it changed since the last one sent */
void kith_notify_update_status (KithNotify *self);

/* one datagram to the socket at address ($NOTIFY_SOCKET's syntax); for the above and tests */
gboolean kith_notify_send (const gchar *address, const gchar *message, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithNotify, kith_notify_free)

G_END_DECLS
