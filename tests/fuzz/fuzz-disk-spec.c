/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* disk_spec_valid(): the syntax check of a caller's disk string (AttachDisk,
 * DetachDisk, Assign), before anything touches the file system. */
#include "config.h"

#include "disks.h"
#include "errors.h"
#include "fuzz-common.h"

static gboolean plain_char(char c) {
        return g_ascii_isalnum(c) || (c && strchr("._:+@-", c));
}

/* What an accepted string looks like, checked independently of disks.c. */
static void check_accepted(const char *spec) {
        size_t n = strlen(spec);

        FUZZ_CHECK(n >= 1 && n <= 255);
        for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(spec[i] >= 0x20 && spec[i] < 0x7f);
        if (spec[0] != '/') {
                for (size_t i = 0; i < n; i++)
                        FUZZ_CHECK(plain_char(spec[i]));
                FUZZ_CHECK(!g_str_equal(spec, ".") && !g_str_equal(spec, ".."));
                return;
        }
        FUZZ_CHECK(g_str_has_prefix(spec, "/dev/") && n > 5);
        g_auto(GStrv) parts = g_strsplit(spec + 5, "/", -1);
        for (guint i = 0; parts[i]; i++) {
                FUZZ_CHECK(parts[i][0] != '\0');
                FUZZ_CHECK(!g_str_equal(parts[i], ".") && !g_str_equal(parts[i], ".."));
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        g_autoptr(GError) error = NULL;

        fuzz_quiet_logs();
        FUZZ_CHECK(!disk_spec_valid(NULL, &error));
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *spec = fuzz_string(data, size);
        g_autoptr(GError) error = NULL;

        if (disk_spec_valid(spec, &error)) {
                FUZZ_CHECK(error == NULL);
                check_accepted(spec);
        } else {
                FUZZ_CHECK(g_error_matches(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT));
                FUZZ_CHECK(g_utf8_validate(error->message, -1, NULL));
        }
        return 0;
}
