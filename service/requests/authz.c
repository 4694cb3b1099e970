/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#define POLKIT_AGENT_I_KNOW_API_IS_SUBJECT_TO_CHANGE
#include <polkit/polkit.h>

#include "authz.h"
#include "errors.h"

struct Authz {
        PolkitAuthority *authority;   /* NULL until polkit_authority_get_async answers */
        GCancellable *cancellable;
        Callers *callers;
};

struct AuthzCheck {
        Authz *authz;
        sd_bus_message *message;
        char *action;
        GHashTable *details;
        gboolean interactive;
        guint32 uid;
        gboolean counted;             /* holds one of the uid's CALLERS_CHECKS */
        GCancellable *cancellable;    /* this check's: the caller left */
        AuthzDone done;
        gpointer data;
};

typedef AuthzCheck Check;

static guint checks_pending;   /* main thread */

guint authz_pending(void) {
        return checks_pending;
}

static void check_free(Check *check) {
        checks_pending--;
        if (check->counted)
                callers_give(check->authz->callers, CALLERS_CHECKS, check->uid);
        g_clear_object(&check->cancellable);
        sd_bus_message_unref(check->message);
        g_free(check->action);
        g_clear_pointer(&check->details, g_hash_table_unref);
        g_free(check);
}

static void check_finish(Check *check, GError *error) {
        check->done(error, check->data);
        check_free(check);
}

static void check_deny(Check *check, PtError code, const char *message) {
        g_autoptr(GError) error = g_error_new_literal(PT_ERROR, code, message);

        check_finish(check, error);
}

static gboolean deny_later(gpointer p) {
        check_deny(p, PT_ERROR_NOT_AUTHORIZED, "Cannot identify the caller; denied");
        return G_SOURCE_REMOVE;
}

static void report_result(Check *check, PolkitAuthorizationResult *result) {
        g_autofree char *msg = NULL;

        if (polkit_authorization_result_get_is_authorized(result)) {
                check_finish(check, NULL);
                return;
        }
        /* The user closed the prompt: not a refusal, so it has a name of its
         * own that a desktop client can stay quiet about. */
        if (polkit_authorization_result_get_dismissed(result)) {
                msg = g_strdup_printf("Authentication for %s was dismissed", check->action);
                check_deny(check, PT_ERROR_AUTHORIZATION_DISMISSED, msg);
                return;
        }
        if (polkit_authorization_result_get_is_challenge(result) && !check->interactive) {
                check_deny(check, PT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                           "Interactive authentication required: call again with interactive authorization allowed");
                return;
        }
        msg = g_strdup_printf("Not authorized to perform %s", check->action);
        check_deny(check, PT_ERROR_NOT_AUTHORIZED, msg);
}

static void polkit_answered(GObject *source, GAsyncResult *res, gpointer data) {
        Check *check = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(PolkitAuthorizationResult) result = NULL;
        g_autofree char *msg = NULL;

        result = polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), res, &error);
        if (result) {
                report_result(check, result);
                return;
        }
        if (g_cancellable_is_cancelled(check->cancellable)) {
                check_deny(check, PT_ERROR_NOT_AUTHORIZED, "The caller left; the request was cancelled");
                return;
        }
        g_warning("polkit check for %s failed: %s", check->action, error->message);
        msg = g_strdup_printf("Cannot check authorization for %s (polkit: %s); denied", check->action, error->message);
        check_deny(check, PT_ERROR_NOT_AUTHORIZED, msg);
}

/* The check outlives the call that asks for it: keep copies of the details
 * (callers may pass strings they free), without empty values. */
static GHashTable *copy_details(GHashTable *table) {
        GHashTable *copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        GHashTableIter iter;
        gpointer key, value;

        if (!table)
                return copy;
        g_hash_table_iter_init(&iter, table);
        while (g_hash_table_iter_next(&iter, &key, &value))
                if (value && *(const char *) value)
                        g_hash_table_insert(copy, g_strdup(key), g_strdup(value));
        return copy;
}

