/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* monitor: print the service's events as they come, one line each with
 * the time: the live model's objects arriving, leaving and changing
 * (monitor-objects.c) and the manager's signals (here).
 *
 * Listens to signals with the service's bus name as sender. Its one call,
 * GetManagedObjects at the start (to name what later leaves or changes),
 * does not start the service. Runs until SIGINT or SIGTERM (exit 0) or until
 * the bus goes away (exit 1). */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "monitor.h"

#define LOCAL_NAME "org.freedesktop.DBus.Local"
#define LOCAL_PATH "/org/freedesktop/DBus/Local"

/* The contract's signals and the names of their (string) arguments. */
typedef struct {
        const char *member;
        const char *signature;
        const char *const *args;
} SignalSpec;

static const char *const attached_args[] = { "domain", "kind", "id", "target", NULL };
static const char *const detached_args[] = { "domain", "kind", "id", NULL };
static const char *const host_args[] = { "kind", "id", NULL };
static const char *const failed_args[] = { "domain", "kind", "id", "error", NULL };

static const SignalSpec signal_specs[] = {
        { "DeviceAttached", "ssss", attached_args },
        { "DeviceDetached", "sss", detached_args },
        { "DeviceAdded", "ss", host_args },
        { "DeviceRemoved", "ss", host_args },
        { "AutoAttachFailed", "ssss", failed_args },
};

static const SignalSpec *find_signal(sd_bus_message *m)
{
        const char *member = sd_bus_message_get_member(m);

        for (size_t i = 0; member && i < G_N_ELEMENTS(signal_specs); i++)
                if (strcmp(signal_specs[i].member, member) == 0 &&
                    sd_bus_message_has_signature(m, signal_specs[i].signature))
                        return &signal_specs[i];
        return NULL;
}

/* The signal's arguments by name. */
static int read_arguments(sd_bus_message *m, const SignalSpec *spec, GVariant **ret)
{
        GVariantBuilder builder;
        const char *value;
        int r;

        g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
        for (const char *const *name = spec->args; *name; name++) {
                r = sd_bus_message_read_basic(m, 's', &value);
                if (r <= 0) {
                        g_variant_builder_clear(&builder);
                        return r < 0 ? r : -EBADMSG;
                }
                g_variant_builder_add(&builder, "{sv}", *name, g_variant_new_string(value));
        }
        *ret = g_variant_ref_sink(g_variant_builder_end(&builder));
        return 0;
}

/* "DeviceAttached debian usb 46f4:0001:SN-1 hostdev0": the name and the
 * values, spaced. */
static char *signal_text(const char *member, GVariant *arguments)
{
        GString *line = g_string_new(member);
        GVariantIter iter;
        GVariant *value;

        g_variant_iter_init(&iter, arguments);
        while (g_variant_iter_next(&iter, "{&sv}", NULL, &value)) {
                g_autoptr(GVariant) owned = value;

                g_string_append_c(line, ' ');
                g_string_append(line, g_variant_get_string(owned, NULL));
        }
        while (line->len > 0 && line->str[line->len - 1] == ' ')
                g_string_truncate(line, line->len - 1);
        return g_string_free(line, FALSE);
}

/* "12:34:56.789" for a line; ISO 8601 with the UTC offset for JSON. */
static char *format_time(GDateTime *now, bool json)
{
        g_autofree char *seconds = g_date_time_format(now, json ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S");
        g_autofree char *offset = json ? g_date_time_format(now, "%:z") : g_strdup("");

        return g_strdup_printf("%s.%03d%s", seconds, g_date_time_get_microsecond(now) / 1000, offset);
}

/* time, event, path, interface and signal, then the event's fields. */
static void print_json_event(const MonitorEvent *event, const char *stamp)
{
        g_autoptr(GVariant) record = NULL;
        GVariantBuilder builder;
        GVariantIter iter;
        const char *key;
        GVariant *value;

        g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&builder, "{sv}", "time", g_variant_new_string(stamp));
        g_variant_builder_add(&builder, "{sv}", "event", g_variant_new_string(event->event));
        g_variant_builder_add(&builder, "{sv}", "path", g_variant_new_string(event->path));
        g_variant_builder_add(&builder, "{sv}", "interface", g_variant_new_string(event->interface));
        g_variant_builder_add(&builder, "{sv}", "signal", g_variant_new_string(event->signal));
        g_variant_iter_init(&iter, event->fields);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                g_variant_builder_add(&builder, "{sv}", key, value);
                g_variant_unref(value);
        }
        record = g_variant_ref_sink(g_variant_builder_end(&builder));
        print_record_json_line(record);
}

