/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hotplug: a libudev monitor on the main loop that reports USB devices and
 * disks coming and going, each by the Id the listings give it.
 *
 * Events only say "something happened to the USB devices (or disks)": the
 * kind is then listed again and compared with what was known (key -> Id, the
 * key being the USB device's syspath or the disk's kernel name), so an Id
 * that changes (a second device with the same serial appears) is reported as
 * removed and added, a lost event (ENOBUFS) costs nothing but a rescan, and
 * a removed device is named by the Id it had. */
#pragma once

#include <glib.h>

typedef struct UdevWatch UdevWatch;

/* Main thread. kind: "usb" or "disk" (added or removed); kind and id NULL:
 * device events came that changed neither list (a partition, a loop device
 * set up, a change event). */
typedef void (*UdevWatchFunc)(const char *kind, const char *id, gboolean added, gpointer data);

/* Take the first snapshot (no reports) and start watching. NULL + error if
 * no monitor can be set up. */
UdevWatch *udev_watch_new(UdevWatchFunc func, gpointer data, GError **error);
void udev_watch_free(UdevWatch *watch);

/* The keys ("usb": syspaths, "disk": kernel names) the events said were
 * removed, though sysfs may still show them for a while; new. */
GHashTable *udev_watch_removed(UdevWatch *watch, const char *kind);

/* Read the events already queued now, as if the main loop had woken up. */
void udev_watch_flush(UdevWatch *watch);

/* Where events come from: "udev" when systemd-udevd runs (/run/udev/control
 * exists): events after its rules ran, devices complete (by-id links, which
 * disk Ids use). Else "kernel": the raw uevents, which are all there is
 * without udevd (the "udev" group would stay silent). */
const char *udev_watch_source(void);

/* Pure: report every key of `before` that `after` lacks or gives another Id
 * as removed (with its old Id), then every key of `after` that is new or
 * changed as added; each in key order. */
void udev_watch_diff(GHashTable *before, GHashTable *after, const char *kind, UdevWatchFunc func, gpointer data);
