/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "callers.h"
#include "errors.h"

/* A unique bus name is never given out twice while the bus runs, so its uid
 * can be kept; names of callers that left are dropped when the bus says so. */
#define MAX_KNOWN 4096

struct Callers {
        sd_bus *bus;
        sd_bus_slot *owner_changed;
        GHashTable *uids;          /* sender -> uid + 1 */
        GHashTable *counts[2];     /* uid -> count, per CallersCounter */
        GHashTable *watches;       /* id -> Watch* */
        guint next_watch;
};

typedef struct {
        char *sender;
        CallerLeft left;
        gpointer data;
} Watch;

static void watch_free(Watch *watch) {
        g_free(watch->sender);
        g_free(watch);
}

/* The callbacks may unwatch others: collect the ids first. */
static void caller_left(Callers *callers, const char *name) {
        g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));
        GHashTableIter iter;
        gpointer key, value;

        g_hash_table_iter_init(&iter, callers->watches);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                guint id = GPOINTER_TO_UINT(key);

                if (g_str_equal(((Watch *) value)->sender, name))
                        g_array_append_val(ids, id);
        }
        for (guint i = 0; i < ids->len; i++) {
                gpointer id = GUINT_TO_POINTER(g_array_index(ids, guint, i));
                Watch *watch = g_hash_table_lookup(callers->watches, id);

                if (!watch)
                        continue;
                g_hash_table_steal(callers->watches, id);
                watch->left(watch->data);
                watch_free(watch);
        }
}

typedef struct {
        Callers *callers;
        char *sender;
        CallerKnown done;
        gpointer data;
} Lookup;

static int name_owner_changed(sd_bus_message *message, void *userdata, sd_bus_error *ret_error) {
        Callers *callers = userdata;
        const char *name = NULL, *old_owner = NULL, *new_owner = NULL;

        if (sd_bus_message_read(message, "sss", &name, &old_owner, &new_owner) < 0 || name[0] != ':' ||
            *new_owner)
                return 0;
        g_hash_table_remove(callers->uids, name);
        caller_left(callers, name);
        return 0;
}

Callers *callers_new(sd_bus *bus) {
        Callers *callers = g_new0(Callers, 1);
        int r;

        callers->bus = sd_bus_ref(bus);
        callers->uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        callers->watches = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) watch_free);
        for (guint i = 0; i < G_N_ELEMENTS(callers->counts); i++)
                callers->counts[i] = g_hash_table_new(g_direct_hash, g_direct_equal);
        if (!bus)
                return callers;   /* unit tests: counters only */
        r = sd_bus_match_signal_async(bus, &callers->owner_changed, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "NameOwnerChanged", name_owner_changed, NULL,
                                      callers);
        if (r < 0)
                g_warning("Cannot follow callers leaving the bus: %s", g_strerror(-r));
        return callers;
}

void callers_free(Callers *callers) {
        if (!callers)
                return;
        sd_bus_slot_unref(callers->owner_changed);
        sd_bus_unref(callers->bus);
        g_hash_table_unref(callers->uids);
        g_hash_table_unref(callers->watches);
        for (guint i = 0; i < G_N_ELEMENTS(callers->counts); i++)
                g_hash_table_unref(callers->counts[i]);
        g_free(callers);
}

gboolean callers_uid(Callers *callers, const char *sender, guint32 *uid) {
        gpointer value = sender ? g_hash_table_lookup(callers->uids, sender) : NULL;

        if (!value)
                return FALSE;
        *uid = (guint32) (GPOINTER_TO_SIZE(value) - 1);
        return TRUE;
}

static void lookup_finish(Lookup *lookup, guint32 uid, const GError *error) {
        lookup->done(uid, error, lookup->data);
        g_free(lookup->sender);
        g_free(lookup);
}

static void lookup_fail(Lookup *lookup) {
        g_autoptr(GError) error = g_error_new_literal(PT_ERROR, PT_ERROR_NOT_AUTHORIZED,
                                                      "Cannot identify the caller; denied");

        lookup_finish(lookup, G_MAXUINT32, error);
}

static int uid_answered(sd_bus_message *reply, void *data, sd_bus_error *ret_error) {
        Lookup *lookup = data;
        uint32_t uid = UINT32_MAX;

        if (sd_bus_message_is_method_error(reply, NULL) || sd_bus_message_read(reply, "u", &uid) < 0 ||
            uid == UINT32_MAX) {
                lookup_fail(lookup);
                return 0;
        }
        if (g_hash_table_size(lookup->callers->uids) >= MAX_KNOWN)
                g_hash_table_remove_all(lookup->callers->uids);   /* a cache: asked again when needed */
        g_hash_table_replace(lookup->callers->uids, g_strdup(lookup->sender), GSIZE_TO_POINTER((gsize) uid + 1));
        lookup_finish(lookup, uid, NULL);
        return 0;
}

static gboolean answer_later(gpointer data) {
        Lookup *lookup = data;
        guint32 uid;

        if (callers_uid(lookup->callers, lookup->sender, &uid))
                lookup_finish(lookup, uid, NULL);
        else
                lookup_fail(lookup);
        return G_SOURCE_REMOVE;
}

void callers_lookup(Callers *callers, const char *sender, CallerKnown done, gpointer data) {
        Lookup *lookup = g_new0(Lookup, 1);
        guint32 uid;
        int r;

        lookup->callers = callers;
        lookup->sender = g_strdup(sender);
        lookup->done = done;
        lookup->data = data;
        if (!sender || callers_uid(callers, sender, &uid)) {
                g_idle_add(answer_later, lookup);
                return;
        }
        r = sd_bus_call_method_async(callers->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "GetConnectionUnixUser", uid_answered, lookup, "s",
                                     sender);
        if (r < 0)
                g_idle_add(answer_later, lookup);
}

guint callers_watch(Callers *callers, const char *sender, CallerLeft left, gpointer data) {
        Watch *watch = g_new0(Watch, 1);
        guint id = ++callers->next_watch;

        watch->sender = g_strdup(sender);
        watch->left = left;
        watch->data = data;
        g_hash_table_insert(callers->watches, GUINT_TO_POINTER(id), watch);
        return id;
}

void callers_unwatch(Callers *callers, guint id) {
        g_hash_table_remove(callers->watches, GUINT_TO_POINTER(id));
}

static const char *const counter_what[] = {
        [CALLERS_REQUESTS] = "calls in flight",
        [CALLERS_CHECKS] = "authorization checks pending",
};

static const guint counter_max[] = {
        [CALLERS_REQUESTS] = CALLERS_MAX_REQUESTS,
        [CALLERS_CHECKS] = CALLERS_MAX_CHECKS,
};

gboolean callers_take(Callers *callers, CallersCounter counter, guint32 uid, GError **error) {
        GHashTable *counts = callers->counts[counter];
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, GUINT_TO_POINTER(uid)));

        if (n >= counter_max[counter]) {
                g_set_error(error, PT_ERROR, PT_ERROR_LIMIT_EXCEEDED,
                            "Too many %s for uid %u (at most %u); try again when earlier ones have finished",
                            counter_what[counter], uid, counter_max[counter]);
                return FALSE;
        }
        g_hash_table_insert(counts, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n + 1));
        return TRUE;
}

void callers_give(Callers *callers, CallersCounter counter, guint32 uid) {
        GHashTable *counts = callers->counts[counter];
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, GUINT_TO_POINTER(uid)));

        g_return_if_fail(n > 0);
        if (n == 1)
                g_hash_table_remove(counts, GUINT_TO_POINTER(uid));
        else
                g_hash_table_insert(counts, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n - 1));
}
