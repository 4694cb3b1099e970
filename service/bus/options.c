/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "devxml.h"
#include "errors.h"
#include "options.h"

typedef struct {
        const char *key;
        OptionKey flag;
        char type;
} OptionSpec;

static const OptionSpec option_specs[] = {
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

static const OptionSpec *find_spec(const char *key, guint allowed) {
        for (guint i = 0; i < G_N_ELEMENTS(option_specs); i++)
                if (g_str_equal(option_specs[i].key, key) && (option_specs[i].flag & allowed))
                        return &option_specs[i];
        return NULL;
}

G_GNUC_PRINTF(2, 3)
static gboolean invalid(GError **error, const char *format, ...) {
        va_list args;
        g_autofree char *message = NULL;

        va_start(args, format);
        message = g_strdup_vprintf(format, args);
        va_end(args);
        g_set_error_literal(error, PT_ERROR, PT_ERROR_INVALID_ARGUMENT, message);
        return FALSE;
}

/* `value` is one of `a` (sets *out FALSE) or `b` (TRUE). */
static gboolean store_choice(const OptionSpec *spec, const char *value, const char *a, const char *b,
                             gboolean *out, GError **error) {
        if (!g_str_equal(value, a) && !g_str_equal(value, b))
                return invalid(error, "Option '%s' must be '%s' or '%s'", spec->key, a, b);
        *out = g_str_equal(value, b);
        return TRUE;
}

static gboolean store_string(const OptionSpec *spec, const char *value, CallOptions *out, GError **error) {
        switch (spec->flag) {
        case OPTION_NAME:
                if (!devxml_serial_valid(value))
                        return invalid(error, "Option '%s' must be 1-20 characters of A-Z a-z 0-9 . _ + -", spec->key);
                out->name = g_strdup(value);
                return TRUE;
        case OPTION_BUS:
                return store_choice(spec, value, DISK_BUS_VIRTIO, DISK_BUS_SCSI, &out->scsi, error);
        case OPTION_MODE:
                return store_choice(spec, value, DISK_MODE_DISK, DISK_MODE_LUN, &out->lun, error);
        default:
                if (!devxml_target_valid(value) && !devxml_scsi_target_valid(value))
                        return invalid(error, "Option '%s' must be a target like vdb ... vdzz (virtio) "
                                       "or sda ... sdzz (scsi)", spec->key);
                out->target = g_strdup(value);
                return TRUE;
        }
}

static void store_bool(const OptionSpec *spec, gboolean b, CallOptions *out) {
        switch (spec->flag) {
        case OPTION_DRY_RUN:
                out->dry_run = b;
                break;
        case OPTION_DISCARD:
                out->no_discard = !b;
                break;
        case OPTION_RAWIO:
                out->rawio = b;
                break;
        default:
                out->readonly = b;
                break;
        }
}

static gboolean read_value(sd_bus_message *m, const OptionSpec *spec, CallOptions *out, GError **error) {
        const char *contents = NULL;
        char type_sig[2] = { spec->type, 0 };
        const char *s = NULL;
        int b = 0;
        uint32_t u = 0;

        if (sd_bus_message_peek_type(m, NULL, &contents) < 0 || !contents || !g_str_equal(contents, type_sig)) {
                        return invalid(error, "Option '%s' must have type '%s', not '%s'", spec->key, type_sig,
                               contents ? contents : "?");
        }
        if (sd_bus_message_enter_container(m, 'v', type_sig) < 0)
                return invalid(error, "Cannot read option '%s'", spec->key);
        if (spec->type == 's' && sd_bus_message_read_basic(m, 's', &s) >= 0) {
                if (!store_string(spec, s, out, error))
                        return FALSE;
        } else if (spec->type == 'b' && sd_bus_message_read_basic(m, 'b', &b) >= 0) {
                store_bool(spec, b, out);
        } else if (spec->type == 'u' && sd_bus_message_read_basic(m, 'u', &u) >= 0) {
                if (u == 0 || u > MAX_DETACH_TIMEOUT_MS)
                        return invalid(error, "Option '%s' must be between 1 and 600000 milliseconds", spec->key);
                out->timeout_ms = u;
        } else {
                return invalid(error, "Cannot read option '%s'", spec->key);
        }
        return sd_bus_message_exit_container(m) >= 0 || invalid(error, "Cannot read option '%s'", spec->key);
}

static gboolean read_entry(sd_bus_message *m, guint allowed, guint *seen, CallOptions *out, GError **error) {
        const char *key = NULL;
        const OptionSpec *spec;

        if (sd_bus_message_read_basic(m, 's', &key) < 0)
                return invalid(error, "%s", "Cannot read the options");
        spec = find_spec(key, allowed);
        if (!spec) {
                g_autofree char *shown = g_utf8_make_valid(key, MIN(strlen(key), 64));
                return invalid(error, "Unknown option '%s'", shown);
        }
        if (*seen & spec->flag)
                return invalid(error, "Option '%s' given twice", spec->key);
        *seen |= spec->flag;
        return read_value(m, spec, out, error);
}

gboolean options_read(sd_bus_message *m, guint allowed, CallOptions *out, GError **error) {
        guint seen = 0;
        int r;

        out->timeout_ms = DEFAULT_DETACH_TIMEOUT_MS;
        if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return invalid(error, "%s", "Options must be a{sv}");
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                if (!read_entry(m, allowed, &seen, out, error))
                        return FALSE;
                if (sd_bus_message_exit_container(m) < 0)
                        return invalid(error, "%s", "Cannot read the options");
        }
        if (r < 0 || sd_bus_message_exit_container(m) < 0)
                return invalid(error, "%s", "Cannot read the options");
        return TRUE;
}

void call_options_clear(CallOptions *options) {
        g_clear_pointer(&options->name, g_free);
        g_clear_pointer(&options->target, g_free);
}
