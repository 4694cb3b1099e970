/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthrough-applet: the service's objects (a GDBusObjectManagerClient that
 * follows the name's owner, so a restarted service is picked up again), its
 * signals, and the assignments. Every change schedules one rebuild of the menu
 * and the window; nothing is polled. */

#include "applet.h"

static void on_changed(Applet *a) {
        model_changed(a);
}

static gboolean rebuild(gpointer data) {
        Applet *a = data;
        a->rebuild_id = 0;
        menu_rebuild(a);
        window_refresh(a);
        return G_SOURCE_REMOVE;
}

void model_changed(Applet *a) {
        if (!a->rebuild_id)
                a->rebuild_id = g_idle_add(rebuild, a);
}

gboolean model_available(Applet *a) {
        if (!a->manager)
                return FALSE;
        g_autofree char *owner = g_dbus_object_manager_client_get_name_owner(G_DBUS_OBJECT_MANAGER_CLIENT(a->manager));
        return owner != NULL;
}

char *model_unavailable_reason(Applet *a) {
        if (!a->manager && !a->start_error)
                return g_strdup(_("Connecting to the Passthrough service…"));
        if (a->start_error)
                return g_strdup_printf(_("The Passthrough service is not running: %s"), a->start_error);
        return g_strdup(_("The Passthrough service is not running."));
}

GDBusProxy *model_proxy(Applet *a, const char *path, const char *iface) {
        if (!a->manager || !path || !g_variant_is_object_path(path))
                return NULL;
        return G_DBUS_PROXY(g_dbus_object_manager_get_interface(a->manager, path, iface));
}

static char *sort_key(GDBusProxy *p, const char *prop) {
        g_autofree char *s = prop_str(p, prop);
        return g_utf8_collate_key(s, -1);
}

static int by_name(gconstpointer x, gconstpointer y) {
        g_autofree char *kx = sort_key((GDBusProxy *)x, "Name");
        g_autofree char *ky = sort_key((GDBusProxy *)y, "Name");
        return strcmp(kx, ky);
}

GList *model_domains(Applet *a, gboolean running_only) {
        GList *out = NULL;
        if (!model_available(a))
                return NULL;
        GList *objects = g_dbus_object_manager_get_objects(a->manager);
        for (GList *l = objects; l; l = l->next) {
                GDBusProxy *p = G_DBUS_PROXY(g_dbus_object_get_interface(l->data, DOMAIN_IFACE));
                if (!p)
                        continue;
                g_autofree char *state = prop_str(p, "State");
                if (running_only && !g_str_equal(state, "running"))
                        g_object_unref(p);
                else
                        out = g_list_prepend(out, p);
        }
        g_list_free_full(objects, g_object_unref);
        return g_list_sort(out, by_name);
}

static int device_order(gconstpointer x, gconstpointer y) {
        g_autofree char *nx = device_name(*(Device **)x);
        g_autofree char *ny = device_name(*(Device **)y);
        return g_utf8_collate(nx, ny);
}

/* A USB device with the first disk it carries that the model has. */
static Device *usb_device(Applet *a, GDBusProxy *usb) {
        g_auto(GStrv) disks = prop_strv(usb, "Disks");
        for (char **d = disks; *d; d++) {
                g_autoptr(GDBusProxy) disk = model_proxy(a, *d, DISK_IFACE);
                if (disk)
                        return device_new(usb, disk);
        }
        return device_new(usb, NULL);
}

/* A disk on a USB device the model has is shown with that device. */
static gboolean on_usb(Applet *a, GDBusProxy *disk) {
        g_autofree char *usb = prop_str(disk, "UsbDevice");
        g_autoptr(GDBusProxy) p = model_proxy(a, usb, USB_IFACE);
        return p != NULL;
}

GPtrArray *model_devices(Applet *a, const char *kind) {
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)device_free);
        if (!model_available(a))
                return out;
        gboolean usb = g_str_equal(kind, "usb");
        GList *objects = g_dbus_object_manager_get_objects(a->manager);
        for (GList *l = objects; l; l = l->next) {
                g_autoptr(GDBusProxy) p =
                        G_DBUS_PROXY(g_dbus_object_get_interface(l->data, usb ? USB_IFACE : DISK_IFACE));
                if (!p)
                        continue;
                if (usb)
                        g_ptr_array_add(out, usb_device(a, p));
                else if (!on_usb(a, p))
                        g_ptr_array_add(out, device_new(NULL, p));
        }
        g_list_free_full(objects, g_object_unref);
        g_ptr_array_sort(out, device_order);
        return out;
}

