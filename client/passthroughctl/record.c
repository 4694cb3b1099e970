/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Generic reading of the service's aa{sv} replies.
 *
 * Each a{sv} becomes a GVariant of type a{sv} that keeps the service's key
 * order. Values are read by their signature; types this client does not
 * understand are skipped, so keys added later never break it. */

#include <errno.h>
#include <string.h>

#include "ctl.h"

static GVariant *basic_to_variant(char type, const void *p)
{
        switch (type) {
        case 'y':
                return g_variant_new_byte(*(const uint8_t *) p);
        case 'b':
                return g_variant_new_boolean(*(const int *) p);
        case 'n':
                return g_variant_new_int16(*(const int16_t *) p);
        case 'q':
                return g_variant_new_uint16(*(const uint16_t *) p);
        case 'i':
                return g_variant_new_int32(*(const int32_t *) p);
        case 'u':
                return g_variant_new_uint32(*(const uint32_t *) p);
        case 'x':
                return g_variant_new_int64(*(const int64_t *) p);
        case 't':
                return g_variant_new_uint64(*(const uint64_t *) p);
        case 'd':
                return g_variant_new_double(*(const double *) p);
        case 's':
        case 'o':
        case 'g':
                return g_variant_new_string(*(const char *const *) p);
        default:
                return NULL;
        }
}

static bool is_readable_basic(char type)
{
        return type != '\0' && strchr("ybnqiuxtdsog", type) != NULL;
}

static int read_basic(sd_bus_message *m, char type, GVariant **ret)
{
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
        } value;
        int r;

        r = sd_bus_message_read_basic(m, type, &value);
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;
        *ret = basic_to_variant(type, &value);
        return 0;
}

/* An array of strings (as, ao, ag) becomes "as". */
static int read_string_array(sd_bus_message *m, const char *contents, GVariant **ret)
{
        GVariantBuilder builder;
        const char *s;
        int r;

        r = sd_bus_message_enter_container(m, 'a', contents);
        if (r < 0)
                return r;
        g_variant_builder_init(&builder, G_VARIANT_TYPE_STRING_ARRAY);
        while ((r = sd_bus_message_read_basic(m, contents[0], &s)) > 0)
                g_variant_builder_add(&builder, "s", s);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                g_variant_builder_clear(&builder);
                return r;
        }
        *ret = g_variant_builder_end(&builder);
        return 0;
}

static bool is_string_array(const char *signature)
{
        return signature[0] == 'a' && signature[1] != '\0' && signature[2] == '\0' &&
               strchr("sog", signature[1]) != NULL;
}

/* Read the value inside a variant whose signature is given; *ret stays NULL
 * for a type this client skips. */
static int read_value(sd_bus_message *m, const char *signature, GVariant **ret)
{
        *ret = NULL;
        if (signature[1] == '\0' && is_readable_basic(signature[0]))
                return read_basic(m, signature[0], ret);
        if (is_string_array(signature))
                return read_string_array(m, signature + 1, ret);
        return sd_bus_message_skip(m, signature);
}

static int read_entry(sd_bus_message *m, GVariantBuilder *builder)
{
        const char *key, *signature;
        GVariant *value = NULL;
        char type;
        int r;

        r = sd_bus_message_read_basic(m, 's', &key);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        r = sd_bus_message_peek_type(m, &type, &signature);
        if (r <= 0 || type != 'v')
                return r < 0 ? r : -EBADMSG;
        r = sd_bus_message_enter_container(m, 'v', signature);
        if (r < 0)
                return r;
        r = read_value(m, signature, &value);
        if (r < 0)
                return r;
        if (value)
                g_variant_builder_add(builder, "{sv}", key, value);
        return sd_bus_message_exit_container(m);
}

/* Read one a{sv} (the message is positioned at it). */
static int read_record(sd_bus_message *m, GVariant **ret)
{
        GVariantBuilder builder;
        int r;

        g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = read_entry(m, &builder);
                if (r < 0)
                        break;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        break;
        }
        if (r < 0) {
                g_variant_builder_clear(&builder);
                return r;
        }
        *ret = g_variant_ref_sink(g_variant_builder_end(&builder));
        return 0;
}

/* Read one a{sv} as a record: 1, or 0 at the end of the enclosing array. */
int record_read(sd_bus_message *m, GVariant **ret)
{
        g_autoptr(GVariant) record = NULL;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r <= 0)
                return r;
        r = read_record(m, &record);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&record);
        return 1;
}

int record_read_array(sd_bus_message *m, GPtrArray **ret)
{
        g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func((GDestroyNotify) g_variant_unref);
        GVariant *record;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "a{sv}");
        if (r < 0)
                return r;
        while ((r = record_read(m, &record)) > 0)
                g_ptr_array_add(records, record);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&records);
        return 0;
}

/* Lookups: a missing key or one of an unexpected type reads as empty. */
const char *record_string(GVariant *record, const char *key)
{
        const char *s;

        if (!g_variant_lookup(record, key, "&s", &s))
                return "";
        return s;
}

guint64 record_uint(GVariant *record, const char *key)
{
        g_autoptr(GVariant) value = g_variant_lookup_value(record, key, NULL);

        if (!value)
                return 0;
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
                return g_variant_get_uint64(value);
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
                return g_variant_get_uint32(value);
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT16))
                return g_variant_get_uint16(value);
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTE))
                return g_variant_get_byte(value);
        return 0;
}

gboolean record_bool(GVariant *record, const char *key)
{
        gboolean b;

        if (!g_variant_lookup(record, key, "b", &b))
                return FALSE;
        return b;
}

/* Free the result with g_free() (not g_strfreev: the strings belong to record). */
const char **record_strv(GVariant *record, const char *key)
{
        const char **strv;

        if (!g_variant_lookup(record, key, "^a&s", &strv))
                return g_new0(const char *, 1);
        return strv;
}

static bool record_has(GVariant *record, const char *key)
{
        g_autoptr(GVariant) value = g_variant_lookup_value(record, key, NULL);

        return value != NULL;
}

/* record with the values of changed and without the keys of invalidated
 * (a PropertiesChanged applied): known keys keep their place, new ones
 * follow. */
GVariant *record_update(GVariant *record, GVariant *changed, const char *const *invalidated)
{
        GVariantBuilder builder;
        GVariantIter iter;
        const char *key;
        GVariant *value;

        g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
        g_variant_iter_init(&iter, record);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                g_autoptr(GVariant) owned = value;
                g_autoptr(GVariant) fresh = g_variant_lookup_value(changed, key, NULL);

                if (!invalidated || !g_strv_contains(invalidated, key))
                        g_variant_builder_add(&builder, "{sv}", key, fresh ? fresh : owned);
        }
        g_variant_iter_init(&iter, changed);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                g_autoptr(GVariant) owned = value;

                if (!record_has(record, key))
                        g_variant_builder_add(&builder, "{sv}", key, owned);
        }
        return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* By Name, for people: "vm2" before "vm10". For g_ptr_array_sort(). */
int record_compare_name(gconstpointer a, gconstpointer b)
{
        return natural_compare(record_string(*(GVariant *const *) a, "Name"),
                               record_string(*(GVariant *const *) b, "Name"));
}
