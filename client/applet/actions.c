/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthrough-applet: what a click asks of the service, as a chain of calls
 * run one after another (give it back first when another VM has it; unmount
 * through UDisks2 first when the desktop mounted it). Every call allows
 * interactive authorization, so the desktop's polkit agent can ask. A failure
 * ends the chain and is told with the service's message; a prompt the user
 * dismissed is not. */

#include "applet.h"

#define UDISKS_NAME "org.freedesktop.UDisks2"
#define UDISKS_FS_IFACE UDISKS_NAME ".Filesystem"

typedef struct {
        char *dest;
        char *path;
        char *iface;
        char *method;
        GVariant *params;
        char **unmount;          /* instead of a call: unmount these through UDisks2 */
        GDBusProxy *until_free;  /* instead of a call: wait until the model shows it free */
} Step;

typedef struct {
        Applet *a;
        GQueue steps;
        char *summary;           /* said when a step fails */
        gulong handler;          /* waiting for until_free */
        guint timeout;
} Chain;

#define FREE_WAIT_MS 10000

static void step_free(Step *s) {
        g_free(s->dest);
        g_free(s->path);
        g_free(s->iface);
        g_free(s->method);
        g_clear_pointer(&s->params, g_variant_unref);
        g_strfreev(s->unmount);
        g_clear_object(&s->until_free);
        g_free(s);
}

static Step *step_call(const char *dest, const char *path, const char *iface, const char *method, GVariant *params) {
        Step *s = g_new0(Step, 1);
        s->dest = g_strdup(dest);
        s->path = g_strdup(path);
        s->iface = g_strdup(iface);
        s->method = g_strdup(method);
        s->params = g_variant_ref_sink(params);
        return s;
}

static Step *step_service(GDBusProxy *p, const char *method, GVariant *params) {
        return step_call(BUS_NAME, g_dbus_proxy_get_object_path(p), g_dbus_proxy_get_interface_name(p), method, params);
}

static GVariant *no_options(void) {
        return g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
}

static void chain_free(Chain *c) {
        g_queue_clear_full(&c->steps, (GDestroyNotify)step_free);
        g_free(c->summary);
        g_free(c);
}

static void chain_next(Chain *c);

static void chain_failed(Chain *c, GError *error) {
        g_autofree char *name = g_dbus_error_get_remote_error(error);
        g_dbus_error_strip_remote_error(error);
        if (g_strcmp0(name, ERROR_DISMISSED) == 0 || g_strcmp0(name, UDISKS_NAME ".Error.NotAuthorizedDismissed") == 0)
                g_message("%s: %s", c->summary, error->message);   /* the user said no: no need to tell */
        else
                notes_failure(c->a, c->summary, error->message);
        chain_free(c);
}

static void call_done(GObject *src, GAsyncResult *res, gpointer data) {
        Chain *c = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);
        if (!reply) {
                chain_failed(c, error);
                return;
        }
        chain_next(c);
}

static gboolean mounted_at(GVariant *fs, char **mountpoints) {
        g_autoptr(GVariant) points = g_variant_lookup_value(fs, "MountPoints", G_VARIANT_TYPE("aay"));
        if (!points)
                return FALSE;
        for (gsize i = 0; i < g_variant_n_children(points); i++) {
                g_autoptr(GVariant) p = g_variant_get_child_value(points, i);
                const char *path = g_variant_get_bytestring(p);
                if (g_strv_contains((const char *const *)mountpoints, path))
                        return TRUE;
        }
        return FALSE;
}

/* UDisks2's filesystems mounted where the disk is: unmount each first. */
static void udisks_listed(GObject *src, GAsyncResult *res, gpointer data) {
        Chain *c = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);
        Step *s = g_queue_pop_head(&c->steps);
        if (!reply) {
                step_free(s);
                chain_failed(c, error);
                return;
        }
        g_autoptr(GVariant) objects = g_variant_get_child_value(reply, 0);
        GVariantIter it;
        const char *path;
        GVariant *ifaces;
        g_variant_iter_init(&it, objects);
        while (g_variant_iter_next(&it, "{&o@a{sa{sv}}}", &path, &ifaces)) {
                g_autoptr(GVariant) fs = g_variant_lookup_value(ifaces, UDISKS_FS_IFACE, NULL);
                if (fs && mounted_at(fs, s->unmount))
                        g_queue_push_head(&c->steps, step_call(UDISKS_NAME, path, UDISKS_FS_IFACE, "Unmount",
                                                               g_variant_new("(@a{sv})", no_options())));
                g_variant_unref(ifaces);
        }
        step_free(s);
        chain_next(c);
}

static gboolean is_free(GDBusProxy *p) {
        g_autofree char *to = prop_str(p, "AttachedTo");
        return *to == '\0';
}

