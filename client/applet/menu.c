/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthrough-applet: the tray item's menu, rebuilt in place from the model:
 * a section per kind, a submenu per device (the running VMs, the holder
 * checked; "Give back to host"; "Always give [port <port>] to <VM>"), devices that cannot
 * be given disabled with the service's reason, "Open Passthrough…". */

#include "applet.h"

typedef enum { OP_ATTACH, OP_GIVE_BACK, OP_ASSIGN, OP_UNASSIGN, OP_START, OP_WINDOW, OP_QUIT } Op;

typedef struct {
        Applet *a;
        Op op;
        char *usb;       /* object paths, resolved again when clicked */
        char *disk;
        char *domain;
        char *as;        /* "usb" or "disk" */
} Click;

static void click_free(gpointer data, GClosure *closure) {
        Click *c = data;
        g_free(c->usb);
        g_free(c->disk);
        g_free(c->domain);
        g_free(c->as);
        g_free(c);
}

static Device *click_device(Click *c) {
        g_autoptr(GDBusProxy) usb = model_proxy(c->a, c->usb, USB_IFACE);
        g_autoptr(GDBusProxy) disk = model_proxy(c->a, c->disk, DISK_IFACE);
        if ((c->usb && !usb) || (c->disk && !disk))
                return NULL;    /* gone meanwhile */
        return device_new(usb, disk);
}

static void on_activate(GtkMenuItem *item, Click *c) {
        Applet *a = c->a;
        model_changed(a);   /* a check item toggled itself: show the truth again */
        if (c->op == OP_WINDOW) {
                window_show(a);
                return;
        }
        if (c->op == OP_START) {
                model_start_service(a);
                return;
        }
        if (c->op == OP_QUIT) {
                g_main_loop_quit(a->loop);
                return;
        }
        Device *d = click_device(c);
        if (!d)
                return;
        if (c->op == OP_ATTACH)
                action_attach(a, d, c->as, c->domain);
        else if (c->op == OP_GIVE_BACK)
                action_give_back(a, d);
        else
                action_assign(a, d, c->domain, c->op == OP_ASSIGN);
        device_free(d);
}

static GtkWidget *add_item(GtkWidget *menu, GtkWidget *item, gboolean sensitive) {
        gtk_widget_set_sensitive(item, sensitive);
        gtk_menu_shell_append(GTK_MENU_SHELL(menu), item);
        gtk_widget_show(item);
        return item;
}

static GtkWidget *add_label(GtkWidget *menu, const char *text, gboolean sensitive) {
        return add_item(menu, gtk_menu_item_new_with_label(text), sensitive);
}

static void add_separator(GtkWidget *menu) {
        add_item(menu, gtk_separator_menu_item_new(), TRUE);
}

static void connect(GtkWidget *item, Applet *a, Op op, Device *d, const char *domain, const char *as) {
        Click *c = g_new0(Click, 1);
        c->a = a;
        c->op = op;
        c->usb = d && d->usb ? g_strdup(g_dbus_proxy_get_object_path(d->usb)) : NULL;
        c->disk = d && d->disk ? g_strdup(g_dbus_proxy_get_object_path(d->disk)) : NULL;
        c->domain = g_strdup(domain);
        c->as = g_strdup(as);
        g_signal_connect_data(item, "activate", G_CALLBACK(on_activate), c, click_free, 0);
}

static GtkWidget *add_check(GtkWidget *menu, const char *text, gboolean active) {
        GtkWidget *item = gtk_check_menu_item_new_with_label(text);
        gtk_check_menu_item_set_active(GTK_CHECK_MENU_ITEM(item), active);
        return add_item(menu, item, TRUE);
}

static char *give_label(Device *d, const char *domain, const char *as) {
        gboolean unmount = device_user_mounted(d);
        if (g_str_equal(as, "usb") && d->disk)
                return g_strdup_printf(unmount ? _("Unmount and give to %s as USB device") : _("Give to %s as USB device"), domain);
        if (g_str_equal(as, "disk") && d->usb)
                return g_strdup_printf(unmount ? _("Unmount and give to %s as disk") : _("Give to %s as disk"), domain);
        return g_strdup_printf(unmount ? _("Unmount and give to %s") : _("Give to %s"), domain);
}

static void add_give(GtkWidget *sub, Applet *a, Device *d, const char *domain, const char *as, gboolean holds) {
        g_autofree char *label = give_label(d, domain, as);
        connect(add_check(sub, label, holds), a, OP_ATTACH, d, domain, as);
}

/* The running VMs to give it to; a stick is offered both ways. */
static void add_domains(GtkWidget *sub, Applet *a, Device *d, GList *running) {
        g_autofree char *holder = device_holder(d);
        gboolean as_usb = device_held_as_usb(d);
        if (!running)
                add_label(sub, _("No virtual machine is running"), FALSE);
        for (GList *l = running; l; l = l->next) {
                g_autofree char *name = prop_str(l->data, "Name");
                gboolean holds = g_strcmp0(holder, name) == 0;
                if (d->usb)
                        add_give(sub, a, d, name, "usb", holds && as_usb);
                if (d->disk)
                        add_give(sub, a, d, name, "disk", holds && !as_usb);
        }
}

