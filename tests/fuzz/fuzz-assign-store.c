/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* assign_store_parse(): the service's assignments file
 * (/var/lib/passthrough/assignments.conf), which an administrator may have
 * edited or an older version written. What it keeps is valid (match,
 * domain, UUID, no match twice), and serialising it gives a file that parses
 * to the same list and serialises to the same text. */
#include "config.h"

#include "assign-store.h"
#include "errors.h"
#include "fuzz-common.h"
#include "virt.h"

static void check_assignment(const Assignment *a) {
        g_autofree char *text = device_match_to_string(a->match);
        g_autoptr(DeviceMatch) again = device_match_parse(text, NULL);

        FUZZ_CHECK(again != NULL);
        FUZZ_CHECK(a->domain && virt_domain_spec_valid(a->domain, NULL));
        FUZZ_CHECK(a->uuid && (!*a->uuid || g_uuid_string_is_valid(a->uuid)));
}

static void check_list(GPtrArray *list) {
        for (guint i = 0; i < list->len; i++) {
                const Assignment *a = list->pdata[i];
                g_autofree char *text = device_match_to_string(a->match);

                check_assignment(a);
                /* no match twice: the first with this text is this one */
                FUZZ_CHECK(assignments_find(list, text) == (gint) i);
        }
}

static void check_same(GPtrArray *a, GPtrArray *b) {
        FUZZ_CHECK(a->len == b->len);
        for (guint i = 0; i < a->len; i++) {
                const Assignment *x = a->pdata[i], *y = b->pdata[i];
                g_autofree char *mx = device_match_to_string(x->match);
                g_autofree char *my = device_match_to_string(y->match);

                FUZZ_CHECK(g_str_equal(mx, my));
                FUZZ_CHECK(g_str_equal(x->domain, y->domain));
                FUZZ_CHECK(g_str_equal(x->uuid, y->uuid));
                FUZZ_CHECK(assignments_holds(b, x));
        }
}

static void check_round_trip(GPtrArray *list) {
        gsize length = 0, length_again = 0;
        g_autofree char *text = assign_store_serialise(list, &length);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) again = assign_store_parse(text, length, &error);
        g_autofree char *text_again = NULL;

        FUZZ_CHECK(again != NULL);
        check_same(list, again);
        text_again = assign_store_serialise(again, &length_again);
        FUZZ_CHECK(length == length_again && memcmp(text, text_again, length) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        return 0;
}

/* The whole input, as the service reads the file (g_file_get_contents). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = assign_store_parse((const char *) data, size, &error);

        if (!list) {
                FUZZ_CHECK(error != NULL);
                return 0;
        }
        FUZZ_CHECK(error == NULL);
        check_list(list);
        check_round_trip(list);
        return 0;
}
