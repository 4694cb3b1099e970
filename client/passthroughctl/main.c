/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthroughctl: command-line client of org.example.Passthrough1.
 * This file: options and dispatch (the verbs and their help: verbs.c). */

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "verbs.h"

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
                int r = ctl_usage_error(_("'%s' looks like a device and '%s' like a VM: the order is "
                                          "'%s VM DEVICE'"), args[0], args[1], verb->name);

                ctl_hint(_("In that order: %s %s %s %s"), CTL_PROGRAM, verb->name, args[1], args[0]);
                return r;
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
        const char *nearest = verb_nearest(name);

        if (nearest)
                return ctl_usage_error(_("unknown command '%s'; did you mean '%s'?"), name, nearest);
        return ctl_usage_error(_("unknown command '%s'"), name);
}

/* help [COMMAND] */
static int run_help(char **args, guint n_args)
{
        const Verb *verb;

        if (n_args == 0) {
                verbs_print_help();
                return CTL_EXIT_OK;
        }
        if (n_args > 1)
                return ctl_usage_error(_("too many arguments for '%s'"), "help");
        verb = verb_find(args[0]);
        if (!verb)
                return unknown_verb(args[0]);
        verb_print_help(verb);
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
                *ret_verb = &verb_status_entry;
                return verb_options ? ctl_usage_error(_("options for a command, but no command")) : CTL_CONTINUE;
        }
        if (strcmp(argv[optind], "help") == 0)
                return run_help(argv + optind + 1, n_args);
        verb = verb_find(argv[optind]);
        if (!verb)
                return unknown_verb(argv[optind]);
        if (ctl->help) {
                verb_print_help(verb);
                return CTL_EXIT_OK;
        }
        r = listing_check_options(ctl, verb->name);
        if (r == CTL_CONTINUE)
                r = check_arg_count(verb, n_args);
        if (r == CTL_CONTINUE)
                r = verb_check_options(verb, verb_options);
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