/* sd_bus_path_encode()'s escaping: bytes outside [A-Za-z0-9], and a digit
 * first, as _XX. */
static char *object_path(const char *kind, const char *id) {
        GString *s = g_string_new(BUS_PATH "/");
        g_string_append_printf(s, "%s/", kind);
        if (!*id)
                g_string_append_c(s, '_');
        for (const char *c = id; *c; c++) {
                if (g_ascii_isalpha(*c) || (c > id && g_ascii_isdigit(*c)))
                        g_string_append_c(s, *c);
                else
                        g_string_append_printf(s, "_%02x", (unsigned char)*c);
        }
        return g_string_free(s, FALSE);
}

/* DeviceAdded told before its object came: kept a while for the object, at
 * most PLUGGED_MAX of them (an object that never comes is forgotten). */
#define PLUGGED_WAIT_US (30 * G_USEC_PER_SEC)
#define PLUGGED_MAX 64

static gboolean plugged_expired(gpointer path, gpointer since, gpointer now) {
        return *(gint64 *)now - *(gint64 *)since > PLUGGED_WAIT_US;
}

static void plugged_wait(Applet *a, const char *path) {
        gint64 now = g_get_monotonic_time();
        g_hash_table_foreach_remove(a->plugged, plugged_expired, &now);
        if (g_hash_table_size(a->plugged) >= PLUGGED_MAX)
                g_hash_table_remove_all(a->plugged);
        g_hash_table_replace(a->plugged, g_strdup(path), g_memdup2(&now, sizeof now));
}

static void refresh_assignments(Applet *a, const char *kind, const char *attached_id,
                                const char *attached_domain, const char *plugged_path);

/* The device whose object is at path, or NULL. */
static Device *device_at(Applet *a, const char *path) {
        g_autoptr(GDBusProxy) usb = model_proxy(a, path, USB_IFACE);
        if (usb)
                return usb_device(a, usb);
        g_autoptr(GDBusProxy) disk = model_proxy(a, path, DISK_IFACE);
        return disk ? device_new(NULL, disk) : NULL;
}

/* A device came: asked about once the assignments are known afresh (an
 * assigned device is given by the service; its quiet notice follows). */
static void plugged(Applet *a, const char *path) {
        g_autoptr(GDBusProxy) usb = model_proxy(a, path, USB_IFACE);
        g_autoptr(GDBusProxy) disk = model_proxy(a, path, DISK_IFACE);
        if (!usb && !disk) {
                plugged_wait(a, path);
                return;
        }
        g_hash_table_remove(a->plugged, path);
        g_autofree char *carrier = disk ? prop_str(disk, "UsbDevice") : NULL;
        if (carrier && g_variant_is_object_path(carrier) && !g_str_equal(carrier, "/"))
                return;   /* a stick's disk: its USB device's notice tells it (it may come later) */
        refresh_assignments(a, NULL, NULL, NULL, path);
}

/* [ListAssignments answered] Ask about the device at path unless an
 * assignment gives it to a VM. */
static void plugged_ask(Applet *a, const char *path, GHashTable *listed) {
        Device *d = device_at(a, path);
        if (!d)
                return;   /* gone meanwhile */
        if (!g_hash_table_contains(listed, device_id(d)))
                notes_plugged(a, d);
        device_free(d);
}

/* The device a signal names, or NULL. */
Device *model_device(Applet *a, const char *kind, const char *id) {
        g_autofree char *path = object_path(kind, id);
        return device_at(a, path);
}

typedef struct {
        Applet *a;
        guint generation;   /* a->assign_generation when asked */
        char *kind;
        char *id;
        char *domain;
        char *plugged_path; /* a device that came: ask about it unless assigned */
} AttachedNote;

