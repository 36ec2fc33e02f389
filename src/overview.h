/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "daemon.h"

G_BEGIN_DECLS

/*
 * What a local administrator sees of a running kithd, as JSON (kithctl's replies) and as the
 * service manager's status line. Members are documented with kithctl in README.md.
 */

typedef struct {
	guint devices;
	guint online;        /* the device's XMPP identity is online */
	guint not_answering; /* its bus says it does not answer */
} KithOverviewCounts;

void kith_overview_count (KithDaemon *daemon, KithOverviewCounts *counts);
/* "3 devices: 2 online, 1 not answering" */
gchar *kith_overview_status_line (KithDaemon *daemon);
/* adds the members of the status object: version, pid, counts, configuration */
void kith_overview_add_status (JsonBuilder *builder, KithDaemon *daemon, gint64 started_at);
/* one device as an object: id, label, jid, bus, online, answering, silentSince, friends,
 * pending, owner, values */
void kith_overview_add_device (JsonBuilder *builder, KithDaemon *daemon, KithDevice *device);
/* the device's values as an array of {name, value, unit, text, time} */
void kith_overview_add_values (JsonBuilder *builder, KithDevice *device);
/* an ISO 8601 UTC time of a g_get_real_time () value */
gchar *kith_overview_format_time (gint64 real_time);

G_END_DECLS
