/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mount table and the swap list changed: libmount's monitor for the
 * kernel's mountinfo, and /proc/swaps polled for POLLPRI (the kernel flags a
 * change there). Main thread; no reading of the tables here. */
#pragma once

#include <glib.h>

typedef void (*MountsChanged)(gpointer data);
typedef struct MountMonitor MountMonitor;

MountMonitor *mount_monitor_new(MountsChanged func, gpointer data, GError **error);
void mount_monitor_free(MountMonitor *monitor);

/* Report a change already flagged but not yet dispatched (without waiting). */
void mount_monitor_flush(MountMonitor *monitor);