static GHashTable *assignments_read(GVariant *reply) {
        GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(GVariant) list = g_variant_get_child_value(reply, 0);
        GVariantIter it;
        GVariant *rec;
        g_variant_iter_init(&it, list);
        while ((rec = g_variant_iter_next_value(&it))) {
                const char *id = "", *domain = "";
                g_variant_lookup(rec, "Id", "&s", &id);
                g_variant_lookup(rec, "Domain", "&s", &domain);
                if (*id)
                        g_hash_table_insert(out, g_strdup(id), g_strdup(domain));
                g_variant_unref(rec);
        }
        return out;
}

/* Only the answer to the latest call replaces the list (an older one may come
 * last); any answer can tell whether an assignment explains an attach. */
static void assignments_listed(GObject *src, GAsyncResult *res, gpointer data) {
        AttachedNote *n = data;
        Applet *a = n->a;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);
        if (reply) {
                g_autoptr(GHashTable) listed = assignments_read(reply);
                const char *to = n->id ? g_hash_table_lookup(listed, n->id) : NULL;
                if (n->generation == a->assign_generation) {
                        g_hash_table_unref(a->assigned);
                        a->assigned = g_hash_table_ref(listed);
                        model_changed(a);
                }
                if (to && g_str_equal(to, n->domain))
                        notes_auto_attached(a, n->kind, n->id, n->domain);
                if (n->plugged_path)
                        plugged_ask(a, n->plugged_path, listed);
        } else {
                g_debug("ListAssignments: %s", error->message);
        }
        g_free(n->kind);
        g_free(n->id);
        g_free(n->domain);
        g_free(n->plugged_path);
        g_free(n);
}

/* attached_id/attached_domain: a DeviceAttached this applet did not ask for,
 * told as a quiet notice when an assignment explains it; plugged_path: a
 * device that came, asked about unless an assignment gives it away. */
