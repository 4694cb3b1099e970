/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bus side of passthroughctl: connect, call, report errors. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int open_bus(const char *address, sd_bus **ret)
{
        g_autoptr(sd_bus) bus = NULL;
        int r;

        if (!address)
                return sd_bus_open_system(ret);

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address);
        if (r < 0)
                return r;
        r = sd_bus_set_bus_client(bus, true);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&bus);
        return 0;
}

/* Why a bus cannot be reached, in words (NULL: not a connection error). */
static const char *unreachable_reason(int r)
{
        switch (-r) {
        case EINVAL:
                return _("not a D-Bus address (such as unix:path=/run/dbus/system_bus_socket)");
        case ENOENT:
                return _("no such socket");
        case ECONNREFUSED:
                return _("nothing listens there");
        case EACCES:
        case EPERM:
                return _("permission denied");
        case ECONNRESET:
        case ENOTCONN:
        case EPIPE:
        case EBADMSG:
        case EPROTO:
        case EIO:
                return _("no D-Bus bus answers there");
        case ENOMEDIUM:
        case EHOSTUNREACH:
        case ENETUNREACH:
                return _("the host cannot be reached");
        default:
                return NULL;
        }
}

/* Every ;-separated part of address starts with a transport sd-bus knows. */
static bool address_well_formed(const char *address)
{
        static const char *const transports[] = { "unix:", "tcp:", "unixexec:", "x-machine-unix:" };
        g_auto(GStrv) parts = g_strsplit(address, ";", -1);

        for (guint i = 0; parts[i]; i++) {
                bool known = false;

                for (size_t t = 0; t < G_N_ELEMENTS(transports); t++)
                        known = known || g_str_has_prefix(parts[i], transports[t]);
                if (!known && parts[i][0])
                        return false;
        }
        return true;
}

static int bus_unreachable(const Ctl *ctl, int r)
{
        const char *reason = unreachable_reason(ctl->address && !address_well_formed(ctl->address) ? -EINVAL : r);

        if (!reason)
                reason = g_strerror(-r);
        if (ctl->address)
                ctl_error(_("Cannot reach the bus at '%s': %s"), ctl->address, reason);
        else
                ctl_error(_("Cannot reach the system bus: %s"), reason);
        return CTL_EXIT_FAILURE;
}

int ctl_connect(Ctl *ctl)
{
        g_autoptr(sd_bus) bus = NULL;
        int r;

        r = open_bus(ctl->address, &bus);
        if (r < 0)
                return bus_unreachable(ctl, r);
        r = sd_bus_set_allow_interactive_authorization(bus, ctl->ask_password);
        if (r < 0) {
                ctl_error(_("Failed to set interactive authorization: %s"), g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        ctl->bus = g_steal_pointer(&bus);
        return CTL_EXIT_OK;
}

int ctl_parse_failure(int r)
{
        ctl_error(_("Failed to parse the service's reply: %s"), g_strerror(-r));
        return CTL_EXIT_FAILURE;
}

int ctl_append_failure(int r)
{
        ctl_error(_("Failed to build the call: %s"), g_strerror(-r));
        return CTL_EXIT_FAILURE;
}

/* The connection failed (not the service): no error name, or sd-bus's own
 * System.Error.E* for the errno. */
static bool is_connection_failure(const sd_bus_error *error, int r)
{
        if (sd_bus_error_is_set(error) && !g_str_has_prefix(error->name, "System.Error."))
                return false;
        return unreachable_reason(r) != NULL;
}

/* The service's message (with -v its error name), the client's hint; the
 * exit code for the error name. A dismissed password prompt is said quietly. */
int ctl_report_error(const Ctl *ctl, const char *method, const sd_bus_error *error, int r)
{
        const char *message;

        if (is_connection_failure(error, r))
                return bus_unreachable(ctl, r);
        if (!sd_bus_error_is_set(error)) {
                ctl_error(_("Failed to call %s: %s"), method, g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        if (ctl_error_is_dismissed(error->name)) {
                fprintf(stderr, "%s\n", _("Authorization dismissed."));
                return ctl_error_exit_code(error);
        }
        message = error->message && error->message[0] ? error->message : error->name;
        if (ctl->verbose)
                ctl_error("%s (%s)", message, error->name);
        else
                ctl_error("%s", message);
        ctl_error_hint(error, ctl->domain);
        return ctl_error_exit_code(error);
}

int ctl_new_call(Ctl *ctl, const char *method, sd_bus_message **ret)
{
        int r;

        r = sd_bus_message_new_method_call(ctl->bus, ret, BUS_NAME, BUS_PATH, BUS_INTERFACE, method);
        if (r < 0) {
                ctl_error(_("Failed to create %s call: %s"), method, g_strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        return CTL_EXIT_OK;
}

/* Send call and wait for the reply. With interactive, a polkit text agent
 * runs for the duration of the call (when one is wanted, see agent.c). With
 * ctl->on_interrupt, Ctrl-C stops the wait: that message, exit 130. */
int ctl_call(Ctl *ctl, sd_bus_message *call, uint64_t timeout_usec, bool interactive,
             sd_bus_message **ret_reply)
{
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        const char *method = sd_bus_message_get_member(call);
        bool interrupted = false;
        int r;

        if (interactive)
                agent_open(ctl);
        if (ctl->on_interrupt)
                r = ctl_call_interruptible(ctl->bus, call, timeout_usec, ctl->waiting, &error, ret_reply,
                                           &interrupted);
        else
                r = sd_bus_call(ctl->bus, call, timeout_usec, &error, ret_reply);
        if (interactive)
                agent_close();
        if (interrupted) {
                fprintf(stderr, "%s\n", ctl->on_interrupt);
                return CTL_EXIT_INTERRUPTED;
        }
        if (r < 0)
                return ctl_report_error(ctl, method ? method : "method", &error, r);
        return CTL_EXIT_OK;
}

int ctl_get_version(Ctl *ctl, char **ret)
{
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_get_property_string(ctl->bus, BUS_NAME, BUS_PATH, BUS_INTERFACE, "Version",
                                       &error, ret);
        if (r < 0)
                return ctl_report_error(ctl, "Get Version", &error, r);
        return CTL_EXIT_OK;
}

/* Call a listing method (with a domain argument when given) and read its
 * aa{sv} reply into records. */
int ctl_fetch_records(Ctl *ctl, const char *method, const char *domain, GPtrArray **ret)
{
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        r = ctl_new_call(ctl, method, &call);
        if (r != CTL_EXIT_OK)
                return r;
        if (domain) {
                r = sd_bus_message_append(call, "s", domain);
                if (r < 0)
                        return ctl_append_failure(r);
        }
        r = ctl_call(ctl, call, 0, false, &reply);
        if (r != CTL_EXIT_OK)
                return r;
        r = record_read_array(reply, ret);
        if (r < 0)
                return ctl_parse_failure(r);
        return CTL_EXIT_OK;
}

/* Entries of an a{sv} options argument (the container is already open). */
int ctl_append_option_string(sd_bus_message *m, const char *key, const char *value)
{
        return sd_bus_message_append(m, "{sv}", key, "s", value);
}

int ctl_append_option_bool(sd_bus_message *m, const char *key, bool value)
{
        return sd_bus_message_append(m, "{sv}", key, "b", (int) value);
}

int ctl_append_option_uint32(sd_bus_message *m, const char *key, uint32_t value)
{
        return sd_bus_message_append(m, "{sv}", key, "u", value);
}