int monitor_print(const Monitor *monitor, const MonitorEvent *event)
{
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *stamp = format_time(now, monitor->ctl->json);

        if (monitor->ctl->json) {
                print_json_event(event, stamp);
        } else {
                g_autofree char *clean = sanitize_text(event->text);

                printf("%s %s\n", stamp, clean);
        }
        if (fflush(stdout) == 0)
                return 0;
        ctl_error(_("Failed to write output: %s"), g_strerror(errno));
        return sd_event_exit(monitor->event, CTL_EXIT_FAILURE);
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        const SignalSpec *spec = find_signal(m);
        g_autoptr(GVariant) arguments = NULL;
        g_autofree char *text = NULL;
        int r;

        if (!spec)
                return 0;
        r = read_arguments(m, spec, &arguments);
        if (r < 0) {
                ctl_error(_("Failed to parse signal %s: %s"), spec->member, g_strerror(-r));
                return 0;
        }
        text = signal_text(spec->member, arguments);
        return monitor_print(userdata, &(const MonitorEvent) {
                .event = spec->member,
                .signal = spec->member,
                .path = BUS_PATH,
                .interface = BUS_INTERFACE,
                .fields = arguments,
                .text = text,
        });
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        const Monitor *monitor = userdata;

        ctl_error(_("Disconnected from the bus"));
        return sd_event_exit(monitor->event, CTL_EXIT_FAILURE);
}

static int on_exit_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata)
{
        return sd_event_exit(sd_event_source_get_event(source), CTL_EXIT_OK);
}

/* SIGINT and SIGTERM end the loop (blocked, so sd-event gets them). */
static int add_exit_signals(sd_event *event)
{
        static const int exit_signals[] = { SIGINT, SIGTERM };
        sigset_t mask;
        int r = 0;

        sigemptyset(&mask);
        for (size_t i = 0; i < G_N_ELEMENTS(exit_signals); i++)
                sigaddset(&mask, exit_signals[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        for (size_t i = 0; r >= 0 && i < G_N_ELEMENTS(exit_signals); i++)
                r = sd_event_add_signal(event, NULL, exit_signals[i], on_exit_signal, NULL);
        return r;
}

static int add_matches(sd_bus *bus, Monitor *monitor)
{
        int r;

        r = sd_bus_match_signal(bus, NULL, LOCAL_NAME, LOCAL_PATH, LOCAL_NAME, "Disconnected",
                                on_disconnected, monitor);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, BUS_NAME, BUS_PATH, BUS_INTERFACE, NULL,
                                        on_signal, monitor);
        if (r >= 0)
                r = monitor_match_objects(bus, monitor);
        return r;
}

static int setup(Ctl *ctl, Monitor *monitor)
{
        sd_event *event = monitor->event;
        int r;

        r = add_exit_signals(event);
        if (r < 0) {
                ctl_error(_("Failed to handle SIGINT and SIGTERM: %s"), g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        r = sd_bus_attach_event(ctl->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = add_matches(ctl->bus, monitor);
        if (r < 0) {
                ctl_error(_("Failed to subscribe to the signals: %s"), g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        return CTL_EXIT_OK;
}

int verb_monitor(Ctl *ctl, char **args)
{
        g_autoptr(sd_event) event = NULL;
        g_autoptr(GHashTable) objects = monitor_objects_new();
        Monitor monitor = { .ctl = ctl, .objects = objects };
        int r;

        r = sd_event_new(&event);
        if (r < 0) {
                ctl_error(_("Failed to create the event loop: %s"), g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        monitor.event = event;
        r = setup(ctl, &monitor);
        if (r == CTL_EXIT_OK) {
                monitor_load_objects(&monitor);
                r = sd_event_loop(event);
        }
        if (r < 0) {
                ctl_error(_("Event loop failed: %s"), g_strerror(-r));
                r = CTL_EXIT_FAILURE;
        }
        sd_bus_detach_event(ctl->bus);
        return r;
}
