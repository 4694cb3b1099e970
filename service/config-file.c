/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "config-file.h"
#include "virt.h"

#define DOMAIN_GROUP "domain "

/* "[domain NAME] uri=URI": libvirt URI of the connection NAME lives on. */
static gboolean load_domain_uri(GKeyFile *file, const char *group, ServiceConfig *config, GError **error) {
        const char *name = group + strlen(DOMAIN_GROUP);
        g_autofree char *uri = g_key_file_get_string(file, group, "uri", NULL);

        if (!virt_domain_spec_valid(name, NULL) || !uri || !*g_strstrip(uri)) {
                g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                            "[%s] needs a domain name and uri=URI", group);
                return FALSE;
        }
        if (!config->domain_uris)
                config->domain_uris = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_replace(config->domain_uris, g_strdup(name), g_steal_pointer(&uri));
        return TRUE;
}

static gboolean load_domain_uris(GKeyFile *file, ServiceConfig *config, GError **error) {
        g_auto(GStrv) groups = g_key_file_get_groups(file, NULL);

        for (guint i = 0; groups[i]; i++)
                if (g_str_has_prefix(groups[i], DOMAIN_GROUP) && !load_domain_uri(file, groups[i], config, error))
                        return FALSE;
        return TRUE;
}

gboolean service_config_load(const char *path, ServiceConfig *config, GError **error) {
        g_autoptr(GKeyFile) file = g_key_file_new();
        g_autoptr(GError) local = NULL;
        g_autofree char *uri = NULL;

        if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, &local)) {
                if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        return TRUE;
                g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: ", path);
                return FALSE;
        }
        uri = g_key_file_get_string(file, "libvirt", "uri", NULL);
        if (uri) {
                g_strstrip(uri);
                if (*uri) {
                        g_free(config->libvirt_uri);
                        config->libvirt_uri = g_steal_pointer(&uri);
                }
        }
        if (!load_domain_uris(file, config, &local)) {
                g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: ", path);
                return FALSE;
        }
        return TRUE;
}

void service_config_clear(ServiceConfig *config) {
        g_clear_pointer(&config->libvirt_uri, g_free);
        g_clear_pointer(&config->domain_uris, g_hash_table_unref);
}
