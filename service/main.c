/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthroughd: one GLib main loop; sd-event runs inside it as a GSource and
 * sd-bus on sd-event; libvirt's (GLib) event loop runs in that main loop too. */
#include "config.h"

#include <glib-unix.h>
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>

#include "assign-store.h"
#include "autoattach.h"
#include "config-file.h"
#include "errors.h"
#include "event-glue.h"
#include "lists.h"
#include "manager.h"
#include "model.h"
#include "mount-monitor.h"
#include "objects.h"
#include "worker.h"

static gchar *opt_connect;
static gchar *opt_config;
static gchar *opt_state_dir;
static gint opt_exit_idle;
static gboolean opt_verbose;
static gboolean opt_version;

static const GOptionEntry option_entries[] = {
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &opt_connect, "libvirt URI (default: from the config file, else libvirt's default)", "URI" },
        { "config", 0, 0, G_OPTION_ARG_FILENAME, &opt_config, "Configuration file (default: " DEFAULT_CONFIG_FILE ")", "FILE" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state_dir,
          "Where the assignments are kept (default: $STATE_DIRECTORY, else " LOCALSTATEDIR "/lib/passthrough)", "DIR" },
        { "exit-idle-seconds", 0, 0, G_OPTION_ARG_INT, &opt_exit_idle,
          "Exit after this many seconds without calls, work or assignments (default 0: never)", "N" },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Log debug messages", NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
        G_OPTION_ENTRY_NULL
};

static gboolean on_signal(gpointer data) {
        Manager *m = data;

        g_message("%s", "Exiting on signal");
        g_main_loop_quit(m->loop);
        return G_SOURCE_CONTINUE;
}

static void on_lifecycle(const char *name, const char *uuid, int event, int detail, gpointer data) {
        Manager *m = data;

        g_debug("Domain %s (%s): lifecycle event %d/%d", name, uuid, event, detail);
        model_invalidate(m->model);
        /* RESUMED too: a domain that started paused, or came in by migration. */
        if (event == VIR_DOMAIN_EVENT_STARTED || event == VIR_DOMAIN_EVENT_RESUMED)
                autoattach_domain_started(m->autoattach, uuid);
}

static void on_devices_changed(const char *uuid, gpointer data) {
        Manager *m = data;

        g_debug("Domain %s: devices changed", uuid);
        model_invalidate(m->model);
}

static void on_connected(gpointer data) {
        Manager *m = data;

        model_invalidate(m->model);
        autoattach_connected(m->autoattach);
}

static void on_device_event(const char *kind, const char *id, gboolean added, gpointer data) {
        Manager *m = data;

        if (!kind) {   /* any other device event: a partition, a loop device set up, a change */
                model_invalidate(m->model);
                return;
        }
        g_debug("%s %s %s", added ? "Added" : "Removed", kind, id);
        if (added)
                api_emit_device_added(m, kind, id);
        else
                api_emit_device_removed(m, kind, id);
        autoattach_device_event(m->autoattach, kind, id, added);
        model_invalidate(m->model);
}

static void on_mounts_changed(gpointer data) {
        Manager *m = data;

        model_invalidate(m->model);
}

static GHashTable *devices_removed(const char *kind, gpointer data) {
        Manager *m = data;

        return m->udev_watch ? udev_watch_removed(m->udev_watch, kind) : NULL;
}

static void watch_devices(Manager *m) {
        g_autoptr(GError) error = NULL;

        m->mount_monitor = mount_monitor_new(on_mounts_changed, m, &error);
        if (!m->mount_monitor)
                g_warning("Mounts and swaps are not followed: %s", error->message);
        g_clear_error(&error);
        m->udev_watch = udev_watch_new(on_device_event, m, &error);
        model_set_removed(m->model, devices_removed, m);
        if (!m->udev_watch)
                g_warning("No DeviceAdded/DeviceRemoved signals: %s", error->message);
}

static int on_bus_disconnected(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        g_warning("%s", "Lost the system bus; exiting");
        m->exit_code = EXIT_FAILURE;   /* so Restart=on-failure brings it back */
        g_main_loop_quit(m->loop);
        return 0;
}

