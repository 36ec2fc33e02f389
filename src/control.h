/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "daemon.h"

G_BEGIN_DECLS

/*
 * The local control channel kithctl talks to: a Unix stream socket in the runtime directory,
 * one JSON object per line each way. Every request is {"command": NAME, ...}; every reply
 * {"ok": true, ...} or {"ok": false, "error": TEXT}; "watch" then streams event objects.
 *
 * Who may do what is decided by the peer's credentials (SO_PEERCRED, SO_PEERGROUPS), not by
 * the socket file's mode: root, kithd's own user and the members of kithd's group (kith) may
 * read; changes (approve, deny, reload) and the commissioning codes (qr: whoever holds one
 * can claim the device) need root, kithd's own user or the group named by [kith] AdminGroup.
 */

typedef struct _KithControl KithControl;

/* reads the configuration again (the same as SIGHUP) */
typedef gboolean (*KithControlReloadFunc) (gpointer user_data, GError **error);

/* $RUNTIME_DIRECTORY/control (the first directory when systemd gives several), else
 * /run/kith/control */
gchar *kith_control_default_path (void);

/* listens at path (its directory is created if missing; a stale socket is replaced, one a
 * running kithd answers on is not) */
KithControl *kith_control_new (KithDaemon *daemon, const gchar *path, KithControlReloadFunc reload,
                               gpointer user_data, GError **error);
/* closes every connection and removes the socket */
void kith_control_free (KithControl *self);
const gchar *kith_control_get_path (KithControl *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithControl, kith_control_free)

G_END_DECLS
