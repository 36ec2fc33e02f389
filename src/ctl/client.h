/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* kithctl's end of the control channel: one JSON object per line each way */
typedef struct _KithCtlClient KithCtlClient;

/* the socket: $KITH_SOCKET, else /run/kith/control (where the packaged service listens) */
const gchar *kith_ctl_client_default_path (void);
/* connects; the errors say what to do ("kithd is not running …: systemctl start kith") */
KithCtlClient *kith_ctl_client_connect (const gchar *path, GError **error);
void kith_ctl_client_free (KithCtlClient *self);
/* sends the request object (consumed) */
gboolean kith_ctl_client_send (KithCtlClient *self, JsonNode *request, GError **error);
/* the next object kithd sends (a new reference); NULL at the end (error set) */
JsonObject *kith_ctl_client_receive (KithCtlClient *self, GError **error);
/* send, then receive the reply; a reply with "ok": false becomes the error */
JsonObject *kith_ctl_client_call (KithCtlClient *self, JsonNode *request, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithCtlClient, kith_ctl_client_free)

G_END_DECLS
