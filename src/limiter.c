/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "limiter.h"

typedef struct {
	gdouble tokens;
	gint64 at; /* when tokens was right */
	guint in_flight;
} KithLimiterEntry;

struct _KithLimiter {
	gdouble rate;
	gdouble burst;
	guint max_in_flight;
	GHashTable *entries; /* bare JID -> KithLimiterEntry */
	gint64 pruned_at;
};

KithLimiter *
kith_limiter_new (gdouble rate, gdouble burst, guint max_in_flight)
{
	KithLimiter *self = g_new0 (KithLimiter, 1);
	self->rate = rate;
	self->burst = burst;
	self->max_in_flight = max_in_flight;
	self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	return self;
}

void
kith_limiter_free (KithLimiter *self)
{
	if (self == NULL)
		return;
	g_hash_table_unref (self->entries);
	g_free (self);
}

static void
kith_limiter_refill (KithLimiter *self, KithLimiterEntry *entry, gint64 now)
{
	if (now > entry->at)
		entry->tokens =
		        MIN (self->burst, entry->tokens + (gdouble)(now - entry->at) * self->rate /
		                                                  G_USEC_PER_SEC);
	entry->at = now;
}

/* requesters who would start afresh anyway are forgotten (at most once a second) */
static void
kith_limiter_prune (KithLimiter *self, gint64 now)
{
	GHashTableIter iter;
	gpointer value;

	if (now - self->pruned_at < G_USEC_PER_SEC && self->pruned_at != 0)
		return;
	self->pruned_at = now;
	g_hash_table_iter_init (&iter, self->entries);
	while (g_hash_table_iter_next (&iter, NULL, &value)) {
		KithLimiterEntry *entry = value;
		kith_limiter_refill (self, entry, now);
		if (entry->in_flight == 0 && entry->tokens >= self->burst)
			g_hash_table_iter_remove (&iter);
	}
}

KithLimit
kith_limiter_admit (KithLimiter *self, const gchar *key, gint64 now, gboolean lasting)
{
	KithLimiterEntry *entry = g_hash_table_lookup (self->entries, key);

	if (entry == NULL) {
		if (g_hash_table_size (self->entries) >= KITH_LIMITER_MAX_KEYS / 2)
			kith_limiter_prune (self, now);
		if (g_hash_table_size (self->entries) >= KITH_LIMITER_MAX_KEYS)
			return KITH_LIMIT_RATE;
		entry = g_new0 (KithLimiterEntry, 1);
		entry->tokens = self->burst;
		entry->at = now;
		g_hash_table_insert (self->entries, g_strdup (key), entry);
	}
	kith_limiter_refill (self, entry, now);
	if (lasting && entry->in_flight >= self->max_in_flight)
		return KITH_LIMIT_BUSY;
	if (entry->tokens < 1.0)
		return KITH_LIMIT_RATE;
	entry->tokens -= 1.0;
	return KITH_LIMIT_OK;
}

void
kith_limiter_hold (KithLimiter *self, const gchar *key)
{
	KithLimiterEntry *entry = g_hash_table_lookup (self->entries, key);
	if (entry != NULL)
		entry->in_flight++;
}

void
kith_limiter_release (KithLimiter *self, const gchar *key)
{
	KithLimiterEntry *entry = g_hash_table_lookup (self->entries, key);
	if (entry != NULL && entry->in_flight > 0)
		entry->in_flight--;
}

guint
kith_limiter_get_size (KithLimiter *self)
{
	return g_hash_table_size (self->entries);
}
