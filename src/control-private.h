/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "control.h"

G_BEGIN_DECLS

/* the control channel's connections and commands, shared by control.c (the socket, the
 * connections, who may do what) and control-commands.c (what each command does) */

typedef struct {
	KithControl *control;
	GSocketConnection *connection;
	GCancellable *cancellable;
	guint pending;    /* asynchronous operations under way */
	gboolean closed;  /* no more requests or events */
	gboolean closing; /* closed once what is queued is written */
	GString *in;      /* read, not yet a whole line */
	guint8 buffer[4096];
	GString *out;     /* queued */
	GString *writing; /* being written */
	gchar *who;       /* "uid 1000, pid 42" for the log */
	gboolean may_read;
	gboolean may_change;
	/* watch */
	gboolean watching;
	gchar *watch_device; /* only this device; NULL: all */
	GHashTable *watched; /* device id -> KithControlWatched */
} KithControlClient;

struct _KithControl {
	KithDaemon *daemon;
	gchar *path;
	GSocketService *service;
	GList *clients; /* KithControlClient */
	KithControlReloadFunc reload;
	gpointer reload_data;
	gint64 started_at;
	gchar *own_group;   /* kithd's group: its members may read */
	gchar *admin_group; /* [kith] AdminGroup, found: its members may change */
	gid_t admin_gid;
};

/* queues one reply or event line (root consumed) */
void kith_control_client_send (KithControlClient *client, JsonNode *root);
/* {"ok": false, "error": message} */
void kith_control_client_send_error (KithControlClient *client, const gchar *message);
/* runs one request line */
void kith_control_client_request (KithControlClient *client, const gchar *line);
/* a device joined: watching clients follow it */
void kith_control_device_joined (KithControl *self, KithDevice *device);
/* ends a client's watch (it closes) */
void kith_control_client_unwatch (KithControlClient *client);

G_END_DECLS
