/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* options_read(): the a{sv} options of Attach, Detach and Assign calls.
 *
 * The input is not the wire format (sd-bus checks that before the service
 * sees a message) but a recipe: which body signature, which keys (the known
 * ones, near misses and random strings), which variant types and which
 * values. The harness builds that message with sd-bus, seals it, and checks
 * options_read() against what the recipe says the outcome must be. */
#include "config.h"

#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"
#include "fuzz-common.h"
#include "options.h"

static sd_bus *bus;

static const char *const keys[] = {
        "name", "target", "readonly", "timeout-ms", "dry-run", "Name", "dry_run", "", "name ", "timeout",
        "bus", "mode", "discard", "rawio", "Bus",
};

static const char *const strings[] = {
        "vdb", "vdz", "vdaa", "vdzz", "vda", "vd", "vdB", "vdaaa", "sdb", "vd\xc3\xa9",
        "disk-1", "A.b_c+D-9", "12345678901234567890", "123456789012345678901", "with space", "a/b",
        "virtio", "scsi", "disk", "lun", "sdzz", "sdaaa", "VIRTIO",
};

static const guint32 numbers[] = { 0, 1, 10000, 600000, 600001, G_MAXUINT32 };

/* Variant types: the three options take s, b and u. */
static const char *const types[] = { "s", "b", "u", "i", "t", "y", "o", "g", "as", "a{sv}", "v", "(su)", "d", "q" };

typedef struct {
        gboolean ok;        /* what options_read() must return */
        guint seen;
        CallOptions want;
} Expected;

static int connect_unstarted_bus(void) {
        int fds[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
                return -1;
        /* Messages need a bus that is not BUS_UNSET; the peer is never read. */
        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fds[0], fds[0]) < 0 || sd_bus_start(bus) < 0)
                return -1;
        return 0;
}

static char *take_text(FuzzInput *in, const char *const *choices, guint n) {
        guint8 pick = fuzz_byte(in);
        g_autofree char *raw = NULL;

        if (pick < n)
                return g_strdup(choices[pick]);
        raw = fuzz_take_string(in, 40);
        return g_utf8_make_valid(raw, -1);
}

static gboolean serial_ok(const char *s) {
        size_t n = strlen(s);

        for (const char *p = s; *p; p++)
                if (!g_ascii_isalnum(*p) && !strchr("._+-", *p))
                        return FALSE;
        return n >= 1 && n <= 20;
}

/* vdX and vdXY (virtio), sdX and sdXY (scsi). */
static gboolean target_ok(const char *s) {
        size_t n = strlen(s);

        if ((!g_str_has_prefix(s, "vd") && !g_str_has_prefix(s, "sd")) || n < 3 || n > 4)
                return FALSE;
        for (size_t i = 2; i < n; i++)
                if (s[i] < 'a' || s[i] > 'z')
                        return FALSE;
        return TRUE;
}

static OptionKey key_flag(const char *key, char *type) {
        static const struct {
                const char *key;
                OptionKey flag;
                char type;
        } known[] = {
                { "name", OPTION_NAME, 's' },
                { "target", OPTION_TARGET, 's' },
                { "readonly", OPTION_READONLY, 'b' },
                { "timeout-ms", OPTION_TIMEOUT_MS, 'u' },
                { "dry-run", OPTION_DRY_RUN, 'b' },
                { "bus", OPTION_BUS, 's' },
                { "mode", OPTION_MODE, 's' },
                { "discard", OPTION_DISCARD, 'b' },
                { "rawio", OPTION_RAWIO, 'b' },
        };

        for (guint i = 0; i < G_N_ELEMENTS(known); i++)
                if (g_str_equal(known[i].key, key)) {
                        *type = known[i].type;
                        return known[i].flag;
                }
        return 0;
}

/* The model: what one entry does to the expected outcome. */
static void expect_entry(Expected *e, guint allowed, const char *key, const char *type, const char *s, int b,
                         guint32 u) {
        char want_type = 0;
        OptionKey flag = key_flag(key, &want_type);

        if (!e->ok || !(flag & allowed) || (e->seen & flag) || type[0] != want_type || type[1] != '\0') {
                e->ok = FALSE;
                return;
        }
        e->seen |= flag;
        if (flag == OPTION_NAME) {
                e->ok = serial_ok(s);
                e->want.name = g_strdup(s);
        } else if (flag == OPTION_TARGET) {
                e->ok = target_ok(s);
                e->want.target = g_strdup(s);
        } else if (flag == OPTION_READONLY) {
                e->want.readonly = b;
        } else if (flag == OPTION_DRY_RUN) {
                e->want.dry_run = b;
        } else if (flag == OPTION_BUS) {
                e->ok = g_str_equal(s, "virtio") || g_str_equal(s, "scsi");
                e->want.scsi = g_str_equal(s, "scsi");
        } else if (flag == OPTION_MODE) {
                e->ok = g_str_equal(s, "disk") || g_str_equal(s, "lun");
                e->want.lun = g_str_equal(s, "lun");
        } else if (flag == OPTION_DISCARD) {
                e->want.no_discard = !b;
        } else if (flag == OPTION_RAWIO) {
                e->want.rawio = b;
        } else {
                e->ok = u >= 1 && u <= 600000;
                e->want.timeout_ms = u;
        }
}