/* ---- exit when idle (--exit-idle-seconds); bus activation brings it back ---- */

static int on_message(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint8_t type = 0;

        if (sd_bus_message_get_type(message, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL)
                return 0;
        m->last_call = g_get_monotonic_time();
        return lists_hold_until_current(m, message);
}

static gboolean idle_now(Manager *m) {
        return assign_store_get(m->store)->len == 0 && worker_pending() == 0 && authz_pending() == 0 &&
               virt_waiting(m->virt) == 0 && !autoattach_busy(m->autoattach);
}

/* Idle long enough: give up the name first (new calls then activate a new
 * instance), answer what raced with that, then quit. */
static gboolean idle_tick(gpointer data) {
        Manager *m = data;

        if (m->releasing && assign_store_get(m->store)->len > 0) {
                /* An Assign raced with giving up the name: take it back, or
                 * leave to the instance that was activated meanwhile. */
                m->releasing = sd_bus_request_name(m->bus, BUS_NAME, 0) < 0;
                if (m->releasing)
                        g_main_loop_quit(m->loop);
                return m->releasing ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
        }
        if (!idle_now(m))
                return G_SOURCE_CONTINUE;
        if (m->releasing) {
                g_main_loop_quit(m->loop);
                return G_SOURCE_REMOVE;
        }
        if (g_get_monotonic_time() - m->last_call < (gint64) m->exit_idle_seconds * G_USEC_PER_SEC)
                return G_SOURCE_CONTINUE;
        g_message("Idle for %u s without assignments; exiting", m->exit_idle_seconds);
        m->releasing = TRUE;
        (void) sd_bus_release_name(m->bus, BUS_NAME);
        return G_SOURCE_CONTINUE;
}

static gboolean setup_bus(Manager *m, GError **error) {
        int r = sd_bus_open_system(&m->bus);

        if (r >= 0)
                r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_add_filter(m->bus, NULL, on_message, m);
        if (r >= 0)
                r = api_register(m);
        if (r >= 0)
                r = objects_register(m);
        if (r >= 0)
                r = sd_bus_match_signal(m->bus, NULL, "org.freedesktop.DBus.Local", NULL,
                                        "org.freedesktop.DBus.Local", "Disconnected", on_bus_disconnected, m);
        if (r >= 0)
                r = sd_bus_request_name(m->bus, BUS_NAME, 0);
        if (r < 0) {
                g_set_error(error, PT_ERROR, PT_ERROR_FAILED, "Cannot set up %s on the system bus: %s",
                            BUS_NAME, g_strerror(-r));
                return FALSE;
        }
        return TRUE;
}

static gboolean parse_args(int *argc, char ***argv, char **uri, GHashTable **domain_uris, GError **error) {
        g_autoptr(GOptionContext) context = g_option_context_new("- disk and USB passthrough service");
        ServiceConfig config = { 0 };

        g_option_context_add_main_entries(context, option_entries, NULL);
        if (!g_option_context_parse(context, argc, argv, error))
                return FALSE;
        if (opt_version)
                return TRUE;
        if (opt_exit_idle < 0) {
                g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "--exit-idle-seconds must be 0 (never) or more");
                return FALSE;
        }
        if (!service_config_load(opt_config ? opt_config : DEFAULT_CONFIG_FILE, &config, error))
                return FALSE;
        *uri = g_strdup(opt_connect ? opt_connect : config.libvirt_uri);
        if (opt_connect && config.domain_uris)
                g_message("--connect %s: every domain is looked for there ([domain NAME] uri= left aside)",
                          opt_connect);
        else
                *domain_uris = g_steal_pointer(&config.domain_uris);
        service_config_clear(&config);
        return TRUE;
}

