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

/* What a verb's arguments are: the first a VM; the first two a VM and a
 * device (in that order, for every verb taking both). */
enum {
        ARGS_VM = 1 << 0,
        ARGS_VM_DEVICE = ARGS_VM | 1 << 1,
};

typedef struct {
        const char *name;
        const char *args;     /* for help: "VM DEVICE [NAME]" */
        const char *summary;  /* N_(), lines split by \n */
        guint min_args;
        guint max_args;
        unsigned options;
        unsigned kind;
        int (*run)(Ctl *ctl, char **args);
} Verb;

#define MAX_VERB_ARGS 3

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

/* Without a command: what each running VM holds from the host. */
static const Verb status_verb = { "", "", NULL, 0, 0, 0, 0, verb_status };

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

static void print_help(void)
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
static void print_verb_help(const Verb *verb)
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
                ctl->help = true;
                break;
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
                ctl->legend = false;
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
                        return ctl_usage_error(_("invalid --timeout '%s': expected seconds > 0"), arg);
                ctl->have_timeout = true;
                *verb_options |= OPT_TIMEOUT;
                break;
        case ':':
                return ctl_usage_error(_("option '%s' needs an argument"), raw);
        default:
                return ctl_usage_error(_("unknown option '%s'"), raw);
        }
        return CTL_CONTINUE;
}

static int parse_options(Ctl *ctl, int argc, char **argv, unsigned *verb_options)
{
        char short_option[3] = "-?";
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hv", long_options, NULL)) >= 0) {
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
        for (size_t i = 0; i < G_N_ELEMENTS(option_docs); i++)
                if ((given & option_docs[i].flag) && !(verb->options & option_docs[i].flag))
                        return ctl_usage_error(_("option %s is not valid for '%s'"), option_docs[i].name,
                                               verb->name);
        return CTL_CONTINUE;
}

static int check_arg_count(const Verb *verb, guint n)
{
        if (n < verb->min_args)
                return ctl_usage_error(_("too few arguments for '%s'"), verb->name);
        if (n > verb->max_args)
                return ctl_usage_error(_("too many arguments for '%s'"), verb->name);
        return CTL_CONTINUE;
}

/* VM DEVICE given as DEVICE VM (assign's old order), and a guest target
 * given as disk-attach's NAME, are refused rather than sent. */
static int check_arg_meaning(const Verb *verb, char **args)
{
        if ((verb->kind & ARGS_VM_DEVICE) == ARGS_VM_DEVICE && ctl_looks_like_device(args[0]) &&
            !ctl_looks_like_device(args[1])) {
                ctl_hint(_("Try: %s %s %s %s"), CTL_PROGRAM, verb->name, args[1], args[0]);
                return ctl_usage_error(_("'%s' looks like a device and '%s' like a VM: the order is "
                                         "'%s VM DEVICE'"), args[0], args[1], verb->name);
        }
        if (verb->run == verb_disk_attach && args[2] && ctl_looks_like_target(args[2]))
                return ctl_usage_error(_("'%s' looks like a guest target: give it as --target %s "
                                         "(NAME, the third argument, becomes the disk's serial)"),
                                       args[2], args[2]);
        return CTL_CONTINUE;
}

static int run_verb(Ctl *ctl, const Verb *verb, char **args)
{
        int r;

        if (verb->kind & ARGS_VM)
                ctl->domain = args[0];
        r = ctl_connect(ctl);
        if (r != CTL_EXIT_OK)
                return r;
        r = verb->run(ctl, args);
        ctl->bus = sd_bus_flush_close_unref(ctl->bus);
        if (fflush(stdout) != 0) {
                ctl_error(_("Failed to write output: %s"), g_strerror(errno));
                return CTL_EXIT_FAILURE;
        }
        return r;
}

static int unknown_verb(const char *name)
{
        const char *names[G_N_ELEMENTS(verbs)];
        g_autofree char *nearest = NULL;

        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
                names[i] = verbs[i].name;
        nearest = ctl_suggest_verb(name, names, G_N_ELEMENTS(names));
        if (nearest)
                return ctl_usage_error(_("unknown command '%s'; did you mean '%s'?"), name, nearest);
        return ctl_usage_error(_("unknown command '%s'"), name);
}

/* help [COMMAND] */
static int run_help(char **args, guint n_args)
{
        const Verb *verb;

        if (n_args == 0) {
                print_help();
                return CTL_EXIT_OK;
        }
        if (n_args > 1)
                return ctl_usage_error(_("too many arguments for '%s'"), "help");
        verb = find_verb(args[0]);
        if (!verb)
                return unknown_verb(args[0]);
        print_verb_help(verb);
        return CTL_EXIT_OK;
}

static void init_i18n(void)
{
        setlocale(LC_ALL, "");
        bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
        bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
        textdomain(GETTEXT_PACKAGE);
}

/* The command and its arguments, checked; CTL_CONTINUE with *ret_verb set
 * when there is something to run. */
static int parse_command(Ctl *ctl, int argc, char **argv, unsigned verb_options, char **args,
                         const Verb **ret_verb)
{
        guint n_args = argc > optind ? (guint) (argc - optind - 1) : 0;
        const Verb *verb;
        int r;

        if (optind >= argc) {
                if (ctl->help)
                        return run_help(NULL, 0);
                *ret_verb = &status_verb;
                return verb_options ? ctl_usage_error(_("options for a command, but no command")) : CTL_CONTINUE;
        }
        if (strcmp(argv[optind], "help") == 0)
                return run_help(argv + optind + 1, n_args);
        verb = find_verb(argv[optind]);
        if (!verb)
                return unknown_verb(argv[optind]);
        if (ctl->help) {
                print_verb_help(verb);
                return CTL_EXIT_OK;
        }
        r = check_arg_count(verb, n_args);
        if (r == CTL_CONTINUE)
                r = check_verb_options(verb, verb_options);
        if (r != CTL_CONTINUE)
                return r;
        for (guint i = 0; i < n_args; i++)
                args[i] = argv[optind + 1 + i];
        *ret_verb = verb;
        return check_arg_meaning(verb, args);
}

int main(int argc, char **argv)
{
        Ctl ctl = { .legend = true, .ask_password = true };
        char *args[MAX_VERB_ARGS + 1] = { NULL };
        unsigned verb_options = 0;
        const Verb *verb = NULL;
        int r;

        init_i18n();
        r = parse_options(&ctl, argc, argv, &verb_options);
        if (r != CTL_CONTINUE)
                return r;
        ctl_set_hints(ctl.legend);
        r = parse_command(&ctl, argc, argv, verb_options, args, &verb);
        if (r != CTL_CONTINUE)
                return r;
        return run_verb(&ctl, verb, args);
}
