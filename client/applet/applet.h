/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthrough-applet: the desktop's view of org.example.Passthrough1.
 * Shared declarations of the applet's parts. */
#pragma once

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include "config.h"

#define DISK_IFACE BUS_INTERFACE ".Disk"
#define USB_IFACE BUS_INTERFACE ".UsbDevice"
#define DOMAIN_IFACE BUS_INTERFACE ".Domain"
#define ASSIGNMENT_IFACE BUS_INTERFACE ".Assignment"
#define ERROR_DISMISSED ERROR_PREFIX "AuthorizationDismissed"

typedef struct Applet Applet;

struct Applet {
        GDBusConnection *bus;            /* the system bus */
        GDBusObjectManager *manager;     /* the service's objects (follows its name owner) */
        char *start_error;               /* why bus activation failed, or NULL */
        GHashTable *assigned;            /* device Id -> domain name (ListAssignments) */
        guint assign_generation;         /* counts ListAssignments calls: the latest answer counts */
        GHashTable *plugged;             /* object path -> monotonic time: DeviceAdded before its object */
        GHashTable *plug_notes;          /* device Id -> NotifyNotification (open plug notices) */
        guint signal_id;
        guint rebuild_id;
        GtkMenu *menu;                   /* the tray item's menu, rebuilt in place */
        GObject *indicator;              /* AppIndicator, or NULL with --no-tray */
        GtkWidget *window;               /* "Open Passthrough…", or NULL */
        GtkListStore *store;
        GtkWidget *window_note;          /* the window's "service not running" line */
        GMainLoop *loop;
};

/* A device as the menu and the window show it: a USB device with the disk it
 * carries (a stick), or a disk that sits on no USB device. */
typedef struct {
        GDBusProxy *usb;                 /* NULL for a disk alone */
        GDBusProxy *disk;                /* NULL for a USB device without disks */
} Device;

/* model.c */
void model_start(Applet *a);
void model_start_service(Applet *a);
GDBusProxy *model_proxy(Applet *a, const char *path, const char *iface);
GList *model_domains(Applet *a, gboolean running_only);  /* GDBusProxy list, by name */
GPtrArray *model_devices(Applet *a, const char *kind);   /* Device*, "usb" or "disk" */
gboolean model_available(Applet *a);
char *model_unavailable_reason(Applet *a);
void model_refresh_assignments(Applet *a, const char *kind, const char *attached_id, const char *attached_domain);
Device *model_device(Applet *a, const char *kind, const char *id);   /* NULL when unknown */
void model_changed(Applet *a);

/* props.c */
char *prop_str(GDBusProxy *p, const char *name);
gboolean prop_bool(GDBusProxy *p, const char *name);
guint64 prop_u64(GDBusProxy *p, const char *name);
char **prop_strv(GDBusProxy *p, const char *name);

/* device.c */
char *device_name(Device *d);
char *device_list_name(Device *d, GPtrArray *all);   /* with the serial when names repeat */
const char *device_id(Device *d);
char *device_holder(Device *d);               /* domain name, or NULL */
gboolean device_foreign(Device *d);
gboolean device_held_as_usb(Device *d);
gboolean device_assignable(Device *d);
char *device_assigned_port(Device *d, GPtrArray *all);   /* an assignment follows this port, or NULL */
char *device_unusable_reason(Device *d);      /* NULL when it can be offered */
gboolean device_user_mounted(Device *d);
char *device_state(Device *d);                /* for the window */
Device *device_new(GDBusProxy *usb, GDBusProxy *disk);
void device_free(Device *d);

/* menu.c */
void menu_rebuild(Applet *a);

/* actions.c */
void action_attach(Applet *a, Device *d, const char *as, const char *domain);
void action_give_back(Applet *a, Device *d);
void action_assign(Applet *a, Device *d, const char *domain, gboolean on);

/* notify.c */
void notes_init(Applet *a);
void notes_plugged(Applet *a, Device *d);
void notes_auto_attached(Applet *a, const char *kind, const char *id, const char *domain);
void notes_failure(Applet *a, const char *summary, const char *message);
void notes_close_plug(Applet *a, const char *id);

/* window.c */
void window_show(Applet *a);
void window_refresh(Applet *a);
