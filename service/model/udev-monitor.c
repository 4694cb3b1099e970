/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib-unix.h>
#include <unistd.h>

#include "disks.h"
#include "errors.h"
#include "udev-monitor.h"
#include "udev-util.h"
#include "usb.h"
#include "worker.h"

#define RECEIVE_BUFFER (16 * 1024 * 1024)
#define MAX_BATCH 256   /* events read per wake-up; the rest on the next one */

typedef struct udev_monitor UdevMonitor;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(UdevMonitor, udev_monitor_unref)

typedef struct {
        const char *kind;
        const char *subsystem, *devtype;
        const char *(*key)(UdevDevice *dev);
        /* key -> Id of what is there now, leaving out the keys in `gone`
         * (removed, though sysfs may still show them); NULL on failure. */
        GHashTable *(*scan)(GHashTable *gone);
} Kind;

static GHashTable *ids_new(void) {
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static GHashTable *scan_usb(GHashTable *gone) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) devices = usb_enumerate(&error);
        g_autoptr(GHashTable) known = usb_ids_known();
        GHashTable *ids;

        if (!devices) {
                g_warning("Cannot list USB devices: %s", error->message);
                return NULL;
        }
        for (guint i = devices->len; i-- > 0;)
                if (g_hash_table_contains(gone, ((UsbDevice *) devices->pdata[i])->syspath))
                        g_ptr_array_remove_index(devices, i);
        usb_assign_ids_keeping(devices, known);
        ids = ids_new();
        for (guint i = 0; i < devices->len; i++) {
                const UsbDevice *dev = devices->pdata[i];

                g_hash_table_insert(ids, g_strdup(dev->syspath), g_strdup(dev->id));
        }
        return ids;
}

static GHashTable *scan_disks(GHashTable *gone) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) disks = disks_list(&error);
        GHashTable *ids;

        if (!disks) {
                g_warning("Cannot list disks: %s", error->message);
                return NULL;
        }
        ids = ids_new();
        for (guint i = 0; i < disks->len; i++) {
                const DiskInfo *disk = disks->pdata[i];

                if (!g_hash_table_contains(gone, disk->name))
                        g_hash_table_insert(ids, g_strdup(disk->name), g_strdup(disk->id));
        }
        return ids;
}

static const Kind kinds[] = {
        { "usb", "usb", "usb_device", udev_device_get_syspath, scan_usb },
        { "disk", "block", "disk", udev_device_get_sysname, scan_disks },
};
#define N_KINDS G_N_ELEMENTS(kinds)

struct UdevWatch {
        Udev *udev;
        UdevMonitor *monitor;
        guint source;
        GHashTable *known[N_KINDS];   /* key -> Id */
        UdevWatchFunc func;
        gpointer data;
        /* Events seen since the last scan started: the scan (a walk of
         * sysfs) runs in a worker, one at a time. */
        gboolean dirty[N_KINDS];
        GHashTable *gone;             /* keys removed */
        gboolean scanning;
        GHashTable *removed[N_KINDS]; /* keys reported removed (sysfs may still show them) */
        GHashTable *replugged;        /* keys removed and added again since the last scan started */
};

/* A scan in a worker: what to scan, and what it found. */
typedef struct {
        UdevWatch *watch;
        gboolean dirty[N_KINDS];
        GHashTable *gone;
        GHashTable *replugged;
        GHashTable *now[N_KINDS];
} Scan;

/* ---- comparing snapshots ---- */

static GList *sorted_keys(GHashTable *table) {
        return g_list_sort(g_hash_table_get_keys(table), (GCompareFunc) g_strcmp0);
}

/* Report the keys of `from` that `to` lacks or maps to another Id. */
static void report_missing(GHashTable *from, GHashTable *to, const char *kind, gboolean added,
                           UdevWatchFunc func, gpointer data) {
        GList *keys = sorted_keys(from);

        for (GList *l = keys; l; l = l->next) {
                const char *id = g_hash_table_lookup(from, l->data);

                if (g_strcmp0(g_hash_table_lookup(to, l->data), id) != 0)
                        func(kind, id, added, data);
        }
        g_list_free(keys);
}

void udev_watch_diff(GHashTable *before, GHashTable *after, const char *kind, UdevWatchFunc func, gpointer data) {
        report_missing(before, after, kind, FALSE, func, data);
        report_missing(after, before, kind, TRUE, func, data);
}

/* ---- events ---- */

