/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "limiter.h"

#define SECOND G_USEC_PER_SEC

/* a burst, then the rate; in flight bounds lasting requests only */
static void
test_limiter (void)
{
	KithLimiter *limiter = kith_limiter_new (10.0, 5.0, 2);
	gint64 now = 1000 * SECOND;

	for (guint i = 0; i < 5; i++)
		g_assert_cmpint (kith_limiter_admit (limiter, "a@x", now, FALSE), ==,
		                 KITH_LIMIT_OK);
	g_assert_cmpint (kith_limiter_admit (limiter, "a@x", now, FALSE), ==, KITH_LIMIT_RATE);
	/* another requester is not affected */
	g_assert_cmpint (kith_limiter_admit (limiter, "b@x", now, TRUE), ==, KITH_LIMIT_OK);
	/* 100 ms later: one more token */
	g_assert_cmpint (kith_limiter_admit (limiter, "a@x", now + SECOND / 10, FALSE), ==,
	                 KITH_LIMIT_OK);
	g_assert_cmpint (kith_limiter_admit (limiter, "a@x", now + SECOND / 10, FALSE), ==,
	                 KITH_LIMIT_RATE);
	/* in flight */
	now += 10 * SECOND;
	kith_limiter_hold (limiter, "a@x");
	kith_limiter_hold (limiter, "a@x");
	g_assert_cmpint (kith_limiter_admit (limiter, "a@x", now, TRUE), ==, KITH_LIMIT_BUSY);
	g_assert_cmpint (kith_limiter_admit (limiter, "a@x", now, FALSE), ==, KITH_LIMIT_OK);
	kith_limiter_release (limiter, "a@x");
	g_assert_cmpint (kith_limiter_admit (limiter, "a@x", now, TRUE), ==, KITH_LIMIT_OK);
	kith_limiter_free (limiter);
}

/* requesters with full buckets and nothing in flight are forgotten; the table is bounded */
static void
test_limiter_bounded (void)
{
	KithLimiter *limiter = kith_limiter_new (10.0, 5.0, 2);
	gint64 now = 1000 * SECOND;
	guint refused = 0;

	for (guint i = 0; i < 3 * KITH_LIMITER_MAX_KEYS; i++) {
		g_autofree gchar *key = g_strdup_printf ("bot%u@x", i);
		if (kith_limiter_admit (limiter, key, now, TRUE) != KITH_LIMIT_OK)
			refused++;
	}
	g_assert_cmpuint (kith_limiter_get_size (limiter), ==, KITH_LIMITER_MAX_KEYS);
	g_assert_cmpuint (refused, ==, 2 * KITH_LIMITER_MAX_KEYS);
	/* a second later they are all full again: forgotten */
	g_assert_cmpint (kith_limiter_admit (limiter, "new@x", now + 2 * SECOND, TRUE), ==,
	                 KITH_LIMIT_OK);
	g_assert_cmpuint (kith_limiter_get_size (limiter), ==, 1);
	kith_limiter_free (limiter);
}

int
main (int argc, char *argv[])
{
	g_test_init (&argc, &argv, NULL);
	g_test_add_func ("/kith/limiter/bucket", test_limiter);
	g_test_add_func ("/kith/limiter/bounded", test_limiter_bounded);
	return g_test_run ();
}
