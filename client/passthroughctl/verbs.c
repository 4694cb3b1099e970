/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthroughctl's commands: the table of verbs and their own options, the
 * whole help and each verb's. */

#include <stdio.h>
#include <string.h>

#include "verbs.h"

static const Verb verbs[] = {
        { "disk-list", "", N_("List the host's disks"),
          0, 0, 0, 0, verb_disk_list },
        { "disk-attached", "VM", N_("List the host disks attached to VM"),
          1, 1, 0, ARGS_VM, verb_disk_attached },
        { "disk-attach", "VM DEVICE [NAME]",
          N_("Attach a host disk to VM (NAME becomes\nthe guest's /dev/disk/by-id/virtio-NAME;\n"
             "the guest target is --target)"),
          2, 3, OPT_DISK_ATTACH, ARGS_VM_DEVICE, verb_disk_attach },
        { "disk-detach", "VM DEVICE", N_("Detach a host disk from VM, waiting for\nthe guest to let go"),
          2, 2, OPT_TIMEOUT | OPT_DRY_RUN, ARGS_VM_DEVICE, verb_disk_detach },
        { "usb-list", "", N_("List the host's USB devices"),
          0, 0, 0, 0, verb_usb_list },
        { "usb-attached", "VM", N_("List the host USB devices attached to VM"),
          1, 1, 0, ARGS_VM, verb_usb_attached },
        { "usb-attach", "VM DEVICE",
          N_("Attach a host USB device to VM (DEVICE: Id,\nserial, BUS:DEV, BUS-PORT[.PORT] or VVVV:PPPP)"),
          2, 2, OPT_DRY_RUN, ARGS_VM_DEVICE, verb_usb_attach },
        { "usb-detach", "VM DEVICE", N_("Detach a host USB device from VM"),
          2, 2, OPT_TIMEOUT | OPT_DRY_RUN, ARGS_VM_DEVICE, verb_usb_detach },
        { "attached", "VM", N_("List all host devices attached to VM"),
          1, 1, 0, ARGS_VM, verb_attached },
        { "assign", "VM DEVICE",
          N_("Assign a device to VM for good: the service\nattaches it whenever both are there (DEVICE:\n"
             "a match such as usb:serial=SN, disk:wwn=WWN,\nor a present device as for usb-attach or\n"
             "disk-attach)"),
          2, 2, 0, ARGS_VM_DEVICE, verb_assign },
        { "unassign", "DEVICE", N_("Remove the assignment of DEVICE"),
          1, 1, 0, 0, verb_unassign },
        { "assignments", "", N_("List the assignments"),
          0, 0, 0, 0, verb_assignments },
        { "attach-all", "[VM]", N_("Attach the devices assigned to VM (default:\nto every VM)"),
          0, 1, OPT_DRY_RUN, ARGS_VM, verb_attach_all },
        { "detach-all", "[VM]", N_("Detach the devices assigned to VM (default:\nto every VM)"),
          0, 1, OPT_TIMEOUT | OPT_DRY_RUN, ARGS_VM, verb_detach_all },
        { "import-bbvirt", "[FILE]",
          N_("Assign as bit-babbler's bbvirt configuration\ndoes (default /etc/bit-babbler/vm.conf; read,\n"
             "never run)"),
          0, 1, OPT_DRY_RUN, 0, verb_import_bbvirt },
        { "domains", "", N_("List the virtual machines"),
          0, 0, 0, 0, verb_domains },
        { "monitor", "",
          N_("Print devices and VMs as they come, go and\nchange, and the service's signals, timed"),
          0, 0, 0, 0, verb_monitor },
        { "version", "", N_("Show client and service versions"),
          0, 0, 0, 0, verb_version },
};

const Verb verb_status_entry = { "", "", NULL, 0, 0, 0, 0, verb_status };

static const struct {
        unsigned flag;
        const char *name;
        const char *arg;
        const char *help;
} option_docs[] = {
        { OPT_TARGET, "--target", "TARGET", N_("The guest target, e.g. vdc or sdb (default:\nthe first free one)") },
        { OPT_READONLY, "--readonly", NULL, N_("Attach read-only") },
        { OPT_SCSI, "--scsi", NULL, N_("On the virtio-scsi bus (sdX; an SSD shows as\none in the guest)") },
        { OPT_LUN, "--lun", NULL, N_("A SCSI disk as a LUN (SCSI commands and SMART\nreach it; implies --scsi)") },
        { OPT_RAWIO, "--rawio", NULL,
          N_("With --lun: the guest may send any command\n(ATA SMART); needs its own polkit action") },
        { OPT_NO_DISCARD, "--no-discard", NULL, N_("The guest's TRIM stops at QEMU") },
        { OPT_TIMEOUT, "--timeout", "SECONDS",
          N_("How long to wait for the guest (default 10;\ndetach-all: for each device)") },
        { OPT_DRY_RUN, "--dry-run", NULL, N_("Show what would be done, change nothing") },
};

#define HELP_COLUMN 30

