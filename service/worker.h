/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Run blocking work (libvirt calls) in a worker thread and continue on the
 * main thread. `work` must not touch sd-bus or any main-thread state. */
#pragma once

#include <glib.h>

typedef void (*WorkerFunc)(gpointer data, GError **error);
typedef void (*WorkerDone)(gpointer data, GError *error);

/* Runs work(data) in a thread, then done(data, error) on the main context. */
void worker_run(WorkerFunc work, WorkerDone done, gpointer data);

/* Jobs started and not yet done. */
guint worker_pending(void);

/* Main thread, at shutdown: run the main context until every job has called
 * its `done` (so calls under way get their answer), or `timeout_ms` passes.
 * Returns FALSE on timeout. */
gboolean worker_drain(guint timeout_ms);
