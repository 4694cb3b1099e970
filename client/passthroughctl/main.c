/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthroughctl: command-line client of org.example.Passthrough1.
 * This file: options, help and verb dispatch. */

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define CTL_CONTINUE (-1)

/* Options that belong to one verb. */
enum {
        OPT_TARGET = 1 << 0,
        OPT_READONLY = 1 << 1,
        OPT_TIMEOUT = 1 << 2,
        OPT_DRY_RUN = 1 << 3,
        OPT_SCSI = 1 << 4,
        OPT_LUN = 1 << 5,
        OPT_RAWIO = 1 << 6,
        OPT_NO_DISCARD = 1 << 7,
};

#define OPT_DISK_ATTACH (OPT_TARGET | OPT_READONLY | OPT_DRY_RUN | OPT_SCSI | OPT_LUN | OPT_RAWIO | OPT_NO_DISCARD)

typedef struct {
        const char *name;
        guint min_args;
        guint max_args;
        unsigned options;
        int (*run)(Ctl *ctl, char **args);
} Verb;

#define MAX_VERB_ARGS 3

static const Verb verbs[] = {
        { "assign",        2, 2, 0,                         verb_assign },
        { "assignments",   0, 0, 0,                         verb_assignments },
        { "attach-all",    0, 1, OPT_DRY_RUN,               verb_attach_all },
        { "attached",      1, 1, 0,                         verb_attached },
        { "detach-all",    0, 1, OPT_TIMEOUT | OPT_DRY_RUN, verb_detach_all },
        { "disk-list",     0, 0, 0,                         verb_disk_list },
        { "disk-attached", 1, 1, 0,                         verb_disk_attached },
        { "disk-attach",   2, 3, OPT_DISK_ATTACH,           verb_disk_attach },
        { "disk-detach",   2, 2, OPT_TIMEOUT | OPT_DRY_RUN, verb_disk_detach },
        { "domains",       0, 0, 0,                         verb_domains },
        { "import-bbvirt", 0, 1, OPT_DRY_RUN,               verb_import_bbvirt },
        { "monitor",       0, 0, 0,                         verb_monitor },
        { "unassign",      1, 1, 0,                         verb_unassign },
        { "usb-list",      0, 0, 0,                         verb_usb_list },
        { "usb-attached",  1, 1, 0,                         verb_usb_attached },
        { "usb-attach",    2, 2, OPT_DRY_RUN,               verb_usb_attach },
        { "usb-detach",    2, 2, OPT_TIMEOUT | OPT_DRY_RUN, verb_usb_detach },
        { "version",       0, 0, 0,                         verb_version },
};