/* A value of `type` into the open variant; s, b and u are remembered. */
static int append_value(sd_bus_message *m, FuzzInput *in, const char *type, char **s, int *b, guint32 *u) {
        switch (type[0]) {
        case 's':
                *s = take_text(in, strings, G_N_ELEMENTS(strings));
                return sd_bus_message_append_basic(m, 's', *s);
        case 'b':
                *b = fuzz_byte(in) & 1;
                return sd_bus_message_append_basic(m, 'b', b);
        case 'u': {
                guint8 pick = fuzz_byte(in);

                *u = pick < G_N_ELEMENTS(numbers) ? numbers[pick] : fuzz_u32(in);
                return sd_bus_message_append_basic(m, 'u', u);
        }
        case 'o':
                return sd_bus_message_append(m, "o", "/org/example/x");
        case 'g':
                return sd_bus_message_append(m, "g", "a{sv}");
        case 'a':
                return type[1] == 's' ? sd_bus_message_append(m, "as", 2, "vdb", "readonly") :
                                        sd_bus_message_append(m, "a{sv}", 1, "readonly", "b", 1);
        case 'v':
                return sd_bus_message_append(m, "v", "s", "vdb");
        case '(':
                return sd_bus_message_append(m, "(su)", "name", 5);
        default: {
                guint64 zero = 0;

                return sd_bus_message_append_basic(m, type[0], &zero);
        }
        }
}

static int append_entry(sd_bus_message *m, FuzzInput *in, guint allowed, Expected *e) {
        g_autofree char *key = take_text(in, keys, G_N_ELEMENTS(keys));
        const char *type = types[fuzz_byte(in) % G_N_ELEMENTS(types)];
        g_autofree char *s = NULL;
        int b = 0, r;
        guint32 u = 0;

        if ((r = sd_bus_message_open_container(m, 'e', "sv")) < 0 ||
            (r = sd_bus_message_append_basic(m, 's', key)) < 0 ||
            (r = sd_bus_message_open_container(m, 'v', type)) < 0 ||
            (r = append_value(m, in, type, &s, &b, &u)) < 0 ||
            (r = sd_bus_message_close_container(m)) < 0)
                return r;
        expect_entry(e, allowed, key, type, s, b, u);
        return sd_bus_message_close_container(m);
}

/* The body: mostly a{sv}; sometimes another signature, which must fail. */
static int append_body(sd_bus_message *m, FuzzInput *in, guint allowed, Expected *e) {
        guint8 shape = fuzz_byte(in);
        guint n = fuzz_byte(in) % 8;
        int r;

        if (shape % 8 == 6) {
                e->ok = FALSE;
                return sd_bus_message_append(m, "a{ss}", 1, "readonly", "true");
        }
        if (shape % 8 == 7) {
                e->ok = FALSE;
                return shape & 8 ? sd_bus_message_append(m, "s", "a{sv}") : 0;
        }
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (guint i = 0; r >= 0 && i < n; i++)
                r = append_entry(m, in, allowed, e);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        /* A trailing argument options_read() must leave where it is. */
        if (r >= 0 && (shape & 16))
                r = sd_bus_message_append(m, "s", "after");
        return r;
}

static void check_outcome(sd_bus_message *m, const Expected *e, gboolean ok, const CallOptions *got,
                          const GError *error, gboolean trailing) {
        const char *after = NULL;

        FUZZ_CHECK(ok == e->ok);
        if (!ok) {
                FUZZ_CHECK(g_error_matches(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT));
                FUZZ_CHECK(g_utf8_validate(error->message, -1, NULL));
                return;
        }
        FUZZ_CHECK(error == NULL);
        FUZZ_CHECK(g_strcmp0(got->name, e->want.name) == 0);
        FUZZ_CHECK(g_strcmp0(got->target, e->want.target) == 0);
        FUZZ_CHECK(!got->readonly == !e->want.readonly);
        FUZZ_CHECK(!got->dry_run == !e->want.dry_run);
        FUZZ_CHECK(!got->scsi == !e->want.scsi);
        FUZZ_CHECK(!got->lun == !e->want.lun);
        FUZZ_CHECK(!got->no_discard == !e->want.no_discard);
        FUZZ_CHECK(!got->rawio == !e->want.rawio);
        FUZZ_CHECK(got->timeout_ms == (e->seen & OPTION_TIMEOUT_MS ? e->want.timeout_ms : DEFAULT_DETACH_TIMEOUT_MS));
        if (trailing)
                FUZZ_CHECK(sd_bus_message_read_basic(m, 's', &after) > 0 && g_str_equal(after, "after"));
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        FUZZ_CHECK(connect_unstarted_bus() == 0);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static guint64 cookie = 1;
        FuzzInput in = { data, size };
        guint low = fuzz_byte(&in);
        guint allowed = (low | (guint) fuzz_byte(&in) << 8) & 0x1ff;
        gboolean trailing = in.left > 0 && (in.p[0] & 16) && in.p[0] % 8 < 6;
        sd_bus_message *m = NULL;
        Expected e = { .ok = TRUE };
        CallOptions got = { 0 };
        g_autoptr(GError) error = NULL;
        gboolean ok;

        FUZZ_CHECK(sd_bus_message_new_method_call(bus, &m, "org.example.Passthrough1", "/org/example/Passthrough1",
                                                  "org.example.Passthrough1", "AttachDisk") >= 0);
        if (append_body(m, &in, allowed, &e) >= 0 && sd_bus_message_seal(m, cookie++, 0) >= 0 &&
            sd_bus_message_rewind(m, 1) >= 0) {
                ok = options_read(m, allowed, &got, &error);
                check_outcome(m, &e, ok, &got, error, trailing);
        }
        call_options_clear(&got);
        call_options_clear(&e.want);
        sd_bus_message_unref(m);
        return 0;
}
