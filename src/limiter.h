/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * What one requester may ask of one device: a token bucket (rate per second, burst) and a
 * number of requests in flight (reads waiting for the bus or the parent, queued readouts,
 * writes). One requester flooding a device is answered `resource-constraint` past these, at
 * once, and everybody else is served as usual. Keys are bare JIDs; the table forgets a
 * requester whose bucket is full again and who has nothing in flight, and holds at most
 * KITH_LIMITER_MAX_KEYS requesters at a time: past that, new ones wait their turn.
 */
#define KITH_LIMITER_MAX_KEYS 1024

typedef enum {
	KITH_LIMIT_OK,
	KITH_LIMIT_RATE, /* too many requests lately */
	KITH_LIMIT_BUSY, /* too many in flight */
} KithLimit;

typedef struct _KithLimiter KithLimiter;

KithLimiter *kith_limiter_new (gdouble rate, gdouble burst, guint max_in_flight);
void kith_limiter_free (KithLimiter *self);
/* one request from key at now (monotonic µs): takes a token, or says why not; a request that
 * would go on in flight (lasting) is also refused while key has too many in flight (a cancel,
 * which ends one, is not) */
KithLimit kith_limiter_admit (KithLimiter *self, const gchar *key, gint64 now, gboolean lasting);
/* the request admitted for key goes on in flight (a read, a write) until released */
void kith_limiter_hold (KithLimiter *self, const gchar *key);
void kith_limiter_release (KithLimiter *self, const gchar *key);
guint kith_limiter_get_size (KithLimiter *self);

G_END_DECLS
