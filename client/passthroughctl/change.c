/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The calls that change something: AttachDisk, DetachDisk, AttachUsb,
 * DetachUsb, Assign, Unassign, AttachAll and DetachAll all take one or two
 * strings and a{sv} options, and may ask for a password, so a polkit agent
 * runs around them (see agent.c). */

#include <stdio.h>
#include <unistd.h>

#include "ctl.h"

#define DETACH_DEFAULT_TIMEOUT_MS 10000

static int append_arguments(const Ctl *ctl, sd_bus_message *m, const ChangeCall *spec, char **args)
{
        int r = 0;

        for (guint i = 0; r >= 0 && i < spec->n_strings; i++)
                r = sd_bus_message_append_basic(m, 's', args[i]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && spec->append_options)
                r = spec->append_options(ctl, m, args);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int ctl_change(Ctl *ctl, const ChangeCall *spec, char **args, sd_bus_message **ret_reply)
{
        g_autoptr(sd_bus_message) call = NULL;
        int r;

        r = ctl_new_call(ctl, spec->method, &call);
        if (r != CTL_EXIT_OK)
                return r;
        r = append_arguments(ctl, call, spec, args);
        if (r < 0)
                return ctl_append_failure(r);
        return ctl_call(ctl, call, spec->timeout_usec + CTL_INTERACTIVE_SLACK_USEC, true, ret_reply);
}

int ctl_attach(Ctl *ctl, const char *method, char **args, OptionsAppender append_options,
               sd_bus_message **ret_reply)
{
        const ChangeCall spec = { method, 2, append_options, 0 };

        return ctl_change(ctl, &spec, args, ret_reply);
}

int ctl_append_dry_run(const Ctl *ctl, sd_bus_message *m, char **args)
{
        if (!ctl->dry_run)
                return 0;
        return ctl_append_option_bool(m, "dry-run", true);
}

int ctl_append_detach_options(const Ctl *ctl, sd_bus_message *m, char **args)
{
        int r = ctl_append_dry_run(ctl, m, args);

        if (r < 0 || !ctl->have_timeout)
                return r;
        return ctl_append_option_uint32(m, "timeout-ms", ctl->timeout_ms);
}

void ctl_print_change_json(const Ctl *ctl, char **args, const char *target)
{
        g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
        g_autoptr(GVariant) record = NULL;

        g_variant_dict_insert(&dict, "domain", "s", args[0]);
        g_variant_dict_insert(&dict, "device", "s", args[1]);
        if (target)
                g_variant_dict_insert(&dict, "target", "s", target);
        g_variant_dict_insert(&dict, "dry-run", "b", ctl->dry_run);
        record = g_variant_ref_sink(g_variant_dict_end(&dict));
        print_record_json_line(record);
}

/* "Detached {what}DEVICE from VM" (with --dry-run, "Would detach ..."). */
static void print_detached(const Ctl *ctl, const char *what, char **args)
{
        if (ctl->json)
                ctl_print_change_json(ctl, args, NULL);
        else if (ctl->dry_run)
                printf(_("Would detach %s%s from %s\n"), what, args[1], args[0]);
        else
                printf(_("Detached %s%s from %s\n"), what, args[1], args[0]);
}

/* Detach, waiting as long as the service may wait (--timeout, default 10 s)
 * plus the slack. On a terminal, say that the guest is waited for; Ctrl-C
 * stops waiting (the request stays with the service). */
int ctl_detach(Ctl *ctl, const char *method, const char *what, char **args)
{
        uint32_t wait_ms = ctl->have_timeout ? ctl->timeout_ms : DETACH_DEFAULT_TIMEOUT_MS;
        const ChangeCall spec = { method, 2, ctl_append_detach_options, (uint64_t) wait_ms * 1000 };
        g_autofree char *on_interrupt = g_strdup_printf(
                _("Stopped waiting. The detach of %s%s from %s may still complete: the request is with "
                  "the service ('%s attached %s' shows what the VM has)."),
                what, args[1], args[0], CTL_PROGRAM, args[0]);
        g_autofree char *waiting = NULL;
        int r;

        if (!ctl->dry_run && isatty(STDERR_FILENO))
                waiting = g_strdup_printf(_("Waiting for the guest to release %s%s…"), what, args[1]);
        ctl->on_interrupt = on_interrupt;
        ctl->waiting = waiting;
        r = ctl_change(ctl, &spec, args, NULL);
        ctl->on_interrupt = ctl->waiting = NULL;
        if (r != CTL_EXIT_OK)
                return r;
        print_detached(ctl, what, args);
        return CTL_EXIT_OK;
}
