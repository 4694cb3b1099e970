/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the per-uid caps. */
#include "config.h"

#include <string.h>

#include "callers.h"
#include "errors.h"

static void test_cap_per_uid(void) {
        Callers *callers = callers_new(NULL);
        g_autoptr(GError) error = NULL;

        for (guint i = 0; i < CALLERS_MAX_REQUESTS; i++)
                g_assert_true(callers_take(callers, CALLERS_REQUESTS, 1000, NULL));
        g_assert_false(callers_take(callers, CALLERS_REQUESTS, 1000, &error));
        g_assert_error(error, PT_ERROR, PT_ERROR_LIMIT_EXCEEDED);
        g_assert_nonnull(strstr(error->message, "uid 1000"));
        /* Another uid, and the other counter, are not held up. */
        g_assert_true(callers_take(callers, CALLERS_REQUESTS, 1001, NULL));
        g_assert_true(callers_take(callers, CALLERS_CHECKS, 1000, NULL));
        /* One given back: one may be taken again, not two. */
        callers_give(callers, CALLERS_REQUESTS, 1000);
        g_assert_true(callers_take(callers, CALLERS_REQUESTS, 1000, NULL));
        g_assert_false(callers_take(callers, CALLERS_REQUESTS, 1000, NULL));
        callers_free(callers);
}

static void test_checks_cap(void) {
        Callers *callers = callers_new(NULL);

        for (guint i = 0; i < CALLERS_MAX_CHECKS; i++)
                g_assert_true(callers_take(callers, CALLERS_CHECKS, 7, NULL));
        g_assert_false(callers_take(callers, CALLERS_CHECKS, 7, NULL));
        for (guint i = 0; i < CALLERS_MAX_CHECKS; i++)
                callers_give(callers, CALLERS_CHECKS, 7);
        g_assert_true(callers_take(callers, CALLERS_CHECKS, 7, NULL));
        callers_free(callers);
}

static void test_uid_unknown_without_lookup(void) {
        Callers *callers = callers_new(NULL);
        guint32 uid = 42;

        g_assert_false(callers_uid(callers, ":1.5", &uid));
        g_assert_cmpuint(uid, ==, 42);
        callers_free(callers);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/callers/cap-per-uid", test_cap_per_uid);
        g_test_add_func("/callers/checks-cap", test_checks_cap);
        g_test_add_func("/callers/uid-unknown-without-lookup", test_uid_unknown_without_lookup);
        return g_test_run();
}