static void stop_waiting(Chain *c) {
        Step *s = g_queue_pop_head(&c->steps);
        g_signal_handler_disconnect(s->until_free, c->handler);
        if (c->timeout)
                g_source_remove(c->timeout);
        c->handler = 0;
        c->timeout = 0;
        step_free(s);
        chain_next(c);
}

static void free_changed(GDBusProxy *p, GVariant *changed, GStrv invalidated, Chain *c) {
        if (is_free(p))
                stop_waiting(c);
}

static gboolean free_timeout(gpointer data) {
        Chain *c = data;
        c->timeout = 0;
        stop_waiting(c);
        return G_SOURCE_REMOVE;
}

/* The service answers a detach when the guest let go; its model may tell a
 * moment later. The next attach waits for that (or gives up waiting). */
static void wait_until_free(Chain *c, Step *s) {
        if (is_free(s->until_free)) {
                step_free(g_queue_pop_head(&c->steps));
                chain_next(c);
                return;
        }
        c->handler = g_signal_connect(s->until_free, "g-properties-changed", G_CALLBACK(free_changed), c);
        c->timeout = g_timeout_add(FREE_WAIT_MS, free_timeout, c);
}

static void chain_next(Chain *c) {
        Step *s = g_queue_peek_head(&c->steps);
        if (!s) {
                chain_free(c);
                return;
        }
        if (s->until_free) {
                wait_until_free(c, s);
                return;
        }
        if (s->unmount) {
                g_dbus_connection_call(c->a->bus, UDISKS_NAME, "/org/freedesktop/UDisks2",
                                       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL,
                                       G_VARIANT_TYPE("(a{oa{sa{sv}}})"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       udisks_listed, c);
                return;
        }
        g_queue_pop_head(&c->steps);
        g_dbus_connection_call(c->a->bus, s->dest, s->path, s->iface, s->method, s->params, NULL,
                               G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, NULL, call_done, c);
        step_free(s);
}

static Chain *chain_new(Applet *a, char *summary) {
        Chain *c = g_new0(Chain, 1);
        c->a = a;
        c->summary = summary;
        g_queue_init(&c->steps);
        return c;
}

/* Detach from whichever VM has it (as a USB device or as a disk). */
static Step *detach_step(Device *d) {
        return step_service(device_held_as_usb(d) ? d->usb : d->disk, "Detach", g_variant_new("(@a{sv})", no_options()));
}

void action_attach(Applet *a, Device *d, const char *as, const char *domain) {
        g_autofree char *name = device_name(d);
        g_autofree char *holder = device_holder(d);
        gboolean as_usb = g_str_equal(as, "usb");
        if (holder && g_str_equal(holder, domain) && device_held_as_usb(d) == as_usb)
                return;   /* it is there already */
        Chain *c = chain_new(a, g_strdup_printf(_("Could not give %s to %s"), name, domain));
        if (holder) {
                g_queue_push_tail(&c->steps, detach_step(d));
                Step *wait = g_new0(Step, 1);
                wait->until_free = g_object_ref(device_held_as_usb(d) ? d->usb : d->disk);
                g_queue_push_tail(&c->steps, wait);
        }
        if (device_user_mounted(d)) {
                Step *s = g_new0(Step, 1);
                s->unmount = prop_strv(d->disk, "Mountpoints");
                g_queue_push_tail(&c->steps, s);
        }
        g_queue_push_tail(&c->steps, step_service(as_usb ? d->usb : d->disk, "Attach",
                                                  g_variant_new("(s@a{sv})", domain, no_options())));
        chain_next(c);
}

void action_give_back(Applet *a, Device *d) {
        g_autofree char *name = device_name(d);
        g_autofree char *holder = device_holder(d);
        if (!holder)
                return;
        Chain *c = chain_new(a, g_strdup_printf(_("Could not give %s back to the host"), name));
        g_queue_push_tail(&c->steps, detach_step(d));
        chain_next(c);
}

void action_assign(Applet *a, Device *d, const char *domain, gboolean on) {
        g_autofree char *name = device_name(d);
        const char *id = device_id(d);
        const char *assigned = g_hash_table_lookup(a->assigned, id);
        Chain *c = chain_new(a, on ? g_strdup_printf(_("Could not always give %s to %s"), name, domain)
                                   : g_strdup_printf(_("Could not stop giving %s to %s"), name, domain));
        if (assigned)
                g_queue_push_tail(&c->steps, step_call(BUS_NAME, BUS_PATH, BUS_INTERFACE, "Unassign",
                                                       g_variant_new("(s@a{sv})", id, no_options())));
        if (on)
                g_queue_push_tail(&c->steps, step_call(BUS_NAME, BUS_PATH, BUS_INTERFACE, "Assign",
                                                       g_variant_new("(ss@a{sv})", id, domain, no_options())));
        chain_next(c);
}
