/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthrough-applet: "Open Passthrough…": the menu's information as a table
 * (device, kind, state, VM, always given to), for desktops without a tray.
 * Refreshed with the menu; closing it only hides it. */

#include "applet.h"

enum { COL_DEVICE, COL_KIND, COL_STATE, COL_VM, COL_ASSIGNED, N_COLS };

static void add_column(GtkTreeView *view, const char *title, int col) {
        GtkCellRenderer *cell = gtk_cell_renderer_text_new();
        GtkTreeViewColumn *column = gtk_tree_view_column_new_with_attributes(title, cell, "text", col, NULL);
        gtk_tree_view_column_set_resizable(column, TRUE);
        gtk_tree_view_append_column(view, column);
}

static void add_rows(Applet *a, const char *kind, const char *kind_label) {
        g_autoptr(GPtrArray) devices = model_devices(a, kind);
        for (guint i = 0; i < devices->len; i++) {
                Device *d = devices->pdata[i];
                g_autofree char *name = device_list_name(d, devices);
                g_autofree char *state = device_state(d);
                g_autofree char *holder = device_holder(d);
                const char *assigned = g_hash_table_lookup(a->assigned, device_id(d));
                gtk_list_store_insert_with_values(a->store, NULL, -1, COL_DEVICE, name, COL_KIND, kind_label,
                                                  COL_STATE, state, COL_VM, holder ? holder : "",
                                                  COL_ASSIGNED, assigned ? assigned : "", -1);
        }
}

void window_refresh(Applet *a) {
        if (!a->store)
                return;
        gtk_list_store_clear(a->store);
        if (!model_available(a)) {
                g_autofree char *reason = model_unavailable_reason(a);
                gtk_label_set_text(GTK_LABEL(a->window_note), reason);
                gtk_widget_show(a->window_note);
                return;
        }
        gtk_widget_hide(a->window_note);
        add_rows(a, "usb", _("USB device"));
        add_rows(a, "disk", _("Disk"));
}

static GtkWidget *window_new(Applet *a) {
        GtkWidget *window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
        gtk_window_set_title(GTK_WINDOW(window), _("Passthrough"));
        gtk_window_set_icon_name(GTK_WINDOW(window), "passthrough");
        gtk_window_set_default_size(GTK_WINDOW(window), 720, 260);
        g_signal_connect(window, "delete-event", G_CALLBACK(gtk_widget_hide_on_delete), NULL);

        a->store = gtk_list_store_new(N_COLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
        GtkWidget *view = gtk_tree_view_new_with_model(GTK_TREE_MODEL(a->store));
        add_column(GTK_TREE_VIEW(view), _("Device"), COL_DEVICE);
        add_column(GTK_TREE_VIEW(view), _("Kind"), COL_KIND);
        add_column(GTK_TREE_VIEW(view), _("State"), COL_STATE);
        add_column(GTK_TREE_VIEW(view), _("VM"), COL_VM);
        add_column(GTK_TREE_VIEW(view), _("Always given to"), COL_ASSIGNED);

        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
        a->window_note = gtk_label_new(NULL);   /* why there is nothing to show */
        gtk_label_set_line_wrap(GTK_LABEL(a->window_note), TRUE);
        gtk_widget_set_margin_top(a->window_note, 12);
        gtk_widget_set_margin_bottom(a->window_note, 12);
        gtk_widget_set_margin_start(a->window_note, 12);
        gtk_widget_set_margin_end(a->window_note, 12);
        gtk_widget_set_no_show_all(a->window_note, TRUE);
        GtkWidget *scroll = gtk_scrolled_window_new(NULL, NULL);
        gtk_container_add(GTK_CONTAINER(scroll), view);
        gtk_box_pack_start(GTK_BOX(box), a->window_note, FALSE, FALSE, 0);
        gtk_box_pack_start(GTK_BOX(box), scroll, TRUE, TRUE, 0);
        gtk_container_add(GTK_CONTAINER(window), box);
        return window;
}

void window_show(Applet *a) {
        if (!a->window) {
                a->window = window_new(a);
                window_refresh(a);
        }
        gtk_widget_show_all(a->window);
        gtk_window_present(GTK_WINDOW(a->window));
}
