/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * One thread for a bus's blocking I/O (libmodbus, I2C ioctls, a slow serial line). Jobs run one
 * after the other on the worker thread, in the order they were queued; each result is delivered
 * on the main loop. A job that blocks for seconds delays only the jobs of its own bus.
 *
 * Cancelling (one job through its GCancellable, or all) makes the queued jobs end without
 * running and tells a running job through its cancellable; their done callbacks still run, on
 * the main loop, with a G_IO_ERROR_CANCELLED error, so every job's user data is released in one
 * place. After kith_worker_free() no done callback runs at all: a job still blocked in I/O
 * finishes on its thread and its result is dropped there.
 */
typedef struct _KithWorker KithWorker;

/* runs on the worker thread: blocking calls are fine; returns the result (NULL is a valid
 * result) or sets error. Must not touch main-loop objects (devices, identities). */
typedef gpointer (*KithWorkerFunc) (gpointer data, GCancellable *cancellable, GError **error);
/* runs on the main loop with the result (owned by the callback) or the error */
typedef void (*KithWorkerDoneFunc) (gpointer result, const GError *error, gpointer user_data);

/* name: for the thread name and the log (e.g. the bus name) */
KithWorker *kith_worker_new (const gchar *name);
/* cancels every job and lets the thread go; safe while a job blocks */
void kith_worker_free (KithWorker *self);

/* queues a job. data is handed to run and freed with data_free on the worker thread after run;
 * result_free frees a result that nobody receives (a cancelled or freed worker). done receives
 * the result on the main loop. cancellable: NULL for one of the worker's own. */
void kith_worker_push (KithWorker *self, KithWorkerFunc run, gpointer data,
                       GDestroyNotify data_free, GDestroyNotify result_free,
                       GCancellable *cancellable, KithWorkerDoneFunc done, gpointer user_data);
/* cancels the queued jobs and the running one (their done callbacks report cancellation) */
void kith_worker_cancel_all (KithWorker *self);
/* jobs queued or running */
guint kith_worker_get_pending (KithWorker *self);
const gchar *kith_worker_get_name (KithWorker *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithWorker, kith_worker_free)

G_END_DECLS