static void manager_clear(Manager *m) {
        /* Let calls whose libvirt work is under way finish and be answered;
         * the workers use m->virt, so it must outlive them. */
        if (m->autoattach)
                autoattach_stop(m->autoattach);
        if (!worker_drain(10000)) {
                /* They use m->virt and the rest: free none of it; the
                 * process ends here anyway. */
                g_warning("Exiting with %u libvirt calls still under way", worker_pending());
                if (m->bus)
                        (void) sd_bus_flush(m->bus);
                return;
        }
        if (m->bus) {
                (void) sd_bus_flush(m->bus);
                m->vtable_slot = sd_bus_slot_unref(m->vtable_slot);
                m->bus = sd_bus_flush_close_unref(m->bus);
        }
        g_clear_pointer(&m->udev_watch, udev_watch_free);
        g_clear_pointer(&m->mount_monitor, mount_monitor_free);
        g_clear_pointer(&m->autoattach, autoattach_free);
        g_clear_pointer(&m->store, assign_store_free);
        g_clear_pointer(&m->authz, authz_free);
        g_clear_pointer(&m->callers, callers_free);
        g_clear_pointer(&m->model, model_free);
        g_clear_pointer(&m->virt, virt_free);
        m->event = sd_event_unref(m->event);
        g_clear_pointer(&m->loop, g_main_loop_unref);
}

static int run(Manager *m, const char *uri, GHashTable *domain_uris) {
        VirtHandlers handlers = {
                .lifecycle = on_lifecycle, .devices_changed = on_devices_changed, .connected = on_connected, .data = m,
        };
        g_autoptr(GError) error = NULL;
        g_autofree char *state_dir = opt_state_dir ? g_strdup(opt_state_dir) : assign_store_default_dir();

        if (!virt_event_loop_start(&error) || sd_event_new(&m->event) < 0) {
                g_printerr("passthroughd: %s\n", error ? error->message : "cannot create the event loop");
                return EXIT_FAILURE;
        }
        m->loop = g_main_loop_new(NULL, FALSE);
        event_glue_attach(m->event);
        m->virt = virt_new(uri, domain_uris, &handlers);
        {
                ModelHandlers model_handlers = objects_handlers(m);

                m->model = model_new(m->virt, &model_handlers);
        }
        m->store = assign_store_open(state_dir);
        model_set_store(m->model, m->store);
        m->autoattach = autoattach_new(m);
        /* Before the name is on the bus: a SIGTERM right after start must
         * still end the main loop, not kill the process. */
        g_unix_signal_add(SIGTERM, on_signal, m);
        g_unix_signal_add(SIGINT, on_signal, m);
        /* Watching before the name is on the bus: a device plugged in once
         * a client sees the service is reported. */
        watch_devices(m);
        if (!setup_bus(m, &error)) {
                g_printerr("passthroughd: %s\n", error->message);
                return EXIT_FAILURE;
        }
        /* Calls are dispatched once the main loop runs, after this. */
        m->callers = callers_new(m->bus);
        m->authz = authz_new(m->callers);
        virt_connect_in_background(m->virt);
        m->last_call = g_get_monotonic_time();
        m->exit_idle_seconds = (guint) opt_exit_idle;
        if (m->exit_idle_seconds)
                g_timeout_add_seconds(1, idle_tick, m);
        g_message("Ready on %s (libvirt %s)", BUS_NAME, uri ? uri : "default URI");
        g_main_loop_run(m->loop);
        return m->exit_code;
}

int main(int argc, char *argv[]) {
        Manager m = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *uri = NULL;
        g_autoptr(GHashTable) domain_uris = NULL;
        int ret;

        /* g_ascii_strto*() set up their C locale once, under a lock; when
         * that is contended, errno can come back EAGAIN, which
         * g_ascii_string_to_unsigned() reports as a failure (seen under
         * valgrind: a USB device's busnum read as unreadable). Do it now,
         * before any other thread runs. */
        (void) g_ascii_strtoull("0", NULL, 10);
        if (!parse_args(&argc, &argv, &uri, &domain_uris, &error)) {
                g_printerr("passthroughd: %s\n", error->message);
                return 2;
        }
        if (opt_version) {
                printf("passthroughd %s\n", PACKAGE_VERSION);
                return EXIT_SUCCESS;
        }
        if (opt_verbose)
                g_setenv("G_MESSAGES_DEBUG", "all", TRUE);
        m.verbose = opt_verbose;
        pt_error_register_bus_map();
        ret = run(&m, uri, domain_uris);
        manager_clear(&m);
        return ret;
}
