/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Assignments (a host device match -> a domain) and the service-owned file
 * that keeps them: a GLib key file, written atomically (temporary file,
 * fsync, rename, fsync of the directory), so a crash leaves the old file or
 * the new one, never a mix. A file that cannot be read or parsed is set
 * aside (renamed to assignments.conf.corrupt-<time>) and the service starts
 * without assignments. Parsing and serialising are pure. Main thread only. */
#pragma once

#include <glib.h>

#include "assign-match.h"

#define ASSIGN_STORE_FILE "assignments.conf"

/* Assign refuses a new assignment beyond this many (LimitExceeded). A file
 * that holds more (hand-written, or older) still loads in full. */
#define ASSIGN_STORE_MAX 4096

typedef struct {
        DeviceMatch *match;
        char *domain;   /* the domain's name (libvirt's, or as given when libvirt did not know it) */
        char *uuid;     /* "" when unknown; when set, the domain is found and events matched by it */
} Assignment;

Assignment *assignment_new(const DeviceMatch *match, const char *domain, const char *uuid);
Assignment *assignment_copy(const Assignment *assignment);
void assignment_free(Assignment *assignment);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Assignment, assignment_free)

/* A list of Assignment* (empty, or a deep copy). */
GPtrArray *assignments_new(void);
GPtrArray *assignments_copy(GPtrArray *assignments);

/* Index of the assignment whose canonical match string is `text`, or -1. */
gint assignments_find(GPtrArray *assignments, const char *text);
/* Is there room for one more assignment (below ASSIGN_STORE_MAX)? Else
 * FALSE + PT_ERROR_LIMIT_EXCEEDED. */
gboolean assignments_room(GPtrArray *assignments, GError **error);
/* Does the list still hold `a`: its match, for the same domain name and UUID? */
gboolean assignments_holds(GPtrArray *assignments, const Assignment *a);

/* Pure: the file's text, and back. Parsing fails when the file is not a
 * key file or has no valid header; it checks every group (match, domain
 * name, UUID, no match twice) and leaves a bad one out with a warning. */
char *assign_store_serialise(GPtrArray *assignments, gsize *length);
GPtrArray *assign_store_parse(const char *data, gsize length, GError **error);

/* Write atomically, creating the directory (mode 0700) if needed. On
 * failure the old file is left as it was. */
gboolean assign_store_write(const char *path, GPtrArray *assignments, GError **error);

/* $STATE_DIRECTORY (its first entry) when systemd sets it, else
 * LOCALSTATEDIR/lib/passthrough. */
char *assign_store_default_dir(void);

typedef struct AssignStore AssignStore;

/* Load DIR/assignments.conf. Never fails: a missing file is no
 * assignments; an unreadable or corrupt one is logged, renamed aside and
 * replaced by none (if it cannot be renamed, changes are refused so that
 * nothing overwrites it). */
AssignStore *assign_store_open(const char *dir);
void assign_store_free(AssignStore *store);

const char *assign_store_path(AssignStore *store);
/* The current assignments (borrowed; replaced by assign_store_replace). */
GPtrArray *assign_store_get(AssignStore *store);
/* Write `assignments` (taken over) and make them current; on failure the
 * current ones and the file stay as they were. */
gboolean assign_store_replace(AssignStore *store, GPtrArray *assignments, GError **error);