/* "  LEFT   TEXT" with TEXT's further lines under its first. */
static void print_entry(const char *left, const char *text)
{
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        printf("%-*s %s\n", HELP_COLUMN, left, lines[0]);
        for (guint i = 1; lines[i]; i++)
                printf("%-*s %s\n", HELP_COLUMN, "", lines[i]);
}

static char *option_left(guint i)
{
        return g_strdup_printf("     %s%s%s", option_docs[i].name, option_docs[i].arg ? " " : "",
                               option_docs[i].arg ? option_docs[i].arg : "");
}

#define HELP_TEXT_WIDTH 48

/* "(disk-detach, usb-detach, detach-all)": the verbs that take flag, in
 * lines of HELP_TEXT_WIDTH at most. */
static char *option_verbs(unsigned flag)
{
        g_autoptr(GString) names = g_string_new(NULL);
        gsize line_start = 0;

        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
                if (!(verbs[i].options & flag))
                        continue;
                g_string_append(names, names->len ? "," : "(");
                if (names->len - line_start + strlen(verbs[i].name) + 2 > HELP_TEXT_WIDTH) {
                        g_string_append_c(names, '\n');
                        line_start = names->len;
                } else if (names->len > 1) {
                        g_string_append_c(names, ' ');
                }
                g_string_append(names, verbs[i].name);
        }
        g_string_append_c(names, ')');
        return g_string_free(g_steal_pointer(&names), FALSE);
}

void verbs_print_help(void)
{
        printf(_("%s [OPTIONS...] [COMMAND] ...\n\n"
                 "Hand host disks and USB devices to running virtual machines.\n"
                 "Without a command: what each running VM holds from the host.\n\n"
                 "Commands:\n"), CTL_PROGRAM);
        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
                g_autofree char *left = g_strdup_printf("  %s %s", verbs[i].name, verbs[i].args);

                print_entry(left, _(verbs[i].summary));
        }
        printf("%s", _("  help COMMAND                 Show the usage and options of COMMAND\n"
                       "\n"
                       "Options:\n"
                       "  -h --help                    Show this help (after a command: its help)\n"
                       "     --version                 Show the client version\n"
                       "  -v --verbose                 Show D-Bus error names; attach-all,\n"
                       "                               detach-all: details of each device\n"
                       "     --json                    Print as JSON: listings, attach, detach and\n"
                       "                               version (monitor: one JSON object per line)\n"
                       "     --no-legend               Omit table headers and hints\n"
                       "  -n --noheadings              The same (as lsblk)\n"
                       "  -o --output LIST             Listings: the columns to show (NAME,SIZE;\n"
                       "                               +LIST adds to the defaults; help lists them)\n"
                       "     --list-columns            Listings: list the columns and exit\n"
                       "  -r --raw                     Listings: as lsblk --raw (one space between\n"
                       "                               cells, blanks in cells as \\x20)\n"
                       "     --no-ask-password         Do not ask for a password (polkit)\n"
                       "     --address ADDRESS         Connect to this D-Bus address instead\n"
                       "                               of the system bus\n"));
        for (size_t i = 0; i < G_N_ELEMENTS(option_docs); i++) {
                g_autofree char *left = option_left(i);
                g_autofree char *for_verbs = option_verbs(option_docs[i].flag);
                g_autofree char *text = g_strdup_printf("%s\n%s", _(option_docs[i].help), for_verbs);

                print_entry(left, text);
        }
        printf(_("\nSee the %s(1) man page for details.\n"), CTL_PROGRAM);
}

/* One verb's usage and its own options. */
void verb_print_help(const Verb *verb)
{
        g_autofree char *summary = g_strdelimit(g_strdup(_(verb->summary)), "\n", ' ');

        printf("%s %s%s%s%s\n\n%s\n", CTL_PROGRAM, verb->name, verb->options ? _(" [OPTIONS...]") : "",
               verb->args[0] ? " " : "", verb->args, summary);
        if (verb->options) {
                printf("\n%s\n", _("Options:"));
                for (size_t i = 0; i < G_N_ELEMENTS(option_docs); i++) {
                        g_autofree char *left = NULL;

                        if (!(verb->options & option_docs[i].flag))
                                continue;
                        left = option_left(i);
                        print_entry(left, _(option_docs[i].help));
                }
        }
        printf(_("\nThe options of every command: %s --help\n"), CTL_PROGRAM);
}

const Verb *verb_find(const char *name)
{
        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

const char *verb_nearest(const char *name)
{
        const char *names[G_N_ELEMENTS(verbs)];

        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
                names[i] = verbs[i].name;
        return ctl_suggest_verb(name, names, G_N_ELEMENTS(names));
}

int verb_check_options(const Verb *verb, unsigned given)
{
        for (size_t i = 0; i < G_N_ELEMENTS(option_docs); i++)
                if ((given & option_docs[i].flag) && !(verb->options & option_docs[i].flag))
                        return ctl_usage_error(_("option %s is not valid for '%s'"), option_docs[i].name,
                                               verb->name);
        return CTL_CONTINUE;
}
