/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "device.h"

G_BEGIN_DECLS

/*
 * Every reading kithd takes, kept on disk for a while (STATE_DIR/history.db, SQLite, WAL):
 * friends ask for it with XEP-0323 historical readouts, so what was read while the XMPP server
 * was unreachable is not lost. Written for SD cards: readings wait in memory and go to disk
 * every few minutes (or every few thousand), series by series, with no fsync of their own
 * (WAL with synchronous=NORMAL: a power cut loses at most what waited). A ring by age and by size:
 * what is older than the age limit goes; past the size limit the oldest readings go.
 */
typedef struct _KithHistory KithHistory;

typedef struct {
	guint days;   /* readings older than this go (0: no history at all) */
	guint max_mb; /* the database stays below this */
	guint write_s; /* readings wait in memory at most this long (0: 300 s) */
} KithHistoryLimits;

/* one reading out of the history */
typedef struct {
	gchar *field;
	KithValue value; /* timestamp set */
} KithSample;

void kith_sample_free (KithSample *sample);

KithHistory *kith_history_open (const gchar *state_directory, const KithHistoryLimits *limits,
                                GError **error);
/* writes what waits, then closes */
void kith_history_free (KithHistory *self);
/* the readings of a device that are newer than what was kept of it: kept */
void kith_history_record (KithHistory *self, KithDevice *device);
/* writes what waits now (also done by itself, about once a minute) */
void kith_history_flush (KithHistory *self);
/* writes what waits in slices, from the main loop's next idle moments on (done by itself
 * about once a minute) */
void kith_history_write_soon (KithHistory *self);
/* a device's readings between from and to (g_get_real_time () units, inclusive; 0: no bound)
 * of the fields in names (NULL: all), oldest first, at most max: the oldest ones after from
 * when from is given, else the newest ones up to to (KithSample) */
GPtrArray *kith_history_query (KithHistory *self, const gchar *device_id, GPtrArray *names,
                               gint64 from, gint64 to, guint max);
/* a device that is gone: its readings go too */
void kith_history_forget (KithHistory *self, const gchar *device_id);
/* readings kept, and waiting in memory */
guint64 kith_history_count (KithHistory *self);
guint kith_history_pending (KithHistory *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithSample, kith_sample_free)

G_END_DECLS
