/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The service's context: one of each, living on the main thread. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "assign-store.h"
#include "authz.h"
#include "callers.h"
#include "udev-monitor.h"
#include "virt.h"

typedef struct AutoAttach AutoAttach;
typedef struct Model Model;
typedef struct MountMonitor MountMonitor;

typedef struct {
        GMainLoop *loop;
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *vtable_slot;
        Authz *authz;
        Callers *callers;             /* uids of callers, per-uid caps */
        Virt *virt;
        Model *model;                 /* the live model: what the host and the VMs hold */
        MountMonitor *mount_monitor;  /* mounts and swaps changed: the model refreshes */
        UdevWatch *udev_watch;        /* DeviceAdded/DeviceRemoved; NULL if udev is unavailable */
        AssignStore *store;           /* the assignments */
        AutoAttach *autoattach;       /* keeps assigned devices attached */
        gboolean verbose;
        int exit_code;              /* EXIT_FAILURE when the bus went away */
        guint exit_idle_seconds;    /* 0: never exit when idle */
        gint64 last_call;           /* monotonic time of the last method call */
        gboolean releasing;         /* idle: the bus name was given up */
} Manager;

/* api.c: export the object and its vtable on m->bus. */
int api_register(Manager *m);

/* Signals (main thread). */
void api_emit_device_attached(Manager *m, const char *domain, const char *kind, const char *id, const char *target);
void api_emit_device_detached(Manager *m, const char *domain, const char *kind, const char *id);
void api_emit_device_added(Manager *m, const char *kind, const char *id);
void api_emit_device_removed(Manager *m, const char *kind, const char *id);
void api_emit_auto_attach_failed(Manager *m, const char *domain, const char *kind, const char *id, const char *error);

/* Method handlers living in their own files. */
int method_list_disks(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_attach_disk(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_detach_disk(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_domains(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_attached(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_usb_devices(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_attach_usb(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_detach_usb(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_assign(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_unassign(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_list_assignments(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_attach_all(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_detach_all(sd_bus_message *message, void *userdata, sd_bus_error *error);

/* The objects' methods (bus/objects.c finds the object; userdata is it). */
int method_disk_object_attach(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_disk_object_detach(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_usb_object_attach(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_usb_object_detach(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_assignment_object_delete(sd_bus_message *message, void *userdata, sd_bus_error *error);

/* assign-ops.c: an Assignment object's Delete (as Unassign of its match). */
int assignment_object_delete(Manager *m, sd_bus_message *message, const char *match, sd_bus_error *error);

/* Reply to a kept call with a GError (PT_ERROR names) and drop the ref. */
void reply_error(sd_bus_message *message, const GError *error);