static void refresh_assignments(Applet *a, const char *kind, const char *attached_id,
                                const char *attached_domain, const char *plugged_path) {
        AttachedNote *n = g_new0(AttachedNote, 1);
        n->a = a;
        n->generation = ++a->assign_generation;
        n->kind = g_strdup(kind);
        n->id = g_strdup(attached_id);
        n->domain = g_strdup(attached_domain);
        n->plugged_path = g_strdup(plugged_path);
        g_dbus_connection_call(a->bus, BUS_NAME, BUS_PATH, BUS_INTERFACE, "ListAssignments", NULL,
                               G_VARIANT_TYPE("(aa{sv})"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL,
                               assignments_listed, n);
}

void model_refresh_assignments(Applet *a, const char *kind, const char *attached_id, const char *attached_domain) {
        refresh_assignments(a, kind, attached_id, attached_domain, NULL);
}

static void on_signal(GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                      const char *member, GVariant *params, gpointer data) {
        Applet *a = data;
        const char *domain, *kind, *id, *extra;
        if (g_str_equal(member, "DeviceAdded") && g_variant_is_of_type(params, G_VARIANT_TYPE("(ss)"))) {
                g_variant_get(params, "(&s&s)", &kind, &id);
                g_autofree char *p = object_path(kind, id);
                plugged(a, p);
        } else if (g_str_equal(member, "DeviceAttached") && g_variant_is_of_type(params, G_VARIANT_TYPE("(ssss)"))) {
                g_variant_get(params, "(&s&s&s&s)", &domain, &kind, &id, &extra);
                notes_close_plug(a, id);
                model_refresh_assignments(a, kind, id, domain);
        } else if (g_str_equal(member, "AutoAttachFailed") && g_variant_is_of_type(params, G_VARIANT_TYPE("(ssss)"))) {
                g_variant_get(params, "(&s&s&s&s)", &domain, &kind, &id, &extra);
                Device *d = model_device(a, kind, id);
                g_autofree char *name = d ? device_name(d) : g_strdup(id);
                g_autofree char *summary = g_strdup_printf(_("Could not give %s to %s"), name, domain);
                notes_failure(a, summary, extra);
                if (d)
                        device_free(d);
        }
}

static void on_object_added(GDBusObjectManager *m, GDBusObject *obj, Applet *a) {
        const char *path = g_dbus_object_get_object_path(obj);
        if (g_hash_table_contains(a->plugged, path))
                plugged(a, path);
        model_changed(a);
}

static void on_interface_changed(GDBusObjectManager *m, GDBusObject *obj, GDBusInterface *iface, Applet *a) {
        GDBusInterfaceInfo *info = g_dbus_interface_get_info(iface);
        const char *name = info ? info->name : g_dbus_proxy_get_interface_name(G_DBUS_PROXY(iface));
        if (g_strcmp0(name, ASSIGNMENT_IFACE) == 0)
                model_refresh_assignments(a, NULL, NULL, NULL);
        model_changed(a);
}

/* A device gone: its plug notice's actions are dead. */
static void on_interface_removed(GDBusObjectManager *m, GDBusObject *obj, GDBusInterface *iface, Applet *a) {
        const char *name = g_dbus_proxy_get_interface_name(G_DBUS_PROXY(iface));
        if (g_str_equal(name, USB_IFACE) || g_str_equal(name, DISK_IFACE)) {
                g_autofree char *id = prop_str(G_DBUS_PROXY(iface), "Id");
                notes_close_plug(a, id);
        }
        on_interface_changed(m, obj, iface, a);
}

static void on_properties_changed(GDBusObjectManagerClient *m, GDBusObjectProxy *obj, GDBusProxy *p,
                                  GVariant *changed, GStrv invalidated, Applet *a) {
        if (g_str_equal(g_dbus_proxy_get_interface_name(p), ASSIGNMENT_IFACE))
                model_refresh_assignments(a, NULL, NULL, NULL);
        model_changed(a);
}

/* A new owner (or none) knows nothing of the old one's calls and devices. */
static void on_owner(GObject *m, GParamSpec *pspec, Applet *a) {
        a->assign_generation++;
        g_hash_table_remove_all(a->assigned);
        g_hash_table_remove_all(a->plugged);
        if (model_available(a)) {
                g_clear_pointer(&a->start_error, g_free);
                model_refresh_assignments(a, NULL, NULL, NULL);
        }
        model_changed(a);
}

static void manager_ready(GObject *src, GAsyncResult *res, gpointer data) {
        Applet *a = data;
        g_autoptr(GError) error = NULL;
        a->manager = g_dbus_object_manager_client_new_finish(res, &error);
        if (!a->manager) {
                g_warning("Cannot follow the service's objects: %s", error->message);
                return;
        }
        g_signal_connect(a->manager, "object-added", G_CALLBACK(on_object_added), a);
        g_signal_connect_swapped(a->manager, "object-removed", G_CALLBACK(on_changed), a);
        g_signal_connect(a->manager, "interface-added", G_CALLBACK(on_interface_changed), a);
        g_signal_connect(a->manager, "interface-removed", G_CALLBACK(on_interface_removed), a);
        g_signal_connect(a->manager, "interface-proxy-properties-changed", G_CALLBACK(on_properties_changed), a);
        g_signal_connect(a->manager, "notify::name-owner", G_CALLBACK(on_owner), a);
        on_owner(NULL, NULL, a);
}

static void service_started(GObject *src, GAsyncResult *res, gpointer data) {
        Applet *a = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);
        if (!reply && !model_available(a)) {
                g_dbus_error_strip_remote_error(error);
                g_free(a->start_error);
                a->start_error = g_strdup(error->message);
                model_changed(a);
        }
}

/* Bus activation (at start, and when the user asks from the menu); its error
 * is the reason shown. The applet never restarts the service by itself: one
 * that exits when idle stays down until something needs it. */
void model_start_service(Applet *a) {
        g_dbus_connection_call(a->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "StartServiceByName", g_variant_new("(su)", BUS_NAME, 0), G_VARIANT_TYPE("(u)"),
                               G_DBUS_CALL_FLAGS_NONE, -1, NULL, service_started, a);
}

void model_start(Applet *a) {
        a->assigned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        a->plugged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        a->signal_id = g_dbus_connection_signal_subscribe(a->bus, BUS_NAME, BUS_INTERFACE, NULL, BUS_PATH, NULL,
                                                          G_DBUS_SIGNAL_FLAGS_NONE, on_signal, a, NULL);
        model_start_service(a);
        g_dbus_object_manager_client_new(a->bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, BUS_NAME,
                                         BUS_PATH, NULL, NULL, NULL, NULL, manager_ready, a);
}
