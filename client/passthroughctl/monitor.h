/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* monitor: what verb-monitor.c (the loop, the manager's signals, the
 * output) and monitor-objects.c (the live model's objects) share. */
#pragma once

#include "ctl.h"

typedef struct {
        const Ctl *ctl;
        sd_event *event;     /* the bus drops its own reference when it closes */
        GHashTable *objects; /* "PATH INTERFACE" -> CtlObject, as last seen */
} Monitor;

/* One event: with --json its keys time, event, path, interface, signal
 * (the D-Bus signal that told it), then those of fields; else a line of
 * the time and text. */
typedef struct {
        const char *event;
        const char *signal;
        const char *path;
        const char *interface;
        GVariant *fields; /* a{sv} */
        const char *text;
} MonitorEvent;

/* verb-monitor.c: print one event; returns what a match callback returns. */
int monitor_print(const Monitor *monitor, const MonitorEvent *event);

/* monitor-objects.c */
GHashTable *monitor_objects_new(void);
void monitor_load_objects(Monitor *monitor);
int monitor_match_objects(sd_bus *bus, Monitor *monitor);
