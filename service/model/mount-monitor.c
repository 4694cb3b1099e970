/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <libmount.h>
#include <poll.h>
#include <unistd.h>

#include "errors.h"
#include "mount-monitor.h"

struct MountMonitor {
        struct libmnt_monitor *mounts;
        guint mounts_source;
        int swaps_fd;
        guint swaps_source;
        MountsChanged func;
        gpointer data;
};

/* Drain every pending change; TRUE if there was one. */
static gboolean drain_mounts(MountMonitor *monitor) {
        const char *filename = NULL;
        int type = 0;
        gboolean changed = FALSE;

        while (mnt_monitor_next_change(monitor->mounts, &filename, &type) == 0)
                changed = TRUE;
        return changed;
}

static gboolean on_mounts(gint fd, GIOCondition condition, gpointer data) {
        MountMonitor *monitor = data;

        (void) drain_mounts(monitor);
        monitor->func(monitor->data);
        return G_SOURCE_CONTINUE;
}

/* /proc/swaps wakes pollers with POLLPRI|POLLERR; reading it again re-arms. */
static gboolean on_swaps(gint fd, GIOCondition condition, gpointer data) {
        MountMonitor *monitor = data;
        char buffer[4096];

        if (lseek(fd, 0, SEEK_SET) == 0)
                while (read(fd, buffer, sizeof(buffer)) > 0)
                        ;
        monitor->func(monitor->data);
        return G_SOURCE_CONTINUE;
}

void mount_monitor_flush(MountMonitor *monitor) {
        struct pollfd swaps = { .fd = monitor->swaps_fd, .events = POLLPRI };
        gboolean changed = drain_mounts(monitor);

        if (monitor->swaps_fd >= 0 && poll(&swaps, 1, 0) > 0 && swaps.revents) {
                on_swaps(monitor->swaps_fd, 0, monitor);
                return;
        }
        if (changed)
                monitor->func(monitor->data);
}

static gboolean watch_mounts(MountMonitor *monitor, GError **error) {
        int fd, r;

        monitor->mounts = mnt_new_monitor();
        r = monitor->mounts ? mnt_monitor_enable_kernel(monitor->mounts, TRUE) : -ENOMEM;
        fd = r >= 0 ? mnt_monitor_get_fd(monitor->mounts) : r;
        if (fd < 0) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "Cannot watch the mount table: %s", g_strerror(-fd));
                return FALSE;
        }
        monitor->mounts_source = g_unix_fd_add(fd, G_IO_IN, on_mounts, monitor);
        return TRUE;
}

static void watch_swaps(MountMonitor *monitor) {
        char buffer[4096];

        monitor->swaps_fd = open("/proc/swaps", O_RDONLY | O_CLOEXEC);
        if (monitor->swaps_fd < 0)
                return;   /* a kernel without swap */
        while (read(monitor->swaps_fd, buffer, sizeof(buffer)) > 0)
                ;
        monitor->swaps_source = g_unix_fd_add(monitor->swaps_fd, G_IO_PRI | G_IO_ERR, on_swaps, monitor);
}

MountMonitor *mount_monitor_new(MountsChanged func, gpointer data, GError **error) {
        MountMonitor *monitor = g_new0(MountMonitor, 1);

        monitor->func = func;
        monitor->data = data;
        monitor->swaps_fd = -1;
        if (!watch_mounts(monitor, error)) {
                mount_monitor_free(monitor);
                return NULL;
        }
        watch_swaps(monitor);
        return monitor;
}

void mount_monitor_free(MountMonitor *monitor) {
        if (!monitor)
                return;
        g_clear_handle_id(&monitor->mounts_source, g_source_remove);
        g_clear_handle_id(&monitor->swaps_source, g_source_remove);
        if (monitor->swaps_fd >= 0)
                close(monitor->swaps_fd);
        if (monitor->mounts)
                mnt_unref_monitor(monitor->mounts);
        g_free(monitor);
}