void ctl_error(const char *format, ...)
{
        va_list ap;

        fputs(CTL_PROGRAM ": ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int ctl_usage_error(const char *format, ...)
{
        va_list ap;

        fputs(CTL_PROGRAM ": ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputs("\nTry '" CTL_PROGRAM " --help' for more information.\n", stderr);
        return CTL_EXIT_USAGE;
}

static void print_help(void)
{
        printf("%s",
               CTL_PROGRAM " [OPTIONS...] COMMAND ...\n"
               "\n"
               "Hand host disks and USB devices to running virtual machines.\n"
               "\n"
               "Commands:\n"
               "  disk-list                    List the host's disks\n"
               "  disk-attached VM             List the host disks attached to VM\n"
               "  disk-attach VM DEVICE [NAME] Attach a host disk to VM (NAME becomes\n"
               "                               the guest's /dev/disk/by-id/virtio-NAME)\n"
               "  disk-detach VM DEVICE        Detach a host disk from VM\n"
               "  usb-list                     List the host's USB devices\n"
               "  usb-attached VM              List the host USB devices attached to VM\n"
               "  usb-attach VM DEVICE         Attach a host USB device to VM (DEVICE: Id,\n"
               "                               serial, BUS:DEV, BUS-PORT[.PORT] or VVVV:PPPP)\n"
               "  usb-detach VM DEVICE         Detach a host USB device from VM\n"
               "  attached VM                  List all host devices attached to VM\n"
               "  assign DEVICE VM             Assign a device to VM for good: the service\n"
               "                               attaches it whenever both are there (DEVICE:\n"
               "                               a match such as usb:serial=SN, disk:wwn=WWN,\n"
               "                               or a present device as for usb-attach or\n"
               "                               disk-attach)\n"
               "  unassign DEVICE              Remove the assignment of DEVICE\n"
               "  assignments                  List the assignments\n"
               "  attach-all [VM]              Attach the devices assigned to VM (default:\n"
               "                               to every VM)\n"
               "  detach-all [VM]              Detach the devices assigned to VM (default:\n"
               "                               to every VM)\n"
               "  import-bbvirt [FILE]         Assign as bit-babbler's bbvirt configuration\n"
               "                               does (default /etc/bit-babbler/vm.conf; read,\n"
               "                               never run)\n"
               "  domains                      List the virtual machines\n"
               "  monitor                      Print devices and VMs as they come, go and\n"
               "                               change, and the service's signals, timed\n"
               "  version                      Show client and service versions\n"
               "\n"
               "Options:\n"
               "  -h --help                    Show this help\n"
               "     --version                 Show the client version\n"
               "  -v --verbose                 Show D-Bus error names; attach-all,\n"
               "                               detach-all: details of each device\n"
               "     --json                    Print listings as JSON (monitor: one JSON\n"
               "                               object per line)\n"
               "     --no-legend               Omit table headers and hints\n"
               "  -n --noheadings              The same (as lsblk)\n"
               "  -o --output LIST             Listings: the columns to show (NAME,SIZE;\n"
               "                               +LIST adds to the defaults; help lists them)\n"
               "     --list-columns            Listings: list the columns and exit\n"
               "  -r --raw                     Listings: as lsblk --raw (one space between\n"
               "                               cells, blanks in cells as \\x20)\n"
               "     --no-ask-password         Do not ask for a password (polkit)\n"
               "     --address ADDRESS         Connect to this D-Bus address instead\n"
               "                               of the system bus\n"
               "     --target TARGET           disk-attach: guest target, e.g. vdc\n"
               "     --readonly                disk-attach: attach read-only\n"
               "     --scsi                    disk-attach: on the virtio-scsi bus (sdX;\n"
               "                               an SSD shows as one in the guest)\n"
               "     --lun                     disk-attach: a SCSI disk as a LUN (SCSI\n"
               "                               commands and SMART reach it; implies --scsi)\n"
               "     --rawio                   disk-attach --lun: the guest may send any\n"
               "                               command (ATA SMART); needs its own polkit action\n"
               "     --no-discard              disk-attach: guest TRIM stops at QEMU\n"
               "     --timeout SECONDS         disk-detach, usb-detach, detach-all: how\n"
               "                               long to wait for the guest (default 10;\n"
               "                               detach-all: for each device)\n"
               "     --dry-run                 disk-attach, disk-detach, usb-attach,\n"
               "                               usb-detach, attach-all, detach-all,\n"
               "                               import-bbvirt: show what would be done,\n"
               "                               change nothing\n"
               "\n"
               "See the " CTL_PROGRAM "(1) man page for details.\n");
}

/* SECONDS (decimals allowed) -> milliseconds, > 0 and fitting in a uint32. */
static int parse_timeout(const char *s, uint32_t *ret)
{
        char *end;
        double seconds;

        errno = 0;
        seconds = g_ascii_strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0' || !(seconds > 0) || seconds * 1000 > G_MAXUINT32)
                return -EINVAL;
        *ret = MAX((uint32_t) (seconds * 1000 + 0.5), 1u);
        return 0;
}

enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_NO_LEGEND,
        ARG_NO_ASK_PASSWORD,
        ARG_ADDRESS,
        ARG_TARGET,
        ARG_READONLY,
        ARG_TIMEOUT,
        ARG_DRY_RUN,
        ARG_SCSI,
        ARG_LUN,
        ARG_RAWIO,
        ARG_NO_DISCARD,
        ARG_LIST_COLUMNS,
};

static const struct option long_options[] = {
        { "help",            no_argument,       NULL, 'h' },
        { "verbose",         no_argument,       NULL, 'v' },
        { "version",         no_argument,       NULL, ARG_VERSION },
        { "json",            no_argument,       NULL, ARG_JSON },
        { "no-legend",       no_argument,       NULL, ARG_NO_LEGEND },
        { "no-ask-password", no_argument,       NULL, ARG_NO_ASK_PASSWORD },
        { "address",         required_argument, NULL, ARG_ADDRESS },
        { "target",          required_argument, NULL, ARG_TARGET },
        { "readonly",        no_argument,       NULL, ARG_READONLY },
        { "timeout",         required_argument, NULL, ARG_TIMEOUT },
        { "dry-run",         no_argument,       NULL, ARG_DRY_RUN },
        { "scsi",            no_argument,       NULL, ARG_SCSI },
        { "lun",             no_argument,       NULL, ARG_LUN },
        { "rawio",           no_argument,       NULL, ARG_RAWIO },
        { "no-discard",      no_argument,       NULL, ARG_NO_DISCARD },
        { "noheadings",      no_argument,       NULL, ARG_NO_LEGEND },
        { "output",          required_argument, NULL, 'o' },
        { "list-columns",    no_argument,       NULL, ARG_LIST_COLUMNS },
        { "raw",             no_argument,       NULL, 'r' },
        {}
};

/* disk-attach's bus and mode flags. */
static int handle_disk_option(Ctl *ctl, int c, unsigned *verb_options)
{
        switch (c) {
        case ARG_SCSI:
                ctl->scsi = true;
                *verb_options |= OPT_SCSI;
                break;
        case ARG_LUN:
                ctl->lun = true;
                *verb_options |= OPT_LUN;
                break;
        case ARG_RAWIO:
                ctl->rawio = true;
                *verb_options |= OPT_RAWIO;
                break;
        default:
                ctl->no_discard = true;
                *verb_options |= OPT_NO_DISCARD;
                break;
        }
        return CTL_CONTINUE;
}

/* One option; returns CTL_CONTINUE or an exit code. */
static int handle_option(Ctl *ctl, int c, const char *arg, const char *raw, unsigned *verb_options)
{
        switch (c) {
        case 'h':
                print_help();
                return CTL_EXIT_OK;
        case ARG_VERSION:
                printf(CTL_PROGRAM " %s\n", PACKAGE_VERSION);
                return CTL_EXIT_OK;
        case 'v':
                ctl->verbose = true;
                break;
        case ARG_JSON:
                ctl->json = true;
                break;
        case ARG_NO_LEGEND:
        case 'n':
                ctl->legend = false;
                break;
        case 'o':
                ctl->columns = arg;
                break;
        case ARG_LIST_COLUMNS:
                ctl->list_columns = true;
                break;
        case 'r':
                ctl->raw = true;
                break;
        case ARG_NO_ASK_PASSWORD:
                ctl->ask_password = false;
                break;
        case ARG_ADDRESS:
                ctl->address = arg;
                break;
        case ARG_TARGET:
                ctl->target = arg;
                *verb_options |= OPT_TARGET;
                break;
        case ARG_READONLY:
                ctl->readonly = true;
                *verb_options |= OPT_READONLY;
                break;
        case ARG_DRY_RUN:
                ctl->dry_run = true;
                *verb_options |= OPT_DRY_RUN;
                break;
        case ARG_SCSI:
        case ARG_LUN:
        case ARG_RAWIO:
        case ARG_NO_DISCARD:
                return handle_disk_option(ctl, c, verb_options);
        case ARG_TIMEOUT:
                if (parse_timeout(arg, &ctl->timeout_ms) < 0)
                        return ctl_usage_error("invalid --timeout '%s': expected seconds > 0", arg);
                ctl->have_timeout = true;
                *verb_options |= OPT_TIMEOUT;
                break;
        case ':':
                return ctl_usage_error("option '%s' needs an argument", raw);
        default:
                return ctl_usage_error("unknown option '%s'", raw);
        }
        return CTL_CONTINUE;
}

static int parse_options(Ctl *ctl, int argc, char **argv, unsigned *verb_options)
{
        char short_option[3] = "-?";
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hvno:r", long_options, NULL)) >= 0) {
                const char *raw = argv[optind - 1];

                if (c == '?' && optopt != 0) {
                        short_option[1] = (char) optopt;
                        raw = short_option;
                }
                r = handle_option(ctl, c, optarg, raw, verb_options);
                if (r != CTL_CONTINUE)
                        return r;
        }
        return CTL_CONTINUE;
}

static const Verb *find_verb(const char *name)
{
        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

static int check_verb_options(const Verb *verb, unsigned given)
{
        static const struct {
                unsigned flag;
                const char *name;
        } names[] = {
                { OPT_TARGET, "--target" },
                { OPT_READONLY, "--readonly" },
                { OPT_TIMEOUT, "--timeout" },
                { OPT_DRY_RUN, "--dry-run" },
                { OPT_SCSI, "--scsi" },
                { OPT_LUN, "--lun" },
                { OPT_RAWIO, "--rawio" },
                { OPT_NO_DISCARD, "--no-discard" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
                if ((given & names[i].flag) && !(verb->options & names[i].flag))
                        return ctl_usage_error("option %s is not valid for '%s'", names[i].name, verb->name);
        return CTL_CONTINUE;
}

static int check_arg_count(const Verb *verb, guint n)
{
        if (n < verb->min_args)
                return ctl_usage_error("too few arguments for '%s'", verb->name);
        if (n > verb->max_args)
                return ctl_usage_error("too many arguments for '%s'", verb->name);
        return CTL_CONTINUE;
}

static int run_verb(Ctl *ctl, const Verb *verb, char **args)
{
        int r;

        r = ctl_connect(ctl);
        if (r != CTL_EXIT_OK)
                return r;
        r = verb->run(ctl, args);
        ctl->bus = sd_bus_flush_close_unref(ctl->bus);
        if (fflush(stdout) != 0) {
                ctl_error("Failed to write output: %s", g_strerror(errno));
                return CTL_EXIT_FAILURE;
        }
        return r;
}

int main(int argc, char **argv)
{
        Ctl ctl = { .legend = true, .ask_password = true };
        char *args[MAX_VERB_ARGS + 1] = { NULL };
        unsigned verb_options = 0;
        const Verb *verb;
        guint n_args;
        int r;

        setlocale(LC_ALL, "");
        r = parse_options(&ctl, argc, argv, &verb_options);
        if (r != CTL_CONTINUE)
                return r;
        if (optind >= argc)
                return ctl_usage_error("missing command");
        verb = find_verb(argv[optind]);
        if (!verb)
                return ctl_usage_error("unknown command '%s'", argv[optind]);
        n_args = (guint) (argc - optind - 1);
        r = listing_check_options(&ctl, verb->name);
        if (r == CTL_CONTINUE)
                r = check_arg_count(verb, n_args);
        if (r == CTL_CONTINUE)
                r = check_verb_options(verb, verb_options);
        if (r != CTL_CONTINUE)
                return r;
        for (guint i = 0; i < n_args; i++)
                args[i] = argv[optind + 1 + i];
        return run_verb(&ctl, verb, args);
}
