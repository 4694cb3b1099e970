/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>

#include "worker.h"

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
}

void worker_run(WorkerFunc work, WorkerDone done, gpointer data) {
        g_autoptr(GTask) task = g_task_new(NULL, NULL, job_finished, NULL);
        Job *job = g_new0(Job, 1);

        job->work = work;
        job->done = done;
        job->data = data;
        g_task_set_task_data(task, job, g_free);
        g_task_run_in_thread(task, job_thread);
}
