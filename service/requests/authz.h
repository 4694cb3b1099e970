/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization: every changing method names a polkit action; the check is
 * asynchronous, its subject is the caller's system bus name (never a PID),
 * uid 0 skips polkit, and anything that goes wrong denies. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#define ACTION_ATTACH_DISK        "org.example.passthrough1.attach-disk"
#define ACTION_ATTACH_SYSTEM_DISK "org.example.passthrough1.attach-system-disk"
#define ACTION_ATTACH_DISK_RAWIO  "org.example.passthrough1.attach-disk-rawio"
#define ACTION_ATTACH_USB         "org.example.passthrough1.attach-usb"
#define ACTION_DETACH             "org.example.passthrough1.detach"
#define ACTION_DETACH_FOREIGN     "org.example.passthrough1.detach-foreign"
#define ACTION_MANAGE_ASSIGNMENTS "org.example.passthrough1.manage-assignments"

#include "callers.h"

typedef struct Authz Authz;
typedef struct AuthzCheck AuthzCheck;

/* `callers` (borrowed) gives the caller's uid and caps the checks one uid
 * may have pending (CALLERS_MAX_CHECKS; beyond: PT_ERROR_LIMIT_EXCEEDED). */
Authz *authz_new(Callers *callers);
void authz_free(Authz *authz);

/* Called on the main thread: error NULL when allowed; else PT_ERROR_NOT_AUTHORIZED,
 * PT_ERROR_AUTHORIZATION_DISMISSED (the user closed the prompt),
 * PT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED or PT_ERROR_LIMIT_EXCEEDED. */
typedef void (*AuthzDone)(GError *error, gpointer data);

/* Check `action` for the sender of `message` with polkit details given as
 * key/value pairs (copied; NULL and empty values are skipped). Always answers through `done`,
 * never before this function returns. The handle is valid until then. */
AuthzCheck *authz_check(Authz *authz, sd_bus_message *message, const char *action,
                        GHashTable *details, AuthzDone done, gpointer data);

/* The caller left: stop asking (polkit's check is cancelled too); `done`
 * then answers PT_ERROR_NOT_AUTHORIZED. */
void authz_cancel(AuthzCheck *check);

/* Checks asked for and not yet answered. */
guint authz_pending(void);
