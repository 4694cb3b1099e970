/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The calls that change something: AttachDisk, DetachDisk, AttachUsb and
 * DetachUsb all take (s domain, s device, a{sv} options) and may ask for a
 * password, so a polkit agent runs around them (see agent.c). */

#include <stdio.h>

#include "ctl.h"

/* Room for a password prompt on top of the service's own work. */
#define INTERACTIVE_SLACK_USEC (120 * G_USEC_PER_SEC)
#define DETACH_DEFAULT_TIMEOUT_MS 10000

static int append_arguments(const Ctl *ctl, sd_bus_message *m, char **args, OptionsAppender append_options)
{
        int r;

        r = sd_bus_message_append(m, "ss", args[0], args[1]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && append_options)
                r = append_options(ctl, m, args);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int call_change(Ctl *ctl, const char *method, char **args, OptionsAppender append_options,
                       uint64_t timeout_usec, sd_bus_message **ret_reply)
{
        g_autoptr(sd_bus_message) call = NULL;
        int r;

        r = ctl_new_call(ctl, method, &call);
        if (r != CTL_EXIT_OK)
                return r;
        r = append_arguments(ctl, call, args, append_options);
        if (r < 0)
                return ctl_append_failure(r);
        return ctl_call(ctl, call, timeout_usec, true, ret_reply);
}

int ctl_attach(Ctl *ctl, const char *method, char **args, OptionsAppender append_options,
               sd_bus_message **ret_reply)
{
        return call_change(ctl, method, args, append_options, INTERACTIVE_SLACK_USEC, ret_reply);
}

static int append_detach_options(const Ctl *ctl, sd_bus_message *m, char **args)
{
        if (!ctl->have_timeout)
                return 0;
        return ctl_append_option_uint32(m, "timeout-ms", ctl->timeout_ms);
}

/* Detach, waiting as long as the service may wait (--timeout, default 10 s)
 * plus the slack, and say so: "Detached {what}DEVICE from VM". */
int ctl_detach(Ctl *ctl, const char *method, const char *what, char **args)
{
        uint32_t wait_ms = ctl->have_timeout ? ctl->timeout_ms : DETACH_DEFAULT_TIMEOUT_MS;
        int r;

        r = call_change(ctl, method, args, append_detach_options,
                        (uint64_t) wait_ms * 1000 + INTERACTIVE_SLACK_USEC, NULL);
        if (r != CTL_EXIT_OK)
                return r;
        printf("Detached %s%s from %s\n", what, args[1], args[0]);
        return CTL_EXIT_OK;
}