static GHashTable *gone_new(void) {
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

/* [worker] */
static void scan_work(gpointer data, GError **error) {
        Scan *scan = data;

        for (guint k = 0; k < N_KINDS; k++)
                if (scan->dirty[k])
                        scan->now[k] = kinds[k].scan(scan->gone);
}

static void start_scan(UdevWatch *watch);

/* A device unplugged and plugged in again (a new device at the same place)
 * between two scans looks unchanged to the scan: say it left, the diff then
 * says it came. Its key leaves `before` for that. */
static void report_replugged(UdevWatch *watch, guint k, GHashTable *before, GHashTable *replugged) {
        GHashTableIter iter;
        gpointer key;

        g_hash_table_iter_init(&iter, replugged);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                const char *id = g_hash_table_lookup(before, key);

                if (!id || !g_hash_table_contains(watch->known[k], key))
                        continue;
                watch->func(kinds[k].kind, id, FALSE, watch->data);
                g_hash_table_remove(before, key);
        }
}

/* Keys that left (in `before`, not in `now`) are removed; keys there now are not. */
static void note_removed(GHashTable *removed, GHashTable *before, GHashTable *now) {
        GHashTableIter iter;
        gpointer key;

        g_hash_table_iter_init(&iter, before);
        while (g_hash_table_iter_next(&iter, &key, NULL))
                if (!g_hash_table_contains(now, key))
                        g_hash_table_add(removed, g_strdup(key));
        g_hash_table_iter_init(&iter, now);
        while (g_hash_table_iter_next(&iter, &key, NULL))
                g_hash_table_remove(removed, key);
}

static void scan_done(gpointer data, GError *unused) {
        Scan *scan = data;
        UdevWatch *watch = scan->watch;

        for (guint k = 0; k < N_KINDS; k++) {
                g_autoptr(GHashTable) before = NULL;

                if (!scan->now[k])
                        continue;
                before = watch->known[k];
                watch->known[k] = scan->now[k];
                if (g_str_equal(kinds[k].kind, "usb"))
                        usb_ids_remember(watch->known[k]);   /* before anyone hears of them */
                note_removed(watch->removed[k], before, watch->known[k]);
                report_replugged(watch, k, before, scan->replugged);
                udev_watch_diff(before, watch->known[k], kinds[k].kind, watch->func, watch->data);
        }
        g_hash_table_unref(scan->gone);
        g_hash_table_unref(scan->replugged);
        g_free(scan);
        watch->scanning = FALSE;
        start_scan(watch);   /* events that came meanwhile */
}

static void start_scan(UdevWatch *watch) {
        Scan *scan;
        gboolean any = FALSE;

        for (guint k = 0; k < N_KINDS; k++)
                any = any || watch->dirty[k];
        if (watch->scanning || !any)
                return;
        scan = g_new0(Scan, 1);
        scan->watch = watch;
        memcpy(scan->dirty, watch->dirty, sizeof(scan->dirty));
        memset(watch->dirty, 0, sizeof(watch->dirty));
        scan->gone = g_steal_pointer(&watch->gone);
        watch->gone = gone_new();
        scan->replugged = g_steal_pointer(&watch->replugged);
        watch->replugged = gone_new();
        watch->scanning = TRUE;
        worker_run(scan_work, scan_done, scan);
}

/* Mark the device's kind for a rescan; remember removed keys. */
static void note_event(UdevDevice *dev, gboolean *dirty, GHashTable *gone, GHashTable *replugged) {
        const char *action = udev_device_get_action(dev);

        for (guint k = 0; k < N_KINDS; k++) {
                const char *key;

                if (g_strcmp0(udev_device_get_subsystem(dev), kinds[k].subsystem) != 0 ||
                    g_strcmp0(udev_device_get_devtype(dev), kinds[k].devtype) != 0)
                        continue;
                key = kinds[k].key(dev);
                dirty[k] = TRUE;
                if (!key)
                        continue;
                if (g_strcmp0(action, "remove") == 0)
                        g_hash_table_add(gone, g_strdup(key));
                else if (g_hash_table_remove(gone, key) && g_strcmp0(action, "add") == 0)
                        g_hash_table_add(replugged, g_strdup(key));   /* out and in before a scan */
        }
}

static gboolean on_events(gint fd, GIOCondition condition, gpointer data) {
        UdevWatch *watch = data;
        guint seen = 0;

        for (guint n = 0; n < MAX_BATCH; n++) {
                g_autoptr(UdevDevice) dev = NULL;

                errno = 0;
                dev = udev_monitor_receive_device(watch->monitor);
                if (dev) {
                        seen++;
                        note_event(dev, watch->dirty, watch->gone, watch->replugged);
                } else if (errno == ENOBUFS) {
                        g_warning("%s", "Device events were lost (receive buffer full); listing devices again");
                        for (guint k = 0; k < N_KINDS; k++)
                                watch->dirty[k] = TRUE;
                } else {
                        break;   /* EAGAIN: all read */
                }
        }
        start_scan(watch);
        if (seen)
                watch->func(NULL, NULL, FALSE, watch->data);
        return G_SOURCE_CONTINUE;
}

