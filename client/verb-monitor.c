/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* monitor: print the service's signals as they come, one line each.
 *
 * Only listens: a match on the interface with the service's bus name as
 * sender, and no method call, so the service is not started for it. Runs
 * until SIGINT or SIGTERM (exit 0) or until the bus goes away (exit 1). */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

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

/* The signal as a record: signal, then its arguments by name. */
static int read_event(sd_bus_message *m, const SignalSpec *spec, GVariant **ret)
{
        GVariantBuilder builder;
        const char *value;
        int r;

        g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&builder, "{sv}", "signal", g_variant_new_string(spec->member));
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

/* "DeviceAttached debian usb 46f4:0001:SN-1 hostdev0": the values, spaced. */
static void print_event_line(GVariant *event)
{
        g_autoptr(GString) line = g_string_new(NULL);
        GVariantIter iter;
        GVariant *value;

        g_variant_iter_init(&iter, event);
        while (g_variant_iter_next(&iter, "{&sv}", NULL, &value)) {
                g_autoptr(GVariant) owned = value;
                g_autofree char *clean = sanitize_text(g_variant_get_string(owned, NULL));

                if (line->len > 0)
                        g_string_append_c(line, ' ');
                g_string_append(line, clean);
        }
        while (line->len > 0 && line->str[line->len - 1] == ' ')
                g_string_truncate(line, line->len - 1);
        printf("%s\n", line->str);
}

typedef struct {
        const Ctl *ctl;
        sd_event *event; /* the bus drops its own reference when it closes */
} Monitor;

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        const Monitor *monitor = userdata;
        const SignalSpec *spec = find_signal(m);
        g_autoptr(GVariant) event = NULL;
        int r;

        if (!spec)
                return 0;
        r = read_event(m, spec, &event);
        if (r < 0) {
                ctl_error("Failed to parse signal %s: %s", spec->member, g_strerror(-r));
                return 0;
        }
        if (monitor->ctl->json)
                print_record_json_line(event);
        else
                print_event_line(event);
        if (fflush(stdout) == 0)
                return 0;
        ctl_error("Failed to write output: %s", g_strerror(errno));
        return sd_event_exit(monitor->event, CTL_EXIT_FAILURE);
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        const Monitor *monitor = userdata;

        ctl_error("Disconnected from the bus");
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
        return r;
}

static int setup(Ctl *ctl, Monitor *monitor)
{
        sd_event *event = monitor->event;
        int r;

        r = add_exit_signals(event);
        if (r < 0) {
                ctl_error("Failed to handle SIGINT and SIGTERM: %s", g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        r = sd_bus_attach_event(ctl->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = add_matches(ctl->bus, monitor);
        if (r < 0) {
                ctl_error("Failed to subscribe to the signals: %s", g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        return CTL_EXIT_OK;
}

int verb_monitor(Ctl *ctl, char **args)
{
        g_autoptr(sd_event) event = NULL;
        Monitor monitor = { .ctl = ctl };
        int r;

        r = sd_event_new(&event);
        if (r < 0) {
                ctl_error("Failed to create the event loop: %s", g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        monitor.event = event;
        r = setup(ctl, &monitor);
        if (r == CTL_EXIT_OK)
                r = sd_event_loop(event);
        if (r < 0) {
                ctl_error("Event loop failed: %s", g_strerror(-r));
                r = CTL_EXIT_FAILURE;
        }
        sd_bus_detach_event(ctl->bus);
        return r;
}
