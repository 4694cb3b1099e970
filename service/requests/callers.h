/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who calls: the uid behind each caller's unique bus name (asked of the bus
 * once, asynchronously, and kept while the name exists), the caps on what
 * one uid may have in flight, and whether a caller is still there.
 * Main thread only. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#define CALLERS_MAX_REQUESTS 32      /* calls in flight per uid */
#define CALLERS_MAX_CHECKS 16        /* polkit checks pending per uid */

typedef struct Callers Callers;

/* `bus` NULL: no look-ups and no watching, the counters only (tests). */
Callers *callers_new(sd_bus *bus);
void callers_free(Callers *callers);

/* The uid of `sender`, once known. */
gboolean callers_uid(Callers *callers, const char *sender, guint32 *uid);

/* Called on the main thread, never before callers_lookup() returns: the
 * sender's uid, or an error (PT_ERROR_NOT_AUTHORIZED: the bus does not know it). */
typedef void (*CallerKnown)(guint32 uid, const GError *error, gpointer data);
void callers_lookup(Callers *callers, const char *sender, CallerKnown done, gpointer data);

/* Call left(data) when `sender` leaves the bus (once); returns an id for
 * callers_unwatch(). Watch before the call's first main loop turn: the bus
 * delivers a caller's leaving after its calls. */
typedef void (*CallerLeft)(gpointer data);
guint callers_watch(Callers *callers, const char *sender, CallerLeft left, gpointer data);
void callers_unwatch(Callers *callers, guint id);

/* Per-uid counters: take one (FALSE + PT_ERROR_LIMIT_EXCEEDED when `max`
 * are taken), give it back. `what` names the counter in messages. */
typedef enum { CALLERS_REQUESTS, CALLERS_CHECKS } CallersCounter;
gboolean callers_take(Callers *callers, CallersCounter counter, guint32 uid, GError **error);
void callers_give(Callers *callers, CallersCounter counter, guint32 uid);