GHashTable *udev_watch_removed(UdevWatch *watch, const char *kind) {
        GHashTable *keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GHashTableIter iter;
        gpointer key;

        for (guint k = 0; k < N_KINDS; k++) {
                if (!g_str_equal(kinds[k].kind, kind))
                        continue;
                g_hash_table_iter_init(&iter, watch->removed[k]);
                while (g_hash_table_iter_next(&iter, &key, NULL))
                        g_hash_table_add(keys, g_strdup(key));
        }
        g_hash_table_iter_init(&iter, watch->gone);   /* removes not scanned yet */
        while (g_hash_table_iter_next(&iter, &key, NULL))
                g_hash_table_add(keys, g_strdup(key));
        return keys;
}

void udev_watch_flush(UdevWatch *watch) {
        (void) on_events(udev_monitor_get_fd(watch->monitor), G_IO_IN, watch);
}

/* ---- set-up ---- */

const char *udev_watch_source(void) {
        return access("/run/udev/control", F_OK) == 0 ? "udev" : "kernel";
}

static UdevMonitor *open_monitor(Udev *udev, GError **error) {
        const char *source = udev_watch_source();
        g_autoptr(UdevMonitor) monitor = udev_monitor_new_from_netlink(udev, source);
        int r = monitor ? 0 : -errno;

        for (guint k = 0; r >= 0 && k < N_KINDS; k++)
                r = udev_monitor_filter_add_match_subsystem_devtype(monitor, kinds[k].subsystem, kinds[k].devtype);
        if (r >= 0)   /* partitions: only that something changed */
                r = udev_monitor_filter_add_match_subsystem_devtype(monitor, "block", "partition");
        if (r >= 0 && udev_monitor_set_receive_buffer_size(monitor, RECEIVE_BUFFER) < 0)
                g_debug("Cannot raise the uevent receive buffer: %s", g_strerror(errno));
        if (r >= 0)
                r = udev_monitor_enable_receiving(monitor);
        if (r < 0) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "Cannot watch %s device events: %s", source,
                            g_strerror(-r));
                return NULL;
        }
        g_debug("Watching %s device events", source);
        return g_steal_pointer(&monitor);
}

UdevWatch *udev_watch_new(UdevWatchFunc func, gpointer data, GError **error) {
        g_autoptr(GHashTable) none = g_hash_table_new(g_str_hash, g_str_equal);
        UdevWatch *watch = g_new0(UdevWatch, 1);

        watch->func = func;
        watch->data = data;
        watch->gone = gone_new();
        watch->replugged = gone_new();
        for (guint k = 0; k < N_KINDS; k++)
                watch->removed[k] = gone_new();
        watch->udev = udev_util_open(error);
        watch->monitor = watch->udev ? open_monitor(watch->udev, error) : NULL;
        if (!watch->monitor) {
                udev_watch_free(watch);
                return NULL;
        }
        /* Listen first, then take the snapshot: nothing falls in between. */
        for (guint k = 0; k < N_KINDS; k++) {
                watch->known[k] = kinds[k].scan(none);
                if (!watch->known[k])
                        watch->known[k] = ids_new();
                if (g_str_equal(kinds[k].kind, "usb"))
                        usb_ids_remember(watch->known[k]);
        }
        watch->source = g_unix_fd_add(udev_monitor_get_fd(watch->monitor), G_IO_IN, on_events, watch);
        return watch;
}

void udev_watch_free(UdevWatch *watch) {
        if (!watch)
                return;
        g_clear_handle_id(&watch->source, g_source_remove);
        for (guint k = 0; k < N_KINDS; k++)
                g_clear_pointer(&watch->known[k], g_hash_table_unref);
        g_clear_pointer(&watch->gone, g_hash_table_unref);
        g_clear_pointer(&watch->replugged, g_hash_table_unref);
        for (guint k = 0; k < N_KINDS; k++)
                g_clear_pointer(&watch->removed[k], g_hash_table_unref);
        g_clear_pointer(&watch->monitor, udev_monitor_unref);
        g_clear_pointer(&watch->udev, udev_unref);
        g_free(watch);
}
