/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthrough-applet: a tray item (StatusNotifierItem + dbusmenu, through
 * libayatana-appindicator3), notifications and a window for
 * org.example.Passthrough1. This file: options, set-up, the main loop. */

#include <glib-unix.h>
#include <grp.h>
#include <libayatana-appindicator/app-indicator.h>
#include <locale.h>
#include <stdlib.h>
#include <unistd.h>

#include "applet.h"

static gboolean quit(gpointer data) {
        g_main_loop_quit(((Applet *)data)->loop);
        return G_SOURCE_CONTINUE;
}

/* The autostart entry starts the applet for members of this group alone. */
#define AUTOSTART_GROUP "passthrough"

static gboolean in_autostart_group(void) {
        struct group *g = getgrnam(AUTOSTART_GROUP);
        if (!g)
                return FALSE;
        if (getegid() == g->gr_gid)
                return TRUE;
        int n = getgroups(0, NULL);
        g_autofree gid_t *groups = g_new0(gid_t, MAX(n, 1));
        n = getgroups(n, groups);
        for (int i = 0; i < n; i++)
                if (groups[i] == g->gr_gid)
                        return TRUE;
        return FALSE;
}

static void tray_start(Applet *a) {
        /* Connected before the indicator asks for it (kept for the applet's
         * life: GIO shares it): libayatana-appindicator 0.5.92 requests the
         * session bus and the tray watcher at once, and when the watcher
         * answers first it makes its proxy without a connection, and the
         * item is never registered. */
        static GDBusConnection *session;
        if (!session)
                session = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);
        AppIndicator *ind = app_indicator_new("passthrough-applet", "passthrough", APP_INDICATOR_CATEGORY_HARDWARE);
        app_indicator_set_title(ind, _("Passthrough"));
        app_indicator_set_status(ind, APP_INDICATOR_STATUS_ACTIVE);
        app_indicator_set_menu(ind, a->menu);
        a->indicator = G_OBJECT(ind);
}

/* The options are read before GTK opens the display: --version and --help
 * work without one (a terminal, a package test). */
static gboolean parse_options(int *argc, char ***argv, GOptionEntry *entries, GError **error) {
        g_autoptr(GOptionContext) context = g_option_context_new(NULL);
        g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
        g_option_context_add_group(context, gtk_get_option_group(FALSE));
        return g_option_context_parse(context, argc, argv, error);
}

int main(int argc, char **argv) {
        gboolean open_window = FALSE, no_tray = FALSE, version = FALSE, autostart = FALSE;
        g_autoptr(GError) error = NULL;
        Applet applet = { 0 }, *a = &applet;

        setlocale(LC_ALL, "");
        bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
        bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
        textdomain(GETTEXT_PACKAGE);

        /* Translated here: xgettext cannot see through the macro. */
        g_autofree char *autostart_help = g_strdup_printf(_("Exit unless in the group %s"), AUTOSTART_GROUP);
        GOptionEntry entries[] = {
                { "window", 'w', 0, G_OPTION_ARG_NONE, &open_window, N_("Open the window at start"), NULL },
                { "no-tray", 0, 0, G_OPTION_ARG_NONE, &no_tray, N_("No tray item: the window alone"), NULL },
                { "autostart", 0, 0, G_OPTION_ARG_NONE, &autostart, autostart_help, NULL },
                { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version"), NULL },
                { NULL },
        };
        if (!parse_options(&argc, &argv, entries, &error)) {
                g_printerr("%s\n", error->message);
                return 2;
        }
        if (version) {
                g_print("passthrough-applet %s\n", PACKAGE_VERSION);
                return 0;
        }
        if (autostart && !in_autostart_group())
                return 0;
        if (!gtk_init_check(&argc, &argv)) {
                g_printerr(_("Cannot open the display\n"));
                return 1;
        }
        a->bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        if (!a->bus) {
                g_printerr(_("Cannot reach the system bus: %s\n"), error->message);
                return 1;
        }
        a->loop = g_main_loop_new(NULL, FALSE);
        a->menu = GTK_MENU(g_object_ref_sink(gtk_menu_new()));
        notes_init(a);
        model_start(a);
        menu_rebuild(a);
        if (no_tray)
                open_window = TRUE;
        else
                tray_start(a);
        if (open_window)
                window_show(a);
        if (no_tray && a->window)
                g_signal_connect_swapped(a->window, "hide", G_CALLBACK(g_main_loop_quit), a->loop);
        g_unix_signal_add(SIGTERM, quit, a);
        g_unix_signal_add(SIGINT, quit, a);
        g_main_loop_run(a->loop);
        return 0;
}
