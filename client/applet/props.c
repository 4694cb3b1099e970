/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthrough-applet: typed reads of a proxy's cached properties (kept up to
 * date by PropertiesChanged). A missing or mistyped property reads as empty. */

#include "applet.h"

static GVariant *cached(GDBusProxy *p, const char *name, const GVariantType *type) {
        if (!p)
                return NULL;
        GVariant *v = g_dbus_proxy_get_cached_property(p, name);
        if (v && !g_variant_is_of_type(v, type)) {
                g_variant_unref(v);
                return NULL;
        }
        return v;
}

char *prop_str(GDBusProxy *p, const char *name) {
        g_autoptr(GVariant) v = cached(p, name, G_VARIANT_TYPE_STRING);
        if (!v)
                v = cached(p, name, G_VARIANT_TYPE_OBJECT_PATH);
        return g_strdup(v ? g_variant_get_string(v, NULL) : "");
}

gboolean prop_bool(GDBusProxy *p, const char *name) {
        g_autoptr(GVariant) v = cached(p, name, G_VARIANT_TYPE_BOOLEAN);
        return v ? g_variant_get_boolean(v) : FALSE;
}

guint64 prop_u64(GDBusProxy *p, const char *name) {
        g_autoptr(GVariant) v = cached(p, name, G_VARIANT_TYPE_UINT64);
        return v ? g_variant_get_uint64(v) : 0;
}

char **prop_strv(GDBusProxy *p, const char *name) {
        g_autoptr(GVariant) v = cached(p, name, G_VARIANT_TYPE_STRING_ARRAY);
        if (!v)
                v = cached(p, name, G_VARIANT_TYPE_OBJECT_PATH_ARRAY);
        if (!v)
                return g_new0(char *, 1);
        return g_variant_is_of_type(v, G_VARIANT_TYPE_STRING_ARRAY) ? g_variant_dup_strv(v, NULL)
                                                                     : g_variant_dup_objv(v, NULL);
}
