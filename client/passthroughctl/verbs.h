/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthroughctl's commands (verbs): what each takes, and their help. */
#pragma once

#include "ctl.h"

/* Not an exit code: go on. */
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

/* Without a command: what each running VM holds from the host. */
extern const Verb verb_status_entry;

const Verb *verb_find(const char *name);
/* The verb nearest to name, or NULL. */
const char *verb_nearest(const char *name);
/* CTL_CONTINUE, or a usage error for an option (OPT_*) verb does not take. */
int verb_check_options(const Verb *verb, unsigned given);
void verbs_print_help(void);
void verb_print_help(const Verb *verb);
