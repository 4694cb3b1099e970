/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The a{sv} options of Attach and Detach calls: known keys only, each with
 * its one type, validated before anything else happens. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

typedef enum {
        OPTION_NAME = 1 << 0,        /* name s: the disk's serial */
        OPTION_TARGET = 1 << 1,      /* target s: vdX */
        OPTION_READONLY = 1 << 2,    /* readonly b */
        OPTION_TIMEOUT_MS = 1 << 3,  /* timeout-ms u */
        OPTION_DRY_RUN = 1 << 4,     /* dry-run b: authorize and check, change nothing */
        OPTION_BUS = 1 << 5,         /* bus s: virtio (default) or scsi */
        OPTION_MODE = 1 << 6,        /* mode s: disk (default) or lun */
        OPTION_DISCARD = 1 << 7,     /* discard b: guest TRIM reaches the host (default true) */
        OPTION_RAWIO = 1 << 8,       /* rawio b: a LUN may send any SCSI command (default false) */
} OptionKey;

/* The options of a disk attach. */
#define OPTIONS_DISK_ATTACH (OPTION_NAME | OPTION_TARGET | OPTION_READONLY | OPTION_DRY_RUN | OPTION_BUS | \
                             OPTION_MODE | OPTION_DISCARD | OPTION_RAWIO)

#define DEFAULT_DETACH_TIMEOUT_MS 10000u
#define MAX_DETACH_TIMEOUT_MS 600000u

typedef struct {
        char *name;
        char *target;
        gboolean readonly;
        guint32 timeout_ms;
        gboolean dry_run;
        gboolean scsi;         /* bus=scsi */
        gboolean lun;          /* mode=lun */
        gboolean no_discard;   /* discard=false (zero: the default, TRUE) */
        gboolean rawio;
} CallOptions;

/* Read the a{sv} at the message's read position. Keys outside `allowed`,
 * repeated keys, wrong variant types and invalid values are
 * PT_ERROR_INVALID_ARGUMENT. */
gboolean options_read(sd_bus_message *message, guint allowed, CallOptions *out, GError **error);
void call_options_clear(CallOptions *options);
