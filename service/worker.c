/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>

#include "worker.h"

static gint jobs_running;

typedef struct {
        WorkerFunc work;
        WorkerDone done;
        gpointer data;
} Job;

static void job_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable) {
        Job *job = task_data;
        GError *error = NULL;

        job->work(job->data, &error);
        if (error)
                g_task_return_error(task, error);
        else
                g_task_return_boolean(task, TRUE);
}

static void job_finished(GObject *source, GAsyncResult *result, gpointer user_data) {
        Job *job = g_task_get_task_data(G_TASK(result));
        g_autoptr(GError) error = NULL;

        (void) g_task_propagate_boolean(G_TASK(result), &error);
        job->done(job->data, error);
        g_atomic_int_dec_and_test(&jobs_running);
}

void worker_run(WorkerFunc work, WorkerDone done, gpointer data) {
        g_autoptr(GTask) task = g_task_new(NULL, NULL, job_finished, NULL);
        Job *job = g_new0(Job, 1);

        job->work = work;
        job->done = done;
        job->data = data;
        g_atomic_int_inc(&jobs_running);
        g_task_set_task_data(task, job, g_free);
        g_task_run_in_thread(task, job_thread);
}

guint worker_pending(void) {
        return (guint) g_atomic_int_get(&jobs_running);
}

gboolean worker_drain(guint timeout_ms) {
        gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;

        while (g_atomic_int_get(&jobs_running) > 0) {
                if (g_get_monotonic_time() >= deadline)
                        return FALSE;
                /* Shutdown only: poll each millisecond for the jobs' answers. */
                g_usleep(1000);
                while (g_main_context_iteration(NULL, FALSE))
                        ;
        }
        return TRUE;
}
