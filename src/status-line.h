/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "device.h"
#include "parent.h"
#include "transport.h"

G_BEGIN_DECLS

/*
 * What a device's presence status may show. A device has one presence for all its friends (a
 * server hands every contact the same one), so with a parent it shows only the readings every
 * friend may read: the parent is asked canRead (momentary, the status fields) about each
 * friend when the friendship starts, before it is granted, and the answer is cached like the
 * others. A friend the parent has not answered for sees nothing, so nobody does. The owner,
 * the parent and the device's own account never restrict it. Without a parent, every status
 * field shows.
 */
typedef struct _KithStatusLine KithStatusLine;

typedef struct {
	/* TRUE for whoever may read everything (the owner, the parent, the device itself) */
	gboolean (*full_rights) (const gchar *bare_jid, gpointer user_data);
	/* what the status may show changed: the presence should follow */
	void (*changed) (gpointer user_data);
	/* a friendship waiting for its answer (kith_status_line_admit) may be granted now */
	void (*granted) (const gchar *jid, gboolean preapprove, gpointer user_data);
} KithStatusLineCallbacks;

/* parent: NULL without a parent (everything shows); the roster is the transport's */
KithStatusLine *kith_status_line_new (KithDevice *device, KithParent *parent,
                                      KithTransport *transport,
                                      const KithStatusLineCallbacks *callbacks, gpointer user_data);
void kith_status_line_free (KithStatusLine *self);
/* the status fields the presence may show: NULL for all, else a list (free it) */
GPtrArray *kith_status_line_fields (KithStatusLine *self);
/* the roster changed: new friends are asked about, old ones forgotten */
void kith_status_line_friends_changed (KithStatusLine *self);
/* the parent's answers were cleared: every friend is asked about again */
void kith_status_line_forget (KithStatusLine *self);
/* a friendship is about to be granted: TRUE if it may be now; FALSE if it waits for the
 * parent's answer about the new friend (the granted callback follows) */
gboolean kith_status_line_admit (KithStatusLine *self, const gchar *jid, gboolean preapprove);
/* the device changed (reload): its status fields may be others */
void kith_status_line_set_device (KithStatusLine *self, KithDevice *device);

G_END_DECLS