static void add_give_back(GtkWidget *sub, Applet *a, Device *d) {
        g_autofree char *holder = device_holder(d);
        const char *label = holder && device_foreign(d) ? _("Give back to host (an administrator must confirm)")
                                                        : _("Give back to host");
        GtkWidget *item = add_label(sub, label, holder != NULL);
        connect(item, a, OP_GIVE_BACK, d, NULL, NULL);
}

static char *assign_label(const char *port, const char *domain) {
        if (port)
                return g_strdup_printf(_("Always give port %s to %s"), port, domain);
        return g_strdup_printf(_("Always give to %s"), domain);
}

/* "Always give to <VM>" for every VM (assignments may name VMs not running);
 * "Always give port <port> to <VM>" for a USB device the service can only know
 * by its port (no serial, or one its twin has too); disabled for a disk the
 * service could not know again (no WWN, serial or by-id name: a loop device). */
static void add_assignments(GtkWidget *sub, Applet *a, Device *d, GPtrArray *all, GList *domains) {
        const char *assigned = g_hash_table_lookup(a->assigned, device_id(d));
        gboolean assignable = device_assignable(d);
        g_autofree char *port = device_assigned_port(d, all);
        for (GList *l = domains; l; l = l->next) {
                g_autofree char *name = prop_str(l->data, "Name");
                g_autofree char *label = assign_label(port, name);
                gboolean on = g_strcmp0(assigned, name) == 0;
                GtkWidget *item = add_check(sub, label, on);
                gtk_widget_set_sensitive(item, assignable || on);
                if (port)
                        gtk_widget_set_tooltip_text(item, _("It has no serial number of its own: whatever is "
                                                            "plugged into this port is given."));
                connect(item, a, on ? OP_UNASSIGN : OP_ASSIGN, d, name, NULL);
        }
        if (!assignable)
                add_label(sub, _("(no serial number: it cannot be known again when plugged in)"), FALSE);
}

static void add_device(GtkWidget *menu, Applet *a, Device *d, GPtrArray *all, GList *running, GList *domains) {
        g_autofree char *name = device_list_name(d, all);
        g_autofree char *reason = device_unusable_reason(d);
        g_autofree char *holder = device_holder(d);
        if (reason) {
                g_autofree char *label = g_strdup_printf(_("%s — %s"), name, reason);
                add_label(menu, label, FALSE);
                return;
        }
        g_autofree char *label = holder ? g_strdup_printf(_("%s — in %s"), name, holder) : g_strdup(name);
        GtkWidget *item = add_label(menu, label, TRUE);
        GtkWidget *sub = gtk_menu_new();
        add_domains(sub, a, d, running);
        add_separator(sub);
        add_give_back(sub, a, d);
        add_separator(sub);
        add_assignments(sub, a, d, all, domains);
        gtk_menu_item_set_submenu(GTK_MENU_ITEM(item), sub);
}

static void add_section(GtkWidget *menu, Applet *a, const char *kind, const char *title, const char *none,
                        GList *running, GList *domains) {
        g_autoptr(GPtrArray) devices = model_devices(a, kind);
        add_label(menu, title, FALSE);
        if (devices->len == 0)
                add_label(menu, none, FALSE);
        for (guint i = 0; i < devices->len; i++)
                add_device(menu, a, devices->pdata[i], devices, running, domains);
        add_separator(menu);
}

void menu_rebuild(Applet *a) {
        GtkWidget *menu = GTK_WIDGET(a->menu);
        g_autoptr(GList) children = gtk_container_get_children(GTK_CONTAINER(menu));
        for (GList *l = children; l; l = l->next)
                gtk_widget_destroy(l->data);
        if (model_available(a)) {
                GList *running = model_domains(a, TRUE);
                GList *domains = model_domains(a, FALSE);
                add_section(menu, a, "usb", _("USB devices"), _("No USB devices"), running, domains);
                add_section(menu, a, "disk", _("Disks"), _("No disks"), running, domains);
                g_list_free_full(running, g_object_unref);
                g_list_free_full(domains, g_object_unref);
        } else {
                g_autofree char *reason = model_unavailable_reason(a);
                add_label(menu, reason, FALSE);
                connect(add_label(menu, _("Start the Passthrough service"), a->manager != NULL), a, OP_START,
                        NULL, NULL, NULL);
                add_separator(menu);
        }
        connect(add_label(menu, _("Open Passthrough…"), TRUE), a, OP_WINDOW, NULL, NULL, NULL);
        connect(add_label(menu, _("Quit"), TRUE), a, OP_QUIT, NULL, NULL, NULL);
}
