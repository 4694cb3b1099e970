/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the libFuzzer harnesses share: quiet logging that still turns a GLib
 * critical (a g_return_if_fail() that fired) into a finding, the input as a
 * C string, and a reader that takes structured choices from the input. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant that does not hold: say which and abort (a libFuzzer crash). */
#define FUZZ_CHECK(cond)                                                                  \
        do {                                                                              \
                if (!(cond)) {                                                            \
                        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                          \
                }                                                                         \
        } while (0)

static GLogWriterOutput fuzz_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                                        gpointer data) {
        if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
                g_log_writer_standard_streams(level, fields, n_fields, data);
                abort();
        }
        return G_LOG_WRITER_HANDLED;   /* warnings about bad input are expected */
}

static inline void fuzz_quiet_logs(void) {
        g_log_set_writer_func(fuzz_log_writer, NULL, NULL);
}

/* The input up to its first NUL, as the service gets strings (D-Bus strings
 * and C strings have no NUL inside). */
static inline char *fuzz_string(const uint8_t *data, size_t size) {
        return g_strndup((const char *) data, size);
}

/* Choices taken from the front of the input; zeros once it runs out. */
typedef struct {
        const uint8_t *p;
        size_t left;
} FuzzInput;

static inline guint8 fuzz_byte(FuzzInput *in) {
        if (in->left == 0)
                return 0;
        in->left--;
        return *in->p++;
}

static inline guint32 fuzz_u32(FuzzInput *in) {
        guint32 v = 0;

        for (guint i = 0; i < 4; i++)
                v = v << 8 | fuzz_byte(in);
        return v;
}

/* A string of up to max bytes (its length is the next byte), up to a NUL. */
static inline char *fuzz_take_string(FuzzInput *in, guint max) {
        size_t want = fuzz_byte(in) % (max + 1);
        size_t n = MIN(want, in->left);
        char *s = g_strndup((const char *) in->p, n);

        in->p += n;
        in->left -= n;
        return s;
}
