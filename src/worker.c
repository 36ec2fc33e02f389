/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "kith"

#include "worker.h"

/* what the worker thread and the main loop share; the thread may outlive the KithWorker */
typedef struct {
	gint ref_count;
	GAsyncQueue *queue; /* KithWorkerJob */
	GMainContext *context;
	gchar *name;
} KithWorkerShared;

typedef struct {
	KithWorkerShared *shared;
	KithWorker *worker; /* NULL once the worker is freed (main loop only) */
	KithWorkerFunc run;
	gpointer data;
	GDestroyNotify data_free;
	GDestroyNotify result_free;
	GCancellable *cancellable;
	KithWorkerDoneFunc done;
	gpointer user_data;
	gpointer result; /* written by the thread before the hand-over */
	GError *error;
	gboolean quit;      /* the last job: the thread ends */
	gboolean delivered; /* done ran (main loop only) */
} KithWorkerJob;

struct _KithWorker {
	KithWorkerShared *shared;
	GThread *thread;
	GHashTable *jobs; /* KithWorkerJob not delivered yet */
};

static KithWorkerShared *
kith_worker_shared_ref (KithWorkerShared *shared)
{
	g_atomic_int_inc (&shared->ref_count);
	return shared;
}

static void
kith_worker_shared_unref (KithWorkerShared *shared)
{
	if (!g_atomic_int_dec_and_test (&shared->ref_count))
		return;
	g_async_queue_unref (shared->queue);
	g_main_context_unref (shared->context);
	g_free (shared->name);
	g_free (shared);
}

static void
kith_worker_job_free (KithWorkerJob *job)
{
	if (job->result != NULL && job->result_free != NULL)
		job->result_free (job->result);
	g_clear_error (&job->error);
	g_clear_object (&job->cancellable);
	kith_worker_shared_unref (job->shared);
	g_free (job);
}

static void
kith_worker_job_done (KithWorkerJob *job, gpointer result, const GError *error)
{
	job->delivered = TRUE;
	if (job->worker != NULL)
		g_hash_table_remove (job->worker->jobs, job);
	if (job->done != NULL)
		job->done (result, error, job->user_data);
}

/* main loop: the thread finished a job */
static gboolean
kith_worker_deliver_cb (gpointer user_data)
{
	KithWorkerJob *job = user_data;

	if (!job->delivered) {
		if (job->error == NULL && g_cancellable_is_cancelled (job->cancellable)) {
			if (job->result != NULL && job->result_free != NULL)
				job->result_free (job->result);
			job->result = NULL;
			g_set_error_literal (&job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
			                     "cancelled");
		}
		kith_worker_job_done (job, g_steal_pointer (&job->result), job->error);
	}
	kith_worker_job_free (job);
	return G_SOURCE_REMOVE;
}

static gpointer
kith_worker_thread (gpointer user_data)
{
	KithWorkerShared *shared = user_data;

	for (;;) {
		KithWorkerJob *job = g_async_queue_pop (shared->queue);
		if (job->quit) {
			kith_worker_job_free (job);
			break;
		}
		if (!g_cancellable_set_error_if_cancelled (job->cancellable, &job->error))
			job->result = job->run (job->data, job->cancellable, &job->error);
		if (job->data_free != NULL && job->data != NULL)
			job->data_free (job->data);
		job->data = NULL;
		g_main_context_invoke_full (shared->context, G_PRIORITY_DEFAULT,
		                            kith_worker_deliver_cb, job, NULL);
	}
	kith_worker_shared_unref (shared);
	return NULL;
}

KithWorker *
kith_worker_new (const gchar *name)
{
	KithWorker *self = g_new0 (KithWorker, 1);
	KithWorkerShared *shared = g_new0 (KithWorkerShared, 1);
	g_autofree gchar *thread_name = g_strdup_printf ("kith-%.10s", name);

	shared->ref_count = 1;
	shared->queue = g_async_queue_new ();
	shared->context = g_main_context_ref_thread_default ();
	shared->name = g_strdup (name);
	self->shared = shared;
	self->jobs = g_hash_table_new (g_direct_hash, g_direct_equal);
	self->thread =
	        g_thread_new (thread_name, kith_worker_thread, kith_worker_shared_ref (shared));
	return self;
}

void
kith_worker_free (KithWorker *self)
{
	KithWorkerJob *quit;
	g_autoptr (GList) jobs = NULL;
	g_autoptr (GError) cancelled = NULL;

	if (self == NULL)
		return;
	kith_worker_cancel_all (self);
	/* every job still owed an answer gets it now; what the thread finishes later is dropped */
	cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "the bus stopped");
	jobs = g_hash_table_get_keys (self->jobs);
	for (GList *l = jobs; l != NULL; l = l->next) {
		KithWorkerJob *job = l->data;
		job->worker = NULL;
		job->delivered = TRUE;
		if (job->done != NULL)
			job->done (NULL, cancelled, job->user_data);
	}
	g_hash_table_unref (self->jobs);
	quit = g_new0 (KithWorkerJob, 1);
	quit->shared = kith_worker_shared_ref (self->shared);
	quit->quit = TRUE;
	g_async_queue_push (self->shared->queue, quit);
	/* not joined: a job may be blocked in I/O; the thread ends after it */
	g_thread_unref (self->thread);
	kith_worker_shared_unref (self->shared);
	g_free (self);
}

void
kith_worker_push (KithWorker *self, KithWorkerFunc run, gpointer data, GDestroyNotify data_free,
                  GDestroyNotify result_free, GCancellable *cancellable, KithWorkerDoneFunc done,
                  gpointer user_data)
{
	KithWorkerJob *job = g_new0 (KithWorkerJob, 1);

	job->shared = kith_worker_shared_ref (self->shared);
	job->worker = self;
	job->run = run;
	job->data = data;
	job->data_free = data_free;
	job->result_free = result_free;
	job->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
	job->done = done;
	job->user_data = user_data;
	g_hash_table_add (self->jobs, job);
	g_async_queue_push (self->shared->queue, job);
}

void
kith_worker_cancel_all (KithWorker *self)
{
	GHashTableIter iter;
	gpointer job;

	g_hash_table_iter_init (&iter, self->jobs);
	while (g_hash_table_iter_next (&iter, &job, NULL))
		g_cancellable_cancel (((KithWorkerJob *)job)->cancellable);
}

guint
kith_worker_get_pending (KithWorker *self)
{
	return g_hash_table_size (self->jobs);
}

const gchar *
kith_worker_get_name (KithWorker *self)
{
	return self->shared->name;
}
