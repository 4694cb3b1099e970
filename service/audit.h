/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit trail: every change the service makes (attach, detach, assign,
 * unassign, automatic attach, removal of a stale entry) is logged once, as a
 * structured journal entry with PASSTHROUGH_* fields and a MESSAGE_ID per
 * action, and on stderr as one natural line that names the caller's uid.
 * Dry runs change nothing and are not audited. Main thread. */
#pragma once

#include <glib.h>

typedef enum {
        AUDIT_ATTACH,          /* AttachDisk/AttachUsb, AttachAll, automatic attach */
        AUDIT_DETACH,          /* DetachDisk/DetachUsb, DetachAll */
        AUDIT_ASSIGN,
        AUDIT_UNASSIGN,
        AUDIT_REMOVE_STALE,    /* the service removed its own entry of an unplugged device */
} AuditAction;

typedef struct {
        AuditAction action;
        /* Who: a caller (uid and unique bus name), or nobody: automatic,
         * on behalf of `assignment`. */
        gboolean automatic;
        guint32 caller_uid;       /* G_MAXUINT32 when unknown */
        const char *caller;       /* ":1.42"; NULL when automatic */
        const char *assignment;   /* the assignment's match string, or NULL */
        const char *vm;           /* the domain's name */
        const char *vm_uuid;      /* may be NULL or "" */
        const char *kind;         /* "disk" or "usb" */
        const char *device;       /* /dev/sdb, a USB device Id, or a match string */
        const char *target;       /* vdb, the hostdev alias, or NULL */
        const GError *error;      /* NULL: it worked */
} AuditRecord;

void audit_log(const AuditRecord *record);
