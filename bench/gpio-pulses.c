/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kith-gpio-pulses: pulses a gpio-sim line from inside the emulated machine, for bench/gpio.py.
 *
 *   kith-gpio-pulses PULL COUNT PERIOD_US
 *
 * PULL is a line's sysfs "pull" attribute (/sys/devices/platform/gpio-sim.0/gpiochipN/
 * sim_gpioM/pull). Each pulse is pull-up for half the period, then pull-down for the other
 * half. Each level is held at least half a period (CLOCK_MONOTONIC): a wake-up that comes late
 * is not caught up by writing the next levels in a burst, so no pulse is narrower and no two
 * rising edges closer than asked, as with a real pulse train; the mean period is then longer.
 * Prints what it did as one line:
 *
 *   pulses=1000 period_us=1000 elapsed_us=1103412 late=12 worst_late_us=640
 *
 * (late: wake-ups more than a quarter period after their deadline)
 */
#include <glib.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static gint64
pulses_now_ns (void)
{
	struct timespec now;
	clock_gettime (CLOCK_MONOTONIC, &now);
	return (gint64)now.tv_sec * G_GINT64_CONSTANT (1000000000) + now.tv_nsec;
}

static void
pulses_sleep_until (gint64 deadline_ns)
{
	struct timespec when = { .tv_sec = deadline_ns / 1000000000,
		                 .tv_nsec = deadline_ns % 1000000000 };
	while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &when, NULL) == EINTR)
		;
}

int
main (int argc, char **argv)
{
	static const gchar up[] = "pull-up", down[] = "pull-down";
	guint64 count, period_us, late = 0;
	gint64 start, deadline, worst = 0;
	gint fd;

	if (argc != 4 || !g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXUINT32, &count, NULL) ||
	    !g_ascii_string_to_unsigned (argv[3], 10, 2, 10000000, &period_us, NULL)) {
		g_printerr ("usage: kith-gpio-pulses PULL COUNT PERIOD_US\n");
		return 2;
	}
	fd = open (argv[1], O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		g_printerr ("%s: %s\n", argv[1], g_strerror (errno));
		return 1;
	}
	start = deadline = pulses_now_ns () + 1000000;
	for (guint64 i = 0; i < 2 * count; i++) {
		const gchar *level = i % 2 == 0 ? up : down;
		gint64 woke;

		pulses_sleep_until (deadline);
		woke = pulses_now_ns ();
		if (woke - deadline > (gint64)period_us * 250)
			late++;
		worst = MAX (worst, woke - deadline);
		deadline = woke + (gint64)period_us * 500;
		/* sysfs takes each write whole, from offset 0 */
		if (pwrite (fd, level, strlen (level), 0) < 0) {
			g_printerr ("%s: %s\n", argv[1], g_strerror (errno));
			close (fd);
			return 1;
		}
	}
	close (fd);
	printf ("pulses=%" G_GUINT64_FORMAT " period_us=%" G_GUINT64_FORMAT
	        " elapsed_us=%" G_GINT64_FORMAT " late=%" G_GUINT64_FORMAT
	        " worst_late_us=%" G_GINT64_FORMAT "\n",
	        count, period_us, (pulses_now_ns () - start) / 1000, late, worst / 1000);
	return 0;
}
