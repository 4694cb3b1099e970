/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* disk-list (the Disk objects), disk-attach, disk-detach */

#include <stdio.h>

#include "ctl.h"

static char *disk_mountpoint(GVariant *record)
{
        g_autofree const char **mountpoints = record_strv(record, "Mountpoints");
        guint n = g_strv_length((char **) mountpoints);

        if (n == 0)
                return g_strdup("");
        if (n == 1)
                return g_strdup(mountpoints[0]);
        return g_strdup_printf("%s +%u", mountpoints[0], n - 1);
}

/* The disk's State; a free disk the host itself needs shows as "system". */
static const char *disk_state(GVariant *record)
{
        const char *state = record_string(record, "State");

        if (g_str_equal(state, "free") && record_bool(record, "System"))
                return "system";
        return state;
}

static void disk_add_row(Table *table, GVariant *record)
{
        g_autofree char *size = format_size(record_uint(record, "Size"));
        g_autofree char *mountpoint = disk_mountpoint(record);

        table_add_row(table, (const char *const[]) {
                record_string(record, "Name"), size, record_string(record, "Transport"),
                mountpoint, record_string(record, "Model"), disk_state(record),
                record_string(record, "StateReason"),
        });
}

/* By kernel name, as lsblk: loop0, nvme0n1, sda, sdb, ..., sdaa. */
static int compare_disks(gconstpointer a, gconstpointer b)
{
        return natural_compare(record_string(*(GVariant *const *) a, "Name"),
                                record_string(*(GVariant *const *) b, "Name"));
}

/* Warnings (always) for the disks that cannot simply be attached; the hint
 * (on a terminal) how to attach one. */
static void print_disk_notes(GPtrArray *disks)
{
        bool busy = false, system = false;

        for (guint i = 0; i < disks->len; i++) {
                const char *state = disk_state(g_ptr_array_index(disks, i));

                busy = busy || g_str_equal(state, "busy") || g_str_equal(state, "attached");
                system = system || g_str_equal(state, "system");
        }
        if (busy)
                ctl_warning(_("busy and attached disks cannot be attached now; REASON says why."));
        if (system)
                ctl_warning(_("system disks need an administrator's authorization to be attached "
                              "(polkit action org.example.passthrough1.attach-system-disk)."));
        ctl_hint(_("Attach one with: %s disk-attach VM /dev/NAME [NAME]"), CTL_PROGRAM);
}

int verb_disk_list(Ctl *ctl, char **args)
{
        static const char *const headers[] = {
                "NAME", "SIZE", "TYPE", "MOUNTPOINT", "MODEL", "STATE", "REASON",
        };
        static const ListSpec spec = {
                .n_columns = G_N_ELEMENTS(headers),
                .headers = headers,
                .add_row = disk_add_row,
                .interface = DISK_INTERFACE,
                .compare = compare_disks,
        };
        g_autoptr(GPtrArray) disks = NULL;
        int r;

        r = ctl_show_list(ctl, &spec, NULL, &disks);
        if (r != CTL_EXIT_OK)
                return r;
        print_disk_notes(disks);
        return CTL_EXIT_OK;
}

static int append_attach_options(const Ctl *ctl, sd_bus_message *m, char **args)
{
        const char *name = args[2];
        int r = ctl_append_dry_run(ctl, m, args);

        if (r >= 0 && name)
                r = ctl_append_option_string(m, "name", name);
        if (r >= 0 && ctl->target)
                r = ctl_append_option_string(m, "target", ctl->target);
        if (r >= 0 && ctl->readonly)
                r = ctl_append_option_bool(m, "readonly", true);
        if (r >= 0 && ctl->scsi)
                r = ctl_append_option_string(m, "bus", "scsi");
        if (r >= 0 && ctl->lun)
                r = ctl_append_option_string(m, "mode", "lun");
        if (r >= 0 && ctl->rawio)
                r = ctl_append_option_bool(m, "rawio", true);
        if (r >= 0 && ctl->no_discard)
                r = ctl_append_option_bool(m, "discard", false);
        return r;
}

int verb_disk_attach(Ctl *ctl, char **args)
{
        g_autoptr(sd_bus_message) reply = NULL;
        const char *target;
        int r;

        r = ctl_attach(ctl, "AttachDisk", args, append_attach_options, &reply);
        if (r != CTL_EXIT_OK)
                return r;
        r = sd_bus_message_read(reply, "s", &target);
        if (r < 0)
                return ctl_parse_failure(r);
        if (ctl->json)
                ctl_print_change_json(ctl, args, target);
        else if (ctl->dry_run)
                printf(_("Would attach %s to %s as %s\n"), args[1], args[0], target);
        else
                printf(_("Attached %s to %s as %s\n"), args[1], args[0], target);
        return CTL_EXIT_OK;
}

int verb_disk_detach(Ctl *ctl, char **args)
{
        return ctl_detach(ctl, "DetachDisk", "", args);
}
