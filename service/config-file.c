/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "config-file.h"

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
        return TRUE;
}

void service_config_clear(ServiceConfig *config) {
        g_clear_pointer(&config->libvirt_uri, g_free);
}
