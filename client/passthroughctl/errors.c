/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* D-Bus error names -> passthroughctl's exit codes and its own hints.
 * The service's messages are for any client; what to do next from here
 * (which command, which option) is said by the client, on a terminal. */

#include <string.h>

#include "ctl.h"

#define SERVICE_ERROR BUS_INTERFACE ".Error."
#define DBUS_ERROR "org.freedesktop.DBus.Error."

/* hint: {VM} stands for the VM the command named. message: when set, the
 * entry is only for an error of that name with exactly that message. */
typedef struct {
        const char *name;
        int exit_code;
        const char *hint;
        const char *message;
} ErrorInfo;

/* NoReply is a timeout only when its message says so: dbus-daemon sends it
 * too when the service went away without answering, and sd-bus when the
 * connection was closed ("Connection terminated"); those are failures (1). */
#define SD_BUS_TIMED_OUT "Method call timed out"
#define DBUS_DAEMON_TIMED_OUT "Message did not receive a reply (timeout by message bus)"

static const ErrorInfo error_infos[] = {
        { SERVICE_ERROR "NotAuthorized", CTL_EXIT_NOT_AUTHORIZED,
          N_("Changes need polkit's authorization: members of the group 'passthrough' "
             "(in a local, active session) are allowed by the shipped rule, others are asked "
             "for an administrator's password. See AUTHORIZATION in passthroughctl(1).") },
        { SERVICE_ERROR "AuthorizationDismissed", CTL_EXIT_NOT_AUTHORIZED, NULL },
        { DBUS_ERROR "InteractiveAuthorizationRequired", CTL_EXIT_NOT_AUTHORIZED,
          N_("Run it without --no-ask-password to be asked for a password.") },
        { DBUS_ERROR "AccessDenied", CTL_EXIT_NOT_AUTHORIZED,
          N_("The bus policy refused the call; see passthroughd(8).") },
        { SERVICE_ERROR "NoSuchDomain", CTL_EXIT_NO_SUCH,
          N_("'passthroughctl domains' lists the VMs libvirt knows.") },
        { SERVICE_ERROR "NoSuchDevice", CTL_EXIT_NO_SUCH,
          N_("'passthroughctl disk-list' and 'passthroughctl usb-list' show the host's devices.") },
        { SERVICE_ERROR "DeviceBusy", CTL_EXIT_BUSY,
          N_("Unmount it (and its partitions) and stop what holds it first; "
             "'passthroughctl disk-list' says what uses it.") },
        { SERVICE_ERROR "AlreadyAttached", CTL_EXIT_BUSY,
          N_("Detach it from the VM that has it first; 'passthroughctl disk-list' and "
             "'passthroughctl usb-list' say which VM that is.") },
        { SERVICE_ERROR "Timeout", CTL_EXIT_TIMEOUT,
          N_("The guest may still let go later; a longer --timeout waits longer.") },
        { DBUS_ERROR "Timeout", CTL_EXIT_TIMEOUT, NULL },   /* sd_bus_call()'s -ETIMEDOUT */
        { DBUS_ERROR "NoReply", CTL_EXIT_TIMEOUT, NULL, SD_BUS_TIMED_OUT },
        { DBUS_ERROR "NoReply", CTL_EXIT_TIMEOUT, NULL, DBUS_DAEMON_TIMED_OUT },
        { SERVICE_ERROR "DomainNotRunning", CTL_EXIT_FAILURE,
          N_("Start it first: virsh start {VM}") },
        { SERVICE_ERROR "NotAttached", CTL_EXIT_FAILURE,
          N_("'passthroughctl attached {VM}' shows what it has.") },
        { DBUS_ERROR "ServiceUnknown", CTL_EXIT_FAILURE,
          N_("Is passthroughd installed? 'systemctl status passthroughd' shows whether it runs.") },
};

static bool error_matches(const ErrorInfo *info, const sd_bus_error *error)
{
        return strcmp(info->name, error->name) == 0 &&
               (!info->message || g_strcmp0(info->message, error->message) == 0);
}

static const ErrorInfo *find_error(const sd_bus_error *error)
{
        for (size_t i = 0; error->name && i < G_N_ELEMENTS(error_infos); i++)
                if (error_matches(&error_infos[i], error))
                        return &error_infos[i];
        return NULL;
}

bool ctl_error_is_dismissed(const char *name)
{
        return g_strcmp0(name, SERVICE_ERROR "AuthorizationDismissed") == 0;
}

int ctl_error_exit_code(const sd_bus_error *error)
{
        const ErrorInfo *info = find_error(error);

        return info ? info->exit_code : CTL_EXIT_FAILURE;
}

/* domain: the VM the command named, or NULL. */
void ctl_error_hint(const sd_bus_error *error, const char *domain)
{
        const ErrorInfo *info = find_error(error);
        g_autoptr(GString) text = NULL;

        if (!info || !info->hint)
                return;
        text = g_string_new(_(info->hint));
        g_string_replace(text, "{VM}", domain ? domain : "VM", 0);
        ctl_hint("%s", text->str);
}