static PolkitDetails *make_details(GHashTable *table) {
        PolkitDetails *details = polkit_details_new();
        GHashTableIter iter;
        gpointer key, value;

        g_hash_table_iter_init(&iter, table);
        while (g_hash_table_iter_next(&iter, &key, &value))
                polkit_details_insert(details, key, value);
        return details;
}

static void ask_polkit(Check *check);

static void authority_for_check(GObject *source, GAsyncResult *res, gpointer data) {
        Check *check = data;
        g_autoptr(GError) error = NULL;
        PolkitAuthority *authority = polkit_authority_get_finish(res, &error);

        if (!authority) {
                check_deny(check, PT_ERROR_NOT_AUTHORIZED, "polkit is not available; cannot authorize, so denied");
                return;
        }
        if (check->authz->authority)
                g_object_unref(authority);
        else
                check->authz->authority = authority;
        ask_polkit(check);
}

static void ask_polkit(Check *check) {
        g_autoptr(PolkitSubject) subject = NULL;
        g_autoptr(PolkitDetails) details = NULL;
        PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;

        if (!check->authz->authority) {
                polkit_authority_get_async(check->authz->cancellable, authority_for_check, check);
                return;
        }
        subject = polkit_system_bus_name_new(sd_bus_message_get_sender(check->message));
        details = make_details(check->details);
        if (check->interactive)
                flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
        polkit_authority_check_authorization(check->authz->authority, subject, check->action, details, flags,
                                             check->cancellable, polkit_answered, check);
}

static void uid_known(guint32 uid, const GError *error, gpointer data) {
        Check *check = data;
        g_autoptr(GError) limit = NULL;

        if (error) {
                check_finish(check, (GError *) error);
                return;
        }
        if (g_cancellable_is_cancelled(check->cancellable)) {
                check_deny(check, PT_ERROR_NOT_AUTHORIZED, "The caller left; the request was cancelled");
                return;
        }
        if (uid == 0) {
                check_finish(check, NULL);
                return;
        }
        if (!callers_take(check->authz->callers, CALLERS_CHECKS, uid, &limit)) {
                check_finish(check, limit);
                return;
        }
        check->uid = uid;
        check->counted = TRUE;
        ask_polkit(check);
}

void authz_cancel(AuthzCheck *check) {
        g_cancellable_cancel(check->cancellable);
}

AuthzCheck *authz_check(Authz *authz, sd_bus_message *message, const char *action,
                        GHashTable *details, AuthzDone done, gpointer data) {
        Check *check = g_new0(Check, 1);
        const char *sender = sd_bus_message_get_sender(message);

        checks_pending++;
        check->cancellable = g_cancellable_new();
        check->authz = authz;
        check->message = sd_bus_message_ref(message);
        check->action = g_strdup(action);
        check->details = copy_details(details);
        check->interactive = sd_bus_message_get_allow_interactive_authorization(message) > 0;
        check->done = done;
        check->data = data;

        if (!sender) {
                /* Not from a bus: there is no name to ask polkit about. */
                g_idle_add(deny_later, check);
                return check;
        }
        /* The bus driver knows who owns the name (asked once per caller). */
        callers_lookup(authz->callers, sender, uid_known, check);
        return check;
}

static void authority_ready(GObject *source, GAsyncResult *res, gpointer data) {
        Authz *authz = data;
        g_autoptr(GError) error = NULL;
        PolkitAuthority *authority = polkit_authority_get_finish(res, &error);

        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                return;   /* authz is gone */
        if (authz->authority) {
                /* A check fetched it first (authority_for_check). */
                g_clear_object(&authority);
                return;
        }
        authz->authority = authority;
        if (!authority)
                g_warning("polkit is not available, every request will be denied: %s", error->message);
}

Authz *authz_new(Callers *callers) {
        Authz *authz = g_new0(Authz, 1);

        authz->callers = callers;
        authz->cancellable = g_cancellable_new();
        polkit_authority_get_async(authz->cancellable, authority_ready, authz);
        return authz;
}

void authz_free(Authz *authz) {
        if (!authz)
                return;
        g_cancellable_cancel(authz->cancellable);
        g_clear_object(&authz->cancellable);
        g_clear_object(&authz->authority);
        g_free(authz);
}
