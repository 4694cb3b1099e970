/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthrough-applet: notifications (libnotify). A plugged device with
 * "Attach to <VM>" / "Keep on host"; a quiet notice when an assignment gave a
 * device to its VM; failures with the service's message. Shown only in the
 * user's active local session (see session_shows_notes()). */

#include <libnotify/notify.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#include "applet.h"

#define MAX_VM_ACTIONS 3

/* The applet's logind session: its own; else $XDG_SESSION_ID (an autostarted
 * applet may run in a systemd user scope, outside any session); else the
 * user's graphical session. NULL when none is known. */
static char *own_session(void) {
        char *session = NULL;
        if (sd_pid_get_session(0, &session) >= 0)
                return session;
        const char *env = g_getenv("XDG_SESSION_ID");
        uid_t uid;
        if (env && *env && sd_session_get_uid(env, &uid) >= 0 && uid == getuid())
                return g_strdup(env);
        if (sd_uid_get_display(getuid(), &session) >= 0)
                return session;
        return NULL;
}

/* Only the active local session tells; when no session can be found at all
 * (no logind), every running applet does. */
static gboolean session_shows_notes(void) {
        g_autofree char *session = own_session();
        if (!session)
                return TRUE;
        return sd_session_is_active(session) > 0 && sd_session_is_remote(session) <= 0;
}

/* Servers that announce "body-markup" read the body as markup: a message or a
 * name with "&" or "<" is escaped for them, sent as it is to the others. The
 * summary is plain text for every server. */
static char *note_body(const char *body) {
        GList *caps = notify_get_server_caps();
        gboolean markup = g_list_find_custom(caps, "body-markup", (GCompareFunc)g_strcmp0) != NULL;
        g_list_free_full(caps, g_free);
        return markup ? g_markup_escape_text(body, -1) : g_strdup(body);
}

static NotifyNotification *note_new(const char *summary, const char *body) {
        g_autofree char *text = note_body(body);
        NotifyNotification *n = notify_notification_new(summary, text, "passthrough");
        notify_notification_set_app_name(n, _("Passthrough"));
        return n;
}

static void note_show(NotifyNotification *n) {
        g_autoptr(GError) error = NULL;
        if (!notify_notification_show(n, &error))
                g_message("Cannot show a notification: %s", error->message);
}

void notes_failure(Applet *a, const char *summary, const char *message) {
        g_warning("%s: %s", summary, message);
        if (!session_shows_notes())
                return;
        NotifyNotification *n = note_new(summary, message);
        notify_notification_set_urgency(n, NOTIFY_URGENCY_NORMAL);
        note_show(n);
        g_object_unref(n);
}

void notes_auto_attached(Applet *a, const char *kind, const char *id, const char *domain) {
        if (!session_shows_notes())
                return;
        Device *d = model_device(a, kind, id);
        g_autofree char *name = d ? device_name(d) : g_strdup(id);
        g_autofree char *summary = g_strdup_printf(_("%s given to %s"), name, domain);
        NotifyNotification *n = note_new(summary, _("It is always given to this virtual machine."));
        notify_notification_set_urgency(n, NOTIFY_URGENCY_LOW);
        notify_notification_set_hint(n, "transient", g_variant_new_boolean(TRUE));
        note_show(n);
        g_object_unref(n);
        if (d)
                device_free(d);
}

typedef struct {
        Applet *a;
        char *usb;
        char *disk;
        char *domain;   /* NULL: keep on host */
} PlugAction;

static void plug_action_free(gpointer data) {
        PlugAction *p = data;
        g_free(p->usb);
        g_free(p->disk);
        g_free(p->domain);
        g_free(p);
}

static void on_plug_action(NotifyNotification *n, char *action, gpointer data) {
        PlugAction *p = data;
        g_autoptr(GDBusProxy) usb = model_proxy(p->a, p->usb, USB_IFACE);
        g_autoptr(GDBusProxy) disk = model_proxy(p->a, p->disk, DISK_IFACE);
        if (!p->domain || (!usb && !disk))
                return;
        Device *d = device_new(usb, disk);
        action_attach(p->a, d, usb ? "usb" : "disk", p->domain);
        device_free(d);
}

static void add_plug_action(NotifyNotification *n, Applet *a, Device *d, const char *domain) {
        PlugAction *p = g_new0(PlugAction, 1);
        p->a = a;
        p->usb = d->usb ? g_strdup(g_dbus_proxy_get_object_path(d->usb)) : NULL;
        p->disk = d->disk ? g_strdup(g_dbus_proxy_get_object_path(d->disk)) : NULL;
        p->domain = g_strdup(domain);
        g_autofree char *id = domain ? g_strdup_printf("attach:%s", domain) : g_strdup("keep");
        g_autofree char *label = domain ? g_strdup_printf(_("Attach to %s"), domain) : g_strdup(_("Keep on host"));
        notify_notification_add_action(n, id, label, on_plug_action, p, plug_action_free);
}

static void on_plug_closed(NotifyNotification *n, Applet *a) {
        const char *id = g_object_get_data(G_OBJECT(n), "device-id");
        if (id && g_hash_table_lookup(a->plug_notes, id) == n)
                g_hash_table_remove(a->plug_notes, id);
}

/* Worth asking: a USB device, or a removable disk; not held yet, not a hub
 * or a disk the host needs, and some VM runs. */
static gboolean worth_asking(Applet *a, Device *d) {
        g_autofree char *holder = device_holder(d);
        g_autofree char *reason = device_unusable_reason(d);
        if (holder || reason || g_hash_table_contains(a->assigned, device_id(d)))
                return FALSE;
        return d->usb || prop_bool(d->disk, "Removable");
}

void notes_plugged(Applet *a, Device *d) {
        GList *running = model_domains(a, TRUE);
        if (!running || !worth_asking(a, d) || !session_shows_notes()) {
                g_list_free_full(running, g_object_unref);
                return;
        }
        g_autofree char *name = device_name(d);
        g_autofree char *summary = g_strdup_printf(_("%s plugged in"), name);
        NotifyNotification *n = note_new(summary, _("Give it to a virtual machine?"));
        int count = 0;
        for (GList *l = running; l && count < MAX_VM_ACTIONS; l = l->next, count++) {
                g_autofree char *vm = prop_str(l->data, "Name");
                add_plug_action(n, a, d, vm);
        }
        add_plug_action(n, a, d, NULL);
        g_list_free_full(running, g_object_unref);
        notify_notification_set_timeout(n, NOTIFY_EXPIRES_NEVER);
        g_object_set_data_full(G_OBJECT(n), "device-id", g_strdup(device_id(d)), g_free);
        g_signal_connect(n, "closed", G_CALLBACK(on_plug_closed), a);
        notes_close_plug(a, device_id(d));   /* plugged in again: the older notice's actions are dead */
        g_hash_table_replace(a->plug_notes, g_strdup(device_id(d)), n);   /* kept for its actions */
        note_show(n);
}

void notes_close_plug(Applet *a, const char *id) {
        NotifyNotification *n = g_hash_table_lookup(a->plug_notes, id);
        if (n)
                notify_notification_close(n, NULL);
}

void notes_init(Applet *a) {
        notify_init("passthrough-applet");
        a->plug_notes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
}
