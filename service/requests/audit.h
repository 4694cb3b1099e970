/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit trail: every change the service makes (attach, detach, assign,
 * unassign, automatic attach, removal of a stale entry) is logged once, as a
 * structured journal entry with PASSTHROUGH_* fields and a MESSAGE_ID per
 * action, and on stderr as one natural line that names the caller's uid.
 * Dry runs change nothing and are not audited. Main thread.
 *
 * Fields (journalctl -o verbose; absent when the record has no value):
 *   MESSAGE                 the line below, e.g. "Attached /dev/sdb to VM debian
 *                           as vdb (uid 1000, :1.42)", "Automatically attached usb
 *                           46f4:0001:SN to VM debian (assignment usb:serial=SN)",
 *                           "Attach of /dev/sdb to VM debian failed for uid 1000
 *                           (:1.42): <the error's message>"
 *   PRIORITY                5 (notice) on success, 4 (warning) on failure
 *   MESSAGE_ID              per action, below
 *   PASSTHROUGH_ACTION      attach, detach, assign, unassign, remove-stale
 *   PASSTHROUGH_CALLER_UID  the caller's uid (absent when automatic or unknown)
 *   PASSTHROUGH_CALLER      the caller's unique bus name, or "automatic"
 *   PASSTHROUGH_ASSIGNMENT  the assignment's match string
 *   PASSTHROUGH_VM, PASSTHROUGH_VM_UUID, PASSTHROUGH_KIND, PASSTHROUGH_DEVICE,
 *   PASSTHROUGH_TARGET      as in AuditRecord
 *   PASSTHROUGH_RESULT      success or failure
 *   PASSTHROUGH_ERROR       on failure: the D-Bus error name (…Error.DeviceBusy)
 * Control and format characters in any of these (a device may name itself
 * anything) become '?', and invalid UTF-8 U+FFFD. The journal's own _UID
 * and _PID are the service's.
 *
 * GLib sends the fields to the journal when stderr is a journal stream (as
 * under systemd); otherwise only the MESSAGE line goes to stderr. */
#pragma once

#include <glib.h>

typedef enum {
        AUDIT_ATTACH,          /* AttachDisk/AttachUsb, AttachAll, automatic attach */
        AUDIT_DETACH,          /* DetachDisk/DetachUsb, DetachAll */
        AUDIT_ASSIGN,
        AUDIT_UNASSIGN,
        AUDIT_REMOVE_STALE,    /* the service removed its own entry of an unplugged device */
} AuditAction;

/* MESSAGE_ID of each action's entries (journalctl MESSAGE_ID=...), success
 * and failure alike; made once with systemd-id128 new, never to change. */
#define AUDIT_MESSAGE_ID_ATTACH "73050617824f4be688a583eceadafe6f"
#define AUDIT_MESSAGE_ID_DETACH "9c9cd07c4a3b44d296e9bfb53c2ef6eb"
#define AUDIT_MESSAGE_ID_ASSIGN "2754997672de44bc8c62bb7502202b26"
#define AUDIT_MESSAGE_ID_UNASSIGN "5157d24b4b7c429cb340fd9108f54a0f"
#define AUDIT_MESSAGE_ID_REMOVE_STALE "3b0b40fbc4974df38bb8144ad8a4d4cd"

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
